"""Per-layer analysis: exact totals (torchinfo's convention), column sums, block totals, shape arithmetic, errors.

Everything here runs on the meta device, so the whole registry (VGG-19 included) takes well under a second.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
import torch
import torchinfo
from torch import nn

import explorer
from explorer import InputShapeError, analyze
from explorer.present import formatting as fmt
from explorer.zoo import registry

IDS = [s.id for s in explorer.list_models()]


@cache
def summary_of(model_id: str) -> explorer.Summary:
    """Summaries are frozen dataclasses: safe to share between tests."""
    return analyze(model_id)


def children(summary: explorer.Summary, record: explorer.LayerRecord) -> list[explorer.LayerRecord]:
    return [r for r in summary.layers if r.parent == record.index]


# ---------------------------------------------------------------------------------------------------------------
# Every registry id: totals, column sums, execution order, block totals
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", IDS)
def test_totals_match_spec_and_column_sums(model_id):
    spec = explorer.get_spec(model_id)
    s = summary_of(model_id)
    assert s.model == model_id
    assert s.input_shape == (1, *spec.input_shape)
    assert s.output_shape == (1, *spec.output_dims)  # (1, num_classes) for a classifier
    assert s.total_params == spec.params
    assert s.trainable_params == spec.params
    assert s.param_bytes == 4 * spec.params
    assert sum(r.params for r in s.layers) == s.total_params
    assert sum(r.macs for r in s.layers) == s.total_macs
    assert s.total_macs > 0
    assert s.total_memory == sum(r.memory for r in s.leaves)


@pytest.mark.parametrize("model_id", IDS)
def test_total_macs_follow_torchinfo(model_id):
    spec = explorer.get_spec(model_id)
    with torch.device("meta"):
        model = spec.build()
    stats = torchinfo.summary(model.eval(), input_size=(1, *spec.input_shape), device="meta", verbose=0)
    s = summary_of(model_id)
    # torchinfo counts a linear layer once per batch row; on a sequence (N×T×d) it runs once per position.
    per_position = sum(
        layer.macs * (_prod(layer.output_size[1:-1]) - 1)
        for layer in stats.summary_list
        if layer.is_leaf_layer and layer.class_name == "Linear" and len(layer.output_size) > 2
    )
    assert s.total_macs == stats.total_mult_adds + per_position
    assert s.total_params == stats.total_params


def test_linear_on_a_sequence_counts_every_position():
    # the transformer's FFN on 10 positions: 10 × (512·2048 + 2048 + 2048·512 + 512) = 20,997,120
    assert summary_of("ffn").total_macs == 10 * 2_099_712


@pytest.mark.parametrize("model_id", IDS)
def test_layers_are_in_execution_order(model_id):
    spec = explorer.get_spec(model_id)
    with torch.device("meta"):
        model = spec.build().eval()
    names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
    calls: list[str] = []
    handles = [m.register_forward_pre_hook(lambda mod, args: calls.append(names[id(mod)])) for m in model.modules()]
    try:
        with torch.no_grad():
            model(torch.empty(1, *spec.input_shape, device="meta"))
    finally:
        for h in handles:
            h.remove()
    s = summary_of(model_id)
    assert [r.name for r in s.layers] == calls
    assert [r.index for r in s.layers] == list(range(len(s.layers)))


@pytest.mark.parametrize("model_id", IDS)
def test_depth_and_parents(model_id):
    s = summary_of(model_id)
    root, *rest = s.layers
    assert (root.name, root.depth, root.parent, root.is_leaf) == ("", 0, None, False)
    assert root.output_shape == s.output_shape
    for r in rest:
        parent = s.layers[r.parent]
        assert parent.index < r.index
        assert r.depth == parent.depth + 1
        assert not parent.is_leaf
        assert parent.name == "" or r.name.startswith(parent.name + ".")
        assert r.is_leaf == (not children(s, r))


@pytest.mark.parametrize("model_id", IDS)
def test_block_totals_are_own_plus_children(model_id):
    s = summary_of(model_id)
    for r in s.layers:
        kids = children(s, r)
        assert r.params_total == r.params + sum(k.params_total for k in kids), r.name
        assert r.macs_total == r.macs + sum(k.macs_total for k in kids), r.name
        if not r.is_leaf:
            assert r.macs == 0
    assert s.layers[0].params_total == s.total_params
    assert s.layers[0].macs_total == s.total_macs


@pytest.mark.parametrize("model_id", IDS)
def test_leaf_records_are_consistent(model_id):
    s = summary_of(model_id)
    for r in s.leaves:
        assert r.output_shape is not None and r.output_shape[0] == 1
        assert r.memory == 4 * _prod(r.output_shape)
        assert r.label  # a display name (conv1, fc6 …): tests/analysis/test_labels.py checks which
        if r.params == 0:
            assert r.macs == 0, f"{r.name}: MACs without parameters"


def _prod(dims) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


# ---------------------------------------------------------------------------------------------------------------
# Shape arithmetic: every formula the library prints evaluates to the output size it states
# ---------------------------------------------------------------------------------------------------------------
_SAFE = re.compile(r"^[0-9+\-*/() ]+$")


def evaluate(formula: str) -> tuple[int, int]:
    """``"⌊(55 + 2·0 − 3)/2⌋ + 1 = 27"`` → (27, 27): the formula's value and the number after ``=``."""
    text = re.sub(r" \([a-z][a-z ]*\)$", "", formula)  # a trailing note in words, e.g. "(the last window …)"
    text = text.replace("·", "*").replace("−", "-")
    text = re.sub(r"⌊\((.*?)\)/(\d+)⌋", r"((\1)//\2)", text)
    text = re.sub(r"⌈\((.*?)\)/(\d+)⌉", r"(-(-(\1)//\2))", text)
    lhs, rhs = text.rsplit("=", 1)
    assert _SAFE.match(lhs), f"cannot read {formula!r}"
    return eval(lhs), int(rhs)  # noqa: S307 — digits and + − · / ( ) only, checked above


