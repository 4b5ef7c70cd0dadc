"""``python -m explorer``: list, summarise, draw and export the zoo's models; train, evaluate and classify with them
(JSON with ``--json``).

Errors print one line ``error: …`` on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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


CODE_CALL_SECONDS = 14.0  # a summary --code / graph --code call ends within this, the worker's start included


def _call_age() -> float:
    """Seconds since this call began: since the process started when it is ``python -m explorer`` (Linux: /proc),
    else since :func:`main` was called."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) != "explorer.__main__":
        return time.monotonic() - _CALLED
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


_IMPORTED = _CALLED = time.monotonic()


def _read_code(path: str) -> str:
    """The snippet in ``path`` (``-``: standard input), read no further than the playground takes."""
    from .playground import read_code

    try:
        if path == "-":
            return read_code(sys.stdin.buffer)
        with open(path, "rb") as f:
            return read_code(f)
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _code_analysis(path: str, input_text: str | None, **options):
    """``summary --code FILE`` / ``graph --code FILE``: the snippet interpreted, analysed (and traced, drawn) in a
    worker process with the playground's limits (:mod:`explorer.present.sandbox`); the whole call, the worker's start
    included, ends within :data:`CODE_CALL_SECONDS`. A refused or failing snippet, or a worker that crashed, ran out
    of time or memory, raises :class:`explorer.playground.CodeError` (a ValueError): ``error: line N: …``."""
    from .playground import stated_input
    from .present import sandbox

    code = _read_code(path)
    stated = stated_input(code)
    if input_text is None and stated is None:
        raise CLIError("--input C,H,W is required with --code, unless the code states it in a comment '# input: C,H,W'")
    shape = parse_input_shape(input_text if input_text is not None else ",".join(map(str, stated)))
    deadline = time.monotonic() + CODE_CALL_SECONDS - _call_age()
    limits = sandbox.WorkerLimits(start_seconds=max(1.0, deadline - time.monotonic() - 1.0))
    pool = sandbox.Pool(1, limits, fork=True)  # this process is single-threaded and has PyTorch imported
    try:
        result = sandbox.analyse(code, shape, pool=pool, deadline=deadline, **options)
    finally:
        pool.close()
    name = "code" if path == "-" else Path(path).name
    return name, result


def cmd_summary(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.code is None):
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    if args.code is not None:
        from dataclasses import replace

        title, result = _code_analysis(args.code, args.input, graph=False)
        summary = replace(result.summary, model=title)
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


def _train_recipe(args: argparse.Namespace, model_id: str):
    from dataclasses import replace

    from .runtime import train as training

    changes = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
                                 ("seed", args.seed), ("resize", args.resize)) if v is not None}
    return replace(training.default_recipe(model_id), **changes)


def _outputs_argv(args: argparse.Namespace) -> list[str]:
    """``train``'s output flags (not the recipe's): what each of the N processes of ``--nproc`` also gets."""
    argv = []
    for flag, value in (("-o", args.out), ("--trace", args.trace)):
        if value is not None:
            argv += [flag, str(value)]
    return argv + [flag for flag, on in (("--ship", args.ship), ("--json", args.json),
                                         ("--no-queue", args.no_queue)) if on]


def _queue(store, run: str, no_queue: bool):
    """The wait for this machine's training lease (one run at a time; a note on stderr while queued), or none."""
    from contextlib import nullcontext

    from .runtime import lease

    if no_queue or store is None:
        return nullcontext(True)
    return lease.turn(store, run, on_wait=lambda message: print(
        f"{message}; waiting (--no-queue starts at once)", file=sys.stderr, flush=True))


