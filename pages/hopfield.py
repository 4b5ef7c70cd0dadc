"""Hopfield network: store a few Fashion-MNIST shapes, corrupt one, and watch the network recall it while its energy
falls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import explorer
from explorer.lessons import hopfield
from explorer.present import charts
from explorer.present import formatting as fmt
from explorer.runtime import data
from explorer.zoo.energy import N_PIXELS, SIDE
from pages.common import exact_metric, use_app_navigation
from pages.i18n import _, render
from pages.notes_panel import notes_panel

use_app_navigation()

N = N_PIXELS


@st.cache_data(show_spinner=_("Averaging the Fashion-MNIST classes…"), max_entries=32)
def patterns(classes: tuple[int, ...], encoding: str) -> np.ndarray:
    return hopfield.class_patterns(classes, encoding)


def image(state: np.ndarray) -> np.ndarray:
    return state.reshape(SIDE, SIDE)


spec = explorer.get_spec("hopfield")
st.title(_("Hopfield network"))
st.markdown(
    f"*{spec.paper}* · `hopfield` · {_(spec.introduced)} " + _(
        "Each of the 784 neurons is one pixel (+1 white, −1 black) and is connected to every other. The Hebbian rule "
        "W = (1/N) Σ p pᵀ (zero diagonal) stores the patterns; then one neuron at a time takes the sign of its input "
        "Σⱼ Wᵢⱼ sⱼ, and the energy E = −(1/2) sᵀWs never goes up.")
)
notes_panel("hopfield")

names = [_(name) for name in data.CLASSES]
c1, c2 = st.columns([3, 2])
chosen = c1.multiselect(
    _("Stored patterns (class means, thresholded)"), range(len(names)), default=[0, 5, 8],
    format_func=names.__getitem__, key="hop_classes", max_selections=10,
)
encoding = c2.radio(
    _("Thresholding"), hopfield.ENCODINGS, horizontal=True, key="hop_encoding",
    format_func=lambda e: _("silhouette (> ¼ white)") if e == "silhouette" else _("contrast (> the average class)"),
    help=_("Contrast patterns overlap less, so more of them can be stored and recalled."),
)
if not chosen:
    st.info(_("Pick at least one class to store."))
    st.stop()
c1, c2, c3 = st.columns(3)
target = c1.selectbox(_("Corrupt and recall"), chosen, format_func=names.__getitem__, key="hop_target")
noise = c2.slider(_("Flipped pixels"), 0.0, 0.5, 0.2, 0.05, key="hop_noise", format="%.2f",
                  help=_("Fraction of the 784 neurons whose sign is flipped before recall."))
seed = int(c3.number_input(_("Seed"), 0, 10_000, 0, key="hop_seed"))

try:
    stored = patterns(tuple(chosen), encoding)
except data.DatasetNotFound as exc:
    st.warning(render(exc))
    st.stop()
weights = hopfield.hebbian(stored)
k = chosen.index(target)
start = hopfield.corrupt(stored[k], noise, seed=seed)

m1, m2, m3, m4 = st.columns(4)
with m1:
    st.metric(_("Neurons"), fmt.exact(N))
with m2:
    exact_metric(_("Weights"), spec.params, help=_("784 × 784: symmetric, zero diagonal."))
with m3:
    exact_metric(_("Free weights"), N * (N - 1) // 2, help=_("N(N − 1)/2: W is symmetric with a zero diagonal."))
with m4:
    st.metric(_("Stored patterns"), len(chosen), help=_("About 0.138·N ≈ {n} random patterns fit; similar images far "
                                                        "fewer.").format(n=f"{0.138 * N:.0f}"))

st.plotly_chart(charts.image_row([image(p) for p in stored], [names[c] for c in chosen]), key="hop_stored")
overlap = hopfield.overlaps(stored)
if len(chosen) > 1:
    st.dataframe(pd.DataFrame(overlap.round(3), index=[names[c] for c in chosen], columns=[names[c] for c in chosen]),
                 key="hop_overlaps")
    st.caption(_("Overlaps m = p·q/N between the stored patterns: 1 for identical, 0 for unrelated. The larger they "
                 "are, the more the patterns interfere and the likelier recall ends in a mixture (a spurious "
                 "minimum)."))

bar = st.progress(0.0, text=_("Recalling…"))


def progress(done: int, planned: int, energy: float) -> None:
    bar.progress(min(1.0, done / planned), text=_("{n} single-neuron updates · E = {e}").format(
        n=f"{done:,}", e=f"{energy:,.1f}"))


run = hopfield.recall(weights, start, seed=seed, on_progress=progress)
bar.progress(1.0, text=_("Done: {sweeps} sweep(s), {flips} neurons flipped.").format(sweeps=run.sweeps,
                                                                                      flips=run.flips))

shown = list(range(min(5, len(run.snapshots))))  # the first sweep, a quarter at a time: most flips happen there
st.plotly_chart(charts.image_row(
    [image(run.snapshots[i]) for i in shown] + [image(run.final)],
    [_("after {n} updates").format(n=f"{run.snapshot_steps[i]:,}") if run.snapshot_steps[i]
     else _("corrupted input") for i in shown]
    + [_("final state")],
), key="hop_snapshots")
verdict = hopfield.diagnose(run.final, stored)
e0, e1 = float(run.energies[0]), float(run.energies[-1])
found = names[chosen[verdict.index]]
energy = {"e0": f"{e0:,.1f}", "e1": f"{e1:,.1f}", "overlap": f"{verdict.overlap:+.3f}"}
if verdict.kind == "exact" and verdict.index == k:
    st.success(_("Recalled **{name}** exactly after {sweeps} sweep(s) ({flips} neurons flipped); energy {e0} → "
                 "{e1}.").format(name=names[target], sweeps=run.sweeps, flips=run.flips, **energy))
elif verdict.kind == "exact":
    st.warning(_("Recalled a different stored pattern exactly: **{found}**, not {name} (overlap {overlap} with it) — "
                 "the corruption moved the state into its basin. Energy {e0} → {e1}.").format(
        found=found, name=names[target], **energy))
elif verdict.kind == "inverted":
    st.warning(_(
        "Recalled the **negative of the stored {found}** pattern (−ξ, every pixel inverted: overlap {overlap}). With "
        "Hebbian weights E(−s) = E(s), so −ξ is an energy minimum as deep as ξ: the state fell into the mirror basin. "
        "Energy {e0} → {e1}.").format(found=found, **energy))
else:
    st.warning(_(
        "Did not recall {name} exactly: the final state is a mixture or spurious minimum, closest to **{found}** "
        "(overlap {overlap}; ±1 would be the pattern or its negative). Energy {e0} → {e1}.").format(
        name=names[target], found=found, **energy))
st.plotly_chart(charts.energy_curve(run.energies, N, title=_("Energy E = −(1/2) sᵀWs")), key="hop_energy")
rises = int((np.diff(run.energies) > 1e-9).sum())
st.caption(_(
    "{n} single-neuron updates, dotted lines between sweeps; the energy rose {rises} times. Asynchronous updates "
    "with a symmetric, zero-diagonal W can only lower it or leave it unchanged.").format(
    n=f"{len(run.energies) - 1:,}", rises=rises))
