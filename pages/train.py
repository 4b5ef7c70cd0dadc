"""Train: pick a Fashion-MNIST model and a d2l chapter's recipe, press Train, watch the curves (d2l's Animator).

Training runs in the library's job manager (a worker thread of the server process), not in this script: it survives
reruns and page changes; this page only submits, polls and draws. Every run is kept in the run store, with who
started it: a learner (this browser's anonymous id, ``pages/learner.py``) watches everyone's live run but stops and
resumes only their own; the teacher (``EXPLORER_ADMIN_TOKEN``) any. A new run first passes the class's limits."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

import explorer
from explorer.i18n import set_language
from explorer.playground import encode_code
from explorer.present import charts
from explorer.present.formatting import accuracy_text, duration
from explorer.runtime import inference_runs, jobs, lease, runs
from explorer.runtime import train as engine
from explorer.runtime.devices import pick_device
from explorer.runtime.limits import LimitReached
from pages import learner, run_rules
from pages.common import device_label, use_app_navigation
from pages.i18n import N_, _, link_params, render

use_app_navigation()

st.title(_("Train a network"))
st.markdown(_(
    "Every d2l CNN chapter ends by training its network on Fashion-MNIST. Pick a chapter's preset (or set the "
    "hyper-parameters by hand), press **Train** and watch train loss, train accuracy and test accuracy fill in. "
    "The run goes on while you browse other pages; one run trains at a time on this machine (whichever app or "
    "`python -m explorer train` started it), others queue. A finished run's weights classify images on the "
    "Classify page. From a shell: `python -m explorer train lenet` — multi-GPU and multi-node with `--nproc` / "
    "torchrun."
))

TRAINABLE = [s.id for s in explorer.list_models() if engine.trainable(s)]
BY_HAND = N_("By hand")  # the option's value; shown translated
PRESET_KEYS = {p.title: key for key, p in engine.PRESETS.items()}
manager = jobs.manager()
store = runs.Store()
who = learner.learner_id()
is_teacher = learner.teacher()


def _fill(recipe: engine.Recipe, model_id: str) -> None:
    """Put a recipe into the widgets."""
    st.session_state.update(tr_lr=float(recipe.lr), tr_epochs=recipe.epochs, tr_batch=recipe.batch_size,
                            tr_resize=recipe.resize or explorer.get_spec(model_id).input_shape[-1])


def _on_preset() -> None:
    key = PRESET_KEYS.get(st.session_state["tr_preset"])
    if key is not None:
        preset = engine.PRESETS[key]
        st.session_state["tr_model"] = preset.model
        _fill(preset.recipe, preset.model)


def _on_model() -> None:
    model_id = st.session_state["tr_model"]
    preset = engine.preset_for(model_id)
    st.session_state["tr_preset"] = preset.title if preset else BY_HAND
    _fill(engine.default_recipe(model_id), model_id)
    st.query_params["model"] = model_id


if (linked := st.query_params.get("run")) and linked != st.session_state.get("tr_linked"):
    st.session_state["tr_linked"] = st.session_state["tr_run"] = linked  # ?run=RUN: that run in the live view
asked = st.query_params.get("model")
if "tr_model" not in st.session_state or (asked and asked != st.session_state.get("tr_asked")):
    st.session_state["tr_asked"] = asked
    if asked and asked not in TRAINABLE:
        st.error(_("{model} cannot be trained on Fashion-MNIST here (it needs a 1-channel image input and 10 "
                   "classes); pick one of: {models}.").format(model=asked, models=", ".join(TRAINABLE)), icon="⚠️")
    st.session_state["tr_model"] = asked if asked in TRAINABLE else st.session_state.get("tr_model", "lenet")
    _on_model()

left, right = st.columns(2)
left.selectbox(_("d2l chapter preset"), [BY_HAND, *PRESET_KEYS], key="tr_preset", on_change=_on_preset,
               format_func=lambda p: _(p) if p == BY_HAND else p,
               help=_("d2l's learning rate, batch size, epochs and image size for that chapter's network."))
right.selectbox(_("Model"), TRAINABLE, key="tr_model", on_change=_on_model,
                format_func=lambda m: f"{m} — {_(explorer.get_spec(m).title)}")
model_id = st.session_state["tr_model"]
cols = st.columns([1, 1, 1, 1, 1.4, 1.5])  # the last two hold the longest labels ("auto (best available)")
cols[0].number_input(_("Learning rate"), key="tr_lr", step=0.01, format="%g")
epochs = int(cols[1].number_input(_("Epochs"), key="tr_epochs", step=1))
cols[2].number_input(_("Batch size"), key="tr_batch", step=32)
cols[3].number_input(_("Resize to (px)"), key="tr_resize", step=4,
                     help=_("Fashion-MNIST's 28×28 images are resized to this side, as d2l does."))
st.session_state.setdefault("tr_limit", 0)
cols[4].number_input(_("Training images (0 = all 60,000)"), min_value=0, max_value=60_000, step=1000, key="tr_limit")


def _try_device(name: str) -> bool:
    try:
        pick_device(name)
        return True
    except ValueError:
        return False


devices = [d for d in ("auto", "cpu", "cuda", "mps") if d in ("auto", "cpu") or _try_device(d)]
cols[5].selectbox(_("Device"), devices, key="tr_device", format_func=device_label)
parallel = jobs.parallel_options(torch.cuda.device_count(), pick_device(st.session_state["tr_device"]).type)
if parallel.offered:  # several GPUs: one process per GPU, DDP over NCCL through torchrun (the CLI's --nproc)
    st.session_state.setdefault("tr_nproc", 1)
    st.number_input(_("Processes / GPUs"), min_value=1, max_value=max(parallel.nproc), step=1, key="tr_nproc",
                    help=_("One process per GPU with DDP ({backend}, through torchrun, as "
                           "`python -m explorer train --nproc N`); the batch size is split over them.").format(
                        backend=parallel.backend))


def _chosen() -> tuple[str, engine.Recipe, str, int | None, int]:
    """(model, recipe, device, limit, processes) as the widgets hold them now (callbacks run before the script
    re-reads them)."""
    state = st.session_state
    base = engine.default_recipe(state["tr_model"])
    recipe = engine.Recipe(**{**vars(base), "lr": float(state["tr_lr"]), "epochs": int(state["tr_epochs"]),
                              "batch_size": int(state["tr_batch"]), "resize": int(state["tr_resize"])})
    nproc = int(state.get("tr_nproc", 1)) if parallel.offered else 1
    return state["tr_model"], recipe, state["tr_device"], int(state["tr_limit"]) or None, nproc


model_id, recipe, device, limit, nproc = _chosen()


@st.cache_data(show_spinner=_("Measuring a few training steps…"), max_entries=64)
def _estimate(model_id: str, recipe: engine.Recipe, device: str, limit: int | None) -> float:
    return engine.estimate_epoch_seconds(model_id, recipe, device, limit, probe=2)


def _limits():
    """The class's limits (``None`` for the teacher, whom they do not bind)."""
    return None if is_teacher else learner.limits()


