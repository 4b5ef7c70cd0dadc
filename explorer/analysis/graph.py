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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

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


def trace(model: str | nn.Module, input_shape: Sequence[int] | None = None) -> Graph:
    """Trace one forward pass of a zoo id or a module on the meta device into a :class:`Graph`."""
    if isinstance(model, nn.Module):
        if input_shape is None:
            raise ValueError("input_shape is required when tracing a module")
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

    def pre(mod, args):
        path = names.get(id(mod), "")
        if any(True for _ in mod.children()) or mod is module:
            tracer.stack.append(path)
        else:
            inputs_at_call.append(tracer.sources(args))
            tracer.leaf_depth += 1

    def post(mod, args, out):
        path = names.get(id(mod), "")
        if any(True for _ in mod.children()) or mod is module:
            tracer.stack.pop()
            return
        tracer.leaf_depth -= 1
        srcs = inputs_at_call.pop()
        calls = counts.get(id(mod), 0)
        counts[id(mod)] = calls + 1
        node_id = f"n{len(graph.nodes)}"
        result = out[0] if isinstance(out, (tuple, list)) else out
        rule = rule_for(mod)
        graph.nodes[node_id] = Node(
            id=node_id, label=rule.label(mod), path=path if not calls else f"{path}#{calls + 1}",
            detail=rule.detail(mod), params=sum(p.numel() for p in mod.parameters()) if not calls else 0,
            shape=tuple(result.shape) if isinstance(result, torch.Tensor) else None,
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
    finally:
        for h in handles:
            h.remove()
    last = tracer.producer.get(id(y[0] if isinstance(y, (tuple, list)) else y))
    graph.nodes["output"] = Node(id="output", label="output", path="", kind="output",
                                 shape=tuple((y[0] if isinstance(y, (tuple, list)) else y).shape))
    if last is not None:
        graph.edges.append((last, "output"))
    return graph


def _ancestor(node: Node, depth: int) -> str:
    """The block at ``depth`` that holds ``node`` ("" if none): a layer's path names the layer itself, a merge's
    names the container it happens in."""
    base = node.path.split("#", 1)[0]
    parts = base.split(".") if base else []
    inside = len(parts) >= depth if node.kind == "merge" else len(parts) > depth
    return ".".join(parts[:depth]) if inside else ""


def collapse(graph: Graph, depth: int) -> Graph:
    """A copy in which every container at ``depth`` (1 = the top-level blocks) is one node."""
    out = Graph(model=graph.model, containers={p: c for p, c in graph.containers.items() if p.count(".") < depth - 1})
    mapping: dict[str, str] = {}
    for node in graph.nodes.values():
        block = _ancestor(node, depth)
        if block and block in graph.containers and node.kind != "input":
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
    seen = set()
    for a, b in graph.edges:
        edge = (mapping[a], mapping[b])
        if edge[0] != edge[1] and edge not in seen:
            seen.add(edge)
            out.edges.append(edge)
    for key, node in out.nodes.items():
        if node.kind == "block":
            inner = sum(1 for n in graph.nodes.values() if mapping[n.id] == key and n.kind == "layer")
            node.detail = f"{inner} layers"
    return out


def max_depth(graph: Graph) -> int:
    return max((p.count(".") + 1 for p in graph.containers), default=0)
