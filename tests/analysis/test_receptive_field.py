"""Receptive fields: hand-computed cases, published anchors, and the gradient cross-check over the whole zoo."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import explorer
from explorer.analysis import dilation
from explorer.analysis.empirical import effective_field, fitting_input, measured_field
from explorer.cli import main


def final_spatial(summary):
    """The call that ends last among those with a spatial output larger than 1×1 — a block ending in a
    concatenation counts as a whole — skipping adaptive pools (their geometry changes with the input size, and the
    measurement grows the input)."""
    candidates = [
        r for r in summary.layers
        if r.field is not None and "Adaptive" not in r.type and len(r.output_shape) == 4
        and r.output_shape[2] * r.output_shape[3] > 1
    ]
    assert candidates, "no spatial layer"
    return max(candidates, key=lambda r: r.finished)


def expected_interval(record, unit):
    return tuple(a.interval(c) for a, c in zip(record.field, unit))


def check_against_gradient(model, input_shape, record):
    measured = measured_field(model, input_shape, record.name, call=record.call)
    assert measured.intervals == expected_interval(record, measured.unit), (record.name, measured)


# --- hand-computed cases ------------------------------------------------------------------------------------------
def test_dilated_stack_1_2_4_gives_3_7_15():
    stack = dilation.stack([1, 2, 4])
    s = explorer.analyze(stack, (1, 32, 32))
    convs = [r for r in s.layers if r.type == "Conv2d"]
    assert [r.rf for r in convs] == [3, 7, 15]
    assert [r.stride for r in convs] == [1, 1, 1]
    assert dilation.growth([1, 2, 4]) == [3, 7, 15]
    check_against_gradient(stack, (1, 32, 32), convs[-1])


def test_stride_two_then_dilation():
    # conv 3×3 stride 2: r = 3, j = 2; then 3×3 dilation 2 (k_eff 5): r = 3 + 4·2 = 11, j = 2.
    net = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Conv2d(2, 2, 3, dilation=2))
    s = explorer.analyze(net, (1, 40, 40))
    assert [(r.rf, r.stride) for r in s.layers[1:]] == [(3, 2), (11, 2)]
    assert s.receptive_field.to_dict() == {"size": 11, "stride": 2, "padding": 0}
    check_against_gradient(net, (1, 40, 40), s.layers[-1])


class TwoBranch(nn.Module):
    """A 3×3 path and a 1×1 → 5×5 path concatenated, then a 3×3 conv: the union of the paths, not their sum."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 2, 3, padding=1)
        self.b1 = nn.Conv2d(1, 2, 1)
        self.b2 = nn.Conv2d(2, 2, 5, padding=2)
        self.head = nn.Conv2d(4, 1, 3, padding=1)

    def forward(self, x):
        return self.head(torch.cat([torch.relu(self.a(x)), self.b2(self.b1(x))], dim=1))


def test_two_branch_takes_the_union():
    s = explorer.analyze(TwoBranch(), (1, 32, 32))
    by_name = {r.name: r for r in s.layers}
    assert by_name["a"].rf == 3 and by_name["b2"].rf == 5
    # In series (torchscan's walk) it would be 1 + 2 + 0 + 4 + 2 = 9; the union of 3 and 5, then 3×3: 7.
    assert by_name["head"].rf == 7
    assert s.receptive_field.to_dict() == {"size": 7, "stride": 1, "padding": 3}
    check_against_gradient(TwoBranch(), (1, 32, 32), by_name["head"])


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 1, 3, padding=1, stride=2)
        self.conv2 = nn.Conv2d(1, 1, 3, padding=1)
        self.skip = nn.Conv2d(1, 1, 1, stride=2)

    def forward(self, x):
        y = self.conv2(torch.relu(self.conv1(x)))
        y += self.skip(x)
        return torch.relu(y)


def test_residual_skip_with_in_place_add():
    s = explorer.analyze(Residual(), (1, 33, 33))
    assert s.layers[0].rf == 7 and s.layers[0].stride == 2  # 3, then 3 + 2·2 = 7; the 1×1 skip sees 1 ⊂ 7
    check_against_gradient(Residual(), (1, 33, 33), s.layers[0])


def test_factorised_1x7_7x1_is_per_axis():
    net = nn.Sequential(nn.Conv2d(1, 1, (1, 7), padding=(0, 3)), nn.Conv2d(1, 1, (7, 1), padding=(3, 0)))
    s = explorer.analyze(net, (1, 20, 20))
    assert s.layers[1].rf == [1, 7] and s.layers[2].rf == 7
    check_against_gradient(net, (1, 20, 20), s.layers[1])


def test_ceil_mode_and_pool_padding():
    net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.Conv2d(1, 1, 3))
    s = explorer.analyze(net, (1, 30, 30))
    # conv: r 3 j 1 u 0; pool: r 5, j 2, u −1; conv: r 5 + 2·2 = 9, j 2, u −1
    assert s.receptive_field.to_dict() == {"size": 9, "stride": 2, "padding": 1}
    check_against_gradient(net, (1, 30, 30), s.layers[-1])


