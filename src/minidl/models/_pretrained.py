"""What every ImageNet zoo function shares: ``weights=`` (a table name or a file) and ``num_classes=``.

``build(name, cls, weights, progress, kwargs, *args)`` sizes the model for the weights and loads them: a table
entry fixes ``num_classes`` to its class count (a different explicit value is an error, as in torchvision);
a file's class count is read from the shape of the model's head in it when ``num_classes`` is not given,
so a fine-tuned 5-class file loads without saying so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from ..nn import Module
from .weights import Weights, get_weights, is_weights_file

__all__ = ["build", "head_name", "replace_head"]


def head_name(model: Module) -> str:
    """The module path of a zoo model's classifier layer (its ``head`` class attribute, e.g. ``fc``)."""
    head = getattr(type(model), "head", None)
    if not isinstance(head, str):
        raise TypeError(f"{type(model).__name__} does not name its classifier layer (no 'head' attribute)")
    return head


def replace_head(model: Module, num_classes: int) -> Module:
    """Swap the model's classifier layer for a freshly initialised one with ``num_classes`` outputs (same
    kind, inputs and settings), as fine-tuning a pretrained network on new classes does; returns the new
    layer. The model's ``num_classes`` attribute, if any, follows."""
    path = head_name(model)
    parent_path, _, leaf = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    new = _fresh(getattr(parent, leaf), num_classes)
    setattr(parent, leaf, new)  # same name, same place in the state dict
    if hasattr(model, "num_classes"):
        model.num_classes = num_classes
    return new


def _fresh(old: Module, num_classes: int) -> Module:
    from .. import nn

    dtype = old.weight.dtype
    if isinstance(old, nn.Linear):
        return nn.Linear(old.in_features, num_classes, bias=old.bias is not None, dtype=dtype)
    if isinstance(old, nn.Conv2d):
        return nn.Conv2d(old.in_channels, num_classes, old.kernel_size, old.stride, old.padding, old.dilation,
                         old.groups, old.bias is not None, dtype=dtype)
    raise TypeError(f"cannot replace a {type(old).__name__} head")


def _classes_in(state: Mapping[str, Any], head: str) -> int | None:
    w = state.get(f"{head}.weight")
    return int(w.shape[0]) if w is not None and getattr(w, "ndim", 0) >= 1 else None


M = TypeVar("M", bound=Module)


def build(name: str, cls: type[M], weights: Any, progress: bool, kwargs: dict[str, Any], *args: Any) -> M:
    """``cls(*args, **kwargs)`` with ``weights`` (None, a table name or :class:`Weights`, or a file) loaded."""
    if weights is None:
        return cls(*args, **kwargs)
    from ..hub import load_weights

    if is_weights_file(weights):
        state = load_weights(weights, progress=progress)
        if "num_classes" not in kwargs:
            found = _classes_in(state, cls.head)  # type: ignore[attr-defined]
            if found is not None:
                kwargs["num_classes"] = found
        model = cls(*args, **kwargs)
        source = os.fspath(weights)
    else:
        entry = weights if isinstance(weights, Weights) else get_weights(weights, name)
        if kwargs.get("num_classes", entry.num_classes) != entry.num_classes:
            raise ValueError(f"{name}: num_classes={kwargs['num_classes']} does not match the "
                             f"{entry.num_classes} classes of the weights {entry.full_name}; build with those "
                             "weights, then replace the head (minidl.models.replace_head)")
        kwargs["num_classes"] = entry.num_classes
        model = cls(*args, **kwargs)
        state = load_weights(entry, progress=progress)
        source = entry.full_name
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{name}: the weights {source} do not fit the model: {e}") from None
    return model
