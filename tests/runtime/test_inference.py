"""Classification with the shipped Fashion-MNIST weights: preprocessing, the weights themselves (hash, size, exact
test accuracy), real-looking photos, device choice, and the safety of the shared models."""

from __future__ import annotations

import io
import json
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors import safe_open

from explorer.runtime import data, devices, imagenet, inference, train, weights
from explorer.runtime.images import load_image
from explorer.zoo import get_spec
from explorer.zoo import weights as metadata

SHIPPED = ("lenet", "vgg-fmnist", "resnet-fmnist")


@pytest.fixture(scope="module")
def test_set(fashion_mnist) -> tuple[np.ndarray, np.ndarray]:
    return data.load("test")


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch.hub cache: undo any set_dir and point TORCH_HOME into tmp_path."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub"


# ---------------------------------------------------------------------------------------------------------------
# Preprocessing: a photo → what the dataset looks like
# ---------------------------------------------------------------------------------------------------------------
def shoe(background: int, foreground: int, size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A shoe-like blob (foot + shaft) in the upper-left part of a ``size`` canvas."""
    image = Image.new("L", size, background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 110, 220, 160), fill=foreground)  # the foot
    draw.ellipse((60, 50, 120, 140), fill=foreground)  # the shaft
    return image.convert("RGB")


def border(array: np.ndarray) -> np.ndarray:
    return np.concatenate([array[0], array[-1], array[1:-1, 0], array[1:-1, -1]])


@pytest.mark.parametrize("background, foreground", [(255, 40), (0, 215), (235, 30), (20, 250)])
def test_fashion_input_gives_a_light_object_on_black_either_way(background, foreground):
    out = inference.fashion_input(shoe(background, foreground))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() == pytest.approx(1.0)
    assert border(out).mean() < 0.1
    assert out[9:19, 9:19].mean() > 3 * border(out).mean()
    rows = np.flatnonzero((out > 0.2).any(axis=1))
    cols = np.flatnonzero((out > 0.2).any(axis=0))
    # cropped: the longer (horizontal) side fills the frame; centred: equal margins above and below
    assert cols[0] <= 1 and cols[-1] >= 26
    assert abs(rows[0] - (27 - rows[-1])) <= 1
    assert rows[-1] - rows[0] < 24  # the shorter side keeps its proportion


def test_fashion_input_is_the_same_for_both_polarities():
    dark_on_white = inference.fashion_input(shoe(255, 40))
    light_on_black = inference.fashion_input(shoe(0, 215))
    assert np.abs(dark_on_white - light_on_black).max() < 0.02


def test_fashion_input_other_sizes_and_blank_image():
    assert inference.fashion_input(shoe(255, 40), (96, 64)).shape == (96, 64)
    blank = inference.fashion_input(Image.new("RGB", (50, 40), (255, 255, 255)))
    assert blank.shape == (28, 28) and not blank.any()


def test_prepare_gives_the_models_input_shape():
    image = shoe(255, 40)
    for model_id in SHIPPED:
        x = inference.prepare(model_id, image)
        assert tuple(x.shape) == get_spec(model_id).input_shape
        assert x.dtype == torch.float32


# ---------------------------------------------------------------------------------------------------------------
# The shipped weights
# ---------------------------------------------------------------------------------------------------------------
def test_manifest_lists_the_shipped_models_with_files_that_match():
    manifest = metadata.manifest()
    assert set(SHIPPED) <= set(manifest)
    for info in manifest.values():
        assert info.path.is_file(), info.path
        assert weights.sha256_of(info.path) == info.sha256
        assert info.correct == round(info.accuracy * 10_000)
        assert info.path.read_bytes()[:2] != b"\x80\x02"  # not a pickle
    total = sum(p.stat().st_size for p in metadata.TRAINED_DIR.iterdir() if p.is_file())
    assert total <= 30 * 2**20


@pytest.mark.parametrize("model_id", SHIPPED)
def test_shipped_files_are_safetensors_that_fit_their_model(model_id):
    path = metadata.shipped(model_id).path
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])  # a safetensors header: JSON describing each tensor
    expected = get_spec(model_id).build().state_dict()
    with safe_open(str(path), framework="pt") as f:
        assert set(f.keys()) == set(expected) == set(header) - {"__metadata__"}
        for key in f.keys():
            assert tuple(f.get_slice(key).get_shape()) == tuple(expected[key].shape), key
    state = weights.load_shipped(model_id)
    module = get_spec(model_id).build()
    module.load_state_dict(state, strict=True)


@pytest.fixture
def tampered_lenet(tmp_path, monkeypatch):
    """A copy of the trained folder whose lenet file has one byte changed, in place of the real one."""
    copy = tmp_path / "trained"
    shutil.copytree(metadata.TRAINED_DIR, copy)
    target = copy / metadata.shipped("lenet").file
    raw = bytearray(target.read_bytes())
    raw[len(raw) - 100] ^= 0x01  # inside the tensor data
    target.write_bytes(bytes(raw))
    metadata.manifest.cache_clear()
    monkeypatch.setattr(metadata, "TRAINED_DIR", copy)
    monkeypatch.setattr(metadata, "MANIFEST", copy / "manifest.json")
    monkeypatch.setattr(inference, "_CACHE", {})
    yield target
    metadata.manifest.cache_clear()


def test_tampered_weights_are_refused(tampered_lenet):
    assert metadata.shipped("lenet").path == tampered_lenet
    with pytest.raises(ValueError, match="damaged"):
        weights.load_shipped("lenet")
    with pytest.raises(ValueError, match="damaged"):
        inference.load("lenet", "cpu")
    weights.load_shipped("vgg-fmnist")  # the untouched files still load


# The whole test set through each model: seconds for vgg-fmnist and resnet-fmnist on a CPU, so those two are slow.
@pytest.mark.parametrize(
    "model_id", [m if m == "lenet" else pytest.param(m, marks=pytest.mark.slow) for m in SHIPPED]
)
@pytest.mark.slow
def test_shipped_accuracy_is_reproduced_exactly(test_set, model_id):
    """The shipped model classifies exactly the recorded number of the 10,000 test images correctly."""
    spec = get_spec(model_id)
    module = spec.build()
    module.load_state_dict(weights.load_shipped(model_id))
    x, y = train.tensors("test", spec.input_shape[1:])
    assert len(y) == 10_000
    correct = train.evaluate(module, x, y, torch.device("cpu"), batch=250)
    assert correct == spec.trained.correct
    assert correct / 10_000 == spec.trained.accuracy


def test_best_model_and_recorded_recipes():
    manifest = metadata.manifest()
    best = inference.best_model()
    assert best == max(manifest, key=lambda k: manifest[k].accuracy)
    assert manifest[best].accuracy >= 0.90
    assert inference.fashion_models()[0] == best
    assert set(inference.fashion_models()) == set(manifest)
    for model_id in SHIPPED:
        spec = get_spec(model_id)
        trained = spec.trained
        assert trained is not None and trained.model == model_id
        for key in ("epochs", "lr", "batch_size"):
            assert key in trained.recipe, (model_id, key)
        assert isinstance(trained.recipe["epochs"], int) and trained.recipe["epochs"] > 0
        assert isinstance(spec.d2l_result, str) and spec.d2l_result
    assert get_spec("alexnet").trained is None


# ---------------------------------------------------------------------------------------------------------------
# Real-looking photos of the test images
# ---------------------------------------------------------------------------------------------------------------
# The first two test images of each class.
PHOTO_INDICES = (19, 27, 2, 3, 1, 16, 13, 29, 6, 10, 8, 11, 4, 7, 9, 12, 18, 30, 0, 23)


def product_photo(image: np.ndarray) -> bytes:
    """A dataset image as a shop photo: dark garment on white, some margin, 300×300, JPEG."""
    padded = np.pad(255 - image, 8, constant_values=255)
    photo = Image.fromarray(padded, "L").resize((300, 300), Image.Resampling.BICUBIC).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.slow  # several seconds on a CPU
def test_product_photos_are_classified_like_the_dataset(test_set):
    images, labels = test_set
    assert sorted(int(labels[i]) for i in PHOTO_INDICES) == sorted(list(range(10)) * 2)
    best = inference.best_model()
    hits, misses = 0, []
    for index in PHOTO_INDICES:
        photo = load_image(product_photo(images[index]), f"photo-{index}.jpg")
        assert photo.size == (300, 300)
        prediction = inference.classify(photo, best, top_k=3, device="cpu")
        truth = data.CLASSES[int(labels[index])]
        assert truth in [label for label, _ in prediction.top], (index, truth, prediction.top)
        if prediction.top[0][0] == truth:
            hits += 1
        else:
            misses.append((index, truth, prediction.top[0]))
    # Measured: 18 of 20 (test image 23, an ankle boot, is taken for a sandal by the model on the raw dataset
    # image too; test image 27 is a close T-shirt/Shirt call).
    assert hits >= 18, misses


# ---------------------------------------------------------------------------------------------------------------
# Device choice
# ---------------------------------------------------------------------------------------------------------------
def test_pick_device():
    auto = devices.pick_device("auto")
    if torch.cuda.is_available():
        assert auto.type == "cuda"
    elif torch.backends.mps.is_available():
        assert auto.type == "mps"
    else:
        assert auto == torch.device("cpu")
    assert devices.pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        devices.pick_device("tpu")
    with pytest.raises(ValueError, match="unknown device"):
        devices.pick_device("")


# What this checks (asking for CUDA where there is none) cannot happen on a machine with a GPU.
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu_is_an_error():
    with pytest.raises(ValueError, match="cuda"):
        devices.pick_device("cuda")
    with pytest.raises(ValueError, match="cuda"):
        inference.load("lenet", "cuda")


# ---------------------------------------------------------------------------------------------------------------
# Shared models
# ---------------------------------------------------------------------------------------------------------------
def test_load_returns_one_shared_eval_model():
    first = inference.load("lenet")
    assert inference.load("lenet") is first
    assert inference.load("lenet", str(first.device)) is first
    assert not first.module.training
    assert all(not m.training for m in first.module.modules())
    assert all(not p.requires_grad for p in first.module.parameters())
    assert first.labels == data.CLASSES


def no_hooks(module: torch.nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in module.modules())


def test_feature_maps_of_lenet():
    x = inference.prepare("lenet", shoe(255, 40))
    maps = inference.feature_maps("lenet", x, device="cpu")
    assert {k: tuple(v.shape) for k, v in maps.items()} == {
        "0": (6, 28, 28), "2": (6, 14, 14), "3": (16, 10, 10), "5": (16, 5, 5),
    }
    assert all(v.device.type == "cpu" and v.dtype == torch.float32 for v in maps.values())
    assert no_hooks(inference.load("lenet", "cpu").module)
    again = inference.feature_maps("lenet", x, device="cpu")
    assert all(torch.equal(maps[k], again[k]) for k in maps)


def test_feature_maps_of_the_best_model_leave_no_hooks():
    best = inference.best_model()
    x = inference.prepare(best, shoe(0, 215))
    maps = inference.feature_maps(best, x, device="cpu")
    assert maps and all(v.dim() == 3 for v in maps.values())
    first = next(iter(maps.values()))
    assert first.shape[1:] == (28, 28)
    assert no_hooks(inference.load(best, "cpu").module)


@pytest.mark.slow  # several seconds on a CPU
def test_concurrent_classification_matches_sequential(test_set):
    images, _ = test_set
    best = inference.best_model()
    photos = [load_image(product_photo(images[i]), f"{i}.jpg") for i in range(8)]
    photos.append(shoe(255, 40))
    sequential = [inference.classify(p, best, top_k=5, device="cpu") for p in photos]
    jobs = [photos[(i + j) % len(photos)] for i in range(8) for j in range(len(photos))]

    def run(image):
        return image, inference.classify(image, best, top_k=5, device="cpu")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))
    for image, prediction in results:
        expected = sequential[photos.index(image)]
        assert prediction.top == expected.top
        assert torch.equal(prediction.input, expected.input)
    assert no_hooks(inference.load(best, "cpu").module)


def test_classify_top_k_is_sorted_and_bounded():
    prediction = inference.classify(shoe(255, 40), "lenet", top_k=50, device="cpu")
    assert len(prediction.top) == 10
    probs = [p for _, p in prediction.top]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-5)
    assert {label for label, _ in prediction.top} == set(data.CLASSES)
    assert len(inference.classify(shoe(255, 40), "lenet", top_k=0, device="cpu").top) == 1
    assert prediction.ms > 0


# ---------------------------------------------------------------------------------------------------------------
# Models without weights
# ---------------------------------------------------------------------------------------------------------------
def test_model_without_weights_names_the_models_that_classify():
    with pytest.raises(inference.NoWeights) as info:
        inference.load("alexnet", "cpu")
    message = str(info.value)
    assert "alexnet" in message and "\n" not in message
    for model_id in SHIPPED:
        assert model_id in message


def test_unknown_model_is_a_key_error():
    with pytest.raises(KeyError, match="lenet"):
        inference.load("lenett", "cpu")


def test_imagenet_model_without_checkpoint_names_the_download(hub_dir):
    url = imagenet.CHECKPOINTS["resnet18-tv"].url
    with pytest.raises(inference.NoWeights) as info:
        inference.load("resnet18-tv", "cpu")
    message = str(info.value)
    assert url in message
    assert str(hub_dir / "checkpoints") in message
    assert ("resnet18-tv", "cpu") not in inference._CACHE
    assert inference.available_models() == inference.fashion_models()
