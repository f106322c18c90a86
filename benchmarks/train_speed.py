"""Training speed of minidl against PyTorch's CPU build, side by side in one process.

Each workload is built ONCE as code that runs on either library (minidl speaks PyTorch's API, so the same
``build(lib)`` function serves both). Both get the same data, the same batch order, the same initial weights
(PyTorch's are loaded from minidl's ``state_dict``), the same optimizer and the same thread count. Epochs
alternate between the two libraries, and the script reports medians over the epochs after a warm-up:

* seconds per epoch and samples/s, and the ratio minidl / PyTorch (below 1 means minidl is faster);
* model FLOP utilisation: training FLOP/s over this machine's float32 GEMM peak, measured in the same run;
* evaluation (``no_grad``) throughput;
* peak memory of a short training run, each library in a fresh subprocess (peak RSS growth over the
  process's state just before the model is built, the peak mark reset there).

    python benchmarks/train_speed.py                 # full epochs on Fashion-MNIST, 2 threads
    python benchmarks/train_speed.py --quick         # a few hundred steps per workload
    python benchmarks/train_speed.py --threads 1 --json results.json
    python benchmarks/train_speed.py --profile lenet5 --steps 100   # per-op time of one workload
    python benchmarks/train_speed.py --procs 2       # data-parallel: processes x threads (data_parallel.py)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import minidl
from minidl._atomic import atomic_write_text

minidl.ops.keep_freed_memory()  # what training with minidl does (Trainer, CLI): see minidl/ops/_memory.py

try:
    import torch
except ImportError:  # the benchmark still reports minidl alone
    torch = None


# ----------------------------------------------------------------------------------------------- workloads
def mlp(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                         nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))


def two_layer(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


def lenet5(lib: Any, batchnorm: bool = False) -> Any:
    nn = lib.nn

    def block(cin: int, cout: int) -> list:
        norm = [nn.BatchNorm2d(cout)] if batchnorm else []
        return [nn.Conv2d(cin, cout, 5), *norm, nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 6), *block(6, 16), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(),
                         nn.Linear(120, 10))


def strided_cnn(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.1), nn.AvgPool2d(2),
                         nn.Conv2d(64, 64, 3, padding=1), nn.LeakyReLU(0.1),
                         nn.Conv2d(64, 16, 3, stride=2, padding=1), nn.LeakyReLU(0.1), nn.Flatten(),
                         nn.Linear(256, 10))


@dataclass
class Workload:
    name: str
    build: Callable[[Any], Any]
    optimizer: Callable[[Any, Any], Any]
    batch_size: int
    flat: bool  # MLPs take (N, 784), CNNs (N, 1, 28, 28)


WORKLOADS = [
    Workload("mlp", mlp, lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9), 256, True),
    Workload("two_layer", two_layer, lambda lib, p: lib.optim.SGD(p, lr=0.1), 128, True),
    Workload("lenet5", lenet5, lambda lib, p: lib.optim.Adam(p, lr=1e-3), 128, False),
    Workload("strided_cnn", strided_cnn, lambda lib, p: lib.optim.Adam(p, lr=1e-3), 256, False),
    Workload("lenet5_bn", lambda lib: lenet5(lib, batchnorm=True),
             lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9), 128, False),
]


# ------------------------------------------------------------------------------------- sequence workloads
@dataclass
class SequenceWorkload:
    """A sequence model trained on random (batch, steps, features) data to regress random targets, timed per
    optimizer step (Adam, MSE): the issue's LSTM (hidden 256, batch 32 x 64 steps) and Transformer layer."""

    name: str
    build: Callable[[Any], Any]
    shape: tuple[int, int, int]  # (batch, steps, features)


SEQUENCE_WORKLOADS = [
    SequenceWorkload("lstm", lambda lib: lib.nn.LSTM(256, 256, batch_first=True), (32, 64, 256)),
    SequenceWorkload("transformer", lambda lib: lib.nn.TransformerEncoderLayer(128, 4, batch_first=True),
                     (32, 64, 128)),
]


