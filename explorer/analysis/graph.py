"""The network's real data flow: one forward pass traced on the meta device into nodes and edges (drawn by
:mod:`explorer.present.diagram`).

One node per leaf-module call (type, key hyper-parameters, parameters), one per merge of paths (``torch.cat``,
addition) — so Inception's four paths meet at their concatenation and a residual skip enters its addition —
edges labelled with the tensor shape that flows along them, and every container (VGG block, Inception block,
residual block) drawn as a cluster. ``depth`` collapses the blocks below that level into single nodes, so
ResNet-50 and GoogLeNet stay readable.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..i18n import N_, InvalidValue
from ..zoo.registry import get_spec
from .meta import fast_meta_forwards, meta_copy
from .rules import rule_for
from .summary import check_input_shape

MERGES = {"cat": "concat", "concat": "concat", "stack": "stack", "add": "add", "add_": "add", "__add__": "add",
          "__iadd__": "add", "__radd__": "add", "mul": "multiply", "mul_": "multiply", "__mul__": "multiply"}


@dataclass
class Node:
    id: str
    label: str  # the type: "Conv2d", "concat", "input"
    path: str  # dotted module path ("" for the model's own level)
    detail: str = ""  # key hyper-parameters
    params: int = 0
    shape: tuple[int, ...] | None = None  # the output
    kind: str = "layer"  # "layer", "merge", "input", "output", "block" (collapsed)
    category: str = "other"  # the rule's kind of layer: convolution, pooling, fully connected, activation …
    kernel: tuple[int, ...] | None = None  # a convolution's or pooling's window (per spatial axis)
    stride: tuple[int, ...] | None = None


@dataclass
class Graph:
    model: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    containers: dict[str, str] = field(default_factory=dict)  # path → class name

    def children_of(self, path: str) -> list[str]:
        return [p for p in self.containers if p.rsplit(".", 1)[0] == path and p != path] if path else \
            [p for p in self.containers if "." not in p]


class _Tracer(TorchFunctionMode):
    """Maps every tensor to the graph node that produced it; merges of two or more paths become nodes."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.producer: dict[int, str] = {}
        self.alive: list[torch.Tensor] = []
        self.stack: list[str] = []  # module paths being executed
        self.leaf_depth = 0  # > 0 while inside a leaf module: its own ops are not nodes

    def set(self, t: torch.Tensor, node: str) -> None:
        self.producer[id(t)] = node
        self.alive.append(t)

    def sources(self, values: Sequence[Any]) -> list[str]:
        found: list[str] = []

        def visit(v: Any) -> None:
            if isinstance(v, torch.Tensor) and id(v) in self.producer:
                node = self.producer[id(v)]
                if node not in found:
                    found.append(node)
            elif isinstance(v, (list, tuple)):
                for item in v:
                    visit(item)

        for v in values:
            visit(v)
        return found

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        result = out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else out
        if not isinstance(result, torch.Tensor) or self.leaf_depth:
            return out
        srcs = self.sources(list(args) + list(kwargs.values()))
        if not srcs:
            return out
        name = getattr(func, "__name__", "")
        if len(srcs) >= 2 and name in MERGES:
            node = Node(id=f"n{len(self.graph.nodes)}", label=MERGES[name], path=self.stack[-1] if self.stack else "",
                        shape=tuple(result.shape), kind="merge")
            self.graph.nodes[node.id] = node
            self.graph.edges += [(s, node.id) for s in srcs]
            self.set(result, node.id)
        else:
            self.set(result, srcs[0])  # element-wise, reshape …: the same node's data flows on
        return out


