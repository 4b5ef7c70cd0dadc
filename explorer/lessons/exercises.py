"""d2l's chapter exercises that have numeric answers, and the notes' own numbers, as practice items — every answer
computed by the analysis (d2l ships no answer key).

Dive into Deep Learning (Zhang, Lipton, Li, Smola): 7.3 padding and stride ("calculate the output shape … kernel
(3, 5), padding (0, 1), stride (3, 4)"), 8.1 AlexNet ("the memory footprint of the convolutions and of the fully
connected layers"), 8.2 VGG ("we only saw 8 results rather than 11 — where did the other 3 go?"), 8.4 GoogLeNet
("the minimum image size"); fast.ai's receptive field after two stride-2 convolutions; the notes' dilated
convolution (k_eff = k + (k − 1)(r − 1)), NiN's 1×1 convolution and AlexNet's "10× LeNet's parameters".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from ..analysis import InputShapeError, analyze
from ..analysis import smallest_input as zoo_smallest_input
from ..analysis.meta import build_meta
from ..i18n import N_, Message
from ..zoo.registry import get_spec
from .quiz import RELU, Item, Slip, conv_spec, draw_item, flat_specs, layer_item, net_code

D2L = "d2l"
BYTES_PER_FLOAT = 4
MIB = 2**20


def _exercise(item: Item, name: str, source: str | Message, lead: Message) -> Item:
    """A layer item turned into an exercise: its id, d2l's words before the question."""
    question = Message(N_("{source} — {lead} {question}"), {"source": source, "lead": lead,
                                                            "question": item.question})
    return replace(item, exercise=name, question=question)


def conv_3x5() -> Item:
    specs = [("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": (3, 5), "stride": (3, 4),
                         "padding": (0, 1), "dilation": 1, "groups": 1, "bias": True})]
    item = layer_item("shape", D2L, "0", "conv2d", specs, (1, 8, 8))
    return _exercise(item, "conv-3x5", "d2l 7.3", Message(N_(
        "The section's last example: an 8×8 input, kernel (3, 5), padding (0, 1), stride (3, 4) — each axis "
        "its own numbers.")))


def two_stride_2() -> Item:
    specs = [conv_spec(1, 8, 3, 2, 1), RELU, conv_spec(8, 16, 3, 2, 1)]
    item = layer_item("rf", D2L, "2", "conv2", specs, (1, 28, 28))
    return _exercise(item, "two-stride-2", "fast.ai", Message(N_(
        "Two 3×3 convolutions with stride 2, one after the other (not the output-size formula: the field).")))


def dilated_stack() -> Item:
    specs = [conv_spec(1, 4, 3, 1, 1, 1), RELU, conv_spec(4, 4, 3, 1, 2, 2), RELU, conv_spec(4, 4, 3, 1, 4, 4)]
    item = layer_item("rf", D2L, "4", "conv3", specs, (1, 32, 32))
    return _exercise(item, "dilated-1-2-4", Message(N_("the notes")), Message(N_(
        "Dilated convolutions: k_eff = k + (k − 1)(r − 1). Three 3×3 convolutions with dilation 1, 2, 4.")))


def nin_1x1() -> Item:
    specs = [conv_spec(96, 96, 1)]
    item = layer_item("params", D2L, "0", "conv1x1", specs, (96, 54, 54))
    return _exercise(item, "nin-1x1", Message(N_("the notes")), Message(N_(
        "NiN: a 1×1 convolution is a fully connected layer applied at every pixel.")))


def _alexnet_split() -> tuple[int, int, int, int, list]:
    s = analyze("alexnet")
    conv = sum(r.params for r in s.leaves if r.type == "Conv2d")
    fc = sum(r.params for r in s.leaves if r.type == "Linear")
    conv_macs = sum(r.macs for r in s.leaves if r.type == "Conv2d")
    fc_macs = sum(r.macs for r in s.leaves if r.type == "Linear")
    return conv, fc, conv_macs, fc_macs, flat_specs(build_meta(get_spec("alexnet"))) or []


