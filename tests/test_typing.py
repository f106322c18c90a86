"""The type checker's view of Tensor matches what runs: ``minidl/_tensor_methods_typing.py`` declares exactly the
methods and operators that ``tensor_methods.bind()`` attaches to :class:`minidl.Tensor` at import time."""

from __future__ import annotations

import ast
from pathlib import Path

import minidl
from minidl.tensor import Tensor

SRC = Path(minidl.__file__).parent


def _class_names(path: Path, cls: str) -> set[str]:
    """Names a class body defines (functions, assignments, annotations, also under ``if``), read from the
    source."""
    node = next(n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef) and n.name == cls)
    names: set[str] = set()
    body = list(node.body)
    body += [inner for item in node.body if isinstance(item, ast.If) for inner in item.body + item.orelse]
    for item in body:
        if isinstance(item, ast.FunctionDef):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
        elif isinstance(item, ast.Assign):
            names |= {t.id for t in item.targets if isinstance(t, ast.Name)}
    return names


def test_declared_tensor_methods_are_exactly_the_bound_ones():
    written = _class_names(SRC / "tensor.py", "Tensor")
    runtime_only = {"__module__", "__doc__", "__qualname__", "__firstlineno__", "__static_attributes__",
                    "__hash__", "__dict__", "__weakref__", "__annotations__", *Tensor.__slots__}
    bound = {k for k in vars(Tensor) if k not in written and k not in runtime_only}
    declared = _class_names(SRC / "_tensor_methods_typing.py", "BoundMethods")
    assert bound, "bind() attached nothing"
    assert bound - declared == set(), f"bound at import but not declared for the type checker: {sorted(bound - declared)}"
    assert declared - bound == set(), f"declared but never bound: {sorted(declared - bound)}"
