"""Uploaded images, read safely: the content decides (never the file name), and anything odd is either
normalised (16-bit, CMYK, palette, transparency, EXIF rotation, animation) or refused with one clear sentence."""

from __future__ import annotations

import io
import os
import stat
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..i18n import N_, InvalidValue, Message, Quoted

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 50_000_000  # e.g. 8660×5773; Pillow's own bomb threshold is 89.5 M


class ImageError(InvalidValue):
    """The file cannot be used as an image; the message says why in one sentence."""


def _file_kind(mode: int) -> Message:
    """What a non-regular file is, in words."""
    for test, words in ((stat.S_ISDIR, N_("a directory")), (stat.S_ISFIFO, N_("a named pipe (FIFO)")),
                        (stat.S_ISCHR, N_("a character device")), (stat.S_ISBLK, N_("a block device")),
                        (stat.S_ISSOCK, N_("a socket"))):
        if test(mode):
            return Message(words)
    return Message(N_("not a regular file"))


def _not_a_file(name: str, mode: int) -> ImageError:
    return ImageError(N_("{name} is {kind}, not an image file"), name=name, kind=_file_kind(mode))


def _too_large(name: str, size: int, limit: int) -> ImageError:
    return ImageError(N_("{name} is {size} bytes ({mb} MB), more than the {limit} MB limit"), name=name,
                      size=f"{size:,}", mb=f"{size / 2**20:,.1f}", limit=f"{limit / 2**20:g}")


def read_image_file(path: str | os.PathLike, limit: int = MAX_BYTES, name: str | None = None) -> bytes:
    """The bytes of the image file at ``path``, never more than ``limit`` (default :data:`MAX_BYTES`) in memory.

    The file is checked before it is read: anything but a regular file (a directory, a FIFO, a device such as
    ``/dev/zero``) and a file larger than ``limit`` raise :class:`ImageError` with one sentence; so does a file that
    cannot be opened, and one that grows past ``limit`` while it is read (at most ``limit + 1`` bytes are read).
    """
    name = str(path) if name is None else name
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _not_a_file(name, info.st_mode)
        if info.st_size > limit:
            raise _too_large(name, info.st_size, limit)
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise _not_a_file(name, mode)
            data = f.read(limit + 1)
    except OSError as exc:
        raise ImageError(N_("cannot read {name}: {reason}"), name=name, reason=Quoted(exc.strerror or exc)) from None
    if len(data) > limit:
        raise ImageError(N_("{name} grew past the {limit} MB limit while it was read"), name=name,
                         limit=f"{limit / 2**20:g}")
    return data


def load_image(data: bytes, name: str = "the file") -> Image.Image:
    """Decode ``data`` into an RGB image (first frame / page), upright, transparency composited on white."""
    if not data:
        raise ImageError(N_("{name} is empty"), name=name)
    if len(data) > MAX_BYTES:
        raise ImageError(N_("{name} is larger than {limit} MB"), name=name, limit=MAX_BYTES // 2**20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width * image.height > MAX_PIXELS:
                raise ImageError(N_("{name} has {w}×{h} pixels, more than the {limit} accepted"), name=name,
                                 w=image.width, h=image.height, limit=f"{MAX_PIXELS:,}")
            image.seek(0)
            image.load()
        except ImageError:
            raise
        except UnidentifiedImageError:
            raise ImageError(N_("{name} is not an image in a supported format ({formats})"), name=name,
                             formats=", ".join(FORMATS)) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(N_("{name} declares too many pixels (a decompression bomb?)"), name=name) from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(N_("{name} is damaged or truncated and cannot be decoded ({reason})"), name=name,
                             reason=Quoted(str(exc))) from None
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 — a broken EXIF block only loses the rotation
        pass
    return to_rgb(image)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode → RGB: 16-bit and float rescaled (not clipped), alpha composited on white, CMYK converted."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0
        else:
            lo, hi = float(array.min()), float(array.max())
            if mode == "I" and lo >= 0 and hi <= 65535:
                lo, hi = 0.0, 65535.0 if hi > 255 else 255.0
        scaled = np.zeros_like(array) if hi <= lo else (array - lo) / (hi - lo) * 255.0
        return Image.fromarray(np.clip(np.round(scaled), 0, 255).astype(np.uint8), "L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("L", "RGB") and "transparency" in image.info:  # a PNG colour key (tRNS): those pixels are clear
        image = image.convert("RGBA")
    elif mode in ("LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def from_array(array: np.ndarray) -> Image.Image:
    """An H×W or H×W×3 uint8 array (a dataset image) as an RGB image."""
    return to_rgb(Image.fromarray(np.ascontiguousarray(array)))


def fit(image: Image.Image, channels: int, height: int, width: int) -> np.ndarray:
    """Resize to height×width (bilinear) and return C×H×W floats in [0, 1] (grayscale when ``channels`` is 1)."""
    resized = image.convert("L" if channels == 1 else "RGB").resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 255.0
    if channels == 1:
        return array[None]
    array = array.transpose(2, 0, 1)
    return array if channels == 3 else np.repeat(array.mean(axis=0, keepdims=True), channels, axis=0)
