"""A safe interpreter for the PyTorch a learner pastes: ``parse_network(code) -> nn.Module``.

The code is parsed with :mod:`ast` and *interpreted* node by node against an allowlist; nothing in it is ever handed
to ``exec``, ``eval`` or ``compile``, and no attribute is read with a name the snippet chose unless that name is on
a list below. What it can do is what a d2l listing needs: build ``torch.nn`` layers and containers, define helper
functions (``vgg_block``) and ``nn.Module`` subclasses (``Inception``, ``Residual``, ``Reshape``) whose ``forward``
is interpreted each time the module runs, loop with ``for``/``range``/comprehensions, and do arithmetic.

Every refusal or failure is :class:`CodeError`: one sentence that names the line. Limits (code size, steps, modules,
parameters, call depth, sizes of the values built) are counted by the interpreter itself — no signals, no threads —
so it is safe inside Streamlit's script threads. The network is built on PyTorch's meta device by default: a model
of 10¹² parameters costs nothing.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import itertools
import math
import textwrap
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as torch_F
from torch import nn

from ..i18n import DEFAULT_LANGUAGE, N_, ExplorerError, Message, Quoted, language
from ..zoo.meta import SkipMetaInit


class CodeError(ExplorerError, ValueError):
    """The snippet was refused or failed: ``str(err)`` is one sentence, ``line N: …`` when a line is known.

    ``CodeError(N_("name '{name}' is not defined"), 7, name="x")``: the template and its values make the sentence
    (:class:`~explorer.i18n.Message`), in English for the CLI (``str(err)``) and in the reader's language where a page
    renders it (:func:`explorer.i18n.render`). ``reason`` is the sentence without the line. Where the reason is the
    words of an exception Python or PyTorch raised while the snippet ran (:meth:`quoting`), ``error`` holds those words
    and ``call`` what was being called (``Conv2d``, ``.view``), when known: they are quoted as they are, never
    translated.
    """

    def __init__(self, template: str | Message, /, line: int | None = None, **values: Any) -> None:
        reason = template if isinstance(template, Message) else Message(template, values)
        self.line = line
        self.reason = reason
        super().__init__(Message(N_("line {line}: {reason}"), {"line": line, "reason": reason}) if line else reason)

    @classmethod
    def quoting(cls, words: str, line: int | None = None, call: str | None = None) -> CodeError:
        """The failure of a call (``call``: ``Conv2d``, ``.view``; ``None`` when unknown) in the words of the
        exception it raised."""
        values = {"error": Quoted(words)} | ({"call": Quoted(call)} if call else {})
        template = N_("calling {call} failed: {error}") if call else N_("the code failed: {error}")
        return cls(RaisedWords(template, values), line)

    @property
    def error(self) -> str | None:
        """The words of the exception Python or PyTorch raised, when that is the reason."""
        return str(self.reason.values["error"]) if isinstance(self.reason, RaisedWords) else None

    @property
    def call(self) -> str | None:
        """What was being called when it raised (``Conv2d``, ``.view``), when known."""
        call = self.reason.values.get("call") if isinstance(self.reason, RaisedWords) else None
        return str(call) if call is not None else None


@dataclass(frozen=True)
class RaisedWords(Message):
    """What Python or PyTorch said when the snippet's code failed. In English their words as they are, after the name
    of what was called when the words do not say it (``Conv2d: __init__() missing …``); in another language the
    template's lead-in (``calling {call} failed: {error}``) with the words quoted as code."""

    def render(self) -> str:
        if language() != DEFAULT_LANGUAGE:
            return super().render()
        error, call = str(self.values["error"]), self.values.get("call")
        return f"{call}: {error}" if call and str(call) not in error else error


@dataclass(frozen=True)
class Limits:
    """What one snippet may use. ``ops`` counts evaluated AST nodes (and loop iterations inside built-ins), once
    for building the network and afresh for each outermost forward pass."""

    code_bytes: int = 64 * 1024
    ops: int = 200_000
    modules: int = 2_000
    params: int = 10**12  # on the meta device a parameter costs nothing
    real_params: int = 200_000_000  # when ``device=`` builds real weights
    real_tensor_elements: int = 50_000_000
    call_depth: int = 40  # snippet functions and interpreted forwards, nested
    nesting: int = 60  # AST depth
    sequence: int = 100_000  # elements of a list, tuple, dict or string the snippet builds
    int_bits: int = 4_096  # integers below 2**4096
    value_nesting: int = 100  # lists, tuples, dicts and sets inside one another
    module_nesting: int = 100  # modules inside one another
    round_digits: int = 4_096  # round(x, n): |n| at most this


DEFAULT_LIMITS = Limits()

with torch.device("meta"):  # torch imports its device context's module lazily: do it now, not inside a snippet
    pass

# --- what the snippet can reach --------------------------------------------------------------------------------

LAYERS = (
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear", "Bilinear",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
    "LocalResponseNorm", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
    "Hardswish", "Hardsigmoid", "Hardtanh", "Softplus", "Softmax", "LogSoftmax", "Softmax2d", "Identity",
    "Flatten", "Unflatten", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
    "PixelUnshuffle", "ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d", "Embedding",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "Sequential", "ModuleList", "ModuleDict",
)
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
BASES = (nn.Module, nn.Sequential, nn.ModuleList)  # what a snippet class may subclass (besides snippet classes)

TORCH_FUNCTIONS = (
    "cat", "concat", "stack", "flatten", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "relu",
    "sigmoid", "tanh", "softmax", "log_softmax", "add", "sub", "mul", "div", "matmul", "mm", "bmm", "mean", "sum",
    "amax", "amin", "max", "min", "exp", "log", "sqrt", "abs", "maximum", "minimum", "clamp", "chunk", "split",
    "zeros", "ones", "rand", "randn", "empty", "zeros_like", "ones_like", "empty_like", "rand_like", "randn_like",
    "arange", "numel", "is_tensor",
)
TORCH_VALUES = ("float32", "float16", "bfloat16", "float64", "int64", "long", "float", "Size")
FUNCTIONAL = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "sigmoid", "tanh", "hardswish",
    "hardsigmoid", "softmax", "log_softmax", "softplus", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
    "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "dropout", "dropout2d", "interpolate", "pad", "normalize",
    "pixel_shuffle", "local_response_norm",
)
TENSOR_CREATORS = {"zeros", "ones", "rand", "randn", "empty", "arange"}
TENSOR_ATTRS = frozenset({
    "view", "reshape", "size", "shape", "flatten", "permute", "transpose", "contiguous", "unsqueeze", "squeeze",
    "mean", "sum", "amax", "amin", "max", "min", "dim", "ndim", "numel", "relu", "sigmoid", "tanh", "softmax",
    "log_softmax", "chunk", "split", "view_as", "reshape_as", "expand_as", "add", "mul", "sub", "div", "matmul",
    "exp", "log", "sqrt", "abs", "clamp", "pow", "t", "T", "dtype", "is_meta",
})
LAYER_ATTRS = frozenset({
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "in_features",
    "out_features", "num_features", "p", "weight", "bias", "output_size", "normalized_shape", "num_embeddings",
    "embedding_dim", "hidden_size", "input_size", "num_layers", "training",
})
MODULE_METHODS = frozenset({"add_module", "append", "extend", "insert", "children", "modules", "parameters"})
VALUE_METHODS: dict[type, frozenset[str]] = {
    list: frozenset({"append", "extend", "insert", "pop", "index", "count", "reverse", "copy"}),
    tuple: frozenset({"index", "count"}),
    dict: frozenset({"items", "keys", "values", "get", "copy", "update", "pop"}),
    str: frozenset({"join", "lower", "upper", "strip", "startswith", "endswith", "split", "isdigit"}),
    torch.Size: frozenset({"numel", "index", "count"}),
}
FORBIDDEN_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals", "vars",
    "dir", "__import__", "input", "breakpoint", "type", "object", "memoryview", "help", "exit", "quit", "id",
    "classmethod", "staticmethod", "property", "issubclass", "callable", "iter", "next", "format", "repr",
    "bytes", "bytearray", "chr", "ord", "hash", "__builtins__", "__loader__", "__spec__",
})
IMPORTS = {"torch": "torch", "torch.nn": "nn", "torch.nn.functional": "F"}  # module → the predefined namespace

def _refused(construct: str) -> Message:
    return Message(N_("'{construct}' is not allowed"), {"construct": construct})


_REFUSED_NODES: dict[type, Message] = {
    ast.While: Message(N_("'while' loops are not allowed (use 'for … in range(…)')")),
    ast.With: _refused("with"), ast.AsyncWith: _refused("with"), ast.Try: _refused("try"),
    ast.Raise: _refused("raise"), ast.Global: _refused("global"), ast.Nonlocal: _refused("nonlocal"),
    ast.Lambda: Message(N_("'lambda' is not allowed (define a function with 'def')")),
    ast.Delete: _refused("del"), ast.Yield: _refused("yield"), ast.YieldFrom: _refused("yield"),
    ast.Await: _refused("await"), ast.AsyncFunctionDef: _refused("async def"), ast.AsyncFor: _refused("async for"),
    ast.NamedExpr: _refused(":="),
}
if hasattr(ast, "TryStar"):
    _REFUSED_NODES[ast.TryStar] = _refused("try")
if hasattr(ast, "Match"):
    _REFUSED_NODES[ast.Match] = _refused("match")
if hasattr(ast, "TypeAlias"):
    _REFUSED_NODES[ast.TypeAlias] = Message(N_("'{construct}' statements are not allowed"), {"construct": "type"})


