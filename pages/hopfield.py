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
from pages.notes_panel import notes_panel

use_app_navigation()

N = N_PIXELS


@st.cache_data(show_spinner="Averaging the Fashion-MNIST classes…", max_entries=32)
def patterns(classes: tuple[int, ...], encoding: str) -> np.ndarray:
    return hopfield.class_patterns(classes, encoding)


def image(state: np.ndarray) -> np.ndarray:
    return state.reshape(SIDE, SIDE)


spec = explorer.get_spec("hopfield")
st.title("Hopfield network")
st.markdown(
    f"*{spec.paper}* · `hopfield` · {spec.introduced} Each of the 784 neurons is one pixel (+1 white, −1 black) and "
    "is connected to every other. The Hebbian rule W = (1/N) Σ p pᵀ (zero diagonal) stores the patterns; then one "
    "neuron at a time takes the sign of its input Σⱼ Wᵢⱼ sⱼ, and the energy E = −½ sᵀWs never goes up."
)
notes_panel("hopfield")

names = list(data.CLASSES)
c1, c2 = st.columns([3, 2])
chosen = c1.multiselect(
    "Stored patterns (class means, thresholded)", range(len(names)), default=[0, 5, 8], format_func=names.__getitem__,
    key="hop_classes", max_selections=10,
)
encoding = c2.radio(
    "Thresholding", hopfield.ENCODINGS, horizontal=True, key="hop_encoding",
    format_func={"silhouette": "silhouette (> ¼ white)", "contrast": "contrast (> the average class)"}.get,
    help="Contrast patterns overlap less, so more of them can be stored and recalled.",
)
if not chosen:
    st.info("Pick at least one class to store.")
    st.stop()
c1, c2, c3 = st.columns(3)
target = c1.selectbox("Corrupt and recall", chosen, format_func=names.__getitem__, key="hop_target")
noise = c2.slider("Flipped pixels", 0.0, 0.5, 0.2, 0.05, key="hop_noise", format="%.2f",
                  help="Fraction of the 784 neurons whose sign is flipped before recall.")
seed = int(c3.number_input("Seed", 0, 10_000, 0, key="hop_seed"))

try:
    stored = patterns(tuple(chosen), encoding)
except data.DatasetNotFound as exc:
    st.warning(str(exc))
    st.stop()
weights = hopfield.hebbian(stored)
k = chosen.index(target)
start = hopfield.corrupt(stored[k], noise, seed=seed)

m1, m2, m3, m4 = st.columns(4)
with m1:
    st.metric("Neurons", fmt.exact(N))
with m2:
    exact_metric("Weights", spec.params, help="784 × 784: symmetric, zero diagonal.")
with m3:
    exact_metric("Free weights", N * (N - 1) // 2, help="N(N − 1)/2: W is symmetric with a zero diagonal.")
with m4:
    st.metric("Stored patterns", len(chosen), help=f"About 0.138·N ≈ {0.138 * N:.0f} random patterns fit; "
              "similar images far fewer.")

st.plotly_chart(charts.image_row([image(p) for p in stored], [names[c] for c in chosen]), key="hop_stored")
overlap = hopfield.overlaps(stored)
if len(chosen) > 1:
    st.dataframe(pd.DataFrame(overlap.round(3), index=[names[c] for c in chosen], columns=[names[c] for c in chosen]),
                 key="hop_overlaps")
    st.caption("Overlaps m = p·q/N between the stored patterns: 1 for identical, 0 for unrelated. The larger they "
               "are, the more the patterns interfere and the likelier recall ends in a mixture (a spurious minimum).")

bar = st.progress(0.0, text="Recalling…")


def progress(done: int, planned: int, energy: float) -> None:
    bar.progress(min(1.0, done / planned), text=f"{done:,} single-neuron updates · E = {energy:,.1f}")


run = hopfield.recall(weights, start, seed=seed, on_progress=progress)
bar.progress(1.0, text=f"Done: {run.sweeps} sweep(s), {run.flips} neurons flipped.")

shown = list(range(min(5, len(run.snapshots))))  # the first sweep, a quarter at a time: most flips happen there
st.plotly_chart(charts.image_row(
    [image(run.snapshots[i]) for i in shown] + [image(run.final)],
    [f"after {run.snapshot_steps[i]:,} updates" if run.snapshot_steps[i] else "corrupted input" for i in shown]
    + ["final state"],
), key="hop_snapshots")
verdict = hopfield.diagnose(run.final, stored)
e0, e1 = float(run.energies[0]), float(run.energies[-1])
found = names[chosen[verdict.index]]
if verdict.kind == "exact" and verdict.index == k:
    st.success(f"Recalled **{names[target]}** exactly after {run.sweeps} sweep(s) ({run.flips} neurons flipped); "
               f"energy {e0:,.1f} → {e1:,.1f}.")
elif verdict.kind == "exact":
    st.warning(f"Recalled a different stored pattern exactly: **{found}**, not {names[target]} (overlap "
               f"{verdict.overlap:+.3f} with it) — the corruption moved the state into its basin. "
               f"Energy {e0:,.1f} → {e1:,.1f}.")
elif verdict.kind == "inverted":
    st.warning(
        f"Recalled the **negative of the stored {found}** pattern (−ξ, every pixel inverted: overlap "
        f"{verdict.overlap:+.3f}). With Hebbian weights E(−s) = E(s), so −ξ is an energy minimum as deep as ξ: "
        f"the state fell into the mirror basin. Energy {e0:,.1f} → {e1:,.1f}."
    )
else:
    st.warning(
        f"Did not recall {names[target]} exactly: the final state is a mixture or spurious minimum, closest to "
        f"**{found}** (overlap {verdict.overlap:+.3f}; ±1 would be the pattern or its negative). "
        f"Energy {e0:,.1f} → {e1:,.1f}."
    )
st.plotly_chart(charts.energy_curve(run.energies, N), key="hop_energy")
rises = int((np.diff(run.energies) > 1e-9).sum())
st.caption(
    f"{len(run.energies) - 1:,} single-neuron updates, dotted lines between sweeps; the energy rose {rises} times. "
    "Asynchronous updates with a symmetric, zero-diagonal W can only lower it or leave it unchanged."
)
