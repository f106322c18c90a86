"""Pickle-free, atomic training checkpoints.

A checkpoint is one ``.npz`` file in minidl's npz + JSON format (:mod:`minidl.serialization.tree`): every
array of the saved tree is a member under a flattened key such as ``model/conv1.weight`` or
``optim/state/0/exp_avg``, and everything else (epoch, history, hyperparameters, RNG states, nesting) is one
JSON document. Reading never unpickles anything, so a checkpoint can never run code; writing is atomic
(a crash mid-write leaves either the old checkpoint or the new one, never a torn file).

:func:`save_tree`/:func:`load_tree` store any such tree; :func:`save_checkpoint`/:func:`restore_checkpoint`
build and apply the trainer's tree (model, optimizer, scheduler, RNG states, epoch, history, config). The
homework :class:`~minidl.training.Solver` uses the same two tree functions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as mrandom
from ..errors import NonFiniteWeightsWarning
from ..serialization.files import CheckpointError
from ..serialization.tree import read_tree, write_tree

__all__ = [
    "CheckpointError",
    "save_tree",
    "load_tree",
    "save_checkpoint",
    "load_checkpoint",
    "restore_checkpoint",
    "load_model_state",
    "nonfinite_parameters",
    "warn_nonfinite",
    "capture_rng_state",
    "restore_rng_state",
    "loader_generators",
]


def save_tree(path: str | os.PathLike, tree: Mapping[str, Any], kind: str = "tree") -> Path:
    """Write ``tree`` (nested dicts/lists/tuples of arrays, tensors and JSON values) atomically to ``path``.

    ``kind`` is recorded so that :func:`load_tree` can refuse, say, a Solver checkpoint given to a Trainer.
    Returns the path written. The parent directory is created if needed.
    """
    write_tree(path, tree, kind)
    return Path(path)


def load_tree(path: str | os.PathLike, kind: str | None = None) -> dict[str, Any]:
    """Read a tree written by :func:`save_tree` (never unpickling anything).

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError` for a corrupt or truncated
    file, a file that is not a minidl checkpoint, or one of another ``kind``.
    """
    return read_tree(path, kind)


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
    return {k: np.asarray(v) for k, v in state.items()}


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


def nonfinite_parameters(model: Any) -> list[str]:
    """Names of the model's floating-point parameters and buffers holding a NaN or an infinity."""
    bad = []
    for name, value in model.state_dict().items():
        arr = np.asarray(value)
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            bad.append(name)
    return bad


def warn_nonfinite(model: Any, source: str | os.PathLike, consequence: str) -> list[str]:
    """Warn (:class:`~minidl.errors.NonFiniteWeightsWarning`) when the weights just loaded from ``source`` hold
    NaN or infinite values, naming the first few and saying what follows; return their names."""
    bad = nonfinite_parameters(model)
    if bad:
        names = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        warnings.warn(f"{os.fspath(source)} holds NaN or infinite weights ({names}): {consequence}",
                      NonFiniteWeightsWarning, stacklevel=3)
    return bad


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
    """The tree of a trainer checkpoint (keys model, optim, sched, rng, epoch, history, config, classes, extra).
    The epoch (the number of finished epochs) must be an integer >= 0."""
    tree = load_tree(path, kind="trainer")
    epoch = tree.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise CheckpointError(path, f"its epoch is {epoch!r}, not a count of finished epochs (an integer >= 0)")
    return tree


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