def run_sequence_workload(wl: SequenceWorkload, rounds: int, use_torch: bool) -> tuple[float, float | None]:
    """Median ms per training step of each library, alternating steps so load changes hit both."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(wl.shape).astype(np.float32)
    y = rng.standard_normal(wl.shape).astype(np.float32)
    minidl.manual_seed(0)
    libs = [minidl, torch] if use_torch else [minidl]
    models = [wl.build(lib) for lib in libs]
    if use_torch:  # the same initial weights
        models[1].load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in models[0].state_dict().items()})
    steps = []
    for lib, model in zip(libs, models, strict=True):
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        xs, ys = lib.from_numpy(x.copy()), lib.from_numpy(y.copy())

        def step(model=model, opt=opt, xs=xs, ys=ys) -> None:
            opt.zero_grad()
            out = model(xs)
            out = out[0] if isinstance(out, tuple) else out
            ((out - ys) ** 2).mean().backward()
            opt.step()

        step()  # warm-up
        steps.append(step)
    times: list[list[float]] = [[] for _ in libs]
    for _ in range(rounds):
        for k, step in enumerate(steps):
            start = time.perf_counter()
            step()
            times[k].append(time.perf_counter() - start)
    ms = [1e3 * float(np.median(t)) for t in times]
    return ms[0], (ms[1] if use_torch else None)


# ----------------------------------------------------------------------------------------------- measuring
def load_data(limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST as float32 in [0, 1], (N, 1, 28, 28), from the full dataset when installed."""
    from minidl.datasets import FashionMNIST

    def arrays(train: bool) -> tuple[np.ndarray, np.ndarray]:
        ds = FashionMNIST(train=train, download=False)
        x = (np.asarray(ds.data, dtype=np.float32) / 255.0).reshape(-1, 1, 28, 28)
        return x, np.asarray(ds.targets, dtype=np.int64)

    xtr, ytr = arrays(True)
    xte, yte = arrays(False)
    if limit:
        xtr, ytr = xtr[:limit], ytr[:limit]
    return xtr, ytr, xte, yte


