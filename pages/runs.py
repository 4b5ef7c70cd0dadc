"""Runs: every training run of this machine as the experiment trackers show them — a sortable, filterable table of
runs × hyper-parameters × final metrics (W&B's run table), their curves overlaid on one shared x-axis (TensorBoard's
scalars), hyper-parameters against test accuracy in parallel coordinates (TensorBoard's HParams), and one run's page
(``?run=ID``: recipe, curves, per-class accuracy and confusion matrix on the test set, code or model, Classify,
Resume). Live runs redraw in place (``st.fragment``) while they train; the page only reads the store."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.playground import encode_code
from explorer.present import charts, export
from explorer.present.formatting import NONE, accuracy_text, duration
from explorer.runtime import confusion, data, history, runs
from pages import learner, run_rules
from pages.common import use_app_navigation
from pages.i18n import N_, _, link_params, ngettext, render

use_app_navigation()

LIVE_EVERY_S = 5.0  # how often a live run's rows and curves redraw (the Train page is where a run is watched closely)
AXES = {"epoch": N_("epoch"), "step": N_("step"), "seconds": N_("training time (s)")}
PER = {"step": N_("every report point"), "epoch": N_("epoch ends only")}
WHOSE = {"all": N_("all runs I can see"), "mine": N_("mine")}

store = runs.Store()
who, is_teacher = run_rules.viewer()


def _axis_controls(prefix: str) -> tuple[str, str]:
    """The overlay's shared x-axis and how dense its training curves are."""
    left, right = st.columns(2)
    x = left.segmented_control(_("x-axis"), list(AXES), format_func=lambda k: _(AXES[k]), key=f"{prefix}_x",
                               default="epoch") or "epoch"
    per = right.segmented_control(_("Training curves"), list(PER), format_func=lambda k: _(PER[k]),
                                  key=f"{prefix}_per", default="step",
                                  help=_("Train loss and accuracy are also recorded about five times per epoch "
                                         "(running means of the epoch so far); test accuracy is measured at each "
                                         "epoch's end.")) or "step"
    return x, per


def _run_url(run: str) -> str:
    """A run page's address, relative to the app (a link column's target keeps the language)."""
    lang = link_params().get("lang")
    return f"runs?run={run}" + (f"&lang={lang}" if lang else "")


# --- one run's page ---------------------------------------------------------------------------------------------
def run_page(run: str) -> None:
    st.page_link("pages/runs.py", label=_("All runs"), icon=":material/arrow_back:", query_params=link_params())
    try:
        row = history.run_row(store, run)
    except KeyError as exc:
        st.title(_("Runs"))
        st.error(render(exc), icon="⚠️")
        return
    st.title(_("Run {run}").format(run=run))
    if not run_rules.visible(row.owner, row.status, who, is_teacher):
        st.info(_("This run belongs to another learner: only they and the teacher see it."),
                icon=":material/visibility_off:")
        return
    st.caption(_("{model}, started {started} by {who}.").format(
        model=row.model, started=row.started.replace("T", " ").replace("Z", " UTC"),
        who=run_rules.owner_label(row.owner, who, is_teacher)))
    _run_actions(run)
    live = row.status in runs.ACTIVE
    st.fragment(_run_live, run_every=LIVE_EVERY_S if live else None)(run, live)
    _run_confusion(run)
    _run_recipe(run)


def _run_live(run: str, was_live: bool = False) -> None:
    """The run's metrics and curves (redrawn while it trains)."""
    run_rules.remember_language()
    row = history.run_row(store, run)
    _stop_redrawing(was_live, row.status in runs.ACTIVE)
    a, b, c, d, e = st.columns(5)
    a.metric(_("Status"), _(row.status))
    b.metric(_("Best test accuracy"), accuracy_text(row.best_test_acc))
    c.metric(_("Last test accuracy"), accuracy_text(row.last_test_acc))
    d.metric(_("Epochs"), f"{row.epochs_done} / {row.epochs}")
    e.metric(_("Training time"), NONE if row.seconds is None else duration(row.seconds))
    points = history.history(store, run)
    if not points:
        st.info(_("No curves yet: this run has not reached its first report point."), icon=":material/hourglass_top:")
        return
    x, per = _axis_controls("run")
    st.plotly_chart(charts.runs_overlay({run: points}, x, per), key="run_curves")
    st.download_button(_("Download its history (CSV)"), export.rows_csv(history.history_rows(points),
                                                                          history.HISTORY_COLUMNS),
                       file_name=f"{run}-history.csv", mime="text/csv", on_click="ignore", key="run_history_csv",
                       icon=":material/download:")


