"""Train the zoo's Fashion-MNIST models the d2l way, and measure their test accuracy.

``python -m explorer train lenet`` reproduces the shipped LeNet: the notes' network, Xavier-initialised, plain SGD
with learning rate 0.9, batch 256, 10 epochs — d2l's ``train_ch6``. Every CNN chapter of d2l has a preset here
(:data:`PRESETS`: its lr, batch size, epochs and the size the 28×28 images are resized to); the small CPU-sized models
have recipes of their own (:data:`RECIPES`).

One engine serves the CLI, the Train page and ``torchrun``: per-step callbacks (live curves), a stop flag, a
checkpoint per completed epoch (model, optimizer, scheduler and RNG state: a resumed run ends with the same weights as
an uninterrupted one), a loss that turns NaN stops the run at the last good epoch, and under ``torch.distributed``
each rank trains on a disjoint shard of every epoch (``DistributedSampler``'s split) with DDP.

:func:`train` strings four steps together — :func:`setup` (data, model, optimizer, schedule), :func:`restore` (a
checkpoint, then DDP), :func:`run_epoch` (one epoch: an :class:`Epoch`, or a :class:`Halt`), :func:`report_run` (the
:class:`TrainResult`, whose ``to_dict()`` is the ``train --json`` object). Progress goes to callbacks (``on_step``,
``on_epoch``); the lines written for people are never parsed.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn

from ..analysis import InputShapeError, analyze
from ..i18n import N_, InvalidValue, Message
from ..zoo import get_spec
from ..zoo.registry import ModelSpec
from . import data
from .devices import pick_device

MAX_EPOCHS = 1000  # "absurd" beyond this: 1,000 epochs of Fashion-MNIST is days even for LeNet on a GPU
MAX_SIDE = 512  # resize limit: 60,000 images at 512 px is already 63 GB of floats per epoch
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one run. ``batch_size`` is the global batch: under DDP each of N ranks takes 1/N of it, so
    a recipe means the same samples per step on any number of processes."""

    epochs: int = 10
    lr: float = 0.1
    batch_size: int = 256
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str = "constant"  # or "cosine"
    augment: bool = False  # random horizontal flips
    seed: int = 0
    resize: int | None = None  # side the 28×28 images are resized to (d2l's ``resize=``); None: the model's input


@dataclass(frozen=True)
class Preset:
    """A d2l chapter's training recipe and the test accuracy d2l reports for it (DESIGN.md "Reference results")."""

    title: str
    model: str
    recipe: Recipe
    d2l: str  # d2l's figure as printed ("0.78–0.79")

    @property
    def d2l_low(self) -> float:
        """The lower end of d2l's figure, to compare a measured accuracy against."""
        return float(self.d2l.split("–")[0])


# d2l's train_ch6 calls, chapter by chapter: lr, epochs, batch size, resize.
PRESETS: dict[str, Preset] = {
    "lenet": Preset("LeNet (d2l)", "lenet", Recipe(10, 0.9, 256), "0.78–0.79"),
    "alexnet": Preset("AlexNet (d2l)", "alexnet-d2l", Recipe(10, 0.01, 128, resize=224), "0.88"),
    "vgg": Preset("VGG-11, channels ÷ 4 (d2l)", "vgg11-d2l-small", Recipe(10, 0.05, 128, resize=224), "0.92"),
    "nin": Preset("NiN (d2l)", "nin", Recipe(10, 0.1, 128, resize=224), "0.79"),
    "googlenet": Preset("GoogLeNet (d2l)", "googlenet", Recipe(10, 0.1, 128, resize=96), "0.88"),
    "resnet": Preset("ResNet-18 (d2l)", "resnet18", Recipe(10, 0.05, 256, resize=96), "0.89–0.92"),
}

