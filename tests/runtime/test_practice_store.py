"""The learners' Leitner boxes (explorer.runtime.practice): a right answer moves an item up a box, a wrong one back
to box 1; an item comes back after its box's gap in answers; learners and kinds kept apart; the file under
$EXPLORER_HOME."""

from __future__ import annotations

import sqlite3

from explorer.runtime.practice import BOXES, GAPS, SCHEMA_VERSION, PracticeStore, practice_path


def record(store, learner, key, correct, kind="shape", model="alexnet"):
    return store.record(learner, key, kind, model, {"key": key, "kind": kind}, correct)


def test_the_file_lives_under_explorer_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path))
    assert practice_path() == tmp_path / "practice.sqlite"
    store = PracticeStore()
    assert store.path == tmp_path / "practice.sqlite"
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"practice_learner", "practice_box", "practice_answer"} <= tables


def test_leitner_boxes_and_gaps(tmp_path):
    store = PracticeStore(tmp_path / "p.sqlite")
    placed = record(store, "ann", "a", correct=False)
    assert (placed.box, placed.turn, placed.due) == (1, 1, 1 + GAPS[1])
    placed = record(store, "ann", "a", correct=True)
    assert (placed.box, placed.due) == (2, 2 + GAPS[2])
    for _ in range(10):
        placed = record(store, "ann", "a", correct=True)
    assert placed.box == BOXES
    placed = record(store, "ann", "a", correct=False)
    assert placed.box == 1
    assert record(store, "ann", "b", correct=True).box == 2  # known at first sight: box 2
    assert store.boxes("ann") == {1: 1, 2: 1, 3: 0, 4: 0, 5: 0}


def test_a_missed_item_is_due_after_its_gap_and_only_for_its_learner(tmp_path):
    store = PracticeStore(tmp_path / "p.sqlite")
    record(store, "ann", "missed", correct=False)
    assert store.due("ann") is None
    for i in range(GAPS[1] - 1):
        record(store, "ann", f"other{i}", correct=True)
        assert store.due("ann") is None
    record(store, "ann", "last", correct=True)
    assert store.due("ann") == {"key": "missed", "kind": "shape"}
    assert store.due("ann", kinds=["macs"]) is None
    assert store.due("ann", models=["generated"]) is None
    assert store.due("bob") is None and store.turn("bob") == 0
    record(store, "ann", "missed", correct=True)
    assert store.due("ann") is None


def test_summary_per_kind(tmp_path):
    store = PracticeStore(tmp_path / "p.sqlite")
    record(store, "ann", "a", True, kind="shape")
    record(store, "ann", "b", False, kind="shape")
    record(store, "ann", "c", True, kind="rf")
    record(store, "bob", "c", False, kind="rf")
    by_kind = {s.kind: s for s in store.summary("ann")}
    assert (by_kind["shape"].answered, by_kind["shape"].correct, by_kind["shape"].missed_now) == (2, 1, 1)
    assert by_kind["shape"].share == 0.5
    assert (by_kind["rf"].answered, by_kind["rf"].correct, by_kind["rf"].items) == (1, 1, 1)
    assert [s.kind for s in store.summary("bob")] == ["rf"]