def formula_parts(arithmetic: str) -> list[str]:
    """Split ``"H: …, W: …"`` into its formulas; one formula stays one."""
    if arithmetic.startswith("H: "):
        h, w = arithmetic[3:].split(", W: ")
        return [h, w]
    return [arithmetic]


@pytest.mark.parametrize("model_id", IDS)
def test_shape_arithmetic_is_true(model_id):
    if len(explorer.get_spec(model_id).input_shape) == 2:
        pytest.skip("a sequence model: its linear and recurrent layers keep T and map features, no size formula")
    checked = 0
    for r in summary_of(model_id).layers:
        if r.arithmetic is None or "→" in r.arithmetic:
            continue
        parts = formula_parts(r.arithmetic)
        for part, size in zip(parts, r.output_shape[-len(parts):]):
            value, stated = evaluate(part)
            assert value == stated == size, f"{model_id} {r.name}: {r.arithmetic} (output {r.output_shape})"
            checked += 1
    assert checked > 0


def test_alexnet_shape_arithmetic_strings():
    layers = summary_of("alexnet").layers
    by_name = {r.name: r for r in layers}
    assert by_name["0"].arithmetic == "⌊(224 + 2·2 − 11)/4⌋ + 1 = 55"
    first_pool = next(r for r in layers if r.type == "MaxPool2d")
    assert first_pool.arithmetic == "⌊(55 + 2·0 − 3)/2⌋ + 1 = 27"
    assert by_name["3"].arithmetic == "27 + 2·2 − 5 + 1 = 27"  # stride 1: no floor needed
    assert by_name["13"].arithmetic == "256·6·6 = 9216"
    assert by_name["14"].arithmetic == "9216 → 4096 features"
    assert by_name["1"].arithmetic is None  # ReLU keeps the shape: no rule


def test_adaptive_pool_arithmetic():
    by_name = {r.name: r for r in summary_of("alexnet-tv").layers}
    assert by_name["avgpool"].arithmetic == "adaptive: 6×6 → 6×6"


