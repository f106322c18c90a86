"""The ``minidl`` command line (also ``python -m minidl``).

Each subcommand is two functions, ``_<name>_args(parser)`` declaring its options and ``cmd_<name>(args) -> int``
running it, registered in :data:`COMMANDS`; adding a subcommand means writing that pair and one registry line.
The work itself lives in the library (:mod:`minidl.runs` for run directories, :mod:`minidl.report` for the
summary and graphs), so this module only parses, calls and prints.

Subcommands: ``train`` (a run directory with metrics, checkpoints, plots and a report), ``eval`` and
``predict`` (use a run), ``compare`` (several runs), ``summary`` (layers, shapes, parameters, memory),
``graph`` (the autograd graph of a model's loss or of an expression), ``gradcheck`` (every op, or every
parameter of a model, against central differences), ``sweep`` (hyperparameter sweeps on Ray Tune) and
``ocr`` (read the letters on page images).

Exit codes: 0 success, 1 a check failed, 2 a usage error (bad option, unknown name, unreadable file, filter
matching nothing), 130 training interrupted with Ctrl-C (after saving a checkpoint).
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import errno
import functools
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import gradcheck as _gc
from ._version import __version__
from .ops import keep_freed_memory

__all__ = ["main", "build_parser", "COMMANDS", "cmd_train", "cmd_eval", "cmd_predict", "cmd_summary",
           "cmd_compare", "cmd_graph", "cmd_gradcheck", "cmd_sweep", "cmd_ocr"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _usage_error(command: str, message: str) -> int:
    print(f"minidl {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _shape(text: str) -> tuple[int, ...]:
    """``"1,28,28" -> (1, 28, 28)``; ``""`` is a scalar ``()``."""
    parts = [t for t in text.replace("x", ",").split(",") if t.strip()]
    try:
        shape = tuple(int(t) for t in parts)
    except ValueError:
        message = f"expected comma-separated sizes such as 1,28,28, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if any(d < 1 for d in shape):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return shape


def _number_list(kind: type) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        try:
            return [kind(t) for t in text.split(",") if t.strip()]
        except ValueError:
            message = f"expected comma-separated {kind.__name__}s, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None

    return parse


def _user_errors(command: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Report the library's errors about the user's input (unknown names, bad files, bad configs) as usage
    errors (exit 2) with their message, instead of a traceback."""
    def wrap(fn: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(fn)
        def run(args: argparse.Namespace, *rest: Any, **kw: Any) -> int:
            from .runs import ConfigError, ExpressionError, RunError
            from .training import CheckpointError

            try:
                return fn(args, *rest, **kw)
            except (RunError, ConfigError, ExpressionError, CheckpointError, FileNotFoundError) as e:
                code = _usage_error(command + _on_rank(), str(e))
                _stop_other_ranks(code)
                return code

        return run

    return wrap


def _model_args(items: Sequence[str] | None) -> dict[str, Any]:
    from .runs.config import parse_model_arg

    return dict(parse_model_arg(t) for t in items or [])


def _model_names() -> str:
    from . import models

    return ", ".join(models.list_models())


# ------------------------------------------------------------------------------------------ processes
def _procs_arg(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--procs", metavar="N|auto", default=None, help=help_text)


def _launched(args: argparse.Namespace) -> int | None:
    """Start ``--procs N`` ranks of this command under mpiexec and return their exit code, or ``None`` when
    this process is to run the command itself (one process, or already one of the ranks, which then joins
    the process group)."""
    from .distributed.launch import join_if_launched, launch, parse_procs
    from .distributed.process_group import is_mpi_launched

    if is_mpi_launched():
        join_if_launched()
        return None
    if args.procs is None:
        return None
    n = parse_procs(args.procs)
    if n == 1:
        return None
    argv = list(args.argv)
    k = argv.index("--procs") if "--procs" in argv else -1
    argv = argv[:k] + argv[k + 2:] if k >= 0 else [a for a in argv if not a.startswith("--procs=")]
    return launch(n, argv)


# ------------------------------------------------------------------------------------------ train
def _train_args(p: argparse.ArgumentParser) -> None:
    from .runs.config import OPTIONS

    p.add_argument("--config", metavar="FILE",
                   help="settings from a TOML, JSON or YAML file (flags override it)")
    p.add_argument("--resume", metavar="RUN_DIR_OR_CHECKPOINT",
                   help="continue a run from its checkpoint (its settings, overridden by flags such as "
                        "--epochs)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar, one line per epoch")
    p.add_argument("--overwrite", action="store_true",
                   help="start again, in the same --out directory, a run stopped before it saved any weights")
    _procs_arg(p, "train data-parallel on N local processes (each on its share of every batch of --batch-size); "
                  "'auto': one per core. Needs minidl[distributed]")
    kinds: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str, "ints": _number_list(int),
                                              "floats": _number_list(float)}
    for opt in OPTIONS:
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, "help": opt.help, "dest": opt.name}
        if opt.metavar:
            kw["metavar"] = opt.metavar
        if opt.kind == "bool":
            p.add_argument(opt.flag, action=argparse.BooleanOptionalAction, **kw)
        elif opt.kind == "table":
            p.add_argument("--model-arg", action="append", **kw)
        else:
            p.add_argument(opt.flag, type=kinds[opt.kind], choices=opt.choices, **kw)
    p.epilog = f"models: {_model_names()}"


