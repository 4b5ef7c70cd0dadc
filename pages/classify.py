"""Classify: drop photos (or try a Fashion-MNIST test image), see each network's prediction and whether the image
looks like its training data; then watch one unit of a convolution compute, number by number."""

from __future__ import annotations

import functools
import hashlib
import time

import numpy as np
import pandas as pd
import streamlit as st
import torch

import explorer
from explorer.lessons import convolution as conv
from explorer.present import charts
from explorer.present import convolution as conv_figs
from explorer.present.formatting import accuracy_text
from explorer.runtime import coderun, data, hub, imagenet, images, inference, inference_runs, ood
from explorer.runtime.devices import pick_device
from pages.common import device_label, use_app_navigation
from pages.i18n import N_, _, render

use_app_navigation()

RUN_PREFIX = "run:"
TOP_K = 5
SIZE_RETRY_S = 60  # a checkpoint's size that could not be read is asked for again after this
FASHION_PIPELINE = N_("Uploads → greyscale · inverted when the border is light · background removed · cropped to the "
                      "object, centred · 28×28 · brightest pixel = 1")
IMAGENET_PIPELINE = N_("Uploads → RGB · shorter side resized to {resize} · centre crop {crop}×{crop} · normalised "
                       "with ImageNet's mean and std")

st.title(_("Classify an image"))

models = inference.available_models()
if not models:
    st.error(_("No trained weights found: explorer/zoo/trained/manifest.json is missing from this installation."))
    st.stop()
usable = {f"{RUN_PREFIX}{r['run']}": r for r in inference_runs.usable_runs()}


listing = hub.listing()  # the ImageNet checkpoints: a missing one is a choice too, downloaded first
fetchable = {row["id"]: row for row in listing if not row["present"] and row["id"] not in models}


def _label(choice: str) -> str:
    if choice in fetchable:
        return _("{model} — ImageNet, 1000 classes (download first)").format(model=choice)
    if choice in usable:
        r = usable[choice]
        acc = accuracy_text(r["test_accuracy"]) if r["test_accuracy"] is not None else _("no test accuracy")
        return _("run {run} — {model}, {acc} after epoch {epoch}").format(run=r["run"], model=r["model"], acc=acc,
                                                                          epoch=r["epoch"])
    trained = explorer.get_spec(choice).trained
    if trained:
        return _("{model} — {acc} on Fashion-MNIST").format(model=choice, acc=accuracy_text(trained.accuracy))
    return _("{model} — ImageNet, 1000 classes").format(model=choice)


def _model_of(choice: str) -> str:
    """The model id of a choice (a run's model for a run from the Train page)."""
    return usable[choice]["model"] if choice in usable else choice


def _names_imagenet(model: str) -> bool:
    """Whether ``model`` classifies into ImageNet's 1000 classes (not a shipped Fashion-MNIST model)."""
    return imagenet.is_imagenet_model(model) and explorer.get_spec(model).trained is None


def _class_name(label: str, model: str) -> str:
    """A class as shown: Fashion-MNIST's ten in the page's language; ImageNet's 1000 are the dataset's labels, data
    shown as the dataset writes them (English), like the model ids."""
    return label if _names_imagenet(model) else _(label)


def _device_available(name: str) -> bool:
    try:
        pick_device(name)
        return True
    except ValueError:
        return False


# Deep links: ?run=ID (the Train page's "Use it on Classify") or ?model=ID preselect the model.
linked = f"{RUN_PREFIX}{st.query_params.get('run')}" if st.query_params.get("run") else st.query_params.get("model")
if linked in models or linked in usable or linked in fetchable:
    st.session_state.setdefault("cls_model", linked)
elif linked:
    st.warning(_("{name} cannot classify here: it is not a shipped or downloaded model, nor a run with a completed "
                 "epoch.").format(name=linked.removeprefix(RUN_PREFIX)))

