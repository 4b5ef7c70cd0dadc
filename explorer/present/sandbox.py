"""The playground's snippets run in worker processes with hard limits from the operating system: interpret, analyse,
trace and draw, each snippet in a separate process the server (or the CLI) only talks to through two pipes.

The interpreter (:mod:`explorer.playground`) refuses everything outside its subset and counts the work it does, but
no check inside one Python process is a sandbox: CPython itself crashes on some values (a tuple nested 160,000 deep,
hashed), and a step budget bounds steps, not the work one step does in C. So, as online judges and notebook kernels
do, the snippet runs in a child process:

- **started fresh** (``python -c``, not a fork of a threaded server), with ``OMP_NUM_THREADS=1`` and
  ``CUDA_VISIBLE_DEVICES=""`` (one thread reserves little address space; CUDA is never initialised there), from a
  temporary working directory;
- **limited by the kernel** before it reads any code: ``RLIMIT_AS`` (address space, 1.5 GB: a process never holds
  more than that in memory, resident or not), ``RLIMIT_CPU`` (re-armed before each snippet: CPU seconds),
  ``RLIMIT_NOFILE`` (the files it has open when ready, and a few for Graphviz), no core files; its own process
  group, so that the parent's wall-clock timeout kills it and the ``dot`` it may be running together;
- **answering plain data**: one line of JSON, read with a size limit, decoded into the allowlisted result types (the
  :class:`~explorer.analysis.Summary` and :class:`~explorer.analysis.graph.Graph` dataclasses, strings, numbers) and
  messages whose templates are plain ``{field}`` formats — never a pickle, never a format that reaches attributes;
- **replaced** when it crashes, hangs, runs out of memory or answers too much: the caller gets one sentence
  (:class:`~explorer.playground.CodeError` without a line) in the reader's language, the next snippet a fresh process.

A small pool keeps workers warm (PyTorch imported, the analysis' lazy imports done) so that an edit in the playground
costs the analysis and a round trip, not a start. The standard library does all of it (``subprocess``, ``select``,
``resource``): no dependency to trust beyond it. Linux and macOS; elsewhere ``resource`` is missing and the limits are
the interpreter's alone.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from ..analysis.field import Axis
from ..analysis.graph import Graph, Node
from ..analysis.summary import InputShapeError, LayerRecord, ReceptiveField, Summary
from ..i18n import N_, Message, Quoted
from ..playground import CodeError
from ..playground.interpreter import RaisedWords

MB = 2**20
FRESH_WORKER = 768 * MB  # the address space of a worker started fresh, PyTorch imported and warmed up (~700 MB)


@dataclass(frozen=True)
class WorkerLimits:
    """What one snippet's process may use (the interpreter's own limits come on top:
    :class:`explorer.playground.Limits`)."""

    memory: int = 1536 * MB  # RLIMIT_AS: the address space of the process
    seconds: float = 10.0  # wall clock for interpret + analyse + trace + draw; CPU seconds as well
    files: int = 24  # RLIMIT_NOFILE beyond the files open when the worker is ready
    answer: int = 32 * MB  # the JSON line the parent reads
    nodes: int = 1_500  # the diagram's nodes …
    edges: int = 3_000  # … and edges: more are not drawn (Graphviz's layout grows faster than linearly)
    dot_seconds: float = 5.0  # Graphviz's own timeout, inside the worker's
    start_seconds: float = 90.0  # a worker's start (importing PyTorch) on a busy machine
    requests: int = 200  # a worker is replaced after this many snippets (fresh memory, fresh CPU limit)

    @property
    def memory_text(self) -> str:
        return f"{self.memory / 2**30:.1f} GB" if self.memory >= 2**30 else f"{self.memory // MB} MB"


DEFAULT_WORKER_LIMITS = WorkerLimits()
# Fields of explorer.playground.Limits that every request overrides (empty: the interpreter's defaults). Tests loosen
# them to reach the process-level defences with snippets the interpreter would refuse first.
INTERPRETER_LIMITS: dict[str, int] = {}


@dataclass(frozen=True)
class Analysis:
    """What a worker answers for a snippet that builds a network that takes the input."""

    summary: Summary
    graph: Graph | None  # None when the diagram is not drawn (too large): ``diagram_error`` says why
    drawing: str | bytes | None  # SVG text, PNG bytes, or None (not asked, or not drawn)
    diagram_error: CodeError | None = None


# --- plain data across the pipe ----------------------------------------------------------------------------------

_DATACLASSES: dict[str, type] = {t.__name__: t for t in (Summary, LayerRecord, ReceptiveField, Axis, Graph, Node)}
_MESSAGES: dict[str, type[Message]] = {"Message": Message, "RaisedWords": RaisedWords}


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data: the allowlisted dataclasses, tuples, dicts and messages tagged with ``@``."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Quoted):
        return {"@": "Quoted", "s": str(value)}
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return {"@": type(value).__name__, "t": value.template, "v": {k: encode(v) for k, v in value.values.items()}}
    if isinstance(value, tuple):
        return {"@": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"@": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if is_dataclass(value) and type(value).__name__ in _DATACLASSES:
        return {"@": type(value).__name__, "f": {f.name: encode(getattr(value, f.name)) for f in fields(value)}}
    raise TypeError(f"{type(value).__name__} does not cross the worker's pipe")


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`, for data read from a worker: anything but the allowlisted shapes is refused."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise ValueError("unexpected data")
    tag = data.get("@")
    if tag == "Quoted":
        return Quoted(_string(data["s"]))
    if tag == "tuple":
        return tuple(decode(v) for v in data["v"])
    if tag == "dict":
        return {decode(k): decode(v) for k, v in data["v"]}
    if tag in _MESSAGES:
        template = _string(data["t"])
        values = {_string(k): decode(v) for k, v in data["v"].items()}
        _check_template(template, values)
        return _MESSAGES[tag](template, values)
    if tag in _DATACLASSES:
        cls = _DATACLASSES[tag]
        known = {f.name for f in fields(cls)}
        if set(data["f"]) - known:
            raise ValueError(f"unexpected fields of {tag}")
        return cls(**{k: decode(v) for k, v in data["f"].items()})
    raise ValueError(f"unexpected tag {tag!r}")


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _check_template(template: str, values: dict[str, Any]) -> None:
    """A template from a worker is formatted in the parent: only ``{name}`` and ``{name:,}`` fields of its own values
    (``str.format`` can read attributes and items — ``{v.__class__}`` — which a plain field cannot)."""
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or name not in values or spec not in ("", ",") or conversion is not None:
            raise ValueError("unexpected template")


def encode_error(error: CodeError) -> dict[str, Any]:
    return {"line": error.line, "reason": encode(error.reason)}


def decode_error(data: dict[str, Any]) -> CodeError:
    reason = decode(data["reason"])
    line = data.get("line")
    if not isinstance(reason, Message) or not (line is None or (isinstance(line, int) and line > 0)):
        raise ValueError("unexpected error")
    return CodeError(reason, line)


# --- the worker's side --------------------------------------------------------------------------------------------

# Run with ``python -c``: the limits are set before PyTorch (or anything of the snippet's) is imported.
_BOOTSTRAP = """
import json, resource, sys
limits = json.loads(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
from explorer.present.sandbox import serve
serve(limits)
"""


def serve(limits: dict[str, Any], requests: Any = None, answers: Any = None) -> None:
    """The worker's loop: warm up, set the remaining limits, say ``ready``, then answer one JSON line per request
    line until the requests end (standard input and output unless given)."""
    import resource

    import torch

    torch.set_num_threads(1)
    requests = requests if requests is not None else sys.stdin
    if answers is None:
        answers = os.fdopen(os.dup(1), "w", encoding="utf-8")  # answers go here; anything printed goes nowhere
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _warm_up()
    fds = [int(f) for f in os.listdir("/proc/self/fd")] if os.path.isdir("/proc/self/fd") else [answers.fileno()]
    nofile = max(fds) + 1 + limits["files"]
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    cpu_hard = int(_cpu_seconds() + limits["seconds"] * (limits["requests"] + 1) + 60)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_hard, cpu_hard))
    answers.write("ready\n")
    answers.flush()
    for line in requests:
        soft = min(cpu_hard, int(math.ceil(_cpu_seconds() + limits["seconds"])) + 1)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, cpu_hard))
        try:
            answer = _answer(json.loads(line), limits)
        except MemoryError:
            answer = {"memory": True}
        text = json.dumps(answer, ensure_ascii=False)
        if len(text) > limits["answer"]:
            text = json.dumps({"too_large": len(text)})
        answers.write(text + "\n")
        answers.flush()


def _cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


def _warm_up() -> None:
    """PyTorch and the analysis import parts of themselves on first use (seconds on a busy machine): do it now, so
    that a snippet's time is its own."""
    from torch import nn

    from ..analysis import analyze, graph

    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 3 * 3, 2))
    analyze(net, (1, 8, 8))
    graph.trace(net, (1, 8, 8))


