"""``python -m explorer``: list, summarise, draw and export the zoo's models; train, evaluate and classify with them
(JSON with ``--json``).

Errors print one line ``error: …`` on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .analysis import InputShapeError, analyze, parse_input_shape
from .present import formatting as fmt
from .present import table
from .zoo import get_spec, list_models


class CLIError(Exception):
    """A user error: printed as ``error: <message>``, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + traceback-free text; keep the contract's line
        raise CLIError(message)


def _model_row(spec) -> dict:
    return {
        "id": spec.id,
        "family": spec.family,
        "title": spec.title,
        "input": list(spec.input_shape),
        "num_classes": spec.num_classes,
        "params": spec.params,
    }


def cmd_list(args: argparse.Namespace) -> int:
    rows = [_model_row(s) for s in list_models()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    shapes = [",".join(map(str, r["input"])) for r in rows]
    w_id, w_family = max(len(r["id"]) for r in rows), max(len(r["family"]) for r in rows)
    w_shape = max(len(s) for s in shapes)
    print(f"{'id':<{w_id}}  {'family':<{w_family}}  {'input':<{w_shape}}  {'outputs':>7}  {'params':>13}  title")
    for r, shape in zip(rows, shapes):
        print(
            f"{r['id']:<{w_id}}  {r['family']:<{w_family}}  {shape:<{w_shape}}  {r['num_classes']:>7}  "
            f"{r['params']:>13,}  {r['title']}"
        )
    return 0


# The layer table's columns in ``summary``'s text output (the same rows as ``--json`` and the CSV export).
SUMMARY_TEXT_COLUMNS = ("outline", "output_shape", "params", "macs", "rf", "arithmetic")


def _code_summary(path: str, input_text: str | None):
    """``summary --code FILE``: the safe interpreter's network (``-`` reads standard input), analysed like an id.
    A refused or failing snippet raises :class:`explorer.playground.CodeError` (a ValueError): ``error: line N: …``."""
    from dataclasses import replace
    from pathlib import Path

    from . import playground

    try:
        code = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    stated = playground.stated_input(code)
    if input_text is None and stated is None:
        raise CLIError("--input C,H,W is required with --code, unless the code states it in a comment '# input: C,H,W'")
    shape = parse_input_shape(input_text if input_text is not None else ",".join(map(str, stated)))
    net = playground.parse_network(code)
    try:
        summary = analyze(net, shape)
    except InputShapeError as exc:
        raise (playground.locate_failure(net, shape) or exc) from None
    name = "code" if path == "-" else Path(path).name
    return name, replace(summary, model=name)


def cmd_summary(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.code is None):
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    if args.code is not None:
        title, summary = _code_summary(args.code, args.input)
    else:
        spec = get_spec(args.id)
        shape = parse_input_shape(args.input) if args.input is not None else spec.input_shape
        summary = analyze(spec.id, shape)
        title = spec.title
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{title} — input {fmt.shape(summary.input_shape)}, output {fmt.shape(summary.output_shape)}")
    print(f"{'layer':<40} {'output shape':<16} {'params':>12} {'MACs':>15} {'RF':>7}  shape arithmetic")
    for row in table.layer_rows(summary, SUMMARY_TEXT_COLUMNS, style="text"):
        line = (f"{row['outline'][:40]:<40} {row['output_shape']:<16} {row['params']:>12} {row['macs']:>15} "
                f"{row['rf']:>7}  {row['arithmetic']}")
        print(line.rstrip())
    print(f"total params: {fmt.exact_and_short(summary.total_params)}")
    print(f"total MACs:   {fmt.exact_and_short(summary.total_macs)} (multiply–accumulates per image, bias included)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .runtime import train as training
    from .runtime import weights

    spec = get_spec(args.id)
    if spec.input_shape[0] != 1 or spec.num_classes != 10:
        raise CLIError(f"{spec.id} is not a Fashion-MNIST model (input {spec.input_shape}, {spec.num_classes} classes)")
    recipe = training.RECIPES.get(spec.id, training.Recipe())
    changes = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
                                 ("seed", args.seed)) if v is not None}
    recipe = replace(recipe, **changes)
    model, info = training.train(spec.id, recipe, device=args.device, limit=args.limit)
    accuracy, correct = training.test_accuracy(model, spec.id, args.device)
    info["test_accuracy"] = round(accuracy, 4)
    if args.ship:
        weights.ship(spec.id, model.state_dict(), accuracy, correct, info)
    elif args.out:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.out)
    result = {"model": spec.id, "test_accuracy": round(accuracy, 4), "correct": correct, "recipe": info}
    text = f"{spec.id}: test accuracy {accuracy:.4f} ({correct:,}/10,000)"
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .runtime import train as training
    from .runtime import weights

    spec = get_spec(args.id)
    model = spec.build()
    if args.weights:
        from safetensors.torch import load_file

        try:
            state = load_file(args.weights)
        except Exception as exc:  # noqa: BLE001 — any unreadable file is a user error here
            raise CLIError(f"cannot read weights file {args.weights}: {exc}") from None
    else:
        try:
            state = weights.load_shipped(spec.id)
        except FileNotFoundError as exc:
            raise CLIError(str(exc)) from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CLIError(f"the weights do not fit {spec.id}: {str(exc).splitlines()[0]}") from None
    accuracy, correct = training.test_accuracy(model, spec.id, args.device)
    out = {"model": spec.id, "test_accuracy": round(accuracy, 4), "correct": correct, "total": 10_000}
    if spec.trained is not None:
        out["recorded_accuracy"] = spec.trained.accuracy
    print(json.dumps(out, indent=2) if args.json else f"{spec.id}: test accuracy {accuracy:.4f} ({correct:,}/10,000)")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .runtime import inference

    if args.model is not None:
        get_spec(args.model)
    if args.top < 1:
        raise CLIError("--top must be at least 1")
    files = []
    unreadable = {}
    for name in args.images:
        try:
            files.append((name, Path(name).read_bytes()))
        except OSError as exc:
            unreadable[name] = f"cannot read {name}: {exc.strerror or exc}"
            files.append((name, b""))
    try:
        result = inference.predict_files(files, args.model, args.top, args.device)
    except inference.NoWeights as exc:
        raise CLIError(str(exc)) from None
    for entry in result["results"]:
        if entry["file"] in unreadable:
            entry.pop("top", None)
            entry.pop("ms", None)
            entry["error"] = unreadable[entry["file"]]
    failed = [e for e in result["results"] if "error" in e]
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(f"model {result['model']} on {result['device']}")
        for e in result["results"]:
            if "error" in e:
                print(f"{e['file']}: error: {e['error']}")
            else:
                best = ", ".join(f"{t['label']} {t['prob']:.1%}" for t in e["top"])
                print(f"{e['file']}: {best}  ({e['ms']:.1f} ms)")
    if failed:
        names = ", ".join(e["file"] for e in failed)
        print(f"error: {len(failed)} of {len(result['results'])} files could not be classified: {names}",
              file=sys.stderr)
    return 2 if failed else 0


