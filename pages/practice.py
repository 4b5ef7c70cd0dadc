"""Practice: predict a layer's output shape, parameters, MACs or receptive field — then see why. Missed items come
back (Leitner boxes, kept per browser in $EXPLORER_HOME/practice.sqlite)."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace

import pandas as pd
import streamlit as st

from explorer.analysis import graph
from explorer.i18n import Message, render
from explorer.lessons import exercises, quiz
from explorer.present import diagram
from explorer.runtime.practice import GAPS, PracticeStore, practice_path
from pages import learner
from pages.common import diagram_svg, layer_labels, network_graph, use_app_navigation
from pages.components.svg_viewer import svg_viewer
from pages.i18n import _, language, link_params

use_app_navigation()

ITEM, VERDICT, GIVEN, DRAWN = "practice_item", "practice_verdict", "practice_given", "practice_drawn"
SOURCES = [quiz.GENERATED, exercises.D2L, *quiz.zoo_ids()]
DEFAULT_SOURCES = ["alexnet", quiz.GENERATED]

@st.cache_resource
def _store(path: str) -> PracticeStore:
    return PracticeStore(path)


def store() -> PracticeStore:
    """The learners' boxes under ``$EXPLORER_HOME`` (one store per file, shared by the sessions)."""
    return _store(str(practice_path()))


def learner_id() -> str:
    """The anonymous learner of this browser (``pages/learner.py``: a cookie read through ``st.context.cookies``),
    the same one whose runs the Train page shows as theirs, so a learner's boxes survive a reload and the next visit."""
    return learner.learner_id()


def _kind_name(kind: str) -> str:
    return _(quiz.QUESTION_KIND_NAMES.get(kind, kind))


def _source_name(source: str) -> str:
    if source == quiz.GENERATED:
        return _("generated stacks (VGG, NiN, Inception, residual blocks …)")
    if source == exercises.D2L:
        return _("d2l's chapter exercises")
    return source


def _query_list(name: str, allowed: list[str], default: list[str]) -> list[str]:
    asked = [v for v in st.query_params.get(name, "").split(",") if v in allowed]
    return asked or default


st.title(_("Practice: predict, then check"))
st.markdown(_(
    "Predict the number **before** you look it up: answering beats rereading (Roediger & Karpicke, 2006). Each "
    "question is about one real layer, lit in the diagram. Then see the arithmetic, the slip a wrong answer most "
    "likely came from, and code to check it with PyTorch; missed questions come back."
))

me = learner_id()
# the choices in the closed expander's title: what is being asked, at a glance
chosen_sources = [x for x in st.session_state.get(f"practice_sources_{language()}") or
                  _query_list("models", SOURCES, DEFAULT_SOURCES) if x in SOURCES] or DEFAULT_SOURCES
chosen_kinds = [k for k in st.session_state.get(f"practice_kinds_{language()}") or
                _query_list("kinds", list(quiz.QUESTION_KINDS), list(quiz.DEFAULT_KINDS))
                if k in quiz.QUESTION_KINDS] or list(quiz.DEFAULT_KINDS)
title = _("What to practise: {sources} · {kinds}").format(
    sources=", ".join(_("generated") if x == quiz.GENERATED else _("d2l exercises") if x == exercises.D2L else x
                      for x in chosen_sources),
    kinds=", ".join(_kind_name(k) for k in chosen_kinds))
with st.expander(title, expanded=False, icon=":material/tune:"):
    c1, c2 = st.columns([3, 2])
    # the shown names fixed now, in this run's language: a multiselect maps its choices back by these names
    source_names = {s: _source_name(s) for s in SOURCES}
    kind_names = {k: _kind_name(k) for k in quiz.QUESTION_KINDS}
    sources = c1.multiselect(
        _("Networks"), SOURCES, default=_query_list("models", SOURCES, DEFAULT_SOURCES),
        key=f"practice_sources_{language()}",
        format_func=source_names.__getitem__,
        help=_("Any zoo model, random stacks drawn from the notes' patterns, or d2l's exercises."),
    )
    kinds = c2.multiselect(
        _("Kinds of question"), list(quiz.QUESTION_KINDS), default=_query_list("kinds", list(quiz.QUESTION_KINDS),
                                                                   list(quiz.DEFAULT_KINDS)),
        key=f"practice_kinds_{language()}", format_func=kind_names.__getitem__,
    )
    # (keyed per language: a multiselect keeps its choices by their shown names)
    sources = [s for s in sources if s in SOURCES] or DEFAULT_SOURCES
    kinds = [k for k in kinds if k in quiz.QUESTION_KINDS] or list(quiz.DEFAULT_KINDS)


