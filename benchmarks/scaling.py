"""How minidl's time per epoch scales against PyTorch's: with batch size, with width, and with threads.

Every point is one :func:`train_speed.run_workload` call: minidl and PyTorch side by side in one process, with
the same data, batch order, initial weights and optimizer, epochs alternating between the two libraries, the
median over the timed epochs after a warm-up, scaled to seconds per full 60k-sample Fashion-MNIST epoch.
The sweeps:

* ``batch``: batch size 32, 64, 128, 256, 512 for ``mlp`` (784-100-100-100-10, SGD momentum 0.9) and
  ``lenet5`` (Adam), the workloads of ``train_speed.py``;
* ``width``: the MLP's hidden width h = 64, 128, 256, 512, 1024 (784-h-h-h-10, ReLU, SGD momentum 0.9,
  batch 256);
* ``channels``: a LeNet-style net with c = 6, 16, 32, 64, 128 channels: conv 5x5 1->c, ReLU, max-pool 2,
  conv 5x5 c->2c, ReLU, max-pool 2, flatten (2c x 4 x 4), linear ->120, ReLU, linear ->10, Adam, batch 128
  (c = 6 is LeNet5 except that its second conv has 12 channels instead of 16);
* each point at every ``--threads`` count (default 1 and 2), the thread counts of one point run back to back.

Each point measures a fixed number of SAMPLES (``--samples`` per timed epoch, i.e. samples / batch steps), not
a fixed number of steps, so small batches get runs as long as large ones (default 4096 samples: 128 steps of
32, 8 of 512). Per point and library that is ``--epochs`` timed epochs (default 5) plus one warm-up epoch of
the same length. The evaluation pass run_workload makes is done on the first ``--eval-samples`` test images
only (it is not reported here; it is in the JSON).

The tables give, per point: minidl s/epoch and torch s/epoch (supporting columns: the machine is shared and
noisy), the ratio minidl / torch (below 1 = minidl faster), and per library the ratio of its time at the
lowest thread count over its time at the highest (e.g. 1thr/2thr: above 1 = the second thread helps), shown
on the highest-thread row of each value. Without PyTorch installed (or with ``--no-torch``) minidl is
reported alone and the torch columns read "–".

    python benchmarks/scaling.py                          # all sweeps, 1 and 2 threads (~10-15 min, 2 cores)
    python benchmarks/scaling.py --quick                  # 512 samples, 1 timed epoch per point (~1 min)
    python benchmarks/scaling.py --sweeps batch width --threads 2 --samples 1024
    python benchmarks/scaling.py --json scaling.json      # also save every point's full result
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # train_speed is a sibling module
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_speed as ts  # noqa: E402

import minidl  # noqa: E402
from minidl._atomic import atomic_write_text  # noqa: E402

DASH = "–"
BATCH_SIZES = (32, 64, 128, 256, 512)
WIDTHS = (64, 128, 256, 512, 1024)
CHANNELS = (6, 16, 32, 64, 128)
SWEEPS = ("batch", "width", "channels")


# ----------------------------------------------------------------------------------------------- workloads
def mlp_of_width(h: int) -> Callable[[Any], Any]:
    """Builder of the ``mlp`` workload's layout with hidden width ``h``: 784-h-h-h-10, ReLU."""

    def build(lib: Any) -> Any:
        nn = lib.nn
        return nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                             nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10))

    return build


def lenet_of_channels(c: int) -> Callable[[Any], Any]:
    """Builder of a LeNet5-style net with ``c`` channels in conv1 and ``2c`` in conv2 (see the module doc)."""

    def build(lib: Any) -> Any:
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, c, 5), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(c, 2 * c, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(2 * c * 16, 120), nn.ReLU(), nn.Linear(120, 10))

    return build


def _sgd_momentum(lib: Any, params: Any) -> Any:
    return lib.optim.SGD(params, lr=0.05, momentum=0.9)  # as train_speed's mlp workload


