"""Names a learner can read: a display label for every module call, from the records alone.

The notes' nets are ``nn.Sequential`` chains whose layers are called "0" … "20"; the papers call the same layers
conv1 … pool5, fc6 … fc8 (AlexNet, in Caffe's numbering), conv3_2 (VGG: stage 3, second convolution), inception4c
(GoogLeNet) and res3a (ResNet: stage 3, first block). :func:`display_labels` gives those names; module paths, the
``state_dict`` keys and the summary JSON's ``"name"`` never change — a label is shown *beside* its path.

Three schemes, picked from the shape of the model (a pure function of its records and id):

* **a flat chain** (LeNet, AlexNet, user ``nn.Sequential`` nets): Caffe's numbering — every convolution or linear
  layer opens the next number, the layers after it share it (conv1, relu1, pool1, conv2 …, fc6, relu6, drop6);
* **stages ended by pooling** (VGG — torchvision's flat ``features`` or d2l's ``vgg_block`` list — and NiN's
  ``nin_block`` list): conv{stage}_{i} and pool{stage}, the classifier continuing Caffe's numbering (fc6 after five
  stages); d2l's blocks are named vgg_block1 … / nin_block1 …;
* **named stages holding blocks** (GoogLeNet, ResNet: ``b1`` … ``b5`` or torchvision's ``layer1`` … ``layer4``):
  Inception blocks are inception{stage}{a, b, …} and residual blocks res{stage}{a, b, …} (torchvision's layer1 is
  stage 2, after the conv1 stem, as in the ResNet paper); a layer inside a block is ``block/its own name``.

Where the path already reads well (torchvision's ``inception3a.branch2.0.conv``), the label is the path itself.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: summary.py can then import this module to fill LayerRecord.label
    from .summary import LayerRecord

_KIND = {  # a leaf's short name by module type; anything else: its type in lower case
    "Conv1d": "conv", "Conv2d": "conv", "Conv3d": "conv", "Linear": "fc", "MaxPool1d": "pool", "MaxPool2d": "pool",
    "AvgPool1d": "pool", "AvgPool2d": "pool", "AdaptiveAvgPool1d": "avgpool", "AdaptiveAvgPool2d": "avgpool",
    "AdaptiveMaxPool2d": "maxpool", "Dropout": "drop", "Dropout2d": "drop", "LocalResponseNorm": "norm",
    "BatchNorm1d": "bn", "BatchNorm2d": "bn", "Flatten": "flatten",
}
_WEIGHTED = {"conv", "fc"}
_UNNUMBERED = {"flatten", "avgpool", "maxpool"}  # one of each per net: the global pool before the classifier


def _kind(record: LayerRecord) -> str:
    return _KIND.get(record.type, record.type.lower())


def _own(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _all_digits(path: str) -> bool:
    return all(part.isdigit() for part in path.split(".")) if path else False


def _chain(records: Sequence[LayerRecord], stages: bool, number: int = 0) -> dict[str, str]:
    """Labels of a chain of leaves in execution order: Caffe's numbering, or VGG's conv{stage}_{i} while ``stages``
    (until the first linear layer, after which Caffe's numbering continues from the number of stages)."""
    out: dict[str, str] = {}
    stage, in_stage = 1, 0
    for r in records:
        kind = _kind(r)
        if stages and kind == "fc":
            stages, number = False, stage - 1
        if stages:
            if kind == "conv":
                in_stage += 1
            if kind == "pool":
                out[r.name] = f"pool{stage}"
                stage, in_stage = stage + 1, 0
            elif kind in _UNNUMBERED:
                out[r.name] = kind
            else:
                out[r.name] = f"{kind}{stage}_{in_stage}" if in_stage else f"{kind}{stage}"
            continue
        if kind in _WEIGHTED:
            number += 1
        out[r.name] = kind if kind in _UNNUMBERED or number == 0 else f"{kind}{number}"
    return out


def _stage_number(name: str, torchvision_layers: bool) -> int | None:
    """``b3`` → 3 (d2l's stages); ``layer1`` → 2 (torchvision's, after the conv1 stem)."""
    m = re.fullmatch(r"(?:b|stage|layer)(\d+)", name)
    if not m:
        return None
    return int(m.group(1)) + (1 if torchvision_layers else 0)


def _block_prefix(type_name: str) -> str | None:
    if "Inception" in type_name:
        return "inception"
    if any(k in type_name for k in ("Residual", "BasicBlock", "Bottleneck")):
        return "res"
    return None


def display_labels(records: Sequence[LayerRecord], model: str = "") -> dict[str, str]:
    """Module path → display label for every module call in ``records`` (a :class:`Summary`'s ``layers``; the
    model itself, path "", is left out). ``model`` is the zoo id (``vgg16``): torchvision's VGG is a flat chain that
    only its id tells apart from AlexNet's. A module called twice has one label."""
    records = [r for r in records if r.name]
    leaves = [r for r in records if r.is_leaf]
    containers = [r for r in records if not r.is_leaf]
    if not leaves:
        return {}
    top = [r for r in records if r.depth == 1]
    top_names = {r.name for r in top}
    torchvision_layers = any(re.fullmatch(r"layer\d+", n) for n in top_names)
    named_stages = [r for r in top if not r.is_leaf and _stage_number(r.name, torchvision_layers) is not None]

    chain = all(r.depth == 1 or _all_digits(_own(r.name)) for r in leaves)
    if not named_stages and not chain:
        return {r.name: r.name for r in records}  # named by its authors (torchvision's GoogLeNet): the path reads
    if not named_stages:
        # a chain: flat, or d2l's numbered blocks (vgg_block, nin_block), or torchvision's features/classifier
        numbered_blocks = [r for r in containers if r.depth == 1 and _all_digits(r.name)]
        stages = model.startswith("vgg") or bool(numbered_blocks)
        out = _chain(list({id(r): r for r in leaves}.values()), stages)
        prefix = "nin_block" if model.startswith("nin") else "vgg_block" if model.startswith("vgg") else "block"
        for block in numbered_blocks:
            inside = [out[r.name] for r in leaves if r.name.startswith(block.name + ".") and r.name in out]
            stage = next((re.search(r"\d+", label).group() for label in inside if re.search(r"\d+", label)), "")
            out[block.name] = f"{prefix}{stage}"
        return {r.name: out.get(r.name, r.name) for r in records}

    out: dict[str, str] = {}
    for stage_record in named_stages:
        s = _stage_number(stage_record.name, torchvision_layers)
        out[stage_record.name] = f"conv{s}_x" if torchvision_layers else f"stage{s}"
        inside = [r for r in records if r.name.startswith(stage_record.name + ".")]
        blocks = [r for r in inside if not r.is_leaf and r.depth == stage_record.depth + 1
                  and _block_prefix(r.type) is not None]
        for k, block in enumerate(blocks):
            letter = string.ascii_lowercase[k] if k < 26 else str(k)
            out[block.name] = f"{_block_prefix(block.type)}{s}{letter}"
        # the stage's own layers (d2l's b1, b2 and the pools between Inception blocks): numbered in their stage
        loose = [r for r in inside if r.is_leaf and not any(r.name.startswith(b.name + ".") for b in blocks)]
        convs = sum(1 for r in loose if _kind(r) == "conv")
        i = 0
        for r in loose:
            kind = _kind(r)
            i += kind == "conv"
            out[r.name] = kind if kind in _UNNUMBERED else \
                f"{kind}{s}_{i}" if convs > 1 and i and kind != "pool" else f"{kind}{s}"
        for block in blocks:  # a layer inside a block: the block's label, then the path below it
            for r in inside:
                if r.name.startswith(block.name + "."):
                    out[r.name] = f"{out[block.name]}/{r.name[len(block.name) + 1:]}"
    for r in records:  # what the stages leave: the stem, the head — their own names, or Caffe's kind for numbers
        if r.name not in out and not any(r.name.startswith(s.name + ".") for s in named_stages):
            out[r.name] = _kind(r) if _all_digits(_own(r.name)) else r.name
    return out


def label_of(labels: dict[str, str], path: str) -> str:
    """The display label of ``path`` (``#2`` call suffixes ignored), or the path itself where none is known."""
    base = path.split("#", 1)[0]
    return labels.get(base, base)


def with_path(labels: dict[str, str], path: str) -> str:
    """``"conv1 (0)"``: the label with the module path beside it, or the path alone where they are the same."""
    shown = label_of(labels, path)
    base = path.split("#", 1)[0]
    return base if shown == base else f"{shown} ({base})"
