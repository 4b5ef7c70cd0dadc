"""The rule table (one rule per module type): proved against torchinfo and parameter counts over the whole registry,
hand-computed formulas, a rule registered for a new type, and exact receptive fields through upsampling — checked
against the gradient of single output units."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
import torchinfo
from torch import nn

import explorer
from explorer.analysis import rules
from explorer.analysis.empirical import fitting_input, layer_output_size, measured_field
from explorer.analysis.field import Axis, describe
from explorer.analysis.graph import trace
from explorer.analysis.meta import build_meta, fast_meta_forwards
from explorer.analysis.rules import UNSUPPORTED_RULE, Rule, register_rule, rule_for, unregister_rule
from explorer.cli import main
from explorer.lessons import blocks

IDS = [s.id for s in explorer.list_models()]


def formula_value(formula: str) -> int:
    """``"(11·11·3 + 1)·96 = 34,944"`` → 34944, after checking that the expression does evaluate to it; a formula
    that is a count with a note (``"784 (visible biases …)"``) → 784."""
    if " = " not in formula:
        return int(re.match(r"[\d,]+", formula).group().replace(",", ""))
    lhs, rhs = formula.rsplit(" = ", 1)
    stated = int(rhs.replace(",", ""))
    expression = lhs.replace("·", "*").replace("−", "-")
    assert re.fullmatch(r"[0-9+\-*/() ]+", expression), f"cannot read {formula!r}"
    assert eval(expression) == stated, formula  # noqa: S307 — digits and + − · / ( ) only, checked above
    return stated


def _shape(size) -> tuple[int, ...] | None:
    if isinstance(size, (list, tuple)) and size and isinstance(size[0], (list, tuple)):
        return _shape(size[0])
    return tuple(size) if size else None


# ---------------------------------------------------------------------------------------------------------------
# The table proved over the whole registry
# ---------------------------------------------------------------------------------------------------------------
# Leaf types of the zoo whose MACs are torchinfo's count, not a rule's: the RBM's tied layer (F.linear with another
# layer's weight: torchinfo counts its own bias only, and that is the number kept).
TORCHINFO_MACS = {"TiedLinear"}


@pytest.mark.parametrize("model_id", IDS)
def test_rule_macs_equal_torchinfo_per_layer(model_id):
    spec = explorer.get_spec(model_id)
    module = build_meta(spec).eval()
    fast_meta_forwards(module)
    stats = torchinfo.summary(module, input_size=(1, *spec.input_shape), device="meta", verbose=0)
    fallback, checked = set(), 0
    for info in stats.summary_list:
        if not info.is_leaf_layer:
            continue
        inp, out = _shape(info.input_size), _shape(info.output_size)
        rule = rule_for(info.module)
        assert rule.supported, f"{model_id}: {info.class_name} has no rule"
        macs = rule.macs(info.module, inp, out)
        if macs is None:
            fallback.add(info.class_name)
            continue
        expected = info.macs
        if isinstance(info.module, nn.Linear) and len(out) > 2:
            expected *= math.prod(out[1:-1])  # torchinfo counts once per batch row; it runs once per position
        assert macs == expected, f"{model_id} {info.var_name} ({info.class_name}): rule {macs}, torchinfo {expected}"
        formula = rule.macs_formula(info.module, inp, out)
        if formula is not None:
            assert formula_value(formula) == macs, formula
        checked += 1
    assert fallback <= TORCHINFO_MACS, fallback
    assert checked > 0


@pytest.mark.parametrize("model_id", IDS)
def test_param_formulas_equal_each_layers_parameters(model_id):
    s = explorer.analyze(model_id)
    for r in s.layers:
        if r.params:
            assert r.param_formula is not None, f"{model_id} {r.name} ({r.type}): no parameter formula"
            assert formula_value(r.param_formula) == r.params, (model_id, r.name, r.param_formula)
        else:
            assert r.param_formula is None
        if r.macs_formula is not None:
            assert formula_value(r.macs_formula) == r.macs, (model_id, r.name, r.macs_formula)
        if r.is_leaf:
            assert r.has_rule and r.category in dict(blocks.CATEGORIES), (model_id, r.name, r.type)
    assert s.unsupported_types == ()


# ---------------------------------------------------------------------------------------------------------------
# Hand-computed rules (torchscan-style tables of tiny modules)
# ---------------------------------------------------------------------------------------------------------------
FORMULAS = [
    # (id, module, input (C, …), parameter formula, MACs formula)
    ("alexnet-conv1", nn.Conv2d(3, 96, 11, stride=4, padding=2), (3, 224, 224), "(11·11·3 + 1)·96 = 34,944",
     "96·55·55·(11·11·3 + 1) = 105,705,600"),
    ("conv-nobias", nn.Conv2d(3, 8, 3, bias=False), (3, 32, 32), "3·3·3·8 = 216", "8·30·30·3·3·3 = 194,400"),
    ("conv-groups", nn.Conv2d(4, 8, 3, groups=2), (4, 32, 32), "(3·3·(4/2) + 1)·8 = 152",
     "8·30·30·(3·3·(4/2) + 1) = 136,800"),
    ("conv1d", nn.Conv1d(2, 4, 3), (2, 10), "(3·2 + 1)·4 = 28", "4·8·(3·2 + 1) = 224"),
    # A transposed convolution's weight is c_in × c_out × k × k: the same count; torchinfo's MACs: × output positions.
    ("generator-project", nn.ConvTranspose2d(100, 128, 7, bias=False), (100, 1, 1), "7·7·100·128 = 627,200",
     "128·7·7·7·7·100 = 30,732,800"),
    ("conv-transposed", nn.ConvTranspose2d(4, 2, 2, stride=2), (4, 8, 8), "(2·2·4 + 1)·2 = 34",
     "2·16·16·(2·2·4 + 1) = 8,704"),
    ("batchnorm", nn.BatchNorm2d(96), (96, 27, 27), "2·96 = 192", "2·96 = 192"),
    ("alexnet-fc2", nn.Linear(4096, 4096), (4096,), "(4096 + 1)·4096 = 16,781,312",
     "(4096 + 1)·4096 = 16,781,312"),
    ("linear-on-sequence", nn.Linear(512, 2048), (10, 512), "(512 + 1)·2048 = 1,050,624",
     "10·(512 + 1)·2048 = 10,506,240"),
    ("linear-nobias", nn.Linear(100, 10, bias=False), (100,), "100·10 = 1,000", "100·10 = 1,000"),
    ("rnn", nn.RNN(28, 64, batch_first=True), (28, 28), "64·(28 + 64) + 2·64 = 6,016",
     "28·(64·(28 + 64) + 2·64) = 168,448"),
    ("lstm", nn.LSTM(28, 64, batch_first=True), (28, 28), "4·(64·(28 + 64) + 2·64) = 24,064",
     "28·(4·(64·(28 + 64) + 2·64)) = 673,792"),
    ("gru-2-layers-bidirectional", nn.GRU(8, 16, num_layers=2, bidirectional=True, batch_first=True), (5, 8),
     "(2·(3·(16·(8 + 16) + 2·16))) + (2·(3·(16·(32 + 16) + 2·16))) = 7,296",
     "5·((2·(3·(16·(8 + 16) + 2·16))) + (2·(3·(16·(32 + 16) + 2·16)))) = 36,480"),
    ("layernorm", nn.LayerNorm(512), (10, 512), "2·512 = 1,024", "2·512 = 1,024"),
    ("embedding", nn.Embedding(1000, 64), None, "1000·64 = 64,000", None),
    ("maxpool", nn.MaxPool2d(2), (3, 8, 8), None, None),
]


@pytest.mark.parametrize(("module", "input_shape", "params", "macs"), [f[1:] for f in FORMULAS],
                         ids=[f[0] for f in FORMULAS])
def test_formula_table(module, input_shape, params, macs):
    rule = rule_for(module)
    assert rule.params(module) == params
    own = sum(p.numel() for p in module.parameters())
    if params is not None:
        assert formula_value(params) == own
    if input_shape is None:
        return
    (record,) = [r for r in explorer.analyze(module, input_shape).layers]
    assert record.param_formula == params
    assert record.macs_formula == macs
    stats = torchinfo.summary(module, input_size=(1, *input_shape), device="meta", verbose=0)
    positions = math.prod(record.output_shape[1:-1]) if isinstance(module, nn.Linear) else 1
    assert record.macs == stats.total_mult_adds * positions
    if macs is not None:
        assert formula_value(macs) == record.macs


def test_alexnet_formulas():
    by_name = {r.name: r for r in explorer.analyze("alexnet").layers}
    assert (by_name["0"].param_formula, by_name["0"].macs_formula) == (
        "(11·11·3 + 1)·96 = 34,944", "96·55·55·(11·11·3 + 1) = 105,705,600")
    assert (by_name["14"].param_formula, by_name["14"].macs_formula) == (
        "(9216 + 1)·4096 = 37,752,832", "(9216 + 1)·4096 = 37,752,832")
    assert by_name["1"].param_formula is None and by_name["1"].category == "activation"


def test_categories_come_from_the_rules():
    assert [rules.category(t) for t in ("Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d", "AdaptiveAvgPool2d",
                                        "ReLU", "BatchNorm2d", "LSTM", "Flatten", "Upsample", "SignUpdate",
                                        "TiedLinear", "NoSuchLayer")] == [
        "convolution", "convolution", "fully connected", "pooling", "pooling", "activation", "normalization",
        "recurrent", "other", "other", "activation", "fully connected", "other"]
    assert rules.category(nn.Conv2d(1, 1, 1)) == rules.category(nn.Conv2d) == "convolution"
    assert blocks.category is rules.category


def test_shape_preserving_feature_maps_and_gradient_stand_ins():
    assert rule_for(nn.BatchNorm2d(3)).preserves_shape and rule_for(nn.ReLU()).preserves_shape
    assert not rule_for(nn.Conv2d(1, 1, 3)).preserves_shape and not rule_for(nn.Flatten()).preserves_shape
    assert all(rule_for(m).feature_map for m in (nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1)))
    assert not any(rule_for(m).feature_map for m in (nn.ReLU(), nn.Linear(2, 2), nn.BatchNorm2d(2)))
    pool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
    avg = rule_for(pool).gradient_proxy(pool)
    assert isinstance(avg, nn.AvgPool2d)
    assert (avg.kernel_size, avg.stride, avg.padding, avg.ceil_mode) == (3, 2, 1, True)
    assert isinstance(rule_for(nn.AdaptiveMaxPool2d(2)).gradient_proxy(nn.AdaptiveMaxPool2d(2)), nn.AdaptiveAvgPool2d)
    assert rule_for(nn.MaxPool2d(3, dilation=2)).gradient_proxy(nn.MaxPool2d(3, dilation=2)) is None
    assert rule_for(nn.ConvTranspose2d(1, 1, 2)).gradient_proxy(nn.ConvTranspose2d(1, 1, 2)) is None


def test_diagram_details_come_from_the_rules():
    g = trace(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(8 * 8 * 8, 10)), (3, 32, 32))
    details = [(n.label, n.detail) for n in g.nodes.values() if n.kind == "layer"]
    assert details == [("Conv2d", "3×3, 3→8, stride 2, pad 1"), ("MaxPool2d", "2×2, stride 2"), ("Flatten", ""),
                       ("Linear", "512→10")]


# ---------------------------------------------------------------------------------------------------------------
# A rule for a new module type: every fact about it from that one rule
# ---------------------------------------------------------------------------------------------------------------
class Shift2x(nn.Module):
    """Keeps every second pixel from the second on (x[1::2, 1::2]), scaled per channel: unit o sees pixel 2o + 1."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., 1::2, 1::2] * self.scale


