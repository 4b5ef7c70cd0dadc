"""``python -m explorer weights list|fetch|add``: JSON is exactly :func:`explorer.runtime.hub.listing`'s entries;
every failure (unknown id, an id without a checkpoint, no connection, a wrong or damaged file) is exit status 2 and
one ``error:`` line, with the cache unchanged. Downloads go to a loopback server only."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys

import pytest

from explorer.runtime import hub
from tests.cli.conftest import REPO, assert_one_error_line, run_main
from tests.runtime import test_hub as hub_tests
from tests.runtime.test_hub import TV_FILES, cache_state, closed_port, lenet_bytes, register

# The runtime tests' loopback HTTP server; the empty torch.hub cache is tests/conftest.py's hub_cache.
server = hub_tests.server


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_env(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m explorer ARGV`` as a real process with extra environment variables."""
    return subprocess.run([sys.executable, "-m", "explorer", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


# ---------------------------------------------------------------------------------------------------------------
# list
# ---------------------------------------------------------------------------------------------------------------
def test_list_json_is_the_listing(capsys, hub_cache):
    code, out, err = run_main(capsys, "weights", "list", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert rows == hub.listing()
    assert [r["id"] for r in rows] == list(TV_FILES)
    assert all(set(r) == {"id", "file", "url", "sha256", "present"} and r["present"] is False for r in rows)


def test_list_text_is_a_table(capsys, hub_cache):
    code, out, _ = run_main(capsys, "weights", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 1 + len(TV_FILES) + 1
    assert lines[0].split() == ["id", "present", "file", "sha256"]
    assert lines[7].split() == ["resnet18-tv", "no", "resnet18-f37072fd.pth", "f37072fd"]
    assert lines[-1] == f"cache: {hub_cache}; fetched from https://download.pytorch.org/models/"


# ---------------------------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------------------------
def test_fetch_json_prints_the_listing_entry(capsys, hub_cache, server, monkeypatch):
    data = os.urandom(5000)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    code, out, err = run_main(capsys, "weights", "fetch", "lenet", "--json")
    assert (code, err) == (0, "")  # no progress bar when stderr is not a terminal
    assert json.loads(out) == {"id": "lenet", "file": name, "url": f"{server.base}/models/{name}",
                               "sha256": hashlib.sha256(data).hexdigest(), "present": True}
    assert (hub_cache / name).read_bytes() == data


def test_fetch_draws_a_progress_bar_on_a_terminal(capsys, hub_cache, server, monkeypatch):
    data = os.urandom(2 * hub.CHUNK_BYTES)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = run_main(capsys, "weights", "fetch", "lenet")
    assert code == 0
    assert out == f"lenet: {hub_cache / name} (2,097,152 bytes, SHA-256 {hashlib.sha256(data).hexdigest()})\n"
    drawn = terminal.getvalue()
    assert drawn.startswith("\rlenet [") and drawn.endswith("\n") and drawn.count("\n") == 1
    frames = drawn.strip("\n").split("\r")[1:]
    assert frames[0] == "lenet [" + "." * 30 + "] 0.0 / 2.1 MB   0%"
    assert frames[-1] == "lenet [" + "#" * 30 + "] 2.1 / 2.1 MB 100%"


def test_fetch_refused_connection_is_one_error_line(capsys, hub_cache, monkeypatch):
    port = closed_port()
    name = register(monkeypatch, b"x", f"http://127.0.0.1:{port}")
    code, out, err = run_main(capsys, "weights", "fetch", "lenet")
    assert (code, out) == (2, "")
    assert assert_one_error_line(err) == (f"error: cannot fetch lenet's weights from http://127.0.0.1:{port}/models/"
                                          f"{name}: the connection to 127.0.0.1:{port} was refused")
    assert cache_state(hub_cache) == {}


def test_fetch_hash_mismatch_leaves_the_cache_empty(capsys, hub_cache, server, monkeypatch):
    name = register(monkeypatch, b"the official bytes", server.base)
    server.files[f"/models/{name}"] = b"other bytes"
    code, _, err = run_main(capsys, "weights", "fetch", "lenet", "--json")
    wrong = hashlib.sha256(b"other bytes").hexdigest()[:8]
    assert code == 2
    assert assert_one_error_line(err).endswith(f"'s SHA-256 starts with {wrong}, the official file name says "
                                               f"{name[6:14]}")
    assert cache_state(hub_cache) == {}


@pytest.mark.parametrize("argv, message", [
    (("weights", "fetch", "lenet5"), "error: unknown model id 'lenet5'; did you mean lenet"),
    (("weights", "fetch", "lenet"), "error: lenet has no published ImageNet checkpoint; the ids that do are "
                                    "alexnet-tv, vgg11, vgg13, vgg16, vgg19, googlenet-tv, resnet18-tv, resnet34-tv, "
                                    "resnet50-tv"),
    (("weights", "add", "resnet18", "x.pth"), "error: resnet18 has no published ImageNet checkpoint"),
    (("weights",), "error: the following arguments are required: weights_command"),
    (("weights", "fetch"), "error: the following arguments are required: id"),
    (("weights", "add", "resnet18-tv"), "error: the following arguments are required: file"),
    (("weights", "delete", "resnet18-tv"), "error: argument weights_command: invalid choice: 'delete'"),
])
def test_bad_arguments(capsys, hub_cache, argv, message):
    code, out, err = run_main(capsys, *argv)
    assert (code, out) == (2, "")
    assert assert_one_error_line(err).startswith(message)


@pytest.mark.slow
def test_process_offline_fetch(hub_cache, tmp_path):
    port = closed_port()
    result = run_env("weights", "fetch", "resnet18-tv", "--json",
                     env={"TORCH_HOME": str(tmp_path / "torch"), hub.MIRROR_ENV: f"http://127.0.0.1:{port}"})
    assert (result.returncode, result.stdout) == (2, "")
    assert assert_one_error_line(result.stderr) == (
        f"error: cannot fetch resnet18-tv's weights from http://127.0.0.1:{port}/resnet18-f37072fd.pth: "
        f"the connection to 127.0.0.1:{port} was refused")
    assert cache_state(hub_cache) == {}


# ---------------------------------------------------------------------------------------------------------------
# add
# ---------------------------------------------------------------------------------------------------------------
def test_add_a_good_file(capsys, hub_cache, tmp_path, monkeypatch):
    data = lenet_bytes()
    name = register(monkeypatch, data, "http://127.0.0.1:9")
    source = tmp_path / name
    source.write_bytes(data)
    code, out, err = run_main(capsys, "weights", "add", "lenet", str(source), "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"id": "lenet", "file": name, "url": f"http://127.0.0.1:9/models/{name}",
                               "sha256": hashlib.sha256(data).hexdigest(), "present": True}
    assert (hub_cache / name).read_bytes() == data


def test_add_wrong_and_damaged_files(capsys, hub_cache, tmp_path, monkeypatch):
    name = register(monkeypatch, lenet_bytes(0), "http://127.0.0.1:9")
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(lenet_bytes(1))
    code, out, err = run_main(capsys, "weights", "add", "lenet", str(wrong))
    assert (code, out) == (2, "")
    assert assert_one_error_line(err).endswith(f"the official file name says {name[6:14]}")
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(b"\x80\x02 truncated pickle")
    register(monkeypatch, damaged.read_bytes(), "http://127.0.0.1:9")
    code, out, err = run_main(capsys, "weights", "add", "lenet", str(damaged))
    assert (code, out) == (2, "")
    assert assert_one_error_line(err).startswith(f"error: {damaged} is not a usable lenet checkpoint (")
    code, _, err = run_main(capsys, "weights", "add", "lenet", str(tmp_path / "missing.pth"))
    assert code == 2
    assert assert_one_error_line(err) == f"error: cannot read {tmp_path / 'missing.pth'}: No such file or directory"
    assert cache_state(hub_cache) == {}


@pytest.mark.slow
def test_process_add_a_file_that_is_not_a_checkpoint(hub_cache, tmp_path):
    bogus = tmp_path / "resnet18-f37072fd.pth"
    bogus.write_bytes(b"<html>404 Not Found</html>\n")
    result = run_env("weights", "add", "resnet18-tv", str(bogus), env={"TORCH_HOME": str(tmp_path / "torch")})
    digest = hashlib.sha256(bogus.read_bytes()).hexdigest()
    assert (result.returncode, result.stdout) == (2, "")
    assert assert_one_error_line(result.stderr) == (
        f"error: {bogus}'s SHA-256 starts with {digest[:8]}, the official file name says f37072fd")
    assert cache_state(hub_cache) == {}
