"""Classify: upload an image (or pick a test image) and see what each trained network makes of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch

import explorer
from explorer.present import charts
from explorer.runtime import data, imagenet, images, inference
from explorer.runtime.devices import pick_device
from pages.common import use_app_navigation

use_app_navigation()

st.title("Classify an image")
st.markdown(
    "Upload a photo — a shoe, a shirt, a bag — or pick one of the 10,000 Fashion-MNIST test images. The networks "
    "shipped with CNN Explorer were trained on Fashion-MNIST; the torchvision-compatible ImageNet models join in "
    "when their official checkpoints are in torch.hub's cache."
)

models = inference.available_models()
if not models:
    st.error("No trained weights found: explorer/zoo/trained/manifest.json is missing from this installation.")
    st.stop()


def _label(model_id: str) -> str:
    spec = explorer.get_spec(model_id)
    trained = spec.trained
    return f"{model_id} — {trained.accuracy:.2%} on Fashion-MNIST" if trained else f"{model_id} — ImageNet"


def _device_available(name: str) -> bool:
    try:
        pick_device(name)
        return True
    except ValueError:
        return False


left, right = st.columns([2, 1])
model_id = left.selectbox("Model", models, format_func=_label, key="cls_model")
device = right.selectbox(
    "Device", [d for d in ("auto", "cpu", "cuda", "mps") if d in ("auto", "cpu") or _device_available(d)],
    key="cls_device", help="auto: CUDA, then Apple's Metal (mps), then the CPU.",
)

source = st.radio("Image", ["Upload", "Fashion-MNIST test image"], index=1, horizontal=True, key="cls_source")
picture = None
if source == "Upload":
    upload = st.file_uploader(
        "PNG, JPEG, WEBP, BMP, GIF or TIFF", key="cls_upload",
        help="Checked by content, not by name. Transparent areas count as white; photos are rotated upright.",
    )
    if upload is not None:
        try:
            picture = images.load_image(upload.getvalue(), upload.name)
        except images.ImageError as exc:
            st.error(str(exc), icon="⚠️")
else:
    index = st.number_input("Test image #", 0, 9999, 0, key="cls_index")
    try:
        raw, label = data.sample(int(index))
        picture = images.from_array(raw)
        st.caption(f"True class: **{data.CLASSES[label]}**")
    except data.DatasetNotFound as exc:
        st.warning(str(exc))

if picture is None:
    st.info("Upload an image, or switch to a Fashion-MNIST test image.")
    st.stop()

try:
    prediction = inference.classify(picture, model_id, top_k=5, device=device)
except (inference.NoWeights, ValueError) as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()

top_label, top_prob = prediction.top[0]
st.metric("Prediction", top_label, delta=f"{top_prob:.1%} confidence", delta_color="off", delta_arrow="off")
resolved = pick_device(device)
st.caption(
    f"{model_id} on **{resolved.type}**: {prediction.ms:.1f} ms for preprocessing and the forward pass "
    "(the first call also builds and loads the model)."
)

a, b, c = st.columns([1, 1, 2])
a.image(np.asarray(picture), caption=f"Uploaded: {picture.width}×{picture.height}", width="stretch")
x = prediction.input
shown = x[0].numpy() if x.shape[0] == 1 else (x * torch.tensor(imagenet.STD)[:, None, None]
                                               + torch.tensor(imagenet.MEAN)[:, None, None]).clamp(0, 1)
shown = shown if x.shape[0] == 1 else shown.permute(1, 2, 0).numpy()
b.image(shown, caption=f"What the network receives: {'×'.join(map(str, x.shape))}", clamp=True, width="stretch")
c.plotly_chart(charts.top_k(prediction.top), key="cls_topk")

spec = explorer.get_spec(model_id)
if spec.trained is not None:
    t = spec.trained
    r = t.recipe
    st.markdown(
        f"**{model_id}** — measured test accuracy **{t.accuracy:.2%}** ({t.correct:,} of 10,000 test images); "
        f"d2l's published result for this chapter: {spec.d2l_result or '—'}. Trained {r.get('epochs')} epochs, "
        f"SGD lr {r.get('lr')}, batch {r.get('batch_size')}"
        + (f", momentum {r['momentum']}" if r.get("momentum") else "")
        + (f", {r['schedule']} schedule" if r.get("schedule") not in (None, "constant") else "")
        + (", horizontal flips" if r.get("augment") else "")
        + f", seed {r.get('seed')}, on {r.get('device')}."
    )

# --- feature maps ---------------------------------------------------------------------------------------------------
st.subheader("Feature maps")
maps = inference.feature_maps(model_id, x, device)
if maps:
    layer = st.selectbox(
        "Layer", list(maps), key=f"cls_layer_{model_id}",
        format_func=lambda n: f"{n} — {'×'.join(map(str, maps[n].shape))}",
    )
    fmap = maps[layer].numpy()
    st.image(charts.channel_grid(fmap), clamp=True, width="stretch",
             caption=f"{layer}: the first {min(64, fmap.shape[0])} of {fmap.shape[0]} channels, each scaled to its "
                     "own range (bright = strong activation)")

# --- every model on the same image ----------------------------------------------------------------------------------
st.subheader("Every available model on this image")
rows = []
for other in models:
    try:
        p = inference.classify(picture, other, top_k=1, device=device)
    except (inference.NoWeights, ValueError) as exc:
        rows.append({"model": other, "prediction": "—", "confidence": "", "ms": "", "note": str(exc)})
        continue
    trained = explorer.get_spec(other).trained
    rows.append({
        "model": other,
        "prediction": p.top[0][0],
        "confidence": f"{p.top[0][1]:.1%}",
        "ms": f"{p.ms:.1f}",
        "note": f"Fashion-MNIST test accuracy {trained.accuracy:.2%}" if trained else "ImageNet",
    })
st.table(pd.DataFrame(rows).set_index("model"))

missing = [m for m in imagenet.CHECKPOINTS if not imagenet.available(m)]
if missing:
    with st.expander(f"ImageNet models ({len(imagenet.CHECKPOINTS) - len(missing)} of {len(imagenet.CHECKPOINTS)} "
                     "available)"):
        st.markdown("These need torchvision's published checkpoint in torch.hub's cache (no torchvision needed):")
        for m in missing:
            url, _ = imagenet.CHECKPOINTS[m]
            st.markdown(f"- `{m}`: fetch {url} → `{imagenet.checkpoint_path(m)}`")
