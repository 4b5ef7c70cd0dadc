"""The playground's refusals in Chinese: every sentence a ``CodeError`` of explorer/playground can write is a template
marked with ``N_`` (read from the source here, so a sentence written any other way fails), each in the catalog with a
Chinese translation that keeps its fields; and the sentences the interpreter really writes reach a Chinese reader in
Chinese through :func:`explorer.i18n.render`, with their line and names unchanged."""

from __future__ import annotations

import ast
import pickle
import re
import string
from pathlib import Path

import pytest
from torch import nn

from explorer import playground
from explorer.i18n import catalog, render, use_language

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "explorer" / "playground").glob("*.py"))
# A ``CodeError(…)`` whose first argument is not an ``N_("…")`` template: each is a Message built from templates
# (read below like any other) — reviewed here.
COMPOSED = {
    "refused": "a Message of _REFUSED_NODES",
    "clause": "diagnose's Message (why_layer_fails), maybe inside '{clause} (built in the call at line {line})'",
    "why_layer_fails(mod, shape, failure)": "diagnose's Message",
    "RaisedWords(N_('calling {call} failed: {error}') if call else N_('the code failed: {error}'), values)":
        "an exception's words, quoted (CodeError.quoting)",
    "message": "a worker's refusal, rebuilt from its template and values",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def templates() -> list[tuple[str, str]]:
    """(where, template) for every ``N_("…")`` of the playground's source."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "N_":
                assert len(node.args) == 1 and isinstance(node.args[0], ast.Constant), ast.unparse(node)
                found.append((f"{path.name}:{node.lineno}", node.args[0].value))
    return found


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


TEMPLATES = templates()


def test_every_code_error_is_written_from_templates():
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "CodeError":
                first = node.args[0]
                if isinstance(first, ast.Call) and isinstance(first.func, ast.Name) and first.func.id == "N_":
                    continue
                text = ast.unparse(first)
                assert text in COMPOSED, f"{path.name}:{node.lineno}: CodeError({text}, …) — write N_('…') there"


def test_the_source_is_read():
    texts = {t for _, t in TEMPLATES}
    assert len(texts) > 100
    assert "'while' loops are not allowed (use 'for … in range(…)')" in texts  # from _REFUSED_NODES
    assert "the link's code is damaged (it was cut short)" in texts
    assert "name '{name}' is not defined" in texts
    assert "line {line}: {reason}" in texts


@pytest.mark.parametrize(("where", "template"), TEMPLATES, ids=[w for w, _ in TEMPLATES])
def test_every_template_is_translated_with_its_fields(where, template):
    chinese = catalog("zh").get(template)
    assert isinstance(chinese, str), f"{where}: translate {template!r} in the catalog"
    assert CJK.search(chinese), f"{where}: {chinese!r}"
    assert fields(chinese) == fields(template), f"{where}: {chinese!r} has other fields than {template!r}"


DIAGNOSED = [
    ("net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Conv2d(16, 8, 3))", (1, 8, 8),
     "第 1 行：`Conv2d(16, 8, kernel_size=(3, 3), stride=(1, 1))` 需要 16 个输入通道，得到的是 8 个"),
    ("net = nn.Sequential(\n    nn.Flatten(),\n    nn.Linear(10, 2))", (1, 4, 4),
     "第 3 行：`Linear(in_features=10, out_features=2, bias=True)` 需要 10 个输入特征，得到的是 16 个"),
    ("net = nn.Linear(10, 2)", (1, 4, 4),  # not flattened: the shape it gets, beside the count
     "第 1 行：`Linear(in_features=10, out_features=2, bias=True)` 需要 10 个输入特征，得到的是 4 个（1×4×4）"),
    ("net = nn.Conv2d(1, 2, 5)", (1, 3, 3),
     "第 1 行：`Conv2d(1, 2, kernel_size=(5, 5), stride=(1, 1))` 得到 3×3，而它的核是 5×5"),
    ("net = nn.Conv2d(1, 2, 7, padding=1)", (1, 3, 3),
     "第 1 行：`Conv2d(1, 2, kernel_size=(7, 7), stride=(1, 1), padding=(1, 1))` 得到 3×3（填充后 5×5），"
     "而它的核是 7×7"),
    ("net = nn.Conv2d(1, 2, 3, dilation=3)", (1, 5, 5),
     "第 1 行：`Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), dilation=(3, 3))` 得到 5×5，而它的核跨越 7×7"),
    ("net = nn.Conv2d(1, 2, 3, dilation=3, padding=1)", (1, 4, 4),
     "第 1 行：`Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(3, 3))` 得到 4×4"
     "（填充后 6×6），而它的核跨越 7×7"),
    ("net = nn.Flatten(start_dim=5)", (1, 4, 4),
     "第 1 行：`Flatten(start_dim=5, end_dim=-1)` 在输入 1×4×4 上出错：`Dimension out of range"),
    ("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\n"
     "    def forward(self, x):\n        return self.fc(3)\nnet = M()", (1, 4, 4),
     "第 4 行：`Linear(in_features=2, out_features=2, bias=True)` 出错：`line 6: "),
    ("def block(c):\n    return nn.Conv2d(c, 8, 3)\nnet = nn.Sequential(block(1), block(16))", (1, 8, 8),
     "第 2 行：`Conv2d(16, 8, kernel_size=(3, 3), stride=(1, 1))` 需要 16 个输入通道，得到的是 8 个"
     "（在第 3 行的调用中构建）"),
    # the notes' LeNet at 224×224: its Reshape turns 1 image into 64 (the call in forward, then a layer that does it)
    (playground.LISTINGS["lenet"].code, (1, 224, 224),
     "第 3 行：`view(-1, 1, 28, 28)` 把 1 张图像变成了 64 张：按每张图像算的数字都会是错的"),
    ("net = nn.Sequential(nn.Conv2d(1, 4, 3),\n    nn.Flatten(0))", (1, 4, 4),
     "第 2 行：`Flatten(start_dim=0, end_dim=-1)` 把 1 张图像变成了 16 张：按每张图像算的数字都会是错的"),
]



def diagnosed(code: str, input_shape: tuple[int, ...]) -> playground.CodeError:
    error = playground.locate_failure(playground.parse_network(code), input_shape)
    assert error is not None, code
    return error


@pytest.mark.parametrize(("code", "input_shape", "chinese"), DIAGNOSED, ids=[c[:30] for c, _, _ in DIAGNOSED])
def test_the_failing_layer_is_named_in_chinese(code, input_shape, chinese):
    error = diagnosed(code, input_shape)
    if code.startswith("net = nn.Sequential(\n    nn.Flatten()"):  # a flat input: its count said once, not as a shape
        assert str(error).endswith("expects 10 input features, gets 16")
    with use_language("zh"):
        assert render(error).startswith(chinese), str(error)
    assert render(error) == str(error)  # English: the sentence itself


@pytest.mark.parametrize(("code", "english", "chinese"), [
    ("import torch\nfrom torch import nn\nimport os", "line 3: 'import os' is not allowed: only torch, torch.nn and "
     "torch.nn.functional can be imported", "第 3 行：不允许 `import os`：只能导入 `torch`、`torch.nn` 和 "
     "`torch.nn.functional`"),
    ("i = 0\nwhile i < 3:\n    i += 1", "line 2: 'while' loops are not allowed (use 'for … in range(…)')",
     "第 2 行：不允许使用 `while` 循环（请用 `for … in range(…)`）"),
    ("net = nn.Sequential(\n    nn.Conv2d(1, 6, 5),\n    nn.Sigmod())",
     "line 3: nn.Sigmod is not available in the playground", "第 3 行：实验场中不能使用 `nn.Sigmod`"),
    ("layers = [nn.ReLU()]\nnet = nn.Sequential(*layer)", "line 2: name 'layer' is not defined",
     "第 2 行：名字 `layer` 没有定义"),
    ("def block(c, k):\n    return nn.Conv2d(c, c, k)\nnet = block(3)", "line 3: block() is missing the argument 'k'",
     "第 3 行：`block()` 缺少参数 `k`"),
    ("x = 3\nnet = x", "line 2: 'net' is a int, not a network (an nn.Module)",
     "第 2 行：`net` 是一个 `int`，不是网络（`nn.Module`）"),
    ("net = nn.Sequential(nn.Linear(2, 2)", "line 1: syntax error: '(' was never closed",
     "第 1 行：语法错误：`'(' was never closed`"),
    ("x = 1", "line 1: the code builds no network: bind one to 'net', e.g. net = nn.Sequential(…)",
     "第 1 行：代码没有构建网络：请把网络赋给 `net`，例如 `net = nn.Sequential(…)`"),
    ("net = nn.Linear(8000, 28000, device='cpu')",
     "line 1: the keyword 'device' is not allowed: the playground chooses the device itself",
     "第 1 行：不允许使用关键字参数 `device`：设备由实验场自己选择"),
    ("a = nn.Sequential()\na.append(a)\nnet = a", "line 2: a module cannot contain itself",
     "第 2 行：模块不能包含它自己"),
])
def test_refusals_are_chinese_with_their_line_and_names(code, english, chinese):
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network(code)
    assert str(info.value) == english
    with use_language("zh"):
        assert render(info.value) == chinese
    assert render(info.value) == english


def test_an_exceptions_own_words_are_quoted_behind_a_chinese_lead_in():
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("net = nn.Conv2d(1, 8)")
    error = info.value
    assert (error.line, error.call) == (1, "Conv2d") and "kernel_size" in error.error
    assert str(error) == f"line 1: {error.error}"  # the CLI's sentence is unchanged
    with use_language("zh"):
        assert render(error) == f"第 1 行：调用 `Conv2d` 失败：`{error.error}`"
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("sizes = [1, 2]\nnet = nn.Linear(sizes[5], 2)")
    assert (info.value.line, info.value.call, info.value.error) == (2, None, "list index out of range")
    with use_language("zh"):
        assert render(info.value) == "第 2 行：代码运行出错：`list index out of range`"
    # a network the interpreter did not build: no line to name, PyTorch's words quoted
    error = playground.locate_failure(nn.Sequential(nn.Conv2d(1, 2, 5)), (1, 3, 3))
    assert error is not None and error.line is None and error.error
    with use_language("zh"):
        assert render(error) == f"代码运行出错：`{error.error}`"


def test_a_code_error_survives_the_pages_cache():
    """The Playground caches the error as a value (st.cache_data pickles it): line, reason and quoted words kept."""
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("\nnet = nn.Conv2d(1)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.reason, copy.line, copy.error, copy.call) == (
        str(info.value), info.value.reason, 2, info.value.error, "Conv2d")
    with use_language("zh"):
        assert render(copy) == render(info.value)


def test_a_damaged_link_is_named_in_chinese():
    with pytest.raises(playground.CodeError) as info:
        playground.decode_code("not base64!")
    with use_language("zh"):
        assert render(info.value) == "链接中的代码已损坏（不是 base64url 编码）"
    with pytest.raises(playground.CodeError) as info:
        playground.decode_code(playground.encode_code("x" * 100), max_bytes=10)
    with use_language("zh"):
        assert render(info.value) == "链接中的代码超过 10 字节"
