"""Boltzmann machine: a restricted Boltzmann machine trained by CD-1 on binarized Fashion-MNIST, live — its
reconstruction error falling epoch by epoch, its reconstructions and the filters its hidden units learned."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

import explorer
from explorer.lessons import boltzmann
from explorer.present import charts
from explorer.present import formatting as fmt
from explorer.runtime import data
from pages.common import exact_metric, use_app_navigation
from pages.i18n import _, render
from pages.notes_panel import notes_panel

use_app_navigation()

HELD_OUT = 500


@st.cache_data(show_spinner=_("Loading and binarizing Fashion-MNIST…"), max_entries=8)
def datasets(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return boltzmann.binarized("train", count, seed=seed).numpy(), boltzmann.binarized("test", HELD_OUT).numpy()


spec = explorer.get_spec("rbm")
st.title(_("Boltzmann machine (RBM)"))
st.markdown(
    f"*{spec.paper}* · `rbm` · {_(spec.introduced)} " + _(
        "Visible units are the pixels of a binarized image, hidden units are features; E(v, h) = −aᵀv − bᵀh − hᵀWv "
        "and p(v, h) ∝ exp(−E). Contrastive divergence (CD-1) takes one Gibbs step from each training image — hidden "
        "sample, reconstruction — and moves W by ⟨h vᵀ⟩_data − ⟨h vᵀ⟩_reconstruction: the energy of the data goes "
        "down, that of the model's fantasies up.")
)
notes_panel("boltzmann")

with st.form("rbm_form"):
    c1, c2, c3, c4, c5 = st.columns(5)
    hidden = c1.select_slider(_("Hidden units"), [16, 32, 64, 128, 256], 64, key="rbm_hidden")
    epochs = c2.slider(_("Epochs"), 1, 20, 5, key="rbm_epochs")
    images = c3.select_slider(_("Training images"), [1000, 2000, 5000, 10_000, 20_000], 5000, key="rbm_images")
    lr = c4.select_slider(_("Learning rate"), [0.01, 0.02, 0.05, 0.1, 0.2], 0.1, key="rbm_lr")
    seed = int(c5.number_input(_("Seed"), 0, 10_000, 0, key="rbm_seed"))
    st.form_submit_button(_("Train"), type="primary")

n_params = 784 * hidden + hidden + 784
a, b = st.columns([1, 3])
with a:
    exact_metric(_("RBM parameters"), n_params)
b.markdown(_("**Parameters:** 784·{hidden} weights + {hidden} hidden biases + 784 visible biases = {total} (the "
             "zoo's `rbm`, 64 hidden units: {zoo}).").format(hidden=hidden, total=fmt.exact(n_params),
                                                             zoo=fmt.exact(spec.params)))

try:
    train_np, held_np = datasets(images, seed)
except data.DatasetNotFound as exc:
    st.warning(render(exc))
    st.stop()

@st.cache_resource(show_spinner=False)
def trained_machines() -> dict[tuple, boltzmann.RBMTraining]:
    """Settings → the training's result, for every session: a seeded training gives the same machine each time, so
    a visitor whose settings were trained before sees it at once (a few of them kept; the oldest goes first)."""
    return {}


settings = (hidden, epochs, images, lr, seed)
known = trained_machines()
if st.session_state.get("rbm_settings") != settings and settings in known:
    st.session_state["rbm_settings"], st.session_state["rbm_result"] = settings, known[settings]
if st.session_state.get("rbm_settings") != settings:
    bar = st.progress(0.0, text=_("Training…"))

    def progress(done: int, planned: int, error: float) -> None:
        if done % 10 == 0 or done == planned:
            bar.progress(done / planned, text=_("CD-1: mini-batch {done} of {planned} · batch error {error}").format(
                done=f"{done:,}", planned=f"{planned:,}", error=f"{error:.4f}"))

    result = boltzmann.train_rbm(
        explorer.build("rbm", n_hidden=hidden), torch.from_numpy(train_np), torch.from_numpy(held_np),
        epochs=epochs, lr=lr, seed=seed, on_progress=progress,
    )
    bar.progress(1.0, text=_("Trained in {s} s on {n} images.").format(s=f"{result.seconds:.1f}",
                                                                         n=f"{result.images:,}"))
    st.session_state["rbm_settings"], st.session_state["rbm_result"] = settings, result
    known[settings] = result
    while len(known) > 8:
        known.pop(next(iter(known)))
result: boltzmann.RBMTraining = st.session_state["rbm_result"]

before, after = result.errors[0], result.errors[-1]
m1, m2, m3 = st.columns(3)
m1.metric(_("Reconstruction error, before"), f"{before:.4f}",
          help=_("Mean squared error on {n} test images.").format(n=HELD_OUT))
m2.metric(_("After training"), f"{after:.4f}", delta=f"{after - before:+.4f}", delta_color="inverse")
gap0, gap1 = result.free_energy_gap[0], result.free_energy_gap[-1]
m3.metric(_("Free-energy gap"), f"{gap1:,.1f}", delta=f"{gap1 - gap0:+,.1f}",
          help=_("Mean F(noise) − mean F(test images): how much lower the model puts real images' energy."))
st.plotly_chart(charts.error_curve(result.errors, title=_("Reconstruction error (held-out images)")),
                key="rbm_errors")

st.subheader(_("Reconstructions of held-out images"))
st.plotly_chart(charts.image_row(list(result.originals),
                                 [_("test #{i}").format(i=i) for i in range(len(result.originals))],
                                 zmin=0, zmax=1, height=160), key="rbm_originals")
st.plotly_chart(charts.image_row(list(result.reconstructions), ["p(v | h)"] * len(result.reconstructions),
                                 zmin=0, zmax=1, height=160), key="rbm_reconstructions")

st.subheader(_("Learned filters"))
st.plotly_chart(charts.filter_grid(
    result.filters, title=_("Weights of the first {n} hidden units over the 28×28 pixels").format(
        n=min(64, len(result.filters)))
), key="rbm_filters")
st.caption(_(
    "Red: the unit turns on for these pixels; blue: against them (each map scaled by its own largest weight). "
    "Before training the weights are random noise (N(0, 0.01²)); after a few epochs each hidden unit responds to "
    "a part of a garment's shape. The visible biases start at each pixel's log-odds in the data (Hinton's guide), "
    "so the error before training is already that of the average image."
))
