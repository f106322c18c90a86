"""Reductions with PyTorch's names and result types (``minidl.sum``, ``max``, ``sort``, ``topk``, …).

Reductions that pick elements (``max(dim)``, ``min(dim)``, ``sort``, ``topk``, ``kthvalue``, ``median``)
return PyTorch's ``(values, indices)`` named tuples: the indices are found with NumPy, and the values are
taken with the differentiable ``gather`` op, so the gradient goes to exactly the chosen elements.

Result dtypes follow PyTorch: sums and products of integers and bools are int64; means, variances and
norms need a floating input (an integer input raises, as in PyTorch); ``argmax`` and indices are int64.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from .. import dtypes, ops
from ..backend import xp
from ..tensor import Tensor
from ._args import check_tensor, finish, reduction_axes, require_float, to
from ._args import dim as norm_dim

__all__ = [
    "sum", "nansum", "mean", "nanmean", "prod", "std", "var", "std_mean", "var_mean", "max", "min", "amax",
    "amin", "aminmax", "argmax", "argmin", "norm", "logsumexp", "cumsum", "cumprod", "all", "any", "unique",
    "bincount", "count_nonzero", "sort", "argsort", "topk", "kthvalue", "median", "return_types",
]  # fmt: skip


class return_types:  # noqa: N801 - PyTorch's name
    """The named tuples returned by reductions with indices (``torch.return_types``)."""

    max = namedtuple("max", ["values", "indices"])
    min = namedtuple("min", ["values", "indices"])
    sort = namedtuple("sort", ["values", "indices"])
    topk = namedtuple("topk", ["values", "indices"])
    kthvalue = namedtuple("kthvalue", ["values", "indices"])
    median = namedtuple("median", ["values", "indices"])
    aminmax = namedtuple("aminmax", ["min", "max"])
    std_mean = namedtuple("std_mean", ["std", "mean"])  # returned as plain tuples in torch; named here
    var_mean = namedtuple("var_mean", ["var", "mean"])


def _int_accumulator(x: Tensor, dtype: Any) -> Tensor:
    """Sums and products: an explicit ``dtype``, else integers and bools accumulate in int64 (PyTorch)."""
    if dtype is not None:
        return to(x, dtypes.to_numpy_dtype(dtype))
    if x._data.dtype.kind in "biu":
        return to(x, np.dtype(np.int64))
    return x


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A001
        out: Tensor | None = None) -> Tensor:
    check_tensor("sum", input)
    x = _int_accumulator(input, dtype)
    return finish(ops.sum(x, axis=reduction_axes(dim, x.ndim), keepdims=keepdim), out)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    return sum(ops.where(xp.isnan(input._data), Tensor._wrap(xp.zeros((), input._data.dtype)), input)
               if input._data.dtype.kind == "f" else input, dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    check_tensor("mean", input)
    x = input if dtype is None else to(input, dtypes.to_numpy_dtype(dtype))
    require_float("mean", x)
    return finish(ops.mean(x, axis=reduction_axes(dim, x.ndim), keepdims=keepdim), out)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    require_float("nanmean", input)
    ok = ~xp.isnan(input._data)
    total = sum(ops.where(ok, input, Tensor._wrap(xp.zeros((), input._data.dtype))), dim, keepdim)
    count = xp.sum(ok, axis=reduction_axes(dim, input.ndim), keepdims=keepdim).astype(input._data.dtype)
    return ops.div(total, Tensor._wrap(xp.asarray(count)))


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         out: Tensor | None = None) -> Tensor:
    check_tensor("prod", input)
    x = _int_accumulator(input, dtype)
    return finish(ops.prod(x, axis=reduction_axes(dim, x.ndim), keepdims=keepdim), out)


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, out: Tensor | None = None) -> Tensor:
    """Σ (x − mean)² / (N − correction) over ``dim`` (correction 1, Bessel's, unless ``unbiased=False``)."""
    check_tensor("var", input)
    if isinstance(dim, bool):  # var(x, False): the old positional ``unbiased``
        dim, unbiased = None, dim
    require_float("var", input)
    axes = reduction_axes(dim, input.ndim)
    n = input._data.size if axes is None else int(np.prod([input._data.shape[a] for a in axes]))
    dev = ops.sub(input, ops.mean(input, axis=axes, keepdims=True))
    ss = ops.sum(ops.mul(dev, dev), axis=axes, keepdims=keepdim)
    denom = builtins.max(n - _correction(unbiased, correction), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return finish(ops.div(ss, Tensor._wrap(xp.asarray(denom, dtype=input._data.dtype))), out)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, out: Tensor | None = None) -> Tensor:
    """√var (see :func:`var`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return finish(ops.sqrt(var(input, dim, unbiased, keepdim, correction=correction)), out)


def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return return_types.var_mean(var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    return return_types.std_mean(std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))



# ------------------------------------------------------------------------------------------ picking elements
def _pick(x: Tensor, idx: np.ndarray, axis: int, keepdim: bool) -> Tensor:
    """The elements of ``x`` at ``idx`` (kept dims, as argmax with keepdims gives) along ``axis``."""
    values = ops.gather(x, idx, axis=axis)
    return values if keepdim else ops.reshape(values, shape=tuple(np.delete(values._data.shape, axis)))


def _extreme(name: str, input: Tensor, dim_or_other: Any, keepdim: bool, argfn: Any, reduce_op: Any,
             pairwise: Any) -> Any:
    check_tensor(name, input)
    if dim_or_other is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return reduce_op(input, axis=None, keepdims=False)
    if isinstance(dim_or_other, Tensor):  # max(a, b): elementwise
        return pairwise(input, dim_or_other)
    d = norm_dim(dim_or_other, input.ndim)
    if input.ndim == 0:
        return getattr(return_types, name)(input, Tensor._wrap(xp.zeros((), np.int64)))
    if input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = argfn(input._data, axis=d, keepdims=True)
    values = _pick(input, idx, d, keepdim)
    indices = idx if keepdim else xp.squeeze(idx, axis=d)
    return getattr(return_types, name)(values, Tensor._wrap(indices.astype(np.int64)))


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:  # noqa: A001
    """``max(x)``: the largest value. ``max(x, dim)``: ``(values, indices)`` along dim (the first maximum's
    index). ``max(x, y)``: the elementwise maximum."""
    from .pointwise import maximum

    return _finish_any(_extreme("max", input, dim, keepdim, _nan_argmax, ops.amax, maximum), out)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Any = None) -> Any:  # noqa: A001
    """``min(x)``, ``min(x, dim)`` → ``(values, indices)``, or ``min(x, y)`` elementwise (see :func:`max`)."""
    from .pointwise import minimum

    return _finish_any(_extreme("min", input, dim, keepdim, _nan_argmin, ops.amin, minimum), out)


def _finish_any(result: Any, out: Any) -> Any:
    """``out=`` for max/min: a tensor, or a (values, indices) pair of tensors for the dim form."""
    if out is None:
        return result
    if isinstance(result, tuple):
        return type(result)(*(finish(r, o) for r, o in zip(result, out, strict=True)))
    return finish(result, out)


def _nan_argmax(a: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
    """argmax where a NaN counts as the maximum (PyTorch propagates NaN through max)."""
    return xp.argmax(a, axis=axis, keepdims=keepdims)  # NumPy's argmax already returns the first NaN


def _nan_argmin(a: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
    return xp.argmin(a, axis=axis, keepdims=keepdims)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Largest value over ``dim`` (all dims by default); ties share the gradient equally."""
    check_tensor("amax", input)
    return finish(ops.amax(input, axis=reduction_axes(dim if dim != () else None, input.ndim), keepdims=keepdim),
                  out)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    check_tensor("amin", input)
    return finish(ops.amin(input, axis=reduction_axes(dim if dim != () else None, input.ndim), keepdims=keepdim),
                  out)


def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> Any:
    return return_types.aminmax(amin(input, dim if dim is not None else (), keepdim),
                                amax(input, dim if dim is not None else (), keepdim))


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None (int64)."""
    return finish(_arg("argmax", xp.argmax, input, dim, keepdim), out)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """Index of the (first) minimum (see :func:`argmax`)."""
    return finish(_arg("argmin", xp.argmin, input, dim, keepdim), out)


def _arg(name: str, fn: Any, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    check_tensor(name, input)
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return Tensor._wrap(xp.asarray(fn(input._data), dtype=np.int64).reshape((1,) * input.ndim if keepdim else ()))
    d = norm_dim(dim, input.ndim)
    return Tensor._wrap(fn(input._data, axis=d if input.ndim else None, keepdims=keepdim).astype(np.int64))



def _sort_indices(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sort order along ``axis``: ascending, or descending with equal elements in their original
    order (the ascending order of the reversed array, reversed back)."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(rev, axis)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)`` of the elements sorted along ``dim`` (ascending unless ``descending``)."""
    check_tensor("sort", input)
    if input.ndim == 0:
        return return_types.sort(input.clone(), Tensor._wrap(xp.zeros((), np.int64)))
    d = norm_dim(dim, input.ndim)
    idx = _sort_indices(input._data, d, descending)
    return return_types.sort(ops.gather(input, idx, axis=d), Tensor._wrap(idx.astype(np.int64)))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, largest first."""
    check_tensor("topk", input)
    d = norm_dim(dim, input.ndim)
    n = input._data.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k = {k}, size along dim = {n})")
    idx = _sort_indices(input._data, d, descending=largest) if input.ndim else xp.zeros((), np.int64)
    if input.ndim:
        idx = xp.take(idx, xp.arange(k), axis=d)
        return return_types.topk(ops.gather(input, idx, axis=d), Tensor._wrap(idx.astype(np.int64)))
    return return_types.topk(input.clone(), Tensor._wrap(idx))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest element along ``dim`` (1-based) and its index."""
    check_tensor("kthvalue", input)
    d = norm_dim(dim, input.ndim)
    n = input._data.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.ndim == 0:
        return return_types.kthvalue(input.clone(), Tensor._wrap(xp.zeros((), np.int64)))
    idx = xp.take(_sort_indices(input._data, d, False), [k - 1], axis=d)
    indices = idx if keepdim else xp.squeeze(idx, axis=d)
    return return_types.kthvalue(_pick(input, idx, d, keepdim), Tensor._wrap(indices.astype(np.int64)))


def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median: over all elements (a tensor) or along ``dim`` (``(values, indices)``)."""
    check_tensor("median", input)
    if dim is None:
        flat = ops.reshape(input, shape=(-1,))
        n = flat._data.size
        if n == 0:
            return Tensor._wrap(xp.asarray(np.nan, dtype=input._data.dtype))
        i = _sort_indices(flat._data, 0, False)[(n - 1) // 2: (n - 1) // 2 + 1]
        return ops.reshape(ops.gather(flat, i, axis=0), shape=())
    d = norm_dim(dim, input.ndim)
    n = input._data.shape[d] if input.ndim else 1
    res = kthvalue(input, (n - 1) // 2 + 1, d, keepdim)
    return return_types.median(res.values, res.indices)


# ------------------------------------------------------------------------------------------ other reductions
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The p-norm over ``dim`` (all elements by default; 'fro' is the 2-norm of all the elements of dim)."""
    check_tensor("norm", input)
    x = input if dtype is None else to(input, dtypes.to_numpy_dtype(dtype))
    require_float("norm", x)
    if p == "fro" or p is None:
        p = 2.0
    elif isinstance(p, str):
        from ..errors import UnsupportedError

        raise UnsupportedError(f"norm(p={p!r}) is not supported by minidl (vector p-norms and 'fro' are)")
    return ops.norm(x, p=float(p), axis=reduction_axes(dim, x.ndim), keepdims=keepdim)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim``, computed stably."""
    check_tensor("logsumexp", input)
    x = input if input._data.dtype.kind == "f" else to(input, dtypes.default_float())
    return ops.logsumexp(x, axis=reduction_axes(dim, x.ndim), keepdims=keepdim)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None, out: Tensor | None = None) -> Tensor:
    check_tensor("cumsum", input)
    x = _int_accumulator(input, dtype)
    if x.ndim == 0:
        return finish(x.clone(), out)
    return finish(ops.cumsum(x, axis=norm_dim(dim, x.ndim)), out)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    check_tensor("cumprod", input)
    x = _int_accumulator(input, dtype)
    if x.ndim == 0:
        return x.clone()
    return ops.cumprod(x, axis=norm_dim(dim, x.ndim))


def all(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    check_tensor("all", input)
    res = xp.all(input._data, axis=reduction_axes(dim, input.ndim), keepdims=keepdim)
    return finish(Tensor._wrap(xp.asarray(res)), out)


def any(input: Tensor, dim: Any = None, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    check_tensor("any", input)
    res = xp.any(input._data, axis=reduction_axes(dim, input.ndim), keepdims=keepdim)
    return finish(Tensor._wrap(xp.asarray(res)), out)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    check_tensor("count_nonzero", input)
    return Tensor._wrap(xp.asarray(xp.count_nonzero(input._data, axis=reduction_axes(dim, input.ndim)),
                                   dtype=np.int64))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values (sorted), optionally with the inverse indices and the counts (int64)."""
    check_tensor("unique", input)
    a = input._data
    axis = None if dim is None else norm_dim(dim, a.ndim)
    vals, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=axis)
    res = [Tensor._wrap(vals)]
    if return_inverse:
        res.append(Tensor._wrap(inverse.reshape(a.shape if axis is None else (-1,)).astype(np.int64)))
    if return_counts:
        res.append(Tensor._wrap(counts.astype(np.int64)))
    return res[0] if len(res) == 1 else tuple(res)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative int in a 1-D tensor (or the sums of ``weights`` per value)."""
    check_tensor("bincount", input)
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if a.size and a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._data
    res = xp.bincount(a, weights=w, minlength=minlength)
    if w is None:
        return Tensor._wrap(res.astype(np.int64))
    return Tensor._wrap(res.astype(w.dtype if w.dtype.kind == "f" else np.float64))
