"""The Home gallery's facts per network — its depth (weight layers on the longest path) and its shape thumbnail —
kept on disk between server starts, so that a fresh server draws Home without analysing a network.

Analysing the gallery's ~30 CNNs on the meta device is most of a cold Home: the first meta-device operation makes
PyTorch import its compiler stack (``torch._dynamo``, sympy: ~1.4 s of CPU), and the analyses themselves take about
as long again. The facts depend only on the code that computes them, so they are written once per version of that
code to ``$EXPLORER_HOME/cache/gallery-<fingerprint>.json``: the fingerprint hashes the sources of the zoo, the
analysis and this module's chart, and PyTorch's version. A missing, unreadable or stale file is simply recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import torch

from ..analysis import analyze
from . import charts

_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCES = ("zoo", "analysis", "present/charts.py", "present/gallery.py")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class CardFacts:
    depth: int  # weight layers on the longest path
    thumbnail: str  # SVG: one bar per weight layer (charts.shape_thumbnail)


@cache
def fingerprint() -> str:
    """12 hex digits of SHA-256 over the sources the facts come from and PyTorch's version."""
    digest = hashlib.sha256(torch.__version__.encode())
    for source in _SOURCES:
        path = _PACKAGE / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(_PACKAGE).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def cache_file(root: Path | None = None) -> Path:
    """Where the facts of this code live (``$EXPLORER_HOME/cache``, default ``~/.cache/cnn-explorer/cache``)."""
    root = root or Path(os.environ.get("EXPLORER_HOME") or Path.home() / ".cache" / "cnn-explorer")
    return root / "cache" / f"gallery-{fingerprint()}.json"


def compute(model_id: str, input_shape: tuple[int, ...]) -> CardFacts:
    summary = analyze(model_id, input_shape)
    return CardFacts(depth=summary.depth, thumbnail=charts.shape_thumbnail(summary))


def facts(models: dict[str, tuple[int, ...]], root: Path | None = None) -> dict[str, CardFacts]:
    """Model id → :class:`CardFacts` for ``models`` (id → input shape): read from the cache file, the missing ones
    computed and the file rewritten (atomically: a reader sees the old file or the new one)."""
    path = cache_file(root)
    with _LOCK:
        try:
            stored = {k: CardFacts(**v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError, TypeError):
            stored = {}
        missing = [m for m in models if m not in stored]
        if missing:
            stored.update({m: compute(m, tuple(models[m])) for m in missing})
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_suffix(f".{os.getpid()}.part")
                part.write_text(json.dumps({k: asdict(v) for k, v in stored.items()}), encoding="utf-8")
                os.replace(part, path)
            except OSError:  # a read-only home: the facts are still right, only not kept
                pass
    return {m: stored[m] for m in models}
