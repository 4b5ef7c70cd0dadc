"""Uploaded images: a corpus of odd but valid files (each normalised to an upright RGB image with the right content)
and of invalid ones (each refused with one clear sentence), all generated here with Pillow and numpy."""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.runtime import images
from explorer.runtime.images import ImageError, load_image

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter brings tomli
    import tomli as tomllib

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def pixels(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGB"
    return np.asarray(image).astype(int)


def close_to(actual, expected, tolerance: int = 0) -> bool:
    return bool(np.all(np.abs(np.asarray(actual, dtype=int) - np.asarray(expected, dtype=int)) <= tolerance))


def noise(height: int, width: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


# ---------------------------------------------------------------------------------------------------------------
# Valid files, each in an odd form
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, options, tolerance", [
    ("PNG", {}, 0),
    ("JPEG", {"quality": 95}, 3),
    ("WEBP", {"lossless": True}, 0),
    ("WEBP", {"quality": 90}, 12),
    ("BMP", {}, 0),
    ("GIF", {}, 0),
    ("TIFF", {}, 0),
    ("TIFF", {"compression": "tiff_deflate"}, 0),
])
def test_common_formats_load_as_rgb_with_their_content(fmt, options, tolerance):
    source = Image.new("RGB", (40, 30), RED)
    source.paste(BLUE, (20, 0, 40, 30))  # left half red, right half blue
    loaded = load_image(encode(source, fmt, **options), f"picture.{fmt.lower()}")
    assert loaded.mode == "RGB" and loaded.size == (40, 30)
    array = pixels(loaded)
    assert close_to(array[15, 5], RED, tolerance)
    assert close_to(array[15, 35], BLUE, tolerance)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (12, 10), colour) for colour in (RED, GREEN, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    loaded = load_image(data, "anim.gif")
    assert loaded.size == (12, 10)
    assert close_to(pixels(loaded), RED)


def test_multi_page_tiff_gives_its_first_page():
    pages = [Image.new("RGB", (9, 7), colour) for colour in (GREEN, RED, BLUE)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 3
    loaded = load_image(data, "scan.tiff")
    assert loaded.size == (9, 7)
    assert close_to(pixels(loaded), GREEN)


def test_grayscale_l():
    gray = Image.fromarray(np.tile(np.arange(0, 250, 10, dtype=np.uint8), (4, 1)), "L")
    array = pixels(load_image(encode(gray, "PNG"), "gray.png"))
    assert array.shape == (4, 25, 3)
    assert (array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all()
    assert array[0, :, 0].tolist() == list(range(0, 250, 10))


def test_bilevel_mode_1():
    image = Image.new("1", (8, 6), 0)
    image.paste(1, (0, 0, 4, 6))
    array = pixels(load_image(encode(image, "PNG"), "bw.png"))
    assert close_to(array[:, :4], WHITE) and close_to(array[:, 4:], (0, 0, 0))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grayscale_is_rescaled_not_clipped(fmt):
    ramp = np.tile(np.linspace(0, 65535, 257).round().astype(np.uint16), (3, 1))  # 0 … 65535 along x
    source = Image.fromarray(ramp)
    assert source.mode == "I;16"
    data = encode(source, fmt)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    gray = pixels(load_image(data, f"depth.{fmt.lower()}"))[..., 0]
    assert gray.shape == (3, 257)
    assert gray.max() == 255 and gray.min() == 0
    assert abs(int(gray[0, 128]) - 128) <= 1  # 32768 → 128, not 255 as a clipping conversion would give
    assert (np.diff(gray[0]) >= 0).all()  # still a ramp


def test_16_bit_big_endian_tiff():
    source = Image.fromarray(np.array([[0, 32768, 65535]], dtype=">u2"))
    assert source.mode == "I;16B"
    gray = pixels(load_image(encode(source, "TIFF"), "be.tiff"))[0, :, 0]
    assert gray.tolist() == [0, 128, 255]


def test_32_bit_integer_mode_i_is_rescaled():
    values = np.linspace(-5000, 200000, 100).round().astype(np.int32).reshape(10, 10)
    source = Image.fromarray(values)
    assert source.mode == "I"
    data = encode(source, "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "I"
    gray = pixels(load_image(data, "counts.tiff"))[..., 0]
    assert gray.min() == 0 and gray.max() == 255
    assert gray[0, 0] == 0 and gray[-1, -1] == 255
    assert (np.diff(gray.ravel()) >= 0).all()


def test_32_bit_integer_mode_i_with_8_bit_values_is_kept():
    source = Image.fromarray(np.array([[0, 100, 255]], dtype=np.int32))
    gray = pixels(load_image(encode(source, "TIFF"), "small.tiff"))[0, :, 0]
    assert gray.tolist() == [0, 100, 255]


def test_float_tiff_is_rescaled():
    values = np.linspace(-1.0, 3.0, 5, dtype=np.float32).reshape(1, 5)
    data = encode(Image.fromarray(values), "TIFF")
    assert Image.open(io.BytesIO(data)).mode == "F"
    gray = pixels(load_image(data, "float.tiff"))[0, :, 0]
    assert gray.tolist() == [0, 64, 128, 191, 255]


def test_cmyk_jpeg():
    source = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in CMYK
    source.paste((255, 255, 0, 0), (8, 0, 16, 16))  # pure blue
    data = encode(source, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    array = pixels(load_image(data, "print.jpg"))
    assert array.shape == (16, 16, 3)
    assert close_to(array[8, 2], RED, 6)
    assert close_to(array[8, 13], BLUE, 6)


def palette_image() -> Image.Image:
    image = Image.new("P", (6, 4), 0)
    image.putpalette([*RED, *BLUE, *GREEN] + [0] * (256 - 3) * 3)
    image.paste(1, (3, 0, 6, 4))  # right half: blue
    image.putpixel((0, 0), 2)  # one green pixel
    return image


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP"])
def test_palette_without_transparency(fmt):
    array = pixels(load_image(encode(palette_image(), fmt), f"pal.{fmt.lower()}"))
    assert close_to(array[2, 1], RED) and close_to(array[2, 4], BLUE) and close_to(array[0, 0], GREEN)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_with_transparency_is_composited_on_white(fmt):
    data = encode(palette_image(), fmt, transparency=0)  # red (index 0) is transparent
    assert Image.open(io.BytesIO(data)).mode == "P"
    array = pixels(load_image(data, f"pal.{fmt.lower()}"))
    assert close_to(array[2, 1], WHITE) and close_to(array[2, 4], BLUE) and close_to(array[0, 0], GREEN)


def test_rgba_hidden_colour_under_transparent_pixels_becomes_white():
    rgba = np.zeros((6, 8, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # every pixel red …
    rgba[..., 3] = 0  # … and fully transparent
    rgba[:, 4:] = (0, 0, 255, 255)  # right half opaque blue
    rgba[0, 0] = (0, 0, 0, 128)  # half-transparent black
    for fmt, options in (("PNG", {}), ("WEBP", {"lossless": True, "exact": True}), ("TIFF", {})):
        array = pixels(load_image(encode(Image.fromarray(rgba, "RGBA"), fmt, **options), f"cut-out.{fmt}"))
        assert close_to(array[3, 1], WHITE), fmt  # not red
        assert close_to(array[3, 6], BLUE), fmt
        assert close_to(array[0, 0], (127, 127, 127), 1), fmt  # half black over white


def test_la_transparent_pixels_become_white():
    la = np.zeros((4, 4, 2), dtype=np.uint8)  # black, fully transparent
    la[2:, :] = (60, 255)  # bottom half opaque dark gray
    data = encode(Image.fromarray(la, "LA"), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "LA"
    array = pixels(load_image(data, "la.png"))
    assert close_to(array[0, 0], WHITE) and close_to(array[3, 3], (60, 60, 60))


@pytest.mark.parametrize("mode, colour, key", [("RGB", BLUE, RED), ("L", 80, 0)])
def test_colour_key_transparency_is_composited_on_white(mode, colour, key):
    image = Image.new(mode, (4, 4), key)
    image.putpixel((1, 1), colour)
    data = encode(image, "PNG", transparency=key)  # a tRNS colour key: pixels of that colour are clear
    array = pixels(load_image(data, "keyed.png"))
    assert close_to(array[0, 0], WHITE)
    assert close_to(array[1, 1], colour if mode == "RGB" else (colour,) * 3)


def oriented(orientation: int, fmt: str) -> bytes:
    """A 20×10 (W×H) black image with a red 4×4 block in its stored top-left corner and an EXIF orientation."""
    image = Image.new("RGB", (20, 10), (0, 0, 0))
    image.paste(RED, (0, 0, 4, 4))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))


def red_corners(image: Image.Image) -> set[str]:
    array = pixels(image)
    h, w = array.shape[:2]
    corners = {"top-left": (1, 1), "top-right": (1, w - 2), "bottom-left": (h - 2, 1), "bottom-right": (h - 2, w - 2)}
    return {name for name, (y, x) in corners.items() if array[y, x, 0] > 200 and array[y, x, 1] < 60}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("orientation, size, corner", [
    (1, (20, 10), "top-left"),
    (3, (20, 10), "bottom-right"),  # rotated 180°
    (6, (10, 20), "top-right"),  # the camera was turned: rotate 90° clockwise to view
    (8, (10, 20), "bottom-left"),  # rotate 90° counter-clockwise to view
])
def test_exif_orientation_is_applied(fmt, orientation, size, corner):
    loaded = load_image(oriented(orientation, fmt), f"photo.{fmt.lower()}")
    assert loaded.size == size
    assert red_corners(loaded) == {corner}


def test_broken_exif_block_only_loses_the_rotation():
    data = bytearray(oriented(6, "JPEG"))
    start = data.index(b"Exif\x00\x00")
    data[start + 6:start + 14] = b"XX\x00\x2a\xff\xff\xff\xff"  # neither II nor MM, IFD offset far away
    loaded = load_image(bytes(data), "odd-exif.jpg")
    assert loaded.mode == "RGB" and loaded.size == (20, 10)


def test_one_pixel_image():
    loaded = load_image(encode(Image.new("RGB", (1, 1), GREEN), "PNG"), "dot.png")
    assert loaded.size == (1, 1) and loaded.getpixel((0, 0)) == GREEN


def test_large_photo_loads_quickly():
    source = Image.new("RGB", (6000, 4000), (10, 200, 30))
    source.paste(BLUE, (5000, 3000, 6000, 4000))
    data = encode(source, "JPEG", quality=90)
    start = time.perf_counter()
    loaded = load_image(data, "camera.jpg")
    elapsed = time.perf_counter() - start
    assert loaded.size == (6000, 4000) and loaded.mode == "RGB"
    assert close_to(loaded.getpixel((100, 100)), (10, 200, 30), 3)
    assert close_to(loaded.getpixel((5500, 3500)), BLUE, 3)
    assert elapsed < 5.0


def test_content_decides_not_the_name():
    png = encode(noise(12, 16), "PNG")
    for name in ("x.jpg", "x.gif", "x", "x.txt"):
        loaded = load_image(png, name)
        assert loaded.size == (16, 12)
        assert (np.asarray(loaded) == np.asarray(noise(12, 16))).all()
    assert load_image(encode(noise(5, 5), "JPEG"), "photo.png").size == (5, 5)


# ---------------------------------------------------------------------------------------------------------------
# Invalid files: refused with one sentence
# ---------------------------------------------------------------------------------------------------------------
def refusal(data: bytes, name: str) -> str:
    with pytest.raises(ImageError) as info:
        load_image(data, name)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and message
    assert name in message
    return message


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "not an image " * 50)
    return buffer.getvalue()


UNSUPPORTED = {
    "random bytes": np.random.default_rng(1).bytes(4096),
    "zip": zip_bytes(),
    "html": b"<!DOCTYPE html>\n<html><head><title>x</title></head><body><img src=a.png></body></html>\n",
    "svg": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10" fill="red"/></svg>\n'),
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    "text": b"hello, world\n",
    "one byte": b"\x89",
}


def test_empty_file():
    assert "is empty" in refusal(b"", "blank.png")


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED))
def test_not_an_image_is_refused_as_unsupported(kind):
    message = refusal(UNSUPPORTED[kind], "upload.png")
    assert "not an image in a supported format" in message
    assert "PNG" in message and "JPEG" in message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "TIFF", "GIF", "BMP"])
def test_truncated_file_is_refused(fmt):
    data = encode(noise(64, 64), fmt)
    message = refusal(data[:len(data) // 2], f"half.{fmt.lower()}")
    assert any(word in message for word in ("damaged", "truncated", "not an image")), message


def test_truncated_png_and_jpeg_say_damaged_or_truncated():
    for fmt in ("PNG", "JPEG"):
        data = encode(noise(64, 64), fmt)
        message = refusal(data[:len(data) // 2], f"half.{fmt.lower()}")
        assert "damaged or truncated" in message


def test_png_with_bad_checksum_is_refused():
    data = bytearray(encode(noise(16, 16), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 10] ^= 0xFF
    assert "damaged" in refusal(bytes(data), "flipped.png")


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose IHDR is patched to declare ``width``×``height`` (CRC fixed): no pixels behind it."""
    data = bytearray(encode(Image.new("RGB", (8, 8)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("width, height", [
    (20_000, 20_000),  # 400 M pixels: over Pillow's error threshold
    (10_000, 10_000),  # 100 M pixels: over Pillow's warning threshold, which counts as an error
    (8_000, 8_000),  # 64 M pixels: over the app's own limit only
])
def test_decompression_bomb_is_refused_without_decoding(width, height):
    data = png_declaring(width, height)
    assert len(data) < 200
    start = time.perf_counter()
    message = refusal(data, "bomb.png")
    assert time.perf_counter() - start < 0.5  # refused from the header, no pixels allocated
    assert "pixels" in message
    assert "decompression bomb" in message or f"{width}×{height}" in message


def test_just_under_the_pixel_limit_header_is_not_refused_as_a_bomb():
    message = refusal(png_declaring(7_000, 7_000), "tall.png")  # 49 M pixels: allowed, but there is no data
    assert "damaged or truncated" in message


def test_file_over_the_byte_limit(monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 2**20)
    message = refusal(b"\x89PNG" + b"\x00" * 2**20, "huge.png")
    assert "larger than 1 MB" in message
    small = encode(noise(8, 8), "PNG")
    assert load_image(small, "small.png").size == (8, 8)  # under the limit still loads


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes about the damaged TIFF tags
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP"])
def test_corrupted_files_are_either_loaded_or_refused_cleanly(fmt):
    """Random byte damage never leaks another exception type or a multi-line message."""
    rng = np.random.default_rng(7)
    original = encode(noise(24, 32), fmt, **({"save_all": True, "append_images": [noise(24, 32, 1)]}
                                            if fmt in ("GIF", "TIFF") else {}))
    for trial in range(60):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        if trial % 3 == 0:
            data = data[:int(rng.integers(1, len(data)))]
        try:
            loaded = load_image(bytes(data), f"damaged.{fmt.lower()}")
        except ImageError as exc:
            assert "\n" not in str(exc)
        else:
            assert loaded.mode == "RGB"


# ---------------------------------------------------------------------------------------------------------------
# Reading a file from a path, with a bound
# ---------------------------------------------------------------------------------------------------------------
def test_read_image_file_returns_the_bytes(tmp_path):
    data = encode(noise(12, 16), "PNG")
    path = tmp_path / "small.png"
    path.write_bytes(data)
    assert images.read_image_file(path) == data
    assert images.read_image_file(str(path), limit=len(data)) == data  # exactly at the limit is accepted


def test_read_image_file_refuses_a_device_without_reading_it():
    start = time.perf_counter()
    with pytest.raises(ImageError) as info:
        images.read_image_file("/dev/zero")
    assert str(info.value) == "/dev/zero is a character device, not an image file"
    assert time.perf_counter() - start < 1.0


def test_read_image_file_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # nobody writes: opening it for reading would wait forever
    with pytest.raises(ImageError) as info:
        images.read_image_file(fifo)
    assert str(info.value) == f"{fifo} is a named pipe (FIFO), not an image file"


def test_read_image_file_refuses_a_directory_and_a_missing_file(tmp_path):
    with pytest.raises(ImageError) as info:
        images.read_image_file(tmp_path)
    assert str(info.value) == f"{tmp_path} is a directory, not an image file"
    with pytest.raises(ImageError) as info:
        images.read_image_file(tmp_path / "missing.png", name="missing.png")
    assert str(info.value) == "cannot read missing.png: No such file or directory"


def test_read_image_file_refuses_a_file_over_the_limit_by_its_size(tmp_path):
    sparse = tmp_path / "huge.png"
    with open(sparse, "wb") as f:
        f.truncate(images.MAX_BYTES + 1)  # sparse: takes no disk space, and it is never read
    with pytest.raises(ImageError) as info:
        images.read_image_file(sparse)
    assert str(info.value) == f"{sparse} is 52,428,801 bytes (50.0 MB), more than the 50 MB limit"
    with open(sparse, "r+b") as f:
        f.truncate(images.MAX_BYTES)
    assert len(images.read_image_file(sparse)) == images.MAX_BYTES


def test_read_image_file_reads_at_most_one_byte_past_the_limit(tmp_path, monkeypatch):
    """A file that grows between the size check and the read is cut at limit + 1 bytes and refused."""
    path = tmp_path / "growing.png"
    path.write_bytes(b"x" * 100)
    real_fstat = os.fstat

    def fstat_then_grow(fd):  # the check has passed; the file now grows past 1 MB
        result = real_fstat(fd)
        path.write_bytes(b"x" * (2**20 + 5000))
        return result

    reads = []
    real_fdopen = os.fdopen

    def spy_fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        read = f.read
        f.read = lambda n=-1: reads.append(n) or read(n)
        return f

    monkeypatch.setattr(images.os, "fstat", fstat_then_grow)
    monkeypatch.setattr(images.os, "fdopen", spy_fdopen)
    with pytest.raises(ImageError) as info:
        images.read_image_file(path, limit=2**20)
    assert str(info.value) == f"{path} grew past the 1 MB limit while it was read"
    assert reads == [2**20 + 1]


def test_streamlit_upload_limit_matches_max_bytes():
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == images.MAX_BYTES  # Streamlit's MB is 1024 × 1024 bytes
