"""The reverse-mode engine: the recorded graph (:class:`Node`) and the backward pass over it.

When an op runs on tensors that require gradients, :func:`minidl.tensor.apply` records a :class:`Node`
(PyTorch's ``grad_fn``): the op, the cache its ``forward`` returned, and one *edge* per input saying where
that input's gradient goes. An edge points at the input's own node (for a computed tensor) or at the leaf
tensor itself (whose ``.grad`` accumulates), and it is fixed when the node is recorded. So when a tensor is
later changed in place and gets a new history, nodes recorded earlier still point at the old one, exactly
as in PyTorch.

:func:`run_backward` walks the nodes reachable from the roots in reverse topological order (found
iteratively, so graphs of any depth work), calls each op's ``backward(dout, cache, needs)``, the very
function a learner can call by hand, reduces each input gradient to the input's shape in one place
(:func:`unbroadcast`), sums gradients that meet, and finally accumulates them into the leaves.

Semantics follow PyTorch:

* gradients of leaves accumulate in ``.grad`` across backward calls until zeroed;
* a tensor used several times receives the sum of the gradients from every use;
* each node's cache is freed once used, unless ``retain_graph=True``;
* a tensor saved for backward and then modified in place makes backward raise (version counters),
  never compute a wrong gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..backend import xp

if TYPE_CHECKING:
    from ..tensor import Tensor


class BackwardOp(Protocol):
    """What a node runs: an op of :mod:`minidl.ops` (``Op``), or a custom ``Function``'s backward op. ``saves``
    lists the inputs (``-1``: the output) whose versions the node checks before running ``backward``."""

    name: str

    @property
    def saves(self) -> tuple[int, ...] | None: ...

    def backward(self, dout: Any, cache: Any, needs: tuple[bool, ...] | None = None) -> Any: ...

__all__ = ["Node", "VersionCounter", "run_backward", "unbroadcast", "queue_callback", "FREED"]

FREED = object()  # marks a node cache released after backward


class VersionCounter:
    """How many times a tensor's storage was changed in place; shared by a tensor and its views."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Node:
    """One recorded op application: what backward needs to send gradients to the op's inputs.

    ``edges[i]`` is ``None`` when input i needs no gradient, else ``(target, output_nr, shape)``: the input's
    node (and which of its outputs the input was) or the leaf tensor, and the input's shape. ``saved`` lists
    ``(version counter, version when saved, which)`` for every tensor the cache holds (``which`` is the input
    index, or -1 for the output), checked before ``backward`` runs. ``hooks`` maps an output number to the
    tensor hooks registered on it. ``inputs`` are the op's inputs as given (tensors, arrays, None), kept for
    drawing the graph (:mod:`minidl.report.graph`); backward never reads them.
    """

    __slots__ = ("op", "cache", "edges", "needs", "inputs", "saved", "hooks", "n_outputs", "__weakref__")

    def __init__(self, op: BackwardOp, cache: Any, edges: tuple, needs: tuple[bool, ...], inputs: tuple = (),
                 saved: tuple = (), n_outputs: int = 1) -> None:
        self.op = op
        self.cache = cache
        self.edges = edges
        self.inputs = inputs
        self.needs = needs
        self.saved = saved
        self.hooks: dict[int, list[Callable[[Any], Any]]] | None = None
        self.n_outputs = n_outputs

    def name(self) -> str:
        """PyTorch-style name of the backward function, e.g. ``MulBackward``."""
        return "".join(part.capitalize() for part in self.op.name.split("_")) + "Backward"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """``((node or AccumulateGrad or None, output_nr), ...)`` per input, as ``grad_fn.next_functions``."""
        out: list[tuple[Any, int]] = []
        for e in self.edges:
            if e is None:
                out.append((None, 0))
            elif isinstance(e[0], Node):
                out.append((e[0], e[1]))
            else:
                out.append((AccumulateGrad(e[0]), 0))
        return tuple(out)

    def add_hook(self, output_nr: int, hook: Callable[[Any], Any]) -> None:
        if self.hooks is None:
            self.hooks = {}
        self.hooks.setdefault(output_nr, []).append(hook)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """Stands for a leaf in ``next_functions`` (its ``.variable`` is the leaf tensor), as in PyTorch."""

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    next_functions: tuple = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes NumPy broadcasting added or stretched, so it has ``shape``.

    If y = f(broadcast(x)), then dL/dx sums dL/dy over every broadcast copy of each element of x.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _topological_order(roots: list[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each after every node it sends gradients to (post-order DFS).

    Iterative, with an explicit stack instead of recursion, so depth is unbounded.
    """
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for e in node.edges:
            if e is not None and type(e[0]) is Node and id(e[0]) not in seen:
                stack.append((e[0], False))
    return order


def _check_versions(node: Node) -> None:
    """Raise PyTorch's error if a tensor this node saved was changed in place since."""
    for counter, version, which in node.saved:
        if counter.value != version:
            what = "the output" if which < 0 else f"input {which}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: {what} of {node.name()} is at version {counter.value}; expected version {version} "
                "instead. Hint: compute out of place (e.g. x = x + 1 instead of x += 1), or clone() the tensor "
                "before changing it."
            )


def _run_hooks(hooks: list[Callable[[Any], Any]], g: np.ndarray) -> np.ndarray:
    """Tensor hooks see the gradient as a Tensor and may return a replacement; ``retain_grad``'s hook runs
    last, so ``.grad`` shows the gradient the other hooks produced (as in PyTorch)."""
    from ..tensor import Tensor

    for hook in sorted(hooks, key=lambda h: getattr(h, "_minidl_retain", False)):
        res = hook(Tensor._wrap(g))
        if res is not None:
            g = res._data if isinstance(res, Tensor) else xp.asarray(res)
    return g


_callbacks: list[list[Callable[[], None]]] = []  # one list per backward pass in progress (they may nest)


def queue_callback(fn: Callable[[], None]) -> None:
    """Run ``fn()`` once the backward pass in progress has finished, after every leaf's ``.grad`` was updated
    (PyTorch's ``Variable._execution_engine.queue_callback``; data-parallel training waits for its gradient
    reductions there). Only valid during a backward pass, e.g. from a tensor hook."""
    if not _callbacks:
        raise RuntimeError("queue_callback can only be called during a backward pass")
    _callbacks[-1].append(fn)


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[np.ndarray], retain_graph: bool = False,
                 inputs: Sequence[Tensor] | None = None, accumulate: bool = True) -> list[np.ndarray | None]:
    """Backpropagate ``root_grads`` (dL/d root) from ``roots`` through the recorded graph.

    With ``accumulate`` the leaves' gradients are added to their ``.grad`` (all leaves, or only ``inputs`` if
    given). Without it nothing is accumulated and the gradients of ``inputs`` (leaves or computed tensors)
    are returned, ``None`` for an input the roots do not depend on (:func:`minidl.autograd.grad`).
    Only the part of the graph that leads to ``inputs`` runs when they are given.
    """
    node_grads: dict[Node, list[Any]] = {}
    leaf_grads: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, summed gradient]
    root_nodes: list[Node] = []
    for t, g in zip(roots, root_grads, strict=True):
        if t._node is None:
            _add_leaf(leaf_grads, t, g)
        else:
            _add_node(node_grads, t._node, t._output_nr, g)
            root_nodes.append(t._node)

    leaf_targets: dict[int, int] = {}
    node_targets: dict[tuple[int, int], int] = {}
    for i, t in enumerate(inputs or ()):
        if t._node is None:
            leaf_targets[id(t)] = i
        else:
            node_targets[(id(t._node), t._output_nr)] = i
    captured: list[np.ndarray | None] = [None] * len(inputs or ())
    _callbacks.append([])
    try:
        _backward_pass(root_nodes, node_grads, leaf_grads, leaf_targets, node_targets, captured, retain_graph,
                       inputs, accumulate)
        callbacks = _callbacks[-1]
    finally:
        _callbacks.pop()
    for fn in callbacks:
        fn()
    return captured


