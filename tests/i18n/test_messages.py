"""Messages that carry their own words: a template and its values, written in English by ``str()`` (the CLI's
``error:`` line) and in the reader's language by ``render()`` (the pages) — and the library's errors, raised with
their templates, as the Chinese pages show them."""

from __future__ import annotations

import io
import pickle
import re

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer.analysis import parse_input_shape
from explorer.i18n import (
    N_,
    ExplorerError,
    InvalidValue,
    Message,
    Ordinal,
    Quoted,
    UnknownKey,
    gettext,
    render,
    use_language,
)
from explorer.lessons import claims, compare, pooling
from explorer.runtime import devices, images, inference
from explorer.zoo.registry import list_models, unknown_model_error

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ \-'][A-Za-z][a-z]+)+\b")  # the page sweep's rule
CODE = re.compile(r"``.+?``|`[^`]*`")
MODEL_IDS = sorted((s.id for s in list_models()), key=len, reverse=True)


def raised(call, kind: type[BaseException] = Exception) -> BaseException:
    with pytest.raises(kind) as info:
        call()
    return info.value


def chinese(item) -> str:
    """``item`` as the Chinese pages show it, checked: Chinese, no English phrase outside code and names."""
    with use_language("zh"):
        text = render(item)
    assert CJK.search(text), text
    left = CODE.sub(" ", text)
    for name in [*MODEL_IDS, "Fashion-MNIST", "Apple", "Metal", "PyTorch"]:
        left = left.replace(name, " ")
    assert not ENGLISH_RUN.findall(left), text
    return text


# --- Message ----------------------------------------------------------------------------------------------------------
def test_a_message_is_english_by_str_and_translated_by_render():
    message = Message(N_("input size {dims} has a dimension below 1 ({value})"), {"dims": "3,0,224", "value": 0})
    assert str(message) == "input size 3,0,224 has a dimension below 1 (0)"
    assert render(message) == str(message)  # English is the default language
    with use_language("zh"):
        assert render(message) == "输入尺寸 3,0,224 有一个维度小于 1（0）"
        assert str(message) == "input size 3,0,224 has a dimension below 1 (0)"  # str() stays English


