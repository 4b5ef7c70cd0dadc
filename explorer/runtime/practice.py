"""Spaced practice: each learner's Leitner boxes, kept in SQLite under ``$EXPLORER_HOME`` (``practice.sqlite``).

Leitner's scheme (Sebastian Leitner, "So lernt man lernen", 1972): every item a learner has answered sits in a box;
a right answer moves it up one box, a wrong one back to box 1. An item in box *b* comes back after
:data:`GAPS`\\[b] more answers — a missed item within a few questions, a known one much later. Time here is counted
in answers (a learner's *turn*), not in days: a practice session is minutes long, and the next one goes on where it
stopped.

A learner is an opaque id (the app keeps one per browser in a cookie). The item itself is stored with its box, as
the JSON of :meth:`explorer.lessons.quiz.Item.to_record` (kept opaque here: this layer does not know items), so that
it comes back exactly as it was asked. Tables: ``practice_learner`` (turn), ``practice_box`` (one row per learner
and item), ``practice_answer`` (every answer, for the per-kind summary); ``user_version`` is the schema's version.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BOXES = 5
GAPS = {1: 3, 2: 8, 3: 20, 4: 50, 5: 120}  # answers until an item in that box is due again
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS practice_learner (learner TEXT PRIMARY KEY, turn INTEGER NOT NULL DEFAULT 0,
                                             created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS practice_box (
    learner TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL,
    box INTEGER NOT NULL, due INTEGER NOT NULL, seen INTEGER NOT NULL, correct INTEGER NOT NULL,
    item TEXT NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (learner, key)
);
CREATE TABLE IF NOT EXISTS practice_answer (
    id INTEGER PRIMARY KEY AUTOINCREMENT, learner TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL,
    model TEXT NOT NULL, correct INTEGER NOT NULL, turn INTEGER NOT NULL, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS practice_box_due ON practice_box (learner, due);
"""


def practice_path() -> Path:
    """``$EXPLORER_HOME/practice.sqlite`` (``$EXPLORER_HOME`` defaults to ``~/.cache/cnn-explorer``)."""
    home = Path(os.environ.get("EXPLORER_HOME") or Path.home() / ".cache" / "cnn-explorer")
    return home / "practice.sqlite"


@dataclass(frozen=True)
class Placed:
    """Where an answer put its item: the box, and the learner's turn at which it comes back."""

    box: int
    due: int
    turn: int


@dataclass(frozen=True)
class KindScore:
    """A learner's record on one kind of question."""

    kind: str
    answered: int
    correct: int
    items: int  # distinct items seen
    missed_now: int  # items in box 1 (their last answer was wrong)

    @property
    def share(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PracticeStore:
    """The learners' boxes in one SQLite file; safe to share between threads (one connection per call)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else practice_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def turn(self, learner: str) -> int:
        """How many answers ``learner`` has given."""
        with self._connect() as db:
            row = db.execute("SELECT turn FROM practice_learner WHERE learner = ?", (learner,)).fetchone()
        return int(row[0]) if row else 0

    def record(self, learner: str, key: str, kind: str, model: str, item: dict[str, Any], correct: bool) -> Placed:
        """``learner`` answered the item ``key``: count the answer, move the item up a box (right) or back to box
        1 (wrong), and set the turn at which it is due again."""
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO practice_learner (learner, turn, created) VALUES (?, 0, ?)",
                       (learner, _now()))
            db.execute("UPDATE practice_learner SET turn = turn + 1 WHERE learner = ?", (learner,))
            turn = int(db.execute("SELECT turn FROM practice_learner WHERE learner = ?", (learner,)).fetchone()[0])
            row = db.execute("SELECT box FROM practice_box WHERE learner = ? AND key = ?", (learner, key)).fetchone()
            box = (min(row[0] + 1, BOXES) if row else 2) if correct else 1
            due = turn + GAPS[box]
            db.execute(
                "INSERT INTO practice_box (learner, key, kind, model, box, due, seen, correct, item, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (learner, key) DO UPDATE SET box = excluded.box, "
                "due = excluded.due, seen = seen + 1, correct = correct + excluded.correct, item = excluded.item, "
                "updated = excluded.updated",
                (learner, key, kind, model, box, due, int(correct), json.dumps(item), _now()),
            )
            db.execute("INSERT INTO practice_answer (learner, key, kind, model, correct, turn, at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (learner, key, kind, model, int(correct), turn, _now()))
        return Placed(box=box, due=due, turn=turn)

    def due(self, learner: str, kinds: Sequence[str] | None = None,
            models: Sequence[str] | None = None) -> dict[str, Any] | None:
        """The stored item most overdue for ``learner`` among ``kinds`` and ``models`` (any when ``None``), lowest
        box first on a tie; ``None`` when nothing is due."""
        sql = ("SELECT b.item FROM practice_box b JOIN practice_learner l USING (learner) "
               "WHERE b.learner = ? AND b.due <= l.turn")
        args: list[Any] = [learner]
        for column, values in (("kind", kinds), ("model", models)):
            if values is not None:
                sql += f" AND b.{column} IN ({','.join('?' * len(values))})"
                args += list(values)
        sql += " ORDER BY b.due, b.box LIMIT 1"
        with self._connect() as db:
            row = db.execute(sql, args).fetchone()
        return json.loads(row[0]) if row else None

    def boxes(self, learner: str) -> dict[int, int]:
        """Box → how many of ``learner``'s items sit in it."""
        with self._connect() as db:
            rows = db.execute("SELECT box, COUNT(*) FROM practice_box WHERE learner = ? GROUP BY box",
                              (learner,)).fetchall()
        return {box: 0 for box in range(1, BOXES + 1)} | {int(b): int(n) for b, n in rows}

    def box_of(self, learner: str, key: str) -> int | None:
        with self._connect() as db:
            row = db.execute("SELECT box FROM practice_box WHERE learner = ? AND key = ?", (learner, key)).fetchone()
        return int(row[0]) if row else None

    def summary(self, learner: str) -> list[KindScore]:
        """Per kind: answers, right answers, items seen and items now in box 1."""
        with self._connect() as db:
            answers = db.execute("SELECT kind, COUNT(*), SUM(correct) FROM practice_answer WHERE learner = ? "
                                 "GROUP BY kind", (learner,)).fetchall()
            items = dict(db.execute("SELECT kind, COUNT(*) FROM practice_box WHERE learner = ? GROUP BY kind",
                                    (learner,)).fetchall())
            missed = dict(db.execute("SELECT kind, COUNT(*) FROM practice_box WHERE learner = ? AND box = 1 "
                                     "GROUP BY kind", (learner,)).fetchall())
        return [KindScore(kind=k, answered=int(n), correct=int(c or 0), items=int(items.get(k, 0)),
                          missed_now=int(missed.get(k, 0))) for k, n, c in sorted(answers)]
