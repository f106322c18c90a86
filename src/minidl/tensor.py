"""``Tensor`` and the reverse-mode autograd engine.

A tensor wraps a NumPy array. When an op runs on tensors that require gradients, :func:`apply` records a
:class:`Node` holding the op, the cache its ``forward`` returned and the input tensors. ``backward`` walks
those nodes in reverse topological order (found iteratively, so graphs of any depth work) and calls each
op's ``backward(dout, cache)``, the very function a learner can call by hand.

Semantics follow PyTorch:

* gradients of leaves accumulate in ``.grad`` across ``backward`` calls until zeroed;
* a tensor used several times receives the sum of the gradients from every use;
* a gradient is reduced to its input's shape (undoing NumPy broadcasting) in exactly one place,
  :func:`unbroadcast`, called by the engine for every op;
* ``backward`` frees each node's cache once used, unless ``retain_graph=True``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .backend import DEFAULT_FLOAT, is_float, xp

if TYPE_CHECKING:
    from .ops.base import Op

__all__ = [
    "Tensor",
    "tensor",
    "apply",
    "unbroadcast",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "set_grad_enabled",
]

_grad_enabled = True
_FREED = object()  # marks a node cache released after backward


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator that turns graph recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev


class no_grad(set_grad_enabled):
    """Run without recording a graph: no nodes, no caches kept (``with minidl.no_grad(): ...``)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Re-enable graph recording inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


def is_grad_enabled() -> bool:
    return _grad_enabled


