"""Code in the URL: ``/playground?code=<zlib-compressed base64url>&input=1,28,28``, and the input size a snippet
states in a comment (``# input: 1,28,28``)."""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from ..i18n import N_
from .interpreter import DEFAULT_LIMITS, CodeError

_INPUT_COMMENT = re.compile(r"^\s*#\s*input\s*[:=]\s*([0-9][0-9 ,x×]*)\s*$", re.IGNORECASE | re.MULTILINE)


def encode_code(code: str) -> str:
    """``code`` as a URL-safe token: zlib (level 9), then base64url without padding."""
    return base64.urlsafe_b64encode(zlib.compress(code.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def decode_code(token: str, max_bytes: int = DEFAULT_LIMITS.code_bytes) -> str:
    """The inverse of :func:`encode_code`; a damaged or oversized token raises :class:`CodeError`."""
    token = token.strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]*", token):
        raise CodeError(N_("the link's code is damaged (it is not base64url)"))
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, max_bytes + 1)  # never inflate more than the interpreter accepts
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise CodeError(N_("the link's code is larger than {limit} bytes"), limit=f"{max_bytes:,}")
        if not inflater.eof:
            raise CodeError(N_("the link's code is damaged (it was cut short)"))
        return data.decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, CodeError):
            raise
        raise CodeError(N_("the link's code is damaged (it does not decompress)")) from None


def stated_input(code: str) -> tuple[int, ...] | None:
    """The input size a snippet states in a comment line ``# input: 1,28,28`` (C,H,W; ``x``/``×`` work too)."""
    match = _INPUT_COMMENT.search(code)
    if match is None:
        return None
    parts = [p for p in re.split(r"[ ,x×]+", match.group(1).strip()) if p]
    try:
        return tuple(int(p) for p in parts) or None
    except ValueError:
        return None