left, right = st.columns([3, 1])
choice = left.selectbox(_("Model"), models + list(usable) + list(fetchable), format_func=_label, key="cls_model")
device = right.selectbox(
    _("Device"), [d for d in ("auto", "cpu", "cuda", "mps") if d in ("auto", "cpu") or _device_available(d)],
    key="cls_device", help=_("auto: CUDA, then Apple's Metal (mps), then the CPU."), format_func=device_label,
)


# --- ImageNet checkpoints: a missing one is downloaded from the model list ----------------------------------------
@st.cache_data(ttl=600, show_spinner=False)
def _known_remote_size(checkpoint: str, url: str) -> int:
    size = hub.remote_size(checkpoint, timeout=5.0)
    if size is None:
        raise LookupError(url)  # not cached: the next run asks again (the network or the file may be back)
    return size


@st.cache_resource
def _size_misses() -> dict[str, float]:
    """URL → when its size could not be read (for every session: offline, each rerun would wait for the network)."""
    return {}


def _remote_size(checkpoint: str, url: str) -> int | None:
    misses = _size_misses()
    if time.monotonic() - misses.get(url, float("-inf")) < SIZE_RETRY_S:
        return None
    try:
        return _known_remote_size(checkpoint, url)
    except LookupError:
        misses[url] = time.monotonic()
        return None


def _download(pick: str, row: dict) -> None:
    """The picked ImageNet model's checkpoint is not here yet: its size, a Download button, the offline way."""
    st.markdown(
        _("The torchvision-compatible models classify into ImageNet's 1000 classes with torchvision's published "
          "checkpoints (no torchvision needed). Downloaded files are hash-checked before they are used. Present: "
          "{present}.").format(present=", ".join(f"`{r['id']}`" for r in listing if r["present"]) or _("none yet"))
    )
    size = _remote_size(pick, row["url"])
    label = (_("Download ({mb} MB)").format(mb=f"{size / 1e6:,.0f}") if size is not None
             else _("Download (size unknown)"))
    st.button(label, key="cls_fetch", type="primary", on_click=lambda: st.session_state.update(cls_fetch_now=pick))
    if st.session_state.pop("cls_fetch_now", None) == pick:
        bar = st.progress(0.0, text=_("Connecting to {url} …").format(url=row["url"]))

        def _progress(done: int, total: int | None, bar=bar) -> None:
            if total:
                bar.progress(min(1.0, done / total), text=_("{done} of {total} MB").format(
                    done=f"{done / 1e6:,.1f}", total=f"{total / 1e6:,.1f}"))
            else:
                bar.progress(0.0, text=f"{done / 1e6:,.1f} MB")

        try:
            path = hub.fetch(pick, progress=_progress)
        except hub.FetchError as exc:
            st.error(render(exc), icon="⚠️")
        else:
            bar.progress(1.0, text=_("Saved {name}").format(name=path.name))
            st.success(_("{model} is ready: pick it in the Model list above.").format(model=pick))
            st.rerun()
    st.markdown(
        _("Offline machine? Fetch `{url}` elsewhere, then run `{command}` here: the file is hash-checked and "
          "copied into torch.hub's cache.").format(
            url=row["url"], command=f"python -m explorer weights add {pick} {row['file']}")
    )


if choice in fetchable:
    _download(choice, fetchable[choice])
    st.stop()
model_id = _model_of(choice)
is_imagenet = _names_imagenet(model_id)

upload_col, sample_col = st.columns([3, 2])
uploads = upload_col.file_uploader(
    _("Drop photos here — a shoe, a shirt, a bag (PNG, JPEG, WEBP, BMP, GIF or TIFF; several at once)"),
    accept_multiple_files=True, key="cls_upload",
    help=_("Checked by content, not by name. Transparent areas count as white; photos are rotated upright."),
)
upload_col.caption(_(IMAGENET_PIPELINE).format(resize=imagenet.RESIZE_SIZE, crop=imagenet.CROP_SIZE) if is_imagenet
                   else _(FASHION_PIPELINE))


# --- inputs ---------------------------------------------------------------------------------------------------------
def _use_example() -> None:
    st.session_state["cls_example"] = int(st.session_state.get("cls_index", 0))
    st.session_state.pop("cls_no_sample", None)


