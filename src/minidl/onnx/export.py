"""``minidl.onnx.export``: a model traced on an example input, written as an ONNX graph.

Tracing: while the model runs (in eval mode, without gradients), every op goes through
:func:`minidl.tensor.apply`, which reports it to the :class:`Tracer`; the tracer turns it into ONNX nodes at
once (:mod:`.convert`), naming each tensor by the node output that made it. The example input is the graph
input; a parameter or buffer becomes an initializer under its ``state_dict`` name the first time an op reads
it; any other tensor or array an op reads is a constant of the graph. An in-place op (``relu(inplace=True)``,
``out += identity``) renames the tensor it wrote. Forward hooks on every sub-module keep the path of the
module running, which an error about an op without an ONNX form names.

With ``dynamic_batch`` the first axis of the inputs and outputs is the symbolic ``batch``, and the shapes the
graph carries (reshape targets, expand shapes) keep that axis free, so the file runs on any batch size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _atomic
from .._version import __version__
from ..autograd.grad_mode import no_grad
from ..errors import UnsupportedError
from ..nn import Module
from ..tensor import Tensor, tracing
from . import convert
from ._package import onnx as _onnx

__all__ = ["export", "Tracer", "MIN_OPSET", "MAX_OPSET"]

MIN_OPSET, MAX_OPSET = 13, 21  # the opsets the converters are written for (Softmax's axis semantics, ...)
BATCH = "batch"


class Tracer:
    """Builds the ONNX graph of one traced forward pass (see the module docstring)."""

    def __init__(self, onnx: Any, opset: int, named_state: dict[int, tuple[str, Any]], batch: int | None) -> None:
        self.onnx, self.opset, self.batch = onnx, opset, batch
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: dict[int, str] = {}  # id(tensor or array) -> the graph value holding it
        self.alive: list[Any] = []  # everything named stays referenced, so no id is reused while tracing
        self.state = named_state  # id(parameter, buffer or their arrays) -> (state_dict name, array)
        self.modules: list[str] = []  # the path of the module running now, innermost last
        self._constants: dict[tuple, str] = {}
        self._counts: dict[str, int] = {}

    # ---------------------------------------------------------------------------------------- values
    def fresh(self, hint: str) -> str:
        n = self._counts.get(hint, 0)
        self._counts[hint] = n + 1
        return f"{hint}_{n}"

    def bind(self, obj: Any, name: str) -> None:
        self.names[id(obj)] = name
        self.alive.append(obj)

    def value(self, x: Any, dtype: Any = None) -> str:
        """The graph value an op input ``x`` is: a traced tensor, a parameter or buffer (its initializer is
        added on first use), or else a constant (a number becomes one of ``dtype``)."""
        if x is None:
            return ""
        name = self.names.get(id(x))
        if name is not None:
            return name
        if id(x) in self.state:
            key, arr = self.state[id(x)]
            self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), key))
            self.bind(x, key)
            return key
        arr = x._data if isinstance(x, Tensor) else np.asarray(x, dtype=dtype)
        return self.constant(arr)

    def constant(self, arr: np.ndarray, hint: str = "const") -> str:
        """An initializer holding ``arr`` (small ones are shared)."""
        arr = np.ascontiguousarray(arr)
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 64 else None
        if key is not None and key in self._constants:
            return self._constants[key]
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        if key is not None:
            self._constants[key] = name
        return name

    def ints(self, values: Sequence[int]) -> str:
        return self.constant(np.asarray(list(values), dtype=np.int64), "shape")

    def node(self, op_type: str, inputs: Sequence[str], outputs: int = 1, **attrs: Any) -> Any:
        """Add a node; returns its output name (or names, for several)."""
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, name=self.fresh(f"/{op_type}"),
                                                     **attrs))
        return names[0] if outputs == 1 else names

    # ---------------------------------------------------------------------------------------- tracing
    def where(self) -> str:
        return f"module '{self.modules[-1]}'" if self.modules and self.modules[-1] else "the model's own forward"

    def record(self, op: Any, inputs: tuple, params: dict[str, Any], out: Tensor) -> None:
        fn = convert.CONVERTERS.get(op.name)
        if fn is None:
            raise UnsupportedError(f"minidl.onnx.export: {self.where()} runs the op '{op.name}', which has no ONNX "
                                   f"form (exportable ops: {', '.join(sorted(convert.CONVERTERS))})")
        try:
            name = fn(self, inputs, params, out)
        except UnsupportedError as e:
            raise UnsupportedError(f"minidl.onnx.export: {self.where()}: {e}") from None
        self.bind(out, name)

    def setitem(self, target: Tensor) -> None:
        raise UnsupportedError(f"minidl.onnx.export: {self.where()} assigns into a tensor by index (x[i] = v), "
                               "which is not exported; build the tensor with cat or where instead")

    def commit(self, target: Tensor, value: Tensor) -> None:
        """``target`` now holds ``value`` (an in-place op wrote it)."""
        if target._base is not None:
            raise UnsupportedError(f"minidl.onnx.export: {self.where()} writes in place into a view of another "
                                   "tensor, which an ONNX graph cannot express; write out of place instead")
        self.bind(target, self.value(value))


def _named_state(model: Module) -> dict[int, tuple[str, Any]]:
    """id -> (state_dict name, array) for every parameter and buffer, and for their arrays (ops read batch
    norm's running statistics as arrays)."""
    out: dict[int, tuple[str, Any]] = {}
    for name, t in model.state_dict(keep_vars=True).items():
        arr = t._data
        out[id(t)] = out[id(arr)] = (name, arr)
    return out


def _as_inputs(example_input: Any) -> tuple[Tensor, ...]:
    items = example_input if isinstance(example_input, tuple | list) else (example_input,)
    out = []
    for x in items:
        if not isinstance(x, Tensor):
            x = Tensor._wrap(np.asarray(x))
        out.append(x.detach())
    return tuple(out)


def _value_info(onnx: Any, name: str, arr: np.ndarray, batch: int | None) -> Any:
    shape: list[Any] = list(arr.shape)
    if batch is not None and shape and shape[0] == batch:
        shape[0] = BATCH
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(arr.dtype), shape)