# The models shipped trained (scripts/train_shipped.py): d2l's LeNet, and a modern SGD recipe for the CPU-sized nets.
RECIPES: dict[str, Recipe] = {
    "lenet": Recipe(epochs=10, lr=0.9, batch_size=256),
    "vgg-fmnist": Recipe(epochs=15, lr=0.05, batch_size=128, momentum=0.9, weight_decay=5e-4, schedule="cosine",
                         augment=True),
    "resnet-fmnist": Recipe(epochs=15, lr=0.05, batch_size=128, momentum=0.9, weight_decay=5e-4,
                            schedule="cosine", augment=True),
}


def default_recipe(model_id: str) -> Recipe:
    """The shipped recipe for ``model_id``, else its d2l chapter's preset, else the defaults."""
    if model_id in RECIPES:
        return RECIPES[model_id]
    return next((p.recipe for p in PRESETS.values() if p.model == model_id), Recipe())


def preset_for(model_id: str) -> Preset | None:
    """The d2l chapter that trains ``model_id``, if any."""
    return next((p for p in PRESETS.values() if p.model == model_id), None)


def trainable(spec: ModelSpec) -> bool:
    """Whether ``spec`` is a Fashion-MNIST classifier: one input channel, images, ten classes."""
    return spec.classifier and len(spec.input_shape) == 3 and spec.input_shape[0] == 1 and spec.num_classes == 10


class BadRecipe(InvalidValue):
    """A run that cannot start: a model that is not a Fashion-MNIST classifier, or a hyper-parameter out of range
    (a ``ValueError``: ``except ValueError`` catches it)."""


def validate(spec: ModelSpec, recipe: Recipe, limit: int | None = None, world_size: int = 1) -> int:
    """Check a run before it starts; the side images are resized to. Any problem: one :class:`BadRecipe`."""
    if not trainable(spec):
        raise BadRecipe(N_("{model} is not a Fashion-MNIST model (input ({shape}), {n} classes): pick one with a "
                           "1-channel image input and 10 classes"),
                        model=spec.id, shape=", ".join(map(str, spec.input_shape)), n=spec.num_classes)
    if not (isinstance(recipe.lr, (int, float)) and math.isfinite(recipe.lr) and recipe.lr > 0):
        raise BadRecipe(N_("the learning rate must be a positive number, not {value}"), value=recipe.lr)
    if not 1 <= recipe.epochs <= MAX_EPOCHS:
        raise BadRecipe(N_("epochs must be between 1 and {high}, not {value}"), high=MAX_EPOCHS, value=recipe.epochs)
    if recipe.batch_size < 1:
        raise BadRecipe(N_("the batch size must be at least 1, not {value}"), value=recipe.batch_size)
    if recipe.batch_size % world_size:
        raise BadRecipe(N_("the batch size ({size}) must be a multiple of the {n} processes"),
                        size=recipe.batch_size, n=world_size)
    if not (math.isfinite(recipe.momentum) and 0 <= recipe.momentum < 1):
        raise BadRecipe(N_("momentum must be in [0, 1), not {value}"), value=recipe.momentum)
    if not (math.isfinite(recipe.weight_decay) and recipe.weight_decay >= 0):
        raise BadRecipe(N_("weight decay must be 0 or more, not {value}"), value=recipe.weight_decay)
    if recipe.schedule not in SCHEDULES:
        raise BadRecipe(N_("unknown schedule {name}; use {names}"), name=repr(recipe.schedule),
                        names=" or ".join(SCHEDULES))
    if limit is not None and not 1 <= limit <= 60_000:
        raise BadRecipe(N_("--limit must be between 1 and 60,000 training images, not {value}"), value=limit)
    side = recipe.resize if recipe.resize is not None else spec.input_shape[-1]
    if not 1 <= side <= MAX_SIDE:
        raise BadRecipe(N_("resize must be between 1 and {high} pixels, not {value}"), high=MAX_SIDE, value=side)
    if side != spec.input_shape[-1]:
        try:
            analyze(spec.id, (1, side, side))  # meta device: no weights, no arithmetic
        except InputShapeError as exc:
            raise BadRecipe(N_("{model} cannot be trained on {h}×{w} images: {clause}"), model=spec.id, h=side,
                            w=side, clause=exc) from None
    return side