class Shift2xRule(Rule):
    category = "pooling"

    def shape(self, m, inp, out):
        return f"⌊({inp[-1]} + 2·0 − 2)/2⌋ + 1 = {out[-1]}"

    def params(self, m):
        return f"1·{m.scale.numel()} = {m.scale.numel()}"

    def macs(self, m, inp, out):
        return math.prod(out[1:])  # one multiplication per output value

    def macs_formula(self, m, inp, out):
        return f"{'·'.join(map(str, out[1:]))} = {self.macs(m, inp, out):,}"

    def field(self, m, src, inp, out):
        return rules.window(src, 1, 2, -1)  # unit o reads unit 2o + 1: a 1-wide window, stride 2, padding −1

    def detail(self, m):
        return "every 2nd pixel from 1"


@pytest.fixture
def shift2x_rule() -> Iterator[Rule]:
    rule = register_rule(Shift2x, rule=Shift2xRule())
    try:
        yield rule
    finally:
        unregister_rule(Shift2x)  # other tests see Shift2x as an unknown type again


def shift_net() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), Shift2x(4), nn.Conv2d(4, 2, 3))


def test_a_registered_rule_gives_every_fact(shift2x_rule):
    assert rule_for(Shift2x(4)) is shift2x_rule
    with pytest.raises(ValueError, match="already registered"):
        register_rule(Shift2x, rule=Shift2xRule())
    s = explorer.analyze(shift_net(), (1, 32, 32))
    shift = next(r for r in s.layers if r.type == "Shift2x")
    assert shift.arithmetic == "⌊(32 + 2·0 − 2)/2⌋ + 1 = 16" and shift.output_shape == (1, 4, 16, 16)
    assert (shift.params, shift.param_formula) == (4, "1·4 = 4")
    assert (shift.macs, shift.macs_formula) == (1024, "4·16·16 = 1,024")  # the rule's, not torchinfo's 0
    assert shift.category == "pooling" and shift.has_rule and s.unsupported_types == ()
    # conv 3×3 pad 1: r 3, u −1; the shift: unit o sees conv unit 2o + 1 → r 3, j 2, u 0; conv 3×3: r 7, j 2.
    assert (shift.rf, shift.stride, -shift.field[0].u) == (3, 2, 0)
    assert s.receptive_field.to_dict() == {"size": 7, "stride": 2, "padding": 0}
    assert blocks.category_counts(s) == {"convolution": 2, "pooling": 1}
    for r in (shift, s.layers[-1]):  # the rule's field is the gradient's
        m = measured_field(shift_net(), (1, 32, 32), r.name)
        assert m.intervals == tuple(a.interval(c) for a, c in zip(r.field, m.unit)), r.name
    node = next(n for n in trace(shift_net(), (1, 32, 32)).nodes.values() if n.label == "Shift2x")
    assert node.detail == "every 2nd pixel from 1"


