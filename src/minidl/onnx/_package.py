"""The ``onnx`` package, imported when first needed, with the extra to install when it is missing; and the
decorator that fills the name -> function tables of the exporter and the importer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INSTALL_HINT = "minidl.onnx needs the onnx package: pip install 'minidl[onnx]'"


def onnx() -> Any:
    try:
        import onnx as package
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return package


def registrar(table: dict[str, Any]) -> Callable[..., Callable[[Any], Any]]:
    """A decorator ``@register("A", "B")`` that stores the decorated function in ``table`` under each name."""
    def register(*names: str) -> Callable[[Any], Any]:
        def add(fn: Any) -> Any:
            for n in names:
                table[n] = fn
            return fn

        return add

    return register