class Namespace:
    """``torch``, ``nn`` and ``F`` as the snippet sees them: a fixed table of names, not the real modules."""

    def __init__(self, name: str, entries: dict[str, Any]) -> None:
        self.name = name
        self.entries = entries

    def __repr__(self) -> str:
        return f"<{self.name}>"

    def __deepcopy__(self, memo: dict) -> Namespace:
        return self


def _namespaces() -> dict[str, Namespace]:
    nn_ns = Namespace("nn", {name: getattr(nn, name) for name in LAYERS})
    nn_ns.entries.update(Module=nn.Module, Parameter=nn.Parameter)
    f_ns = Namespace("F", {name: getattr(torch_F, name) for name in FUNCTIONAL})
    torch_ns = Namespace("torch", {name: getattr(torch, name) for name in TORCH_FUNCTIONS + TORCH_VALUES})
    torch_ns.entries["nn"] = nn_ns
    nn_ns.entries["functional"] = f_ns
    return {"torch": torch_ns, "nn": nn_ns, "F": f_ns}


NAMESPACES = _namespaces()
LAYER_CLASSES = frozenset(v for v in NAMESPACES["nn"].entries.values() if isinstance(v, type)
                          and issubclass(v, nn.Module))
TORCH_CALLABLES = frozenset(
    id(v) for ns in NAMESPACES.values() for v in ns.entries.values() if not isinstance(v, Namespace)
)


# --- the snippet's own functions and classes ----------------------------------------------------------------------


class Scope:
    """Names bound in one frame; lookups fall back to the enclosing (defining) frame, then the predefined names."""

    __slots__ = ("vars", "parent")

    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        raise KeyError(name)

    def __deepcopy__(self, memo: dict) -> Scope:
        return self


class SnippetFunction:
    """A ``def`` from the snippet: its AST and the scope it was defined in (closures work as in Python)."""

    def __init__(self, node: ast.FunctionDef, scope: Scope, defaults: list[Any], kw_defaults: list[Any],
                 owner: type | None = None) -> None:
        self.node, self.scope, self.defaults, self.kw_defaults, self.owner = node, scope, defaults, kw_defaults, owner
        self.name = node.name

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def __deepcopy__(self, memo: dict) -> SnippetFunction:
        return self


class BoundMethod:
    def __init__(self, func: SnippetFunction, obj: Any) -> None:
        self.func, self.obj = func, obj

    def __deepcopy__(self, memo: dict) -> BoundMethod:
        return self


class Method:
    """An allowlisted method of a value (``layers.append``, ``x.view``): the name comes from a list above."""

    def __init__(self, obj: Any, name: str) -> None:
        self.obj, self.name = obj, name

    def __deepcopy__(self, memo: dict) -> Method:
        return self


class Super:
    def __init__(self, cls: type, obj: Any) -> None:
        self.cls, self.obj = cls, obj


@dataclass
class SnippetClass:
    """What a ``class`` statement of the snippet defines: its methods (interpreted) and their defining scope."""

    name: str
    methods: dict[str, SnippetFunction]
    limits: Limits
    device: str

    def __deepcopy__(self, memo: dict) -> SnippetClass:
        return self


class InterpretedModule(nn.Module):
    """Base of every class a snippet defines. ``forward`` (and any other method) is the snippet's, interpreted
    each time it runs; attributes set on ``self`` are ordinary submodules, parameters and values."""

    _snippet: SnippetClass

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        method = _find_method(type(self), "forward")
        if method is None:
            for base in type(self).__mro__:
                if base in BASES and base is not nn.Module:
                    return base.forward(self, *args, **kwargs)
            raise CodeError(N_("{name} has no forward method"), _line_of(self), name=type(self).__name__)
        interp = _active_interpreter()
        if interp is not None:
            return interp.call_function(method, [self, *args], kwargs, None)
        interp = Interpreter(type(self)._snippet.limits, type(self)._snippet.device)
        with interp.activated():
            return interp.call_function(method, [self, *args], kwargs, None)


def _find_method(cls: type, name: str, after: type | None = None) -> SnippetFunction | None:
    mro = cls.__mro__
    if after is not None:
        mro = mro[mro.index(after) + 1:]
    for klass in mro:
        snippet = klass.__dict__.get("_snippet")
        if snippet is not None and name in snippet.methods:
            return snippet.methods[name]
    return None


def _torch_base(cls: type, after: type | None = None) -> type:
    mro = cls.__mro__ if after is None else cls.__mro__[cls.__mro__.index(after) + 1:]
    return next(k for k in mro if k in BASES)


def _line_of(module: Any) -> int | None:
    return getattr(module, "__dict__", {}).get("_snippet_line")


_local = threading.local()


def _active_interpreter() -> Interpreter | None:
    return getattr(_local, "interpreter", None)


class _Return(Exception):  # noqa: N818 — control flow, not an error
    def __init__(self, value: Any) -> None:
        self.value = value


class _Break(Exception):  # noqa: N818
    pass


class _Continue(Exception):  # noqa: N818
    pass


def first_line(exc: BaseException) -> str:
    """The first line of an exception's words, at most 300 characters. An exception that holds a value of the
    snippet (a ``KeyError`` holds the key) is not written out when the value is not a short plain one: its repr could
    be gigabytes (a tuple holding one long string 1,000 times)."""
    if any(not isinstance(a, (str, int, float, bool)) or (isinstance(a, str) and len(a) > 10_000)
           for a in exc.args) and exc.args:
        return type(exc).__name__
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "…"


def _type_name(value: Any) -> str:
    return type(value).__name__


# --- static checks: refuse before anything runs --------------------------------------------------------------------


