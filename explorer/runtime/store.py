"""The run store's database: where it is (``EXPLORER_STORE_URL``), its tables, their schema version and migrations,
and the transactions every other module of the store uses (SQLAlchemy Core).

``EXPLORER_STORE_URL`` names the database: by default ``sqlite:///$EXPLORER_HOME/runs.sqlite`` (one file, WAL mode:
nothing to install, ``make run`` needs no server), or ``postgresql://user@host:port/db`` for a store that several
machines share (a bare ``postgresql://`` URL is given the driver shipped with the app, psycopg 3; the tables live in
the ``public`` schema). Checkpoints are files under ``EXPLORER_ARTIFACTS`` (default ``$EXPLORER_HOME/runs``), not in
the database: :func:`artifacts_root`.

The schema has a version, :data:`RUNS_SCHEMA_VERSION`. SQLite keeps it in the file's header (``PRAGMA
user_version``, where older versions of CNN Explorer read it); PostgreSQL in the one-row table
``explorer_schema``. Opening a store of an older version migrates it in place, in one transaction, only adding
(:data:`MIGRATIONS`); a store of a newer version is refused untouched (:class:`NewerStore`).

Transactions: :func:`reading` and :func:`writing`. On SQLite a write transaction takes the file's write lock from its
first statement (``BEGIN IMMEDIATE``): a read-then-write never races another process. On PostgreSQL the modules that
decide between racing processes lock rows (``SELECT … FOR UPDATE``, ``SKIP LOCKED`` for the workers' queue).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from ..i18n import N_, ExplorerError, InvalidValue

# 1: the first schema (its files read user_version 0); 2: runs.owner; 3: runs.code, runs.queue, the workers table
RUNS_SCHEMA_VERSION = 3
STALE_S = 600  # a heartbeat older than this means a run's process is gone (another host, a reused pid)
BEAT_S = 2.0  # seconds between heartbeats
WORKER_STALE_S = 30.0  # a worker (its own heartbeat thread beats every BEAT_S) silent this long is gone
URL_ENV, ARTIFACTS_ENV = "EXPLORER_STORE_URL", "EXPLORER_ARTIFACTS"

metadata = MetaData()
runs = Table(
    "runs", metadata,
    Column("id", Text, primary_key=True), Column("model", Text, nullable=False),
    Column("recipe", Text, nullable=False), Column("train_limit", Integer), Column("device", Text, nullable=False),
    Column("world_size", Integer, nullable=False), Column("status", Text, nullable=False),
    Column("started", Text, nullable=False), Column("finished", Text), Column("pid", Integer), Column("host", Text),
    Column("heartbeat", Float), Column("info", Text), Column("error", Text),
    Column("owner", Text),  # 2: who started it (user:<name>, learner:<id>); empty for runs recorded before
    Column("code", Text),  # 3: the playground code of a code model's run
    Column("queue", Text),  # 3: "workers" for a run handed to the workers (python -m explorer worker)
)
epochs = Table(
    "epochs", metadata,
    Column("run", Text, primary_key=True), Column("epoch", Integer, primary_key=True), Column("loss", Float),
    Column("train_acc", Float), Column("test_acc", Float), Column("samples_per_s", Float), Column("seconds", Float),
    Column("weights", Text, nullable=False),  # under the artifact root (absolute in stores of before version 3)
)
line = Table(
    "line", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True), Column("run", Text, nullable=False, unique=True),
    Column("pid", Integer), Column("host", Text), Column("heartbeat", Float),
    sqlite_autoincrement=True,
)
lease = Table(
    "lease", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False), Column("run", Text, nullable=False),
    Column("pid", Integer), Column("host", Text), Column("heartbeat", Float), Column("since", Float),
)
workers = Table(  # 3: the workers (python -m explorer worker) and their heartbeats
    "workers", metadata,
    Column("id", Text, primary_key=True), Column("host", Text, nullable=False), Column("pid", Integer, nullable=False),
    Column("device", Text, nullable=False), Column("nproc", Integer, nullable=False), Column("started", Float),
    Column("heartbeat", Float), Column("run", Text),
)


class NewerStore(ExplorerError, RuntimeError):
    """The store was written by a newer version of CNN Explorer (a schema this one does not know)."""


class BadStoreURL(InvalidValue):
    """``EXPLORER_STORE_URL`` is not a SQLite or PostgreSQL URL (a ``ValueError``)."""


class StoreUnreachable(InvalidValue):
    """The store's database cannot be reached (a server down, a wrong host or database, a file that cannot be
    opened): a ``ValueError``, so that the CLI says it in one line."""


DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg")  # what the app ships


def home() -> Path:
    """``$EXPLORER_HOME``, else ``~/.cache/cnn-explorer``."""
    return Path(os.environ.get("EXPLORER_HOME") or Path.home() / ".cache" / "cnn-explorer")


def store_url(root: Path | None = None) -> URL:
    """The store's URL: ``$EXPLORER_STORE_URL``, else the SQLite file ``runs.sqlite`` in ``root`` (default
    :func:`home`). A bare ``postgresql://`` (or ``postgres://``) URL gets the shipped driver, psycopg 3."""
    given = os.environ.get(URL_ENV)
    if not given:
        return URL.create("sqlite", database=str((root or home()) / "runs.sqlite"))
    try:
        url = make_url(given)
    except ArgumentError:
        url = None
    if url is None or url.drivername not in DRIVERS or not url.database:
        raise BadStoreURL(N_("{name} must be a sqlite:///FILE or postgresql://USER@HOST:PORT/DB URL, not {value}"),
                          name=URL_ENV, value=repr(given))
    if url.get_backend_name() == "postgres" or url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def artifacts_root(root: Path | None = None) -> Path:
    """Where run folders (weights, resume state, progress, stop flag) live: ``$EXPLORER_ARTIFACTS``, else ``runs``
    in ``root`` (default :func:`home`)."""
    given = os.environ.get(ARTIFACTS_ENV)
    return Path(given) if given else (root or home()) / "runs"


