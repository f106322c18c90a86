"""Elementwise math with PyTorch's names, signatures and result dtypes (``minidl.add``, ``minidl.exp``, …).

Each function promotes its operands (:mod:`minidl.dtypes`), then runs one op (or a short composition of ops)
from :mod:`minidl.ops`; the math and the derivatives live there. Floating functions (exp, sqrt, sin, …) give
the default float dtype for integer inputs, as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import dtypes, ops
from ..backend import xp
from ..errors import DTypeError, NumericalError
from ..tensor import Tensor
from ._args import binary, check_tensor, finish, floating, operand, promoted, to
from .comparison import ge, le

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "float_power", "neg", "negative", "abs", "absolute", "exp", "exp2", "log",
    "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan",
    "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "sigmoid", "relu", "floor", "ceil", "round", "trunc",
    "fix", "frac", "sign", "sgn", "reciprocal", "clamp", "clip", "maximum", "minimum", "fmax", "fmin", "where",
    "lerp", "addmm", "addcmul", "addcdiv", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "nan_to_num", "atan2", "arctan2", "softmax",
    "log_softmax", "erf", "erfc", "positive", "selu", "selu_", "celu", "celu_", "threshold", "threshold_", "prelu",
]  # fmt: skip


# ------------------------------------------------------------------------------------------ arithmetic
def _legacy_alpha(name: str, other: Any, legacy: tuple, alpha: Any) -> tuple[Any, Any]:
    """PyTorch's deprecated ``add(input, value, other)`` / ``x.add_(value, other)``: value scales other."""
    if not legacy:
        return other, alpha
    if len(legacy) != 1 or not isinstance(legacy[0], Tensor) or isinstance(other, Tensor):
        raise TypeError(f"{name}() takes (input, other, *, alpha=1)")
    warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor other)\nConsider using "
                  f"one of the following signatures instead:\n\t{name}(Tensor other, *, Number alpha = 1)",
                  UserWarning, stacklevel=3)
    return legacy[0], other