def tensors(split: str, size: tuple[int, int] = (28, 28)) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as floats in [0, 1], N×1×H×W (bilinear resize when the model wants another size)."""
    images, labels = data.load(split)
    x = torch.from_numpy(images.copy()).float().div_(255).unsqueeze(1)
    if tuple(size) != (28, 28):
        x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    return x, torch.from_numpy(labels.astype("int64"))


def resized(x: torch.Tensor, side: int) -> torch.Tensor:
    """A batch resized as d2l's ``load_data_fashion_mnist(resize=…)`` does (bilinear), on the fly: 60,000 images at
    224 px would be 12 GB in memory."""
    if x.shape[-1] == side:
        return x
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def xavier_init(module: nn.Module) -> None:
    """d2l's ``init_weights``: Xavier-uniform for every linear and convolution weight."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(module.weight)


@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int = 1000,
             side: int | None = None, confusion: torch.Tensor | None = None) -> int:
    """Number of correctly classified images (resized to ``side`` per batch when given). With ``confusion`` (a
    classes × classes integer tensor on the CPU), each image also adds one to its (true, predicted) cell."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(device)
        predicted = model(resized(xb, side) if side else xb).argmax(1).cpu()
        correct += int((predicted == y[i:i + batch]).sum())
        if confusion is not None:
            classes = len(confusion)
            confusion += torch.bincount(y[i:i + batch] * classes + predicted,
                                        minlength=classes * classes).view(classes, classes)
    return correct


# --------------------------------------------------------------------------------------------------------------
# Events, checkpoints and results
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepEvent:
    """Where a run is, several times per epoch: running means of this epoch so far (rank 0's shard under DDP)."""

    epoch: int
    epochs: int
    step: int  # 1-based, within the epoch
    steps: int
    loss: float
    train_acc: float
    samples_per_s: float  # this epoch so far, all ranks
    elapsed: float  # seconds since this process started the run
    done: float  # fraction of the whole run done

    @property
    def x(self) -> float:
        """Position on an epochs axis (d2l's Animator: epoch 0.2, 0.4, …)."""
        return self.epoch - 1 + self.step / self.steps

    @property
    def eta(self) -> float | None:
        """Seconds left, from the pace so far (``None`` before the first measurement)."""
        return None if self.done <= 0 else self.elapsed * (1 - self.done) / self.done


@dataclass(frozen=True)
class Epoch:
    """One completed epoch: an entry of a run's history (``recipe.history`` in ``train --json``), over all ranks."""

    epoch: int
    loss: float  # mean training loss of the epoch
    train_acc: float
    test_acc: float
    samples_per_s: float  # training images per second, all ranks
    seconds: float  # training and testing

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Checkpoint:
    """Everything needed to continue after a completed epoch exactly as if the run had not stopped."""

    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict
    scheduler: dict
    rng: dict[str, torch.Tensor]  # "data": the shuffling generator; "torch"/"cuda": the global ones (dropout)
    history: list[Epoch] = field(default_factory=list)
    confusion: torch.Tensor | None = None  # the epoch's test-set confusion matrix (row: true class), when measured


OnStep = Callable[[StepEvent], None]
OnEpoch = Callable[[Epoch, Checkpoint], None]


def json_object(model: str, info: dict, run: str | None, world_size: int) -> dict:
    """The ``train --json`` object: the model, the test accuracy and correct count of the last completed epoch, the
    recipe with its history (``info``), the run id and the world size. (``runs show`` builds it from the store.)"""
    last = info["history"][-1] if info.get("history") else None
    accuracy = last["test_acc"] if last else None
    correct = round(accuracy * info.get("test_images", 10_000)) if last else None
    return {"model": model, "test_accuracy": accuracy, "correct": correct, "recipe": info, "run": run,
            "world_size": world_size}


@dataclass
class TrainResult:
    """What a run produced: its recipe and setting, one :class:`Epoch` per completed epoch, how it ended (``status``:
    "done", "stopped" or "diverged", then ``error`` says where). ``to_dict()`` is the ``train --json`` object."""

    model: str
    recipe: Recipe
    resize: int  # the side the images were trained at
    input: tuple[int, ...]
    device: str
    seconds: float
    train_images: int
    test_images: int
    history: list[Epoch]
    status: str = "done"
    error: Message | None = None
    run: str | None = None
    world_size: int = 1
    optimizer: str = "SGD"
    init: str = "xavier_uniform (conv, linear)"
    torch: str = torch.__version__

    @property
    def last(self) -> Epoch | None:
        """The last completed epoch (``None`` before the first)."""
        return self.history[-1] if self.history else None

    @property
    def test_accuracy(self) -> float | None:
        return self.last.test_acc if self.last else None

    @property
    def correct(self) -> int | None:
        return round(self.last.test_acc * self.test_images) if self.last else None

    def info(self) -> dict:
        """The ``recipe`` object of ``train --json`` (what the store keeps of a finished run)."""
        out = {**asdict(self.recipe), "resize": self.resize, "optimizer": self.optimizer, "init": self.init,
               "input": list(self.input), "device": self.device, "seconds": self.seconds,
               "train_images": self.train_images, "test_images": self.test_images,
               "history": [h.to_dict() for h in self.history], "torch": self.torch, "status": self.status}
        if self.error is not None:
            out["error"] = str(self.error)
        return out

    def to_dict(self) -> dict:
        """The ``train --json`` object."""
        return json_object(self.model, self.info(), self.run, self.world_size)

    @classmethod
    def from_info(cls, model: str, info: dict, run: str | None = None, world_size: int = 1) -> TrainResult:
        """The result a finished run's ``info`` (:meth:`info`, as the store keeps it) describes."""
        names = {f.name for f in fields(Recipe)}
        error = info.get("error")
        return cls(model=model, recipe=Recipe(**{k: v for k, v in info.items() if k in names}),
                   resize=info["resize"], input=tuple(info["input"]), device=info["device"],
                   seconds=info["seconds"], train_images=info["train_images"], test_images=info["test_images"],
                   history=[Epoch(**h) for h in info["history"]], status=info["status"],
                   error=Message(error) if error else None, run=run, world_size=world_size,
                   optimizer=info["optimizer"], init=info["init"], torch=info["torch"])


def _cpu(obj):
    """A deep copy of a (nested) state dict with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


# --------------------------------------------------------------------------------------------------------------
# Distributed
# --------------------------------------------------------------------------------------------------------------
def world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, (0, 1) without one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed(device: str = "auto") -> torch.device:
    """Join the process group torchrun described in the environment (gloo on CPU, NCCL on CUDA); the device of
    this rank."""
    import torch.distributed as dist

    dev = pick_device(device)
    if dev.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dev


def shard(order: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """``DistributedSampler``'s split: pad the permutation to a multiple of the world size with its own start,
    then every ``world_size``-th index from ``rank``: disjoint shards of equal length."""
    if world_size == 1:
        return order
    total = math.ceil(len(order) / world_size) * world_size
    padded = torch.cat([order, order[:total - len(order)]])
    return padded[rank::world_size]


def _all_reduce(t: torch.Tensor, op=None) -> torch.Tensor:
    import torch.distributed as dist

    dist.all_reduce(t, op=op or dist.ReduceOp.SUM)
    return t


# --------------------------------------------------------------------------------------------------------------
# The engine: setup → restore → one epoch at a time → report
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Session:
    """One run's state between its steps: data, model, optimizer, schedule, the shuffling generator, its place in
    the process group, and the history so far."""

    spec: ModelSpec
    recipe: Recipe
    side: int
    dev: torch.device
    rank: int
    world_size: int
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    model: nn.Module
    net: nn.Module  # the model, wrapped in DDP under a process group
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    steps_per_epoch: int
    history: list[Epoch] = field(default_factory=list)
    first_epoch: int = 1
    test_batch: int = 1000  # images per test step (a playground network's memory is checked for its own batch)
    confusion: torch.Tensor | None = None  # the last tested epoch's confusion matrix (all ranks)
    start: float = field(default_factory=time.perf_counter)

    @property
    def fast(self) -> bool:
        """CUDA: bf16 autocast and channels_last (1.37× on ResNet-18 in the earlier GPU benchmark); the CPU gains
        nothing."""
        return self.dev.type == "cuda"

    @property
    def local_batch(self) -> int:
        return self.recipe.batch_size // self.world_size

    @property
    def total_steps(self) -> int:
        return self.recipe.epochs * self.steps_per_epoch

    def checkpoint(self, epoch: int) -> Checkpoint:
        """The state after ``epoch`` (0: before the first), copied to the CPU."""
        rng = {"data": self.generator.get_state(), "torch": torch.get_rng_state()}
        if self.dev.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.dev)
        return Checkpoint(epoch, _cpu(self.model.state_dict()), _cpu(self.opt.state_dict()),
                          self.sched.state_dict(), rng, list(self.history), self.confusion if epoch else None)


def spec_of(model: str | ModelSpec) -> ModelSpec:
    """The spec of a zoo id, or ``model`` itself when it is a spec already (a playground network's,
    :mod:`explorer.runtime.coderun`)."""
    return model if isinstance(model, ModelSpec) else get_spec(model)


def setup(model_id: str | ModelSpec, recipe: Recipe | None = None, device: str = "auto", limit: int | None = None,
          test_limit: int | None = None, test_batch: int = 1000) -> Session:
    """Check the run, load the data, seed, build and initialise the model (Xavier), the optimizer and the schedule.
    Under an initialised ``torch.distributed`` group each rank gets its device; the model is wrapped in DDP by
    :func:`restore`, after any saved state is loaded. ``model_id`` is a zoo id or a spec (a playground network)."""
    spec = spec_of(model_id)
    recipe = recipe or default_recipe(spec.id)
    rank, world_size = world()
    side = validate(spec, recipe, limit, world_size)
    dev = pick_device(device)
    if dev.type == "cuda" and world_size > 1:
        dev = torch.device("cuda", torch.cuda.current_device())
    if dev.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    x_train, y_train = tensors("train")
    x_test, y_test = tensors("test")
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    if test_limit:
        x_test, y_test = x_test[:test_limit], y_test[:test_limit]
    torch.manual_seed(recipe.seed)
    model = spec.build()
    model.apply(xavier_init)
    model.to(dev)
    if dev.type == "cuda":
        model.to(memory_format=torch.channels_last)
    x_train, y_train = x_train.to(dev), y_train.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    steps_per_epoch = math.ceil(math.ceil(len(x_train) / world_size) / (recipe.batch_size // world_size))
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total_steps)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    generator = torch.Generator().manual_seed(recipe.seed)
    return Session(spec, recipe, side, dev, rank, world_size, x_train, y_train, x_test, y_test, model, model, opt,
                   sched, generator, steps_per_epoch, test_batch=test_batch)


def restore(session: Session, resume: Checkpoint | None = None) -> Checkpoint:
    """Load ``resume`` (model, optimizer, schedule, generators, history) into ``session``, then wrap the model in DDP
    under a process group. The checkpoint to fall back to when the run stops mid-epoch or diverges."""
    s = session
    if resume is not None:
        s.model.load_state_dict(resume.model)
        s.opt.load_state_dict(resume.optimizer)
        s.sched.load_state_dict(resume.scheduler)
        s.generator.set_state(resume.rng["data"])
        torch.set_rng_state(resume.rng["torch"])
        if "cuda" in resume.rng and s.dev.type == "cuda":
            torch.cuda.set_rng_state(resume.rng["cuda"], s.dev)
        s.history = list(resume.history)
        s.first_epoch = resume.epoch + 1
    if s.world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        s.net = DistributedDataParallel(s.model, device_ids=[s.dev.index] if s.dev.type == "cuda" else None)
    return resume or s.checkpoint(0)


@dataclass(frozen=True)
class Halt:
    """Why an epoch ended early: ``status`` "stopped" (the stop flag) or "diverged" (then ``error`` says where)."""

    status: str
    error: Message | None = None


def run_epoch(session: Session, epoch: int, hooks: Sequence[OnStep] = (), stop=None, every: int | None = None,
              trace: Callable[[int, torch.Tensor], None] | None = None) -> Epoch | Halt:
    """Train and test one epoch: its :class:`Epoch` (over all ranks), or a :class:`Halt` when the loss turned
    non-finite or ``stop`` was set. ``hooks`` get a :class:`StepEvent` every ``every`` steps (rank 0)."""
    s, recipe = session, session.recipe
    s.net.train()
    order = shard(torch.randperm(len(s.x_train), generator=s.generator), s.rank, s.world_size)
    if trace is not None:
        trace(epoch, order)
    order = order.to(s.dev)
    every = every or max(1, s.steps_per_epoch // 5)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if s.fast else nullcontext
    steps_before = (s.first_epoch - 1) * s.steps_per_epoch
    epoch_start = time.perf_counter()
    loss_sum = torch.zeros((), device=s.dev)
    hits = torch.zeros((), device=s.dev, dtype=torch.long)
    seen = 0
    recent: list[torch.Tensor] = []
    for step in range(s.steps_per_epoch):
        idx = order[step * s.local_batch:(step + 1) * s.local_batch]
        xb, yb = s.x_train[idx], s.y_train[idx]
        if recipe.augment:
            flip = torch.rand(len(xb), generator=s.generator).to(s.dev) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
        xb = resized(xb, s.side)
        if s.fast:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with autocast():
            logits = s.net(xb)
        loss = F.cross_entropy(logits.float(), yb)
        s.opt.zero_grad(set_to_none=True)
        loss.backward()
        s.opt.step()
        s.sched.step()
        seen += len(yb)
        recent.append(loss.detach())
        loss_sum += loss.detach() * len(yb)
        hits += (logits.argmax(1) == yb).sum()
        if (step + 1) % every and step != s.steps_per_epoch - 1:
            continue
        # A report point: the only place the host waits for the device, checks for NaN and for Stop.
        losses = torch.stack(recent)
        bad = (~torch.isfinite(losses)).nonzero()
        first_bad = step + 2 - len(recent) + int(bad[0]) if len(bad) else 0
        recent.clear()
        flags = torch.tensor([first_bad, int(stop is not None and stop.is_set())], dtype=torch.float64)
        if s.world_size > 1:  # every rank stops at the same step, or the next all-reduce would hang
            import torch.distributed as dist

            flags = _all_reduce(flags.to(s.dev), dist.ReduceOp.MAX).cpu()
        if flags[0] > 0:
            return Halt("diverged", Message(N_("diverged at epoch {epoch}, step {step}: the loss is not finite"),
                                            {"epoch": epoch, "step": int(flags[0])}))
        if flags[1] > 0:
            return Halt("stopped")
        if s.rank == 0 and hooks:
            now = time.perf_counter()
            done = ((epoch - s.first_epoch) * s.steps_per_epoch + step + 1) / (s.total_steps - steps_before)
            event = StepEvent(epoch, recipe.epochs, step + 1, s.steps_per_epoch, float(loss_sum) / seen,
                              int(hits) / seen, seen * s.world_size / max(now - epoch_start, 1e-9), now - s.start,
                              done)
            for hook in hooks:
                hook(event)
    train_seconds = time.perf_counter() - epoch_start
    if s.world_size > 1:  # the epoch's loss and accuracy over all ranks' shards, not rank 0's alone
        sums = _all_reduce(torch.stack([loss_sum.double(), hits.double(),
                                        torch.tensor(seen, dtype=torch.float64, device=s.dev)]))
        loss_sum, hits, seen = sums[0], sums[1].long(), int(sums[2]) // s.world_size
    s.confusion = torch.zeros(len(data.CLASSES), len(data.CLASSES), dtype=torch.long)
    correct, tested = _test(s.model, s.x_test, s.y_test, s.dev, s.side, s.rank, s.world_size, s.test_batch,
                            s.confusion)
    total = seen * s.world_size
    return Epoch(epoch, round(float(loss_sum) / total, 4), round(int(hits) / total, 4), round(correct / tested, 4),
                 round(total / max(train_seconds, 1e-9), 1), round(time.perf_counter() - epoch_start, 2))


def report_run(session: Session, halt: Halt | None = None) -> TrainResult:
    """The model back on the CPU in eval mode, and the run's :class:`TrainResult`."""
    s = session
    s.model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    return TrainResult(
        model=s.spec.id, recipe=s.recipe, resize=s.side, input=tuple(s.spec.input_shape),
        device=torch.cuda.get_device_name(s.dev) if s.dev.type == "cuda" else s.dev.type,
        seconds=round(time.perf_counter() - s.start, 1), train_images=len(s.x_train), test_images=len(s.x_test),
        history=list(s.history), status=halt.status if halt else "done", error=halt.error if halt else None,
        world_size=s.world_size,
    )


def epoch_line(entry: Epoch, epochs: int, elapsed: float) -> str:
    """The line a run writes for a completed epoch (for people: nothing parses it)."""
    return (f"epoch {entry.epoch}/{epochs}: loss {entry.loss:.4f}, train acc {entry.train_acc:.4f}, "
            f"test acc {entry.test_acc:.4f}, {entry.samples_per_s:,.0f} img/s, {elapsed:.1f} s")


def _progress(event: StepEvent) -> None:
    width = 30
    filled = int(width * event.step / event.steps)
    sys.stderr.write(
        f"\repoch {event.epoch}/{event.epochs} [{'#' * filled}{'.' * (width - filled)}] "
        f"{100 * event.step / event.steps:5.1f}%  loss {event.loss:.4f}  train acc {event.train_acc:.4f}  "
        f"{event.samples_per_s:,.0f} img/s  {event.elapsed:6.1f} s"
    )
    sys.stderr.flush()


def train(
    model_id: str | ModelSpec,
    recipe: Recipe | None = None,
    device: str = "auto",
    limit: int | None = None,
    report: Callable[[str], None] | None = None,
    *,
    on_step: OnStep | None = None,
    on_epoch: OnEpoch | None = None,
    stop=None,
    resume: Checkpoint | None = None,
    log_every: int | None = None,
    test_limit: int | None = None,
    trace: Callable[[int, torch.Tensor], None] | None = None,
    test_batch: int = 1000,
) -> tuple[nn.Module, TrainResult]:
    """Train ``model_id`` on the 60,000 training images; the model (on the CPU) and the :class:`TrainResult`.

    ``limit`` trains on the first ``limit`` images only (quick checks); ``test_limit`` tests on the first images
    only. ``report`` gets one line per epoch, for people (default: stderr, with a progress bar). ``on_step``
    gets a :class:`StepEvent` ``log_every`` steps (default: about 5 times per epoch) and ``on_epoch`` the
    :class:`Epoch` and the :class:`Checkpoint` of every completed epoch (rank 0 only). Setting ``stop`` (anything
    with ``is_set()``) ends the run at the next report point; ``resume`` continues from a checkpoint. A stopped or
    diverged run returns the weights of its last completed epoch. Under an initialised ``torch.distributed`` group the
    model is wrapped in DDP and each rank trains on its shard. ``model_id`` is a zoo id, or a spec (a playground
    network: :mod:`explorer.runtime.coderun`), whose memory was checked for ``test_batch`` images per test step.
    """
    session = setup(model_id, recipe, device, limit, test_limit, test_batch)
    good = restore(session, resume)  # restored when a loss turns NaN or the run is stopped mid-epoch
    say = report or (lambda s: sys.stderr.write("\r" + s + "\n"))
    hooks = ([] if report is not None else [_progress]) + ([on_step] if on_step is not None else [])
    halt = None
    for epoch in range(session.first_epoch, session.recipe.epochs + 1):
        outcome = run_epoch(session, epoch, hooks, stop, log_every, trace)
        if isinstance(outcome, Halt):
            halt = outcome
            break
        session.history.append(outcome)
        good = session.checkpoint(epoch)
        if session.rank == 0:
            if on_epoch is not None:  # first: the epoch is on disk before anyone is told about it
                on_epoch(outcome, good)
            say(epoch_line(outcome, session.recipe.epochs, time.perf_counter() - session.start))
    if halt is not None:
        session.model.load_state_dict(good.model)
        session.history = list(good.history)
        if session.rank == 0:
            say(f"{halt.error} — keeping epoch {good.epoch}" if halt.error else f"stopped — keeping epoch {good.epoch}")
    return session.model, report_run(session, halt)


def _test(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dev: torch.device, side: int, rank: int,
          world_size: int, batch: int = 1000, confusion: torch.Tensor | None = None) -> tuple[int, int]:
    """(correct, tested) on the test images, counted into ``confusion`` too; under DDP each rank tests a slice and
    the counts are summed."""
    part = slice(rank * len(x) // world_size, (rank + 1) * len(x) // world_size)
    correct = evaluate(model, x[part], y[part], dev, batch=batch, side=side, confusion=confusion)
    if world_size > 1:
        import torch.distributed as dist

        total = torch.tensor([correct], dtype=torch.long, device=dev)
        dist.all_reduce(total)
        correct = int(total)
        if confusion is not None:
            confusion.copy_(_all_reduce(confusion.to(dev)).cpu())
    return correct, len(x)


def estimate_epoch_seconds(model_id: str | ModelSpec, recipe: Recipe, device: str = "auto", limit: int | None = None,
                           probe: int = 3) -> float:
    """Seconds one epoch will take on ``device``, from ``probe`` timed training steps after a warm-up step on random
    data (at most 32 images per step, scaled to the batch): a measurement, not a guess from MACs."""
    spec = spec_of(model_id)
    side = validate(spec, recipe, limit)
    dev = pick_device(device)
    model = spec.build().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)  # a tiny step: the probe must not blow up the weights' scale
    batch = min(recipe.batch_size, 32)
    x = torch.rand(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    times = []
    for i in range(probe + 1):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t = time.perf_counter()
        loss = F.cross_entropy(model(resized(x, side)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss.detach())
        if i:
            times.append(time.perf_counter() - t)
    per_image = min(times) / batch
    return per_image * (limit or 60_000) * 1.1  # + ~10% for testing on 10,000 images


def test_accuracy(model: nn.Module, model_id: str, device: str = "auto") -> tuple[float, int]:
    """(accuracy, correct) on the 10,000 test images."""
    spec = get_spec(model_id)
    dev = pick_device(device)
    x, y = tensors("test", spec.input_shape[1:])
    correct = evaluate(model.to(dev), x, y, dev)
    model.to("cpu")
    return correct / len(y), correct
