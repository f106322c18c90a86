"""``minidl.special``: PyTorch's ``torch.special`` functions that minidl has (the same objects as the
``minidl.*`` functions of those names; the math is in :mod:`minidl.ops.special`)."""

from __future__ import annotations

from typing import Any

from .functions import erf, erfc, expm1, log1p, log_softmax, logsumexp, sigmoid, softmax
from .tensor import Tensor

__all__ = ["erf", "erfc", "expit", "expm1", "log1p", "logsumexp", "softmax", "log_softmax", "ndtr"]

expit = sigmoid


def ndtr(input: Tensor, *, out: Any = None) -> Tensor:
    r"""Φ(x), the standard normal CDF: erfc(−x/√2)/2."""
    from .functions import mul

    result = mul(erfc(mul(input, -0.7071067811865476)), 0.5)
    return result if out is None else out.copy_(result)