def trace(model: str | nn.Module, input_shape: Sequence[int] | None = None, *, partial: bool = False) -> Graph:
    """Trace one forward pass of a zoo id or a module on the meta device into a :class:`Graph`.

    An input the network cannot take raises the forward pass's error — unless ``partial``: then the graph holds
    what ran, and the call that failed is one more node of kind ``"failed"`` (no output node)."""
    if isinstance(model, nn.Module):
        if input_shape is None:
            raise InvalidValue(N_("input_shape is required when tracing a module"))
        module, name = meta_copy(model), type(model).__name__
    else:
        spec = get_spec(model)
        with torch.device("meta"):
            module = spec.build()
        name = spec.id
        input_shape = input_shape or spec.input_shape
    dims = check_input_shape(input_shape)
    module = module.eval()
    fast_meta_forwards(module)
    graph = Graph(model=name)
    names = {id(m): n for n, m in module.named_modules(remove_duplicate=False)}
    for path, m in module.named_modules():
        if path and any(True for _ in m.children()):
            graph.containers[path] = type(m).__name__
    tracer = _Tracer(graph)
    counts: dict[int, int] = {}
    inputs_at_call: list[list[str]] = []
    leaves_running: list[nn.Module] = []

    def pre(mod, args):
        path = names.get(id(mod), "")
        if any(True for _ in mod.children()) or mod is module:
            tracer.stack.append(path)
        else:
            inputs_at_call.append(tracer.sources(args))
            leaves_running.append(mod)
            tracer.leaf_depth += 1

    def post(mod, args, out):
        path = names.get(id(mod), "")
        if any(True for _ in mod.children()) or mod is module:
            tracer.stack.pop()
            return
        tracer.leaf_depth -= 1
        srcs = inputs_at_call.pop()
        leaves_running.pop()
        calls = counts.get(id(mod), 0)
        counts[id(mod)] = calls + 1
        node_id = f"n{len(graph.nodes)}"
        result = out[0] if isinstance(out, (tuple, list)) else out
        rule = rule_for(mod)
        graph.nodes[node_id] = Node(
            id=node_id, label=rule.label(mod), path=path if not calls else f"{path}#{calls + 1}",
            detail=rule.detail(mod), params=sum(p.numel() for p in mod.parameters()) if not calls else 0,
            shape=tuple(result.shape) if isinstance(result, torch.Tensor) else None,
            category=rule.category, kernel=_window(getattr(mod, "kernel_size", None)),
            stride=_window(getattr(mod, "stride", None)),
        )
        graph.edges += [(s, node_id) for s in srcs]
        if isinstance(result, torch.Tensor):
            tracer.set(result, node_id)

    handles = []
    for m in module.modules():
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    x = torch.empty((1, *dims), device="meta")
    graph.nodes["input"] = Node(id="input", label="input", path="", shape=tuple(x.shape), kind="input")
    tracer.set(x, "input")
    try:
        with tracer, torch.no_grad():
            y = module(x)
    except Exception:
        if not partial:
            raise
        if leaves_running:  # a layer failed: it is the last node, fed by what reached it
            mod, srcs = leaves_running[-1], inputs_at_call[-1]
            rule = rule_for(mod)
            label, path, detail = rule.label(mod), names.get(id(mod), ""), rule.detail(mod)
        else:  # a block's own code failed (a residual addition, a reshape): after the last node that ran
            path = tracer.stack[-1] if tracer.stack else ""
            label, detail, srcs = "fails here", "", [list(graph.nodes)[-1]]
        node_id = f"n{len(graph.nodes)}"
        graph.nodes[node_id] = Node(id=node_id, label=label, path=path, detail=detail, kind="failed")
        graph.edges += [(s, node_id) for s in srcs]
        return graph
    finally:
        for h in handles:
            h.remove()
    last = tracer.producer.get(id(y[0] if isinstance(y, (tuple, list)) else y))
    graph.nodes["output"] = Node(id="output", label="output", path="", kind="output",
                                 shape=tuple((y[0] if isinstance(y, (tuple, list)) else y).shape))
    if last is not None:
        graph.edges.append((last, "output"))
    return graph


def _window(value: Any) -> tuple[int, ...] | None:
    """A module's ``kernel_size``/``stride`` as a tuple of ints per axis (``3`` → ``(3, 3)``), or ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, int) for v in value):
        return tuple(value)
    return None


def _level(path: str) -> int:
    return path.count(".") + 1


def collapse(
    graph: Graph, depth: int | None = None, opened: Collection[str] = (), closed: Collection[str] = ()
) -> Graph:
    """A copy in which every container at level ``depth`` (1 = the top-level blocks) and deeper is one node —
    except the blocks in ``opened`` (drawn open whatever their level, and so are the blocks around them) and those
    in ``closed`` (one node whatever their level). ``depth=None``: no level limit, every block open but ``closed``."""
    limit = max_depth(graph) + 1 if depth is None else depth
    want_open = set(opened)
    for path in opened:  # a block opened inside a closed one opens its enclosing blocks too
        parts = path.split(".")
        want_open.update(".".join(parts[:k]) for k in range(1, len(parts)))

    def is_open(path: str) -> bool:
        return path not in closed and (_level(path) < limit or path in want_open)

    out = Graph(model=graph.model)
    out.containers = {p: c for p, c in graph.containers.items()
                      if all(is_open(".".join(p.split(".")[:k])) for k in range(1, _level(p) + 1))}
    mapping: dict[str, str] = {}
    for node in graph.nodes.values():
        parts = node.path.split("#", 1)[0].split(".") if node.path else []
        # a layer's path names the layer itself; a merge's names the block it happens in
        top = len(parts) if node.kind == "merge" else len(parts) - 1
        block = next((".".join(parts[:k]) for k in range(1, top + 1)
                      if ".".join(parts[:k]) in graph.containers and not is_open(".".join(parts[:k]))), "")
        if block and node.kind != "input":
            key = f"block:{block}"
            if key not in out.nodes:
                out.nodes[key] = Node(id=key, label=graph.containers[block], path=block, kind="block")
            b = out.nodes[key]
            b.params += node.params
            b.shape = node.shape  # the last node executed inside the block gives its output
            mapping[node.id] = key
        else:
            out.nodes[node.id] = copy.copy(node)
            mapping[node.id] = node.id
    seen: set[tuple[str, str]] = set()
    for a, b in graph.edges:
        edge = (mapping[a], mapping[b])
        if edge[0] != edge[1] and edge not in seen:
            seen.add(edge)
            out.edges.append(edge)
    for key, node in out.nodes.items():
        if node.kind == "block":
            inner = sum(1 for n in graph.nodes.values() if mapping[n.id] == key and n.kind in ("layer", "failed"))
            node.detail = f"{inner} layers"
    return out


def max_depth(graph: Graph) -> int:
    return max((p.count(".") + 1 for p in graph.containers), default=0)