# ---------------------------------------------------------------------------------------------------------------
# Rule table: tiny modules with hand-computed answers (torchscan-style)
# ---------------------------------------------------------------------------------------------------------------
# torchinfo's MAC convention (the project's): for a Conv*, (weight + bias elements) × output positions
# (batch × spatial, channels excluded, since out_channels is already in the weight); for any other module with
# weights, (weight + bias elements) × batch. Bias is counted. Parameter-free modules have 0 MACs.
RULES = [
    # (id, module, input (C, ...), output shape, params, MACs, arithmetic)
    # Conv2d(3, 8, 3) on 32×32: out 30×30; params 8·3·3·3 + 8 = 224;
    # MACs 8·30·30·27 (weights) + 8·30·30 (bias) = 194,400 + 7,200 = 201,600.
    ("conv", nn.Conv2d(3, 8, 3), (3, 32, 32), (1, 8, 30, 30), 224, 201_600, "32 + 2·0 − 3 + 1 = 30"),
    # Without bias: torchscan's 194,400 = 8·30·30·3·3·3.
    ("conv-nobias", nn.Conv2d(3, 8, 3, bias=False), (3, 32, 32), (1, 8, 30, 30), 216, 194_400,
     "32 + 2·0 − 3 + 1 = 30"),
    # stride 2, pad 1: ⌊(32 + 2 − 3)/2⌋ + 1 = 16; MACs 224·16·16 = 57,344.
    ("conv-stride-pad", nn.Conv2d(3, 8, 3, stride=2, padding=1), (3, 32, 32), (1, 8, 16, 16), 224, 57_344,
     "⌊(32 + 2·1 − 3)/2⌋ + 1 = 16"),
    # groups 2: each output channel sees 4/2 = 2 input channels: 8·2·3·3 + 8 = 152 params; 152·30·30 = 136,800.
    ("conv-groups", nn.Conv2d(4, 8, 3, groups=2), (4, 32, 32), (1, 8, 30, 30), 152, 136_800,
     "32 + 2·0 − 3 + 1 = 30"),
    # depthwise: 8·1·3·3 + 8 = 80 params; 80·30·30 = 72,000.
    ("conv-depthwise", nn.Conv2d(8, 8, 3, groups=8), (8, 32, 32), (1, 8, 30, 30), 80, 72_000,
     "32 + 2·0 − 3 + 1 = 30"),
    # dilation 2: k_eff = 3 + (3 − 1)(2 − 1) = 5, out 32 − 5 + 1 = 28; MACs 224·28·28 = 175,616.
    ("conv-dilated", nn.Conv2d(3, 8, 3, dilation=2), (3, 32, 32), (1, 8, 28, 28), 224, 175_616,
     "32 + 2·0 − 2·(3 − 1) − 1 + 1 = 28"),
    # dilation 2, stride 2, pad 2: ⌊(32 + 4 − 5)/2⌋ + 1 = 16; 224·16·16 = 57,344.
    ("conv-dilated-stride", nn.Conv2d(3, 8, 3, stride=2, padding=2, dilation=2), (3, 32, 32), (1, 8, 16, 16),
     224, 57_344, "⌊(32 + 2·2 − 2·(3 − 1) − 1)/2⌋ + 1 = 16"),
    # 3×5 kernel, stride (2, 1), pad (1, 2): H ⌊(32 + 2 − 3)/2⌋ + 1 = 16, W 32 + 4 − 5 + 1 = 32;
    # params 8·3·3·5 + 8 = 368; MACs 368·16·32 = 188,416.
    ("conv-rect", nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2)), (3, 32, 32), (1, 8, 16, 32), 368,
     188_416, "H: ⌊(32 + 2·1 − 3)/2⌋ + 1 = 16, W: 32 + 2·2 − 5 + 1 = 32"),
    # Conv1d(2, 4, 3) on length 10: out 8; params 4·2·3 + 4 = 28; MACs 28·8 = 224.
    ("conv1d", nn.Conv1d(2, 4, 3), (2, 10), (1, 4, 8), 28, 224, "10 + 2·0 − 3 + 1 = 8"),
    # ConvTranspose2d(4, 2, 2, stride 2) on 8×8: out (8 − 1)·2 + 2 = 16; params 4·2·2·2 + 2 = 34;
    # torchinfo's Conv rule counts it like a convolution: 34·16·16 = 8,704.
    ("conv-transposed", nn.ConvTranspose2d(4, 2, 2, stride=2), (4, 8, 8), (1, 2, 16, 16), 34, 8_704,
     "(8 − 1)·2 − 2·0 + 1·(2 − 1) + 0 + 1 = 16"),
    # Linear(100, 10): params 100·10 + 10 = 1,010; MACs 1,010 (one row).
    ("linear", nn.Linear(100, 10), (100,), (1, 10), 1_010, 1_010, "100 → 10 features"),
    ("linear-nobias", nn.Linear(100, 10, bias=False), (100,), (1, 10), 1_000, 1_000, "100 → 10 features"),
    # BatchNorm2d(8): weight + bias = 16 params (running stats are buffers); torchinfo: 16 × batch 1 = 16 MACs.
    ("batchnorm", nn.BatchNorm2d(8), (8, 16, 16), (1, 8, 16, 16), 16, 16, None),
    ("maxpool", nn.MaxPool2d(2), (3, 32, 32), (1, 3, 16, 16), 0, 0, "⌊(32 + 2·0 − 2)/2⌋ + 1 = 16"),
    ("maxpool-ceil", nn.MaxPool2d(3, stride=2, ceil_mode=True), (3, 32, 32), (1, 3, 16, 16), 0, 0,
     "⌈(32 + 2·0 − 3)/2⌉ + 1 = 16"),
    ("avgpool", nn.AvgPool2d(3, stride=2, padding=1), (3, 32, 32), (1, 3, 16, 16), 0, 0,
     "⌊(32 + 2·1 − 3)/2⌋ + 1 = 16"),
    ("avgpool-default-stride", nn.AvgPool2d(3), (3, 10, 10), (1, 3, 3, 3), 0, 0, "⌊(10 + 2·0 − 3)/3⌋ + 1 = 3"),
    ("adaptive", nn.AdaptiveAvgPool2d(1), (3, 7, 5), (1, 3, 1, 1), 0, 0, "adaptive: 7×5 → 1×1"),
    ("relu", nn.ReLU(), (3, 4, 4), (1, 3, 4, 4), 0, 0, None),
    ("flatten", nn.Flatten(), (3, 4, 5), (1, 60), 0, 0, "3·4·5 = 60"),
]


