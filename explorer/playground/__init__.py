"""Your own network from code: a safe interpreter for pasted PyTorch (d2l style), the notes' listings as data, the
line a failing layer was built on, and deep links that carry the code.

Sits below :mod:`explorer.analysis` (it only builds modules); the CLI and the page analyse what it builds and, when
the analysis fails, ask :func:`locate_failure` which line to name.
"""

from __future__ import annotations

from .diagnose import locate_failure
from .interpreter import CodeError, Limits, parse_network
from .links import decode_code, encode_code, read_code, stated_input
from .listings import LISTINGS, ZOO_CODE, Listing

__all__ = [
    "LISTINGS", "ZOO_CODE", "CodeError", "Limits", "Listing", "decode_code", "encode_code", "locate_failure",
    "parse_network", "read_code", "stated_input",
]
