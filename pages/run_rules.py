"""What the Train and Runs pages agree on about runs: who may see which run, how its owner is written for this
reader, and how a stopped or interrupted run is resumed (its owner or the teacher, within the class's limits; a
playground network's code checked again first)."""

from __future__ import annotations

import streamlit as st

from explorer.playground import CodeError
from explorer.present import sandbox
from explorer.runtime import coderun, jobs, runs
from explorer.runtime import train as engine
from pages import learner
from pages.i18n import _


def viewer() -> tuple[str, bool]:
    """(this browser's learner id, whether it is in teacher mode)."""
    return learner.learner_id(), learner.teacher()


def visible(owner: str | None, status: str, who: str, teacher: bool) -> bool:
    """A learner sees their own runs, every run queued or running, and the machine's (CLI runs, runs recorded
    before owners); the teacher sees every run."""
    return teacher or owner == who or status in runs.ACTIVE or not (owner or "").startswith("learner:")


def owner_label(owner: str | None, who: str, teacher: bool) -> str:
    """Who started a run, as this reader may know it: "you", "another learner" (the teacher sees which one), the
    shell user of a CLI run, "—" for a run recorded before runs had owners."""
    if owner is None:
        return "—"
    if owner == who:
        return _("you")
    if owner.startswith("user:"):
        return _("shell user {name}").format(name=owner.removeprefix("user:"))
    return _("learner {id}").format(id=owner.removeprefix("learner:")) if teacher else _("another learner")


def class_limits(teacher: bool):
    """The class's limits (``None`` for the teacher, whom they do not bind)."""
    return None if teacher else learner.limits()


def checked_code(store: runs.Store, run: str) -> int | None:
    """For a playground network's run: its code checked again (in the playground's worker process) before it
    resumes, and the memory it needs; ``None`` for a zoo model's run. A code that no longer parses is one sentence
    (:class:`~explorer.runtime.coderun.CodeGone`)."""
    row = store.get(run)
    if row.get("code") is None:
        return None
    code, shape = coderun.stored_code(row)
    try:
        analysis = sandbox.analyse(code, shape, graph=False)
    except CodeError as exc:
        raise coderun.gone(run, exc) from None
    return coderun.check_network(analysis.summary, engine.Recipe(**row["recipe"]),
                                 coderun.memory_limit(learner.settings()))


def resume(store: runs.Store, run: str, device: str = "auto") -> jobs.Job:
    """Queue ``run`` to continue from its last completed epoch, for this reader (its owner or the teacher only;
    ``ValueError`` / ``KeyError`` / ``PermissionError`` with the sentence to show)."""
    who, teacher = viewer()
    return jobs.manager().resume(run, device, by=who, teacher=teacher, limits=class_limits(teacher),
                                 memory=checked_code(store, run))


def may_resume(owner: str | None, status: str) -> bool:
    """Whether this reader may resume a run of ``owner`` now (it is stopped or interrupted, and theirs to resume)."""
    who, teacher = viewer()
    return status in runs.RESUMABLE and jobs.may_control(owner, who, teacher)


def remember_language() -> None:
    """A fragment's own rerun does not pass the app's language setup: set it again."""
    from explorer.i18n import set_language

    set_language(st.session_state.get("_lang", ""))
