"""``Module`` and ``Parameter``: PyTorch's model-building API on minidl's engine.

A :class:`Module` owns three ordered registries, filled automatically by attribute assignment:

* ``_parameters``: name -> :class:`Parameter` (or ``None``, e.g. ``bias=False``), the trainable leaves;
* ``_buffers``: name -> :class:`~minidl.Tensor` (or ``None``), state that is saved but not trained
  (BatchNorm's running statistics); names in ``_non_persistent_buffers_set`` are left out of ``state_dict``;
* ``_modules``: name -> sub-:class:`Module` (or ``None``).

Speed: every registered value is also stored in the instance ``__dict__``, so ``self.weight`` inside a
``forward`` is a plain attribute read (PyTorch resolves it through a ``__getattr__`` fallback, which costs a
failed lookup and an exception per access). ``__setattr__``/``__delattr__``/``register_*`` keep both views in
sync; code must not write into the private dicts directly. ``__call__`` is ``forward`` plus one check for hooks.

``state_dict`` order and keys follow PyTorch exactly: for each module, its parameters, then its persistent
buffers, then each child's entries under ``"<child>."``, recursively, so weights move between minidl and
PyTorch by name (``model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})``).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import dtypes
from ..backend import is_float, xp
from ..device import check_device
from ..errors import DTypeError, MinidlError, ShapeError
from ..tensor import Tensor, _init_slots, as_array, clear_grads, parse_to

__all__ = ["Module", "Parameter", "StateDictError", "RemovableHandle"]


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` registers as trainable when assigned as an attribute.

    ``Parameter(tensor)`` shares the tensor's array (as in PyTorch); other data (arrays, lists, numbers) is
    copied with :class:`~minidl.Tensor`'s dtype rules (Python floats become float32).
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr = xp.empty((0,), dtype=dtypes.default_float())
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = as_array(data)
        # not Tensor.__init__ (PyTorch's legacy constructor): a Parameter built from a tensor shares its memory
        _init_slots(self, arr, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()



class StateDictError(MinidlError, RuntimeError):
    """``load_state_dict`` found problems; every one is listed in the message and in the attributes.

    ``missing_keys`` and ``unexpected_keys`` are lists of names; ``mismatched`` holds
    ``(key, shape in the checkpoint, shape in the model)`` triples.
    """

    def __init__(self, module_name: str, missing_keys: list[str], unexpected_keys: list[str],
                 mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
                 bad_values: list[str] | None = None) -> None:
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        self.mismatched = mismatched
        self.bad_values = bad_values or []
        lines = []
        if missing_keys:
            lines.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing_keys) + ".")
        if unexpected_keys:
            lines.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected_keys) + ".")
        for key, got, want in mismatched:
            lines.append(f"size mismatch for {key}: copying a param with shape {got} from checkpoint, "
                         f"the shape in current model is {want}.")
        lines.extend(self.bad_values)
        super().__init__(f"Error(s) in loading state_dict for {module_name}:\n\t" + "\n\t".join(lines))


_IncompatibleKeys = namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by ``register_forward_hook``/``register_forward_pre_hook``; ``remove()`` unregisters."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _parse_to(args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype requested by ``Module.to(...)`` (a dtype, a tensor's dtype, or None); non-CPU devices raise."""
    dt, _ = parse_to(args, kwargs, "Module.to")
    if dt is not None and not is_float(dt):
        raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                        f"dtype={dtypes.to_dtype(dt)}")
    return dt


