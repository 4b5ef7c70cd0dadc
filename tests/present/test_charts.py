"""The Architecture and Receptive-field charts say what the analysis says: the receptive-field curve ends at the
summary's final field, the shape flow names layers by their labels on whole-number axes, an Inception block is one
step, and a network without feature maps gets a chart of its features."""

from __future__ import annotations

import pytest

import explorer
from explorer.present import charts


@pytest.fixture(scope="module")
def summaries() -> dict[str, explorer.Summary]:
    return {m: explorer.analyze(m) for m in ("alexnet", "googlenet", "resnet50-tv", "vgg16", "lstm", "ffn", "mlp")}


@pytest.mark.parametrize(("model_id", "field", "stride"), [
    ("resnet50-tv", 427, 32),  # not the global pool's 619 px: the curve stops where the table's final field is
    ("googlenet", 715, 32),
    ("vgg16", 212, 32),
])
def test_rf_curve_ends_at_the_final_field(summaries, model_id, field, stride):
    summary = summaries[model_id]
    assert (summary.receptive_field.size, summary.receptive_field.stride) == (field, stride)
    fig = charts.rf_growth({model_id: summary})
    sizes, strides = fig.data
    assert (sizes.y[-1], strides.y[-1]) == (field, stride)
    assert list(sizes.y) == sorted(sizes.y)  # fields only grow along the curve


def test_rf_stride_axis_is_labelled_in_whole_pixels(summaries):
    fig = charts.rf_growth({"alexnet": summaries["alexnet"], "resnet50-tv": summaries["resnet50-tv"]})
    axis = fig.layout.yaxis2
    assert axis.type == "log"
    # the smallest stride drawn is 4 (both nets' first pooling), the largest 32
    assert list(axis.tickvals) == [2, 4, 8, 16, 32, 64]
    assert list(axis.ticktext) == ["2", "4", "8", "16", "32", "64"]


def test_shape_flow_names_layers_and_counts_in_integers(summaries):
    fig = charts.shape_flow(summaries["alexnet"])
    names = list(fig.layout.xaxis.ticktext)
    assert names[:14] == ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                          "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5"]
    assert names[14] == "flatten" and names[-1] == "fc8"  # the classifier is part of the flow
    height, channels, features = fig.data
    assert list(height.y)[:14] == [224, 55, 55, 27, 27, 27, 13, 13, 13, 13, 13, 13, 13, 6]
    assert set(list(height.y)[14:]) == {None}  # no spatial size after flattening
    assert list(channels.y)[:2] == [3, 96]
    flat = [v for v in features.y if v is not None]
    assert flat[0] == 256 * 6 * 6 and flat[-1] == 1000 and 4096 in flat
    for axis in (fig.layout.yaxis, fig.layout.yaxis2):
        assert axis.tick0 == 0 and axis.dtick >= 1 and float(axis.dtick).is_integer() and axis.tickformat == ",d"


def test_shape_flow_draws_an_inception_block_as_one_step(summaries):
    fig = charts.shape_flow(summaries["googlenet"])
    names = list(fig.layout.xaxis.ticktext)
    assert names[9:12] == ["inception3a", "inception3b", "pool3"]
    assert not any("/" in n for n in names)  # no branch layer of a block
    channels = [v for v in next(t for t in fig.data if t.name == "channels").y if v is not None]
    assert channels[9:11] == [256, 480]
    assert channels[-1] == 1024 and channels[8:] == sorted(channels[8:])  # concatenations only ever widen here


CNN_IDS = [s.id for s in explorer.list_models()
           if any(r.output_shape is not None and len(r.output_shape) == 4 for r in explorer.analyze(s.id).leaves)]


@pytest.mark.parametrize("model_id", CNN_IDS)
def test_shape_flow_ends_at_the_last_layer(model_id):
    """The chart's last step is the network's last layer (AlexNet's fc8, not pool5), named on the axis."""
    summary = explorer.analyze(model_id)
    fig = charts.layer_flow(summary)
    last = [r for r in summary.leaves if r.output_shape is not None][-1]
    bars = [t for t in fig.data if t.type == "bar"]
    assert bars[-1].text[-1].startswith(f"{last.label} ("), bars[-1].text[-1]
    ends = [max(i for i, v in enumerate(t.y) if v is not None) for t in bars]
    assert max(ends) == len(bars[-1].x) - 1  # a bar is drawn at the last step
    assert list(fig.layout.xaxis.ticktext)[-1] == last.label
    assert list(fig.layout.xaxis.tickvals)[-1] == len(bars[-1].x) - 1


def test_feature_flow_for_sequences_and_flat_nets(summaries):
    lstm = charts.layer_flow(summaries["lstm"])
    features, steps = lstm.data
    assert list(features.y) == [28, 64] and list(steps.y) == [28, 28]  # 28 steps, hidden state of 64 per step
    ffn = charts.layer_flow(summaries["ffn"])
    assert list(ffn.data[0].y) == [512, 2048, 2048, 2048, 512]
    mlp = charts.layer_flow(summaries["mlp"])
    assert len(mlp.data) == 1 and list(mlp.data[0].y) == [784, 784, 256, 256, 10]
    assert "nothing spatial" in mlp.layout.title.text
    assert charts.layer_flow(summaries["alexnet"]).layout.title.text.startswith("Shape flow")


@pytest.mark.parametrize(("rates", "holes"), [((1, 2, 4, 8), 0), ((2, 2, 2), 120)])
def test_gridding_heatmap_draws_never_seen_apart_from_seen_once(rates, holes):
    """One colour scale for every stack: 0 (never seen) blank, 1 already blue — the 1,2,4,8 stack, seen everywhere,
    cannot look gridded — and the legend names both ends."""
    from explorer.analysis import dilation

    grid = dilation.gridding(rates, 3)
    assert int((grid == 0).sum()) == holes
    heat = charts.paths_heatmap(grid, "t").data[0]
    assert (heat.zmin, heat.zmax) == (0, grid.max())
    step = heat.colorscale[1][0]  # the blank band ends below 1
    assert 0 < step * grid.max() < 1 and heat.colorscale[0][1] == heat.colorscale[1][1] == charts.NEVER_SEEN
    assert heat.colorscale[2][1] == charts.SEEN[0] != charts.NEVER_SEEN
    assert list(heat.colorbar.ticktext)[:2] == ["0: never seen", "1 path"]
