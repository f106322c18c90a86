"""Pickle-free, atomic checkpoints.

A checkpoint is one ``.npz`` file written with :func:`numpy.savez`:

* every array of the saved tree is a member under a flattened key such as ``model/conv1.weight`` or
  ``optim/state/0/exp_avg``;
* everything that is not an array (epoch, history, hyperparameters, RNG states, nesting) is one JSON
  document, stored as the UTF-8 bytes of the ``__meta__.json`` member. In it each array appears as a
  reference ``{"__array__": key}``; tuples, dicts with non-string keys and NumPy scalars have tagged forms
  too, so a tree round-trips to equal Python values (``{0: ...}`` keys stay ints, tuples stay tuples).

Reading uses ``np.load(..., allow_pickle=False)``: a checkpoint can never run code. Writing goes through
:func:`minidl._atomic.atomic_open`: a temporary file in the same directory (with the umask's permissions),
fsync'ed and then renamed over the target with ``os.replace``, so a crash mid-write leaves either the old
checkpoint or the new one, never a torn file.

:func:`save_tree`/:func:`load_tree` store any such tree; :func:`save_checkpoint`/:func:`restore_checkpoint`
build and apply the trainer's tree (model, optimizer, scheduler, RNG states, epoch, history, config). The
homework :class:`~minidl.training.Solver` uses the same two tree functions.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as mrandom
from .._atomic import atomic_open
from ..tensor import Tensor, tensor

__all__ = [
    "CheckpointError",
    "save_tree",
    "load_tree",
    "save_checkpoint",
    "load_checkpoint",
    "restore_checkpoint",
    "load_model_state",
    "capture_rng_state",
    "restore_rng_state",
    "loader_generators",
]

FORMAT = "minidl-checkpoint"
VERSION = 1
META_KEY = "__meta__.json"
_TAGS = ("__array__", "__tuple__", "__dict__")


class CheckpointError(ValueError):
    """A checkpoint file is corrupt, of the wrong kind, or does not match the objects it is restored into."""

    def __init__(self, path: str | os.PathLike, message: str) -> None:
        self.path = str(path)
        super().__init__(f"checkpoint {self.path!r}: {message}")


# --------------------------------------------------------------------------------------- tree <-> arrays + JSON
def _encode(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    """JSON form of ``obj``; arrays are moved into ``arrays`` under a key derived from their path ``key``."""
    if isinstance(obj, Tensor):
        return {"__array__": _store(obj._data, key, arrays), "tensor": True}
    if isinstance(obj, np.ndarray):
        return {"__array__": _store(obj, key, arrays)}
    if isinstance(obj, np.generic):
        return {"__array__": _store(np.asarray(obj), key, arrays), "scalar": True}
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{key}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj) and not any(t in obj for t in _TAGS):
            return {k: _encode(v, f"{key}/{k}", arrays) for k, v in obj.items()}
        # non-string keys (optimizer state is keyed by parameter index) keep their type as [key, value] pairs
        return {"__dict__": [[_encode(k, f"{key}/#key", arrays), _encode(v, f"{key}/{k}", arrays)]
                             for k, v in obj.items()]}
    raise TypeError(f"checkpoint: cannot store a value of type {type(obj).__name__} at {key.lstrip('/')!r} "
                    "(only arrays, tensors, numbers, strings, None, lists, tuples and dicts)")


def _store(arr: np.ndarray, key: str, arrays: dict[str, np.ndarray]) -> str:
    if arr.dtype == object:
        raise TypeError(f"checkpoint: object array at {key.lstrip('/')!r} cannot be stored without pickle")
    name = key.lstrip("/") or "array"
    unique, n = name, 1
    while unique in arrays or unique == META_KEY:
        unique, n = f"{name}#{n}", n + 1
    arrays[unique] = arr
    return unique


def _decode(obj: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode`."""
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        arr = arrays[obj["__array__"]]
        if obj.get("tensor"):
            return tensor(arr)
        return arr[()] if obj.get("scalar") else arr
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["__dict__"]}
    return {k: _decode(v, arrays) for k, v in obj.items()}


