"""A class on one machine, the way it runs on many: a PostgreSQL run store, N Streamlit replicas, a training worker and
nginx in front, each browser kept on one replica (``deploy/nginx.conf.template``).

    python scripts/serve_class.py --replicas 2          # or: make serve-class REPLICAS=2
    python scripts/serve_class.py --replicas 3 --port 8600 --host 0.0.0.0
    python scripts/serve_class.py --nginx-config 10.0.0.11:8501 --nginx-config 10.0.0.12:8501 --host 0.0.0.0 --port 80

Everything lives under ``$EXPLORER_HOME/serve-class/``: the PostgreSQL cluster (``postgres/``, created on the first
start and kept; run as root, it lives in the ``postgres`` user's home instead, since PostgreSQL refuses to run as
root), the rendered nginx folder (``nginx/``: config, logs), each process's log (``logs/``), and the secrets every
replica must share (``cookie-secret``; ``admin-token`` when ``$EXPLORER_ADMIN_TOKEN`` is not set). The replicas listen
on 127.0.0.1 at the ports after nginx's (8501, 8502, … for the default 8500). Ctrl-C stops them all. docs/deploy.md
says how to spread the same pieces over several machines.

The same pieces are a library for the tests and the load run: :class:`ClassServers` starts them (PostgreSQL
optional: without it the replicas share one SQLite store in ``$EXPLORER_HOME``) and stops them.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "deploy" / "nginx.conf.template"
STREAMLIT_CONFIG = REPO / ".streamlit" / "config.toml"
ROUTE_COOKIE = "explorer_route"
PROBE_ROUTE = "route-"  # routes() asks nginx with route-0, route-1, …
MULTIPART_ROOM_MIB = 1  # the form around an uploaded file: boundaries and part headers, far under 1 MiB


def explorer_home() -> Path:
    """``$EXPLORER_HOME``, else ``~/.cache/cnn-explorer`` (the app's default)."""
    return Path(os.environ.get("EXPLORER_HOME") or Path.home() / ".cache" / "cnn-explorer")


def upload_limit_mib(config: Path = STREAMLIT_CONFIG) -> int:
    """Streamlit's largest upload (``server.maxUploadSize``, MiB; Streamlit's default 200 when the config has none)."""
    return int(tomllib.loads(config.read_text(encoding="utf-8")).get("server", {}).get("maxUploadSize", 200))


def nginx_conf(listen: str, replicas: list[str], max_body_mib: int | None = None, *,
               as_root: bool | None = None) -> str:
    """``deploy/nginx.conf.template`` for nginx listening on ``listen`` (``PORT`` or ``HOST:PORT``) in front of the
    ``replicas`` (``HOST:PORT`` each). ``max_body_mib``: the largest request body, by default Streamlit's upload
    limit plus room for the multipart form. Run by root, nginx's worker processes stay root: its temp folders are
    inside its own folder, which only root may reach (otherwise they would run as ``nobody``)."""
    if not replicas:
        raise ValueError("nginx needs at least one replica")
    if max_body_mib is None:
        max_body_mib = upload_limit_mib() + MULTIPART_ROOM_MIB
    if as_root is None:
        as_root = os.geteuid() == 0
    servers = "\n".join(f"        server {r} max_fails=3 fail_timeout=10s;" for r in replicas)
    user = "user root;  # started by root: see scripts/serve_class.py" if as_root else ""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in (("@USER@", user), ("@SERVERS@", servers), ("@LISTEN@", listen),
                        ("@MAX_BODY@", f"{max_body_mib}m")):
        assert name in text, f"{name} missing from {TEMPLATE}"
        text = text.replace(name, value)
    return text


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], what: str, proc: subprocess.Popen | None = None, log: Path | None = None,
             timeout: float = 120) -> None:
    """Poll ``check`` until it is true; fail with ``what`` (and the end of ``log``) when ``proc`` exits or time is
    up."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}{_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} is not ready after {timeout:.0f} s{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    return ":\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def _listens(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop ``proc``'s process group (it was started in a session of its own): ``sig``, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _start(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:  # this start's log only (what is waited for is looked for in it)
        return subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})})


# --- PostgreSQL ---------------------------------------------------------------------------------------------------
def pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else Debian's versioned folder (the newest)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise RuntimeError(f"{name} not found: install Debian's postgresql package (scripts/system-deps.sh postgresql)")


class Postgres:
    """A PostgreSQL cluster of its own in ``folder`` (``initdb`` on the first start, trust authentication on the
    loopback only: a try-out, not a production database), listening on 127.0.0.1:``port``; ``url`` once started.
    Run by root, the cluster belongs to the ``postgres`` user and its programs run as that user."""

    def __init__(self, folder: Path, port: int | None = None, database: str = "explorer") -> None:
        self.folder = folder
        self.port = port or free_port()
        self.database = database
        self.as_user = "postgres" if os.geteuid() == 0 else None
        self.user = self.as_user or pwd.getpwuid(os.geteuid()).pw_name
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"
        self.log = folder / "server.log"

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess:
        if self.as_user:
            argv = ["runuser", "-u", self.as_user, "--", *argv]
        # a session of its own: the server pg_ctl leaves running is not in the terminal's process group, so Ctrl-C
        # reaches this script only, which stops PostgreSQL last
        return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self) -> Postgres:
        data = self.folder / "data"
        if not (data / "PG_VERSION").exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.as_user:
                shutil.chown(self.folder, self.as_user, self.as_user)
            done = self._run([pg_bin("initdb"), "-D", str(data), "--auth=trust", "--encoding=UTF8", "--no-sync",
                              "-U", self.user])
            if done.returncode:
                raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        done = self._run([pg_bin("pg_ctl"), "-D", str(data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                          "start"])
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}{_tail(self.log)}")
        exists = self._run([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d",
                            "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"])
        if exists.stdout.strip() != "1":
            made = self._run([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                              self.database])
            if made.returncode:
                raise RuntimeError(f"createdb failed: {made.stderr.strip()}")
        return self

    def stop(self) -> None:
        self._run([pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"])


def default_pg_folder(home: Path) -> Path:
    """Where the try-out's cluster lives: under ``home``, or for root (PostgreSQL refuses to run as root, and the
    ``postgres`` user may not reach root's home) in the ``postgres`` user's home, one cluster per ``home``."""
    if os.geteuid() != 0:
        return home / "serve-class" / "postgres"
    import hashlib

    tag = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]
    return Path(pwd.getpwnam("postgres").pw_dir) / f"cnn-explorer-{tag}"


# --- the replicas, the worker, nginx ------------------------------------------------------------------------------
def _secret(path: Path) -> str:
    """A secret kept in ``path`` (made on first use, readable by its owner only): the same for every replica."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