def _adam(lib: Any, params: Any) -> Any:
    return lib.optim.Adam(params, lr=1e-3)  # as train_speed's lenet5 workload


@dataclass
class Series:
    """One line of a sweep: a workload per value of the varied parameter."""

    sweep: str
    net: str
    param: str  # the varied parameter's column name
    points: list[tuple[int, ts.Workload]]


def build_series(sweeps: list[str]) -> list[Series]:
    base = {w.name: w for w in ts.WORKLOADS}
    out = []
    if "batch" in sweeps:
        for name in ("mlp", "lenet5"):
            out.append(Series("batch", name, "batch",
                              [(b, dataclasses.replace(base[name], batch_size=b)) for b in BATCH_SIZES]))
    if "width" in sweeps:
        out.append(Series("width", "mlp 784-h-h-h-10", "hidden",
                          [(h, ts.Workload(f"mlp_h{h}", mlp_of_width(h), _sgd_momentum, 256, True)) for h in WIDTHS]))
    if "channels" in sweeps:
        out.append(Series("channels", "lenet c/2c", "channels",
                          [(c, ts.Workload(f"lenet_c{c}", lenet_of_channels(c), _adam, 128, False))
                           for c in CHANNELS]))
    return out


# ----------------------------------------------------------------------------------------------- measuring
@dataclass
class Point:
    sweep: str
    net: str
    param: str
    value: int
    threads: int
    batch_size: int
    samples: int  # samples per timed epoch actually run (steps x batch)
    load: float  # the machine's 1-minute load average right after the point (incl. this run; noise indicator)
    result: ts.Result


def threads_ctx(threads: int) -> contextlib.AbstractContextManager[Any]:
    limiter = ts.limit_threads(threads)  # also sets torch's intra-op threads
    return limiter if limiter is not None else contextlib.nullcontext()


def measure(series: list[Series], data: tuple, threads: list[int], samples: int, epochs: int,
            peaks: dict[int, float], use_torch: bool) -> list[Point]:
    points = []
    n = sum(len(s.points) for s in series) * len(threads)
    for s in series:
        for value, wl in s.points:
            steps = max(1, round(samples / wl.batch_size))
            for t in threads:
                with threads_ctx(t):
                    t0 = time.perf_counter()
                    r = ts.run_workload(wl, data, epochs, steps, t, peaks[t], use_torch)
                points.append(Point(s.sweep, s.net, s.param, value, t, wl.batch_size,
                                    r.steps_per_epoch * wl.batch_size, os.getloadavg()[0], r))
                print(f"[{len(points)}/{n}] {s.sweep:<8} {wl.name:<10} {s.param}={value:<5} threads={t}  "
                      f"minidl {r.minidl_s_per_epoch:7.2f} s/ep  torch {_f(r.torch_s_per_epoch, '7.2f')} s/ep  "
                      f"ratio {_f(r.ratio, '.2f')}  ({time.perf_counter() - t0:.0f} s, load {points[-1].load:.1f})",
                      file=sys.stderr, flush=True)
    return points