_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _check_tree(tree: ast.Module, limits: Limits) -> None:
    """Refuse every construct outside the subset before a single node is interpreted."""
    # (node, depth, inside a function, inside a loop of that function)
    stack: list[tuple[ast.AST, int, bool, bool]] = [(tree, 0, False, False)]
    while stack:
        node, depth, in_function, in_loop = stack.pop()
        line = getattr(node, "lineno", None)
        if depth > limits.nesting:
            raise CodeError(N_("the code is nested more than {limit} levels deep"), line, limit=limits.nesting)
        refused = _REFUSED_NODES.get(type(node))
        if refused:
            raise CodeError(refused, line)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            is_super = (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                        and node.value.func.id == "super" and node.attr == "__init__")
            if not is_super:
                raise CodeError(N_("attribute '{name}' is not allowed"), line, name=node.attr)
        elif isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("__")):
            raise CodeError(N_("'{name}' is not available in the playground"), line, name=node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            _check_import(node)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if node.decorator_list:
                raise CodeError(N_("decorators are not allowed"), line)
            if node.name.startswith("__") and not (isinstance(node, ast.FunctionDef) and node.name == "__init__"):
                raise CodeError(N_("the name '{name}' is not allowed"), line, name=node.name)
            if isinstance(node, ast.ClassDef) and node.keywords:
                raise CodeError(N_("class keywords (metaclass=…) are not allowed"), line)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
            raise CodeError(N_("{type} literals are not allowed"), line, type=_type_name(node.value))
        elif isinstance(node, ast.arg) and node.arg.startswith("__"):
            raise CodeError(N_("the name '{name}' is not allowed"), line, name=node.arg)
        elif isinstance(node, ast.keyword) and node.arg is not None:
            _check_keyword(node.arg, line)
        elif isinstance(node, ast.Return) and not in_function:
            raise CodeError(N_("'return' outside a function"), line)
        elif isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            raise CodeError(N_("'break' or 'continue' outside a loop"), line)
        if isinstance(node, _SCOPES):
            in_function, in_loop = isinstance(node, ast.FunctionDef), False
        body = {id(s) for s in node.body} if isinstance(node, _LOOPS) else set()  # a loop's 'else' is not in it
        for child in ast.iter_child_nodes(node):
            # Annotations are never evaluated, so they are not checked either.
            stack.append((child, depth + 1, in_function, in_loop or id(child) in body))


def _check_keyword(name: str, line: int | None) -> None:
    """``device=`` would put tensors and weights on a real device (the network is built on the meta device, where
    sizes cost nothing); ``_name=`` reaches PyTorch's private arguments (``_weight=``, ``_freeze=``)."""
    if name == "device":
        raise CodeError(N_("the keyword 'device' is not allowed: the playground chooses the device itself"), line)
    if name.startswith("_"):
        raise CodeError(N_("the keyword '{name}' is not allowed"), line, name=name)


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    line = node.lineno
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in IMPORTS:
                raise CodeError(N_("'import {module}' is not allowed: only torch, torch.nn and torch.nn.functional "
                                   "can be imported"), line, module=alias.name)
        return
    module = node.module or ""
    if node.level or module not in IMPORTS:
        raise CodeError(N_("'from {module} import …' is not allowed: only torch, torch.nn and torch.nn.functional "
                           "can be imported"), line, module="." * node.level + module)
    ns = NAMESPACES[IMPORTS[module]]
    for alias in node.names:
        if alias.name == "*":
            raise CodeError(N_("'import *' is not allowed"), line)
        if alias.name not in ns.entries:
            raise CodeError(N_("'{name}' is not available in the playground"), line, name=f"{module}.{alias.name}")


# --- the interpreter ------------------------------------------------------------------------------------------------


class Interpreter:
    """Walks the AST. One instance builds the network; each outermost forward pass gets a fresh one (fresh budget)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, device: str = "meta") -> None:
        self.limits = limits
        self.device = device
        self.ops = 0
        self.depth = 0
        self.modules = 0
        self.params = 0
        self.call_lines: list[int] = []  # lines of the snippet-function calls being run (where a layer was built)
        self.printed: list[str] = []
        self.tuples: dict[int, tuple[tuple, int, int, int]] = {}  # id → (the tuple, depth, size, text): immutable
        self.builtins = self._builtins()

    # -- plumbing --
    def activated(self):
        interp = self

        class _Ctx:
            def __enter__(self_inner):
                self_inner.previous = _active_interpreter()
                _local.interpreter = interp

            def __exit__(self_inner, *exc):
                _local.interpreter = self_inner.previous

        return _Ctx()

    def tick(self, line: int | None, n: int = 1) -> None:
        self.ops += n
        if self.ops > self.limits.ops:
            raise CodeError(N_("the code takes more than {limit} steps (an endless or very long loop?)"), line,
                            limit=f"{self.limits.ops:,}")

    def check_size(self, n: int, line: int | None) -> None:
        if n > self.limits.sequence:
            raise CodeError(N_("a value with {n} elements exceeds the limit of {limit}"), line, n=f"{n:,}",
                            limit=f"{self.limits.sequence:,}")

    def charge(self, value: Any, line: int | None) -> Any:
        """Building a large list or string costs steps in proportion, so the budget bounds memory as well as time."""
        if isinstance(value, (list, tuple, str, dict, set)) and len(value) > 32:
            self.tick(line, len(value) // 32)
        return value

    def measure(self, value: Any, line: int | None) -> tuple[int, int]:
        """``(size, text)`` of ``value``: the elements a C routine walks when it compares, hashes, sorts or prints it
        (a list held twice counts twice, as those routines walk it twice), and about how many characters ``str()``
        writes. Refuses containers nested deeper than ``limits.value_nesting`` (CPython hashes a tuple recursively in
        C: 160,000 tuples inside one another crash the interpreter). Each distinct container is walked once, a step
        per 32 elements, however often it is held (2**40 paths cost 40 containers); a tuple's measure is kept, it
        cannot change. A container that holds itself counts once (Python prints it as ``[...]``)."""
        if not isinstance(value, _CONTAINERS):
            return 1, _text_size(value, self)
        memo: dict[int, tuple[int, int, int]] = {}  # id → (depth, size, text) of the containers walked
        path: set[int] = set()  # the containers being walked: an id met again here is a cycle
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            obj, leaving = stack.pop()
            key = id(obj)
            if leaving:
                depth, size, text = 1, len(obj), 2
                for item in _elements(obj):
                    if isinstance(item, _CONTAINERS):
                        d, s, t = memo.get(id(item), (0, 0, 5))
                        depth, size, text = max(depth, d + 1), size + s, text + t + 2
                    else:
                        text += _text_size(item, self) + 2
                if depth > self.limits.value_nesting:
                    raise CodeError(N_("a value nested more than {limit} levels deep is not allowed"), line,
                                    limit=self.limits.value_nesting)
                memo[key] = (depth, min(size, _HUGE), min(text, _HUGE))
                path.discard(key)
                if isinstance(obj, tuple):
                    self.tuples[key] = (obj, *memo[key])
                continue
            if key in memo or key in path:
                continue
            known = self.tuples.get(key) if isinstance(obj, tuple) else None
            if known is not None and known[0] is obj:
                memo[key] = known[1:]
                continue
            path.add(key)
            if len(path) > self.limits.value_nesting:
                raise CodeError(N_("a value nested more than {limit} levels deep is not allowed"), line,
                                limit=self.limits.value_nesting)
            self.tick(line, 1 + len(obj) // 32)
            stack.append((obj, True))
            stack.extend((item, False) for item in _elements(obj) if isinstance(item, _CONTAINERS))
        _, size, text = memo[id(value)]
        return size, text

    def nested(self, value: Any, line: int | None) -> Any:
        """``value`` once :meth:`measure` has checked how deeply it nests."""
        self.measure(value, line)
        return value

    def work(self, n: int, line: int | None) -> None:
        """Charge ``n`` elements' worth of work done in C (a comparison, a hash, a copy), a step per 32."""
        self.tick(line, n // 32)

    def text(self, value: Any, line: int | None) -> str:
        """``str(value)``, refused before it is written when it would be longer than ``limits.sequence``."""
        _, chars = self.measure(value, line)
        self.check_size(chars, line)
        self.work(chars, line)
        text = str(value)
        self.check_size(len(text), line)
        return text

    def hashed(self, key: Any, line: int | None) -> Any:
        """A dict key or set element: plain, and a tuple's hash charged by its size (hashing walks it)."""
        if not _plain_key(key):
            raise CodeError(N_("a {type} cannot be a dict key here"), line, type=_type_name(key))
        if isinstance(key, tuple):
            self.work(self.measure(key, line)[0], line)
        return key

    def check_int(self, value: Any, line: int | None) -> Any:
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise CodeError(N_("a number larger than 2**{bits} is not allowed"), line, bits=self.limits.int_bits)
        return value

    def iterate(self, value: Any, line: int | None) -> Iterable[Any]:
        """Every loop over a value goes through here: one step per element, so no built-in can spin for ever."""
        if isinstance(value, (int, float, bool)) or value is None or isinstance(value, (Namespace, type)):
            raise CodeError(N_("a {type} is not iterable"), line, type=_type_name(value))
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] > self.limits.sequence:
            self.check_size(value.shape[0], line)
        for item in value:
            self.tick(line)
            yield item

    def collect(self, value: Any, line: int | None) -> list[Any]:
        out: list[Any] = []
        for item in self.iterate(value, line):
            out.append(item)
            if len(out) > self.limits.sequence:
                self.check_size(len(out), line)
        return out

    # -- running code --
    def run(self, tree: ast.Module) -> tuple[Scope, Any, Any]:
        scope = Scope(Scope())
        scope.parent.vars.update(self.builtins)
        last_expr: Any = None
        last_module: Any = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Expr):
                self.tick(stmt.lineno)
                last_expr = self.guarded(stmt.lineno, self.eval, stmt.value, scope)
                continue
            self.exec_stmt(stmt, scope)
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name) and isinstance(scope.vars.get(t.id), nn.Module):
                        last_module = scope.vars[t.id]
        return scope, last_expr, last_module

    def exec_block(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, node: ast.stmt, scope: Scope) -> None:
        self.tick(node.lineno)
        self.guarded(node.lineno, self._exec, node, scope)

    @staticmethod
    def guarded(line: int | None, run: Callable[..., Any], *args: Any) -> Any:
        """``run(*args)``, any failure turned into one sentence naming ``line`` (never a traceback). Running out of
        memory is not the snippet's mistake to describe: it goes up as it is, for the process that runs the snippet
        to report."""
        try:
            return run(*args)
        except (CodeError, _Return, _Break, _Continue, MemoryError):
            raise
        except RecursionError:
            raise CodeError(N_("the code nests calls too deeply"), line) from None
        except Exception as exc:  # noqa: BLE001 — any failure becomes one sentence naming the line
            raise CodeError.quoting(first_line(exc), line) from None

    def _exec(self, node: ast.stmt, scope: Scope) -> None:
        if isinstance(node, ast.Expr):
            self.eval(node.value, scope)
        elif isinstance(node, ast.Assign):
            value = self.eval(node.value, scope)
            for target in node.targets:
                self.assign(target, value, scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.eval(node.value, scope), scope)
        elif isinstance(node, ast.AugAssign):
            current = self.eval(_as_load(node.target), scope)
            value = self.binop(node.op, current, self.eval(node.value, scope), node.lineno, inplace=True)
            self.assign(node.target, value, scope)
        elif isinstance(node, ast.If):
            self.exec_block(node.body if self.truth(self.eval(node.test, scope), node) else node.orelse, scope)
        elif isinstance(node, ast.For):
            broke = False
            for item in self.iterate(self.eval(node.iter, scope), node.lineno):
                self.assign(node.target, item, scope)
                try:
                    self.exec_block(node.body, scope)
                except _Break:
                    broke = True
                    break
                except _Continue:
                    continue
            if not broke:
                self.exec_block(node.orelse, scope)
        elif isinstance(node, ast.Return):
            raise _Return(self.eval(node.value, scope) if node.value is not None else None)
        elif isinstance(node, ast.Break):
            raise _Break()
        elif isinstance(node, ast.Continue):
            raise _Continue()
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Assert):
            if not self.truth(self.eval(node.test, scope), node):
                message = self.eval(node.msg, scope) if node.msg is not None else "assertion failed"
                raise CodeError(N_("assert: {message}"), node.lineno, message=self.text(message, node.lineno))
        elif isinstance(node, ast.FunctionDef):
            scope.vars[node.name] = self.make_function(node, scope)
        elif isinstance(node, ast.ClassDef):
            scope.vars[node.name] = self.make_class(node, scope)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.vars[alias.asname] = NAMESPACES[IMPORTS[alias.name]]
                else:  # ``import torch.nn`` binds ``torch``
                    scope.vars[alias.name.split(".")[0]] = NAMESPACES["torch"]
        elif isinstance(node, ast.ImportFrom):
            ns = NAMESPACES[IMPORTS[node.module or ""]]
            for alias in node.names:
                scope.vars[alias.asname or alias.name] = ns.entries[alias.name]
        else:
            raise CodeError(N_("'{construct}' statements are not allowed"), node.lineno, construct=type(node).__name__)

    def truth(self, value: Any, node: ast.AST) -> bool:
        if isinstance(value, torch.Tensor) and value.is_meta:
            raise CodeError(N_("the truth of a tensor's values is unknown while the network is analysed"),
                            getattr(node, "lineno", None))
        return bool(value)

    # -- binding names --
    def assign(self, target: ast.expr, value: Any, scope: Scope) -> None:
        line = getattr(target, "lineno", None)
        if isinstance(target, ast.Name):
            scope.vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.collect(value, line)
            starred = [i for i, t in enumerate(target.elts) if isinstance(t, ast.Starred)]
            if starred:
                i = starred[0]
                after = len(target.elts) - i - 1
                if len(items) < len(target.elts) - 1:
                    raise CodeError(N_("not enough values to unpack (expected at least {n}, got {got})"), line,
                                    n=len(target.elts) - 1, got=len(items))
                parts = items[:i] + [list(items[i:len(items) - after])] + items[len(items) - after:]
            else:
                if len(items) != len(target.elts):
                    raise CodeError(N_("cannot unpack {n} values into {names} names"), line, n=len(items),
                                    names=len(target.elts))
                parts = items
            for t, v in zip(target.elts, parts):
                self.assign(t.value if isinstance(t, ast.Starred) else t, v, scope)
        elif isinstance(target, ast.Attribute):
            self.set_attr(self.eval(target.value, scope), target.attr, value, line)
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(obj, list) or (isinstance(obj, dict) and _plain_key(key)):
                if isinstance(obj, dict):
                    self.check_size(len(obj) + 1, line)
                    self.hashed(key, line)
                obj[key] = self.nested(value, line)
            elif isinstance(obj, (nn.Sequential, nn.ModuleList)) and isinstance(value, nn.Module):
                self.adopt(obj, [value], line)
                obj[key] = value
            elif isinstance(obj, torch.Tensor) and isinstance(value, (torch.Tensor, int, float)):
                obj[key] = value
            else:
                raise CodeError(N_("cannot assign items of a {type}"), line, type=_type_name(obj))
        else:
            raise CodeError(N_("cannot assign to {target}"), line, target=type(target).__name__)

    def set_attr(self, obj: Any, name: str, value: Any, line: int | None) -> None:
        if name.startswith("_"):
            raise CodeError(N_("attribute '{name}' is not allowed"), line, name=name)
        if not isinstance(obj, nn.Module):
            raise CodeError(N_("cannot set attributes on a {type}"), line, type=_type_name(obj))
        if hasattr(nn.Module, name) or (hasattr(type(obj), name) and name not in obj.__dict__):
            raise CodeError(N_("'{name}' is a name nn.Module uses itself; choose another"), line, name=name)
        if not isinstance(obj, InterpretedModule) and not isinstance(value, nn.Module) and value is not None:
            raise CodeError(N_("only modules can be set on a {type}"), line, type=type(obj).__name__)
        if isinstance(value, nn.Module):
            self.adopt(obj, [value], line)
        else:
            self.nested(value, line)
        setattr(obj, name, value)

    # -- functions and classes --
    def make_function(self, node: ast.FunctionDef, scope: Scope, owner: type | None = None) -> SnippetFunction:
        defaults = [self.eval(d, scope) for d in node.args.defaults]
        kw_defaults = [self.eval(d, scope) if d is not None else _MISSING for d in node.args.kw_defaults]
        return SnippetFunction(node, scope, defaults, kw_defaults, owner)

    def make_class(self, node: ast.ClassDef, scope: Scope) -> type:
        line = node.lineno
        if len(node.bases) != 1:
            raise CodeError(N_("class {name} must subclass exactly one of nn.Module or a class defined above"),
                            line, name=node.name)
        base = self.eval(node.bases[0], scope)
        if not (isinstance(base, type) and (base in BASES or issubclass(base, InterpretedModule))):
            raise CodeError(N_("class {name} must subclass nn.Module (or nn.Sequential, nn.ModuleList, or a class "
                               "defined above)"), line, name=node.name)
        methods: dict[str, SnippetFunction] = {}
        snippet = SnippetClass(node.name, methods, self.limits, self.device)
        bases = (base,) if issubclass(base, InterpretedModule) else (InterpretedModule, base) \
            if base is not nn.Module else (InterpretedModule,)
        cls = type(node.name, bases, {"_snippet": snippet, "__module__": "explorer.playground.snippet",
                                      "__qualname__": node.name})
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name.startswith("_") and stmt.name != "__init__":
                    raise CodeError(N_("method name '{name}' is not allowed"), stmt.lineno, name=stmt.name)
                if stmt.name != "__init__" and hasattr(nn.Module, stmt.name) and stmt.name != "forward":
                    raise CodeError(N_("'{name}' is a name nn.Module uses itself; choose another"), stmt.lineno,
                                    name=stmt.name)
                methods[stmt.name] = self.make_function(stmt, scope, owner=cls)
            elif isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                continue  # a docstring
            else:
                raise CodeError(N_("class {name} may only hold methods (def)"), stmt.lineno, name=node.name)
        return cls

    def instantiate(self, cls: type, args: list[Any], kwargs: dict[str, Any], line: int | None) -> nn.Module:
        self.count_modules(1, line)
        obj = cls.__new__(cls)
        init = _find_method(cls, "__init__")
        if init is not None:
            result = self.call_function(init, [obj, *args], kwargs, line)
            if result is not None:
                raise CodeError(N_("{name}.__init__ must not return a value"), line, name=cls.__name__)
        else:
            _torch_base(cls).__init__(obj, *args, **kwargs)
        if "_modules" not in obj.__dict__:
            raise CodeError(N_("{name}.__init__ must call super().__init__() first"), line, name=cls.__name__)
        self.module_paths(obj, line)
        self.record(obj, line)
        return obj

    def call_function(self, func: SnippetFunction, args: list[Any], kwargs: dict[str, Any],
                      line: int | None) -> Any:
        if self.depth >= self.limits.call_depth:
            raise CodeError(N_("calls nest more than {limit} deep (endless recursion?)"), line,
                            limit=self.limits.call_depth)
        frame = Scope(func.scope)
        if func.owner is not None:  # a method: a bare super() finds its class and its ``self`` here
            params = func.node.args.posonlyargs + func.node.args.args
            if not params:
                raise CodeError(N_("method {name} needs 'self' as its first parameter"), func.node.lineno,
                                name=func.name)
            frame.vars["__class__"] = func.owner
            frame.vars["__self_name__"] = params[0].arg
        self.bind_args(func, args, kwargs, frame, line)
        self.depth += 1
        if line is not None:
            self.call_lines.append(line)
        try:
            self.exec_block(func.node.body, frame)
        except _Return as ret:
            return ret.value
        except (_Break, _Continue):
            raise CodeError(N_("'break' or 'continue' outside a loop"), line) from None
        finally:
            self.depth -= 1
            if line is not None:
                self.call_lines.pop()
        return None

    def bind_args(self, func: SnippetFunction, args: list[Any], kwargs: dict[str, Any], frame: Scope,
                  line: int | None) -> None:
        spec = func.node.args
        positional = [a.arg for a in spec.posonlyargs + spec.args]
        name = func.name
        if len(args) > len(positional) and spec.vararg is None:
            raise CodeError(N_("{function}() takes {n} positional arguments but {given} were given"), line,
                            function=name, n=len(positional), given=len(args))
        bound = dict(zip(positional, args))
        if spec.vararg is not None:
            frame.vars[spec.vararg.arg] = tuple(args[len(positional):])
        extra: dict[str, Any] = {}
        kwonly = [a.arg for a in spec.kwonlyargs]
        for key, value in kwargs.items():
            if key in bound:
                raise CodeError(N_("{function}() got multiple values for argument '{name}'"), line, function=name,
                                name=key)
            if key in positional or key in kwonly:
                bound[key] = value
            elif spec.kwarg is not None:
                extra[key] = value
            else:
                raise CodeError(N_("{function}() got an unexpected keyword argument '{name}'"), line, function=name,
                                name=key)
        first_default = len(positional) - len(func.defaults)
        for i, arg in enumerate(positional):
            if arg not in bound:
                if i >= first_default:
                    bound[arg] = func.defaults[i - first_default]
                else:
                    raise CodeError(N_("{function}() is missing the argument '{name}'"), line, function=name,
                                    name=arg)
        for arg, default in zip(kwonly, func.kw_defaults):
            if arg not in bound:
                if default is _MISSING:
                    raise CodeError(N_("{function}() is missing the keyword argument '{name}'"), line, function=name,
                                    name=arg)
                bound[arg] = default
        frame.vars.update(bound)
        if spec.kwarg is not None:
            frame.vars[spec.kwarg.arg] = extra

    # -- building layers --
    def module_paths(self, module: nn.Module, line: int | None, inside: nn.Module | None = None) -> int:
        """How many modules the analysis meets in ``module``: every path to a submodule counts, as
        ``named_modules(remove_duplicate=False)`` and torchinfo count them, but each distinct module is walked once
        (``nn.Sequential(m, m)`` forty times over is 2**40 paths, counted in 40 steps). Refuses a module that contains
        itself — or ``inside``, the module it is being put into — and modules nested deeper than
        ``limits.module_nesting``."""
        memo: dict[int, int] = {}
        path: set[int] = set()
        stack: list[tuple[nn.Module, bool]] = [(module, False)]
        while stack:
            mod, leaving = stack.pop()
            key = id(mod)
            children = [c for c in mod.__dict__.get("_modules", {}).values() if c is not None]
            if leaving:
                memo[key] = min(1 + sum(memo[id(c)] for c in children), _HUGE)
                path.discard(key)
                continue
            if key in path or mod is inside:
                raise CodeError(N_("a module cannot contain itself"), line)
            if key in memo:
                continue
            path.add(key)
            if len(path) > self.limits.module_nesting:
                raise CodeError(N_("modules nested more than {limit} levels deep are not allowed"), line,
                                limit=self.limits.module_nesting)
            self.tick(line)
            stack.append((mod, True))
            stack.extend((c, False) for c in children)
        return memo[id(module)]

    def adopt(self, parent: nn.Module, children: Iterable[Any], line: int | None) -> None:
        """Before modules are put into ``parent``: none of them may contain ``parent`` (a cycle the analysis would
        walk for ever), nor nest too deeply."""
        for child in children:
            if isinstance(child, nn.Module):
                self.module_paths(child, line, inside=parent)

    def count_modules(self, n: int, line: int | None) -> None:
        self.modules += n
        if self.modules > self.limits.modules:
            raise CodeError(N_("the network has more than {limit} modules"), line, limit=f"{self.limits.modules:,}")

    def record(self, module: nn.Module, line: int | None) -> None:
        """Remember where a module was built (for errors that name the line) and count its parameters."""
        object.__setattr__(module, "_snippet_line", line)
        object.__setattr__(module, "_snippet_calls", tuple(self.call_lines))
        self.params += sum(p.numel() for p in module.parameters(recurse=False))
        limit = self.limits.params if self.device == "meta" else self.limits.real_params
        if self.params > limit:
            raise CodeError(N_("the network has more than {limit} parameters"), line, limit=f"{limit:,}")

    def construct(self, cls: type, args: list[Any], kwargs: dict[str, Any], line: int | None) -> nn.Module:
        self.count_modules(1 + (len(args) if cls in CONTAINERS else 0), line)
        if cls in (nn.RNN, nn.LSTM, nn.GRU):
            layers = kwargs.get("num_layers", args[2] if len(args) > 2 else 1)
            if isinstance(layers, int) and layers > 100:
                raise CodeError(N_("{layer} with {n} layers is beyond the playground's limit of 100"), line,
                                layer=cls.__name__, n=layers)
        _check_device_argument(cls, args, kwargs, line)
        with torch.device(self.device), SkipMetaInit():
            module = cls(*args, **kwargs)
        if cls in CONTAINERS:
            self.module_paths(module, line)
        self.record(module, line)
        return module

    # -- expressions --
    def eval(self, node: ast.expr, scope: Scope) -> Any:
        self.tick(getattr(node, "lineno", None))
        method = getattr(self, "eval_" + type(node).__name__, None)
        if method is None:
            raise CodeError(N_("'{construct}' expressions are not allowed"), getattr(node, "lineno", None),
                            construct=type(node).__name__)
        return method(node, scope)

    def eval_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        if isinstance(node.value, (bytes, complex)):
            raise CodeError(N_("{type} literals are not allowed"), node.lineno, type=_type_name(node.value))
        return self.check_int(node.value, node.lineno)

    def eval_Name(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            raise CodeError(N_("name '{name}' is not defined"), node.lineno, name=node.id) from None

    def eval_Tuple(self, node: ast.Tuple, scope: Scope) -> tuple:
        return self.nested(tuple(self.eval_items(node.elts, scope, node.lineno)), node.lineno)

    def eval_List(self, node: ast.List, scope: Scope) -> list:
        return self.nested(self.eval_items(node.elts, scope, node.lineno), node.lineno)

    def eval_Set(self, node: ast.Set, scope: Scope) -> set:
        return self.make_set(self.eval_items(node.elts, scope, node.lineno), node.lineno)

    def make_set(self, items: list[Any], line: int | None) -> set:
        return self.nested({self.hashed(item, line) for item in items}, line)

    def eval_items(self, elts: list[ast.expr], scope: Scope, line: int) -> list:
        out: list[Any] = []
        for e in elts:
            if isinstance(e, ast.Starred):
                out.extend(self.collect(self.eval(e.value, scope), line))
            else:
                out.append(self.eval(e, scope))
            self.check_size(len(out), line)
        return out

    def eval_Dict(self, node: ast.Dict, scope: Scope) -> dict:
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                value = self.eval(v, scope)
                if not isinstance(value, dict):
                    raise CodeError(N_("'**' needs a dict"), node.lineno)
                self.check_size(len(out) + len(value), node.lineno)
                self.work(len(value), node.lineno)  # a copy
                out.update(value)
            else:
                key = self.hashed(self.eval(k, scope), node.lineno)
                out[key] = self.eval(v, scope)
            self.check_size(len(out), node.lineno)
        return self.nested(out, node.lineno)

    def eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> str:
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                if v.format_spec is not None:
                    raise CodeError(N_("format specifications in f-strings are not allowed"), node.lineno)
                value = self.eval(v.value, scope)
                text = self.text(value, node.lineno)  # its size checked before it is written
                parts.append(text if v.conversion != ord("r") or isinstance(value, (int, float, bool))
                             else repr(value))
            else:
                parts.append(str(v.value))
            self.check_size(sum(map(len, parts)), node.lineno)
        return self.charge("".join(parts), node.lineno)

    def eval_IfExp(self, node: ast.IfExp, scope: Scope) -> Any:
        return self.eval(node.body if self.truth(self.eval(node.test, scope), node) else node.orelse, scope)

    def eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Any:
        value: Any = None
        for e in node.values:
            value = self.eval(e, scope)
            truth = self.truth(value, node)
            if isinstance(node.op, ast.And) and not truth or isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        value = self.eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not self.truth(value, node)
        _numeric(value, node.lineno)
        if isinstance(node.op, ast.USub):
            return -value
        if isinstance(node.op, ast.UAdd):
            return +value
        return ~value

    def eval_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        return self.binop(node.op, self.eval(node.left, scope), self.eval(node.right, scope), node.lineno)

    def binop(self, op: ast.operator, a: Any, b: Any, line: int, inplace: bool = False) -> Any:
        lim = self.limits
        ints = isinstance(a, int) and isinstance(b, int)
        if isinstance(op, ast.Pow):
            # |a| ≥ 2**(bits of a − 1), so a**b has at least b·(bits of a − 1) + 1 bits: refused before it is
            # computed when that is too many; otherwise it has fewer than 2·int_bits and check_int decides.
            if ints and b > 0 and abs(a) > 1 and b * (a.bit_length() - 1) >= lim.int_bits:
                raise CodeError(N_("a number larger than 2**{bits} is not allowed"), line, bits=lim.int_bits)
        elif isinstance(op, ast.LShift):
            if ints and b > lim.int_bits:
                raise CodeError(N_("a number larger than 2**{bits} is not allowed"), line, bits=lim.int_bits)
        elif isinstance(op, ast.Mult):
            if ints and a.bit_length() + b.bit_length() > lim.int_bits + 1:
                raise CodeError(N_("a number larger than 2**{bits} is not allowed"), line, bits=lim.int_bits)
            for seq, n in ((a, b), (b, a)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                    self.check_size(len(seq) * max(n, 0), line)
                    self.work(len(seq) * max(n, 0), line)
        elif isinstance(op, ast.Add):
            if isinstance(a, (str, list, tuple)) and isinstance(b, (str, list, tuple)):
                self.check_size(len(a) + len(b), line)
                self.work(len(a) + len(b), line)
        elif isinstance(op, ast.Mod) and isinstance(a, str):
            raise CodeError(N_("'%' formatting of strings is not allowed (use an f-string)"), line)
        for v in (a, b):
            if not isinstance(v, (int, float, bool, str, list, tuple, torch.Tensor, torch.Size)):
                raise CodeError(N_("arithmetic on a {type} is not allowed"), line, type=_type_name(v))
        func = _BINOPS.get(type(op))
        if func is None:
            raise CodeError(N_("the operator {operator} is not allowed"), line, operator=type(op).__name__)
        if inplace and isinstance(a, torch.Tensor) and type(op) in _INPLACE:
            return _INPLACE[type(op)](a, b)
        if inplace and isinstance(a, list) and isinstance(op, ast.Add):
            items = self.collect(b, line)
            self.check_size(len(a) + len(items), line)
            for item in items:
                self.nested(item, line)
            a.extend(items)
            return a
        result = self.charge(self.check_int(func(a, b), line), line)
        return self.nested(result, line) if isinstance(result, tuple) else result

    def eval_Compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            if isinstance(op, (ast.In, ast.NotIn)):
                ok = self.contains(right, left, node.lineno) == isinstance(op, ast.In)
            else:
                if isinstance(left, _CONTAINERS) and isinstance(right, _CONTAINERS) and type(op) not in _IDENTITY:
                    self.work(min(self.measure(left, node.lineno)[0], self.measure(right, node.lineno)[0]),
                              node.lineno)
                ok = _COMPARE[type(op)](left, right)
            if isinstance(ok, torch.Tensor):
                return ok if len(node.ops) == 1 else self.truth(ok, node)
            if not ok:
                return False
            left = right
        return True

    def contains(self, container: Any, item: Any, line: int | None) -> bool:
        """``item in container``, its work charged first: a scan compares ``item`` with each element, a dict or set
        hashes it, and ``range`` answers at once (Python scans a range for anything but an integer)."""
        if isinstance(container, range):
            return _range_contains(container, item, line)
        if isinstance(container, (dict, set)):
            if isinstance(item, tuple):
                self.hashed(item, line)
        elif isinstance(container, (list, tuple)):  # torch.Size too
            size, _ = self.measure(container, line)
            self.work(min(size, len(container) * self.measure(item, line)[0]), line)
        elif isinstance(container, str):
            self.work(len(container), line)
        else:
            raise CodeError(N_("'in' on a {type} is not allowed"), line, type=_type_name(container))
        return item in container

    def eval_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        obj = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        line = node.lineno
        if not isinstance(obj, (list, tuple, dict, str, range, torch.Size, torch.Tensor, nn.Sequential,
                                nn.ModuleList, nn.ModuleDict)):
            raise CodeError(N_("a {type} cannot be indexed"), line, type=_type_name(obj))
        if isinstance(obj, dict):
            self.hashed(key, line)
        elif isinstance(key, slice) and isinstance(obj, (list, tuple, str)):
            self.work(len(range(*key.indices(len(obj)))), line)  # a copy
        elif isinstance(obj, torch.Tensor):  # an index list becomes an index tensor: as long as the list
            for part in key if isinstance(key, tuple) else (key,):
                if isinstance(part, (list, tuple, range)):
                    self.check_size(len(part), line)
                    self.work(len(part) * 32, line)
        return obj[key]

    def eval_Slice(self, node: ast.Slice, scope: Scope) -> slice:
        parts = [self.eval(p, scope) if p is not None else None for p in (node.lower, node.upper, node.step)]
        for p in parts:
            if p is not None and not isinstance(p, int):
                raise CodeError(N_("slice bounds must be integers"), node.lineno)
        return slice(*parts)

    def eval_Starred(self, node: ast.Starred, scope: Scope) -> Any:
        raise CodeError(N_("'*' is only allowed in calls, lists and tuples"), node.lineno)

    # comprehensions: evaluated eagerly in their own scope (a generator becomes a list, which is what a
    # snippet does with one anyway: nn.Sequential(*(… for …)), sum(…), torch.cat([… for …]))
    def comprehension(self, node: Any, scope: Scope, emit: Callable[[Scope], None]) -> None:
        inner = Scope(scope)

        def loop(i: int) -> None:
            if i == len(node.generators):
                emit(inner)
                return
            gen = node.generators[i]
            if gen.is_async:
                raise CodeError(N_("async comprehensions are not allowed"), node.lineno)
            source = self.eval(gen.iter, inner if i else scope)
            for item in self.iterate(source, node.lineno):
                self.assign(gen.target, item, inner)
                if all(self.truth(self.eval(cond, inner), node) for cond in gen.ifs):
                    loop(i + 1)

        loop(0)

    def eval_ListComp(self, node: ast.ListComp, scope: Scope) -> list:
        out: list[Any] = []

        def emit(inner: Scope) -> None:
            out.append(self.eval(node.elt, inner))
            self.check_size(len(out), node.lineno)

        self.comprehension(node, scope, emit)
        return self.nested(out, node.lineno)

    eval_GeneratorExp = eval_ListComp

    def eval_SetComp(self, node: ast.SetComp, scope: Scope) -> set:
        return self.make_set(self.eval_ListComp(node, scope), node.lineno)  # type: ignore[arg-type]

    def eval_DictComp(self, node: ast.DictComp, scope: Scope) -> dict:
        out: dict[Any, Any] = {}

        def emit(inner: Scope) -> None:
            key = self.hashed(self.eval(node.key, inner), node.lineno)
            out[key] = self.eval(node.value, inner)
            self.check_size(len(out), node.lineno)

        self.comprehension(node, scope, emit)
        return self.nested(out, node.lineno)

    # -- attributes --
    def eval_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        return self.get_attr(self.eval(node.value, scope), node.attr, node.lineno)

    def get_attr(self, obj: Any, name: str, line: int | None) -> Any:
        if isinstance(obj, Super):
            method = _find_method(type(obj.obj), name, after=obj.cls)
            if method is not None:
                return BoundMethod(method, obj.obj)
            if name in ("__init__", "forward"):
                return Method(obj, name)
            raise CodeError(N_("super() has no method '{name}' here"), line, name=name)
        if name.startswith("_"):
            raise CodeError(N_("attribute '{name}' is not allowed"), line, name=name)
        if isinstance(obj, Namespace):
            if name in obj.entries:
                return obj.entries[name]
            raise CodeError(N_("{namespace}.{name} is not available in the playground"), line, namespace=obj.name,
                            name=name)
        if isinstance(obj, torch.Tensor):
            if name in TENSOR_ATTRS:
                value = getattr(obj, name)  # the name is one of TENSOR_ATTRS
                return Method(obj, name) if callable(value) else value
            raise CodeError(N_("the tensor attribute '{name}' is not available in the playground"), line, name=name)
        if isinstance(obj, nn.Module):
            return self.module_attr(obj, name, line)
        for kind, names in VALUE_METHODS.items():
            if isinstance(obj, kind):
                if name in names:
                    return Method(obj, name)
                break
        raise CodeError(N_("attribute '{name}' of a {type} is not available in the playground"), line, name=name,
                        type=_type_name(obj))

    def module_attr(self, obj: nn.Module, name: str, line: int | None) -> Any:
        d = obj.__dict__
        for table in ("_modules", "_parameters", "_buffers"):
            if name in d.get(table, {}):
                return d[table][name]
        if isinstance(obj, InterpretedModule):
            if name in d:
                return d[name]
            method = _find_method(type(obj), name)
            if method is not None:
                return BoundMethod(method, obj)
        elif name in LAYER_ATTRS and name in d:
            return d[name]
        if name in MODULE_METHODS:
            return Method(obj, name)
        raise CodeError(N_("'{type}' object has no attribute '{name}'"), line, type=type(obj).__name__, name=name)

    # -- calls --
    def eval_Call(self, node: ast.Call, scope: Scope) -> Any:
        line = node.lineno
        if isinstance(node.func, ast.Name) and node.func.id == "super":
            return self.make_super(node, scope)
        func = self.eval(node.func, scope)
        args: list[Any] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                args.extend(self.collect(self.eval(a.value, scope), line))
            else:
                args.append(self.eval(a, scope))
        self.check_size(len(args), line)
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            value = self.eval(kw.value, scope)
            if kw.arg is None:
                if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                    raise CodeError(N_("'**' needs a dict with string keys"), line)
                for key in value:
                    _check_keyword(key, line)
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        try:
            return self.call(func, args, kwargs, line)
        except (CodeError, _Return, _Break, _Continue, MemoryError):
            raise
        except RecursionError:
            raise CodeError(N_("the code nests calls too deeply"), line) from None
        except Exception as exc:  # noqa: BLE001 — one sentence naming the line
            raise CodeError.quoting(first_line(exc), line, _call_name(func) or None) from None

    def make_super(self, node: ast.Call, scope: Scope) -> Super:
        line = node.lineno
        if node.args:
            if len(node.args) != 2:
                raise CodeError(N_("super() takes no arguments or (Class, self)"), line)
            cls, obj = self.eval(node.args[0], scope), self.eval(node.args[1], scope)
        else:
            try:
                obj = scope.lookup(scope.lookup("__self_name__"))
                cls = scope.lookup("__class__")
            except KeyError:
                raise CodeError(N_("super() is only allowed inside a method"), line) from None
        if not (isinstance(cls, type) and issubclass(cls, InterpretedModule) and isinstance(obj, cls)):
            raise CodeError(N_("super() is only allowed inside a method of a class defined in the code"), line)
        return Super(cls, obj)

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], line: int | None) -> Any:
        if isinstance(func, SnippetFunction):
            return self.call_function(func, args, kwargs, line)
        if isinstance(func, BoundMethod):
            return self.call_function(func.func, [func.obj, *args], kwargs, line)
        if isinstance(func, type) and issubclass(func, InterpretedModule):
            return self.instantiate(func, args, kwargs, line)
        if isinstance(func, type) and func in LAYER_CLASSES:
            return self.construct(func, args, kwargs, line)
        if func is nn.Parameter:
            return nn.Parameter(*args, **kwargs)
        if isinstance(func, Method):
            return self.call_method(func, args, kwargs, line)
        if isinstance(func, nn.Module):
            if isinstance(func, nn.RNNBase) and args and isinstance(args[0], torch.Tensor) and args[0].dim() > 1:
                # a recurrent layer runs one step per time step, ~5 ms each on the meta device: charge them
                steps = args[0].shape[1 if func.batch_first and args[0].dim() == 3 else 0]
                self.tick(line, _RNN_STEP * steps * func.num_layers * (2 if func.bidirectional else 1))
            return func(*args, **kwargs)
        if isinstance(func, _Builtin):
            return func.fn(self, line, *args, **kwargs)
        if id(func) in TORCH_CALLABLES:
            name = getattr(func, "__name__", "")
            self.convert(args, kwargs, line)
            if name in TENSOR_CREATORS:
                return self.create_tensor(func, args, kwargs, line)
            if name in ("split", "chunk") and args and isinstance(args[0], torch.Tensor):
                self.check_pieces(name, args[0], args[1:], kwargs, line)
            return self.charge(func(*args, **kwargs), line)
        raise CodeError(N_("a {type} cannot be called"), line, type=_type_name(func))

    def convert(self, args: list[Any], kwargs: dict[str, Any], line: int | None) -> None:
        """PyTorch converts a list, tuple or range argument element by element (``torch.Size(range(3 * 10**7))``,
        ``torch.cat`` of 100,000 tensors): charge it before, a step per element."""
        for value in (*args, *kwargs.values()):
            if isinstance(value, (list, tuple, range)):
                self.check_size(len(value), line)
                self.tick(line, len(value))
                if isinstance(value, (list, tuple)):  # each tensor is an operand: ~20 µs each on the meta device
                    self.tick(line, _TENSOR_OPERAND * sum(isinstance(v, torch.Tensor) for v in value))

    def check_pieces(self, name: str, tensor: torch.Tensor, args: Any, kwargs: dict[str, Any],
                     line: int | None) -> None:
        """``split``/``chunk`` make one tensor per piece: count them before (``split(1)`` of 3 M elements)."""
        how = args[0] if args else kwargs.get("split_size_or_sections", kwargs.get("split_size",
                                                                              kwargs.get("chunks")))
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(dim, int) or tensor.dim() == 0 or not -tensor.dim() <= dim < tensor.dim():
            return  # PyTorch refuses it
        if isinstance(how, int) and how > 0:
            pieces = how if name == "chunk" else -(-tensor.shape[dim] // how)
        elif isinstance(how, (list, tuple)):
            pieces = len(how)
        else:
            return
        self.check_size(pieces, line)
        self.tick(line, pieces)

    def create_tensor(self, func: Any, args: list[Any], kwargs: dict[str, Any], line: int | None) -> torch.Tensor:
        with torch.device("meta"):  # its size first, where a size costs nothing
            t = func(*args, **kwargs)
        if self.device == "meta":
            return t
        if t.numel() > self.limits.real_tensor_elements:
            raise CodeError(N_("a tensor of {n} elements is beyond the limit"), line, n=f"{t.numel():,}")
        with torch.device(self.device):
            return func(*args, **kwargs)

    def call_method(self, m: Method, args: list[Any], kwargs: dict[str, Any], line: int | None) -> Any:
        obj, name = m.obj, m.name
        if isinstance(obj, Super):
            base = _torch_base(type(obj.obj), after=obj.cls)
            if name == "__init__":
                if "_modules" in obj.obj.__dict__:
                    return None  # a second __init__ would drop the submodules set so far
                base.__init__(obj.obj, *args, **kwargs)
                self.adopt(obj.obj, obj.obj.__dict__["_modules"].values(), line)  # nn.Sequential(self) …
                return None
            return base.forward(obj.obj, *args, **kwargs)
        if isinstance(obj, torch.Tensor):
            self.convert(args, kwargs, line)
            if name in ("split", "chunk"):
                self.check_pieces(name, obj, args, kwargs, line)
        elif isinstance(obj, list) and name in ("append", "insert"):
            self.check_size(len(obj) + 1, line)
            self.work(len(obj) if name == "insert" else 0, line)  # insert moves what follows
            for item in args[-1:]:
                self.nested(item, line)
        elif isinstance(obj, (list, dict)) and name in ("extend", "update"):
            items = self.collect(args[0], line) if args and not isinstance(args[0], dict) else args[0] if args else {}
            self.check_size(len(obj) + len(items), line)
            for item in (items.items() if isinstance(items, dict) else items):
                if isinstance(obj, dict) and isinstance(item, (list, tuple)) and item and isinstance(item[0], tuple):
                    self.hashed(item[0], line)
                self.nested(item, line)
            args = [items, *args[1:]]
        elif isinstance(obj, (list, tuple)) and name in ("index", "count"):
            if args:
                self.contains(obj, args[0], line)
                self.check_size(self.measure(args[0], line)[1], line)  # list.index writes it into its error
        elif isinstance(obj, (list, dict, str)) and name in ("copy", "pop", "reverse", "lower", "upper", "strip",
                                                              "split", "startswith", "endswith", "isdigit"):
            self.work(len(obj), line)
        elif isinstance(obj, str) and name == "join":
            items = self.collect(args[0], line)
            total = sum(len(s) if isinstance(s, str) else 0 for s in items) + len(obj) * len(items)
            self.check_size(total, line)
            self.work(total, line)
            args = [items]
        elif isinstance(obj, nn.Module):
            if name == "add_module":
                if not args or not isinstance(args[0], str) or args[0].startswith("_") or "." in args[0]:
                    raise CodeError(N_("add_module needs a name without '.' that does not start with '_'"), line)
                self.count_modules(1, line)
                self.adopt(obj, args[1:], line)
            elif name in ("append", "insert", "extend"):
                modules = self.collect(args[-1], line) if name == "extend" and args else args[-1:]
                self.count_modules(len(modules), line)
                self.adopt(obj, modules, line)
                if name == "extend":
                    args = [modules]
            elif name in ("children", "modules", "parameters"):
                return list(getattr(obj, name)())
        return self.charge(getattr(obj, name)(*args, **kwargs), line)  # ``name`` is from an allowlist above

    # -- predefined names --
    def _builtins(self) -> dict[str, Any]:
        table: dict[str, Any] = dict(NAMESPACES)
        for name, fn in _BUILTINS.items():
            table[name] = _Builtin(name, fn)
        return table


_MISSING = object()


class _Builtin:
    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name, self.fn = name, fn

    def __repr__(self) -> str:
        return f"<built-in {self.name}>"

    def __deepcopy__(self, memo: dict) -> _Builtin:
        return self


def _plain_key(key: Any) -> bool:
    return isinstance(key, (int, float, str, bool, tuple)) or key is None


_CONTAINERS = (list, tuple, dict, set)
_RNN_STEP = 500  # steps charged per time step of a recurrent layer run while the network is built
_TENSOR_OPERAND = 10  # steps charged per tensor in a list handed to PyTorch (torch.cat of 100,000 tensors)
_HUGE = 2**62  # a measure larger than any budget


def _elements(obj: Any) -> Iterable[Any]:
    return itertools.chain(obj.keys(), obj.values()) if isinstance(obj, dict) else obj


def _text_size(value: Any, interp: Interpreter) -> int:
    """About how many characters ``str()`` writes for a value that is not a list, tuple, dict or set."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() * 31 // 100 + 2  # log10(2) ≈ 0.301
    if isinstance(value, float):
        return 24
    if isinstance(value, torch.Tensor):  # a meta tensor prints its size; a real one at most ~1,000 values
        return 80 + 12 * value.dim() if value.is_meta else 20_000
    if isinstance(value, nn.Module):  # a line or so per path to each submodule
        return 200 * interp.module_paths(value, None)
    return 80


def _range_contains(r: range, item: Any, line: int | None) -> bool:
    """``item in r`` without the scan Python makes for anything but an integer (``0.5 in range(10**18)``)."""
    if isinstance(item, (int, bool)):
        return item in r
    if isinstance(item, float):
        return item.is_integer() and int(item) in r
    if isinstance(item, (str, list, tuple, dict, set)) or item is None:
        return False  # never equal to an integer
    raise CodeError(N_("'in' on a range takes a number, not a {type}"), line, type=_type_name(item))


_DEVICE_PARAMETERS: dict[type, int | None] = {}


def _check_device_argument(cls: type, args: list[Any], kwargs: dict[str, Any], line: int | None) -> None:
    """A layer's ``device`` can also be given by position (``nn.Linear(8000, 28000, True, "cpu")``): refused as the
    keyword is. The position is read from the constructor's signature once per class."""
    if cls not in _DEVICE_PARAMETERS:
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        _DEVICE_PARAMETERS[cls] = positional.index("device") if "device" in positional else None
    index = _DEVICE_PARAMETERS[cls]
    if "device" in kwargs or (index is not None and len(args) > index):
        raise CodeError(N_("the keyword 'device' is not allowed: the playground chooses the device itself"), line)


def _numeric(value: Any, line: int) -> None:
    if not isinstance(value, (int, float, bool, torch.Tensor)):
        raise CodeError(N_("a {type} is not a number"), line, type=_type_name(value))


def _as_load(target: ast.expr) -> ast.expr:
    node = ast.fix_missing_locations(ast.copy_location(type(target)(**{
        f: getattr(target, f) for f in target._fields if f != "ctx"}, ctx=ast.Load()), target))
    return node


def _call_name(func: Any) -> str:
    """What a call calls, as the snippet names it (``Conv2d``, ``.view``, ``vgg_block``); "" when unknown."""
    if isinstance(func, type):
        return func.__name__
    if isinstance(func, nn.Module):
        return type(func).__name__
    if isinstance(func, Method):
        return f".{func.name}"
    if isinstance(func, (SnippetFunction, _Builtin)):
        return func.name
    name = getattr(func, "__name__", "")
    return name if isinstance(name, str) else ""


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b, ast.MatMult: lambda a, b: a @ b, ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b, ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b,
    ast.BitXor: lambda a, b: a ^ b,
}
_INPLACE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a.add_(b), ast.Sub: lambda a, b: a.sub_(b), ast.Mult: lambda a, b: a.mul_(b),
    ast.Div: lambda a, b: a.div_(b),
}
_IDENTITY = (ast.Is, ast.IsNot)
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}


