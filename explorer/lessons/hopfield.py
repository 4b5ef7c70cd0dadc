"""A Hopfield network at work: Fashion-MNIST shapes stored with the Hebbian rule and recalled from a corrupted copy.

Hopfield (PNAS 1982): ±1 neurons, Hebbian weights W = (1/N) Σ_μ p^μ p^μᵀ with a zero diagonal, asynchronous
updates sᵢ ← sign(Σⱼ Wᵢⱼ sⱼ) one neuron at a time. Because W is symmetric with a zero diagonal, no update ever
raises the energy E(s) = −½ sᵀWs, so the state slides into a minimum — a stored pattern, if they are few and
different enough (about 0.14·N random patterns; far fewer for correlated images).

Everything is seeded: the same arguments give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..i18n import N_, InvalidValue
from ..runtime import data
from ..zoo.energy import HopfieldNet

ENCODINGS = ("silhouette", "contrast")
SILHOUETTE_LEVEL = 64  # of 255


# ---------------------------------------------------------------------------------------------------------------
# Patterns from Fashion-MNIST
# ---------------------------------------------------------------------------------------------------------------
def class_means(split: str = "train") -> np.ndarray:
    """The mean image of each of the ten classes (10 × 28 × 28, pixel values 0–255)."""
    images, labels = data.load(split)
    return np.stack([images[labels == c].mean(axis=0) for c in range(len(data.CLASSES))])


def class_patterns(classes: Sequence[int], encoding: str = "silhouette", split: str = "train") -> np.ndarray:
    """±1 patterns (P × 784, int8), one per class, from the class mean images:

    - ``"silhouette"``: +1 where the mean pixel is brighter than a quarter of full white (64) — the garment's
      shape (the means are blurred averages: at mid-grey a sandal's thin straps would vanish);
    - ``"contrast"``: +1 where the class is brighter than the average of the ten classes — what sets it apart,
      which makes the patterns less alike (smaller overlaps) and recall more reliable.
    """
    if encoding not in ENCODINGS:
        raise InvalidValue(N_("unknown encoding {encoding}; known: {encodings}"), encoding=repr(encoding),
                           encodings=", ".join(ENCODINGS))
    means = class_means(split).reshape(len(data.CLASSES), -1)
    threshold = SILHOUETTE_LEVEL if encoding == "silhouette" else means.mean(axis=0)
    chosen = means[list(classes)]
    return np.where(chosen > threshold, 1, -1).astype(np.int8)


def overlaps(patterns: np.ndarray) -> np.ndarray:
    """m_μν = p^μ · p^ν / N: 1 for identical patterns, 0 for unrelated ones, −1 for a pattern and its negative."""
    p = patterns.astype(np.float64)
    return p @ p.T / p.shape[1]


def corrupt(pattern: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of ``pattern`` with exactly ``round(fraction · N)`` neurons, chosen at random, flipped."""
    if not 0 <= fraction <= 1:
        raise InvalidValue(N_("fraction must lie in [0, 1], got {fraction}"), fraction=fraction)
    rng = np.random.default_rng(seed)
    state = pattern.astype(np.int8).copy()
    flip = rng.choice(state.size, size=round(fraction * state.size), replace=False)
    state[flip] *= -1
    return state


# ---------------------------------------------------------------------------------------------------------------
# Hopfield network
# ---------------------------------------------------------------------------------------------------------------
def hebbian(patterns: np.ndarray) -> np.ndarray:
    """W = (1/N) Σ_μ p^μ p^μᵀ with the diagonal set to zero (no neuron drives itself): symmetric, N × N."""
    p = np.asarray(patterns, dtype=np.float64)
    w = p.T @ p / p.shape[1]
    np.fill_diagonal(w, 0.0)
    return w


def energy(w: np.ndarray, state: np.ndarray) -> float:
    """E(s) = −½ sᵀWs."""
    s = state.astype(np.float64)
    return float(-0.5 * s @ w @ s)


def synchronous_step(w: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Every neuron at once: sign(W s), a neuron with a zero field keeping its state (the zoo module's forward)."""
    field = w @ state.astype(np.float64)
    return np.where(field > 0, 1, np.where(field < 0, -1, state)).astype(np.int8)


@dataclass(frozen=True)
class Recall:
    """One asynchronous run. ``energies[k]`` is E after k single-neuron updates (``energies[0]``: the start)."""

    energies: np.ndarray
    sweep_energies: np.ndarray  # at the start and after every sweep
    snapshots: tuple[np.ndarray, ...]  # the state at ``snapshot_steps``
    snapshot_steps: tuple[int, ...]  # update counts (0 = the start)
    final: np.ndarray
    sweeps: int
    converged: bool  # the last sweep changed nothing: a fixed point
    flips: int  # neurons that changed sign, over the whole run

    def nearest(self, patterns: np.ndarray) -> tuple[int, float]:
        """(index, overlap) of the stored pattern the final state is closest to (by overlap m = p·s/N)."""
        m = patterns.astype(np.float64) @ self.final.astype(np.float64) / self.final.size
        k = int(np.argmax(m))
        return k, float(m[k])


def recall(
    w: np.ndarray,
    state: np.ndarray,
    seed: int = 0,
    max_sweeps: int = 10,
    snapshots_per_sweep: int = 4,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> Recall:
    """Asynchronous updates in a random order (a new one each sweep) until a sweep changes nothing.

    The energy is tracked exactly: flipping sᵢ by Δ (±2) changes E by −Δ·hᵢ with hᵢ = Σⱼ Wᵢⱼ sⱼ (W symmetric,
    zero diagonal), and an update only flips sᵢ when Δ has the sign of hᵢ, so ΔE ≤ 0.
    ``on_progress(updates_done, updates_planned, energy)`` is called after every snapshot.
    """
    rng = np.random.default_rng(seed)
    s = state.astype(np.float64).copy()
    n = s.size
    e = -0.5 * s @ w @ s
    energies = [e]
    sweep_energies = [e]
    snapshots, steps = [s.astype(np.int8).copy()], [0]
    every = max(1, n // max(1, snapshots_per_sweep))
    flips, sweeps, converged = 0, 0, False
    planned = max_sweeps * n
    while sweeps < max_sweeps:
        changed = 0
        for k, i in enumerate(rng.permutation(n)):
            h = float(w[i] @ s)
            new = 1.0 if h > 0 else (-1.0 if h < 0 else s[i])
            if new != s[i]:
                e -= (new - s[i]) * h
                s[i] = new
                changed += 1
            energies.append(e)
            if (k + 1) % every == 0 or k + 1 == n:
                done = sweeps * n + k + 1
                snapshots.append(s.astype(np.int8).copy())
                steps.append(done)
                if on_progress is not None:
                    on_progress(done, planned, float(e))
        sweeps += 1
        flips += changed
        sweep_energies.append(e)
        if changed == 0:
            converged = True
            break
    if on_progress is not None:
        on_progress(planned, planned, float(e))
    return Recall(
        energies=np.asarray(energies), sweep_energies=np.asarray(sweep_energies), snapshots=tuple(snapshots),
        snapshot_steps=tuple(steps), final=s.astype(np.int8), sweeps=sweeps, converged=converged, flips=flips,
    )


@dataclass(frozen=True)
class Diagnosis:
    """Where a recall ended, against the stored patterns.

    ``kind``: ``"exact"`` (the state is stored pattern ``index``), ``"inverted"`` (it is the pattern's negative −ξ —
    also an energy minimum, since E(−s) = E(s) for the Hebbian W), or ``"other"`` (a mixture or spurious minimum;
    ``index`` is the pattern with the largest |overlap|). ``overlap`` is signed: m = ξ·s/N, −1 for −ξ."""

    kind: str
    index: int
    overlap: float


def diagnose(final: np.ndarray, patterns: np.ndarray) -> Diagnosis:
    """Name the state a recall ended in: a stored pattern, a stored pattern's negative, or neither (by |overlap|)."""
    p = patterns.astype(np.float64)
    s = final.astype(np.float64)
    m = p @ s / s.size
    k = int(np.argmax(np.abs(m)))
    for i in range(len(p)):
        if np.array_equal(p[i], s):
            return Diagnosis("exact", i, float(m[i]))
    for i in range(len(p)):
        if np.array_equal(p[i], -s):
            return Diagnosis("inverted", i, float(m[i]))
    return Diagnosis("other", k, float(m[k]))


def hopfield_module(w: np.ndarray) -> HopfieldNet:
    """The zoo's ``hopfield`` network with ``w`` as its weights."""
    net = HopfieldNet(w.shape[0])
    with torch.no_grad():
        net.weights.weight.copy_(torch.from_numpy(w))
    return net.eval()
