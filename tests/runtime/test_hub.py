"""Checkpoints in torch.hub's cache: listing, fetching (against a loopback HTTP server, never the internet), adding a
file fetched elsewhere. The cache is an empty folder under tmp_path; ``lenet`` stands in as a model with a
published checkpoint (its file name carries the real SHA-256 prefix of the file the test serves)."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from explorer import build
from explorer.runtime import hub, imagenet
from tests.conftest import published_at

TV_FILES = {
    "alexnet-tv": "alexnet-owt-7be5be79.pth", "vgg11": "vgg11-8a719046.pth", "vgg13": "vgg13-19584684.pth",
    "vgg16": "vgg16-397923af.pth", "vgg19": "vgg19-dcbb9e9d.pth", "googlenet-tv": "googlenet-1378be20.pth",
    "resnet18-tv": "resnet18-f37072fd.pth", "resnet34-tv": "resnet34-b627a593.pth",
    "resnet50-tv": "resnet50-0676ba61.pth",
}


# ---------------------------------------------------------------------------------------------------------------
# A loopback HTTP server, a test registry entry, an empty cache
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Served:
    """What the loopback server answers per path, and the requests it saw (method, path)."""

    files: dict[str, bytes] = field(default_factory=dict)
    no_length: set[str] = field(default_factory=set)  # sent without Content-Length (ends when the connection closes)
    cut: dict[str, int] = field(default_factory=dict)  # path → bytes sent before the connection is dropped
    stall: dict[str, int] = field(default_factory=dict)  # path → bytes sent before the server goes silent
    requests: list[tuple[str, str]] = field(default_factory=list)
    base: str = ""
    release: threading.Event = field(default_factory=threading.Event)


def _handler(served: Served):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args) -> None:
            pass

        def _answer(self, body: bool) -> None:
            served.requests.append((self.command, self.path))
            data = served.files.get(self.path)
            if data is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if self.path not in served.no_length:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not body:
                return
            if self.path in served.stall:
                self.wfile.write(data[:served.stall[self.path]])
                self.wfile.flush()
                served.release.wait(10)
                return
            self.wfile.write(data[:served.cut.get(self.path, len(data))])

        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            self._answer(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(body=False)

    return Handler


@pytest.fixture
def server() -> Iterator[Served]:
    served = Served()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    httpd.daemon_threads = True
    served.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    served.release.set()
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lenet_bytes(seed: int = 0) -> bytes:
    """A real lenet state_dict (random values), serialized as torch.save writes it."""
    generator = torch.Generator().manual_seed(seed)
    state = {k: torch.randn(v.shape, generator=generator) for k, v in build("lenet").state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def register(monkeypatch, data: bytes, url_base: str, model_id: str = "lenet") -> str:
    """Give ``model_id`` a checkpoint entry whose file name carries the SHA-256 prefix of ``data``; its name."""
    name = f"{model_id}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    monkeypatch.setitem(imagenet.CHECKPOINTS, model_id, published_at(model_id, f"{url_base}/models/{name}"))
    return name


def cache_state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


# ---------------------------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------------------------
def test_listing_of_an_empty_cache(hub_cache):
    rows = hub.listing()
    assert [r["id"] for r in rows] == list(TV_FILES)
    for row in rows:
        assert set(row) == {"id", "file", "url", "sha256", "present"}
        assert row["file"] == TV_FILES[row["id"]]
        assert row["url"] == "https://download.pytorch.org/models/" + row["file"]
        assert row["sha256"] == row["file"].rsplit("-", 1)[1].removesuffix(".pth")
        assert row["present"] is False
    assert not hub_cache.exists()


def test_present_flips_after_fetch_and_the_full_hash_is_listed(hub_cache, server, monkeypatch):
    data = os.urandom(3000)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    (before,) = [r for r in hub.listing() if r["id"] == "lenet"]
    assert before == {"id": "lenet", "file": name, "url": f"{server.base}/models/{name}",
                      "sha256": name[6:14], "present": False}
    path = hub.fetch("lenet")
    assert path == hub_cache / name and path.read_bytes() == data
    (after,) = [r for r in hub.listing() if r["id"] == "lenet"]
    assert after == {**before, "sha256": hashlib.sha256(data).hexdigest(), "present": True}
    assert hub.entry("lenet") == after


def test_the_full_hash_is_remembered_until_the_file_changes(hub_cache, monkeypatch):
    data = os.urandom(1000)
    name = register(monkeypatch, data, "http://127.0.0.1:9")
    hub_cache.mkdir(parents=True)
    (hub_cache / name).write_bytes(data)
    assert hub.entry("lenet")["sha256"] == hashlib.sha256(data).hexdigest()
    hashed = []
    monkeypatch.setattr(hub, "sha256_of", lambda path: hashed.append(path) or "0" * 64)
    monkeypatch.setattr(hub, "_known_hashes", {})  # a new process: only the file beside the checkpoints is left
    assert hub.entry("lenet")["sha256"] == hashlib.sha256(data).hexdigest()
    assert hashed == []
    (hub_cache / name).write_bytes(data + b"x")  # another size: hashed again
    assert hub.entry("lenet")["sha256"] == "0" * 64
    assert hashed == [hub_cache / name]


# ---------------------------------------------------------------------------------------------------------------
# Fetching
# ---------------------------------------------------------------------------------------------------------------
def test_fetch_reports_progress_per_chunk(hub_cache, server, monkeypatch):
    data = os.urandom(2 * hub.CHUNK_BYTES + 12345)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    calls = []
    path = hub.fetch("lenet", progress=lambda done, total: calls.append((done, total)))
    total = len(data)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    steps = [b - a for a, b in zip(done, done[1:])]
    assert len(calls) in (3, 4)  # before the first byte, then once per CHUNK_BYTES received, and at the end
    assert all(step >= hub.CHUNK_BYTES for step in steps[:-1]) and steps[-1] > 0
    assert path.read_bytes() == data
    assert server.requests == [("GET", f"/models/{name}")]
    assert sorted(p.name for p in hub_cache.iterdir()) == sorted([name, hub.HASH_CACHE_NAME])


def test_fetch_without_content_length_reports_no_total(hub_cache, server, monkeypatch):
    data = os.urandom(1500)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    server.no_length.add(f"/models/{name}")
    calls = []
    hub.fetch("lenet", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, None) and calls[-1] == (1500, None)
    assert (hub_cache / name).read_bytes() == data


def test_a_cached_file_with_the_right_hash_is_not_downloaded_again(hub_cache, server, monkeypatch):
    data = os.urandom(800)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    hub.fetch("lenet")
    assert hub.fetch("lenet") == hub_cache / name
    assert len(server.requests) == 1


def test_hash_mismatch_leaves_nothing_in_the_cache(hub_cache, server, monkeypatch):
    data = os.urandom(5000)
    name = register(monkeypatch, data, server.base)
    wrong = os.urandom(5000)
    server.files[f"/models/{name}"] = wrong
    url = f"{server.base}/models/{name}"
    with pytest.raises(hub.FetchError) as info:
        hub.fetch("lenet")
    assert str(info.value) == (f"the file downloaded from {url}'s SHA-256 starts with "
                               f"{hashlib.sha256(wrong).hexdigest()[:8]}, the official file name says {name[6:14]}")
    assert cache_state(hub_cache) == {}
    assert hub.entry("lenet")["present"] is False


def test_http_error(hub_cache, server, monkeypatch):
    name = register(monkeypatch, b"anything", server.base)
    with pytest.raises(hub.FetchError) as info:
        hub.fetch("lenet")
    assert str(info.value) == (f"cannot fetch lenet's weights from {server.base}/models/{name}: "
                               "the server answered HTTP 404 Not Found")
    assert cache_state(hub_cache) == {}


def test_a_download_cut_short_leaves_nothing(hub_cache, server, monkeypatch):
    data = os.urandom(4000)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    server.cut[f"/models/{name}"] = 1000
    with pytest.raises(hub.FetchError, match=r"(ended after 1,000 of 4,000 bytes|broke off)"):
        hub.fetch("lenet")
    assert cache_state(hub_cache) == {}


def test_connection_refused(hub_cache, monkeypatch):
    port = closed_port()
    name = register(monkeypatch, b"x", f"http://127.0.0.1:{port}")
    with pytest.raises(hub.FetchError) as info:
        hub.fetch("lenet")
    assert str(info.value) == (f"cannot fetch lenet's weights from http://127.0.0.1:{port}/models/{name}: "
                               f"the connection to 127.0.0.1:{port} was refused")
    assert cache_state(hub_cache) == {}


def test_a_server_that_accepts_but_never_answers_times_out(hub_cache, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel completes the handshake; nobody ever reads the request
    port = listener.getsockname()[1]
    register(monkeypatch, b"x", f"http://127.0.0.1:{port}")
    try:
        start = time.monotonic()
        with pytest.raises(hub.FetchError, match=rf"no answer from 127\.0\.0\.1:{port} within 0\.5 s \(timed out\)$"):
            hub.fetch("lenet", timeout=0.5)
        assert time.monotonic() - start < 2.0
    finally:
        listener.close()
    assert cache_state(hub_cache) == {}


def test_a_server_that_stops_sending_times_out_and_leaves_nothing(hub_cache, server, monkeypatch):
    data = os.urandom(100_000)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data
    server.stall[f"/models/{name}"] = 10_000
    start = time.monotonic()
    with pytest.raises(hub.FetchError, match=r"within 0\.5 s \(timed out\) after 10,000 bytes$"):
        hub.fetch("lenet", timeout=0.5)
    assert time.monotonic() - start < 3.0
    assert cache_state(hub_cache) == {}


def test_dns_failure(hub_cache, monkeypatch):
    register(monkeypatch, b"x", "http://weights.example")

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(hub.FetchError, match=r": cannot resolve weights\.example \(no network, or a DNS failure\)$"):
        hub.fetch("lenet")


def test_ctrl_c_during_the_download_leaves_nothing(hub_cache, server, monkeypatch):
    data = os.urandom(3 * hub.CHUNK_BYTES)
    name = register(monkeypatch, data, server.base)
    server.files[f"/models/{name}"] = data

    def interrupt(done, total):
        if done >= hub.CHUNK_BYTES:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hub.fetch("lenet", progress=interrupt)
    assert cache_state(hub_cache) == {}


def test_the_mirror_variable_is_honoured(hub_cache, server, monkeypatch):
    data = os.urandom(2000)
    name = register(monkeypatch, data, f"http://127.0.0.1:{closed_port()}")  # the official URL is unreachable
    server.files[f"/mirror/{name}"] = data
    monkeypatch.setenv(hub.MIRROR_ENV, f"{server.base}/mirror/")
    assert hub.source_url("lenet") == f"{server.base}/mirror/{name}"
    assert hub.entry("lenet")["url"] == f"{server.base}/mirror/{name}"
    assert hub.entry("resnet18-tv")["url"] == f"{server.base}/mirror/resnet18-f37072fd.pth"
    assert hub.remote_size("lenet") == 2000
    assert hub.fetch("lenet").read_bytes() == data
    assert server.requests == [("HEAD", f"/mirror/{name}"), ("GET", f"/mirror/{name}")]


def test_a_mirror_that_is_not_a_url_is_refused(hub_cache, monkeypatch):
    monkeypatch.setenv(hub.MIRROR_ENV, "/srv/weights")
    with pytest.raises(hub.FetchError) as info:
        hub.fetch("resnet18-tv")
    assert str(info.value) == "EXPLORER_WEIGHTS_MIRROR must be an http://, https:// or file:// URL, not '/srv/weights'"


def test_remote_size(hub_cache, server, monkeypatch):
    data = os.urandom(4321)
    name = register(monkeypatch, data, server.base)
    assert hub.remote_size("lenet") is None  # 404
    server.files[f"/models/{name}"] = data
    assert hub.remote_size("lenet") == 4321
    server.no_length.add(f"/models/{name}")
    assert hub.remote_size("lenet") is None
    register(monkeypatch, data, f"http://127.0.0.1:{closed_port()}")
    assert hub.remote_size("lenet") is None
    assert [method for method, _ in server.requests] == ["HEAD", "HEAD", "HEAD"]


@pytest.mark.parametrize("model_id, kind, message", [
    ("resnet18", hub.FetchError, "resnet18 has no published ImageNet checkpoint; the ids that do are alexnet-tv, "
                                 "vgg11, vgg13, vgg16, vgg19, googlenet-tv, resnet18-tv, resnet34-tv, resnet50-tv"),
    ("resnet18-tvv", KeyError, "unknown model id 'resnet18-tvv'; did you mean resnet18-tv"),  # the registry's
])
def test_ids_without_a_checkpoint(hub_cache, model_id, kind, message):
    for call in (hub.fetch, hub.remote_size, hub.entry, lambda m: hub.add(m, __file__)):
        with pytest.raises(kind) as info:
            call(model_id)
        assert str(info.value).strip("'\"").startswith(message)


# ---------------------------------------------------------------------------------------------------------------
# Adding a file fetched elsewhere
# ---------------------------------------------------------------------------------------------------------------
def test_add_a_good_file(hub_cache, tmp_path, monkeypatch):
    data = lenet_bytes()
    name = register(monkeypatch, data, "http://127.0.0.1:9")
    source = tmp_path / "downloads" / name
    source.parent.mkdir()
    source.write_bytes(data)
    assert hub.add("lenet", source) == hub_cache / name
    assert (hub_cache / name).read_bytes() == data and source.read_bytes() == data
    assert hub.entry("lenet")["present"] is True
    assert hub.entry("lenet")["sha256"] == hashlib.sha256(data).hexdigest()
    loaded = imagenet.build_pretrained("lenet").state_dict()  # the hub_cache now serves the model
    expected = torch.load(source, weights_only=True)
    assert loaded.keys() == expected.keys()
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)


def test_add_a_file_with_the_wrong_hash_changes_nothing(hub_cache, tmp_path, monkeypatch):
    good = lenet_bytes(0)
    name = register(monkeypatch, good, "http://127.0.0.1:9")
    hub_cache.mkdir(parents=True)
    (hub_cache / name).write_bytes(b"the file already there")
    before = cache_state(hub_cache)
    other = tmp_path / "other.pth"
    other.write_bytes(lenet_bytes(1))
    with pytest.raises(hub.FetchError) as info:
        hub.add("lenet", other)
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    assert str(info.value) == f"{other}'s SHA-256 starts with {digest[:8]}, the official file name says {name[6:14]}"
    assert cache_state(hub_cache) == before


@pytest.mark.parametrize("content, reason", [
    (b"PK\x03\x04 not a checkpoint at all", "(?i)zip|archive|central directory"),
    (b"", "(?i)ran out of input|eof|empty"),
])
def test_add_a_damaged_file_changes_nothing(hub_cache, tmp_path, monkeypatch, content, reason):
    register(monkeypatch, content, "http://127.0.0.1:9")  # the hash is right: the content is what is wrong
    source = tmp_path / "damaged.pth"
    source.write_bytes(content)
    with pytest.raises(hub.FetchError, match=rf"^{source} is not a usable lenet checkpoint \(") as info:
        hub.add("lenet", source)
    assert re.search(reason, str(info.value))
    assert cache_state(hub_cache) == {}


def test_add_a_checkpoint_of_another_model_changes_nothing(hub_cache, tmp_path, monkeypatch):
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(3, 3)}, buffer)
    data = buffer.getvalue()
    register(monkeypatch, data, "http://127.0.0.1:9")
    source = tmp_path / "other-model.pth"
    source.write_bytes(data)
    with pytest.raises(hub.FetchError, match=r"is not a usable lenet checkpoint \(its tensors do not fit the model"):
        hub.add("lenet", source)
    assert cache_state(hub_cache) == {}


def test_add_refuses_pickled_code(hub_cache, tmp_path, monkeypatch):
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(1), "hook": print}, buffer)
    data = buffer.getvalue()
    register(monkeypatch, data, "http://127.0.0.1:9")
    source = tmp_path / "pickled.pth"
    source.write_bytes(data)
    with pytest.raises(hub.FetchError, match=r"is not a usable lenet checkpoint"):
        hub.add("lenet", source)
    assert cache_state(hub_cache) == {}


def test_add_refuses_what_is_not_a_regular_file(hub_cache, tmp_path):
    fifo = tmp_path / "pipe.pth"
    os.mkfifo(fifo)
    cases = {
        tmp_path: f"{tmp_path} is a directory, not a checkpoint file",
        fifo: f"{fifo} is not a regular file (a pipe or a device?), so it cannot be a checkpoint",
        tmp_path / "missing.pth": f"cannot read {tmp_path / 'missing.pth'}: No such file or directory",
    }
    for path, message in cases.items():
        with pytest.raises(hub.FetchError) as info:
            hub.add("resnet18-tv", path)
        assert str(info.value) == message
    assert cache_state(hub_cache) == {}
