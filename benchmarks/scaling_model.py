"""Data-parallel step time on paper: how far each benchmark workload scales over 10 and 25 GbE.

A model, not a measurement of a cluster (this machine has 2 cores). What is measured and what is assumed:

* **measured here**: each workload's parameter count (by building the model with minidl), and its compute
  time per sample at 1 BLAS thread: a few training steps of ``train_speed.py``'s workloads at their batch
  sizes on random data (``--train-speed-json`` takes ``minidl_samples_per_s`` from a ``train_speed.py
  --threads 1 --json`` run instead), the optimizer update timed on its own. ResNet-18 on 224x224 images:
  one forward + backward at batch 8 with ``--measure``, else :data:`RESNET18_DEFAULT`, measured that way on
  this machine (see the constant);
* **assumed**: the networks' effective bandwidth (:data:`LINK_EFFICIENCY` of line rate), the latency per
  allreduce step (:data:`LATENCY_S`, ``--latency-us``), the overlap fraction (:data:`OVERLAP`,
  ``--overlap``), that compute divides evenly over the ranks (linear in the per-rank batch: optimistic at
  per-rank batches of a few samples, where BLAS runs less efficiently), and float32 gradients of every
  parameter, allreduced once per step.

The model, for N ranks sharing a global batch B (strong scaling: B fixed, B / N samples per rank)::

    compute(B) = c * B                                       c: compute seconds per sample (forward + backward)
    comm(N)    = 2 (N - 1) / N * grad_bytes / bandwidth + latency * log2(N)      (0 for N = 1)
    T(N)       = compute(B) / N + update + max(0, comm(N) - overlap * compute(B) / N)
    speedup(N) = T(1) / T(N),   efficiency(N) = speedup(N) / N

``2 (N - 1) / N * bytes`` is what each rank sends (and receives) in a bandwidth-optimal allreduce (a ring, or
MPICH's reduce-scatter + allgather for long messages); ``latency * log2(N)`` counts the rounds of the
recursive-halving/doubling schedule (a pure ring would pay 2 (N - 1) latencies instead). ``update`` is the
optimizer step, which every rank runs on all parameters, so it does not shrink with N. ``overlap`` is the
fraction of a rank's compute that can hide communication: gradients are ready during backward, about 2/3 of
forward + backward, so bucketed allreduces started then (DDP) run under it.

A workload **stops scaling** at the first rank count N (of 2, 4, ..., 64) where its efficiency falls below
50% or its speedup no longer grows; it "scales to" the rank count before. What extends it, both reported:

* a larger per-rank batch (compute grows, communication does not): the smallest per-rank batch that keeps
  efficiency >= 50% at 64 ranks, i.e. the global batch 64 ranks need;
* fp16 (or otherwise 2x compressed) gradients halve the bytes on the wire: the knee with half the bytes.

    python benchmarks/scaling_model.py                  # measure the workloads (~1 min), print the tables
    python benchmarks/scaling_model.py --quick          # fewer timed steps
    python benchmarks/scaling_model.py --measure        # also time ResNet-18 at 224x224 (a minute or two)
    python benchmarks/scaling_model.py --allreduce-json allreduce.json   # add this machine's measured link
    python benchmarks/scaling_model.py --json model.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RANKS = (1, 2, 4, 8, 16, 32, 64)
LINE_RATE_BPS = {"10 GbE": 10e9 / 8, "25 GbE": 25e9 / 8}  # bytes per second
# Assumption: MPI over TCP/IP reaches about 90% of Ethernet's line rate for large messages (framing, headers).
LINK_EFFICIENCY = 0.9
# Assumption: 20 us per allreduce step, the middle of the 10-30 us a small message takes over TCP on 10/25 GbE
# between hosts through one switch (RDMA over Converged Ethernet would be a few us).
LATENCY_S = 20e-6
# Assumption: backward is ~2/3 of forward + backward, and a bucketed allreduce can run under all of it.
OVERLAP = 2 / 3
EFFICIENCY_THRESHOLD = 0.5
RESNET18_BATCH = 256  # the usual ImageNet global batch (e.g. 8 workers x 32)
# ResNet-18, 224x224, minidl forward + backward at batch 8, 1 BLAS thread, on this machine (2 vCPUs, Intel
# Sapphire Rapids under KVM, shared), measured with `scaling_model.py --measure` on 2026-12-05: seconds per
# sample, and the SGD-momentum update of its 11.69 M parameters in seconds (three launches: 0.165, 0.166, 0.158
# s/sample; 0.050-0.057 s per update).
RESNET18_DEFAULT = {"compute_s_per_sample": 0.165, "update_s": 0.051}


# ------------------------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Network:
    name: str
    bandwidth_Bps: float  # effective bytes per second per link direction
    latency_s: float  # per allreduce step


@dataclass
class Profile:
    """What the model needs of one workload."""

    name: str
    params: int
    batch: int  # global batch
    compute_s_per_sample: float  # forward + backward, 1 thread
    update_s: float  # optimizer step, every rank, every step
    source: str

    def grad_bytes(self, bytes_per_param: float = 4.0) -> float:
        return self.params * bytes_per_param


@dataclass
class Point:
    ranks: int
    step_s: float
    comm_s: float
    speedup: float
    efficiency: float


def ring_factor(n: int) -> float:
    """2 (n - 1) / n: bytes each rank sends per byte reduced in a bandwidth-optimal allreduce."""
    return 2 * (n - 1) / n


def allreduce_time(nbytes: float, n: int, net: Network) -> float:
    """Modelled allreduce seconds: ``2 (n-1)/n * nbytes / bandwidth + latency * log2(n)``, 0 for one rank."""
    if n == 1:
        return 0.0
    return ring_factor(n) * nbytes / net.bandwidth_Bps + net.latency_s * math.log2(n)


def step_time(n: int, compute_s: float, comm_s: float, overlap: float = OVERLAP, update_s: float = 0.0) -> float:
    """Seconds per step at n ranks: ``compute / n + update + max(0, comm - overlap * compute / n)``, where
    ``compute_s`` is the compute of the whole global batch on one rank."""
    local = compute_s / n
    return local + update_s + max(0.0, comm_s - overlap * local)


def scaling(profile: Profile, net: Network, ranks: Sequence[int] = RANKS, overlap: float = OVERLAP,
            bytes_per_param: float = 4.0, batch: int | None = None) -> list[Point]:
    """Step time, speedup and efficiency of ``profile`` at each rank count (global batch ``batch``, default
    the profile's), against one rank with the same global batch."""
    batch = profile.batch if batch is None else batch
    compute = profile.compute_s_per_sample * batch
    t1 = step_time(1, compute, 0.0, overlap, profile.update_s)
    points = []
    for n in ranks:
        comm = allreduce_time(profile.grad_bytes(bytes_per_param), n, net)
        t = step_time(n, compute, comm, overlap, profile.update_s)
        points.append(Point(n, t, comm, t1 / t, t1 / t / n))
    return points


def knee(points: Sequence[Point], threshold: float = EFFICIENCY_THRESHOLD) -> tuple[int, int | None, str]:
    """(scales_to, stops_at, why): ``stops_at`` is the first rank count whose efficiency is below
    ``threshold`` or whose speedup is no higher than the previous count's (None if none is),
    ``scales_to`` the count before it (or the last one)."""
    prev: Point | None = None
    for p in points:
        if p.ranks > 1:
            if p.efficiency < threshold:
                return (prev.ranks if prev else 1), p.ranks, f"efficiency {p.efficiency:.0%} < {threshold:.0%}"
            if prev is not None and p.speedup <= prev.speedup:
                return prev.ranks, p.ranks, f"speedup {p.speedup:.2f} <= {prev.speedup:.2f}"
        prev = p
    return points[-1].ranks, None, "scales through the grid"


def per_rank_batch_needed(profile: Profile, net: Network, n: int, overlap: float = OVERLAP,
                          bytes_per_param: float = 4.0, threshold: float = EFFICIENCY_THRESHOLD,
                          limit: int = 2**24) -> int | None:
    """Smallest per-rank batch b with efficiency >= threshold at n ranks (global batch n * b); None if even
    ``limit`` is not enough (efficiency grows with b: compute grows, communication does not)."""
    def ok(b: int) -> bool:
        return scaling(profile, net, (n,), overlap, bytes_per_param, batch=n * b)[0].efficiency >= threshold

    if not ok(limit):
        return None
    lo, hi = 0, 1  # invariant: ok(hi), not ok(lo) (lo = 0 stands for "no batch")
    while not ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def fit_alpha_beta(sizes: Sequence[float], times: Sequence[float], n: int) -> tuple[float, float]:
    """Least-squares fit of ``t = alpha + 2 (n-1)/n * size / beta``; returns (alpha seconds, beta bytes/s).

    The residuals are relative (each equation divided by its t), so a 4 KB message's microseconds weigh as
    much as a 64 MB message's milliseconds; plain absolute least squares would fit the largest size only.
    ``beta`` is infinite if the times do not grow with size.
    """
    t = np.asarray(times, dtype=np.float64)
    x = ring_factor(n) * np.asarray(sizes, dtype=np.float64)
    a = np.stack([np.ones_like(x), x], axis=1) / t[:, None]
    (alpha, slope), *_ = np.linalg.lstsq(a, np.ones_like(t), rcond=None)
    return float(alpha), (float(1.0 / slope) if slope > 0 else math.inf)


def ethernet(latency_s: float = LATENCY_S) -> list[Network]:
    return [Network(name, rate * LINK_EFFICIENCY, latency_s) for name, rate in LINE_RATE_BPS.items()]


# ---------------------------------------------------------------------------------------------- measuring
def count_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _median_time(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _timed_training(model: Any, opt: Any, x: Any, y: Any, warmup: int, repeats: int) -> tuple[float, float]:
    """(median seconds of forward + backward, median seconds of the optimizer update) on one batch."""
    import minidl

    def fwd_bwd() -> None:
        opt.zero_grad()
        minidl.nn.functional.cross_entropy(model(x), y).backward()

    for _ in range(warmup):
        fwd_bwd()
        opt.step()
    compute = _median_time(fwd_bwd, repeats)
    update = _median_time(opt.step, repeats)
    return compute, update


def measure_workloads(quick: bool) -> list[Profile]:
    """Parameters and 1-thread compute per sample of ``train_speed.py``'s workloads, on random data."""
    from train_speed import WORKLOADS, Runner  # a sibling module: benchmarks/ is on sys.path

    import minidl

    rng = np.random.default_rng(0)
    profiles = []
    for wl in WORKLOADS:
        minidl.manual_seed(0)
        runner = Runner(minidl, wl, None)
        x = rng.random((wl.batch_size, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, wl.batch_size)
        xb, yb = runner.batch(x, y)
        compute, update = _timed_training(runner.model, runner.opt, xb, yb, 3, 5 if quick else 20)
        profiles.append(Profile(wl.name, count_params(runner.model), wl.batch_size, compute / wl.batch_size,
                                update, f"measured: {5 if quick else 20} steps at batch {wl.batch_size}, 1 thread"))
    return profiles


def from_train_speed(path: str) -> list[Profile]:
    """Profiles from a ``train_speed.py --json`` file: seconds per sample = 1 / minidl_samples_per_s (the
    optimizer update is then inside the per-sample time and divides with N: slightly optimistic)."""
    from train_speed import WORKLOADS

    import minidl

    payload = json.loads(Path(path).read_text())
    if payload.get("threads") != 1:
        print(f"warning: {path} was measured at {payload.get('threads')} threads, not 1", file=sys.stderr)
    speed = {r["workload"]: r["minidl_samples_per_s"] for r in payload["results"]}
    profiles = []
    for wl in WORKLOADS:
        if wl.name in speed:
            minidl.manual_seed(0)
            profiles.append(Profile(wl.name, count_params(wl.build(minidl)), wl.batch_size, 1 / speed[wl.name],
                                    0.0, f"train_speed.py JSON ({path}), {payload.get('threads')} thread(s)"))
    return profiles


def resnet18_profile(measure: bool, quick: bool) -> Profile:
    """ResNet-18 on 224x224: parameters counted from minidl's model; compute measured or the default."""
    import minidl
    from minidl.models import resnet18

    minidl.manual_seed(0)
    model = resnet18()
    params = count_params(model)
    if not measure:
        return Profile("resnet18_224", params, RESNET18_BATCH, RESNET18_DEFAULT["compute_s_per_sample"],
                       RESNET18_DEFAULT["update_s"], "default: measured with --measure on 2026-12-05 (this machine)")
    batch = 8
    rng = np.random.default_rng(0)
    x = minidl.from_numpy(rng.standard_normal((batch, 3, 224, 224), dtype=np.float32))
    y = minidl.from_numpy(rng.integers(0, 1000, batch))
    opt = minidl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    compute, update = _timed_training(model, opt, x, y, 1, 1 if quick else 3)
    return Profile("resnet18_224", params, RESNET18_BATCH, compute / batch, update,
                   f"measured: forward + backward at batch {batch}, 1 thread")


def measured_link(path: str) -> Network:
    """This machine's shared-memory 'link' at 2 ranks, from an ``allreduce_speed.py --json`` file (the
    blocking Allreduce's alpha/beta fit: at 2 ranks log2(N) = 1, so alpha is the model's latency)."""
    payload = json.loads(Path(path).read_text())
    run = next(r for r in payload["runs"] if r["ranks"] == 2)
    fit = run["fit"]["Allreduce"]
    return Network("this machine, 2 ranks (measured)", fit["beta_Bps"], fit["alpha_s"])


# -------------------------------------------------------------------------------------------------- output
def scaling_table(profiles: Sequence[Profile], net: Network, overlap: float, ranks: Sequence[int]) -> str:
    cols = [n for n in ranks if n > 1]
    out = [f"### {net.name}: {net.bandwidth_Bps / 1e9:.3g} GB/s effective, {net.latency_s * 1e6:.0f} µs per "
           f"step, overlap {overlap:.2f} (speedup x, efficiency %)", "",
           "| workload | " + " | ".join(f"N={n}" for n in cols) + " | scales to | stops at |",
           "|---|" + "---:|" * (len(cols) + 2)]
    for prof in profiles:
        pts = scaling(prof, net, ranks, overlap)
        to, stop, why = knee(pts)
        cells = [f"{p.speedup:.2f}x {p.efficiency:.0%}" for p in pts if p.ranks > 1]
        out.append(f"| {prof.name} | " + " | ".join(cells) + f" | {to} | {stop or '-'} ({why}) |")
    return "\n".join(out)


def knee_table(profiles: Sequence[Profile], nets: Sequence[Network], overlap: float,
               ranks: Sequence[int]) -> str:
    top = ranks[-1]
    out = [f"### What extends the knee (efficiency >= {EFFICIENCY_THRESHOLD:.0%} at {top} ranks)", "",
           f"| workload | network | scales to (fp32) | scales to (fp16 comm) | per-rank batch at {top} now | "
           f"per-rank batch needed (fp32) | global batch needed (fp32) | per-rank batch needed (fp16) |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for prof in profiles:
        for net in nets:
            fp32 = knee(scaling(prof, net, ranks, overlap))[0]
            fp16 = knee(scaling(prof, net, ranks, overlap, bytes_per_param=2.0))[0]
            need32 = per_rank_batch_needed(prof, net, top, overlap)
            need16 = per_rank_batch_needed(prof, net, top, overlap, bytes_per_param=2.0)
            glob = "-" if need32 is None else f"{top * need32} ({top * need32 / prof.batch:.2g}x today's)"
            out.append(f"| {prof.name} | {net.name} | {fp32} | {fp16} | {prof.batch / top:g} | "
                       f"{need32 or '> limit'} | {glob} | {need16 or '> limit'} |")
    return "\n".join(out)


def profile_table(profiles: Sequence[Profile]) -> str:
    out = ["| workload | params | grad MB (fp32) | global batch | compute ms/sample | update ms | source |",
           "|---|---:|---:|---:|---:|---:|---|"]
    for p in profiles:
        out.append(f"| {p.name} | {p.params:,} | {p.grad_bytes() / 1e6:.2f} | {p.batch} | "
                   f"{p.compute_s_per_sample * 1e3:.3f} | {p.update_s * 1e3:.2f} | {p.source} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="5 timed steps per workload instead of 20")
    p.add_argument("--measure", action="store_true", help="time ResNet-18 at 224x224 instead of the default")
    p.add_argument("--train-speed-json", metavar="PATH", help="per-sample times from train_speed.py --json")
    p.add_argument("--allreduce-json", metavar="PATH",
                   help="also model this machine's 2-rank link from allreduce_speed.py --json")
    p.add_argument("--latency-us", type=float, default=LATENCY_S * 1e6, help="latency per allreduce step")
    p.add_argument("--overlap", type=float, default=OVERLAP, help="fraction of compute that hides communication")
    p.add_argument("--json", metavar="PATH", help="also write profiles and every point here (atomically)")
    args = p.parse_args(argv)
    if not 0 <= args.overlap <= 1:
        p.error(f"--overlap must be in [0, 1], got {args.overlap}")
    if str(Path(__file__).resolve().parent) not in sys.path:  # train_speed is a sibling module
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_speed import limit_threads

    from minidl._atomic import atomic_write_text

    _limiter = limit_threads(1)  # kept for the whole run: compute per sample is a 1-thread figure
    profiles = from_train_speed(args.train_speed_json) if args.train_speed_json else measure_workloads(args.quick)
    profiles.append(resnet18_profile(args.measure, args.quick))
    nets = ethernet(args.latency_us * 1e-6)
    print("## Workloads (compute per sample at 1 BLAS thread on this machine)\n")
    print(profile_table(profiles))
    for net in nets:
        print(f"\n{scaling_table(profiles, net, args.overlap, RANKS)}")
    print(f"\n{knee_table(profiles, nets, args.overlap, RANKS)}")
    local = None
    if args.allreduce_json:
        local = measured_link(args.allreduce_json)
        print(f"\n{scaling_table(profiles, local, args.overlap, (1, 2))}")
    if args.json:
        payload = {"overlap": args.overlap, "link_efficiency": LINK_EFFICIENCY,
                   "profiles": [asdict(p) for p in profiles],
                   "networks": {net.name: {"network": asdict(net),
                                           "points": {p.name: [asdict(x) for x in scaling(p, net, RANKS,
                                                                                          args.overlap)]
                                                      for p in profiles}}
                                for net in nets + ([local] if local else [])}}
        atomic_write_text(args.json, json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