@pytest.mark.parametrize(
    ("module", "input_shape", "output_shape", "params", "macs", "arithmetic"),
    [r[1:] for r in RULES],
    ids=[r[0] for r in RULES],
)
def test_rule_table(module, input_shape, output_shape, params, macs, arithmetic):
    s = analyze(module, input_shape)
    (record,) = s.layers
    assert record.output_shape == output_shape == s.output_shape
    assert record.params == s.total_params == params
    assert record.macs == s.total_macs == macs
    assert record.arithmetic == arithmetic
    # The hand numbers are torchinfo's convention, checked against torchinfo itself.
    stats = torchinfo.summary(module, input_size=(1, *input_shape), device="meta", verbose=0)
    assert stats.total_mult_adds == macs


def test_ceil_mode_formula_when_last_window_starts_in_padding():
    # MaxPool2d(2, stride 2, pad 1, ceil) on 5: ⌈(5 + 2 − 2)/2⌉ + 1 = 4, but window 4 would start at 6 ≥ 5 + 1,
    # so PyTorch drops it: the output is 3.
    (record,) = analyze(nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), (1, 5, 5)).layers
    assert record.output_shape == (1, 1, 3, 3)
    value, stated = evaluate(record.arithmetic)
    assert value == stated == 3


def test_padding_same_arithmetic():
    (record,) = analyze(nn.Conv2d(1, 2, 3, padding="same"), (1, 5, 7)).layers
    assert record.output_shape == (1, 2, 5, 7)
    assert record.arithmetic == "padding='same' → 5×7"


# ---------------------------------------------------------------------------------------------------------------
# Exact published totals, by hand
# ---------------------------------------------------------------------------------------------------------------
def test_alexnet_total_macs_by_hand():
    # MACs = (weights + biases) × output positions (torchinfo):
    #   conv1  (96·3·11·11 + 96)   = 34,944     × 55·55 = 3,025 → 105,705,600
    #   conv2  (256·96·5·5 + 256)  = 614,656    × 27·27 =   729 → 448,084,224
    #   conv3  (384·256·3·3 + 384) = 885,120    × 13·13 =   169 → 149,585,280
    #   conv4  (384·384·3·3 + 384) = 1,327,488  × 169           → 224,345,472
    #   conv5  (256·384·3·3 + 256) = 884,992    × 169           → 149,563,648
    #   fc1    9216·4096 + 4096    = 37,752,832                 →  37,752,832
    #   fc2    4096·4096 + 4096    = 16,781,312                 →  16,781,312
    #   fc3    4096·1000 + 1000    =  4,097,000                 →   4,097,000
    #   total                                                     1,135,915,368
    s = summary_of("alexnet")
    weighted = [(r.type, r.params, r.macs) for r in s.layers if r.params]
    assert weighted == [
        ("Conv2d", 34_944, 105_705_600),
        ("Conv2d", 614_656, 448_084_224),
        ("Conv2d", 885_120, 149_585_280),
        ("Conv2d", 1_327_488, 224_345_472),
        ("Conv2d", 884_992, 149_563_648),
        ("Linear", 37_752_832, 37_752_832),
        ("Linear", 16_781_312, 16_781_312),
        ("Linear", 4_097_000, 4_097_000),
    ]
    assert s.total_macs == 1_135_915_368
    assert s.total_params == 62_378_344


