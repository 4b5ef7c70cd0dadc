"""What a class costs the server: cold start, CPU-ms per page view, memory with a run going, and a class's load.

Each measurement runs ``streamlit run app.py`` of its own (a tmp ``$EXPLORER_HOME``) and drives headless Chromium:

* **cold start** — from starting the server to Home drawn in a fresh browser (the script idle, every card's picture
  loaded); Chromium is started beforehand, so its own start is not counted. ``--repeats`` times, the median.
* **CPU per page view** — every page of ``app.py`` visited once (warm: its caches filled), then ``--views`` more
  times, each visit a new session (a new page load); the server process's CPU time (user + system, all its threads,
  from ``/proc``) over those visits divided by their number.
* **RSS with a run going** — the server's resident memory idle, then its peak while the Train page trains LeNet on
  2,000 images for one epoch.
* **a class** — on a server whose Home was drawn once (started before the class), ``--sessions`` browsers at once
  (default 30), each a new learner walking Home → Architecture
  (AlexNet) → Compare → Receptive field → Train; the time from navigation until the page is idle, per step (p50 and
  p95), the errors (a timeout, an exception drawn on the page), the server's peak RSS and CPU.
* **a class over replicas** — the same class through nginx in front of ``--replicas`` servers (default 2) sharing a
  PostgreSQL run store (scripts/serve_class.py, deploy/nginx.conf.template), each replica's Home drawn once before:
  the same figures, with each replica's peak RSS, CPU and number of learners.

    python scripts/class_load.py                 # all four (several minutes on 2 cores)
    python scripts/class_load.py --only cold     # cold start | pages | rss | class | replicas
    python scripts/class_load.py --only replicas --replicas 3
    python scripts/class_load.py --json out.json

Linux only (``/proc``). Where the machine is shared the figures move with the load: the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = REPO  # the checkout whose app.py is served (--app: another one, e.g. a commit before a change)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PAGES = re.findall(r"""url_path=["']([^"']+)["']""", (REPO / "app.py").read_text(encoding="utf-8"))
JOURNEY = ["", "architecture?model=alexnet", "compare?models=lenet,alexnet,vgg16", "receptive-field", "train"]
TICK = os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return "load average {:.1f} / {:.1f} / {:.1f} (1 / 5 / 15 min) on {} cores".format(*os.getloadavg(),
                                                                                      os.cpu_count())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """``streamlit run app.py`` on a free port with a tmp run store; ``url``, ``pid``, ``started`` (monotonic)."""

    def __init__(self, env: dict[str, str] | None = None, home: str | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="explorer-class-")
        self.home = home or self.tmp.name
        self.log = open(Path(self.tmp.name) / "server.log", "wb")  # noqa: SIM115 — closed in stop()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=APP, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "EXPLORER_HOME": self.home, **(env or {})})
        self.pid = self.proc.pid

    def healthy(self, timeout: float = 120) -> float:
        """Seconds from the start until ``/_stcore/health`` answers ``ok``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited:\n{Path(self.log.name).read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the server never answered")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.log.close()
        self.tmp.cleanup()


@contextmanager
def server(env: dict[str, str] | None = None) -> Iterator[Server]:
    s = Server(env)
    try:
        s.healthy()
        yield s
    finally:
        s.stop()


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def settle(page, timeout: float = 180_000) -> None:
    """Idle, and still idle a moment later (``st.rerun`` chains runs)."""
    for _ in range(20):
        page.wait_for_selector(IDLE, timeout=timeout)
        page.wait_for_timeout(250)
        if page.locator(IDLE).count():
            return
    raise RuntimeError("the app never settled")


HOME_DRAWN = ("() => !!document.querySelector('" + IDLE.replace("'", "\\'") + "') && (() => {"
              " const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];"
              " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); })()")


def _home_drawn(page, timeout: float = 180_000) -> float:
    """Wait until Home is drawn (the script idle and every card picture loaded, and still so a moment later: a
    rerun may follow); the ``time.monotonic()`` at which it was first seen drawn."""
    for _ in range(20):
        page.wait_for_function(HOME_DRAWN, timeout=timeout, polling=20)
        drawn = time.monotonic()
        page.wait_for_timeout(250)
        if page.evaluate(HOME_DRAWN):
            return drawn
    raise RuntimeError("Home never settled")


# --- cold start -------------------------------------------------------------------------------------------------
def cold_start(repeats: int = 3) -> dict:
    """Server start → Home drawn in a fresh browser: the first start on an empty ``$EXPLORER_HOME`` (a new install),
    then ``repeats`` restarts on the same home (a server restarted before a class): seconds, and the server's CPU
    seconds at that moment (what the load of the machine does not change)."""
    times, cpu, health = [], [], []
    with chromium() as browser, tempfile.TemporaryDirectory(prefix="explorer-home-") as home:
        for _ in range(repeats + 1):
            s = Server(home=home)
            try:
                health.append(s.healthy())
                context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
                page = context.new_page()
                page.goto(s.url + "/", timeout=180_000)
                times.append(_home_drawn(page) - s.started)
                cpu.append(cpu_seconds(s.pid))
                context.close()
            finally:
                s.stop()
    return {"first_s": times[0], "first_cpu_s": cpu[0], "seconds": times[1:], "median_s": statistics.median(times[1:]),
            "cpu_median_s": statistics.median(cpu[1:]), "health_median_s": statistics.median(health),
            "load": load_average()}


# --- CPU per page view ------------------------------------------------------------------------------------------
def page_costs(views: int = 5, pages: list[str] | None = None) -> dict:
    """Server CPU-ms per warm view of every page (or of ``pages``; the median over them too)."""
    out: dict[str, float] = {}
    with server() as s, chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page = context.new_page()
        for path in pages or ["", *PAGES]:
            url = f"{s.url}/{path}"
            page.goto(url, timeout=180_000)  # warm: caches filled, static files in the browser's cache
            settle(page)
            before = cpu_seconds(s.pid)
            for _ in range(views):
                page.goto(url, timeout=180_000)  # a page load: a new session, the script run from the top
                settle(page)
            out[path or "home"] = (cpu_seconds(s.pid) - before) * 1000 / views
        rss = rss_mib(s.pid)
        context.close()
    return {"cpu_ms_per_view": out, "median_ms": statistics.median(out.values()), "rss_mib_after": rss,
            "views": views, "load": load_average()}


# --- memory with a run going ------------------------------------------------------------------------------------
def rss_training() -> dict:
    """The server's RSS idle (Home and Train drawn) and its peak while a tiny LeNet run trains."""
    with server({"EXPLORER_MAX_RUN_MINUTES": "100000"}) as s, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
        page.goto(f"{s.url}/train?model=lenet", timeout=180_000)
        settle(page)
        for label, value in (("Training images (0 = all 60,000)", 2000), ("Epochs", 1)):
            box = page.get_by_label(label, exact=True)
            box.fill(str(value))
            box.press("Enter")
            settle(page)
        idle = rss_mib(s.pid)
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.25):
                peak.append(rss_mib(s.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        page.get_by_role("button", name="Train", exact=True).click()
        page.locator('[data-testid="stMetric"]').filter(has_text="Status").filter(has_text="done").wait_for(
            timeout=600_000)
        done.set()
        sampler.join()
    return {"idle_mib": idle, "training_peak_mib": max(peak), "load": load_average()}


# --- a class ----------------------------------------------------------------------------------------------------
async def _journey(browser, base: str, times: dict[str, list[float]], errors: list[str], timeout_ms: float) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = await context.new_page()
    try:
        for path in JOURNEY:
            start = time.monotonic()
            try:
                await page.goto(f"{base}/{path}", timeout=timeout_ms)
                for _ in range(20):
                    await page.wait_for_selector(IDLE, timeout=timeout_ms)
                    await page.wait_for_timeout(250)
                    if await page.locator(IDLE).count():
                        break
                if await page.locator('[data-testid="stException"]').count():
                    errors.append(f"{path or 'home'}: an exception drawn on the page")
            except Exception as exc:  # noqa: BLE001 — a timeout is the figure we want, not a crash
                errors.append(f"{path or 'home'}: {type(exc).__name__}")
                continue
            times.setdefault(path.split("?")[0] or "home", []).append(time.monotonic() - start - 0.25)
    finally:
        await context.close()


def journeys(base: str, sessions: int, timeout_s: float) -> tuple[dict[str, list[float]], list[str]]:
    """``sessions`` browsers at once, each a new learner walking :data:`JOURNEY` on ``base``: the times per page
    (seconds until idle) and the errors."""
    from playwright.async_api import async_playwright

    async def main() -> tuple[dict[str, list[float]], list[str]]:
        times: dict[str, list[float]] = {}
        errors: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            await asyncio.gather(*(_journey(browser, base, times, errors, timeout_s * 1000) for _ in range(sessions)))
            await browser.close()
        return times, errors

    return asyncio.run(main())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def class_run(sessions: int = 30, timeout_s: float = 120) -> dict:
    """``sessions`` learners at once on one server: p50/p95 seconds to idle per step and overall, the errors, the
    server's peak RSS and CPU seconds."""

    with server() as s:
        with chromium() as browser:  # the server as a class finds it: started before, Home drawn once
            page = browser.new_context().new_page()
            page.goto(s.url + "/", timeout=300_000)
            _home_drawn(page, 300_000)
        peak, done = [rss_mib(s.pid)], threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peak.append(rss_mib(s.pid))

        threading.Thread(target=sample, daemon=True).start()
        cpu0, wall0 = cpu_seconds(s.pid), time.monotonic()

        times, errors = journeys(s.url, sessions, timeout_s)
        done.set()
        cpu, wall = cpu_seconds(s.pid) - cpu0, time.monotonic() - wall0
    every = [t for ts in times.values() for t in ts]
    return {"sessions": sessions, "steps": len(JOURNEY), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "p50_s": statistics.median(every) if every else None, "p95_s": _percentile(every, 0.95) if every else None,
            "per_step": {k: {"p50_s": statistics.median(v), "p95_s": _percentile(v, 0.95), "n": len(v)}
                         for k, v in times.items()},
            "peak_rss_mib": max(peak), "server_cpu_s": cpu, "wall_s": wall, "timeout_s": timeout_s,
            "load": load_average()}


# --- a class over replicas behind nginx (scripts/serve_class.py) --------------------------------------------------
def replicas_run(sessions: int = 30, replicas: int = 2, timeout_s: float = 120, postgres: bool = True) -> dict:
    """The class of :func:`class_run` through nginx in front of ``replicas`` Streamlit servers sharing one run store
    (a PostgreSQL of its own, as ``make serve-class`` starts; ``postgres=False``: one SQLite store), each browser
    kept on one replica by nginx's route cookie: p50/p95 seconds to idle per step and overall, the errors, each
    replica's peak RSS and CPU seconds and how many learners nginx sent it."""
    import serve_class  # scripts/ is on the path of a script run from it

    with tempfile.TemporaryDirectory(prefix="explorer-replicas-") as tmp:
        os.chmod(tmp, 0o755)  # run by root, PostgreSQL runs as its own user and must reach its folder in here
        cluster = serve_class.ClassServers(Path(tmp), replicas, postgres=postgres, pg_folder=Path(tmp) / "postgres",
                                           worker=False)
        with cluster:
            with chromium() as browser:  # each replica as a class finds it: started before, Home drawn once
                for route in cluster.routes():
                    context = browser.new_context()
                    context.add_cookies([{"name": serve_class.ROUTE_COOKIE, "value": route, "url": cluster.url}])
                    page = context.new_page()
                    page.goto(cluster.url + "/", timeout=300_000)
                    _home_drawn(page, 300_000)
                    context.close()
            pids = [cluster.processes[f"replica {k}"].pid for k in range(1, replicas + 1)]
            logged = len(cluster.access_log.read_text().splitlines())
            peak, done = [[rss_mib(p)] for p in pids], threading.Event()

            def sample() -> None:
                while not done.wait(0.5):
                    for k, pid in enumerate(pids):
                        peak[k].append(rss_mib(pid))

            threading.Thread(target=sample, daemon=True).start()
            cpu0, wall0 = [cpu_seconds(p) for p in pids], time.monotonic()

            times, errors = journeys(cluster.url, sessions, timeout_s)
            done.set()
            cpu = [cpu_seconds(p) - c for p, c in zip(pids, cpu0)]
            wall = time.monotonic() - wall0
        # nginx stopped (gracefully): every line is in its log, the websockets' too
        learners = {u.removeprefix("http://"): set() for u in cluster.replica_urls}
        statuses: dict[str, int] = {}
        moved = 0  # requests nginx passed to a second replica after the first failed: affinity broken for them
        for line in cluster.access_log.read_text().splitlines()[logged:]:
            match = re.search(r'" (\d+) .* upstream=(\S+) route=(\S+)$', line)
            if match and not match.group(3).startswith(serve_class.PROBE_ROUTE):  # not the warm-up's
                statuses[match.group(1)] = statuses.get(match.group(1), 0) + 1
                moved += ", " in match.group(2)  # a retried request names every replica it tried
                for upstream in match.group(2).split(", "):
                    learners.setdefault(upstream, set()).add(match.group(3))
    every = [t for ts in times.values() for t in ts]
    return {"sessions": sessions, "replicas": replicas, "store": "PostgreSQL" if postgres else "SQLite",
            "steps": len(JOURNEY), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "p50_s": statistics.median(every) if every else None, "p95_s": _percentile(every, 0.95) if every else None,
            "per_step": {k: {"p50_s": statistics.median(v), "p95_s": _percentile(v, 0.95), "n": len(v)}
                         for k, v in times.items()},
            "replica_peak_rss_mib": [max(p) for p in peak], "replica_cpu_s": cpu,
            "replica_learners": [len(learners[u.removeprefix("http://")]) for u in cluster.replica_urls],
            "nginx_statuses": statuses, "moved_requests": moved, "wall_s": wall, "timeout_s": timeout_s,
            "load": load_average()}


MEASURES = {"cold": cold_start, "pages": page_costs, "rss": rss_training, "class": class_run,
            "replicas": replicas_run}


def report(results: dict) -> str:
    """The figures as the lines ``make bench`` prints."""
    lines = []
    if "cold" in results:
        r = results["cold"]
        lines.append(f"cold start (server start → Home drawn in a fresh browser): restart median {r['median_s']:.1f} s "
                     f"of {', '.join(f'{t:.1f}' for t in r['seconds'])} s, server CPU {r['cpu_median_s']:.1f} s "
                     f"(health ok at {r['health_median_s']:.1f} s); first start on an empty home {r['first_s']:.1f} s, "
                     f"server CPU {r['first_cpu_s']:.1f} s; {r['load']}")
    if "pages" in results:
        r = results["pages"]
        lines.append(f"server CPU per warm page view (median of {r['views']} views each; {r['load']}):")
        lines += [f"  {page:<18} {ms:8.0f} ms" for page, ms in r["cpu_ms_per_view"].items()]
        lines.append(f"  {'median':<18} {r['median_ms']:8.0f} ms; server RSS after all pages {r['rss_mib_after']:.0f}"
                     " MiB")
    if "rss" in results:
        r = results["rss"]
        lines.append(f"server RSS: {r['idle_mib']:.0f} MiB idle on Train, {r['training_peak_mib']:.0f} MiB peak while "
                     f"LeNet trains (2,000 images, 1 epoch); {r['load']}")
    if "class" in results:
        r = results["class"]
        lines.append(f"a class: {r['sessions']} browsers at once, {r['steps']} pages each: {r['errors']} errors "
                     f"({'; '.join(r['error_kinds']) or 'none'}), time to idle p50 {r['p50_s'] or 0:.1f} s / p95 "
                     f"{r['p95_s'] or 0:.1f} s, server peak RSS {r['peak_rss_mib']:.0f} MiB, server CPU "
                     f"{r['server_cpu_s']:.0f} s in {r['wall_s']:.0f} s; {r['load']}")
        lines += [f"  {step:<16} p50 {v['p50_s']:5.1f} s  p95 {v['p95_s']:5.1f} s  ({v['n']} views)"
                  for step, v in r["per_step"].items()]
    if "replicas" in results:
        r = results["replicas"]
        each = ", ".join(f"#{k} {n} learners, peak RSS {rss:.0f} MiB, CPU {cpu:.0f} s" for k, (n, rss, cpu)
                         in enumerate(zip(r["replica_learners"], r["replica_peak_rss_mib"], r["replica_cpu_s"]), 1))
        lines.append(f"a class over {r['replicas']} replicas behind nginx ({r['store']} store): {r['sessions']} "
                     f"browsers at once, {r['steps']} pages each: {r['errors']} errors "
                     f"({'; '.join(r['error_kinds']) or 'none'}), time to idle p50 {r['p50_s'] or 0:.1f} s / p95 "
                     f"{r['p95_s'] or 0:.1f} s in {r['wall_s']:.0f} s; replica {each}; nginx answered "
                     f"{sum(r['nginx_statuses'].values())} requests, "
                     f"{sum(n for s, n in r['nginx_statuses'].items() if s >= '500')} of them with a 5xx, "
                     f"{r['moved_requests']} moved to another replica; {r['load']}")
        lines += [f"  {step:<16} p50 {v['p50_s']:5.1f} s  p95 {v['p95_s']:5.1f} s  ({v['n']} views)"
                  for step, v in r["per_step"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(MEASURES), action="append", help="one measurement (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="cold starts (median)")
    parser.add_argument("--views", type=int, default=5, help="warm views per page")
    parser.add_argument("--page", action="append", help="measure only this page's URL path (repeatable)")
    parser.add_argument("--sessions", type=int, default=30, help="browsers at once in the class run")
    parser.add_argument("--replicas", type=int, default=2, help="Streamlit replicas behind nginx (--only replicas)")
    parser.add_argument("--sqlite", action="store_true", help="the replicas share a SQLite store, not PostgreSQL")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--app", metavar="DIR", type=Path, help="serve the app.py of this checkout instead")
    args = parser.parse_args(argv)
    global APP
    APP = (args.app or REPO).resolve()
    kwargs = {"cold": {"repeats": args.repeats}, "pages": {"views": args.views, "pages": args.page}, "rss": {},
              "class": {"sessions": args.sessions},
              "replicas": {"sessions": args.sessions, "replicas": args.replicas, "postgres": not args.sqlite}}
    results = {}
    for name in args.only or list(MEASURES):
        results[name] = MEASURES[name](**kwargs[name])
        print(report({name: results[name]}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