def _clear_example() -> None:
    st.session_state.pop("cls_example", None)
    st.session_state["cls_no_sample"] = True


# Until photos are dropped, a Fashion-MNIST test image is classified: the page opens on a result, not a blank.
example = st.session_state.get("cls_example")
if example is None and not uploads and not st.session_state.get("cls_no_sample"):
    example = int(st.session_state.get("cls_index", 0))
with sample_col:
    st.number_input(_("Or a Fashion-MNIST test image #"), 0, 9999, 0, key="cls_index",
                    help=_("A test image goes to the network exactly as in the accuracy measurement: the raw 28×28 "
                           "pixels / 255, with no cropping or rescaling."))
    a, b = st.columns(2)
    a.button(_("Classify it"), key="cls_try", on_click=_use_example, width="stretch")
    b.button(_("Remove it"), key="cls_untry", on_click=_clear_example, disabled=example is None, width="stretch")

# (name, picture or None, raw 28×28 test image or None, true class or None)
items: list[tuple[str, object, np.ndarray | None, str | None]] = []
for upload in uploads or []:
    try:
        items.append((upload.name, images.load_image(upload.getvalue(), upload.name), None, None))
    except images.ImageError as exc:
        st.error(render(exc), icon="⚠️")
if example is not None:
    index = example
    try:
        raw, label = data.sample(index)
        items.append((_("Fashion-MNIST test image #{index}").format(index=index), images.from_array(raw), raw,
                      data.CLASSES[label]))
    except data.DatasetNotFound as exc:
        st.warning(render(exc))

if not items:
    st.info(_("Drop one or more photos above, or pick a Fashion-MNIST test image."))


def _classify(name: str, picture, raw: np.ndarray | None, which: str) -> inference.Prediction:
    if which in usable:
        return inference_runs.classify_run(usable[which]["run"], picture if raw is None else raw, top_k=TOP_K,
                                           device=device)
    if raw is not None and explorer.get_spec(which).trained is not None:
        return inference.classify_array(raw, which, top_k=TOP_K, device=device)
    return inference.classify(picture, which, top_k=TOP_K, device=device)


def _verdict(prediction: inference.Prediction, where) -> None:
    limit = ood.threshold(model_id)
    if prediction.familiar is False:
        where.warning(_("Not like the training data (Fashion-MNIST): score {score} > threshold {limit}, so the "
                        "prediction is a guess.").format(score=f"{prediction.ood_score:.2f}", limit=f"{limit:.2f}"),
                      icon="⚠️")
    elif prediction.familiar is True:
        where.success(_("Like the training data: score {score} ≤ threshold {limit}.").format(
            score=f"{prediction.ood_score:.2f}", limit=f"{limit:.2f}"), icon=":material/check_circle:")
    else:
        where.caption(_("No familiarity check for this model (it has no calibrated threshold)."))


def _timing(prediction: inference.Prediction) -> str:
    resolved = pick_device(device).type
    load = (_("load {ms} ms").format(ms=f"{prediction.load_ms:.1f}") if prediction.load_ms
            else _("load 0 ms (cached)"))
    check = (" · " + _("familiarity check {ms} ms").format(ms=f"{prediction.ood_ms:.1f}")
             if prediction.ood_score is not None else "")
    return _("On **{device}**: {load} · preprocess {pre} ms · forward pass {fwd} ms").format(
        device=resolved, load=load, pre=f"{prediction.preprocess_ms:.1f}", fwd=f"{prediction.forward_ms:.1f}") + check


def _network_view(x: torch.Tensor) -> np.ndarray:
    if x.shape[0] == 1:
        return x[0].numpy()
    mean = torch.tensor(imagenet.MEAN)[:, None, None]
    std = torch.tensor(imagenet.STD)[:, None, None]
    return (x * std + mean).clamp(0, 1).permute(1, 2, 0).numpy()


