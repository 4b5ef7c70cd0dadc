"""The runtime's errors that the pages show (Train, Classify, the ImageNet download): each carries its template and
values, and the Chinese reader gets it in Chinese with the same values; an exception's own words (one that carries
no message, a failed run's text) are quoted as code behind a Chinese lead-in."""

from __future__ import annotations

import errno
import functools
import hashlib
import http.server
import re
import socket
import ssl
import threading
from pathlib import Path

import numpy as np
import pytest

from explorer.i18n import N_, Quoted, render, use_language
from explorer.runtime import hub, imagenet, inference, inference_runs, jobs, runner, runs
from explorer.runtime import train as engine
from explorer.zoo.registry import get_spec, list_models
from tests.conftest import published_at

REPO = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ \-'][A-Za-z][a-z]+)+\b")  # the page sweep's rule
PATH = re.compile(r"[^\s（）]*/[^\s（）]*")
CODE = re.compile(r"``.+?``|`[^`]*`")  # code spans, also those fenced with two backticks
MODEL_IDS = [s.id for s in list_models()]


def raised(call, kind: type[BaseException] = Exception) -> BaseException:
    with pytest.raises(kind) as info:
        call()
    return info.value


def chinese(error: str | BaseException) -> str:
    """``error`` as the Chinese pages show it, checked: Chinese, no English phrase outside code, paths and URLs."""
    with use_language("zh"):
        text = render(error)
    assert CJK.search(text), text
    left = PATH.sub(" ", CODE.sub(" ", text))
    for name in sorted([*MODEL_IDS, "Fashion-MNIST", "ImageNet", "Apple", "Metal", "Ctrl-C"], key=len, reverse=True):
        left = left.replace(name, " ")  # names, as the page sweep allows them
    assert not ENGLISH_RUN.findall(left), text
    return text


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server of the folder ``tmp_path / "served"`` (a missing file: 404); its base URL."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_training_checks_in_chinese():
    lenet, base = get_spec("lenet"), engine.default_recipe("lenet")

    def recipe(**changes):
        return engine.Recipe(**{**vars(base), **changes})

    assert chinese(raised(lambda: engine.validate(lenet, recipe(momentum=1.0)))) == "动量必须在 [0, 1) 之内，而不是 1.0"
    assert chinese(raised(lambda: engine.validate(lenet, recipe(weight_decay=-1.0)))) == (
        "权重衰减必须大于或等于 0，而不是 -1.0")
    assert chinese(raised(lambda: engine.validate(lenet, recipe(schedule="cyclic")))) == (
        "未知的学习率调度 'cyclic'；可用的调度：`constant or cosine`")
    assert chinese(raised(lambda: engine.validate(get_spec("alexnet"), base))).startswith(
        "alexnet 不是 Fashion-MNIST 模型（输入 (3, 224, 224)，1000 个类别）：请选择输入为单通道图像")
    # the analysis' sentence inside the training's, each translated
    small = chinese(raised(lambda: engine.validate(lenet, recipe(resize=4))))
    assert small.startswith("lenet 不能在 4×4 的图像上训练："), small  # the analysis' sentence inside, in turn
    assert chinese(raised(lambda: jobs.JobManager().submit("lenet", base, nproc=0))) == "进程数至少为 1，而不是 0"


def test_runs_that_cannot_be_resumed_or_classify_in_chinese():
    store = runs.Store()
    unknown = raised(lambda: runner.resume_args(store, "nope"), KeyError)
    assert chinese(unknown) == "未知的运行 'nope'；请看 `python -m explorer runs list`"
    run = store.create("lenet", engine.Recipe(epochs=1), "cpu", 1, 100)
    store.finish(run, "done")
    assert chinese(raised(lambda: runner.resume_args(store, run))) == (
        f"运行 {run} 的状态是“已完成”：只有已中断或已停止的运行才能继续")
    image = np.zeros((28, 28), np.uint8)
    assert chinese(raised(lambda: inference_runs.classify_run(run, image), inference.NoWeights)) == (
        f"运行 {run} 还没有完成任何迭代周期：没有可以用来分类的权重")


