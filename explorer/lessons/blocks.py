"""Blocks and layers (块和层): a model's container tree, with how many layers each block holds.

A *layer* here is a leaf module call of the analysis (one row of the layer table: a convolution, a ReLU, a
pooling …); a *block* is a container call (a ``Sequential`` stage, an Inception block, a residual block). The
counts come from :class:`explorer.Summary`, so they follow the real forward pass: a module called twice counts twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..analysis import LayerRecord, Summary
from ..analysis.depth import WEIGHT_LAYER_CATEGORIES
from ..analysis.rules import category  # the one table of what each module type is

__all__ = ["CATEGORIES", "WEIGHT_LAYER_CATEGORIES", "Block", "block_tree", "category", "category_counts"]

# The notes' kinds of layers (层：常见全连接层、卷积层、池化层、激活层、归一化层), plus the ones the zoo also has.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("convolution", "卷积层"),
    ("fully connected", "全连接层"),
    ("pooling", "池化层"),
    ("activation", "激活层"),
    ("normalization", "归一化层"),
    ("recurrent", "循环层"),
    ("other", "其他"),
)


@dataclass(frozen=True)
class Block:
    """One container call and what it holds (all levels below it)."""

    index: int  # the record's index in the summary
    name: str
    type: str
    depth: int
    parent: int | None
    layers: int  # leaf layer calls inside
    weight_layers: int  # of which weight layers (explorer.analysis.depth's definition: every call, side paths too)
    children: int  # direct sub-blocks and layers
    params: int
    output_shape: tuple[int, ...] | None
    kinds: tuple[tuple[str, int], ...]  # layer types inside, in network order (the order the data first meets them)

    @property
    def label(self) -> str:
        return self.name or "(model)"


def _leaves_under(summary: Summary) -> dict[int, list[LayerRecord]]:
    under: dict[int, list[LayerRecord]] = {r.index: [] for r in summary.layers if not r.is_leaf}
    for r in summary.leaves:
        p = r.parent
        while p is not None:
            under[p].append(r)
            p = summary.layers[p].parent
    return under


def block_tree(summary: Summary) -> list[Block]:
    """Every container call (the model itself first), with its layer counts, in execution order."""
    under = _leaves_under(summary)
    direct = Counter(r.parent for r in summary.layers if r.parent is not None)
    blocks = []
    for r in summary.layers:
        if r.is_leaf:
            continue
        leaves = under[r.index]
        kinds = Counter(x.type for x in leaves)
        blocks.append(Block(
            index=r.index, name=r.name, type=r.type, depth=r.depth, parent=r.parent, layers=len(leaves),
            weight_layers=sum(x.category in WEIGHT_LAYER_CATEGORIES for x in leaves), children=direct[r.index],
            params=r.params_total, output_shape=r.output_shape,
            kinds=tuple(kinds.items()),  # a Counter keeps first-seen order: the leaves are in execution order
        ))
    return blocks


def category_counts(summary: Summary) -> dict[str, int]:
    """Leaf layer calls per category, in :data:`CATEGORIES` order (categories with none left out)."""
    counts = Counter(r.category for r in summary.leaves)
    return {name: counts[name] for name, _ in CATEGORIES if counts[name]}
