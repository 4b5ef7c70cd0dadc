"""The notes' other feedforward networks (前馈神经网络): the MLP, an autoencoder and a GAN's two halves.

- ``mlp``: d2l's multilayer perceptron (§4.3): Fashion-MNIST flattened, one hidden layer of 256 ReLU units.
- ``autoencoder``: a small convolutional autoencoder for 28×28 (Hinton & Salakhutdinov, Science 2006, made
  convolutional): compress to a 32-number code, reconstruct the image.
- ``gan-generator`` / ``gan-discriminator``: DCGAN-style halves for 28×28 (Goodfellow et al., NeurIPS 2014;
  Radford, Metz, Chintala, ICLR 2016): transposed convolutions up from a 100-d noise vector, strided convolutions
  down to one probability.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from ..i18n import N_
from .registry import ModelSpec, register_model

MLP_PAPER = "Rumelhart, Hinton, Williams, Learning Representations by Back-Propagating Errors, Nature 1986"
AE_PAPER = "Hinton & Salakhutdinov, Reducing the Dimensionality of Data with Neural Networks, Science 2006"
GAN_PAPER = (
    "Goodfellow et al., Generative Adversarial Nets, NeurIPS 2014; Radford, Metz, Chintala, Unsupervised "
    "Representation Learning with Deep Convolutional GANs (DCGAN), ICLR 2016"
)


# ---------------------------------------------------------------------------------------------------------------
# MLP
# ---------------------------------------------------------------------------------------------------------------
def mlp(
    in_channels: int = 1, num_classes: int = 10, hidden: Sequence[int] = (256,), image_size: int = 28
) -> nn.Sequential:
    """Flatten, then ``Linear → ReLU`` per hidden width, then the output layer (d2l's ``net`` of §4.3)."""
    layers: list[nn.Module] = [nn.Flatten()]  # N x (C·H·W)
    width = in_channels * image_size * image_size
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]  # N x h
        width = h
    layers.append(nn.Linear(width, num_classes))  # N x num_classes
    return nn.Sequential(*layers)


def mlp_params(widths: Sequence[int]) -> int:
    """Σ (fan_in + 1)·fan_out over consecutive widths (784, 256, 10) → 203,530: weights plus one bias per unit."""
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


# ---------------------------------------------------------------------------------------------------------------
# Autoencoder
# ---------------------------------------------------------------------------------------------------------------
class ConvAutoencoder(nn.Module):
    """Encoder: two stride-2 convolutions (28 → 14 → 7) and a linear layer down to ``code_size`` numbers.
    Decoder: the mirror image, with transposed convolutions (7 → 14 → 28) and a sigmoid for pixels in [0, 1]."""

    def __init__(self, in_channels: int = 1, code_size: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),  # N x 16 x 14 x 14
            nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1), nn.ReLU(),  # N x 32 x 7 x 7
            nn.Flatten(),  # N x 1568
            nn.Linear(32 * 7 * 7, code_size),  # N x code_size: the bottleneck
        )
        self.decoder = nn.Sequential(
            nn.Linear(code_size, 32 * 7 * 7), nn.ReLU(),  # N x 1568
            nn.Unflatten(1, (32, 7, 7)),  # N x 32 x 7 x 7
            nn.ConvTranspose2d(32, 16, kernel_size=3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 14 x 14
            nn.ConvTranspose2d(16, in_channels, kernel_size=3, stride=2, padding=1, output_padding=1),  # 28 x 28
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))  # N x C x 28 x 28


def autoencoder(in_channels: int = 1, code_size: int = 32) -> ConvAutoencoder:
    return ConvAutoencoder(in_channels=in_channels, code_size=code_size)


# ---------------------------------------------------------------------------------------------------------------
# GAN (DCGAN-style, 28×28)
# ---------------------------------------------------------------------------------------------------------------
def gan_generator(latent_size: int = 100, width: int = 64, out_channels: int = 1) -> nn.Sequential:
    """DCGAN's generator for 28×28: the noise z (``latent_size``×1×1) grows through transposed convolutions
    with batch norm and ReLU (no pooling, no fully connected layer); tanh on the output, as in the paper."""
    return nn.Sequential(OrderedDict(
        project=nn.Sequential(
            nn.ConvTranspose2d(latent_size, 2 * width, kernel_size=7, stride=1, padding=0, bias=False),  # 128×7×7
            nn.BatchNorm2d(2 * width), nn.ReLU(),
        ),
        up1=nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, kernel_size=4, stride=2, padding=1, bias=False),  # 64 x 14 x 14
            nn.BatchNorm2d(width), nn.ReLU(),
        ),
        up2=nn.Sequential(
            nn.ConvTranspose2d(width, out_channels, kernel_size=4, stride=2, padding=1, bias=False),  # 1 x 28 x 28
            nn.Tanh(),
        ),
    ))


