"""CNN Explorer: the classic convolutional networks, built, measured and explained.

Importable without streamlit::

    import explorer
    explorer.list_models()
    explorer.analyze("alexnet").total_params  # 62378344
    explorer.figure("alexnet").svg()  # the paper figure (displays inline in Jupyter)

The names below are imported on first use (PEP 562): ``import explorer`` alone, or a light submodule such as
``explorer.i18n``, does not import PyTorch — the app's Home is drawn before PyTorch has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Erratum", "InputShapeError", "LayerRecord", "ModelSpec", "Summary", "analyze", "build", "get_spec", "list_models",
    "CodeError", "parse_network", "Figure", "FigureOptions", "figure",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .analysis import InputShapeError, LayerRecord, Summary, analyze
    from .playground import CodeError, parse_network
    from .present.figure import Figure, FigureOptions, figure
    from .zoo import Erratum, ModelSpec, build, get_spec, list_models


# Public name → the submodule that defines it, imported on first use (PEP 562).
_LAZY = {
    "InputShapeError": ".analysis", "LayerRecord": ".analysis", "Summary": ".analysis", "analyze": ".analysis",
    "CodeError": ".playground", "parse_network": ".playground",
    "Figure": ".present.figure", "FigureOptions": ".present.figure", "figure": ".present.figure",
    "Erratum": ".zoo", "ModelSpec": ".zoo", "build": ".zoo", "get_spec": ".zoo", "list_models": ".zoo",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_LAZY[name], __name__), name)
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