def test_quoted_words_are_code_outside_english_and_nested_messages_render_in_turn():
    inner = Message(N_("{name} is {kind}, not an image file"), {"name": "x", "kind": Message(N_("a directory"))})
    assert str(inner) == "x is a directory, not an image file"
    quoted = Message(N_("cannot read {name}: {reason}"), {"name": "a.png", "reason": Quoted("Permission denied")})
    assert str(quoted) == "cannot read a.png: Permission denied"
    with use_language("zh"):
        assert render(inner) == "x 是一个目录，不是图像文件"
        assert render(quoted) == "无法读取 a.png：`Permission denied`"
        assert render(Message("{error}", {"error": Quoted("has a ` in it")})) == "`` has a ` in it ``"
        assert str(Ordinal(2)) == "2"
    assert [str(Ordinal(n)) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_a_sentence_without_fields_is_written_as_it_is():
    assert str(Message("a {brace} the catalog does not know")) == "a {brace} the catalog does not know"
    with use_language("zh"):
        assert render(Message(N_("a directory"))) == "一个目录"


def test_errors_keep_their_builtin_kind_their_sentence_and_survive_pickling():
    error = InvalidValue(N_("unknown device {name}; use auto, cpu, cuda or mps"), name="'tpu'")
    assert isinstance(error, ValueError) and isinstance(error, ExplorerError)
    assert str(error) == error.args[0] == "unknown device 'tpu'; use auto, cpu, cuda or mps"
    missing = UnknownKey(N_("unknown claim {key}; known: {keys}"), key="'x'", keys="a, b")
    assert isinstance(missing, KeyError)
    assert str(missing) == "unknown claim 'x'; known: a, b"  # the sentence, not a KeyError's quoted repr
    for original in (error, missing, unknown_model_error("alexnt"), images.ImageError(N_("{name} is empty"), name="a")):
        copy = pickle.loads(pickle.dumps(original))
        assert type(copy) is type(original) and str(copy) == str(original) and copy.message == original.message
        with use_language("zh"):
            assert render(copy) == render(original) != str(original)


def test_another_programs_error_is_quoted_behind_a_lead_in():
    error = RuntimeError("CUDA error: device-side assert triggered")
    assert render(error) == "CUDA error: device-side assert triggered"
    assert render(KeyError("plain words")) == "plain words"
    with use_language("zh"):
        assert render(error) == "出错（原文）：`CUDA error: device-side assert triggered`"
        assert render("Glossary") == gettext("Glossary") == "术语表"


# --- the library's errors, as the CLI prints them and the Chinese pages show them --------------------------------
def test_an_unknown_model_is_a_key_error_naming_close_matches():
    error = raised(lambda: explorer.build("alexnt"), KeyError)
    assert str(error) == "unknown model id 'alexnt'; did you mean alexnet, alexnet-tv, lenet?"
    assert chinese(error) == "未知的模型 id 'alexnt'；你是不是要找 alexnet, alexnet-tv, lenet？"
    far = raised(lambda: explorer.get_spec("zzzzzz"), KeyError)
    assert str(far).startswith("unknown model id 'zzzzzz'; known ids: mlp, autoencoder, ")
    with use_language("zh"):
        assert render(far).startswith("未知的模型 id 'zzzzzz'；已知的 id：mlp, autoencoder, ")


def test_the_analysis_errors_and_reasons_in_both_languages():
    def failure(model: str, shape: tuple[int, ...]):
        return explorer.analyze(model, shape, partial=True).failure

    pool, channels, features = (failure("alexnet", (3, 32, 32)), failure("alexnet", (1, 224, 224)),
                                failure("alexnet-d2l", (1, 96, 96)))
    sentences = [
        (raised(lambda: parse_input_shape("3,x")), "input size '3,x' is not a list of integers like 3,224,224",
         "输入尺寸 '3,x' 不是像 3,224,224 这样的整数列表"),
        (raised(lambda: parse_input_shape("3,0,224")), "input size 3,0,224 has a dimension below 1 (0)",
         "输入尺寸 3,0,224 有一个维度小于 1（0）"),
        (pool.reason, "MaxPool2d 3×3, stride 2 gets 256×1×1: ⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1 — the 3×3 window no "
                      "longer fits in 1×1",
         "MaxPool2d 3×3，步幅 2，得到 256×1×1：⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1——3×3 的窗口在 1×1 中放不下了"),
        (channels.reason, "Conv2d expects 3 input channels, this input has 1",
         "Conv2d 需要 3 个输入通道，这个输入有 1 个"),
        (features.reason, "the classifier's Linear expects 256·5·5 = 6,400 features, this input gives 256·1·1 = 256",
                          "分类器的 Linear 需要 256·5·5 = 6,400 个特征，这个输入给出 256·1·1 = 256"),
        (channels.message, "alexnet cannot take input 1×224×224: layer 0 (Conv2d(3, 96, kernel_size=(11, 11), "
                           "stride=(4, 4), padding=(2, 2))) gets input 1×224×224: it expects 3 input channels, got 1",
                           "alexnet 不能接受输入 1×224×224：第 0 层（Conv2d(3, 96, kernel_size=(11, 11), "
                           "stride=(4, 4), padding=(2, 2))）得到输入 1×224×224：它需要 3 个输入通道，得到的是 1 个"),
        (features.message, "alexnet-d2l cannot take input 1×96×96: layer 14 (Linear(in_features=6400, "
                           "out_features=4096, bias=True)) gets input 256: it expects 6400 input features, got 256",
                           "alexnet-d2l 不能接受输入 1×96×96：第 14 层（Linear(in_features=6400, out_features=4096, "
                           "bias=True)）得到输入 256：它需要 6400 个输入特征，得到的是 256 个"),
        (pool.message, "alexnet cannot take input 3×32×32: layer 12 (MaxPool2d(kernel_size=3, stride=2, padding=0, "
                       "dilation=1, ceil_mode=False)) gets input 256×1×1: Given input size: (256x1x1). Calculated "
                       "output size: (256x0x0). Output size is too small",
                       "alexnet 不能接受输入 3×32×32：第 12 层（MaxPool2d(kernel_size=3, stride=2, padding=0, "
                       "dilation=1, ceil_mode=False)）得到输入 256×1×1：PyTorch 报告 `Given input size: (256x1x1). "
                       "Calculated output size: (256x0x0). Output size is too small`"),
    ]
    for item, english, zh in sentences:
        assert str(item) == english
        with use_language("zh"):
            assert render(item) == zh
    with pytest.raises(explorer.InputShapeError) as info:
        explorer.analyze("alexnet", (3, 32, 32))
    assert info.value.message == pool.message and str(info.value) == str(pool.message)


def test_a_layer_that_fails_in_its_own_code_keeps_pytorchs_words_quoted():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Unflatten(1, (7, 7)))
    reason = explorer.analyze(net, (1, 5, 5), partial=True).failure.reason
    assert str(reason).startswith("unflatten: ") and "`" not in str(reason)
    with use_language("zh"):
        assert render(reason) == f"`{reason}`"