class Node:
    """One recorded op application: what ``backward`` needs to send gradients to ``inputs``."""

    __slots__ = ("op", "cache", "inputs", "needs")

    def __init__(self, op: Op, cache: Any, inputs: tuple, needs: tuple[bool, ...]) -> None:
        self.op = op
        self.cache = cache
        self.inputs = inputs
        self.needs = needs


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array with PyTorch's dtype rules.

    NumPy arrays keep their dtype (float64 stays float64); Python floats and lists of them become float32;
    Python ints become int64; bools stay bool.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return xp.array(data, dtype=dtype)
    if isinstance(data, np.ndarray | np.generic):
        return xp.array(data)
    arr = xp.array(data)
    if arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_FLOAT)
    elif arr.dtype.kind == "i":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot build a tensor from {type(data).__name__} (array dtype {arr.dtype})")
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it and differentiate through them."""

    __slots__ = ("data", "requires_grad", "grad", "_node", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # make ``ndarray * Tensor`` defer to Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_array(data, dtype)
        if requires_grad and not is_float(self.data.dtype):
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._node: Node | None = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, data: np.ndarray, node: Node | None = None) -> Tensor:
        """Fast constructor for op outputs: no conversion, no checks."""
        t = object.__new__(Tensor)
        t.data = data
        t.requires_grad = node is not None
        t.grad = None
        t._node = node
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Op | None:
        """The op that produced this tensor (``None`` for leaves)."""
        return None if self._node is None else self._node.op

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ----------------------------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory, as in PyTorch)."""
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """Same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        return _ops().clone(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not is_float(self.dtype):
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("can't turn off requires_grad on a non-leaf tensor; use detach()")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def to(self, dtype: Any) -> Tensor:
        """Cast to ``dtype``; differentiable for float-to-float casts."""
        if np.dtype(dtype) == self.dtype:
            return self
        return _ops().cast(self, dtype=np.dtype(dtype))

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def zero_(self) -> Tensor:
        self.data[...] = 0
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extra += f", dtype={self.dtype}"
        if self._node is not None:
            extra += f", grad_fn={self._node.op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    __hash__ = object.__hash__

    # ----------------------------------------------------------------------------------- autograd
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``grad`` is the upstream gradient dL/d(self); it may be omitted for a one-element tensor (then 1).
        """
        backward(self, grad, retain_graph=retain_graph)

    # ----------------------------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return _ops().add(self, _like(other, self))

    def __radd__(self, other: Any) -> Tensor:
        return _ops().add(_like(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops().sub(self, _like(other, self))

    def __rsub__(self, other: Any) -> Tensor:
        return _ops().sub(_like(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops().mul(self, _like(other, self))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops().mul(_like(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops().div(self, _like(other, self))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops().div(_like(other, self), self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            return _ops().pow(self, other)
        return _ops().pow_scalar(self, exponent=other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops().pow(_like(other, self), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops().matmul(self, _like(other, self))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops().matmul(_like(other, self), self)

    def __neg__(self) -> Tensor:
        return _ops().neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops().abs(self)

    # comparisons give bool tensors and are not differentiable
    def _compare(self, other: Any, fn: Any) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(xp.asarray(fn(self.data, other)))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __getitem__(self, index: Any) -> Tensor:
        return _ops().getitem(self, index=_plain_index(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.requires_grad and _grad_enabled:
            raise RuntimeError("in-place assignment into a tensor that requires grad is not supported")
        self.data[_plain_index(index)] = value.data if isinstance(value, Tensor) else value

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    # ----------------------------------------------------------------------------------- math
    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops().sum(self, axis=_axis(axis, dim), keepdims=keepdims or keepdim)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops().mean(self, axis=_axis(axis, dim), keepdims=keepdims or keepdim)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops().amax(self, axis=_axis(axis, dim), keepdims=keepdims or keepdim)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops().amin(self, axis=_axis(axis, dim), keepdims=keepdims or keepdim)

    def var(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False,
            unbiased: bool = True) -> Tensor:
        ax = _axis(axis, dim)
        d = self - self.mean(axis=ax, keepdims=True)
        n = self.data.size if ax is None else int(np.prod([self.shape[a] for a in np.atleast_1d(ax)]))
        return (d * d).sum(axis=ax, keepdims=keepdims or keepdim) / (n - 1 if unbiased else n)

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return Tensor._wrap(xp.argmax(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None) -> Tensor:
        return Tensor._wrap(xp.argmin(self.data, axis=_axis(axis, dim), keepdims=keepdims))

    def exp(self) -> Tensor:
        return _ops().exp(self)

    def log(self) -> Tensor:
        return _ops().log(self)

    def sqrt(self) -> Tensor:
        return _ops().sqrt(self)

    def abs(self) -> Tensor:
        return _ops().abs(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _ops().clip(self, min=min, max=max)

    clamp = clip

    def maximum(self, other: Any) -> Tensor:
        return _ops().maximum(self, _like(other, self))

    def minimum(self, other: Any) -> Tensor:
        return _ops().minimum(self, _like(other, self))

    def relu(self) -> Tensor:
        return _ops().relu(self)

    def sigmoid(self) -> Tensor:
        return _ops().sigmoid(self)

    def tanh(self) -> Tensor:
        return _ops().tanh(self)

    def softmax(self, dim: int) -> Tensor:
        return _ops().softmax(self, dim=dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _ops().log_softmax(self, dim=dim)

    # ----------------------------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        return _ops().reshape(self, shape=shape)

    def view(self, *shape: Any) -> Tensor:
        return self.reshape(*shape)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _ops().permute(self, axes=tuple(axes))

    def permute(self, *dims: Any) -> Tensor:
        return _ops().permute(self, axes=_shape_arg(dims))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        start = start_dim % self.ndim
        end = end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1 :]
        return self.reshape(shape)

    def squeeze(self, dim: int | None = None) -> Tensor:
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        elif self.ndim and self.shape[dim] == 1:
            shape = self.shape[: dim % self.ndim] + self.shape[dim % self.ndim + 1 :]
        else:
            return self
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        d = dim % (self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])


def _ops() -> Any:
    """The op namespace (imported lazily: ops import this module)."""
    from . import ops

    return ops


def _like(value: Any, ref: Tensor) -> Tensor:
    """Wrap a Python number or array as a constant tensor; numbers take ``ref``'s dtype (PyTorch rule)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, bool | int | float):
        dtype = ref.dtype if is_float(ref.dtype) or isinstance(value, bool | int) else DEFAULT_FLOAT
        return Tensor._wrap(xp.asarray(value, dtype=dtype))
    return Tensor._wrap(_as_array(value))


def _axis(axis: Any, dim: Any) -> Any:
    """Accept NumPy's ``axis`` or PyTorch's ``dim`` spelling."""
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis or dim, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


def _shape_arg(args: Sequence[Any]) -> tuple[int, ...]:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean shape (2, 3)."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _plain_index(index: Any) -> Any:
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Build a leaf tensor (copying ``data``). Floats default to float32; float64 arrays stay float64."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def apply(op: Op, *inputs: Any, **params: Any) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and, if any input needs a gradient, record a node.

    ``inputs`` may mix tensors, arrays and ``None`` (an absent optional input such as a bias); only
    tensors with ``requires_grad`` receive gradients. ``params`` are non-differentiable settings.
    """
    arrays = [t.data if isinstance(t, Tensor) else t for t in inputs]
    out, cache = op.forward(*arrays, **params)
    if _grad_enabled:
        needs = tuple(isinstance(t, Tensor) and t.requires_grad for t in inputs)
        if any(needs):
            return Tensor._wrap(out, Node(op, cache, inputs, needs))
    return Tensor._wrap(out)


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


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through recorded nodes, each after all of its inputs.

    Iterative post-order DFS: an explicit stack instead of recursion, so depth is unbounded.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        node = t._node
        if node is not None:
            for parent, need in zip(node.inputs, node.needs, strict=True):
                if need and id(parent) not in seen:
                    stack.append((parent, False))
    return order


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    """Reverse-mode differentiation from ``root``; see :meth:`Tensor.backward`."""
    if not root.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad (no input had requires_grad=True)")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward() without a gradient needs a one-element output, got shape {root.shape}")
        g = xp.ones_like(root.data)
    else:
        g = _as_array(grad, root.dtype)
        if g.shape != root.shape:
            raise ValueError(f"backward() gradient has shape {g.shape}, but the output has shape {root.shape}")
    grads: dict[int, np.ndarray] = {id(root): g}
    for t in reversed(_topological_order(root)):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        node = t._node
        if node is None or t._retains_grad:
            _accumulate(t, g)
            if node is None:
                continue
        if node.cache is _FREED:
            raise RuntimeError(
                f"backward through {node.op.name} a second time: its cache was freed by the first backward; "
                "pass retain_graph=True to the first call"
            )
        in_grads = node.op.backward(g, node.cache, node.needs)
        if not retain_graph:
            node.cache = _FREED
        for parent, need, pg in zip(node.inputs, node.needs, in_grads, strict=False):
            if not need or pg is None:
                continue
            if pg.shape != parent.data.shape:
                pg = unbroadcast(pg, parent.data.shape)
            key = id(parent)
            prev = grads.get(key)
            grads[key] = pg if prev is None else prev + pg


def clear_grads(tensors: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Reset the ``.grad`` of every tensor: drop it (PyTorch's default) or fill it with zeros in place."""
    for t in tensors:
        if t.grad is None:
            continue
        if set_to_none:
            t.grad = None
        else:
            t.grad.data[...] = 0


def _accumulate(t: Tensor, g: np.ndarray) -> None:
    """``t.grad += g``; the first gradient is copied so that no two ``.grad`` arrays share memory."""
    if t.grad is None:
        t.grad = Tensor._wrap(xp.array(g, dtype=t.dtype, copy=True))
    else:
        t.grad.data += g