problem = None
try:
    engine.validate(explorer.get_spec(model_id), recipe, limit, nproc)
    per_epoch = _estimate(model_id, recipe, device, limit)
    st.caption(_("Estimated **{per_epoch} per epoch** on **{device}** ({total} for {epochs} epochs), measured from a "
                 "few training steps.").format(per_epoch=duration(per_epoch), device=pick_device(device).type,
                                               total=duration(per_epoch * epochs), epochs=epochs))
    if (class_limits := _limits()) is not None:  # said before the click: which limit, and what to do
        try:  # the queue's limits hold the button back; the duration's is the recipe's to change (checked again
            class_limits.check(mine=len(store.active(who)), queued=len(store.active()), estimate_s=None)
        except LimitReached as exc:  # at the click, with the values the widgets have then)
            problem = render(exc)
            st.warning(problem, icon=":material/block:")
        else:
            try:
                class_limits.check(mine=0, queued=0, estimate_s=per_epoch * epochs)
            except LimitReached as exc:
                st.warning(render(exc), icon=":material/block:")
except ValueError as exc:
    problem = render(exc)
    st.error(problem, icon="⚠️")


def _submit() -> None:
    """The Train button's callback (before the rerun: the new run shows at once). The limits are checked again
    here, with the queue as it is at the click."""
    model_id, recipe, device, limit, nproc = _chosen()
    try:
        estimate = _estimate(model_id, recipe, device, limit) * recipe.epochs
        job = manager.submit(model_id, recipe, device, limit, nproc, owner=who, limits=_limits(),
                             estimate_s=estimate)
        st.session_state["tr_run"] = job.run
    except ValueError as exc:  # rendered by the page: a callback runs before the run's language is set
        st.session_state["tr_submit_error"] = exc


def _stop(run: str) -> None:
    """The Stop button's callback: the library checks the run is this learner's (or the teacher's to stop)."""
    try:
        manager.stop(run, by=who, teacher=is_teacher)
    except PermissionError as exc:
        st.session_state["tr_submit_error"] = exc