# Built-in functions the snippet can call. Each takes (interpreter, line, *args): whatever loops over a value
# does it through ``interp.iterate`` (one step per element), so ``sum(range(10**12))`` runs out of steps, not time.
def _b_range(interp: Interpreter, line: int | None, *args: Any) -> range:
    if not all(isinstance(a, int) for a in args):
        raise CodeError(N_("range() takes integers"), line)
    return range(*args)


def _b_len(interp: Interpreter, line: int | None, value: Any) -> int:
    if isinstance(value, (list, tuple, dict, str, set, range, torch.Size, torch.Tensor, nn.Sequential,
                          nn.ModuleList, nn.ModuleDict)):
        return len(value)
    raise CodeError(N_("a {type} has no len()"), line, type=_type_name(value))


def _b_enumerate(interp: Interpreter, line: int | None, value: Any, start: int = 0) -> list:
    return interp.nested([(i, v) for i, v in enumerate(interp.collect(value, line), start)], line)


def _b_zip(interp: Interpreter, line: int | None, *values: Any) -> list:
    return interp.nested(list(zip(*(interp.collect(v, line) for v in values))), line)


def _b_list(interp: Interpreter, line: int | None, value: Any = ()) -> list:
    return interp.collect(value, line)


def _b_tuple(interp: Interpreter, line: int | None, value: Any = ()) -> tuple:
    return interp.nested(tuple(interp.collect(value, line)), line)


