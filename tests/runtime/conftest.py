"""Fixtures of the runtime tests: ``postgres``, the session's throwaway PostgreSQL cluster (:mod:`tests.pg`), and
``backend``, which runs a test on the store's two databases."""

from __future__ import annotations

import pytest

from explorer.runtime import store as db
from tests.pg import postgres  # noqa: F401 — a fixture, used by name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])  # a cluster starts: seconds
def backend(request, monkeypatch):
    """The store's database: the default SQLite file, or a new database of the session's PostgreSQL (its bare
    ``postgresql://`` URL in ``EXPLORER_STORE_URL``). Use it after a fixture that sets ``EXPLORER_HOME``."""
    if request.param == "postgresql":
        monkeypatch.setenv(db.URL_ENV, request.getfixturevalue("postgres").database())
    yield request.param
    db.dispose(db.store_url())
