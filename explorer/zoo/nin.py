"""Network in Network: a convolution followed by two 1×1 convolutions (a per-pixel MLP), global average pooling."""

from __future__ import annotations

from torch import nn

from ..i18n import N_
from .registry import Erratum, ModelSpec, register_model


def nin_block(in_channels: int, out_channels: int, kernel_size: int, strides: int, padding: int) -> nn.Sequential:
    """The notes' NiN block with its bug fixed: the two 1×1 convolutions really are 1×1."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )


# (out_channels, kernel, stride, padding) per NiN block, as in the notes' table.
NIN_ARCH = ((96, 11, 4, 0), (256, 5, 1, 2), (384, 3, 1, 1))


def nin(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    layers: list[nn.Module] = []
    for out_channels, k, s, p in NIN_ARCH:
        layers += [nin_block(in_channels, out_channels, k, s, p), nn.MaxPool2d(3, stride=2)]
        in_channels = out_channels
    return nn.Sequential(
        *layers,  # N x 384 x 5 x 5 at 224
        nn.Dropout(0.5),
        nin_block(in_channels, num_classes, kernel_size=3, strides=1, padding=1),  # N x classes x 5 x 5
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


register_model(ModelSpec(
    id="nin",
    family="NiN",
    title=N_("NiN (d2l, 1×1 convolutions fixed)"),
    year=2013,
    paper="Lin, Chen, Yan, Network In Network, ICLR 2014 (arXiv:1312.4400)",
    input_shape=(1, 224, 224),
    num_classes=10,
    builder=nin,
    params=1_992_166,
    d2l_result=N_("NiN 0.79 (224 px, lr 0.1, 10 epochs)"),
    introduced=N_("1×1 convolutions as a per-pixel MLP, and global average pooling instead of fully connected layers."),
    notes=(
        N_("Four NiN blocks (convolution + two 1×1 convolutions) alternate with 3×3 max-pools; the last block has "
           "one channel per class and a global average pool turns each channel into a class score.")
    ),
    errata=(Erratum(
        title=N_("NiN's 1×1 convolutions get the block's kernel size"),
        notes_code=(
            "nn.Conv2d(out_channels, out_channels, kernel_size), nn.ReLU(),\n"
            "nn.Conv2d(out_channels, out_channels, kernel_size), nn.ReLU()"
        ),
        fixed_code=(
            "nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),\n"
            "nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU()"
        ),
        why=(
            N_("The notes' own text says the two extra layers are 1×1 convolutions (stride 1, pad 0). Passing "
               "kernel_size makes them 11×11, 5×5 and 3×3 convolutions without padding: the first block alone "
               "then shrinks 54 → 44 → 34 and the parameter count balloons.")
        ),
    ),),
))
