"""Where tensors run: CUDA, then Apple's Metal (MPS), then the CPU."""

from __future__ import annotations

import functools

import torch

from ..i18n import N_, InvalidValue


@functools.lru_cache(maxsize=8)
def pick_device(name: str = "auto") -> torch.device:
    """cuda → mps → cpu for "auto"; an explicit device that is not there is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidValue(N_("device cuda was asked for, but no CUDA GPU is available"))
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InvalidValue(N_("device mps was asked for, but Apple's Metal backend is not available"))
    if name not in ("cpu", "cuda", "mps"):
        raise InvalidValue(N_("unknown device {name}; use auto, cpu, cuda or mps"), name=repr(name))
    return torch.device(name)
