"""Numeric gradient checking, as a library tool.

The classic helpers (same names and semantics as the course code learners know):

* :func:`eval_numerical_gradient` — gradient of a scalar function f(x) by central differences;
* :func:`eval_numerical_gradient_array` — gradient of ``sum(f(x) * df)`` for array-valued f;
* :func:`rel_error` — ``max |x - y| / max(1e-8, |x| + |y|)`` elementwise.

And :func:`gradcheck`, which checks any op, module or function of tensors in float64 against central
differences and returns a per-input report; :func:`check_registry`, the built-in named cases (every op and
homework layer) that ``minidl gradcheck`` and the tests run; :class:`PairOp`, which turns a homework
``forward``/``backward`` pair into an op so it can be gradient-checked the same way.

Central differences: ∂f/∂xᵢ ≈ (f(x + h eᵢ) − f(x − h eᵢ)) / 2h, with error O(h²) plus rounding O(ε|f|/h).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .ops.base import Op
from .random import manual_seed
from .tensor import Tensor, no_grad, tensor

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "rel_error",
    "gradcheck",
    "GradcheckReport",
    "GradcheckEntry",
    "GradcheckCase",
    "PairOp",
    "check_registry",
]


def _central_differences(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float,
                         combine: Callable[[Any, Any], float]) -> np.ndarray:
    """``grad[i] = combine(f(x + h eᵢ), f(x − h eᵢ)) / 2h`` for every index i; ``x`` is restored after each."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])  # type: ignore[list-item]  # NumPy's stub wants a flat list
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x)
        x[ix] = old - h
        neg = f(x)
        x[ix] = old
        grad[ix] = combine(pos, neg) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = True,
                            h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of the scalar function ``f`` at ``x`` (``x`` is perturbed in place, then restored)."""
    grad = _central_differences(lambda v: float(f(v)), x, h, lambda pos, neg: pos - neg)
    if verbose:
        for ix in np.ndindex(x.shape):
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:
    """Numeric gradient of ``sum(f(x) * df)`` with respect to ``x``: the backward pass of f given upstream df."""
    # copy each output (f may return a view of x) and difference before summing, which keeps precision
    return _central_differences(lambda v: np.array(f(v), dtype=np.float64, copy=True), x, h,
                                lambda pos, neg: float(np.sum((pos - neg) * df)))


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
        arr = x._data if isinstance(x, Tensor) else x
        if isinstance(arr, np.ndarray) and np.issubdtype(arr.dtype, np.floating):
            leaves.append(tensor(arr.astype(np.float64), requires_grad=True))
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
    (out * tensor(dout)).sum().backward()

    report = GradcheckReport(tol=tol)
    for i in checked:
        leaf = leaves[i]
        analytic = leaf.grad._data if leaf.grad is not None else np.zeros_like(leaf._data)
        x = leaf._data

        def f(_: np.ndarray) -> float:
            with no_grad():
                return float(np.sum(run()._data * dout))

        numeric = eval_numerical_gradient(f, x, verbose=False, h=eps)
        err = scaled_error(analytic, numeric)
        report.entries.append(GradcheckEntry(labels[i], x.shape, err, float(np.max(np.abs(analytic - numeric))),
                                             bool(err < tol)))
    return report


def numeric_jacobian_check(func: Callable[..., Any], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
                           rtol: float = 1e-3) -> tuple[bool, str]:
    """PyTorch's ``gradcheck``: for every input tensor that requires grad, the full Jacobian of every output,
    from backward (one one-hot output gradient at a time) against central differences.

    Returns ``(ok, message)``; the message names the first output/input pair that disagrees.
    """
    from .autograd import grad

    def outputs() -> list[Tensor]:
        res = func(*inputs)
        return [r for r in (res if isinstance(res, tuple | list) else (res,)) if isinstance(r, Tensor)]

    checked = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i, x in checked:
        if x._data.dtype != np.float64:
            import warnings

            warnings.warn(f"gradcheck: input {i} is {x._data.dtype}, not float64; the check may fail from rounding "
                          "alone", UserWarning, stacklevel=3)
    outs = outputs()
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        size = out._data.size
        analytic = {i: np.zeros((size, x._data.size)) for i, x in checked}
        for j in range(size):
            onehot = np.zeros(out._data.shape, dtype=out._data.dtype)
            onehot.reshape(-1)[j] = 1
            gs = grad(out, [x for _, x in checked], grad_outputs=Tensor._wrap(onehot), retain_graph=True,
                      allow_unused=True)
            for (i, _), g in zip(checked, gs, strict=True):
                if g is not None:
                    analytic[i][j] = g._data.reshape(-1)
        for i, x in checked:
            def f(_: np.ndarray, k: int = k) -> np.ndarray:
                with no_grad():
                    return np.array(outputs()[k]._data, dtype=np.float64, copy=True).reshape(-1)

            numeric = np.zeros((size, x._data.size))
            if not x._data.flags.c_contiguous:
                x._data = np.ascontiguousarray(x._data)
            flat = x._data.reshape(-1)
            for col in range(flat.size):
                old = flat[col]
                flat[col] = old + eps
                pos = f(flat)
                flat[col] = old - eps
                neg = f(flat)
                flat[col] = old
                numeric[:, col] = (pos - neg) / (2 * eps)
            if not np.allclose(analytic[i], numeric, rtol=rtol, atol=atol):
                worst = float(np.max(np.abs(analytic[i] - numeric)))
                return False, (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                               f"numerical:{numeric}\nanalytical:{analytic[i]}\n(max abs difference {worst:.3g})")
    return True, ""


# ============================================================================================ registry
# The built-in checks run by ``minidl gradcheck`` and by the test-suite: one small, named case per op
# configuration and per homework layer. Each is data (a function of tensors and how to draw its inputs);
# inputs are drawn away from kinks (0 for relu/abs, ties for max) so central differences are valid.

Sampler = Callable[[np.random.Generator], Any]


@dataclass(frozen=True)
class GradcheckCase:
    """A named gradient check: ``fn(*inputs)`` with inputs drawn by ``inputs`` (name -> shape or sampler).

    A shape tuple means standard-normal float64 values; a sampler is called with a NumPy generator.
    Floating inputs are checked (row ``grad_<name>``); integer inputs such as labels pass through.
    ``group`` is ``"ops"`` for :mod:`minidl.ops` or ``"layers"`` for the homework layers.
    """

    name: str
    fn: Callable[..., Tensor]
    inputs: dict[str, tuple[int, ...] | Sampler]
    group: str = "ops"

    @property
    def id(self) -> str:
        return f"{self.group}.{self.name}"

    def make_inputs(self, rng: np.random.Generator) -> list[Any]:
        return [rng.standard_normal(spec) if isinstance(spec, tuple) else spec(rng) for spec in self.inputs.values()]

    def run(self, tol: float = 1e-6, seed: int = 0) -> GradcheckReport:
        """Draw the inputs from ``seed`` and run :func:`gradcheck`; entries are named ``grad_<input>``."""
        inputs = self.make_inputs(np.random.default_rng(seed))
        return gradcheck(self.fn, *inputs, names=[f"grad_{n}" for n in self.inputs], tol=tol, seed=seed)


def away(shape: tuple[int, ...], gap: float = 0.1) -> Sampler:
    """Normal values pushed at least ``gap`` away from 0 (kinks of relu, abs, leaky_relu)."""
    def sample(rng: np.random.Generator) -> np.ndarray:
        v = rng.standard_normal(shape)
        return v + np.copysign(gap, v)

    return sample


def distinct(shape: tuple[int, ...], gap: float = 0.1) -> Sampler:
    """A shuffled grid of values ``gap`` apart: no ties, so max/min gradients are well defined."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) - n / 2).reshape(shape) * gap


