"""Practice items against PyTorch itself: every answer equals what torch gives for the item's own ``code`` — the
output shape by running ``net``, the last layer's parameters by ``numel()``, its MACs by torchinfo's hooks (batch 1,
bias counted), its receptive field by the gradient of a centre output unit — and the items' other promises (the
CLI's keys and kinds, the slips named, the exercises' numbers)."""

from __future__ import annotations

import json
import random

import pytest
import torch
import torchinfo
from torch import nn

from explorer.analysis.empirical import measured_field
from explorer.cli import main
from explorer.i18n import use_language
from explorer.lessons import exercises, quiz

KEYS = {"kind", "model", "layer", "input", "question", "answer", "explanation", "code"}


def run_code(code: str, meta: bool = False) -> tuple[nn.Sequential, torch.Tensor]:
    """The snippet's ``net`` and ``X`` (our own generated code, run here to prove it stands alone); ``meta``: built on
    PyTorch's meta device (shapes, parameters and MACs without allocating VGG's weights)."""
    scope: dict = {}
    with torch.device("meta" if meta else "cpu"):
        exec(code, scope)  # noqa: S102 — the item's snippet, written by explorer.lessons.quiz
    net, x = scope["net"], scope["X"]
    assert isinstance(net, nn.Sequential)
    return net, x


def torch_answer(item: quiz.Item) -> object:
    """What PyTorch says for the item's code, in the form of ``item.answer``."""
    net, x = run_code(item.code, meta=item.kind != "rf")
    assert list(x.shape[1:]) == list(item.input)
    if item.kind == "shape":
        with torch.no_grad():
            return list(net.eval()(x).shape[1:])
    if item.kind == "params":
        return sum(p.numel() for p in net[-1].parameters())
    if item.kind == "macs":
        stats = torchinfo.summary(net, input_data=x, device="meta", verbose=0)
        return [info for info in stats.summary_list if info.is_leaf_layer][-1].macs
    if item.kind == "rf":  # start from an input about twice the field: fewer sizes to try
        start = max(item.input[1], 2 * item.answer["size"] + 2 * item.answer["stride"])
        return gradient_field(net, (item.input[0], start, start))
    raise AssertionError(item.kind)


def gradient_field(net: nn.Sequential, input_shape) -> dict:
    """Size and stride of the field of a centre output unit of ``net``'s last layer, measured by backpropagation on
    an input grown until that unit's field and its neighbour's lie wholly inside (not cut by the border)."""
    c, side = input_shape[0], input_shape[1]
    last = str(len(net) - 1)
    for grow in range(0, 2000, 16):
        size = side + grow
        first = measured_field(net, (c, size, size), last)
        unit = first.unit
        if not all(u + 1 < n for u, n in zip(unit, first.output_size)):
            continue
        nxt = measured_field(net, (c, size, size), last, unit=tuple(u + 1 for u in unit))
        if all(0 < lo and hi < size for lo, hi in (*first.intervals, *nxt.intervals)):
            sizes = set(first.sizes)
            steps = {b[0] - a[0] for a, b in zip(first.intervals, nxt.intervals)}
            assert len(sizes) == 1 and len(steps) == 1, (first, nxt)
            return {"size": sizes.pop(), "stride": steps.pop()}
    raise AssertionError("no input holds the field")


def check_item(item: quiz.Item) -> None:
    d = item.to_dict()
    assert set(d) == KEYS
    assert json.loads(json.dumps(d)) == d
    assert len(d["input"]) == 3
    assert item.net_layer == str(len(item.specs) - 1)
    assert torch_answer(item) == item.answer, (item.kind, item.model, item.layer, item.code)
    if item.kind == "rf":
        assert set(item.answer) == {"size", "stride"}
        assert all(isinstance(v, int) for v in item.answer.values())
    for slip in item.slips:
        assert slip.answer != item.answer
    assert quiz.check_answer(item, quiz.answer_text(item) if item.kind != "rf" else
                      f"{item.answer['size']}, {item.answer['stride']}").correct


# --- a fast subset: generated items of every default kind ---------------------------------------------------------
FAST = quiz.make_items(seed=0, count=48)


@pytest.mark.parametrize("item", FAST, ids=[f"{i.kind}-{i.pattern}-{n}" for n, i in enumerate(FAST)])
def test_generated_items_equal_torch(item):
    check_item(item)


def test_default_kinds_come_in_turn_and_cover_every_pattern():
    assert [i.kind for i in FAST[:8]] == ["shape", "params", "macs", "rf"] * 2
    assert {i.pattern for i in FAST} == set(quiz.PATTERNS)
    assert {i.model for i in FAST} == {"generated"}


