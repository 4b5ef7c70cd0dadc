"""The run store behind a URL: the same store on SQLite (the default file) and on a real PostgreSQL (a bare
``postgresql://`` URL), its schema versions and migrations from the SQLite files of earlier versions, and two
processes racing for the training lease on PostgreSQL."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from sqlalchemy import text

from explorer.i18n import render, use_language
from explorer.runtime import runs
from explorer.runtime import store as db
from explorer.runtime import train as engine
from explorer.runtime.train import Recipe


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    monkeypatch.delenv(db.URL_ENV, raising=False)
    monkeypatch.delenv(db.ARTIFACTS_ENV, raising=False)
    return home


def sql(store: runs.Store, statement: str, **values) -> list[tuple]:
    """Run SQL on the store's database (as another program would); the rows of a SELECT."""
    with store.engine.begin() as conn:
        result = conn.execute(text(statement), values)
        return [tuple(r) for r in result] if result.returns_rows else []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_url_names_the_store(explorer_home, monkeypatch):
    default = runs.Store()
    assert default.path == explorer_home / "runs.sqlite" and default.where == str(explorer_home / "runs.sqlite")
    assert default.folder("r") == explorer_home / "runs" / "r"
    monkeypatch.setenv(db.URL_ENV, "postgresql://ann:secret@db.example:5433/explorer")
    url = db.store_url()
    assert (url.drivername, url.host, url.port, url.database) == ("postgresql+psycopg", "db.example", 5433, "explorer")
    assert db.display_url(url) == "postgresql+psycopg://ann:***@db.example:5433/explorer"
    monkeypatch.setenv(db.URL_ENV, "postgres://ann@h/x")
    assert db.store_url().drivername == "postgresql+psycopg"
    monkeypatch.setenv(db.URL_ENV, f"sqlite:///{explorer_home}/other.sqlite")
    assert runs.Store().path == explorer_home / "other.sqlite"
    monkeypatch.setenv(db.ARTIFACTS_ENV, str(explorer_home / "shared"))
    assert runs.Store().folder("r") == explorer_home / "shared" / "r"
    for bad in ("mysql://a@b/c", "not a url", "sqlite://", "postgresql+psycopg2://ann@h/x"):
        monkeypatch.setenv(db.URL_ENV, bad)
        with pytest.raises(ValueError, match=re.escape(f"EXPLORER_STORE_URL must be a sqlite:///FILE or "
                                                       f"postgresql://USER@HOST:PORT/DB URL, not '{bad}'")):
            runs.Store()


def test_a_store_that_cannot_be_reached_is_one_sentence(monkeypatch, capsys):
    from explorer.cli import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(db.URL_ENV, f"postgresql://ann:secret@127.0.0.1:{port}/explorer")
    assert main(["runs", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the run store postgresql+psycopg://ann:***@127.0.0.1:{port}/explorer cannot be "
                          "reached: ") and "secret" not in err and len(err.splitlines()) == 1
    with pytest.raises(ValueError) as info:
        runs.Store()
    with use_language("zh"):
        assert render(info.value).startswith("运行库 postgresql+psycopg://ann:***@")


def test_runs_are_recorded_listed_and_shown_alike(backend):
    store = runs.Store()
    assert store.list() == []
    first = store.create("lenet", Recipe(epochs=2), "cpu", 1, 100)
    second = store.create("vgg-fmnist", Recipe(), owner="learner:abc", code="net = nn.Linear(1, 1)")
    listed = store.list()
    assert [r["run"] for r in listed] == [second, first]  # newest first, also within one second
    assert listed[1] == {"run": first, "model": "lenet", "status": "queued", "test_accuracy": None,
                         "world_size": 1, "started": listed[1]["started"]}
    row = store.get(second)
    assert (row["owner"], row["code"], row["recipe"]["epochs"], row["info"]) == \
        ("learner:abc", "net = nn.Linear(1, 1)", Recipe().epochs, None)
    assert store.owners() == {first: runs.shell_owner(), second: "learner:abc"}
    assert store.active() == [first, second] and store.active("learner:abc") == [second]
    store.start(first, "cpu", 1)
    store.finish(first, "done", {"lr": 0.5}, None)
    assert store.get(first)["status"] == "done" and store.get(first)["info"] == {"lr": 0.5}
    assert store.show(second)["status"] == "queued" and store.show(second)["recipe"]["history"] == []
    with pytest.raises(KeyError, match="unknown run 'nope'"):
        store.get("nope")


def test_a_run_id_drawn_twice_in_one_second_is_drawn_again(backend, monkeypatch):
    from datetime import datetime, timezone

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 12, 1, 10, 0, 0, tzinfo=timezone.utc)

    tokens = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(runs, "datetime", Frozen)
    monkeypatch.setattr(runs.secrets, "token_hex", lambda n: next(tokens))
    store = runs.Store()
    assert [store.create("lenet", Recipe()) for _ in range(2)] == ["20261201-100000-lenet-aaaa",
                                                                    "20261201-100000-lenet-bbbb"]
    assert [r["run"] for r in store.list()] == ["20261201-100000-lenet-bbbb", "20261201-100000-lenet-aaaa"]


