"""Shared fixtures: the repository root (also put on ``sys.path``, so ``explorer`` and ``pages`` import under a bare
``pytest`` as under ``python -m pytest``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