def test_lenet_totals_by_hand():
    # conv1 (6·1·5·5 + 6) = 156 × 28·28 → 122,304; conv2 (16·6·5·5 + 16) = 2,416 × 10·10 → 241,600;
    # fc 400·120 + 120 = 48,120; 120·84 + 84 = 10,164; 84·10 + 10 = 850.  Sum 423,038.
    s = summary_of("lenet")
    assert [r.macs for r in s.layers if r.params] == [122_304, 241_600, 48_120, 10_164, 850]
    assert s.total_macs == 423_038
    # Leaf outputs (float32): 2·6·28·28 + 6·14·14 + 2·16·10·10 + 16·5·5 + 400 + 2·120 + 2·84 + 10 = 15,002 floats.
    assert s.total_memory == 15_002 * 4
    assert s.param_bytes == 61_706 * 4


def test_conv_depth_of_plain_chains():
    assert summary_of("lenet").depth == 5
    assert summary_of("alexnet").depth == 8
    assert summary_of("vgg11").depth == 11
    assert summary_of("vgg13").depth == 13
    assert summary_of("vgg16").depth == 16
    assert summary_of("vgg19").depth == 19


@pytest.mark.parametrize(("model_id", "depth"), [("resnet18-tv", 18), ("resnet50-tv", 50)])
def test_conv_depth_of_residual_nets(model_id, depth):
    # DESIGN's contract ids: a missing one is a failure (get_spec raises KeyError), never a skip.
    assert model_id in IDS, f"{model_id} is a contract id of DESIGN.md and must be registered"
    assert summary_of(model_id).depth == depth


# ---------------------------------------------------------------------------------------------------------------
# User modules
# ---------------------------------------------------------------------------------------------------------------
def dilated_stack() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, dilation=1), nn.ReLU(),
        nn.Conv2d(4, 4, 3, dilation=2), nn.ReLU(),
        nn.Conv2d(4, 4, 3, dilation=4),
    )


def test_analyze_user_module():
    torch.manual_seed(0)
    model = dilated_stack()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    s = analyze(model, (1, 32, 32))
    # 32 → 30 (k 3) → 26 (k_eff 5) → 18 (k_eff 9)
    assert [r.output_shape for r in s.layers if r.type == "Conv2d"] == [(1, 4, 30, 30), (1, 4, 26, 26), (1, 4, 18, 18)]
    assert s.model == "Sequential"
    assert s.output_shape == (1, 4, 18, 18)
    # params: 4·1·9 + 4 = 40, then 4·4·9 + 4 = 148 twice → 336
    assert s.total_params == 336
    # MACs: 40·900 + 148·676 + 148·324 = 36,000 + 100,048 + 47,952 = 184,000
    assert s.total_macs == 184_000
    # The user's module is left alone: same device, same values, still training, no hooks left behind.
    for name, tensor in model.state_dict().items():
        assert tensor.device.type == "cpu"
        assert torch.equal(tensor, before[name]), name
    assert model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_analyze_user_module_requires_input_shape():
    with pytest.raises(ValueError, match="input_shape"):
        analyze(dilated_stack())


def test_analyze_builds_zoo_models_on_meta():
    devices: list[str] = []

    def builder(**overrides):
        devices.append(torch.empty(0).device.type)
        return nn.Sequential(nn.Flatten(), nn.Linear(4, 2))

    model_id = "__throwaway-meta__"
    spec = explorer.ModelSpec(
        id=model_id, family="Test", title="throwaway", year=2000, paper="none", input_shape=(1, 2, 2),
        num_classes=2, builder=builder, params=10, introduced="nothing",
    )
    registry.register_model(spec)
    try:
        s = analyze(model_id)
    finally:
        registry._REGISTRY.pop(model_id, None)
    assert devices == ["meta"]
    assert (s.total_params, s.total_macs, s.output_shape) == (10, 10, (1, 2))