def _store_model(item: quiz.Item) -> str:
    return exercises.D2L if item.exercise else item.model


def next_item() -> None:
    """The most overdue missed item of these kinds and networks, else a new one."""
    models = [exercises.D2L if s == exercises.D2L else s for s in sources]
    due = store().due(me, kinds=[*kinds, "count"] if exercises.D2L in sources else kinds, models=models)
    item = quiz.Item.from_record(due) if due else None
    if item is None:
        seed = st.session_state.setdefault("practice_seed", int(st.query_params.get("seed", random.randrange(10**6))))
        drawn = st.session_state.get(DRAWN, 0)
        try:
            item = exercises.pick(random.Random(seed + drawn), kinds, sources)
        except ValueError:
            item = None
        st.session_state[DRAWN] = drawn + 1
    st.session_state[ITEM] = item.to_record() if item else None
    st.session_state["practice_box"] = store().box_of(me, item.key) if item else None
    st.session_state[VERDICT] = None
    st.session_state[GIVEN] = None
    st.session_state["practice_answer"] = ""


if st.session_state.get(ITEM) is None or st.session_state.get("_practice_for") != (tuple(sources), tuple(kinds)):
    st.session_state["_practice_for"] = (tuple(sources), tuple(kinds))
    next_item()

record = st.session_state.get(ITEM)
if record is None:
    st.warning(_("None of these networks has a layer to ask about for these kinds: pick others above."))
    st.stop()
item = quiz.Item.from_record(record)
verdict: quiz.Verdict | None = st.session_state.get(VERDICT)


@st.cache_data(show_spinner=False, max_entries=64)
def item_graph(specs_json: str, input_shape: tuple[int, ...]) -> graph.Graph:
    """The traced graph of a generated or exercise net (its specs as JSON: a hashable key)."""
    specs = [(name, args) for name, args in json.loads(specs_json)]
    return graph.trace(quiz.net_from(specs), input_shape)


def hidden(traced: graph.Graph, layer: str, reveal: bool) -> graph.Graph:
    """The graph with the asked layer's numbers hidden until the answer is shown: its output shape and everything's
    after it, its parameters."""
    if reveal:
        return traced
    nodes, after = {}, False
    for key, n in traced.nodes.items():
        base = n.path.split("#", 1)[0]
        hit = layer == "" or base == layer
        after = after or hit
        nodes[key] = replace(n, shape=None if after or item.kind in ("smallest", "fails") else n.shape,
                             params=0 if hit else n.params)
    return graph.Graph(model=traced.model, nodes=nodes, edges=traced.edges, containers=traced.containers)


def show_diagram() -> None:
    if not shutil.which("dot"):
        st.caption(_("The diagram needs Graphviz's `dot` program on the server."))
        return
    labels = None
    if item.model in quiz.zoo_ids() and item.layer and not item.exercise:  # the whole model, the layer lit
        input_shape = tuple(explorer_input(item.model))
        traced = network_graph(item.model, input_shape)
        labels = layer_labels(item.model, input_shape)
        layer = item.layer
    elif item.specs:
        input_shape = item.input
        if item.kind in ("smallest", "fails"):  # drawn at a size it takes: the failure is the question
            input_shape = (item.input[0], 224, 224)
        traced = item_graph(json.dumps([[n, a] for n, a in item.specs]), tuple(input_shape))
        layer = item.net_layer
    else:
        traced = network_graph(item.model, tuple(explorer_input(item.model)))
        layer = item.layer
    shown = hidden(traced, layer, reveal=verdict is not None)
    dot = diagram.to_dot(shown, rankdir="TB", highlight=layer or None, labels=labels, shapes_on_nodes=True)
    svg_viewer(diagram_svg(dot), key="practice_diagram", height=560,
               selected=diagram.lit_element(shown, layer) if layer else None, view_key=item.key)


def explorer_input(model: str) -> tuple[int, ...]:
    import explorer

    return explorer.get_spec(model).input_shape


