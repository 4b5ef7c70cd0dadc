"""A class on one server: runs that belong to whoever started them, a store of the first schema migrated without
losing a row, and the limits a teacher sets refusing a run with their sentence (in both languages)."""

from __future__ import annotations

import getpass
import json
import sqlite3

import pytest

from explorer.i18n import render, use_language
from explorer.runtime import jobs, runs
from explorer.runtime.limits import BadSetting, ClassLimits, LimitReached
from explorer.runtime.train import Recipe

# The store's schema before runs had owners (schema version 1; such files read user_version 0), as it was shipped.
FIRST_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, model TEXT NOT NULL, recipe TEXT NOT NULL, train_limit INTEGER, device TEXT NOT NULL,
    world_size INTEGER NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT,
    pid INTEGER, host TEXT, heartbeat REAL, info TEXT, error TEXT
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


@pytest.fixture(autouse=True)
def explorer_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    return home


def _dump(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 — fixed names
                for t in ("runs", "epochs", "line", "lease")}


def test_a_store_of_the_first_schema_is_migrated_and_loses_nothing(explorer_home):
    explorer_home.mkdir()
    path = explorer_home / "runs.sqlite"
    recipe = json.dumps({"epochs": 2, "lr": 0.9})
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_SCHEMA)
        db.execute("INSERT INTO runs VALUES ('r1', 'lenet', ?, 300, 'cpu', 1, 'done', '2026-11-01T10:00:00Z', "
                   "'2026-11-01T10:01:00Z', 11, 'h', 1.5, '{\"lr\": 0.9}', NULL)", (recipe,))
        db.execute("INSERT INTO runs VALUES ('r2', 'nin', ?, NULL, 'cpu', 2, 'interrupted', '2026-11-02T10:00:00Z', "
                   "NULL, 12, 'h', 2.5, NULL, 'the process running it stopped')", (recipe,))
        db.execute("INSERT INTO epochs VALUES ('r1', 1, 2.1, 0.2, 0.3, 900.0, 4.0, '/w/r1/epoch-001.safetensors')")
        db.execute("INSERT INTO epochs VALUES ('r1', 2, 1.1, 0.6, 0.7, 950.0, 3.9, '/w/r1/epoch-002.safetensors')")
        db.execute("INSERT INTO line (run, pid, host, heartbeat) VALUES ('r2', 12, 'h', 2.5)")
        db.execute("INSERT INTO lease VALUES (1, 'r1', 11, 'h', 1.5, 1.0)")
    before = _dump(path)

    store = runs.Store()

    after = _dump(path)
    assert after["runs"] == [row + (None, None, None) for row in before["runs"]]  # every value; no owner, code, queue
    assert {t: after[t] for t in ("epochs", "line", "lease")} == {t: before[t] for t in ("epochs", "line", "lease")}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == runs.RUNS_SCHEMA_VERSION == 3
    assert store.get("r1")["owner"] is None and store.owners() == {"r1": None, "r2": None}
    assert [r["run"] for r in store.list()] == ["r2", "r1"]
    assert store.show("r1")["recipe"]["lr"] == 0.9
    new = store.create("lenet", Recipe(epochs=1), owner="learner:abc")
    assert store.get(new)["owner"] == "learner:abc"
    runs.Store()  # opening it again changes nothing
    assert [r for r in _dump(path)["runs"] if r[0] in ("r1", "r2")] == after["runs"]
    # An old run has no owner: no learner may stop it; the teacher may.
    assert not jobs.may_control(None, "learner:abc") and jobs.may_control(None, "learner:abc", teacher=True)


def test_a_store_of_a_newer_schema_is_refused_untouched(explorer_home):
    runs.Store()
    path = explorer_home / "runs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(runs.NewerStore, match="has schema version 7, newer than this version of CNN Explorer knows"):
        runs.Store()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 7


def test_a_cli_run_belongs_to_the_shell_user_a_page_run_to_its_learner():
    store = runs.Store()
    cli = store.create("lenet", Recipe())
    page = store.create("lenet", Recipe(), owner="learner:0123456789ab")
    assert store.get(cli)["owner"] == runs.shell_owner() == f"user:{getpass.getuser()}"
    assert store.owners() == {cli: runs.shell_owner(), page: "learner:0123456789ab"}
    assert store.active("learner:0123456789ab") == [page] and store.active() == [cli, page]
    store.finish(page, "stopped")
    assert store.active("learner:0123456789ab") == [] and store.active() == [cli]


