"""Train a network built in the playground: the checks before a run, and the limited child process that trains it.

A playground network is code (:mod:`explorer.playground`), and its interpreted ``forward`` is that code running on
real tensors for minutes. So it never trains in the process that asked for it (the app's server, the CLI): it trains
in a child, ``python -m explorer.runtime.coderun``, which sets its limits before it reads the code — one PyTorch
thread (``OMP_NUM_THREADS=1`` from the parent, ``torch.set_num_threads(1)``: a thread pool reserves address space),
no core files, and an address space (``RLIMIT_AS``) of what it holds at that moment, Fashion-MNIST, the memory the
network was checked to need and a margin. Then it reads the code from the run store, checks it again, builds the real
model with the same safe interpreter (on the device the recipe names; a ``device=`` in the code is still refused)
and trains it with the engine every zoo model trains with (:func:`explorer.runtime.runner.execute`): the same store,
checkpoints, live progress and stop flag. On CUDA the address space is not limited (the driver reserves far more
address space than it uses); the GPU memory the process may take is (``torch.cuda.set_per_process_memory_fraction``).

Before any of that the network is checked from its analysis (:func:`check_network`: plain numbers from the meta
device, which the playground's worker process computes): it must take 1-channel square images (Fashion-MNIST
resized to the recipe's side), end in 10 class scores, and need no more memory for the recipe's batch than the limit
(``EXPLORER_MAX_CODE_MEMORY_MB``, default 1,024): "this network needs 3.2 GB for batch 256; the limit is 1 GB".

A run of a playground network has the model id ``code:<8 hex digits of the code's SHA-256>`` and keeps its code in
the store (``runs.code``), so it can be resumed and rebuilt later; its recipe always names the side the images are
resized to, which is its input (1, side, side).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..analysis import Summary
from ..i18n import N_, InvalidValue, Message
from ..playground import CodeError, parse_network
from ..zoo.registry import ModelSpec
from . import runner, runs
from . import train as engine
from .devices import pick_device

PREFIX = "code:"
MEMORY_SETTING = "EXPLORER_MAX_CODE_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024
MEGABYTE = 2**20
DATA_BYTES = 512 * MEGABYTE  # Fashion-MNIST as floats (188 MB train, 31 MB test), its raw bytes, copies on the way
MARGIN_BYTES = 512 * MEGABYTE  # beside the need: the allocator, autograd's bookkeeping, functional ops' outputs
CODE_INPUT = (1, 28, 28)
CHILD_SECONDS = 120  # timing a few steps, or classifying one image, in a child process (its start included)
CODE_CLASSES = 10


class CodeRefused(InvalidValue):
    """A playground network that cannot train on Fashion-MNIST (wrong channels, not 10 outputs, too much memory),
    refused before anything is allocated (a ``ValueError``)."""


class CodeGone(InvalidValue):
    """A stored run whose code this version's interpreter no longer takes (a ``ValueError``)."""


def code_id(code: str) -> str:
    """The model id of a playground network: ``code:`` and the first 8 hex digits of its code's SHA-256."""
    return PREFIX + hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]


def is_code(model: str) -> bool:
    """Whether ``model`` (a run's model id) is a playground network's."""
    return model.startswith(PREFIX)


def code_recipe(side: int) -> engine.Recipe:
    """The recipe of a playground network: the ``lenet`` preset's (d2l's LeNet chapter), at ``side`` pixels."""
    return replace(engine.PRESETS["lenet"].recipe, resize=side)


def training_input(input_shape: tuple[int, ...], recipe: engine.Recipe) -> tuple[int, int, int]:
    """The input a network trains on: (1, side, side), side being the recipe's resize, else the input's own.
    :class:`CodeRefused` for an input that is not one channel of a square image."""
    if len(input_shape) != 3:
        raise CodeRefused(N_("the network takes input {shape}; Fashion-MNIST images are 1×H×W: set the input to "
                             "1,28,28"), shape="×".join(map(str, input_shape)))
    channels, height, width = input_shape
    if channels != 1:
        raise CodeRefused(N_("the network takes {channels}-channel images, but Fashion-MNIST's have 1 channel: make "
                             "its first layer take 1 channel and set the input to 1,{height},{width}"),
                          channels=channels, height=height, width=width)
    side = recipe.resize if recipe.resize is not None else height
    if recipe.resize is None and height != width:
        raise CodeRefused(N_("the input {height}×{width} is not square, but Fashion-MNIST's images are resized to a "
                             "square: set the input to 1,{height},{height}"), height=height, width=width)
    return (1, side, side)


