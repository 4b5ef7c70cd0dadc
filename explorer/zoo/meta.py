"""Building models on the meta device without running their weight initialisation."""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode


class SkipMetaInit(TorchFunctionMode):
    """Skip in-place operations on meta tensors while a model is built: weight initialisation (``normal_``,
    ``kaiming_uniform_`` …) has no values to write there, yet on the meta device it runs through slow Python
    decompositions (ResNet-50: 40 ms of its 50 ms build; most of a VGG's). In-place ops keep shapes, so nothing
    else changes. A function mode is per thread: models built elsewhere at the same time are initialised as usual."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if (name.endswith("_") and not name.startswith("__") and args and isinstance(args[0], torch.Tensor)
                and args[0].is_meta):
            return args[0]
        return func(*args, **(kwargs or {}))