def _write(data: str | bytes, out: str | None) -> None:
    from pathlib import Path

    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
        return
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}") from None


def cmd_graph(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .analysis import graph
    from .present import diagram

    spec = get_spec(args.id)
    shape = parse_input_shape(args.input) if args.input is not None else spec.input_shape
    analyze(spec.id, shape)  # a network that cannot take the input is reported with the layer that fails
    traced = graph.trace(spec.id, shape)
    levels = graph.max_depth(traced) + 1
    if args.depth is not None and not 1 <= args.depth <= levels:
        raise CLIError(f"--depth must be between 1 and {levels} for {spec.id}")
    dot = diagram.to_dot(traced, depth=args.depth, rankdir=args.rankdir)
    if args.json:
        shown = graph.collapse(traced, args.depth) if args.depth and args.depth < levels else traced
        print(json.dumps({
            "model": spec.id,
            "nodes": [asdict(n) for n in shown.nodes.values()],
            "edges": [list(e) for e in shown.edges],
            "dot": dot,
        }, indent=2, ensure_ascii=False))
        return 0
    if args.format == "dot":
        _write(dot, args.out)
    else:
        if args.out is None and args.format == "png" and sys.stdout.isatty():
            raise CLIError("PNG is binary: give -o FILE (or redirect the output)")
        try:
            _write(diagram.render(dot, args.format), args.out)
        except RuntimeError as exc:
            raise CLIError(str(exc)) from None
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .present import export

    spec = get_spec(args.id)
    shape = parse_input_shape(args.input) if args.input is not None else spec.input_shape
    if args.format == "onnx":
        data: str | bytes = export.onnx_bytes(spec.id, shape)
    else:
        summary = analyze(spec.id, shape)
        data = export.layers_csv(summary) if args.format == "csv" else export.layers_json(summary)
    _write(data, args.out)
    if args.json:
        size = len(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(json.dumps({"model": spec.id, "format": args.format, "file": args.out, "bytes": size}))
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description="CNN Explorer: the classic CNNs, layer by layer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the model ids")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("summary", help="per-layer shapes, parameters and MACs of one model")
    p.add_argument("id", nargs="?", help="model id (see `list`)")
    p.add_argument("--code", metavar="FILE", help="a PyTorch snippet (d2l style) instead of an id: interpreted "
                   "safely, never executed; '-' reads standard input")
    p.add_argument("--input", help="input size C,H,W (default: the model's, or the code's '# input: C,H,W' comment)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)

    devices = ["auto", "cpu", "cuda", "mps"]
    p = sub.add_parser("train", help="train a Fashion-MNIST model (progress on stderr)")
    p.add_argument("id")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--limit", type=int, help="train on the first N images only (a quick check)")
    p.add_argument("--device", choices=devices, default="auto")
    p.add_argument("--ship", action="store_true", help="write the weights into explorer/zoo/trained and the manifest")
    p.add_argument("-o", "--out", help="write the weights to this .safetensors file")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test accuracy on the 10,000 Fashion-MNIST test images")
    p.add_argument("id")
    p.add_argument("--weights", help="a .safetensors file (default: the shipped weights)")
    p.add_argument("--device", choices=devices, default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="classify images")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--model", help="model id (default: the best shipped Fashion-MNIST model)")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--device", choices=devices, default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("graph", help="the network as a diagram (Graphviz DOT, SVG or PNG)")
    p.add_argument("id")
    p.add_argument("--format", choices=["dot", "svg", "png"], default="dot")
    p.add_argument("-o", "--out", help="output file (default: standard output)")
    p.add_argument("--depth", type=int, help="collapse blocks below this level (1 = top-level blocks)")
    p.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="top-to-bottom or left-to-right")
    p.add_argument("--input", help="input size C,H,W (default: the model's)")
    p.add_argument("--json", action="store_true", help="nodes and edges as JSON (with the DOT text)")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("export", help="the layer table (CSV, JSON) or the model (ONNX)")
    p.add_argument("id")
    p.add_argument("--format", choices=["csv", "json", "onnx"], required=True)
    p.add_argument("-o", "--out", required=True, help="output file")
    p.add_argument("--input", help="input size C,H,W (default: the model's)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except (CLIError, InputShapeError, ValueError, FileNotFoundError) as exc:
        message = str(exc)
    except KeyError as exc:
        message = str(exc.args[0]) if exc.args else "unknown key"
    except BrokenPipeError:
        return 0
    print(f"error: {message}", file=sys.stderr)
    return 2