def _launch(args: argparse.Namespace, spec, recipe, nproc: int) -> int:
    """``--nproc N``: the same command in N processes through torchrun's launcher, recorded as one run. Worker
    output is passed through; torchrun's own log lines are dropped, and a failure ends in one ``error:`` line."""
    from .runtime import runner, runs

    store = runs.Store()
    store.recover()
    run = store.create(spec.id, recipe, args.device, nproc, args.limit)
    argv = runner.train_argv(spec.id, recipe, args.device, args.limit, _outputs_argv(args))
    with _queue(store, run, args.no_queue):
        launched = runner.launch(store, run, argv, nproc, echo=sys.stderr.write)
    if launched.code != 0:
        raise CLIError(launched.error_line or
                       f"the {nproc} training processes failed (exit status {launched.code}); run {run}")
    return 0


def _trace_writer(folder: str, rank: int):
    """``--trace DIR`` (tests): each rank writes the training indices it saw per epoch and its final weights."""
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    seen: dict[int, list[int]] = {}

    def trace(epoch: int, indices) -> None:
        seen[epoch] = indices.tolist()
        (out / f"rank{rank}.json").write_text(json.dumps(seen), encoding="utf-8")

    return trace


def _network_check(code: str, shape: tuple[int, ...], recipe) -> int:
    """A playground network's analysis (in a forked worker with the playground's limits, as ``summary --code``) and
    the checks before it may train: 10 outputs, the memory it needs for the batch (returned), within the limit."""
    from .present import sandbox
    from .runtime import coderun

    deadline = time.monotonic() + CODE_CALL_SECONDS
    pool = sandbox.Pool(1, sandbox.WorkerLimits(start_seconds=CODE_CALL_SECONDS - 1.0), fork=True)
    try:
        analysis = sandbox.analyse(code, shape, pool=pool, graph=False, deadline=deadline)
    finally:
        pool.close()
    return coderun.check_network(analysis.summary, recipe)


def _train_code(args: argparse.Namespace) -> int:
    """``train --code FILE``: a playground network, checked here, trained in a limited child process
    (:mod:`explorer.runtime.coderun`) and recorded as any run; the same JSON as ``train ID --json``."""
    from dataclasses import replace

    from .playground import stated_input
    from .runtime import coderun, runs
    from .runtime import train as training

    if args.id is not None:
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    for flag, value in (("--nproc", args.nproc), ("--ship", args.ship or None), ("-o", args.out),
                        ("--trace", args.trace)):
        if value is not None:
            raise CLIError(f"{flag} cannot be used with --code")
    code = _read_code(args.code)
    stated = stated_input(code)
    shape = parse_input_shape(args.input) if args.input is not None else tuple(stated or coderun.CODE_INPUT)
    changes = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
                                 ("seed", args.seed), ("resize", args.resize)) if v is not None}
    recipe = replace(coderun.code_recipe(shape[-1] if len(shape) == 3 else 28), **changes)
    side = coderun.training_input(shape, replace(recipe, resize=args.resize))[-1]
    recipe = replace(recipe, resize=side)
    training.validate(coderun.network_spec(code, (1, side, side)), recipe, args.limit)
    need = _network_check(code, (1, side, side), recipe)
    store = runs.Store()
    store.recover()
    run = store.create(coderun.code_id(code), recipe, args.device, 1, args.limit, code=code)
    with _queue(store, run, args.no_queue):
        coderun.launch_code(store, run, args.device, need, echo=sys.stderr.write, stdout=subprocess.DEVNULL)
    row = store.get(run)
    result = coderun.stored_result(store, run)
    if row["status"] not in ("done", "stopped") or result is None:
        raise CLIError(f"{row['error'] or 'the training process failed'}; run {run}")
    print(f"run {run} recorded in {store.where}", file=sys.stderr)
    print(json.dumps(result.to_dict(), indent=2) if args.json else
          f"{result.model}: test accuracy {result.test_accuracy:.4f} ({result.correct:,}/10,000)")
    return 0


def _stored_check(store, run: str) -> int:
    """A stored playground network's checks again (:func:`_network_check`); its code no longer parsing is one
    sentence (:class:`explorer.runtime.coderun.CodeGone`)."""
    from dataclasses import replace

    from .playground import CodeError
    from .runtime import coderun
    from .runtime import train as training

    row = store.get(run)
    code, shape = coderun.stored_code(row)
    try:
        return _network_check(code, shape, replace(training.Recipe(), **row["recipe"]))
    except CodeError as exc:
        raise coderun.gone(run, exc) from None


