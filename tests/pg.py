"""A throwaway PostgreSQL server for tests: :func:`start_cluster` makes a cluster in a new folder (``initdb`` with
trust authentication, no fsync), starts it on a free port of 127.0.0.1 (``pg_ctl``), and gives back a
:class:`Cluster` whose :meth:`Cluster.database` creates an empty database and returns its bare ``postgresql://`` URL.

``initdb`` refuses to run as root: a root test process runs the server's programs as the ``postgres`` user (Debian's
``postgresql`` package makes it; ``make test`` installs the package), in a folder that user owns. The server's
programs are looked up on PATH, then under Debian's ``/usr/lib/postgresql/<version>/bin``.

The pytest fixture :func:`postgres` starts one cluster per test process (each pytest-xdist worker has its own) and
stops it at the end; ask for it by name after ``from tests.pg import postgres``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVER_USER = "postgres"  # who runs the server when the tests run as root


def bin_dir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``; a missing PostgreSQL fails, saying what to install."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not versions:
        pytest.fail("PostgreSQL is a test dependency (make test installs Debian's postgresql): no initdb on PATH or "
                    "under /usr/lib/postgresql/*/bin", pytrace=False)
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{name}"

    def database(self, name: str | None = None) -> str:
        """A new empty database (named ``name``, else a fresh name); its bare ``postgresql://`` URL."""
        import psycopg

        name = name or f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(parent: Path | str | None = None) -> Cluster:
    """A new PostgreSQL cluster in a new folder under ``parent`` (default: the system's temp folder; as root, the
    ``postgres`` user must be able to reach it), started on a free port; stop it with :meth:`Cluster.stop`."""
    bin_ = bin_dir()
    folder = Path(tempfile.mkdtemp(prefix="explorer-pg-", dir=parent))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER, SERVER_USER)
        as_user = ["runuser", "-u", SERVER_USER, "--"]
    data, sockets = folder / "data", folder / "sockets"
    run = dict(capture_output=True, text=True, timeout=120, cwd=folder)
    made = subprocess.run([*as_user, str(bin_ / "initdb"), "-D", str(data), "-U", SERVER_USER, "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C"], **run)
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed: {made.stderr.strip()}")
    subprocess.run([*as_user, "mkdir", "-p", str(sockets)], check=True, **run)
    for _ in range(3):  # a port found free can be taken before the server binds it: try another
        port = _free_port()
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=100")
        started = subprocess.run([*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                                  str(folder / "server.log"), "-w", "-t", "60", "start"], **run)
        if started.returncode == 0:
            return Cluster(folder, port, bin_, as_user)
    log = (folder / "server.log").read_text(errors="replace")[-2000:] if (folder / "server.log").exists() else ""
    raise RuntimeError(f"pg_ctl could not start the server: {started.stderr.strip()} {log}")


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL cluster for this test process; ``postgres.database()`` gives a test its own database."""
    cluster = start_cluster()
    yield cluster
    cluster.stop()