def gemm_peak_gflops(repeats: int = 5) -> float:
    """Best float32 GEMM rate NumPy's BLAS reaches here, at the current thread limit."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in (512, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        a @ b
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def train_flops_per_sample(model: Any, flat: bool) -> float:
    """Training FLOPs per sample: 3 × the forward FLOPs of the GEMM layers (forward, dx and dW products)."""
    flops = 0.0
    x = minidl.zeros(1, 784) if flat else minidl.zeros(1, 1, 28, 28)
    with minidl.no_grad():
        for layer in model:
            y = layer(x)
            if isinstance(layer, minidl.nn.Linear):
                flops += 2 * layer.in_features * layer.out_features
            elif isinstance(layer, minidl.nn.Conv2d):
                kh, kw = layer.kernel_size
                flops += 2 * layer.in_channels // layer.groups * kh * kw * y.numel()
            x = y
    return 3 * flops


class Runner:
    """One library's copy of a workload: model, optimizer, and its view of the shared data."""

    def __init__(self, lib: Any, wl: Workload, state: dict[str, np.ndarray] | None) -> None:
        self.lib, self.wl = lib, wl
        self.model = wl.build(lib)
        if state is not None:
            self.model.load_state_dict({k: lib.from_numpy(np.array(v)) for k, v in state.items()})
        self.opt = wl.optimizer(lib, self.model.parameters())
        self.F = lib.nn.functional

    def batch(self, x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        if self.wl.flat:
            x = x.reshape(len(x), -1)
        return self.lib.from_numpy(x), self.lib.from_numpy(y)

    def epoch(self, x: np.ndarray, y: np.ndarray, order: np.ndarray, steps: int) -> tuple[float, float]:
        """Train over ``steps`` batches in ``order``; returns (seconds, mean loss)."""
        self.model.train()
        bs, total = self.wl.batch_size, 0.0
        t0 = time.perf_counter()
        for i in range(steps):
            idx = order[i * bs:(i + 1) * bs]
            xb, yb = self.batch(x[idx], y[idx])
            self.opt.zero_grad()
            loss = self.F.cross_entropy(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            total += float(loss.item())
        return time.perf_counter() - t0, total / steps

    def evaluate(self, x: np.ndarray, y: np.ndarray, bs: int = 1000) -> tuple[float, float]:
        """(seconds, accuracy) of a no_grad pass over x."""
        self.model.eval()
        correct = 0
        t0 = time.perf_counter()
        with self.lib.no_grad():
            for i in range(0, len(x), bs):
                xb, _ = self.batch(x[i:i + bs], y[i:i + bs])
                correct += int((self.model(xb).argmax(1).numpy() == y[i:i + bs]).sum())
        return time.perf_counter() - t0, correct / len(x)


@dataclass
class Result:
    workload: str
    threads: int
    steps_per_epoch: int
    minidl_s_per_epoch: float
    torch_s_per_epoch: float | None
    ratio: float | None
    minidl_samples_per_s: float
    torch_samples_per_s: float | None
    minidl_mfu: float
    torch_mfu: float | None
    eval_minidl_samples_per_s: float
    eval_torch_samples_per_s: float | None
    eval_ratio: float | None
    minidl_final_loss: float
    torch_final_loss: float | None
    minidl_peak_mb: float | None = None
    torch_peak_mb: float | None = None
    epoch_times: dict = field(default_factory=dict)


def run_workload(wl: Workload, data: tuple, epochs: int, steps: int | None, threads: int, peak: float,
                 use_torch: bool) -> Result:
    xtr, ytr, xte, yte = data
    full_steps = len(xtr) // wl.batch_size
    steps = min(steps or full_steps, full_steps)
    minidl.manual_seed(0)
    ours = Runner(minidl, wl, None)
    state = {k: v.numpy().copy() for k, v in ours.model.state_dict().items()}
    theirs = Runner(torch, wl, state) if use_torch else None
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {"minidl": [], "torch": []}
    losses: dict[str, float] = {}
    for ep in range(epochs + 1):  # epoch 0 is the warm-up
        order = rng.permutation(len(xtr))
        runners = [("minidl", ours), ("torch", theirs)] if ep % 2 == 0 else [("torch", theirs), ("minidl", ours)]
        for name, r in runners:
            if r is None:
                continue
            gc.collect()
            sec, loss = r.epoch(xtr, ytr, order, steps)
            losses[name] = loss
            if ep > 0:
                times[name].append(sec * full_steps / steps)
    flops = train_flops_per_sample(ours.model, wl.flat) * wl.batch_size * full_steps
    med = {k: statistics.median(v) for k, v in times.items() if v}
    ev = {"minidl": ours.evaluate(xte, yte)}
    if theirs is not None:
        ev["torch"] = theirs.evaluate(xte, yte)
        ev["minidl"] = min(ev["minidl"], ours.evaluate(xte, yte))
        ev["torch"] = min(ev["torch"], theirs.evaluate(xte, yte))
    samples = {k: full_steps * wl.batch_size / v for k, v in med.items()}
    evs = {k: len(xte) / v[0] for k, v in ev.items()}
    t = med.get("torch")
    return Result(
        workload=wl.name, threads=threads, steps_per_epoch=steps,
        minidl_s_per_epoch=med["minidl"], torch_s_per_epoch=t, ratio=med["minidl"] / t if t else None,
        minidl_samples_per_s=samples["minidl"], torch_samples_per_s=samples.get("torch"),
        minidl_mfu=flops / med["minidl"] / (peak * 1e9), torch_mfu=flops / t / (peak * 1e9) if t else None,
        eval_minidl_samples_per_s=evs["minidl"], eval_torch_samples_per_s=evs.get("torch"),
        eval_ratio=evs["minidl"] / evs["torch"] if "torch" in evs else None,
        minidl_final_loss=losses["minidl"], torch_final_loss=losses.get("torch"),
        epoch_times={k: [round(s, 3) for s in v] for k, v in times.items() if v},
    )


def peak_memory_mb(lib_name: str, wl_name: str, threads: int, steps: int = 30) -> float:
    """Peak RSS growth (MB) of ``steps`` training steps, measured in a fresh subprocess."""
    cmd = [sys.executable, __file__, "--memory-probe", lib_name, wl_name, "--threads", str(threads),
           "--probe-steps", str(steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def memory_probe(lib_name: str, wl_name: str, steps: int) -> None:
    wl = next(w for w in WORKLOADS if w.name == wl_name)
    lib = torch if lib_name == "torch" else minidl
    rng = np.random.default_rng(0)
    x = rng.random((steps * wl.batch_size, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, steps * wl.batch_size)
    gc.collect()
    base = _rss_mb()
    reset = _reset_peak_rss()
    runner = Runner(lib, wl, None)
    runner.epoch(x, y, np.arange(len(x)), steps)
    print(f"{_peak_rss_mb(reset) - base:.1f}")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS mark here (Linux: "5" into clear_refs), so the peak excludes imports.

    ``ru_maxrss`` cannot serve: Linux carries it across fork and exec, so a probe started from the
    benchmark process would report the parent's (growing) peak, the same for both libraries.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb(reset: bool) -> float:
    """Peak RSS since :func:`_reset_peak_rss` (VmHWM), else the process's ru_maxrss."""
    if reset:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def limit_threads(threads: int) -> Any:
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("warning: threadpoolctl not installed; NumPy's BLAS uses its default thread count", file=sys.stderr)
        return None
    return threadpool_limits(limits=threads)


def _blas_info() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [f"{i.get('internal_api')}/{i.get('architecture')}x{i.get('num_threads')}" for i in threadpool_info()
            if i.get("user_api") == "blas"]


def fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="200 steps per epoch, 3 timed epochs")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs per library (after one warm-up)")
    p.add_argument("--steps", type=int, default=None, help="steps per epoch (default: a full epoch)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workloads", default=",".join(w.name for w in [*WORKLOADS, *SEQUENCE_WORKLOADS]))
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--profile", metavar="WORKLOAD",
                   help="instead of the benchmark, print where WORKLOAD's training step spends its time, per "
                        "phase (both libraries) and per minidl op forward/backward")
    p.add_argument("--torch-ops", action="store_true",
                   help="with --profile, also print torch.profiler's table")
    p.add_argument("--cpu-clock", action="store_true",
                   help="with --profile and --threads 1, time by the thread's CPU time "
                        "(robust on a loaded machine)")
    p.add_argument("--procs", type=int, default=None,
                   help="instead of the side-by-side table, compare data-parallel training on this many processes "
                        "(1 thread each) and one process at --threads, for both libraries (see data_parallel.py)")
    p.add_argument("--rounds", type=int, default=3, help="with --procs: launches of each configuration")
    p.add_argument("--dp-worker", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    p.add_argument("--sync-bn", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--memory-probe", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    p.add_argument("--probe-steps", type=int, default=30, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.dp_worker:
        from data_parallel import worker  # a sibling module: benchmarks/ is on sys.path when run as a script

        worker(*args.dp_worker, args.steps, args.epochs, args.threads, args.sync_bn, args.memory)
        return 0
    _limiter = limit_threads(args.threads)  # kept for the whole run
    if args.memory_probe:
        memory_probe(*args.memory_probe, args.probe_steps)
        return 0
    use_torch = torch is not None and not args.no_torch
    steps = 200 if args.quick and args.steps is None else args.steps
    if args.procs:
        import data_parallel

        chosen_names = [w.name for w in WORKLOADS if w.name in args.workloads.split(",")]
        dp = data_parallel.run(chosen_names, args.procs, args.threads, steps, 1 if args.quick else args.epochs,
                               args.rounds, use_torch)
        if args.json:
            atomic_write_text(args.json, json.dumps({"procs": args.procs, "threads": args.threads,
                                                     "data_parallel": dp}, indent=2))
        return 0
    data = load_data()
    if args.profile:
        from op_profile import profile  # a sibling module: benchmarks/ is on sys.path when run as a script

        wl = next((w for w in WORKLOADS if w.name == args.profile), None)
        if wl is None:
            names = [w.name for w in WORKLOADS]
            p.error(f"--profile: unknown workload {args.profile!r}; choose from {names}")
        cpu_clock = args.cpu_clock and args.threads == 1
        profile(Runner, wl, data, steps or 100, use_torch, args.torch_ops, cpu_clock)
        return 0
    peak = gemm_peak_gflops()
    blas = _blas_info()
    print(f"minidl {minidl.__version__}  torch {torch.__version__ if use_torch else '-'}  threads {args.threads}  "
          f"float32 GEMM peak {peak:.0f} GFLOP/s  BLAS {blas}")
    header = (f"{'workload':<12} {'minidl s/ep':>11} {'torch s/ep':>10} {'ratio':>6} {'minidl smp/s':>12} "
              f"{'MFU ours':>8} {'MFU torch':>9} {'eval ratio':>10} {'mem MB ours':>11} {'torch':>6}")
    print(header)
    results = []
    for wl in WORKLOADS:
        if wl.name not in args.workloads.split(","):
            continue
        r = run_workload(wl, data, args.epochs, steps, args.threads, peak, use_torch)
        if not args.no_memory:
            r.minidl_peak_mb = peak_memory_mb("minidl", wl.name, args.threads)
            if use_torch:
                r.torch_peak_mb = peak_memory_mb("torch", wl.name, args.threads)
        results.append(r)
        print(f"{wl.name:<12} {r.minidl_s_per_epoch:>11.2f} {fmt(r.torch_s_per_epoch, '.2f'):>10} "
              f"{fmt(r.ratio, '.2f'):>6} {r.minidl_samples_per_s:>12.0f} {r.minidl_mfu:>8.1%} "
              f"{fmt(r.torch_mfu, '.1%'):>9} {fmt(r.eval_ratio, '.2f'):>10} "
              f"{fmt(r.minidl_peak_mb, '.0f'):>11} {fmt(r.torch_peak_mb, '.0f'):>6}", flush=True)
    sequence_results = []
    chosen = [w for w in SEQUENCE_WORKLOADS if w.name in args.workloads.split(",")]
    if chosen:
        print(f"\n{'sequence':<12} {'minidl ms/step':>14} {'torch ms/step':>13} {'ratio':>6}")
    for sw in chosen:
        ours, theirs = run_sequence_workload(sw, 5 if args.quick else 15, use_torch)
        ratio = ours / theirs if theirs else None
        sequence_results.append({"workload": sw.name, "minidl_ms": ours, "torch_ms": theirs, "ratio": ratio})
        print(f"{sw.name:<12} {ours:>14.1f} {fmt(theirs, '.1f'):>13} {fmt(ratio, '.2f'):>6}", flush=True)
    if args.json:
        payload = {"threads": args.threads, "gemm_peak_gflops": peak, "results": [asdict(r) for r in results],
                   "sequences": sequence_results}
        atomic_write_text(args.json, json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