def test_only_the_owner_or_the_teacher_may_stop_a_run():
    manager = jobs.JobManager()
    store = runs.Store()
    run = store.create("lenet", Recipe(), owner="learner:a")
    job = jobs.Job(run, "lenet", Recipe(), "cpu", None, owner="learner:a", status="running")
    manager._jobs[run] = job  # a running job, without training anything
    with pytest.raises(jobs.NotYours, match=f"run {run} belongs to another learner: only they or the teacher"):
        manager.stop(run, by="learner:b")
    assert not job.stop.is_set()
    with use_language("zh"):
        with pytest.raises(PermissionError) as info:
            manager.stop(run, by="learner:b")
        assert render(info.value) == f"运行 {run} 属于另一位学习者：只有该学习者或教师可以停止或继续它"
    manager.stop(run, by="learner:b", teacher=True)
    assert job.stop.is_set()
    job.stop.clear()
    manager.stop(run, by="learner:a")
    assert job.stop.is_set()
    store.finish(run, "stopped")
    with pytest.raises(jobs.NotYours):
        manager.resume(run, by="learner:b")


# --- the limits -------------------------------------------------------------------------------------------------
def test_the_limits_default_and_load_from_settings():
    assert ClassLimits.load({}) == ClassLimits(runs_per_learner=1, queue=20, run_minutes=30.0)
    assert ClassLimits.load({"EXPLORER_MAX_RUNS_PER_LEARNER": "2", "EXPLORER_MAX_QUEUE": 5,
                        "EXPLORER_MAX_RUN_MINUTES": "7.5"}) == ClassLimits(2, 5, 7.5)
    with pytest.raises(BadSetting, match=r"the setting EXPLORER_MAX_QUEUE must be a whole number of at least 1, "
                                         r"not '0'"):
        ClassLimits.load({"EXPLORER_MAX_QUEUE": "0"})
    with pytest.raises(BadSetting, match="must be a positive number of minutes, not 'soon'"):
        ClassLimits.load({"EXPLORER_MAX_RUN_MINUTES": "soon"})
    with use_language("zh"), pytest.raises(ValueError) as info:
        ClassLimits.load({"EXPLORER_MAX_RUNS_PER_LEARNER": "1.5"})
    with use_language("zh"):
        assert render(info.value) == "设置 EXPLORER_MAX_RUNS_PER_LEARNER 必须是不小于 1 的整数，而不是 '1.5'"


LIMITS = ClassLimits(runs_per_learner=1, queue=3, run_minutes=30)


@pytest.mark.parametrize(("mine", "queued", "estimate", "english", "chinese"), [
    (1, 1, 60.0,
     "you already have as many runs queued or running as a learner may have on this server (1): stop one of yours "
     "or wait for it to end, then start this one",
     "你排队或正在训练的运行已达到本服务器每位学习者的上限（1 个）：请停止你的一个运行或等它结束，再开始这个运行"),
    (0, 3, 60.0,
     "the training queue of this server is full (3 runs queued or running, the limit is 3): try again when some of "
     "them have ended",
     "本服务器的训练队列已满（3 个运行在排队或训练中，上限为 3）：请等其中一些结束后再试"),
    (0, 2, 30 * 60 + 1,
     "this run is estimated at 31 min on this device, longer than the 30 min a learner may start here: choose "
     "fewer epochs or fewer training images",
     "这个运行在本设备上估计需要 31 分钟，超过了学习者在这里可以开始的 30 分钟：请减少迭代周期数或训练图像数"),
])
def test_each_limit_refuses_with_its_sentence(mine, queued, estimate, english, chinese):
    with pytest.raises(LimitReached) as info:
        LIMITS.check(mine=mine, queued=queued, estimate_s=estimate)
    assert str(info.value) == english
    with use_language("zh"):
        assert render(info.value) == chinese


def test_within_the_limits_a_run_passes():
    LIMITS.check(mine=0, queued=2, estimate_s=30 * 60)
    LIMITS.check(mine=0, queued=0, estimate_s=None)


def test_the_job_manager_refuses_a_second_run_of_a_learner_before_recording_it():
    store = runs.Store()
    store.create("lenet", Recipe(), owner="learner:a")  # queued: the learner's one run
    manager = jobs.JobManager()
    with pytest.raises(LimitReached, match="you already have as many runs queued or running"):
        manager.submit("lenet", Recipe(epochs=1), "cpu", 100, owner="learner:a", limits=ClassLimits(), estimate_s=5)
    assert len(store.list()) == 1 and manager.current() is None
    with pytest.raises(LimitReached, match="the training queue of this server is full"):
        manager.submit("lenet", Recipe(epochs=1), "cpu", 100, owner="learner:b", limits=ClassLimits(queue=1),
                       estimate_s=5)
    with pytest.raises(LimitReached, match="this run is estimated at 2 min"):
        manager.submit("lenet", Recipe(epochs=1), "cpu", 100, owner="learner:b", limits=ClassLimits(run_minutes=1),
                       estimate_s=61)
    assert len(store.list()) == 1
