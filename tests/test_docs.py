"""The docs' numbers are the code's: the generated regions (the models table, the README's counts) match what
``make docs`` writes now, and the README stays a front door."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _docs_script():
    spec = importlib.util.spec_from_file_location("docs_script", ROOT / "scripts" / "docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_regions_are_up_to_date():
    docs = _docs_script()
    for name, regions in docs.REGIONS.items():
        text = (ROOT / name).read_text()
        assert docs.rewrite(text, regions) == text, f"{name} is out of date: run `make docs`"


def test_models_table_lists_every_id_with_its_exact_count():
    from explorer.zoo import list_models

    table = (ROOT / "docs" / "models.md").read_text()
    for spec in list_models():
        assert f"| `{spec.id}` |" in table and f"| {spec.params:,} |" in table


def test_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert "make run" in readme and "make test" in readme
    for link in ("docs/models.md", "docs/playground.md", "docs/training.md", "docs/benchmarks.md"):
        assert (ROOT / link).is_file() and link in readme
