"""Code in the URL: ``/playground?code=<zlib-compressed base64url>&input=1,28,28``, and the input size a snippet
states in a comment (``# input: 1,28,28``)."""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from typing import BinaryIO

from ..i18n import N_
from .interpreter import DEFAULT_LIMITS, CodeError

# One line at a time, no class that can match what the next one matches: linear in the code's length (``\s*`` with
# MULTILINE let each of 60,000 blank lines start a scan over all the others).
_INPUT_COMMENT = re.compile(r"[ \t]*#[ \t]*input[ \t]*[:=][ \t]*([0-9][0-9 ,x×]*)", re.IGNORECASE)


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


def read_code(stream: BinaryIO, max_bytes: int = DEFAULT_LIMITS.code_bytes) -> str:
    """A snippet from a binary file (``summary --code FILE``), read no further than the interpreter takes."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise CodeError(N_("the code is larger than the {limit} bytes the playground takes"), limit=f"{max_bytes:,}")
    return data.decode("utf-8")


def stated_input(code: str) -> tuple[int, ...] | None:
    """The input size a snippet states in a comment line ``# input: 1,28,28`` (C,H,W; ``x``/``×`` work too)."""
    match = next((m for line in code.splitlines() if "#" in line
                  for m in [_INPUT_COMMENT.fullmatch(line.rstrip())] if m), None)
    if match is None:
        return None
    parts = [p for p in re.split(r"[ ,x×]+", match.group(1).strip()) if p]
    try:
        return tuple(int(p) for p in parts) or None
    except ValueError:
        return None