def _backward_pass(root_nodes: list[Node], node_grads: dict[Node, list[Any]], leaf_grads: dict[int, list[Any]],
                   leaf_targets: dict[int, int], node_targets: dict[tuple[int, int], int],
                   captured: list[np.ndarray | None], retain_graph: bool, inputs: Sequence[Tensor] | None,
                   accumulate: bool) -> None:
    """The body of :func:`run_backward`: nodes in reverse topological order, then the leaves."""
    order = _topological_order(root_nodes)
    # Leaves with post-accumulate hooks (data-parallel gradient reduction) get their .grad as soon as their last
    # gradient arrives rather than after the whole pass, so that the hook can start communicating while the
    # remaining backward runs: count each such leaf's incoming edges, and finish it when the count hits zero.
    pending = _pending_eager_leaves(order) if accumulate and inputs is None and _post_hooks_used else None
    useful = receives = None
    if inputs is not None:  # run only what leads to an input; the inputs' own nodes still receive gradients
        useful = _leading_to(order, leaf_targets, node_targets)
        receives = useful | {nid for nid, _ in node_targets}
    for node in reversed(order):
        gl = node_grads.pop(node, None)
        if gl is None:
            continue
        if node.hooks:
            gl = [g if g is None or nr not in node.hooks else _run_hooks(node.hooks[nr], g) for nr, g in enumerate(gl)]
        if node_targets:
            for nr, g in enumerate(gl):
                i = node_targets.get((id(node), nr))
                if i is not None:
                    captured[i] = g
        if useful is not None and id(node) not in useful:
            continue
        if node.cache is FREED:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name()}: its saved values were "
                "freed by the first backward). Specify retain_graph=True in the first backward() or "
                "autograd.grad() call if you need to backward through the graph a second time."
            )
        if node.saved:
            _check_versions(node)
        in_grads = node.op.backward(gl[0] if node.n_outputs == 1 else tuple(gl), node.cache, node.needs)
        if not retain_graph:
            node.cache = FREED
        for e, g in zip(node.edges, in_grads, strict=False):
            if e is None or g is None:
                continue
            target, nr, shape = e
            if g.shape != shape:
                g = unbroadcast(g, shape)
            if type(target) is Node:
                if receives is None or id(target) in receives:
                    tgl = node_grads.get(target)
                    if tgl is None:
                        tgl = node_grads[target] = [None] * target.n_outputs
                    prev = tgl[nr]
                    tgl[nr] = g if prev is None else prev + g  # never in place: ops may return shared arrays
            elif useful is None or id(target) in leaf_targets:
                entry = leaf_grads.get(id(target))
                if entry is None:
                    leaf_grads[id(target)] = [target, g]
                else:
                    entry[1] = entry[1] + g
                if pending is not None and id(target) in pending:
                    pending[id(target)] -= 1
                    if pending[id(target)] == 0:
                        leaf, g = leaf_grads.pop(id(target))
                        _accumulate(leaf, _run_hooks(leaf._hooks, g) if leaf._hooks else g)

    for leaf, g in leaf_grads.values():
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        i = leaf_targets.get(id(leaf))
        if not accumulate:
            if i is not None:
                captured[i] = g
        elif inputs is None or i is not None:
            _accumulate(leaf, g)


