"""Numeric gradient checking, as a library tool.

The classic helpers (same names and semantics as the course code learners know):

* :func:`eval_numerical_gradient` — gradient of a scalar function f(x) by central differences;
* :func:`eval_numerical_gradient_array` — gradient of ``sum(f(x) * df)`` for array-valued f;
* :func:`rel_error` — ``max |x - y| / max(1e-8, |x| + |y|)`` elementwise.

And :func:`gradcheck`, which checks any op, module or function of tensors in float64 against central
differences and returns a per-input report.

Central differences: ∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / 2h, with error O(h²) plus rounding O(ε|f|/h).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .random import manual_seed
from .tensor import Tensor, no_grad

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "gradcheck",
    "GradcheckReport",
    "GradcheckEntry",
]


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True,
                            h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of the scalar function ``f`` at ``x`` (``x`` is perturbed in place, then restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of ``sum(f(x) * df)`` with respect to ``x``: the backward pass of f given upstream df."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(x: Any, y: Any) -> float:
    """Classic relative error: ``max |x - y| / max(1e-8, |x| + |y|)`` over all elements."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def scaled_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max |a - n| / max(|a|, |n|)``: the worst error relative to the gradient's own scale.

    Unlike the elementwise :func:`rel_error`, tiny entries of a large gradient (where differences carry
    rounding noise of order ε|f|/h) do not dominate. Zero when both gradients are exactly zero.
    """
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(numeric), initial=0.0)))
    diff = float(np.max(np.abs(analytic - numeric), initial=0.0))
    if scale == 0.0:
        return diff
    return diff / scale


@dataclass
class GradcheckEntry:
    """The check of one input's gradient."""

    name: str
    shape: tuple[int, ...]
    rel_error: float
    max_abs_error: float
    ok: bool


@dataclass
class GradcheckReport:
    """Per-input results of :func:`gradcheck`; truthy when every input passed."""

    entries: list[GradcheckEntry] = field(default_factory=list)
    tol: float = 1e-6

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def max_rel_error(self) -> float:
        return max((e.rel_error for e in self.entries), default=0.0)

    def __getitem__(self, name: str) -> GradcheckEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def __str__(self) -> str:
        rows = [f"{e.name:<12} {str(e.shape):<18} {e.rel_error:9.1e}  {'ok' if e.ok else 'FAIL'}"
                for e in self.entries]
        return "\n".join(rows)


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, names: Sequence[str] | None = None, eps: float = 1e-6,
              tol: float = 1e-6, seed: int = 0) -> GradcheckReport:
    """Check the analytic gradients of ``fn(*inputs)`` against central differences, in float64.

    Floating inputs (arrays or tensors) become float64 leaf tensors and are checked; other inputs (integer
    labels, settings) pass through unchanged. A random upstream gradient ``dout`` turns any output into the
    scalar ``sum(fn(...) * dout)``. minidl's global generator is reseeded with ``seed`` before every call
    of ``fn``, so dropout masks are the same in every evaluation. Each input's error is
    ``max |analytic - numeric| / max(|analytic|, |numeric|)`` (see :func:`scaled_error`).
    """
    leaves: list[Tensor | Any] = []
    for x in inputs:
        arr = x.data if isinstance(x, Tensor) else x
        if isinstance(arr, np.ndarray) and np.issubdtype(arr.dtype, np.floating):
            leaves.append(Tensor(arr.astype(np.float64), requires_grad=True))
        else:
            leaves.append(x)
    checked = [i for i, t in enumerate(leaves) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no floating-point input to check")
    labels = list(names) if names is not None else [f"input{i}" for i in range(len(inputs))]

    def run() -> Tensor:
        manual_seed(seed)
        out = fn(*leaves)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        return out

    out = run()
    dout = np.random.default_rng(seed + 1).standard_normal(out.shape)
    (out * Tensor(dout)).sum().backward()

    report = GradcheckReport(tol=tol)
    for i in checked:
        leaf = leaves[i]
        analytic = leaf.grad.data if leaf.grad is not None else np.zeros_like(leaf.data)
        x = leaf.data

        def f(_: np.ndarray) -> float:
            with no_grad():
                return float(np.sum(run().data * dout))

        numeric = eval_numerical_gradient(f, x, verbose=False, h=eps)
        err = scaled_error(analytic, numeric)
        report.entries.append(GradcheckEntry(labels[i], x.shape, err, float(np.max(np.abs(analytic - numeric))),
                                             bool(err < tol)))
    return report
