"""The app's own words do not repeat what the notes' checks correct: every model description, every lesson text and
every entry of the catalog (English and Chinese) is scanned with the phrases each claim declares
(``claims.CONTRADICTED_BY``); only the claim's own quotation of the notes may say it."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from explorer.i18n import LOCALE_DIR
from explorer.lessons import claims, glossary, notes
from explorer.zoo.registry import list_models

PO = LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po"
CHECKED = ("ffn-linearity", "lstm-eases", "inception-v4")  # at least these claims declare their contradictions

# The sentences the app once wrote, each contradicting its claim: the phrases must catch them.
WRONG = {
    "ffn-linearity": ("It adds the nonlinearity self-attention lacks, and works position by position.",
                      "它补上自注意力所缺的非线性，并且逐位置计算。"),
    "lstm-eases": ("Input, forget and output gates around a memory cell: long-range dependencies survive training.",
                   "记忆元外围有输入门、遗忘门和输出门：长距离依赖在训练中得以保留。"),
    "inception-v4": ("Inception-ResNet-A block (v4 family: residual)", "Inception-ResNet-A 块（v4 系列：残差）"),
}


def contradictions(text: str) -> list[tuple[str, str]]:
    return [(key, pattern) for key, patterns in claims.CONTRADICTED_BY.items() for pattern in patterns
            if re.search(pattern, text, re.IGNORECASE)]


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return [m for m in read_po(f, locale="zh") if m.id]


@pytest.fixture(scope="module")
def quotations(catalog) -> set[str]:
    """The claims' quotations of the notes (English, and their Chinese): the one place the wrong words belong."""
    quoted = set(claims.CLAIMED.values())
    return quoted | {m.string for m in catalog if m.id in quoted}


@pytest.mark.parametrize("key", CHECKED)
def test_each_claim_declares_phrases_that_catch_the_old_wrong_sentences(key):
    assert key in claims.CHECKS and claims.CONTRADICTED_BY[key]
    for sentence in WRONG[key]:
        assert key in {k for k, _ in contradictions(sentence)}, sentence


def test_the_claims_own_quotations_are_caught_and_exempt(quotations):
    for key in CHECKED:
        assert claims.CLAIMED[key] in quotations
        assert key in {k for k, _ in contradictions(claims.CLAIMED[key])}  # the notes' words: what the phrases say


def model_texts() -> list[tuple[str, str]]:
    texts = []
    for spec in list_models():
        for what, text in (("title", spec.title), ("introduced", spec.introduced), ("notes", spec.notes),
                           ("output", spec.output), *(("erratum", t) for e in spec.errata for t in (e.title, e.why))):
            if text:
                texts.append((f"{spec.id} {what}", text))
    return texts


def lesson_texts() -> list[tuple[str, str]]:
    texts = [(f"glossary {t.en}", f"{t.en} {t.note}") for t in glossary.TERMS]
    for key, (_, heading, points) in notes.SECTIONS.items():
        texts.append((f"notes {key}", heading))
        texts += [(f"notes {key}: {p.en[:30]}", p.en) for p in points if not p.claim]  # a checked point is a quote
    for key in ("ffn-linearity", "lstm-eases"):  # (every claim's verdict and explanation is in the catalog too)
        claim = claims.check(key)
        texts += [(f"claim {key} verdict", claim.verdict), (f"claim {key} explanation", claim.explanation)]
    return texts


def test_the_apps_descriptions_do_not_contradict_the_claims(catalog, quotations):
    found = []
    for where, text in [*model_texts(), *lesson_texts(),
                        *((f"catalog {m.id!r}", t) for m in catalog
                          for t in ((m.id, m.string) if isinstance(m.id, str) else (*m.id, *m.string)))]:
        if text in quotations:
            continue
        found += [(where, key, text) for key, _ in contradictions(text)]
    assert not found, found[:5]