@_user_errors("train")
def cmd_train(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Train a run and write its directory (see :mod:`minidl.runs.artifacts`); Ctrl-C saves a checkpoint."""
    from .errors import NumericalError
    from .runs import TrainingInterrupted, resolve_run_config, train_run
    from .runs.config import OPTIONS

    out = out or sys.stdout
    overrides = {o.name: getattr(args, o.name) for o in OPTIONS if hasattr(args, o.name)}
    if "model_args" in overrides:
        overrides["model_args"] = _model_args(overrides["model_args"])
    cfg, ckpt = resolve_run_config(args.config, overrides, args.resume)  # a bad flag fails before any launch
    if args.procs is not None:
        from .distributed.launch import parse_procs
        from .runs.train import check_global_batch

        check_global_batch(cfg.batch_size, parse_procs(args.procs))
    code = _launched(args)
    if code is not None:
        return code
    from .distributed import rank_and_size

    first = rank_and_size()[0] == 0  # the ranks stop together, for the same reason: one of them says why
    try:
        train_run(cfg, ckpt, progress=args.progress, out=out, overwrite=args.overwrite)
    except NumericalError as e:
        if first:
            print(f"minidl train: error: {e}", file=sys.stderr)
        return EXIT_FAIL
    except TrainingInterrupted as e:
        if first:
            print(f"minidl train: {_interrupted_message(e)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _interrupted_message(e: Any) -> str:
    """What a Ctrl-C left behind, from the checkpoint actually on disk (:class:`~minidl.runs.TrainingInterrupted`)."""
    epochs = e.epochs if e.epochs is not None else e.epoch + 1
    where = (f"in epoch {e.epoch + 1} after {e.iterations} iterations" if e.epoch < epochs
             else f"after the last epoch ({epochs}), while its checkpoint was being written")
    if e.checkpoint is None:
        return (f"interrupted {where}; no checkpoint was saved yet: start the run again with "
                f"--out {e.run_dir} --overwrite")
    if e.clean:
        held = f"checkpoint saved to {e.checkpoint}"
    else:
        held = (f"the checkpoint {e.checkpoint} holds the state after epoch {e.saved_epochs}" if e.saved_epochs
                else f"the checkpoint {e.checkpoint} holds the state before the first epoch ended")
    return f"interrupted {where}; {held}\nresume with: minidl train --resume {e.run_dir}"


# ------------------------------------------------------------------------------------------ eval
def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by `minidl train`")
    p.add_argument("--split", choices=("test", "train"), default="test", help="dataset split (default test)")
    p.add_argument("--dataset", default=None, help="another dataset with the same inputs and classes")
    _procs_arg(p, "evaluate on N local processes, each on its share of the split; 'auto': one per core")


@_user_errors("eval")
def cmd_eval(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the loss, accuracy and per-class accuracy (classifiers) or the PSNR (autoencoders) of a run's final
    model on a split."""
    from .runs import evaluate_run, load_run

    out = out or sys.stdout
    code = _launched(args)
    if code is not None:
        return code
    run = load_run(args.run_dir)
    evaluation, per_class, n = evaluate_run(run, args.split, args.dataset)
    from .distributed import rank_and_size

    if rank_and_size()[0] != 0:  # every rank has the whole evaluation; rank 0 prints it
        return EXIT_OK
    name = args.dataset or run.config.dataset
    print(f"minidl eval: {run.config.model} from {run.run_dir} on {name} ({args.split} split, {n:,} samples)",
          file=out)
    acc = "" if evaluation.acc is None else f"accuracy {100 * evaluation.acc:.2f}%   "
    psnr = "" if evaluation.psnr_db is None else f"   PSNR {evaluation.psnr_db:.2f} dB"
    print(f"{acc}loss {evaluation.loss:.4f}{psnr}", file=out)
    if per_class:
        width = max(len("class"), *(len(c) for c, _, _ in per_class)) + 2
        print(f"\n{'class':<{width}}{'accuracy':>9}{'samples':>9}", file=out)
        for cls, a, count in per_class:
            shown = f"{100 * a:.2f}%" if count else "-"
            print(f"{cls:<{width}}{shown:>9}{count:>9}", file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ predict
def _predict_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", metavar="RUN_DIR|IMAGE", nargs="+",
                   help="a run directory written by `minidl train`, then PNG/JPG images (converted to the "
                        "dataset's format as they are) or .npy arrays; with --model: images and folders of images")
    p.add_argument("--model", default=None,
                   help="a pretrained ImageNet model instead of a run: " + ", ".join(_imagenet_models()))
    p.add_argument("--weights", default=None, metavar="FILE|NAME",
                   help="with --model: a .pth/.safetensors/.npz file, or a weights name (IMAGENET1K_V1, DEFAULT, "
                        "...) downloaded once into ~/.cache/minidl/weights")
    p.add_argument("--topk", type=int, default=None, help="how many classes to show per input (default 3; 5 with "
                                                          "--model)")
    p.add_argument("--json", action="store_true", help="print the predictions as JSON")


def _imagenet_models() -> list[str]:
    from .models import IMAGENET_MODELS

    return list(IMAGENET_MODELS)


@_user_errors("predict")
def cmd_predict(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the most probable classes of each input with their probabilities (``--model``: a pretrained
    ImageNet classifier with the standard ImageNet preprocessing)."""
    from .runs import load_run, predict_files
    from .runs.pretrained import as_json, predict_images

    out = out or sys.stdout
    if args.model is not None:
        preds = predict_images(args.model, args.weights, args.paths, 5 if args.topk is None else args.topk)
    else:
        if args.weights is not None:
            return _usage_error("predict", "--weights applies to --model; a run directory has its own weights")
        if len(args.paths) < 2:
            return _usage_error("predict", "give a RUN_DIR and at least one IMAGE (or --model NAME --weights W)")
        preds = predict_files(load_run(args.paths[0]), args.paths[1:], 3 if args.topk is None else args.topk)
    if args.json:
        print(as_json(preds), file=out)
        return EXIT_OK
    for pred in preds:
        print(pred.source, file=out)
        width = max(len(c) for c, _ in pred.top)
        for rank, (cls, prob) in enumerate(pred.top, start=1):
            print(f"  {rank}. {cls:<{width}}  {100 * prob:6.2f}%", file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ summary
def _summary_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help=f"zoo model: {_model_names()}")
    p.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W",
                   help="input shape without the batch axis (default: the model's, e.g. 1,28,28)")
    p.add_argument("--batch-size", type=int, default=-1,
                   help="batch size shown and used for memory (default -1)")
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                   help="constructor argument (repeatable)")


@_user_errors("summary")
def cmd_summary(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print a torchsummary-style table of the model's layers, output shapes, parameters and memory."""
    from .report.summary import summary
    from .runs.build import build_model, default_input_shape, model_spec

    out = out or sys.stdout
    spec = model_spec(args.model)
    shape = args.input_shape or default_input_shape(args.model)
    model = build_model(args.model, _model_args(args.model_arg), shape, None, spec.task)
    try:
        result = summary(model, shape, batch_size=args.batch_size)
    except ValueError as e:
        return _usage_error("summary", str(e))
    print(result, end="", file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ compare
def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", metavar="RUN_DIR", nargs="+", help="run directories written by `minidl train`")
    p.add_argument("--out", default="compare.png", help="figure file (default compare.png)")


@_user_errors("compare")
def cmd_compare(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Overlay the curves of several runs in one figure and print their final and best metrics."""
    from .report import PLOT_INSTALL_HINT
    from .runs import compare_runs
    from .runs.analysis import fmt_num, fmt_pct

    out = out or sys.stdout
    rows, figure = compare_runs(args.runs, args.out)
    width = max(len("run"), *(len(r.label) for r in rows)) + 2
    head = (f"{'run':<{width}}{'epochs':>7}{'train loss':>12}{'val acc':>10}{'best val acc':>18}"
            f"{'test acc':>10}")
    print(head, file=out)
    for r in rows:
        best = "-" if r.best_val_acc is None else f"{fmt_pct(r.best_val_acc)} (ep {r.best_epoch})"
        print(f"{r.label:<{width}}{r.epochs:>7}{fmt_num(r.final_train_loss):>12}{fmt_pct(r.final_val_acc):>10}"
              f"{best:>18}{fmt_pct(r.test_acc):>10}", file=out)
    print(f"figure: {figure}" if figure else f"figure skipped: {PLOT_INSTALL_HINT}", file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ graph
def _graph_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", nargs="?", help=f"zoo model: {_model_names()}")
    p.add_argument("--expr", help="an expression instead of a model, e.g. \"sum(relu(a @ b + c))\": "
                                  "variables a..z, numbers, + - * / ** @, exp log sqrt relu sigmoid tanh sum "
                                  "mean")
    p.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W",
                   help="model input shape (default: the model's) or the shape of every expression variable "
                        "(default: scalars, or 2,2 when the expression uses @)")
    p.add_argument("--values", action="store_true", help="show tensor values")
    p.add_argument("--grads", action="store_true", help="run backward and show gradients")
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                   help="constructor argument (repeatable)")
    p.add_argument("-o", "--out", default=None, metavar="FILE",
                   help="write .dot (no Graphviz needed), or .svg/.png/.pdf (needs Graphviz's dot); "
                        "default: print the DOT text")


@_user_errors("graph")
def cmd_graph(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Export the autograd graph of a model's loss on a random batch, or of an expression, as DOT/SVG/PNG."""
    from .report import GraphvizNotFoundError, render, write_dot
    from .report.graph import RENDER_FORMATS
    from .runs.build import default_input_shape
    from .runs.checks import expression_graph, model_graph

    out = out or sys.stdout
    if (args.model is None) == (args.expr is None):
        return _usage_error("graph", "give either a MODEL or --expr EXPR (exactly one)")
    if args.expr is not None:
        shape = args.input_shape if args.input_shape is not None else ((2, 2) if "@" in args.expr else ())
        dot = expression_graph(args.expr, shape, show_values=args.values, show_grads=args.grads)
    else:
        shape = args.input_shape or default_input_shape(args.model)
        dot = model_graph(args.model, _model_args(args.model_arg), shape, show_values=args.values,
                          show_grads=args.grads)
    if args.out is None:
        print(dot, end="", file=out)
        return EXIT_OK
    path = Path(args.out)
    fmt = path.suffix.lower().lstrip(".")
    if fmt in ("dot", "gv"):
        write_dot(dot, path)
    elif fmt in RENDER_FORMATS:
        try:
            render(dot, path, format=fmt)
        except GraphvizNotFoundError as e:
            fallback = write_dot(dot, path.with_suffix(".dot"))
            print(f"minidl graph: {e}\nwrote the DOT text to {fallback} instead", file=sys.stderr)
            return EXIT_FAIL
    else:
        return _usage_error("graph", f"unknown output format {path.suffix!r}; use .dot, .svg, .png or .pdf")
    print(f"wrote {path}", file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ gradcheck
def _gradcheck_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", nargs="?", default=None,
                   help="check every parameter gradient of this zoo model's loss instead of the built-in "
                        "checks")
    p.add_argument("--tol", type=_positive_float, default=1e-6,
                   help="largest accepted relative error max|analytic - numeric| / max|gradient| (default 1e-6)")
    p.add_argument("--filter", metavar="SUBSTRING", default=None,
                   help="run only the checks whose id (e.g. ops.conv2d_groups, layers.fc) contains SUBSTRING")
    p.add_argument("--seed", type=int, default=0, help="seed for the random inputs and dropout masks (default 0)")
    p.add_argument("--list", action="store_true", help="list the check ids and exit")
    model = p.add_argument_group("with MODEL")
    model.add_argument("--coords", default="64", metavar="N|all",
                       help="entries checked per parameter, chosen at random (default 64; 'all' checks "
                            "every one)")
    model.add_argument("--batch", type=int, default=4, help="size of the random batch (default 4)")
    model.add_argument("--input-shape", type=_shape, default=None, metavar="C,H,W",
                       help="input shape without the batch axis (default: the model's)")
    model.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                       help="constructor argument (repeatable)")


def cmd_gradcheck(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check every registered op and homework layer in float64 against central differences.

    Prints one aligned row per checked gradient (``name  grad_x  rel-error  ok|FAIL``), then a summary line.
    Returns 1 if any gradient's error reaches ``--tol`` or a check raises, else 0.
    """
    out = out or sys.stdout
    if args.model is not None:
        return _gradcheck_model(args, out)
    cases = _gc.check_registry()
    if args.filter is not None:
        key = args.filter.lower()
        cases = [c for c in cases if key in c.id.lower()]
        if not cases:
            return _usage_error("gradcheck", f"no check matches --filter {args.filter!r} "
                                             "(see `minidl gradcheck --list` for the ids)")
    if args.list:
        for c in cases:
            print(c.id, file=out)
        return EXIT_OK

    name_w = max(len(c.name) for c in cases) + 2
    grad_w = max(len(f"grad_{n}") for c in cases for n in c.inputs) + 2
    print(f"gradcheck: float64 central differences, tol {args.tol:.0e}, seed {args.seed}", file=out)
    start = time.perf_counter()
    failed: list[str] = []  # "<check id> grad_<input>" of each gradient over tolerance
    errors: list[str] = []  # ids of checks that raised
    n_grads = 0
    worst = 0.0
    group = None
    for case in cases:
        if case.group != group:
            group = case.group
            print(f"\n[{group}]", file=out)
        try:
            report = case.run(tol=args.tol, seed=args.seed)
        except Exception as exc:  # a broken op must not stop the other checks; it counts as a failure
            print(f"{case.name:<{name_w}}{'':<{grad_w}}{'ERROR':>9}  {type(exc).__name__}: {exc}", file=out)
            errors.append(case.id)
            continue
        for e in report.entries:
            n_grads += 1
            worst = max(worst, e.rel_error)
            print(f"{case.name:<{name_w}}{e.name:<{grad_w}}{e.rel_error:9.1e}  {'ok' if e.ok else 'FAIL'}", file=out)
            if not e.ok:
                failed.append(f"{case.id} {e.name}")
    elapsed = time.perf_counter() - start
    print(file=out)
    if failed or errors:
        print(f"FAILED: {len(failed)} of {n_grads} gradients over tol {args.tol:.0e}"
              + "".join(f"\n  fail  {f}" for f in failed)
              + f"\n{len(errors)} of {len(cases)} checks raised an error"
              + "".join(f"\n  error {e}" for e in errors)
              + f"\n({elapsed:.1f} s)", file=out)
        return EXIT_FAIL
    print(f"OK: {n_grads} gradients in {len(cases)} checks, max rel error {worst:.1e} < tol {args.tol:.0e} "
          f"({elapsed:.1f} s)", file=out)
    return EXIT_OK


@_user_errors("gradcheck")
def _gradcheck_model(args: argparse.Namespace, out: TextIO) -> int:
    """``minidl gradcheck MODEL``: a row per parameter of the model's loss (float64, central differences)."""
    from .runs.build import default_input_shape
    from .runs.checks import gradcheck_model

    if args.filter is not None or args.list:
        return _usage_error("gradcheck",
                            "--filter and --list select built-in checks; they do not apply to a MODEL")
    if args.coords == "all":
        coords = None
    elif args.coords.isdigit() and int(args.coords) > 0:
        coords = int(args.coords)
    else:
        return _usage_error("gradcheck", f"--coords must be a positive number or 'all', got {args.coords!r}")
    if args.batch < 1:
        return _usage_error("gradcheck", f"--batch must be >= 1, got {args.batch}")
    shape = args.input_shape or default_input_shape(args.model)
    print(f"gradcheck {args.model}: float64 central differences of the loss on a random batch of "
          f"{args.batch} (input {list(shape)}), tol {args.tol:.0e}, seed {args.seed}", file=out)
    start = time.perf_counter()
    rows = gradcheck_model(args.model, _model_args(args.model_arg), shape, batch=args.batch, coords=coords,
                           seed=args.seed, tol=args.tol)
    name_w = max(len("parameter"), *(len(r.name) for r in rows)) + 2
    shape_w = max(len("shape"), *(len(str(r.shape)) for r in rows)) + 2
    checked = [f"{r.checked}/{r.numel}" for r in rows]
    checked_w = max(len("checked"), *(len(c) for c in checked)) + 2
    print(f"{'parameter':<{name_w}}{'shape':<{shape_w}}{'checked':>{checked_w}}{'rel-error':>11}  ok",
          file=out)
    for r, c in zip(rows, checked, strict=True):
        print(f"{r.name:<{name_w}}{str(r.shape):<{shape_w}}{c:>{checked_w}}{r.rel_error:11.1e}  "
              f"{'ok' if r.ok else 'FAIL'}", file=out)
    elapsed = time.perf_counter() - start
    worst = max(r.rel_error for r in rows)
    bad = [r.name for r in rows if not r.ok]
    print(file=out)
    if bad:
        print(f"FAILED: {len(bad)} of {len(rows)} parameters over tol {args.tol:.0e}: {', '.join(bad)} "
              f"({elapsed:.1f} s)", file=out)
        return EXIT_FAIL
    print(f"OK: {len(rows)} parameters, max rel error {worst:.1e} < tol {args.tol:.0e} ({elapsed:.1f} s)",
          file=out)
    return EXIT_OK


# ------------------------------------------------------------------------------------------ sweep
def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", nargs="?",
                   help="sweep spec: a TOML, YAML or JSON file with a base train config, a search space, the "
                        "metric, search algorithm, scheduler and CPUs per trial (see minidl.tune.spec)")
    p.add_argument("--out", metavar="DIR", help="sweep directory (default: the spec's out, else "
                                                "sweeps/<name>-<time>)")
    p.add_argument("--resume", metavar="DIR", help="continue the interrupted sweep in DIR; finished trials are "
                                                   "not run again")
    p.add_argument("--address", metavar="auto|HOST:PORT",
                   help="join a running Ray cluster (default: start a local Ray in this process)")
    p.add_argument("--verbose", action="store_true",
                   help="also show Ray Tune's progress tables and the trials' log messages")


@_user_errors("sweep")
def cmd_sweep(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run a hyperparameter sweep on Ray Tune and print its results table, best first (exit 130 when
    interrupted, 1 when a trial failed)."""
    from .tune import require_ray, run_sweep

    if (args.spec is None) == (args.resume is None):
        return _usage_error("sweep", "give a SPEC file or --resume DIR (exactly one)")
    if args.resume is not None and args.out is not None:
        return _usage_error("sweep", "--out does not apply to --resume: the sweep continues in its directory")
    try:
        require_ray()
    except ImportError as e:
        return _usage_error("sweep", str(e))
    result = run_sweep(args.spec, out=args.out, resume=args.resume, address=args.address,
                       verbose=1 if args.verbose else 0, stream=out or sys.stdout)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAIL if result.errors else EXIT_OK


# ------------------------------------------------------------------------------------------ ocr
def _ocr_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", metavar="IMAGE", nargs="+", help="photos or scans of pages (PNG, JPG, ...)")
    p.add_argument("--model", metavar="RUN_DIR", default=None,
                   help="a run directory of `minidl train` whose classes are characters (default: the ready "
                        "model, trained once on synthetic characters and cached)")
    p.add_argument("--annotate", metavar="OUT.png", default=None,
                   help="write the page with a box and the character read around every letter (with several "
                        "images: OUT-<image name>.png each)")


@_user_errors("ocr")
def cmd_ocr(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the text read on each image, line by line (under ``== IMAGE ==`` headers when there are several)."""
    from .datasets.labelfolder import read_image
    from .errors import DataError
    from .runs import load_run, read_text, ready_model

    out = out or sys.stdout
    paths = [Path(p) for p in args.images]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        return _usage_error("ocr", f"no such file: {', '.join(missing)}")
    images = []
    for path in paths:  # every image is read before the model is loaded (or trained, the first time)
        try:
            images.append(read_image(path))
        except OSError as e:
            return _usage_error("ocr", f"{path}: cannot read the image: {e}")
    try:
        run = load_run(args.model) if args.model is not None else ready_model()
        for k, (path, image) in enumerate(zip(paths, images, strict=True)):
            result = read_text(image, run)
            if len(paths) > 1:
                print(("\n" if k else "") + f"== {path} ==", file=out)
            print(result.text, file=out)
            if args.annotate is not None:
                from .report import plot_letter_boxes

                target = Path(args.annotate)
                if len(paths) > 1:
                    target = target.with_name(f"{target.stem}-{path.stem}{target.suffix or '.png'}")
                plot_letter_boxes(image, result.boxes, target, result.chars, result.line_ids,
                                  title=f"{path.name}: {len(result.chars)} letters read")
                print(f"annotated page: {target}", file=sys.stderr)
    except (DataError, ImportError) as e:
        return _usage_error("ocr", str(e))
    return EXIT_OK


# ------------------------------------------------------------------------------------------ registry and main
#: subcommand name -> (one-line help, options declaration, runner)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "train": ("train a model and write a run directory with metrics, checkpoints, plots and a report",
              _train_args, cmd_train),
    "eval": ("evaluate a run's model on a dataset split: accuracy, loss and per-class accuracy",
             _eval_args, cmd_eval),
    "predict": ("classify image files or .npy arrays with a run's model, or photos with a pretrained ImageNet model",
                _predict_args, cmd_predict),
    "summary": ("print a model's layers, output shapes, parameter counts and memory",
                _summary_args, cmd_summary),
    "compare": ("overlay the curves of several runs and tabulate their metrics", _compare_args, cmd_compare),
    "graph": ("export the autograd graph of a model's loss or of an expression (DOT, SVG, PNG)",
              _graph_args, cmd_graph),
    "gradcheck": ("check every op's and homework layer's gradients (or a model's) against central "
                  "differences", _gradcheck_args, cmd_gradcheck),
    "sweep": ("tune hyperparameters: train many runs on Ray Tune and rank them (needs minidl[sweep])",
              _sweep_args, cmd_sweep),
    "ocr": ("read the letters on page images and print the text line by line", _ocr_args, cmd_ocr),
}


class _Parser(argparse.ArgumentParser):
    """argparse's parser with its errors on one line (``minidl train: error: ... (see minidl train --help)``)
    instead of the usage block followed by the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``minidl`` argument parser with one subparser per entry of :data:`COMMANDS`."""
    parser = _Parser(prog="minidl", description="minidl: deep learning from scratch on NumPy.")
    parser.add_argument("--version", action="version", version=f"minidl {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (also accepted after the command)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, declare, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        declare(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``minidl`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Every error is one line on stderr, ``minidl COMMAND: error: ...``: exit 2 for a usage error (a bad option,
    name, value or input file), 1 for a failure while running (a NaN loss, a full disk, a bug), 130 for
    Ctrl-C. ``--debug`` anywhere on the line (or ``MINIDL_DEBUG=1``) shows the traceback instead.
    """
    as_program = argv is None  # the process is this command's: its warnings are shown as our one-liners
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("MINIDL_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    try:
        parser = build_parser()  # imports the commands' modules: a Ctrl-C here is a start-up interrupt too
    except KeyboardInterrupt:
        print("minidl: interrupted while starting", file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors; report its code instead
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        print(f"minidl: error: give a command: {', '.join(COMMANDS)} (see `minidl --help`)", file=sys.stderr)
        return EXIT_USAGE
    args.argv = argv
    keep_freed_memory()  # the command owns its process: let training reuse freed blocks (minidl.ops._memory)
    with _one_line_warnings(args.command) if as_program else contextlib.nullcontext(), \
            _interrupts_not_lost() if as_program else contextlib.nullcontext():
        try:
            return args.run(args)
        except KeyboardInterrupt:  # outside training (which saves a checkpoint first): stop quietly
            print(f"minidl {args.command}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:  # output piped into a reader that stopped early (`minidl gradcheck | head`)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # silence the flush at exit
            return EXIT_FAIL
        except Exception as exc:
            if debug:
                raise
            code = EXIT_USAGE if _is_usage_error(exc) else EXIT_FAIL
            print(f"minidl {args.command}: error{_on_rank()}: {_failure(exc)}", file=sys.stderr)
            _stop_other_ranks(code)
            return code


def _on_rank() -> str:
    """`` on rank k of N`` inside a data-parallel job (an error names the rank it happened on)."""
    from .distributed import rank_and_size

    rank, size = rank_and_size()
    return f" on rank {rank} of {size}" if size > 1 else ""


def _stop_other_ranks(code: int) -> None:
    """A rank that fails ends the job: its peers would otherwise wait for it in their next collective."""
    from .distributed import abort

    abort(code)  # a no-op outside a job of several ranks


def _is_usage_error(exc: Exception) -> bool:
    """Errors about what the user gave (names, values, files, shapes of their inputs): exit 2."""
    from .errors import CheckpointError, ConfigError, DataError, DTypeError, ShapeError

    return isinstance(exc, ConfigError | CheckpointError | DataError | ShapeError | DTypeError | FileNotFoundError
                      | IsADirectoryError | NotADirectoryError)


def _failure(exc: BaseException) -> str:
    """One line describing ``exc``: minidl's own errors by their message, an OS error by the file and the
    system's reason (a full disk, a file-size limit, permissions), anything else as a bug with its type."""
    from .errors import MinidlError

    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
        if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
            text += " (free some space or raise the file-size limit; files already saved were kept whole)"
    elif isinstance(exc, MinidlError | ValueError | TypeError | OSError | MemoryError):
        text = str(exc) or type(exc).__name__
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (this is a bug in minidl; --debug shows the traceback)"
    return " ".join(text.split())


@contextlib.contextmanager
def _interrupts_not_lost() -> Iterator[None]:
    """A Ctrl-C that lands while Python runs a finalizer or weakref callback (matplotlib makes many) cannot be
    raised there: Python prints it as an "Exception ignored" traceback and carries on as if it had not been
    pressed. Deliver it again instead, so that it stops the command at the next ordinary line."""
    previous = sys.unraisablehook
    in_hook = [False]

    def deliver() -> None:
        # An interrupt that lands while the hook still runs (starting this thread waits on a lock, where a
        # pending signal is raised) would be lost like the first; so wait until the hook has returned. The
        # flag is cleared by a plain store, the hook's last statement, where no pending signal is checked,
        # and the short sleep covers the return itself.
        while in_hook[0]:
            time.sleep(0.001)
        time.sleep(0.005)
        _thread.interrupt_main()

    def hook(unraisable: Any) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            in_hook[0] = True  # raised here, it would be lost too: another thread raises it after the hook
            threading.Thread(target=deliver, daemon=True).start()
            in_hook[0] = False
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Show warnings as ``minidl COMMAND: warning: ...`` on one line, not Python's two-line format."""
    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        print(f"minidl {command}: warning: {' '.join(str(message).split())}", file=file or sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous
