"""torchvision's ImageNet checkpoints in torch.hub's cache: list them, fetch them (with progress), add a file fetched
elsewhere.

Files go to ``<torch.hub.get_dir()>/checkpoints`` under their official names (``resnet18-f37072fd.pth``), where
torch.hub and torchvision look too. A download is written to a temporary file in that directory, its SHA-256 checked
against the prefix the official name carries, and only then renamed into place: an interrupted, failed or wrong
download leaves nothing behind. ``$EXPLORER_WEIGHTS_MIRROR`` (a base URL; the official file name is appended)
replaces ``https://download.pytorch.org/models/``. Only the standard library's urllib is used.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import os
import socket
import ssl
import stat
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..i18n import N_, Message, Quoted
from ..zoo.weights import CHECKPOINTS
from . import imagenet
from .weights import CHUNK_BYTES, FetchError, checkpoint, sha256_of

__all__ = ["MIRROR_ENV", "FetchError", "add", "fetch", "listing", "remote_size", "source_url"]

MIRROR_ENV = "EXPLORER_WEIGHTS_MIRROR"
# Remembered SHA-256 of the files in the cache, keyed by name, size and modification time (hashing VGG's 550 MB
# takes seconds): a JSON file beside the checkpoints, plus this process's copy of it.
HASH_CACHE_NAME = ".explorer-sha256.json"
_known_hashes: dict[str, dict] = {}
_hash_lock = threading.Lock()

Progress = Callable[[int, "int | None"], None]


# --- ids, names, URLs -----------------------------------------------------------------------------------------------
def source_url(model_id: str) -> str:
    """Where :func:`fetch` downloads ``model_id``'s checkpoint from: ``$EXPLORER_WEIGHTS_MIRROR`` + the official
    file name when that variable is set (http, https or file URL), else torchvision's official URL."""
    weights = checkpoint(model_id)
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if not mirror:
        return weights.url
    scheme = urllib.parse.urlsplit(mirror).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise FetchError(N_("{variable} must be an http://, https:// or file:// URL, not {mirror}"),
                         variable=MIRROR_ENV, mirror=repr(mirror))
    return mirror.rstrip("/") + "/" + urllib.parse.quote(weights.file)


# --- hashes ---------------------------------------------------------------------------------------------------------
def _hash_cache_file(folder: Path) -> Path:
    return folder / HASH_CACHE_NAME


def _read_hash_cache(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads(_hash_cache_file(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(path: Path, digest: str) -> None:
    """Record ``digest`` for ``path`` as it is now (best effort: an unwritable cache only costs a re-hash)."""
    info = path.stat()
    record = {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": digest}
    with _hash_lock:
        _known_hashes[str(path)] = record
        cache = _read_hash_cache(path.parent)
        cache[path.name] = record
        with contextlib.suppress(OSError):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=HASH_CACHE_NAME, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(cache, f, indent=1, sort_keys=True)
                os.replace(tmp, _hash_cache_file(path.parent))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


def file_sha256(path: Path) -> str:
    """The full SHA-256 (hex) of a checkpoint file, computed once per (name, size, modification time)."""
    info = path.stat()
    for record in (_known_hashes.get(str(path)), _read_hash_cache(path.parent).get(path.name)):
        if (isinstance(record, dict) and record.get("size") == info.st_size
                and record.get("mtime_ns") == info.st_mtime_ns and isinstance(record.get("sha256"), str)):
            _known_hashes[str(path)] = record
            return record["sha256"]
    digest = sha256_of(path)
    _remember(path, digest)
    return digest


def _mismatch(source: str | Path, digest: str, model_id: str, downloaded: bool) -> FetchError:
    expected = checkpoint(model_id).hash_prefix
    values = {"digest": digest[:len(expected)], "expected": expected}
    if downloaded:
        return FetchError(N_("the file downloaded from {url}'s SHA-256 starts with {digest}, the official file name "
                             "says {expected}"), url=source, **values)
    return FetchError(N_("{path}'s SHA-256 starts with {digest}, the official file name says {expected}"),
                      path=source, **values)


def _unwritable(model_id: str, folder: Path, exc: OSError) -> FetchError:
    return FetchError(N_("cannot write {model}'s weights into {folder}: {error}"), model=model_id, folder=folder,
                      error=Quoted(exc.strerror or exc))


# --- listing --------------------------------------------------------------------------------------------------------
def listing() -> list[dict]:
    """One entry per torchvision-compatible id, in the registry's order: ``{"id", "file", "url", "sha256",
    "present"}``. ``file`` is the official file name, ``url`` where :func:`fetch` downloads it from (the mirror when
    ``$EXPLORER_WEIGHTS_MIRROR`` is set), ``sha256`` the prefix the file name carries — or the file's full SHA-256
    once it is in the cache (remembered per size and modification time, so listing stays fast) — and ``present``
    whether it is in the cache. Reads no network."""
    rows = []
    for model_id, weights in CHECKPOINTS.items():
        path = imagenet.checkpoint_path(model_id)
        present = path.is_file()
        url = weights.url
        with contextlib.suppress(FetchError):  # a malformed mirror shows the official URL here; fetch() names it
            url = source_url(model_id)
        digest = weights.hash_prefix
        if present:
            with contextlib.suppress(OSError):
                digest = file_sha256(path)
        rows.append({"id": model_id, "file": weights.file, "url": url, "sha256": digest, "present": present})
    return rows


def entry(model_id: str) -> dict:
    """The :func:`listing` entry of one id (:class:`FetchError` for an id without a checkpoint)."""
    checkpoint(model_id)
    return next(row for row in listing() if row["id"] == model_id)


# --- network --------------------------------------------------------------------------------------------------------
def _reason(exc: BaseException, url: str, timeout: float) -> Message | Quoted:
    """An exception from urllib / http.client / socket as a short clause (another program's words, quoted, where
    no sentence of ours says it)."""
    host = urllib.parse.urlsplit(url).netloc or url
    if isinstance(exc, urllib.error.HTTPError):
        if exc.reason:
            return Message(N_("the server answered HTTP {code} {reason}"), {"code": exc.code,
                                                                            "reason": Quoted(str(exc.reason))})
        return Message(N_("the server answered HTTP {code}"), {"code": exc.code})
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    elif isinstance(exc, urllib.error.URLError):
        return Quoted(str(exc.reason))
    if isinstance(exc, socket.gaierror):
        return Message(N_("cannot resolve {host} (no network, or a DNS failure)"), {"host": host})
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return Message(N_("no answer from {host} within {seconds} s (timed out)"), {"host": host,
                                                                                  "seconds": f"{timeout:g}"})
    if isinstance(exc, ConnectionRefusedError):
        return Message(N_("the connection to {host} was refused"), {"host": host})
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.IncompleteRead,
                        http.client.RemoteDisconnected)):
        return Message(N_("the connection to {host} broke off"), {"host": host})
    if isinstance(exc, ssl.SSLError):
        return Message(N_("the TLS connection to {host} failed ({error})"), {"host": host,
                                                                           "error": Quoted(str(exc.reason or exc))})
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return Message(N_("no network ({host} is unreachable)"), {"host": host})
    if isinstance(exc, FileNotFoundError):
        return Message(N_("{path} does not exist"), {"path": exc.filename or url})
    text = " ".join(str(exc).split()) or type(exc).__name__
    return Quoted(text[:200])


def _open(url: str, method: str, timeout: float) -> http.client.HTTPResponse:
    """``urlopen`` whose whole opening (name lookup, connection on every address, request, response headers) ends
    within ``timeout`` seconds; reads on the response then time out after ``timeout`` seconds without data.

    The opening runs in a daemon thread, because a name lookup cannot be given a timeout; a response that arrives
    after the deadline is closed there."""
    request = urllib.request.Request(url, method=method, headers={"User-Agent": "cnn-explorer", "Accept": "*/*"})
    box: dict = {}
    lock = threading.Lock()
    done = threading.Event()

    def work() -> None:
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 — handed to the caller
            box["error"] = exc
        else:
            with lock:
                if box.get("abandoned"):
                    response.close()
                else:
                    box["response"] = response
        done.set()

    threading.Thread(target=work, name="explorer-hub-open", daemon=True).start()
    finished = done.wait(timeout)
    with lock:
        if "response" in box:
            return box["response"]
        if not finished or "error" not in box:
            box["abandoned"] = True
            raise TimeoutError(f"no answer within {timeout:g} s")
    raise box["error"]


def remote_size(model_id: str, timeout: float = 10.0) -> int | None:
    """The size in bytes of ``model_id``'s checkpoint at :func:`source_url` (an HTTP HEAD request), or ``None``
    when it cannot be told (offline, no Content-Length, any error). :class:`FetchError` only for an id without a
    checkpoint."""
    url = source_url(model_id)
    try:
        response = _open(url, "HEAD", timeout)
    except Exception:  # noqa: BLE001 — unknown size
        return None
    with response:
        length = response.headers.get("Content-Length")
    try:
        size = int(length) if length is not None else None
    except ValueError:
        return None
    return size if size is not None and size >= 0 else None


@contextlib.contextmanager
def _staging(folder: Path, file_name: str) -> Iterator[tuple[BinaryIO, Path]]:
    """A temporary file in ``folder`` (so the final rename is atomic), removed unless the caller renamed it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{file_name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f, tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _install(tmp: Path, dest: Path, digest: str) -> Path:
    os.replace(tmp, dest)
    _remember(dest, digest)
    return dest


def fetch(model_id: str, progress: Progress | None = None, timeout: float = 20.0) -> Path:
    """Download ``model_id``'s official checkpoint into torch.hub's cache and return its path.

    ``progress(done_bytes, total_bytes_or_None)`` is called once before the first byte, then about once per
    :data:`CHUNK_BYTES` received, and at the end. The
    file is written next to its destination, its SHA-256 checked against the prefix in the official file name, and
    only then renamed into place; on any error (or Ctrl-C) the temporary file is removed and the cache is as it
    was. A file already in the cache whose hash matches is returned without downloading. ``timeout`` bounds the
    opening of the connection (name lookup included) and every wait for data, in seconds.

    Raises :class:`FetchError` with one sentence: unknown id, no network, DNS failure, connection refused, HTTP
    error, timeout, a broken-off download, or the hash mismatch ("…'s SHA-256 starts with X, the official file name
    says Y").
    """
    weights = checkpoint(model_id)
    dest = imagenet.checkpoint_path(model_id)
    expected = weights.hash_prefix
    if dest.is_file():
        with contextlib.suppress(OSError):
            if file_sha256(dest).startswith(expected):
                return dest
    url = source_url(model_id)
    where = {"model": model_id, "url": url}
    try:
        response = _open(url, "GET", timeout)
    except Exception as exc:  # noqa: BLE001 — every way of failing becomes one sentence
        raise FetchError(N_("cannot fetch {model}'s weights from {url}: {clause}"), **where,
                         clause=_reason(exc, url, timeout)) from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        digest = hashlib.sha256()
        done = reported = 0
        try:
            with _staging(dest.parent, weights.file) as (out, tmp):
                if progress is not None:
                    progress(0, total)
                while True:
                    try:  # read1: whatever has arrived (up to a chunk), so a stall is noticed after `timeout`
                        block = response.read1(CHUNK_BYTES)
                    except Exception as exc:  # noqa: BLE001
                        raise FetchError(N_("cannot fetch {model}'s weights from {url}: {clause} after {done} bytes"),
                                         **where, clause=_reason(exc, url, timeout), done=f"{done:,}") from None
                    if block:
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                    if progress is not None and done > reported and (not block or done - reported >= CHUNK_BYTES):
                        progress(done, total)  # about once per CHUNK_BYTES, and at the end
                        reported = done
                    if not block:
                        break
                if total is not None and done != total:
                    raise FetchError(N_("cannot fetch {model}'s weights from {url}: the download ended after {done} "
                                        "of {total} bytes"), **where, done=f"{done:,}", total=f"{total:,}")
                out.flush()
                os.fsync(out.fileno())
                out.close()
                hexdigest = digest.hexdigest()
                if not hexdigest.startswith(expected):
                    raise _mismatch(url, hexdigest, model_id, downloaded=True)
                return _install(tmp, dest, hexdigest)
        except OSError as exc:  # the cache directory: not writable, disk full …
            raise _unwritable(model_id, dest.parent, exc) from None


def add(model_id: str, path: str | os.PathLike) -> Path:
    """Copy a checkpoint fetched elsewhere (e.g. on a machine with internet) into torch.hub's cache under its
    official name, and return the cache path.

    The file must be a regular file whose SHA-256 starts with the prefix of the official file name, and a state dict
    that ``torch.load(weights_only=True)`` reads and whose keys and shapes fit the model (``strict=True``). It is
    copied to a temporary file beside its destination, checked there, then renamed into place: a wrong or damaged
    file raises :class:`FetchError` with one sentence and nothing in the cache changes.
    """
    weights = checkpoint(model_id)
    source = Path(path)
    try:
        info = source.stat()
    except OSError as exc:
        raise FetchError(N_("cannot read {path}: {error}"), path=source, error=Quoted(exc.strerror or exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise FetchError(N_("{path} is a directory, not a checkpoint file"), path=source)
    if not stat.S_ISREG(info.st_mode):
        raise FetchError(N_("{path} is not a regular file (a pipe or a device?), so it cannot be a checkpoint"),
                         path=source)
    dest = imagenet.checkpoint_path(model_id)
    digest = hashlib.sha256()
    try:
        with _staging(dest.parent, weights.file) as (out, tmp):
            try:
                with open(source, "rb") as f:
                    for block in iter(lambda: f.read(CHUNK_BYTES), b""):
                        out.write(block)
                        digest.update(block)
            except OSError as exc:
                if exc.filename is None or Path(exc.filename) == source:
                    raise FetchError(N_("cannot read {path}: {error}"), path=source,
                                     error=Quoted(exc.strerror or exc)) from None
                raise
            out.flush()
            os.fsync(out.fileno())
            out.close()
            hexdigest = digest.hexdigest()
            if not hexdigest.startswith(weights.hash_prefix):
                raise _mismatch(source, hexdigest, model_id, downloaded=False)
            try:
                imagenet.fit_weights(model_id, imagenet.read_checkpoint(model_id, tmp), path=source)
            except imagenet.ImageNetWeightsDamaged as exc:
                raise FetchError(N_("{path} is not a usable {model} checkpoint ({reason})"), path=source,
                                 model=model_id, reason=Quoted(exc.reason)) from None
            return _install(tmp, dest, hexdigest)
    except OSError as exc:
        raise _unwritable(model_id, dest.parent, exc) from None

