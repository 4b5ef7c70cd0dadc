"""Benchmark: ``explorer.analyze`` (meta device) against ``torchinfo.summary`` with its default CPU run.

What it measures, for every model in ``explorer.list_models()`` (``--quick``: a handful of them):

* **analyze** — ``explorer.analyze(id)``: the model is built under ``torch.device("meta")`` and torchinfo runs on
  the meta device (no weights, no arithmetic). Warm: the whole loop runs once first, then each model is timed
  ``--repeats`` times and the median is reported.
* **torchinfo-default** — what a user writes without the meta trick: ``model = spec.build()`` (real weights,
  allocated and initialised on the CPU) then ``torchinfo.summary(model, input_size=(1, *spec.input_shape),
  verbose=0)`` (default device: the model's, a real forward pass). Build and summary are timed together, once per
  model, after one warm-up call on the smallest model.

Both paths are timed in this one process, so the ratio compares like with like. Peak memory cannot be read from
``tracemalloc`` (torch allocates outside Python's allocator) and ``ru_maxrss`` only ever grows within a process, so
each path also runs over the same models in a child process of its own; a peak figure is that child's peak RSS
(``VmHWM`` on Linux, ``ru_maxrss`` elsewhere) minus the one of a baseline child that only imports torch, torchinfo
and explorer.

Last, a warm rerun of the Architecture page for VGG-19: ``pages/architecture.py`` through streamlit's ``AppTest``
with ``?model=vgg19``, one warm-up run, then the median of five reruns. A missing or failing page is reported and
skipped.

Then the Architecture page of every model measured (``--no-pages`` skips it): the median of three warm reruns
through ``AppTest`` (goal < 300 ms each), and in headless Chromium against a ``streamlit run`` server of its own the
time from navigation to ``data-test-script-state=notRunning`` with the diagram visible, the second visit of each
model (goal < 1.5 s each).

Goals: analyze ≥ 20× faster than torchinfo-default over the zoo (sum over sum), and the warm page rerun under
300 ms. Exit status 1 when a measured goal fails.

    python scripts/bench.py            # the whole zoo (a minute or two on 2 cores)
    python scripts/bench.py --quick    # lenet, alexnet, vgg16 and googlenet/resnet18 when registered
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torchinfo  # noqa: E402

import explorer  # noqa: E402

RATIO_GOAL = 20.0
PAGE_GOAL_MS = 300.0
PAGE_MODEL = "vgg19"
PAGE_RERUNS = 5
PREDICT_GOAL = 1.2
QUICK_IDS = ("lenet", "alexnet", "vgg16", "googlenet", "resnet18")
CHILD_MODES = ("baseline", "analyze", "torchinfo")


# ---------------------------------------------------------------------------------------------------------------
# The two paths
# ---------------------------------------------------------------------------------------------------------------
def run_analyze(model_id: str) -> None:
    explorer.analyze(model_id)


def run_torchinfo_default(model_id: str) -> None:
    spec = explorer.get_spec(model_id)
    model = spec.build()
    torchinfo.summary(model, input_size=(1, *spec.input_shape), verbose=0)
    del model


def timed_ms(fn: Callable[[str], None], model_id: str) -> float:
    start = time.perf_counter()
    fn(model_id)
    return (time.perf_counter() - start) * 1000.0


# ---------------------------------------------------------------------------------------------------------------
# Peak memory: one child process per path
# ---------------------------------------------------------------------------------------------------------------
def max_rss_kib() -> int:
    """Peak resident set size of this process's own address space, in KiB.

    Linux: ``VmHWM`` from /proc/self/status. ``ru_maxrss`` is not used there because the kernel carries the parent's
    RSS at fork/exec over into the child's ``ru_maxrss``, which would hide anything below the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes, others KiB


def child_main(mode: str, model_ids: Sequence[str]) -> None:
    """Run one path over ``model_ids`` and print this process's peak RSS as JSON."""
    fn = {"analyze": run_analyze, "torchinfo": run_torchinfo_default}.get(mode)
    if fn is not None:
        for model_id in model_ids:
            fn(model_id)
            gc.collect()
    print(json.dumps({"mode": mode, "max_rss_kib": max_rss_kib()}))


def child_peak_kib(mode: str, model_ids: Sequence[str]) -> int:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *model_ids]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {mode!r} failed ({proc.returncode}):\n{proc.stderr.strip()}")
    return int(json.loads(proc.stdout.strip().splitlines()[-1])["max_rss_kib"])