def export(model: Module, example_input: Any, path: str | os.PathLike | None = None, opset: int = 17,
           dynamic_batch: bool = True, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, check: bool = True) -> Any:
    """Trace ``model`` on ``example_input`` (a tensor, an array, or a tuple of them) and write the ONNX model
    to ``path`` (atomically); returns the ``onnx.ModelProto``.

    The model runs once in eval mode (its mode is restored afterwards). ``opset`` is the ONNX opset of
    the default domain (13 to 21); with ``dynamic_batch`` the first axis of the inputs and outputs is the
    symbolic ``batch``. The model is checked with ``onnx.checker.check_model(full_check=True)`` first.
    Raises :class:`~minidl.errors.UnsupportedError` naming the module whose op has no ONNX form.
    """
    onnx = _onnx()
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"minidl.onnx.export: opset must be from {MIN_OPSET} to {MAX_OPSET}, got {opset}")
    if not isinstance(model, Module):
        raise TypeError(f"minidl.onnx.export: expected an nn.Module, got {type(model).__name__}")
    inputs = _as_inputs(example_input)
    batch = int(inputs[0].shape[0]) if dynamic_batch and inputs[0].ndim else None
    tracer = Tracer(onnx, opset, _named_state(model), batch)
    in_names = list(input_names) if input_names else (["input"] if len(inputs) == 1 else
                                                       [f"input_{i}" for i in range(len(inputs))])
    for x, name in zip(inputs, in_names, strict=True):
        tracer.bind(x, name)

    def enter(module: Module, args: tuple, path: str) -> None:
        tracer.modules.append(path)

    def leave(module: Module, args: tuple, output: Any) -> None:
        tracer.modules.pop()

    modes = {m: m.training for m in model.modules()}
    handles = []
    for where, m in model.named_modules():
        handles.append(m.register_forward_pre_hook(lambda mod, args, p=where: enter(mod, args, p)))
        handles.append(m.register_forward_hook(leave))
    model.eval()
    previous, tracing.tracer = tracing.tracer, tracer
    try:
        with no_grad():
            result = model(*inputs)
    finally:
        tracing.tracer = previous
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            m.training = mode
    outputs = result if isinstance(result, tuple | list) else (result,)
    if not all(isinstance(o, Tensor) for o in outputs):
        raise UnsupportedError(f"minidl.onnx.export: the model must return tensors, got {type(result).__name__}")
    out_names = list(output_names) if output_names else (["output"] if len(outputs) == 1 else
                                                          [f"output_{i}" for i in range(len(outputs))])
    for o, name in zip(outputs, out_names, strict=True):
        tracer.nodes.append(onnx.helper.make_node("Identity", [tracer.value(o)], [name], name=f"/{name}"))
    order = {name: i for i, name in enumerate(model.state_dict())}  # parameters in state_dict order, then constants
    initializers = sorted(tracer.initializers, key=lambda t: order.get(t.name, len(order)))
    graph = onnx.helper.make_graph(
        tracer.nodes, type(model).__name__,
        [_value_info(onnx, n, x._data, batch) for x, n in zip(inputs, in_names, strict=True)],
        [_value_info(onnx, n, o._data, batch) for o, n in zip(outputs, out_names, strict=True)],
        initializers)
    opset_ids = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opset_ids, producer_name="minidl",
                                   producer_version=__version__)
    proto.ir_version = onnx.helper.find_min_ir_version_for(opset_ids)
    if check:
        onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        with _atomic.atomic_open(path, "wb") as f:
            f.write(proto.SerializeToString())
    return proto