def test_the_runtime_errors_in_chinese():
    assert chinese(raised(lambda: devices.pick_device("tpu"))) == "未知的设备 'tpu'；请用 auto、cpu、cuda 或 mps"
    if not torch.cuda.is_available():
        assert chinese(raised(lambda: devices.pick_device("cuda"))) == "要求使用 cuda 设备，但没有可用的 CUDA GPU"
    assert chinese(raised(lambda: images.load_image(b"", "a.png"))) == "a.png 是空文件"
    assert chinese(raised(lambda: images.load_image(b"not an image", "b.png"))).startswith("b.png 不是受支持格式（PNG")
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(png, "PNG")
    damaged = raised(lambda: images.load_image(png.getvalue()[:-30], "c.png"))
    assert str(damaged).startswith("c.png is damaged or truncated and cannot be decoded (")
    assert chinese(damaged).startswith("c.png 已损坏或不完整，无法解码（`")
    folder = raised(lambda: images.read_image_file("/", name="/"), images.ImageError)
    assert str(folder) == "/ is a directory, not an image file"
    assert chinese(folder) == "/ 是一个目录，不是图像文件"
    shape = raised(lambda: inference.dataset_input(np.zeros((2, 2), np.float32), "lenet"))
    assert str(shape) == "a Fashion-MNIST image is a 28×28 uint8 array, not float32 of shape (2, 2)"
    assert chinese(shape) == "Fashion-MNIST 图像是 28×28 的 uint8 数组，而不是形状为 (2, 2) 的 float32"


def test_the_lessons_errors_in_chinese():
    assert str(raised(lambda: pooling.output_size(4, 3, 1, 2))) == (
        "padding 2 is more than half the window 3 (PyTorch refuses it)")
    assert chinese(raised(lambda: pooling.output_size(4, 3, 1, 2))) == "填充 2 超过了窗口 3 的一半（PyTorch 会拒绝）"
    assert chinese(raised(lambda: pooling.pool(np.zeros((4, 4)), "median"))) == (
        "未知的汇聚方式 'median'；已知的方式：max, avg")
    unknown = raised(lambda: claims.check("nope"), KeyError)
    assert str(unknown).startswith("unknown claim 'nope'; known: inception-v3-7x7, ")
    with use_language("zh"):
        assert render(unknown).startswith("未知的论断 'nope'；已知的论断：inception-v3-7x7, ")
    lstm = compare.measure("lstm", 96).error
    assert str(lstm) == "not an image model (input 28×28)"
    assert chinese(lstm) == "不是图像模型（输入 28×28）"


def test_every_error_template_of_the_library_is_translated():
    """Each N_ template an ExplorerError of these packages is raised with has its Chinese, fields kept."""
    from explorer.i18n import catalog

    zh = catalog("zh")
    for template in ("{name} is {kind}, not an image file", "cannot read {name}: {reason}",
                     "unknown layer-table column(s) {unknown}; known: {known}",
                     "no trained weights are shipped (explorer/zoo/trained/manifest.json is missing)"):
        assert set(re.findall(r"\{\w+\}", zh[template])) == set(re.findall(r"\{\w+\}", template))
