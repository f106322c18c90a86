"""``Tensor``: an n-dimensional array that records the ops applied to it, with PyTorch's semantics.

A tensor holds a NumPy array (``_data``; public code reads it with ``.numpy()``, ``.detach()`` or
``np.asarray``). When an op runs on tensors that require gradients, :func:`apply` records a node of the
autograd graph (:mod:`minidl.autograd.engine`); ``backward`` then runs each op's ``backward``, the same
function a learner can call by hand.

Storage, views and in-place changes work as in PyTorch:

* Views (``x[0]``, ``x.view(...)``, ``x.t()``, ``x.detach()``, …) share storage with the tensor they were
  taken from, so writing through one is seen by the other. A view remembers its base and how it was taken
  (``_base``, ``_view_fns``).
* In-place ops (``x += y``, ``x.add_(y)``, ``x[i] = v``, …) write into the storage. Every tensor has a
  version counter (shared with its views) bumped by each in-place change; the graph remembers the version
  of every tensor an op saved for backward, and backward raises PyTorch's "modified by an inplace
  operation" error if it changed, never computing a wrong gradient.
* While recording, an in-place op on a tensor in the graph records a node like its out-of-place form; the
  tensor takes that node as its history (and a view's base takes a node that scatters the new values into
  it). In-place changes to a leaf that requires grad are refused outside ``no_grad``; under ``no_grad``
  (``w -= lr * w.grad``) they simply update the storage, keeping the same object.

Type promotion follows ``torch.result_type`` (see :mod:`minidl.dtypes`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dtypes, views
from .autograd.engine import Node, VersionCounter, run_backward, unbroadcast
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import state as _grad
from .backend import xp
from .device import CPU, check_device
from .errors import DTypeError, ShapeError, UnsupportedError
from .views import contiguous_strides, torch_layout

if TYPE_CHECKING:
    from ._tensor_methods_typing import BoundMethods as _BoundMethods
    from .ops.base import Op
else:
    _BoundMethods = object  # the methods are attached by tensor_methods.bind(); declared for the type checker

__all__ = [
    "Tensor", "Size", "tensor", "apply", "unbroadcast", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "clear_grads", "as_array",
]  # fmt: skip

_SUPPORTED_KINDS = "biuf"
_Bool = bool  # the builtin, for annotations inside Tensor, whose body defines a ``bool`` method


class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``)."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self) -> str:
        return f"minidl.Size({list(self)})"

    def __getitem__(self, key: Any) -> Any:
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A new array from user data, with PyTorch's dtype rules (``minidl.tensor``).

    NumPy arrays and tensors keep their dtype (float64 stays float64); Python floats and lists holding one
    become the default float dtype; Python ints become int64; bools stay bool.
    """
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        try:
            return xp.array(data, dtype=dtypes.to_numpy_dtype(dtype))
        except (ValueError, TypeError) as e:
            raise TypeError(f"cannot build a {dtypes.to_dtype(dtype)} tensor from {type(data).__name__}: {e}") \
                from None
    if isinstance(data, np.ndarray | np.generic):
        arr = xp.array(data)
    else:
        try:
            arr = xp.array(data)
        except ValueError as e:
            raise ValueError(f"cannot build a tensor from this data: {e}") from None
        if arr.dtype == np.float64:
            arr = arr.astype(dtypes.default_float())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in _SUPPORTED_KINDS:
        raise DTypeError(f"cannot build a tensor from {type(data).__name__} (array dtype {arr.dtype}); "
                        "tensors hold bool, integer or floating-point numbers")
    return arr


def _counter(t: Tensor) -> VersionCounter:
    """``t``'s version counter, made on first need (most tensors are never saved or changed)."""
    vc = t._vc
    if vc is None:
        vc = t._vc = VersionCounter()
    return vc