def _b_set(interp: Interpreter, line: int | None, value: Any = ()) -> set:
    return interp.make_set(interp.collect(value, line), line)


def _b_dict(interp: Interpreter, line: int | None, value: Any = (), **kwargs: Any) -> dict:
    pairs = list(value.items()) if isinstance(value, dict) else interp.collect(value, line)
    interp.work(len(pairs), line)  # a copy
    out = dict(pairs)
    out.update(kwargs)
    if not all(_plain_key(k) for k in out):
        raise CodeError(N_("dict keys must be numbers, strings or tuples"), line)
    for key in out:
        interp.hashed(key, line)
    return interp.nested(out, line)


def _b_sorted(interp: Interpreter, line: int | None, value: Any, reverse: bool = False) -> list:
    values = interp.collect(value, line)
    _charge_comparisons(interp, values, line)
    return sorted(values, reverse=reverse)


def _charge_comparisons(interp: Interpreter, values: list[Any], line: int | None) -> None:
    """Sorting compares n·log n times, each comparison walking the elements compared (lists of lists)."""
    if any(isinstance(v, _CONTAINERS) for v in values):
        interp.work(interp.measure(values, line)[0] * max(1, math.ceil(math.log2(len(values) + 1))), line)


def _b_reversed(interp: Interpreter, line: int | None, value: Any) -> list:
    return interp.collect(value, line)[::-1]


