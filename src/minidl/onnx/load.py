"""``minidl.onnx.load``: an ONNX model as an ``nn.Module`` that runs its graph with minidl's ops.

The graph is read once (with the ``onnx`` package) into plain Python: the nodes in order, their attributes,
and the initializers. Float initializers become ``Parameter`` s, except the running statistics of
``BatchNormalization`` nodes, which become buffers; they are registered under their ONNX names split at the
dots (``features.0.weight`` is the parameter ``weight`` of sub-module ``features.0``), so the state dict of a
model exported from PyTorch or minidl has the original keys. Integer initializers (shapes, axes) are
constants. ``forward`` evaluates the nodes in order (:mod:`.operators`); everything it computes from the
inputs and parameters is recorded by autograd, so the module trains like any other, and in train mode its
batch norms use batch statistics and its dropouts drop, as the layers they came from did.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ..functions import as_tensor
from ..nn import Module, Parameter
from ..tensor import Tensor
from . import operators
from ._package import onnx as _onnx

__all__ = ["load", "OnnxModule", "SUPPORTED_OPERATORS"]

SUPPORTED_OPERATORS: tuple[str, ...] = tuple(sorted(operators.OPERATORS))
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


@dataclass(frozen=True)
class Node:
    op_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any]


def _attribute(onnx: Any, attr: Any) -> Any:
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8") for v in value]
    if isinstance(value, onnx.GraphProto | list) and (isinstance(value, onnx.GraphProto)
                                                      or (value and isinstance(value[0], onnx.GraphProto))):
        raise UnsupportedError("graph attributes (If, Loop, Scan bodies) are not supported")
    return value


_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16", "float32",
           "float64")


def _input(name: str, x: Any) -> Tensor:
    arr = np.asarray(x)
    if arr.dtype.name not in _DTYPES:
        raise UnsupportedError(f"OnnxModule: input {name!r} has dtype {arr.dtype}, which minidl tensors do not hold")
    return as_tensor(arr)


class _Holder(Module):
    """A sub-module that only holds the parameters and buffers under one prefix of the ONNX names."""


class OnnxModule(Module):
    """The graph of an ONNX model as a module (see the module docstring).

    ``forward(*inputs)`` takes the graph's inputs in order (tensors or arrays) and returns its output, or a
    tuple of them. ``input_names``, ``output_names`` and ``opset`` describe the graph; ``nodes`` lists it.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        onnx = _onnx()
        graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        nodes = []
        for i, n in enumerate(graph.node):
            label = f"node {i} ({n.name!r})" if n.name else f"node {i}"
            if n.domain not in ("", "ai.onnx") or n.op_type not in operators.OPERATORS:
                domain = f" of domain {n.domain!r}" if n.domain not in ("", "ai.onnx") else ""
                raise UnsupportedError(f"minidl.onnx.load: operator {n.op_type!r}{domain} at {label} is not "
                                       f"supported; supported operators: {', '.join(SUPPORTED_OPERATORS)}")
            try:
                attrs = {a.name: _attribute(onnx, a) for a in n.attribute}
            except UnsupportedError as e:
                raise UnsupportedError(f"minidl.onnx.load: {n.op_type} at {label}: {e}") from None
            nodes.append(Node(n.op_type, label, tuple(n.input), tuple(n.output), attrs))
        self.nodes = nodes
        stats = {n.inputs[i] for n in nodes if n.op_type == "BatchNormalization" for i in (3, 4) if len(n.inputs) > i}
        initializers = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        self.input_names = [v.name for v in graph.input if v.name not in initializers]
        self.output_names = [v.name for v in graph.output]
        self._constants: dict[str, np.ndarray] = {}
        self._state: dict[str, tuple[Module, str]] = {}  # ONNX name -> (holder, attribute)
        for name, arr in initializers.items():
            if arr.dtype.kind != "f":
                self._constants[name] = arr
                continue
            owner, leaf = self._owner(name)
            value = as_tensor(np.array(arr))
            if name in stats:
                owner.register_buffer(leaf, value)
            else:
                owner.register_parameter(leaf, Parameter(value))
            self._state[name] = (owner, leaf)

    def _owner(self, name: str) -> tuple[Module, str]:
        """The holder module and attribute name for an initializer: its dotted path when every part is a
        valid name and free, else a flat ``init_<n>`` attribute of this module."""
        parts = name.split(".")
        owner: Module = self
        if all(_NAME.fullmatch(p) for p in parts):
            for p in parts[:-1]:
                child = owner._modules.get(p)
                if child is None:
                    if hasattr(owner, p):
                        break
                    child = _Holder()
                    owner.add_module(p, child)
                owner = child
            else:
                if not hasattr(owner, parts[-1]):
                    return owner, parts[-1]
        return self, f"init_{len(self._state)}"

    def forward(self, *inputs: Any) -> Any:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"OnnxModule: the graph takes {len(self.input_names)} input(s) {self.input_names}, got "
                            f"{len(inputs)}")
        env: dict[str, Any] = dict(self._constants)
        for name, (owner, leaf) in self._state.items():
            env[name] = getattr(owner, leaf)
        for name, x in zip(self.input_names, inputs, strict=True):
            env[name] = x if isinstance(x, Tensor) else _input(name, x)
        for node in self.nodes:
            args = [env[i] if i else None for i in node.inputs]
            ctx = operators.Context(self.opset, self.training, len(node.outputs))
            try:
                outs = operators.OPERATORS[node.op_type](ctx, args, node.attrs)
            except UnsupportedError as e:
                raise UnsupportedError(f"minidl.onnx: {node.op_type} at {node.name}: {e}") from None
            for name, value in zip(node.outputs, outs, strict=False):
                if name:
                    env[name] = value
        results = tuple(operators.tensor(env[name]) for name in self.output_names)
        return results[0] if len(results) == 1 else results

    def extra_repr(self) -> str:
        return f"opset={self.opset}, nodes={len(self.nodes)}, inputs={self.input_names}, outputs={self.output_names}"


def load(f: str | os.PathLike | bytes | Any) -> OnnxModule:
    """The ONNX model in ``f`` (a path, the serialized bytes, or an ``onnx.ModelProto``) as an
    :class:`OnnxModule`. Raises :class:`~minidl.errors.UnsupportedError` naming the first operator it does
    not implement and its node."""
    onnx = _onnx()
    if isinstance(f, bytes):
        model = onnx.load_from_string(f)
    elif isinstance(f, str | os.PathLike):
        model = onnx.load(os.fspath(f))
    else:
        model = f
    return OnnxModule(model)