class Tensor(_BoundMethods):
    """An n-dimensional array that can record the ops applied to it and differentiate through them.

    ``minidl.Tensor(...)`` is PyTorch's legacy constructor: ``Tensor(3, 4)`` is an uninitialised (3, 4)
    tensor of the default float dtype, ``Tensor([1, 2])`` converts data to that dtype. Use
    :func:`minidl.tensor` to keep the data's own dtype.
    """

    __slots__ = ("_data", "_requires_grad", "_grad", "_node", "_output_nr", "_vc", "_base", "_view_fns",
                 "_hooks", "_post_hooks", "__weakref__")
    _data: np.ndarray
    _requires_grad: bool
    _grad: Tensor | None
    _node: Node | None
    _output_nr: int
    _vc: VersionCounter | None
    _base: Tensor | None  # the tensor this one is a view of (None for a tensor owning its storage)
    _view_fns: tuple | None  # the view steps from _base to this tensor (views.py)
    _hooks: list | None
    _post_hooks: list | None
    __array_priority__ = 1000  # make ``ndarray * Tensor`` defer to Tensor.__rmul__

    def __init__(self, *args: Any, device: Any = None) -> None:
        if device is not None:
            check_device(device)
        fdt = dtypes.default_float()
        if not args:
            data = xp.empty((0,), dtype=fdt)
        elif (len(args) == 1 and isinstance(args[0], Size)) or all(
                isinstance(a, int | np.integer) and not isinstance(a, bool) for a in args):
            shape = tuple(args[0]) if isinstance(args[0], Size) else tuple(int(a) for a in args)
            data = xp.empty(shape, dtype=fdt)
        elif len(args) == 1:
            src = args[0]
            if isinstance(src, Tensor) and src._data.dtype == fdt:
                data = src._data  # shares memory, as in PyTorch
            else:
                data = as_array(src, fdt)
        else:
            raise TypeError(f"Tensor() takes sizes (ints) or one data argument, got {args!r}")
        _init_slots(self, data)

    @staticmethod
    def _wrap(data: np.ndarray, node: Node | None = None, output_nr: int = 0) -> Tensor:
        """Fast constructor for op outputs: no conversion (NumPy scalars, which reductions return, become 0-d
        arrays, since storage must be writable in place)."""
        t = object.__new__(Tensor)
        t._data = data if type(data) is np.ndarray else xp.asarray(data)
        t._requires_grad = node is not None
        t._grad = None
        t._node = node
        t._output_nr = output_nr
        t._vc = None
        t._base = None
        t._view_fns = None
        t._hooks = None
        t._post_hooks = None
        return t

    # ----------------------------------------------------------------------------------- properties
    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside the graph (PyTorch's ``.data``): changes through it are not
        tracked by autograd. Assigning ``t.data = other`` makes ``t`` use ``other``'s storage."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        arr = value._data if isinstance(value, Tensor) else xp.asarray(value)
        if arr.dtype.kind not in _SUPPORTED_KINDS:
            raise TypeError(f"cannot assign data of dtype {arr.dtype} to a tensor")
        self._data = arr

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (``None`` until one arrives, or after ``zero_grad``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                                   f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with "
                                   f"dtype '{self.dtype}'. The gradient must match the tensor's dtype")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of_array(self._data)

    @property
    def device(self) -> Any:
        return CPU

    is_cuda = False
    is_cpu = True
    is_sparse = False
    is_quantized = False
    is_meta = False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The node that produced this tensor (``None`` for leaves)."""
        return self._node

    @property
    def _version(self) -> int:
        return 0 if self._vc is None else self._vc.value

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        if self.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def size(self, dim: int | None = None) -> Any:
        return Size(self._data.shape) if dim is None else self._data.shape[_dim(dim, self.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def _torch_strides(self) -> tuple[int, ...]:
        """The element strides PyTorch would give this tensor (see :mod:`minidl.views`), which may differ from
        its array's: minidl stores some results channels-last."""
        if self._base is None:
            return contiguous_strides(self._data.shape)
        return torch_layout(self._base._data.shape, self._view_fns or ()).strides

    def stride(self, dim: int | None = None) -> Any:
        """Strides in elements, as PyTorch would lay this tensor out."""
        st = self._torch_strides()
        return st if dim is None else st[_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        base = self._data.base if self._data.base is not None else self._data
        if not isinstance(base, np.ndarray):
            return 0
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self.itemsize

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0])

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Contiguity of PyTorch's layout of this tensor (results of ops are; transposed views are not)."""
        return self._base is None or views.is_contiguous(self._data.shape, self._torch_strides())

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._data.dtype.kind in "if"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ----------------------------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array (shared memory, as in PyTorch)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is None:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype)

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return bool(self._data.reshape(()))

    def _scalar(self) -> float | int | bool:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __index__(self) -> int:
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from ._print import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol: Any) -> Any:
        if self._node is not None:
            raise RuntimeError("only tensors created explicitly by the user (graph leaves) can be pickled or copied")
        return (_rebuild, (type(self), self._data, self._requires_grad, self.grad))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        import copy

        new = _rebuild(type(self), self._data.copy(), self._requires_grad,
                       None if self.grad is None else copy.deepcopy(self.grad, memo))
        memo[id(self)] = new
        return new

    # ----------------------------------------------------------------------------------- dtype and device
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(other)``, ``to(device, dtype)``, with ``non_blocking`` and ``copy``."""
        dtype, copy = parse_to(args, kwargs, "Tensor.to")
        if dtype is None or dtype == self._data.dtype:
            return self.clone() if copy else self
        from .ops import cast

        return cast(self, dtype=dtype)

    def cpu(self, memory_format: Any = None) -> Tensor:
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False, memory_format: Any = None) -> Tensor:
        check_device("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")
        return self  # not reached: check_device raises

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """With no argument the type name (``'minidl.FloatTensor'``); with a dtype, the cast tensor."""
        if dtype is None:
            return f"minidl.{_TYPE_NAMES.get(self._data.dtype.name, 'Tensor')}"
        if isinstance(dtype, str):
            name = dtype.rsplit(".", 1)[-1]
            inverse = {v: k for k, v in _TYPE_NAMES.items()}
            if name not in inverse:
                raise TypeError(f"invalid type: {dtype!r}")
            dtype = inverse[name]
        return self.to(dtypes.to_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other._data.dtype)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def short(self) -> Tensor:
        return self.to(np.int16)

    def char(self) -> Tensor:
        return self.to(np.int8)

    def byte(self) -> Tensor:
        return self.to(np.uint8)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def bfloat16(self) -> Tensor:
        raise UnsupportedError("minidl has no bfloat16 tensors (NumPy has no such type); use .float()")

    # ----------------------------------------------------------------------------------- graph
    def detach(self) -> Tensor:
        """Same storage and version counter, cut from the graph."""
        t = Tensor._wrap(self._data)
        t._vc = _counter(self)
        return t

    def detach_(self) -> Tensor:
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: _Bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        if self._node is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (accumulating, as PyTorch does)."""
        if self._node is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = Tensor._wrap(g._data.copy()) if t.grad is None else Tensor._wrap(t.grad._data + g._data)

        keep._minidl_retain = True  # type: ignore[attr-defined]  # marks the hook retain_grad installed
        self._node.add_hook(self._output_nr, keep)

    @property
    def retains_grad(self) -> _Bool:
        node = self._node
        if node is None or not node.hooks:
            return False
        return any(getattr(h, "_minidl_retain", False) for h in node.hooks.get(self._output_nr, ()))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces the gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            return _HookHandle(self._hooks, hook)
        self._node.add_hook(self._output_nr, hook)
        assert self._node.hooks is not None
        return _HookHandle(self._node.hooks[self._output_nr], hook, added=True)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """Call ``hook(tensor)`` after this leaf's ``.grad`` was updated by backward."""
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_hooks is None:
            self._post_hooks = []
        from .autograd import engine

        engine._post_hooks_used = True
        return _HookHandle(self._post_hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: _Bool | None = None,
                 create_graph: _Bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (only ``inputs``' when given).

        ``gradient`` is dL/d(self); it may be omitted for a one-element tensor (then 1).
        """
        if gradient is None and inputs is None and not create_graph and self._node is not None \
                and self._data.size == 1:  # loss.backward(): skip the general argument handling
            run_backward([self], [xp.ones_like(self._data)], retain_graph=bool(retain_graph))
            return
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # ----------------------------------------------------------------------------------- in place
    def _check_inplace(self) -> None:
        """PyTorch refuses in-place changes to a leaf that requires grad (or a view of one) while recording."""
        if not _grad.enabled:
            return
        if self._node is None and self._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base._node is None and base._requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")

    def _snapshot(self) -> Tensor:
        """This tensor's current value and history as a separate tensor (the input of an in-place op)."""
        t = Tensor._wrap(self._data.copy(), self._node, self._output_nr)
        t._requires_grad = self._requires_grad
        return t

    def _inplace(self, fn: Callable[..., Tensor], *args: Any, **kwargs: Any) -> Tensor:
        """``self = fn(self, *args, **kwargs)`` in place (the engine of every ``x.op_()`` method)."""
        self._check_inplace()
        if _grad.enabled and (self._requires_grad or _any_requires_grad(args, kwargs)):
            return self._commit(fn(self._snapshot(), *args, **kwargs))
        with no_grad():
            return self._commit(fn(self, *args, **kwargs))

    def _commit(self, out: Tensor) -> Tensor:
        """Make ``out`` the new value of this tensor: write it into the storage and, if ``out`` was recorded,
        take its history (a view also gives its base a node that scatters the new values into it)."""
        arr = out._data
        if arr.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(arr.shape)}")
        if arr.dtype != self._data.dtype:
            if not dtypes.can_cast(arr.dtype, self._data.dtype):
                raise RuntimeError(f"result type {_TYPE_TITLES[arr.dtype.kind]} can't be cast to the desired "
                                   f"output type {_TYPE_TITLES[self._data.dtype.kind]}")
            if out._node is not None:
                from .ops import cast

                out = cast(out, dtype=self._data.dtype)
        if not self._data.flags.writeable:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to "
                               "a single memory location. Please clone() the tensor before performing the "
                               "operation.")
        self._data[...] = out._data
        if tracing.tracer is not None:
            tracing.tracer.commit(self, out)
        vc = _counter(self)
        vc.value += 1
        node = out._node
        if node is not None:
            retained = self.retains_grad
            if node.saved:  # the op saved its output, which now lives in this tensor's storage
                node.saved = tuple((vc, vc.value, w) if c is out._vc else (c, v, w) for c, v, w in node.saved)
            if self._base is None:
                self._node, self._output_nr, self._requires_grad = node, out._output_nr, True
            else:
                self._rebase_view(out)
            if retained:
                self.retain_grad()
        return self

    def _rebase_view(self, out: Tensor) -> None:
        """After an in-place op on this view, the base's new value is its old one with ``out`` scattered into
        the viewed region, and this view reads its value from the base again."""
        from .ops.shape import view_of, view_scatter

        base = self._base
        assert base is not None
        shape = base._data.shape
        base_edge = _edge(base) if base._requires_grad else None
        scatter = Node(view_scatter, (self._view_fns, shape), (base_edge, _edge(out)), (base_edge is not None, True),
                       (base, out))
        base._node, base._output_nr, base._requires_grad = scatter, 0, True
        self._node = Node(view_of, (self._view_fns, shape, self._data.dtype), ((scatter, 0, shape),), (True,), (base,))
        self._output_nr, self._requires_grad = 0, True

    def __setitem__(self, index: Any, value: Any) -> None:
        if tracing.tracer is not None:
            tracing.tracer.setitem(self)
        idx = _index(index)
        if _grad.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            if self._node is None and self._requires_grad:  # PyTorch writes through a view of the leaf
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
            self._check_inplace()
            from .ops import cast, index_put

            v = value if isinstance(value, Tensor) else Tensor._wrap(as_array(value, self._data.dtype))
            if v._data.dtype != self._data.dtype:
                v = cast(v, dtype=self._data.dtype)
            self._commit(index_put(self._snapshot(), v, index=idx))
            return
        arr = value._data if isinstance(value, Tensor) else value
        try:
            self._data[idx] = arr
        except ValueError as e:
            raise ShapeError(f"shape mismatch: value of shape {list(np.shape(arr))} cannot be broadcast to the "
                             f"indexing result ({e})") from None
        _counter(self).value += 1

    # ----------------------------------------------------------------------------------- indexing
    def __getitem__(self, index: Any) -> Tensor:
        from .ops import getitem

        idx = _index(index)
        out = getitem(self, index=idx)
        if _is_basic(idx):
            _mark_view(out, self, views.Index(idx))
        return out

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __contains__(self, element: Any) -> _Bool:
        if isinstance(element, Tensor | int | float | bool):
            return bool((self == element).any().item())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")

    # ----------------------------------------------------------------------------------- shape (varargs forms)
    def view(self, *shape: Any) -> Tensor:
        """A tensor of a new shape over the same data. As in PyTorch, a view that the layout does not allow
        (a transposed tensor flattened) raises; use ``reshape``, which copies then."""
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype | type | np.dtype):
            raise UnsupportedError("Tensor.view(dtype) (reinterpreting bits) is not supported; use .to(dtype)")
        new = _shape_arg(shape)
        if self._base is not None:
            try:
                torch_layout(self._base._data.shape, self._view_fns or ()).reshape(new, copy=False)
            except ValueError as e:
                if "copy" in str(e):
                    raise RuntimeError("view size is not compatible with input tensor's size and stride (at least "
                                       "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                                       "instead.") from None
        return _fns.reshape(self, new)

    def reshape(self, *shape: Any) -> Tensor:
        return _fns.reshape(self, _shape_arg(shape))

    def permute(self, *dims: Any) -> Tensor:
        return _fns.permute(self, _shape_arg(dims))

    def expand(self, *sizes: Any) -> Tensor:
        return _fns.expand(self, _shape_arg(sizes))

    def repeat(self, *sizes: Any) -> Tensor:
        return _fns.repeat(self, _shape_arg(sizes))

    def tile(self, *dims: Any) -> Tensor:
        return _fns.tile(self, _shape_arg(dims))

    def flip(self, *dims: Any) -> Tensor:
        return _fns.flip(self, _shape_arg(dims))

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: _Bool = False) -> Tensor:
        return _fns.zeros(_shape_arg(size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: _Bool = False) -> Tensor:
        return _fns.ones(_shape_arg(size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: _Bool = False) -> Tensor:
        return _fns.empty(_shape_arg(size), dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: _Bool = False) -> Tensor:
        return _fns.full(size, fill_value, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None, requires_grad: _Bool = False) -> Tensor:
        return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


# Tensor's arithmetic operators, math methods and their in-place ``_`` forms are the functions of
# :mod:`minidl.functions`, attached by :mod:`minidl.tensor_methods` once both modules exist.
_fns: Any = None

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}
_TYPE_TITLES = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool", "c": "ComplexFloat"}


def _init_slots(t: Tensor, data: np.ndarray, requires_grad: bool = False) -> None:
    """Fill the slots of a freshly constructed tensor (constructors of Tensor and its subclasses)."""
    t._data = data
    t._requires_grad = False
    t._grad = None
    t._node = None
    t._output_nr = 0
    t._vc = None
    t._base = None
    t._view_fns = None
    t._hooks = None
    t._post_hooks = None
    if requires_grad:
        t.requires_grad_(True)


def _rebuild(cls: type, data: np.ndarray, requires_grad: bool, grad: Tensor | None) -> Tensor:
    """Pickling / deep-copy constructor (keeps the class, the flag and the gradient)."""
    t: Tensor = object.__new__(cls)
    _init_slots(t, data, requires_grad)
    t._grad = grad
    return t


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable, added: bool = False) -> None:
        if not added:
            hooks.append(hook)
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def parse_to(args: tuple, kwargs: dict, where: str) -> tuple[np.dtype | None, bool]:
    """The dtype (or None) and ``copy`` flag asked for by ``to(...)``; any non-CPU device raises."""
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{where}() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._data.dtype
        elif isinstance(a, str) or type(a).__name__ == "device":
            device = a
        elif isinstance(a, bool):  # positional non_blocking
            continue
        elif a is not None:
            dtype = a
    if device is not None:
        check_device(device)
    return (None if dtype is None else dtypes.to_numpy_dtype(dtype)), copy


