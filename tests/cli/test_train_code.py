"""``train --code FILE``: a playground network trained in a limited child process and recorded as any run (the same
JSON as ``train ID --json``, ``runs show --json`` with its ``code``); the refusals before training (not 10 outputs,
the wrong channels, too much memory); a stored run whose code no longer parses says so (show, resume, classify)."""

from __future__ import annotations

import hashlib
import json
import re
import time

import numpy as np
import pytest

from explorer.analysis import analyze
from explorer.playground import parse_network
from explorer.runtime import coderun, inference_runs, jobs, runner, runs
from explorer.runtime.train import Checkpoint, Epoch, Recipe
from tests.cli.conftest import assert_one_error_line, run_main

TINY = """\
# input: 1,28,28
net = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.AvgPool2d(4), nn.Flatten(),
                    nn.Linear(4 * 7 * 7, 10))
"""
LINEAR = "net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))\n"


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    monkeypatch.delenv(coderun.MEMORY_SETTING, raising=False)
    return home


def _code_file(tmp_path, code: str):
    path = tmp_path / "net.py"
    path.write_text(code, encoding="utf-8")
    return str(path)


def test_memory_need_is_the_weights_their_gradients_and_every_output_twice_per_image():
    summary = analyze(parse_network(LINEAR), (1, 28, 28))
    # weights 7,850 floats (+ as many gradients); per image the input 784, Flatten's 784 and Linear's 10 floats, the
    # outputs kept for backward with their gradients: 2·31,400 + 256·4·(784 + 2·(784 + 10)) = 2,491,728 bytes
    assert coderun.memory_need(summary, 256) == 2_491_728
    assert coderun.memory_need(summary, 256, momentum=0.9) == 2_491_728 + 31_400
    assert [coderun.size_text(n) for n in (2_491_728, 2**30, int(3.24 * 2**30))] == ["2 MB", "1 GB", "3.2 GB"]


def test_the_memory_setting_is_megabytes_and_a_bad_one_is_one_sentence():
    assert coderun.memory_limit({}) == 1024 * 2**20
    assert coderun.memory_limit({coderun.MEMORY_SETTING: "512"}) == 512 * 2**20
    with pytest.raises(ValueError, match=r"^the setting EXPLORER_MAX_CODE_MEMORY_MB must be a positive number of "
                                         r"megabytes, not '-1'$"):
        coderun.memory_limit({coderun.MEMORY_SETTING: "-1"})


def test_a_message_from_the_training_process_formats_plain_fields_only():
    plain = runner.plain_message("the training process exited with status {code:,}", {"code": 1234})
    assert str(plain) == "the training process exited with status 1,234"
    for template in ("{v.__class__}", "{v[0]}", "{v!r}", "{other}"):  # a field that reads attributes, items …
        assert str(runner.plain_message(template, {"v": "x"})) == template  # … is shown as the words it is


def test_the_model_id_is_code_and_8_hex_digits_of_the_codes_sha256():
    assert coderun.code_id(TINY) == "code:" + hashlib.sha256(TINY.encode()).hexdigest()[:8]
    assert re.fullmatch(r"code:[0-9a-f]{8}", coderun.code_id(TINY))


@pytest.mark.parametrize("code, args, words", [
    ("net = nn.Sequential(nn.Flatten(), nn.Linear(784, 5))\n", [],
     "the network gives 5 values per image, not the 10 class scores Fashion-MNIST needs: end it with a layer of 10 "
     "outputs, such as nn.Linear(…, 10)"),
    ("net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))\n", ["--input", "3,32,32"],
     "the network takes 3-channel images, but Fashion-MNIST's have 1 channel: make its first layer take 1 channel "
     "and set the input to 1,32,32"),
    ("# input: 1,224,224\nnet = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),"
     " nn.Flatten(), nn.Linear(64, 10))\n", [],
     "this network needs 12.3 GB for batch 256; the limit is 1 GB: choose a smaller batch size or a smaller network"),
    ("net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))\n", [],
     "line 1: Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)) expects 3 input channels, gets 1"),
    (LINEAR, ["--input", "1,28,32"], "the input 28×32 is not square"),
    (LINEAR, ["--lr", "0"], "the learning rate must be a positive number, not 0.0"),
])
def test_a_network_that_cannot_train_is_refused_before_training(capsys, tmp_path, code, args, words):
    status, out, err = run_main(capsys, "train", "--code", _code_file(tmp_path, code), *args)
    assert status == 2 and out == ""
    assert words in assert_one_error_line(err)
    assert runs.Store().list() == []  # nothing recorded, nothing trained


