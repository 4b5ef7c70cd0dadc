"""Train the zoo's Fashion-MNIST models the d2l way, and measure their test accuracy.

``python -m explorer train lenet`` reproduces the shipped LeNet: the notes' network, Xavier-initialised, plain SGD
with learning rate 0.9, batch 256, 10 epochs — d2l's ``train_ch6``. Every CNN chapter of d2l has a preset here
(:data:`PRESETS`: its lr, batch size, epochs and the size the 28×28 images are resized to); the small CPU-sized models
have recipes of their own (:data:`RECIPES`).

One engine serves the CLI, the Train page and ``torchrun``: per-step callbacks (live curves), a stop flag, a
checkpoint per completed epoch (model, optimizer, scheduler and RNG state: a resumed run ends with the same weights as
an uninterrupted one), a loss that turns NaN stops the run at the last good epoch, and under ``torch.distributed``
each rank trains on a disjoint shard of every epoch (``DistributedSampler``'s split) with DDP.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..analysis import InputShapeError, analyze
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


def validate(spec: ModelSpec, recipe: Recipe, limit: int | None = None, world_size: int = 1) -> int:
    """Check a run before it starts; the side images are resized to. Any problem: one ``ValueError`` sentence."""
    if not trainable(spec):
        raise ValueError(f"{spec.id} is not a Fashion-MNIST model (input {spec.input_shape}, {spec.num_classes} "
                         f"classes): pick one with a 1-channel image input and 10 classes")
    if not (isinstance(recipe.lr, (int, float)) and math.isfinite(recipe.lr) and recipe.lr > 0):
        raise ValueError(f"the learning rate must be a positive number, not {recipe.lr}")
    if not 1 <= recipe.epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs must be between 1 and {MAX_EPOCHS}, not {recipe.epochs}")
    if recipe.batch_size < 1:
        raise ValueError(f"the batch size must be at least 1, not {recipe.batch_size}")
    if recipe.batch_size % world_size:
        raise ValueError(f"the batch size ({recipe.batch_size}) must be a multiple of the {world_size} processes")
    if not (math.isfinite(recipe.momentum) and 0 <= recipe.momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), not {recipe.momentum}")
    if not (math.isfinite(recipe.weight_decay) and recipe.weight_decay >= 0):
        raise ValueError(f"weight decay must be 0 or more, not {recipe.weight_decay}")
    if recipe.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {recipe.schedule!r}; use {' or '.join(SCHEDULES)}")
    if limit is not None and not 1 <= limit <= 60_000:
        raise ValueError(f"--limit must be between 1 and 60,000 training images, not {limit}")
    side = recipe.resize if recipe.resize is not None else spec.input_shape[-1]
    if not 1 <= side <= MAX_SIDE:
        raise ValueError(f"resize must be between 1 and {MAX_SIDE} pixels, not {side}")
    if side != spec.input_shape[-1]:
        try:
            analyze(spec.id, (1, side, side))  # meta device: no weights, no arithmetic
        except InputShapeError as exc:
            raise ValueError(f"{spec.id} cannot be trained on {side}×{side} images: {exc}") from None
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
             side: int | None = None) -> int:
    """Number of correctly classified images (resized to ``side`` per batch when given)."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(device)
        logits = model(resized(xb, side) if side else xb)
        correct += int((logits.argmax(1).cpu() == y[i:i + batch]).sum())
    return correct


# --------------------------------------------------------------------------------------------------------------
# Events and checkpoints
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


@dataclass
class Checkpoint:
    """Everything needed to continue after a completed epoch exactly as if the run had not stopped."""

    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict
    scheduler: dict
    rng: dict[str, torch.Tensor]  # "data": the shuffling generator; "torch"/"cuda": the global ones (dropout)
    history: list[dict] = field(default_factory=list)


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