# ----------------------------------------------------------------------------------------------- reporting
def _f(v: float | None, spec: str) -> str:
    return DASH if v is None else format(v, spec)


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def table(s: Series, points: list[Point], threads: list[int]) -> str:
    lo, hi = min(threads), max(threads)
    tr = f"{lo}thr/{hi}thr"
    rows = [f"| {s.param} | threads | minidl s/epoch | torch s/epoch | minidl/torch | minidl {tr} | torch {tr} |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    mine = [p for p in points if p.sweep == s.sweep and p.net == s.net]
    for value, _ in s.points:
        at = {p.threads: p.result for p in mine if p.value == value}
        for t in threads:
            if t not in at:
                continue
            r = at[t]
            ours = theirs = ""
            if t == hi:
                ours, theirs = DASH, DASH
                if lo != hi and lo in at:
                    ours = _f(_div(at[lo].minidl_s_per_epoch, r.minidl_s_per_epoch), ".2f")
                    theirs = _f(_div(at[lo].torch_s_per_epoch, r.torch_s_per_epoch), ".2f")
            rows.append(f"| {value} | {t} | {r.minidl_s_per_epoch:.2f} | {_f(r.torch_s_per_epoch, '.2f')} | "
                        f"{_f(r.ratio, '.2f')} | {ours} | {theirs} |")
    return "\n".join(rows)


def report(series: list[Series], points: list[Point], threads: list[int], samples: int, epochs: int) -> str:
    out = []
    for s in series:
        fixed = {"batch": "", "width": ", batch 256, SGD momentum", "channels": ", batch 128, Adam"}[s.sweep]
        out.append(f"### {s.sweep}: {s.net}{fixed} ({samples} samples x {epochs} timed epochs per point, "
                   f"s/epoch extrapolated to 60k samples)\n")
        out.append(table(s, points, threads) + "\n")
    return "\n".join(out)


def write_json(path: str, config: dict, peaks: dict[int, float], points: list[Point]) -> None:
    payload = {"config": config, "gemm_peak_gflops": {str(t): g for t, g in peaks.items()},
               "points": [{**{k: v for k, v in asdict(p).items() if k != "result"}, "result": asdict(p.result)}
                          for p in points]}
    atomic_write_text(path, json.dumps(payload, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sweeps", nargs="+", choices=SWEEPS, default=list(SWEEPS))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--samples", type=int, default=None, help="samples per timed epoch and point (default 4096)")
    p.add_argument("--epochs", type=int, default=None, help="timed epochs per point and library, after one "
                                                             "warm-up of the same length (default 5)")
    p.add_argument("--quick", action="store_true", help="512 samples and 1 timed epoch per point")
    p.add_argument("--eval-samples", type=int, default=200,
                   help="test images for run_workload's evaluation pass (not reported in the tables)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--json", help="write every point's result here")
    args = p.parse_args(argv)
    samples = args.samples or (512 if args.quick else 4096)
    epochs = args.epochs or (1 if args.quick else 5)
    threads = sorted(set(args.threads))
    use_torch = ts.torch is not None and not args.no_torch
    start = time.perf_counter()

    xtr, ytr, xte, yte = ts.load_data()
    data = (xtr, ytr, xte[:args.eval_samples], yte[:args.eval_samples])
    peaks = {}
    for t in threads:
        with threads_ctx(t):
            peaks[t] = ts.gemm_peak_gflops()
    series = build_series(args.sweeps)
    print(f"minidl {minidl.__version__}  torch {ts.torch.__version__ if use_torch else DASH}  threads {threads}  "
          f"float32 GEMM peak {', '.join(f'{peaks[t]:.0f} ({t} thr)' for t in threads)} GFLOP/s  "
          f"BLAS {ts._blas_info()}  samples/point {samples}  timed epochs {epochs}", flush=True)
    points = measure(series, data, threads, samples, epochs, peaks, use_torch)
    print()
    print(report(series, points, threads, samples, epochs))
    elapsed = time.perf_counter() - start
    loads = [p.load for p in points]
    print(f"total {elapsed / 60:.1f} min; 1-min load average after each point {min(loads):.1f} to {max(loads):.1f} "
          f"(it counts this run's own 1-2 busy threads; well above 2 on these 2 cores means another process competed, "
          f"which hurts the 2-thread rows most)")
    if args.json:
        config = {"sweeps": args.sweeps, "threads": threads, "samples": samples, "epochs": epochs,
                  "eval_samples": args.eval_samples, "torch": use_torch, "elapsed_s": elapsed,
                  "minidl": minidl.__version__, "torch_version": ts.torch.__version__ if use_torch else None}
        write_json(args.json, config, peaks, points)
    return 0


if __name__ == "__main__":
    sys.exit(main())
