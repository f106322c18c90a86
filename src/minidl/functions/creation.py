"""Tensor constructors with PyTorch's signatures: ``zeros``, ``arange``, ``rand``, ``randint``, ``*_like``, …

Every constructor takes ``dtype=``, ``device=`` (the CPU; anything else raises a clear error) and
``requires_grad=``; sizes may be given as ``f(2, 3)`` or ``f((2, 3))``. Float results use the default dtype
(float32) unless a dtype is given. Random constructors draw from minidl's global generator
(:func:`minidl.manual_seed`) or from ``generator=``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..backend import xp
from ..device import check_device
from ..errors import ValueRangeError
from ..random import numpy_generator
from ..tensor import Tensor, _shape_arg, tensor

__all__ = [
    "tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "empty_like", "arange", "range_", "linspace", "logspace", "eye", "rand", "randn", "randint",
    "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli", "multinomial", "poisson",
]  # fmt: skip


def _dtype(dtype: Any, default: Any = None) -> np.dtype:
    if dtype is None:
        return dtypes.default_float() if default is None else np.dtype(default)
    return dtypes.to_numpy_dtype(dtype)


def _leaf(data: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    if device is not None:
        check_device(device)
    t = Tensor._wrap(data)
    return t.requires_grad_(True) if requires_grad else t


def _size(size: tuple) -> tuple[int, ...]:
    shape = _shape_arg(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it already is one (or a NumPy array) of that dtype."""
    if device is not None:
        check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or dtypes.to_numpy_dtype(dtype) == data._data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf" and (
            dtype is None or dtypes.to_numpy_dtype(dtype) == data.dtype):
        return Tensor._wrap(data)
    return tensor(data, dtype=dtype)


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an array without copying (shares memory, as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype.kind not in "biuf" or array.dtype not in dtypes._BY_NUMPY:
        raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported types are: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
    return Tensor._wrap(array)


def zeros(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return _leaf(xp.zeros(_size(size), dtype=_dtype(dtype)), requires_grad, device)


def ones(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _leaf(xp.ones(_size(size), dtype=_dtype(dtype)), requires_grad, device)


def empty(*size: Any, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held)."""
    return _leaf(xp.empty(_size(size), dtype=_dtype(dtype)), requires_grad, device)


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype follows the value (bool, int64 or the default float)."""
    if dtype is None:
        dt = dtypes.result_type(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    else:
        dt = dtypes.to_numpy_dtype(dtype)
    return _leaf(xp.full(_size((size,)), fill_value, dtype=dt), requires_grad, device)


def _like(input: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    return input._data.shape, (input._data.dtype if dtype is None else dtypes.to_numpy_dtype(dtype))


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(xp.zeros(shape, dtype=dt), requires_grad, device)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(xp.ones(shape, dtype=dt), requires_grad, device)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(xp.empty(shape, dtype=dt), requires_grad, device)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(xp.full(shape, fill_value, dtype=dt), requires_grad, device)


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None, dtype: Any = None,
           layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """[start, end) in steps; int64 when start, end and step are all integers, else the default float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    integral = all(isinstance(v, int | np.integer) for v in vals)
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise ValueRangeError("upper bound and lower bound inconsistent with step sign")
    n = max(math.ceil((vals[1] - vals[0]) / vals[2]), 0)
    dt = _dtype(dtype, np.int64 if integral else None)
    data = (vals[0] + np.arange(n, dtype=np.float64 if not integral else np.int64) * vals[2]).astype(dt)
    return _leaf(data, requires_grad, device)


def range_(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """PyTorch's deprecated ``torch.range``: like arange but including ``end``, default float."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    return _leaf((start + np.arange(n) * step).astype(_dtype(dtype)), requires_grad, device)


def linspace(start: Any, end: Any, steps: int, *, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _leaf(xp.linspace(float(start), float(end), int(steps)).astype(_dtype(dtype)), requires_grad, device)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.logspace(float(start), float(end), int(steps), base=base).astype(_dtype(dtype)),
                 requires_grad, device)


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False) -> Tensor:
    for what, v in (("n", n), ("m", m)):
        if v is not None and v < 0:  # PyTorch's RuntimeError and wording, not NumPy's
            raise ValueRangeError(f"{what} must be greater or equal to 0, got {v}")
    return _leaf(xp.eye(n, n if m is None else m, dtype=_dtype(dtype)), requires_grad, device)


# ------------------------------------------------------------------------------------------ random
def rand(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    g = numpy_generator(generator)
    return _leaf(g.random(_size(size)).astype(_dtype(dtype)), requires_grad, device)


def randn(*size: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    g = numpy_generator(generator)
    return _leaf(g.standard_normal(_size(size)).astype(_dtype(dtype)), requires_grad, device)


def randint(*args: Any, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, size: Any = None, low: Any = None,
            high: Any = None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high), int64 by default."""
    pos = list(args)
    if size is None and pos and isinstance(pos[-1], tuple | list):
        size = pos.pop()
    if high is None:
        high = pos.pop() if pos else None
    if low is None:
        low = pos.pop() if pos else 0
    if high is None or size is None:
        raise TypeError("randint() needs high and size: randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    g = numpy_generator(generator)
    return _leaf(g.integers(low, high, size=_size((size,))).astype(_dtype(dtype, np.int64)), requires_grad, device)


def randperm(n: int, *, generator: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    g = numpy_generator(generator)
    return _leaf(g.permutation(int(n)).astype(_dtype(dtype, np.int64)), requires_grad, device)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(numpy_generator(None).random(shape).astype(dt), requires_grad, device)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    shape, dt = _like(input, dtype)
    return _leaf(numpy_generator(None).standard_normal(shape).astype(dt), requires_grad, device)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    shape, dt = _like(input, dtype)
    return _leaf(numpy_generator(None).integers(low, high, size=shape).astype(dt), requires_grad, device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, out: Tensor | None = None,
           dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean, std, size)`` with numbers, or elementwise from tensors of means/stds."""
    g = numpy_generator(generator)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if size is not None:
        shape = _size((size,))
    else:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    if np.any(np.asarray(s) < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    ref = m if isinstance(m, np.ndarray) else (s if isinstance(s, np.ndarray) else None)
    dt = _dtype(dtype, ref.dtype if ref is not None and ref.dtype.kind == "f" else None)
    return _leaf((m + s * g.standard_normal(shape)).astype(dt), requires_grad, device)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None, out: Tensor | None = None) -> Tensor:
    """1 with probability ``input`` (elementwise; or ``p``), else 0, in ``input``'s dtype."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true")
    g = numpy_generator(generator)
    return Tensor._wrap((g.random(input._data.shape) < probs).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None,
                out: Tensor | None = None) -> Tensor:
    """Indices drawn per row with probabilities proportional to ``input``'s non-negative weights (int64)."""
    w = input._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    g = numpy_generator(generator)
    out_rows = [g.choice(rows.shape[1], size=num_samples, replace=replacement, p=r / r.sum()) for r in rows]
    res = np.asarray(out_rows, dtype=np.int64)
    return Tensor._wrap(res[0] if w.ndim == 1 else res)


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    return Tensor._wrap(numpy_generator(generator).poisson(input._data).astype(input._data.dtype))