def _show_code(store, run: str) -> None:
    """``runs show``'s text for a playground network: its code, and whether it still parses."""
    from .runtime import coderun

    code, shape = coderun.stored_code(store.get(run))
    print(f"code ({len(code.splitlines())} lines, input {','.join(map(str, shape))}):")
    for line in code.splitlines():
        print(f"  | {line}")
    try:
        _stored_check(store, run)
    except ValueError as exc:
        print(f"note: {exc}")


def _resume_code(store, args: argparse.Namespace) -> int:
    """``runs resume RUN`` of a playground network: checked again, then trained on in a limited child process."""
    from .runtime import coderun, runner

    runner.resume_args(store, args.run)  # only a stopped or interrupted run
    need = _stored_check(store, args.run)
    with _queue(store, args.run, args.no_queue):
        coderun.launch_code(store, args.run, args.device, need, resume=True, echo=sys.stderr.write,
                            stdout=subprocess.DEVNULL)
    row = store.get(args.run)
    result = coderun.stored_result(store, args.run)
    if row["status"] not in ("done", "stopped") or result is None:
        raise CLIError(f"{row['error'] or 'the training process failed'}; run {args.run}")
    out = {**result.to_dict(), "status": row["status"]}
    print(json.dumps(out, indent=2) if args.json else
          f"{result.model}: test accuracy {result.test_accuracy:.4f} ({result.correct:,}/10,000)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import os

    from .runtime import runner, runs, weights
    from .runtime import train as training

    if args.code is not None or args.input is not None:
        if args.code is None:
            raise CLIError("--input goes with --code FILE")
        return _train_code(args)
    if args.id is None:
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    spec = get_spec(args.id)
    recipe = _train_recipe(args, spec.id)
    under_torchrun = "WORLD_SIZE" in os.environ
    if args.nproc is not None and under_torchrun:
        raise CLIError("--nproc cannot be used under torchrun (WORLD_SIZE is set): this process already is one of "
                       f"{os.environ['WORLD_SIZE']} processes")
    if args.nproc is not None and args.nproc < 1:
        raise CLIError(f"--nproc must be at least 1, not {args.nproc}")
    world_size = int(os.environ["WORLD_SIZE"]) if under_torchrun else (args.nproc or 1)
    training.validate(spec, recipe, args.limit, world_size)
    if world_size > 1 and not under_torchrun:
        return _launch(args, spec, recipe, world_size)
    rank = 0
    if under_torchrun:
        training.init_distributed(args.device)
        rank = training.world()[0]
    store = runs.Store() if rank == 0 else None
    run = os.environ.get(runner.RUN_ENV)
    if store is not None:
        store.recover()
        run = run or store.create(spec.id, recipe, args.device, world_size, args.limit)
    try:
        with _queue(store, run or "", args.no_queue):
            model, result = runner.execute(store, run or "", spec.id, recipe, args.device, args.limit,
                                           stop=runs.StopFile(store.folder(run) / "stop") if store else None,
                                           trace=_trace_writer(args.trace, rank) if args.trace else None)
    finally:
        if under_torchrun:
            import torch.distributed as dist

            dist.destroy_process_group()
    if args.trace:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{args.trace}/rank{rank}.safetensors")
    if rank != 0:
        return 0
    if result.status == "diverged":
        raise CLIError(f"{result.error}; run {run} keeps epoch {len(result.history)}")
    accuracy, correct = result.test_accuracy, result.correct
    if args.ship:
        weights.ship(spec.id, model.state_dict(), accuracy, correct, result.info())
    elif args.out:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.out)
    print(f"run {run} recorded in {store.where if store else 'the store'}", file=sys.stderr)
    text = f"{spec.id}: test accuracy {accuracy:.4f} ({correct:,}/10,000)"
    print(json.dumps(result.to_dict(), indent=2) if args.json else text)
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
        except weights.NoCheckpoint as exc:
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