def display_url(url: URL) -> str:
    """The store for people: the SQLite file's path, else the URL without its password."""
    return url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)


_ENGINES: dict[tuple[str, int], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine(url: URL) -> Engine:
    """The engine of ``url`` in this process (made once; a forked child makes its own)."""
    key = (url.render_as_string(hide_password=False), os.getpid())
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = _make_engine(url)
        return _ENGINES[key]


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # A connection per use, as sqlite3 is meant to be used: nothing held open between calls (stores come and go
        # with their folders), safe from any thread.
        made = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(made, "connect")
        def _connect(dbapi, record) -> None:
            dbapi.isolation_level = None  # the transactions below are begun by us, not by the driver

        @event.listens_for(made, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")

        return made
    return create_engine(url, pool_pre_ping=True, execution_options={"schema_translate_map": {None: "public"}})


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


@contextmanager
def reading(eng: Engine) -> Iterator[Connection]:
    """A read transaction."""
    with eng.connect() as conn, conn.begin():
        yield conn


@contextmanager
def writing(eng: Engine) -> Iterator[Connection]:
    """A write transaction: committed when the body returns, rolled back on an exception; on SQLite it holds the
    write lock from its first statement."""
    with eng.connect().execution_options(immediate=True) as conn, conn.begin():
        yield conn


# --- schema versions ---------------------------------------------------------------------------------------------
def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table, schema=None if is_sqlite(conn) else "public")}


def _add_columns(*names: str) -> Callable[[Connection], None]:
    """A migration that adds ``runs`` columns (empty for the rows already there) unless they are there."""
    def step(conn: Connection) -> None:
        have = _columns(conn, "runs")
        for name in names:
            if name not in have:
                conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {name} TEXT")
    return step


# version → the step that brings a store of the version before it there (new tables are made by create_all)
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _add_columns("owner"), 3: _add_columns("code", "queue")}


def version(conn: Connection) -> int:
    """The store's schema version (0: a new, empty database, or a SQLite file of the first schema)."""
    if is_sqlite(conn):
        return conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    if conn.exec_driver_sql("SELECT to_regclass('public.explorer_schema')").scalar() is None:
        return 0
    return conn.exec_driver_sql("SELECT version FROM public.explorer_schema").scalar() or 0


def _set_version(conn: Connection, value: int) -> None:
    if is_sqlite(conn):
        conn.exec_driver_sql(f"PRAGMA user_version = {int(value)}")
        return
    conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS public.explorer_schema (version INTEGER NOT NULL)")
    conn.exec_driver_sql("DELETE FROM public.explorer_schema")
    conn.execute(text("INSERT INTO public.explorer_schema (version) VALUES (:v)"), {"v": value})