def _any_requires_grad(args: tuple, kwargs: dict) -> bool:
    return any(isinstance(a, Tensor) and a._requires_grad for a in (*args, *kwargs.values()))


def _edge(t: Tensor) -> tuple:
    """Where a gradient for ``t`` goes: its node (and output number) or, for a leaf, ``t`` itself."""
    return (t._node or t, t._output_nr, t._data.shape)


def _mark_view(out: Tensor, src: Tensor, fn: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """Record that ``out`` is a view of ``src`` taken by ``fn`` (if the array really shares memory)."""
    if np.may_share_memory(out._data, src._data):
        out._base = src._base if src._base is not None else src
        out._view_fns = (src._view_fns or ()) + (fn,)
        out._vc = _counter(src)
    return out


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) gives a view selecting each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | type(None) | type(Ellipsis) | np.integer) and not isinstance(i, bool)
               for i in items)


def _index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        a = i._data
        if a.dtype.kind == "b":
            return a
        if a.dtype.kind not in "iu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return int(a) if a.ndim == 0 else a
    if isinstance(i, slice):
        if i.step is not None and operator.index(i.step) <= 0:
            raise ValueError("step must be greater than zero")
        return i
    if isinstance(i, list):
        a = xp.asarray([_index_item(j) if isinstance(j, Tensor) else j for j in i])
        if a.dtype.kind not in "iub" and a.size:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return a.astype(np.int64) if a.dtype.kind in "f" else a
    return i


