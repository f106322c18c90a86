"""minidl: deep learning from scratch on NumPy.

Every differentiable op is a readable ``forward``/``backward`` pair (:mod:`minidl.ops`) that the autograd
engine (:mod:`minidl.tensor`) runs; the API speaks PyTorch (``minidl.nn.functional``), and the classic
homework functions (:mod:`minidl.layers`) sit on the same kernels.
"""

import numpy as _np

from . import ops
from ._version import __version__
from .creation import arange, from_numpy, full, ones, ones_like, rand, randn, zeros, zeros_like
from .random import manual_seed
from .tensor import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, tensor

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing axis ``dim``."""
    return ops.cat(*tensors, axis=dim)


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack tensors along a new axis ``dim``."""
    return ops.stack(*tensors, axis=dim)


def where(condition, input, other) -> Tensor:
    """Elementwise ``input if condition else other``; differentiable in ``input`` and ``other``."""
    from .tensor import _like

    ref = input if isinstance(input, Tensor) else other
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ops.where(cond, _like(input, ref), _like(other, ref))


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return input.minimum(other)


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return x.abs()


def clip(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    return x.clip(min, max)


clamp = clip


def matmul(a: Tensor, b: Tensor) -> Tensor:
    return a @ b


def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return x.sum(dim=dim, keepdim=keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return x.mean(dim=dim, keepdim=keepdim)


from . import nn, optim, tune, utils  # noqa: E402  (nn.functional needs the names above; tune loads lazily)
from .report.summary import summary  # noqa: E402  (minidl.summary(model, input_shape): layers and sizes)

__all__ = [
    "__version__", "Tensor", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "manual_seed", "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "randn", "rand", "from_numpy",
    "cat", "stack", "where", "maximum", "minimum", "exp", "log", "sqrt", "abs", "clip", "clamp", "matmul",
    "sum", "mean", "float32", "float64", "int64", "bool_", "ops", "nn", "optim", "utils", "summary", "tune",
]  # fmt: skip