def test_the_memory_limit_is_a_setting(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(coderun.MEMORY_SETTING, "1")
    status, _, err = run_main(capsys, "train", "--code", _code_file(tmp_path, LINEAR))
    assert status == 2
    assert assert_one_error_line(err) == ("error: this network needs 2 MB for batch 256; the limit is 1 MB: choose a "
                                          "smaller batch size or a smaller network")


@pytest.mark.slow  # a real (tiny) training run, in its own process
@pytest.mark.usefixtures("fashion_mnist")
def test_train_code_records_a_run_with_its_code(capsys, tmp_path):
    status, out, err = run_main(capsys, "train", "--code", _code_file(tmp_path, TINY), "--epochs", "1",
                                "--limit", "256", "--device", "cpu", "--json")
    assert status == 0, err
    result = json.loads(out)
    assert set(result) == {"model", "test_accuracy", "correct", "recipe", "run", "world_size"}
    assert result["model"] == coderun.code_id(TINY) and result["world_size"] == 1
    assert [set(h) for h in result["recipe"]["history"]] == [
        {"epoch", "loss", "train_acc", "test_acc", "samples_per_s", "seconds"}]
    assert result["recipe"]["lr"] == 0.9 and result["recipe"]["batch_size"] == 256  # the lenet preset's recipe
    assert result["recipe"]["input"] == [1, 28, 28] and result["recipe"]["train_images"] == 256
    assert result["correct"] == round(result["test_accuracy"] * 10_000)
    assert "epoch 1/1" in err

    status, out, _ = run_main(capsys, "runs", "show", result["run"], "--json")
    shown = json.loads(out)
    assert shown["code"] == TINY and shown["status"] == "done"
    assert {k: shown[k] for k in result} == result

    # its weights classify a Fashion-MNIST image, in a process of its own
    prediction = inference_runs.classify_run(result["run"], np.zeros((28, 28), np.uint8))
    assert len(prediction.top) == 5 and abs(sum(p for _, p in prediction.top) - 1) < 0.5
    assert tuple(prediction.input.shape) == (1, 28, 28)
    assert prediction.load_ms > prediction.forward_ms > 0  # the child's start, then one forward pass


@pytest.mark.slow  # a child process that starts, then runs out of its address space
@pytest.mark.usefixtures("fashion_mnist")
def test_a_forward_that_outgrows_its_memory_ends_in_one_sentence(capsys, tmp_path):
    code = """\
class Big(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        kept = [F.interpolate(x, scale_factor=16) for i in range(12)]  # 12 × 205 MB the layers do not show
        return self.fc(torch.flatten(x, 1))

net = Big()
"""
    status, out, err = run_main(capsys, "train", "--code", _code_file(tmp_path, code), "--epochs", "1",
                                "--limit", "256", "--device", "cpu")
    assert status == 2 and out == ""
    [run] = [r["run"] for r in runs.Store().list()]
    assert err.splitlines()[-1] == (
        "error: the network ran out of the 1 GB it was given: its forward makes tensors the memory check does not "
        "see (a function's output is not a layer's); make them smaller or choose a smaller batch size; run " + run)
    assert runs.Store().get(run)["status"] == "failed"


@pytest.mark.slow  # two runs of a child process
@pytest.mark.usefixtures("fashion_mnist")
def test_a_stopped_run_of_a_playground_network_resumes_from_its_last_epoch(capsys):
    manager = jobs.JobManager()
    # 32 steps an epoch, a report point (where Stop is seen) every 6: epoch 2 is well under way when Stop comes
    job = manager.submit_code(TINY, Recipe(epochs=2, lr=0.9, resize=28), "cpu", 8192, memory=20 * 2**20)
    store = runs.Store()
    deadline = time.monotonic() + 180
    while not store.epochs(job.run) and time.monotonic() < deadline:
        time.sleep(0.01)
    manager.stop(job.run)  # its process stops at its next report point, keeping epoch 1
    assert manager.wait(job.run, timeout=180).status == "stopped"
    assert [e["epoch"] for e in store.epochs(job.run)] == [1]
    status, out, err = run_main(capsys, "runs", "resume", job.run, "--device", "cpu", "--json")
    assert status == 0, err
    resumed = json.loads(out)
    assert resumed["status"] == "done" and resumed["model"] == coderun.code_id(TINY)
    assert [h["epoch"] for h in resumed["recipe"]["history"]] == [1, 2]
    assert resumed["recipe"]["history"][0] == store.show(job.run)["recipe"]["history"][0]


def _stored_broken_run(status: str = "stopped") -> str:
    store = runs.Store()
    broken = "net = nn.Sequential(\n    nn.Flatten(),\n"  # code this playground does not take
    run = store.create(coderun.code_id(broken), Recipe(epochs=2, lr=0.9, resize=28), "cpu", code=broken)
    store.finish(run, status)
    return run


def test_a_stored_run_whose_code_no_longer_parses_says_so(capsys):
    run = _stored_broken_run()
    status, out, err = run_main(capsys, "runs", "resume", run)
    assert status == 2 and out == ""
    line = assert_one_error_line(err)
    assert line.startswith(f"error: run {run} was trained from code that this version of the playground no longer "
                           "takes (line ")
    assert line.endswith("): open it in the playground, fix it and train it as a new run")
    assert runs.Store().get(run)["status"] == "stopped"  # still resumable once its code is fixed elsewhere

    status, out, _ = run_main(capsys, "runs", "show", run)
    assert status == 0 and f"note: run {run} was trained from code that" in out and "  | net = nn.Sequential(" in out
    status, out, _ = run_main(capsys, "runs", "show", run, "--json")
    assert json.loads(out)["code"].startswith("net = nn.Sequential(")


@pytest.mark.slow  # a child process for the forward pass
def test_classifying_with_a_run_whose_code_no_longer_parses_says_so():
    run = _stored_broken_run()
    store = runs.Store()
    store.add_epoch(run, Epoch(1, 2.0, 0.3, 0.3, 100.0, 1.0), Checkpoint(1, {}, {}, {}, {}))  # an older version's
    with pytest.raises(coderun.CodeGone, match=f"^run {run} was trained from code that this version"):
        inference_runs.classify_run(run, np.zeros((28, 28), np.uint8))