class Module:
    """Base class of every layer and model (PyTorch's ``nn.Module``).

    Subclasses call ``super().__init__()`` first, assign parameters, buffers and sub-modules as attributes
    and define ``forward``; calling the module runs ``forward``.
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]
    _forward_hooks: dict[int, Callable[..., Any]]
    _forward_pre_hooks: dict[int, Callable[..., Any]]

    if TYPE_CHECKING:
        # Parameters, buffers and sub-modules registered by name (``register_buffer("running_mean", ...)``,
        # ``self.weight = None``) live in the instance's ``__dict__``; as in PyTorch, the type checker sees
        # them through this declaration.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_hooks"] = {}
        d["_forward_pre_hooks"] = {}

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if self._forward_hooks or self._forward_pre_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        except (ShapeError, DTypeError) as e:
            _locate(e, self)
            raise

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args) -> None or new args`` runs before ``forward``."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, args, output) -> None or new output`` runs after ``forward``."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------------------ registration
    def _registries(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() call")
        return d["_parameters"], d["_buffers"], d["_modules"]

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry (before it is registered again as something else)."""
        params, buffers, modules = self._registries()
        params.pop(name, None)
        buffers.pop(name, None)
        modules.pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        self.__dict__.pop(name, None)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a :class:`Parameter`, or ``None`` for an absent one) under ``name``."""
        params, _, _ = self._registries()
        _check_name("parameter", name)
        if hasattr(self, name) and name not in params:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(minidl.nn.Parameter or None required)")
        if param is not None and not param.is_leaf:
            raise ValueError(f"cannot assign non-leaf tensor to parameter '{name}'; use detach() first")
        params[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-trainable state; persistent buffers are part of ``state_dict``."""
        _, buffers, _ = self._registries()
        _check_name("buffer", name)
        if hasattr(self, name) and name not in buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(minidl.Tensor or None required)")
        buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module (or ``None``) under ``name``."""
        _, _, modules = self._registries()
        _check_name("module", name)
        if hasattr(self, name) and name not in modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            if name not in params:
                self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(minidl.nn.Parameter or None expected)")
            self.register_parameter(name, None)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if name not in d["_modules"]:
                self._forget(name)
            self.add_module(name, value)
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(minidl.nn.Module or None expected)")
            self.add_module(name, None)
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(minidl.Tensor or None expected)")
            self.register_buffer(name, value, persistent=name not in d["_non_persistent_buffers_set"])
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        params, buffers, modules = self._registries()
        if name in params or name in buffers or name in modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------------------------ traversal
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module and every descendant, depth first, each module once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        """One walk serves both parameters and buffers: entries of ``registry`` of every (sub)module."""
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[registry].items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at dotted path ``target`` ("" is this module)."""
        mod: Module = self
        if target == "":
            return mod
        for item in target.split("."):
            child = mod._modules.get(item)
            if not isinstance(child, Module):
                raise AttributeError(f"{mod._get_name()} has no submodule `{item}` (looking up '{target}')")
            mod = child
        return mod

    # ------------------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all descendants (BatchNorm, Dropout behave differently)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: drop it (default) or fill it with zeros."""
        clear_grads(self.parameters(), set_to_none)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant (children first), then on this module, as in PyTorch."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------------------ dtype
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Cast floating parameters, their gradients and floating buffers to a dtype, in place.

        The :class:`Parameter` objects stay the same (only their arrays change), so an optimizer built
        before the cast keeps working. Integer buffers (``num_batches_tracked``) are left alone. Devices other
        than ``"cpu"`` raise ``RuntimeError``.
        """
        dtype = _parse_to(args, kwargs)
        if dtype is None:
            return self
        for p in self.parameters():
            if is_float(p._data.dtype):
                p._data = p._data.astype(dtype, copy=False)
                if p.grad is not None:
                    p.grad._data = p.grad._data.astype(dtype, copy=False)
        for b in self.buffers():
            if is_float(b._data.dtype):
                b._data = b._data.astype(dtype, copy=False)
        return self

    def share_memory(self) -> Module:
        """PyTorch moves the storages to shared memory for multiprocessing; minidl has no shared-memory
        multiprocessing (data parallelism runs on MPI: ``minidl.distributed``), so this returns the module."""
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------------------ state dict
    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """The entries of ``state_dict`` in PyTorch's order: own params, own persistent buffers, children."""
        d = self.__dict__
        for name, p in d["_parameters"].items():
            if p is not None:
                yield prefix + name, p
        skip = d["_non_persistent_buffers_set"]
        for name, b in d["_buffers"].items():
            if b is not None and name not in skip:
                yield prefix + name, b
        for name, child in d["_modules"].items():
            if child is not None:
                yield from child._named_state(prefix + name + ".")

    def state_dict(self, *args: Any, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """OrderedDict name -> tensor of every parameter and persistent buffer, PyTorch's keys and order.

        Values are detached tensors sharing memory with the module (as in PyTorch): copy them to keep a
        snapshot. ``keep_vars=True`` returns the Parameters themselves.
        """
        if args:
            raise TypeError("state_dict() takes keyword arguments only (destination, prefix, keep_vars)")
        out: dict[str, Tensor] = OrderedDict() if destination is None else destination
        for name, t in self._named_state(prefix):
            out[name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy values (minidl Tensors, NumPy arrays, anything ``np.asarray`` accepts) into this module in place.

        Each value is cast to the dtype of the tensor it replaces; Parameter objects keep their identity.
        All problems are collected and reported together in one :class:`StateDictError`: shape mismatches and
        non-numeric values always, missing and unexpected keys only when ``strict``. Nothing is copied when
        an error is raised. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}")
        own = dict(self._named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
        bad: list[str] = []
        updates: list[tuple[Tensor, np.ndarray]] = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.dtype.kind not in "biuf":
                bad.append(f'value for "{key}" has non-numeric dtype {arr.dtype}.')
            elif arr.shape != target.shape:
                mismatched.append((key, tuple(arr.shape), tuple(target.shape)))
            else:
                updates.append((target, arr))
        if mismatched or bad or (strict and (missing or unexpected)):
            raise StateDictError(self._get_name(), missing if strict else [], unexpected if strict else [],
                                 mismatched, bad)
        for target, arr in updates:
            target._data[...] = arr
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """One-line description of this module's settings, shown inside its repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    # ------------------------------------------------------------------------------ layer helpers
    def _input_error(self, expected: str, x: Tensor) -> ShapeError:
        """The error a layer raises for a badly shaped input: names the layer, what it expected, what it got
        (raised from a sub-module, the message also gets the layer's path in the model, see :func:`_locate`)."""
        return ShapeError(f"{self!r} expected {expected}, got shape {tuple(x.shape)}")

    def _check_tensor(self, x: Any) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._get_name()}: expected a minidl.Tensor as input, got {type(x).__name__}")


def _locate(error: Exception, module: Module) -> None:
    """Prefix a shape or dtype error with the path of the layer it came from, as the error leaves each module:
    ``features.3 (Conv2d): <message>``. The innermost module records itself; each enclosing module prepends
    the name under which the previous one is registered in it. A module that does not hold the previous one
    as a direct child (it called it some other way) ends the path there."""
    state = error.__dict__.setdefault("_minidl_layer", {"layer": module, "at": module, "path": "", "open": True,
                                                         "text": str(error.args[0]) if error.args else ""})
    if state["at"] is module or not state["open"]:
        return
    name = next((n for n, child in module._modules.items() if child is state["at"]), None)
    if name is None:
        state["open"] = False
        return
    state["path"] = f"{name}.{state['path']}" if state["path"] else name
    state["at"] = module
    error.args = (f"{state['path']} ({type(state['layer']).__name__}): {state['text']}", *error.args[1:])


def _factory_dtype(device: Any = None, dtype: Any = None) -> np.dtype:
    """The float dtype for a layer's new parameters (PyTorch's ``device=``/``dtype=`` factory arguments)."""
    if device is not None:
        check_device(device)
    dt = dtypes.default_float() if dtype is None else dtypes.to_numpy_dtype(dtype)
    if not is_float(dt):
        raise TypeError(f"parameters must have a floating dtype, got {dt}")
    return dt


def _empty_parameter(shape: tuple[int, ...], dtype: np.dtype) -> Parameter:
    """An uninitialised parameter, filled next by the layer's ``reset_parameters``."""
    if any(d < 0 for d in shape):  # PyTorch's RuntimeError and wording, not NumPy's
        raise ShapeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return Parameter(Tensor._wrap(xp.empty(shape, dtype=dtype)))
