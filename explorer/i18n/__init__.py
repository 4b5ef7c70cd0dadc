"""Words for the reader: the language of this context, the gettext catalog, and messages that carry their own words.

This module sits at the bottom of the library (every layer may import it, it imports none of them). It holds:

- the **language** of this context (a context variable set per run by the app, ``pages/i18n.py``, or around a call
  with :func:`use_language`; English by default, the language of the source strings and of the CLI);
- the **translator**: :func:`gettext` / :func:`ngettext` over ``locale/<lang>/LC_MESSAGES/messages.po`` here (read with
  Babel's ``read_po`` once per process: no compiled ``.mo`` to go stale), and :func:`N_` to mark a string for the
  catalog without translating it (module-level tables, translated where shown);
- a **message** that carries its words, as Django's ``ValidationError(message, code, params)`` does: the place that
  knows what went wrong writes a template (marked with :func:`N_`) and its values; the place that shows it renders it
  in the reader's language with :func:`render`. Nothing is ever parsed back out of an English sentence.

``raise ExplorerError(N_("{layer} gets {got}, its kernel is {kernel}"), layer="conv1", got="2×2", kernel="3×3")``
reads ``conv1 gets 2×2, its kernel is 3×3`` in English (``str(err)``, the CLI's ``error:`` line) and in Chinese where a
page renders it with ``render(err)``. A value may itself be a :class:`Message` (rendered in turn: a clause, a run's
state), a :class:`Quoted` text (the words of another program — PyTorch, Python, the operating system — shown as code
when the reader's language is not English), an :class:`Ordinal` (``2nd`` in English), or anything ``format`` takes.
Format specs work as in ``str.format``: ``"{limit:,}"``.

``make messages`` extracts the marked strings with Babel's standard Python extractor (``babel.cfg``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
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
    """Mark ``message`` for the catalog; translate it with :func:`gettext` (or a :class:`Message`) where shown."""
    return message


def quote_code(text: str) -> str:
    """``text`` as a Markdown code span: words shown as they were written (an exception's, a file's name)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


class Quoted(str):
    """The words of another program (a PyTorch or Python exception, the operating system): written as they are in
    English, quoted as code in any other language — they are not ours to translate."""


@dataclass(frozen=True)
class Ordinal:
    """A position such as ``2`` written ``2nd`` in English and ``2`` elsewhere (the template says the rest)."""

    n: int

    def __str__(self) -> str:
        if language() != DEFAULT_LANGUAGE:
            return str(self.n)
        suffix = "th" if 10 <= self.n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(self.n % 10, "th")
        return f"{self.n}{suffix}"


@dataclass(frozen=True)
class Message:
    """A template (marked with :func:`N_`) and the values of its fields; ``str()`` is its English sentence,
    :meth:`render` its sentence in the current language."""

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        """The sentence in the current language: the template translated, then filled with the values (each
        :class:`Message` value rendered in turn, :class:`Quoted` ones quoted as code outside English)."""
        english = language() == DEFAULT_LANGUAGE
        text = self.template if english else gettext(self.template)
        if not self.values:
            return text  # a sentence without fields is written as it is (braces and all)
        return text.format(**{key: _value(value, english) for key, value in self.values.items()})

    def __str__(self) -> str:
        with use_language(DEFAULT_LANGUAGE):
            return self.render()


def _value(value: Any, english: bool) -> Any:
    if isinstance(value, Message):
        return value.render()
    if isinstance(value, BaseException):
        return render(value)
    if isinstance(value, Quoted):
        return str(value) if english else quote_code(str(value))
    if isinstance(value, Ordinal):
        return str(value)
    return value


class ExplorerError(Exception):
    """An error whose sentence is a :class:`Message`: ``ExplorerError(N_("{a} is {b}"), a=…, b=…)``.

    ``str(err)`` is the English sentence (the CLI prints it after ``error:``); :func:`render` writes it in the
    reader's language. Subclass it together with the built-in kind a caller catches (``class BadInput(ExplorerError,
    ValueError)``), so that ``except ValueError`` keeps working. It survives pickling (errors cross process
    boundaries: the playground's worker, training processes).
    """

    def __init__(self, template: str | Message, /, **values: Any) -> None:
        self.message = template if isinstance(template, Message) else Message(template, values)
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)  # the sentence, also for a KeyError (whose own str() is the repr of its argument)

    def __reduce__(self):
        return _rebuild_error, (type(self), self.message, self.__dict__)


def _rebuild_error(cls: type[ExplorerError], message: Message, state: dict) -> ExplorerError:
    error = cls.__new__(cls)
    Exception.__init__(error, str(message))
    error.__dict__.update(state)
    return error


class InvalidValue(ExplorerError, ValueError):
    """A value the user gave (an argument, a file, a setting) that cannot be used: ``except ValueError`` catches it."""


class UnknownKey(ExplorerError, KeyError):
    """A name that names nothing (a model id, a claim, a column): ``except KeyError`` catches it, and ``str(err)``
    is the sentence, not a quoted repr."""


def error_text(error: BaseException) -> str:
    """The English sentence of an exception (a ``KeyError``'s own message, not its quoted repr)."""
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return error.args[0]
    return str(error) or type(error).__name__


def render(item: str | Message | BaseException) -> str:
    """Anything the library hands a reader, in the current language: a :class:`Message` (or an error carrying one,
    ``.message``) rendered; a plain string translated through the catalog; any other exception's words — PyTorch's,
    Python's — and a :class:`Quoted` text quoted as code behind a lead-in (outside English; in English they are shown
    as they are)."""
    if isinstance(item, Message):
        return item.render()
    if isinstance(item, BaseException):
        message = getattr(item, "message", None)
        if isinstance(message, Message):
            return message.render()
        item = Quoted(error_text(item))
    if isinstance(item, Quoted):
        if language() == DEFAULT_LANGUAGE:
            return str(item)
        return gettext("error, in its original words: {error}").format(error=quote_code(str(item)))
    return gettext(item)