def cmd_runs(args: argparse.Namespace) -> int:
    from .runtime import runner, runs

    store = runs.Store()
    store.recover()
    if args.runs_command == "list":
        rows = store.list()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print(f"{'run':<34} {'model':<16} {'status':<11} {'test acc':>8} {'procs':>5}  started")
        for r in rows:
            acc = f"{r['test_accuracy']:.4f}" if r["test_accuracy"] is not None else "—"
            print(f"{r['run']:<34} {r['model']:<16} {r['status']:<11} {acc:>8} {r['world_size']:>5}  {r['started']}")
        return 0
    if args.runs_command == "show":
        out = store.show(args.run)
        if args.json:
            print(json.dumps(out, indent=2))
            return 0
        info = out["recipe"]
        print(f"run {out['run']}: {out['model']}, {out['status']}, {out['world_size']} process(es), "
              f"lr {info['lr']}, batch {info['batch_size']}, {info['epochs']} epochs")
        if "code" in out:
            _show_code(store, args.run)
        for h in info["history"]:
            print(f"  epoch {h['epoch']}: loss {h['loss']:.4f}, train acc {h['train_acc']:.4f}, "
                  f"test acc {h['test_acc']:.4f}")
        if out["test_accuracy"] is not None:
            from .runtime import train as training

            preset = training.preset_for(out["model"])
            d2l = f" (d2l's {preset.title.removesuffix(' (d2l)')}: {preset.d2l})" if preset else ""
            print(f"test accuracy {out['test_accuracy']:.4f}{d2l}")
        return 0
    if args.runs_command == "export":
        return _export_runs(store, args)
    if store.get(args.run)["code"] is not None:
        return _resume_code(store, args)
    model_id, recipe, limit, checkpoint = runner.resume_args(store, args.run)
    with _queue(store, args.run, args.no_queue):
        _, result = runner.execute(store, args.run, model_id, recipe, args.device, limit, resume=checkpoint)
    out = {**result.to_dict(), "status": store.get(args.run)["status"]}
    print(json.dumps(out, indent=2) if args.json else
          f"{model_id}: test accuracy {result.test_accuracy:.4f} ({result.correct:,}/10,000)")
    return 0


def _export_runs(store, args: argparse.Namespace) -> int:
    """``runs export [RUN] --csv [-o FILE]``: the runs table (every run, newest first) or one run's history (its
    report points and completed epochs), as CSV; ``--json`` writes the same rows as a JSON list."""
    from .present import export
    from .runtime import history

    if args.run is None:
        rows, columns = history.table_rows(history.table(store)), history.RUN_COLUMNS
    else:
        rows, columns = history.history_rows(history.history(store, args.run)), history.HISTORY_COLUMNS
    _write(json.dumps(rows, indent=2) + "\n" if args.json else export.rows_csv(rows, columns), args.out)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """``worker``: register in the shared store and train the runs handed to the workers (progress on stderr)."""
    import signal

    from .runtime import worker
    from .runtime.devices import pick_device

    if args.nproc < 1:
        raise CLIError(f"--nproc must be at least 1, not {args.nproc}")
    pick_device(args.device)  # a device that is not there: one error line before registering

    def terminate(signum, frame) -> None:  # a service manager's stop: as Ctrl-C, the worker's row is removed
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        worker.work(args.device, args.nproc, once=args.once, say=lambda line: print(line, file=sys.stderr,
                                                                                      flush=True))
    except KeyboardInterrupt:
        print("worker stopped", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .runtime import inference
    from .runtime.images import ImageError, read_image_file

    if args.model is not None:
        get_spec(args.model)
    if args.top < 1:
        raise CLIError("--top must be at least 1")
    files = []
    unreadable = {}
    for name in args.images:
        try:
            files.append((name, read_image_file(name)))
        except ImageError as exc:  # missing, unreadable, not a regular file (/dev/zero, a FIFO), too large
            unreadable[name] = str(exc)
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
                unlike = "  [unlike the training images: OOD score {:.1f}]".format(e["ood_score"]) \
                    if e.get("familiar") is False else ""
                print(f"{e['file']}: {best}  ({e['ms']:.1f} ms){unlike}")
    if failed:
        names = ", ".join(e["file"] for e in failed)
        print(f"error: {len(failed)} of {len(result['results'])} files could not be classified: {names}",
              file=sys.stderr)
    return 2 if failed else 0


class _ProgressBar:
    """``weights fetch``'s progress on stderr: one line, redrawn in place; drawn only on a terminal."""

    def __init__(self, stream, label: str) -> None:
        self.stream, self.label, self.drawn = stream, label, False
        self.on = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int | None) -> None:
        if not self.on:
            return
        mb = done / 1e6
        if total:
            filled = int(30 * done / total)
            line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {mb:,.1f} / {total / 1e6:,.1f} MB " \
                   f"{100 * done / total:3.0f}%"
        else:
            line = f"{self.label} {mb:,.1f} MB"
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = True

    def close(self, ok: bool) -> None:
        if self.drawn:
            self.stream.write("\n" if ok else "\r\x1b[K")
            self.stream.flush()