# ---------------------------------------------------------------------------------------------------------------
# Architecture page
# ---------------------------------------------------------------------------------------------------------------
def bench_page(model_id: str, reruns: int) -> tuple[float | None, str]:
    """Median warm rerun of the Architecture page in ms, or ``None`` and the reason it is not available."""
    page = ROOT / "pages" / "architecture.py"
    if not page.exists():
        return None, "pages/architecture.py does not exist"
    try:
        from streamlit.testing.v1 import AppTest
    except ImportError as exc:
        return None, f"streamlit.testing is not importable ({exc})"
    # AppTest's constructor touches session state outside a script run; streamlit warns about it in bare mode.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    title = explorer.get_spec(model_id).title

    def run_once(at: AppTest) -> float:
        start = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - start) * 1000.0
        if at.exception:
            first = at.exception[0]
            message = getattr(first, "message", None) or str(first)
            raise RuntimeError(f"the page raised: {str(message).strip().splitlines()[0]}")
        return elapsed

    def shows(at: AppTest) -> bool:
        return any(title in str(t.value) for t in at.title)

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        at = AppTest.from_file(str(page), default_timeout=60)
        at.query_params["model"] = model_id
        run_once(at)  # warm-up: caches filled, modules imported
        note = ""
        if not shows(at):
            # The link was not honoured: pick the model in the sidebar instead, and say so.
            pickers = [box for box in at.selectbox if box.key == "model"] or list(at.sidebar.selectbox)
            if not pickers:
                raise RuntimeError(f"the page does not show {title!r} for ?model={model_id} and has no model picker")
            pickers[0].set_value(model_id)
            run_once(at)
            if not shows(at):
                raise RuntimeError(f"the page does not show {title!r} for ?model={model_id} nor after picking it")
            note = f"; ?model={model_id} was ignored, model chosen in the sidebar picker"
        times = [run_once(at) for _ in range(reruns)]
    except Exception as exc:  # noqa: BLE001 — the page is optional for this benchmark
        text = str(exc).strip().splitlines()
        return None, f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    finally:
        os.chdir(cwd)
    detail = f"median of {reruns} warm reruns: " + ", ".join(f"{t:.0f}" for t in times) + note
    return statistics.median(times), detail


# ---------------------------------------------------------------------------------------------------------------
# The Architecture page of every model: warm server reruns (AppTest) and the paint in a real browser
# ---------------------------------------------------------------------------------------------------------------
PAGES_GOAL_MS = 300.0  # a warm rerun of the Architecture page, per model
PAINT_GOAL_MS = 1500.0  # a navigation until the script is done and the diagram is visible, per model
TAB_GOAL_MS = 1500.0  # a click on the Charts tab until its charts are drawn (once the browser has plotly's code)
PAGES_RERUNS = 3


def bench_pages(model_ids: Sequence[str], reruns: int = PAGES_RERUNS) -> list[tuple[str, float | None, str]]:
    """Per model: the median of ``reruns`` warm reruns of the Architecture page (one AppTest session, the model
    picked by ``?model=``, one warm-up run first) in ms, or ``None`` and why."""
    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    out: list[tuple[str, float | None, str]] = []
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/architecture.py")
        for model_id in model_ids:
            at.query_params["model"] = model_id
            at.run()  # warm-up: analysis, graph, labels and Graphviz's layout cached
            if at.exception or not any(explorer.get_spec(model_id).title in str(t.value) for t in at.title):
                out.append((model_id, None, "the page failed or did not show the model"))
                continue
            times = []
            for _ in range(reruns):
                start = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - start) * 1000.0)
            out.append((model_id, statistics.median(times), ""))
    finally:
        os.chdir(cwd)
    return out


Rows = list[tuple[str, float | None, str]]


def bench_paint(model_ids: Sequence[str]) -> tuple[Rows, Rows]:
    """Per model, in headless Chromium against a ``streamlit run`` server of its own: the time from navigating to
    ``/architecture?model=<id>`` until the script has finished (``data-test-script-state=notRunning``) and the
    diagram viewer's SVG is visible — the second visit (the server's caches warm, as for any reader after the
    first); then the time from a click on the Charts tab (drawn only when open) until its charts are drawn."""
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    out: Rows = []
    tabs: Rows = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                if time.monotonic() > deadline:
                    down = [(m, None, "the server did not start") for m in model_ids]
                    return down, down
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
            page = context.new_page()

            def visit(model_id: str) -> float:
                start = time.perf_counter()
                page.goto(f"{base}/architecture?model={model_id}")
                page.wait_for_selector(idle, timeout=120_000)
                # the diagram viewer's SVG (drawn in the page, in the component's shadow root)
                page.locator('[data-testid="diagram-viewport"] svg').first.wait_for(state="visible", timeout=60_000)
                return (time.perf_counter() - start) * 1000.0

            def failure(exc: Exception) -> str:
                return f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"

            def open_charts() -> float:
                start = time.perf_counter()
                page.get_by_role("tab", name="Charts").click()
                page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(state="visible",
                                                                                         timeout=60_000)
                page.wait_for_selector(idle, timeout=120_000)
                return (time.perf_counter() - start) * 1000.0

            try:  # a fresh browser compiles plotly's 4.7 MB of JavaScript at its first chart: measured once, apart
                visit(model_ids[0])
                first = open_charts()
                print(f"(the first Charts tab a fresh browser opens, {model_ids[0]}: {first:.0f} ms — plotly's code "
                      "loaded and compiled once; the rows below are with it in the browser's cache)")
            except Exception as exc:  # noqa: BLE001
                print(f"(the first Charts tab could not be measured: {failure(exc)})")
            for model_id in model_ids:  # one model's failure is reported, the others measured
                try:
                    visit(model_id)  # the first visit fills the server's caches
                    out.append((model_id, visit(model_id), ""))
                except Exception as exc:  # noqa: BLE001
                    out.append((model_id, None, failure(exc)))
                    tabs.append((model_id, None, "the page did not paint"))
                    continue
                try:
                    tabs.append((model_id, open_charts(), ""))
                except Exception as exc:  # noqa: BLE001
                    tabs.append((model_id, None, failure(exc)))
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)
    return out, tabs