_post_hooks_used = False  # set by the first register_post_accumulate_grad_hook: until then no pass counts edges


def _pending_eager_leaves(order: list[Node]) -> dict[int, int]:
    """id(leaf) -> number of edges into it from ``order``, for the leaves that have post-accumulate hooks."""
    pending: dict[int, int] = {}
    for node in order:
        for e in node.edges:
            if e is not None and type(e[0]) is not Node and e[0]._post_hooks:
                pending[id(e[0])] = pending.get(id(e[0]), 0) + 1
    return pending


def _leading_to(order: list[Node], leaf_targets: dict[int, int], node_targets: dict[tuple[int, int], int]) -> set[int]:
    """ids of the nodes whose backward must run to reach a target (``order`` lists inputs first)."""
    useful: set[int] = set()
    target_nodes = {nid for nid, _ in node_targets}
    for node in order:
        for e in node.edges:
            if e is None:
                continue
            t = e[0]
            if (type(t) is Node and (id(t) in useful or id(t) in target_nodes)) or id(t) in leaf_targets:
                useful.add(id(node))
                break
    return useful


def _add_node(node_grads: dict[Node, list[Any]], node: Node, nr: int, g: np.ndarray) -> None:
    gl = node_grads.get(node)
    if gl is None:
        gl = node_grads[node] = [None] * node.n_outputs
    gl[nr] = g if gl[nr] is None else gl[nr] + g  # never in place: ops may return shared arrays


def _add_leaf(leaf_grads: dict[int, list[Any]], leaf: Tensor, g: np.ndarray) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _accumulate(t: Tensor, g: np.ndarray) -> None:
    """``t.grad += g``; the first gradient is copied so that no two ``.grad`` arrays share memory."""
    if t._grad is None:
        t._grad = type(t)._wrap(xp.array(g, dtype=t._data.dtype, copy=True))
    else:
        t._grad._data += g
    if t._post_hooks:
        for hook in t._post_hooks:
            hook(t)
