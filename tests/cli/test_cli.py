"""``python -m explorer``: the JSON contracts of ``list`` and ``summary`` (the public contract's keys and numbers) and
the error contract (exit 2, one ``error:`` line).

A handful of real subprocesses (started together, since each spends ~2 s importing torch) check what only a
process can show: the exit status and that no traceback reaches stderr. The rest calls ``cli.main`` in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import explorer
from tests.cli.conftest import REPO, assert_one_error_line, run_main
from tests.contract import MODELS as CONTRACT

RUNS: dict[str, list[str]] = {
    "list-json": ["list", "--json"],
    "unknown-id": ["summary", "alexnt", "--json"],
    "bad-input-text": ["summary", "alexnet", "--input", "3,abc,224"],
    "impossible-input": ["summary", "alexnet", "--input", "3,16,16", "--json"],
    "unknown-subcommand": ["frobnicate"],
    "missing-argument": ["summary"],
}
ERROR_RUNS = ["unknown-id", "bad-input-text", "impossible-input", "unknown-subcommand", "missing-argument"]


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess]:
    """Every subprocess of this module, started at once and collected."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-m", "explorer", *argv], cwd=REPO, env=env, text=True, encoding="utf-8",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for key, argv in RUNS.items()
    }
    done = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        done[key] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


# ---------------------------------------------------------------------------------------------------------------
# Real processes
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_list_json(runs):
    r = runs["list-json"]
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    rows = json.loads(r.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {"id", "family", "title", "input", "num_classes", "params"}
    by_id = {row["id"]: row for row in rows}
    assert [row["id"] for row in rows] == [s.id for s in explorer.list_models()]
    missing = [model_id for model_id in CONTRACT if model_id not in by_id]
    assert missing == [], f"contract ids missing from `list --json`: {missing}"
    for model_id, expected in CONTRACT.items():
        row = by_id[model_id]
        assert (tuple(row["input"]), row["num_classes"], row["params"]) == expected, model_id
    assert by_id["alexnet"] == {
        "id": "alexnet", "family": "AlexNet", "title": explorer.get_spec("alexnet").title,
        "input": [3, 224, 224], "num_classes": 1000, "params": 62_378_344,
    }
    assert by_id["lenet"]["input"] == [1, 28, 28]
    assert by_id["lenet"]["params"] == 61_706
    assert by_id["vgg16"]["params"] == 138_357_544


@pytest.mark.slow
@pytest.mark.parametrize("key", ERROR_RUNS)
def test_errors_exit_2_with_one_line_and_no_traceback(runs, key):
    r = runs[key]
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert_one_error_line(r.stderr)


@pytest.mark.slow
def test_error_messages_say_what_is_wrong(runs):
    assert "alexnet" in runs["unknown-id"].stderr  # the close match
    assert "3,abc,224" in runs["bad-input-text"].stderr
    assert "too small" in runs["impossible-input"].stderr
    assert "frobnicate" in runs["unknown-subcommand"].stderr
    assert "id" in runs["missing-argument"].stderr


# ---------------------------------------------------------------------------------------------------------------
# In-process: cli.main
# ---------------------------------------------------------------------------------------------------------------
def test_summary_json(capsys):
    code, out, err = run_main(capsys, "summary", "alexnet", "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert set(d) == {"model", "input", "output", "total_params", "total_macs", "receptive_field", "layers"}
    assert d["model"] == "alexnet"
    assert d["input"] == [1, 3, 224, 224]
    assert d["output"] == [1, 1000]
    assert d["total_params"] == 62_378_344
    assert d["total_macs"] == 1_135_915_368
    assert set(d["receptive_field"]) == {"size", "stride", "padding"}
    for layer in d["layers"]:
        assert set(layer) == {"name", "type", "depth", "output_shape", "params", "macs", "rf", "stride", "label"}
    convs = [layer for layer in d["layers"] if layer["type"] == "Conv2d"]
    assert convs[0]["output_shape"] == [1, 96, 55, 55]
    assert [c["output_shape"][1] for c in convs] == [96, 256, 384, 384, 256]
    assert sum(layer["params"] for layer in d["layers"]) == d["total_params"]
    assert sum(layer["macs"] for layer in d["layers"]) == d["total_macs"]
    assert d["layers"][0]["depth"] == 0


def test_summary_human(capsys):
    code, out, err = run_main(capsys, "summary", "alexnet")
    assert (code, err) == (0, "")
    assert "62,378,344" in out
    assert "62.4 M" in out
    assert "1,135,915,368" in out
    assert "⌊(55 + 2·0 − 3)/2⌋ + 1 = 27" in out
    assert "{" not in out  # not JSON


def test_lenet_at_32_is_an_error(capsys):
    # The d2l LeNet pads conv1, so 32×32 gives 16·6·6 = 576 features where its first Linear expects 400.
    code, out, err = run_main(capsys, "summary", "lenet", "--input", "1,32,32")
    assert (code, out) == (2, "")
    assert_one_error_line(err)
    assert "expects 400 input features, got 576" in err


def test_main_summary_json_is_to_dict(capsys):
    code, out, err = run_main(capsys, "summary", "lenet", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == explorer.analyze("lenet").to_dict()


def test_main_summary_with_input(capsys):
    # 227: ⌊(227 + 4 − 11)/4⌋ + 1 = 56 → pool 27: the rest as at 224.
    code, out, err = run_main(capsys, "summary", "alexnet", "--input", "3,227,227", "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert d["input"] == [1, 3, 227, 227]
    assert d["output"] == [1, 1000]
    assert d["layers"][1]["output_shape"] == [1, 96, 56, 56]
    assert d["total_params"] == 62_378_344


def test_main_list_human(capsys):
    code, out, err = run_main(capsys, "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["id", "family"]
    assert len(lines) == 1 + len(explorer.list_models())
    alexnet = next(line for line in lines if line.startswith("alexnet "))
    assert "62,378,344" in alexnet and "3,224,224" in alexnet


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "alexnt"],
        ["summary", "alexnet", "--input", "3,16,16"],
        ["summary", "alexnet", "--input", "1,224,224"],
        ["summary", "alexnet", "--input", "3,224"],
        ["summary", "alexnet", "--input", "0,224,224"],
        ["summary", "alexnet", "--input", "3,22.5,224"],
        ["summary", "alexnet", "--input", "3,99999,224"],
        ["summary", "alexnet", "--bogus"],
        ["list", "extra"],
        [],
    ],
)
def test_main_errors(capsys, argv):
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err)


def test_main_wrong_channels_names_the_first_conv(capsys):
    code, _, err = run_main(capsys, "summary", "alexnet-tv", "--input", "1,224,224")
    assert code == 2
    assert "features.0" in err and "expects 3 input channels, got 1" in err


def test_main_empty_input_is_an_error(capsys):
    code, _, err = run_main(capsys, "summary", "alexnet", "--input", "")
    assert code == 2 and err.startswith("error: ")