# --------------------------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------------------------
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
    model_id: str,
    recipe: Recipe | None = None,
    device: str = "auto",
    limit: int | None = None,
    report: Callable[[str], None] | None = None,
    *,
    on_step: Callable[[StepEvent], None] | None = None,
    on_epoch: Callable[[dict, Checkpoint], None] | None = None,
    stop: threading.Event | None = None,
    resume: Checkpoint | None = None,
    log_every: int | None = None,
    test_limit: int | None = None,
    trace: Callable[[int, torch.Tensor], None] | None = None,
) -> tuple[nn.Module, dict]:
    """Train ``model_id`` on the 60,000 training images; return the model (on the CPU) and the recipe + results.

    ``limit`` trains on the first ``limit`` images only (quick checks); ``test_limit`` tests on the first images
    only. ``report`` gets one line per epoch (default: stderr, with a progress bar). ``on_step`` gets a
    :class:`StepEvent` ``log_every`` steps (default: about 5 times per epoch) and ``on_epoch`` the history entry and
    the :class:`Checkpoint` of every completed epoch (rank 0 only). Setting ``stop`` ends the run at the next report
    point; ``resume`` continues from a checkpoint. ``info["status"]`` is "done", "stopped" or "diverged" (then
    ``info["error"]`` says where); a stopped or diverged run returns the weights of its last completed epoch.
    Under an initialised ``torch.distributed`` group the model is wrapped in DDP and each rank trains on its shard.
    """
    spec = get_spec(model_id)
    recipe = recipe or default_recipe(model_id)
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
    # CUDA: bf16 autocast and channels_last (1.37× on ResNet-18 in the earlier GPU benchmark); the CPU gains nothing.
    fast = dev.type == "cuda"
    if fast:
        model.to(memory_format=torch.channels_last)
    x_train, y_train = x_train.to(dev), y_train.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    local_batch = recipe.batch_size // world_size
    per_rank = math.ceil(len(x_train) / world_size)
    steps_per_epoch = math.ceil(per_rank / local_batch)
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total_steps)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    generator = torch.Generator().manual_seed(recipe.seed)
    history: list[dict] = []
    first_epoch = 1
    if resume is not None:
        model.load_state_dict(resume.model)
        opt.load_state_dict(resume.optimizer)
        sched.load_state_dict(resume.scheduler)
        generator.set_state(resume.rng["data"])
        torch.set_rng_state(resume.rng["torch"])
        if "cuda" in resume.rng and dev.type == "cuda":
            torch.cuda.set_rng_state(resume.rng["cuda"], dev)
        history = [dict(h) for h in resume.history]
        first_epoch = resume.epoch + 1
    net: nn.Module = model
    if world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    every = log_every or max(1, steps_per_epoch // 5)
    say = report or (lambda s: sys.stderr.write("\r" + s + "\n"))
    hooks = ([] if report is not None else [_progress]) + ([on_step] if on_step is not None else [])
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if fast else nullcontext

    def checkpoint(epoch: int) -> Checkpoint:
        rng = {"data": generator.get_state(), "torch": torch.get_rng_state()}
        if dev.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(dev)
        return Checkpoint(epoch, _cpu(model.state_dict()), _cpu(opt.state_dict()), sched.state_dict(), rng,
                          [dict(h) for h in history])

    good = resume or checkpoint(0)  # restored when a loss turns NaN or the run is stopped mid-epoch
    start = time.perf_counter()
    status, error = "done", None
    steps_before = (first_epoch - 1) * steps_per_epoch
    for epoch in range(first_epoch, recipe.epochs + 1):
        net.train()
        order = shard(torch.randperm(len(x_train), generator=generator), rank, world_size)
        if trace is not None:
            trace(epoch, order)
        order = order.to(dev)
        epoch_start = time.perf_counter()
        loss_sum = torch.zeros((), device=dev)
        hits = torch.zeros((), device=dev, dtype=torch.long)
        seen = 0
        recent: list[torch.Tensor] = []
        for step in range(steps_per_epoch):
            idx = order[step * local_batch:(step + 1) * local_batch]
            xb, yb = x_train[idx], y_train[idx]
            if recipe.augment:
                flip = torch.rand(len(xb), generator=generator).to(dev) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            xb = resized(xb, side)
            if fast:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with autocast():
                logits = net(xb)
            loss = F.cross_entropy(logits.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(yb)
            recent.append(loss.detach())
            loss_sum += loss.detach() * len(yb)
            hits += (logits.argmax(1) == yb).sum()
            last = step == steps_per_epoch - 1
            if (step + 1) % every and not last:
                continue
            # A report point: the only place the host waits for the device, checks for NaN and for Stop.
            losses = torch.stack(recent)
            bad = (~torch.isfinite(losses)).nonzero()
            first_bad = step + 2 - len(recent) + int(bad[0]) if len(bad) else 0
            recent.clear()
            flags = torch.tensor([first_bad, int(stop is not None and stop.is_set())], dtype=torch.float64)
            if world_size > 1:  # every rank stops at the same step, or the next all-reduce would hang
                import torch.distributed as dist

                flags = flags.to(dev)
                dist.all_reduce(flags, op=dist.ReduceOp.MAX)
                flags = flags.cpu()
            if flags[0] > 0:
                status, error = "diverged", f"diverged at epoch {epoch}, step {int(flags[0])}: the loss is not finite"
                break
            if flags[1] > 0:
                status = "stopped"
                break
            if rank == 0 and hooks:
                now = time.perf_counter()
                done = ((epoch - first_epoch) * steps_per_epoch + step + 1) / (total_steps - steps_before)
                event = StepEvent(epoch, recipe.epochs, step + 1, steps_per_epoch, float(loss_sum) / seen,
                                  int(hits) / seen, seen * world_size / max(now - epoch_start, 1e-9), now - start,
                                  done)
                for hook in hooks:
                    hook(event)
        if status != "done":
            break
        train_seconds = time.perf_counter() - epoch_start
        if world_size > 1:  # the epoch's loss and accuracy over all ranks' shards, not rank 0's alone
            import torch.distributed as dist

            sums = torch.stack([loss_sum.double(), hits.double(), torch.tensor(seen, dtype=torch.float64, device=dev)])
            dist.all_reduce(sums)
            loss_sum, hits, seen = sums[0], sums[1].long(), int(sums[2]) // world_size
        correct, tested = _test(model, x_test, y_test, dev, side, rank, world_size)
        entry = {"epoch": epoch, "loss": round(float(loss_sum) / (seen * world_size), 4),
                 "train_acc": round(int(hits) / (seen * world_size), 4),
                 "test_acc": round(correct / tested, 4),
                 "samples_per_s": round(seen * world_size / max(train_seconds, 1e-9), 1),
                 "seconds": round(time.perf_counter() - epoch_start, 2)}
        history.append(entry)
        good = checkpoint(epoch)
        if rank == 0:
            if on_epoch is not None:  # first: the epoch is on disk before anyone is told about it
                on_epoch(dict(entry), good)
            say(f"epoch {epoch}/{recipe.epochs}: loss {entry['loss']:.4f}, train acc {entry['train_acc']:.4f}, "
                f"test acc {entry['test_acc']:.4f}, {entry['samples_per_s']:,.0f} img/s, "
                f"{time.perf_counter() - start:.1f} s")
    if status != "done":
        model.load_state_dict(good.model)
        history = [dict(h) for h in good.history]
        if rank == 0:
            say(f"{error} — keeping epoch {good.epoch}" if error else f"stopped — keeping epoch {good.epoch}")
    model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    info = {
        **asdict(recipe),
        "resize": side,
        "optimizer": "SGD",
        "init": "xavier_uniform (conv, linear)",
        "input": list(spec.input_shape),
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type,
        "seconds": round(time.perf_counter() - start, 1),
        "train_images": len(x_train),
        "test_images": len(x_test),
        "history": history,
        "torch": torch.__version__,
        "status": status,
    }
    if error:
        info["error"] = error
    return model, info


def _test(model: nn.Module, x: torch.Tensor, y: torch.Tensor, dev: torch.device, side: int, rank: int,
          world_size: int) -> tuple[int, int]:
    """(correct, tested) on the test images; under DDP each rank tests a slice and the counts are summed."""
    part = slice(rank * len(x) // world_size, (rank + 1) * len(x) // world_size)
    correct = evaluate(model, x[part], y[part], dev, side=side)
    if world_size > 1:
        import torch.distributed as dist

        total = torch.tensor([correct], dtype=torch.long, device=dev)
        dist.all_reduce(total)
        correct = int(total)
    return correct, len(x)


def estimate_epoch_seconds(model_id: str, recipe: Recipe, device: str = "auto", limit: int | None = None,
                           probe: int = 3) -> float:
    """Seconds one epoch will take on ``device``, from ``probe`` timed training steps after a warm-up step on random
    data (at most 32 images per step, scaled to the batch): a measurement, not a guess from MACs."""
    spec = get_spec(model_id)
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
