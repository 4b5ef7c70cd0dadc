"""ImageNet support: class names, checkpoint cache and loading (with stand-in checkpoints), and preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import build, get_spec
from explorer.lessons import compare
from explorer.runtime import hub, imagenet
from explorer.runtime.weights import NoCheckpoint, load_shipped
from explorer.zoo.googlenet import googlenet_tv
from explorer.zoo.weights import CHECKPOINTS, ImageClassification, manifest

REPO = Path(__file__).resolve().parents[2]
CLASSES_FILE = REPO / "explorer" / "zoo" / "imagenet_classes.txt"

TV_IDS = (
    "alexnet-tv", "vgg11", "vgg13", "vgg16", "vgg19", "googlenet-tv", "resnet18-tv", "resnet34-tv", "resnet50-tv",
)


# ---------------------------------------------------------------------------------------------------------------
# Fixtures: an empty torch.hub cache under tmp_path, and stand-in checkpoints with random values.
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def hub_dir(tmp_path, monkeypatch) -> Path:
    """torch.hub uses $TORCH_HOME/hub unless set_dir was called: undo set_dir, point TORCH_HOME into tmp_path."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub"


def random_state(model_id: str, **overrides) -> dict[str, torch.Tensor]:
    """The zoo model's own state_dict with every float tensor random (running variances positive)."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in build(model_id, **overrides).state_dict().items():
        if value.is_floating_point():
            noise = torch.randn(value.shape, generator=generator)
            value = noise.abs() + 0.5 if key.endswith("running_var") else noise * 0.1
        state[key] = value
    return state


def write_checkpoint(model_id: str, state: dict[str, torch.Tensor]) -> Path:
    path = imagenet.checkpoint_path(model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def googlenet_checkpoint_state() -> dict[str, torch.Tensor]:
    """googlenet-tv's keys plus auxiliary-head tensors, as in torchvision's published file."""
    state = random_state("googlenet-tv", init_weights=False)  # the values are replaced anyway
    state["aux1.conv.conv.weight"] = torch.randn(128, 512, 1, 1)
    state["aux1.fc1.weight"] = torch.randn(1024, 2048)
    state["aux2.fc2.bias"] = torch.randn(1000)
    return state


def assert_same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


# ---------------------------------------------------------------------------------------------------------------
# Class names
# ---------------------------------------------------------------------------------------------------------------
def test_class_file_has_exactly_1000_non_empty_lines():
    lines = CLASSES_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1000
    assert all(line.strip() and line == line.strip() for line in lines)
    assert imagenet.CLASSES == tuple(lines)


@pytest.mark.parametrize("index, name", [
    (0, "tench"), (1, "goldfish"), (207, "golden retriever"), (281, "tabby"), (409, "analog clock"),
    (530, "digital clock"), (999, "toilet tissue"),
])
def test_known_class_indices(index, name):
    assert imagenet.CLASSES[index] == name


def test_class_names_are_unique():
    # torchvision renamed the two duplicated WordNet names: 134 "crane bird" (517 "crane") and 639 "maillot tank suit".
    assert len(set(imagenet.CLASSES)) == 1000
    assert (imagenet.CLASSES[134], imagenet.CLASSES[517]) == ("crane bird", "crane")
    assert (imagenet.CLASSES[638], imagenet.CLASSES[639]) == ("maillot", "maillot tank suit")


# ---------------------------------------------------------------------------------------------------------------
# Checkpoint table and cache paths
# ---------------------------------------------------------------------------------------------------------------
def test_checkpoint_table_covers_the_torchvision_ids():
    assert set(imagenet.CHECKPOINTS) == set(TV_IDS)
    for model_id, weights in imagenet.CHECKPOINTS.items():
        assert weights.model == model_id and get_spec(model_id).checkpoint is weights
        assert weights.url == "https://download.pytorch.org/models/" + weights.file
        assert weights.file.endswith(f"-{weights.hash_prefix}.pth") and len(weights.hash_prefix) == 8
        assert imagenet.is_imagenet_model(model_id)
        assert get_spec(model_id).source == "torchvision"
        assert weights.transforms == ImageClassification(256, 224, imagenet.MEAN, imagenet.STD)
        assert weights.categories == imagenet.CLASSES and len(weights.categories) == 1000
        assert 50 < weights.metrics["acc@1"] < weights.metrics["acc@5"] < 100
        assert weights.accuracy == weights.metrics["acc@1"] / 100 and weights.path is None
    assert imagenet.CHECKPOINTS["resnet18-tv"].file == "resnet18-f37072fd.pth"
    assert imagenet.CHECKPOINTS["alexnet-tv"].file == "alexnet-owt-7be5be79.pth"
    assert imagenet.CHECKPOINTS["googlenet-tv"].file == "googlenet-1378be20.pth"
    assert imagenet.CHECKPOINTS["resnet18-tv"].metrics == {"acc@1": 69.758, "acc@5": 89.078}
    assert compare.IMAGENET_ACCURACY["resnet18-tv"] == (69.758, 89.078)  # the records' numbers, not a copy
    for model_id in ("alexnet", "resnet18", "googlenet", "lenet", "no-such-model"):
        assert not imagenet.is_imagenet_model(model_id)


@pytest.mark.parametrize("weights", [*CHECKPOINTS.values(), *manifest().values()], ids=lambda w: w.model)
def test_every_checkpoint_states_the_parameters_it_fills(weights):
    """torchvision's ``num_params`` habit: the stated count equals the count of the model the weights load into."""
    with torch.device("meta"):
        model = build(weights.model)
    assert weights.num_params == sum(p.numel() for p in model.parameters()) == get_spec(weights.model).params