def _reduce(name: str) -> Callable[..., Any]:
    def fn(interp: Interpreter, line: int | None, *args: Any, **kwargs: Any) -> Any:
        if kwargs and set(kwargs) - {"default", "start"}:
            raise CodeError(N_("{function}() takes no keyword arguments here but 'default'/'start'"), line,
                            function=name)
        values = interp.collect(args[0], line) if len(args) == 1 else list(args)
        if name == "sum":
            total = kwargs.get("start", 0)
            for v in values:
                total = interp.binop(ast.Add(), total, v, line or 0)
            return total
        if name in ("any", "all"):
            return getattr(builtins, name)(bool(v) for v in values)
        if not values and "default" in kwargs:
            return kwargs["default"]
        _charge_comparisons(interp, values, line)
        return getattr(builtins, name)(values)  # min / max

    return fn


def _scalar(kind: type) -> Callable[..., Any]:
    def fn(interp: Interpreter, line: int | None, *args: Any) -> Any:
        if args and not isinstance(args[0], (int, float, str, bool, torch.Tensor)) and args[0] is not None:
            raise CodeError(N_("{function}() of a {type} is not allowed"), line, function=kind.__name__,
                            type=_type_name(args[0]))
        if kind is str and args and isinstance(args[0], str):
            return args[0]
        if kind is int and len(args) > 1:
            raise CodeError(N_("int() with a base is not allowed"), line)
        return interp.check_int(kind(*args), line)

    return fn


