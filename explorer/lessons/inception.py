"""Inception's factorizations in numbers (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016):
a large convolution replaced by a stack of smaller ones that sees the same input window with fewer weights.

Each count comes from the modules themselves (built on the meta device) and each receptive field from
:func:`explorer.analyze`, so the table below is measured, not copied.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..analysis import analyze
from ..i18n import N_


@dataclass(frozen=True)
class Factorization:
    name: str
    original: str  # e.g. "5×5"
    replacement: str  # e.g. "3×3 → 3×3"
    params_original: int
    params_replacement: int
    rf_original: int | list[int]
    rf_replacement: int | list[int]
    macs_original: int
    macs_replacement: int

    @property
    def ratio(self) -> float:
        return self.params_replacement / self.params_original


# name → (original kernel, the stack replacing it: kernels with their paddings); channels stay C → C.
FACTORIZATIONS: dict[str, tuple[tuple[int, int], tuple[tuple[tuple[int, int], tuple[int, int]], ...]]] = {
    N_("5×5 → two 3×3 (v3, Fig. 5)"): ((5, 5), (((3, 3), (1, 1)), ((3, 3), (1, 1)))),
    N_("7×7 → 1×7 and 7×1 (v3, Fig. 6)"): ((7, 7), (((1, 7), (0, 3)), ((7, 1), (3, 0)))),
    N_("3×3 → 1×3 and 3×1 (v3, Fig. 7)"): ((3, 3), (((1, 3), (0, 1)), ((3, 1), (1, 0)))),
}


def _kernel(k: tuple[int, int]) -> str:
    return f"{k[0]}×{k[1]}"


def factorize(name: str, channels: int = 64, size: int = 17, bias: bool = False) -> Factorization:
    """One row of the table: ``channels`` → ``channels`` on a size×size map, without bias (batch norm follows)."""
    kernel, stack = FACTORIZATIONS[name]
    original = nn.Sequential(nn.Conv2d(channels, channels, kernel, padding=(kernel[0] // 2, kernel[1] // 2),
                                       bias=bias, device="meta"))
    replacement = nn.Sequential(*(
        nn.Conv2d(channels, channels, k, padding=p, bias=bias, device="meta") for k, p in stack
    ))
    a = analyze(original, (channels, size, size))
    b = analyze(replacement, (channels, size, size))
    return Factorization(
        name=name, original=_kernel(kernel), replacement=" → ".join(_kernel(k) for k, _ in stack),
        params_original=a.total_params, params_replacement=b.total_params,
        rf_original=a.layers[-1].rf, rf_replacement=b.layers[-1].rf,
        macs_original=a.total_macs, macs_replacement=b.total_macs,
    )


def factorizations(channels: int = 64, size: int = 17) -> list[Factorization]:
    return [factorize(name, channels, size) for name in FACTORIZATIONS]
