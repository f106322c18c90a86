"""The ``minidl`` command line (also ``python -m minidl``).

Each subcommand is two functions, ``_<name>_args(parser)`` declaring its options and ``cmd_<name>(args) -> int``
running it, registered in :data:`COMMANDS`; adding a subcommand means writing that pair and one registry line.

Exit codes: 0 success, 1 a check failed, 2 a usage error (bad option, filter matching nothing).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from . import gradcheck as _gc
from ._version import __version__

__all__ = ["main", "build_parser", "cmd_gradcheck", "COMMANDS"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


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


# ------------------------------------------------------------------------------------------ gradcheck
def _gradcheck_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tol", type=_positive_float, default=1e-6,
                   help="largest accepted relative error max|analytic - numeric| / max|gradient| (default 1e-6)")
    p.add_argument("--filter", metavar="SUBSTRING", default=None,
                   help="run only the checks whose id (e.g. ops.conv2d_groups, layers.fc) contains SUBSTRING")
    p.add_argument("--seed", type=int, default=0, help="seed for the random inputs and dropout masks (default 0)")
    p.add_argument("--list", action="store_true", help="list the check ids and exit")


def cmd_gradcheck(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check every registered op and homework layer in float64 against central differences.

    Prints one aligned row per checked gradient (``name  grad_x  rel-error  ok|FAIL``), then a summary line.
    Returns 1 if any gradient's error reaches ``--tol`` or a check raises, else 0.
    """
    out = out or sys.stdout
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


# ------------------------------------------------------------------------------------------ registry and main
#: subcommand name -> (one-line help, options declaration, runner)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "gradcheck": ("check every op's and homework layer's gradients against central differences",
                  _gradcheck_args, cmd_gradcheck),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``minidl`` argument parser with one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="minidl", description="minidl: deep learning from scratch on NumPy.")
    parser.add_argument("--version", action="version", version=f"minidl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, declare, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        declare(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``minidl`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors; report its code instead
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except BrokenPipeError:  # output piped into a reader that stopped early (`minidl gradcheck | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # silence the flush at exit
        return EXIT_FAIL
