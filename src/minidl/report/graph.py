"""Export the autograd graph behind a tensor as Graphviz DOT, and render it with ``dot``.

The graph is bipartite, following the data: every tensor is a node (shape, dtype, optionally values and
gradient), every recorded op application is a box (the op's name), and edges run input tensor -> op ->
output tensor. So ``((a * b) + c).sum()`` gives 6 tensor nodes, 3 op nodes and 8 edges.

Node styles:

* **parameters** (given through ``params``, e.g. ``dict(model.named_parameters())``): green boxes;
* **leaves** that require grad (inputs you differentiate with respect to): blue ellipses;
* **constants** (tensors or arrays that need no gradient, e.g. the ``2`` in ``a * 2``): grey, dashed;
* **intermediate** results: white ellipses; the **root** (the tensor you asked for) has a double outline.

The walk is iterative (an explicit stack), so graphs of any depth (an RNN unrolled over 10,000 steps) export
without hitting Python's recursion limit. Labels are escaped for DOT's double-quoted strings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MinidlError
from ..tensor import Tensor
from ._util import PathLike, atomic_path, atomic_write_text

__all__ = ["to_dot", "write_dot", "render", "GraphvizNotFoundError", "RENDER_FORMATS"]

RENDER_FORMATS = ("svg", "png", "pdf")

_STYLE = {
    "param": 'shape=box, style="rounded,filled", fillcolor="#d5f5d5", color="#2e7d32"',
    "leaf": 'shape=ellipse, style=filled, fillcolor="#dbe9fb", color="#1f5fae"',
    "const": 'shape=ellipse, style="dashed,filled", fillcolor="#f2f2f2", color="#8a8a8a", fontcolor="#555"',
    "inner": "shape=ellipse",
    "op": 'shape=box, style="filled", fillcolor="#fff3c4", color="#b08800", fontname="Helvetica-Bold"',
}


class GraphvizNotFoundError(MinidlError, RuntimeError):
    """The Graphviz ``dot`` program is not installed (or not on PATH)."""


def _dot_string(text: str) -> str:
    """``text`` as a DOT double-quoted string; its line breaks become DOT's centred-line escape ``\\n``.

    In a quoted DOT string only ``"`` must be escaped, but a backslash starts escapes of its own
    (``\\N`` node name, ``\\l`` left-justified line, ...), so literal backslashes are doubled first.
    """
    lines = str(text).replace("\r\n", "\n").split("\n")
    return '"' + "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in lines) + '"'


def _preview(a: np.ndarray, max_elems: int) -> str:
    """Up to ``max_elems`` values of ``a`` (flattened), with ``...`` when some are left out."""
    flat = np.asarray(a).reshape(-1)
    shown = np.array2string(flat[: max(0, max_elems)], precision=4, separator=", ", max_line_width=10**6,
                            threshold=10**6)
    if flat.size > max_elems:
        shown = shown[:-1] + (", ..." if max_elems > 0 else "...") + "]"
    if np.asarray(a).ndim == 0:
        shown = np.array2string(np.asarray(a), precision=4)
    return shown


def to_dot(
    tensor: Tensor,
    show_values: bool = False,
    show_grads: bool = False,
    max_elems: int = 6,
    *,
    names: Mapping[int, str] | None = None,
    params: Mapping[str, Any] | None = None,
    show_constants: bool = True,
    rankdir: str = "TB",
    graph_name: str = "autograd",
) -> str:
    """The autograd graph that produced ``tensor``, as Graphviz DOT source.

    Args:
        tensor: the root (typically a loss).
        show_values: add up to ``max_elems`` values of each tensor to its label.
        show_grads: add each tensor's ``.grad`` (after ``backward``; ``None`` if not there).
        max_elems: how many values to print per tensor.
        names: labels for tensors, keyed by ``id(tensor)``.
        params: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``): named and drawn as parameters.
        show_constants: draw inputs that need no gradient (constants, plain arrays); off hides them.
        rankdir: Graphviz layout direction, ``"TB"`` (inputs at the top) or ``"LR"``, ``"BT"``, ``"RL"``.
        graph_name: the DOT graph's identifier.

    Node ids are ``t<k>`` for tensors and ``op<k>`` for ops, numbered in visiting order, so the output is
    deterministic. Edges into an op with several inputs carry the input position (``0``, ``1``, ...), which
    matters for non-commutative ops such as ``sub``, ``div`` and ``matmul``.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a minidl Tensor, got {type(tensor).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if not graph_name.isidentifier():
        raise ValueError(f"to_dot: graph_name must be an identifier (letters, digits, _), got {graph_name!r}")
    labels: dict[int, str] = {}
    param_ids: set[int] = set()
    for pname, p in (params or {}).items():
        labels[id(p)] = str(pname)
        param_ids.add(id(p))
    labels.update({int(k): str(v) for k, v in (names or {}).items()})

    tensor_ids: dict[int, str] = {}
    lines = [f"digraph {graph_name} {{",
             f'  graph [rankdir={rankdir}, fontname="Helvetica"];',
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8, color="#555555"];']  # fmt: skip
    n_ops = 0

    def tensor_node(t: Any, kind: str) -> str:
        """Emit the node for tensor/array ``t`` once; return its id."""
        key = id(t)
        if key in tensor_ids:
            return tensor_ids[key]
        node_id = f"t{len(tensor_ids)}"
        tensor_ids[key] = node_id
        data = t._data if isinstance(t, Tensor) else np.asarray(t)
        text = [labels[key]] if key in labels else []
        if key in param_ids:
            kind = "param"
        text.append(f"{tuple(data.shape)} {data.dtype}" if data.ndim else f"scalar {data.dtype}")
        if show_values:
            text.append("data: " + _preview(data, max_elems))
        # leaves say "None" when no gradient arrived; intermediates only keep one after retain_grad()
        if show_grads and isinstance(t, Tensor) and (t.grad is not None or kind in ("leaf", "param")):
            text.append("grad: " + ("None" if t.grad is None else _preview(t.grad._data, max_elems)))
        attrs = _STYLE[kind] + (", peripheries=2" if t is tensor else "")
        lines.append(f"  {node_id} [label={_dot_string(chr(10).join(text))}, {attrs}];")
        return node_id

    def kind_of(t: Any) -> str:
        if not isinstance(t, Tensor) or not t.requires_grad:
            return "const"
        return "leaf" if t._node is None else "inner"

    # Iterative DFS from the root: each tensor's node is emitted when first seen, then its op and inputs.
    tensor_node(tensor, kind_of(tensor))
    stack: list[Tensor] = [tensor]
    expanded: set[int] = set()
    while stack:
        t = stack.pop()
        node = t._node
        if node is None or id(t) in expanded:
            continue
        expanded.add(id(t))
        op_id = f"op{n_ops}"
        n_ops += 1
        lines.append(f"  {op_id} [label={_dot_string(node.op.name)}, {_STYLE['op']}];")
        lines.append(f"  {op_id} -> {tensor_ids[id(t)]};")
        positional = sum(x is not None for x in node.inputs) > 1
        for pos, x in enumerate(node.inputs):
            if x is None:
                continue
            kind = kind_of(x)
            if kind == "const" and not show_constants:
                continue
            src = tensor_node(x, kind)
            label = f" [label={_dot_string(str(pos))}]" if positional else ""
            lines.append(f"  {src} -> {op_id}{label};")
            if isinstance(x, Tensor) and x._node is not None:
                stack.append(x)
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_dot(source: Tensor | str, path: PathLike, **kwargs: Any) -> Path:
    """Write DOT source to ``path`` atomically; ``source`` is DOT text or a tensor (then ``to_dot(source,
    **kwargs)``). Returns the path. Needs no Graphviz installation."""
    if kwargs and not isinstance(source, Tensor):
        raise TypeError("write_dot: keyword options are for to_dot and need a Tensor source, got DOT text")
    text = to_dot(source, **kwargs) if isinstance(source, Tensor) else str(source)
    return atomic_write_text(path, text)


def render(dot_src: Tensor | str, path: PathLike, format: str = "svg", *, timeout: float = 60.0) -> Path:  # noqa: A002
    """Lay out DOT source with the Graphviz ``dot`` program and write an image to ``path`` (atomically).

    ``format`` is ``"svg"``, ``"png"`` or ``"pdf"``; ``dot_src`` may also be a tensor (rendered with the
    default :func:`to_dot` options). Raises :class:`GraphvizNotFoundError` when ``dot`` is not installed
    (``write_dot`` still works then) and RuntimeError when ``dot`` rejects the input.
    """
    if format not in RENDER_FORMATS:
        raise ValueError(f"render: format must be one of {RENDER_FORMATS}, got {format!r}")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(
            "render: the Graphviz 'dot' program was not found on PATH; install Graphviz "
            "(apt-get install graphviz, brew install graphviz, conda install graphviz) or save the DOT text "
            "with write_dot() and render it elsewhere"
        )
    text = to_dot(dot_src) if isinstance(dot_src, Tensor) else str(dot_src)
    with atomic_path(path) as tmp:
        proc = subprocess.run([exe, f"-T{format}", "-o", os.fspath(tmp)], input=text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"render: Graphviz dot exited with status {proc.returncode}: {err}")
    return Path(path)