def _refuse_newer(found: int, where: str) -> None:
    if found > RUNS_SCHEMA_VERSION:
        raise NewerStore(N_("the run store {path} has schema version {found}, newer than this version of CNN "
                            "Explorer knows ({known}): upgrade it, or set EXPLORER_HOME to another folder"),
                         path=where, found=found, known=RUNS_SCHEMA_VERSION)


def migrate(conn: Connection, where: str) -> int:
    """Bring the store (inside a write transaction) to :data:`RUNS_SCHEMA_VERSION`: create the tables a new store lacks,
    then run each migration after the store's version (each only adds: columns empty for the rows already there);
    the version it had. A store of a newer version raises :class:`NewerStore` and is left as it was."""
    found = version(conn)
    _refuse_newer(found, where)
    if found == RUNS_SCHEMA_VERSION:
        return found
    existing = set(inspect(conn).get_table_names(schema=None if is_sqlite(conn) else "public"))
    metadata.create_all(conn, checkfirst=True)
    if "runs" in existing:  # an older store: its tables get what later versions added
        for target, step in sorted(MIGRATIONS.items()):
            if target > found:
                step(conn)
    if not is_sqlite(conn) and "seq" not in _columns(conn, "runs"):
        conn.exec_driver_sql("ALTER TABLE runs ADD COLUMN seq BIGSERIAL")  # creation order (SQLite: its rowid)
    _set_version(conn, RUNS_SCHEMA_VERSION)
    return found


def open_engine(url: URL) -> Engine:
    """The engine of the store at ``url``, its schema brought to :data:`RUNS_SCHEMA_VERSION` (one process migrates, the
    others wait for it and find it done)."""
    eng = engine(url)
    where = display_url(url)
    try:
        _prepare(eng, where)
    except OperationalError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreUnreachable(N_("the run store {path} cannot be reached: {reason}"), path=where,
                               reason=reason) from None
    return eng


def _prepare(eng: Engine, where: str) -> None:
    """WAL for a SQLite file, then the schema: checked, and migrated by one process when older."""
    if is_sqlite(eng):
        raw = eng.raw_connection()  # outside any transaction (the pragma refuses to run inside one)
        try:
            raw.driver_connection.execute("PRAGMA journal_mode=WAL")
        finally:
            raw.close()
    with reading(eng) as conn:
        found = version(conn)
    _refuse_newer(found, where)
    if found != RUNS_SCHEMA_VERSION:
        with writing(eng) as conn:
            if not is_sqlite(conn):  # two processes opening a new database: the second waits for the first
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242023)")
            migrate(conn, where)


def order_key(conn: Connection):
    """The column that orders runs by creation (SQLite's rowid; PostgreSQL's ``seq``)."""
    return literal_column("runs.rowid" if is_sqlite(conn) else "runs.seq")


# --- who is still there ------------------------------------------------------------------------------------------
def alive(pid: int | None) -> bool:
    """Whether process ``pid`` exists on this host."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def present(row, now: float | None = None, stale_s: float = STALE_S) -> bool:
    """Whether the process owning a row (``pid``, ``host``, ``heartbeat``) is still there: a live pid on this host
    with a heartbeat younger than ``stale_s``, or on another host (sharing the store) a heartbeat that young."""
    now = time.time() if now is None else now
    fresh = now - (row["heartbeat"] or 0) <= stale_s
    return (fresh and alive(row["pid"])) if row["host"] == socket.gethostname() else fresh


def insert(conn: Connection, table: Table):
    """An INSERT of the connection's dialect (for ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (sqlite.insert if is_sqlite(conn) else postgresql.insert)(table)


def rows(result) -> list[dict]:
    """A result's rows as dicts."""
    return [dict(r._mapping) for r in result]


def dispose(url: URL | str) -> None:
    """Close this process's pooled connections to ``url`` (a database about to be dropped, a test's end)."""
    rendered = make_url(url).render_as_string(hide_password=False) if isinstance(url, str) else \
        url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        for key in [k for k in _ENGINES if k[0] == rendered]:
            _ENGINES.pop(key).dispose()