def test_epochs_weights_and_the_resume_state_round_trip(backend, explorer_home):
    store = runs.Store()
    run = store.create("lenet", Recipe())
    torch.manual_seed(0)
    weights = {"w": torch.randn(3, 2), "b": torch.arange(4.0)}
    for epoch, acc in ((1, 0.25), (2, 0.625)):
        entry = engine.Epoch(epoch, loss=1.0 / epoch, train_acc=0.5, test_acc=acc, samples_per_s=10.0, seconds=1.5)
        state = {"state": {0: {"momentum_buffer": torch.full((2,), float(epoch))}}, "param_groups": [{"lr": 0.1}]}
        store.add_epoch(run, entry, engine.Checkpoint(epoch, weights, state, {"last_epoch": epoch}, {"seed": 3},
                                                      [entry]))
    assert [e["epoch"] for e in store.epochs(run)] == [1, 2]
    assert store.weights(run) == explorer_home / "runs" / run / "epoch-002.safetensors"
    assert sql(store, "SELECT weights FROM epochs WHERE epoch = 2") == [(f"{run}/epoch-002.safetensors",)]
    assert store.list()[0]["test_accuracy"] == 0.625
    assert [(r["run"], r["epoch"], r["test_accuracy"]) for r in store.usable()] == [(run, 2, 0.625)]
    back = store.checkpoint(run)
    assert back.epoch == 2 and torch.equal(back.model["w"], weights["w"]) and back.scheduler == {"last_epoch": 2}
    assert torch.equal(back.optimizer["state"][0]["momentum_buffer"], torch.full((2,), 2.0))


def test_a_dead_process_run_is_interrupted_and_the_line_and_lease_are_first_come_first_served(backend):
    store = runs.Store()
    gone, a, b = (store.create("lenet", Recipe()) for _ in range(3))
    store.start(gone, "cpu", 1)
    sql(store, "UPDATE runs SET pid = :pid WHERE id = :run", pid=_dead_pid(), run=gone)
    assert store.recover() == [gone] and store.get(gone)["status"] == "interrupted"
    for run in (a, b):
        store.enter_line(run)
    assert store.line() == [a, b] and store.claim(b) is None and store.claim(a) is True
    assert store.claim(a) is False and store.holder()["run"] == a and store.position(b) == 1
    sql(store, "UPDATE lease SET host = 'elsewhere', heartbeat = :t", t=time.time() - runs.STALE_S - 1)
    assert store.holder() is None and store.claim(b) is True  # a silent holder on another machine: taken over
    store.release(b)
    assert store.holder() is None and store.line() == []


def test_the_workers_queue_is_the_runs_table(backend):
    store = runs.Store()
    a, b = store.create("lenet", Recipe()), store.create("lenet", Recipe())
    store.hand_to_workers(a)
    store.hand_to_workers(b)
    sql(store, "UPDATE runs SET heartbeat = :t", t=time.time() - runs.STALE_S - 1)
    assert store.recover() == []  # a run waiting for a worker belongs to no process
    assert store.queued_for_workers() == [a, b]
    assert store.withdraw(a) is True and store.get(a)["status"] == "stopped"
    store.start(b, "cpu", 1)  # a worker has it
    assert store.withdraw(b) is False and store.queued_for_workers() == []


def test_a_newer_store_is_refused_untouched(backend):
    store = runs.Store()
    if backend == "sqlite":
        sql(store, "PRAGMA user_version = 9")
    else:
        sql(store, "UPDATE explorer_schema SET version = 9")
    with pytest.raises(runs.NewerStore, match="has schema version 9, newer than this version of CNN Explorer knows "
                                              r"\(3\)"):
        runs.Store()
    version = "PRAGMA user_version" if backend == "sqlite" else "SELECT version FROM explorer_schema"
    assert sql(store, version) == [(9,)]


def test_postgresql_tables_live_in_public_with_the_version_row(backend):
    if backend == "sqlite":
        assert sql(runs.Store(), "PRAGMA user_version") == [(runs.RUNS_SCHEMA_VERSION,)]
        return
    store = runs.Store()
    tables = sql(store, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                        "ORDER BY table_name")
    assert [t for (t,) in tables] == ["epochs", "explorer_schema", "lease", "line", "runs", "workers"]
    assert sql(store, "SELECT version FROM explorer_schema") == [(runs.RUNS_SCHEMA_VERSION,)]


