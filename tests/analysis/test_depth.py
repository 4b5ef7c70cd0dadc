"""The two weight-layer counts, checked against the papers' depths and against the summary's own depth."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import explorer
from explorer.analysis.depth import weight_layers, weight_layers_on_longest_path, weight_layers_total


@pytest.mark.parametrize(("model_id", "longest", "total"), [
    ("resnet18-tv", 18, 21),  # three 1×1 downsampling shortcuts
    ("resnet34-tv", 34, 37),
    ("resnet50-tv", 50, 54),  # four projection shortcuts
    ("vgg16", 16, 16),
    ("alexnet", 8, 8),
    ("googlenet-tv", 22, 58),  # "22 layers deep when counting only layers with parameters"
    ("googlenet", 22, 58),
    ("lenet", 5, 5),
])
def test_counts_match_the_papers(model_id, longest, total):
    counts = weight_layers(model_id)
    assert (counts.longest_path, counts.total) == (longest, total)
    assert explorer.analyze(model_id).depth == longest  # the summary's tracker agrees with the traced graph


@pytest.mark.parametrize("model_id", [s.id for s in explorer.list_models()])
def test_the_summary_depth_is_the_longest_path_count_for_every_model(model_id):
    # one definition of a weight layer: convolutions, linear and recurrent layers (an LSTM counts once)
    assert explorer.analyze(model_id).depth == weight_layers_on_longest_path(model_id)


def test_a_recurrent_layer_is_one_weight_layer():
    assert explorer.analyze("lstm").depth == weight_layers_on_longest_path("lstm") == 1


def test_a_module_counts_a_side_path_in_the_total_only():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.side = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x))) + self.side(x)

    assert weight_layers_on_longest_path(Skip(), (3, 8, 8)) == 2
    assert weight_layers_total(Skip(), (3, 8, 8)) == 3


def test_a_layer_called_twice_counts_twice():
    conv = nn.Conv2d(4, 4, 3, padding=1)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = conv

        def forward(self, x):
            return self.conv(self.conv(x))

    assert (weight_layers_on_longest_path(Twice(), (4, 6, 6)), weight_layers_total(Twice(), (4, 6, 6))) == (2, 2)


def test_a_module_needs_an_input_shape():
    with pytest.raises(ValueError, match="input_shape is required"):
        weight_layers(nn.Linear(3, 3))
