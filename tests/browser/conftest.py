"""Everything under tests/browser drives a real Chromium against ``streamlit run app.py``: marked ``browser`` and
``slow`` here, for every test file of the directory (``make test-fast`` leaves them out)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every collected item, not only this directory's: pick ours by path.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
