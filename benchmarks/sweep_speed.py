"""Wall time of a sweep on Ray Tune against the same trials run one after another, in one process.

The trials: 8 configs of ``--model`` (default LeNet-5, Adam) on the embedded Fashion-MNIST subset (4,500
training images), ``--epochs`` each (default 12): 4 learning rates crossed with 2 batch sizes. The same
resolved configs run three ways, one after another in this process, the sweep in the middle so that a
change in the machine's load hits both sides:

* ``sequential``: ``minidl.runs.train_run`` on each config in turn, BLAS free to use every core (what a
  learner looping over ``minidl train`` gets, minus the start-up of a Python process per run);
* ``sweep``: ``minidl.tune.run_sweep`` with one CPU per trial on a local Ray that the call starts and stops
  (its start-up is part of the wall time, as it is for someone typing ``minidl sweep``);
* ``sequential, 1 thread``: the sequential run with BLAS pinned to one thread, as in each sweep trial.

Every trial writes its full run directory (figures and report included) in all three, so the work is the
same. Printed: the wall time of each and the ratios sequential / sweep; the trials' own wall and training
times summed (how much slower a trial runs beside another than alone); how the sweep's wall time splits
into Ray start-up, Tuner.fit and the rest; how many trials ran at once on average; the 1-minute load
average around each phase (the machine is shared: other users' jobs take cores); and a check that every
trial reached the same validation accuracy in the sweep as alone.

    python benchmarks/sweep_speed.py                       # 8 LeNet-5 trials x 12 epochs (~3 min, 2 cores)
    python benchmarks/sweep_speed.py --quick               # 8 small MLP trials x 2 epochs (~1 min)
    python benchmarks/sweep_speed.py --json sweep_speed.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from minidl._atomic import atomic_write_text
from minidl.runs import artifacts as A
from minidl.runs import resolve, train_run

LRS = (3e-4, 1e-3, 3e-3, 1e-2)
BATCH_SIZES = (32, 64)


def trial_values() -> list[dict[str, Any]]:
    """The hyperparameters of the 8 trials: learning rates crossed with batch sizes."""
    return [{"lr": lr, "batch_size": bs} for bs, lr in itertools.product(BATCH_SIZES, LRS)]


def base_config(args: argparse.Namespace) -> dict[str, Any]:
    base: dict[str, Any] = {"model": args.model, "dataset": "embedded", "epochs": args.epochs, "optimizer": "adam",
                            "seed": 0}
    if args.model == "mlp":
        base["model_args"] = {"hidden_dims": [64]}
    return base


def run_sequential(args: argparse.Namespace, root: Path, threads: int | None) -> tuple[float, list[dict]]:
    """Train every trial one after another; ``threads`` pins BLAS (None: the library's default). Returns the
    wall time and each trial's metrics, with ``wall_s``: its train_run call's wall time."""
    from threadpoolctl import threadpool_limits

    results = []
    start = time.perf_counter()
    with threadpool_limits(threads) if threads else contextlib.nullcontext():
        for i, values in enumerate(trial_values()):
            cfg = resolve({**base_config(args), **values, "out": str(root / f"t{i}")})
            t0 = time.perf_counter()
            train_run(cfg, progress=False, out=io.StringIO())
            wall = time.perf_counter() - t0
            results.append({**A.read_json(root / f"t{i}" / A.RESULTS)["metrics"], "wall_s": wall})
    return time.perf_counter() - start, results


def run_sweep(args: argparse.Namespace, root: Path) -> tuple[float, float, list[dict], float]:
    """The sweep, Ray start-up included: (wall time, Ray start-up, per-trial metrics in config order, time
    inside Tuner.fit)."""
    import ray

    from minidl.tune import run_sweep as sweep

    values = trial_values()
    spec = {"name": "speed", "base": base_config(args), "search": "grid", "resources": {"cpus": 1},
            "space": {"lr": {"grid": list(LRS)}, "batch_size": {"grid": list(BATCH_SIZES)}}}
    start = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             logging_level="WARNING")
    started = time.perf_counter() - start
    try:
        result = sweep(spec, out=root / "sweep", stream=io.StringIO())
    finally:
        ray.shutdown()
    wall = time.perf_counter() - start
    by_values = {}
    for row in result.rows:
        run = root / "sweep" / row["run_dir"]
        metrics = A.read_json(run / A.RESULTS)["metrics"]
        # the trial's span: trial.json is written just before its train_run starts, report.html last
        metrics["wall_s"] = (run / "report.html").stat().st_mtime - (run / "trial.json").stat().st_mtime
        by_values[(row["lr"], row["batch_size"])] = metrics
    ordered = [by_values[(v["lr"], v["batch_size"])] for v in values]
    return wall, started, ordered, result.seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="lenet5")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--quick", action="store_true", help="8 MLP (784-64-10) trials of 2 epochs")
    p.add_argument("--json", metavar="FILE", help="also save the measurements as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.model, args.epochs = "mlp", 2
    cores = os.cpu_count() or 1
    print(f"sweep_speed: {len(trial_values())} trials of {args.model} x {args.epochs} epochs on the embedded "
          f"Fashion-MNIST subset, {cores} cores", flush=True)
    root = Path(tempfile.mkdtemp(prefix="minidl-sweep-speed-"))
    loads = [os.getloadavg()[0]]  # the 1-minute load average before and after each phase
    try:
        seq, seq_results = run_sequential(args, root / "seq", None)
        loads.append(os.getloadavg()[0])
        print(f"  sequential (BLAS default threads): {seq:7.1f} s", flush=True)
        wall, ray_start, sweep_results, fit = run_sweep(args, root)
        loads.append(os.getloadavg()[0])
        print(f"  sweep (1 CPU per trial, Ray):      {wall:7.1f} s", flush=True)
        seq1, seq1_results = run_sequential(args, root / "seq1", 1)
        loads.append(os.getloadavg()[0])
        print(f"  sequential (BLAS 1 thread):        {seq1:7.1f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    runs = {"sequential": seq_results, "sequential_1thread": seq1_results, "sweep": sweep_results}
    train = {name: sum(m["time_s"] for m in res) for name, res in runs.items()}
    span = {name: sum(m["wall_s"] for m in res) for name, res in runs.items()}
    diff = max(abs(a["final_val_acc"] - b["final_val_acc"]) for a, b in zip(seq1_results, sweep_results, strict=True))
    print(f"\nratio sequential / sweep:            {seq / wall:.2f}x   (1-thread sequential / sweep: "
          f"{seq1 / wall:.2f}x)")
    print(f"trial runs summed (train_run start to report written): sequential {span['sequential']:.1f} s, "
          f"1-thread {span['sequential_1thread']:.1f} s, sweep {span['sweep']:.1f} s")
    print(f"  of which the training loops:       sequential {train['sequential']:.1f} s, 1-thread "
          f"{train['sequential_1thread']:.1f} s, sweep {train['sweep']:.1f} s")
    print(f"a trial in the sweep vs alone at 1 thread: {span['sweep'] / span['sequential_1thread']:.2f}x the wall "
          f"time ({train['sweep'] / train['sequential_1thread']:.2f}x in its training loop)")
    print(f"sweep wall time: Ray start-up {ray_start:.1f} s, Tuner.fit {fit:.1f} s, the rest (results table, "
          f"figures, sweep report, Ray shutdown) {wall - ray_start - fit:.1f} s")
    print(f"trials running at once, on average: {span['sweep'] / fit:.2f} (trial runs summed / Tuner.fit)")
    print(f"load average (1 min) before and after each phase: {' / '.join(f'{x:.2f}' for x in loads)} (the sweep "
          "adds 2 while it runs, a sequential run 1; the rest is other users' work)")
    print(f"same results: max |val_acc difference| sweep vs 1-thread sequential = {diff:.4f}")
    if args.json:
        atomic_write_text(args.json, json.dumps({
            "trials": len(trial_values()), "model": args.model, "epochs": args.epochs, "cores": cores,
            "sequential_s": seq, "sequential_1thread_s": seq1, "sweep_s": wall, "ray_start_s": ray_start,
            "tuner_fit_s": fit, "train_s": train, "trial_runs_s": span, "max_val_acc_diff": diff,
            "load_averages": loads}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