def _run_recipe(run: str) -> None:
    row = store.get(run)
    recipe, info = row["recipe"], row["info"] or {}
    table = history.run_row(store, run)
    facts = {
        _("learning rate"): f"{recipe['lr']:g}", _("batch size"): str(recipe["batch_size"]),
        _("epochs"): str(recipe["epochs"]), _("image side (px)"): str(table.resize or NONE),
        _("momentum"): f"{recipe.get('momentum', 0):g}", _("weight decay"): f"{recipe.get('weight_decay', 0):g}",
        _("schedule"): str(recipe.get("schedule", "constant")), _("augmentation"): _("random flips") if recipe.get(
            "augment") else _("none"),
        _("seed"): str(recipe.get("seed", 0)), _("device"): row["device"], _("processes"): str(row["world_size"]),
        _("training images"): f"{table.train_images:,}", _("optimizer"): info.get("optimizer", "SGD"),
    }
    with st.expander(_("Recipe"), expanded=False):
        st.dataframe(pd.DataFrame({_("hyper-parameter"): list(facts), _("value"): list(facts.values())}),
                     hide_index=True, key="run_recipe")
    if row.get("code"):
        with st.expander(_("Its code (a network built in the playground)")):
            st.code(row["code"], language="python")


def _run_confusion(run: str) -> None:
    """Per-class accuracy and the confusion matrix of one completed epoch's weights on the 10,000 test images."""
    st.subheader(_("Which classes it confuses"))
    epochs = [e["epoch"] for e in store.epochs(run)]
    if not epochs:
        st.info(_("The confusion matrix comes after the run's first completed epoch."), icon=":material/grid_on:")
        return
    epoch = epochs[-1]
    if len(epochs) > 1:
        epoch = st.select_slider(_("Weights after epoch"), epochs, value=epochs[-1], key=f"run_epoch_{run}")
    if not confusion.measured(store, run, epoch):
        st.caption(_("This run was recorded before runs measured their confusion matrix while testing: it is "
                     "computed once from the epoch's weights on the 10,000 test images, on this server's CPU (a few "
                     "seconds for LeNet, minutes for the 96 px and 224 px networks), then kept."))
        st.button(_("Compute it"), key="run_compute_confusion", icon=":material/calculate:",
                  on_click=lambda: st.session_state.update(run_compute=(run, epoch)))
        if st.session_state.get("run_compute") != (run, epoch):
            return
    try:
        with st.spinner(_("Classifying the 10,000 test images…")):
            result = confusion.run_confusion(run, epoch, store)
    except (LookupError, ValueError) as exc:
        st.info(render(exc), icon=":material/info:")
        return
    classes = [_(c) for c in data.CLASSES]
    st.caption(_("The weights after epoch {epoch} on the 10,000 Fashion-MNIST test images: {acc} correct "
                 "({correct:,} of {total:,}).").format(epoch=epoch, acc=accuracy_text(result.accuracy),
                                                      correct=result.correct, total=result.total))
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.per_class_accuracy(list(result.per_class), classes, _("Accuracy per class")),
                      key="run_per_class")
    right.plotly_chart(charts.confusion_heatmap(result.matrix, classes, _("Confusion matrix")),
                       key="run_confusion")
    mistakes = result.confusions(3)
    if mistakes:
        st.markdown(_("Most often confused: {pairs}.").format(pairs="; ".join(
            _("{true} taken for {predicted} ({n})").format(true=_(t), predicted=_(p), n=n) for t, p, n in mistakes)))


def _resume(run: str) -> None:
    try:
        st.session_state["tr_run"] = run_rules.resume(store, run).run
        st.session_state["runs_resumed"] = run
    except (ValueError, KeyError, PermissionError) as exc:
        st.session_state["runs_resume_error"] = render(exc)


def _network_link(row: dict) -> None:
    """Where the run's network is seen: the playground for its code, else the Architecture page."""
    if row.get("code"):
        side = (row["info"] or {}).get("resize") or row["recipe"].get("resize") or 28
        st.page_link("pages/playground.py", label=_("Open it in the playground"), icon=":material/code:",
                     query_params=link_params(code=encode_code(row["code"]), input=f"1,{side},{side}"))
    else:
        st.page_link("pages/architecture.py", label=_("Its network, layer by layer: {model}").format(
            model=row["model"]), icon=":material/account_tree:", query_params=link_params(model=row["model"]))