def owner_label(owner: str | None) -> str:
    """Who started a run, as this reader may know it (:func:`pages.run_rules.owner_label`)."""
    return run_rules.owner_label(owner, who, is_teacher)


st.button(_("Train"), type="primary", disabled=problem is not None, key="tr_start", on_click=_submit)
if refusal := st.session_state.pop("tr_submit_error", None):
    st.error(render(refusal), icon="⚠️")


def _d2l_recipe(job: jobs.Job, preset: engine.Preset) -> bool:
    """Whether ``job`` trained as d2l's chapter did (its epochs, learning rate, batch and image size, all 60,000
    images): only then is d2l's accuracy a figure to set beside it."""
    side = explorer.get_spec(job.model).input_shape[-1]
    mine, theirs = job.recipe, preset.recipe
    return job.limit is None and (mine.epochs, mine.lr, mine.batch_size, mine.resize or side) == (
        theirs.epochs, theirs.lr, theirs.batch_size, theirs.resize or side)


def _accuracy(job: jobs.Job, accuracy: float) -> None:
    """The run's test accuracy, d2l's beside it only for the same recipe, and what a chance-level result means."""
    preset = engine.preset_for(job.model)
    same = preset is not None and _d2l_recipe(job, preset)
    st.metric(_("Test accuracy"), accuracy_text(accuracy), delta=f"d2l: {preset.d2l}" if same else None,
              delta_color="off")
    if preset is not None and not same:
        st.caption(_("d2l's {d2l} is for its full recipe ({epochs} epochs, learning rate {lr}, batch {batch}, all "
                     "60,000 images); this run's differs, so the two are not compared.").format(
            d2l=preset.d2l, epochs=preset.recipe.epochs, lr=f"{preset.recipe.lr:g}", batch=preset.recipe.batch_size))
    if accuracy < 0.2:
        st.info(_("{acc} is chance on ten classes: the network still guesses. Early in training a network can sit "
                  "on a **plateau** — the loss stays flat near ln 10 ≈ 2.30 because its gradients are too small to "
                  "move the weights (d2l's sigmoid LeNet does, for its first epochs) — and then drop suddenly. "
                  "Train for more epochs or on more images.").format(acc=f"{accuracy:.0%}"),
                icon=":material/info:")


def _code_of(job: jobs.Job) -> None:
    """A playground network's run: its code, and a link that opens it in the playground."""
    side = job.recipe.resize or 28
    with st.expander(_("Its code (a network built in the playground)")):
        st.code(job.code, language="python")
    st.page_link("pages/playground.py", label=_("Open it in the playground"), icon=":material/code:",
                 query_params=link_params(code=encode_code(job.code), input=f"1,{side},{side}"))


def _live() -> None:
    """The session's run (or whatever trains now): status, progress, the live curves, Stop."""
    set_language(st.session_state.get("_lang", ""))  # a fragment's own rerun does not pass the app's language setup
    # the session's run, else what trains now: in this process, else in a worker (another replica may have started
    # it: every replica sharing the store shows it live)
    job = manager.get(st.session_state.get("tr_run", "")) or manager.current() or manager.elsewhere()
    if job is None:
        st.info(_("No run in progress. Pick a preset and press Train."))
        return
    st.subheader(_("Run {run}: {model}").format(run=job.run, model=job.model)
                 + (" " + _("({n} processes)").format(n=job.nproc) if job.nproc > 1 else ""))
    mine = jobs.may_control(job.owner, who, is_teacher)
    st.caption(_("Started by {who}.").format(who=owner_label(job.owner)))
    if job.code is not None:
        _code_of(job)
    if job.status == "queued":
        message = render(lease.waiting_message(store, job.run))
        st.info(_("{waiting}. One run trains at a time on this machine; this one starts when the runs before it "
                  "end.").format(waiting=message[0].upper() + message[1:]),
                icon=":material/hourglass_top:")
    a, b, c, d = st.columns(4)
    a.metric(_("Status"), _(job.status))
    b.metric(_("Device"), job.device_name or job.device)
    c.metric(_("Images/s"), f"{job.samples_per_s:,.0f}" if job.samples_per_s else "—")
    d.metric(_("ETA"), duration(job.eta) if job.eta is not None and job.status == "running" else "—")
    st.progress(min(job.progress, 1.0), text=_("{p} of {epochs} epochs").format(p=f"{job.progress:.0%}",
                                                                                 epochs=job.recipe.epochs))
    st.plotly_chart(charts.training_curves({job.run: job.points},
                                           title=_("{model} on Fashion-MNIST").format(model=job.model)),
                    key="tr_live_chart")
    if job.status in ("queued", "running"):
        reason = None if mine else _("This run belongs to another learner: you can watch it, but only they or the "
                                     "teacher can stop it.")
        st.button(_("Stop"), on_click=_stop, args=(job.run,), key="tr_stop", disabled=not mine, help=reason)
        if reason:
            st.info(reason, icon=":material/visibility:")
    else:
        if job.error:
            st.error(render(job.error), icon="⚠️")
        if job.result and job.result.test_accuracy is not None:
            _accuracy(job, job.result.test_accuracy)
        if store.epochs(job.run):
            st.page_link("pages/classify.py", label=_("Use it on Classify — run {run}").format(run=job.run),
                         icon=":material/image_search:", query_params=link_params(run=job.run),
                         help=_("Classify an image with this run's weights (its last completed epoch)."))
        if st.session_state.get("tr_shown") != (job.run, job.status):  # once: refresh the runs table below
            st.session_state["tr_shown"] = (job.run, job.status)
            st.rerun(scope="app")


