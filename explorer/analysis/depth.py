"""How many weight layers a network has — two counts, defined once, that the pages name whenever they show one.

A *weight layer* is a call of a convolution, a fully connected (linear) or a recurrent layer: what the papers count
when they name a network by its depth. Batch norms, activations and pooling are not counted (a recurrent layer
counts once, however many steps it runs).

- :func:`weight_layers_on_longest_path`: the most weight layers any input pixel passes through on its way to the
  output — the papers' depth. ResNet-18 → 18 (the 1×1 shortcut convolutions sit on shorter side paths), ResNet-50
  → 50, VGG-16 → 16, AlexNet → 8, GoogLeNet → 22 (Szegedy et al.: "22 layers deep when counting only layers with
  parameters").
- :func:`weight_layers_total`: every weight-layer call, side paths included. ResNet-18 → 21 (its three 1×1
  downsampling convolutions), ResNet-50 → 54 (four), GoogLeNet → 58 (all its parallel Inception paths).

Both are read off the traced data flow (:func:`explorer.analysis.graph.trace`), one node per layer call and one per
merge of paths, so they follow the real forward pass, not the module tree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..i18n import N_

if TYPE_CHECKING:  # the counts need PyTorch; the words below (shown on Home) do not
    from torch import nn

    from .graph import Graph

WEIGHT_LAYER_CATEGORIES = ("convolution", "fully connected", "recurrent")

LONGEST_PATH_NAME = "weight layers (longest path)"
TOTAL_NAME = "weight layers (all)"
LONGEST_PATH_HELP = (
    N_("Convolutions, linear and recurrent layers on the longest path from the input to the output — the papers' depth "
       "(ResNet-18 → 18, GoogLeNet → 22). Side paths (a 1×1 shortcut, parallel Inception branches) do not add to it.")
)
TOTAL_HELP = (
    N_("Every convolution, linear and recurrent layer call, side paths included (ResNet-18 → 21: its three 1×1 "
       "shortcut convolutions; GoogLeNet → 58: all its Inception branches).")
)


@dataclass(frozen=True)
class WeightLayers:
    longest_path: int
    total: int


def _is_weight(graph: Graph, node_id: str) -> bool:
    from .rules import category

    node = graph.nodes[node_id]
    return node.kind == "layer" and category(node.label) in WEIGHT_LAYER_CATEGORIES


def count_weight_layers(graph: Graph) -> WeightLayers:
    """Both counts of one traced graph. The graph's nodes are in execution order, so every edge runs forward and
    one pass in that order finds the longest path."""
    incoming: dict[str, list[str]] = defaultdict(list)
    for a, b in graph.edges:
        incoming[b].append(a)
    best: dict[str, int] = {}
    for node_id in graph.nodes:
        before = max((best.get(a, 0) for a in incoming[node_id]), default=0)
        best[node_id] = before + _is_weight(graph, node_id)
    total = sum(_is_weight(graph, n) for n in graph.nodes)
    return WeightLayers(longest_path=max(best.values(), default=0), total=total)


def weight_layers(model: str | nn.Module, input_shape: Sequence[int] | None = None) -> WeightLayers:
    """Both counts for a zoo id or a module (``input_shape`` without the batch axis; a module needs one)."""
    from .graph import trace

    return count_weight_layers(trace(model, input_shape))


def weight_layers_on_longest_path(model: str | nn.Module, input_shape: Sequence[int] | None = None) -> int:
    return weight_layers(model, input_shape).longest_path


def weight_layers_total(model: str | nn.Module, input_shape: Sequence[int] | None = None) -> int:
    return weight_layers(model, input_shape).total
