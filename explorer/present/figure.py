"""The paper figure: a network drawn as the AlexNet paper draws it (Krizhevsky et al. 2012, figure 2).

Every feature map is a block — the face it turns to the flow is H×W, its depth along the flow is C — labelled with
its shape as the app writes it (``96×55×55``); a convolution's or pooling's kernel is a pyramid from a patch of one
block into the next; fully connected layers are thin bars. Unlike the hand-drawn figures, it is drawn from the
traced graph (:mod:`explorer.analysis.graph`), so Inception's paths stand side by side between their split and
their concatenation, and every residual skip is an arc into its ⊕ (a projection shortcut dashed and named).

The drawing happens in two steps. :func:`layout` turns a traced graph into a **spec** — plain JSON: boxes with
label, kind, shape, position and size; links of kind ``flow``, ``branch`` or ``skip`` (a projection shortcut is a
``skip`` with ``"projection": true``); every label with the rectangle it covers; the legend and the caption. Then
:func:`render_svg`, :func:`render_png` and :func:`render_tex` draw a spec and nothing else — so a saved spec
re-renders the same figure, and the tests check the figure's geometry (no two labels overlap, every label inside
the picture) on the spec alone.

Layout, in coordinates along the flow (*a*) and across it (*c*): the drawn nodes form a series-parallel graph; a
node with several successors opens a group that closes at their first common descendant. A group joined by an
addition where one path has at most one layer is a residual skip (the main path inline, the arc above it); any
other group is lanes side by side. Every item knows its length along the flow and how far it reaches to each side
of its axis (labels included), so placing items one after another and lanes one beside another cannot overlap.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from typing import Any

from ..analysis import Summary, analyze, graph
from ..analysis.graph import Graph, Node, collapse, max_depth
from ..i18n import N_, InvalidValue, gettext
from ..zoo import get_spec
from . import formatting as fmt

SPEC_VERSION = 1
SCALES = ("linear", "sqrt", "log")
DIRECTIONS = ("LR", "TB")

# Colours by kind of box; a palette names one colour per kind (the legend shows the kinds a figure uses).
KINDS = ("input", "conv", "pool", "fc", "concat", "add", "block", "other")
KIND_NAMES = {
    "input": N_("input"), "conv": N_("convolution"), "pool": N_("pooling"), "fc": N_("fully connected"),
    "concat": N_("concatenation"), "add": N_("addition"), "block": N_("block"), "other": N_("other layer"),
}
PALETTES: dict[str, dict[str, str]] = {
    "paper": {"input": "#e0e0e0", "conv": "#9ecae1", "pool": "#fdd0a2", "fc": "#a1d99b", "concat": "#cbc9e2",
              "add": "#ffffff", "block": "#c6dbef", "other": "#f0f0f0"},
    "vivid": {"input": "#bdbdbd", "conv": "#4292c6", "pool": "#fd8d3c", "fc": "#41ab5d", "concat": "#807dba",
              "add": "#ffffff", "block": "#6baed6", "other": "#d9d9d9"},
    "gray": {"input": "#f7f7f7", "conv": "#d9d9d9", "pool": "#f0f0f0", "fc": "#bdbdbd", "concat": "#e8e8e8",
             "add": "#ffffff", "block": "#cccccc", "other": "#fafafa"},
}
PALETTE_NAMES = {"paper": N_("paper"), "vivid": N_("vivid"), "gray": N_("gray")}
INK = "#333333"
FIGURE_FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
FONT_SIZE = 11.0
LINE = 14.0  # a label line's height
OBLIQUE = 0.5  # the receding edge of a block, as a fraction of its W size (drawn at 45°)

# Advance widths of DejaVu Sans (the figure's first font) per 1000 units of the font size, for characters 32–126:
# the label rectangles the layout reserves (and the tests check) are measured with them.
_ASCII_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636,
    636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863,
    748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635,
    615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636,
    337, 636, 838,
)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width ``text`` takes at ``size`` px: DejaVu Sans' widths, a full em for wide (CJK) characters."""
    units = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code < 127:
            units += _ASCII_WIDTHS[code - 32]
        elif code >= 0x2E80:  # CJK and full-width forms
            units += 1000
        else:  # ×, →, · and the like
            units += 838
    return units * size / 1000


# ---------------------------------------------------------------------------------------------------------------
# Options: what the reader sets (the page's controls, the URL, the spec)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureOptions:
    """How to draw: scaling of the spatial sizes and of the channel depth (``linear``, ``sqrt``, ``log`` — so that 3
    and 512 channels both read), labels and kernels shown or not, the palette, the direction (``LR`` left → right,
    ``TB`` top → bottom), the block depth (``None``: every block open; ``n``: blocks at level ``n`` and deeper drawn
    as one block each, a run of equal ones as "×k") and the spacing (a factor on the gaps)."""

    spatial: str = "sqrt"
    channels: str = "sqrt"
    labels: bool = True
    kernels: bool = True
    colors: str = "paper"
    direction: str = "LR"
    depth: int | None = None
    spacing: float = 1.0

    def __post_init__(self) -> None:
        for name, allowed in (("spatial", SCALES), ("channels", SCALES), ("colors", tuple(PALETTES)),
                              ("direction", DIRECTIONS)):
            if getattr(self, name) not in allowed:
                raise InvalidValue(N_("figure option {name} must be one of {allowed}, not {value}"), name=name,
                                   allowed=", ".join(allowed), value=repr(getattr(self, name)))
        if self.depth is not None and (not isinstance(self.depth, int) or isinstance(self.depth, bool)
                                       or self.depth < 1):
            raise InvalidValue(N_("figure depth must be a whole number from 1 up, not {value}"), value=repr(self.depth))
        if not isinstance(self.spacing, (int, float)) or not 0.25 <= float(self.spacing) <= 4:
            raise InvalidValue(N_("figure spacing must be between 0.25 and 4, not {value}"), value=repr(self.spacing))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FigureOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidValue(N_("unknown figure option {name}"), name=unknown[0])
        return cls(**dict(data))


# ---------------------------------------------------------------------------------------------------------------
# From the traced graph to the drawn nodes
# ---------------------------------------------------------------------------------------------------------------
_DRAWN_CATEGORIES = ("convolution", "pooling", "fully connected", "recurrent")


def _box_kind(node: Node) -> str:
    if node.kind == "input":
        return "input"
    if node.kind == "block":
        return "block"
    if node.kind == "merge":
        return "add" if node.label in ("add", "multiply") else "concat"
    if "concat" in node.label.lower():  # a concatenation written as a module of its own
        return "concat"
    return {"convolution": "conv", "pooling": "pool", "fully connected": "fc"}.get(node.category, "other")


def _numel(shape: Sequence[int] | None) -> int | None:
    return None if shape is None else math.prod(shape)


def _drawn_graph(traced: Graph) -> tuple[list[str], dict[str, list[str]]]:
    """The nodes the figure draws (in execution order) and their successors. An element-wise layer (ReLU, batch
    norm, dropout) or a reshape (flatten) belongs to the block before it: the paper draws a block per change of
    shape, not per module; the output node is the last layer's block."""
    sources: dict[str, list[str]] = {n: [] for n in traced.nodes}
    for a, b in traced.edges:
        sources[b].append(a)
    rep: dict[str, str] = {}
    order: list[str] = []
    for node in traced.nodes.values():
        srcs = sources[node.id]
        fold = node.kind == "output" or (
            node.kind == "layer" and len(srcs) == 1 and node.category not in _DRAWN_CATEGORIES
            and (node.shape == traced.nodes[srcs[0]].shape
                 or _numel(node.shape) == _numel(traced.nodes[srcs[0]].shape)))
        if node.kind == "merge" and len(srcs) < 2:
            fold = bool(srcs)
        if fold and srcs:
            rep[node.id] = rep[srcs[0]]
        else:
            rep[node.id] = node.id
            order.append(node.id)
    succ: dict[str, list[str]] = {n: [] for n in order}
    for a, b in traced.edges:
        ra, rb = rep[a], rep[b]
        if rb == b and ra != rb and rb not in succ[ra]:
            succ[ra].append(rb)
    return order, succ