busy = any(j is not None and j.status in ("queued", "running")
           for j in (manager.get(st.session_state.get("tr_run", "")), manager.current(), manager.elsewhere()))
st.fragment(_live, run_every=1.0 if busy else None)()

st.header(_("Runs"))
owners = store.owners()


def _visible(row: dict) -> bool:
    """Whether this reader sees the run in the table (:func:`pages.run_rules.visible`)."""
    return run_rules.visible(owners.get(row["run"]), row["status"], who, is_teacher)


rows = [r for r in store.list() if _visible(r)]
if not rows:
    st.caption(_("No runs yet. They are kept in {path}.").format(path=store.where))
    learner.teacher_box()
    st.stop()
table = pd.DataFrame(rows)
table["d2l"] = [(p.d2l if (p := engine.preset_for(m)) else "") for m in table["model"]]
table["status"] = [_(status) for status in table["status"]]
table["owner"] = [owner_label(owners.get(r)) for r in table["run"]]
table["test_accuracy"] = [accuracy_text(a) for a in table["test_accuracy"].astype(object).where(
    table["test_accuracy"].notna(), None)]
shown = {"run": N_("run"), "model": N_("model"), "status": N_("status"), "test_accuracy": N_("test accuracy"),
         "d2l": "d2l", "world_size": N_("processes"), "started": N_("started"),
         "owner": N_("started by")}  # column → its header, translated
st.dataframe(table[list(shown)].rename(columns={c: _(h) for c, h in shown.items()}), hide_index=True,
             key="tr_runs_table")
st.caption(_("Store: {path} (`python -m explorer runs list`).").format(path=store.where))
st.page_link("pages/runs.py", label=_("Compare every run: sortable table, curves, confusion matrices"),
             icon=":material/table_chart:", query_params=link_params())
ids = [r["run"] for r in rows]
chosen = st.multiselect(_("Overlay the curves of"), ids, default=ids[:1], key="tr_overlay")
if chosen:
    curves = {run: [{"epoch": float(e["epoch"]), "loss": e["loss"], "train_acc": e["train_acc"],
                     "test_acc": e["test_acc"]} for e in store.epochs(run)] for run in chosen}
    st.plotly_chart(charts.training_curves(curves, title=_("Runs compared (per epoch)")), key="tr_overlay_chart")
usable = {r["run"]: r for r in inference_runs.usable_runs(store)}
if usable:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    pick = left.selectbox(
        _("Use a run's weights on Classify"), list(usable), key="tr_classify_pick",
        format_func=lambda r: _("{run} — {model}, epoch {epoch}, test accuracy {acc}").format(
            run=r, model=usable[r]["model"], epoch=usable[r]["epoch"], acc=accuracy_text(usable[r]["test_accuracy"])))
    with right:
        st.page_link("pages/classify.py", label=_("Use it on Classify"), icon=":material/image_search:",
                     query_params=link_params(run=pick))
resumable = [r["run"] for r in rows if r["status"] in runs.RESUMABLE
             and jobs.may_control(owners.get(r["run"]), who, is_teacher)]
if resumable:
    left, right = st.columns([3, 1])
    pick = left.selectbox(_("Resume a stopped or interrupted run"), resumable, key="tr_resume_pick")
    if right.button(_("Resume"), key="tr_resume"):
        try:
            st.session_state["tr_run"] = manager.resume(pick, device, by=who, teacher=is_teacher, limits=_limits(),
                                                        memory=run_rules.checked_code(store, pick)).run
            st.rerun()
        except (ValueError, KeyError, PermissionError) as exc:
            st.error(render(exc), icon="⚠️")
learner.teacher_box()
