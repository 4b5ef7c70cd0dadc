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
import textwrap
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as torch_F
from torch import nn

from ..zoo.meta import SkipMetaInit


class CodeError(ValueError):
    """The snippet was refused or failed: ``str(err)`` is one sentence, ``line N: …`` when a line is known.

    ``reason`` is the sentence without the line. Most reasons are the interpreter's own sentences (the app
    translates them by their templates, ``explorer.lessons.code_errors``); where the reason is instead the words
    of an exception Python or PyTorch raised while the snippet ran, ``error`` holds those words and ``call`` what
    was being called (``Conv2d``, ``.view``), when known, so that they can be quoted as they are.
    """

    def __init__(self, message: str, line: int | None = None, *, error: str | None = None,
                 call: str | None = None) -> None:
        self.reason = message
        self.line = line
        self.error = error
        self.call = call
        super().__init__(f"line {line}: {message}" if line else message)


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
    int_bits: int = 4_096


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

_REFUSED_NODES: dict[type, str] = {
    ast.While: "'while' loops are not allowed (use 'for … in range(…)')",
    ast.With: "'with' is not allowed", ast.AsyncWith: "'with' is not allowed",
    ast.Try: "'try' is not allowed", ast.Raise: "'raise' is not allowed",
    ast.Global: "'global' is not allowed", ast.Nonlocal: "'nonlocal' is not allowed",
    ast.Lambda: "'lambda' is not allowed (define a function with 'def')",
    ast.Delete: "'del' is not allowed", ast.Yield: "'yield' is not allowed", ast.YieldFrom: "'yield' is not allowed",
    ast.Await: "'await' is not allowed", ast.AsyncFunctionDef: "'async def' is not allowed",
    ast.AsyncFor: "'async for' is not allowed", ast.NamedExpr: "':=' is not allowed",
}
if hasattr(ast, "TryStar"):
    _REFUSED_NODES[ast.TryStar] = "'try' is not allowed"
if hasattr(ast, "Match"):
    _REFUSED_NODES[ast.Match] = "'match' is not allowed"
if hasattr(ast, "TypeAlias"):
    _REFUSED_NODES[ast.TypeAlias] = "'type' statements are not allowed"


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
            raise CodeError(f"{type(self).__name__} has no forward method", _line_of(self))
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
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "…"


def _type_name(value: Any) -> str:
    return type(value).__name__


# --- static checks: refuse before anything runs --------------------------------------------------------------------


