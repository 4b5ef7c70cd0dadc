"""Watch a convolution compute: the walkthrough's numbers against the real forward pass of the shipped networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from explorer.lessons import convolution as cv
from explorer.runtime import data, images, inference

TOL = {"rtol": 1e-5, "atol": 1e-5}  # numpy
APPROX = {"rel": 1e-5, "abs": 1e-5}  # pytest.approx


@pytest.fixture(scope="module")
def ankle_boot() -> np.ndarray:
    raw, label = data.sample(0)
    assert data.CLASSES[label] == "Ankle boot"
    return raw


@pytest.fixture(scope="module")
def lenet(ankle_boot) -> cv.Trace:
    return cv.trace_convolutions("lenet", inference.prepare("lenet", images.from_array(ankle_boot)))


@pytest.fixture(scope="module")
def resnet(ankle_boot) -> cv.Trace:
    return cv.trace_convolutions("resnet-fmnist", inference.prepare("resnet-fmnist", images.from_array(ankle_boot)))


def test_trace_records_the_shared_models_own_outputs(lenet, resnet):
    """The private copy computes what the shared model computes: same conv outputs, same logits."""
    for tr in (lenet, resnet):
        shared = inference.feature_maps(tr.model_id, tr.input, "cpu")
        for name, rec in tr.convs.items():
            torch.testing.assert_close(rec.output, shared[name])
        loaded = inference.load(tr.model_id, "cpu")
        with torch.inference_mode():
            torch.testing.assert_close(tr.logits, loaded.module(tr.input[None])[0])
    assert [r.layer.label for r in lenet.convs.values()] == ["conv1", "conv2"]
    # the shared model stays unhooked
    assert not any(m._forward_hooks for m in inference.load("lenet", "cpu").module.modules())


@pytest.mark.parametrize("layer, unit", [("conv1", (0, 0, 0)), ("conv1", (5, 13, 9)), ("conv2", (15, 9, 9)),
                                         ("conv2", (3, 4, 2))])
def test_lenet_sum_plus_bias_is_the_forward_output(lenet, layer, unit):
    w = cv.walkthrough(lenet, layer, *unit)
    rec = lenet.record(w.layer.name)
    assert w.value == pytest.approx(float(rec.output[unit]), rel=1e-5, abs=1e-5)
    assert w.forward == float(rec.output[unit])
    assert w.total == pytest.approx(float(w.products.sum())) and w.value == pytest.approx(w.total + w.bias)
    np.testing.assert_allclose(w.channel_sums, w.products.sum(axis=(1, 2)))
    assert w.kernel.shape == (w.layer.in_channels, 5, 5) == w.window.shape
    # sigmoid → average pooling, each step equal to the forward pass
    [sig] = w.steps
    assert sig.kind == "activation" and sig.value == pytest.approx(1 / (1 + np.exp(-w.value)), rel=1e-6)
    assert sig.value == pytest.approx(sig.forward, **APPROX)
    assert w.pooling is not None and w.pooling.mode == "avg" and w.pooling.divisor == 4
    assert w.pooling.value == pytest.approx(w.pooling.forward, **APPROX)
    assert w.pooling.unit == (unit[1] // 2, unit[2] // 2)


def test_window_coordinates(lenet, resnet):
    # LeNet's conv1 pads 2: unit (0, 0) reads rows and columns −2 … 2, the first two of them padding
    w = cv.walkthrough(lenet, "conv1", 0, 0, 0)
    assert w.rows == w.cols == (-2, -1, 0, 1, 2)
    assert w.padded.sum() == 25 - 9 and not w.padded[2:, 2:].any() and w.padded[:2].all()
    assert (w.window[:, w.padded] == 0).all()
    # conv2 has no padding: unit (3, 4) reads rows 3 … 7, columns 4 … 8 of pool1's 6×14×14 output
    w = cv.walkthrough(lenet, "conv2", 0, 3, 4)
    assert w.rows == (3, 4, 5, 6, 7) and w.cols == (4, 5, 6, 7, 8) and not w.padded.any()
    np.testing.assert_array_equal(w.window, lenet.record("3").input[:, 3:8, 4:9].double().numpy())
    # stride 2, pad 1: res3a's first convolution, unit (13, 0) reads rows 25 … 27 and columns −1 … 1
    w = cv.walkthrough(resnet, "res3a/conv1", 0, 13, 0)
    assert (w.layer.stride, w.layer.padding) == ((2, 2), (1, 1))
    assert w.rows == (25, 26, 27) and w.cols == (-1, 0, 1)
    assert w.padded[:, 0].all() and not w.padded[:, 1:].any()
    with pytest.raises(cv.WalkthroughError, match=r"^position 14 is outside the layer's output \(0 … 13\)$"):
        cv.walkthrough(resnet, "res3a/conv1", 0, 14, 0)
    with pytest.raises(cv.WalkthroughError, match=r"channel 64 is outside res3a/conv1 \(b3.0.conv1\)'s 64 output"):
        cv.walkthrough(resnet, "res3a/conv1", 64, 0, 0)


@pytest.mark.parametrize("layer, unit", [("conv1", (7, 0, 0)), ("conv1", (3, 14, 27)), ("res3a/conv1", (5, 0, 13)),
                                         ("res3a/conv1", (40, 6, 7)), ("res4a/conv1", (100, 6, 6))])
def test_resnet_conv_bn_relu_equal_the_forward_pass(resnet, layer, unit):
    w = cv.walkthrough(resnet, layer, *unit)
    assert w.value == pytest.approx(w.forward, **APPROX)
    bn_step, relu_step = w.steps
    assert (bn_step.kind, relu_step.kind) == ("batch norm", "activation")
    rec = resnet.record(w.layer.name)
    bn = rec.after[0].module
    c = unit[0]
    expected = (w.value - float(bn.running_mean[c])) / np.sqrt(float(bn.running_var[c]) + bn.eps) \
        * float(bn.weight[c]) + float(bn.bias[c])
    assert bn_step.value == pytest.approx(expected, rel=1e-9)
    assert bn_step.value == pytest.approx(bn_step.forward, **APPROX)
    assert f"{float(bn.running_mean[c]):.4f}" in bn_step.formula
    assert relu_step.value == max(0.0, bn_step.value) and relu_step.value == pytest.approx(relu_step.forward, **APPROX)
    assert w.pooling is None and w.stops.startswith(f"{relu_step.label}'s output goes on to ")
    # a residual block's second convolution: batch norm, then the block's own code adds the shortcut
    w = cv.walkthrough(resnet, "res2a/conv2", *unit) if unit[0] < 32 and layer == "conv1" else None
    if w is not None:
        assert [s.label for s in w.steps] == ["res2a/bn2"] and "added to the shortcut" in w.stops


def test_the_zoo_has_a_stride_2_convolution_with_shipped_weights():
    strided = [(m, layer.label) for m in inference.fashion_models() for layer in cv.conv_layers(m)
               if layer.stride == (2, 2)]
    assert ("resnet-fmnist", "res3a/conv1") in strided and ("resnet-fmnist", "res4a/conv3") in strided


def test_max_pooling_window(ankle_boot):
    tr = cv.trace_convolutions("vgg-fmnist", inference.prepare("vgg-fmnist", images.from_array(ankle_boot)))
    w = cv.walkthrough(tr, "conv1_1", 4, 9, 14)
    assert w.value == pytest.approx(w.forward, **APPROX)
    assert w.pooling is not None and w.pooling.mode == "max"
    assert w.pooling.unit == (4, 7) and w.pooling.rows == (8, 9) and w.pooling.cols == (14, 15)
    relu_out = tr.record("0.0").after[0].output
    assert w.pooling.value == float(relu_out[4, 8:10, 14:16].max()) == w.pooling.forward


def test_receptive_field_is_the_engines_interval(lenet, resnet):
    w = cv.walkthrough(lenet, "conv2", 0, 0, 0)
    assert w.field == (w.layer.field[0].interval(0), w.layer.field[1].interval(0)) == ((-2, 12), (-2, 12))
    w = cv.walkthrough(resnet, "res3a/conv1", 0, 5, 9)
    assert w.field == (w.layer.field[0].interval(5), w.layer.field[1].interval(9))
    # and it is where the gradient lives: LeNet's conv2 unit (4, 6) depends on input rows 6 … 19, columns 10 … 23
    model = nn.Sequential(*list(inference.get_spec("lenet").build().children())[:4])
    x = torch.rand(1, 1, 28, 28, requires_grad=True)
    model(x)[0, 0, 4, 6].backward()
    rows, cols = np.nonzero(x.grad[0, 0].abs().numpy() > 0)
    w = cv.walkthrough(lenet, "conv2", 0, 4, 6)
    assert w.field == ((6, 20), (10, 24)) == ((rows.min(), rows.max() + 1), (cols.min(), cols.max() + 1))


def test_one_by_one_convolution_is_a_per_pixel_linear_layer(resnet):
    p = cv.pointwise(resnet, "res3a/conv3", 6, 11)
    rec = resnet.record("b3.0.conv3")
    assert p.matrix.shape == (64, 32) and p.pixel.shape == (32,)
    np.testing.assert_allclose(p.pixel, rec.input[:, 12, 22].double().numpy())  # stride 2: pixel (12, 22)
    np.testing.assert_allclose(p.result, p.forward, **TOL)
    np.testing.assert_allclose(p.everywhere, rec.output.double().numpy(), **TOL)
    with pytest.raises(cv.WalkthroughError, match=r"^res3a/conv1 \(b3.0.conv1\) is a 3×3 convolution, not 1×1"):
        cv.pointwise(resnet, "res3a/conv1")


def test_grouped_convolution_is_refused(lenet):
    rec = lenet.record("3")
    grouped = nn.Conv2d(6, 16, 5, groups=2)
    layer = cv.ConvLayer("3", "conv2", 6, 16, (5, 5), (1, 1), (0, 0), (1, 1), 2, (6, 14, 14), (16, 10, 10), None)
    tr = cv.Trace("lenet", lenet.input, {"3": cv.ConvRecord(layer, grouped, rec.input, rec.output, (), None)},
                  lenet.logits)
    with pytest.raises(cv.WalkthroughError) as err:
        cv.walkthrough(tr, "3", 0, 0, 0)
    assert str(err.value) == "conv2 (3) is a grouped convolution (groups=2): the walkthrough follows groups=1 only"


def test_ranked_maps_share_one_colour_scale(lenet, resnet):
    ranked = cv.ranked_maps(lenet, "conv2", by="mean", top=5)
    fmap, stage = cv.activation_of(lenet, "3")
    assert stage == "conv2 → sigmoid2"
    means = fmap.double().mean(dim=(1, 2)).numpy()
    assert list(ranked.channels) == list(np.argsort(-means, kind="stable")[:5])
    assert list(ranked.scores) == sorted(ranked.scores, reverse=True)
    assert (ranked.zmin, ranked.zmax) == (float(fmap.min()), float(fmap.max()))
    np.testing.assert_array_equal(ranked.maps[0], fmap[ranked.channels[0]].double().numpy())
    by_max = cv.ranked_maps(resnet, "conv1", by="max", top=32)
    assert cv.activation_of(resnet, "b1.0")[1] == "conv1 → bn1 → relu1"
    assert by_max.zmin == 0.0 and by_max.maps.shape == (32, 28, 28)
    assert by_max.scores[0] == by_max.zmax
    with pytest.raises(cv.WalkthroughError, match="unknown ranking 'median'; known: mean, max"):
        cv.ranked_maps(lenet, "conv1", by="median")
