"""A tiny, safe expression language for ``minidl graph --expr``: parsed with :mod:`ast`, never ``eval``'d.

Grammar (Python syntax, a small subset)::

    expr   := expr OP expr | "-" expr | "+" expr | "(" expr ")" | NAME | NUMBER | FUNC "(" expr ")"
    OP     := "+" | "-" | "*" | "/" | "**" | "@"
    NAME   := a single lowercase letter a..z (a variable)
    FUNC   := exp | log | sqrt | relu | sigmoid | tanh | sum | mean

Anything else (attributes, subscripts, keywords, strings, comparisons, lambdas, other names or calls such as
``__import__('os')``) is rejected with :class:`ExpressionError` before anything runs. :func:`parse` checks
the tree; :func:`evaluate` interprets it node by node on minidl tensors, so the autograd graph of the result
is recorded like any other computation.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import MinidlError
from ..nn import functional as F
from ..tensor import Tensor, tensor

__all__ = ["ExpressionError", "parse", "variables", "evaluate", "FUNCTIONS", "MAX_LENGTH"]

MAX_LENGTH = 500

FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "exp": lambda t: t.exp(),
    "log": lambda t: t.log(),
    "sqrt": lambda t: t.sqrt(),
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "sum": lambda t: t.sum(),
    "mean": lambda t: t.mean(),
}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    ast.MatMult: lambda a, b: a @ b,
}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
_VARIABLES = frozenset(string.ascii_lowercase)
GRAMMAR = ("variables a..z, numbers, + - * / ** @, unary minus, parentheses, and calls of "
           + ", ".join(FUNCTIONS))


class ExpressionError(MinidlError, ValueError):
    """The expression is outside the grammar (or cannot be evaluated); the message says where."""


def _reject(expr: str, node: ast.AST, what: str) -> ExpressionError:
    col = getattr(node, "col_offset", None)
    where = f" at column {col + 1}" if col is not None else ""
    return ExpressionError(f"expression {expr!r}: {what}{where} is not allowed; allowed are {GRAMMAR}")


def _check(expr: str, node: ast.AST) -> None:
    """Accept exactly the grammar's node types, recursively."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise _reject(expr, node, f"the operator {type(node.op).__name__}")
        _check(expr, node.left)
        _check(expr, node.right)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise _reject(expr, node, f"the operator {type(node.op).__name__}")
        _check(expr, node.operand)
    elif isinstance(node, ast.Name):
        if node.id not in _VARIABLES:
            raise _reject(expr, node, f"the name {node.id!r}")
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _reject(expr, node, f"the constant {node.value!r}")
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise _reject(expr, node, "calling " + (repr(name) if name else "anything but a function name"))
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _reject(expr, node, f"{name}() with other than one positional argument")
        _check(expr, node.args[0])
    else:
        raise _reject(expr, node, f"{type(node).__name__} syntax")


def parse(expr: str) -> ast.Expression:
    """The checked syntax tree of ``expr``; :class:`ExpressionError` for anything outside the grammar."""
    if not isinstance(expr, str):
        raise ExpressionError(f"expression must be a string, got {type(expr).__name__}")
    if not expr.strip():
        raise ExpressionError("expression is empty")
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(expr)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        message = f"expression {expr!r} is not valid syntax: {e.msg} (column {e.offset})"
        raise ExpressionError(message) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"expression {expr!r} is nested too deeply") from None
    try:
        _check(expr, tree.body)
    except RecursionError:
        raise ExpressionError(f"expression {expr!r} is nested too deeply") from None
    return tree


def variables(tree: ast.Expression) -> list[str]:
    """The variable names used in ``tree``, sorted."""
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in _VARIABLES})


def evaluate(tree: ast.Expression, env: Mapping[str, Tensor], expr: str = "") -> Tensor:
    """Interpret a tree from :func:`parse` with the variables bound in ``env``; the result is a tensor.

    Numbers stay Python floats until they meet a tensor (then they take its dtype); a function applied to
    a bare number gets a float64 tensor. Errors of the computation (shapes that do not fit ``@``, a
    division of numbers by zero) become :class:`ExpressionError`.
    """
    def run(node: ast.AST) -> Any:
        if isinstance(node, ast.BinOp):
            left, right = run(node.left), run(node.right)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            value = run(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):  # parse() admits numbers only
            return float(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            arg = run(node.args[0])
            if not isinstance(arg, Tensor):
                arg = tensor(np.asarray(arg, dtype=np.float64))
            return FUNCTIONS[node.func.id](arg)
        raise _reject(expr, node, type(node).__name__)  # pragma: no cover - parse() let only the grammar in

    missing = [v for v in variables(tree) if v not in env]
    if missing:
        raise ExpressionError(f"expression {expr!r}: no value for {', '.join(missing)}")
    try:
        result = run(tree.body)
    except ExpressionError:
        raise
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError) as e:
        raise ExpressionError(f"expression {expr!r} cannot be evaluated: {type(e).__name__}: {e}") from None
    if not isinstance(result, Tensor):
        raise ExpressionError(f"expression {expr!r} has no variables; use at least one of a..z")
    return result
