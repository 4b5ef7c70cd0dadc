"""Fashion-MNIST, the dataset d2l trains these networks on: an IDX reader, where to find the files, class names.

Looked for in ``$FASHION_MNIST_DIR``, then ``/usr/share/datasets/fashion-mnist`` (Debian package
``dataset-fashion-mnist``), then a cache directory (``$XDG_CACHE_HOME/cnn-explorer/fashion-mnist``) into which
:func:`download` fetches the official files.
"""

from __future__ import annotations

import gzip
import os
import struct
import urllib.request
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..i18n import N_, ExplorerError, InvalidValue
from ..zoo.weights import FASHION_MNIST_CLASSES

CLASSES = FASHION_MNIST_CLASSES  # the weights' categories (explorer.zoo.weights), in class-index order
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


class DatasetNotFound(ExplorerError, FileNotFoundError):
    """No copy of Fashion-MNIST in any of the places looked at; the message says where to put one."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnn-explorer" / "fashion-mnist"


def candidates() -> list[Path]:
    dirs = []
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append(Path(os.environ["FASHION_MNIST_DIR"]))
    return dirs + [DEBIAN_DIR, cache_dir()]


def find(split: str = "test") -> Path:
    """The directory holding ``split``'s two files; :class:`DatasetNotFound` naming the places looked at."""
    images, labels = FILES[split]
    for d in candidates():
        if (d / images).is_file() and (d / labels).is_file():
            return d
    places = ", ".join(str(d) for d in candidates())
    raise DatasetNotFound(N_("Fashion-MNIST ({files}) not found in {places}; install the Debian package "
                             "dataset-fashion-mnist, set FASHION_MNIST_DIR, or call explorer.runtime.data.download()"),
                          files=images, places=places)


def download(split: str = "test", target: Path | None = None) -> Path:
    """Fetch ``split``'s files from the dataset's official address into the cache (or ``target``)."""
    target = target or cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES[split]:
        dest = target / name
        if not dest.is_file():
            tmp = dest.with_suffix(".part")
            urllib.request.urlretrieve(URL + name, tmp)  # noqa: S310 — a fixed https/http address
            tmp.replace(dest)
    return target


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic 0x00 0x00 <type> <ndim>, big-endian sizes, then the data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise InvalidValue(N_("{path} is not an IDX file"), path=path)
    dtype = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}.get(data[2])
    if dtype is None:
        raise InvalidValue(N_("{path}: unknown IDX data type {code}"), path=path, code=f"0x{data[2]:02x}")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise InvalidValue(N_("{path}: expected {n} values, found {found}"), path=path, n=int(np.prod(shape)),
                           found=array.size)
    return array.reshape(shape)


@lru_cache(maxsize=2)
def load(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images N×28×28 uint8, labels N uint8) of ``split`` ("train": 60,000, "test": 10,000)."""
    d = find(split)
    images, labels = (read_idx(d / name) for name in FILES[split])
    if len(images) != len(labels):
        raise InvalidValue(N_("{folder}: {images} images but {labels} labels"), folder=d, images=len(images),
                           labels=len(labels))
    return images, labels


def sample(index: int = 0, split: str = "test") -> tuple[np.ndarray, int]:
    """One image (28×28 uint8, light garment on black, as in the dataset) and its label."""
    images, labels = load(split)
    return images[index], int(labels[index])
