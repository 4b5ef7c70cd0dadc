"""LeNet-5 as the notes (d2l §6.6) build it: padding 2 on 28×28 input, sigmoid, average pooling."""

from __future__ import annotations

from torch import nn

from ..i18n import N_
from .registry import ModelSpec, register_model


def lenet(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    # The notes' Reshape() module only views the batch as N×1×28×28; the app feeds that shape directly.
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Sigmoid(),  # N x 6 x 28 x 28
        nn.AvgPool2d(kernel_size=2, stride=2),  # N x 6 x 14 x 14
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),  # N x 16 x 10 x 10
        nn.AvgPool2d(kernel_size=2, stride=2),  # N x 16 x 5 x 5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes),
    )


register_model(ModelSpec(
    id="lenet",
    family="LeNet",
    title=N_("LeNet-5 (d2l)"),
    year=1998,
    paper="LeCun et al., Gradient-Based Learning Applied to Document Recognition, Proc. IEEE 1998",
    input_shape=(1, 28, 28),
    num_classes=10,
    builder=lenet,
    params=61_706,
    d2l_result=N_("LeNet 0.78–0.79 (lr 0.9, batch 256, 10 epochs)"),
    introduced=N_("Convolution + pooling + fully connected: the first trained CNN used in production "
                  "(cheque reading)."),
    notes=(
        N_("Two convolution blocks (5×5 conv, sigmoid, 2×2 average pool) and three fully connected layers. "
           "The d2l version pads the first convolution by 2 so a 28×28 Fashion-MNIST image behaves like the "
           "original 32×32 input.")
    ),
))