def _b_str(interp: Interpreter, line: int | None, value: Any = "") -> str:
    return interp.text(value, line)


def _b_isinstance(interp: Interpreter, line: int | None, value: Any, kinds: Any) -> bool:
    kinds_t = kinds if isinstance(kinds, tuple) else (kinds,)
    resolved = []
    for k in kinds_t:
        if isinstance(k, _Builtin) and k.name in _TYPES:
            resolved.append(_TYPES[k.name])
        elif isinstance(k, type) and (k in LAYER_CLASSES or k is nn.Module or issubclass(k, InterpretedModule)):
            resolved.append(k)
        else:
            raise CodeError(N_("isinstance() takes built-in types, nn layer classes or classes defined in the code"),
                            line)
    return isinstance(value, tuple(resolved))


def _b_print(interp: Interpreter, line: int | None, *args: Any, **kwargs: Any) -> None:
    texts = [interp.text(a, line) for a in args]  # each refused before it is written when too long
    if len(interp.printed) < 200:
        interp.printed.append(" ".join(texts)[:1000])


def _b_abs(interp: Interpreter, line: int | None, value: Any) -> Any:
    _numeric(value, line or 0)
    return abs(value)


def _b_round(interp: Interpreter, line: int | None, value: Any, digits: int | None = None) -> Any:
    _numeric(value, line or 0)
    if isinstance(digits, int) and abs(digits) > interp.limits.round_digits:  # round(1, -10**8) computes 10**10**8
        raise CodeError(N_("round() takes at most {limit} digits"), line, limit=f"{interp.limits.round_digits:,}")
    return round(value, digits) if digits is not None else round(value)


