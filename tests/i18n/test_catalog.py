"""The Chinese catalog against the code: every marked string translated, nothing fuzzy or stale, the d2l terms of
the glossary kept; and the translator itself (language per context, plurals, the library's texts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from explorer import i18n
from explorer.analysis import depth
from explorer.lessons import glossary
from explorer.zoo.registry import list_models

REPO = Path(__file__).resolve().parents[2]
PO = REPO / "explorer" / "i18n" / "locale" / "zh" / "LC_MESSAGES" / "messages.po"


def messages(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    """The msgids Babel extracts from the code now (babel.cfg, as ``make messages`` runs it)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "--no-location",
         "-o", str(pot), "."],
        cwd=REPO, check=True, capture_output=True,
    )
    return {m.id for m in messages(pot) if m.id}


@pytest.fixture(scope="module")
def catalog():
    return messages(PO, "zh")


def translated(catalog) -> dict:
    return {m.id: m.string for m in catalog if m.id}


def test_every_extracted_string_has_a_chinese_translation(extracted, catalog):
    entries = translated(catalog)
    missing = sorted(map(str, extracted - set(entries)))
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
    empty = sorted(str(k) for k in extracted if not all(entries[k] if isinstance(entries[k], tuple) else
                                                        [entries[k]]))
    assert not empty, f"untranslated in {PO.name}: {empty[:10]}"


def test_the_catalog_has_no_stale_fuzzy_or_obsolete_entry(extracted, catalog):
    stale = sorted(map(str, set(translated(catalog)) - extracted))
    assert not stale, f"no longer in the code (run `make messages`): {stale[:10]}"
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert not catalog.obsolete
    assert catalog.plural_forms == "nplurals=1; plural=0;"


def test_translations_keep_the_format_fields(catalog):
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        fields = set(re.findall(r"\{\w*\}", ids[-1]))
        for s in strings:
            assert set(re.findall(r"\{\w*\}", s)) == fields, m.id


def test_the_catalog_uses_the_glossarys_words(catalog):
    """No translation uses a rejected word (池化 …); where an English msgid names a term, the translation uses its
    Chinese word."""
    for m in catalog:
        if not m.id:
            continue
        en = " ".join(m.id) if isinstance(m.id, tuple) else m.id
        zh = " ".join(m.string) if isinstance(m.string, tuple) else m.string
        for term in glossary.TERMS:
            for word in term.avoid:
                if word in term.note or word in en:
                    continue  # the glossary's own note naming the word it rejects
                assert word not in zh, f"{word!r} in the translation of {en!r}: the glossary says {term.zh}"
        for en_term, zh_term in (("pooling", "汇聚"), ("receptive field", "感受野"), ("stride", "步幅"),
                                 ("padding", "填充"), ("channel", "通道"), ("residual block", "残差块"),
                                 ("batch normalization", "批量规范化"), ("dropout", "暂退法"),
                                 ("fully connected", "全连接")):
            if re.search(rf"\b{en_term}", en, re.IGNORECASE) and not re.search(r"\b(bn|relu|conv)\b", en):
                assert zh_term in zh, f"{en!r} → {zh!r}: expected {zh_term}"


def test_glossary_terms_are_unique_and_consistent():
    ens = [t.en for t in glossary.TERMS]
    assert len(ens) == len(set(ens))
    for t in glossary.TERMS:
        assert t.zh not in t.avoid
        assert not any(t.zh in other.avoid for other in glossary.TERMS), t.zh
    assert glossary.term("pooling layer").zh == "汇聚层"
    with pytest.raises(KeyError, match="'pooling' is not in the glossary"):
        glossary.term("pooling")


def test_the_translator_follows_the_context_language():
    assert i18n.language() == "en"
    assert i18n.gettext("Glossary") == "Glossary"
    with i18n.use_language("zh"):
        assert i18n.gettext("Glossary") == "术语表"
        assert i18n.ngettext("{n} class", "{n} classes", 1) == "{n} 个类别"
        assert i18n.ngettext("{n} class", "{n} classes", 10).format(n=10) == "10 个类别"
        assert i18n.gettext("a string nobody marked") == "a string nobody marked"
    assert i18n.ngettext("{n} class", "{n} classes", 10) == "{n} classes"
    with i18n.use_language("fr"):  # an unknown language is English
        assert i18n.language() == "en"