def memory_need(summary: Summary, batch_size: int, momentum: float = 0.0) -> int:
    """Bytes a training step of ``batch_size`` images takes, from the analysis' real shapes (float32): the weights,
    their gradients (and SGD's momentum buffers), and per image the input and every layer's output, kept for the
    backward pass, with its gradient. Outputs of functions called inside a ``forward`` (``F.relu``) are not layers:
    the child's margin holds them."""
    weights = summary.param_bytes * (3 if momentum else 2)
    per_image = 4 * math.prod(summary.input_shape[1:]) + 2 * summary.total_memory
    return weights + batch_size * per_image


def memory_limit(settings: Mapping[str, object] | None = None) -> int:
    """The most memory a playground network may need, in bytes (``EXPLORER_MAX_CODE_MEMORY_MB``, default 1,024)."""
    settings = os.environ if settings is None else settings
    raw = str(settings.get(MEMORY_SETTING) or "").strip()
    if not raw:
        return DEFAULT_MEMORY_MB * MEGABYTE
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidValue(N_("the setting {name} must be a positive number of megabytes, not {value}"),
                           name=MEMORY_SETTING, value=repr(raw))
    return int(value * MEGABYTE)


def size_text(n: int) -> str:
    """Bytes as people say them: ``3.2 GB``, ``310 MB``, ``1 GB``."""
    if n >= 2**30:
        return f"{n / 2**30:.1f}".removesuffix(".0") + " GB"
    return f"{max(1, round(n / MEGABYTE))} MB"


def check_network(summary: Summary, recipe: engine.Recipe, limit: int | None = None) -> int:
    """Refuse (:class:`CodeRefused`) a network that does not end in 10 class scores per image or needs more memory
    than ``limit`` (default :func:`memory_limit`) for the recipe's batch; the bytes it needs."""
    out = summary.output_shape
    if out is None or tuple(out[1:]) != (CODE_CLASSES,):
        shape = "×".join(map(str, out[1:])) if out is not None else "?"
        raise CodeRefused(N_("the network gives {shape} values per image, not the 10 class scores Fashion-MNIST "
                             "needs: end it with a layer of 10 outputs, such as nn.Linear(…, 10)"), shape=shape)
    need = memory_need(summary, recipe.batch_size, recipe.momentum)
    limit = memory_limit() if limit is None else limit
    if need > limit:
        raise CodeRefused(N_("this network needs {need} for batch {batch}; the limit is {limit}: choose a smaller "
                             "batch size or a smaller network"), need=size_text(need), batch=recipe.batch_size,
                          limit=size_text(limit))
    return need


def network_spec(code: str, input_shape: tuple[int, ...], device: str | torch.device = "meta") -> ModelSpec:
    """A playground network as the engine takes a model: its id, its input, 10 classes, built by the safe
    interpreter on ``device``."""
    def build(**_overrides) -> torch.nn.Module:
        return parse_network(code, device=device)

    return ModelSpec(id=code_id(code), family="playground", title=N_("your network"), year=0, paper="",
                     input_shape=tuple(input_shape), num_classes=CODE_CLASSES, builder=build, params=0,
                     introduced=N_("a network built in the playground"), source="playground")


def stored_code(row: dict) -> tuple[str, tuple[int, int, int]]:
    """The code of a stored run of a playground network and the input it trains on."""
    side = row["recipe"].get("resize") or CODE_INPUT[-1]
    return row["code"], (1, side, side)


def gone(run: str, error: Exception) -> CodeGone:
    """The sentence for a stored run whose code no longer parses."""
    reason = error.message if isinstance(error, CodeError) else Message(str(error))
    return CodeGone(N_("run {run} was trained from code that this version of the playground no longer takes "
                       "({reason}): open it in the playground, fix it and train it as a new run"),
                    run=run, reason=reason)