def _run_actions(run: str) -> None:
    row = store.get(run)
    has_weights = bool(store.epochs(run))
    left, middle, right = st.columns(3)
    with middle:
        _network_link(row)
    with left:
        if has_weights:
            st.page_link("pages/classify.py", label=_("Use it on Classify"), icon=":material/image_search:",
                         query_params=link_params(run=run),
                         help=_("Classify an image with this run's weights (its last completed epoch)."))
        else:
            st.caption(_("Classify needs weights: this run has no completed epoch yet."))
    with right:
        if row["status"] in runs.RESUMABLE:
            mine = run_rules.may_resume(row["owner"], row["status"])
            st.button(_("Resume"), key="runs_resume", on_click=_resume, args=(run,), disabled=not mine,
                      icon=":material/play_arrow:",
                      help=None if mine else _("Only the learner who started this run, or the teacher, can resume "
                                               "it."))
    if message := st.session_state.pop("runs_resume_error", None):
        st.error(message, icon="⚠️")
    if st.session_state.pop("runs_resumed", None) == run:
        st.success(_("Queued to continue from its last completed epoch."), icon=":material/check:")
        st.page_link("pages/train.py", label=_("Watch it on the Train page"), icon=":material/model_training:",
                     query_params=link_params(run=run))


# --- the table of every run -------------------------------------------------------------------------------------
def _rows() -> list[history.RunRow]:
    return [r for r in history.table(store) if run_rules.visible(r.owner, r.status, who, is_teacher)]


def _frame(rows: list[history.RunRow]) -> pd.DataFrame:
    """The table as shown: numbers stay numbers (they sort as numbers), accuracies as percentages."""
    return pd.DataFrame({
        "run": [_run_url(r.run) for r in rows],
        "model": [r.model for r in rows],
        "best": [None if r.best_test_acc is None else round(100 * r.best_test_acc, 2) for r in rows],
        "status": [_(r.status) for r in rows],
        "last": [None if r.last_test_acc is None else round(100 * r.last_test_acc, 2) for r in rows],
        "lr": [r.lr for r in rows],
        "batch": [r.batch_size for r in rows],
        "epochs": [f"{r.epochs_done} / {r.epochs}" for r in rows],
        "resize": [r.resize for r in rows],
        "device": [r.device for r in rows],
        "world": [r.world_size for r in rows],
        "seconds": [r.seconds for r in rows],
        "owner": [run_rules.owner_label(r.owner, who, is_teacher) for r in rows],
        "started": [r.started.replace("T", " ").replace("Z", "") for r in rows],
    })


def _percent(value: float | None) -> str:
    """A table cell holding 100 × an accuracy, written as every page writes accuracies."""
    return accuracy_text(None if value is None or pd.isna(value) else value / 100)


def _columns() -> dict:
    return {
        "run": st.column_config.LinkColumn(_("run"), display_text=r"run=([^&]+)",
                                           help=_("Open the run's page: recipe, curves, confusion matrix.")),
        "model": st.column_config.TextColumn(_("model"), help=_("A zoo model's id, or code:<hash> for a network "
                                                                 "built in the playground.")),
        "status": st.column_config.TextColumn(_("status"), width="small"),
        "best": st.column_config.Column(_("best test accuracy")),  # the Styler writes these cells
        "last": st.column_config.Column(_("last test accuracy")),
        "lr": st.column_config.NumberColumn(_("learning rate"), format="%g"),
        "batch": st.column_config.NumberColumn(_("batch size"), width="small"),
        "epochs": st.column_config.TextColumn(_("epochs"), width="small", help=_("completed / planned")),
        "resize": st.column_config.Column(_("image side (px)")),
        "device": st.column_config.TextColumn(_("device"), width="small"),
        "world": st.column_config.NumberColumn(_("processes"), width="small",
                                               help=_("Processes (one per GPU) that trained it together with DDP.")),
        "seconds": st.column_config.Column(_("training time")),
        "owner": st.column_config.TextColumn(_("started by"), width="small"),
        "started": st.column_config.TextColumn(_("started (UTC)")),
    }


def list_page() -> None:
    st.title(_("Runs"))
    st.markdown(_(
        "Every training run of this machine, as experiment trackers (TensorBoard, Weights & Biases, MLflow) show "
        "them. **Sort** the table by clicking a column's header, **filter** it below, click a run's id to open its "
        "page (recipe, curves, which classes it confuses, Classify with it, Resume), and **overlay** the curves of "
        "the runs you pick. Runs start on the Train page or the playground."))
    all_rows = _rows()
    if not all_rows:
        st.info(_("No runs yet. Train a network on the Train page (or \"Train this\" in the playground): every run "
                  "is kept, with its curves and weights, and shows here."), icon=":material/table_chart:")
        st.page_link("pages/train.py", label=_("Go to the Train page"), icon=":material/model_training:",
                     query_params=link_params())
        st.caption(_("Store: {path} (`python -m explorer runs list`).").format(path=store.where))
        learner.teacher_box()
        return
    live = any(r.status in runs.ACTIVE for r in all_rows)
    st.fragment(_runs_live, run_every=LIVE_EVERY_S if live else None)(live)
    learner.teacher_box()


