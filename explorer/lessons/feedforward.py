"""The notes' feedforward families at sizes a reader picks: built on the meta device and analysed, so a page can
resize them without allocating a weight."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..analysis import Summary, analyze
from ..zoo.feedforward import ConvAutoencoder, gan_discriminator, gan_generator, mlp


def mlp_summary(hidden: Sequence[int] = (256,), in_channels: int = 1, image_size: int = 28) -> Summary:
    """The MLP with these hidden widths on a flattened ``in_channels``×``image_size``² image."""
    with torch.device("meta"):
        model = mlp(in_channels=in_channels, hidden=tuple(hidden), image_size=image_size)
    return analyze(model, (in_channels, image_size, image_size))


def autoencoder_summary(code_size: int = 32) -> Summary:
    """The convolutional autoencoder with a ``code_size``-number bottleneck, on 1×28×28."""
    with torch.device("meta"):
        model = ConvAutoencoder(code_size=code_size)
    return analyze(model, (1, 28, 28))


def gan_summaries(latent_size: int = 100, width: int = 64) -> tuple[Summary, Summary]:
    """(generator on latent_size×1×1, discriminator on 1×28×28), both ``width`` channels at 14×14."""
    with torch.device("meta"):
        generator, discriminator = gan_generator(latent_size, width), gan_discriminator(width=width)
    return analyze(generator, (latent_size, 1, 1)), analyze(discriminator, (1, 28, 28))