def test_unsupported_operation_is_named_not_guessed():
    class Rolled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(torch.roll(x, 1, dims=2))

    s = explorer.analyze(Rolled(), (1, 10, 10))
    assert s.layers[-1].rf is None and s.layers[-1].rf_status == "unsupported"
    assert s.rf_unsupported == ("roll",)
    assert s.receptive_field.to_dict() == {"size": None, "stride": None, "padding": None}


def test_classifier_is_not_spatial():
    s = explorer.analyze("lenet")
    linear = [r for r in s.layers if r.type == "Linear"]
    assert all(r.rf is None and r.stride is None and r.rf_status == "not spatial" for r in linear)


# --- published anchors ----------------------------------------------------------------------------------------------
def test_inception_block_output_is_the_union_of_its_paths():
    # d2l GoogLeNet at 96 px: the last Inception block's output unit sees what its widest path (the 5×5) sees,
    # more than its pooling path, which ends the block's forward pass just before the concatenation.
    s = explorer.analyze("googlenet")
    block = next(r for r in s.layers if r.name == "b5.1")
    pool_path = next(r for r in s.layers if r.name == "b5.1.relu4_2")
    assert block.rf > pool_path.rf
    assert s.receptive_field.size == block.rf


def test_alexnet_pool5_is_195_px_stride_32():
    assert explorer.analyze("alexnet").receptive_field.to_dict() == {"size": 195, "stride": 32, "padding": 66}


def test_vgg16_pool5_is_212_px_stride_32_padding_90():
    assert explorer.analyze("vgg16").receptive_field.to_dict() == {"size": 212, "stride": 32, "padding": 90}


def test_longest_path_depth():
    depths = {m: explorer.analyze(m).depth for m in ("lenet", "alexnet", "vgg16", "googlenet", "resnet18-tv")}
    assert depths == {"lenet": 5, "alexnet": 8, "vgg16": 16, "googlenet": 22, "resnet18-tv": 18}


def test_cli_reports_receptive_field(capsys):
    assert main(["summary", "vgg16", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["receptive_field"] == {"size": 212, "stride": 32, "padding": 90}
    pool5 = [layer for layer in out["layers"] if layer["type"] == "MaxPool2d"][-1]
    assert (pool5["rf"], pool5["stride"]) == (212, 32)


# --- the gradient cross-check over the whole registry ---------------------------------------------------------------
# A few small models with every kind of path (a plain stack, Inception's branches, a residual block with its 1×1
# shortcut) stay in the fast loop; the whole registry (2–55 s per big model) is `slow`.
GRADIENT_FAST = ("lenet", "inception-v1", "resblock-1x1conv")


@pytest.mark.parametrize("model_id", [
    s.id if s.id in GRADIENT_FAST else pytest.param(s.id, marks=pytest.mark.slow) for s in explorer.list_models()
])
def test_analytic_field_equals_gradient_measured(model_id):
    spec = explorer.get_spec(model_id)
    summary = explorer.analyze(model_id)
    if not any(r.field is not None and r.output_shape is not None and len(r.output_shape) == 4 for r in summary.layers):
        pytest.skip(f"{model_id} has no layer with a spatial receptive field (no image feature map)")
    record = final_spatial(summary)
    shape = fitting_input(model_id, spec.input_shape, record.name, record.field, record.call)
    check_against_gradient(model_id, shape, record)
    # The model's reported field is that call's (an adaptive pool after it is an identity at the default size).
    assert summary.receptive_field.to_dict() == {"size": record.rf, "stride": record.stride,
                                                 "padding": -record.field[0].u}


# --- dilation and the effective field -------------------------------------------------------------------------------
def test_dilation_helpers():
    assert dilation.k_eff(3, 2) == 5 and dilation.k_eff(5, 4) == 17
    assert dilation.k_eff_formula(3, 2) == "k_eff = 3 + (3 − 1)·(2 − 1) = 5"
    assert dilation.taps(3, 2).sum() == 9 and dilation.taps(3, 2).shape == (5, 5)
    assert dilation.output_size(32, 3, 2) == 28 == nn.Conv2d(1, 1, 3, dilation=2)(torch.zeros(1, 1, 32, 32)).shape[-1]
    assert dilation.output_formula(32, 3, 2) == "32 + 2·0 − 2·(3 − 1) − 1 + 1 = 28"
    assert (dilation.gridding([1, 2, 4]) > 0).all()
    grid = dilation.gridding([2, 2, 2])
    assert grid.shape == (13, 13) and (grid == 0).sum() == 120  # only even rows × even columns are seen
    with pytest.raises(ValueError):
        dilation.k_eff(0, 1)


@pytest.mark.slow
def test_effective_field_is_a_central_blob():
    heat = effective_field("resnet18", (1, 96, 96), "b5.1.relu2", samples=2)
    assert heat.shape == (96, 96) and float(heat.max()) == pytest.approx(1.0)
    peak = divmod(int(heat.argmax()), 96)
    assert all(30 <= c <= 66 for c in peak)  # near the centre unit's centre
    theoretical = 96 * 96  # the 435-px field covers the whole input
    assert float((heat >= 0.05).float().sum()) < 0.5 * theoretical
