"""The activations of ``minidl.nn.functional`` beyond relu/sigmoid/tanh/softmax: GELU, the ELU family,
SiLU, Mish, softplus, softsign, the hard variants, PReLU, log-sigmoid, softmin, threshold and GLU.

Each checks its arguments and runs one row of :data:`minidl.ops.activation.ACTIVATIONS` (or a short
composition of ops: softmin, GLU). ``inplace=True`` writes the result into the input through
:meth:`Tensor._inplace`, as PyTorch does, so autograd stays right; the ``name_`` forms are the same.
"""

from __future__ import annotations

from typing import Any

from .. import functions as torch_fns
from .. import ops
from ..functions.pointwise import _kernel_input
from ..tensor import Tensor
from ._functional_args import _check_tensor, maybe_inplace

__all__ = [
    "gelu", "elu", "elu_", "selu", "selu_", "celu", "celu_", "silu", "mish", "softplus", "softsign", "hardtanh",
    "hardtanh_", "relu6", "hardswish", "hardsigmoid", "prelu", "logsigmoid", "softmin", "threshold", "threshold_",
    "glu",
]  # fmt: skip

_act = ops.activations


def _inplace_form(name: str, kernel: str, doc: str) -> Any:
    """``F.<name>(input, inplace=False)`` for a row of the activation table whose only option is ``inplace``."""
    def fn(input: Tensor, inplace: bool = False) -> Tensor:
        return maybe_inplace(lambda x: _act[name](_kernel_input(kernel, x)), input, inplace)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""x·Φ(x) (Φ the standard normal CDF), or with ``approximate='tanh'`` x·(1 + tanh(√(2/π)(x + 0.044715x³)))/2."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _act["gelu"](_kernel_input("GeluKernelImpl", input), approximate=approximate)


def _elu(input: Tensor, alpha: float) -> Tensor:
    return _act["elu"](_kernel_input("elu_cpu", input), alpha=float(alpha))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""x for x > 0, α(eˣ − 1) otherwise."""
    return maybe_inplace(_elu, input, inplace, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""scale·ELU(x; α) with the SELU constants (self-normalising networks)."""
    return maybe_inplace(torch_fns.selu, input, inplace)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    r"""max(0, x) + min(0, α(e^{x/α} − 1))."""
    return maybe_inplace(torch_fns.celu, input, inplace, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


silu = _inplace_form("silu", "silu_cpu", "x·σ(x) (also called swish).")


mish = _inplace_form("mish", "mish_cpu", "x·tanh(softplus(x)).")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    r"""log(1 + e^{βx})/β, and x itself where βx > ``threshold`` (for numerical stability, as PyTorch)."""
    return _act["softplus"](_kernel_input("softplus_cpu", input), beta=float(beta), threshold=float(threshold))


def softsign(input: Tensor) -> Tensor:
    r"""x / (1 + |x|)."""
    _check_tensor("softsign", input)
    return _act["softsign"](torch_fns.pointwise.floating(input))


def _hardtanh(input: Tensor, min_val: float, max_val: float) -> Tensor:
    _check_tensor("hardtanh", input)
    if input._data.dtype.kind != "f":  # integers are clamped (no gradient to record)
        return torch_fns.clamp(input, int(min_val), int(max_val))
    return _act["hardtanh"](input, min_val=float(min_val), max_val=float(max_val))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    r"""clamp(x, min_val, max_val), with zero gradient outside (min_val, max_val)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return maybe_inplace(_hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    r"""min(max(0, x), 6): hardtanh on [0, 6]."""
    return hardtanh(input, 0.0, 6.0, inplace)


hardswish = _inplace_form("hardswish", "hardswish_cpu", "x·relu6(x + 3)/6.")


hardsigmoid = _inplace_form("hardsigmoid", "hardsigmoid_cpu", "relu6(x + 3)/6.")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    r"""max(0, x) + w·min(0, x), with one learnt slope or one per channel (axis 1)."""
    return torch_fns.prelu(input, weight)


def logsigmoid(input: Tensor) -> Tensor:
    r"""log σ(x) = −softplus(−x), stable for any x."""
    return _act["logsigmoid"](_kernel_input("log_sigmoid_cpu", input))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    r"""softmax(−x) along ``dim`` (PyTorch's legacy choice of dim, with a warning, when it is not given)."""
    from .activation import _softmax_dim

    _check_tensor("softmin", input)
    dim = _softmax_dim("softmin", dim, input.ndim, _stacklevel)
    x = input if dtype is None else input.to(dtype)
    return torch_fns.softmax(torch_fns.neg(x), dim)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    r"""x where x > threshold, else ``value``."""
    return maybe_inplace(torch_fns.threshold, input, inplace, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return maybe_inplace(torch_fns.threshold, input, True, threshold, value)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    r"""a ⊗ σ(b), where a and b are the two halves of the input along ``dim``."""
    _check_tensor("glu", input)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = dim + input.ndim if dim < 0 else dim
    if not 0 <= axis < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         f"but got {dim})")
    size = input.shape[axis]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {size}")
    a, b = torch_fns.chunk(input, 2, axis)
    return ops.mul(a, ops.sigmoid(_kernel_input("glu_cpu", b)))
