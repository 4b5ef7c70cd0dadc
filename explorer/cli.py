"""``python -m explorer``: list and summarise the zoo's models (JSON with ``--json``).

Errors print one line ``error: …`` on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import formatting as fmt
from .analysis import InputShapeError, analyze, parse_input_shape
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
    width = max(len(r["id"]) for r in rows)
    print(f"{'id':<{width}}  {'family':<10} {'input':<11} {'classes':>7} {'params':>13}  title")
    for r in rows:
        shape = ",".join(map(str, r["input"]))
        print(
            f"{r['id']:<{width}}  {r['family']:<10} {shape:<11} {r['num_classes']:>7} {r['params']:>13,}  {r['title']}"
        )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    spec = get_spec(args.id)
    shape = parse_input_shape(args.input) if args.input is not None else spec.input_shape
    summary = analyze(spec.id, shape)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"{spec.title} — input {fmt.shape(summary.input_shape)}, output {fmt.shape(summary.output_shape)}")
    print(f"{'layer':<40} {'output':<16} {'params':>12} {'MACs':>15}  arithmetic")
    for r in summary.layers:
        label = "  " * r.depth + (r.name.rsplit(".", 1)[-1] + ": " if r.name else "") + r.type
        print(
            f"{label[:40]:<40} {fmt.shape(r.output_shape):<16} {r.params:>12,} {r.macs:>15,}  {r.arithmetic or ''}"
        )
    print(f"total params: {fmt.exact_and_short(summary.total_params)}")
    print(f"total MACs:   {fmt.exact_and_short(summary.total_macs)} (multiply–accumulates per image, bias included)")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description="CNN Explorer: the classic CNNs, layer by layer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the model ids")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("summary", help="per-layer shapes, parameters and MACs of one model")
    p.add_argument("id", help="model id (see `list`)")
    p.add_argument("--input", help="input size C,H,W (default: the model's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except (CLIError, InputShapeError, ValueError) as exc:
        message = str(exc)
    except KeyError as exc:
        message = str(exc.args[0]) if exc.args else "unknown key"
    except BrokenPipeError:
        return 0
    print(f"error: {message}", file=sys.stderr)
    return 2