def _check_tree(tree: ast.Module, limits: Limits) -> None:
    """Refuse every construct outside the subset before a single node is interpreted."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        line = getattr(node, "lineno", None)
        if depth > limits.nesting:
            raise CodeError(f"the code is nested more than {limits.nesting} levels deep", line)
        refused = _REFUSED_NODES.get(type(node))
        if refused:
            raise CodeError(refused, line)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            is_super = (isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                        and node.value.func.id == "super" and node.attr == "__init__")
            if not is_super:
                raise CodeError(f"attribute '{node.attr}' is not allowed", line)
        elif isinstance(node, ast.Name) and (node.id in FORBIDDEN_NAMES or node.id.startswith("__")):
            raise CodeError(f"'{node.id}' is not available in the playground", line)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            _check_import(node)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if node.decorator_list:
                raise CodeError("decorators are not allowed", line)
            if node.name.startswith("__") and not (isinstance(node, ast.FunctionDef) and node.name == "__init__"):
                raise CodeError(f"the name '{node.name}' is not allowed", line)
            if isinstance(node, ast.ClassDef) and node.keywords:
                raise CodeError("class keywords (metaclass=…) are not allowed", line)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
            raise CodeError(f"{_type_name(node.value)} literals are not allowed", line)
        elif isinstance(node, ast.arg) and node.arg.startswith("__"):
            raise CodeError(f"the name '{node.arg}' is not allowed", line)
        elif isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("__"):
            raise CodeError(f"the keyword '{node.arg}' is not allowed", getattr(node, "lineno", None))
        for child in ast.iter_child_nodes(node):
            # Annotations are never evaluated, so they are not checked either.
            stack.append((child, depth + 1))


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    line = node.lineno
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in IMPORTS:
                raise CodeError(f"'import {alias.name}' is not allowed: only torch, torch.nn and "
                                "torch.nn.functional can be imported", line)
        return
    module = node.module or ""
    if node.level or module not in IMPORTS:
        raise CodeError(f"'from {'.' * node.level}{module} import …' is not allowed: only torch, torch.nn and "
                        "torch.nn.functional can be imported", line)
    ns = NAMESPACES[IMPORTS[module]]
    for alias in node.names:
        if alias.name == "*":
            raise CodeError("'import *' is not allowed", line)
        if alias.name not in ns.entries:
            raise CodeError(f"'{module}.{alias.name}' is not available in the playground", line)


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
            raise CodeError(f"the code takes more than {self.limits.ops:,} steps (an endless or very long loop?)",
                            line)

    def check_size(self, n: int, line: int | None) -> None:
        if n > self.limits.sequence:
            raise CodeError(f"a value with {n:,} elements exceeds the limit of {self.limits.sequence:,}", line)

    def charge(self, value: Any, line: int | None) -> Any:
        """Building a large list or string costs steps in proportion, so the budget bounds memory as well as time."""
        if isinstance(value, (list, tuple, str, dict, set)) and len(value) > 32:
            self.tick(line, len(value) // 32)
        return value

    def check_int(self, value: Any, line: int | None) -> Any:
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise CodeError(f"a number larger than 2**{self.limits.int_bits} is not allowed", line)
        return value

    def iterate(self, value: Any, line: int | None) -> Iterable[Any]:
        """Every loop over a value goes through here: one step per element, so no built-in can spin for ever."""
        if isinstance(value, (int, float, bool)) or value is None or isinstance(value, (Namespace, type)):
            raise CodeError(f"a {_type_name(value)} is not iterable", line)
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
                last_expr = self.eval(stmt.value, scope)
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
        try:
            self._exec(node, scope)
        except (CodeError, _Return, _Break, _Continue):
            raise
        except RecursionError:
            raise CodeError("the code nests calls too deeply", node.lineno) from None
        except Exception as exc:  # noqa: BLE001 — any failure becomes one sentence naming the line
            raise CodeError(first_line(exc), node.lineno, error=first_line(exc)) from None

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
                raise CodeError(f"assert: {message}", node.lineno)
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
            raise CodeError(f"'{type(node).__name__}' statements are not allowed", node.lineno)

    def truth(self, value: Any, node: ast.AST) -> bool:
        if isinstance(value, torch.Tensor) and value.is_meta:
            raise CodeError("the truth of a tensor's values is unknown while the network is analysed",
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
                    raise CodeError(f"not enough values to unpack (expected at least {len(target.elts) - 1}, "
                                    f"got {len(items)})", line)
                parts = items[:i] + [list(items[i:len(items) - after])] + items[len(items) - after:]
            else:
                if len(items) != len(target.elts):
                    raise CodeError(f"cannot unpack {len(items)} values into {len(target.elts)} names", line)
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
                obj[key] = value
            elif isinstance(obj, (nn.Sequential, nn.ModuleList)) and isinstance(value, nn.Module):
                obj[key] = value
            elif isinstance(obj, torch.Tensor) and isinstance(value, (torch.Tensor, int, float)):
                obj[key] = value
            else:
                raise CodeError(f"cannot assign items of a {_type_name(obj)}", line)
        else:
            raise CodeError(f"cannot assign to {type(target).__name__}", line)

    def set_attr(self, obj: Any, name: str, value: Any, line: int | None) -> None:
        if name.startswith("_"):
            raise CodeError(f"attribute '{name}' is not allowed", line)
        if not isinstance(obj, nn.Module):
            raise CodeError(f"cannot set attributes on a {_type_name(obj)}", line)
        if hasattr(nn.Module, name) or (hasattr(type(obj), name) and name not in obj.__dict__):
            raise CodeError(f"'{name}' is a name nn.Module uses itself; choose another", line)
        if not isinstance(obj, InterpretedModule) and not isinstance(value, nn.Module) and value is not None:
            raise CodeError(f"only modules can be set on a {type(obj).__name__}", line)
        setattr(obj, name, value)

    # -- functions and classes --
    def make_function(self, node: ast.FunctionDef, scope: Scope, owner: type | None = None) -> SnippetFunction:
        defaults = [self.eval(d, scope) for d in node.args.defaults]
        kw_defaults = [self.eval(d, scope) if d is not None else _MISSING for d in node.args.kw_defaults]
        return SnippetFunction(node, scope, defaults, kw_defaults, owner)

    def make_class(self, node: ast.ClassDef, scope: Scope) -> type:
        line = node.lineno
        if len(node.bases) != 1:
            raise CodeError(f"class {node.name} must subclass exactly one of nn.Module or a class defined above",
                            line)
        base = self.eval(node.bases[0], scope)
        if not (isinstance(base, type) and (base in BASES or issubclass(base, InterpretedModule))):
            raise CodeError(f"class {node.name} must subclass nn.Module (or nn.Sequential, nn.ModuleList, or a "
                            "class defined above)", line)
        methods: dict[str, SnippetFunction] = {}
        snippet = SnippetClass(node.name, methods, self.limits, self.device)
        bases = (base,) if issubclass(base, InterpretedModule) else (InterpretedModule, base) \
            if base is not nn.Module else (InterpretedModule,)
        cls = type(node.name, bases, {"_snippet": snippet, "__module__": "explorer.playground.snippet",
                                      "__qualname__": node.name})
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef):
                if stmt.name.startswith("_") and stmt.name != "__init__":
                    raise CodeError(f"method name '{stmt.name}' is not allowed", stmt.lineno)
                if stmt.name != "__init__" and hasattr(nn.Module, stmt.name) and stmt.name != "forward":
                    raise CodeError(f"'{stmt.name}' is a name nn.Module uses itself; choose another", stmt.lineno)
                methods[stmt.name] = self.make_function(stmt, scope, owner=cls)
            elif isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                continue  # a docstring
            else:
                raise CodeError(f"class {node.name} may only hold methods (def)", stmt.lineno)
        return cls

    def instantiate(self, cls: type, args: list[Any], kwargs: dict[str, Any], line: int | None) -> nn.Module:
        self.count_modules(1, line)
        obj = cls.__new__(cls)
        init = _find_method(cls, "__init__")
        if init is not None:
            result = self.call_function(init, [obj, *args], kwargs, line)
            if result is not None:
                raise CodeError(f"{cls.__name__}.__init__ must not return a value", line)
        else:
            _torch_base(cls).__init__(obj, *args, **kwargs)
        if "_modules" not in obj.__dict__:
            raise CodeError(f"{cls.__name__}.__init__ must call super().__init__() first", line)
        self.record(obj, line)
        return obj

    def call_function(self, func: SnippetFunction, args: list[Any], kwargs: dict[str, Any],
                      line: int | None) -> Any:
        if self.depth >= self.limits.call_depth:
            raise CodeError(f"calls nest more than {self.limits.call_depth} deep (endless recursion?)", line)
        frame = Scope(func.scope)
        if func.owner is not None:  # a method: a bare super() finds its class and its ``self`` here
            params = func.node.args.posonlyargs + func.node.args.args
            if not params:
                raise CodeError(f"method {func.name} needs 'self' as its first parameter", func.node.lineno)
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
            raise CodeError("'break' or 'continue' outside a loop", line) from None
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
            raise CodeError(f"{name}() takes {len(positional)} positional arguments but {len(args)} were given", line)
        bound = dict(zip(positional, args))
        if spec.vararg is not None:
            frame.vars[spec.vararg.arg] = tuple(args[len(positional):])
        extra: dict[str, Any] = {}
        kwonly = [a.arg for a in spec.kwonlyargs]
        for key, value in kwargs.items():
            if key in bound:
                raise CodeError(f"{name}() got multiple values for argument '{key}'", line)
            if key in positional or key in kwonly:
                bound[key] = value
            elif spec.kwarg is not None:
                extra[key] = value
            else:
                raise CodeError(f"{name}() got an unexpected keyword argument '{key}'", line)
        first_default = len(positional) - len(func.defaults)
        for i, arg in enumerate(positional):
            if arg not in bound:
                if i >= first_default:
                    bound[arg] = func.defaults[i - first_default]
                else:
                    raise CodeError(f"{name}() is missing the argument '{arg}'", line)
        for arg, default in zip(kwonly, func.kw_defaults):
            if arg not in bound:
                if default is _MISSING:
                    raise CodeError(f"{name}() is missing the keyword argument '{arg}'", line)
                bound[arg] = default
        frame.vars.update(bound)
        if spec.kwarg is not None:
            frame.vars[spec.kwarg.arg] = extra

    # -- building layers --
    def count_modules(self, n: int, line: int | None) -> None:
        self.modules += n
        if self.modules > self.limits.modules:
            raise CodeError(f"the network has more than {self.limits.modules:,} modules", line)

    def record(self, module: nn.Module, line: int | None) -> None:
        """Remember where a module was built (for errors that name the line) and count its parameters."""
        object.__setattr__(module, "_snippet_line", line)
        object.__setattr__(module, "_snippet_calls", tuple(self.call_lines))
        self.params += sum(p.numel() for p in module.parameters(recurse=False))
        limit = self.limits.params if self.device == "meta" else self.limits.real_params
        if self.params > limit:
            raise CodeError(f"the network has more than {limit:,} parameters", line)

    def construct(self, cls: type, args: list[Any], kwargs: dict[str, Any], line: int | None) -> nn.Module:
        self.count_modules(1 + (len(args) if cls in CONTAINERS else 0), line)
        if cls in (nn.RNN, nn.LSTM, nn.GRU):
            layers = kwargs.get("num_layers", args[2] if len(args) > 2 else 1)
            if isinstance(layers, int) and layers > 100:
                raise CodeError(f"{cls.__name__} with {layers} layers is beyond the playground's limit of 100", line)
        with torch.device(self.device), SkipMetaInit():
            module = cls(*args, **kwargs)
        self.record(module, line)
        return module

    # -- expressions --
    def eval(self, node: ast.expr, scope: Scope) -> Any:
        self.tick(getattr(node, "lineno", None))
        method = getattr(self, "eval_" + type(node).__name__, None)
        if method is None:
            raise CodeError(f"'{type(node).__name__}' expressions are not allowed", getattr(node, "lineno", None))
        return method(node, scope)

    def eval_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        if isinstance(node.value, (bytes, complex)):
            raise CodeError(f"{_type_name(node.value)} literals are not allowed", node.lineno)
        return self.check_int(node.value, node.lineno)

    def eval_Name(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            raise CodeError(f"name '{node.id}' is not defined", node.lineno) from None

    def eval_Tuple(self, node: ast.Tuple, scope: Scope) -> tuple:
        return tuple(self.eval_items(node.elts, scope, node.lineno))

    def eval_List(self, node: ast.List, scope: Scope) -> list:
        return self.eval_items(node.elts, scope, node.lineno)

    def eval_Set(self, node: ast.Set, scope: Scope) -> set:
        return set(self.eval_items(node.elts, scope, node.lineno))

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
                    raise CodeError("'**' needs a dict", node.lineno)
                out.update(value)
            else:
                key = self.eval(k, scope)
                if not _plain_key(key):
                    raise CodeError(f"a {_type_name(key)} cannot be a dict key here", node.lineno)
                out[key] = self.eval(v, scope)
            self.check_size(len(out), node.lineno)
        return out

    def eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> str:
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                if v.format_spec is not None:
                    raise CodeError("format specifications in f-strings are not allowed", node.lineno)
                value = self.eval(v.value, scope)
                parts.append(str(value) if v.conversion != ord("r") else repr(value))
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
            if ints and b > 0 and max(a.bit_length(), 1) * b > lim.int_bits and abs(a) > 1:
                raise CodeError(f"a number larger than 2**{lim.int_bits} is not allowed", line)
        elif isinstance(op, ast.LShift):
            if ints and b > lim.int_bits:
                raise CodeError(f"a number larger than 2**{lim.int_bits} is not allowed", line)
        elif isinstance(op, ast.Mult):
            if ints and a.bit_length() + b.bit_length() > lim.int_bits + 1:
                raise CodeError(f"a number larger than 2**{lim.int_bits} is not allowed", line)
            for seq, n in ((a, b), (b, a)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                    self.check_size(len(seq) * max(n, 0), line)
        elif isinstance(op, ast.Add):
            if isinstance(a, (str, list, tuple)) and isinstance(b, (str, list, tuple)):
                self.check_size(len(a) + len(b), line)
        elif isinstance(op, ast.Mod) and isinstance(a, str):
            raise CodeError("'%' formatting of strings is not allowed (use an f-string)", line)
        for v in (a, b):
            if not isinstance(v, (int, float, bool, str, list, tuple, torch.Tensor, torch.Size)):
                raise CodeError(f"arithmetic on a {_type_name(v)} is not allowed", line)
        func = _BINOPS.get(type(op))
        if func is None:
            raise CodeError(f"the operator {type(op).__name__} is not allowed", line)
        if inplace and isinstance(a, torch.Tensor) and type(op) in _INPLACE:
            return _INPLACE[type(op)](a, b)
        if inplace and isinstance(a, list) and isinstance(op, ast.Add):
            a.extend(self.collect(b, line))
            return a
        return self.charge(self.check_int(func(a, b), line), line)

    def eval_Compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (list, tuple, dict, str, set, range, torch.Size)):
                    raise CodeError(f"'in' on a {_type_name(right)} is not allowed", node.lineno)
                ok = (left in right) == isinstance(op, ast.In)
            else:
                ok = _COMPARE[type(op)](left, right)
            if isinstance(ok, torch.Tensor):
                return ok if len(node.ops) == 1 else self.truth(ok, node)
            if not ok:
                return False
            left = right
        return True

    def eval_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        obj = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        if not isinstance(obj, (list, tuple, dict, str, range, torch.Size, torch.Tensor, nn.Sequential,
                                nn.ModuleList, nn.ModuleDict)):
            raise CodeError(f"a {_type_name(obj)} cannot be indexed", node.lineno)
        if isinstance(obj, dict) and not _plain_key(key):
            raise CodeError(f"a {_type_name(key)} cannot be a dict key here", node.lineno)
        return obj[key]

    def eval_Slice(self, node: ast.Slice, scope: Scope) -> slice:
        parts = [self.eval(p, scope) if p is not None else None for p in (node.lower, node.upper, node.step)]
        for p in parts:
            if p is not None and not isinstance(p, int):
                raise CodeError("slice bounds must be integers", node.lineno)
        return slice(*parts)

    def eval_Starred(self, node: ast.Starred, scope: Scope) -> Any:
        raise CodeError("'*' is only allowed in calls, lists and tuples", node.lineno)

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
                raise CodeError("async comprehensions are not allowed", node.lineno)
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
        return out

    eval_GeneratorExp = eval_ListComp

    def eval_SetComp(self, node: ast.SetComp, scope: Scope) -> set:
        return set(self.eval_ListComp(node, scope))  # type: ignore[arg-type]

    def eval_DictComp(self, node: ast.DictComp, scope: Scope) -> dict:
        out: dict[Any, Any] = {}

        def emit(inner: Scope) -> None:
            key = self.eval(node.key, inner)
            if not _plain_key(key):
                raise CodeError(f"a {_type_name(key)} cannot be a dict key here", node.lineno)
            out[key] = self.eval(node.value, inner)
            self.check_size(len(out), node.lineno)

        self.comprehension(node, scope, emit)
        return out

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
            raise CodeError(f"super() has no method '{name}' here", line)
        if name.startswith("_"):
            raise CodeError(f"attribute '{name}' is not allowed", line)
        if isinstance(obj, Namespace):
            if name in obj.entries:
                return obj.entries[name]
            raise CodeError(f"{obj.name}.{name} is not available in the playground", line)
        if isinstance(obj, torch.Tensor):
            if name in TENSOR_ATTRS:
                value = getattr(obj, name)  # the name is one of TENSOR_ATTRS
                return Method(obj, name) if callable(value) else value
            raise CodeError(f"the tensor attribute '{name}' is not available in the playground", line)
        if isinstance(obj, nn.Module):
            return self.module_attr(obj, name, line)
        for kind, names in VALUE_METHODS.items():
            if isinstance(obj, kind):
                if name in names:
                    return Method(obj, name)
                break
        raise CodeError(f"attribute '{name}' of a {_type_name(obj)} is not available in the playground", line)

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
        raise CodeError(f"'{type(obj).__name__}' object has no attribute '{name}'", line)

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
                    raise CodeError("'**' needs a dict with string keys", line)
                if any(k.startswith("__") for k in value):
                    raise CodeError("keyword arguments with '__' are not allowed", line)
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
        try:
            return self.call(func, args, kwargs, line)
        except (CodeError, _Return, _Break, _Continue):
            raise
        except RecursionError:
            raise CodeError("the code nests calls too deeply", line) from None
        except Exception as exc:  # noqa: BLE001 — one sentence naming the line
            name = _call_name(func)
            raise CodeError(_describe_call_error(name, exc), line, error=first_line(exc), call=name or None) from None

    def make_super(self, node: ast.Call, scope: Scope) -> Super:
        line = node.lineno
        if node.args:
            if len(node.args) != 2:
                raise CodeError("super() takes no arguments or (Class, self)", line)
            cls, obj = self.eval(node.args[0], scope), self.eval(node.args[1], scope)
        else:
            try:
                obj = scope.lookup(scope.lookup("__self_name__"))
                cls = scope.lookup("__class__")
            except KeyError:
                raise CodeError("super() is only allowed inside a method", line) from None
        if not (isinstance(cls, type) and issubclass(cls, InterpretedModule) and isinstance(obj, cls)):
            raise CodeError("super() is only allowed inside a method of a class defined in the code", line)
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
            return func(*args, **kwargs)
        if isinstance(func, _Builtin):
            return func.fn(self, line, *args, **kwargs)
        if id(func) in TORCH_CALLABLES:
            name = getattr(func, "__name__", "")
            if name in TENSOR_CREATORS:
                return self.create_tensor(func, args, kwargs, line)
            return func(*args, **kwargs)
        raise CodeError(f"a {_type_name(func)} cannot be called", line)

    def create_tensor(self, func: Any, args: list[Any], kwargs: dict[str, Any], line: int | None) -> torch.Tensor:
        kwargs.pop("device", None)  # always the interpreter's device
        with torch.device(self.device):
            t = func(*args, **kwargs)
        if self.device != "meta" and t.numel() > self.limits.real_tensor_elements:
            raise CodeError(f"a tensor of {t.numel():,} elements is beyond the limit", line)
        return t

    def call_method(self, m: Method, args: list[Any], kwargs: dict[str, Any], line: int | None) -> Any:
        obj, name = m.obj, m.name
        if isinstance(obj, Super):
            base = _torch_base(type(obj.obj), after=obj.cls)
            if name == "__init__":
                if "_modules" in obj.obj.__dict__:
                    return None  # a second __init__ would drop the submodules set so far
                return base.__init__(obj.obj, *args, **kwargs)
            return base.forward(obj.obj, *args, **kwargs)
        if isinstance(obj, list) and name in ("append", "insert"):
            self.check_size(len(obj) + 1, line)
        elif isinstance(obj, (list, dict)) and name in ("extend", "update"):
            items = self.collect(args[0], line) if args and not isinstance(args[0], dict) else args[0] if args else {}
            self.check_size(len(obj) + len(items), line)
            args = [items, *args[1:]]
        elif isinstance(obj, str) and name == "join":
            items = self.collect(args[0], line)
            self.check_size(sum(len(s) if isinstance(s, str) else 0 for s in items) + len(obj) * len(items), line)
            args = [items]
        elif isinstance(obj, nn.Module):
            if name == "add_module":
                if not args or not isinstance(args[0], str) or args[0].startswith("_") or "." in args[0]:
                    raise CodeError("add_module needs a name without '.' that does not start with '_'", line)
                self.count_modules(1, line)
            elif name in ("append", "insert", "extend"):
                self.count_modules(len(self.collect(args[-1], line)) if name == "extend" else 1, line)
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


def _numeric(value: Any, line: int) -> None:
    if not isinstance(value, (int, float, bool, torch.Tensor)):
        raise CodeError(f"a {_type_name(value)} is not a number", line)


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


def _describe_call_error(name: str, exc: Exception) -> str:
    text = first_line(exc)
    return f"{name}: {text}" if name and name not in text else text


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
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}


# Built-in functions the snippet can call. Each takes (interpreter, line, *args): whatever loops over a value
# does it through ``interp.iterate`` (one step per element), so ``sum(range(10**12))`` runs out of steps, not time.
def _b_range(interp: Interpreter, line: int | None, *args: Any) -> range:
    if not all(isinstance(a, int) for a in args):
        raise CodeError("range() takes integers", line)
    return range(*args)


def _b_len(interp: Interpreter, line: int | None, value: Any) -> int:
    if isinstance(value, (list, tuple, dict, str, set, range, torch.Size, torch.Tensor, nn.Sequential,
                          nn.ModuleList, nn.ModuleDict)):
        return len(value)
    raise CodeError(f"a {_type_name(value)} has no len()", line)


def _b_enumerate(interp: Interpreter, line: int | None, value: Any, start: int = 0) -> list:
    return [(i, v) for i, v in enumerate(interp.collect(value, line), start)]


def _b_zip(interp: Interpreter, line: int | None, *values: Any) -> list:
    return list(zip(*(interp.collect(v, line) for v in values)))


def _b_list(interp: Interpreter, line: int | None, value: Any = ()) -> list:
    return interp.collect(value, line)


def _b_tuple(interp: Interpreter, line: int | None, value: Any = ()) -> tuple:
    return tuple(interp.collect(value, line))


def _b_set(interp: Interpreter, line: int | None, value: Any = ()) -> set:
    return set(interp.collect(value, line))


def _b_dict(interp: Interpreter, line: int | None, value: Any = (), **kwargs: Any) -> dict:
    out = dict(value.items() if isinstance(value, dict) else interp.collect(value, line))
    out.update(kwargs)
    if not all(_plain_key(k) for k in out):
        raise CodeError("dict keys must be numbers, strings or tuples", line)
    return out


def _b_sorted(interp: Interpreter, line: int | None, value: Any, reverse: bool = False) -> list:
    return sorted(interp.collect(value, line), reverse=reverse)


def _b_reversed(interp: Interpreter, line: int | None, value: Any) -> list:
    return interp.collect(value, line)[::-1]


def _reduce(name: str) -> Callable[..., Any]:
    def fn(interp: Interpreter, line: int | None, *args: Any, **kwargs: Any) -> Any:
        if kwargs and set(kwargs) - {"default", "start"}:
            raise CodeError(f"{name}() takes no keyword arguments here but 'default'/'start'", line)
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
        return getattr(builtins, name)(values)  # min / max

    return fn


def _scalar(kind: type) -> Callable[..., Any]:
    def fn(interp: Interpreter, line: int | None, *args: Any) -> Any:
        if args and not isinstance(args[0], (int, float, str, bool, torch.Tensor)) and args[0] is not None:
            raise CodeError(f"{kind.__name__}() of a {_type_name(args[0])} is not allowed", line)
        if kind is str and args and isinstance(args[0], str):
            return args[0]
        if kind is int and len(args) > 1:
            raise CodeError("int() with a base is not allowed", line)
        return interp.check_int(kind(*args), line)

    return fn


def _b_str(interp: Interpreter, line: int | None, value: Any = "") -> str:
    text = str(value)
    interp.check_size(len(text), line)
    return interp.charge(text, line)


def _b_isinstance(interp: Interpreter, line: int | None, value: Any, kinds: Any) -> bool:
    kinds_t = kinds if isinstance(kinds, tuple) else (kinds,)
    resolved = []
    for k in kinds_t:
        if isinstance(k, _Builtin) and k.name in _TYPES:
            resolved.append(_TYPES[k.name])
        elif isinstance(k, type) and (k in LAYER_CLASSES or k is nn.Module or issubclass(k, InterpretedModule)):
            resolved.append(k)
        else:
            raise CodeError("isinstance() takes built-in types, nn layer classes or classes defined in the code",
                            line)
    return isinstance(value, tuple(resolved))


def _b_print(interp: Interpreter, line: int | None, *args: Any, **kwargs: Any) -> None:
    if len(interp.printed) < 200:
        interp.printed.append(" ".join(str(a) for a in args)[:1000])


def _b_abs(interp: Interpreter, line: int | None, value: Any) -> Any:
    _numeric(value, line or 0)
    return abs(value)


def _b_round(interp: Interpreter, line: int | None, value: Any, digits: int | None = None) -> Any:
    _numeric(value, line or 0)
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
        raise CodeError(f"the code must be text, not a {_type_name(code)}")
    size = len(code.encode("utf-8", errors="replace"))
    if size > limits.code_bytes:
        raise CodeError(f"the code is {size:,} bytes; the playground takes at most {limits.code_bytes:,}")
    code = dedent(code)
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        raise CodeError(f"syntax error: {exc.msg}", exc.lineno) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise CodeError(f"the code cannot be parsed ({first_line(exc)})") from None
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
        raise CodeError("the code nests calls too deeply") from None
    last_line = tree.body[-1].end_lineno if tree.body else None
    if "net" in scope.vars:
        net = scope.vars["net"]
        if not isinstance(net, nn.Module):
            raise CodeError(f"'net' is a {_type_name(net)}, not a network (an nn.Module)", last_line)
    elif isinstance(last_expr, nn.Module):
        net = last_expr
    elif last_module is not None:
        net = last_module
    else:
        raise CodeError("the code builds no network: bind one to 'net', e.g. net = nn.Sequential(…)", last_line)
    count = sum(1 for _ in net.named_modules(remove_duplicate=False))
    if count > limits.modules:
        raise CodeError(f"the network has {count:,} modules; the playground takes at most {limits.modules:,}")
    return net
