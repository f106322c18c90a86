"""The ``onnx`` package, imported when first needed, with the extra to install when it is missing."""

from __future__ import annotations

from typing import Any

INSTALL_HINT = "minidl.onnx needs the onnx package: pip install 'minidl[onnx]'"


def onnx() -> Any:
    try:
        import onnx as package
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return package
