"""Hopfield recall and RBM training: the energy never rises, corrupted patterns come back, CD-1 lowers the
reconstruction error — on small hand-made cases and on Fashion-MNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import explorer
from explorer.lessons import boltzmann, hopfield


# ---------------------------------------------------------------------------------------------------------------
# Hopfield, by hand
# ---------------------------------------------------------------------------------------------------------------
def test_hebbian_weights_by_hand():
    p = np.array([[1, -1, 1, -1], [1, 1, -1, -1]])
    w = hopfield.hebbian(p)
    # W = (1/N) Σ p pᵀ with N = 4 neurons, diagonal zeroed: W₀₁ = (1·−1 + 1·1)/4 = 0, W₀₃ = (−1 − 1)/4 = −0.5
    expected = np.array([
        [0.0, 0.0, 0.0, -0.5],
        [0.0, 0.0, -0.5, 0.0],
        [0.0, -0.5, 0.0, 0.0],
        [-0.5, 0.0, 0.0, 0.0],
    ])
    assert np.array_equal(w, expected)
    # E(s) = −½ sᵀWs: a stored pattern sits low (sᵀWs = 2·(0.5 + 0.5) = 2 → E = −1), all-ones high (E = +1)
    assert hopfield.energy(w, p[0]) == hopfield.energy(w, p[1]) == -1.0
    assert hopfield.energy(w, np.array([1, 1, 1, 1])) == 1.0


def test_overlaps_and_corruption():
    p = np.array([[1, 1, 1, 1], [1, 1, -1, -1], [-1, -1, -1, -1]], dtype=np.int8)
    assert np.array_equal(hopfield.overlaps(p), [[1, 0, -1], [0, 1, 0], [-1, 0, 1]])
    pattern = np.ones(784, dtype=np.int8)
    noisy = hopfield.corrupt(pattern, 0.2, seed=1)
    assert (noisy == -1).sum() == round(0.2 * 784) == 157
    assert np.array_equal(noisy, hopfield.corrupt(pattern, 0.2, seed=1))  # seeded
    with pytest.raises(ValueError):
        hopfield.corrupt(pattern, 1.5)


@pytest.mark.parametrize("seed", range(5))
def test_energy_never_rises_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    patterns = rng.choice([-1, 1], size=(5, 60))
    w = hopfield.hebbian(patterns)
    start = rng.choice([-1, 1], size=60)
    run = hopfield.recall(w, start, seed=seed, max_sweeps=20)
    steps = np.diff(run.energies)
    assert (steps <= 1e-12).all()
    assert run.converged
    assert run.energies[-1] == pytest.approx(hopfield.energy(w, run.final), abs=1e-9)  # tracked = recomputed
    assert run.sweep_energies[0] == run.energies[0] and run.sweep_energies[-1] == run.energies[-1]
    assert len(run.energies) == 1 + run.sweeps * 60
    # a fixed point: every neuron already agrees with the sign of its field (or sits on a zero field)
    field = w @ run.final
    assert ((field * run.final >= 0) | (field == 0)).all()


def test_random_patterns_well_below_capacity_are_fixed_points_and_attract():
    rng = np.random.default_rng(0)
    patterns = rng.choice([-1, 1], size=(3, 200)).astype(np.int8)
    w = hopfield.hebbian(patterns)
    for k, p in enumerate(patterns):
        assert np.array_equal(hopfield.synchronous_step(w, p), p)
        run = hopfield.recall(w, hopfield.corrupt(p, 0.2, seed=k), seed=k)
        assert np.array_equal(run.final, p) and run.nearest(patterns) == (k, 1.0)


def test_progress_callback_reaches_the_end():
    rng = np.random.default_rng(1)
    w = hopfield.hebbian(rng.choice([-1, 1], size=(2, 40)))
    calls: list[tuple[int, int, float]] = []
    run = hopfield.recall(w, rng.choice([-1, 1], size=40), max_sweeps=3, on_progress=lambda *a: calls.append(a))
    assert calls and calls[-1][0] == calls[-1][1] == 3 * 40
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert calls[-1][2] == pytest.approx(run.energies[-1])


def test_synchronous_step_is_the_zoo_module():
    rng = np.random.default_rng(2)
    w = hopfield.hebbian(rng.choice([-1, 1], size=(4, 784)))
    state = rng.choice([-1, 1], size=784).astype(np.int8)
    net = hopfield.hopfield_module(w).double()
    with torch.no_grad():
        out = net(torch.from_numpy(state).double().view(1, 1, 28, 28))[0].numpy()
    assert np.array_equal(out, hopfield.synchronous_step(w, state))
    assert sum(p.numel() for p in net.parameters()) == explorer.get_spec("hopfield").params


# ---------------------------------------------------------------------------------------------------------------
# Hopfield on Fashion-MNIST
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("fashion_mnist")
@pytest.mark.parametrize("encoding", hopfield.ENCODINGS)
def test_fashion_patterns_recalled_from_20_percent_corruption(encoding):
    classes = [0, 5, 8]  # T-shirt/top, Sandal, Bag: far apart
    patterns = hopfield.class_patterns(classes, encoding)
    assert patterns.shape == (3, 784) and set(np.unique(patterns)) == {-1, 1}
    w = hopfield.hebbian(patterns)
    for k in range(3):
        for seed in range(3):
            start = hopfield.corrupt(patterns[k], 0.2, seed=seed)
            run = hopfield.recall(w, start, seed=seed)
            assert np.array_equal(run.final, patterns[k]), (encoding, k, seed)
            assert (np.diff(run.energies) <= 1e-9).all()
            assert run.energies[-1] < run.energies[0]
            assert run.converged and run.flips >= 157  # every flipped pixel was put back


@pytest.mark.usefixtures("fashion_mnist")
def test_contrast_patterns_overlap_less():
    off = ~np.eye(10, dtype=bool)
    silhouette = np.abs(hopfield.overlaps(hopfield.class_patterns(range(10), "silhouette")))[off].mean()
    contrast = np.abs(hopfield.overlaps(hopfield.class_patterns(range(10), "contrast")))[off].mean()
    assert contrast < silhouette


# ---------------------------------------------------------------------------------------------------------------
# Restricted Boltzmann machine
# ---------------------------------------------------------------------------------------------------------------
def test_rbm_forward_is_the_mean_field_reconstruction():
    torch.manual_seed(0)
    model = explorer.build("rbm")
    v = torch.bernoulli(torch.full((3, 784), 0.3))
    with torch.no_grad():
        assert torch.allclose(model(v.view(3, 1, 28, 28)), model.visible_probs(model.hidden_probs(v)))
        w, b, a = model.hidden.weight, model.hidden.bias, model.visible.bias
        expected = torch.sigmoid(torch.sigmoid(v @ w.T + b) @ w + a)
        assert torch.allclose(model(v), expected)
    assert sum(p.numel() for p in model.parameters()) == 784 * 64 + 64 + 784 == 51_024


def test_free_energy_by_hand():
    model = explorer.build("rbm", n_visible=2, n_hidden=1)
    with torch.no_grad():
        model.hidden.weight.copy_(torch.tensor([[1.0, -2.0]]))
        model.hidden.bias.fill_(0.5)
        model.visible.bias.copy_(torch.tensor([0.25, 0.0]))
    v = torch.tensor([[1.0, 1.0]])
    # F(v) = −aᵀv − softplus(b + W v) = −0.25 − log(1 + e^(0.5 + 1 − 2))
    assert float(boltzmann.free_energy(model, v)[0]) == pytest.approx(-0.25 - np.log1p(np.exp(-0.5)))


@pytest.mark.slow
@pytest.mark.usefixtures("fashion_mnist")
def test_cd1_lowers_the_reconstruction_error():
    train = boltzmann.binarized("train", 2000, seed=0)
    held_out = boltzmann.binarized("test", 300)
    assert set(torch.unique(train).tolist()) == {0.0, 1.0} and train.shape == (2000, 784)
    progress: list[tuple[int, int, float]] = []
    result = boltzmann.train_rbm(explorer.build("rbm"), train, held_out, epochs=3, seed=0,
                          on_progress=lambda *a: progress.append(a))
    errors = result.errors
    assert len(errors) == 4
    assert all(b < a for a, b in zip(errors, errors[1:])), errors  # better after every epoch
    assert errors[-1] < 0.7 * errors[0]
    assert result.free_energy_gap[-1] > result.free_energy_gap[0] > 0  # real images get lower energy than noise
    assert result.filters.shape == (64, 28, 28)
    assert result.originals.shape == result.reconstructions.shape == (8, 28, 28)
    assert ((result.reconstructions >= 0) & (result.reconstructions <= 1)).all()
    assert progress[-1][:2] == (3 * 40, 3 * 40) and len(progress) == 120  # 2000 / 50 = 40 mini-batches per epoch
    again = boltzmann.train_rbm(explorer.build("rbm"), train, held_out, epochs=3, seed=0)
    assert again.errors == result.errors  # seeded
