"""The translator of the user-visible strings: gettext over the catalog ``explorer/i18n/locale/<lang>/…/messages.po``.

The language is a context variable, set per run by the app (``pages/i18n.py``) or around a call with
:func:`use_language`; it defaults to English, the language of the source strings and of the CLI. Mark a string with
``_("…")`` (``from explorer.lessons.i18n import gettext as _``) and format it after translation:
``_("{n} layers").format(n=n)`` — an f-string cannot be looked up. ``N_`` marks a string for the catalog without
translating it (module-level tables, translated where shown). ``make messages`` extracts the marked strings.

The sentences the layers below write (errors, a run's state) cannot be marked there: they are recognised here by
their templates (:data:`MESSAGE_TEMPLATES`, :func:`translate_message`, :func:`translate_error`; the playground's
errors carry their words, see :class:`explorer.playground.CodeError`) and written again in the current language with
the same values.

The catalog is read with Babel's ``read_po`` once per process: there is no compiled ``.mo`` to go stale.
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


def library_texts() -> list[str]:
    """The English texts of the layers below this one that the pages show (the zoo's model descriptions, the
    analysis' help texts, Fashion-MNIST's class names, d2l's results, the training runs' states): those layers cannot
    import the translator, so their strings enter the catalog through :func:`extract_library_texts` and are
    translated where shown (``_(spec.introduced)``)."""
    from explorer.analysis import depth
    from explorer.playground.listings import LISTINGS
    from explorer.runtime import data, runs
    from explorer.zoo.googlenet import INCEPTION_VARIANTS
    from explorer.zoo.registry import get_spec, list_models
    from explorer.zoo.resnet import PLACEMENT_TITLES

    texts = [depth.LONGEST_PATH_HELP, depth.TOTAL_HELP, *data.CLASSES, *runs.STATUSES, *PLACEMENT_TITLES.values(),
             *(get_spec(i).title for i in INCEPTION_VARIANTS), *(listing.title for listing in LISTINGS.values())]
    for spec in list_models():
        texts += [spec.title, spec.introduced, spec.output, *([spec.d2l_result] if spec.d2l_result else [])]
        texts += [*([spec.notes] if spec.notes else []), *(t for e in spec.errata for t in (e.title, e.why))]
    return list(dict.fromkeys(texts))


def extract_library_texts(fileobj, keywords, comment_tags, options):
    """Babel extraction method (``babel.cfg``'s ``[library: …]``): yields :func:`library_texts` as messages."""
    for text in library_texts():
        yield 0, "gettext", text, []


# The sentences of the layers below this one that reach the user as they are (the runtime's errors and states), as
# templates of their f-strings: :func:`translate_message` recognises a message by its template and translates it
# with the same values. tests/i18n checks each against the sentence the runtime really writes. The first template
# that fits wins, so a specific one comes before a general one that also fits its sentences. A ``{clause}`` field
# holds another sentence of this list (translated in turn), a ``{status}`` a run's state (see CLAUSE_FIELDS). The
# playground interpreter's errors carry their templates (explorer.playground.CodeError is an ExplorerError).
MESSAGE_TEMPLATES = (
    # explorer.runtime.devices.pick_device
    N_("device cuda was asked for, but no CUDA GPU is available"),
    N_("device mps was asked for, but Apple's Metal backend is not available"),
    N_("unknown device {name}; use auto, cpu, cuda or mps"),
    # explorer.runtime.runner, lease and runs: how a run ended, as the store keeps it
    N_("the {n} processes exited with status {code}"),
    N_("diverged at epoch {epoch}, step {step}: the loss is not finite"),
    N_("out of GPU memory training {model} with batch size {size}: try a smaller batch size or resize"),
    N_("interrupted (Ctrl-C) while queued"),
    N_("interrupted (Ctrl-C)"),
    N_("the process running it stopped before it finished"),
    # explorer.runtime.inference: a model that cannot classify (its NoWeights carries imagenet's sentence as text)
    N_("no trained weights are shipped (explorer/zoo/trained/manifest.json is missing)"),
    N_("{model} has no trained weights; models that classify: {models} (Fashion-MNIST), and the "
       "torchvision-compatible ImageNet models once their checkpoint is downloaded"),
    N_("{model} is not a Fashion-MNIST model; dataset images go to {models}"),
    N_("The ImageNet weights of {model} are not in the torch.hub cache: fetch {url} and save it as {path}."),
    N_("The ImageNet weights file {path} for {model} is damaged ({reason}): delete it and fetch {url} again."),
    # explorer.runtime.data.find
    N_("Fashion-MNIST ({files}) not found in {places}; install the Debian package dataset-fashion-mnist, set "
       "FASHION_MNIST_DIR, or call explorer.runtime.data.download()"),
    # explorer.runtime.images
    N_("{name} is {size} bytes ({mb} MB), more than the {limit} MB limit"),
    N_("{name} is empty"),
    N_("{name} is larger than {limit} MB"),
    N_("{name} has {w}×{h} pixels, more than the {limit} accepted"),
    N_("{name} is not an image in a supported format ({formats})"),
    N_("{name} declares too many pixels (a decompression bomb?)"),
    N_("{name} is damaged or truncated and cannot be decoded ({reason})"),
    # explorer.zoo.registry.unknown_model_error
    N_("unknown model id {id}; did you mean {close}?"),
    N_("unknown model id {id}; known ids: {ids}"),
    # explorer.lessons.compare.measure
    N_("not an image model (input {shape})"),
    # explorer.analysis.summary.parse_input_shape and analyze
    N_("input size {text} is not a list of integers like 3,224,224"),
    N_("input size {dims} has a dimension below 1 ({value})"),
    N_("input size {dims} exceeds the limit of {limit} per dimension"),
    N_("{model} takes a {n}-dimensional input ({shape}), not {dims}"),
    N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: it expects {n} input channels, "
       "got {value}"),
    N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: it expects {n} input features, "
       "got {value}"),
    N_("{model} cannot take input {shape}: layer {name} ({module}) gets input {got}: {error}"),
    N_("{model} cannot take input {shape}: {error}"),
    N_("input size is empty; give it as C,H,W, e.g. 3,224,224"),
    N_("input size {dims} has a dimension that is not an integer"),
    # explorer.analysis.fit.why_it_fails (the Failure's reason)
    N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} window no longer fits in {sizes} even with its "
       "padding"),
    N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} window no longer fits in {sizes}"),
    N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes} even with its "
       "padding"),
    N_("{layer} {k}, stride {s} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes}"),
    N_("{layer} {k} gets {shape}: {formulas} — the {span} window no longer fits in {sizes} even with its padding"),
    N_("{layer} {k} gets {shape}: {formulas} — the {span} window no longer fits in {sizes}"),
    N_("{layer} {k} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes} even with its padding"),
    N_("{layer} {k} gets {shape}: {formulas} — the {span} kernel no longer fits in {sizes}"),
    N_("the classifier's {layer} expects {expected} features, this input gives {arrives}"),
    N_("{layer} expects {n} input features, this input gives {got}"),
    N_("{layer} expects {n} input channels, this input has {got}"),
    N_("{layer} expects {n} input channel, this input has {got}"),
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


def translate_message(message: str) -> str:
    """``message`` (a sentence of the runtime) in the current language: recognised by one of
    :data:`MESSAGE_TEMPLATES` and rewritten with the same values, or returned as it is."""
    if isinstance(message, Message):
        return message.render()
    if language() == DEFAULT_LANGUAGE:
        return message
    found = match_template(message, MESSAGE_TEMPLATES)
    return fill_template(*found, MESSAGE_TEMPLATES) if found else message




def translate_error(error: str | BaseException) -> str:
    """An error for the reader: an exception or its sentence, translated by :data:`MESSAGE_TEMPLATES`; a sentence no
    template knows (the words of an exception PyTorch, Python or the system raised) is quoted as code behind a lead-in
    in the current language."""
    if isinstance(error, (Message, ExplorerError)):
        return render(error)
    message = error_text(error) if isinstance(error, BaseException) else error
    if language() == DEFAULT_LANGUAGE:
        return message
    found = match_template(message, MESSAGE_TEMPLATES)
    if found:
        return fill_template(*found, MESSAGE_TEMPLATES)
    return gettext("error, in its original words: {error}").format(error=quote_code(message))
