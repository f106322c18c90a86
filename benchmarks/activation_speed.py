"""Forward + backward time of the activations and losses of minidl.nn.functional against PyTorch's.

    python benchmarks/activation_speed.py [--shape 32 64 128] [--rounds 9] [--threads 1]

Each function runs on the same float32 input (a transformer-sized activation by default) in both libraries,
side by side in one process, alternating; the median of ``--rounds`` forward+backward passes is printed
with the ratio minidl / PyTorch (below 1: minidl is faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minidl
import minidl.nn.functional as F

CASES: list[tuple[str, dict[str, Any]]] = [
    ("relu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("elu", {}),
    ("selu", {}), ("softplus", {}), ("hardswish", {}), ("hardsigmoid", {}), ("logsigmoid", {}),
    ("l1_loss", {}), ("smooth_l1_loss", {}), ("huber_loss", {}), ("kl_div", {"reduction": "batchmean"}),
]  # fmt: skip


def median_time(fn: Callable[[Any], Any], make: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        x = make()
        start = time.perf_counter()
        out = fn(x)
        (out if out.ndim == 0 else out.sum()).backward()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    minidl.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(args.shape).astype(np.float32)
    y = rng.standard_normal(args.shape).astype(np.float32)
    print(f"input {tuple(args.shape)} float32, {args.threads} thread(s), median of {args.rounds}")
    print(f"{'function':<32}{'minidl ms':>10}{'torch ms':>10}{'ratio':>8}")
    for name, kw in CASES:
        loss = name.endswith("loss") or name == "kl_div"
        results = []
        for lib, mod in ((minidl, F), (torch, torch.nn.functional)):
            target = lib.tensor(y)
            f = getattr(mod, name)
            fn = (lambda t, f=f, tg=target, kw=kw: f(t, tg, **kw)) if loss else (lambda t, f=f, kw=kw: f(t, **kw))
            results.append(median_time(fn, lambda lib=lib: lib.tensor(x, requires_grad=True), args.rounds))
        label = name + ("" if not kw else f" {kw}")
        print(f"{label:<32}{results[0] * 1e3:>10.2f}{results[1] * 1e3:>10.2f}{results[0] / results[1]:>8.2f}")


if __name__ == "__main__":
    main()
