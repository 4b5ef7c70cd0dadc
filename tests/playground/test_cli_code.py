"""``python -m explorer summary --code FILE``: the interpreter's network, the same JSON as ``summary ID``."""

from __future__ import annotations

import json

from explorer import cli
from explorer.playground import LISTINGS, ZOO_CODE


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_code_json_equals_id_json_for_lenet(capsys, tmp_path):
    path = tmp_path / "lenet.py"
    path.write_text(ZOO_CODE["lenet"], encoding="utf-8")
    rc, out, err = run(capsys, "summary", "--code", str(path), "--json")  # the input comes from '# input:'
    assert rc == 0, err
    from_code = json.loads(out)
    rc, out, _ = run(capsys, "summary", "lenet", "--json")
    from_id = json.loads(out)
    assert from_code.pop("model") == "lenet.py"
    assert from_id.pop("model") == "lenet"
    assert from_code == from_id


def test_code_with_input_and_text_output(capsys, tmp_path):
    path = tmp_path / "vgg.py"
    path.write_text(LISTINGS["vgg"].code, encoding="utf-8")
    rc, out, err = run(capsys, "summary", "--code", str(path), "--input", "1,224,224")
    assert rc == 0, err
    assert "128,806,154" in out


def test_refused_snippet_exits_2_with_the_line(capsys, tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("x = 1\nimport os\nnet = os.system('touch pwned')\n", encoding="utf-8")
    rc, out, err = run(capsys, "summary", "--code", str(path), "--input", "1,28,28", "--json")
    assert rc == 2 and out == ""
    assert one_error_line(err) == ("error: line 2: 'import os' is not allowed: only torch, torch.nn and "
                                   "torch.nn.functional can be imported")
    assert not (tmp_path / "pwned").exists()


def test_failing_layer_exits_2_with_its_line(capsys, tmp_path):
    path = tmp_path / "nin.py"
    path.write_text(LISTINGS["nin-notes"].code, encoding="utf-8")
    rc, _, err = run(capsys, "summary", "--code", str(path), "--input", "1,224,224", "--json")
    assert rc == 2
    assert one_error_line(err).startswith("error: line 5: Conv2d(384, 384, kernel_size=(3, 3)")


def test_argument_errors(capsys, tmp_path):
    path = tmp_path / "net.py"
    path.write_text("net = nn.Linear(3, 2)\n", encoding="utf-8")
    rc, _, err = run(capsys, "summary", "--code", str(path))
    assert rc == 2 and "--input C,H,W is required" in one_error_line(err)
    rc, _, err = run(capsys, "summary", "lenet", "--code", str(path))
    assert rc == 2 and "exactly one" in one_error_line(err)
    rc, _, err = run(capsys, "summary")
    assert rc == 2 and "exactly one" in one_error_line(err)
    rc, _, err = run(capsys, "summary", "--code", str(tmp_path / "missing.py"), "--input", "3")
    assert rc == 2 and "cannot read" in one_error_line(err)
    rc, out, err = run(capsys, "summary", "--code", str(path), "--input", "3", "--json")
    assert rc == 0, err
    assert json.loads(out)["total_params"] == 8


def test_a_layer_that_changes_the_batch_is_refused_with_its_line(capsys, tmp_path):
    """The notes' LeNet (``x.view(-1, 1, 28, 28)``) at 1×224×224 would analyse 64 images as one: refused, not 64×
    the MACs per image."""
    path = tmp_path / "lenet.py"
    path.write_text(LISTINGS["lenet"].code, encoding="utf-8")
    rc, out, err = run(capsys, "summary", "--code", str(path), "--input", "1,224,224", "--json")
    assert rc == 2 and out == ""
    assert one_error_line(err) == ("error: line 3: view(-1, 1, 28, 28) turns 1 image into 64: per-image numbers "
                                   "would be wrong")
    rc, out, err = run(capsys, "summary", "--code", str(path), "--input", "1,28,28", "--json")
    assert rc == 0 and json.loads(out)["total_params"] == 61_706
