"""The notes' claims, checked with numbers the library computes — shown next to the notes' words on each page.

Each check returns a :class:`Claim`: the notes' sentence (quoted), what holds instead, a table of measured numbers
(never typed in) and the explanation. The pages render them; the tests check the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..analysis import InputShapeError, analyze
from ..analysis.graph import trace
from ..i18n import N_, UnknownKey, render
from ..i18n import gettext as _
from ..playground import parse_network
from ..playground.listings import LISTINGS
from ..zoo.registry import get_spec
from .inception import factorize


@dataclass(frozen=True)
class Claim:
    key: str
    quote: str  # the notes' words (Chinese)
    claim: str  # what they say, in English
    verdict: str  # one line: what holds instead
    rows: tuple[dict[str, str | int | float], ...] = field(default=())  # measured numbers
    explanation: str = ""


def _int(n: int) -> str:
    return f"{n:,}"


# What the notes say, in English, per claim (the pages quote it beside the check).
CLAIMED = {
    "inception-v3-7x7": N_("Inception-v3 replaces a 5×5 convolution by 1×7 and 7×1 convolutions."),
    "inception-v4": N_("Inception-v4 uses residual connections."),
    "inception-cheaper": N_("Compared with a single 3×3 or 5×5 convolution, Inception has fewer parameters and less "
                            "compute."),
    "resnet-complexity": N_("A residual network stacks layers without adding model complexity."),
    "ffn-linearity": N_("The FFN makes up for the linearity of self-attention."),
    "lstm-eases": N_("The LSTM's gates solve the long-term dependency problem."),
    "rnn-feedback": N_("The notes list the RNN among the feedforward networks (its basic unit's feedforward part)."),
    "nin-224": N_("The NiN block's two '1×1' convolutions get the block's kernel size."),
}


def _claimed(key: str) -> str:
    """What the notes say of ``key``, in the current language."""
    return _(CLAIMED[key])


# --- GoogLeNet / Inception ----------------------------------------------------------------------------------------
def inception_v3_seven() -> Claim:
    """The notes: Inception-v3 replaces a 5×5 by 1×7 and 7×1. The stack sees a 7×7 window: it replaces a 7×7."""
    f7 = factorize("7×7 → 1×7 and 7×1 (v3, Fig. 6)", channels=192, size=17)
    f5 = factorize("5×5 → two 3×3 (v3, Fig. 5)", channels=192, size=17)
    rows = tuple(
        {_("replacement"): f.replacement, _("receptive field (px)"): str(f.rf_replacement), _("replaces"): f.original,
         _("params (192 → 192, 17×17)"): _("{new} vs {old}").format(new=_int(f.params_replacement),
                                                                    old=_int(f.params_original)),
         _("weights kept"): f"{f.ratio:.0%}"}
        for f in (f7, f5)
    )
    return Claim(
        key="inception-v3-7x7", quote="5*5替换为`1*7和7*1卷积层`",
        claim=_claimed("inception-v3-7x7"),
        verdict=_("1×7 then 7×1 sees a {n}×{n} window: it replaces a **7×7** (Szegedy et al. 2016, Fig. 6); the 5×5 "
                  "is replaced by two 3×3 (Fig. 5).").format(n=f7.rf_replacement),
        rows=rows,
        explanation=_("Receptive fields measured by the analysis on the stacks the zoo builds (`inception-v3-b` "
                      "uses the 1×7/7×1 pair on the 17×17 grid)."),
    )


def inception_v4_residual() -> Claim:
    """The notes: Inception-v4 uses residual connections. Szegedy et al. 2017 built Inception-v4 without them and
    Inception-ResNet-v1/v2 with them."""
    g = trace("inception-resnet-a")
    adds = sum(1 for n in g.nodes.values() if n.kind == "merge" and n.label == "add")
    rows = (
        {_("network (Szegedy et al. 2017)"): "Inception-v4", _("residual connections"): _("no"),
         _("what it is"): _("a deeper, more uniform pure Inception network")},
        {_("network (Szegedy et al. 2017)"): "Inception-ResNet-v1 / -v2", _("residual connections"): _("yes"),
         _("what it is"): _("Inception paths inside residual blocks: the zoo's `inception-resnet-a` traces to "
                            "{n} addition (x + 0.17·F(x))").format(n=adds)},
    )
    return Claim(
        key="inception-v4", quote="使用残差连接", claim=_claimed("inception-v4"),
        verdict=_("Inception-v4 itself has **no** residual connections; the residual ones are "
                  "**Inception-ResNet**-v1 and -v2, introduced in the same paper (*Inception-v4, Inception-ResNet "
                  "and the Impact of Residual Connections on Learning*, 2017)."),
        rows=rows,
    )


def inception_cheaper() -> Claim:
    """The notes: Inception has fewer parameters and less compute than a single 3×3 or 5×5 convolution. Block 3a
    against one 3×3 and one 5×5 convolution with the same input (192×28×28) and output (256 channels)."""
    block = analyze("inception-v1")
    c_in, size = block.input_shape[1], block.input_shape[2]
    c_out = block.output_shape[1]
    rows = [{_("layer"): _("Inception block 3a (four paths)"), _("parameters"): _int(block.total_params),
             _("MACs"): _int(block.total_macs), _("× the block (params)"): "1×"}]
    params = []
    for k in (3, 5):
        conv = analyze(nn.Conv2d(c_in, c_out, k, padding=k // 2, device="meta"), (c_in, size, size))
        rows.append({_("layer"): _("one {k}×{k} convolution, {c_in} → {c_out}").format(k=k, c_in=c_in, c_out=c_out),
                     _("parameters"): _int(conv.total_params), _("MACs"): _int(conv.total_macs),
                     _("× the block (params)"): f"{conv.total_params / block.total_params:.1f}×"})
        params.append(_int(conv.total_params))
    return Claim(
        key="inception-cheaper", quote="与单3\\*3或5\\*5卷积层比，Inception有更少的参数个数和计算复杂度",
        claim=_claimed("inception-cheaper"),
        verdict=_("True for block 3a: {block} parameters against {p3} (3×3) and {p5} (5×5), same input "
                  "{c_in}×{size}×{size} and {c_out} output channels — the 1×1 reductions before the 3×3 and 5×5 "
                  "paths do it.").format(block=_int(block.total_params), p3=params[0], p5=params[1], c_in=c_in,
                                         size=size, c_out=c_out),
        rows=tuple(rows),
        explanation=_("Computed with `explorer.analyze` on the zoo's block and on single convolutions with the "
                      "block's input and output channels (bias included, torchinfo's MACs)."),
    )


# --- ResNet ---------------------------------------------------------------------------------------------------------
def resnet_complexity() -> Claim:
    """The notes: ResNet stacks layers without adding model complexity. Measured: ResNet-18/34/50."""
    rows, params, macs = [], [], []
    for model_id in ("resnet18-tv", "resnet34-tv", "resnet50-tv"):
        s = analyze(model_id)
        params.append(_int(s.total_params))
        macs.append(_int(s.total_macs))
        rows.append({_("model"): model_id, _("weight layers (longest path)"): s.depth,
                     _("parameters"): _int(s.total_params), _("MACs per image"): _int(s.total_macs)})
    return Claim(
        key="resnet-complexity", quote="残差网络，在堆叠层数的同时不会增加模型复杂度",
        claim=_claimed("resnet-complexity"),
        verdict=_("Deeper ResNets do cost more: {p18} → {p34} → {p50} parameters and {m18} → {m50} MACs from 18 to "
                  "50 layers.").format(p18=params[0], p34=params[1], p50=params[2], m18=macs[0], m50=macs[2]),
        rows=tuple(rows),
        explanation=_("The notes' real point is the next sentence, *nested function classes*: a block that can "
                      "learn F(x) = 0 is the identity, so the deeper network can represent everything the shallower "
                      "one could — adding blocks never shrinks the function class, so depth can only help, if "
                      "trained well. The shortcut adds no parameters (the 1×1 projections aside); the layers do."),
    )


# --- FFN ------------------------------------------------------------------------------------------------------------
@torch.no_grad()
def attention_linearity(d: int = 16, seq_len: int = 6, seed: int = 0) -> tuple[float, float, float]:
    """Single-head softmax self-attention with random weights (float64): (max |A(x + y) − A(x) − A(y)|,
    max |A(2x) − 2·A(x)|, max |A(x)|). A linear map gives 0 for the first two; softmax attention does not."""
    g = torch.Generator().manual_seed(seed)
    wq, wk, wv = (torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5 for _ in range(3))

    def attend(x: torch.Tensor) -> torch.Tensor:
        scores = (x @ wq) @ (x @ wk).T / d**0.5
        return torch.softmax(scores, dim=-1) @ (x @ wv)

    x = torch.randn(seq_len, d, generator=g, dtype=torch.float64)
    y = torch.randn(seq_len, d, generator=g, dtype=torch.float64)
    additivity = float((attend(x + y) - attend(x) - attend(y)).abs().max())
    scaling = float((attend(2 * x) - 2 * attend(x)).abs().max())
    return additivity, scaling, float(attend(x).abs().max())


def ffn_linearity() -> Claim:
    additivity, scaling, size = attention_linearity()
    return Claim(
        key="ffn-linearity", quote="弥补自注意力机制的线性局限性，学习更复杂的特征",
        claim=_claimed("ffn-linearity"),
        verdict=_("Softmax self-attention is **not** linear: with random weights, A(x + y) differs from A(x) + A(y) "
                  "by up to {additivity} and A(2x) from 2·A(x) by up to {scaling} (outputs up to {size}).").format(
            additivity=f"{additivity:.2f}", scaling=f"{scaling:.2f}", size=f"{size:.2f}"),
        rows=({_("test (random 6×16 inputs, float64)"): "A(x + y) − A(x) − A(y)",
               _("max |difference|"): f"{additivity:.3f}", _("a linear map"): "0"},
              {_("test (random 6×16 inputs, float64)"): "A(2x) − 2·A(x)", _("max |difference|"): f"{scaling:.3f}",
               _("a linear map"): "0"}),
        explanation=_("Attention's nonlinearity is in *how positions are mixed* (the softmax weights depend on the "
                      "input); each output is still a weighted average of value vectors, the same linear map W_V "
                      "for every token. What the FFN adds is a **per-token** nonlinearity and capacity: a wide "
                      "hidden layer (4 × d_model) with ReLU/GELU applied to each position on its own — most of a "
                      "transformer layer's parameters."),
    )


# --- the feedback chapter -------------------------------------------------------------------------------------------
def lstm_eases() -> Claim:
    return Claim(
        key="lstm-eases", quote="引入遗忘门、输入门和输出门，解决长期依赖问题",
        claim=_claimed("lstm-eases"),
        verdict=_("The gates **ease** it, they do not solve it: the cell state cₜ = fₜ ⊙ cₜ₋₁ + iₜ ⊙ gₜ carries "
                  "information additively, so gradients along it are scaled by the forget gates fₜ (no repeated "
                  "multiplication by W_hh), but a product of many fₜ < 1 still fades."),
        explanation=_("In practice LSTMs hold dependencies over hundreds of steps, not unlimited ones — the reason "
                      "attention replaced recurrence for long sequences."),
    )


def rnn_not_feedforward() -> Claim:
    return Claim(
        key="rnn-feedback", quote="尽管严格来说，RNN有反馈环路，但其基本单元的前馈部分也是前馈神经网络的一种形式",
        claim=_claimed("rnn-feedback"),
        verdict=_("An RNN is a **feedback** (recurrent) network: hₜ depends on hₜ₋₁ through W_hh. Only its "
                  "*unrolled* graph over a fixed length is feedforward — and the notes' own next chapter files it "
                  "under feedback networks."),
    )


# --- NiN ------------------------------------------------------------------------------------------------------------
def nin_at_224() -> Claim:
    """The notes' NiN code (kernel_size passed to the '1×1' convolutions) at the input it is written for."""
    listing = LISTINGS["nin-notes"]
    net = parse_network(listing.code)
    failure: InputShapeError | None = None
    try:
        analyze(net, listing.input_shape)
    except InputShapeError as exc:
        failure = exc
    fixed = analyze(get_spec("nin").build(), get_spec("nin").input_shape)
    return Claim(
        key="nin-224", quote="nn.Conv2d(out_channels, out_channels, kernel_size), nn.ReLU()",
        claim=_claimed("nin-224"),
        verdict=_("Worse than extra parameters: the notes' code **cannot run at 224×224 at all**. {detail}").format(
            detail=_("Analysed on the meta device: {failure}").format(failure=render(failure)) if failure
            else _("(it ran: the listing changed)")),
        rows=({_("version"): _("the notes' code"), _("at 1×224×224"): _("fails") if failure else _("runs"),
               _("parameters"): "—" if failure else _int(analyze(net, listing.input_shape).total_params)},
              {_("version"): _("fixed (kernel_size=1)"), _("at 1×224×224"): _("runs"),
               _("parameters"): _int(fixed.total_params)}),
        explanation=_("The 11×11, 5×5 and 3×3 kernels on the 'per-pixel MLP' layers have no padding, so every "
                      "block shrinks the map further until a 3×3 kernel meets a 1×1 map in the last block."),
    )


