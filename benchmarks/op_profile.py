"""Where a training step's time goes, per op forward/backward, for minidl and (coarsely) for PyTorch.

Used by ``python benchmarks/train_speed.py --profile WORKLOAD``. Every :class:`minidl.ops.base.Op`
subclass has its ``forward`` and ``backward`` wrapped in a timer for the duration of the profile, keyed by
the op's name and its output shape (which tells the layers of a model apart: the backward of a layer sees
a gradient of the same shape as its forward output). The step is split into phases (batch, forward incl.
loss, backward, optimizer step, zero_grad); the backward phase minus the ops' backward time is the
engine's own cost (topological sort, gradient bookkeeping, unbroadcast, accumulation into ``.grad``).

PyTorch is timed by the same phases with the same loop; with ``--torch-ops`` the top of
``torch.profiler``'s table is printed as well (it adds its own overhead, so only its shares are useful).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import minidl
from minidl.ops.base import Op

minidl.ops.keep_freed_memory()  # what training with minidl does (Trainer, CLI): see minidl/ops/_memory.py


def _op_classes() -> list[type]:
    out, todo = [], [Op]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


#: the clock of every measurement here: wall time, or with ``use_cpu_clock()`` the calling thread's CPU time,
#: which ignores time the thread spent descheduled (other processes on a shared machine). Only meaningful
#: with 1 thread: BLAS worker threads' time is not counted.
_clock = time.perf_counter


def use_cpu_clock(on: bool) -> None:
    global _clock
    _clock = time.thread_time if on else time.perf_counter


@contextmanager
def timed_ops(table: dict) -> Iterator[None]:
    """Wrap every op class's forward/backward; each call appends its seconds to
    ``table[(name, out_shape, 'fwd' or 'bwd')]`` (a defaultdict(list))."""
    saved = []
    perf = _clock
    for cls in _op_classes():
        if "forward" not in cls.__dict__ or "backward" not in cls.__dict__:
            continue
        fwd, bwd = cls.__dict__["forward"], cls.__dict__["backward"]

        def forward(self: Any, *a: Any, _f: Any = fwd, **k: Any) -> Any:
            t0 = perf()
            out = _f(self, *a, **k)
            table[(self.name, tuple(np.shape(out[0])), "fwd")].append(perf() - t0)
            return out

        def backward(self: Any, dout: Any, cache: Any, needs: Any = None, _b: Any = bwd) -> Any:
            t0 = perf()
            grads = _b(self, dout, cache, needs)
            table[(self.name, tuple(np.shape(dout)), "bwd")].append(perf() - t0)
            return grads

        saved.append((cls, fwd, bwd))
        cls.forward, cls.backward = forward, backward
    try:
        yield
    finally:
        for cls, fwd, bwd in saved:
            cls.forward, cls.backward = fwd, bwd


def phase_times(runner: Any, x: np.ndarray, y: np.ndarray, order: np.ndarray, steps: int) -> dict[str, float]:
    """Seconds per step of each phase of ``runner``'s training loop (same loop as ``Runner.epoch``)."""
    perf = _clock
    acc: dict[str, float] = defaultdict(float)
    bs = runner.wl.batch_size
    runner.model.train()
    for i in range(steps):
        idx = order[i * bs:(i + 1) * bs]
        t0 = perf()
        xb, yb = runner.batch(x[idx], y[idx])
        t1 = perf()
        runner.opt.zero_grad()
        t2 = perf()
        loss = runner.F.cross_entropy(runner.model(xb), yb)
        t3 = perf()
        loss.backward()
        t4 = perf()
        runner.opt.step()
        t5 = perf()
        float(loss.item())
        acc["batch"] += t1 - t0
        acc["zero_grad"] += t2 - t1
        acc["forward"] += t3 - t2
        acc["backward"] += t4 - t3
        acc["step"] += t5 - t4
        acc["total"] += perf() - t0
    return {k: v / steps for k, v in acc.items()}


def profile(runner_cls: Any, wl: Any, data: tuple, steps: int, use_torch: bool, torch_ops: bool,
            cpu_clock: bool = False) -> None:
    """Print the per-phase and per-op profile of ``steps`` training steps of ``wl``."""
    use_cpu_clock(cpu_clock)
    xtr, ytr = data[0], data[1]
    steps = min(steps, len(xtr) // wl.batch_size)  # one pass over the data at most
    minidl.manual_seed(0)
    ours = runner_cls(minidl, wl, None)
    state = {k: v.numpy().copy() for k, v in ours.model.state_dict().items()}
    order = np.random.default_rng(0).permutation(len(xtr))
    ours.epoch(xtr, ytr, order, min(steps, 20))  # warm-up: allocator, BLAS threads, caches
    ph = {"minidl": phase_times(ours, xtr, ytr, order, steps)}
    if use_torch:
        import torch

        theirs = runner_cls(torch, wl, state)
        theirs.epoch(xtr, ytr, order, min(steps, 20))
        ph["torch"] = phase_times(theirs, xtr, ytr, order, steps)
    table: dict = defaultdict(list)
    with timed_ops(table):
        phase_ops = phase_times(ours, xtr, ytr, order, steps)

    libs = list(ph)
    clock = "thread CPU time" if cpu_clock else "wall time"
    print(f"\nprofile of {wl.name}, batch {wl.batch_size}, {steps} steps (ms per step, {clock})")
    print(f"{'phase':<12}" + "".join(f"{lib:>10}" for lib in libs) + ("   ratio" if use_torch else ""))
    for phase in ("batch", "zero_grad", "forward", "backward", "step", "total"):
        vals = [ph[lib].get(phase, 0.0) * 1e3 for lib in libs]
        ratio = f"{vals[0] / vals[1]:8.2f}" if use_torch and vals[1] > 0 else ""
        print(f"{phase:<12}" + "".join(f"{v:>10.3f}" for v in vals) + ratio)

    print(f"\nminidl ops, timed ({phase_ops['total'] * 1e3:.3f} ms/step with timers on)")
    print(f"{'op':<22}{'output shape':<22}{'fwd ms':>9}{'bwd ms':>9}{'calls':>7}{'share':>8}")
    rows: dict = defaultdict(lambda: [0.0, 0.0, 0])
    for (name, shape, kind), ts in table.items():
        r = rows[(name, shape)]
        r[0 if kind == "fwd" else 1] += sum(ts) / steps * 1e3
        r[2] += len(ts) if kind == "fwd" else 0
    total = phase_ops["total"] * 1e3
    op_fwd = sum(r[0] for r in rows.values())
    op_bwd = sum(r[1] for r in rows.values())
    for (name, shape), (f, b, n) in sorted(rows.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        print(f"{name:<22}{str(shape):<22}{f:>9.3f}{b:>9.3f}{n // steps:>7}{(f + b) / total:>8.1%}")
    engine = phase_ops["backward"] * 1e3 - op_bwd
    glue = phase_ops["forward"] * 1e3 - op_fwd
    print(f"{'(module/engine glue, forward)':<44}{glue:>9.3f}{'':>9}{'':>7}{glue / total:>8.1%}")
    print(f"{'(engine, backward)':<44}{'':>9}{engine:>9.3f}{'':>7}{engine / total:>8.1%}")
    for phase in ("step", "zero_grad", "batch"):
        v = phase_ops[phase] * 1e3
        print(f"{'(' + phase + ')':<44}{v:>9.3f}{'':>9}{'':>7}{v / total:>8.1%}")

    if use_torch and torch_ops:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as tprofile

        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            phase_times(theirs, xtr, ytr, order, min(steps, 50))
        print("\ntorch.profiler (self CPU time, top 15)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
