"""Training and evaluation on Fashion-MNIST: the ``train`` and ``evaluate`` commands and the training loop's
determinism (tiny runs on the CPU)."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from safetensors.torch import load_file

from explorer import cli
from explorer.runtime import weights
from explorer.runtime.train import Recipe, train
from explorer.zoo import get_spec
from explorer.zoo import weights as metadata

# Every test here trains or evaluates on Fashion-MNIST: a missing copy fails them (see tests/conftest.py).
pytestmark = pytest.mark.usefixtures("fashion_mnist")


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.slow  # a real training run
def test_train_writes_a_loadable_file(capsys, tmp_path):
    out_file = tmp_path / "lenet-quick.safetensors"
    code, out, err = run_main(capsys, "train", "lenet", "--epochs", "1", "--limit", "2000", "--device", "cpu",
                              "-o", str(out_file))
    assert code == 0, err
    match = re.fullmatch(r"lenet: test accuracy (0\.\d{4}) \(([\d,]+)/10,000\)\n", out)
    assert match, out
    accuracy, correct = float(match.group(1)), int(match.group(2).replace(",", ""))
    assert accuracy == round(correct / 10_000, 4)
    assert "epoch 1/1" in err
    state = load_file(str(out_file))
    model = get_spec("lenet").build()
    model.load_state_dict(state, strict=True)

    # evaluating the written file gives the accuracy that training printed
    code, out, err = run_main(capsys, "evaluate", "lenet", "--weights", str(out_file), "--device", "cpu", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["correct"] == correct and result["test_accuracy"] == accuracy and result["total"] == 10_000


@pytest.mark.slow  # a real training run
def test_training_is_deterministic_for_a_fixed_seed():
    recipe = Recipe(epochs=1, lr=0.9, batch_size=256, seed=0)
    quiet = lambda line: None  # noqa: E731
    first, info_first = train("lenet", recipe, device="cpu", limit=1000, report=quiet)
    second, info_second = train("lenet", recipe, device="cpu", limit=1000, report=quiet)
    a, b = first.state_dict(), second.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    timing = ("samples_per_s", "seconds")  # wall-clock measurements: the only entries allowed to differ
    assert [{k: v for k, v in h.to_dict().items() if k not in timing} for h in info_first.history] == \
        [{k: v for k, v in h.to_dict().items() if k not in timing} for h in info_second.history]
    other, _ = train("lenet", Recipe(epochs=1, lr=0.9, batch_size=256, seed=1), device="cpu", limit=1000,
                     report=quiet)
    assert not all(torch.equal(a[k], v) for k, v in other.state_dict().items())


@pytest.mark.slow
def test_evaluate_shipped_lenet_reproduces_the_manifest(capsys):
    recorded = metadata.shipped("lenet")
    code, out, err = run_main(capsys, "evaluate", "lenet", "--device", "cpu")
    assert code == 0, err
    assert out == f"lenet: test accuracy {recorded.accuracy:.4f} ({recorded.correct:,}/10,000)\n"
    assert recorded.accuracy == 0.7968
    code, out, _ = run_main(capsys, "evaluate", "lenet", "--device", "cpu", "--json")
    result = json.loads(out)
    assert result["test_accuracy"] == result["recorded_accuracy"] == recorded.accuracy
    assert result["correct"] == recorded.correct


@pytest.mark.parametrize("args, words", [
    (["evaluate", "lenet", "--weights", "not-a-file"], ["cannot read weights file", "not-a-file"]),
    (["evaluate", "alexnet"], ["alexnet"]),
    (["evaluate", "lenett"], ["unknown model id"]),
    (["train", "alexnet"], ["not a Fashion-MNIST model"]),
    (["train", "vgg16", "--epochs", "1"], ["not a Fashion-MNIST model"]),
    (["train", "lenet", "--epochs", "one"], ["--epochs"]),
    (["train", "lenet", "--device", "tpu"], ["--device"]),
])
def test_bad_arguments(capsys, args, words):
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    line = assert_one_error_line(err)
    for word in words:
        assert word in line


# What this checks (asking for CUDA where there is none) cannot happen on a machine with a GPU.
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_train_on_missing_cuda(capsys):
    code, _, err = run_main(capsys, "train", "lenet", "--epochs", "1", "--limit", "100", "--device", "cuda")
    assert code == 2
    assert "cuda" in assert_one_error_line(err)


def test_evaluate_weights_that_do_not_fit(capsys, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in get_spec("lenet").build().state_dict().items()}, str(path))
    code, _, err = run_main(capsys, "evaluate", "vgg-fmnist", "--weights", str(path), "--device", "cpu")
    assert code == 2
    assert "do not fit vgg-fmnist" in assert_one_error_line(err)


@pytest.fixture
def trained_copy(tmp_path, monkeypatch):
    """The trained folder copied to tmp_path and used instead of the repository's."""
    copy = tmp_path / "trained"
    shutil.copytree(metadata.TRAINED_DIR, copy)
    metadata.manifest.cache_clear()
    monkeypatch.setattr(metadata, "TRAINED_DIR", copy)
    monkeypatch.setattr(metadata, "MANIFEST", copy / "manifest.json")
    yield copy
    metadata.manifest.cache_clear()


def test_evaluate_damaged_shipped_file(capsys, trained_copy):
    target = trained_copy / "lenet.safetensors"
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 0x01
    target.write_bytes(bytes(raw))
    code, _, err = run_main(capsys, "evaluate", "lenet", "--device", "cpu")
    assert code == 2
    assert "damaged" in assert_one_error_line(err)


@pytest.mark.slow  # a real training run
def test_ship_writes_weights_and_manifest(capsys, trained_copy):
    before = json.loads((trained_copy / "manifest.json").read_text(encoding="utf-8"))
    code, out, err = run_main(capsys, "train", "lenet", "--epochs", "1", "--limit", "500", "--lr", "0.5",
                              "--batch-size", "100", "--seed", "3", "--device", "cpu", "--ship", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == "lenet"
    assert result["test_accuracy"] == round(result["correct"] / 10_000, 4)
    recipe = result["recipe"]
    assert (recipe["epochs"], recipe["lr"], recipe["batch_size"], recipe["seed"]) == (1, 0.5, 100, 3)
    assert recipe["train_images"] == 500 and recipe["device"] == "cpu" and len(recipe["history"]) == 1
    after = json.loads((trained_copy / "manifest.json").read_text(encoding="utf-8"))
    assert set(after) == set(before)
    assert after["vgg-fmnist"] == before["vgg-fmnist"] and after["resnet-fmnist"] == before["resnet-fmnist"]
    entry = after["lenet"]
    assert entry["correct"] == result["correct"] and entry["accuracy"] == result["test_accuracy"]
    assert entry["recipe"]["train_images"] == 500 and entry["recipe"]["lr"] == 0.5
    assert entry["sha256"] == weights.sha256_of(trained_copy / "lenet.safetensors")
    assert metadata.shipped("lenet").accuracy == result["test_accuracy"]
    get_spec("lenet").build().load_state_dict(weights.load_shipped("lenet"))