# The walk's items: a box, lanes side by side between a split and a join, a residual skip over a main path.
@dataclass
class _Box:
    id: str
    count: int = 1  # a run of equal collapsed blocks drawn as one ("×3")


@dataclass
class _Lanes:
    fork: str
    join: str | None
    lanes: list[list[Any]]


@dataclass
class _Skip:
    fork: str
    join: str
    main: list[Any]
    projection: str | None  # the shortcut's own layer (a 1×1 convolution), or None for the identity


def _walk(order: list[str], succ: dict[str, list[str]], nodes: Mapping[str, Node]) -> tuple[list[Any], list]:
    """The drawn graph as nested items (series-parallel decomposition); links the decomposition cannot place
    (a graph that is not series-parallel) come back as extra skip links."""
    index = {n: i for i, n in enumerate(order)}
    desc: dict[str, int] = {}
    for n in reversed(order):
        bits = 1 << index[n]
        for s in succ[n]:
            bits |= desc[s]
        desc[n] = bits
    placed: set[str] = set()
    extra: list[tuple[str, str]] = []

    def join_of(u: str) -> str | None:
        common = -1
        for s in succ[u]:
            common &= desc[s]
        if common <= 0:
            return None
        low = (common & -common).bit_length() - 1
        return order[low]

    def boxes(items: list[Any]) -> int:
        return sum(1 if isinstance(i, _Box) else 2 for i in items)

    def earliest(bits: int) -> str | None:
        return order[(bits & -bits).bit_length() - 1] if bits > 0 else None

    def group(u: str, j: str | None, branches: list[list[Any]]) -> Any:
        joined = nodes[j] if j is not None else None
        if (joined is not None and joined.kind == "merge" and joined.label == "add" and len(branches) == 2
                and min(boxes(b) for b in branches) <= 1
                and all(isinstance(i, _Box) for b in branches if boxes(b) <= 1 for i in b)):
            main, short = sorted(branches, key=boxes, reverse=True)
            return _Skip(u, j, main, short[0].id if short else None)
        return _Lanes(u, j, branches)

    def fan(u: str, succs: list[str], j: str | None) -> Any:
        """The item for the paths from ``u`` through ``succs`` to ``j``: paths that meet earlier than ``j`` (the
        three of Inception-ResNet's branches that concatenate before the addition) are a group of their own."""
        inner: str | None = None
        for k, s1 in enumerate(succs):
            for s2 in succs[k + 1:]:
                c = earliest(desc[s1] & desc[s2])
                if c is not None and (j is None or index[c] < index[j]) and (inner is None or index[c] < index[inner]):
                    inner = c
        if inner is None or len(succs) < 3:
            return group(u, j, [walk(s, j, u) if s != j else [] for s in succs])
        members = [s for s in succs if desc[s] >> index[inner] & 1]
        rest = [s for s in succs if s not in members]
        first = fan(u, members, inner)
        merged = [first] + (walk(inner, j, u) if inner != j else [])
        return group(u, j, [merged] + [walk(s, j, u) if s != j else [] for s in rest])

    def walk(u: str | None, stop: str | None, prev: str | None) -> list[Any]:
        items: list[Any] = []
        while u is not None and u != stop:
            if u in placed:
                if prev is not None:
                    extra.append((prev, u))
                break
            placed.add(u)
            items.append(_Box(u))
            nxt = succ[u]
            if len(nxt) <= 1:
                prev, u = u, (nxt[0] if nxt else None)
                continue
            j = join_of(u)
            if j is not None and stop is not None and index[j] > index[stop]:
                j = stop
            items.append(fan(u, nxt, j))
            prev, u = u, j
        return items

    items = walk(order[0], None, None) if order else []
    return items, extra