def test_an_unknown_type_is_unsupported_from_one_place():
    assert rule_for(Shift2x(4)) is UNSUPPORTED_RULE and not UNSUPPORTED_RULE.supported
    assert rules.category(Shift2x) == "other"
    s = explorer.analyze(shift_net(), (1, 32, 32))
    shift = next(r for r in s.layers if r.type == "Shift2x")
    assert s.unsupported_types == ("Shift2x",) and not shift.has_rule
    assert (shift.arithmetic, shift.param_formula, shift.macs_formula) == (None, None, None)
    assert shift.macs == 0  # torchinfo's count (it counts parameters named weight or bias only), kept as it is
    # Its receptive field: its torch operations are followed, and slicing has no rule — unsupported, not guessed.
    assert shift.rf_status == "unsupported" and "__getitem__" in s.rf_unsupported


class Reshape(nn.Module):
    """d2l's Reshape: no rule, its view is followed."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(-1, 1, 28, 28)


def test_unknown_modules_are_followed_op_by_op():
    s = explorer.analyze(nn.Sequential(Reshape(), nn.Conv2d(1, 2, 5, padding=2)), (1, 28, 28))
    assert s.unsupported_types == ("Reshape",)
    assert [r.rf_status for r in s.layers[1:]] == ["not spatial", "not spatial"]


# ---------------------------------------------------------------------------------------------------------------
# Periodic fields: the algebra
# ---------------------------------------------------------------------------------------------------------------
def test_uniform_axis_is_distills_r_j_u():
    a = Axis.uniform(3, 2, -1)
    assert (a.r, a.j, a.u, a.period) == (3, 2, -1, 1)
    assert [a.interval(i) for i in (0, 1, 5)] == [(-1, 2), (1, 4), (9, 12)]
    # conv 3×3 stride 2 pad 1 on it: r 3 + 2·2 = 7, j 4, u −1 − 2 = −3 (Distill)
    assert rules.window((a,), 3, 2, 1)[0] == Axis.uniform(7, 4, -3)


def test_transposed_convolution_is_a_staircase():
    # ConvTranspose k 4, s 2, p 1 on unit-wide pixels: output o reads inputs ⌈(o − 2)/2⌉ … ⌊(o + 1)/2⌋.
    (a,) = rules.transposed((Axis.uniform(1, 1, 0),), 4, 2, 1)
    assert [a.interval(o) for o in range(4)] == [(-1, 1), (0, 2), (0, 2), (1, 3)]
    assert (a.period, a.r, a.j, a.jump) == (2, 2, 0.5, 0.5)
    assert describe((a, a)) == (2, 0.5, 1)
    # conv stride 2 then the transposed stride 2: mean jump 1 again, yet not uniform — the period stays 2.
    (b,) = rules.transposed(rules.window((Axis.uniform(1, 1, 0),), 3, 2, 1), 4, 2, 1)
    assert (b.period, b.j) == (2, 1) and [b.interval(o) for o in range(4)] == [(-3, 2), (-1, 4), (-1, 4), (1, 6)]
    # a kernel smaller than the stride leaves units reading nothing: unsupported, not a guess
    assert rules.transposed((Axis.uniform(1, 1, 0),), 1, 2, 0) is rules.UNSUPPORTED


def test_union_needs_equal_mean_jumps():
    half = rules.upsample((Axis.uniform(1, 1, 0),), (2,), "nearest")[0]
    assert half.union(Axis.uniform(1, 1, 0)) is None
    assert half.union(half) == half
    assert Axis.uniform(3, 2, 0).union(Axis.uniform(1, 2, 4)) == Axis.uniform(5, 2, 0)


# ---------------------------------------------------------------------------------------------------------------
# Upsampling, checked against the gradient: every layer, the centre unit and units of other phases
# ---------------------------------------------------------------------------------------------------------------
def check_every_layer(model, input_shape, phases: int = 4) -> int:
    """For each layer with a field: grow the input until its units' fields fit, then compare the analytic interval
    of the centre unit and the ``phases − 1`` units after it with the gradient-measured one."""
    s = explorer.analyze(model, input_shape) if isinstance(model, nn.Module) else explorer.analyze(model)
    checked = 0
    for r in s.layers:
        if r.field is None or not r.is_leaf or len(r.output_shape) != 4:
            continue
        shape = fitting_input(model, input_shape, r.name, r.field, r.call)
        shape = (shape[0], *(d + 4 for d in shape[1:]))  # room for the units after the centre
        size = layer_output_size(model, shape, r.name, r.call)
        for step in range(phases):
            unit = tuple((n - 1) // 2 + step for n in size)
            expected = tuple(a.interval(c) for a, c in zip(r.field, unit))
            assert all(0 <= lo and hi <= n for (lo, hi), n in zip(expected, shape[1:])), (r.name, unit, shape)
            measured = measured_field(model, shape, r.name, unit=unit, call=r.call)
            assert measured.intervals == expected, (r.name, r.type, unit, shape)
            checked += 1
    return checked


def down_up() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1),
        nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1), nn.Conv2d(1, 1, 3, stride=3),
    )


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("scale", [2, 3])
def test_upsample_field_equals_gradient(mode, scale):
    net = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Upsample(scale_factor=scale, mode=mode),
                        nn.Conv2d(2, 1, 3), nn.MaxPool2d(2))
    assert check_every_layer(net, (1, 24, 24)) == 16


def test_conv_then_transposed_conv_field_equals_gradient():
    assert check_every_layer(down_up(), (1, 24, 24)) == 20
    s = explorer.analyze(down_up(), (1, 24, 24))
    assert [r.stride for r in s.layers[1:]] == [2, 2, 1, 0.5, 1.5]


def test_autoencoder_field_equals_gradient():
    s = explorer.analyze("autoencoder")
    # The encoder's convolutions have fields; the decoder starts from the code (a linear layer): not spatial.
    assert [(r.name, r.rf, r.stride) for r in s.layers if r.field is not None] == [
        ("encoder.0", 3, 2), ("encoder.1", 3, 2), ("encoder.2", 7, 4), ("encoder.3", 7, 4)]
    assert all(r.rf_status == "not spatial" for r in s.layers if r.name.startswith("decoder"))
    assert s.rf_unsupported == ()
    assert check_every_layer("autoencoder", (1, 28, 28)) == 16


def test_gan_generator_upsamples_from_a_1x1_code():
    s = explorer.analyze("gan-generator")
    strides = {r.name: r.stride for r in s.leaves}
    assert strides == {"project.0": 1, "project.1": 1, "project.2": 1, "up1.0": 0.5, "up1.1": 0.5, "up1.2": 0.5,
                       "up2.0": 0.25, "up2.1": 0.25}
    assert [r.rf for r in s.leaves] == [7, 7, 7, 8, 8, 8, 9, 9]
    assert s.rf_unsupported == () and all(r.rf_status == "ok" for r in s.layers)
    assert s.receptive_field.to_dict() == {"size": 9, "stride": 0.25, "padding": 7}
    # The gradient proof on the same geometry with fewer channels (the fields do not depend on them): quicker.
    narrow = explorer.build("gan-generator", latent_size=4, width=4)
    assert [r.field for r in explorer.analyze(narrow, (4, 1, 1)).leaves] == [r.field for r in s.leaves]
    assert check_every_layer(narrow, (4, 1, 1)) == 32


def test_summary_json_carries_a_float_stride_below_1(capsys):
    assert main(["summary", "gan-generator", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["receptive_field"] == {"size": 9, "stride": 0.25, "padding": 7}
    assert [layer["stride"] for layer in out["layers"] if layer["name"] in ("project.0", "up1.0", "up2.0")] == [
        1, 0.5, 0.25]
    assert isinstance(out["layers"][1]["stride"], int)


class FunctionalUp(nn.Module):
    """The same computation as ``Modular``, written with torch functions in the forward."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.ones(2, 1, 3, 3))
        self.w2 = nn.Parameter(torch.ones(2, 2, 4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.w1, stride=2)
        y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        return F.conv_transpose2d(y, self.w2, stride=2, padding=1)


def test_torch_functions_reuse_the_module_steps():
    modular = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Upsample(scale_factor=2, mode="bilinear"),
                            nn.ConvTranspose2d(2, 2, 4, stride=2, padding=1))
    functional = explorer.analyze(FunctionalUp(), (1, 20, 20))
    assert functional.layers[0].field == explorer.analyze(modular, (1, 20, 20)).layers[-1].field
    assert functional.depth == 2 and functional.rf_unsupported == ()
    m = measured_field(FunctionalUp(), (1, 40, 40), "")
    assert m.intervals == tuple(a.interval(c) for a, c in zip(functional.layers[0].field, m.unit))


def test_fractional_upsampling_is_unsupported_by_name():
    s = explorer.analyze(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=1.5)), (1, 10, 10))
    assert s.layers[-1].rf_status == "unsupported" and s.rf_unsupported == ("Upsample",)
    assert s.layers[-1].arithmetic == "8×8 → 12×12"
