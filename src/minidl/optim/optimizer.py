"""The :class:`Optimizer` base class shared by every optimizer in :mod:`minidl.optim`.

An optimizer holds *parameter groups* (dicts with ``'params'`` and the group's options, such as ``'lr'``,
which schedulers change between steps) and a per-parameter ``state`` dict (momentum buffers, moment
estimates, step counters). ``step()`` visits every parameter that has a gradient and lets the subclass
update ``p.data`` in place from ``p.grad.data``.

Subclasses define:

* ``_check_options(group)``: raise :class:`ValueError` for invalid hyperparameters (run on the defaults,
  on every group added and on every group loaded from a state dict);
* ``_state_keys(group)``: the names of the per-parameter state entries (``'step'`` is a count, the others
  are arrays shaped like the parameter, zero at the start), plus ``_optional_state_keys`` for entries that
  appear later (SGD's momentum buffer) and ``_scalar_state_keys`` for 0-d entries (NAdam's ``mu_product``,
  kept like PyTorch's in the scalar dtype, see :func:`scalar_dtype`); ``_init_state`` builds the fresh state;
* ``_update(p, grad, state, group)``: the in-place update rule on arrays.

The ``state_dict()`` format mirrors PyTorch's, ``{'state': {index: {name: value}}, 'param_groups':
[{option: value, ..., 'params': [indices]}]}``, and holds only NumPy arrays, Python numbers, strings,
bools, ``None``, lists and dicts, so a checkpoint can store it without pickle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from numbers import Real
from typing import Any

import numpy as np

from ..backend import is_float, xp
from ..tensor import Tensor, clear_grads, enable_grad

__all__ = ["Optimizer", "ParamState", "ParamsT", "scalar_dtype", "scaled_product", "lerp_"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class ParamState(MutableMapping):
    """``optimizer.state``: one dict per parameter, keyed by the parameter object itself.

    Lookup is by identity, so it works for any tensor subclass whatever its ``__eq__``/``__hash__``.
    Like PyTorch's ``defaultdict(dict)``, reading a missing parameter creates its empty dict.
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[Tensor, dict[str, Any]]] = {}

    def __getitem__(self, param: Tensor) -> dict[str, Any]:
        item = self._items.get(id(param))
        if item is None:
            item = self._items[id(param)] = (param, {})
        return item[1]

    def get(self, param: Tensor, default: Any = None) -> Any:
        item = self._items.get(id(param))
        return default if item is None else item[1]

    def __setitem__(self, param: Tensor, value: dict[str, Any]) -> None:
        self._items[id(param)] = (param, value)

    def __delitem__(self, param: Tensor) -> None:
        del self._items[id(param)]

    def __contains__(self, param: object) -> bool:
        return id(param) in self._items

    def __iter__(self) -> Iterator[Tensor]:
        return (param for param, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"ParamState({len(self)} parameters)"


def check_nonnegative(owner: str, group: dict[str, Any], *keys: str) -> None:
    """Raise ValueError unless every ``group[key]`` is a real number >= 0 (NaN fails too)."""
    for key in keys:
        value = group[key]
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{owner}: {key} must be a real number, got {type(value).__name__}")
        if not float(value) >= 0:
            raise ValueError(f"{owner}: invalid {key} value: {value!r} (must be >= 0)")


def scalar_dtype() -> np.dtype:
    """The dtype of PyTorch's 0-d optimizer state (``step``, NAdam's ``mu_product``, ASGD's ``eta``...):
    float64 when that is the default dtype, else float32. Values stored in it are rounded to it, as there."""
    from ..dtypes import default_float

    return np.dtype(np.float64) if default_float() == np.float64 else np.dtype(np.float32)


def scaled_product(a: np.ndarray, c: float, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(c·a)·b into ``out``: the term of PyTorch's ``x.addcmul_(a, b, value=c)``, in its order of operations."""
    xp.multiply(a, c, out=out)
    out *= b
    return out


def lerp_(a: np.ndarray, b: np.ndarray, w: float, out: np.ndarray) -> np.ndarray:
    """a ← a + w·(b − a) in place (``out`` is scratch), with PyTorch's two formulas: that one for |w| < ½,
    b − (b − a)·(1 − w) otherwise, so that results agree with ``a.lerp_(b, w)`` to the last bit."""
    xp.subtract(b, a, out=out)
    if abs(w) < 0.5:
        out *= w
        a += out
    else:
        out *= 1 - w
        xp.subtract(b, out, out=a)
    return a


def _plain(value: Any, where: str) -> Any:
    """A pickle-free copy of ``value``: arrays as tensors (copies; PyTorch's state dicts hold tensors), NumPy
    scalars as Python numbers, containers kept."""
    if isinstance(value, np.generic):  # before the float test: np.float64 subclasses float
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value.copy())
    if isinstance(value, list | tuple):
        return type(value)(_plain(v, where) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v, where) for k, v in value.items()}
    raise TypeError(f"{where}: a state_dict can't hold a value of type {type(value).__name__}")