def test_one_no_checkpoint_error_for_every_lookup(hub_dir):
    messages = set()
    for call in (lambda: imagenet.checkpoint_path("resnet18"), lambda: hub.fetch("resnet18"),
                 lambda: hub.add("resnet18", "x.pth"), lambda: hub.source_url("resnet18")):
        with pytest.raises(NoCheckpoint) as info:
            call()
        assert isinstance(info.value, KeyError) and isinstance(info.value, hub.FetchError)
        messages.add(str(info.value))
    assert messages == {"resnet18 has no published ImageNet checkpoint; the ids that do are " + ", ".join(TV_IDS)}
    with pytest.raises(NoCheckpoint, match="^no trained weights are shipped for alexnet$"):
        load_shipped("alexnet")


def test_checkpoint_path_follows_torch_home(hub_dir):
    for model_id in ("resnet18-tv", "alexnet-tv", "vgg16"):
        file_name = imagenet.CHECKPOINTS[model_id].file
        assert imagenet.checkpoint_path(model_id) == hub_dir / "checkpoints" / file_name
    with pytest.raises(KeyError, match="no published ImageNet checkpoint"):
        imagenet.checkpoint_path("resnet18")


def test_available(hub_dir):
    assert not imagenet.available("resnet18-tv")
    write_checkpoint("resnet18-tv", random_state("resnet18-tv"))
    assert imagenet.available("resnet18-tv")
    assert not imagenet.available("googlenet-tv")
    assert not imagenet.available("alexnet-tv")


# ---------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------
def test_load_weights_reads_the_cached_file(hub_dir):
    state = random_state("resnet18-tv")
    write_checkpoint("resnet18-tv", state)
    assert_same_tensors(imagenet.load_weights("resnet18-tv"), state)


def test_load_weights_drops_googlenet_aux_heads(hub_dir):
    state = googlenet_checkpoint_state()
    write_checkpoint("googlenet-tv", state)
    loaded = imagenet.load_weights("googlenet-tv")
    assert not [key for key in loaded if key.startswith(("aux1.", "aux2."))]
    assert_same_tensors(loaded, {k: v for k, v in state.items() if not k.startswith("aux")})
    assert loaded.keys() == build("googlenet-tv", init_weights=False).state_dict().keys()