def uniform(shape: tuple[int, ...], low: float, high: float) -> Sampler:
    return lambda rng: rng.uniform(low, high, shape)


def labels(shape: tuple[int, ...], classes: int) -> Sampler:
    return lambda rng: rng.integers(0, classes, shape)


class PairOp(Op):
    """An engine op made of a homework ``forward``/``backward`` pair, so :func:`gradcheck` can check it.

    ``PairOp(conv_forward, conv_backward, {"stride": 2, "pad": 1})`` runs ``conv_forward(x, w, b, params)``
    forward and ``conv_backward(dout, cache)`` backward; ``extra`` arguments (parameter dicts) follow the
    arrays. With ``backward=None``, ``forward`` has the ``f(x, ...) -> (loss, dx)`` form of ``softmax_loss``:
    the gradient of the first input is dx scaled by the upstream scalar, dL/dx = dout · dx.
    """

    def __init__(self, forward: Callable, backward: Callable | None = None, *extra: Any) -> None:
        self.fwd, self.bwd, self.extra = forward, backward, extra
        self.name = forward.__name__.removesuffix("_forward")

    def forward(self, *arrays: Any) -> tuple[np.ndarray, Any]:
        if self.bwd is None:
            loss, grad = self.fwd(*arrays, *self.extra)
            return np.asarray(loss), grad
        return self.fwd(*arrays, *self.extra)

    def backward(self, dout: np.ndarray, cache: Any, needs: tuple[bool, ...] | None = None) -> tuple:
        if self.bwd is None:
            return (dout * cache,)
        grads = self.bwd(dout, cache)
        return grads if isinstance(grads, tuple) else (grads,)