def _b_divmod(interp: Interpreter, line: int | None, a: Any, b: Any) -> tuple:
    _numeric(a, line or 0)
    _numeric(b, line or 0)
    return divmod(a, b)


_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict}
_BUILTINS: dict[str, Callable[..., Any]] = {
    "range": _b_range, "len": _b_len, "enumerate": _b_enumerate, "zip": _b_zip, "list": _b_list,
    "tuple": _b_tuple, "set": _b_set, "dict": _b_dict, "sorted": _b_sorted, "reversed": _b_reversed,
    "sum": _reduce("sum"), "min": _reduce("min"), "max": _reduce("max"), "any": _reduce("any"),
    "all": _reduce("all"), "int": _scalar(int), "float": _scalar(float), "bool": _scalar(bool), "str": _b_str,
    "isinstance": _b_isinstance, "print": _b_print, "abs": _b_abs, "round": _b_round, "divmod": _b_divmod,
}


# --- the entry point ---------------------------------------------------------------------------------------------


def dedent(code: str) -> str:
    """Code pasted from notes is indented: remove the common indentation, then — where a closing bracket sits left
    of the first line (the notes' AlexNet listing) — the first line's indentation from every line. Line numbers
    stay as pasted."""
    code = textwrap.dedent(code.replace("\r\n", "\n").replace("\t", "    "))
    first = next((line for line in code.split("\n") if line.strip()), "")
    indent = len(first) - len(first.lstrip(" "))
    if indent:
        code = "\n".join(line[min(indent, len(line) - len(line.lstrip(" "))):] for line in code.split("\n"))
    return code


def parse_tree(code: str, limits: Limits = DEFAULT_LIMITS) -> ast.Module:
    """Dedent, size-check, parse and statically check ``code``; nothing in it runs."""
    if not isinstance(code, str):
        raise CodeError(N_("the code must be text, not a {type}"), type=_type_name(code))
    size = len(code.encode("utf-8", errors="replace"))
    if size > limits.code_bytes:
        raise CodeError(N_("the code is {size} bytes; the playground takes at most {limit}"), size=f"{size:,}",
                        limit=f"{limits.code_bytes:,}")
    code = dedent(code)
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        raise CodeError(N_("syntax error: {error}"), exc.lineno, error=Quoted(exc.msg)) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise CodeError(N_("the code cannot be parsed ({error})"), error=Quoted(first_line(exc))) from None
    _check_tree(tree, limits)
    return tree


def parse_network(code: str, *, limits: Limits = DEFAULT_LIMITS, device: str | torch.device = "meta") -> nn.Module:
    """Interpret ``code`` (a PyTorch snippet, d2l style) safely and return its network.

    The network is the value bound to ``net``, else the value of the last expression, else the last module
    bound to a name at the top level. ``nn``, ``torch`` and ``F`` are predefined. Built on the meta device unless
    ``device`` says otherwise (then at most ``limits.real_params`` parameters, checked on the meta device first).
    Raises :class:`CodeError` (one sentence naming the line) for anything refused or failing.
    """
    device = str(torch.device(device))
    if device != "meta":
        parse_network(code, limits=limits)  # sizes are checked where they cost nothing
    tree = parse_tree(code, limits)
    interp = Interpreter(limits, device)
    try:
        with interp.activated():
            scope, last_expr, last_module = interp.run(tree)
    except RecursionError:
        raise CodeError(N_("the code nests calls too deeply")) from None
    last_line = tree.body[-1].end_lineno if tree.body else None
    if "net" in scope.vars:
        net = scope.vars["net"]
        if not isinstance(net, nn.Module):
            raise CodeError(N_("'net' is a {type}, not a network (an nn.Module)"), last_line, type=_type_name(net))
    elif isinstance(last_expr, nn.Module):
        net = last_expr
    elif last_module is not None:
        net = last_module
    else:
        raise CodeError(N_("the code builds no network: bind one to 'net', e.g. net = nn.Sequential(…)"), last_line)
    interp.ops = 0  # counting is the interpreter's work, not the snippet's
    count = interp.module_paths(net, last_line)  # refuses cycles and deep nesting, walks no path twice
    if count > limits.modules:
        raise CodeError(N_("the network has {count} modules; the playground takes at most {limit}"), last_line,
                        count=f"{count:,}", limit=f"{limits.modules:,}")
    return net
