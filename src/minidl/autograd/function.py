"""Custom differentiable functions: ``minidl.autograd.Function``, as in PyTorch.

Subclass it with two static methods and call ``apply``::

    class Exp(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    y = Exp.apply(x)

``forward`` runs without recording (on tensors, under ``no_grad``); ``apply`` then records one node whose
op (:class:`FunctionBackward`) calls your ``backward`` with the output gradients as tensors, so a custom
function is an op of the engine like any other. The 2.x style, ``forward(*args)`` plus
``setup_context(ctx, inputs, output)``, works too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import tensor as _t
from .engine import Node
from .grad_mode import no_grad, state

__all__ = ["Function", "FunctionCtx", "FunctionBackward", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saved tensors and flags; any other attribute may
    be set on it to carry values from forward to backward."""

    def __init__(self) -> None:
        self.needs_input_grad: tuple[bool, ...] = ()
        self._saved: tuple[Any, ...] = ()
        self._saved_versions: tuple[Any, ...] = ()
        self._non_differentiable: set[int] = set()
        self._dirty: set[int] = set()
        self.materialize_grads = True
        self._input_shapes: tuple[tuple[int, ...], ...] = ()

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for backward; changing them in place before backward is an error."""
        for t in tensors:
            if t is not None and not isinstance(t, _t.Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument is of type "
                                f"{type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else (_t._counter(t), _t._counter(t).value) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        for t, v in zip(self._saved, self._saved_versions, strict=True):
            if t is not None and v[0].value != v[1]:
                raise RuntimeError("one of the variables needed for gradient computation has been modified by an "
                                   f"inplace operation: a tensor saved with save_for_backward is at version "
                                   f"{v[0].value}; expected version {v[1]} instead.")
        return self._saved

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Outputs that get no gradient (e.g. indices): they will not require grad."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Any) -> None:
        """Inputs that forward changed in place (accepted for PyTorch compatibility)."""
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward receives zeros (default) or None for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class FunctionBackward:
    """The op recorded for one ``Function.apply``: its backward calls the user's ``backward``.

    It follows the op protocol of :mod:`minidl.ops.base` (``name``, ``saves``, ``backward``) without
    subclassing ``Op``, which lives a layer above the engine."""

    saves: tuple[int, ...] = ()  # the ctx checks the versions of what the user saved

    def __init__(self, fn_cls: Any) -> None:  # a Function subclass
        self.fn_cls = fn_cls
        self.name = fn_cls.__name__

    def forward(self, *inputs: Any, **params: Any) -> tuple[np.ndarray, Any]:
        raise RuntimeError("FunctionBackward only runs backward; call the Function's apply()")

    def backward(self, dout: Any, cache: Any, needs: tuple[bool, ...] | None = None) -> tuple:
        ctx, shapes, dtypes = cache
        douts = dout if isinstance(dout, tuple) else (dout,)
        grads_in = []
        for g, shape, dt in zip(douts, shapes, dtypes, strict=True):
            if g is None:
                grads_in.append(_t.Tensor._wrap(np.zeros(shape, dt)) if ctx.materialize_grads else None)
            else:
                grads_in.append(_t.Tensor._wrap(g))
        with no_grad():
            res = self.fn_cls.backward(ctx, *grads_in)
        res = res if isinstance(res, tuple) else (res,)
        n_inputs = len(ctx.needs_input_grad)
        if len(res) < n_inputs or any(r is not None for r in res[n_inputs:]):
            raise RuntimeError(f"function {self.name}Backward returned an incorrect number of gradients "
                               f"(expected {n_inputs}, got {len(res)})")
        out: list[np.ndarray | None] = []
        for i, (r, wanted) in enumerate(zip(res[:n_inputs], ctx.needs_input_grad, strict=True)):
            if r is None or not wanted:
                out.append(None)
                continue
            arr = r._data if isinstance(r, _t.Tensor) else np.asarray(r)
            out.append(arr)
            shape = ctx._input_shapes[i]
            if arr.shape != shape:
                try:
                    np.broadcast_shapes(arr.shape, shape)
                    ok = len(arr.shape) >= len(shape)
                except ValueError:
                    ok = False
                if not ok:
                    raise RuntimeError(f"Function {self.name}Backward returned an invalid gradient at index {i} - "
                                       f"got {list(arr.shape)} but expected shape compatible with {list(shape)}")
        return tuple(out)


class _FunctionMeta(type):
    """Gives every Function subclass its own backward op object, shown as ``<Name>Backward``."""

    def __init__(cls, name: str, bases: tuple, ns: dict) -> None:
        super().__init__(name, bases, ns)
        cls._backward_op = FunctionBackward(cls)


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable functions (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    setup_context: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use "
                           "new-style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, _t.Tensor) and a._requires_grad for a in args)
        ctx._input_shapes = tuple(a._data.shape if isinstance(a, _t.Tensor) else () for a in args)
        with no_grad():
            if cls.setup_context is not None and cls.setup_context is not Function.setup_context:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        record = state.enabled and any(ctx.needs_input_grad)
        results = []
        tensors_out = [o for o in outputs if isinstance(o, _t.Tensor)]
        node = None
        if record and tensors_out:
            edges = tuple((a._node or a, a._output_nr, a._data.shape) if need else None
                          for a, need in zip(args, ctx.needs_input_grad, strict=True))
            cache = (ctx, [o._data.shape for o in tensors_out], [o._data.dtype for o in tensors_out])
            node = Node(cls._backward_op, cache, edges, ctx.needs_input_grad, args, n_outputs=len(tensors_out))
        nr = 0
        for o in outputs:
            if not isinstance(o, _t.Tensor):
                results.append(o)
                continue
            differentiable = id(o) not in ctx._non_differentiable and o._data.dtype.kind == "f"
            if o._node is not None or o._base is not None or any(o is a for a in args):
                o = _t.Tensor._wrap(o._data)  # a fresh tensor over the same storage takes the function's history
            if node is not None and differentiable:
                o._node, o._output_nr, o._requires_grad = node, nr, True
            results.append(o)
            nr += 1
        return results[0] if single else tuple(results)


def once_differentiable(fn: Any) -> Any:
    """Decorator for ``backward``: accepted for compatibility (minidl never records backward)."""
    return fn