def gan_discriminator(in_channels: int = 1, num_classes: int = 1, width: int = 64) -> nn.Sequential:
    """DCGAN's discriminator for 28×28: strided convolutions (28 → 14 → 7) with LeakyReLU(0.2), batch norm
    except on the first layer, a 7×7 convolution to one number and a sigmoid: the probability that x is real."""
    return nn.Sequential(OrderedDict(
        down1=nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=4, stride=2, padding=1, bias=False),  # N x 64 x 14 x 14
            nn.LeakyReLU(0.2),
        ),
        down2=nn.Sequential(
            nn.Conv2d(width, 2 * width, kernel_size=4, stride=2, padding=1, bias=False),  # N x 128 x 7 x 7
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        ),
        head=nn.Sequential(
            nn.Conv2d(2 * width, num_classes, kernel_size=7, bias=False),  # N x 1 x 1 x 1
            nn.Flatten(),  # N x 1
            nn.Sigmoid(),
        ),
    ))


# ---------------------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------------------
register_model(ModelSpec(
    id="mlp",
    family="MLP",
    title=N_("Multilayer perceptron 784-256-10 (d2l)"),
    year=1986,
    paper=MLP_PAPER,
    input_shape=(1, 28, 28),
    num_classes=10,
    builder=mlp,
    params=203_530,
    introduced=N_("The most basic feedforward network: fully connected layers with a nonlinearity between them."),
    notes=(
        N_("d2l's MLP on Fashion-MNIST: the 28×28 image flattened to 784 numbers, one hidden layer of 256 ReLU units, "
           "10 outputs. (784 + 1)·256 + (256 + 1)·10 = 203,530 parameters — every input pixel connects to every "
           "hidden unit, which is why the CNNs share weights instead.")
    ),
))

register_model(ModelSpec(
    id="autoencoder",
    family="Autoencoder",
    title=N_("Convolutional autoencoder for 28×28 (code of 32)"),
    year=2006,
    paper=AE_PAPER,
    input_shape=(1, 28, 28),
    num_classes=1,
    builder=autoencoder,
    params=111_521,
    introduced=N_("Unsupervised: compress the input into a small code, then reconstruct the input from it."),
    notes=(
        N_("Encoder: 3×3 stride-2 convolutions 28 → 14 → 7 (16, then 32 channels) and a linear layer down to a "
           "32-number code — 784 pixels squeezed 24.5×. Decoder: the mirror image with transposed convolutions and a "
           "sigmoid. Trained to make the output equal the input, the code becomes a learned low-dimensional "
           "representation (dimensionality reduction, feature learning).")
    ),
    source="paper",
    output_shape=(1, 28, 28),
    output=N_("the reconstructed image"),
))

register_model(ModelSpec(
    id="gan-generator",
    family="GAN",
    title=N_("DCGAN generator for 28×28"),
    year=2015,
    paper=GAN_PAPER,
    input_shape=(100, 1, 1),
    num_classes=1,
    builder=gan_generator,
    params=759_680,
    introduced=N_("Maps random noise to an image; trained to fool the discriminator. A feedforward network itself."),
    notes=(
        N_("The noise vector z (100 numbers, shaped 100×1×1) goes up through transposed convolutions: 1×1 → 7×7 "
           "(128 channels) → 14×14 (64) → 28×28 (1), with batch norm and ReLU between, tanh at the end. "
           "Convolutions without bias, as batch norm follows (DCGAN's guidelines).")
    ),
    source="paper",
    output_shape=(1, 28, 28),
    output=N_("a generated image in [−1, 1]"),
))

register_model(ModelSpec(
    id="gan-discriminator",
    family="GAN",
    title=N_("DCGAN discriminator for 28×28"),
    year=2015,
    paper=GAN_PAPER,
    input_shape=(1, 28, 28),
    num_classes=1,
    builder=gan_discriminator,
    params=138_624,
    introduced=N_("A binary classifier: the probability that its input is a real image rather than a generated one."),
    notes=(
        N_("Strided 4×4 convolutions 28 → 14 → 7 (64, then 128 channels) with LeakyReLU(0.2), batch norm on the "
           "second, a 7×7 convolution down to one number and a sigmoid. One output unit: `num_classes` is 1.")
    ),
    source="paper",
    output=N_("the probability that the input is real"),
))
