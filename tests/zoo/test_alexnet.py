"""AlexNet: the notes' table (``alexnet``) and the notes' code (``alexnet-d2l``), which disagree — the erratum."""

from __future__ import annotations

import pytest
from torch import nn

import explorer
from tests.zoo.conftest import meta_build


@pytest.mark.parametrize("model_id", ["alexnet", "alexnet-d2l"])
def test_errata_are_recorded(model_id):
    assert len(explorer.get_spec(model_id).errata) >= 1  # each erratum's fields: test_registry.py


def _conv_pool_shapes(model_id: str) -> list[tuple[str, int, int]]:
    return [
        (r.type, r.output_shape[1], r.output_shape[-1])
        for r in explorer.analyze(model_id).layers
        if r.type in ("Conv2d", "MaxPool2d")
    ]


def test_alexnet_follows_the_notes_table():
    # conv1 55 → pool 27 → conv2 27 → pool 13 → conv3/4/5 13 → pool 6 (the table's 55→27→13→13→13→6).
    assert _conv_pool_shapes("alexnet") == [
        ("Conv2d", 96, 55), ("MaxPool2d", 96, 27),
        ("Conv2d", 256, 27), ("MaxPool2d", 256, 13),
        ("Conv2d", 384, 13), ("Conv2d", 384, 13), ("Conv2d", 256, 13), ("MaxPool2d", 256, 6),
    ]
    flatten = [r for r in explorer.analyze("alexnet").layers if r.type == "Flatten"]
    assert [r.output_shape for r in flatten] == [(1, 9216)]  # 256·6·6


def test_alexnet_d2l_follows_the_notes_code():
    assert _conv_pool_shapes("alexnet-d2l") == [
        ("Conv2d", 96, 54), ("MaxPool2d", 96, 26),
        ("Conv2d", 256, 26), ("MaxPool2d", 256, 12),
        ("Conv2d", 384, 12), ("Conv2d", 384, 12), ("Conv2d", 256, 12), ("MaxPool2d", 256, 5),
    ]
    flatten = [r for r in explorer.analyze("alexnet-d2l").layers if r.type == "Flatten"]
    assert [r.output_shape for r in flatten] == [(1, 6400)]  # 256·5·5


def test_alexnet_d2l_first_conv_is_one_channel_pad_one():
    conv1 = meta_build("alexnet-d2l")[0]
    assert isinstance(conv1, nn.Conv2d)
    assert (conv1.in_channels, conv1.out_channels) == (1, 96)
    assert conv1.kernel_size == (11, 11) and conv1.stride == (4, 4) and conv1.padding == (1, 1)
    conv1 = meta_build("alexnet")[0]
    assert (conv1.in_channels, conv1.padding) == (3, (2, 2))
