"""The op protocol shared by every differentiable function in minidl.

An op is a pair of plain functions on arrays, written next to each other:

* ``forward(*inputs, **params) -> (out, cache)``: compute the output and keep what backward needs;
* ``backward(dout, cache, needs=None) -> grads``: given dL/d(out), return dL/d(input) for each positional
  input, in order (``None`` for inputs that get no gradient). ``needs`` is an optional tuple of booleans
  the engine passes so an op can skip gradients nobody asked for; called by hand it may be omitted.

Call ``op.forward``/``op.backward`` directly to work homework-style on arrays, or call the op itself on
tensors (``op(x, w, stride=2)``) to run it through the autograd engine. Both paths run the same code.

Gradients of elementwise ops are returned in the broadcast (output) shape; the engine reduces them to each
input's shape with :func:`minidl.tensor.unbroadcast`, the single place broadcasting is undone.

Each op also says which of its inputs (by position, -1 for its output) its cache holds, in ``saves``. The
engine remembers their versions, so that changing one of them in place before backward raises an error
instead of producing a wrong gradient. ``None`` (the default) means "possibly all of them".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, apply


class Op:
    """Base class: subclasses define ``forward`` and ``backward`` (see the module docstring)."""

    name: str = "op"
    #: positions of the inputs the cache holds (-1: the output); None: assume all inputs and the output
    saves: tuple[int, ...] | None = None

    def forward(self, *inputs: Any, **params: Any) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, cache: Any, needs: tuple[bool, ...] | None = None) -> tuple:
        raise NotImplementedError

    def __call__(self, *inputs: Any, **params: Any) -> Tensor:
        return apply(self, *inputs, **params)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def wants(needs: tuple[bool, ...] | None, i: int) -> bool:
    """Whether input ``i``'s gradient is wanted (all are, when called by hand without ``needs``)."""
    return needs is None or needs[i]