def save_tree(path: str | os.PathLike, tree: Mapping[str, Any], kind: str = "tree") -> Path:
    """Write ``tree`` (nested dicts/lists/tuples of arrays, tensors and JSON values) atomically to ``path``.

    ``kind`` is recorded so that :func:`load_tree` can refuse, say, a Solver checkpoint given to a Trainer.
    Returns the path written. The parent directory is created if needed.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    body = {k: _encode(v, k, arrays) for k, v in tree.items()}
    meta = json.dumps({"format": FORMAT, "version": VERSION, "kind": kind, "tree": body})
    arrays[META_KEY] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def load_tree(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Read a tree written by :func:`save_tree` (never unpickling anything).

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` for a corrupt or truncated
    file, a file that is not a minidl checkpoint, or one of another ``kind``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            if META_KEY not in z.files:
                raise CheckpointError(path, f"not a minidl checkpoint (no {META_KEY} member)")
            meta = json.loads(bytes(z[META_KEY]).decode("utf-8"))
            arrays = {name: z[name] for name in z.files if name != META_KEY}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, UnicodeDecodeError) as e:
        raise CheckpointError(path, f"corrupt or truncated file ({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(path, "not a minidl checkpoint (bad format marker)")
    if meta.get("version") != VERSION:
        raise CheckpointError(path, f"unsupported checkpoint version {meta.get('version')!r} (expected {VERSION})")
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(path, f"expected a {kind!r} checkpoint, found a {meta.get('kind')!r} checkpoint")
    try:
        return _decode(meta["tree"], arrays)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"inconsistent contents ({type(e).__name__}: {e})") from e


# --------------------------------------------------------------------------------------- RNG states
def loader_generators(loader: Any) -> list[np.random.Generator]:
    """The NumPy generators a data loader shuffles with (``loader.generator``, ``loader.sampler.generator``)."""
    found: list[np.random.Generator] = []
    for owner in (loader, getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None),
                  getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        g = getattr(owner, "generator", None) if owner is not None else None
        if isinstance(g, np.random.Generator) and all(g is not h for h in found):
            found.append(g)
    return found


def _loader_state(loader: Any) -> dict[str, Any]:
    """A loader's own resume state when it has one (minidl's DataLoader), else its generators' states."""
    if callable(getattr(loader, "state_dict", None)) and callable(getattr(loader, "load_state_dict", None)):
        return {"loader": loader.state_dict()}
    return {"generators": [g.bit_generator.state for g in loader_generators(loader)]}


def capture_rng_state(loaders: Iterable[Any] = ()) -> dict[str, Any]:
    """Every random state a training run draws from: minidl's global generator (init, dropout, default
    shuffling), NumPy's legacy global state, and each loader's shuffle state (its ``state_dict()``, or the
    states of its ``numpy.random.Generator`` s for loaders without one)."""
    return {
        "minidl": mrandom.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - user code may still draw from it
        "loaders": [_loader_state(ld) for ld in loaders],
    }


def restore_rng_state(state: Mapping[str, Any], loaders: Iterable[Any] = (), path: str | os.PathLike = "?") -> None:
    """Inverse of :func:`capture_rng_state`; the loaders must be given in the same order (or none at all, to
    restore only the global generators, e.g. when loading a model for inference)."""
    loaders = list(loaders)
    saved = state.get("loaders", []) if loaders else []
    if len(saved) != len(loaders):
        raise CheckpointError(path, f"RNG state for {len(saved)} loader(s) saved, {len(loaders)} given")
    for i, (ld, s) in enumerate(zip(loaders, saved, strict=True)):
        kind = "loader" if "loader" in s else "generators"
        if kind != next(iter(_loader_state(ld))):
            raise CheckpointError(path, f"loader {i} ({type(ld).__name__}) does not match the saved loader state")
        if kind == "generators" and len(s[kind]) != len(loader_generators(ld)):
            raise CheckpointError(path, f"loader {i} has {len(loader_generators(ld))} generator(s), "
                                        f"the checkpoint {len(s[kind])}")
    try:
        mrandom.set_rng_state(state["minidl"])
        np.random.set_state(state["numpy"])  # noqa: NPY002
        for ld, s in zip(loaders, saved, strict=True):
            if "loader" in s:
                ld.load_state_dict(s["loader"])
            else:
                for g, gs in zip(loader_generators(ld), s["generators"], strict=True):
                    g.bit_generator.state = gs
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(path, f"bad RNG or loader state ({type(e).__name__}: {e})") from e


