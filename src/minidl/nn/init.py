"""``minidl.nn.init``: PyTorch's weight initialisers, drawing from minidl's seeded generator.

Every function fills ``tensor.data`` in place (no graph is recorded) and returns the tensor; a NumPy array
may be passed instead of a tensor. Samples come from ``generator`` (a ``numpy.random.Generator``) or, by
default, from :func:`minidl.random.default_generator`, so ``minidl.manual_seed(s)`` fixes model init.
Samples are drawn directly in the tensor's float dtype (no float64 temporaries for float32 weights).

Fans of a weight of shape (out, in, k1, k2, ...): with receptive field r = k1·k2·...,
fan_in = in·r and fan_out = out·r (a Linear weight (out, in) has r = 1).

* Xavier/Glorot: std = gain·√(2 / (fan_in + fan_out)); uniform bound a = √3·std (Var U(-a, a) = a²/3).
* Kaiming/He: std = gain / √fan, fan = fan_in (keeps forward variance) or fan_out (backward variance);
  uniform bound √3·std. With the leaky-ReLU gain √(2 / (1 + a²)) and a = √5, the uniform bound becomes
  1/√fan_in: PyTorch's default for Linear and Conv2d weights.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..backend import is_float
from ..random import numpy_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]  # fmt: skip

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1;  tanh: 5/3;  relu: √2;  leaky_relu: √(2 / (1 + slope²)) (slope ``param``, default
    0.01);  selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _array(tensor: Any, name: str) -> np.ndarray:
    arr = tensor._data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a minidl.Tensor or numpy.ndarray, got {type(tensor).__name__}")
    return arr


def _float_array(tensor: Any, name: str) -> np.ndarray:
    arr = _array(tensor, name)
    if not is_float(arr.dtype):
        raise TypeError(f"{name}: needs a floating tensor to fill with random values, got dtype {arr.dtype}")
    return arr


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): (in·r, out·r), r = ∏ kernel."""
    shape = _array(tensor, "_calculate_fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {shape})")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw(generator: np.random.Generator | None, arr: np.ndarray, method: str) -> np.ndarray:
    """Samples of ``Generator.random`` or ``.standard_normal`` shaped like ``arr``, drawn natively in its
    dtype when NumPy can (float32/float64), so no float64 temporary is made for float32 weights."""
    rng = numpy_generator(generator)
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    return getattr(rng, method)(arr.shape, dtype=dtype)


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Fill with samples of U(a, b): a + (b - a)·u with u ~ U(0, 1)."""
    arr = _float_array(tensor, "uniform_")
    u = _draw(generator, arr, "random")
    u *= b - a
    u += a
    arr[...] = u
    return tensor


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Fill with samples of N(mean, std²) (the classic ``weight_scale`` init is ``normal_(w, std=scale)``)."""
    arr = _float_array(tensor, "normal_")
    z = _draw(generator, arr, "standard_normal")
    z *= std
    z += mean
    arr[...] = z
    return tensor


def constant_(tensor: Any, val: float) -> Any:
    """Fill with the constant ``val``."""
    _array(tensor, "constant_")[...] = val
    return tensor


def ones_(tensor: Any) -> Any:
    return constant_(tensor, 1)


def zeros_(tensor: Any) -> Any:
    return constant_(tensor, 0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """U(-a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator=generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str, name: str) -> float | None:
    """gain / √fan, or None (with PyTorch's warning) for a tensor with no elements."""
    if 0 in _array(tensor, name).shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Any:
    """U(-bound, bound) with bound = √3·gain/√fan (He et al., 2015); ``a`` is the leaky-ReLU slope."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Any:
    """N(0, std²) with std = gain/√fan (He et al., 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator=generator)