def check_answer(field: str = "practice_answer") -> None:
    """Read the answer in ``field`` (the text box, or the layer picked), judge it, count it in the learner's boxes."""
    given = st.session_state.get(field) or ""
    if not str(given).strip():
        return
    result = quiz.check_answer(item, str(given))
    if not result.readable:  # said once, the question stays open
        st.session_state["_practice_unreadable"] = result.expected_form
        return
    st.session_state[VERDICT] = result
    st.session_state[GIVEN] = dict(zip(item.choices, item.labels)).get(given, given)  # a layer by its name
    store().record(me, item.key, item.kind, _store_model(item), item.to_record(), result.correct)


# the question first (on a phone the columns stack: the question above the diagram)
asked, drawn_in = st.columns([1, 1], gap="medium")
with asked:
    box = st.session_state.get("practice_box")  # where the item was when it was asked
    tag = _kind_name(item.kind)
    if box == 1:
        tag += " · " + _("back again: missed last time")
    elif box is not None:
        tag += " · " + _("seen before (box {box})").format(box=box)
    st.caption(tag)
    with st.container(border=True, key="practice_question"):
        st.markdown(f"**{render(item.question)}**")
        if item.kind == "fails":
            options = list(item.choices)
            labels = dict(zip(item.choices, item.labels))
            st.selectbox(_("The first layer that fails"), options, index=None, key="practice_answer_pick",
                         format_func=lambda p: labels.get(p, p), disabled=verdict is not None,
                         placeholder=_("pick a layer"))
            st.button(_("Check"), type="primary", key="practice_check", disabled=verdict is not None,
                      on_click=check_answer, args=("practice_answer_pick",))
        else:
            with st.form("practice_form", border=False, enter_to_submit=True):
                st.text_input(_("Your answer"), key="practice_answer", disabled=verdict is not None,
                              placeholder=render(Message(quiz.FORMS.get(item.kind, quiz.FORMS["count"]))))
                st.form_submit_button(_("Check"), type="primary", on_click=check_answer,
                                      disabled=verdict is not None)

    unreadable = st.session_state.pop("_practice_unreadable", None)
    if unreadable is not None:
        st.warning(_("That answer cannot be read: give {form}.").format(form=render(unreadable)))
    if verdict is not None:
        answer = quiz.answer_text(item)
        if verdict.correct:
            st.success(_("Right: {answer}.").format(answer=answer), icon=":material/check_circle:")
        else:
            st.error(_("Not quite — you said {given}; the answer is {answer}.").format(
                given=st.session_state.get(GIVEN), answer=answer), icon=":material/cancel:")
            if verdict.slip is not None:
                st.warning(_("Most likely slip: {slip}").format(slip=render(verdict.slip)),
                           icon=":material/lightbulb:")
            if verdict.note is not None:
                st.info(render(verdict.note))
            st.caption(_("It comes back in {n} questions.").format(n=GAPS[1]))
        st.markdown(_("**Why**"))
        st.markdown("\n".join(f"- {render(line)}" for line in quiz.rendered(item.explanation)))
        if item.model in quiz.zoo_ids() and item.layer:
            st.page_link("pages/architecture.py", label=_("The same layer on the Architecture page"),
                         icon=":material/account_tree:", query_params=link_params(model=item.model))
        if item.code:
            with st.expander(_("Check it with PyTorch"), icon=":material/code:"):
                st.code(item.code, language="python")
        st.button(_("Next question"), type="primary", on_click=next_item, key="practice_next",
                  icon=":material/arrow_forward:")
    else:
        st.button(_("Skip"), on_click=next_item, key="practice_skip",
                  help=_("Another question; this one is not counted."))

with drawn_in:
    show_diagram()
    st.caption(_("The asked layer is lit in orange; its numbers appear once you have answered."))

# --- progress ------------------------------------------------------------------------------------------------
st.subheader(_("Your progress"))
scores = store().summary(me)
if not scores:
    st.caption(_("Nothing answered yet. Your progress is kept for this browser (a cookie holds an anonymous id)."))
else:
    frame = pd.DataFrame([{
        _("Kind"): _kind_name(s.kind), _("Answered"): s.answered, _("Right"): s.correct,
        _("Right (%)"): round(100 * s.share), _("Missed, coming back"): s.missed_now,
    } for s in scores])
    st.dataframe(frame, hide_index=True, key="practice_progress")
    boxes = store().boxes(me)
    st.caption(_("Leitner boxes (1 = missed last time … 5 = known): {boxes}. A right answer moves an item up a box, "
                 "a wrong one back to box 1; box 1 comes back after {gap} questions.").format(
        boxes=" · ".join(f"{b}: {n}" for b, n in boxes.items()), gap=GAPS[1]))