def _merge_repeats(items: list[Any], nodes: Mapping[str, Node], classes: Mapping[str, str]) -> list[Any]:
    """A run of consecutive collapsed blocks of one class with the same output shape becomes one box "×k"."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, _Lanes):
            item.lanes = [_merge_repeats(lane, nodes, classes) for lane in item.lanes]
        elif isinstance(item, _Skip):
            item.main = _merge_repeats(item.main, nodes, classes)
        last = out[-1] if out else None
        if (isinstance(item, _Box) and isinstance(last, _Box) and nodes[item.id].kind == "block"
                and nodes[last.id].kind == "block" and nodes[item.id].shape == nodes[last.id].shape
                and classes.get(nodes[item.id].path) == classes.get(nodes[last.id].path)):
            last.count += 1
            continue
        out.append(item)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------
def _scale(value: float, top: float, mode: str, low: float, high: float) -> float:
    """``value`` (of at most ``top``) as a length between ``low`` and ``high`` px, linearly, by its square root or
    by its logarithm."""
    if top <= 0:
        return low
    if mode == "linear":
        r = value / top
    elif mode == "sqrt":
        r = math.sqrt(value / top)
    else:
        r = math.log1p(value) / math.log1p(top)
    return max(low, min(high, high * r))


@dataclass
class _Geom:
    """One drawn box's size (front face ``w``×``h`` in flow terms: ``t`` along, ``a`` across; ``d`` the receding
    edge) and its labels (lines above/right: name and kernel; below: shape)."""

    id: str
    kind: str
    t: float
    a: float
    d: float
    name_lines: list[str]
    shape_lines: list[str]
    circle: bool = False


class _Layout:
    def __init__(self, nodes: Mapping[str, Node], labels: Mapping[str, str], options: FigureOptions,
                 classes: Mapping[str, str]) -> None:
        self.nodes = nodes
        self.labels = labels
        self.o = options
        self.lr = options.direction == "LR"
        self.sigma = -1.0 if self.lr else 1.0  # the receding edge goes up (LR) or down (TB), both to the right
        self.gap = 26.0 * options.spacing + (14.0 if options.kernels else 0.0)
        self.fan = 26.0 * options.spacing  # room for the lines that split into lanes and join them
        self.lane_gap = 12.0 * options.spacing
        self.classes = classes
        maps = [n.shape for n in nodes.values() if n.shape is not None and len(n.shape) == 4]
        vectors = [n.shape for n in nodes.values() if n.shape is not None and len(n.shape) == 2]
        self.max_hw = max((max(s[2], s[3]) for s in maps), default=1)
        self.max_c = max(64, *(s[1] for s in maps))  # a few channels stay thin beside none wider
        self.max_n = max((s[1] for s in vectors), default=1)
        self.geoms: dict[str, _Geom] = {}
        self.pos: dict[str, tuple[float, float]] = {}  # box id → (along start, axis across)
        self.labels_out: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.in_lanes: set[str] = set()

    def mark_lanes(self, items: list[Any], inside: bool = False) -> None:
        """Remember the boxes drawn inside lanes (their labels drop the block's name)."""
        for item in items:
            if isinstance(item, _Box):
                if inside:
                    self.in_lanes.add(item.id)
            elif isinstance(item, _Lanes):
                for lane in item.lanes:
                    self.mark_lanes(lane, True)
            else:
                self.mark_lanes(item.main, inside)

    # -- one box ---------------------------------------------------------------------------------------------
    def geom(self, box: _Box) -> _Geom:
        if box.id in self.geoms:
            return self.geoms[box.id]
        node = self.nodes[box.id]
        kind = _box_kind(node)
        shape = node.shape
        o = self.o
        name_lines: list[str] = []
        shape_lines: list[str] = []
        if kind == "add":
            g = _Geom(box.id, kind, 18.0, 18.0, 0.0, [], [], circle=True)
        else:
            if shape is not None and len(shape) == 4:
                _n, c, h, w = shape
                t = _scale(c, self.max_c, o.channels, 3.0, 64.0)
                a = _scale(h, self.max_hw, o.spatial, 10.0, 150.0)
                d = _scale(w, self.max_hw, o.spatial, 10.0, 150.0)
            elif shape is not None and len(shape) == 2:
                t, d = 7.0, 7.0
                a = _scale(shape[1], self.max_n, o.channels, 14.0, 150.0)
            else:
                t, a, d = 10.0, 24.0, 10.0
            if o.labels:
                path = node.path.split("#", 1)[0]
                if kind == "block" and box.count > 1:
                    name = f"{self.classes.get(node.path, node.label)} ×{box.count}"
                elif kind == "input":
                    name = gettext("input")
                elif kind == "concat":
                    name = self.labels.get(path) or gettext("concat")
                else:
                    name = self.labels.get(path) or path or node.label
                    if box.id in self.in_lanes:  # the block's name is on its concatenation: p2_1, not inception3a/p2_1
                        name = name.rsplit("/", 1)[-1]
                name_lines.append(name)
                if o.kernels and node.kernel is not None and kind in ("conv", "pool"):
                    k = "×".join(map(str, node.kernel))
                    s = max(node.stride or (1,))
                    name_lines.append(f"{k} /{s}" if s > 1 else k)
                shape_lines.append(fmt.shape(shape) if shape is not None else "")
            g = _Geom(box.id, kind, t, a, d, name_lines, shape_lines)
        self.geoms[box.id] = g
        return g

    def box_extent(self, box: _Box) -> tuple[float, float, float]:
        """(length along the flow, reach to the negative side, reach to the positive side) of one box."""
        g = self.geom(box)
        if g.circle:
            return g.t, g.a / 2, g.a / 2
        ob = OBLIQUE * g.d
        widths = [text_width(t) for t in g.name_lines + g.shape_lines]
        if self.lr:
            along = max([g.t + ob, *widths])
            up = g.a / 2 + ob + (4 + LINE * len(g.name_lines) if g.name_lines else 0)
            down = g.a / 2 + (4 + LINE * len(g.shape_lines) if g.shape_lines else 0)
            return along, up, down
        lines = len(g.name_lines) + len(g.shape_lines)
        along = max(g.t + ob, LINE * lines)
        right = g.a / 2 + ob + (6 + max(widths) if widths else 0)
        return along, g.a / 2, right

    # -- measuring items -------------------------------------------------------------------------------------
    def extent(self, items: list[Any]) -> tuple[float, float, float]:
        along, up, down = 0.0, 0.0, 0.0
        for i, item in enumerate(items):
            a, u, d = self.item_extent(item)
            along += a + (self.gap if i else 0.0)
            up, down = max(up, u), max(down, d)
        return along, up, down

    def item_extent(self, item: Any) -> tuple[float, float, float]:
        if isinstance(item, _Box):
            return self.box_extent(item)
        if isinstance(item, _Lanes):
            sizes = [self.extent(lane) if lane else (0.0, 5.0, 5.0) for lane in item.lanes]
            total = sum(u + d for _a, u, d in sizes) + self.lane_gap * (len(sizes) - 1)
            along = max(a for a, _u, _d in sizes) + 2 * self.fan
            return along, total / 2, total / 2
        along, up, down = self.extent(item.main)
        label = self.skip_label(item)
        if label:
            along = max(along, text_width(label) + 8)
            if self.lr:
                up += 16 + LINE
            else:
                down += 12 + text_width(label) + 6
        elif self.lr:
            up += 12
        else:
            down += 12
        return along + 2 * self.fan * 0.5, up, down

    def skip_label(self, item: _Skip) -> str:
        if item.projection is None or not self.o.labels:
            return ""
        node = self.nodes[item.projection]
        if node.kernel is not None:
            k = "×".join(map(str, node.kernel))
            s = max(node.stride or (1,))
            return gettext("projection {size}, /{by}").format(size=k, by=s) if s > 1 else \
                gettext("projection {size}").format(size=k)
        return gettext("projection")

    # -- placing items ---------------------------------------------------------------------------------------
    def place(self, items: list[Any], start: float, axis: float) -> float:
        """Place ``items`` one after another from ``start`` along the flow on the axis ``axis``; returns the end."""
        x = start
        for i, item in enumerate(items):
            if i:
                x += self.gap
            length = self.item_extent(item)[0]
            self.place_item(item, x, axis, length)
            if i and isinstance(items[i - 1], _Box) and isinstance(item, _Box):
                self.links.append({"kind": "flow", "from": items[i - 1].id, "to": item.id})
            x += length
        return x

    def place_item(self, item: Any, start: float, axis: float, length: float) -> None:
        if isinstance(item, _Box):
            g = self.geom(item)
            self.counts[item.id] = item.count
            box_len = g.t + (0 if g.circle else OBLIQUE * g.d)
            self.pos[item.id] = (start + (length - box_len) / 2, axis)
            return
        if isinstance(item, _Lanes):
            sizes = [self.extent(lane) if lane else (0.0, 5.0, 5.0) for lane in item.lanes]
            c = axis - (sum(u + d for _a, u, d in sizes) + self.lane_gap * (len(sizes) - 1)) / 2
            inner = length - 2 * self.fan
            for lane, (a, u, d) in zip(item.lanes, sizes):
                lane_axis = c + u
                if lane:
                    self.place(lane, start + self.fan + (inner - a) / 2, lane_axis)
                    if _first(lane) != item.fork:  # a lane that opens with lanes of its own links them itself
                        self.links.append({"kind": "branch", "from": item.fork, "to": _first(lane)})
                    if item.join is not None:
                        self.links.append({"kind": "branch", "from": _last(lane), "to": item.join})
                elif item.join is not None:
                    self.links.append({"kind": "branch", "from": item.fork, "to": item.join,
                                       "via": [start + self.fan, lane_axis, start + length - self.fan, lane_axis]})
                c += u + d + self.lane_gap
            return
        main_len = self.extent(item.main)[0]
        self.place(item.main, start + (length - main_len) / 2, axis)
        if _first(item.main) != item.fork:
            self.links.append({"kind": "flow", "from": item.fork, "to": _first(item.main)})
        self.links.append({"kind": "flow", "from": _last(item.main), "to": item.join})
        up, down = self.extent(item.main)[1:]
        reach = (up + 12) if self.lr else (down + 12)
        link: dict[str, Any] = {"kind": "skip", "from": item.fork, "to": item.join,
                                "projection": item.projection is not None, "level": axis + self.sigma * reach,
                                "span": [start, start + length]}
        if item.projection is not None:
            link["through"] = item.projection
        label = self.skip_label(item)
        if label:
            link["label"] = label
        self.links.append(link)


def _first(items: list[Any]) -> str:
    item = items[0]
    return item.id if isinstance(item, _Box) else item.fork


def _last(items: list[Any]) -> str:
    item = items[-1]
    if isinstance(item, _Box):
        return item.id
    return item.join if item.join is not None else _last(item.lanes[0])


# ---------------------------------------------------------------------------------------------------------------
# The spec
# ---------------------------------------------------------------------------------------------------------------
MARGIN = 24.0


def _spatial(traced: Graph, order: list[str]) -> bool:
    shapes = [traced.nodes[n].shape for n in order]
    return bool(order) and all(s is not None and len(s) in (2, 4) for s in shapes)


def layout(traced: Graph, labels: Mapping[str, str] | None = None, options: FigureOptions | None = None,
           title: str | None = None) -> dict[str, Any]:
    """The figure's spec (plain JSON) for a traced graph (:func:`explorer.analysis.graph.trace`): ``labels`` maps
    module paths to the papers' names (conv1, fc6 …), ``title`` heads the caption. The spec is all a renderer
    reads; its captions are in the current language."""
    options = options or FigureOptions()
    labels = labels or {}
    title = title or traced.model
    shown = traced
    if options.depth is not None and options.depth <= max_depth(traced):
        shown = collapse(traced, options.depth)
    order, succ = _drawn_graph(shown)
    spec: dict[str, Any] = {
        "version": SPEC_VERSION, "model": traced.model, "title": title, "options": options.to_dict(),
        "oblique": [OBLIQUE, OBLIQUE * (-1.0 if options.direction == "LR" else 1.0)],
        "palette": dict(PALETTES[options.colors]), "ink": INK, "font": FIGURE_FONT,
        "boxes": [], "links": [], "labels": [], "legend": [], "message": None,
    }
    input_node = traced.nodes.get("input")
    spec["input"] = list(input_node.shape[1:]) if input_node is not None and input_node.shape else None
    if not _spatial(shown, order):
        message = gettext("The figure is drawn for convolutional networks: {model} has no feature maps (C×H×W) or "
                          "feature vectors to draw as blocks and bars.").format(model=title)
        width = text_width(message) + 2 * MARGIN
        spec.update(message=message, width=round(width, 1), height=round(2 * MARGIN + LINE, 1))
        spec["labels"].append(_label(message, MARGIN, MARGIN + LINE - 3, "start", "message"))
        return spec

    items, extra = _walk(order, succ, shown.nodes)
    items = _merge_repeats(items, shown.nodes, shown.containers)
    lay = _Layout(shown.nodes, labels, options, shown.containers)
    lay.mark_lanes(items)
    along, up, down = lay.extent(items)
    lay.place(items, 0.0, 0.0)
    lay.links.extend({"kind": "skip", "from": a, "to": b, "projection": False} for a, b in extra)

    # flow coordinates → picture coordinates
    def xy(a: float, c: float) -> tuple[float, float]:
        return (a, c) if lay.lr else (c, a)

    c0 = -up  # the axis of the flow lies ``up`` below the picture's top edge
    ox, oy = spec["oblique"]
    boxes: dict[str, dict[str, Any]] = {}
    for node_id, (a, c) in lay.pos.items():
        g = lay.geoms[node_id]
        node = shown.nodes[node_id]
        if g.circle:
            x, y = xy(a + g.t / 2, c - c0)
            box = {"x": round(x - 9, 2), "y": round(y - 9, 2), "w": 18.0, "h": 18.0, "d": 0.0}
        else:
            front_w, front_h = (g.t, g.a) if lay.lr else (g.a, g.t)
            x, y = xy(a, c - c0 - g.a / 2)
            box = {"x": round(x, 2), "y": round(y, 2), "w": round(front_w, 2), "h": round(front_h, 2),
                   "d": round(g.d, 2)}
        entry = {
            "id": node_id, "kind": g.kind, "label": fmt.shape(node.shape) if node.shape is not None else "",
            "name": g.name_lines[0] if g.name_lines else "", "path": node.path,
            "shape": list(node.shape[1:]) if node.shape is not None else None, **box,
        }
        if lay.counts.get(node_id, 1) > 1:
            entry["count"] = lay.counts[node_id]
        if node.kernel is not None and g.kind in ("conv", "pool"):
            entry["kernel"] = list(node.kernel)
            entry["stride"] = list(node.stride or ())
        boxes[node_id] = entry
        spec["boxes"].append(entry)
        # labels: LR above (name, kernel) and below (shape); TB to the right, in one column
        if g.name_lines or g.shape_lines:
            if lay.lr:
                cx = box["x"] + (box["w"] + ox * box["d"]) / 2
                top = box["y"] + oy * box["d"] - 4
                for k, text in enumerate(reversed(g.name_lines)):
                    spec["labels"].append(_label(text, cx, top - LINE * k - 3, "middle",
                                                 "kernel" if k == 0 and len(g.name_lines) > 1 else "name", node_id))
                bottom = box["y"] + box["h"] + 4
                for k, text in enumerate(g.shape_lines):
                    spec["labels"].append(_label(text, cx, bottom + LINE * (k + 1) - 3, "middle", "shape", node_id))
            else:
                lines = g.name_lines + g.shape_lines
                lx = box["x"] + box["w"] + ox * box["d"] + 6
                cy = box["y"] + (box["h"] + oy * box["d"]) / 2
                first = cy - LINE * len(lines) / 2
                roles = ["name"] + ["kernel"] * (len(g.name_lines) - 1) + ["shape"] * len(g.shape_lines)
                for k, (text, role) in enumerate(zip(lines, roles)):
                    spec["labels"].append(_label(text, lx, first + LINE * (k + 1) - 3, "start", role, node_id))

    for link in lay.links:
        spec["links"].append(_link_geometry(link, boxes, lay.lr, xy, c0, options))

    width, height = xy(along, up + down)
    width, height = width + 2 * MARGIN, height + 2 * MARGIN
    _shift(spec, MARGIN, MARGIN)
    height = _legend_and_caption(spec, width, height, title, options)
    spec["width"] = round(max(width, *(lb["box"][2] + MARGIN for lb in spec["labels"])), 1)
    spec["height"] = round(height, 1)
    return spec


def _label(text: str, x: float, y: float, anchor: str, role: str, box: str | None = None,
           size: float = FONT_SIZE) -> dict[str, Any]:
    """A text at baseline point (x, y) with the rectangle it covers (``box``: x0, y0, x1, y1)."""
    w = text_width(text, size)
    x0 = x - w / 2 if anchor == "middle" else x
    entry = {"text": text, "x": round(x, 2), "y": round(y, 2), "anchor": anchor, "size": size, "role": role,
             "box": [round(x0, 2), round(y - size * 0.8, 2), round(x0 + w, 2), round(y + size * 0.25, 2)]}
    if box is not None:
        entry["for"] = box
    return entry


def _anchor_out(b: dict[str, Any], ox: float, oy: float, lr: bool) -> tuple[float, float]:
    """Where a link leaves a box: the middle of the face it turns to the flow."""
    if b["kind"] == "add":
        return (b["x"] + b["w"], b["y"] + b["h"] / 2) if lr else (b["x"] + b["w"] / 2, b["y"] + b["h"])
    if lr:
        return b["x"] + b["w"] + ox * b["d"] / 2, b["y"] + b["h"] / 2 + oy * b["d"] / 2
    return b["x"] + b["w"] / 2 + ox * b["d"] / 2, b["y"] + b["h"] + oy * b["d"] / 2


def _anchor_in(b: dict[str, Any], lr: bool) -> tuple[float, float]:
    if lr:
        return b["x"], b["y"] + b["h"] / 2
    return b["x"] + b["w"] / 2, b["y"]


def _link_geometry(link: dict[str, Any], boxes: Mapping[str, dict[str, Any]], lr: bool, xy, c0: float,
                   options: FigureOptions) -> dict[str, Any]:
    """A link's points in the picture (before the margin): a flow or branch line from face to face (through its
    lane's axis for an empty lane), a skip's arc at its level, and a kernel's pyramid where it has one."""
    a, b = boxes[link["from"]], boxes[link["to"]]
    ox, oy = OBLIQUE, OBLIQUE * (-1.0 if lr else 1.0)
    out = {k: v for k, v in link.items() if k not in ("level", "span", "via")}
    p0, p3 = _anchor_out(a, ox, oy, lr), _anchor_in(b, lr)
    if link["kind"] == "skip" and "level" in link:
        level = link["level"] - c0
        s0, s1 = link["span"]
        start = (a["x"] + a["w"] / 2, a["y"]) if lr else (a["x"] + a["w"], a["y"] + a["h"] / 2)
        if a["kind"] != "add":  # from the far corner of the block, past its labels
            start = (a["x"] + a["w"] + ox * a["d"], a["y"] + oy * a["d"]) if lr else \
                (a["x"] + a["w"] + ox * a["d"], a["y"] + a["h"] + oy * a["d"])
        end = (b["x"] + b["w"] / 2, b["y"]) if lr else (b["x"] + b["w"], b["y"] + b["h"] / 2)
        p1, p2 = xy(s0, level), xy(s1, level)
        out["points"] = [_r(start), _r(p1), _r(p2), _r(end)]
        return out
    if link["kind"] == "skip":
        out["points"] = [_r(p0), _r(p3)]
        return out
    if "via" in link:
        v = link["via"]
        out["points"] = [_r(p0), _r(xy(v[0], v[1] - c0)), _r(xy(v[2], v[3] - c0)), _r(p3)]
        return out
    out["points"] = [_r(p0), _r(p3)]
    if (options.kernels and link["kind"] == "flow" and b.get("kernel") and a["kind"] != "add" and a["shape"]
            and len(a["shape"]) == 3 and b["shape"] and len(b["shape"]) == 3):
        out["kernel"] = _pyramid(a, b, lr, ox, oy)
    return out


def _pyramid(a: dict[str, Any], b: dict[str, Any], lr: bool, ox: float, oy: float) -> dict[str, Any]:
    """The kernel as a pyramid: a patch on the H×W face of ``a`` (its size the kernel's share of that face), lines
    from its corners to a point on the front face of ``b``."""
    _c, h, w = a["shape"]
    kh, kw = b["kernel"][0], b["kernel"][-1]
    d = a["d"]
    if lr:  # the H×W face is the right face: vertical edge h, receding edge d
        face_h, fx, fy = a["h"], a["x"] + a["w"], a["y"]
    else:  # the bottom face: horizontal edge w, receding edge d
        face_h, fx, fy = a["w"], a["x"], a["y"] + a["h"]
    ph = max(3.0, min(face_h * 0.8, face_h * kh / h))
    pd = max(2.0, min(d * 0.8, d * kw / w))
    # centred on the face, a little towards its far corner (as in the paper)
    u0, v0 = (face_h - ph) * 0.55, (d - pd) * 0.55
    if lr:
        def at(u: float, v: float) -> tuple[float, float]:
            return fx + ox * v, fy + u + oy * v
    else:
        def at(u: float, v: float) -> tuple[float, float]:
            return fx + u + ox * v, fy + oy * v
    base = [at(u0, v0), at(u0 + ph, v0), at(u0 + ph, v0 + pd), at(u0, v0 + pd)]
    apex = (b["x"] + b["w"] * 0.5, b["y"] + b["h"] * 0.5) if lr else (b["x"] + b["w"] * 0.5, b["y"] + b["h"] * 0.5)
    return {"base": [_r(p) for p in base], "apex": _r(apex), "size": list(b["kernel"]),
            "stride": list(b.get("stride") or [])}


def _r(p: tuple[float, float]) -> list[float]:
    return [round(p[0], 2), round(p[1], 2)]


def _shift(spec: dict[str, Any], dx: float, dy: float) -> None:
    for b in spec["boxes"]:
        b["x"], b["y"] = round(b["x"] + dx, 2), round(b["y"] + dy, 2)
    for lb in spec["labels"]:
        lb["x"], lb["y"] = round(lb["x"] + dx, 2), round(lb["y"] + dy, 2)
        x0, y0, x1, y1 = lb["box"]
        lb["box"] = [round(x0 + dx, 2), round(y0 + dy, 2), round(x1 + dx, 2), round(y1 + dy, 2)]
    for link in spec["links"]:
        link["points"] = [[round(x + dx, 2), round(y + dy, 2)] for x, y in link["points"]]
        if "kernel" in link:
            k = link["kernel"]
            k["base"] = [[round(x + dx, 2), round(y + dy, 2)] for x, y in k["base"]]
            k["apex"] = [round(k["apex"][0] + dx, 2), round(k["apex"][1] + dy, 2)]


def _legend_and_caption(spec: dict[str, Any], width: float, height: float, title: str,
                        options: FigureOptions) -> float:
    """The legend (the kinds the figure uses, and the skips) in rows under the drawing, then the caption; returns
    the picture's height."""
    for link in spec["links"]:  # a skip's label sits above its arc
        if link.get("label"):
            p1, p2 = link["points"][1], link["points"][2]
            if spec["options"]["direction"] == "LR":
                entry = _label(link["label"], (p1[0] + p2[0]) / 2, p1[1] - 5, "middle", "skip")
            else:
                entry = _label(link["label"], p1[0] + 6, (p1[1] + p2[1]) / 2 + 4, "start", "skip")
            entry["for"] = link["to"]
            spec["labels"].append(entry)
    used = [k for k in KINDS if any(b["kind"] == k for b in spec["boxes"])]
    items = [(k, gettext(KIND_NAMES[k])) for k in used]
    if any(lk["kind"] == "skip" and not lk.get("projection") for lk in spec["links"]):
        items.append(("skip", gettext("residual skip")))
    if any(lk.get("projection") for lk in spec["links"]):
        items.append(("projection", gettext("projection shortcut")))
    if any("kernel" in lk for lk in spec["links"]):
        items.append(("kernel", gettext("kernel")))
    x, y = MARGIN, height + 4
    row_h = 18.0
    for kind, text in items:
        w = 14 + 6 + text_width(text) + 16
        if x + w > max(width, 360) - MARGIN and x > MARGIN:
            x, y = MARGIN, y + row_h
        spec["legend"].append({"kind": kind, "x": round(x, 2), "y": round(y, 2), "size": 12.0})
        spec["labels"].append(_label(text, x + 20, y + 10, "start", "legend"))
        x += w
    y += row_h + 6
    parts = [gettext("{title}: each feature map is a block (face H×W, depth C), labelled C×H×W.").format(title=title)]
    if any("kernel" in lk for lk in spec["links"]):
        parts.append(gettext("Kernels are pyramids."))
    if any(b["kind"] == "fc" for b in spec["boxes"]):
        parts.append(gettext("Fully connected layers are bars."))
    if any(lk["kind"] == "skip" for lk in spec["links"]):
        parts.append(gettext("Residual skips are arcs into ⊕."))
    caption = " ".join(parts) if gettext("Kernels are pyramids.").isascii() else "".join(parts)
    for k, line in enumerate(_wrap(caption, max(width, 480) - 2 * MARGIN, FONT_SIZE + 1)):
        spec["labels"].append(_label(line, MARGIN, y + 10 + k * (LINE + 2), "start", "caption", size=FONT_SIZE + 1))
    spec["caption"] = caption
    return y + 10 + k * (LINE + 2) + 6 + MARGIN


def _wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` in lines no wider than ``width`` px: broken at spaces, or between any two characters of a text
    without spaces (Chinese)."""
    spaced = " " in text
    words = text.split(" ") if spaced else list(text)
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if spaced and line else line + word
        if line and text_width(candidate, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line]


# ---------------------------------------------------------------------------------------------------------------
# Renderers: a spec in, a picture out
# ---------------------------------------------------------------------------------------------------------------
def _faces(b: Mapping[str, Any], ox: float, oy: float) -> list[list[tuple[float, float]]]:
    """A block's visible faces: front, the receding top (LR) or bottom (TB), the right side."""
    x, y, w, h, d = b["x"], b["y"], b["w"], b["h"], b["d"]
    dx, dy = ox * d, oy * d
    front = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    right = [(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)]
    if dy <= 0:
        lid = [(x, y), (x + dx, y + dy), (x + w + dx, y + dy), (x + w, y)]
    else:
        lid = [(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)]
    return [front, lid, right]


def _shade(color: str, factor: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, round(v * factor))) for v in (r, g, b)))


def _skip_path(points: Sequence[Sequence[float]]) -> list[tuple[str, list[tuple[float, float]]]]:
    """The arc of a skip: up from its start, along, down into the ⊕ (quadratic corners)."""
    if len(points) == 2:
        return [("M", [tuple(points[0])]), ("L", [tuple(points[1])])]
    p0, p1, p2, p3 = (tuple(p) for p in points)
    horizontal = abs(p1[1] - p2[1]) < 1e-6  # LR: the arc runs along y = level
    c1 = (p0[0], p1[1]) if horizontal else (p1[0], p0[1])
    c2 = (p3[0], p2[1]) if horizontal else (p2[0], p3[1])
    return [("M", [p0]), ("Q", [c1, p1]), ("L", [p2]), ("Q", [c2, p3])]


def _quad(a: tuple[float, float], c: tuple[float, float], b: tuple[float, float], n: int = 12):
    return [((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * c[0] + t * t * b[0],
             (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * c[1] + t * t * b[1]) for t in (i / n for i in range(1, n + 1))]


def _polyline(points: Sequence[Sequence[float]], skip: bool) -> list[tuple[float, float]]:
    if not skip or len(points) != 4:
        return [tuple(p) for p in points]
    out: list[tuple[float, float]] = []
    pen = (0.0, 0.0)
    for op, pts in _skip_path(points):
        if op == "M":
            out.append(pts[0])
        elif op == "L":
            out.append(pts[0])
        else:
            out.extend(_quad(pen, pts[0], pts[1]))
        pen = out[-1]
    return out


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def render_svg(spec: Mapping[str, Any]) -> str:
    """The spec as SVG: shapes as polygons and paths, every label as ``<text>`` (selectable, searchable)."""
    w, h = spec["width"], spec["height"]
    pal, ink = spec["palette"], spec["ink"]
    ox, oy = spec["oblique"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" viewBox="0 0 {_n(w)} {_n(h)}" '
           f'font-family="{html.escape(spec["font"])}" font-size="{_n(FONT_SIZE)}">',
           f"<title>{html.escape(spec['title'])}</title>",
           '<defs><marker id="fa" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" '
           f'orient="auto"><path d="M0,0L8,4L0,8z" fill="{ink}"/></marker></defs>',
           '<rect width="100%" height="100%" fill="#ffffff"/>']
    pts = lambda ps: " ".join(f"{_n(x)},{_n(y)}" for x, y in ps)  # noqa: E731
    links = spec["links"]
    out.append('<g fill="none" stroke-width="1.2">')
    for link in links:
        if link["kind"] == "skip":
            d = " ".join(op + " ".join(f"{_n(x)},{_n(y)}" for x, y in ps) for op, ps in _skip_path(link["points"]))
            dash = ' stroke-dasharray="5,3"' if link.get("projection") else ""
            out.append(f'<path class="skip" d="{d}" stroke="{ink}"{dash} marker-end="url(#fa)"/>')
        elif "kernel" not in link:
            out.append(f'<polyline class="{link["kind"]}" points="{pts(link["points"])}" stroke="#888888" '
                       f'marker-end="url(#fa)"/>')
    out.append("</g>")
    for b in spec["boxes"]:
        color = pal.get(b["kind"], pal["other"])
        ident = html.escape(b["id"])
        if b["kind"] == "add":
            cx, cy, r = b["x"] + b["w"] / 2, b["y"] + b["h"] / 2, b["w"] / 2
            out.append(f'<g data-node="{ident}" class="box add"><circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" '
                       f'fill="{color}" stroke="{ink}"/><path d="M{_n(cx - r * 0.6)},{_n(cy)}H{_n(cx + r * 0.6)}'
                       f'M{_n(cx)},{_n(cy - r * 0.6)}V{_n(cy + r * 0.6)}" stroke="{ink}"/></g>')
            continue
        front, lid, right = _faces(b, ox, oy)
        out.append(f'<g data-node="{ident}" class="box {b["kind"]}" stroke="{ink}" stroke-width="0.8" '
                   f'stroke-linejoin="round">'
                   f'<polygon points="{pts(lid)}" fill="{_shade(color, 1.08)}"/>'
                   f'<polygon points="{pts(right)}" fill="{_shade(color, 0.86)}"/>'
                   f'<polygon points="{pts(front)}" fill="{color}"/></g>')
    for link in links:
        k = link.get("kernel")
        if not k:
            continue
        base, apex = k["base"], k["apex"]
        lines = "".join(f"M{_n(x)},{_n(y)}L{_n(apex[0])},{_n(apex[1])}" for x, y in base)
        out.append(f'<g class="kernel"><polygon points="{pts(base)}" fill="#fff3b0" stroke="{ink}" '
                   f'stroke-width="0.8"/><path d="{lines}" stroke="{ink}" stroke-width="0.6" fill="none"/></g>')
    for item in spec["legend"]:
        x, y, s = item["x"], item["y"], item["size"]
        if item["kind"] in ("skip", "projection"):
            dash = ' stroke-dasharray="5,3"' if item["kind"] == "projection" else ""
            out.append(f'<path d="M{_n(x)},{_n(y + s / 2)}H{_n(x + 14)}" stroke="{ink}" stroke-width="1.2"{dash}/>')
        elif item["kind"] == "kernel":
            out.append(f'<rect x="{_n(x + 2)}" y="{_n(y + 2)}" width="{_n(s - 4)}" height="{_n(s - 4)}" '
                       f'fill="#fff3b0" stroke="{ink}" stroke-width="0.8"/>')
        elif item["kind"] == "add":
            out.append(f'<circle cx="{_n(x + s / 2)}" cy="{_n(y + s / 2)}" r="{_n(s / 2)}" fill="#ffffff" '
                       f'stroke="{ink}"/>')
        else:
            out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(s)}" height="{_n(s)}" '
                       f'fill="{pal.get(item["kind"], pal["other"])}" stroke="{ink}" stroke-width="0.8"/>')
    out.append(f'<g fill="{ink}">')
    for lb in spec["labels"]:
        anchor = ' text-anchor="middle"' if lb["anchor"] == "middle" else ""
        size = f' font-size="{_n(lb["size"])}"' if lb["size"] != FONT_SIZE else ""
        out.append(f'<text x="{_n(lb["x"])}" y="{_n(lb["y"])}"{anchor}{size} class="{lb["role"]}">'
                   f"{html.escape(lb['text'])}</text>")
    out.append("</g></svg>")
    return "\n".join(out)


def _font(size: float, text: str):
    """A TrueType font for Pillow: DejaVu Sans (the widths the layout measured), a CJK font for Chinese, else
    Pillow's own."""
    return _font_file(round(size), any(ord(ch) >= 0x2E80 for ch in text))


@cache
def _font_file(size: int, wide: bool):
    from PIL import ImageFont

    names = (["wqy-microhei.ttc", "NotoSansCJK-Regular.ttc", "DroidSansFallbackFull.ttf"] if wide else []) + \
        ["DejaVuSans.ttf"]
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


PNG_MAX_PIXELS = 60_000_000  # a PNG larger than this is refused (about 240 MB of pixels in memory)


def max_dpi(spec: Mapping[str, Any]) -> int:
    """The highest resolution at which :func:`render_png` draws this figure (ResNet-50's long figure: ~250 dpi)."""
    return int(96 * math.sqrt(PNG_MAX_PIXELS / (spec["width"] * spec["height"])))


def render_png(spec: Mapping[str, Any], dpi: int = 150) -> bytes:
    """The spec drawn with Pillow at ``dpi`` (96 dpi = the SVG's own pixel size): the same shapes and texts, no SVG
    rasteriser needed."""
    import io

    from PIL import Image, ImageDraw

    if not 36 <= dpi <= 1200:
        raise InvalidValue(N_("PNG resolution must be between 36 and 1200 dpi, not {dpi}"), dpi=dpi)
    k = dpi / 96
    w, h = max(1, round(spec["width"] * k)), max(1, round(spec["height"] * k))
    if w * h > PNG_MAX_PIXELS:
        raise InvalidValue(N_("a PNG of {w}×{h} pixels is too large: lower the resolution"), w=w, h=h)
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)
    pal, ink = spec["palette"], spec["ink"]
    ox, oy = spec["oblique"]
    line = max(1, round(k))

    def s(ps):
        return [(x * k, y * k) for x, y in ps]

    def arrow(p_from, p_to) -> None:
        (x0, y0), (x1, y1) = p_from, p_to
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        size = 6 * k
        tip = (x1 * k, y1 * k)
        left = (tip[0] - size * ux + size * 0.5 * uy, tip[1] - size * uy - size * 0.5 * ux)
        right = (tip[0] - size * ux - size * 0.5 * uy, tip[1] - size * uy + size * 0.5 * ux)
        draw.polygon([tip, left, right], fill=ink)

    for link in spec["links"]:
        skip = link["kind"] == "skip"
        if "kernel" in link:
            continue
        poly = _polyline(link["points"], skip)
        color = ink if skip else "#888888"
        if skip and link.get("projection"):
            for a, b in zip(poly, poly[1:]):
                _dashed(draw, (a[0] * k, a[1] * k), (b[0] * k, b[1] * k), color, line, 5 * k, 3 * k)
        else:
            draw.line(s(poly), fill=color, width=line)
        arrow(poly[-2], poly[-1])
    for b in spec["boxes"]:
        color = pal.get(b["kind"], pal["other"])
        if b["kind"] == "add":
            x, y, d = b["x"] * k, b["y"] * k, b["w"] * k
            draw.ellipse([x, y, x + d, y + d], fill=color, outline=ink, width=line)
            cx, cy, r = x + d / 2, y + d / 2, d * 0.3
            draw.line([(cx - r, cy), (cx + r, cy)], fill=ink, width=line)
            draw.line([(cx, cy - r), (cx, cy + r)], fill=ink, width=line)
            continue
        front, lid, right = _faces(b, ox, oy)
        draw.polygon(s(lid), fill=_shade(color, 1.08), outline=ink, width=line)
        draw.polygon(s(right), fill=_shade(color, 0.86), outline=ink, width=line)
        draw.polygon(s(front), fill=color, outline=ink, width=line)
    for link in spec["links"]:
        kk = link.get("kernel")
        if kk:
            draw.polygon(s(kk["base"]), fill="#fff3b0", outline=ink, width=line)
            for p in kk["base"]:
                draw.line(s([p, kk["apex"]]), fill=ink, width=max(1, round(0.6 * k)))
    for item in spec["legend"]:
        x, y, sz = item["x"] * k, item["y"] * k, item["size"] * k
        if item["kind"] in ("skip", "projection"):
            if item["kind"] == "projection":
                _dashed(draw, (x, y + sz / 2), (x + 14 * k, y + sz / 2), ink, line, 5 * k, 3 * k)
            else:
                draw.line([(x, y + sz / 2), (x + 14 * k, y + sz / 2)], fill=ink, width=line)
        elif item["kind"] == "kernel":
            draw.rectangle([x + 2 * k, y + 2 * k, x + sz - 2 * k, y + sz - 2 * k], fill="#fff3b0", outline=ink)
        elif item["kind"] == "add":
            draw.ellipse([x, y, x + sz, y + sz], fill="#ffffff", outline=ink, width=line)
        else:
            draw.rectangle([x, y, x + sz, y + sz], fill=pal.get(item["kind"], pal["other"]), outline=ink)
    for lb in spec["labels"]:
        font = _font(lb["size"] * k, lb["text"])
        anchor = "ms" if lb["anchor"] == "middle" else "ls"
        draw.text((lb["x"] * k, lb["y"] * k), lb["text"], fill=ink, font=font, anchor=anchor)
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def _dashed(draw, a, b, color, width, on, off) -> None:
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length == 0:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    t = 0.0
    while t < length:
        e = min(length, t + on)
        draw.line([(a[0] + ux * t, a[1] + uy * t), (a[0] + ux * e, a[1] + uy * e)], fill=color, width=width)
        t = e + off


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "×": r"$\times$", "→": r"$\rightarrow$", "·": r"$\cdot$", "…": r"\dots{}", "⊕": r"$\oplus$"}


def _tex_text(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch if ord(ch) < 128 else "?") for ch in text)


def render_tex(spec: Mapping[str, Any]) -> str:
    """The spec as a self-contained LaTeX document (TikZ): ``pdflatex figure.tex`` gives a one-page PDF of the
    figure's size.
    Coordinates are the SVG's pixels as points, y flipped; text in the sans-serif font (pdflatex writes the Latin
    alphabet: draw the figure in English for LaTeX)."""
    h = spec["height"]
    pal, ink = spec["palette"], spec["ink"]
    ox, oy = spec["oblique"]
    colors: dict[str, str] = {}

    def col(hex_color: str) -> str:
        if hex_color not in colors:
            colors[hex_color] = f"c{len(colors)}"
        return colors[hex_color]

    def p(x: float, y: float) -> str:
        return f"({_n(x * 0.75)},{_n((h - y) * 0.75)})"  # 1 px = 0.75 pt

    body: list[str] = []
    for link in spec["links"]:
        if "kernel" in link:
            continue
        style = f"draw={col(ink) if link['kind'] == 'skip' else col('#888888')}, -{{Stealth[length=4pt]}}, " \
                "line width=0.6pt"
        if link.get("projection"):
            style += ", dashed"
        if link["kind"] == "skip" and len(link["points"]) == 4:
            segs = _skip_path(link["points"])
            path = p(*segs[0][1][0])
            for op, ps in segs[1:]:
                path += f" -- {p(*ps[0])}" if op == "L" else f" .. controls {p(*ps[0])} .. {p(*ps[1])}"
        else:
            path = " -- ".join(p(x, y) for x, y in link["points"])
        body.append(f"\\path[{style}] {path};")
    for b in spec["boxes"]:
        color = pal.get(b["kind"], pal["other"])
        if b["kind"] == "add":
            cx, cy, r = b["x"] + b["w"] / 2, b["y"] + b["h"] / 2, b["w"] / 2
            body.append(f"\\filldraw[fill={col(color)}, draw={col(ink)}] {p(cx, cy)} circle ({_n(r * 0.75)}pt);")
            body.append(f"\\draw[{col(ink)}] {p(cx - r * 0.6, cy)} -- {p(cx + r * 0.6, cy)} "
                        f"{p(cx, cy - r * 0.6)} -- {p(cx, cy + r * 0.6)};")
            continue
        front, lid, right = _faces(b, ox, oy)
        for face, shade in ((lid, 1.08), (right, 0.86), (front, 1.0)):
            body.append(f"\\filldraw[fill={col(_shade(color, shade))}, draw={col(ink)}, line width=0.4pt] "
                        + " -- ".join(p(x, y) for x, y in face) + " -- cycle;")
    for link in spec["links"]:
        k = link.get("kernel")
        if k:
            body.append(f"\\filldraw[fill={col('#fff3b0')}, draw={col(ink)}, line width=0.4pt] "
                        + " -- ".join(p(x, y) for x, y in k["base"]) + " -- cycle;")
            body.append(f"\\draw[{col(ink)}, line width=0.3pt] "
                        + " ".join(f"{p(x, y)} -- {p(*k['apex'])}" for x, y in k["base"]) + ";")
    for item in spec["legend"]:
        x, y, s = item["x"], item["y"], item["size"]
        if item["kind"] in ("skip", "projection"):
            dash = ", dashed" if item["kind"] == "projection" else ""
            body.append(f"\\draw[{col(ink)}{dash}] {p(x, y + s / 2)} -- {p(x + 14, y + s / 2)};")
        elif item["kind"] == "add":
            body.append(f"\\filldraw[fill={col('#ffffff')}, draw={col(ink)}] {p(x + s / 2, y + s / 2)} circle "
                        f"({_n(s * 0.375)}pt);")
        else:
            fill = "#fff3b0" if item["kind"] == "kernel" else pal.get(item["kind"], pal["other"])
            body.append(f"\\filldraw[fill={col(fill)}, draw={col(ink)}] {p(x, y)} rectangle {p(x + s, y + s)};")
    for lb in spec["labels"]:
        anchor = "base" if lb["anchor"] == "middle" else "base west"
        size = "\\fontsize{{{}}}{{{}}}\\selectfont".format(_n(lb["size"] * 0.75), _n(lb["size"] * 0.9))
        body.append(f"\\node[anchor={anchor}, inner sep=0pt, font=\\sffamily{size}] at {p(lb['x'], lb['y'])} "
                    f"{{{_tex_text(lb['text'])}}};")
    w = spec["width"]
    # article + geometry (a page the figure's size) rather than the standalone class: both are in TeX Live's
    # smallest installations (latex-base), and pgf is the only other package it needs
    head = [
        "% " + _tex_text(spec["title"]) + " -- drawn by CNN Explorer (python -m explorer figure)",
        "\\documentclass{article}",
        f"\\usepackage[paperwidth={_n(w * 0.75)}pt,paperheight={_n(h * 0.75)}pt,margin=0pt]{{geometry}}",
        "\\usepackage{tikz}",
        "\\usetikzlibrary{arrows.meta}",
        "\\pagestyle{empty}",
        "\\setlength{\\topskip}{0pt}",  # the picture's top at the page's top: one page, the figure's size
        "\\begin{document}",
        "\\noindent\\begin{tikzpicture}[x=1pt, y=1pt]",
    ]
    head += [f"\\definecolor{{{name}}}{{HTML}}{{{hex_color[1:].upper()}}}" for hex_color, name in colors.items()]
    head.append(f"\\useasboundingbox (0,0) rectangle ({_n(w * 0.75)},{_n(h * 0.75)});")
    return "\n".join(head + body + ["\\end{tikzpicture}", "\\end{document}", ""])


# ---------------------------------------------------------------------------------------------------------------
# The figure object
# ---------------------------------------------------------------------------------------------------------------
class Figure:
    """A drawn network: ``svg()``, ``png(dpi)``, ``tex()``, ``json()`` (the spec, which :meth:`from_json` turns back
    into the same figure). Displays itself inline in Jupyter (``_repr_svg_``)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)

    @property
    def options(self) -> FigureOptions:
        return FigureOptions.from_dict(self.spec["options"])

    def svg(self) -> str:
        return render_svg(self.spec)

    def png(self, dpi: int = 150) -> bytes:
        return render_png(self.spec, dpi)

    def tex(self) -> str:
        return render_tex(self.spec)

    def json(self, indent: int | None = 1) -> str:
        return json.dumps(self.spec, indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes | Mapping[str, Any]) -> Figure:
        """A figure from its spec (a saved ``json()``); a text that is not one raises :class:`InvalidValue`."""
        try:
            spec = json.loads(text) if isinstance(text, (str, bytes)) else dict(text)
        except ValueError:
            raise InvalidValue(N_("the figure's spec is not valid JSON")) from None
        needed = ("version", "width", "height", "boxes", "links", "labels", "legend", "palette", "oblique", "options")
        if not isinstance(spec, dict) or any(k not in spec for k in needed):
            raise InvalidValue(N_("the figure's spec lacks {key}"), key=next(
                (k for k in needed if not isinstance(spec, dict) or k not in spec), "version"))
        if spec["version"] != SPEC_VERSION:
            raise InvalidValue(N_("the figure's spec has version {version}; this version reads {known}"),
                               version=spec["version"], known=SPEC_VERSION)
        FigureOptions.from_dict(spec["options"])
        return cls(spec)

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        return f"<Figure {self.spec['model']}: {len(self.spec['boxes'])} boxes, {self.spec['width']:.0f}×" \
               f"{self.spec['height']:.0f} px>"


def draw(traced: Graph, labels: Mapping[str, str] | None = None, options: FigureOptions | None = None,
         title: str | None = None) -> Figure:
    """:func:`layout` as a :class:`Figure`."""
    return Figure(layout(traced, labels, options, title))


def with_options(options: FigureOptions, **changes: Any) -> FigureOptions:
    """``options`` with some fields changed (validated again)."""
    return replace(options, **changes)


def figure(model: Any, input_shape: Sequence[int] | None = None, options: FigureOptions | None = None,
           **changes: Any) -> Figure:
    """The paper figure of a zoo id or an ``nn.Module`` (then ``input_shape`` is required): analysed and traced on
    the meta device, drawn with ``options`` and any option given by name (``depth=2``, ``direction="TB"`` …).

    >>> explorer.figure("alexnet").spec["boxes"][1]["label"]
    '96×55×55'
    """
    options = replace(options or FigureOptions(), **changes) if changes else (options or FigureOptions())
    if isinstance(model, str):
        spec = get_spec(model)
        shape = tuple(input_shape) if input_shape is not None else spec.input_shape
        summary = analyze(spec.id, shape)
        traced = graph.trace(spec.id, shape)
        return draw(traced, labels_of(summary), options, spec.title)
    if input_shape is None:
        raise InvalidValue(N_("give the input size (C,H,W) to draw a module"))
    summary = analyze(model, input_shape)
    traced = graph.trace(model, input_shape)
    return draw(traced, labels_of(summary), options, type(model).__name__)


def labels_of(summary: Summary) -> dict[str, str]:
    """Module path → the name a learner reads (conv1, fc6, inception3a) for every module call of ``summary``."""
    return {r.name: r.label for r in summary.layers if r.name and r.label}
