"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict`` (PyTorch's semantics and state_dict keys)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from .module import Module, _addindent

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class _IndexedModules(Module):
    """Shared machinery of the containers whose children are named "0", "1", ...

    Deleting or inserting renumbers the children so that the names stay 0..n-1, as PyTorch does.
    """

    def _children(self) -> list[Module]:
        """The children in order. Containers only ever register modules (never a ``None`` slot), which is what
        the cast records."""
        return cast(list[Module], list(self._modules.values()))

    def _index(self, idx: Any) -> int:
        i = operator.index(idx)
        n = len(self._modules)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for {self._get_name()} of length {n}")
        return i % n

    def _renumber(self, modules: Iterable[Module]) -> None:
        for key in list(self._modules):
            delattr(self, key)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._children())

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, list(self._modules)[self._index(idx)], module)

    def __delitem__(self, idx: int | slice) -> None:
        items = self._children()
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[self._index(idx)]
        self._renumber(items)

    def append(self, module: Module) -> _IndexedModules:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _IndexedModules:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = self._children()
        items.insert(index, module)
        self._renumber(items)

    def __getitem__(self, idx: int) -> Any:
        raise NotImplementedError  # Sequential and ModuleList index their children

    def pop(self, key: int) -> Module:
        m = self[key]
        del self[key]
        return m


class Sequential(_IndexedModules):
    """Chain of modules applied in order: ``Sequential(m1, m2)(x) == m2(m1(x))``.

    Built from modules (named "0", "1", ...) or from one ``OrderedDict`` of name -> module.
    """

    def __init__(self, *args: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        named: list[tuple[str, Any]]  # add_module checks that each is a Module
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            named = list(args[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(args)]
        for name, m in named:
            self.add_module(name, m)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(zip(self._modules, self._children(), strict=True))[idx]))
        return self._children()[self._index(idx)]

    def forward(self, input: Any) -> Any:
        for m in self._children():
            input = m(input)
        return input


class ModuleList(_IndexedModules):
    """A list of sub-modules, registered (so their parameters are found) but not called in any order."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(self._children()[idx])
        return self._children()[self._index(idx)]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)  # type: ignore[return-value]

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """Runs of identical children are shown once, as "(0-2): 3 x Linear(...)" (PyTorch's format)."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for first, last, r in runs:
            text = f"({first}): {r}" if first == last else f"({first}-{last}): {last - first + 1} x {r}"
            lines.append(_addindent(text, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of sub-modules (insertion-ordered), registered under their keys."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return cast(Module, self._modules[key])  # a ModuleDict registers modules only

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return cast(Iterable[tuple[str, Module]], self._modules.items())

    def values(self) -> Iterable[Module]:
        return cast(Iterable[Module], self._modules.values())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for j, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]
