"""The sentences a run's store keeps as text, recognised by their templates.

The translator, the language and messages that carry their own words live in :mod:`explorer.i18n` (re-exported
here): the library's errors carry their template and values (:class:`explorer.i18n.ExplorerError`) and render
themselves. What is left here is how a training run ended as the run store keeps it — a sentence, not a message —
:data:`MESSAGE_TEMPLATES`, recognised by its template (:func:`translate_message`, :func:`translate_error`) and
written again in the current language with the same values, until the store keeps messages.
"""

from __future__ import annotations

import re
from functools import cache

from ..i18n import (  # noqa: F401 — re-exported while the pages move to explorer.i18n
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    ExplorerError,
    Message,
    catalog,
    error_text,
    gettext,
    language,
    ngettext,
    quote_code,
    render,
    set_language,
    use_language,
)

# The sentences that still reach the user as text (a failed run's error as the store keeps it), as templates of their
# f-strings: :func:`translate_message` recognises a message by its template and translates it
# with the same values. tests/i18n checks each against the sentence the runtime really writes. The first template
# that fits wins, so a specific one comes before a general one that also fits its sentences. A ``{clause}`` field
# holds another sentence of this list (translated in turn), a ``{status}`` a run's state (see CLAUSE_FIELDS).
MESSAGE_TEMPLATES = (
    # explorer.runtime.devices.pick_device and data.find (their errors carry their words; a failed run's store keeps
    # them as text)
    N_("device cuda was asked for, but no CUDA GPU is available"),
    N_("device mps was asked for, but Apple's Metal backend is not available"),
    N_("unknown device {name}; use auto, cpu, cuda or mps"),
    N_("Fashion-MNIST ({files}) not found in {places}; install the Debian package dataset-fashion-mnist, set "
       "FASHION_MNIST_DIR, or call explorer.runtime.data.download()"),
)


# Fields of a template whose value is not the template's own English: a ``{clause}`` is a sentence of another
# template (translated in turn; quoted as code when no template knows it), a ``{status}`` a word of the catalog (a
# run's state), an ``{error}`` or ``{reason}`` the words of another program (PyTorch, Python, the operating system),
# quoted as code as they are.
CLAUSE_FIELDS = ("clause",)
CATALOG_FIELDS = ("status",)
QUOTED_FIELDS = ("error", "reason")


@cache
def template_pattern(template: str) -> re.Pattern:
    """The regular expression that recognises the sentences ``template`` writes: each ``{field}`` any text."""
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(regex + r"\Z", re.DOTALL)


def match_template(message: str, templates: tuple[str, ...]) -> tuple[str, dict[str, str]] | None:
    """The first of ``templates`` that writes ``message``, with the values of its fields (an ordinal such as "2nd"
    as its number); ``None`` when none does."""
    for template in templates:
        found = template_pattern(template).match(message)
        if found:
            return template, {k: re.sub(r"^(\d+)(?:st|nd|rd|th)$", r"\1", v) for k, v in found.groupdict().items()}
    return None




def fill_template(template: str, values: dict[str, str], templates: tuple[str, ...]) -> str:
    """``template`` in the current language with ``values``; its clause fields translated by ``templates`` (or
    quoted as code), its status fields through the catalog, its error and reason fields quoted as code."""
    values = dict(values)
    for field in QUOTED_FIELDS:
        if field in values:
            values[field] = quote_code(values[field])
    for field in CLAUSE_FIELDS:
        if field in values:
            inner = match_template(values[field], templates)
            values[field] = fill_template(*inner, templates) if inner else quote_code(values[field])
    for field in CATALOG_FIELDS:
        if field in values:
            values[field] = gettext(values[field])
    return gettext(template).format(**values)


def _carries_words(item: object) -> bool:
    """Whether ``item`` is a message (or an error carrying one) that renders itself — not a sentence written as a
    whole and wrapped (``NoWeights(f"…")``), which only the templates can recognise."""
    message = item if isinstance(item, Message) else getattr(item, "message", None)
    return isinstance(message, Message) and (bool(message.values) or message.template in catalog(language()))


def translate_message(message: str) -> str:
    """``message`` (a sentence of the runtime) in the current language: recognised by one of
    :data:`MESSAGE_TEMPLATES` and rewritten with the same values, or returned as it is."""
    if _carries_words(message) or language() == DEFAULT_LANGUAGE:
        return render(message) if isinstance(message, (Message, ExplorerError)) else message
    found = match_template(str(message), MESSAGE_TEMPLATES)
    return fill_template(*found, MESSAGE_TEMPLATES) if found else str(message)


def translate_error(error: str | BaseException) -> str:
    """An error for the reader: an exception or its sentence, translated by :data:`MESSAGE_TEMPLATES`; a sentence no
    template knows (the words of an exception PyTorch, Python or the system raised) is quoted as code behind a lead-in
    in the current language."""
    if _carries_words(error):
        return render(error)
    message = error_text(error) if isinstance(error, BaseException) else str(error)
    if language() == DEFAULT_LANGUAGE:
        return message
    found = match_template(message, MESSAGE_TEMPLATES)
    if found:
        return fill_template(*found, MESSAGE_TEMPLATES)
    return gettext("error, in its original words: {error}").format(error=quote_code(message))
