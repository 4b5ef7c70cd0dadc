"""The converted pages in Chinese (``?lang=zh``) and in English: in Chinese no visible text has a run of two English
words outside the reviewed allowlist (model names, code, units); in English the same page keeps its English text;
the language switch and the links carry ``?lang=``."""

from __future__ import annotations

import json
import re

import pytest

import explorer
from explorer.i18n import gettext, use_language
from explorer.lessons import glossary, notes
from explorer.runtime import imagenet
from tests.conftest import published_at
from tests.pages.conftest import (
    assert_clean,
    assert_no_exception,
    forget_loaded_resnet18,
    random_resnet18_checkpoint,
)

# Pages fully translated, with their English title. A page joins this list when every string it shows is marked.
CONVERTED = {
    "home": "CNN Explorer",
    "glossary": "Glossary",
    "classify": "Classify an image",
    "train": "Train a network",
    "runs": "Runs",
    "pooling": "Pooling",
    "boltzmann": "Boltzmann machine (RBM)",
    "hopfield": "Hopfield network",
    "architecture": explorer.get_spec("alexnet").title,  # the page's title is the model's (alexnet by default)
    "compare": "Compare models",
    "blocks": "Blocks and layers",
    "receptive-field": "Receptive field",
    "ffn": "The FFN layer of a transformer",
    "recurrent": "Recurrent networks: RNN, LSTM, GRU",
    "feedforward": "Feedforward networks: MLP, autoencoder, GAN",
    "residual-blocks": "Residual block variants",
    "inception": "Inception variants",
    "playground": "Playground: your own network",
}

# Reviewed English that stays English in the Chinese app: names of models, datasets, libraries and papers.
ALLOWED = [
    *(s.title for s in explorer.list_models()), *(s.family for s in explorer.list_models()),
    *(s.id for s in explorer.list_models()), *(s.paper for s in explorer.list_models() if s.paper),
    "Transformer FFN", "Boltzmann machine", "CNN Explorer", "Fashion-MNIST", "Micro Hei",
    "Identity Mappings in Deep Residual Networks",
    "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
]
# The Glossary page names the English terms it translates; Classify names ImageNet's 1000 classes as the dataset
# does (data, like the model ids: the page says so in Chinese beside them).
ALLOWED_ON = {"glossary": [t.en for t in glossary.TERMS], "classify": list(imagenet.CLASSES)}
# Code spans (also those fenced with two backticks, which quote words holding a backtick), formulas, paths and URLs.
CODE = re.compile(r"``.+?``|`[^`]*`|\$[^$]*\$")
PATH = re.compile(r"[^\s（）]*/[^\s（）]*")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ \-'][A-Za-z][a-z]+)+\b")
# The notes' own Chinese words quote English terms (Max Pooling …): shown as the learner wrote them.
NOTES_QUOTES = sorted({run for key in notes.SECTIONS for p in notes.section(key)[2]
                       for run in ENGLISH_RUN.findall(f"{p.zh} {p.label_zh or ''}")})


def visible_texts(at) -> list[str]:
    """Every text the page shows: markdown, captions, titles, headers, alerts, metric and widget labels, help."""
    texts = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info",
                                  "success") for e in at.get(kind)]
    texts += [m.label for m in at.metric] + [e.label for e in at.expander] + [t.label for t in at.tabs]
    for kind in ("selectbox", "slider", "text_input", "number_input", "radio", "checkbox", "toggle", "button",
                 "multiselect", "select_slider", "text_area"):
        for w in at.get(kind):
            texts += [w.label, w.help or ""]
    texts += [link.proto.label for link in at.get("page_link")]
    for table in at.table:  # st.table: its column and index names
        frame = table.value
        texts += [str(c) for c in frame.columns] + [str(frame.index.name or "")]
    texts += dataframe_headers(at)
    for chart in at.get("plotly_chart"):  # chart titles, axis titles and subplot titles
        layout = json.loads(chart.proto.spec)["layout"]
        texts.append(layout.get("title", {}).get("text", ""))
        texts += [axis.get("title", {}).get("text", "") for key, axis in layout.items() if key.startswith(("xaxis",
                                                                                                           "yaxis"))]
        texts += [a.get("text", "") for a in layout.get("annotations", [])]
    return [t for t in texts if t]


def dataframe_headers(at, index: int | None = None) -> list[str]:
    """The column headers of the ``st.dataframe`` tables as the reader sees them: a ``column_config`` label where the
    page gives one, else the frame's column name (all tables, or the one at ``index``)."""
    headers = []
    for frame in at.dataframe if index is None else [at.dataframe[index]]:
        config = json.loads(frame.proto.columns or "{}")
        headers += [str((config.get(str(c)) or {}).get("label") or c) for c in frame.value.columns]
    return headers


