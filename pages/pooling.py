"""Pooling: max and average pooling on a grid of numbers or an image — window, stride and padding, each output
traced back to its window — and what weight sharing saves a convolution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.lessons import pooling
from explorer.present import charts
from explorer.present import formatting as fmt
from explorer.runtime import data
from pages.common import use_app_navigation
from pages.i18n import _, render
from pages.notes_panel import notes_panel

use_app_navigation()

st.title(_("Pooling"))
st.markdown(_(
    "A pooling layer slides a k×k window over each channel with stride s and replaces the window by one number: its "
    "maximum or its mean. It has no parameters; it shrinks the map to ⌊(n + 2p − k)/s⌋ + 1 per side."
))
notes_panel("pooling")

c1, c2, c3, c4 = st.columns(4)
source = c1.radio(_("Input"), ["numbers", "image"], horizontal=True, key="pool_source",
                  format_func=lambda v: _("a grid of numbers") if v == "numbers" else _("a Fashion-MNIST image"))
k = c2.slider(_("Window k"), 1, 5, 2, key="pool_k")
s = c3.slider(_("Stride s"), 1, 5, 2, key="pool_s")
if k // 2:  # keyed by k: the range changes with the window
    p = c4.slider(_("Padding p"), 0, k // 2, 0, key=f"pool_p_{k}",
                  help=_("At most half the window, as PyTorch requires."))
else:
    p = 0
    c4.caption(_("Padding p: 0 (a 1×1 window takes none)"))

if source == "numbers":
    a, b = st.columns(2)
    size = a.slider(_("Grid size"), 3, 10, 6, key="pool_size")
    seed = int(b.number_input(_("Seed"), 0, 10_000, 0, key="pool_seed"))
    grid = pooling.sample_grid(size, seed)
else:
    index = int(st.number_input(_("Test image #"), 0, 9999, 0, key="pool_image"))
    try:
        raw, label = data.sample(index)
    except data.DatasetNotFound as exc:
        st.warning(render(exc))
        st.stop()
    st.caption(_("Fashion-MNIST test image {index}: {label} (pixel values 0–255)").format(
        index=index, label=_(data.CLASSES[label])))
    grid = raw.astype(np.float64)

h, w = grid.shape
oh, ow = pooling.output_size(h, k, s, p), pooling.output_size(w, k, s, p)
if oh < 1 or ow < 1:
    st.error(_("A {k}×{k} window does not fit in {h}×{w} with padding {p}: no output.").format(k=k, h=h, w=w, p=p))
    st.stop()
st.markdown(_("**Output size:** ⌊({h} + 2·{p} − {k})/{s}⌋ + 1 = **{oh}** per side ({h}×{w} → {oh}×{ow}).").format(
    h=h, w=w, p=p, k=k, s=s, oh=oh, ow=ow))

c1, c2 = st.columns(2)
i = c1.slider(_("Output row"), 0, oh - 1, 0, key=f"pool_row_{oh}") if oh > 1 else 0
j = c2.slider(_("Output column"), 0, ow - 1, 0, key=f"pool_col_{ow}") if ow > 1 else 0
box = pooling.window(i, j, k, s, p)
numbers = source == "numbers"

left, mid, right = st.columns(3)
left.plotly_chart(charts.pool_grid(grid, box, _("Input {h}×{w}: window of output ({i}, {j})").format(
    h=h, w=w, i=i, j=j), "Blues", numbers), key="pool_input")
for column, mode in ((mid, "max"), (right, "avg")):
    out = pooling.pool(grid, mode, k, s, p)
    column.plotly_chart(
        charts.pool_grid(out, (i, i + 1, j, j + 1), (_("Max pooling {oh}×{ow}") if mode == "max" else
                                                     _("Average pooling {oh}×{ow}")).format(oh=oh, ow=ow),
                         "Oranges" if mode == "max" else "Greens", numbers),
        key=f"pool_{mode}",
    )
    column.markdown(f"`{pooling.explain(grid, mode, k, s, p, i, j)}`" if numbers or k <= 3 else
                    _("output ({i}, {j}) = {value}").format(i=i, j=j, value=f"{out[i, j]:.4g}"))
if p:
    st.caption(_("Padding: a max-pool pads with −∞ (never picked), an average-pool with zeros that count in the "
                 "divisor (PyTorch's count_include_pad=True)."))

st.subheader(_("A convolution is a fully connected layer with local, shared weights"))
c1, c2, c3, c4 = st.columns(4)
channels = c1.slider(_("Input channels"), 1, 64, 1, key="share_in")
size = c2.slider(_("Input size"), 4, 64, 28, key="share_size")
out_channels = c3.slider(_("Output channels"), 1, 64, 6, key="share_out")
kernel = c4.slider(_("Kernel"), 1, min(11, size), min(5, size), key=f"share_k_{min(11, size)}")
count = pooling.conv_vs_dense(channels, size, out_channels, kernel)
n_in, n_out = channels * size * size, count.out_shape[0] * count.out_shape[1] * count.out_shape[2]
layer, parameters = _("layer"), _("parameters")
st.table(pd.DataFrame([
    {layer: _("{conv}: local, shared").format(conv=f"Conv2d({channels}, {out_channels}, {kernel})"),
     parameters: fmt.exact(count.conv_params)},
    {layer: _("local windows, nothing shared (one kernel per output unit)"),
     parameters: fmt.exact(count.local_params)},
    {layer: _("{linear}: every input to every output").format(linear=f"Linear({n_in}, {n_out})"),
     parameters: fmt.exact(count.dense_params)},
]).set_index(layer))
st.caption(_(
    "Same input ({input}) and output ({output}) for all three; the convolution needs {saving}× fewer parameters "
    "than the dense layer.").format(input="×".join(map(str, count.in_shape)),
                                    output="×".join(map(str, count.out_shape)), saving=f"{count.saving:,.0f}"))
