"""The playground's refusals in Chinese: every ``CodeError(…)`` sentence of explorer/playground has a translated
template in explorer.lessons.code_errors (read from the source, so a new sentence without one fails here), and the
sentences the interpreter really writes reach a Chinese reader in Chinese, with their line and names unchanged."""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest
from torch import nn

from explorer import playground
from explorer.lessons.code_errors import CODE_TEMPLATES, translate_code_error, translate_reason
from explorer.lessons.i18n import catalog, match_template, use_language

REPO = Path(__file__).resolve().parents[2]
SOURCES = [REPO / "explorer" / "playground" / name for name in ("interpreter.py", "diagnose.py", "links.py")]
# A ``CodeError(…)`` whose sentence is not written where it is raised: reviewed here, each tested below. An
# exception's own words (``first_line``) must come with ``error=`` so that they are quoted, not translated.
COMPOSED = {
    "refused": "the strings of _REFUSED_NODES (read below)",
    "first_line(exc)": "an exception's words",
    "first_line(failure)": "an exception's words",
    "_describe_call_error(name, exc)": "an exception's words, with what was called",
    "why_layer_fails(mod, shape, failure) + where": "diagnose's sentences (see DIAGNOSED)",
    "why_layer_fails(mod, shape, failure)": "diagnose's sentences (see DIAGNOSED)",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_RUN = re.compile(r"\b[A-Za-z][a-z]+(?:[ \-'][A-Za-z][a-z]+)+\b")  # the page sweep's rule


def sample(node: ast.JoinedStr) -> tuple[str, list[str]]:
    """The sentence an f-string writes, each field filled with a distinct marker value; and those values."""
    parts, values = [], []
    for piece in node.values:
        if isinstance(piece, ast.Constant):
            parts.append(piece.value)
        else:
            values.append(f"Qv{len(values) + 1}")
            parts.append(values[-1])
    return "".join(parts), values


def source_sentences() -> list[tuple[str, str, list[str]]]:
    """(where, sentence, its field values) for every sentence a ``CodeError(…)`` of the playground writes."""
    found: list[tuple[str, str, list[str]]] = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "CodeError":
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((where, first.value, []))
                elif isinstance(first, ast.JoinedStr):
                    found.append((where, *sample(first)))
                else:
                    text = ast.unparse(first)
                    assert text in COMPOSED, f"{where}: CodeError({text}, …) — write the sentence there, or review it"
                    if text.startswith("first_line") or text.startswith("_describe_call_error"):
                        assert "error" in {k.arg for k in node.keywords}, f"{where}: an exception's words need error="
            # _REFUSED_NODES: dict[type, str] = {ast.While: "…", …} and _REFUSED_NODES[ast.Match] = "…"
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and "_REFUSED_NODES" in ast.unparse(
                    node.targets[0] if isinstance(node, ast.Assign) else node.target):
                values = node.value.values if isinstance(node.value, ast.Dict) else [node.value]
                found += [(where, v.value, []) for v in values if isinstance(v, ast.Constant)]
    return found


def shape(template: str) -> str:
    """A sentence's form with its fields blanked: adjacent fields count as one (``{dots}{module}``)."""
    return re.sub(r"(?:\{\})+", "{}", re.sub(r"\{\w+\}", "{}", template))


SENTENCES = source_sentences()
# diagnose.locate_failure on nets that fail in each way it words: (code, input size, the Chinese reason).
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


def test_the_source_is_read():
    assert len(SENTENCES) > 100
    texts = [s for _, s, _ in SENTENCES]
    assert "'with' is not allowed" in texts  # from _REFUSED_NODES
    assert "the link's code is damaged (it was cut short)" in texts
    assert "name 'Qv1' is not defined" in texts
    assert shape("'from {dots}{module} import …'") == shape("'from {module} import …'") == "'from {} import …'"


@pytest.mark.parametrize(("where", "sentence", "values"), SENTENCES, ids=[w for w, _, _ in SENTENCES])
def test_every_code_error_sentence_has_a_translated_template(where, sentence, values):
    found = match_template(sentence, CODE_TEMPLATES)
    assert found is not None, f"{where}: add a template for {sentence!r} to explorer/lessons/code_errors.py"
    template, _ = found
    own = [t for t in CODE_TEMPLATES if shape(t) == shape(sentence_template(sentence, values))]
    if own:  # a template of the same form is the one that recognises it (not a more general one listed first)
        assert template == own[0], f"{where}: {sentence!r} is read by {template!r}, not {own[0]!r}: reorder"
    assert template in catalog("zh"), f"{where}: translate {template!r} (make messages)"
    with use_language("zh"):
        chinese = translate_reason(sentence)
    assert CJK.search(chinese), chinese
    for value in values:
        assert value in chinese, f"{where}: {value} lost in {chinese!r}"
    rest = re.sub(r"`[^`]*`", " ", chinese)
    for value in values:
        rest = rest.replace(value, " ")
    assert not ENGLISH_RUN.findall(rest), f"{where}: English left in {chinese!r}"


def sentence_template(sentence: str, values: list[str]) -> str:
    for value in values:
        sentence = sentence.replace(value, "{x}")
    return sentence


def test_every_template_is_a_sentence_of_the_playground():
    """No stale template: each is written by a CodeError of the source or by diagnose's wording of a failure."""
    used = {match_template(s, CODE_TEMPLATES)[0] for _, s, _ in SENTENCES}
    for code, input_shape, _ in DIAGNOSED:
        reason = diagnosed(code, input_shape).reason
        while found := match_template(reason, CODE_TEMPLATES):
            used.add(found[0])
            reason = found[1].get("clause", "")
    assert set(CODE_TEMPLATES) - used == set()


@pytest.mark.parametrize(("code", "input_shape", "chinese"), DIAGNOSED, ids=[c[:30] for c, _, _ in DIAGNOSED])
def test_the_failing_layer_is_named_in_chinese(code, input_shape, chinese):
    error = diagnosed(code, input_shape)
    if "Linear(10, 2)" in code and "Flatten()" in code:  # a flat input: its count is said once, not as its shape
        assert str(error).endswith("expects 10 input features, gets 16")
    with use_language("zh"):
        assert translate_code_error(error).startswith(chinese), str(error)
    assert translate_code_error(error) == str(error)  # English: the sentence itself


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
])
def test_refusals_are_chinese_with_their_line_and_names(code, english, chinese):
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network(code)
    assert str(info.value) == english
    with use_language("zh"):
        assert translate_code_error(info.value) == chinese
    assert translate_code_error(info.value) == english


