"""The training engine: d2l presets, validation, on-the-fly resize, live callbacks, Stop, a diverging loss, and a
resumed run ending with the same weights as an uninterrupted one (tiny runs on the CPU)."""

from __future__ import annotations

import math
import threading

import pytest
import torch

import explorer
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe

pytestmark = pytest.mark.usefixtures("fashion_mnist")
QUIET = lambda line: None  # noqa: E731


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    """Never the user's ~/.cache: every test gets its own store."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))


def test_vgg11_d2l_small_is_the_notes_conv_arch_with_a_quarter_of_the_channels():
    from explorer.zoo import vgg

    assert vgg.D2L_SMALL_CONV_ARCH == ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))
    spec = explorer.get_spec("vgg11-d2l-small")
    model = spec.build()
    assert spec.params == 43_093_322 == sum(p.numel() for p in model.parameters())
    assert explorer.analyze("vgg11-d2l-small").output_shape == (1, 10)


@pytest.mark.parametrize("key, model, lr, batch, side", [
    ("lenet", "lenet", 0.9, 256, 28), ("alexnet", "alexnet-d2l", 0.01, 128, 224),
    ("vgg", "vgg11-d2l-small", 0.05, 128, 224), ("nin", "nin", 0.1, 128, 224),
    ("googlenet", "googlenet", 0.1, 128, 96), ("resnet", "resnet18", 0.05, 256, 96),
])
def test_d2l_presets(key, model, lr, batch, side):
    preset = engine.PRESETS[key]
    assert (preset.model, preset.recipe.lr, preset.recipe.batch_size, preset.recipe.epochs) == (model, lr, batch, 10)
    assert engine.validate(explorer.get_spec(model), preset.recipe) == side
    assert engine.default_recipe(model) == preset.recipe and engine.preset_for(model) is preset
    assert 0.78 <= preset.d2l_low <= 0.92


@pytest.mark.parametrize("model, changes, limit, words", [
    ("lenet", {"lr": 0.0}, None, "learning rate"),
    ("lenet", {"lr": -1.0}, None, "learning rate"),
    ("lenet", {"lr": math.nan}, None, "learning rate"),
    ("lenet", {"lr": math.inf}, None, "learning rate"),
    ("lenet", {"batch_size": 0}, None, "batch size"),
    ("lenet", {"epochs": 0}, None, "epochs"),
    ("lenet", {"epochs": -3}, None, "epochs"),
    ("lenet", {"epochs": 10**6}, None, "epochs"),
    ("lenet", {"resize": 96}, None, "cannot be trained on 96×96"),
    ("alexnet-d2l", {"resize": 28}, None, "cannot be trained on 28×28"),
    ("lenet", {"resize": 0}, None, "resize"),
    ("lenet", {}, 0, "--limit"),
    ("alexnet", {}, None, "not a Fashion-MNIST model"),
])
def test_bad_hyper_parameters_are_one_value_error(model, changes, limit, words):
    with pytest.raises(ValueError, match=words) as info:
        engine.validate(explorer.get_spec(model), Recipe(**{**vars(Recipe()), **changes}), limit)
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_live_callbacks_stop_and_samples_per_s():
    events = []
    stop = threading.Event()

    def on_step(event):
        events.append(event)
        if event.epoch == 2 and event.step >= 2:
            stop.set()

    epochs = []
    _, info = engine.train("lenet", Recipe(epochs=3, lr=0.9, batch_size=64), "cpu", 640, QUIET, on_step=on_step,
                           on_epoch=lambda entry, ck: epochs.append((entry, ck.epoch)), stop=stop, test_limit=500)
    first = [e for e in events if e.epoch == 1]
    assert len(first) == 5 and [e.step for e in first] == [2, 4, 6, 8, 10]  # 10 steps, ~5 reports per epoch
    assert [round(e.x, 1) for e in first] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert all(e.samples_per_s > 0 and 0 < e.done <= 1 and e.eta is not None for e in events)
    assert info.status == "stopped" and [h.epoch for h in info.history] == [1]
    assert [(entry.epoch, ep) for entry, ep in epochs] == [(1, 1)]
    assert info.history[0].samples_per_s > 0 and info.test_images == 500


def test_a_diverging_loss_stops_the_run_and_keeps_the_last_good_epoch():
    torch.manual_seed(0)
    initial = explorer.build("mlp")
    initial.apply(engine.xavier_init)
    model, info = engine.train("mlp", Recipe(epochs=2, lr=1e8, batch_size=128), "cpu", 1024, QUIET, test_limit=100)
    assert info.status == "diverged"
    assert str(info.error).startswith("diverged at epoch 1, step ")
    assert info.history == [] and info.info()["error"] == str(info.error)
    assert all(torch.equal(v, initial.state_dict()[k]) for k, v in model.state_dict().items())  # epoch 0 kept


@pytest.mark.slow  # a ResNet-18 forward at 32 px
def test_resize_trains_at_the_asked_size():
    _, info = engine.train("resnet18", Recipe(epochs=1, lr=0.05, batch_size=32, resize=32), "cpu", 64, QUIET,
                           test_limit=64)
    assert info.resize == 32 and info.status == "done"
    x = engine.resized(torch.rand(2, 1, 28, 28), 96)
    assert x.shape == (2, 1, 96, 96)


@pytest.mark.slow  # three short runs
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one():
    # dropout, momentum, weight decay, a cosine schedule and random flips: every piece of state a resume must restore
    recipe = Recipe(epochs=3, lr=0.05, batch_size=64, momentum=0.9, weight_decay=5e-4, schedule="cosine",
                    augment=True, seed=7)
    full, full_info = engine.train("vgg-fmnist", recipe, "cpu", 256, QUIET, test_limit=100)
    saved = []
    stop = threading.Event()
    engine.train("vgg-fmnist", recipe, "cpu", 256, QUIET, test_limit=100, stop=stop,
                 on_epoch=lambda entry, ck: (saved.append(ck), stop.set()))
    assert [c.epoch for c in saved] == [1]
    resumed, info = engine.train("vgg-fmnist", recipe, "cpu", 256, QUIET, test_limit=100, resume=saved[0])
    a, b = full.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h.test_acc for h in info.history] == [h.test_acc for h in full_info.history]