def _filters(rows: list[history.RunRow]) -> list[history.RunRow]:
    a, b, c = st.columns([2, 2, 1.3])
    models = sorted({r.model for r in rows})
    statuses = [s for s in runs.STATUSES if any(r.status == s for r in rows)]
    picked_models = a.multiselect(_("Model"), models, key="runs_models", placeholder=_("every model"))
    picked_status = b.multiselect(_("Status"), statuses, format_func=_, key="runs_status",
                                  placeholder=_("every status"))
    whose = c.segmented_control(_("Whose"), list(WHOSE), format_func=lambda k: _(WHOSE[k]), default="all",
                                key="runs_whose") or "all"
    return [r for r in rows if (not picked_models or r.model in picked_models)
            and (not picked_status or r.status in picked_status) and (whose == "all" or r.owner == who)]


def _stop_redrawing(was_live: bool, live: bool) -> None:
    """Once the last live run ended, one rerun of the whole page: its fragment stops redrawing."""
    if was_live and not live:
        st.rerun(scope="app")


def _runs_live(was_live: bool = False) -> None:
    """The table, the overlay and the parallel coordinates (redrawn while a run is live)."""
    run_rules.remember_language()
    everything = _rows()
    _stop_redrawing(was_live, any(r.status in runs.ACTIVE for r in everything))
    rows = _filters(everything)
    if not rows:
        st.info(_("No run matches these filters."), icon=":material/filter_alt_off:")
        return
    frame = _frame(rows)  # accuracies written as everywhere ("87.35 %", "—" before a first epoch), sorted as numbers
    shown = frame.style.format({c: _percent for c in ("best", "last")}, na_rep=NONE).format(
        {"seconds": duration}, na_rep=NONE).format({"resize": "{:.0f}"}, na_rep=NONE)
    st.dataframe(shown, hide_index=True, column_config=_columns(), key="runs_table")
    left, right = st.columns(2, vertical_alignment="center")
    left.caption(ngettext("{n} run. Store: {path} (`python -m explorer runs export --csv`).",
                          "{n} runs. Store: {path} (`python -m explorer runs export --csv`).", len(rows)).format(
        n=len(rows), path=store.where))
    right.download_button(_("Download the table (CSV)"), export.rows_csv(history.table_rows(rows),
                                                                          history.RUN_COLUMNS),
                          file_name="runs.csv", mime="text/csv", on_click="ignore", key="runs_csv",
                          icon=":material/download:")
    _overlay(rows)
    _parallel(rows)


def _overlay(rows: list[history.RunRow]) -> None:
    st.subheader(_("Curves, overlaid"))
    with_history = [r.run for r in rows if r.epochs_done or history.step_log(store, r.run).is_file()]
    if not with_history:
        st.info(_("None of these runs has curves yet: a run draws them from its first report point on (a few "
                  "seconds after it starts training)."), icon=":material/show_chart:")
        return
    kept = [r for r in st.session_state.get("runs_overlay", []) if r in with_history]
    if "runs_overlay" not in st.session_state or kept != st.session_state["runs_overlay"]:
        st.session_state["runs_overlay"] = kept or with_history[:3]  # preselect: the newest runs that have curves
    chosen = st.multiselect(_("Overlay the curves of"), with_history, key="runs_overlay",
                            help=_("Only runs with curves are offered; the newest three are picked to start."))
    if not chosen:
        st.caption(_("Pick one or more runs above to see their curves."))
        return
    x, per = _axis_controls("runs")
    curves = {run: history.history(store, run) for run in chosen}
    st.plotly_chart(charts.runs_overlay(curves, x, per), key="runs_overlay_chart")
    links = st.columns(min(len(chosen), 3))
    for i, run in enumerate(chosen):
        links[i % len(links)].page_link("pages/runs.py", label=_("Open {run}").format(run=run),
                                        icon=":material/open_in_new:", query_params=link_params(run=run))


def _parallel(rows: list[history.RunRow]) -> None:
    scored = [r for r in rows if r.best_test_acc is not None]
    st.subheader(_("Hyper-parameters against test accuracy"))
    if not scored:
        st.caption(_("Parallel coordinates need a run with a completed epoch."))
        return
    st.caption(_("One line per run, from its model and hyper-parameters to its best test accuracy (colour). Drag "
                 "along an axis to keep only the runs in that range."))
    st.plotly_chart(charts.runs_parallel(scored), key="runs_parallel")


if (asked := st.query_params.get("run")):
    run_page(asked)
else:
    list_page()