predictions: list[tuple[str, object, np.ndarray | None, inference.Prediction]] = []
for k, (name, picture, raw, truth) in enumerate(items):
    try:
        prediction = _classify(name, picture, raw, choice)
    except (inference.NoWeights, ValueError, KeyError) as exc:
        st.error(f"{name}: {render(exc)}", icon="⚠️")
        continue
    predictions.append((name, picture, raw, prediction))
    with st.container(border=True):
        photo, seen, verdict, chart = st.columns([1, 1, 2.8, 2.2])
        photo.image(np.asarray(picture), width="stretch", caption=name if truth is None else
                    _("{name} — true class: {truth}").format(name=name, truth=_(truth)))
        x = prediction.input
        seen.image(_network_view(x), clamp=True, width="stretch",
                   caption=_("network input {shape}").format(shape="×".join(map(str, x.shape))))
        top_label, top_prob = prediction.top[0]
        verdict.metric(_("Prediction"), _class_name(top_label, model_id),
                       delta=_("{p} confidence").format(p=f"{top_prob:.1%}"), delta_color="off", delta_arrow="off")
        if is_imagenet:
            verdict.caption(_("An ImageNet class, named as the dataset names it (in English)."))
        _verdict(prediction, verdict)
        verdict.caption(_timing(prediction))
        fig = charts.top_k([(_class_name(label, model_id), p) for label, p in prediction.top], title="")
        fig.update_layout(height=190, margin={"t": 10, "l": 0, "r": 0, "b": 0})
        chart.plotly_chart(fig, key=f"cls_topk_{k}")

if not predictions:
    st.stop()

# --- about the model ------------------------------------------------------------------------------------------------
spec = explorer.get_spec(model_id) if choice not in usable else None  # a run's model may be a playground network
if choice in usable:
    r = usable[choice]
    st.markdown(_("**run {run}** ({model}, trained on the Train page): test accuracy {acc} after epoch {epoch}, "
                  "status {status}.").format(run=r["run"], model=r["model"], acc=accuracy_text(r["test_accuracy"]),
                                             epoch=r["epoch"], status=_(r["status"]))
                if r["test_accuracy"] is not None else
                _("**run {run}** ({model}): epoch {epoch}.").format(run=r["run"], model=r["model"], epoch=r["epoch"]))
elif spec is not None and spec.trained is not None:
    t = spec.trained
    rec = t.recipe
    st.markdown(
        _("**{model}** — measured test accuracy **{acc}** ({correct} of 10,000 test images); d2l's published result "
          "for this chapter: {d2l}. Trained {epochs} epochs, SGD lr {lr}, batch {batch}").format(
            model=model_id, acc=accuracy_text(t.accuracy), correct=f"{t.correct:,}", d2l=_(spec.d2l_result or "—"),
            epochs=rec.get("epochs"), lr=rec.get("lr"), batch=rec.get("batch_size"))
        + (_(", momentum {m}").format(m=rec["momentum"]) if rec.get("momentum") else "")
        + (_(", {schedule} schedule").format(schedule=rec["schedule"])
           if rec.get("schedule") not in (None, "constant") else "")
        + (_(", horizontal flips") if rec.get("augment") else "")
        + _(", seed {seed}, on {device}.").format(seed=rec.get("seed"), device=rec.get("device"))
    )

# --- every model on the same image ----------------------------------------------------------------------------------
first_name, first_picture, first_raw, _first = predictions[0]
st.subheader(_("Every available model on {name}").format(name=first_name))
rows = []
# a playground network's run classifies in a process of its own (seconds): only the chosen one is asked here
for other in models + [r for r in usable if not coderun.is_code(usable[r]["model"]) or r == choice]:
    try:
        p = _classify(first_name, first_picture, first_raw, other)
    except (inference.NoWeights, ValueError, KeyError) as exc:
        rows.append({_("model"): _label(other), _("prediction"): "—", _("confidence"): "", _("familiar"): "",
                     _("forward ms"): "", _("note"): render(exc)})
        continue
    other_id = _model_of(other)
    trained = explorer.get_spec(other_id).trained if other not in usable else None
    rows.append({
        _("model"): _label(other),
        _("prediction"): _class_name(p.top[0][0], other_id),
        _("confidence"): f"{p.top[0][1]:.1%}",
        _("familiar"): {True: _("yes"), False: _("no")}.get(p.familiar, "—"),
        _("forward ms"): f"{p.forward_ms:.1f}",
        _("note"): _("run from the Train page") if other in usable else
        _("Fashion-MNIST test accuracy {acc}").format(acc=accuracy_text(trained.accuracy)) if trained else
        _("ImageNet (its class names in English, as the dataset writes them)"),
    })