@pytest.mark.parametrize("text", ["3,224,224", "3x224x224", "3×224×224", " 3, 224 ,224 "])
def test_input_shape_as_text(text):
    s = analyze("alexnet", text)
    assert s.input_shape == (1, 3, 224, 224)
    assert s.total_macs == 1_135_915_368


def test_other_input_size_changes_shapes_not_params():
    s = analyze("nin", (1, 96, 96))
    assert s.total_params == 1_992_166
    assert s.output_shape == (1, 10)
    # ⌊(96 − 11)/4⌋ + 1 = 22
    assert s.layers[2].output_shape == (1, 96, 22, 22)


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------
def test_too_small_input_names_the_failing_layer():
    # 16 → conv1 ⌊(16 + 4 − 11)/4⌋ + 1 = 3 → pool 1 → conv2 1 → pool2 ⌊(1 − 3)/2⌋ + 1 = 0: layer "5".
    with pytest.raises(InputShapeError) as info:
        analyze("alexnet", (3, 16, 16))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("alexnet cannot take input 3×16×16")
    assert "layer 5 (MaxPool2d(" in message
    assert "too small" in message


@pytest.mark.parametrize(("model_id", "layer"), [("alexnet", "layer 0 (Conv2d("), ("alexnet-tv", "layer features.0")])
def test_wrong_channel_count_names_the_first_conv(model_id, layer):
    with pytest.raises(InputShapeError) as info:
        analyze(model_id, (1, 224, 224))
    message = str(info.value)
    assert layer in message
    assert "expects 3 input channels, got 1" in message


def test_lenet_at_32_fails_in_the_first_linear():
    # The d2l LeNet pads conv1, so 32×32 gives 16·6·6 = 576 features where Linear expects 16·5·5 = 400.
    with pytest.raises(InputShapeError) as info:
        analyze("lenet", (1, 32, 32))
    message = str(info.value)
    assert "layer 7 (Linear(" in message
    assert "expects 400 input features, got 576" in message


@pytest.mark.parametrize(
    "bad",
    [
        (0, 224, 224),
        (3, -1, 224),
        (3, 224, 0),
        (1, 3, 224, 224),  # too many dims for a 3-dimensional spec
        (224, 224),
        (),
        (3, 100_000, 224),
        "3,22.5,224",
        "a,b,c",
        "3,224,",
        "",
        "0,224,224",
        "3;224;224",
    ],
)
def test_bad_input_shapes_raise_input_shape_error(bad):
    with pytest.raises(InputShapeError):
        analyze("alexnet", bad)


@pytest.mark.parametrize("bad", [(3, 224.5, 224), (3, "a", 224)])
def test_non_integer_tuple_input_raises_input_shape_error(bad):
    with pytest.raises(InputShapeError):
        analyze("alexnet", bad)


def test_input_shape_error_is_a_value_error():
    assert issubclass(InputShapeError, ValueError)


def test_unknown_id_raises_key_error():
    with pytest.raises(KeyError, match="alexnet"):
        analyze("alexnt")


# ---------------------------------------------------------------------------------------------------------------
# to_dict: the summary --json contract
# ---------------------------------------------------------------------------------------------------------------
TOP_KEYS = {"model", "input", "output", "total_params", "total_macs", "receptive_field", "layers"}
LAYER_KEYS = {"name", "type", "depth", "output_shape", "params", "macs", "rf", "stride", "label"}


@pytest.mark.parametrize("model_id", IDS)
def test_to_dict_contract(model_id):
    s = summary_of(model_id)
    d = s.to_dict()
    assert set(d) == TOP_KEYS
    assert set(d["receptive_field"]) == {"size", "stride", "padding"}
    assert all(is_stride(v) if k == "stride" else v is None or isinstance(v, int)
               for k, v in d["receptive_field"].items())
    assert d["model"] == model_id
    assert d["input"] == list(s.input_shape)
    assert d["output"] == [1, *explorer.get_spec(model_id).output_dims]  # [1, num_classes] for a classifier
    assert (d["total_params"], d["total_macs"]) == (s.total_params, s.total_macs)
    assert len(d["layers"]) == len(s.layers)
    for layer in d["layers"]:
        assert set(layer) == LAYER_KEYS
        assert all(isinstance(v, int) for v in layer["output_shape"])
        # an int, or one per spatial axis where the axes differ (Inception-v3's 1×7 and 7×1 convolutions)
        assert layer["rf"] is None or isinstance(layer["rf"], int) or all(isinstance(v, int) for v in layer["rf"])
        stride = layer["stride"]
        assert is_stride(stride) or (isinstance(stride, list) and all(is_stride(v) for v in stride))
    assert json.loads(json.dumps(d)) == d


