"""Who uses the app: an anonymous learner id per browser, the teacher mode, and the class's settings.

**Learner id.** A browser gets a random token in a cookie (``explorer_learner``, a year, this site only), set on its
first visit by a one-line script (``st.html`` with JavaScript: the token is the server's own, never user input) and
read back on every later session with ``st.context.cookies``: a reload, a new tab or a return the next day is the same
learner. The learner's id is ``learner:`` + the first 12 hex digits of the token's SHA-256: the store and the pages
show the id, never the token, so nobody can take another learner's runs from what the page shows. Before the cookie
comes back (the very first session) the token lives in the session.

**Teacher mode.** Unlocked in a session by the server's secret ``EXPLORER_ADMIN_TOKEN`` (typed into the Train page's
teacher box, or arriving as ``?teacher=…``, which is taken out of the URL at once); the teacher may stop or resume any
run, sees every learner's runs, and is bound by none of the class's limits. Without the setting there is no teacher.

**Settings.** Environment variables, else the same names at the top level of ``.streamlit/secrets.toml``
(:func:`settings`); the limits are :class:`explorer.runtime.limits.ClassLimits`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets

import streamlit as st

from explorer.runtime.limits import ADMIN_TOKEN, ClassLimits
from pages.i18n import _

COOKIE = "explorer_learner"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_SETTING = re.compile(r"EXPLORER_[A-Z_]+")


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this run (AppTest, a bare script run)
        return None
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def _token() -> str:
    """This browser's token: its cookie's, else the one this session made (and is setting as the cookie)."""
    token = _cookie()
    if token is not None:
        st.session_state["_learner_token"] = token
        return token
    return st.session_state.setdefault("_learner_token", secrets.token_urlsafe(18))


def identify() -> str:
    """``app.py``, every run: this browser's learner id; on a browser without the cookie, the script that sets it
    (drawn in the sidebar, invisible; the same element on every run, so it runs once)."""
    token = _token()
    if _cookie() is None:
        st.sidebar.html(f"<script>document.cookie = {json.dumps(f'{COOKIE}={token}')} + "
                        "'; path=/; max-age=31536000; SameSite=Lax';</script>", unsafe_allow_javascript=True)
    return learner_of(token)


def learner_of(token: str) -> str:
    """The learner id of a token (what the run store records as a run's owner)."""
    return "learner:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def learner_id() -> str:
    """This browser's learner id (``learner:1a2b3c4d5e6f``)."""
    return learner_of(_token())


def settings() -> dict[str, object]:
    """The class's settings: ``EXPLORER_*`` entries at the top level of ``.streamlit/secrets.toml``, overridden by
    the environment."""
    found: dict[str, object] = {}
    try:
        found.update({k: v for k, v in st.secrets.to_dict().items() if _SETTING.fullmatch(k)})
    except Exception:  # no secrets.toml (the usual case): nothing to read
        pass
    found.update({k: v for k, v in os.environ.items() if _SETTING.fullmatch(k)})
    return found


def limits() -> ClassLimits:
    return ClassLimits.load(settings())


def _admin_token() -> str | None:
    token = settings().get(ADMIN_TOKEN)
    return str(token) if token else None


def teacher_available() -> bool:
    """Whether this server has a teacher (``EXPLORER_ADMIN_TOKEN`` set)."""
    return _admin_token() is not None


def unlock(token: str) -> bool:
    """Enter teacher mode for this session when ``token`` is the server's secret (compared in constant time)."""
    secret = _admin_token()
    ok = secret is not None and hmac.compare_digest(token.encode(), secret.encode())
    st.session_state["_teacher"] = ok
    return ok


def teacher() -> bool:
    """Whether this session is in teacher mode. A ``?teacher=…`` in the URL is tried, then removed from it."""
    asked = st.query_params.get("teacher")
    if asked is not None:
        del st.query_params["teacher"]
        unlock(asked)
    return bool(st.session_state.get("_teacher")) and teacher_available()


def leave_teacher_mode() -> None:
    st.session_state["_teacher"] = False


def _unlock_from_box() -> None:
    token = st.session_state.pop("teacher_token", "")
    st.session_state["_teacher_refused"] = not unlock(token)


def teacher_box() -> None:
    """The Train page's teacher box (only on a server that has a teacher): the token to type, or teacher mode's
    rights and the way out of it."""
    if not teacher_available():
        return
    with st.expander(_("Teacher mode"), icon=":material/school:", expanded=teacher()):
        if teacher():
            st.success(_("Teacher mode: you can stop or resume any run and you see every learner's runs; the "
                         "class's limits do not apply to you."), icon=":material/school:")
            st.button(_("Leave teacher mode"), on_click=leave_teacher_mode, key="teacher_leave")
            return
        with st.form("teacher_form", border=False, enter_to_submit=True):
            st.text_input(_("Teacher's token"), type="password", key="teacher_token",
                          help=_("The server's EXPLORER_ADMIN_TOKEN. It stays in this browser session only."))
            st.form_submit_button(_("Unlock"), on_click=_unlock_from_box)
        if st.session_state.pop("_teacher_refused", False):
            st.error(_("That is not the teacher's token."), icon="⚠️")
