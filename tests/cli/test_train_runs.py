"""``train`` records its run; ``runs list`` / ``runs show`` / ``runs resume``; bad hyper-parameters; ``--nproc 2``
with DDP on the CPU (gloo): disjoint shards, identical ranks, the single-process weights."""

from __future__ import annotations

import json
import os
import re

import pytest
import torch
from safetensors.torch import load_file

from tests.cli.conftest import assert_one_error_line, run_main, run_process

pytestmark = pytest.mark.usefixtures("fashion_mnist")


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    """Never the user's ~/.cache: every test (and its child processes) gets its own store."""
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    return home


@pytest.mark.parametrize("args, words", [
    (["--epochs", "0"], "epochs"), (["--epochs", "-2"], "epochs"), (["--epochs", "100000"], "epochs"),
    (["--lr", "0"], "learning rate"), (["--lr", "-0.1"], "learning rate"), (["--lr", "nan"], "learning rate"),
    (["--batch-size", "0"], "batch size"), (["--resize", "96"], "cannot be trained on 96×96"),
    (["--limit", "0"], "--limit"), (["--nproc", "0"], "--nproc"),
    (["--nproc", "2", "--batch-size", "255"], "multiple of the 2 processes"),
])
def test_bad_hyper_parameters(capsys, args, words):
    code, out, err = run_main(capsys, "train", "lenet", *args)
    assert code == 2 and out == ""
    assert words in assert_one_error_line(err)


def test_nproc_under_an_outside_torchrun_is_an_error(capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    code, _, err = run_main(capsys, "train", "lenet", "--nproc", "2")
    assert code == 2 and "WORLD_SIZE" in assert_one_error_line(err)


def test_unknown_run(capsys):
    code, _, err = run_main(capsys, "runs", "show", "no-such-run")
    assert code == 2 and "unknown run" in assert_one_error_line(err)
    code, out, _ = run_main(capsys, "runs", "list", "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.slow  # a real (tiny) training run
def test_train_records_its_run_and_runs_show_returns_the_same_object(capsys):
    code, out, err = run_main(capsys, "train", "lenet", "--epochs", "2", "--limit", "512", "--device", "cpu",
                              "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"model", "test_accuracy", "correct", "recipe", "run", "world_size"}
    assert isinstance(result["run"], str) and result["world_size"] == 1
    assert result["test_accuracy"] == round(result["correct"] / 10_000, 4)
    history = result["recipe"]["history"]
    assert [h["epoch"] for h in history] == [1, 2] and all(h["samples_per_s"] > 0 for h in history)
    assert result["test_accuracy"] == history[-1]["test_acc"]

    code, out, _ = run_main(capsys, "runs", "list", "--json")
    [row] = json.loads(out)
    assert row["run"] == result["run"] and row["status"] == "done" and row["model"] == "lenet"
    assert row["test_accuracy"] == result["test_accuracy"] and row["world_size"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["started"])

    code, out, _ = run_main(capsys, "runs", "show", result["run"], "--json")
    assert json.loads(out) == {**result, "status": "done"}
    code, out, _ = run_main(capsys, "runs", "show", result["run"])
    assert code == 0 and "epoch 2: loss" in out
    assert out.splitlines()[-1] == f"test accuracy {result['test_accuracy']:.4f} (d2l's LeNet: 0.78–0.79)"
    code, _, err = run_main(capsys, "runs", "resume", result["run"])
    assert code == 2 and "only an interrupted or stopped run" in assert_one_error_line(err)


@pytest.mark.slow  # two torchrun processes and a single-process run
def test_nproc_2_gives_disjoint_shards_identical_ranks_and_the_single_process_weights(tmp_path):
    trace = tmp_path / "trace"
    proc = run_process("train", "lenet", "--nproc", "2", "--limit", "512", "--epochs", "1", "--device", "cpu",
                       "--trace", str(trace), "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # rank 0 alone prints
    assert result["world_size"] == 2 and result["recipe"]["train_images"] == 512
    shards = [json.loads((trace / f"rank{r}.json").read_text())["1"] for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 256
    assert not set(shards[0]) & set(shards[1]) and set(shards[0]) | set(shards[1]) == set(range(512))
    rank0, rank1 = (load_file(str(trace / f"rank{r}.safetensors")) for r in (0, 1))
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)

    single = tmp_path / "single.safetensors"  # the same global batch (256): the same samples per step
    proc1 = run_process("train", "lenet", "--limit", "512", "--epochs", "1", "--device", "cpu", "-o", str(single))
    assert proc1.returncode == 0, proc1.stderr
    one = load_file(str(single))
    assert max(float((rank0[k] - one[k]).abs().max()) for k in one) < 1e-5

    listed = json.loads(run_process("runs", "list", "--json").stdout)
    assert {(r["run"], r["world_size"], r["status"]) for r in listed} >= {(result["run"], 2, "done")}
    assert os.environ["EXPLORER_HOME"] in run_process("train", "lenet", "--epochs", "1", "--limit", "64").stderr


@pytest.mark.slow  # two tiny training runs in child processes
def test_train_waits_its_turn_behind_another_processs_run_unless_no_queue(tmp_path):
    import subprocess
    import sys
    import time

    from explorer.runtime import lease, runs
    from explorer.runtime.train import Recipe
    from tests.cli.conftest import REPO

    store = runs.Store()
    other = store.create("vgg-fmnist", Recipe())
    command = [sys.executable, "-m", "explorer", "train", "lenet", "--epochs", "1", "--limit", "64", "--device", "cpu",
               "--json"]
    with lease.turn(store, other):  # another process's run holds this machine
        waiting = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        at_once = subprocess.run([*command, "--no-queue"], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert at_once.returncode == 0, at_once.stderr
        assert "queued" not in at_once.stderr and json.loads(at_once.stdout)["recipe"]["train_images"] == 64
        deadline = time.monotonic() + 120
        while not store.line() and time.monotonic() < deadline:
            time.sleep(0.1)
        [queued] = store.line()
        assert store.position(queued) == 1 and store.get(queued)["status"] == "queued"
        time.sleep(1.0)
        assert waiting.poll() is None and store.epochs(queued) == []  # still waiting: nothing trained
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert f"queued, 1st in line — run {other} (vgg-fmnist) is training on this machine; waiting (--no-queue " \
           "starts at once)" in err.splitlines()
    result = json.loads(out)
    assert result["run"] == queued and store.get(queued)["status"] == "done"
    assert store.holder() is None and store.line() == []