def _alexnet_item(which: str) -> Item:
    conv, fc, conv_macs, fc_macs, specs = _alexnet_split()
    count = fc if which == "fc" else conv
    part = Message(N_("fully connected layers") if which == "fc" else N_("convolutional layers"))
    code = net_code(specs, (3, 224, 224)) + "\n" + (
        f"sum(p.numel() for m in net if isinstance(m, nn.{'Linear' if which == 'fc' else 'Conv2d'}) "
        "for p in m.parameters())")
    explanation = (
        Message(N_("Convolutions: {conv:,} parameters = {conv_mib:.1f} MiB in float32; fully connected: {fc:,} = "
                   "{fc_mib:.1f} MiB."), {"conv": conv, "fc": fc, "conv_mib": conv * BYTES_PER_FLOAT / MIB,
                                          "fc_mib": fc * BYTES_PER_FLOAT / MIB}),
        Message(N_("The fully connected layers hold {share:.0%} of the weights but do {macs:.1%} of the MACs "
                   "({fc_macs:,} of {total:,}): memory sits in the classifier, compute in the convolutions."),
                {"share": fc / (fc + conv), "macs": fc_macs / (fc_macs + conv_macs), "fc_macs": fc_macs,
                 "total": fc_macs + conv_macs}),
    )
    question = Message(N_("d2l 8.1 — The memory footprint of AlexNet (the paper's 3×224×224 model): how many "
                          "parameters do its {part} hold (exact, or to 2 significant figures)?"), {"part": part})
    other = conv if which == "fc" else fc
    return Item(kind="params", model="alexnet", layer="", label="", input=(3, 224, 224), question=question,
                answer=count, explanation=explanation, code=code, specs=(), rounded=2,
                slips=(Slip(other, Message(N_("That is the other part of the network."))),
                       Slip(count * BYTES_PER_FLOAT, Message(N_("That is bytes (4 per float32 parameter), not "
                                                               "parameters.")))),
                exercise=f"alexnet-{which}")


def alexnet_fc() -> Item:
    return _alexnet_item("fc")


def alexnet_conv() -> Item:
    return _alexnet_item("conv")


def vgg11_hidden() -> Item:
    s = analyze("vgg11-d2l")
    blocks = [r for r in s.layers if r.depth == 1 and r.type == "Sequential"]
    convs = [sum(1 for x in s.leaves if x.type == "Conv2d" and x.name.startswith(b.name + ".")) for b in blocks]
    fcs = sum(1 for x in s.leaves if x.type == "Linear")
    hidden = sum(n - 1 for n in convs if n > 1)
    question = Message(N_("d2l 8.2 — VGG-11 has 11 weight layers, yet printing the output shape after each of its "
                          "top-level parts shows {blocks} blocks and {fcs} fully connected layers: {shown} weight "
                          "rows. How many convolutional layers are hidden because they share a block with another "
                          "one?"), {"blocks": len(blocks), "fcs": fcs, "shown": len(blocks) + fcs})
    explanation = (
        Message(N_("conv_arch gives the convolutions per block: {convs} — {total} convolutions and {fcs} fully "
                   "connected layers make 11."), {"convs": " + ".join(map(str, convs)), "total": sum(convs),
                                                 "fcs": fcs}),
        Message(N_("A block is printed as one row: the {hidden} blocks with two convolutions each hide one."),
                {"hidden": hidden}),
    )
    return Item(kind="count", model="vgg11-d2l", layer="", label="", input=tuple(get_spec("vgg11-d2l").input_shape),
                question=question, answer=hidden, explanation=explanation, code="", exercise="vgg11-hidden",
                slips=(Slip(sum(convs), Message(N_("That is all the convolutions, not the hidden ones."))),))