def test_models_that_cannot_classify_in_chinese(hub_cache):
    image = np.zeros((28, 28), np.uint8)
    text = chinese(raised(lambda: inference.dataset_input(image, "resnet18-tv")))
    assert text.startswith("resnet18-tv 不是 Fashion-MNIST 模型；数据集的图像交给 ")
    assert chinese(raised(lambda: inference.load("alexnet"), inference.NoWeights)).startswith(
        "alexnet 没有训练好的权重；能分类的模型：")
    url, name = imagenet.CHECKPOINTS["resnet18-tv"].url, imagenet.CHECKPOINTS["resnet18-tv"].file
    missing = chinese(raised(lambda: inference.load("resnet18-tv"), inference.NoWeights))
    assert missing == f"resnet18-tv 的 ImageNet 权重不在 torch.hub 的缓存中：请下载 {url} 并保存为 {hub_cache / name}。"
    hub_cache.mkdir(parents=True)
    (hub_cache / name).write_bytes(b"not a checkpoint")
    damaged = chinese(raised(lambda: imagenet.build_pretrained("resnet18-tv"), imagenet.ImageNetWeightsDamaged))
    assert damaged.startswith(f"resnet18-tv 的 ImageNet 权重文件 {hub_cache / name} 已损坏（`"), damaged
    assert damaged.endswith(f"`）：请删除它，再重新下载 {url}。")


def test_checkpoint_downloads_that_fail_in_chinese(hub_cache, served, monkeypatch):
    assert chinese(raised(lambda: hub.fetch("lenet"), hub.FetchError)).startswith(
        "lenet 没有公开的 ImageNet 检查点；有检查点的 id：alexnet-tv, ")
    monkeypatch.setenv(hub.MIRROR_ENV, "ftp://mirror")
    assert chinese(raised(lambda: hub.fetch("resnet18-tv"), hub.FetchError)) == (
        f"{hub.MIRROR_ENV} 必须是 http://、https:// 或 file:// 开头的 URL，而不是 'ftp://mirror'")
    monkeypatch.delenv(hub.MIRROR_ENV)

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = "resnet18-0123abcd.pth"
    monkeypatch.setitem(imagenet.CHECKPOINTS, "resnet18-tv", published_at("resnet18-tv", f"http://127.0.0.1:{port}/{name}"))
    assert chinese(raised(lambda: hub.fetch("resnet18-tv"), hub.FetchError)) == (
        f"无法从 http://127.0.0.1:{port}/{name} 获取 resnet18-tv 的权重：到 127.0.0.1:{port} 的连接被拒绝")

    root, base = served
    monkeypatch.setitem(imagenet.CHECKPOINTS, "resnet18-tv", published_at("resnet18-tv", f"{base}/{name}"))
    assert chinese(raised(lambda: hub.fetch("resnet18-tv"), hub.FetchError)) == (
        f"无法从 {base}/{name} 获取 resnet18-tv 的权重：服务器返回 HTTP 404 `File not found`")
    (root / name).write_bytes(b"some other file")
    digest = hashlib.sha256(b"some other file").hexdigest()[:8]
    assert chinese(raised(lambda: hub.fetch("resnet18-tv"), hub.FetchError)) == (
        f"从 {base}/{name} 下载的文件的 SHA-256 以 {digest} 开头，而官方文件名写的是 0123abcd")


def ssl_error(reason: str) -> ssl.SSLError:
    """An SSLError as the ssl module raises it (with its ``reason``)."""
    error = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    error.reason = reason
    return error


@pytest.mark.parametrize(("exc", "expected"), [
    (socket.gaierror(-2, "Name or service not known"), "无法解析 example.org（没有网络，或 DNS 出错）"),
    (TimeoutError(), "example.org 在 5 秒内没有应答（超时）"),
    (ConnectionResetError(), "到 example.org 的连接中断了"),
    (ssl_error("CERTIFICATE_VERIFY_FAILED"), "到 example.org 的 TLS 连接失败（`CERTIFICATE_VERIFY_FAILED`）"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "没有网络（无法访问 example.org）"),
    (FileNotFoundError(2, "No such file", "/srv/mirror/x.pth"), "/srv/mirror/x.pth 不存在"),
    (RuntimeError("something odd happened"), "`something odd happened`"),  # no template: quoted as it is
])
def test_the_network_failures_in_chinese(exc, expected):
    """The clause that says why a download failed (hub's wording of each network error), inside the sentence."""
    url = "https://example.org/models/x.pth"
    error = hub.FetchError(N_("cannot fetch {model}'s weights from {url}: {clause}"), model="resnet18-tv", url=url,
                           clause=hub._reason(exc, url, 5.0))
    assert chinese(error).startswith(f"无法从 {url} 获取 resnet18-tv 的权重：{expected}")


def test_an_unknown_error_is_quoted_behind_a_chinese_lead_in():
    assert chinese(RuntimeError("CUDA error: device-side assert triggered")) == (
        "出错（原文）：`CUDA error: device-side assert triggered`")
    assert chinese(Quoted("a run's words")) == "出错（原文）：`a run's words`"  # a failed run's text (jobs)
    assert render(RuntimeError("CUDA error: device-side assert triggered")) == (
        "CUDA error: device-side assert triggered")
    assert render(KeyError("unknown run 'x'; see `python -m explorer runs list`")) == (
        "unknown run 'x'; see `python -m explorer runs list`")  # a KeyError's sentence, not its repr