def test_the_same_seed_gives_the_same_items():
    a = [i.to_dict() for i in quiz.make_items(seed=7, count=6, models=["generated", "lenet"])]
    b = [i.to_dict() for i in quiz.make_items(seed=7, count=6, models=["generated", "lenet"])]
    assert a == b
    assert a != [i.to_dict() for i in quiz.make_items(seed=8, count=6, models=["generated", "lenet"])]


# --- hundreds of seeded items, and the zoo's ---------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 5))
def test_hundreds_of_generated_items_equal_torch(seed):
    for item in quiz.make_items(seed=seed, count=40):
        check_item(item)


SMALL_ZOO = ["lenet", "nin", "vgg11-d2l", "alexnet", "googlenet", "resnet18", "resnet18-tv", "vgg16"]


@pytest.mark.slow
@pytest.mark.parametrize("model", SMALL_ZOO)
def test_zoo_items_equal_torch(model):
    kinds = ["shape", "params", "macs"] + (["rf"] if model in ("lenet", "resnet18") else [])
    for item in quiz.make_items(seed=3, count=4 * len(kinds), kinds=kinds, models=[model]):
        assert item.model == model
        check_item(item)


def test_zoo_item_layer_is_the_module_path_in_build():
    import explorer

    item = quiz.zoo_item("alexnet", "shape", "3")
    assert dict(explorer.build("alexnet").named_modules())[item.layer].__class__ is nn.Conv2d
    assert item.answer == [256, 27, 27]
    assert str(item.question).startswith("alexnet's conv2 receives 96×27×27: 5×5 convolution, padding 2, stride 1, "
                                         "256 filters.")
    params = quiz.zoo_item("alexnet", "params", "3")
    assert params.answer == 614_656
    assert "(5·5·96 + 1)·256 = 614,656" in params.to_dict()["explanation"]
    check_item(params)
    # a layer inside a branch (GoogLeNet's Inception): asked alone, fed the shape it receives
    inner = quiz.zoo_item("googlenet", "shape", "b3.0.p2_2")
    assert inner.input == (96, 12, 12) and inner.answer == [128, 12, 12]
    assert inner.code.count("nn.Conv2d") == 1
    check_item(inner)


def test_a_fully_connected_layer_alone_is_fed_a_flattened_map():
    item = quiz.zoo_item("resnet18-tv", "params", "fc")
    assert item.input == (512, 1, 1) and item.answer == 513_000
    assert "nn.Flatten()" in item.code
    check_item(item)


@pytest.mark.parametrize("model", ["lenet", "generated", pytest.param("alexnet", marks=pytest.mark.slow)])
def test_structure_items_smallest_input_and_failing_layer(model):
    rng = random.Random(0)
    for kind in ("smallest", "fails"):
        if True:
            item = quiz.draw_item(rng, kind, [model])
            assert item is not None and item.kind == kind
            net, x = run_code(item.code, meta=True)
            net = net.eval()
            c = item.input[0]
            if kind == "smallest":
                s = item.answer
                net(torch.empty(1, c, s, s, device="meta"))
                with pytest.raises(Exception):  # noqa: B017 — whatever PyTorch raises for a map too small
                    net(torch.empty(1, c, s - 1, s - 1, device="meta"))
            else:
                assert item.answer == item.layer and item.answer in item.choices
                net[:-1](x)  # every layer before the asked one takes it
                with pytest.raises(Exception):  # noqa: B017
                    net(x)
    if model == "lenet":
        assert quiz.draw_item(random.Random(0), "smallest", ["lenet"]).answer == 28


def test_other_kinds_only_when_asked():
    assert {i.kind for i in quiz.make_items(seed=1, count=12)} == set(quiz.DEFAULT_KINDS)
    items = quiz.make_items(seed=1, count=2, kinds=["smallest", "fails"], models=["generated"])
    assert [i.kind for i in items] == ["smallest", "fails"]