@pytest.mark.slow
def test_build_pretrained_resnet18_matches_a_manual_load(hub_dir):
    state = random_state("resnet18-tv")
    write_checkpoint("resnet18-tv", state)
    model = imagenet.build_pretrained("resnet18-tv")
    assert not model.training
    assert not any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    assert_same_tensors(model.state_dict(), state)

    reference = build("resnet18-tv")
    reference.load_state_dict(state, strict=True)
    reference.eval()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        assert torch.equal(model(x), reference(x))


def test_build_pretrained_reads_old_style_checkpoints(hub_dir):
    # Older published files use the legacy (non-zip) format, and early BatchNorm checkpoints lack num_batches_tracked.
    state = {k: v for k, v in random_state("resnet18-tv").items() if not k.endswith("num_batches_tracked")}
    path = imagenet.checkpoint_path("resnet18-tv")
    path.parent.mkdir(parents=True)
    torch.save(state, path, _use_new_zipfile_serialization=False)
    model = imagenet.build_pretrained("resnet18-tv")
    assert not any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    assert torch.equal(model.bn1.running_var, state["bn1.running_var"])
    assert int(model.bn1.num_batches_tracked) == 0


@pytest.mark.slow
def test_build_pretrained_googlenet_uses_transform_input(hub_dir):
    state = googlenet_checkpoint_state()
    write_checkpoint("googlenet-tv", state)
    model = imagenet.build_pretrained("googlenet-tv")
    assert model.transform_input is True
    assert not model.training

    reference = googlenet_tv(transform_input=True, init_weights=False)
    reference.load_state_dict({k: v for k, v in state.items() if not k.startswith("aux")}, strict=True)
    reference.eval()
    x = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        assert torch.equal(model(x), reference(x))


def test_missing_without_download_names_url_and_path(hub_dir):
    url, file_name = imagenet.CHECKPOINTS["resnet18-tv"].url, imagenet.CHECKPOINTS["resnet18-tv"].file
    path = hub_dir / "checkpoints" / file_name
    with pytest.raises(imagenet.ImageNetWeightsMissing) as info:
        imagenet.load_weights("resnet18-tv")
    message = str(info.value)
    assert url in message and str(path) in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert isinstance(info.value, FileNotFoundError)
    assert (info.value.url, info.value.path) == (url, path)
    with pytest.raises(imagenet.ImageNetWeightsMissing):
        imagenet.build_pretrained("alexnet-tv")
    assert not path.exists()


@pytest.mark.parametrize("content", [b"", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))])
def test_corrupt_file_is_reported_as_damaged(hub_dir, content):
    path = imagenet.checkpoint_path("resnet18-tv")
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(imagenet.ImageNetWeightsDamaged) as info:
        imagenet.load_weights("resnet18-tv")
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "damaged" in message and str(path) in message and imagenet.CHECKPOINTS["resnet18-tv"].url in message
    with pytest.raises(imagenet.ImageNetWeightsDamaged):
        imagenet.build_pretrained("resnet18-tv")


@pytest.mark.slow
def test_a_checkpoint_of_another_model_is_reported_as_damaged(hub_dir):
    write_checkpoint("resnet18-tv", random_state("resnet34-tv"))
    with pytest.raises(imagenet.ImageNetWeightsDamaged, match="do not fit the model"):
        imagenet.build_pretrained("resnet18-tv")


def test_pickled_code_is_refused(hub_dir):
    path = imagenet.checkpoint_path("resnet18-tv")
    path.parent.mkdir(parents=True)
    torch.save({"fc.weight": torch.zeros(1), "hook": print}, path)
    with pytest.raises(imagenet.ImageNetWeightsDamaged):
        imagenet.load_weights("resnet18-tv")


