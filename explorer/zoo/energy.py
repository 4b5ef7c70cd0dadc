"""The notes' energy-based feedback networks, as modules: a Hopfield network and a restricted Boltzmann machine.

- ``hopfield``: Hopfield, "Neural networks and physical systems with emergent collective computational abilities",
  PNAS 1982. 784 binary (±1) neurons, one per pixel of a 28×28 image, all connected to each other by a symmetric
  weight matrix with zero diagonal. ``forward`` is one synchronous update sᵢ ← sign(Σⱼ Wᵢⱼ sⱼ); the associative
  recall demo (:mod:`explorer.lessons.hopfield`) updates one neuron at a time, which never raises E = −(1/2) sᵀWs.
- ``rbm``: a restricted Boltzmann machine (Smolensky 1986; trained by contrastive divergence, Hinton, Neural
  Computation 2002): 784 visible units, 64 hidden units, weights only between the two layers. ``forward`` is the
  mean-field reconstruction p(v | p(h | v)) that the demo's reconstruction error measures.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..i18n import N_
from .registry import ModelSpec, register_model

HOPFIELD_PAPER = (
    "Hopfield, Neural networks and physical systems with emergent collective computational abilities, PNAS 1982"
)
RBM_PAPER = "Hinton, Training Products of Experts by Minimizing Contrastive Divergence, Neural Computation 2002"
SIDE = 28  # Fashion-MNIST images
IMAGE = (1, SIDE, SIDE)
N_PIXELS = SIDE * SIDE
RBM_HIDDEN = 64


class SignUpdate(nn.Module):
    """sᵢ ← +1 where the local field hᵢ > 0, −1 where hᵢ < 0; a neuron whose field is exactly 0 keeps its state."""

    def forward(self, field: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return torch.where(field == 0, state, torch.sign(field))


class HopfieldNet(nn.Module):
    """N fully connected ±1 neurons. ``weights`` is the N×N matrix W (symmetric, zero diagonal once stored by the
    Hebbian rule W = (1/N) Σ p pᵀ, diagonal zeroed); N² numbers, of which N(N − 1)/2 are free."""

    def __init__(self, n: int = N_PIXELS) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.weights = nn.Linear(n, n, bias=False)  # the local fields h = W s
        self.update = SignUpdate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.flatten(x)  # N x n, entries ±1
        h = self.weights(s)  # N x n
        return self.update(h, s)  # N x n: every neuron updated at once (synchronous)


class TiedLinear(nn.Module):
    """The way back down an RBM: the same weights W, transposed, plus the visible biases (its only parameters)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight.t(), self.bias)

    def extra_repr(self) -> str:
        return f"features={self.bias.shape[0]}, weight tied (transposed)"


class RBM(nn.Module):
    """Visible v (784) ↔ hidden h (64); p(hⱼ = 1 | v) = σ(bⱼ + Wⱼ·v), p(vᵢ = 1 | h) = σ(aᵢ + W·ᵢ·h).

    ``hidden.weight`` is W (n_hidden × n_visible), ``hidden.bias`` the hidden biases b, ``visible.bias`` the visible
    biases a: n_visible·n_hidden + n_hidden + n_visible parameters.
    """

    def __init__(self, n_visible: int = N_PIXELS, n_hidden: int = RBM_HIDDEN) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden = nn.Linear(n_visible, n_hidden)
        self.hidden_act = nn.Sigmoid()
        self.visible = TiedLinear(n_visible)
        self.visible_act = nn.Sigmoid()

    def hidden_probs(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.hidden(v))

    def visible_probs(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.visible(h, self.hidden.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.flatten(x)  # N x 784
        p_h = self.hidden_act(self.hidden(v))  # N x 64
        return self.visible_act(self.visible(p_h, self.hidden.weight))  # N x 784: the reconstruction


def hopfield(n: int = N_PIXELS) -> HopfieldNet:
    return HopfieldNet(n)


def rbm(n_visible: int = N_PIXELS, n_hidden: int = RBM_HIDDEN) -> RBM:
    return RBM(n_visible, n_hidden)


register_model(ModelSpec(
    id="hopfield",
    family="Hopfield",
    title=N_("Hopfield network, 784 binary neurons (one per pixel)"),
    year=1982,
    paper=HOPFIELD_PAPER,
    input_shape=IMAGE,
    num_classes=N_PIXELS,
    builder=hopfield,
    params=N_PIXELS * N_PIXELS,
    introduced=N_("Associative memory: stored patterns are energy minima; a corrupted pattern rolls down to one."),
    notes=(
        N_("Every neuron connects to every other (全连接结构). Patterns are stored with the Hebbian rule "
           "W = (1/N) Σ p pᵀ over the stored patterns, diagonal set to zero; W is held as a full 784×784 matrix "
           "(614,656 numbers, 306,936 of them free because W is symmetric with a zero diagonal). One forward pass is "
           "a synchronous update; "
           "the recall demo updates one neuron at a time, and E = −(1/2) sᵀWs never increases.")
    ),
    source="paper",
    output_shape=(N_PIXELS,),
    output=N_("the next state of the 784 ±1 neurons"),
))

register_model(ModelSpec(
    id="rbm",
    family="Boltzmann machine",
    title=N_("Restricted Boltzmann machine, 784 visible × 64 hidden"),
    year=2002,
    paper=RBM_PAPER,
    input_shape=IMAGE,
    num_classes=N_PIXELS,
    builder=rbm,
    params=N_PIXELS * RBM_HIDDEN + RBM_HIDDEN + N_PIXELS,
    introduced=N_("A probabilistic generative model: an energy over visible and hidden units, trained by CD-1."),
    notes=(
        N_("Binary visible units (the pixels of a binarized image) and 64 binary hidden units, connected only across "
           "the two layers: 784·64 weights + 64 hidden biases + 784 visible biases = 51,024 parameters. "
           "E(v, h) = −aᵀv − bᵀh − hᵀWv. Contrastive divergence (CD-1) lowers the energy of the data and raises that "
           "of the model's one-step reconstructions.")
    ),
    source="paper",
    output_shape=(N_PIXELS,),
    output=N_("the mean-field reconstruction p(v | h) of the 784 pixels"),
))