def report_architecture_pages(model_ids: Sequence[str], skip: bool) -> bool:
    """Print both Architecture-page measurements for every model; ``True`` if a goal fails."""
    if skip:
        print("architecture page per model: skipped (--no-pages)")
        return False
    failed = False
    browser: list[tuple[Rows, Rows]] = []  # measured once, for both reports

    def browser_rows(i: int) -> Rows:
        if not browser:
            browser.append(bench_paint(model_ids))
        return browser[0][i]

    for what, goal, results in (
        ("warm rerun", PAGES_GOAL_MS, lambda: bench_pages(model_ids)),
        ("browser paint", PAINT_GOAL_MS, lambda: browser_rows(0)),
        ("charts tab", TAB_GOAL_MS, lambda: browser_rows(1)),
    ):
        try:
            rows = results()
        except Exception as exc:  # noqa: BLE001 — missing streamlit/playwright/chromium: say so, measure the rest
            print(f"architecture page {what}: not available ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        print(f"\narchitecture page {what} per model (goal < {goal:.0f} ms each):")
        for model_id, ms, why in rows:
            print(f"  {model_id:<26} {'—' if ms is None else f'{ms:8.0f} ms'}  {why}")
        measured = [ms for _, ms, _ in rows if ms is not None]
        slow = [m for m, ms, _ in rows if ms is None or ms >= goal]
        verdict = "PASS" if measured and not slow else "FAIL"
        failed |= verdict == "FAIL"
        worst = max(measured, default=float("nan"))
        print(f"{verdict}: architecture page {what}: median {statistics.median(measured) if measured else 0:.0f} ms, "
              f"worst {worst:.0f} ms over {len(measured)} models (goal < {goal:.0f} ms)"
              + (f"; over the goal or failed: {', '.join(slow)}" if slow else ""))
    return failed


# ---------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------
def select_models(quick: bool) -> list[str]:
    ids = [spec.id for spec in explorer.list_models()]
    if quick:
        ids = [i for i in QUICK_IDS if i in ids]
    return ids


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few models only: " + ", ".join(QUICK_IDS))
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of analyze per model (median)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child processes")
    parser.add_argument("--no-page", action="store_true", help="skip the Architecture page rerun")
    parser.add_argument("--no-pages", action="store_true",
                        help="skip the Architecture page of every model (warm reruns and browser paint)")
    parser.add_argument("--no-predict", action="store_true", help="skip the predict end-to-end timing")
    parser.add_argument("--no-train", action="store_true", help="skip the training-throughput comparison")
    parser.add_argument("--no-figure", action="store_true", help="skip the paper figure's drawing time and size")
    parser.add_argument("--no-playground", action="store_true", help="skip the playground's worker overhead")
    parser.add_argument("--no-code-memory", action="store_true",
                        help="skip the playground networks' memory check against their measured training steps")
    parser.add_argument("--no-runs-page", action="store_true",
                        help="skip the live Runs page's cost to the training throughput of the run it shows")
    parser.add_argument("--no-class", action="store_true",
                        help="skip the class measurements (cold start, CPU per page view, 30 browsers at once)")
    parser.add_argument("--report", metavar="FILE",
                        help="also write the output to FILE (Markdown), headed by the date and the machine")
    parser.add_argument("--child", choices=CHILD_MODES, help=argparse.SUPPRESS)
    parser.add_argument("models", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def machine() -> str:
    """This machine in one line: CPU model, cores, memory, GPU (the figures mean nothing without it)."""
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB, {gpu}; {platform.system()} {platform.release()}"


class _Tee:
    """stdout that is also written to a file (``--report``)."""

    def __init__(self, stream, file) -> None:
        self.stream, self.file = stream, file

    def write(self, text: str) -> int:
        self.file.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.file.flush()
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.models)
        return 0
    if not args.report:
        return run(args)
    import datetime

    with open(args.report, "w", encoding="utf-8") as report:
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        report.write(f"# Benchmark results\n\nWritten by `make bench` (`scripts/bench.py`) on {when}, on {machine()}, "
                     f"while nothing else was asked of the machine by this script. Its whole output:\n\n```text\n")
        stdout, sys.stdout = sys.stdout, _Tee(sys.stdout, report)
        try:
            status = run(args)
        finally:
            sys.stdout = stdout
        report.write("```\n")
    return status


def run(args: argparse.Namespace) -> int:

    ids = args.models or select_models(args.quick)
    print(
        f"CNN Explorer benchmark — {len(ids)} models{' (quick)' if args.quick else ''}; "
        f"torch {torch.__version__}, torchinfo {torchinfo.__version__}, {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )

    # Warm-up: one full analyze loop, and one torchinfo-default run on the smallest model.
    for model_id in ids:
        run_analyze(model_id)
    smallest = min(ids, key=lambda i: explorer.get_spec(i).params)
    run_torchinfo_default(smallest)
    gc.collect()

    rows: list[tuple[str, float, float]] = []
    width = max(len("model"), *(len(i) for i in ids))
    header = f"{'model':<{width}}  {'analyze ms':>10}  {'torchinfo-default ms':>20}  {'ratio':>8}"
    print()
    print(header)
    print("-" * len(header))
    for model_id in ids:
        analyze_ms = statistics.median(timed_ms(run_analyze, model_id) for _ in range(max(1, args.repeats)))
        gc.collect()
        default_ms = timed_ms(run_torchinfo_default, model_id)
        gc.collect()
        rows.append((model_id, analyze_ms, default_ms))
        print(f"{model_id:<{width}}  {analyze_ms:>10.1f}  {default_ms:>20.1f}  {default_ms / analyze_ms:>7.1f}×")
    total_analyze = sum(r[1] for r in rows)
    total_default = sum(r[2] for r in rows)
    ratio = total_default / total_analyze
    print("-" * len(header))
    print(f"{'total':<{width}}  {total_analyze:>10.1f}  {total_default:>20.1f}  {ratio:>7.1f}×")

    print()
    if args.no_memory:
        print("peak RSS: skipped (--no-memory)")
    else:
        base = child_peak_kib("baseline", ids)
        peak_analyze = child_peak_kib("analyze", ids) - base
        peak_default = child_peak_kib("torchinfo", ids) - base
        print(f"peak RSS over the imports ({mib(base)} for torch + torchinfo + explorer), one child per path:")
        print(f"  analyze            +{mib(peak_analyze)}")
        print(f"  torchinfo-default  +{mib(peak_default)}")

    failed = False
    print()
    verdict = "PASS" if ratio >= RATIO_GOAL else "FAIL"
    failed |= verdict == "FAIL"
    print(f"{verdict}: analyze is {ratio:.1f}× faster than torchinfo-default over the zoo (goal ≥ {RATIO_GOAL:.0f}×)")

    if args.no_page:
        print("architecture page: skipped (--no-page)")
    else:
        page_ms, detail = bench_page(PAGE_MODEL, PAGE_RERUNS)
        if page_ms is None:
            print(f"architecture page: not available ({detail})")
        else:
            verdict = "PASS" if page_ms < PAGE_GOAL_MS else "FAIL"
            failed |= verdict == "FAIL"
            print(
                f"{verdict}: warm Architecture-page rerun for {PAGE_MODEL} takes {page_ms:.0f} ms "
                f"(goal < {PAGE_GOAL_MS:.0f} ms; {detail})"
            )
    failed |= report_architecture_pages(ids, args.no_pages)
    if args.no_predict:
        print("predict: skipped (--no-predict)")
    else:
        for model_id, e2e, bare in bench_predict():
            ratio_p = e2e / bare
            verdict = "PASS" if ratio_p <= PREDICT_GOAL else "FAIL"
            failed |= verdict == "FAIL"
            print(
                f"{verdict}: predict {model_id} on cpu: end-to-end {e2e:.2f} ms (decode + preprocess + forward) vs "
                f"bare forward {bare:.2f} ms on the same input: {ratio_p:.2f}× (goal ≤ {PREDICT_GOAL}×)"
            )
    if args.no_train:
        print("training: skipped (--no-train)")
    else:
        for model_id, bare, engine_rate, ui_rate in bench_training():
            ratio_t, overhead = engine_rate / bare, 1 - ui_rate / engine_rate
            verdict = "PASS" if ratio_t >= TRAIN_GOAL and overhead < UI_GOAL else "FAIL"
            failed |= verdict == "FAIL"
            print(
                f"{verdict}: train {model_id} on cpu ({torch.get_num_threads()} threads): engine {engine_rate:,.0f} "
                f"img/s vs bare PyTorch loop {bare:,.0f} img/s: {ratio_t:.2f}× (goal ≥ {TRAIN_GOAL}×); live-UI "
                f"callbacks {ui_rate:,.0f} img/s: {overhead:+.1%} overhead (goal < {UI_GOAL:.0%})"
            )
    if args.no_figure:
        print("figure: skipped (--no-figure)")
    else:
        failed |= report_figure()
    if args.no_playground:
        print("playground: skipped (--no-playground)")
    else:
        failed |= report_playground()
    if args.no_code_memory:
        print("code memory: skipped (--no-code-memory)")
    else:
        failed |= report_code_memory()
    if args.no_runs_page:
        print("runs page: skipped (--no-runs-page)")
    else:
        failed |= report_runs_page()
    if args.no_class:
        print("class: skipped (--no-class)")
    else:
        failed |= report_class()
    return 1 if failed else 0


# --- a playground network's memory check (explorer.runtime.coderun) ------------------------------------------------
CODE_MEMORY_BATCH = 256
CODE_MEMORY_NETS = {  # the d2l LeNet, a wide convolution, a snippet class whose forward calls functions
    "lenet (zoo code)": None,
    "wide conv": "net = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), "
                 "nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 14 * 14, 10))\n",
    "class, F.relu in forward": (
        "class B(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.c = nn.Conv2d(1, 32, 3, padding=1)\n        self.l = nn.Linear(32 * 28 * 28, 10)\n"
        "    def forward(self, x):\n        return self.l(torch.flatten(F.relu(self.c(x)), 1))\n\nnet = B()\n"),
}
_CODE_MEMORY_CHILD = """
import json, sys
import torch, torch.nn.functional as F
torch.set_num_threads(1)
from explorer.playground import parse_network
code, batch = sys.stdin.read(), int(sys.argv[1])
net = parse_network(code, device="cpu")
opt = torch.optim.SGD(net.parameters(), lr=0.1)
x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
def status(field):  # VmHWM: this process's own peak (ru_maxrss keeps a large parent's peak across fork and exec)
    return int(open("/proc/self/status").read().split(field + ":")[1].split()[0]) * 1024
before = status("VmRSS")
for _ in range(3):
    loss = F.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(json.dumps({"measured": status("VmHWM") - before}))
"""


def bench_code_memory() -> list[tuple[str, int, int]]:
    """(network, the need the check states, the peak resident memory three training steps took beyond what the
    process held before them) at batch 256, each in a fresh one-thread process (as a code run's child)."""
    from explorer.analysis import analyze
    from explorer.playground import ZOO_CODE, parse_network
    from explorer.runtime import coderun

    rows = []
    for name, code in CODE_MEMORY_NETS.items():
        code = code or ZOO_CODE["lenet"]
        need = coderun.memory_need(analyze(parse_network(code), (1, 28, 28)), CODE_MEMORY_BATCH)
        done = subprocess.run([sys.executable, "-c", _CODE_MEMORY_CHILD, str(CODE_MEMORY_BATCH)], input=code,
                              capture_output=True, text=True, check=True, env=coderun.child_env(), cwd=ROOT)
        rows.append((name, need, json.loads(done.stdout)["measured"]))
    return rows


def report_code_memory() -> bool:
    """Print the stated need of each network against its measured steps; True when one outgrows need + margin (the
    room a code run's child has beside the data)."""
    from explorer.runtime import coderun

    failed = False
    for name, need, measured in bench_code_memory():
        ok = measured <= need + max(coderun.MARGIN_BYTES, need)
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'}: code memory, {name}: the check states {need / 2**20:.0f} MB for batch "
              f"{CODE_MEMORY_BATCH}, three training steps took {measured / 2**20:.0f} MB (goal: within the need and "
              f"the child's margin)")
    return failed


# --- the playground's worker processes (explorer.present.sandbox) --------------------------------------------------
PLAYGROUND_GOAL_MS = 500.0  # an edit of the notes' VGG to its table and diagram
CODE_CALL_GOAL_S = 15.0  # summary --code / graph --code, start-up included
CODE_CALL_GOAL_RSS = 2 * 2**30


def bench_playground(repeats: int = 9) -> dict[str, float]:
    """The notes' VGG in the playground: the work itself in this process (interpret, analyse, trace, DOT, SVG), the
    same through a warm worker (what an edit costs the page: request, the work, the answer decoded), their
    difference (the worker's overhead), a worker's start, and ``summary --code`` / ``graph --code`` from a shell
    (wall time and the largest resident set of the call and its worker)."""
    from explorer import playground
    from explorer.analysis import graph
    from explorer.present import diagram, sandbox

    listing = playground.LISTINGS["vgg"]
    shape = listing.input_shape

    def in_process(code: str) -> None:
        net = playground.parse_network(code)
        explorer.analyze(net, shape)
        diagram.render_dot(diagram.to_dot(graph.trace(net, shape)), "svg")

    # each repeat a slightly different edit (a comment), as typing makes them
    edits = [f"{listing.code}\n# edit {i}\n" for i in range(repeats + 1)]
    in_process(edits[0])
    local_ms = statistics.median(_ms(lambda c=c: in_process(c)) for c in edits[1:])
    start = time.perf_counter()
    pool = sandbox.Pool(1)
    try:
        sandbox.analyse(edits[0], shape, pool=pool, draw="svg")
        start_s = time.perf_counter() - start
        worker_ms = statistics.median(_ms(lambda c=c: sandbox.analyse(c, shape, pool=pool, draw="svg"))
                                      for c in edits[1:])
    finally:
        pool.close()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vgg.py"
        path.write_text(listing.code, encoding="utf-8")
        calls, rss = {}, 0
        # each call under a small parent that reports the largest resident set among its descendants
        measure = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
                   "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        for command in ("summary", "graph"):
            start = time.perf_counter()
            argv = [sys.executable, "-m", "explorer", command, "--code", str(path), "--input", "1,224,224",
                    *(["--format", "svg"] if command == "graph" else [])]
            done = subprocess.run([sys.executable, "-c", measure, *argv], capture_output=True, text=True, cwd=ROOT,
                                  check=False)
            code, peak_kib = (int(x) for x in done.stdout.split())
            calls[command] = time.perf_counter() - start if code == 0 else float("inf")
            rss = max(rss, peak_kib * 1024)
    return {"local_ms": local_ms, "worker_ms": worker_ms, "start_s": start_s, "summary_s": calls["summary"],
            "graph_s": calls["graph"], "rss": rss}


def report_playground() -> bool:
    """Print the playground's numbers; True when a goal fails."""
    m = bench_playground()
    overhead = m["worker_ms"] - m["local_ms"]
    ok = m["worker_ms"] < PLAYGROUND_GOAL_MS
    print(f"{'PASS' if ok else 'FAIL'}: playground edit of the notes' VGG through a warm worker "
          f"{m['worker_ms']:.0f} ms (goal < {PLAYGROUND_GOAL_MS:.0f} ms): the work itself {m['local_ms']:.0f} ms "
          f"in-process, the worker's overhead {overhead:+.0f} ms; a worker's start (PyTorch imported, warmed up) "
          f"{m['start_s']:.1f} s")
    calls_ok = max(m["summary_s"], m["graph_s"]) < CODE_CALL_GOAL_S and m["rss"] < CODE_CALL_GOAL_RSS
    print(f"{'PASS' if calls_ok else 'FAIL'}: summary --code {m['summary_s']:.1f} s, graph --code --format svg "
          f"{m['graph_s']:.1f} s (goal < {CODE_CALL_GOAL_S:.0f} s, start-up included); the largest process of this "
          f"benchmark's children {m['rss'] / 2**30:.2f} GB resident (goal < 2 GB)")
    return not (ok and calls_ok)


# --- the paper figure (explorer.present.figure) --------------------------------------------------------------------
FIGURE_MODEL = "resnet50-tv"
FIGURE_GOAL_MS = 200.0
FIGURE_GOAL_BYTES = 1_000_000


def bench_figure(model_id: str = FIGURE_MODEL, repeats: int = 20) -> dict[str, float]:
    """The paper figure of ``model_id`` at full depth: the median time of drawing it (layout + SVG) from the traced
    graph and the labels a page already holds, its SVG's size, the PNG's time at 150 dpi, and the whole path from
    the id (analysis and trace on the meta device included), each the median of ``repeats`` (the PNG of 5)."""
    from explorer.analysis import graph
    from explorer.present import figure

    traced = graph.trace(model_id)
    labels = figure.labels_of(explorer.analyze(model_id))
    title = explorer.get_spec(model_id).title
    figure.draw(traced, labels, None, title).svg()  # warm
    draw_ms = statistics.median(_ms(lambda: figure.draw(traced, labels, None, title).svg()) for _ in range(repeats))
    drawn = figure.draw(traced, labels, None, title)
    svg = drawn.svg()
    png_ms = statistics.median(_ms(lambda: drawn.png(150)) for _ in range(5))
    whole_ms = statistics.median(_ms(lambda: explorer.figure(model_id).svg()) for _ in range(5))
    return {"draw_ms": draw_ms, "svg_bytes": len(svg.encode("utf-8")), "boxes": len(drawn.spec["boxes"]),
            "png_ms": png_ms, "png_bytes": len(drawn.png(150)), "whole_ms": whole_ms}


def report_figure() -> bool:
    """Print the figure's numbers; True when a goal fails (drawing < 200 ms, SVG < 1 MB)."""
    m = bench_figure()
    ok = m["draw_ms"] < FIGURE_GOAL_MS and m["svg_bytes"] < FIGURE_GOAL_BYTES
    print(f"{'PASS' if ok else 'FAIL'}: figure of {FIGURE_MODEL} at full depth ({m['boxes']:.0f} boxes): drawn in "
          f"{m['draw_ms']:.1f} ms (layout + SVG, goal < {FIGURE_GOAL_MS:.0f} ms), SVG {m['svg_bytes'] / 1000:.1f} kB "
          f"(goal < {FIGURE_GOAL_BYTES / 1e6:.0f} MB); PNG at 150 dpi {m['png_ms']:.0f} ms, "
          f"{m['png_bytes'] / 1000:.0f} kB; from the id (analysis + trace + drawing) {m['whole_ms']:.0f} ms")
    return not ok


TRAIN_GOAL = 0.9
UI_GOAL = 0.05
# (model, training images, repeats): one epoch on an in-memory subset, best of the repeats (the CPU is shared).
TRAIN_CASES = (("lenet", 15_360, 5), ("resnet-fmnist", 1_280, 3))


def bench_training() -> list[tuple[str, float, float, float]]:
    """(model, bare loop, engine, engine with the live UI's callbacks) in training images per second, the same
    recipe (LeNet: batch 256; resnet-fmnist: batch 128, momentum, cosine, flips), threads and in-memory data. The
    bare loop is what a user writes: randperm, index, forward, loss, backward, step. The engine's figure is its own
    ``samples_per_s`` (training steps only, as the bare loop; testing is left out of both)."""
    return [_train_case(*case) for case in TRAIN_CASES]


def _train_case(model_id: str, limit: int, repeats: int) -> tuple[str, float, float, float]:
    import math

    import torch.nn.functional as F

    from explorer.runtime import train as engine

    recipe = engine.Recipe(**{**vars(engine.default_recipe(model_id)), "epochs": 1})
    x_all, y_all = engine.tensors("train")
    x, y = x_all[:limit], y_all[:limit]

    def bare() -> float:
        torch.manual_seed(recipe.seed)
        model = explorer.build(model_id)
        model.apply(engine.xavier_init)
        opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                              weight_decay=recipe.weight_decay)
        steps = math.ceil(limit / recipe.batch_size)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps)))
        gen = torch.Generator().manual_seed(recipe.seed)
        model.train()
        start = time.perf_counter()
        order = torch.randperm(limit, generator=gen)
        for i in range(steps):
            idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            xb, yb = x[idx], y[idx]
            if recipe.augment:
                flip = torch.rand(len(xb), generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        return limit / (time.perf_counter() - start)

    def run_engine(ui: bool) -> float:
        points: list[dict] = []
        hook = (lambda e: points.append({"epoch": e.x, "loss": e.loss, "train_acc": e.train_acc})) if ui else None
        _, result = engine.train(model_id, recipe, "cpu", limit, report=(lambda line: None), on_step=hook,
                                 test_limit=100)
        return result.history[-1].samples_per_s

    results: dict[str, list[float]] = {"bare": [], "engine": [], "ui": []}
    run_engine(False)  # warm-up: data loaded, kernels chosen
    for _ in range(repeats):  # interleaved, so a busy moment of the shared CPU hits all three alike
        results["bare"].append(bare())
        results["engine"].append(run_engine(False))
        results["ui"].append(run_engine(True))
    return model_id, max(results["bare"]), max(results["engine"]), max(results["ui"])


def bench_predict(repeats: int = 50) -> list[tuple[str, float, float]]:
    """Median ms of ``inference.classify`` on a decoded 320×320 photo (preprocessing + forward) against the bare
    forward pass of the same shared model on the same prepared tensor, for every shipped model."""
    import io

    import numpy as np
    from PIL import Image

    from explorer.runtime import data, images, inference

    raw, _ = data.sample(0)
    buffer = io.BytesIO()
    Image.fromarray(255 - np.pad(raw, 16)).resize((320, 320)).convert("RGB").save(buffer, "JPEG")
    photo = buffer.getvalue()
    rows = []
    for model_id in inference.fashion_models():
        loaded = inference.load(model_id, "cpu")

        def end_to_end(model_id: str = model_id) -> None:
            inference.classify(images.load_image(photo), model_id, device="cpu")

        prepared = inference.prepare(model_id, images.load_image(photo))[None]

        def bare(module: torch.nn.Module = loaded.module, x: torch.Tensor = prepared) -> None:
            with torch.inference_mode():
                module(x)

        for fn in (end_to_end, bare):
            for _ in range(5):
                fn()
        e2e = statistics.median(_ms(end_to_end) for _ in range(repeats))
        forward = statistics.median(_ms(bare) for _ in range(repeats))
        rows.append((model_id, e2e, forward))
    return rows


def _ms(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


# --- a class on one server (scripts/class_load.py) -----------------------------------------------------------------
COLD_START_GOAL_S = 3.0


# --- the Runs page watching a live run: its cost to the training it watches ----------------------------------------
RUNS_PAGE_GOAL = 0.05  # the live page may slow the run it shows by less than 5 %
RUNS_PAGE_EVERY_S = 5.0  # as often as the page's fragment redraws a live run (pages/runs.py LIVE_EVERY_S)


def bench_runs_page(epochs: int = 4, pairs: int = 3) -> tuple[float, float, float, int, float, float]:
    """How much the live Runs page slows the run it shows. A LeNet run (``epochs`` epochs, batch 256) is trained and
    recorded as the app trains it (``runner.execute``: store rows, step log, confusion matrix), alone,
    and while an ``AppTest`` session in the same process — as the app's training thread shares its server — reruns
    the whole Runs page with the live run every ``RUNS_PAGE_EVERY_S`` (more than its fragment redraws). ``pairs``
    pairs, each alone and watched back to back (in alternating order: a busy moment of the shared CPU hits both
    alike); the runs' own ``samples_per_s`` (training steps only, mean over the epochs). Run it on a quiet machine:
    about 2 minutes on 2 cores. Returns (median images/s alone, median watched,
    median of the pairs' slowdowns, page runs, median ms of a page run, CPU ms of a page run on an idle machine)."""
    import tempfile
    import threading

    from streamlit.testing.v1 import AppTest

    from explorer.runtime import runner, runs
    from explorer.runtime import train as engine

    home = tempfile.mkdtemp(prefix="explorer-bench-runs-")
    previous = os.environ.get("EXPLORER_HOME")
    os.environ["EXPLORER_HOME"] = home
    recipe = engine.Recipe(epochs=epochs, lr=0.9, batch_size=256)
    limit = None
    page_ms: list[float] = []

    def page() -> AppTest:
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).switch_page("pages/runs.py")

    def train_once(watched: bool) -> float:
        store = runs.Store()
        run = store.create("lenet", recipe, "cpu", limit=limit)
        stop = threading.Event()

        ready = threading.Event()

        def watch() -> None:
            at = page().run()  # a browser already on the page when the run starts
            ready.set()
            while not stop.wait(RUNS_PAGE_EVERY_S):
                begin = time.perf_counter()
                at.run()
                page_ms.append((time.perf_counter() - begin) * 1000)

        watcher = threading.Thread(target=watch, daemon=True) if watched else None
        if watcher is not None:
            watcher.start()
            ready.wait()
        try:
            _, result = runner.execute(store, run, "lenet", recipe, "cpu", limit, report=lambda line: None)
        finally:
            stop.set()
            if watcher is not None:
                watcher.join()
        return statistics.mean(e.samples_per_s for e in result.history)

    try:
        train_once(False)  # warm-up: data loaded, kernels chosen, the page's imports done
        at = page().run()
        cpu = time.process_time()
        for _ in range(5):
            at.run()
        cpu_ms = (time.process_time() - cpu) * 1000 / 5
        alone, watched = [], []
        for i in range(pairs):
            order = (False, True) if i % 2 == 0 else (True, False)
            rates = {w: train_once(w) for w in order}
            alone.append(rates[False])
            watched.append(rates[True])
    finally:
        if previous is None:
            os.environ.pop("EXPLORER_HOME", None)
        else:
            os.environ["EXPLORER_HOME"] = previous
    slowdown = statistics.median(1 - w / a for a, w in zip(alone, watched))
    return (statistics.median(alone), statistics.median(watched), slowdown, len(page_ms),
            statistics.median(page_ms) if page_ms else 0.0, cpu_ms)


def report_runs_page() -> bool:
    """The live Runs page's cost to training throughput, and its goal. True when the goal fails."""
    alone, watched, slowdown, views, ms, cpu_ms = bench_runs_page()
    verdict = "PASS" if slowdown < RUNS_PAGE_GOAL else "FAIL"
    print(f"{verdict}: a LeNet run trains at {alone:,.0f} img/s alone and {watched:,.0f} img/s while the whole live "
          f"Runs page reruns every {RUNS_PAGE_EVERY_S:.0f} s in the same process (medians of 3 pairs; {views} page "
          f"runs of {ms:.0f} ms, {cpu_ms:.0f} ms of CPU each): {slowdown:+.1%} slower (median of the pairs; goal < "
          f"{RUNS_PAGE_GOAL:.0%})")
    return verdict == "FAIL"


def report_class() -> bool:
    """scripts/class_load.py's figures — cold start, server CPU per warm page view, RSS with a run going, 30 browsers
    at once on one server, and the same 30 through nginx over two replicas (docs/deploy.md) — and the cold-start
    goal. True when the goal fails."""
    import class_load  # scripts/ is on the path of a script run from it

    results = {name: measure() for name, measure in class_load.MEASURES.items()}
    print(class_load.report(results))
    cold = results["cold"]["median_s"]
    verdict = "PASS" if cold < COLD_START_GOAL_S else "FAIL"
    print(f"{verdict}: cold start (server restart → Home drawn) {cold:.1f} s (goal < {COLD_START_GOAL_S:.0f} s)")
    return verdict == "FAIL"


if __name__ == "__main__":
    sys.exit(main())