class ClassServers:
    """The pieces of :func:`main`, started by :meth:`start` and stopped by :meth:`stop` (also as a context manager):
    ``replicas`` Streamlit servers on 127.0.0.1 (``replica_urls``), nginx on ``host:port`` in front (``url``), with
    ``postgres`` a PostgreSQL run store (else the replicas share the SQLite store of ``home``), with ``worker`` one
    ``python -m explorer worker``; ``store_url``: a run store that is already there instead. ``env``: more
    environment for the replicas and the worker."""

    def __init__(self, home: Path, replicas: int = 2, port: int | None = None, host: str = "127.0.0.1", *,
                 postgres: bool = True, pg_folder: Path | None = None, store_url: str | None = None,
                 worker: bool = True, env: dict[str, str] | None = None,
                 replica_ports: list[int] | None = None) -> None:
        if replicas < 1:
            raise ValueError("at least one replica")
        self.home = home
        self.folder = home / "serve-class"
        self.host, self.port = host, port or free_port(host)
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{self.port}"
        self.replica_ports = replica_ports or [self.port + 1 + k for k in range(replicas)]
        self.replica_urls = [f"http://127.0.0.1:{p}" for p in self.replica_ports]
        self.external_store = store_url  # a store that is already there (the tests' PostgreSQL): none started
        self.postgres = Postgres(pg_folder or default_pg_folder(home)) if postgres and not store_url else None
        self.with_worker = worker
        self.extra_env = env or {}
        self.processes: dict[str, subprocess.Popen] = {}  # by name: "replica 1", …, "worker", "nginx"
        self.nginx_folder = self.folder / "nginx"
        self.logs = self.folder / "logs"
        self.admin_token = os.environ.get("EXPLORER_ADMIN_TOKEN") or _secret(self.folder / "admin-token")

    @property
    def store_url(self) -> str | None:
        return self.external_store or (self.postgres.url if self.postgres else None)

    def app_env(self) -> dict[str, str]:
        """What every replica and the worker share: the store, the artifact root, the teacher's token and the secret
        that signs Streamlit's cookies."""
        env = {"EXPLORER_HOME": str(self.home), "EXPLORER_ARTIFACTS": str(self.home / "runs"),
               "EXPLORER_ADMIN_TOKEN": self.admin_token,
               "STREAMLIT_SERVER_COOKIE_SECRET": _secret(self.folder / "cookie-secret"), **self.extra_env}
        if self.store_url:
            env["EXPLORER_STORE_URL"] = self.store_url
        return env

    def start(self) -> ClassServers:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        busy = [p for p in [self.port, *self.replica_ports] if _listens("127.0.0.1", p)]
        if busy:
            raise RuntimeError(f"port {busy[0]} is taken: choose another --port")
        if self.postgres:
            self.postgres.start()
        env = self.app_env()
        for k, port in enumerate(self.replica_ports, 1):
            self.processes[f"replica {k}"] = _start(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                 str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                 "--browser.gatherUsageStats", "false"], self.log(f"replica {k}"), env)
        if self.with_worker:
            self.processes["worker"] = _start([sys.executable, "-m", "explorer", "worker"], self.log("worker"), env)
        self.nginx_folder.mkdir(parents=True, exist_ok=True)
        (self.nginx_folder / "temp").mkdir(exist_ok=True)
        for old in ("access.log", "error.log"):  # the logs of this start only
            (self.nginx_folder / old).unlink(missing_ok=True)
        (self.nginx_folder / "nginx.conf").write_text(
            nginx_conf(f"{self.host}:{self.port}", [u.removeprefix("http://") for u in self.replica_urls]))
        for k, url in enumerate(self.replica_urls, 1):
            name = f"replica {k}"
            wait_for(lambda url=url: _answers_ok(f"{url}/_stcore/health"), name, self.processes[name], self.log(name))
        if self.with_worker:  # registered in the store before any learner arrives: their runs go to it
            wait_for(lambda: re.search(r"^worker \S+: ", self.log("worker").read_text(errors="replace"), re.M)
                     is not None, "worker", self.processes["worker"], self.log("worker"))
        nginx = _start([shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.nginx_folder), "-c", "nginx.conf",
                        "-e", "error.log"], self.log("nginx"))
        self.processes["nginx"] = nginx
        wait_for(lambda: _answers_ok(f"{self.url}/_stcore/health"), "nginx", nginx, self.nginx_folder / "error.log")

    @property
    def access_log(self) -> Path:
        return self.nginx_folder / "access.log"

    def routes(self) -> list[str]:
        """For each replica, a value of the route cookie that nginx sends to it (found by asking nginx, through
        ``/_stcore/health``, and reading its access log): a browser given ``routes()[k]`` is served by replica
        ``k + 1``."""
        found: dict[str, str] = {}
        wanted = {u.removeprefix("http://") for u in self.replica_urls}
        for k in range(64 * len(wanted)):
            route = f"{PROBE_ROUTE}{k}"
            cookie = {"Cookie": f"{ROUTE_COOKIE}={route}"}
            with urllib.request.urlopen(urllib.request.Request(f"{self.url}/_stcore/health", headers=cookie),
                                        timeout=10) as resp:
                resp.read()
            deadline = time.monotonic() + 5  # nginx writes the line once the answer is sent: soon after, not before
            while time.monotonic() < deadline:
                lines = [x for x in self.access_log.read_text().splitlines() if x.endswith(f" route={route}")]
                if lines:
                    found.setdefault(lines[-1].rsplit(" upstream=", 1)[1].split()[0], route)
                    break
                time.sleep(0.02)
            if wanted <= found.keys():
                return [found[u.removeprefix("http://")] for u in self.replica_urls]
        raise RuntimeError(f"nginx sent no route to {sorted(wanted - found.keys())}")

    def log(self, name: str) -> Path:
        """The log of the process ``name`` ("replica 1", "worker", "nginx")."""
        return self.logs / f"{name.replace(' ', '-')}.log"

    def stop(self) -> None:
        """nginx first (no new requests), then the worker and the replicas (all told at once, then waited for), then
        PostgreSQL."""
        if "nginx" in self.processes:
            stop_process(self.processes.pop("nginx"), signal.SIGQUIT)
        for proc in self.processes.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.processes.values():
            stop_process(proc)  # gone by now, or killed after its grace time
        self.processes.clear()
        if self.postgres:
            self.postgres.stop()

    def __enter__(self) -> ClassServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit servers behind nginx (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="nginx's port (default 8500); the replicas take the "
                                                               "ports after it")
    parser.add_argument("--host", default="127.0.0.1", help="nginx's address (0.0.0.0: every interface)")
    parser.add_argument("--no-worker", action="store_true", help="no training worker: the replicas train runs")
    parser.add_argument("--sqlite", action="store_true", help="no PostgreSQL: the replicas share the SQLite store")
    parser.add_argument("--nginx-config", metavar="HOST:PORT", action="append",
                        help="only print nginx's config for these replicas (repeat for each; e.g. on other machines), "
                             "listening on --host:--port, and start nothing")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error(f"--replicas must be at least 1, not {args.replicas}")
    if args.nginx_config:
        print(nginx_conf(f"{args.host}:{args.port}", args.nginx_config, as_root=False), end="")
        return 0
    home = explorer_home()
    servers = ClassServers(home, args.replicas, args.port, args.host, postgres=not args.sqlite,
                           worker=not args.no_worker)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a service manager's stop
        signal.signal(sig, on_signal)
    try:
        print(f"Starting {args.replicas} replicas, {'a worker, ' if servers.with_worker else ''}nginx"
              f"{' and PostgreSQL' if servers.postgres else ''} (logs in {servers.logs}) …", flush=True)
        servers.start()
        print(f"\nCNN Explorer for a class: {servers.url}\n"
              f"  teacher mode:  {servers.url}/train?teacher={servers.admin_token}\n"
              f"  replicas:      {', '.join(servers.replica_urls)}\n"
              f"  run store:     {servers.store_url or home / 'runs.sqlite'}\n"
              f"  nginx:         {servers.nginx_folder / 'nginx.conf'} (access.log: which replica served whom)\n"
              f"Ctrl-C stops them all.", flush=True)
        while True:
            for name, proc in servers.processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the others (its log: "
                          f"{servers.logs}).", file=sys.stderr)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C does not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
