"""The files of a run directory, their names, and how they are written and read back.

=====================  ==========================================================================
``config.json``        the resolved configuration (every option, as used)
``config.toml``        the same as TOML, reusable with ``minidl train --config`` (without ``out``)
``run.json``           derived facts: input shape, class names, normalisation, task, parameters
``summary.txt``        the model summary (:func:`minidl.summary`)
``metrics.jsonl``      one JSON object per epoch: train/val loss and accuracy, learning rate, time
``iterations.csv``     ``iteration,epoch,loss``: the training loss of every iteration
``history.json``       the trainer's :class:`~minidl.training.History` (what ``compare`` reads)
``checkpoint.npz``     the trainer checkpoint (rewritten after every epoch and on Ctrl-C)
``model.npz``          the final weights: the ``state_dict`` as arrays (``np.load`` gives them by name)
``results.json``       final, best and test metrics and the per-class accuracy
``*.png``              figures; ``report.md`` and ``report.html``, the written report
=====================  ==========================================================================

Every file is written atomically (a temporary file renamed into place), so a run interrupted at any
moment leaves whole files. Nothing is pickled: ``.npz`` files load with ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_text
from ..training import History, load_tree, save_tree
from ..training.callbacks import snapshot_state

__all__ = [
    "CONFIG_JSON", "CONFIG_TOML", "RUN_JSON", "SUMMARY_TXT", "METRICS", "ITERATIONS", "HISTORY", "CHECKPOINT",
    "MODEL", "RESULTS", "write_json", "read_json", "write_metrics", "save_model", "load_model_weights",
    "read_history", "finite_or_none",
]  # fmt: skip

CONFIG_JSON = "config.json"
CONFIG_TOML = "config.toml"
RUN_JSON = "run.json"
SUMMARY_TXT = "summary.txt"
METRICS = "metrics.jsonl"
ITERATIONS = "iterations.csv"
HISTORY = "history.json"
CHECKPOINT = "checkpoint.npz"
MODEL = "model.npz"
RESULTS = "results.json"
_MODEL_KIND = "model"


def finite_or_none(v: Any) -> Any:
    """JSON has no NaN or infinity: such floats become None (null)."""
    if isinstance(v, float | np.floating):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, Mapping):
        return {k: finite_or_none(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [finite_or_none(x) for x in v]
    return v


def write_json(path: Path, obj: Any) -> Path:
    """``obj`` as indented, strictly valid JSON (non-finite floats as null), written atomically."""
    return atomic_write_text(path, json.dumps(finite_or_none(obj), indent=2, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_metrics(run_dir: Path, history: History, batches_per_epoch: int | None) -> None:
    """``metrics.jsonl`` (one row per epoch), ``iterations.csv`` (one row per iteration), ``history.json``."""
    rows = []
    for e in range(history.epochs):
        row: dict[str, Any] = {"epoch": e + 1}
        row.update({k: v[e] if e < len(v) else None for k, v in history.metrics.items()})
        rows.append(json.dumps(finite_or_none(row), allow_nan=False))
    atomic_write_text(run_dir / METRICS, "".join(r + "\n" for r in rows))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["iteration", "epoch", "loss"])
    per_epoch = batches_per_epoch or max(1, len(history.loss))
    for i, loss in enumerate(history.loss):
        writer.writerow([i + 1, i // per_epoch + 1, repr(float(loss))])
    atomic_write_text(run_dir / ITERATIONS, buf.getvalue())
    write_json(run_dir / HISTORY, history.to_dict())


def read_history(run_dir: Path) -> History:
    return History.from_dict(read_json(Path(run_dir) / HISTORY))


def save_model(path: Path, model: Any) -> Path:
    """The model's ``state_dict`` as arrays under their names, through the checkpoint module's atomic,
    pickle-free writer (``np.load(path)`` lists the names; :func:`load_model_weights` reads it back)."""
    return save_tree(path, snapshot_state(model), kind=_MODEL_KIND)


def load_model_weights(path: Path) -> dict[str, np.ndarray]:
    """The ``state_dict`` saved by :func:`save_model` (raises ``CheckpointError`` for a bad file)."""
    return load_tree(path, kind=_MODEL_KIND)