def _index(index: Any) -> Any:
    """A PyTorch index (ints, slices, None, ..., bool masks, integer tensors or lists) as a NumPy index."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _dim(dim: Any, ndim: int) -> int:
    """Normalise a (possibly negative) dim, raising PyTorch's IndexError when out of range."""
    n = max(ndim, 1)
    d = operator.index(dim)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _shape_arg(args: tuple) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size([2, 3]))`` all mean (2, 3)."""
    if len(args) == 1 and isinstance(args[0], tuple | list):
        args = tuple(args[0])
    return tuple(operator.index(s) for s in args)


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (PyTorch's ``torch.tensor``).

    Python floats give the default float dtype, ints int64, bools bool; arrays and tensors keep their dtype.
    """
    if device is not None:
        check_device(device)
    t = Tensor._wrap(as_array(data, dtype))
    return t.requires_grad_(True) if requires_grad else t


class _Tracing:
    """The op recorder of :func:`minidl.onnx.export` while it traces a model (``None`` otherwise): :func:`apply`
    reports every op it runs (``tracer.record(op, inputs, params, output)``) and ``_commit`` every in-place
    write (``tracer.commit(tensor, new_value)``)."""

    tracer: Any = None


tracing = _Tracing()


def apply(op: Op, *inputs: Any, **params: Any) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and, if any input needs a gradient, record a node.

    ``inputs`` may mix tensors, arrays and ``None`` (an absent optional input such as a bias); only
    tensors with ``requires_grad`` receive gradients. ``params`` are non-differentiable settings.
    """
    # one plain loop, no generator expressions: this runs for every op and its overhead is the engine's
    arrays = []
    edges: list[Any] | None = None
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor):
            arrays.append(t._data)
            if t._requires_grad:
                if edges is None:
                    edges = [None] * len(inputs)
                edges[i] = (t._node or t, t._output_nr, t._data.shape)
        else:
            arrays.append(t)
    try:
        out, cache = op.forward(*arrays, **params)
    except ValueError as e:
        if "could not be broadcast" in str(e):
            raise _broadcast_error(arrays) from None
        raise
    if edges is None or not _grad.enabled or out.dtype.kind != "f":  # integer results never require grad
        res = Tensor._wrap(out)
        if tracing.tracer is not None:
            tracing.tracer.record(op, inputs, params, res)
        return res
    node = Node(op, cache, tuple(edges), tuple([e is not None for e in edges]), inputs)
    res = Tensor._wrap(out, node)
    if tracing.tracer is not None:
        tracing.tracer.record(op, inputs, params, res)
    saves = op.saves
    if saves is None:
        saves = (*range(len(inputs)), -1)
    if saves:
        saved = []
        for i in saves:
            t = res if i < 0 else inputs[i]
            if isinstance(t, Tensor):
                vc = t._vc
                if vc is None:
                    vc = t._vc = VersionCounter()
                saved.append((vc, vc.value, i))
        node.saved = tuple(saved)
    return res


def _broadcast_error(arrays: list[Any]) -> ShapeError:
    """PyTorch's message for operands whose shapes do not broadcast."""
    shapes = [np.shape(a) for a in arrays if isinstance(a, np.ndarray)]
    a, b = (shapes + [(), ()])[:2]
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for d in range(n):
        if pa[d] != pb[d] and 1 not in (pa[d], pb[d]):
            return ShapeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                              f"non-singleton dimension {d}")
    return ShapeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast together")


def clear_grads(tensors: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Reset the ``.grad`` of every tensor: drop it (PyTorch's default) or fill it with zeros in place."""
    for t in tensors:
        if t._grad is None:
            continue
        if set_to_none:
            t._grad = None
        else:
            t._grad._data[...] = 0

