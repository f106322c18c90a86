"""Tensor methods and operators that are the ``minidl.*`` functions with the tensor as first argument.

PyTorch's ``x.exp()`` is ``torch.exp(x)``; here the function object itself is attached to :class:`Tensor`
(one implementation, one signature, one docstring). ``x.add_(y)`` is the in-place form: it writes
``add(x, y)`` into ``x``'s storage through :meth:`Tensor._inplace`, which also keeps autograd correct (see
:mod:`minidl.tensor`). Operators map to the same functions (``x + y`` is ``add(x, y)``, ``x += y`` is
``x.add_(y)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import dtypes
from . import functions as F
from .autograd.grad_mode import state as _grad
from .random import numpy_generator
from .tensor import Tensor, _counter, tracing

__all__ = ["METHODS", "INPLACE", "bind"]

#: functions of minidl.functions that are also Tensor methods of the same name
METHODS = """
add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow float_power neg negative
positive abs absolute exp exp2 log log2 log10 log1p expm1 sqrt rsqrt square sin cos tan asin acos atan arcsin
arccos arctan sinh cosh tanh sigmoid relu floor ceil round trunc fix frac sign sgn reciprocal clamp clip maximum
minimum fmax fmin lerp addmm addcmul addcdiv logical_and logical_or logical_xor logical_not bitwise_and bitwise_or
bitwise_xor bitwise_not nan_to_num atan2 arctan2 softmax log_softmax erf erfc prelu
sum nansum mean nanmean prod std var max min amax amin aminmax argmax argmin norm logsumexp cumsum cumprod all any
unique bincount count_nonzero sort argsort topk kthvalue median
eq ne lt le gt ge greater greater_equal less less_equal not_equal isclose allclose equal isnan isinf isfinite
isposinf isneginf is_nonzero
matmul mm bmm mv dot inner outer ger t diagonal trace diag
split chunk unbind flatten unflatten squeeze unsqueeze view_as transpose swapaxes swapdims movedim moveaxis expand_as
broadcast_to narrow select gather take_along_dim scatter scatter_add index_select index_add index_fill index_copy
masked_fill masked_select fliplr flipud roll tril triu nonzero clone contiguous ravel
""".split()

#: functions whose in-place form ``name_`` is a Tensor method
INPLACE = """
add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow float_power neg negative abs
absolute exp exp2 log log2 log10 log1p expm1 sqrt rsqrt square sin cos tan asin acos atan arcsin arccos arctan sinh
cosh tanh sigmoid relu floor ceil round trunc fix frac sign sgn reciprocal clamp clip lerp addmm addcmul addcdiv
logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not nan_to_num atan2
arctan2 cumsum cumprod tril triu masked_fill scatter scatter_add index_add index_fill index_copy erf erfc
""".split()

_FAST = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}


def _inplace_method(name: str, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    ufunc = _FAST.get(name)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if ufunc is not None and len(args) == 1 and not kwargs and _is_plain(self, args[0]):
            return _ufunc_inplace(self, args[0], ufunc, fn)
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place form of :func:`minidl.{name}`: writes the result into this tensor's storage."
    return method


def _is_plain(self: Tensor, other: Any) -> bool:
    """No graph to record: the in-place arithmetic can run as one NumPy ufunc writing into the storage (not
    while an ONNX export traces the ops)."""
    if tracing.tracer is not None:
        return False
    if _grad.enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return False
    return isinstance(other, Tensor | int | float | bool)


def _ufunc_inplace(self: Tensor, other: Any, ufunc: np.ufunc, fn: Callable[..., Tensor]) -> Tensor:
    dt = dtypes.result_type(self, other)
    if ufunc is np.true_divide and dt.kind != "f":
        dt = dtypes.default_float()
    if not dtypes.can_cast(dt, self._data.dtype):
        t = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool"}
        raise RuntimeError(f"result type {t[dt.kind]} can't be cast to the desired output type "
                           f"{t[self._data.dtype.kind]}")
    if not self._data.flags.writeable:  # an expanded view: _commit raises PyTorch's error
        return self._inplace(fn, other)
    o = other._data if isinstance(other, Tensor) else other
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            ufunc(self._data, o, out=self._data, casting="unsafe")
    except ValueError:
        shape = np.broadcast_shapes(self._data.shape, np.shape(o))
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}") from None
    _counter(self).value += 1
    return self


# ------------------------------------------------------------------------------------------ fills
def _fill_with(self: Tensor, make: Callable[[tuple[int, ...], np.dtype], Any]) -> Tensor:
    """Overwrite the storage with ``make(shape, dtype)`` (fills and random draws: no gradient to the old values)."""
    self._check_inplace()
    arr = np.asarray(make(self._data.shape, self._data.dtype))
    if _grad.enabled and self._requires_grad:  # a non-leaf in the graph: its new value is a constant
        return self._commit(F.where(np.ones(self._data.shape, bool), Tensor._wrap(arr.astype(self._data.dtype)),
                                    self.detach()))
    self._data[...] = arr
    _counter(self).value += 1
    return self


def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor, whose gradient is recorded)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        if _grad.enabled and value._requires_grad:
            return self._inplace(lambda x, v: F.expand(v.to(x._data.dtype), x._data.shape), value)
        value = value.item()
    return _fill_with(self, lambda shape, dt: np.full(shape, value, dtype=dt))


def zero_(self: Tensor) -> Tensor:
    return _fill_with(self, lambda shape, dt: np.zeros(shape, dtype=dt))


def copy_(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast, cast to this tensor's dtype) into this tensor; gradients flow to ``src``."""
    if not isinstance(src, Tensor):
        src = Tensor._wrap(np.asarray(src))
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
        ok = np.broadcast_shapes(src._data.shape, self._data.shape) == self._data.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(src._data.shape)}")
    return self._inplace(lambda x, s: F.expand(s.to(x._data.dtype), x._data.shape), src)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    g = numpy_generator(generator)
    return _fill_with(self, lambda shape, dt: mean + std * g.standard_normal(shape))


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None, **kw: Any) -> Tensor:
    a, b = kw.pop("from", a), kw.pop("to", b)
    g = numpy_generator(generator)
    return _fill_with(self, lambda shape, dt: a + (b - a) * g.random(shape))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    g = numpy_generator(generator)
    probs = p._data if isinstance(p, Tensor) else p
    return _fill_with(self, lambda shape, dt: g.random(shape) < probs)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    g = numpy_generator(generator)
    return _fill_with(self, lambda shape, dt: g.exponential(1.0 / lambd, shape))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Any = None) -> Tensor:
    g = numpy_generator(generator)
    if to is None:
        from_, to = 0, (from_ if from_ else 2 ** min(self._data.dtype.itemsize * 8 - 1, 53))
    return _fill_with(self, lambda shape, dt: g.integers(from_, to, size=shape))


