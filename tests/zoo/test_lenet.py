"""LeNet (the notes' d2l version): overrides change exactly the first and last layer."""

from __future__ import annotations

import torch

import explorer
from tests.zoo.conftest import n_params


def test_lenet_overrides_change_exactly_the_first_and_last_layer():
    # num_classes=5: the last Linear(84, 10) = 850 params becomes Linear(84, 5) = 425.
    assert n_params(explorer.build("lenet", num_classes=5)) == 61_706 - 850 + 425
    # in_channels=3: conv1's weight grows from 6·1·5·5 = 150 to 6·3·5·5 = 450.
    assert n_params(explorer.build("lenet", in_channels=3)) == 61_706 + 300


def test_lenet_num_classes_override_real_forward():
    torch.manual_seed(0)
    model = explorer.build("lenet", num_classes=5).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, 28, 28))
    assert out.shape == (1, 5)
    assert torch.isfinite(out).all()
