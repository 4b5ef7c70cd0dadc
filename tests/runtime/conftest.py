"""Fixtures of the runtime tests: ``postgres``, the session's throwaway PostgreSQL cluster (:mod:`tests.pg`)."""

from tests.pg import postgres  # noqa: F401 — a fixture, used by name