def _answer(request: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    import random

    import torch

    from ..analysis import analyze, graph
    from ..playground import Limits, locate_failure, parse_network
    from ..playground.interpreter import first_line
    from . import diagram

    random.seed(0)
    torch.manual_seed(0)
    shape = tuple(request["input"])
    try:
        net = parse_network(request["code"], limits=Limits(**request.get("limits", {})))
        try:
            summary = analyze(net, shape)
        except InputShapeError as exc:
            located = locate_failure(net, shape)
            if located is None:
                return {"input": encode(exc.message)}
            raise located from None
        answer: dict[str, Any] = {"summary": encode(summary)}
        if request.get("graph"):
            traced = graph.trace(net, shape)
            nodes, edges = len(traced.nodes), len(traced.edges)
            if nodes > limits["nodes"] or edges > limits["edges"]:
                answer["diagram_error"] = encode_error(CodeError(
                    N_("the diagram is not drawn: it has {nodes} nodes and {edges} edges, more than {limit_nodes} "
                       "nodes or {limit_edges} edges"), nodes=f"{nodes:,}", edges=f"{edges:,}",
                    limit_nodes=f"{limits['nodes']:,}", limit_edges=f"{limits['edges']:,}"))
                return answer
            answer["graph"] = encode(traced)
            fmt = request.get("draw")
            if fmt:
                dot = diagram.to_dot(traced, depth=request.get("depth"), rankdir=request.get("rankdir", "TB"))
                try:
                    drawn = _draw(dot, fmt, limits["dot_seconds"])
                except CodeError as exc:
                    answer["diagram_error"] = encode_error(exc)
                else:
                    answer["drawing"] = drawn.decode("utf-8") if fmt == "svg" else drawn.hex()
        return answer
    except CodeError as exc:
        return {"error": encode_error(exc)}
    except MemoryError:
        raise
    except RecursionError:
        return {"error": encode_error(CodeError(N_("the code nests calls too deeply")))}
    except Exception as exc:  # noqa: BLE001 — whatever else fails is one sentence, never a traceback
        return {"error": encode_error(CodeError(N_("the analysis failed: {error}"), error=Quoted(first_line(exc))))}


def _draw(dot: str, fmt: str, seconds: float) -> bytes:
    """Graphviz's ``dot`` on ``dot``, killed after ``seconds``."""
    try:
        done = subprocess.run(["dot", f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, timeout=seconds,
                              check=False)
    except FileNotFoundError:
        raise CodeError(N_("the diagram is not drawn: Graphviz's dot program is missing (apt-get install graphviz)")
                        ) from None
    except subprocess.TimeoutExpired:
        raise CodeError(N_("the diagram is not drawn: Graphviz took longer than {seconds} s"),
                        seconds=f"{seconds:g}") from None
    if done.returncode != 0:
        words = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["exit status"])[0][:300]
        raise CodeError(N_("the diagram is not drawn: {error}"), error=Quoted(words))
    return done.stdout


# --- the parent's side --------------------------------------------------------------------------------------------


class ProcessError(CodeError):
    """The snippet's process crashed, ran out of time or memory, or answered too much: not a mistake the code's
    lines name, and not the same next time on a less busy machine (a page does not keep it in its cache)."""


class WorkerFailure(Exception):
    """The worker process itself failed (crash, timeout, memory, an answer too large or malformed): ``error`` is the
    sentence for the reader; the worker is gone."""

    def __init__(self, error: CodeError) -> None:
        super().__init__(str(error))
        self.error = error


class _Forked:
    """A worker forked from this process (the CLI: single-threaded, PyTorch already imported — as DataLoader workers
    are forked), with the few methods of :class:`subprocess.Popen` the :class:`Worker` uses."""

    def __init__(self, settings: dict[str, Any]) -> None:
        import resource

        from ..runtime.coderun import address_space  # here: a worker started fresh never needs the run store

        request_r, request_w = os.pipe()
        answer_r, answer_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.setsid()
                os.close(request_w)
                os.close(answer_r)
                os.chdir(tempfile.gettempdir())
                os.environ.update(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
                # the address space it inherits, and the room a fresh worker has beside its own (~700 MB)
                memory = max(settings["memory"], address_space() + settings["memory"] - FRESH_WORKER)
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                serve(settings, os.fdopen(request_r, "r", encoding="utf-8"),
                      os.fdopen(answer_w, "w", encoding="utf-8"))
            finally:
                os._exit(0)
        os.close(request_r)
        os.close(answer_w)
        self.pid = pid
        self.stdin = os.fdopen(request_w, "wb")
        self.stdout = os.fdopen(answer_r, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("worker", timeout)
            time.sleep(0.02)
        return self.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class Worker:
    """One worker process: started and made ready by the constructor; :meth:`ask` sends one request and reads one
    answer within the limits, killing the process (and raising :class:`WorkerFailure`) when it does not answer.

    A server starts a fresh interpreter (``python -c``): forking a process that runs threads can copy a lock some
    other thread holds. A single-threaded caller that has already imported PyTorch — the CLI — forks (``fork=True``):
    that saves it a second start of PyTorch (seconds on a busy machine)."""

    def __init__(self, limits: WorkerLimits = DEFAULT_WORKER_LIMITS, *, fork: bool = False) -> None:
        self.limits = limits
        self.requests = 0
        settings = {"memory": limits.memory, "seconds": limits.seconds, "files": limits.files,
                    "answer": limits.answer, "nodes": limits.nodes, "edges": limits.edges,
                    "dot_seconds": limits.dot_seconds, "requests": limits.requests}
        if fork:
            self.process: Any = _Forked(settings)
        else:
            root = str(Path(__file__).resolve().parents[2])
            env = {k: v for k, v in os.environ.items() if not k.startswith(("CUDA_", "PYTORCH_CUDA", "OMP_", "MKL_"))}
            env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="",
                       PYTHONPATH=os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]),
                       PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP, json.dumps(settings)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(), env=env,
                start_new_session=True, close_fds=True)
        self._buffer = b""
        try:
            ready = self._read_line(time.monotonic() + limits.start_seconds)
        except WorkerFailure:
            raise WorkerFailure(CodeError(N_("the interpreter process did not start"))) from None
        if ready != b"ready":
            self.kill()
            raise WorkerFailure(CodeError(N_("the interpreter process did not start")))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the worker and whatever it started (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(Exception):
                stream.close()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)

    def ask(self, request: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
        """Send ``request``; its answer (a dict), read within ``seconds`` (the limits' by default)."""
        seconds = self.limits.seconds if seconds is None else seconds
        self.requests += 1
        try:
            self.process.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail()
        line = self._read_line(time.monotonic() + seconds, seconds)
        try:
            answer = json.loads(line)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
        except ValueError:
            self.kill()
            raise WorkerFailure(CodeError(N_("the snippet crashed the interpreter process"))) from None
        if answer.get("memory"):
            self.kill()  # its memory may be left fragmented: a fresh process serves the next snippet
            raise WorkerFailure(self._memory_error())
        if "too_large" in answer:
            raise WorkerFailure(CodeError(N_("the snippet's answer is larger than {limit}"),
                                          limit=f"{self.limits.answer // MB} MB"))
        return answer

    def _memory_error(self) -> CodeError:
        return CodeError(N_("the snippet used more than {limit}"), limit=self.limits.memory_text)

    def _read_line(self, deadline: float, seconds: float | None = None) -> bytes:
        out = self.process.stdout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise WorkerFailure(CodeError(N_("the snippet ran out of its {seconds} s"),
                                              seconds=f"{seconds or self.limits.seconds:.2g}"))
            readable, _, _ = select.select([out], [], [], min(left, 0.5))
            if not readable:
                continue
            chunk = os.read(out.fileno(), 1 << 20)
            if not chunk:
                self._fail()
            self._buffer += chunk
            if len(self._buffer) > self.limits.answer + 1024:
                self.kill()
                raise WorkerFailure(CodeError(N_("the snippet's answer is larger than {limit}"),
                                              limit=f"{self.limits.answer // MB} MB"))
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _fail(self) -> None:
        """The worker closed its end: say how it ended."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code in (-signal.SIGXCPU, -signal.SIGKILL):  # the CPU limit (soft, then hard)
            raise WorkerFailure(CodeError(N_("the snippet ran out of its {seconds} s"),
                                          seconds=f"{self.limits.seconds:g}"))
        raise WorkerFailure(CodeError(N_("the snippet crashed the interpreter process")))


class Pool:
    """Up to ``size`` warm workers shared by the threads of a server: each snippet gets one to itself."""

    def __init__(self, size: int = 2, limits: WorkerLimits = DEFAULT_WORKER_LIMITS, *, fork: bool = False) -> None:
        self.size, self.limits, self.fork = size, limits, fork
        self._idle: list[Worker] = []
        self._count = 0  # workers alive or starting
        self._starting = 0  # of which starting in the background: a request waits for one rather than start another
        self._lock = threading.Condition()

    def prestart(self) -> None:
        """Start a worker in the background when none is idle, so that the next snippet finds one warm."""
        with self._lock:
            if self._idle or self._starting or self._count >= self.size:
                return
            self._count += 1
            self._starting += 1
        threading.Thread(target=self._start_idle, daemon=True, name="playground-worker-start").start()

    def _start_idle(self) -> None:
        try:
            worker = Worker(self.limits, fork=self.fork)
        except WorkerFailure:
            with self._lock:
                self._count -= 1
                self._starting -= 1
                self._lock.notify_all()
            return
        with self._lock:
            self._starting -= 1
            self._idle.append(worker)
            self._lock.notify_all()

    def _acquire(self) -> Worker:
        with self._lock:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker
                    self._count -= 1
                if self._count < self.size and not self._starting:
                    self._count += 1
                    break
                self._lock.wait(timeout=1.0)
        try:
            return Worker(self.limits, fork=self.fork)
        except WorkerFailure:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise

    def _release(self, worker: Worker, healthy: bool) -> None:
        keep = healthy and worker.alive and worker.requests < self.limits.requests
        if not keep:
            worker.kill()
        with self._lock:
            if keep:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._lock.notify()
        if not keep:
            self.prestart()  # the next snippet should not wait for a start

    def ask(self, request: dict[str, Any], seconds: float | None = None,
            deadline: float | None = None) -> dict[str, Any]:
        """One request on one worker, answered within ``seconds`` (the limits' by default) and before ``deadline``
        (``time.monotonic()``), however long the worker took to start; a worker whose request did not end cleanly is
        replaced."""
        worker = self._acquire()
        if deadline is not None:
            seconds = min(seconds or self.limits.seconds, max(0.5, deadline - time.monotonic()))
        healthy = False
        try:
            answer = worker.ask(request, seconds)
            healthy = True
            return answer
        finally:  # also when the caller's thread is stopped while it waits (a Streamlit rerun)
            self._release(worker, healthy)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.kill()


def analyse(code: str, input_shape: Sequence[int], *, pool: Pool | None = None, graph: bool = True,
            draw: str | None = None, depth: int | None = None, rankdir: str = "TB", seconds: float | None = None,
            deadline: float | None = None, interpreter_limits: dict[str, int] | None = None) -> Analysis:
    """Interpret, analyse, trace and (``draw``: ``"svg"`` or ``"png"``) draw ``code`` at ``input_shape`` in a worker.

    Raises :class:`~explorer.playground.CodeError` for a refused or failing snippet, :class:`ProcessError` (one
    sentence, no line) for a worker that crashed, timed out, ran out of memory or answered too much, and
    :class:`~explorer.analysis.InputShapeError` for an input the network cannot take that no line explains.
    ``interpreter_limits`` overrides fields of :class:`explorer.playground.Limits` (tests)."""
    request = {"code": code, "input": [int(d) for d in input_shape], "graph": graph or bool(draw), "draw": draw,
               "depth": depth, "rankdir": rankdir,
               "limits": interpreter_limits if interpreter_limits is not None else INTERPRETER_LIMITS}
    try:
        answer = (pool or default_pool()).ask(request, seconds, deadline)
    except WorkerFailure as failure:
        raise ProcessError(failure.error.reason) from None
    try:
        return _read_answer(answer, draw)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, (CodeError, InputShapeError)):
            raise
        raise ProcessError(N_("the snippet crashed the interpreter process")) from None


def _read_answer(answer: dict[str, Any], draw: str | None) -> Analysis:
    if "error" in answer:
        raise decode_error(answer["error"])
    if "input" in answer:
        message = decode(answer["input"])
        if not isinstance(message, Message):
            raise ValueError("unexpected answer")
        raise InputShapeError(message)
    summary = decode(answer["summary"])
    graph = decode(answer["graph"]) if "graph" in answer else None
    if not isinstance(summary, Summary) or not (graph is None or isinstance(graph, Graph)):
        raise ValueError("unexpected answer")
    drawing: str | bytes | None = None
    if "drawing" in answer:
        drawing = _string(answer["drawing"]) if draw == "svg" else bytes.fromhex(_string(answer["drawing"]))
    diagram_error = decode_error(answer["diagram_error"]) if "diagram_error" in answer else None
    return Analysis(summary, graph, drawing, diagram_error)


_default: Pool | None = None
_default_lock = threading.Lock()


def default_pool() -> Pool:
    """The process's pool (created on first use; its workers end with the process: their standard input closes)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pool(int(os.environ.get("EXPLORER_PLAYGROUND_WORKERS", "2")))
        return _default