def cmd_weights(args: argparse.Namespace) -> int:
    import os

    from .runtime import hub, imagenet

    if args.weights_command == "list":
        rows = hub.listing()
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        w_id, w_file = max(len(r["id"]) for r in rows), max(len(r["file"]) for r in rows)
        print(f"{'id':<{w_id}}  {'present':<7}  {'file':<{w_file}}  sha256")
        for r in rows:
            print(f"{r['id']:<{w_id}}  {'yes' if r['present'] else 'no':<7}  {r['file']:<{w_file}}  {r['sha256']}")
        source = os.environ.get(hub.MIRROR_ENV) or "https://download.pytorch.org/models/"
        print(f"cache: {imagenet.checkpoint_path(rows[0]['id']).parent}; fetched from {source}")
        return 0
    if args.weights_command == "fetch":
        bar = _ProgressBar(sys.stderr, args.id)
        try:
            path = hub.fetch(args.id, progress=bar)
        except KeyboardInterrupt:
            bar.close(ok=False)
            raise CLIError(f"interrupted: nothing of {args.id}'s weights was kept") from None
        except BaseException:
            bar.close(ok=False)
            raise
        bar.close(ok=True)
    else:
        path = hub.add(args.id, args.file)
    row = hub.entry(args.id)
    if args.json:
        print(json.dumps(row, indent=2))
    else:
        print(f"{args.id}: {path} ({path.stat().st_size:,} bytes, SHA-256 {row['sha256']})")
    return 0


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

    if (args.id is None) == (args.code is None):
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    drawing: bytes | None = None
    if args.code is not None:  # interpreted, analysed, traced and drawn in a worker with the playground's limits
        name, result = _code_analysis(args.code, args.input, graph=True, depth=args.depth, rankdir=args.rankdir,
                                      draw=None if args.format == "dot" or args.json else args.format)
        if result.graph is None or result.diagram_error is not None:
            raise result.diagram_error
        traced = result.graph
        drawing = result.drawing.encode("utf-8") if isinstance(result.drawing, str) else result.drawing
    else:
        spec = get_spec(args.id)
        name = spec.id
        shape = parse_input_shape(args.input) if args.input is not None else spec.input_shape
        analyze(spec.id, shape)  # a network that cannot take the input is reported with the layer that fails
        traced = graph.trace(spec.id, shape)
    levels = graph.max_depth(traced) + 1
    if args.depth is not None and not 1 <= args.depth <= levels:
        raise CLIError(f"--depth must be between 1 and {levels} for {name}")
    dot = diagram.to_dot(traced, depth=args.depth, rankdir=args.rankdir)
    if args.json:
        shown = graph.collapse(traced, args.depth) if args.depth and args.depth < levels else traced
        print(json.dumps({
            "model": name,
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
            _write(drawing if drawing is not None else diagram.render_dot(dot, args.format), args.out)
        except RuntimeError as exc:
            raise CLIError(str(exc)) from None
    return 0


def _code_figure(path: str, input_text: str | None, options):
    """``figure --code FILE``: the safe interpreter's network (as ``summary --code`` reads it, in a worker), drawn."""
    from .present import figure

    name, result = _code_analysis(path, input_text, graph=True)
    if result.graph is None:
        raise result.diagram_error
    return figure.draw(result.graph, figure.labels_of(result.summary), options, name)


def cmd_figure(args: argparse.Namespace) -> int:
    from .present import figure

    if (args.id is None) == (args.code is None):
        raise CLIError("give a model id or --code FILE (exactly one of them)")
    options = figure.FigureOptions(
        spatial=args.spatial, channels=args.channels, labels=not args.no_labels, kernels=not args.no_kernels,
        colors=args.colors, direction=args.direction, depth=args.depth, spacing=args.spacing,
    )
    if args.code is not None:
        fig = _code_figure(args.code, args.input, options)
    else:
        shape = parse_input_shape(args.input) if args.input is not None else None
        fig = figure.figure(args.id, shape, options)
    if args.format == "png":
        if args.out is None and sys.stdout.isatty():
            raise CLIError("PNG is binary: give -o FILE (or redirect the output)")
        _write(fig.png(args.dpi), args.out)
    else:
        _write({"svg": fig.svg, "tex": fig.tex, "json": fig.json}[args.format]() + "\n", args.out)
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


def app_folder() -> Path:
    """The folder holding ``app.py`` and ``pages/``: the repository root in a checkout, the ``cnn_explorer_app``
    package where ``pip install .`` put it."""
    root = Path(__file__).resolve().parents[1]
    if (root / "app.py").is_file() and (root / "pages").is_dir():
        return root
    spec = importlib.util.find_spec("cnn_explorer_app")
    if spec is None or not spec.submodule_search_locations:
        raise CLIError("the app's files (app.py, pages/) are not installed beside the library")
    return Path(next(iter(spec.submodule_search_locations)))


def cmd_serve(args: argparse.Namespace) -> int:
    """``streamlit run app.py`` in the app's folder (whose ``.streamlit/config.toml`` and ``static/`` it reads)."""
    folder = app_folder()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(args.port),
               "--server.address", args.address, "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    return subprocess.call(command, cwd=folder)


def cmd_quiz(args: argparse.Namespace) -> int:
    """Practice items (explorer.lessons.quiz): a question about one real layer, its computed answer, the
    arithmetic that gives it, and a snippet to check it with PyTorch alone."""
    from .lessons import quiz

    if args.count < 1 or args.count > 1000:
        raise CLIError(f"--count must be between 1 and 1000, not {args.count}")
    kinds = quiz.check_kinds(args.kinds.split(","))
    models = quiz.check_models(args.models.split(","))
    items = quiz.make_items(seed=args.seed, count=args.count, kinds=kinds, models=models)
    if args.json:
        print(json.dumps([item.to_dict() for item in items], indent=1, ensure_ascii=False))
        return 0
    for i, item in enumerate(items, 1):
        d = item.to_dict()
        print(f"{i}. [{d['kind']}] {d['question']}")
        print(f"   answer: {quiz.answer_text(item)}")
        for line in d["explanation"].splitlines():
            print(f"   {line}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m explorer", description="CNN Explorer: the classic CNNs, layer by layer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("list", help="the model ids")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("serve", help="serve the web app (Streamlit) on http://ADDRESS:PORT")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.add_argument("--address", default="localhost", help="address to listen on (default localhost)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("summary", help="per-layer shapes, parameters and MACs of one model")
    p.add_argument("id", nargs="?", help="model id (see `list`)")
    p.add_argument("--code", metavar="FILE", help="a PyTorch snippet (d2l style) instead of an id: interpreted "
                   "safely, never executed; '-' reads standard input")
    p.add_argument("--input", help="input size C,H,W (default: the model's, or the code's '# input: C,H,W' comment)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_summary)

    devices = ["auto", "cpu", "cuda", "mps"]
    p = sub.add_parser("train", help="train a Fashion-MNIST model (progress on stderr)")
    p.add_argument("id", nargs="?", help="model id (see `list`)")
    p.add_argument("--code", metavar="FILE", help="a network built in the playground (d2l-style PyTorch) instead of "
                   "an id: interpreted safely, trained in a limited child process; '-' reads standard input")
    p.add_argument("--input", help="with --code: input size C,H,W (default: the code's '# input: C,H,W' comment, "
                   "else 1,28,28)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--resize", type=int, help="side the 28×28 images are resized to (default: the model's input)")
    p.add_argument("--limit", type=int, help="train on the first N images only (a quick check)")
    p.add_argument("--device", choices=devices, default="auto")
    p.add_argument("--nproc", type=int, help="N processes with DDP through torchrun's launcher (gloo on CPU, NCCL "
                   "on CUDA); the batch size is the global one")
    p.add_argument("--ship", action="store_true", help="write the weights into explorer/zoo/trained and the manifest")
    p.add_argument("--no-queue", action="store_true", help="start at once, beside a run already training on this "
                   "machine (by default a run waits its turn: one at a time per $EXPLORER_HOME)")
    p.add_argument("-o", "--out", help="write the weights to this .safetensors file")
    p.add_argument("--trace", help=argparse.SUPPRESS)  # tests: each rank's indices and final weights into DIR
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="the runs kept in the store ($EXPLORER_STORE_URL, default runs.sqlite in "
                       "$EXPLORER_HOME, ~/.cache/cnn-explorer)")
    runs_sub = p.add_subparsers(dest="runs_command", required=True, parser_class=_Parser)
    q = runs_sub.add_parser("list", help="every run, newest first")
    q.add_argument("--json", action="store_true")
    q = runs_sub.add_parser("show", help="one run: its recipe, per-epoch metrics and status")
    q.add_argument("run")
    q.add_argument("--json", action="store_true")
    q = runs_sub.add_parser("export", help="the runs table (no RUN) or one run's history (per report point and "
                            "per epoch) as CSV")
    q.add_argument("run", nargs="?", help="a run id (default: the table of every run)")
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true", help="CSV (the default)")
    fmt.add_argument("--json", action="store_true", help="the same rows as a JSON list")
    q.add_argument("-o", "--out", help="output file (default: standard output)")
    q = runs_sub.add_parser("resume", help="continue an interrupted or stopped run from its last completed epoch")
    q.add_argument("run")
    q.add_argument("--device", choices=devices, default="auto")
    q.add_argument("--no-queue", action="store_true", help="start at once, beside a run already training here")
    q.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("worker", help="train the runs queued for workers in the shared store ($EXPLORER_STORE_URL), "
                       "one at a time, until stopped (Ctrl-C)")
    p.add_argument("--device", choices=devices, default="auto", help="where this worker trains (default: auto)")
    p.add_argument("--nproc", type=int, default=1, help="processes per run, one per GPU, through torchrun (default 1)")
    p.add_argument("--once", action="store_true", help="exit once no run is waiting")
    p.set_defaults(func=cmd_worker)

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

    p = sub.add_parser("weights", help="torchvision's ImageNet checkpoints in torch.hub's cache: list, fetch, add")
    weights_sub = p.add_subparsers(dest="weights_command", required=True, parser_class=_Parser)
    q = weights_sub.add_parser("list", help="every checkpoint: file, URL, SHA-256, whether it is in the cache")
    q.add_argument("--json", action="store_true")
    q = weights_sub.add_parser("fetch", help="download one into the cache (hash-checked; $EXPLORER_WEIGHTS_MIRROR)")
    q.add_argument("id")
    q.add_argument("--json", action="store_true")
    q = weights_sub.add_parser("add", help="copy a checkpoint fetched elsewhere into the cache (hash-checked)")
    q.add_argument("id")
    q.add_argument("file")
    q.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_weights)

    p = sub.add_parser("graph", help="the network as a diagram (Graphviz DOT, SVG or PNG)")
    p.add_argument("id", nargs="?", help="model id (see `list`)")
    p.add_argument("--code", metavar="FILE", help="a PyTorch snippet (d2l style) instead of an id: interpreted "
                   "safely in a limited worker process, never executed; '-' reads standard input")
    p.add_argument("--format", choices=["dot", "svg", "png"], default="dot")
    p.add_argument("-o", "--out", help="output file (default: standard output)")
    p.add_argument("--depth", type=int, help="collapse blocks below this level (1 = top-level blocks)")
    p.add_argument("--rankdir", choices=["TB", "LR"], default="TB", help="top-to-bottom or left-to-right")
    p.add_argument("--input", help="input size C,H,W (default: the model's, or the code's '# input: C,H,W' comment)")
    p.add_argument("--json", action="store_true", help="nodes and edges as JSON (with the DOT text)")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("figure", help="the paper figure: feature maps as blocks, kernels as pyramids (SVG, PNG, "
                                      "TikZ or its JSON spec)")
    p.add_argument("id", nargs="?")
    p.add_argument("--code", metavar="FILE", help="a PyTorch snippet (d2l style) instead of an id, interpreted safely "
                                                  "as by 'summary --code' ('-' reads standard input)")
    p.add_argument("--input", help="input size C,H,W (default: the model's, or the code's '# input: C,H,W' comment)")
    p.add_argument("--format", choices=["svg", "png", "tex", "json"], default="svg",
                   help="svg (default), png, tex (standalone TikZ for pdflatex) or json (the figure's spec)")
    p.add_argument("-o", "--out", help="output file (default: standard output)")
    p.add_argument("--depth", type=int, help="draw blocks at this level and deeper as one block each, runs of equal "
                                             "ones as ×k (default: full depth)")
    p.add_argument("--dpi", type=int, default=150, help="PNG resolution (default 150; 96 = the SVG's pixels)")
    p.add_argument("--direction", choices=["LR", "TB"], default="LR", help="left → right (default) or top → bottom")
    p.add_argument("--spatial", choices=["linear", "sqrt", "log"], default="sqrt", help="scaling of H and W")
    p.add_argument("--channels", choices=["linear", "sqrt", "log"], default="sqrt", help="scaling of the depth C")
    p.add_argument("--colors", choices=["paper", "vivid", "gray"], default="paper")
    p.add_argument("--spacing", type=float, default=1.0, help="a factor on the gaps (0.25 to 4)")
    p.add_argument("--no-labels", action="store_true", help="no shape or name labels")
    p.add_argument("--no-kernels", action="store_true", help="no kernel pyramids")
    p.set_defaults(func=cmd_figure)

    p = sub.add_parser("export", help="the layer table (CSV, JSON) or the model (ONNX)")
    p.add_argument("id")
    p.add_argument("--format", choices=["csv", "json", "onnx"], required=True)
    p.add_argument("-o", "--out", required=True, help="output file")
    p.add_argument("--input", help="input size C,H,W (default: the model's)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("quiz", help="practice items: predict a layer's shape, parameters, MACs or receptive field")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same items")
    p.add_argument("--count", type=int, default=10, help="how many items (default 10)")
    p.add_argument("--kinds", default="shape,params,macs,rf",
                   help="comma-separated: shape, params, macs, rf (default), smallest, fails")
    p.add_argument("--models", default="generated", help="comma-separated zoo ids, or 'generated' (default)")
    p.add_argument("--json", action="store_true", help="the items as a JSON list")
    p.set_defaults(func=cmd_quiz)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    global _CALLED
    _CALLED = time.monotonic()
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