# Phrases (regular expressions, case-insensitive) that restate a claim a check corrects: the app's own words — a
# model's description, a page's text, their Chinese — must not say what the check shows to be wrong.
# tests/lessons/test_claims_consistency.py scans every description and catalog entry with them.
CONTRADICTED_BY: dict[str, tuple[str, ...]] = {
    "ffn-linearity": (
        r"nonlinearity (that )?(softmax )?(self-)?attention lacks",
        r"(self-)?attention(, which)? is (a )?linear\b",
        r"(makes? up for|compensates? for) (the )?linearity",
        r"linearity of (softmax )?(self-)?attention",
        r"自注意力[^。；]*(缺|欠缺|没有)[^。；]*非线性",
        r"弥补[^。；]*自注意力[^。；]*线性",
        r"自注意力(机制)?(是|为)线性",
    ),
    "lstm-eases": (
        r"long[- ](range|term) dependenc\w* (survive|are solved|are kept)",
        r"(solves?|solved|overcomes?) the long[- ](range|term)",
        r"长(距离|期)依赖[^。；]*(得以保留|被解决|得到解决)",
        r"解决了?长(距离|期)依赖",
    ),
    "inception-v4": (
        r"\bv4\b[^.;:]{0,20}(:|uses|with|adds?)\s*(the )?residual",
        r"Inception-v4 (uses|has|adds) residual",
        r"v4[^。；]{0,6}：残差",
        r"v4[^。；]{0,6}(使用|采用|加入)了?残差",
    ),
}

CHECKS = {
    "inception-v3-7x7": inception_v3_seven,
    "inception-v4": inception_v4_residual,
    "inception-cheaper": inception_cheaper,
    "resnet-complexity": resnet_complexity,
    "ffn-linearity": ffn_linearity,
    "lstm-eases": lstm_eases,
    "rnn-feedback": rnn_not_feedforward,
    "nin-224": nin_at_224,
}


def check(key: str) -> Claim:
    """One claim, computed now; ``KeyError`` naming the known keys."""
    try:
        return CHECKS[key]()
    except KeyError:
        raise UnknownKey(N_("unknown claim {key}; known: {keys}"), key=repr(key), keys=", ".join(CHECKS)) from None