# --------------------------------------------------------------------------------------- trainer checkpoints
def _arrays_of(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A state_dict's values as arrays (they may be tensors or arrays)."""
    return {k: (v._data if isinstance(v, Tensor) else np.asarray(v)) for k, v in state.items()}


def load_model_state(model: Any, state: Mapping[str, Any], path: str | os.PathLike = "?") -> None:
    """``model.load_state_dict(state)`` after checking keys and shapes, with a clear error naming ``path``."""
    own = _arrays_of(model.state_dict())
    given = _arrays_of(state)
    missing = [k for k in own if k not in given]
    unexpected = [k for k in given if k not in own]
    shapes = [f"{k}: checkpoint {given[k].shape} vs model {own[k].shape}"
              for k in own if k in given and given[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        if shapes:
            parts.append("shape mismatch " + "; ".join(shapes))
        raise CheckpointError(path, f"model state does not match {type(model).__name__}: " + ", ".join(parts))
    _load_into(model, dict(state), path, "model")


def _load_into(obj: Any, state: Any, path: str | os.PathLike, what: str) -> None:
    try:
        obj.load_state_dict(state)
    except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as e:
        raise CheckpointError(path, f"cannot load the {what} state into {type(obj).__name__}: {e}") from e


def _class_name(obj: Any) -> str | None:
    return None if obj is None else type(obj).__name__


def save_checkpoint(path: str | os.PathLike, model: Any = None, optimizer: Any = None, scheduler: Any = None, *,
                    epoch: int = 0, history: Any = None, config: Mapping[str, Any] | None = None,
                    loaders: Iterable[Any] = (), extra: Mapping[str, Any] | None = None) -> Path:
    """Atomically write a training checkpoint to ``path``.

    Stores the model's ``state_dict`` (keys ``model/<name>``), the optimizer's and scheduler's state
    (``optim/...``, ``sched/...``), every RNG state (see :func:`capture_rng_state`), the number of completed
    ``epoch``\\ s, the ``history`` (a :class:`~minidl.training.History` or a dict), a JSON-able ``config`` and
    any ``extra`` tree (the trainer keeps its best weights and callback states there).
    """
    if history is not None and hasattr(history, "to_dict"):
        history = history.to_dict()
    tree = {
        "model": None if model is None else dict(model.state_dict()),
        "optim": None if optimizer is None else optimizer.state_dict(),
        "sched": None if scheduler is None else scheduler.state_dict(),
        "rng": capture_rng_state(loaders),
        "epoch": int(epoch),
        "history": history,
        "config": dict(config or {}),
        "classes": {"model": _class_name(model), "optimizer": _class_name(optimizer),
                    "scheduler": _class_name(scheduler)},
        "extra": dict(extra or {}),
    }
    return save_tree(path, tree, kind="trainer")


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The tree of a trainer checkpoint (keys model, optim, sched, rng, epoch, history, config, classes, extra)."""
    return load_tree(path, kind="trainer")


def restore_checkpoint(path: str | os.PathLike, model: Any = None, optimizer: Any = None, scheduler: Any = None,
                       loaders: Iterable[Any] = (), restore_rng: bool = True) -> dict[str, Any]:
    """Load ``path`` into the given objects (those passed as ``None`` are skipped) and return the tree.

    The objects must be of the same kinds as the saved ones: a model with the same state keys and shapes,
    an optimizer and scheduler of the same classes. Any mismatch raises :class:`CheckpointError`.
    """
    tree = load_checkpoint(path)
    classes = tree.get("classes", {})
    for what, obj, key in (("optimizer", optimizer, "optim"), ("scheduler", scheduler, "sched")):
        if obj is None:
            continue
        saved = classes.get(what)
        if tree.get(key) is None:
            raise CheckpointError(path, f"no {what} state saved, but a {type(obj).__name__} was given")
        if saved != type(obj).__name__:
            raise CheckpointError(path, f"{what} class mismatch: saved {saved}, given {type(obj).__name__}")
    if model is not None:
        if tree.get("model") is None:
            raise CheckpointError(path, "no model state saved")
        load_model_state(model, tree["model"], path)
    if optimizer is not None:
        _load_into(optimizer, tree["optim"], path, "optimizer")
    if scheduler is not None:
        _load_into(scheduler, tree["sched"], path, "scheduler")
    if restore_rng:
        restore_rng_state(tree["rng"], loaders, path)
    return tree