# --- migrations from the SQLite files of earlier versions -----------------------------------------------------------
OLD_TABLES = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, recipe TEXT NOT NULL, train_limit INTEGER, device TEXT NOT NULL,
    world_size INTEGER NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    pid INTEGER, host TEXT, heartbeat REAL, info TEXT, error TEXT{owner}
);
CREATE TABLE epochs (
    run TEXT NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL, loss REAL, train_acc REAL, test_acc REAL,
    samples_per_s REAL, seconds REAL, weights TEXT NOT NULL, PRIMARY KEY (run, epoch)
);
CREATE TABLE line (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL UNIQUE, pid INTEGER, host TEXT, heartbeat REAL
);
CREATE TABLE lease (
    id INTEGER PRIMARY KEY CHECK (id = 1), run TEXT NOT NULL, pid INTEGER, host TEXT, heartbeat REAL, since REAL
);
"""


def _dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 — fixed names
                for t in ("runs", "epochs", "line", "lease")}


@pytest.mark.parametrize("found", [0, 1, 2])
def test_a_sqlite_file_of_version_0_1_or_2_is_migrated_to_3_and_loses_nothing(explorer_home, found):
    """Version 1 files read user_version 0 or 1 and have no owner column; version 2 files have it."""
    explorer_home.mkdir()
    path = explorer_home / "runs.sqlite"
    owned = found == 2
    weights = explorer_home / "runs" / "r1" / "epoch-001.safetensors"
    weights.parent.mkdir(parents=True)
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(weights))
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_TABLES.format(owner=", owner TEXT" if owned else ""))
        owner = (", 'user:ann'",) if owned else ("",)
        conn.execute("INSERT INTO runs VALUES ('r1', 'lenet', ?, 300, 'cpu', 1, 'done', '2026-11-01T10:00:00Z', "
                     f"'2026-11-01T10:01:00Z', 11, 'h', 1.5, '{{\"lr\": 0.9}}', NULL{owner[0]})",
                     (json.dumps({"epochs": 1, "lr": 0.9}),))
        conn.execute(f"INSERT INTO epochs VALUES ('r1', 1, 2.1, 0.2, 0.3, 900.0, 4.0, '{weights}')")
        conn.execute("INSERT INTO line (run, pid, host, heartbeat) VALUES ('r1', 12, 'h', 2.5)")
        conn.execute("INSERT INTO lease VALUES (1, 'r1', 11, 'h', 1.5, 1.0)")
        conn.execute(f"PRAGMA user_version = {found}")
    before = _dump(path)

    store = runs.Store()

    after = _dump(path)
    added = (None, None) if owned else (None, None, None)  # owner (when it had none), code, queue: empty
    assert after["runs"] == [row + added for row in before["runs"]]
    assert {t: after[t] for t in ("epochs", "line", "lease")} == {t: before[t] for t in ("epochs", "line", "lease")}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'workers'").fetchone() == ("workers",)
    assert store.get("r1")["owner"] == ("user:ann" if owned else None) and store.get("r1")["code"] is None
    assert store.weights("r1") == weights and [r["run"] for r in store.usable()] == ["r1"]  # absolute paths kept
    runs.Store()  # opened again: nothing changes
    assert _dump(path) == after


RACE = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    from explorer.runtime import lease
    from explorer.runtime import store as db
    engine = db.open_engine(db.store_url())
    print("ready", flush=True)
    for round in range(int(sys.argv[3])):
        go = Path(sys.argv[2]) / f"go-{round}"
        while not go.exists():
            time.sleep(0.001)
        print(lease.claim(engine, sys.argv[1]), flush=True)
""")


@pytest.mark.slow
def test_two_processes_racing_for_the_lease_on_postgresql_exactly_one_wins(postgres, monkeypatch, tmp_path,
                                                                           repo_root):
    monkeypatch.setenv(db.URL_ENV, postgres.database())
    store = runs.Store()
    rounds = 6
    ids = [store.create("lenet", Recipe()) for _ in range(2)]
    children = [subprocess.Popen([sys.executable, "-c", RACE, run, str(tmp_path), str(rounds)], cwd=repo_root,
                                 stdout=subprocess.PIPE, text=True) for run in ids]
    try:
        assert [child.stdout.readline().strip() for child in children] == ["ready", "ready"]
        for round in range(rounds):
            (tmp_path / f"go-{round}").touch()  # both spin on this file, then claim at once
            said = [child.stdout.readline().strip() for child in children]
            assert sorted(said) == ["None", "True"], said
            winner = ids[said.index("True")]
            assert store.holder()["run"] == winner and sql(store, "SELECT run FROM lease") == [(winner,)]
            store.release(winner)
    finally:
        for child in children:
            child.kill()
            child.wait()
    db.dispose(store.url)