st.table(pd.DataFrame(rows).set_index(_("model")))


# --- inside the network: feature maps and one unit, computed ---------------------------------------------------------
st.subheader(_("Inside the network"))
if choice in usable:
    st.info(_("The walkthrough follows the shipped and ImageNet models' own weights: pick one of them above to look "
              "inside."))
    st.stop()

if len(predictions) > 1:
    shown_name = st.selectbox(_("Image"), [p[0] for p in predictions], key="cls_inside_image")
else:
    shown_name = predictions[0][0]
_name, shown_picture, _raw, shown_prediction = next(p for p in predictions if p[0] == shown_name)
x = shown_prediction.input


@st.cache_resource(max_entries=6, show_spinner=_("Running the network with every convolution recorded …"))
def _traced(which: str, digest: str, _x: torch.Tensor) -> conv.Trace:
    return conv.trace_convolutions(which, _x)


traced = _traced(model_id, hashlib.sha1(x.numpy().tobytes()).hexdigest(), x)
layers = [rec.layer for rec in traced.convs.values()]
by_name = {layer.name: layer for layer in layers}
a, b, c = st.columns([2, 1, 1])
layer_name = a.selectbox(
    _("Convolution"), list(by_name), key=f"cls_conv_{model_id}",
    format_func=lambda n: _("{title} — {cin}→{cout}, {kh}×{kw}, stride {s}, output {shape}").format(
        title=by_name[n].title, cin=by_name[n].in_channels, cout=by_name[n].out_channels,
        kh=by_name[n].kernel_size[0], kw=by_name[n].kernel_size[1], s=by_name[n].stride[0],
        shape="×".join(map(str, by_name[n].output_shape))),
)
layer = by_name[layer_name]
ranking = b.radio(_("Rank channels by"), conv.RANKINGS, horizontal=True, key="cls_rank",
                  format_func=lambda r: _("{ranking} activation").format(ranking=_(r)))
top = c.select_slider(_("Channels shown"), [8, 16, 32, 64], value=16, key="cls_top")
ranked = conv.ranked_maps(traced, layer_name, by=ranking, top=top)
st.plotly_chart(conv_figs.feature_map_grid(ranked), key="cls_maps")
st.caption(_("{stage}: the {n} of {total} channels with the highest {ranking} activation, strongest first; every "
             "map uses the layer's one colour scale, {lo} (darkest) to {hi} (brightest).").format(
    stage=ranked.stage, n=len(ranked.channels), total=layer.out_channels, ranking=_(ranking),
    lo=f"{ranked.zmin:.3f}", hi=f"{ranked.zmax:.3f}"))