# ---------------------------------------------------------------------------------------------------------------
# Preprocessing
# ---------------------------------------------------------------------------------------------------------------
def normalized(rgb: tuple[int, int, int]) -> torch.Tensor:
    """What one pixel of colour ``rgb`` becomes, per channel, in float32 as torchvision computes it."""
    x = torch.tensor(rgb, dtype=torch.float32) / 255.0
    return (x - torch.tensor(imagenet.MEAN)) / torch.tensor(imagenet.STD)


@pytest.mark.parametrize("size, resized", [
    ((500, 375), (341, 256)), ((375, 500), (256, 341)), ((256, 256), (256, 256)), ((1000, 999), (256, 256)),
    ((640, 480), (341, 256)), ((100, 300), (256, 768)),
])
def test_resize_shorter_side_as_torchvision(size, resized):
    assert imagenet.resize_shorter_side(Image.new("RGB", size)).size == resized


def test_preprocess_uniform_grey_is_near_zero():
    grey = (124, 116, 104)  # ≈ 255 × MEAN
    x = imagenet.preprocess(Image.new("RGB", (500, 375), grey))
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32 and x.is_contiguous()
    expected = normalized(grey)
    assert torch.allclose(x, expected.view(3, 1, 1).expand(3, 224, 224), atol=1e-6)
    assert expected.abs().max() < 0.02
    # Exact values: (124/255 − 0.485)/0.229, (116/255 − 0.456)/0.224, (104/255 − 0.406)/0.225.
    assert torch.allclose(expected, torch.tensor([0.005566, -0.004902, 0.008192]), atol=1e-5)


def test_preprocess_white_and_black():
    white = imagenet.preprocess(Image.new("RGB", (300, 300), (255, 255, 255)))
    black = imagenet.preprocess(Image.new("RGB", (300, 300), (0, 0, 0)))
    assert torch.allclose(white[:, 0, 0], torch.tensor([2.2489, 2.4286, 2.6400]), atol=1e-4)
    assert torch.allclose(black[:, 0, 0], torch.tensor([-2.1179, -2.0357, -1.8044]), atol=1e-4)


def test_preprocess_crops_the_centre_of_a_tall_image():
    # 300×600: green rows 150…449, red above and below. Resized to 256×512, the crop keeps rows 144…367, i.e.
    # rows ≈ 169…430 of the original: all green (bilinear reaches ~1 px further).
    array = np.zeros((600, 300, 3), dtype=np.uint8)
    array[:, :, 0] = 255
    array[150:450] = (0, 255, 0)
    x = imagenet.preprocess(Image.fromarray(array))
    assert x.shape == (3, 224, 224)
    assert torch.allclose(x, normalized((0, 255, 0)).view(3, 1, 1).expand(3, 224, 224), atol=1e-6)


def test_preprocess_crops_the_centre_of_a_wide_image():
    array = np.zeros((300, 600, 3), dtype=np.uint8)
    array[:, :, 2] = 255
    array[:, 150:450] = (255, 255, 0)
    x = imagenet.preprocess(Image.fromarray(array))
    assert torch.allclose(x, normalized((255, 255, 0)).view(3, 1, 1).expand(3, 224, 224), atol=1e-6)


def test_preprocess_crop_offsets_round_like_torchvision():
    # 256×289 stays 256 wide and 289 high; top = int(round(65 / 2)) = 32 (round half to even), left = 16.
    array = np.zeros((289, 256, 3), dtype=np.uint8)
    array[32, 16] = (255, 255, 255)  # the crop's top-left pixel
    array[31, :] = (0, 0, 255)  # just above the crop
    x = imagenet.preprocess(Image.fromarray(array))
    assert torch.allclose(x[:, 0, 0], normalized((255, 255, 255)), atol=1e-6)
    assert torch.allclose(x[:, 0, 1], normalized((0, 0, 0)), atol=1e-6)


def test_preprocess_converts_to_rgb():
    grey = imagenet.preprocess(Image.new("L", (300, 400), 128))
    rgb = imagenet.preprocess(Image.new("RGB", (300, 400), (128, 128, 128)))
    assert torch.equal(grey, rgb)
