"""``Linear`` and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter, _empty_parameter, _factory_dtype

__all__ = ["Identity", "Linear"]


def _default_init_(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv weights: kaiming_uniform_(a=√5), i.e. U(-1/√fan_in, 1/√fan_in),
    and bias U(-1/√fan_in, 1/√fan_in) (zero bound when fan_in = 0)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Linear(Module):
    r"""y = x Wᵀ + b, weight W (out_features, in_features), bias b (out_features,).

    Initialised as in PyTorch: W, b ~ U(-1/√in_features, 1/√in_features), float32 unless ``dtype`` says.
    Input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        dt = _factory_dtype(device, dtype)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_parameter((out_features, in_features), dt)
        if bias:
            self.bias = _empty_parameter((out_features,), dt)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _default_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_tensor(input)
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise self._input_error(f"input with last dimension {self.in_features}", input)
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