# --- the parent's side ----------------------------------------------------------------------------------------------
def child_env() -> dict[str, str]:
    """The child's environment: one thread for PyTorch's pools (they reserve address space under ``RLIMIT_AS``)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def launch_code(store: runs.Store, run: str, device: str = "auto", memory: int | None = None, *, resume: bool = False,
           on_step: engine.OnStep | None = None, on_epoch: Callable[[engine.Epoch], None] | None = None,
           echo: Callable[[str], None] | None = None, stdout=None) -> runner.Launched:
    """Train the stored run ``run`` of a playground network (``resume``: from its last completed epoch) in a child
    process limited to ``memory`` (the bytes :func:`check` found it needs; default: the limit) plus a margin.
    Progress comes to ``on_step`` / ``on_epoch`` as from any launched run; the run's store row says how it ended."""
    folder = store.folder(run)
    folder.mkdir(parents=True, exist_ok=True)
    request = {"run": run, "home": str(store.root), "device": device, "resume": resume,
               "memory": memory if memory is not None else memory_limit()}
    path = folder / "request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    command = [sys.executable, "-m", "explorer.runtime.coderun", str(path)]
    return runner.launch(store, run, [], 1, on_step=on_step, on_epoch=on_epoch, echo=echo, stdout=stdout,
                         command=command, env=child_env())


def stored_result(store: runs.Store, run: str) -> engine.TrainResult | None:
    """The :class:`TrainResult` of a finished run (``None`` before it has one)."""
    row = store.get(run)
    return engine.TrainResult.from_info(row["model"], row["info"], run, row["world_size"]) if row["info"] else None


# --- the child's side -----------------------------------------------------------------------------------------------
def address_space() -> int:
    """This process's address space (VmSize), in bytes; 0 where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return 0


def limit_process(memory: int, device: torch.device) -> int | None:
    """Limit this process before it reads any code: one PyTorch thread, no core files, and (off CUDA) an address
    space of what it holds now, the data, ``memory`` and a margin; on CUDA, that much of the GPU. The address-space
    limit set (``None`` on CUDA)."""
    torch.set_num_threads(1)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, (memory + MARGIN_BYTES) / total), device)
        return None
    limit = address_space() + limit_of({"memory": memory})
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def train_stored(request: dict) -> int:
    """The child: limits first, then the stored run's code, checked again, trained with the engine."""
    from ..analysis import analyze

    store = runs.Store(request["home"])
    run = request["run"]
    dev = pick_device(request["device"])
    limit_process(int(request["memory"]), dev)
    row = store.get(run)
    code, shape = stored_code(row)
    recipe = replace(engine.Recipe(), **row["recipe"])
    channel = runner.ProgressFile(os.environ[runner.PROGRESS_ENV]) if os.environ.get(runner.PROGRESS_ENV) else None
    try:
        try:
            summary = analyze(parse_network(code), shape)
        except CodeError as exc:
            raise gone(run, exc) if request["resume"] else exc from None
        need = check_network(summary, recipe)
        if need > int(request["memory"]):
            raise CodeRefused(N_("this network needs {need} for batch {batch}; the limit is {limit}: choose a "
                                 "smaller batch size or a smaller network"), need=size_text(need),
                              batch=recipe.batch_size, limit=size_text(int(request["memory"])))
    except (InvalidValue, ValueError) as exc:  # said before the run starts: the store keeps it as it was
        if channel is not None:
            channel.write_error(exc.message if isinstance(exc, InvalidValue) else Message(str(exc)))
        print(f"error: {exc}", file=sys.stderr)
        return 2
    checkpoint = store.checkpoint(run) if request["resume"] else None
    try:
        runner.execute(store, run, network_spec(code, shape, dev), recipe, str(dev.type), row["train_limit"],
                       resume=checkpoint, stop=runs.StopFile(store.folder(run) / "stop"),
                       test_batch=recipe.batch_size)
    except Exception as exc:  # noqa: BLE001 — the run is recorded as failed already; here it gets its sentence
        if not isinstance(exc, MemoryError) and "can't allocate memory" not in str(exc):
            raise
        error = InvalidValue(N_("the network ran out of the {limit} it was given: its forward makes tensors the "
                                "memory check does not see (a function's output is not a layer's); make them "
                                "smaller or choose a smaller batch size"), limit=size_text(limit_of(request)))
        store.finish(run, "failed", error=str(error))
        if channel is not None:
            channel.write_error(error.message)
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def limit_of(request: dict) -> int:
    """What a child may use beside what it holds when it starts: the data, the checked need and a margin."""
    memory = int(request["memory"])
    return DATA_BYTES + memory + max(MARGIN_BYTES, memory)


def child_main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    return train_stored(request)