def _state_index(key: Any, owner: str) -> int:
    """Saved parameter index; string digits are accepted because JSON turns int keys into strings."""
    if isinstance(key, int | np.integer) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    raise ValueError(f"{owner}.load_state_dict: state keys must be parameter indices, got {key!r}")


class Optimizer:
    """Base class of all optimizers (PyTorch's ``torch.optim.Optimizer`` API).

    ``params`` is an iterable of tensors, or of dicts ``{'params': [...], option: value}`` defining
    parameter groups whose options override ``defaults``.
    """

    #: state entries that are created after the first step rather than at initialisation
    _optional_state_keys: tuple[str, ...] = ()
    #: state entries that are 0-d arrays in the scalar dtype rather than arrays shaped like the parameter
    _scalar_state_keys: tuple[str, ...] = ()
    #: build every parameter's state when its group is added (Adagrad does, like PyTorch)
    _eager_state: bool = False

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._check_options(self.defaults)
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params should be an iterable of Tensors or dicts, but got a Tensor; "
                "wrap it in a list"
            )
        if isinstance(params, dict):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, got one dict; "
                            "wrap it in a list")
        self.state = ParamState()
        self.param_groups: list[dict[str, Any]] = []
        self._buffers: dict[tuple[str, int], np.ndarray] = {}
        groups = self._ordered(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _ordered(self, params: Iterable[Any]) -> list[Any]:
        if isinstance(params, set | frozenset):
            raise TypeError(
                f"{self._name}: parameters must be given in an ordered collection (a set's order changes "
                "between runs); use a list"
            )
        return list(params)

    # ------------------------------------------------------------------------------- hooks for subclasses
    def _check_options(self, group: dict[str, Any]) -> None:
        """Raise ValueError for invalid hyperparameters in ``group``."""
        if "lr" in group:
            check_nonnegative(self._name, group, "lr")

    def _state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        """Names of the state entries every parameter of ``group`` gets before its first update."""
        return ()

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """Fresh state: ``step = 0`` and zero arrays shaped and typed like the parameter."""
        return {k: 0 if k == "step" else xp.zeros_like(p._data) for k in self._state_keys(group)}

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update the parameter array ``p`` in place from ``grad``."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------- helpers for subclasses
    def _scratch(self, like: np.ndarray, slot: int) -> np.ndarray:
        """A reusable work array shaped like ``like`` (one flat buffer per dtype and slot).

        Updates run parameter after parameter, so a buffer as large as the largest parameter serves all
        of them; this avoids allocating (and page-faulting) fresh temporaries at every step.
        """
        key = (like.dtype.str, slot)
        buf = self._buffers.get(key)
        if buf is None or buf.size < like.size:
            buf = self._buffers[key] = xp.empty(like.size, dtype=like.dtype)
        return buf[: like.size].reshape(like.shape)

    def _effective_grad(self, p: np.ndarray, grad: np.ndarray, weight_decay: float,
                        maximize: bool) -> np.ndarray:
        """g = ±grad + weight_decay·p (minus when maximizing), in scratch slot 0.

        Returns ``grad`` itself when neither option applies; ``p.grad`` is never modified.
        """
        if weight_decay == 0:
            return xp.negative(grad, out=self._scratch(p, 0)) if maximize else grad
        g = xp.multiply(p, weight_decay, out=self._scratch(p, 0))
        if maximize:
            xp.subtract(g, grad, out=g)
        else:
            xp.add(g, grad, out=g)
        return g

    # ------------------------------------------------------------------------------- public API
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options; options it omits take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        else:
            params = self._ordered(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: can only optimize Tensors, but parameter {i} is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: can't optimize a non-leaf Tensor (parameter {i})")
            if not is_float(p._data.dtype):
                raise TypeError(f"{self._name}: can only optimize floating tensors, parameter {i} has "
                                f"dtype {p.dtype}")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self._name}: a parameter group contains the same parameter twice")
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if not taken.isdisjoint(ids):
            raise ValueError(f"{self._name}: some parameters appear in more than one parameter group")
        merged = {**self.defaults, **param_group, "params": params}
        self._check_options(merged)
        # the caller's dict becomes the group (as in PyTorch), so references to it stay live
        param_group.update(merged)
        self.param_groups.append(param_group)
        if self._eager_state:
            for p in params:
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, param_group))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: drop it (default) or fill it with zeros in place."""
        clear_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re-evaluating the loss) runs first.

        Returns the closure's loss, or ``None`` without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad._data
                if grad.shape != p._data.shape:
                    raise ValueError(f"{self._name}.step: gradient has shape {grad.shape}, but its parameter "
                                     f"has shape {p._data.shape}")
                if grad.dtype != p._data.dtype:
                    raise TypeError(f"{self._name}.step: gradient has dtype {grad.dtype}, but its parameter "
                                    f"has dtype {p._data.dtype}")
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, group))
                self._update(p._data, grad, state, group)
        return loss

    # ------------------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state (copies; buffers as tensors), with parameters replaced by their indices.

        Parameters are numbered in group order, as in PyTorch; parameters without state are left out.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _plain(v, f"{self._name}.state_dict") for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {
            index[id(p)]: {k: _plain(v, f"{self._name}.state_dict") for k, v in s.items()}
            for p, s in self.state.items()
            if s and id(p) in index
        }
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`: group options and per-parameter state (arrays are copied and cast
        to each parameter's dtype). Everything is validated before anything changes."""
        owner = self._name
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{owner}.load_state_dict: expected a dict with keys 'param_groups' and "
                             f"'state', got {got}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list | tuple) or not isinstance(saved_state, dict):
            raise ValueError(f"{owner}.load_state_dict: 'param_groups' must be a list and 'state' a dict")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                             f"group(s), but the optimizer has {len(self.param_groups)}")
        by_index: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), list | tuple):
                raise ValueError(f"{owner}.load_state_dict: parameter group {i} must be a dict with a "
                                 "'params' list")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{owner}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                                 f"parameter(s) in the state dict, but {len(group['params'])} in the "
                                 "optimizer")
            new = {**self.defaults}
            for k, v in saved.items():
                if k == "params":
                    continue
                # tuples (Adam's betas) travel as lists in plain data
                new[k] = tuple(v) if isinstance(self.defaults.get(k), tuple) and isinstance(v, list) else v
            new["params"] = group["params"]
            self._check_options(new)
            new_groups.append(new)
            for idx, p in zip(saved["params"], group["params"], strict=True):
                by_index[_state_index(idx, owner)] = (p, new)
        new_state: dict[int, tuple[Tensor, dict[str, Any]]] = {}
        for key, saved in saved_state.items():
            idx = _state_index(key, owner)
            if idx not in by_index:
                raise ValueError(f"{owner}.load_state_dict: state for parameter index {idx}, which no "
                                 "parameter group lists")
            p, group = by_index[idx]
            new_state[id(p)] = (p, self._load_param_state(saved, p, group, idx))
        for group, new in zip(self.param_groups, new_groups, strict=True):
            group.clear()
            group.update(new)
        self.state = ParamState()
        for p, s in new_state.values():
            self.state[p] = s
        if self._eager_state:
            for group in self.param_groups:
                for p in group["params"]:
                    if not self.state[p]:
                        self.state[p].update(self._init_state(p, group))

    def _load_param_state(self, saved: Any, p: Tensor, group: dict[str, Any], idx: int) -> dict[str, Any]:
        """Validate one parameter's saved state and return a copy in the parameter's dtype."""
        where = f"{self._name}.load_state_dict: state of parameter {idx}"
        if not isinstance(saved, dict):
            raise ValueError(f"{where} must be a dict, got {type(saved).__name__}")
        if not saved:
            return {}
        required = self._state_keys(group)
        missing = [k for k in required if k not in saved]
        unknown = [k for k in saved if k not in required and k not in self._optional_state_keys]
        if missing or unknown:
            raise ValueError(f"{where} has entries {sorted(saved)}; expected {sorted(required)}"
                             + (f" (missing {missing})" if missing else "")
                             + (f" (unknown {unknown})" if unknown else ""))
        out: dict[str, Any] = {}
        for k, v in saved.items():
            if isinstance(v, Tensor):  # a state dict read from a PyTorch file holds tensors
                v = v._data
            if k == "step":
                if isinstance(v, np.generic | np.ndarray) and np.size(v) == 1:
                    v = v.item()  # PyTorch keeps the step as a 0-d float tensor
                if isinstance(v, float) and v.is_integer():
                    v = int(v)
                if isinstance(v, bool) or not isinstance(v, Real) or not float(v) >= 0:
                    raise ValueError(f"{where}: 'step' must be a number >= 0, got {v!r}")
                out[k] = v
                continue
            if k in self._scalar_state_keys:
                if np.size(v) != 1 or isinstance(v, bool) or not isinstance(v, Real | np.ndarray | np.generic):
                    raise ValueError(f"{where}: {k!r} must be a number, got {v!r}")
                out[k] = xp.array(v, dtype=scalar_dtype(), copy=True).reshape(())
                continue
            if not isinstance(v, np.ndarray):
                raise ValueError(f"{where}: {k!r} must be an array, got {type(v).__name__}")
            if v.shape != p._data.shape:
                raise ValueError(f"{where}: {k!r} has shape {v.shape}, but the parameter has shape "
                                 f"{p._data.shape}")
            out[k] = xp.array(v, dtype=p._data.dtype, copy=True)
        return out

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        lines.append(")")
        return "\n".join(lines)