def add(input: Any, other: Any, *legacy: Any, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha · other."""
    other, alpha = _legacy_alpha("add", other, legacy, alpha)
    a, b = binary(input, other)
    if alpha != 1:
        b = ops.mul(b, operand(alpha, b._data.dtype))
    return finish(ops.add(a, b), out)


def sub(input: Any, other: Any, *legacy: Any, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input − alpha · other."""
    other, alpha = _legacy_alpha("sub", other, legacy, alpha)
    a, b = binary(input, other)
    if a._data.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        b = ops.mul(b, operand(alpha, b._data.dtype))
    return finish(ops.sub(a, b), out)


subtract = sub


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """other − alpha · input."""
    return sub(other, input, alpha=alpha)


def mul(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    a, b = binary(input, other)
    return finish(ops.mul(a, b), out)


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """input / other: true division (integers give the default float dtype), or rounded with
    ``rounding_mode='trunc'`` or ``'floor'`` (keeping an integer dtype)."""
    a, b = binary(input, other)
    if rounding_mode is None:
        if a._data.dtype.kind != "f":
            a, b = floating(a), floating(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return finish(ops.div(a, b), out)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                         f"'{rounding_mode}'")
    if a._data.dtype.kind != "f":
        if (b._data == 0).any():  # PyTorch raises RuntimeError("ZeroDivisionError") for integers
            raise NumericalError("ZeroDivisionError: integer division by zero")
        q = xp.floor_divide(a._data, b._data) if rounding_mode == "floor" else \
            (xp.trunc(a._data / b._data)).astype(a._data.dtype)
        return finish(Tensor._wrap(q), out)
    with np.errstate(divide="ignore", invalid="ignore"):
        return finish(ops.unary[rounding_mode if rounding_mode == "floor" else "trunc"](ops.div(a, b)), out)


divide = div


def true_divide(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return div(input, other, out=out)


def floor_divide(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    return div(input, other, rounding_mode="floor", out=out)


def remainder(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Python's modulo: the result has the sign of ``other`` (a − floor(a/b)·b)."""
    a, b = binary(input, other)
    if a._data.dtype.kind != "f":
        return finish(Tensor._wrap(xp.remainder(a._data, b._data)), out)
    return finish(ops.sub(a, ops.mul(div(a, b, rounding_mode="floor"), b)), out)


def fmod(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
    """C's remainder: the result has the sign of ``input`` (a − trunc(a/b)·b)."""
    a, b = binary(input, other)
    if a._data.dtype.kind != "f":
        return finish(Tensor._wrap(xp.fmod(a._data, b._data)), out)
    return finish(ops.sub(a, ops.mul(div(a, b, rounding_mode="trunc"), b)), out)


def pow(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:  # noqa: A001 - PyTorch's name
    """input ** exponent; a Python-number exponent keeps the tensor's dtype (ints stay ints)."""
    if isinstance(input, Tensor) and isinstance(exponent, int | float) and not isinstance(exponent, bool):
        x = input
        if x._data.dtype.kind != "f" and isinstance(exponent, float):
            x = to(x, dtypes.default_float())
        elif x._data.dtype.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return finish(ops.pow_scalar(x, exponent=exponent), out)
    a, b = promoted(input, exponent)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return finish(ops.pow(a, b), out)


def float_power(input: Any, exponent: Any) -> Tensor:
    a, b = promoted(input, exponent)
    return pow(to(a, np.dtype(np.float64)), to(b, np.dtype(np.float64)))


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    check_tensor("neg", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return finish(ops.neg(input), out)


negative = neg


def positive(input: Tensor) -> Tensor:
    return input


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:  # noqa: A001
    check_tensor("abs", input)
    return finish(ops.abs(input), out)


absolute = abs


# ------------------------------------------------------------------------------------------ floating math
def _floating_unary(name: str, op: Any) -> Any:
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        check_tensor(name, input)
        return finish(op(floating(input)), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; integer inputs give the default float dtype (see ``minidl.ops``)."
    return fn


exp = _floating_unary("exp", ops.exp)
log = _floating_unary("log", ops.log)
sqrt = _floating_unary("sqrt", ops.sqrt)
tanh = _floating_unary("tanh", ops.tanh)
sigmoid = _floating_unary("sigmoid", ops.sigmoid)
log1p = _floating_unary("log1p", ops.unary["log1p"])
expm1 = _floating_unary("expm1", ops.unary["expm1"])
log2 = _floating_unary("log2", ops.unary["log2"])
log10 = _floating_unary("log10", ops.unary["log10"])
exp2 = _floating_unary("exp2", ops.unary["exp2"])
sin = _floating_unary("sin", ops.unary["sin"])
cos = _floating_unary("cos", ops.unary["cos"])
tan = _floating_unary("tan", ops.unary["tan"])
asin = arcsin = _floating_unary("asin", ops.unary["asin"])
acos = arccos = _floating_unary("acos", ops.unary["acos"])
atan = arctan = _floating_unary("atan", ops.unary["atan"])
sinh = _floating_unary("sinh", ops.unary["sinh"])
cosh = _floating_unary("cosh", ops.unary["cosh"])
rsqrt = _floating_unary("rsqrt", ops.unary["rsqrt"])
reciprocal = _floating_unary("reciprocal", ops.unary["reciprocal"])


erf = _floating_unary("erf", ops.unary["erf"])
erfc = _floating_unary("erfc", ops.unary["erfc"])


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    check_tensor("square", input)
    return finish(ops.unary["square"](input), out)


def relu(input: Tensor) -> Tensor:
    check_tensor("relu", input)
    return ops.relu(input)


# ------------------------------------------------------------------------------------------ activations
def _kernel_input(kernel: str, input: Tensor) -> Tensor:
    """A floating tensor for an activation kernel, or PyTorch's NotImplementedError naming the kernel."""
    check_tensor(kernel.split("_")[0], input)
    if input._data.dtype.kind != "f":
        title = _TYPE_TITLES.get(input._data.dtype.name, input._data.dtype.name)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{title}\'')
    return input


_TYPE_TITLES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def selu(input: Tensor) -> Tensor:
    """scale·(max(0, x) + min(0, α(eˣ − 1))) with PyTorch's constants α ≈ 1.6733, scale ≈ 1.0507."""
    return ops.activations["elu"](_kernel_input("elu_cpu", input), alpha=ops.activation.SELU_ALPHA,
                                  scale=ops.activation.SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, α(e^{x/α} − 1))."""
    if float(alpha) == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return ops.activations["elu"](_kernel_input("elu_cpu", input), alpha=float(alpha), input_scale=1 / float(alpha))


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else ``value`` (integer tensors stay integer)."""
    check_tensor("threshold", input)
    if input._data.dtype.kind != "f":  # no gradient to record: the row's function on the array
        f = ops.activation.ACTIVATIONS["threshold"][0]
        return Tensor._wrap(xp.asarray(f(input._data, threshold, value), dtype=input._data.dtype))
    return ops.activations["threshold"](input, threshold=float(threshold), value=float(value))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + w·min(0, x), w one slope or one per channel (axis 1)."""
    check_tensor("prelu", input)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_TYPE_TITLES.get(input._data.dtype.name)} "
                           f"and {_TYPE_TITLES.get(weight._data.dtype.name)}")
    return ops.prelu(_kernel_input("prelu_cpu", input), weight)


def selu_(input: Tensor) -> Tensor:
    return input._inplace(selu)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return input._inplace(celu, alpha)


_threshold = threshold  # the parameter of threshold_ hides the function's name


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return input._inplace(_threshold, threshold, value)


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    x = input if dtype is None else to(input, dtypes.to_numpy_dtype(dtype))
    return ops.softmax(floating(x), dim=dim)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    x = input if dtype is None else to(input, dtypes.to_numpy_dtype(dtype))
    return ops.log_softmax(floating(x), dim=dim)


# ------------------------------------------------------------------------------------------ rounding
def _rounding(name: str) -> Any:
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        check_tensor(name, input)
        if input._data.dtype.kind != "f":
            return finish(input.clone(), out)  # integers are already whole
        return finish(ops.unary[name](input), out)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; zero gradient, as in PyTorch."
    return fn


floor = _rounding("floor")
ceil = _rounding("ceil")
trunc = fix = _rounding("trunc")


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """Round half to even, to ``decimals`` places (PyTorch's rule)."""
    check_tensor("round", input)
    if input._data.dtype.kind != "f":
        return finish(input.clone(), out)
    return finish(ops.unary["round"](input, decimals=decimals), out)


def frac(input: Tensor) -> Tensor:
    return ops.unary["frac"](input)


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    check_tensor("sign", input)
    if input._data.dtype.kind == "b":
        return finish(input.clone(), out)
    return finish(ops.unary["sign"](input), out)


sgn = sign


# ------------------------------------------------------------------------------------------ min / max / where
def clamp(input: Tensor, min: Any = None, max: Any = None, *, out: Tensor | None = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; either bound may be a number or a tensor (broadcast)."""
    check_tensor("clamp", input)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        x = input
        dt = dtypes.result_type(input, *(v for v in (min, max) if v is not None))
        x = to(x, dt)
        return finish(ops.clip(x, min=min, max=max), out)
    # where, not maximum/minimum: at a tie the gradient goes to the input, as PyTorch's clamp does
    res = input
    if min is not None:
        lo = min if isinstance(min, Tensor) else operand(min, res._data.dtype)
        res = where(ge(res, lo), res, lo)
    if max is not None:
        hi = max if isinstance(max, Tensor) else operand(max, res._data.dtype)
        res = where(le(res, hi), res, hi)
    return finish(res, out)


clip = clamp


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise max of two tensors; the gradient goes to the larger, half each on ties (PyTorch)."""
    a, b = binary(input, other)
    return finish(ops.maximum(a, b), out)


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    a, b = binary(input, other)
    return finish(ops.minimum(a, b), out)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Like :func:`maximum`, but a NaN loses to a number."""
    a, b = binary(input, other)
    return where(xp.isnan(b._data) | (a._data >= b._data), a, b)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    a, b = binary(input, other)
    return where(xp.isnan(b._data) | (a._data <= b._data), a, b)


def where(condition: Any, input: Any = None, other: Any = None, *, out: Tensor | None = None) -> Any:
    """``where(c, x, y)``: x where c else y (differentiable in x and y; numbers allowed). ``where(c)``: the
    indices of the true elements, one int64 tensor per dim (``nonzero(as_tuple=True)``)."""
    cond = condition._data if isinstance(condition, Tensor) else xp.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in xp.nonzero(cond))
    if cond.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{dtypes.of_array(cond)}")
    a, b = promoted(input, other)
    return finish(ops.where(cond, a, b), out)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight · (end − input)."""
    a, b = binary(input, end)
    w = weight if isinstance(weight, Tensor) else operand(weight, a._data.dtype)
    return ops.add(a, ops.mul(w, ops.sub(b, a)))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta · input + alpha · (mat1 @ mat2)."""
    from .linalg import mm

    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = mul(prod, alpha)
    return add(mul(input, beta) if beta != 1 else input, prod)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value · tensor1 · tensor2."""
    return add(input, mul(tensor1, tensor2), alpha=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value · tensor1 / tensor2."""
    return add(input, div(tensor1, tensor2), alpha=value)


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of (other, input); composed of differentiable ops: atan(y/x) corrected by quadrant."""
    y, x = promoted(floating(input) if isinstance(input, Tensor) else input, other)
    y, x = floating(y), floating(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = atan(div(y, x))
    shift = xp.where(x._data < 0, xp.where(y._data >= 0, np.pi, -np.pi), 0.0).astype(base._data.dtype)
    return add(base, Tensor._wrap(shift))


arctan2 = atan2


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN and ±inf by finite numbers (the dtype's extremes by default); the gradient passes through
    where the value was finite."""
    a = input._data
    if a.dtype.kind != "f":
        return input.clone()
    fixed = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    return ops.where(xp.isfinite(a), input, Tensor._wrap(fixed))


# ------------------------------------------------------------------------------------------ logical / bitwise
def _logical(name: str, fn: Any) -> Any:
    def f(input: Any, other: Any) -> Tensor:
        a = input._data if isinstance(input, Tensor) else xp.asarray(input)
        b = other._data if isinstance(other, Tensor) else xp.asarray(other)
        return Tensor._wrap(fn(a.astype(bool), b.astype(bool)))

    f.__name__ = f.__qualname__ = name
    return f


logical_and = _logical("logical_and", xp.logical_and)
logical_or = _logical("logical_or", xp.logical_or)
logical_xor = _logical("logical_xor", xp.logical_xor)


def logical_not(input: Tensor) -> Tensor:
    return Tensor._wrap(xp.logical_not(input._data))


def _bitwise(name: str, fn: Any) -> Any:
    def f(input: Any, other: Any) -> Tensor:
        a, b = promoted(input, other)
        if a._data.dtype.kind == "f":
            raise DTypeError(f'"{name}_cpu" not implemented for \'{dtypes.of_array(a._data).name.title()}\'')
        return Tensor._wrap(fn(a._data, b._data))

    f.__name__ = f.__qualname__ = name
    return f


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor)


def bitwise_not(input: Tensor) -> Tensor:
    if input._data.dtype.kind == "f":
        raise TypeError("bitwise_not is only supported for integer and boolean tensors")
    return Tensor._wrap(xp.invert(input._data))