st.markdown("#### " + _("Watch one unit compute"))
_channels, out_h, out_w = layer.output_shape
row_key, col_key, ch_key = (f"cls_{what}_{model_id}_{layer_name}" for what in ("row", "col", "ch"))
st.session_state.setdefault(ch_key, ranked.channels[0])
st.session_state.setdefault(row_key, out_h // 2)
st.session_state.setdefault(col_key, out_w // 2)


def _picked(chart_key: str, rk: str, ck: str) -> None:
    points = st.session_state[chart_key].selection.points
    if points:
        st.session_state[rk] = int(round(points[0]["y"]))
        st.session_state[ck] = int(round(points[0]["x"]))


pick_col, step_col = st.columns([2, 3])
channel = pick_col.number_input(_("Out channel (0 … {last})").format(last=layer.out_channels - 1), 0,
                                layer.out_channels - 1, key=ch_key)
r_col, c_col = pick_col.columns(2)
row = r_col.slider(_("Row"), 0, out_h - 1, key=row_key)
col = c_col.slider(_("Column"), 0, out_w - 1, key=col_key)
fmap, stage = conv.activation_of(traced, layer_name)
picker_key = f"cls_pick_{model_id}_{layer_name}"
pick_col.plotly_chart(
    conv_figs.unit_picker(fmap[channel].numpy(), row, col, ranked.zmin, ranked.zmax,
                          _("{stage}, ch {channel}: click a unit").format(stage=stage, channel=channel)),
    key=picker_key, config={"displayModeBar": False}, selection_mode="points",
    on_select=functools.partial(_picked, picker_key, row_key, col_key),
)

try:
    walk = conv.walkthrough(traced, layer_name, channel, row, col)
except conv.WalkthroughError as exc:
    st.warning(render(exc))
    st.stop()

lines = conv_figs.step_lines(walk)
step_key = f"cls_step_{model_id}_{layer_name}"
if st.session_state.get(step_key) not in [name for name, _text in lines]:  # this unit has no such step (no pooling)
    st.session_state.pop(step_key, None)
step = step_col.select_slider(_("Step"), [name for name, _text in lines], key=step_key, format_func=_)
upto = [name for name, _text in lines].index(step)
step_col.markdown("\n".join(
    f"{k + 1}. **{_(name)}** — {text}" if k <= upto else f"{k + 1}. {_(name)}" for k, (name, text) in enumerate(lines)
))
if upto == len(lines) - 1:
    step_col.caption(_("Then: {stops}.").format(stops=walk.stops))

if step == "window":
    strongest = int(np.argmax(np.abs(walk.channel_sums)))
    in_channel = step_col.number_input(_("Input channel shown (0 … {last})").format(last=layer.in_channels - 1), 0,
                                       layer.in_channels - 1, value=strongest, key=f"cls_in_{model_id}_{layer_name}")
    step_col.plotly_chart(conv_figs.window_on_input(walk, in_channel), key="cls_window")
elif step == "products":
    order = [int(i) for i in np.argsort(-np.abs(walk.channel_sums), kind="stable")[:4]]
    step_col.caption(_("The input channels that contribute most ({n} of {total}): window × kernel = products, each "
                       "written in its cell; padding shows as “pad” and counts as 0.").format(
        n=len(order), total=layer.in_channels))
    step_col.plotly_chart(conv_figs.kernel_products(walk, order), key="cls_products")
else:
    step_col.plotly_chart(conv_figs.contributions(walk), key="cls_sum")
if walk.field is not None:
    (r0, r1), (c0, c1) = walk.field
    pick_col.plotly_chart(
        charts.field_on_image(_network_view(x), (r0, r1, c0, c1),
                              title=_("Receptive field {h}×{w}: rows {r0}…{r1}, cols {c0}…{c1}").format(
                                  h=r1 - r0, w=c1 - c0, r0=r0, r1=r1 - 1, c0=c0, c1=c1 - 1)
                              ).update_layout(height=360),
        key="cls_field")

if layer.pointwise:
    pw = conv.pointwise(traced, layer_name, row, col)
    with st.expander(_("{layer} is a 1×1 convolution: a fully connected layer at every pixel").format(
            layer=layer.label)):
        st.markdown(
            _("At every output pixel it multiplies the pixel's {cin}-channel vector by one {cout}×{cin} matrix and "
              "adds the bias — the notes' per-pixel MLP (NiN). At ({row}, {col}): W·x + b gives channel {channel} = "
              "{result}; the convolution computed {forward}. Largest difference over all {n} outputs: {diff}.").format(
                cin=layer.in_channels, cout=layer.out_channels, row=row, col=col, channel=channel,
                result=f"{pw.result[channel]:.4f}", forward=f"{pw.forward[channel]:.4f}", n=f"{pw.everywhere.size:,}",
                diff=f"{float(np.abs(pw.everywhere - traced.record(layer_name).output.double().numpy()).max()):.2e}")
        )
        st.dataframe(pd.DataFrame(pw.matrix, columns=[_("in {c}").format(c=i) for i in range(layer.in_channels)]
                                  ).round(4),
                     height=240)
