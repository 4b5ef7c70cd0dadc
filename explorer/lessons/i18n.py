"""The translator of the user-visible strings: gettext over the catalog ``locale/<lang>/LC_MESSAGES/messages.po``.

The language is a context variable, set per run by the app (``pages/i18n.py``) or around a call with
:func:`use_language`; it defaults to English, the language of the source strings and of the CLI. Mark a string with
``_("…")`` (``from explorer.lessons.i18n import gettext as _``) and format it after translation:
``_("{n} layers").format(n=n)`` — an f-string cannot be looked up. ``N_`` marks a string for the catalog without
translating it (module-level tables, translated where shown). ``make messages`` extracts the marked strings.

The catalog is read with Babel's ``read_po`` once per process: there is no compiled ``.mo`` to go stale.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
LANGUAGES = {"en": "English", "zh": "中文"}  # code → the language's own name, as the switch shows it
DEFAULT_LANGUAGE = "en"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("explorer_language", default=DEFAULT_LANGUAGE)


def set_language(code: str) -> None:
    """Make ``code`` (a key of :data:`LANGUAGES`) the language of this context; an unknown code means English."""
    _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)


def language() -> str:
    """The language of this context (``"en"`` unless set)."""
    return _current.get()


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """``with use_language("zh"): …`` — the strings translated inside the block are Chinese."""
    token = _current.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


@cache
def catalog(code: str) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    """msgid (or (singular, plural)) → translation of ``code``'s catalog; untranslated and fuzzy entries left out."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        po = read_po(f, locale=code)
    table: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy or not message.string:
            continue
        if isinstance(message.id, tuple):
            if all(message.string):
                table[tuple(message.id)] = tuple(message.string)
        else:
            table[message.id] = message.string
    return table


def gettext(message: str) -> str:
    """``message`` in the current language (itself when English or not yet translated)."""
    found = catalog(language()).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language (Chinese has one form)."""
    found = catalog(language()).get((singular, plural))
    if isinstance(found, tuple):
        return found[0] if len(found) == 1 else found[0 if n == 1 else 1]
    return singular if n == 1 else plural


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; translate it with :func:`gettext` where it is shown."""
    return message


def library_texts() -> list[str]:
    """The English texts of the layers below this one (the zoo's model descriptions, the analysis' help texts) that
    the pages show: those layers cannot import the translator, so their strings enter the catalog through
    :func:`extract_library_texts` and are translated where shown (``_(spec.introduced)``)."""
    from explorer.analysis import depth
    from explorer.zoo.registry import list_models

    texts = [depth.LONGEST_PATH_HELP, depth.TOTAL_HELP]
    for spec in list_models():
        texts += [spec.introduced, spec.output]
    return list(dict.fromkeys(texts))


def extract_library_texts(fileobj, keywords, comment_tags, options):
    """Babel extraction method (``babel.cfg``'s ``[library: …]``): yields :func:`library_texts` as messages."""
    for text in library_texts():
        yield 0, "gettext", text, []
