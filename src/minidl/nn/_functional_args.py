"""Argument handling shared by the modules of ``minidl.nn.functional``: input checks, reductions (including
PyTorch's deprecated ``size_average``/``reduce`` flags) and the ``inplace=True`` form of a function."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _array(t: Tensor | Any | None) -> Any:
    """Non-differentiable tensor arguments (targets, class weights, running stats) go in as arrays."""
    return t._data if isinstance(t, Tensor) else t


def _check_tensor(name: str, x: Any) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a minidl.Tensor as input, got {type(x).__name__}")


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """``reduction`` from PyTorch's deprecated flags when either is given (reduce=False -> 'none',
    size_average=False -> 'sum'), else ``reduction`` itself."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction instead.",
                  DeprecationWarning, stacklevel=3)
    if reduce is not None and not reduce:
        return "none"
    return "sum" if size_average is not None and not size_average else "mean"


def maybe_inplace(fn: Callable[..., Tensor], input: Tensor, inplace: bool, *args: Any, **kwargs: Any) -> Tensor:
    """``fn(input, ...)``, or with ``inplace`` its result written into ``input`` (returned), through
    :meth:`Tensor._inplace`, which keeps autograd right (PyTorch's ``F.relu(x, inplace=True)``)."""
    if inplace:
        return input._inplace(fn, *args, **kwargs)
    return fn(input, *args, **kwargs)
