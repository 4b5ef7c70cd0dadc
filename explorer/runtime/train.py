"""Train the zoo's Fashion-MNIST models the d2l way, and measure their test accuracy.

``python -m explorer train lenet`` reproduces the shipped LeNet: the notes' network, Xavier-initialised, plain SGD
with learning rate 0.9, batch 256, 10 epochs — d2l's ``train_ch6``. The other shipped models have recipes of their
own (below); every recipe is written into the manifest beside the accuracy it reached.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..zoo import get_spec
from . import data
from .devices import pick_device


@dataclass(frozen=True)
class Recipe:
    epochs: int = 10
    lr: float = 0.1
    batch_size: int = 256
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str = "constant"  # or "cosine"
    augment: bool = False  # random horizontal flips
    seed: int = 0


# d2l's hyper-parameters where a chapter gives them; the small CPU-sized models get a modern SGD recipe.
RECIPES: dict[str, Recipe] = {
    "lenet": Recipe(epochs=10, lr=0.9, batch_size=256),
    "vgg-fmnist": Recipe(epochs=15, lr=0.05, batch_size=128, momentum=0.9, weight_decay=5e-4, schedule="cosine",
                         augment=True),
    "resnet-fmnist": Recipe(epochs=15, lr=0.05, batch_size=128, momentum=0.9, weight_decay=5e-4,
                            schedule="cosine", augment=True),
}


def tensors(split: str, size: tuple[int, int] = (28, 28)) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as floats in [0, 1], N×1×H×W (bilinear resize when the model wants another size)."""
    images, labels = data.load(split)
    x = torch.from_numpy(images.copy()).float().div_(255).unsqueeze(1)
    if tuple(size) != (28, 28):
        x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    return x, torch.from_numpy(labels.astype("int64"))


def xavier_init(module: nn.Module) -> None:
    """d2l's ``init_weights``: Xavier-uniform for every linear and convolution weight."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(module.weight)


@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int = 1000) -> int:
    """Number of correctly classified images."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        logits = model(x[i:i + batch].to(device))
        correct += int((logits.argmax(1).cpu() == y[i:i + batch]).sum())
    return correct


def _progress(epoch: int, epochs: int, done: int, total: int, loss: float, acc: float, start: float) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(
        f"\repoch {epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] {100 * done / total:5.1f}%  "
        f"loss {loss:.4f}  train acc {acc:.4f}  {time.perf_counter() - start:6.1f} s"
    )
    sys.stderr.flush()


def train(
    model_id: str,
    recipe: Recipe | None = None,
    device: str = "auto",
    limit: int | None = None,
    report: Callable[[str], None] | None = None,
) -> tuple[nn.Module, dict]:
    """Train ``model_id`` on the 60,000 training images; return the model (on the CPU) and the recipe + results.

    ``limit`` trains on the first ``limit`` images only (for quick checks).
    """
    spec = get_spec(model_id)
    recipe = recipe or RECIPES.get(model_id, Recipe())
    dev = pick_device(device)
    torch.manual_seed(recipe.seed)
    if dev.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    size = spec.input_shape[1:]
    x_train, y_train = tensors("train", size)
    x_test, y_test = tensors("test", size)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    model = spec.build()
    model.apply(xavier_init)
    model.to(dev)
    x_train, y_train = x_train.to(dev), y_train.to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                          weight_decay=recipe.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / recipe.batch_size)
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total_steps)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    generator = torch.Generator().manual_seed(recipe.seed)
    start = time.perf_counter()
    history = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator).to(dev)
        seen, loss_sum, hits = 0, 0.0, 0
        for step in range(steps_per_epoch):
            idx = order[step * recipe.batch_size:(step + 1) * recipe.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if recipe.augment:
                flip = torch.rand(len(xb), generator=generator).to(dev) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(yb)
            loss_sum += loss.item() * len(yb)
            hits += int((logits.argmax(1) == yb).sum())
            if report is None and (step % 20 == 0 or step == steps_per_epoch - 1):
                _progress(epoch, recipe.epochs, step + 1, steps_per_epoch, loss_sum / seen, hits / seen, start)
        correct = evaluate(model, x_test, y_test, dev)
        line = (f"epoch {epoch}/{recipe.epochs}: loss {loss_sum / seen:.4f}, train acc {hits / seen:.4f}, "
                f"test acc {correct / len(y_test):.4f}, {time.perf_counter() - start:.1f} s")
        history.append({"epoch": epoch, "loss": round(loss_sum / seen, 4), "train_acc": round(hits / seen, 4),
                        "test_acc": round(correct / len(y_test), 4)})
        (report or (lambda s: sys.stderr.write("\r" + s + "\n")))(line)
    model.to("cpu").eval()
    info = {
        **asdict(recipe),
        "optimizer": "SGD",
        "init": "xavier_uniform (conv, linear)",
        "input": list(spec.input_shape),
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type,
        "seconds": round(time.perf_counter() - start, 1),
        "train_images": len(x_train),
        "history": history,
        "torch": torch.__version__,
    }
    return model, info


def test_accuracy(model: nn.Module, model_id: str, device: str = "auto") -> tuple[float, int]:
    """(accuracy, correct) on the 10,000 test images."""
    spec = get_spec(model_id)
    dev = pick_device(device)
    x, y = tensors("test", spec.input_shape[1:])
    correct = evaluate(model.to(dev), x, y, dev)
    model.to("cpu")
    return correct / len(y), correct