def test_an_exceptions_own_words_are_quoted_behind_a_chinese_lead_in():
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("net = nn.Conv2d(1, 8)")
    error = info.value
    assert (error.line, error.call) == (1, "Conv2d") and "kernel_size" in error.error
    assert str(error) == f"line 1: {error.error}"  # the CLI's sentence is unchanged
    with use_language("zh"):
        assert translate_code_error(error) == f"第 1 行：调用 `Conv2d` 失败：`{error.error}`"
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("sizes = [1, 2]\nnet = nn.Linear(sizes[5], 2)")
    assert (info.value.line, info.value.call, info.value.error) == (2, None, "list index out of range")
    with use_language("zh"):
        assert translate_code_error(info.value) == "第 2 行：代码运行出错：`list index out of range`"
    # a network the interpreter did not build: no line to name, PyTorch's words quoted
    error = playground.locate_failure(nn.Sequential(nn.Conv2d(1, 2, 5)), (1, 3, 3))
    assert error is not None and error.line is None and error.error
    with use_language("zh"):
        assert translate_code_error(error) == f"代码运行出错：`{error.error}`"


def test_a_code_error_survives_the_pages_cache():
    """The Playground caches the error as a value (st.cache_data pickles it): line, reason and quoted words kept."""
    with pytest.raises(playground.CodeError) as info:
        playground.parse_network("\nnet = nn.Conv2d(1)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.reason, copy.line, copy.error, copy.call) == (
        str(info.value), info.value.reason, 2, info.value.error, "Conv2d")


def test_a_damaged_link_is_named_in_chinese():
    with pytest.raises(playground.CodeError) as info:
        playground.decode_code("not base64!")
    with use_language("zh"):
        assert translate_code_error(info.value) == "链接中的代码已损坏（不是 base64url 编码）"
    with pytest.raises(playground.CodeError) as info:
        playground.decode_code(playground.encode_code("x" * 100), max_bytes=10)
    with use_language("zh"):
        assert translate_code_error(info.value) == "链接中的代码超过 10 字节"
