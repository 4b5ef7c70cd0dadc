"""The Home gallery's facts per network — its depth (weight layers on the longest path) and its shape thumbnail —
kept on disk between server starts, so that a fresh server draws Home without analysing a network, and with them
every model's card (:func:`cards`: the spec's words and numbers), so that it draws Home without importing PyTorch.

Analysing the gallery's ~30 CNNs on the meta device is most of a cold Home: the first meta-device operation makes
PyTorch import its compiler stack (``torch._dynamo``, sympy: ~1.4 s of CPU), and the analyses themselves take about
as long again. The facts depend only on the code that computes them, so they are written once per version of that
code to ``$EXPLORER_HOME/cache/gallery-<fingerprint>.json``: the fingerprint hashes the sources of the zoo, the
analysis and this module's chart, and PyTorch's version (read from its installed metadata, not by importing it). A
missing, unreadable or stale file is simply recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import metadata
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCES = ("zoo", "analysis", "present/charts.py", "present/gallery.py")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class CardFacts:
    depth: int  # weight layers on the longest path
    thumbnail: str  # SVG: one bar per weight layer (charts.shape_thumbnail)


@dataclass(frozen=True)
class Card:
    """What Home shows of one model: the spec's words (the catalog's English msgids, translated when drawn) and
    numbers, and for the pictured families its depth and thumbnail."""

    id: str
    family: str
    title: str
    year: int
    params: int
    input_shape: tuple[int, ...]
    output_dims: tuple[int, ...]
    classifier: bool
    num_classes: int
    output: str
    introduced: str
    depth: int | None = None
    thumbnail: str | None = None


def _torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:  # a source build without metadata
        import torch

        return torch.__version__


@cache
def fingerprint() -> str:
    """12 hex digits of SHA-256 over the sources the facts come from and PyTorch's version."""
    digest = hashlib.sha256(_torch_version().encode())
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
    from ..analysis import analyze
    from . import charts

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
            _write_json(path, {k: asdict(v) for k, v in stored.items()})
    return {m: stored[m] for m in models}


def cards(pictured: Collection[str], root: Path | None = None) -> list[Card]:
    """A :class:`Card` for every model, in the registry's order, with depth and thumbnail for the families in
    ``pictured``: read from ``$EXPLORER_HOME/cache/home-<fingerprint>.json`` without importing the zoo (or PyTorch),
    else built from the registry and :func:`facts`, and the file written."""
    path = cache_file(root).with_name(f"home-{fingerprint()}.json")
    with _LOCK:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored["pictured"] == sorted(pictured):
                return [Card(**{**c, "input_shape": tuple(c["input_shape"]), "output_dims": tuple(c["output_dims"])})
                        for c in stored["cards"]]
        except (OSError, ValueError, TypeError, KeyError):
            pass
    from ..zoo import list_models

    specs = list_models()
    shown = facts({s.id: s.input_shape for s in specs if s.family in pictured}, root)
    words = [f.name for f in fields(Card) if f.name not in ("depth", "thumbnail")]
    result = [Card(**{name: getattr(s, name) for name in words},
                   depth=shown[s.id].depth if s.id in shown else None,
                   thumbnail=shown[s.id].thumbnail if s.id in shown else None) for s in specs]
    with _LOCK:
        _write_json(path, {"pictured": sorted(pictured), "cards": [asdict(c) for c in result]})
    return result


def _write_json(path: Path, data: object) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically (a reader sees the old file or the new one)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        part.write_text(json.dumps(data), encoding="utf-8")
        os.replace(part, path)
    except OSError:  # a read-only home: the facts are still right, only not kept
        pass
