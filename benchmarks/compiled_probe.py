"""How much a compiled kernel would save on LeNet-5's memory-bound passes: minidl's NumPy ops against numba.

An experiment behind a decision, not a part of minidl: the data-parallel targets of LeNet-5 (with and without
batch norm) need a rank step about 13-15% cheaper, the GEMMs already run near this core's BLAS peak, and what is
left is memory-bound passes that NumPy runs one ufunc at a time. This script times, on one rank's shapes (batch
64 of LeNet-5's global 128, channels-last as minidl's convolutions return them, float32, 1 thread):

* batch norm forward + backward in training mode on conv1's (64, 6, 24, 24) and conv2's (64, 16, 8, 8)
  outputs: :class:`minidl.ops.norm.BatchNorm` against a fused kernel of two reading passes and one writing
  pass each way;
* 2×2 max pooling forward + backward on (64, 6, 24, 24): :class:`minidl.ops.pool.MaxPool2d` against a kernel
  that keeps the argmax as one byte per output.

Each numba kernel is first checked against minidl's op (the same values, the same first-maximum rule), then
both are timed in the same process, alternately, best of 7 runs. The allocator is set as training sets it
(:func:`minidl.ops.keep_freed_memory`): without it, every call's freed arrays went back to the system and were
paged in again by the next call, a cost of this loop that tripled the batch norm's time.

    pip install numba && python benchmarks/compiled_probe.py
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy loads its BLAS

import numpy as np  # noqa: E402

try:
    import numba
except ImportError:
    sys.exit("compiled_probe.py needs numba (pip install numba); minidl itself does not")

import minidl.ops  # noqa: E402
from minidl.ops.norm import BatchNorm  # noqa: E402
from minidl.ops.pool import MaxPool2d  # noqa: E402

minidl.ops.keep_freed_memory()  # what training with minidl does (Trainer, CLI): see minidl/ops/_memory.py


@numba.njit(fastmath=True)
def bn_forward(x: np.ndarray, c: int, w: np.ndarray, b: np.ndarray, eps: float) -> tuple:
    """y = γ x̂ + β over an (R, F) channels-last view; returns y, x̂ and 1/√(σ² + ε) (per channel).

    Per-feature sums over the rows vectorise along the contiguous F axis and are then folded to channels,
    as minidl's op does; the mean and the centred second moment take one reading pass each (two-pass, stable).
    """
    r, f = x.shape
    count = r * (f // c)
    acc = np.zeros(f, np.float32)
    for i in range(r):
        acc += x[i]
    mean = np.zeros(c, np.float32)
    for j in range(f):
        mean[j % c] += acc[j]
    mean /= count
    mean_f = np.empty(f, np.float32)
    for j in range(f):
        mean_f[j] = mean[j % c]
    acc[:] = 0
    for i in range(r):
        for j in range(f):
            d = x[i, j] - mean_f[j]
            acc[j] += d * d
    var = np.zeros(c, np.float32)
    for j in range(f):
        var[j % c] += acc[j]
    inv_std = (1.0 / np.sqrt(var / count + eps)).astype(np.float32)
    inv_f, w_f, b_f = np.empty(f, np.float32), np.empty(f, np.float32), np.empty(f, np.float32)
    for j in range(f):
        inv_f[j], w_f[j], b_f[j] = inv_std[j % c], w[j % c], b[j % c]
    xhat, y = np.empty_like(x), np.empty_like(x)
    for i in range(r):
        for j in range(f):
            h = (x[i, j] - mean_f[j]) * inv_f[j]
            xhat[i, j] = h
            y[i, j] = h * w_f[j] + b_f[j]
    return y, xhat, inv_std


@numba.njit(fastmath=True)
def bn_backward(dy: np.ndarray, xhat: np.ndarray, c: int, scale: np.ndarray) -> np.ndarray:
    """dx = scale · (dy − (Σ dy + x̂ Σ dy ⊙ x̂)/M), with scale = γ/√(σ² + ε): one reading pass, one writing pass."""
    r, f = dy.shape
    count = r * (f // c)
    a1, a2 = np.zeros(f, np.float32), np.zeros(f, np.float32)
    for i in range(r):
        for j in range(f):
            a1[j] += dy[i, j]
            a2[j] += dy[i, j] * xhat[i, j]
    s1, s2 = np.zeros(c, np.float32), np.zeros(c, np.float32)
    for j in range(f):
        s1[j % c] += a1[j]
        s2[j % c] += a2[j]
    m1, m2, sc = np.empty(f, np.float32), np.empty(f, np.float32), np.empty(f, np.float32)
    for j in range(f):
        m1[j], m2[j], sc[j] = s1[j % c] / count, s2[j % c] / count, scale[j % c]
    dx = np.empty_like(dy)
    for i in range(r):
        for j in range(f):
            dx[i, j] = sc[j] * (dy[i, j] - m1[j] - xhat[i, j] * m2[j])
    return dx


@numba.njit
def pool_forward(x: np.ndarray) -> tuple:
    """2×2 stride-2 max pooling of channels-last (N, H, W, C); the argmax (0-3, row-major first maximum)."""
    n, h, w, c = x.shape
    out = np.empty((n, h // 2, w // 2, c), x.dtype)
    arg = np.empty((n, h // 2, w // 2, c), np.uint8)
    for i in range(n):
        for p in range(h // 2):
            for q in range(w // 2):
                for k in range(c):
                    best, a = x[i, 2 * p, 2 * q, k], 0
                    for t in range(1, 4):
                        v = x[i, 2 * p + t // 2, 2 * q + t % 2, k]
                        if v > best:
                            best, a = v, t
                    out[i, p, q, k], arg[i, p, q, k] = best, a
    return out, arg


@numba.njit
def pool_backward(dout: np.ndarray, arg: np.ndarray, h: int, w: int) -> np.ndarray:
    """Each output gradient routed to its window's first maximum."""
    n, ph, pw, c = dout.shape
    dx = np.zeros((n, h, w, c), dout.dtype)
    for i in range(n):
        for p in range(ph):
            for q in range(pw):
                for k in range(c):
                    a = arg[i, p, q, k]
                    dx[i, 2 * p + a // 2, 2 * q + a % 2, k] = dout[i, p, q, k]
    return dx


def best_ms(fns: dict[str, Callable[[], object]], reps: int = 200, runs: int = 7) -> dict[str, float]:
    """Best time per call of each function, the functions alternating run by run."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for f in fns.values():
        f()
    for _ in range(runs):
        for k, f in fns.items():
            t = time.perf_counter()
            for _ in range(reps):
                f()
            times[k].append((time.perf_counter() - t) / reps * 1e3)
    return {k: min(v) for k, v in times.items()}


def channels_last(rng: np.random.Generator, shape: tuple[int, int, int, int]) -> np.ndarray:
    """An NCHW array in channels-last memory, as minidl's convolutions return their outputs."""
    n, c, h, w = shape
    return rng.standard_normal((n, h, w, c), dtype=np.float32).transpose(0, 3, 1, 2)


def rows(a: np.ndarray) -> np.ndarray:
    """The (N·H, W·C) view of a channels-last NCHW array."""
    n, c, h, w = a.shape
    return a.transpose(0, 2, 3, 1).reshape(n * h, w * c)


def probe_batch_norm(rng: np.random.Generator, shape: tuple[int, int, int, int]) -> tuple[float, float]:
    c = shape[1]
    x, g = channels_last(rng, shape), channels_last(rng, shape)
    w, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    op = BatchNorm()
    x2, g2 = rows(x), rows(g)

    def numpy_op() -> object:
        out, cache = op.forward(x, w, b, training=True)
        return out, op.backward(g, cache)[0]

    def compiled() -> object:
        y, xhat, inv_std = bn_forward(x2, c, w, b, 1e-5)
        return y, bn_backward(g2, xhat, c, inv_std * w)

    (y_ref, dx_ref), (y, dx) = numpy_op(), compiled()
    np.testing.assert_allclose(y, rows(y_ref), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, rows(dx_ref), rtol=1e-4, atol=1e-4)
    t = best_ms({"numpy": numpy_op, "numba": compiled})
    return t["numpy"], t["numba"]


def probe_max_pool(rng: np.random.Generator, shape: tuple[int, int, int, int]) -> tuple[float, float]:
    x = np.maximum(channels_last(rng, shape), 0)  # after a ReLU: ties at 0 test the first-maximum rule
    xc = x.transpose(0, 2, 3, 1)
    op = MaxPool2d()
    out, cache = op.forward(x, 2)
    d = rng.standard_normal(out.shape, dtype=np.float32)
    dc = np.ascontiguousarray(d.transpose(0, 2, 3, 1))
    h, w = shape[2:]

    def numpy_op() -> object:
        o, cc = op.forward(x, 2)
        return o, op.backward(d, cc)[0]

    def compiled() -> object:
        o, arg = pool_forward(xc)
        return o, pool_backward(dc, arg, h, w)

    (o_ref, dx_ref), (o, dx) = numpy_op(), compiled()
    np.testing.assert_array_equal(o, np.asarray(o_ref).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(dx, np.asarray(dx_ref).transpose(0, 2, 3, 1))
    t = best_ms({"numpy": numpy_op, "numba": compiled})
    return t["numpy"], t["numba"]


def main() -> int:
    rng = np.random.default_rng(0)
    print(f"numba {numba.__version__}, NumPy {np.__version__}; 1 thread, best of 7 runs of 200 calls, ms per call")
    print(f"{'pass (forward + backward)':44s} {'NumPy op':>9s} {'numba':>7s} {'ratio':>6s}")
    total = [0.0, 0.0]
    for name, probe, shape in (("batch norm, conv1 (64, 6, 24, 24)", probe_batch_norm, (64, 6, 24, 24)),
                               ("batch norm, conv2 (64, 16, 8, 8)", probe_batch_norm, (64, 16, 8, 8)),
                               ("max pool 2x2, pool1 (64, 6, 24, 24)", probe_max_pool, (64, 6, 24, 24)),
                               ("max pool 2x2, pool2 (64, 16, 8, 8)", probe_max_pool, (64, 16, 8, 8))):
        a, b = probe(rng, shape)
        total[0] += a
        total[1] += b
        print(f"{name:44s} {a:9.3f} {b:7.3f} {a / b:5.2f}x")
    print(f"{'all four':44s} {total[0]:9.3f} {total[1]:7.3f} {total[0] / total[1]:5.2f}x"
          f"  (saves {total[0] - total[1]:.2f} ms of a LeNet-5-BN rank step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
