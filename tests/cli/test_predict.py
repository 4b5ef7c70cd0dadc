"""The ``predict`` command's contract (the README's "Library and CLI"; ``--json`` keys ``model``, ``device``,
``results``): a real process for the exit code and the streams, the rest in-process through ``explorer.cli.main``."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from explorer.runtime import data, imagenet, inference
from explorer.runtime.devices import pick_device
from tests.cli.conftest import assert_one_error_line, run_main, run_process

SHIPPED = ("lenet", "vgg-fmnist", "resnet-fmnist")


def write_image(path: Path, fmt: str, background: int = 255, foreground: int = 30) -> Path:
    """A trouser-like shape (two legs) on a plain background."""
    image = Image.new("L", (160, 240), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 20, 120, 60), fill=foreground)
    draw.polygon([(40, 60), (78, 60), (74, 220), (44, 220)], fill=foreground)
    draw.polygon([(82, 60), (120, 60), (116, 220), (86, 220)], fill=foreground)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    bad = tmp_path / "notes.png"
    bad.write_text("<html><body>not an image</body></html>\n", encoding="utf-8")
    return {
        "png": write_image(tmp_path / "trousers.png", "PNG"),
        "jpeg": write_image(tmp_path / "dark.jpg", "JPEG", background=0, foreground=220),
        "bad": bad,
        "missing": tmp_path / "missing.png",
    }


def check_result(entry: dict, k: int) -> None:
    assert set(entry) == {"file", "top", "ms", "ood_score", "familiar"}  # Fashion-MNIST models add the OOD pair
    assert isinstance(entry["ood_score"], float) and isinstance(entry["familiar"], bool)
    assert len(entry["top"]) == k
    for item in entry["top"]:
        assert set(item) == {"label", "prob"}
        assert item["label"] in data.CLASSES
        assert 0.0 <= item["prob"] <= 1.0
    probs = [item["prob"] for item in entry["top"]]
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0 + 1e-5
    assert isinstance(entry["ms"], (int, float)) and entry["ms"] > 0


# ---------------------------------------------------------------------------------------------------------------
# As a real process
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_process_json_output_with_the_default_model(files):
    result = run_process("predict", str(files["png"]), str(files["jpeg"]), "--top", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"model", "device", "results"}
    assert out["model"] == inference.best_model()
    assert out["device"] == str(pick_device("auto"))
    assert [e["file"] for e in out["results"]] == [str(files["png"]), str(files["jpeg"])]
    for entry in out["results"]:
        check_result(entry, 3)
    # the same trouser shape, dark on white and light on black, is a trouser both times
    assert [e["top"][0]["label"] for e in out["results"]] == ["Trouser", "Trouser"]


@pytest.mark.slow
def test_process_bad_and_missing_files_among_good_ones(files):
    images = (files["png"], files["bad"], files["missing"], files["jpeg"])
    result = run_process("predict", *map(str, images), "--json")
    assert result.returncode == 2
    line = assert_one_error_line(result.stderr)
    assert "2 of 4" in line and str(files["bad"]) in line and str(files["missing"]) in line
    out = json.loads(result.stdout)
    entries = {Path(e["file"]).name: e for e in out["results"]}
    assert list(entries) == ["trousers.png", "notes.png", "missing.png", "dark.jpg"]
    for name in ("trousers.png", "dark.jpg"):
        check_result(entries[name], 5)
    for name in ("notes.png", "missing.png"):
        assert set(entries[name]) == {"file", "error"}
    assert "not an image" in entries["notes.png"]["error"]
    assert "cannot read" in entries["missing.png"]["error"]


# ---------------------------------------------------------------------------------------------------------------
# In-process
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", SHIPPED)
def test_each_shipped_model_with_top_k(capsys, files, model_id):
    code, out, err = run_main(
        capsys, "predict", str(files["png"]), "--model", model_id, "--top", "4", "--device", "cpu", "--json"
    )
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result["model"] == model_id and result["device"] == "cpu"
    check_result(result["results"][0], 4)


def test_top_larger_than_the_classes_gives_all_ten(capsys, files):
    code, out, _ = run_main(capsys, "predict", str(files["png"]), "--top", "20", "--json")
    assert code == 0
    top = json.loads(out)["results"][0]["top"]
    assert len(top) == 10 and {t["label"] for t in top} == set(data.CLASSES)
    assert sum(t["prob"] for t in top) == pytest.approx(1.0, abs=1e-4)


def test_text_output(capsys, files):
    code, out, err = run_main(capsys, "predict", str(files["png"]), str(files["bad"]), "--top", "2")
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == f"model {inference.best_model()} on {inference.load(inference.best_model()).device}"
    assert lines[1].startswith(f"{files['png']}: Trouser ")
    assert lines[2].startswith(f"{files['bad']}: error: ")
    assert "1 of 2" in assert_one_error_line(err)


def test_only_bad_files(capsys, files):
    code, out, err = run_main(capsys, "predict", str(files["missing"]), "--json")
    assert code == 2
    assert_one_error_line(err)
    (entry,) = json.loads(out)["results"]
    assert set(entry) == {"file", "error"}


@pytest.mark.parametrize("args, words", [
    (["--model", "lenett"], ["unknown model id", "lenet"]),
    (["--top", "0"], ["--top"]),
    (["--top", "-3"], ["--top"]),
    (["--top", "three"], ["--top"]),
    (["--device", "tpu"], ["--device"]),
    (["--model", "alexnet"], ["alexnet", *SHIPPED]),
])
def test_bad_arguments(capsys, files, args, words):
    code, out, err = run_main(capsys, "predict", str(files["png"]), *args)
    assert code == 2
    assert out == ""
    line = assert_one_error_line(err)
    for word in words:
        assert word in line


def test_no_image_argument(capsys):
    code, out, err = run_main(capsys, "predict")
    assert code == 2 and out == ""
    assert_one_error_line(err)


# What this checks (asking for CUDA where there is none) cannot happen on a machine with a GPU.
@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_without_a_gpu(capsys, files):
    code, out, err = run_main(capsys, "predict", str(files["png"]), "--device", "cuda")
    assert code == 2 and out == ""
    assert "cuda" in assert_one_error_line(err)


def test_imagenet_model_without_checkpoint(capsys, files, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    code, out, err = run_main(capsys, "predict", str(files["png"]), "--model", "resnet18-tv")
    assert code == 2 and out == ""
    assert imagenet.CHECKPOINTS["resnet18-tv"].url in assert_one_error_line(err)


@pytest.mark.slow
def test_devices_pipes_and_oversized_files_are_refused_without_reading_them(capsys, files, tmp_path):
    """``/dev/zero`` and a FIFO are not read at all (reading would never end), a sparse file over the 50 MB limit is
    refused by its size; the good files among them are still classified."""
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    sparse = tmp_path / "huge.png"
    with open(sparse, "wb") as f:
        f.truncate(60 * 2**20)
    names = [str(files["png"]), "/dev/zero", str(fifo), str(sparse), str(tmp_path), str(files["jpeg"])]
    code, out, err = run_main(capsys, "predict", *names, "--json")
    assert code == 2
    assert assert_one_error_line(err) == f"error: 4 of 6 files could not be classified: {', '.join(names[1:5])}"
    entries = json.loads(out)["results"]
    assert [e["file"] for e in entries] == names
    for entry in (entries[0], entries[5]):
        check_result(entry, 5)
        assert entry["top"][0]["label"] == "Trouser"
    assert [e.get("error") for e in entries[1:5]] == [
        "/dev/zero is a character device, not an image file",
        f"{fifo} is a named pipe (FIFO), not an image file",
        f"{sparse} is 62,914,560 bytes (60.0 MB), more than the 50 MB limit",
        f"{tmp_path} is a directory, not an image file",
    ]
    assert all(set(e) == {"file", "error"} for e in entries[1:5])
