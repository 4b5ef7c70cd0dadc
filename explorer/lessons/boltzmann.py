"""A restricted Boltzmann machine learning Fashion-MNIST by contrastive divergence.

Hinton, Neural Computation 2002; the recipe of Hinton's "A Practical Guide to Training RBMs", 2010: one Gibbs step
from the data (CD-1), momentum, visible biases started at the data's log-odds.

Everything is seeded: the same arguments give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..runtime import data
from ..zoo.energy import RBM, SIDE


# ---------------------------------------------------------------------------------------------------------------
# Restricted Boltzmann machine, contrastive divergence
# ---------------------------------------------------------------------------------------------------------------
def binarized(split: str = "train", count: int | None = None, seed: int | None = None) -> torch.Tensor:
    """Fashion-MNIST images as {0, 1} pixels (> 127 → 1), flattened to rows of 784: ``count`` of them — random
    ones (seeded) when ``seed`` is given, else the first ``count`` — or all of ``split``."""
    images, _ = data.load(split)
    if count is not None and seed is not None:
        images = images[np.random.default_rng(seed).permutation(len(images))[:count]]
    elif count is not None:
        images = images[:count]
    return torch.from_numpy((images > 127).reshape(len(images), -1).astype(np.float32))


def reconstruction_error(model: RBM, v: torch.Tensor) -> float:
    """Mean squared difference between the pixels and their mean-field reconstruction p(v | p(h | v))."""
    with torch.no_grad():
        return float(((v - model(v)) ** 2).mean())


def free_energy(model: RBM, v: torch.Tensor) -> torch.Tensor:
    """F(v) = −aᵀv − Σⱼ softplus(bⱼ + Wⱼ·v): p(v) ∝ exp(−F(v)); per row of ``v``."""
    with torch.no_grad():
        return -(v @ model.visible.bias) - torch.nn.functional.softplus(model.hidden(v)).sum(dim=1)


@dataclass(frozen=True)
class RBMTraining:
    errors: tuple[float, ...]  # held-out reconstruction error: before training, then after every epoch
    free_energy_gap: tuple[float, ...]  # mean F(noise) − mean F(held-out data), same points: grows as p(data) rises
    filters: np.ndarray  # hidden × 28 × 28: each hidden unit's weights over the pixels
    originals: np.ndarray  # k × 28 × 28 held-out images (binarized)
    reconstructions: np.ndarray  # k × 28 × 28 their reconstructions p(v | h)
    seconds: float
    images: int  # training images
    epochs: int


def init_rbm(model: RBM, train: torch.Tensor, seed: int = 0) -> RBM:
    """Weights N(0, 0.01²), hidden biases 0, visible biases log(p/(1 − p)) of each pixel's mean (Hinton's guide)."""
    g = torch.Generator().manual_seed(seed)
    p = train.mean(dim=0).clamp(1e-3, 1 - 1e-3)
    with torch.no_grad():
        model.hidden.weight.copy_(torch.randn(model.hidden.weight.shape, generator=g) * 0.01)
        model.hidden.bias.zero_()
        model.visible.bias.copy_(torch.log(p / (1 - p)))
    return model


def train_rbm(
    model: RBM,
    train: torch.Tensor,
    held_out: torch.Tensor,
    epochs: int = 5,
    lr: float = 0.1,
    batch_size: int = 50,
    momentum: float = 0.5,
    seed: int = 0,
    show: int = 8,
    on_progress: Callable[[int, int, float], None] | None = None,
) -> RBMTraining:
    """CD-1 on ``train`` (rows of {0, 1} pixels); the reconstruction error is measured on ``held_out``.

    Per mini-batch v⁰: p(h | v⁰), a binary sample h⁰, the reconstruction v¹ = p(v | h⁰), then p(h | v¹);
    ΔW ∝ ⟨h v⟩_data − ⟨h v⟩_reconstruction, and the same for the biases.
    ``on_progress(batches_done, batches_planned, last_batch_error)`` after every mini-batch.
    """
    start = time.perf_counter()
    g = torch.Generator().manual_seed(seed)
    init_rbm(model, train, seed)
    w, b, a = model.hidden.weight, model.hidden.bias, model.visible.bias
    vel_w, vel_b, vel_a = torch.zeros_like(w), torch.zeros_like(b), torch.zeros_like(a)
    noise = torch.bernoulli(torch.full_like(held_out, 0.5), generator=g)

    def gap() -> float:
        return float(free_energy(model, noise).mean() - free_energy(model, held_out).mean())

    errors, gaps = [reconstruction_error(model, held_out)], [gap()]
    batches = -(-len(train) // batch_size)
    planned, done = epochs * batches, 0
    with torch.no_grad():
        for _ in range(epochs):
            order = torch.randperm(len(train), generator=g)
            for k in range(0, len(train), batch_size):
                v0 = train[order[k:k + batch_size]]
                ph0 = torch.sigmoid(v0 @ w.T + b)
                h0 = torch.bernoulli(ph0, generator=g)
                pv1 = torch.sigmoid(h0 @ w + a)
                ph1 = torch.sigmoid(pv1 @ w.T + b)
                vel_w.mul_(momentum).add_((ph0.T @ v0 - ph1.T @ pv1) / len(v0), alpha=lr)
                vel_b.mul_(momentum).add_((ph0 - ph1).mean(dim=0), alpha=lr)
                vel_a.mul_(momentum).add_((v0 - pv1).mean(dim=0), alpha=lr)
                w.add_(vel_w)
                b.add_(vel_b)
                a.add_(vel_a)
                done += 1
                if on_progress is not None:
                    on_progress(done, planned, float(((v0 - pv1) ** 2).mean()))
            errors.append(reconstruction_error(model, held_out))
            gaps.append(gap())
        shown = held_out[:show]
        recon = model(shown)
    return RBMTraining(
        errors=tuple(errors),
        free_energy_gap=tuple(gaps),
        filters=w.detach().numpy().reshape(-1, SIDE, SIDE).copy(),
        originals=shown.numpy().reshape(-1, SIDE, SIDE).copy(),
        reconstructions=recon.numpy().reshape(-1, SIDE, SIDE).copy(),
        seconds=time.perf_counter() - start,
        images=len(train),
        epochs=epochs,
    )
