"""``make docs``: rewrite the parts of the docs that a program can produce — the models table (docs/models.md) and the
counts the README quotes — from the code, so that they never drift. ``--check`` writes nothing and exits 1 when a
checked-in file differs from what the code says (tests/test_docs.py runs it).

A generated region sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``; everything outside the
markers is written by hand.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from explorer.zoo import list_models  # noqa: E402


def _shape(dims: tuple[int, ...]) -> str:
    return ",".join(map(str, dims))


def models_table() -> str:
    """Every registered model: id, family, what it is, input, output size, exact parameter count."""
    rows = ["| id | family | what | input | classes / outputs | params |", "|---|---|---|---|---:|---:|"]
    for spec in list_models():
        rows.append(f"| `{spec.id}` | {spec.family} | {spec.title} | {_shape(spec.input_shape)} | "
                    f"{spec.num_classes:,} | {spec.params:,} |")
    return "\n".join(rows)


def page_paths() -> list[str]:
    """The URL paths of the app's pages, read from app.py's ``st.Page(…)`` calls (Home is ``/``)."""
    tree = ast.parse((ROOT / "app.py").read_text())
    paths = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            path = next((k.value.value for k in node.keywords if k.arg == "url_path"), "")
            paths.append("/" + path)
    return paths


def counts() -> str:
    models = list_models()
    cnn = [s for s in models if len(s.input_shape) == 3 and s.classifier]
    return (f"{len(models)} models ({len(cnn)} image classifiers, the rest blocks and the notes' other systems) "
            f"on {len(page_paths())} pages")


REGIONS: dict[str, dict[str, Callable[[], str]]] = {
    "README.md": {"counts": counts},
    "docs/models.md": {"models": models_table, "counts": counts},
}


def rewrite(text: str, regions: dict[str, Callable[[], str]]) -> str:
    for name, make in regions.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->)(.*?)(<!-- end: {name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"no generated region {name!r}")
        body = make()
        filled = body if "\n" not in body else f"\n{body}\n"
        text = pattern.sub(lambda m, filled=filled: m.group(1) + filled + m.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, regions in REGIONS.items():
        path = ROOT / name
        old = path.read_text()
        new = rewrite(old, regions)
        if new != old:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f"out of date (run `make docs`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
