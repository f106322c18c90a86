"""``minidl.autograd``: the engine's public face, with PyTorch's names.

* :func:`backward` and :func:`grad`: reverse-mode differentiation from one or several outputs;
* :class:`Function`: custom differentiable functions (``forward``/``backward`` with a ``ctx``);
* :func:`gradcheck`: PyTorch's finite-difference check (minidl's per-input report is
  :func:`minidl.gradcheck.gradcheck`);
* ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Higher-order gradients (``create_graph=True``) are not supported: backward runs the ops' ``backward``
functions on arrays, which are not recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import xp
from ..errors import MinidlError, UnsupportedError
from .engine import Node, run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "backward", "grad", "Function", "FunctionCtx", "once_differentiable", "gradcheck", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "Variable", "Node", "GradcheckError",
]  # fmt: skip


def _as_list(x: Any) -> list[Any]:
    from ..tensor import Tensor

    if x is None:
        return []
    return [x] if isinstance(x, Tensor) else list(x)


def _grads_list(outputs: Any, grads: Any) -> list[Any]:
    """The output gradients as a list matching the outputs (one gradient for a single output tensor)."""
    from ..tensor import Tensor

    if grads is None:
        return []
    if isinstance(outputs, Tensor):
        return [grads[0] if isinstance(grads, list | tuple) and len(grads) == 1 else grads]
    return list(grads)


def _no_higher_order(create_graph: bool) -> None:
    if create_graph:
        raise UnsupportedError("create_graph=True (higher-order gradients) is not supported by minidl: the "
                               "backward functions run on arrays and are not recorded")


def _root_grads(outputs: list[Any], grad_outputs: list[Any]) -> list[np.ndarray]:
    """dL/d(output) for each output: given, or 1 for a one-element output."""
    from ..tensor import Tensor, as_array

    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got {len(grad_outputs)} "
                           f"gradients for {len(outputs)} outputs")
    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"expected a Tensor as output {i}, got {type(out).__name__}")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(output {i} has shape {list(out._data.shape)})")
            grads.append(xp.ones_like(out._data))
        else:
            arr = g._data if isinstance(g, Tensor) else as_array(g, out._data.dtype)
            if arr.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {list(arr.shape)} and "
                                   f"output[{i}] has a shape of {list(out._data.shape)}.")
            grads.append(arr.astype(out._data.dtype, copy=False))
    return grads


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
             grad_variables: Any = None, inputs: Any = None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (only ``inputs``' if given)."""
    _no_higher_order(create_graph)
    outputs = _as_list(tensors)
    given = grad_tensors if grad_tensors is not None else grad_variables
    grads = _root_grads(outputs, _grads_list(tensors, given))
    ins = _as_list(inputs) or None
    run_backward(outputs, grads, retain_graph=bool(retain_graph), inputs=ins, accumulate=True)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Any, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated in ``.grad``."""
    from ..tensor import Tensor

    _no_higher_order(create_graph)
    if is_grads_batched:
        raise UnsupportedError("is_grads_batched=True is not supported by minidl")
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    root_grads = _root_grads(outs, _grads_list(outputs, grad_outputs))
    captured = run_backward(outs, root_grads, retain_graph=bool(retain_graph), inputs=ins, accumulate=False)
    result = []
    for t, g in zip(ins, captured, strict=True):
        if g is None:
            if materialize_grads:
                g = xp.zeros_like(t._data)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        result.append(None if g is None else Tensor._wrap(np.array(g, dtype=t._data.dtype)))
    return tuple(result)


class GradcheckError(MinidlError, RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients disagree."""


def gradcheck(func: Any, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_ignored: Any) -> bool:
    """PyTorch's check: every input that requires grad gets its backward gradient compared with central
    differences of ``func`` (for each output element), ``|analytical − numerical| ≤ atol + rtol·|numerical|``.
    Use float64 inputs. Returns True, or raises :class:`GradcheckError` (False with ``raise_exception=False``)."""
    from ..gradcheck import numeric_jacobian_check

    ok, message = numeric_jacobian_check(func, inputs if isinstance(inputs, tuple | list) else (inputs,),
                                         eps=eps, atol=atol, rtol=rtol)
    if not ok and raise_exception:
        raise GradcheckError(message)
    return ok


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802 - legacy API
    """PyTorch's legacy ``Variable(tensor, requires_grad=...)``: the tensor itself (Variables are Tensors)."""
    from ..tensor import Tensor, tensor

    t = data if isinstance(data, Tensor) else tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


