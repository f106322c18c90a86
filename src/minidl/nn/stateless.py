"""Calling a module with other tensors in place of its parameters and buffers (PyTorch's
``torch.func.functional_call``, reached as :func:`minidl.func.functional_call`).

A module reads each parameter and buffer as a plain instance attribute (see :mod:`.module`), so for the
duration of the call the substitute is placed where ``forward`` reads it, and the module's own tensors are
put back afterwards, even when ``forward`` raises. The registries that ``parameters()`` and ``state_dict()``
walk are left as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..tensor import Tensor
from .module import Module

__all__ = ["functional_call"]

_ABSENT = object()


def functional_call(module: Module, parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
                    args: Any = None, kwargs: Mapping[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (dotted names, as in
    ``state_dict``; a dict or a sequence of dicts) in place of the module's parameters and buffers.

    PyTorch's semantics: ``args`` that is not a tuple is the single positional argument; names not given keep
    the module's own tensors (``strict=True`` refuses missing and unexpected names instead); with
    ``tie_weights`` a tensor given for one name of a tied parameter (one Parameter under several names)
    replaces it under all of them; in-place updates by ``forward`` (BatchNorm's running statistics) go into
    the given tensors; the module is unchanged afterwards. Gradients flow to the given tensors, so
    ``minidl.autograd.grad(functional_call(model, params, x).sum(), tuple(params.values()))`` differentiates
    with respect to them.
    """
    tensors = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        tensors = _tied(module, tensors)
    if strict:
        _check_strict(module, tensors)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrized(module, tensors):
        return module(*args, **dict(kwargs or {}))


def _merged(dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
    dicts = [dicts] if isinstance(dicts, Mapping) else list(dicts)
    merged: dict[str, Tensor] = {}
    for d in dicts:
        repeated = sorted(set(d) & set(merged))
        if repeated:
            raise ValueError(f"functional_call: {repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        merged.update(d)
    for name, value in merged.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: the value for {name!r} must be a minidl.Tensor, got "
                            f"{type(value).__name__}")
    return merged


def _tied(module: Module, tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """``tensors`` with every other name of a given tied parameter or buffer added (one value per tensor)."""
    names_of: dict[int, list[str]] = {}
    for name, t in [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]:
        names_of.setdefault(id(t), []).append(name)
    out = dict(tensors)
    for names in names_of.values():
        given = {n: tensors[n] for n in names if n in tensors}
        if len({id(v) for v in given.values()}) > 1:
            raise ValueError(f"functional_call: the tied names {sorted(given)} were given different tensors")
        if given:
            value = next(iter(given.values()))
            out.update((n, value) for n in names)
    return out


def _check_strict(module: Module, tensors: Mapping[str, Tensor]) -> None:
    known = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    known |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    missing, unexpected = sorted(known - set(tensors)), sorted(set(tensors) - known)
    if missing or unexpected:
        lines = [f"Error(s) in reparametrizing for {module._get_name()}:"]
        if missing:
            lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
        if unexpected:
            lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
        raise RuntimeError("\n\t".join(lines))


@contextlib.contextmanager
def _reparametrized(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    """Within the block each module reads ``tensors[name]`` where it read its tensor ``name``."""
    saved: list[tuple[Module, str, Any, list[tuple[dict, Any]]]] = []
    try:
        for name, value in tensors.items():
            path, _, attr = name.rpartition(".")
            owner = module.get_submodule(path)
            # forward may assign a buffer (x += 1 on a buffer re-registers it): restore the registries too
            registries = [(r, r[attr]) for r in (owner._parameters, owner._buffers) if attr in r]
            saved.append((owner, attr, owner.__dict__.get(attr, _ABSENT), registries))
            owner.__dict__[attr] = value
        yield
    finally:
        for owner, attr, original, registries in reversed(saved):
            if original is _ABSENT:
                owner.__dict__.pop(attr, None)
            else:
                owner.__dict__[attr] = original
            for registry, entry in registries:
                registry[attr] = entry
