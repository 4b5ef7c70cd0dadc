"""``python -m explorer figure ID|--code FILE``: the paper figure as SVG, PNG, TikZ or its JSON spec, on stdout
unless ``-o``; bad arguments exit 2 with one ``error:`` line. The same figure as the library's."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
from PIL import Image

import explorer
from tests.cli.conftest import assert_one_error_line, run_main

LENET_CODE = """\
# input: 1,28,28
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10))
"""


def test_figure_json_is_the_librarys_spec(capsys):
    rc, out, err = run_main(capsys, "figure", "alexnet", "--format", "json")
    assert rc == 0 and err == ""
    spec = json.loads(out)
    assert spec == json.loads(explorer.figure("alexnet").json())
    assert [b["label"] for b in spec["boxes"]][:3] == ["3×224×224", "96×55×55", "96×27×27"]
    assert set(spec["boxes"][1]) >= {"label", "kind", "shape", "x", "y", "w", "h", "d"}
    assert {lk["kind"] for lk in spec["links"]} == {"flow"}


def test_figure_svg_on_stdout_and_depth_and_options(capsys):
    rc, out, _ = run_main(capsys, "figure", "resnet50-tv", "--depth", "2", "--direction", "TB", "--no-kernels")
    assert rc == 0
    root = ET.fromstring(out)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Bottleneck ×6" in texts and "1024×14×14" in texts
    rc, out, _ = run_main(capsys, "figure", "resnet18-tv", "--format", "json")
    links = json.loads(out)["links"]
    assert sum(lk["kind"] == "skip" for lk in links) == 8
    assert sum(lk.get("projection", False) for lk in links) == 3


def test_figure_png_and_tex_to_files(capsys, tmp_path):
    rc, out, _ = run_main(capsys, "figure", "lenet", "--format", "png", "--dpi", "96", "-o", str(tmp_path / "f.png"))
    assert rc == 0 and out == ""
    width = json.loads(explorer.figure("lenet").json())["width"]
    assert Image.open(BytesIO((tmp_path / "f.png").read_bytes())).size[0] == round(width)
    rc, _, _ = run_main(capsys, "figure", "lenet", "--format", "tex", "-o", str(tmp_path / "f.tex"))
    assert rc == 0 and "\\begin{tikzpicture}" in (tmp_path / "f.tex").read_text(encoding="utf-8")


def test_figure_of_a_snippet_uses_the_safe_interpreter(capsys, tmp_path):
    path = tmp_path / "lenet.py"
    path.write_text(LENET_CODE, encoding="utf-8")
    rc, out, err = run_main(capsys, "figure", "--code", str(path), "--format", "json")
    assert rc == 0, err
    spec = json.loads(out)
    assert [b["label"] for b in spec["boxes"]] == ["1×28×28", "6×28×28", "6×14×14", "16×10×10", "16×5×5", "120",
                                                   "84", "10"]
    assert spec["title"] == "lenet.py"
    path.write_text("import os\nnet = nn.Linear(2, 2)\n", encoding="utf-8")
    rc, _, err = run_main(capsys, "figure", "--code", str(path), "--input", "2")
    assert rc == 2 and "line 1" in assert_one_error_line(err)


@pytest.mark.parametrize("argv, words", [
    (["figure", "alexnt"], "unknown model id"),
    (["figure", "alexnet", "--depth", "0"], "from 1 up"),
    (["figure", "alexnet", "--input", "3,16,16"], "cannot take input 3×16×16"),
    (["figure", "alexnet", "--spacing", "9"], "between 0.25 and 4"),
    (["figure", "alexnet", "--format", "png", "--dpi", "5", "-o", "/dev/null"], "between 36 and 1200 dpi"),
    (["figure"], "exactly one of them"),
    (["figure", "alexnet", "--format", "gif"], "invalid choice"),
])
def test_figure_errors_are_one_line(capsys, argv, words):
    rc, out, err = run_main(capsys, *argv)
    assert rc == 2 and out == ""
    assert words in assert_one_error_line(err)