def english_runs(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    text = PATH.sub(" ", CODE.sub(" ", text))
    for name in sorted([*ALLOWED, *NOTES_QUOTES, *allowed], key=len, reverse=True):
        text = text.replace(name, " ")
    return ENGLISH_RUN.findall(text)


def test_the_english_run_finder_finds_english():
    assert english_runs("参数量 **61,706**（61.7 K）") == []
    assert english_runs("输入 `model_id` 与 LeNet-5 (d2l)") == []
    assert english_runs("卷积层 output shape 与 weight layers") == ["output shape", "weight layers"]


def texts_of_every_tab(at) -> list[str]:
    """The visible texts of the page with each tab of the Architecture page's tab set open in turn (it draws only
    its open tab); the page's texts alone where it has none."""
    labels = [t.label for t in at.tabs] if "arch_tab" in at.session_state else []
    texts = visible_texts(at)
    for label in labels[1:]:
        at.session_state["arch_tab"] = label
        with use_language("zh" if re.search(r"[\u4e00-\u9fff]", label) else "en"):
            at.run()
        assert_no_exception(at)
        texts += visible_texts(at)
    return texts


@pytest.mark.parametrize("page", list(CONVERTED))
def test_converted_page_shows_no_english_in_chinese(open_page, page):
    at = open_page(None if page == "home" else page, lang="zh")
    assert_clean(at)
    found = {run for text in texts_of_every_tab(at) for run in english_runs(text, tuple(ALLOWED_ON.get(page, ())))}
    if page == "glossary":  # its table's English column is the point of the page; the rest is Chinese
        assert at.dataframe[0].value.columns.tolist() == ["English", "中文", "说明", "不使用的译法"]
    assert not found, sorted(found)
    with use_language("zh"):
        expected = gettext(CONVERTED[page])
    assert [t.value for t in at.title] == [expected]


@pytest.mark.parametrize("page", list(CONVERTED))
def test_converted_page_stays_english_in_english(open_page, page):
    at = open_page(None if page == "home" else page, lang="en")
    assert_clean(at)
    assert [t.value for t in at.title] == [CONVERTED[page]]
    # the notes' own words, quoted “…”, are Chinese in both languages
    captions = re.sub(r"“[^”]*”", "", "\n".join(t.value for t in at.get("caption")))
    assert not re.search(r"[\u4e00-\u9fff]", captions)


def test_home_in_chinese_shows_the_exact_numbers(open_page):
    at = open_page(lang="zh")
    text = "\n".join(m.value for m in at.markdown)
    assert "输入 3×224×224 · 1000 个类别 · 50 个权重层（最长路径）  \n参数量 **25,557,032**（25.6 M）" in text
    assert [h.value for h in at.header] == ["卷积神经网络", "笔记中的其他网络"]


def test_the_language_follows_the_switch_and_the_url(open_page):
    at = open_page()  # no ?lang= and no Chinese browser: English
    assert at.query_params["lang"] == "en"
    assert [h.value for h in at.header][0] == "The convolutional networks"
    at.segmented_control(key="lang").set_value("zh").run()
    assert at.query_params["lang"] == "zh"
    assert [h.value for h in at.header][0] == "卷积神经网络"
    # the choice survives a move to another page, whose links then carry it
    at.switch_page("pages/glossary.py").run()
    at.query_params.clear()  # the sidebar navigation carries no parameters
    at.run()
    assert [t.value for t in at.title] == ["术语表"]
    assert at.query_params["lang"] == "zh"
    at.switch_page("pages/home.py").run()
    links = [link.proto for link in at.get("page_link")]
    assert links and all("lang=zh" in link.query_string for link in links)
    # a link in the other language wins on arrival
    at.query_params["lang"] = "en"
    at.run()
    assert [t.value for t in at.title] == ["CNN Explorer"] and at.header[0].value == "The convolutional networks"


def test_an_unknown_language_in_the_url_is_english(open_page):
    at = open_page(lang="fr")
    assert_clean(at)
    assert at.query_params["lang"] == "en"
    assert at.header[0].value == "The convolutional networks"


def test_classify_walkthrough_in_chinese(open_page):
    """A test image classified, then every step of the walkthrough: predictions, tables, charts all Chinese."""
    # AppTest formats the widgets' values with their format_func in this thread: in the page's language too
    with use_language("zh"):
        at = open_page("classify", lang="zh")
        at.number_input(key="cls_index").set_value(0).run()
        at.button(key="cls_try").click().run()
        assert_clean(at)
        assert [m.label for m in at.metric][0] == "预测"
        assert at.metric[0].value == "短靴"  # test image 0 is an ankle boot, and the shipped LeNet says so
        found = set()
        step = at.select_slider(key=next(w.key for w in at.select_slider if w.key.startswith("cls_step_")))
        for option in step.options:
            step.set_value(option)
            at.run()
            assert_clean(at)
            found |= {run for text in visible_texts(at) for run in english_runs(text)}
            step = at.select_slider(key=step.key)
        assert step.options[:3] == ["窗口", "乘积", "求和 + 偏置"]
        assert not found, sorted(found)


@pytest.mark.parametrize("query", [
    {"model": "nin"},  # an erratum and the notes' claim it leads to
    {"model": "resnet18"},  # a deep net: blocks, the Residual erratum
    {"model": "lstm"},  # no feature maps: the feature chart
    {"model": "alexnet", "input": "3,32,32"},  # where it stops: a pooling window that no longer fits
    {"model": "alexnet-d2l", "input": "1,96,96"},  # where it stops: the classifier's size
    {"model": "alexnet", "input": "3,x"},  # a malformed input size
    {"model": "alexnt"},  # an unknown id in the link
])
def test_architecture_in_chinese_for_other_models_and_inputs(open_page, query):
    with use_language("zh"):  # AppTest formats the widgets' values in this thread
        at = open_page("architecture", lang="zh", **query)
    if "input" in query or query["model"] == "alexnt":  # one error, in Chinese; the page stays up
        assert_no_exception(at)
        assert len(at.error) == 1 and re.search(r"[\u4e00-\u9fff]", at.error[0].value)
    else:
        assert_clean(at)
    found = {run for text in texts_of_every_tab(at) for run in english_runs(text)}
    assert not found, sorted(found)


def test_architecture_in_chinese_shows_the_same_numbers(open_page):
    with use_language("zh"):
        at = open_page("architecture", lang="zh", model="alexnet")
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["参数量"] == ("62,378,344", "62.4 M") and shown["每张图像的乘加运算"] == ("1,135,915,368", "1.14 G")
    assert [h.value for h in at.subheader][:2] == ["结构图", "下载"]
    assert [t.label for t in at.tabs] == ["各层", "图表", "论文风格图", "笔记的勘误与论断"]
    assert at.dataframe[0].value["output shape"].tolist()[:3] == ["96×55×55", "96×55×55", "96×27×27"]
    text = "\n".join(m.value for m in at.markdown)
    assert "**空间尺寸：** 224 → 55 → 27 → 13 → 6" in text
    at.session_state["arch_tab"] = "笔记的勘误与论断"
    with use_language("zh"):
        at.run()
    ratios = at.table[0].value
    assert ratios.index.name == "AlexNet 版本" and ratios.loc["alexnet", "参数量之比"] == "1,011×"
    with use_language("zh"):
        at = open_page("architecture", lang="zh", model="alexnet", input="3,32,32")
    assert [h.value for h in at.subheader][0] == "在哪里停下：pool5 (12)"
    why = "**原因：** MaxPool2d 3×3，步幅 2，得到 256×1×1：⌊(1 + 2·0 − 3)/2⌋ + 1 = 0 < 1——3×3 的窗口在 1×1 中放不下了。"
    assert why in [m.value for m in at.markdown]


def test_compare_in_chinese_with_one_input_size_and_accuracies(open_page):
    """Models that cannot take 28×28 named with the reason in Chinese; the tables' headers and the accuracy charts
    Chinese; the numbers those of the English page."""
    with use_language("zh"):
        at = open_page("compare", lang="zh", models="lenet,alexnet,resnet18-tv,mlp")
        at.selectbox(key="compare_size").set_value(28).run()
    assert_no_exception(at)
    assert [w.value.split("：")[0] for w in at.warning] == ["无法接受 28×28"]
    assert "**alexnet** — alexnet 不能接受输入 3×28×28：第 5 层" in at.warning[0].value
    assert "**mlp**" not in at.warning[0].value  # an MLP takes a 1×28×28 image
    table = at.table[0].value
    assert table.index.name == "模型" and table.loc["lenet", "参数量"] == "61,706 (61.7 K)"
    assert list(table.columns)[:4] == ["名称", "年份", "输入", "参数量"]
    found = {run for text in visible_texts(at) for run in english_runs(text)}
    assert not found, sorted(found)


def test_blocks_in_chinese_names_the_kinds_with_the_glossarys_words(open_page):
    with use_language("zh"):
        at = open_page("blocks", lang="zh", model="googlenet")
    assert_clean(at)
    assert {m.label: m.value for m in at.metric}["权重层（全部）"] == "58"
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["x"]
    assert "汇聚层" in bars and "卷积层" in bars and not any("池化" in b for b in bars)
    assert list(at.dataframe[0].value.columns)[:3] == ["块", "类型", "层数"]
    found = {run for text in visible_texts(at) for run in english_runs(text)}
    assert not found, sorted(found)


def test_receptive_field_in_chinese_through_its_controls(open_page):
    """The effective field, the dilation playground's errors and its gridding sentence, all Chinese, same numbers."""
    with use_language("zh"):
        at = open_page("receptive-field", lang="zh", model="lenet")
        at.segmented_control(key="rf_erf_lenet").set_value("random").run()
        at.text_input(key="dil_rates").set_value("1,2,4,8").run()
        assert_no_exception(at)
        found = {run for text in visible_texts(at) for run in english_runs(text)}
        text = "\n".join(m.value for m in at.markdown)
        assert "4 层之后的感受野：使用膨胀时为 **31 像素**，不使用时为 9 像素——权重数都是 36 个。" in text
        assert "有效感受野（≥ 峰值的 5%）约覆盖" in "\n".join(c.value for c in at.caption)
        table = at.table[0].value
        assert table.loc["lenet", "感受野（像素）"] == 16 and table.index.name == "模型"
        at.number_input(key="dil_n").set_value(2).run()
        at.text_input(key="dil_rates").set_value("0,2").run()
    assert [e.value for e in at.error] == ["宽为 5 的卷积核放不进 2 + 2·0 个像素：没有输出。",
                                           "请给出 1 到 12 个介于 1 和 64 之间的膨胀率，用逗号分隔（例如 1,2,4,8）。"]
    found |= {run for text in visible_texts(at) for run in english_runs(text)}
    assert not found, sorted(found)


def test_ffn_in_chinese_with_its_checked_claim(open_page):
    with use_language("zh"):
        at = open_page("ffn", lang="zh")
    assert_clean(at)
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    assert shown["FFN 参数量"] == ("2,099,712", "2.1 M") and shown["T = 10 时的乘加运算"][0] == "20,997,120"
    text = "\n".join(m.value for m in at.markdown)
    assert "**参数量：** (512 + 1)·2048 + (2048 + 1)·512 = 2,099,712" in text
    assert "**核实：** softmax 自注意力**不是**线性的" in text
    assert "| 检验（随机 6×16 输入，float64） | 最大 \\|差异\\| | 线性映射 |" in text


def test_playground_in_chinese_translates_the_input_size_errors(open_page):
    """The analysis' sentences about a bad input size reach the Chinese page in Chinese, with the same values."""
    with use_language("zh"):
        at = open_page("playground", lang="zh")
        at.text_input(key="pg_input").set_value("3,x").run()
    assert_no_exception(at)
    assert [e.value for e in at.error] == ["输入尺寸 '3,x' 不是像 3,224,224 这样的整数列表"]
    with use_language("zh"):
        at.text_input(key="pg_input").set_value("1,224,224").run()
    assert_clean(at)
    table = at.dataframe[-1].value
    assert table.columns.tolist()[:3] == ["网络", "输入", "参数量"] and table["网络"].tolist()[0] == "你的网络"


def test_playground_in_chinese_names_a_refused_line_in_chinese(open_page):
    """The interpreter's refusal: "第 3 行：…" with the names from the code, no English sentence; and the layer table's
    headers Chinese once the code works."""
    with use_language("zh"):
        at = open_page("playground", lang="zh")
        at.text_area(key="pg_code").set_value("import torch\nfrom torch import nn\nimport os\nnet = nn.ReLU()").run()
    assert_no_exception(at)
    assert [e.value for e in at.error] == [
        "第 3 行：不允许 `import os`：只能导入 `torch`、`torch.nn` 和 `torch.nn.functional`"]
    found = {run for text in visible_texts(at) for run in english_runs(text)}
    assert not found, sorted(found)
    with use_language("zh"):  # PyTorch's own words, quoted as code behind a Chinese lead-in
        at.text_area(key="pg_code").set_value("net = nn.Sequential(\n    nn.Conv2d(1, 8),\n)").run()
    [error] = [e.value for e in at.error]
    assert error.startswith("第 2 行：调用 `Conv2d` 失败：`Conv2d.__init__() missing 1 required positional argument")
    assert not {run for text in visible_texts(at) for run in english_runs(text)}
    with use_language("zh"):  # the layer that cannot take its input, and the call that built it
        at.text_area(key="pg_code").set_value(
            "def block(c):\n    return nn.Conv2d(c, 8, 3)\n\nnet = nn.Sequential(block(1), block(16))").run()
    assert [e.value for e in at.error] == [
        "第 2 行：`Conv2d(16, 8, kernel_size=(3, 3), stride=(1, 1))` 需要 16 个输入通道，得到的是 8 个"
        "（在第 4 行的调用中构建）"]
    with use_language("zh"):
        at.text_area(key="pg_code").set_value("net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU())").run()
    assert_clean(at)
    assert dataframe_headers(at, 0) == ["层", "类型", "输出形状", "参数量", "乘加运算", "感受野", "步幅", "形状计算"]
    assert at.dataframe[0].value.columns.tolist()[:3] == ["layer", "type", "output shape"]  # the data keeps its keys


@pytest.mark.parametrize(("page", "headers"), [
    ("feedforward", ["层", "类型", "输出形状", "参数量", "形状计算"]),
    ("residual-blocks", ["层", "类型", "输出形状", "参数量"]),
])
def test_layer_tables_outside_architecture_have_chinese_headers(open_page, page, headers):
    with use_language("zh"):
        at = open_page(page, lang="zh")
    assert_clean(at)
    assert dataframe_headers(at, 0) == headers


def test_a_failed_checkpoint_download_in_chinese(open_page, tmp_path, monkeypatch):
    """A runtime error on a page: the ImageNet download that cannot connect, named in Chinese with its URL."""
    import socket

    import torch

    from explorer.runtime import hub

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = "resnet18-0123abcd.pth"
    url = f"http://127.0.0.1:{port}/models/{name}"
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setitem(imagenet.CHECKPOINTS, "resnet18-tv", published_at("resnet18-tv", url))
    with use_language("zh"):
        at = open_page("classify", lang="zh")
        at.selectbox(key="cls_model").set_value("resnet18-tv").run()
        at.button(key="cls_fetch").click().run()
    assert_no_exception(at)
    assert [e.value for e in at.error] == [
        f"无法从 {url} 获取 resnet18-tv 的权重：到 127.0.0.1:{port} 的连接被拒绝"]
    found = {run for text in visible_texts(at) for run in english_runs(text)}
    assert not found, sorted(found)


@pytest.fixture
def imagenet_checkpoint(monkeypatch, hub_cache):
    """resnet18-tv's checkpoint in an empty torch.hub cache: random weights under a name carrying their SHA-256."""
    name, payload = random_resnet18_checkpoint()
    monkeypatch.setitem(imagenet.CHECKPOINTS, "resnet18-tv", published_at("resnet18-tv", f"http://127.0.0.1:9/models/{name}"))
    hub_cache.mkdir(parents=True)
    (hub_cache / name).write_bytes(payload)
    assert imagenet.checkpoint_path("resnet18-tv") == hub_cache / name
    yield
    forget_loaded_resnet18()


def test_imagenet_classes_in_chinese_are_the_datasets_names(open_page, imagenet_checkpoint):
    """ImageNet's class names are data: shown as the dataset writes them, and the page says so in Chinese."""
    from tests.pages.test_classify import product_photo

    with use_language("zh"):
        at = open_page("classify", lang="zh", model="resnet18-tv")
        at.file_uploader(key="cls_upload").set_value([("sneaker.jpg", product_photo(9), "image/jpeg")]).run()
    assert_clean(at)
    [prediction] = [m for m in at.metric if m.label == "预测"]
    assert prediction.value in imagenet.CLASSES
    assert "ImageNet 类别，沿用数据集的英文原名。" in [c.value for c in at.caption]
    notes = at.table[0].value["说明"].tolist()
    assert "ImageNet（类别名沿用数据集的英文原名）" in notes
    found = {run for text in visible_texts(at) for run in english_runs(text, tuple(ALLOWED_ON["classify"]))}
    assert not found, sorted(found)


@pytest.mark.parametrize(("page", "key"), [("classify", "cls_device"), ("train", "tr_device")])
def test_the_device_choice_auto_is_said_in_chinese(open_page, page, key):
    with use_language("zh"):  # AppTest formats the options in this thread
        at = open_page(page, lang="zh")
        box = at.selectbox(key=key)
        assert box.value == "auto" and box.format_func("auto") == "自动（用最好的可用设备）"
        assert box.format_func("cpu") == "cpu"
