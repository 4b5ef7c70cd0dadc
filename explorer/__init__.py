"""CNN Explorer: the classic convolutional networks, built, measured and explained.

Importable without streamlit::

    import explorer
    explorer.list_models()
    explorer.analyze("alexnet").total_params  # 62378344
    explorer.figure("alexnet").svg()  # the paper figure (displays inline in Jupyter)
"""

from __future__ import annotations

from .analysis import InputShapeError, LayerRecord, Summary, analyze
from .playground import CodeError, parse_network
from .present.figure import Figure, FigureOptions, figure
from .zoo import Erratum, ModelSpec, build, get_spec, list_models

__all__ = [
    "Erratum", "InputShapeError", "LayerRecord", "ModelSpec", "Summary", "analyze", "build", "get_spec", "list_models",
    "CodeError", "parse_network", "Figure", "FigureOptions", "figure",
]
__version__ = "0.1.0"