# --- slips -----------------------------------------------------------------------------------------------------
def test_the_slips_are_named():
    conv2 = quiz.zoo_item("alexnet", "shape", "3")
    assert str(quiz.check_answer(conv2, "256x23x23").slip) == "You forgot the padding."
    assert str(quiz.check_answer(conv2, "96×27×27").slip).startswith("Kept the input's channels")
    assert quiz.check_answer(conv2, "1,256,27,27").correct
    params = quiz.zoo_item("alexnet", "params", "3")
    assert str(quiz.check_answer(params, "614,400").slip) == "You forgot the bias (one per filter)."
    assert not quiz.check_answer(params, "0.61M").correct
    assert str(quiz.check_answer(params, "0.61M").note) == "That rounds right, but the exact count is asked."
    macs = quiz.zoo_item("alexnet", "macs", "3")
    assert quiz.check_answer(macs, "448,084,224").correct and quiz.check_answer(macs, "0.45G").correct
    assert quiz.check_answer(macs, "4.5亿").correct
    assert not quiz.check_answer(macs, "0.4G").correct
    assert str(quiz.check_answer(macs, f"{448_084_224 * 32:,}").slip) == ("That is for a batch of 32 images: MACs are "
                                                                         "counted per image (batch 1).")
    assert str(quiz.check_answer(macs, str(2 * 448_084_224)).slip) == "That is FLOPs (2 per MAC), not MACs."
    assert str(quiz.check_answer(macs, "447,897,600").slip).startswith("You left out the bias")
    rf = exercises.two_stride_2()
    assert rf.answer == {"size": 7, "stride": 4}
    assert quiz.check_answer(rf, "7×7, stride 4").correct
    assert str(quiz.check_answer(rf, "7, 2").slip).startswith("The effective stride is the product")
    assert str(quiz.check_answer(rf, "5, 4").slip).startswith("You added the kernels")
    out = quiz.layer_item("rf", "generated", "2", "conv2", [quiz.conv_spec(1, 4, 3, 2, 0), quiz.RELU,
                                                           quiz.conv_spec(4, 4, 3, 2, 0)], (1, 40, 40), "stack")
    assert str(quiz.check_answer(out, "9, 4").slip) == "That is the output size, not the receptive field."
    unreadable = quiz.check_answer(conv2, "about two hundred")
    assert not unreadable.readable and not unreadable.correct


def test_a_stored_item_comes_back_the_same_in_either_language():
    item = quiz.zoo_item("alexnet", "shape", "3")
    again = quiz.Item.from_record(json.loads(json.dumps(item.to_record())))
    assert again == item and again.key == item.key
    with use_language("zh"):
        question = quiz.render(again.question)
    assert "alexnet" in question and "输出形状" in question


# --- the exercises ---------------------------------------------------------------------------------------------
def test_the_quick_exercises():
    assert exercises.conv_3x5().answer == [1, 2, 2]
    assert exercises.two_stride_2().answer == {"size": 7, "stride": 4}
    assert exercises.nin_1x1().answer == 96 * 96 + 96
    assert torch_answer(exercises.conv_3x5()) == [1, 2, 2]


@pytest.mark.slow
def test_exercises_have_computed_answers():
    found = {e.exercise: e for e in exercises.exercises()}
    assert found["conv-3x5"].answer == [1, 2, 2]
    assert found["alexnet-conv"].answer == 3_747_200 and found["alexnet-fc"].answer == 58_631_144
    assert found["vgg11-hidden"].answer == 3
    assert found["two-stride-2"].answer == {"size": 7, "stride": 4}
    assert found["dilated-1-2-4"].answer == {"size": 15, "stride": 1}
    assert found["nin-1x1"].answer == 96 * 96 + 96
    assert found["googlenet-smallest"].answer == 1
    assert found["alexnet-lenet"].answer == 1011
    assert quiz.check_answer(found["alexnet-fc"], "58.6M").correct
    assert quiz.check_answer(found["alexnet-fc"], "0.059G").correct
    for key in ("conv-3x5", "two-stride-2", "dilated-1-2-4", "nin-1x1"):
        assert torch_answer(found[key]) == found[key].answer
    assert len({e.key for e in found.values()}) == len(found)


# --- the CLI ---------------------------------------------------------------------------------------------------
def test_cli_quiz_json(capsys):
    assert main(["quiz", "--seed", "2", "--count", "5", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) == 5 and all(set(i) == KEYS for i in items)
    assert [i["kind"] for i in items] == ["shape", "params", "macs", "rf", "shape"]
    assert main(["quiz", "--count", "2", "--models", "lenet,generated", "--kinds", "params", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert all(i["kind"] == "params" and isinstance(i["answer"], int) for i in items)


@pytest.mark.parametrize("argv", [["--kinds", "shape,colour"], ["--models", "alexnett"], ["--count", "0"],
                                  ["--seed", "x"], ["--kinds", ""], ["--models", "lstm"]])
def test_cli_quiz_bad_arguments(argv, capsys):
    assert main(["quiz", *argv, "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