def estimate_code(code: str, input_shape: tuple[int, ...], recipe: engine.Recipe, device: str = "auto",
                  limit: int | None = None, memory: int | None = None) -> float:
    """Seconds one epoch of a playground network will take, measured as the zoo's are
    (:func:`explorer.runtime.train.estimate_epoch_seconds`: a few timed steps) — in a limited child process."""
    import subprocess

    memory = memory if memory is not None else memory_limit()
    request = {"input": list(input_shape), "recipe": asdict(recipe), "limit": limit, "code": code}
    try:
        done = subprocess.run([sys.executable, "-m", "explorer.runtime.coderun", "--estimate", str(memory), device],
                              input=json.dumps(request), capture_output=True, text=True, env=child_env(),
                              timeout=CHILD_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise CodeRefused(N_("the network could not be timed: its process took more than {seconds} s"),
                          seconds=CHILD_SECONDS) from None
    try:
        return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
    except (ValueError, IndexError, KeyError, TypeError):
        raise CodeRefused(N_("the network could not be timed: its process ended with status {code}"),
                          code=done.returncode) from None


def estimate_child(memory: int, device: str) -> int:
    """The child of :func:`estimate_code`: limits first, then the request (with the code) from standard input."""
    dev = pick_device(device)
    limit_process(memory, dev)
    request = json.loads(sys.stdin.read())
    recipe = engine.Recipe(**request["recipe"])
    seconds = engine.estimate_epoch_seconds(network_spec(request["code"], tuple(request["input"]), dev), recipe,
                                            str(dev.type), request["limit"], probe=2)
    print(json.dumps({"seconds": seconds}))
    return 0


def classify_code(store: runs.Store, run: str, x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The class probabilities of a stored playground network's run (the weights of its last completed epoch) for
    one input ``x`` (C×H×W), computed in a limited child process, and the milliseconds its forward pass took there
    (the rest is the process's start: PyTorch imported, the code interpreted, the weights loaded). :class:`CodeGone`
    when its code no longer parses."""
    import subprocess

    weights = store.weights(run)
    request = {"home": str(store.root), "run": run, "weights": str(weights), "input": x.tolist()}
    try:
        done = subprocess.run([sys.executable, "-m", "explorer.runtime.coderun", "--classify", str(memory_limit())],
                              input=json.dumps(request), capture_output=True, text=True, env=child_env(),
                              timeout=CHILD_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise CodeRefused(N_("the network took more than {seconds} s to classify the image in its process"),
                          seconds=CHILD_SECONDS) from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if "error" in answer:
            raise CodeGone(runner.plain_message(answer["error"]["template"], answer["error"]["values"]))
        probs = torch.tensor([float(p) for p in answer["probs"]])
        forward_ms = float(answer["forward_ms"])
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        if isinstance(exc, CodeGone):
            raise
        raise CodeRefused(N_("the network's process ended with status {code} before it classified the image"),
                          code=done.returncode) from None
    if probs.shape != (CODE_CLASSES,):
        raise CodeRefused(N_("the network's process ended with status {code} before it classified the image"),
                          code=done.returncode)
    return probs, forward_ms


def classify_child(memory: int) -> int:
    """The child of :func:`classify_code`: limits first, then the stored code, the weights and one forward pass."""
    from safetensors.torch import load_file

    limit_process(memory, torch.device("cpu"))
    request = json.loads(sys.stdin.read())
    store = runs.Store(request["home"])
    code, shape = stored_code(store.get(request["run"]))
    try:
        net = parse_network(code, device="cpu")
    except CodeError as exc:
        error = gone(request["run"], exc).message
        values = {k: v if isinstance(v, (int, float)) else str(v) for k, v in error.values.items()}
        print(json.dumps({"error": {"template": error.template, "values": values}}))
        return 2
    net.load_state_dict(load_file(request["weights"]))
    net.eval()
    with torch.inference_mode():
        x = torch.tensor(request["input"], dtype=torch.float32).reshape(shape)
        start = time.perf_counter()
        probs = torch.softmax(net(x[None]).float(), dim=1)[0]
        forward_ms = (time.perf_counter() - start) * 1000
    print(json.dumps({"probs": probs.tolist(), "forward_ms": forward_ms}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--estimate":
        sys.exit(estimate_child(int(sys.argv[2]), sys.argv[3]))
    if sys.argv[1] == "--classify":
        sys.exit(classify_child(int(sys.argv[2])))
    sys.exit(child_main())