def googlenet_smallest() -> Item:
    spec = get_spec("googlenet")
    found = zoo_smallest_input("googlenet", spec.input_shape[0])
    side = found[1] if found else spec.input_shape[1]
    useful = _smallest_with_stage5(side)
    question = Message(N_("d2l 8.4 — What is the minimum image size for GoogLeNet (the notes' 1×96×96 model)? "
                          "Give the side S of the smallest 1×S×S input it takes."))
    explanation = (
        Message(N_("Every convolution and pool of it is padded so that a map stays at least 1×1 (the 7×7 "
                   "convolution with padding 3 and stride 2 maps 1 → 1, each 3×3 pool with padding 1 too), and "
                   "global average pooling feeds the classifier whatever the size: it runs on {side}×{side}."),
                {"side": side}),
        Message(N_("A useful size keeps the last Inception block's map larger than 1×1 — from {useful}×{useful} "
                   "on; the network divides the side by 32."), {"useful": useful}),
    )
    return Item(kind="smallest", model="googlenet", layer="", label="", input=(1, side, side), question=question,
                answer=side, explanation=explanation, code="", exercise="googlenet-smallest",
                slips=(Slip(useful, Message(N_("That is the smallest size with a map larger than 1×1 at the end; "
                                               "smaller ones still run."))),
                       Slip(96, Message(N_("That is the size it is built for, not the smallest it takes.")))))


def _smallest_with_stage5(limit: int) -> int:
    def big_enough(side: int) -> bool:
        try:
            s = analyze("googlenet", (1, side, side))
        except InputShapeError:
            return False
        last = [r for r in s.layers if r.type == "Inception"][-1]
        return last.output_shape[-1] > 1

    lo, hi = 0, 96
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if big_enough(mid) else (mid, hi)
    return max(hi, limit)


def alexnet_lenet_ratio() -> Item:
    a, b = analyze("alexnet").total_params, analyze("lenet").total_params
    ratio = round(a / b)
    question = Message(N_("The notes — \"AlexNet has about 10× LeNet's parameters.\" How many times LeNet's "
                          "parameters does the notes' AlexNet have (to 2 significant figures)?"))
    explanation = (Message(N_("{a:,} / {b:,} = {ratio:,.1f}: about a thousand times, not ten."),
                           {"a": a, "b": b, "ratio": a / b}),)
    return Item(kind="count", model="alexnet", layer="", label="", input=(3, 224, 224), question=question,
                answer=ratio, explanation=explanation, code="", rounded=2, exercise="alexnet-lenet",
                slips=(Slip(10, Message(N_("That is the notes' figure: measured, it is far larger."))),))


EXERCISES: dict[str, Callable[[], Item]] = {
    "conv-3x5": conv_3x5,
    "alexnet-conv": alexnet_conv,
    "alexnet-fc": alexnet_fc,
    "googlenet-smallest": googlenet_smallest,
    "vgg11-hidden": vgg11_hidden,
    "two-stride-2": two_stride_2,
    "dilated-1-2-4": dilated_stack,
    "nin-1x1": nin_1x1,
    "alexnet-lenet": alexnet_lenet_ratio,
}


def exercises() -> list[Item]:
    """Every exercise, in the chapters' order."""
    return [make() for make in EXERCISES.values()]


def pick(rng: random.Random, kinds: list[str] | tuple[str, ...], sources: list[str] | tuple[str, ...],
         skip: set[str] | frozenset[str] = frozenset()) -> Item | None:
    """One new item for the practice page: a source drawn from ``sources`` (zoo ids, ``"generated"``, or ``"d2l"``
    for the exercises above — those not in ``skip``, keys already seen, first), then a kind from ``kinds``;
    ``None`` when no source has one. The same ``rng`` state gives the same item."""
    order = list(sources)
    rng.shuffle(order)
    for source in order:
        if source == D2L:
            names = [n for n in EXERCISES if f"d2l:{n}" not in skip] or list(EXERCISES)
            return EXERCISES[rng.choice(names)]()
        kind_order = list(kinds)
        rng.shuffle(kind_order)
        for kind in kind_order:
            item = draw_item(rng, kind, [source])
            if item is not None:
                return item
    return None
