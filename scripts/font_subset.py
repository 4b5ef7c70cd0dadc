"""Cut WenQuanYi Micro Hei down to the characters the app shows in Chinese: static/explorer-cjk.woff.

The characters: every one outside ASCII in the Chinese catalog, the notes, and the library and page sources (the
notes' points, the glossary, the language switch), plus printable ASCII. Run it (``make font``) after translating
new strings, and commit the result. The source font is Debian's ``fonts-wqy-microhei`` (Apache-2.0 or GPLv3 with the
font exception, either; redistributing a subset is allowed under both; the terms are
static/explorer-cjk.LICENSE, a copy of the package's copyright file).

Usage: .venv/bin/python scripts/font_subset.py [SOURCE_FONT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

REPO = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUTPUT = REPO / "static" / "explorer-cjk.woff"
TEXT_SOURCES = [
    REPO / "explorer" / "i18n" / "locale" / "zh" / "LC_MESSAGES" / "messages.po",
    REPO / "docs" / "notes" / "cnn-notes.zh.md",
    *sorted((REPO / "explorer" / "lessons").glob("*.py")),
    *sorted((REPO / "pages").glob("*.py")),
]


def characters() -> str:
    """Printable ASCII and every other character of the text sources, sorted."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for path in TEXT_SOURCES:
        chars |= {c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F and c.isprintable()}
    return "".join(sorted(chars))


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SOURCE
    if not source.is_file():
        print(f"error: no font at {source}: install the Debian package fonts-wqy-microhei", file=sys.stderr)
        return 2
    text = characters()
    options = subset.Options()
    options.flavor = "woff"
    options.font_number = 0  # the .ttc's first face: WenQuanYi Micro Hei (the second is its monospaced twin)
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keep the licence and copyright records
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    OUTPUT.parent.mkdir(exist_ok=True)
    subset.save_font(font, str(OUTPUT), options)
    print(f"{OUTPUT.relative_to(REPO)}: {len(text)} characters, {OUTPUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