def index_put_(self: Tensor, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
    """``self[indices] = values`` (``accumulate=True``: added, with repeated indices summed)."""
    idx = tuple(indices)
    if not accumulate:
        self[idx] = values
        return self
    if _grad.enabled and (self._requires_grad or (isinstance(values, Tensor) and values._requires_grad)):
        from .errors import UnsupportedError

        raise UnsupportedError("index_put_(accumulate=True) while recording the graph is not supported by minidl")
    from .tensor import _index

    v = values._data if isinstance(values, Tensor) else values
    np.add.at(self._data, _index(idx), v)
    _counter(self).value += 1
    return self


def _reshaping_inplace(name: str, fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``x.unsqueeze_(0)``, ``x.t_()``, ...: the tensor itself takes the new shape (a view of its storage)."""

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._check_inplace()
        out = fn(self, *args, **kwargs)
        if out._base is self:  # the base is the tensor as it was: keep that as a separate object
            before = Tensor._wrap(self._data, self._node, self._output_nr)
            before._requires_grad, before._vc = self._requires_grad, _counter(self)
            out._base = before
        self._data, self._node, self._output_nr = out._data, out._node, out._output_nr
        self._requires_grad = out._requires_grad
        self._base, self._view_fns = out._base, out._view_fns
        return self

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place form of :meth:`Tensor.{name}`: this tensor takes the new shape."
    return method


RESHAPING_INPLACE = ("unsqueeze", "squeeze", "t", "transpose", "swapaxes", "swapdims")


def where(self: Tensor, condition: Any, y: Any) -> Tensor:
    """``x.where(condition, y)`` is ``minidl.where(condition, x, y)``."""
    return F.where(condition, self, y)


def _reverse(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return method


def _invert(self: Tensor) -> Tensor:
    return F.logical_not(self) if self._data.dtype.kind == "b" else F.bitwise_not(self)


_OPERATORS = {
    "__add__": F.add, "__radd__": _reverse(F.add), "__sub__": F.sub, "__rsub__": _reverse(F.sub),
    "__mul__": F.mul, "__rmul__": _reverse(F.mul), "__truediv__": F.div, "__rtruediv__": _reverse(F.div),
    "__floordiv__": F.floor_divide, "__rfloordiv__": _reverse(F.floor_divide), "__mod__": F.remainder,
    "__rmod__": _reverse(F.remainder), "__pow__": F.pow, "__rpow__": _reverse(F.pow), "__matmul__": F.matmul,
    "__rmatmul__": _reverse(F.matmul), "__neg__": F.neg, "__abs__": F.abs, "__invert__": _invert,
    "__and__": F.bitwise_and, "__rand__": _reverse(F.bitwise_and), "__or__": F.bitwise_or,
    "__ror__": _reverse(F.bitwise_or), "__xor__": F.bitwise_xor, "__rxor__": _reverse(F.bitwise_xor),
    "__eq__": F.eq, "__ne__": F.ne, "__lt__": F.lt, "__le__": F.le, "__gt__": F.gt, "__ge__": F.ge,
}
_INPLACE_OPERATORS = {"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_",
                      "__ifloordiv__": "floor_divide_", "__imod__": "remainder_", "__ipow__": "pow_",
                      "__imatmul__": "matmul_", "__iand__": "bitwise_and_", "__ior__": "bitwise_or_",
                      "__ixor__": "bitwise_xor_"}


def bind() -> None:
    """Attach the methods and operators to :class:`Tensor` (once, when :mod:`minidl.functions` is ready)."""
    from . import tensor as tensor_module

    tensor_module._fns = F
    for name in METHODS:
        setattr(Tensor, name, getattr(F, name))
    for name in (*INPLACE, "matmul"):
        setattr(Tensor, name + "_", _inplace_method(name, getattr(F, name)))
    for name in RESHAPING_INPLACE:
        setattr(Tensor, name + "_", _reshaping_inplace(name, getattr(F, name)))
    for name, fn in _OPERATORS.items():
        setattr(Tensor, name, fn)
    for name, method in _INPLACE_OPERATORS.items():
        setattr(Tensor, name, getattr(Tensor, method))
    for fn in (fill_, zero_, copy_, normal_, uniform_, bernoulli_, exponential_, random_, index_put_, where):
        setattr(Tensor, fn.__name__, fn)
    setattr(Tensor, "__pos__", F.positive)  # noqa: B010 - bound like every other method here
    setattr(Tensor, "__hash__", object.__hash__)  # noqa: B010 - defining __eq__ drops the default __hash__
