r"""A torchsummary-style model summary: each layer's output shape and parameter count, and memory estimates.

:func:`summary` runs one forward pass of a random batch of 2 (eval mode, no graph, a private generator, so the
model, its running statistics and minidl's random streams are left untouched) with a forward hook on every
layer, and returns a :class:`ModelSummary` whose ``str()`` is the table::

    ----------------------------------------------------------------
            Layer (type)               Output Shape         Param #
    ================================================================
                Conv2d-1            [-1, 6, 24, 24]             156
    ...

The definitions are torchsummary's (sksq96/pytorch-summary):

* a row per layer call, named ``<type>-<k>`` with ``k`` the call's position among all rows (``Conv2d-1``,
  ``ReLU-2``, ...); the output shape's batch dimension is ``batch_size`` (-1: any);
* Total params = Σ rows' parameters; Trainable = those with ``requires_grad``; Non-trainable = the rest.
  Buffers (BatchNorm's running mean and variance) are *not* parameters, so they count nowhere;
* with :math:`b` bytes per number (4 for float32, as torchsummary assumes) and :math:`B` = ``batch_size``,
  sizes in MB (:math:`2^{20}` bytes), each taken as an absolute value (so ``batch_size=-1`` means one sample):

  .. math::
      \text{Input} = |B \textstyle\prod \text{input dims}| \, b / 2^{20}, \qquad
      \text{Forward/backward} = 2 \, |\textstyle\sum_{\text{rows}} \prod \text{output shape}| \, b / 2^{20}

  (the factor 2 holds each output and its gradient), Params = Total params · b / 2^20, and Estimated total =
  Input + Forward/backward + Params.

Where this differs from torchsummary, on purpose: rows are the *leaf* modules (those without children) plus
any module holding parameters of its own, so a custom container is not listed with the total of its children
and no parameter is missed; a row counts all of its module's own parameters (not only ``weight`` and
``bias``), and a module called twice counts its parameters once, so Total params equals
``sum(p.numel() for p in model.parameters())``; with several inputs the input size is the sum of their sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..nn import Module
from ..nn.utils import evaluating
from ..tensor import Tensor, tensor

__all__ = ["summary", "ModelSummary", "LayerSummary"]

_MB = 1024.0**2
_RULE = 64  # torchsummary's table width


@dataclass(frozen=True)
class LayerSummary:
    """One row of the summary: a layer call."""

    name: str  # "<type>-<k>", e.g. "Conv2d-1"
    path: str  # where the module sits in the model, e.g. "conv1" ("" for the model itself)
    type: str
    output_shape: list[Any]  # [B, C, H, W] (B = batch_size), or a list of such lists for several outputs
    params: int
    trainable_params: int

    def numel(self) -> int:
        """Σ ∏ output shape (negative when ``batch_size`` is -1, as in torchsummary)."""
        shapes = self.output_shape if self.output_shape and isinstance(self.output_shape[0], list) else [
            self.output_shape]
        return int(sum(math.prod(s) for s in shapes))


@dataclass
class ModelSummary:
    """Rows and totals of :func:`summary`; ``str()`` renders torchsummary's table."""

    model: str
    input_shapes: list[tuple[int, ...]]
    batch_size: int
    bytes_per_number: int
    layers: list[LayerSummary] = field(default_factory=list)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable_params for r in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def input_size_mb(self) -> float:
        n = sum(math.prod(s) for s in self.input_shapes)
        return abs(n * self.batch_size * self.bytes_per_number / _MB)

    @property
    def forward_backward_size_mb(self) -> float:
        return abs(2.0 * sum(r.numel() for r in self.layers) * self.bytes_per_number / _MB)

    @property
    def params_size_mb(self) -> float:
        return abs(self.total_params * self.bytes_per_number / _MB)

    @property
    def total_size_mb(self) -> float:
        return self.input_size_mb + self.forward_backward_size_mb + self.params_size_mb

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form: the rows and every total."""
        return {
            "model": self.model, "input_shapes": [list(s) for s in self.input_shapes],
            "batch_size": self.batch_size, "bytes_per_number": self.bytes_per_number,
            "layers": [{"name": r.name, "path": r.path, "type": r.type, "output_shape": r.output_shape,
                        "params": r.params, "trainable_params": r.trainable_params} for r in self.layers],
            "total_params": self.total_params, "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params, "input_size_mb": self.input_size_mb,
            "forward_backward_size_mb": self.forward_backward_size_mb, "params_size_mb": self.params_size_mb,
            "total_size_mb": self.total_size_mb,
        }  # fmt: skip

    def __str__(self) -> str:
        name_w = max([20] + [len(r.name) for r in self.layers])
        shape_w = max([25] + [len(str(r.output_shape)) for r in self.layers])
        width = max(_RULE, name_w + shape_w + 18)
        header = f"{'Layer (type)':>{name_w}}  {'Output Shape':>{shape_w}} {'Param #':>15}"
        lines = ["-" * width, header, "=" * width]
        lines += [f"{r.name:>{name_w}}  {str(r.output_shape):>{shape_w}} {r.params:>15,}"
                  for r in self.layers]
        lines += [
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            "-" * width,
            f"Input size (MB): {self.input_size_mb:0.2f}",
            f"Forward/backward pass size (MB): {self.forward_backward_size_mb:0.2f}",
            f"Params size (MB): {self.params_size_mb:0.2f}",
            f"Estimated Total Size (MB): {self.total_size_mb:0.2f}",
            "-" * width,
        ]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return (f"ModelSummary({self.model}, {len(self.layers)} layers, {self.total_params:,} params, "
                f"input {self.input_shapes})")


def _input_shapes(input_shape: Any) -> list[tuple[int, ...]]:
    """One shape ``(C, H, W)`` or several ``[(C, H, W), (D,)]`` (no batch axis) as a list of tuples."""
    def one(s: Any) -> tuple[int, ...]:
        if not isinstance(s, Sequence) or isinstance(s, str) or not s:
            raise TypeError(f"summary: an input shape must be a non-empty sequence of ints such as "
                            f"(1, 28, 28), got {s!r}")
        if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in s):
            raise ValueError(f"summary: input shape dimensions must be positive ints, got {tuple(s)!r}")
        return tuple(int(d) for d in s)

    if isinstance(input_shape, Sequence) and input_shape and all(
            isinstance(s, Sequence) and not isinstance(s, str) for s in input_shape):
        return [one(s) for s in input_shape]
    return [one(input_shape)]


def _shape_of(out: Any, batch_size: int) -> list[Any]:
    """Output shape with the batch axis replaced by ``batch_size``; a list of shapes for several outputs."""
    if isinstance(out, Tensor | np.ndarray):
        shape = list(out.shape)
        return [batch_size] + shape[1:] if shape else shape
    if isinstance(out, list | tuple):
        return [_shape_of(o, batch_size) for o in out if isinstance(o, Tensor | np.ndarray)]
    return []


def summary(model: Any, input_shape: Any, batch_size: int = -1, dtype: Any = np.float32) -> ModelSummary:
    """Summarise ``model`` for inputs of ``input_shape`` (without the batch axis; a list of shapes for several
    inputs): one row per layer call with its output shape and parameter count, then torchsummary's totals
    (see the module docstring for the exact definitions). ``print(minidl.summary(model, (1, 28, 28)))``.

    ``batch_size`` is shown as the first output dimension and scales the memory estimates (-1: one sample);
    ``dtype`` is the dtype of the input and of the model's parameters, and sets the bytes per number
    (float32: 4, as torchsummary assumes).
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a minidl.nn.Module, got {type(model).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or (
            batch_size < 1 and batch_size != -1):
        raise ValueError(f"summary: batch_size must be a positive int or -1, got {batch_size!r}")
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"summary: dtype must be a floating type, got {dt}")
    shapes = _input_shapes(input_shape)
    param_dtypes = sorted({str(p._data.dtype) for p in model.parameters() if p._data.dtype.kind == "f"})
    if param_dtypes and param_dtypes != [str(dt)]:
        raise ValueError(f"summary: dtype is {dt} but the parameters of {type(model).__name__} are "
                         f"{', '.join(param_dtypes)}; pass that dtype or convert the model with "
                         f"model.to({dt})")
    result = ModelSummary(type(model).__name__, shapes, int(batch_size), dt.itemsize)

    counted: set[int] = set()  # parameters already counted (a module called twice counts them once)

    def hook(module: Any, args: Any, out: Any, path: str) -> None:
        own = [p for p in module.parameters(recurse=False) if id(p) not in counted]
        counted.update(id(p) for p in own)
        result.layers.append(LayerSummary(
            name=f"{type(module).__name__}-{len(result.layers) + 1}", path=path, type=type(module).__name__,
            output_shape=_shape_of(out, int(batch_size)), params=sum(p.numel() for p in own),
            trainable_params=sum(p.numel() for p in own if p.requires_grad)))

    handles = []
    for path, m in model.named_modules():
        has_children = next(iter(m.children()), None) is not None
        has_own = next(iter(m.parameters(recurse=False)), None) is not None
        if not has_children or has_own:
            handles.append(m.register_forward_hook(
                lambda mod, args, out, _path=path: hook(mod, args, out, _path)))
    # a batch of 2, as torchsummary uses, so that batch statistics are defined; drawn from a private
    # generator so that minidl's global random stream is not advanced
    rng = np.random.default_rng(0)
    inputs = [tensor(rng.random((2, *s)).astype(dt)) for s in shapes]
    try:
        with evaluating(model):
            model(*inputs)
    except (ValueError, TypeError, IndexError) as e:
        shown = ", ".join(str([2, *s]) for s in shapes)
        raise ValueError(f"summary: the forward pass of {type(model).__name__} failed on a random input of "
                         f"shape {shown} (input_shape {tuple(shapes[0]) if len(shapes) == 1 else shapes}): "
                         f"{e}") from e
    finally:
        for h in handles:
            h.remove()
    return result