def is_stride(v) -> bool:
    """An effective stride in the JSON: an int, or — only where it is not whole (upsampling from a 1×1 code gives
    0.5, 0.25) — a float; or null."""
    return v is None or isinstance(v, int) or (isinstance(v, float) and not v.is_integer())


def test_to_dict_alexnet_values():
    d = summary_of("alexnet").to_dict()
    assert d["input"] == [1, 3, 224, 224]
    assert d["output"] == [1, 1000]
    assert d["total_params"] == 62_378_344
    assert d["total_macs"] == 1_135_915_368
    assert d["layers"][0] == {
        "name": "", "type": "Sequential", "depth": 0, "output_shape": [1, 1000], "params": 0, "macs": 0,
        "rf": None, "stride": None, "label": "Sequential",
    }
    conv1 = d["layers"][1]
    assert {k: conv1[k] for k in ("name", "type", "depth", "output_shape", "params", "macs")} == {
        "name": "0", "type": "Conv2d", "depth": 1, "output_shape": [1, 96, 55, 55], "params": 34_944,
        "macs": 105_705_600,
    }
    assert conv1["label"] == "conv1" and d["layers"][2]["label"] == "relu1" and d["layers"][3]["label"] == "pool1"


# ---------------------------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "text"),
    [
        (62_378_344, "62.4 M"),
        (1_135_915_368, "1.14 G"),
        (61_706, "61.7 K"),
        (138_357_544, "138 M"),
        (1_000, "1 K"),
        (999, "999"),
        (0, "0"),
        (2_500_000_000_000, "2.5 T"),
    ],
)
def test_short(n, text):
    assert fmt.short(n) == text


def test_short_with_unit():
    assert fmt.short(1_135_915_368, "MACs") == "1.14 GMACs"
    assert fmt.short(12, "B") == "12 B"


@pytest.mark.parametrize(("n", "text"), [(999_999, "1 M"), (999_600_000, "1 G")])
def test_short_rounds_into_the_next_unit(n, text):
    assert fmt.short(n) == text


def test_exact_and_exact_and_short():
    assert fmt.exact(62_378_344) == "62,378,344"
    assert fmt.exact(61_706) == "61,706"
    assert fmt.exact(0) == "0"
    assert fmt.exact_and_short(62_378_344) == "62,378,344 (62.4 M)"
    assert fmt.exact_and_short(61_706) == "61,706 (61.7 K)"
    assert fmt.exact_and_short(999) == "999"


def test_nbytes_and_shape():
    assert fmt.nbytes(2_408_448) == "2.30 MiB"
    assert fmt.nbytes(512) == "512 B"
    assert fmt.nbytes(4 * 62_378_344) == "237.95 MiB"
    assert fmt.shape((1, 96, 55, 55)) == "96×55×55"
    assert fmt.shape((1, 96, 55, 55), batch=True) == "1×96×55×55"
    assert fmt.shape(None) == "—"
    assert fmt.shape((1,)) == "scalar"


class Regroup(nn.Module):
    """Hands on 64 images for each 224×224 one: the notes' ``Reshape`` at the wrong input size."""

    def forward(self, x):
        return x.view(-1, 1, 28, 28)


def test_a_module_that_changes_the_batch_is_an_error():
    from explorer.analysis import BatchChangeError
    from explorer.i18n import render, use_language

    net = nn.Sequential(Regroup(), nn.Conv2d(1, 6, 5), nn.Flatten())
    with pytest.raises(BatchChangeError) as caught:
        analyze(net, (1, 224, 224))
    err = caught.value
    assert isinstance(err, InputShapeError)  # handled wherever a bad input is
    assert str(err) == "regroup (Regroup) turns 1 image into 64: per-image numbers would be wrong"
    assert (err.layer, err.images) == ("0", 64)  # the innermost module, not the Sequential around it
    with use_language("zh"):
        assert render(err) == "regroup（Regroup）把 1 张图像变成了 64 张：按每张图像算的数字都会是错的"
    assert analyze(net, (1, 28, 28)).layers[1].output_shape == (1, 1, 28, 28)  # the size it was written for