def test_the_library_marks_its_texts_where_they_are_written(extracted, catalog):
    """The texts the layers below the pages show (the zoo's descriptions, the analysis' help texts, Fashion-MNIST's
    class names, the runs' states, the listings' titles) are marked with N_ where they are written: Babel's standard
    extractor finds them, and each is translated."""
    from explorer.playground.listings import LISTINGS
    from explorer.runtime import data, runs
    from explorer.zoo.googlenet import INCEPTION_VARIANTS
    from explorer.zoo.resnet import PLACEMENT_TITLES

    texts = {depth.LONGEST_PATH_HELP, depth.TOTAL_HELP, *data.CLASSES, *runs.STATUSES, *PLACEMENT_TITLES.values(),
             *(listing.title for listing in LISTINGS.values())}
    for spec in list_models():
        texts |= {spec.introduced, spec.output, *filter(None, (spec.d2l_result, spec.notes))}
        texts |= {t for e in spec.errata for t in (e.title, e.why)}
        if spec.id in INCEPTION_VARIANTS:
            texts.add(spec.title)
    assert not sorted(texts - extracted)[:5]
    entries = translated(catalog)
    with i18n.use_language("zh"):
        for text in texts:
            assert i18n.gettext(text) == entries[text] != text, text
        assert i18n.gettext(depth.LONGEST_PATH_HELP) == entries[depth.LONGEST_PATH_HELP]
        assert i18n.gettext("class scores") == "类别得分"


def test_the_training_errors_render_in_chinese():
    """The training's checks raise errors that carry their words: the Chinese pages render them translated."""
    from explorer.i18n import Message, Ordinal
    from explorer.runtime import train as engine
    from explorer.zoo.registry import get_spec

    lenet = get_spec("lenet")
    base = engine.default_recipe("lenet")

    def recipe(**changes):
        return engine.Recipe(**{**vars(base), **changes})

    def raised(call) -> ValueError:
        with pytest.raises(ValueError) as info:
            call()
        return info.value

    errors = {
        raised(lambda: engine.validate(lenet, recipe(lr=0.0))): "学习率必须是正数，而不是 0.0",
        raised(lambda: engine.validate(lenet, recipe(epochs=0))):
            f"迭代周期数必须在 1 到 {engine.MAX_EPOCHS} 之间，而不是 0",
        raised(lambda: engine.validate(lenet, recipe(batch_size=0))): "批量大小至少为 1，而不是 0",
        raised(lambda: engine.validate(lenet, recipe(batch_size=10), world_size=3)):
            "批量大小（10）必须是进程数 3 的倍数",
        raised(lambda: engine.validate(lenet, base, limit=70_000)): "训练图像数必须在 1 到 60,000 之间，而不是 70000",
    }
    with i18n.use_language("zh"):
        for error, chinese in errors.items():
            assert i18n.render(error).startswith(chinese), str(error)
        assert i18n.render(Message(i18n.N_("queued, {position} in line"), {"position": Ordinal(2)})) == (
            "排队中，排在第 2 位")
    assert i18n.render(raised(lambda: engine.validate(lenet, recipe(batch_size=0)))) == (
        "the batch size must be at least 1, not 0")


def test_the_web_font_has_every_chinese_character_of_the_catalog(catalog):
    """static/explorer-cjk.woff (``make font``) draws every CJK character the translations use."""
    from fontTools.ttLib import TTFont

    font = TTFont(REPO / "static" / "explorer-cjk.woff")
    covered = set(map(chr, font.getBestCmap()))
    used = {c for m in catalog if m.id for s in (m.string if isinstance(m.string, tuple) else (m.string,))
            for c in s if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"}
    assert used, "the catalog has Chinese"
    assert not used - covered, f"run `make font`: {''.join(sorted(used - covered))}"
    assert (REPO / "static" / "explorer-cjk.woff").stat().st_size < 1_500_000


def test_the_diagram_and_the_nin_claim_speak_the_page_language():
    from explorer.lessons import claims
    from explorer.present import diagram

    assert diagram._detail_text("11×11, 3→96, stride 4, pad 2") == "11×11, 3→96, stride 4, pad 2"
    with i18n.use_language("zh"):
        assert diagram._detail_text("11×11, 3→96, stride 4, pad 2") == "11×11, 3→96, 步幅 4, 填充 2"
        assert diagram._detail_text("3×3, dilation 2, groups 4") == "3×3, 膨胀 2, 分组 4"
        assert diagram._detail_text("12 layers") == "12 层"
        claim = claims.check("nin-224")
    assert claim.verdict.startswith("比多出参数更糟：笔记的代码**在 224×224 上根本无法运行**。"
                                    "在 meta 设备上分析的结果：")
    assert "第 4.4 层（Conv2d(384, 384, kernel_size=(3, 3), stride=(1, 1))）得到输入 384×1×1" in claim.verdict
    assert claim.rows[1] == {"版本": "修正后（kernel_size=1）", "输入 1×224×224 时": "可以运行", "参数量": "1,992,166"}