_REGISTRY: list[GradcheckCase] | None = None


def check_registry() -> list[GradcheckCase]:
    """The built-in gradient checks (built on first use: the ops import lazily)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = _builtin_checks()
    return _REGISTRY


def _off_grid(rng: np.random.Generator) -> np.ndarray:
    """Values k + 0.2..0.4 for integers k: away from the jumps of floor, ceil, trunc, round and frac."""
    return rng.integers(-3, 3, (2, 3)) + rng.uniform(0.2, 0.4, (2, 3))


# inputs of the table-driven unary ops (ops.unary) that need a domain or distance from a jump
_UNARY_INPUTS: dict[str, Any] = {
    "log1p": uniform((2, 3), -0.5, 2.0), "log2": uniform((2, 3), 0.5, 2.0), "log10": uniform((2, 3), 0.5, 2.0),
    "asin": uniform((2, 3), -0.8, 0.8), "acos": uniform((2, 3), -0.8, 0.8), "rsqrt": uniform((2, 3), 0.5, 2.0),
    "reciprocal": away((2, 3), 0.5), "tan": uniform((2, 3), -1.0, 1.0),
    "floor": _off_grid, "ceil": _off_grid, "trunc": _off_grid, "round": _off_grid, "frac": _off_grid,
    "sign": away((2, 3)),
}


def _off_kinks(*kinks: float, scale: float = 2.0) -> Sampler:
    """Values spread over ±3·scale, at least 0.1 away from each of ``kinks`` (piecewise activations)."""
    def sample(rng: np.random.Generator) -> np.ndarray:
        v = rng.uniform(-3 * scale, 3 * scale, (3, 4))
        for k in kinks:
            near = np.abs(v - k) < 0.1
            v[near] = k + np.copysign(0.1, v[near] - k)
        return v

    return sample


# (row of ops.activations, its parameters, the input sampler): every row, and each option of the rows
_ACTIVATION_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("gelu", {}, (3, 4)), ("gelu", {"approximate": "tanh"}, (3, 4)),
    ("elu", {"alpha": 0.7}, away((3, 4))), ("elu", {"alpha": 1.67, "scale": 1.05}, away((3, 4))),
    ("elu", {"alpha": 2.0, "input_scale": 0.5}, away((3, 4))),
    ("silu", {}, (3, 4)), ("mish", {}, (3, 4)),
    ("softplus", {}, (3, 4)), ("softplus", {"beta": 2.0, "threshold": 3.0}, _off_kinks(1.5, scale=1.0)),
    ("softsign", {}, away((3, 4))),
    ("hardtanh", {"min_val": -0.5, "max_val": 1.0}, _off_kinks(-0.5, 1.0, scale=0.5)),
    ("hardswish", {}, _off_kinks(-3.0, 3.0)), ("hardsigmoid", {}, _off_kinks(-3.0, 3.0)),
    ("logsigmoid", {}, (3, 4)), ("threshold", {"threshold": 0.2, "value": -1.0}, _off_kinks(0.2, scale=0.5)),
]  # fmt: skip


def _zeros(shape: tuple[int, ...]) -> Sampler:
    return lambda rng: np.zeros(shape)


# (row of ops.pointwise_losses, its parameters, its inputs): every row and option; the input x of the
# losses of x − y is 0 and their target is drawn away from the kinks, so d = x − y is too
_POINTWISE_LOSS_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("l1_loss", {"reduction": "none"}, {"input": _zeros((3, 4)), "target": away((3, 4))}),
    ("smooth_l1_loss", {"beta": 0.5}, {"input": _zeros((3, 4)), "target": _off_kinks(0.0, 0.5, -0.5, scale=0.4)}),
    ("huber_loss", {"delta": 0.5, "reduction": "sum"},
     {"input": _zeros((3, 4)), "target": _off_kinks(0.0, 0.5, -0.5, scale=0.4)}),
    ("kl_div", {}, {"input": (3, 4), "target": uniform((3, 4), 0.1, 1.0)}),
    ("kl_div", {"log_target": True}, {"input": (3, 4), "target": (3, 4)}),
    ("poisson_nll_loss", {"full": True}, {"input": (3, 4), "target": uniform((3, 4), 1.2, 4.0)}),
    ("poisson_nll_loss", {"log_input": False, "eps": 1e-3}, {"input": uniform((3, 4), 0.5, 2.0),
                                                             "target": uniform((3, 4), 0.0, 3.0)}),
]  # fmt: skip


def _builtin_checks() -> list[GradcheckCase]:
    from . import layers as L
    from . import ops
    from .random import default_generator

    C = GradcheckCase
    pos = uniform  # strictly positive inputs for log, sqrt, pow
    bn_stats = (np.linspace(-0.5, 0.5, 3), np.linspace(0.5, 2.0, 3))  # fixed running mean / var
    bce_target = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    ce_weight = np.array([0.5, 1.0, 2.0, 1.5])

    P = PairOp

    return [
        # ---------------------------------------------------------------- elementwise (with broadcasting)
        C("add", lambda a, b: ops.add(a, b), {"a": (2, 3), "b": (3,)}),
        C("sub", lambda a, b: ops.sub(a, b), {"a": (2, 1, 3), "b": (4, 1)}),
        C("mul", lambda a, b: ops.mul(a, b), {"a": (2, 3), "b": (2, 1)}),
        C("div", lambda a, b: ops.div(a, b), {"a": (2, 3), "b": away((3,), 0.5)}),
        C("pow", lambda a, b: ops.pow(a, b), {"a": pos((2, 3), 0.5, 2.0), "b": (2, 3)}),
        C("pow_scalar", lambda a: ops.pow_scalar(a, exponent=3), {"a": (2, 3)}),
        C("neg", lambda a: ops.neg(a), {"a": (2, 3)}),
        C("exp", lambda a: ops.exp(a), {"a": (2, 3)}),
        C("log", lambda a: ops.log(a), {"a": pos((2, 3), 0.5, 2.0)}),
        C("sqrt", lambda a: ops.sqrt(a), {"a": pos((2, 3), 0.5, 2.0)}),
        C("abs", lambda a: ops.abs(a), {"a": away((2, 3))}),
        C("clip", lambda a: ops.clip(a, min=-0.5, max=0.5), {"a": distinct((2, 3), 0.23)}),
        C("maximum", lambda a, b: ops.maximum(a, b), {"a": (2, 3), "b": (3,)}),
        C("minimum", lambda a, b: ops.minimum(a, b), {"a": (2, 3), "b": (2, 3)}),
        C("where", lambda a, b: ops.where(np.array([[True, False, True]]), a, b), {"a": (2, 3), "b": (2, 3)}),
        C("cast", lambda a: ops.cast(a, dtype=np.float64), {"a": (2, 3)}),
        C("clone", lambda a: ops.clone(a), {"a": (2, 3)}),
        *[C(f"unary_{name}", op, {"a": _UNARY_INPUTS.get(name, (2, 3))}) for name, op in ops.unary.items()],
        C("unary_round_decimals", lambda a: ops.unary["round"](a, decimals=1), {"a": (2, 3)}),
        # ---------------------------------------------------------------- reductions
        C("sum", lambda a: ops.sum(a, axis=1), {"a": (2, 3, 2)}),
        C("prod", lambda a: ops.prod(a, axis=1), {"a": (2, 3, 2)}),
        C("prod_with_zeros", lambda a: ops.prod(ops.mul(a, np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])), axis=1),
          {"a": (2, 3)}),
        C("logsumexp", lambda a: ops.logsumexp(a, axis=(0, 2), keepdims=True), {"a": (2, 3, 2)}),
        C("cumsum", lambda a: ops.cumsum(a, axis=1), {"a": (2, 4)}),
        C("cumprod", lambda a: ops.cumprod(a, axis=0), {"a": (4, 2)}),
        C("cumprod_with_zero", lambda a: ops.cumprod(ops.mul(a, np.array([1.0, 0.0, 1.0, 1.0])), axis=0),
          {"a": (4,)}),
        C("norm", lambda a: ops.norm(a, p=2.0, axis=1), {"a": (3, 4)}),
        C("norm_p1", lambda a: ops.norm(a, p=1.0), {"a": away((3, 4))}),
        C("norm_p3", lambda a: ops.norm(a, p=3.0, axis=0, keepdims=True), {"a": away((3, 4))}),
        C("norm_inf", lambda a: ops.norm(a, p=float("inf"), axis=1), {"a": distinct((3, 4))}),
        C("mean", lambda a: ops.mean(a, axis=(0, 2), keepdims=True), {"a": (2, 3, 2)}),
        C("amax", lambda a: ops.amax(a, axis=-1), {"a": distinct((3, 4))}),
        C("amin", lambda a: ops.amin(a), {"a": distinct((3, 4))}),
        # ---------------------------------------------------------------- shape
        C("reshape", lambda a: ops.reshape(a, shape=(4, 3)), {"a": (2, 6)}),
        C("permute", lambda a: ops.permute(a, axes=(2, 0, 1)), {"a": (2, 3, 4)}),
        C("getitem_slice", lambda a: ops.getitem(a, index=(slice(1, None), slice(None, None, 2))), {"a": (3, 4)}),
        C("getitem_repeat", lambda a: ops.getitem(a, index=np.array([0, 2, 0])), {"a": (3, 4)}),
        C("cat", lambda a, b: ops.cat(a, b, axis=1), {"a": (2, 3), "b": (2, 2)}),
        C("index_put", lambda a, v: ops.index_put(a, v, index=(slice(None), np.array([0, 2]))),
          {"a": (2, 3), "v": (2,)}),
        C("view_of", lambda a: ops.view_of(a, fns=(lambda x: x[1:], lambda x: x.reshape(-1))), {"a": (3, 2)}),
        C("view_scatter", lambda a, v: ops.view_scatter(a, v, fns=(lambda x: x[:, 1],)), {"a": (3, 2), "v": (3,)}),
        C("expand", lambda a: ops.expand(a, shape=(2, 3, 4)), {"a": (3, 1)}),
        C("tile", lambda a: ops.tile(a, reps=(2, 1, 3)), {"a": (2, 3)}),
        C("roll", lambda a: ops.roll(a, shifts=(1, -2), axis=(0, 1)), {"a": (3, 4)}),
        C("roll_flat", lambda a: ops.roll(a, shifts=5, axis=None), {"a": (3, 4)}),
        C("flip", lambda a: ops.flip(a, axes=(0, 2)), {"a": (2, 3, 2)}),
        C("gather", lambda a: ops.gather(a, np.array([[0, 2, 2], [1, 0, 0]]), axis=1), {"a": (3, 4)}),
        C("scatter", lambda a, s: ops.scatter(a, np.array([[0, 2], [1, 0]]), s, axis=1), {"a": (2, 4), "s": (2, 3)}),
        C("scatter_add", lambda a, s: ops.scatter(a, np.array([[0, 0], [3, 1]]), s, axis=1, reduce="add"),
          {"a": (2, 4), "s": (2, 2)}),
        C("stack", lambda a, b: ops.stack(a, b, axis=1), {"a": (2, 3), "b": (2, 3)}),
        # ---------------------------------------------------------------- linear algebra
        C("matmul", lambda a, b: ops.matmul(a, b), {"a": (3, 4), "b": (4, 2)}),
        C("matmul_batched", lambda a, b: ops.matmul(a, b), {"a": (2, 3, 4), "b": (4, 2)}),
        C("matmul_vector", lambda a, b: ops.matmul(a, b), {"a": (4,), "b": (4, 3)}),
        C("linear", lambda x, w, b: ops.linear(x, w, b), {"x": (2, 3, 4), "w": (5, 4), "b": (5,)}),
        C("einsum", lambda a, b: ops.einsum(a, b, equation="ij,jk->ik"), {"a": (3, 4), "b": (4, 2)}),
        C("einsum_batched", lambda a, b: ops.einsum(a, b, equation="...ij,...jk"), {"a": (2, 3, 4), "b": (1, 4, 2)}),
        C("einsum_summed_out", lambda a, b: ops.einsum(a, b, equation="ij,k->i"), {"a": (3, 4), "b": (2,)}),
        # ---------------------------------------------------------------- convolution and pooling
        C("conv2d", lambda x, w, b: ops.conv2d(x, w, b), {"x": (2, 3, 5, 5), "w": (4, 3, 3, 3), "b": (4,)}),
        C("conv2d_stride_pad", lambda x, w, b: ops.conv2d(x, w, b, stride=2, padding=1),
          {"x": (2, 2, 5, 6), "w": (3, 2, 3, 2), "b": (3,)}),
        C("conv2d_groups", lambda x, w, b: ops.conv2d(x, w, b, padding=1, groups=2),
          {"x": (1, 4, 4, 4), "w": (6, 2, 3, 3), "b": (6,)}),
        C("conv2d_dilation", lambda x, w: ops.conv2d(x, w, dilation=2, stride=(1, 2)),
          {"x": (1, 2, 6, 6), "w": (2, 2, 2, 2)}),
        C("max_pool2d", lambda x: ops.max_pool2d(x, 2), {"x": distinct((2, 2, 4, 4))}),
        C("max_pool2d_overlap", lambda x: ops.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
          {"x": distinct((1, 2, 5, 6))}),
        C("avg_pool2d", lambda x: ops.avg_pool2d(x, 2), {"x": (2, 2, 4, 4)}),
        C("avg_pool2d_pad", lambda x: ops.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                     count_include_pad=False), {"x": (1, 2, 5, 6)}),
        C("adaptive_avg_pool2d", lambda x: ops.adaptive_avg_pool2d(x, output_size=(3, 2)), {"x": (2, 2, 5, 7)}),
        C("conv_transpose2d", lambda x, w, b: ops.conv_transpose2d(x, w, b), {"x": (2, 3, 3, 4), "w": (3, 2, 3, 2),
                                                                               "b": (2,)}),
        C("conv_transpose2d_options", lambda x, w, b: ops.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                           output_padding=1, groups=2, dilation=(1, 2)),
          {"x": (1, 4, 3, 3), "w": (4, 3, 3, 2), "b": (6,)}),
        C("adaptive_max_pool2d", lambda x: ops.adaptive_max_pool2d(x, output_size=(3, 2)),
          {"x": distinct((2, 2, 5, 7))}),
        C("adaptive_max_pool2d_overlap", lambda x: ops.adaptive_max_pool2d(x, output_size=(4, 3)),
          {"x": distinct((1, 2, 3, 2))}),
        C("max_unpool2d", lambda x: ops.max_unpool2d(x, np.array([[[[0, 3], [9, 14]]]]), output_size=(4, 4)),
          {"x": (1, 1, 2, 2)}),
        C("pad_constant", lambda x: ops.pad(x, pad=(1, 2, -1, 1), value=0.5), {"x": (2, 3, 4)}),
        C("pad_reflect", lambda x: ops.pad(x, pad=(2, 1, 1, 2), mode="reflect"), {"x": (1, 2, 3, 4)}),
        C("pad_replicate", lambda x: ops.pad(x, pad=(3, 1, 0, 2, 1, 1), mode="replicate"), {"x": (1, 2, 3, 2, 2)}),
        C("interpolate_nearest", lambda x: ops.interpolate(x, size=(5, 3)), {"x": (2, 1, 2, 4)}),
        C("interpolate_bilinear", lambda x: ops.interpolate(x, size=(5, 3), mode="bilinear"), {"x": (1, 2, 3, 4)}),
        C("interpolate_bilinear_align_corners", lambda x: ops.interpolate(x, size=(4, 7), mode="bilinear",
                                                                          align_corners=True), {"x": (1, 2, 3, 4)}),
        C("interpolate_bicubic_scale", lambda x: ops.interpolate(x, size=(6, 9), mode="bicubic", scales=(2.2, 2.4)),
          {"x": (1, 1, 3, 4)}),
        C("interpolate_bicubic_antialias", lambda x: ops.interpolate(x, size=(3, 2), mode="bicubic", antialias=True),
          {"x": (1, 1, 7, 5)}),
        C("interpolate_trilinear", lambda x: ops.interpolate(x, size=(3, 4, 2), mode="trilinear"),
          {"x": (1, 1, 2, 3, 3)}),
        C("unfold", lambda x: ops.unfold(x, kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
          {"x": (2, 2, 4, 5)}),
        C("fold", lambda c: ops.fold(c, output_size=(4, 5), kernel_size=(2, 3), dilation=(1, 2), padding=1,
                                     stride=(2, 1)),
          {"cols": (2, 12, 9)}),
        C("pad_circular", lambda x: ops.pad(x, pad=(2, 3, -1, 1), mode="circular"), {"x": (2, 1, 3, 4)}),
        # ---------------------------------------------------------------- normalisation, dropout
        C("batch_norm_train", lambda x, w, b: ops.batch_norm(x, w, b, training=True),
          {"x": (4, 3, 2, 2), "weight": (3,), "bias": (3,)}),
        C("sync_batch_norm", lambda x, w, b: ops.sync_batch_norm(x, w, b),  # one process: its own statistics
          {"x": (4, 3, 2, 2), "weight": (3,), "bias": (3,)}),
        C("batch_norm_eval", lambda x, w, b: ops.batch_norm(x, w, b, running_mean=bn_stats[0],
                                                            running_var=bn_stats[1], training=False),
          {"x": (4, 3), "weight": (3,), "bias": (3,)}),
        C("layer_norm", lambda x, w, b: ops.layer_norm(x, w, b, normalized_shape=(2, 3)),
          {"x": (2, 2, 3), "weight": (2, 3), "bias": (2, 3)}),
        C("dropout", lambda x: ops.dropout(x, p=0.3, training=True, generator=default_generator()),
          {"x": (4, 5)}),
        C("dropout_feature", lambda x: ops.dropout(x, p=0.4, generator=default_generator(), feature=True),
          {"x": (3, 4, 2)}),
        C("dropout_alpha", lambda x: ops.dropout(x, p=0.2, generator=default_generator(), alpha=True), {"x": (4, 5)}),
        C("group_norm", lambda x, w, b: ops.group_norm(x, w, b, num_groups=2), {"x": (2, 4, 3), "weight": (4,),
                                                                               "bias": (4,)}),
        C("group_norm_instance", lambda x: ops.group_norm(x, None, None, num_groups=3, eps=1e-3), {"x": (2, 3, 2, 2)}),
        C("local_response_norm", lambda x: ops.local_response_norm(x, size=3, alpha=0.5, beta=0.75, k=1.0),
          {"x": (2, 5, 3)}),
        C("local_response_norm_even", lambda x: ops.local_response_norm(x, size=4, alpha=1.0, beta=0.5, k=2.0),
          {"x": (1, 6, 2, 2)}),
        # ---------------------------------------------------------------- recurrence
        C("lstm_scan", lambda gx, h0, c0, w: ops.lstm_scan(gx, h0, c0, w),
          {"gx": (4, 2, 12), "h0": (2, 3), "c0": (2, 3), "w_hh": (12, 3)}),
        # ---------------------------------------------------------------- embeddings
        # (padding_idx and scale_grad_by_freq change the gradient on purpose: tests/test_embedding.py checks them)
        C("embedding", lambda w: ops.embedding(w, np.array([[0, 3, 3], [5, 1, 0]])), {"weight": (6, 4)}),
        C("embedding_bag_sum", lambda w, s: ops.embedding_bag(w, np.array([0, 3, 3, 5, 1]), np.array([0, 2, 2]), s,
                                                              mode="sum"), {"weight": (6, 4), "per_sample": (5,)}),
        C("embedding_bag_mean", lambda w: ops.embedding_bag(w, np.array([0, 3, 2, 5, 1]), np.array([0, 3]), None,
                                                            padding_idx=3), {"weight": (6, 4)}),
        C("embedding_bag_max", lambda w: ops.embedding_bag(w, np.array([0, 3, 2, 5, 1]), np.array([0, 1, 1]), None,
                                                           mode="max"), {"weight": distinct((6, 4))}),
        # ---------------------------------------------------------------- activations
        C("relu", lambda x: ops.relu(x), {"x": away((3, 4))}),
        C("leaky_relu", lambda x: ops.leaky_relu(x, negative_slope=0.1), {"x": away((3, 4))}),
        C("sigmoid", lambda x: ops.sigmoid(x), {"x": (3, 4)}),
        C("tanh", lambda x: ops.tanh(x), {"x": (3, 4)}),
        C("softmax", lambda x: ops.softmax(x, dim=1), {"x": (2, 4, 3)}),
        C("log_softmax", lambda x: ops.log_softmax(x, dim=-1), {"x": (3, 4)}),
        *[C("_".join(["activations", name, *(f"{k}={v}" for k, v in params.items())]),
            (lambda x, n=name, p=params: ops.activations[n](x, **p)), {"x": sampler})
          for name, params, sampler in _ACTIVATION_CASES],
        C("prelu", lambda x, w: ops.prelu(x, w), {"x": away((2, 3, 4)), "weight": (3,)}),
        C("prelu_shared", lambda x, w: ops.prelu(x, w), {"x": away((2, 3)), "weight": (1,)}),
        # ---------------------------------------------------------------- losses
        C("cross_entropy", lambda x, y: ops.cross_entropy(x, y), {"input": (5, 4), "target": labels((5,), 4)}),
        C("cross_entropy_options", lambda x, y: ops.cross_entropy(x, y, weight=ce_weight, ignore_index=0,
                                                                  label_smoothing=0.1),
          {"input": (6, 4), "target": lambda rng: rng.permutation(np.arange(6) % 4)}),
        C("cross_entropy_spatial", lambda x, y: ops.cross_entropy(x, y, reduction="sum"),
          {"input": (2, 4, 3), "target": labels((2, 3), 4)}),
        C("nll_loss", lambda x, y: ops.nll_loss(x, y, weight=ce_weight), {"input": (5, 4), "target": labels((5,), 4)}),
        C("mse_loss", lambda x, y: ops.mse_loss(x, y), {"input": (3, 4), "target": (3, 4)}),
        C("binary_cross_entropy", lambda p: ops.binary_cross_entropy(p, bce_target),
          {"input": uniform((3, 4), 0.1, 0.9)}),
        *[C("_".join(["pointwise_losses", name, *(f"{k}={v}" for k, v in params.items())]),
            (lambda x, y, n=name, p=params: ops.pointwise_losses[n](x, y, **p)), inputs)
          for name, params, inputs in _POINTWISE_LOSS_CASES],
        # (ctc_loss returns PyTorch's gradient, the one for logits under a log-softmax: checked through it)
        C("ctc_loss", lambda x: ops.ctc_loss(ops.log_softmax(x, dim=2), np.array([[1, 2, 2], [3, 1, 0]]),
                                             np.array([6, 4]), np.array([3, 2])), {"logits": (6, 2, 4)}),
        C("binary_cross_entropy_with_logits",
          lambda x: ops.binary_cross_entropy_with_logits(x, bce_target, pos_weight=np.array([1.0, 2.0, 0.5, 1.0])),
          {"input": (3, 4)}),
        # ---------------------------------------------------------------- homework layers (minidl.layers)
        C("fc", P(L.fc_forward, L.fc_backward), {"x": (2, 3, 2), "w": (6, 4), "b": (4,)}, "layers"),
        C("relu", P(L.relu_forward, L.relu_backward), {"x": away((3, 4))}, "layers"),
        C("sigmoid", P(L.sigmoid_forward, L.sigmoid_backward), {"x": (3, 4)}, "layers"),
        C("tanh", P(L.tanh_forward, L.tanh_backward), {"x": (3, 4)}, "layers"),
        C("conv", P(L.conv_forward, L.conv_backward, {"stride": 2, "pad": 1}),
          {"x": (2, 3, 5, 5), "w": (2, 3, 3, 3), "b": (2,)}, "layers"),
        C("max_pool", P(L.max_pool_forward, L.max_pool_backward, {"pool_height": 2, "pool_width": 2, "stride": 2}),
          {"x": distinct((2, 2, 4, 4))}, "layers"),
        C("batchnorm", P(L.batchnorm_forward, L.batchnorm_backward, {"mode": "train"}),
          {"x": (5, 3), "gamma": (3,), "beta": (3,)}, "layers"),
        C("spatial_batchnorm", P(L.spatial_batchnorm_forward, L.spatial_batchnorm_backward, {"mode": "train"}),
          {"x": (2, 3, 2, 2), "gamma": (3,), "beta": (3,)}, "layers"),
        C("layernorm", P(L.layernorm_forward, L.layernorm_backward, {}),
          {"x": (3, 4), "gamma": (4,), "beta": (4,)}, "layers"),
        C("dropout", P(L.dropout_forward, L.dropout_backward, {"p": 0.7, "mode": "train", "seed": 123}),
          {"x": (4, 5)}, "layers"),
        C("softmax_loss", P(L.softmax_loss), {"x": (5, 4), "y": labels((5,), 4)}, "layers"),
        C("l2_regularization", P(L.l2_regularization, None, 0.3), {"w": (3, 4)}, "layers"),
    ]
