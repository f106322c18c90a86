"""``History``: what a training run measured, per iteration and per epoch, with a JSON round-trip."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_text

__all__ = ["History", "resolve_mode"]

#: The per-epoch series every run records (others, e.g. from callbacks, may be added).
EPOCH_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "time")


def resolve_mode(monitor: str, mode: str) -> str:
    """``'min'`` or ``'max'``; ``'auto'`` means max for accuracies and min for everything else (losses)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def is_improvement(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta`` in direction ``mode``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


class History:
    """Per-iteration losses and per-epoch metrics of a run, plus the best epoch by a monitored metric.

    * ``loss``: the training loss of every iteration (batch);
    * ``metrics[key]``: one value per epoch for ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``,
      ``lr`` (the learning rate used in that epoch) and ``time`` (seconds); ``None`` where not measured
      (no validation set, or no accuracy for a regression loss). ``history['val_acc']`` and
      ``history.val_acc`` are shortcuts;
    * ``best_epoch`` (0-based) and ``best_value`` of ``monitor`` in direction ``mode``.
    """

    def __init__(self, monitor: str = "val_acc", mode: str = "auto") -> None:
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.loss: list[float] = []
        self.metrics: dict[str, list[Any]] = {k: [] for k in EPOCH_KEYS}
        self.best_epoch: int | None = None
        self.best_value: float | None = None

    # ------------------------------------------------------------------------------------------ recording
    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return max((len(v) for v in self.metrics.values()), default=0)

    def log_batch(self, loss: float) -> None:
        self.loss.append(float(loss))

    def log_epoch(self, values: Mapping[str, Any]) -> bool:
        """Append one epoch's values (missing series get ``None``); return True if the monitor improved."""
        n = self.epochs
        for k in values:
            if k not in self.metrics:
                self.metrics[k] = [None] * n
        for k, series in self.metrics.items():
            v = values.get(k)
            series.append(None if v is None else float(v))
        value = values.get(self.monitor)
        if value is not None and is_improvement(float(value), self.best_value, self.mode):
            self.best_value, self.best_epoch = float(value), n
            return True
        return False

    # ------------------------------------------------------------------------------------------ access
    def __getitem__(self, key: str) -> list[Any]:
        if key == "loss":
            return self.loss
        if key not in self.metrics:
            raise KeyError(f"History has no series {key!r}; available: {['loss', *self.metrics]}")
        return self.metrics[key]

    def __contains__(self, key: object) -> bool:
        return key == "loss" or key in self.metrics

    def __getattr__(self, name: str) -> list[Any]:
        metrics = self.__dict__.get("metrics")
        if metrics is not None and name in metrics:
            return metrics[name]
        raise AttributeError(f"'History' object has no attribute {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        best = "" if self.best_epoch is None else f", best {self.monitor}={self.best_value:.4g} @ {self.best_epoch}"
        return f"History({self.epochs} epochs, {len(self.loss)} iterations{best})"

    # ------------------------------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {
            "monitor": self.monitor, "mode": self.mode, "loss": list(self.loss),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "best_epoch": self.best_epoch, "best_value": self.best_value,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> History:
        try:
            h = cls(d["monitor"], d["mode"])
            h.loss = [float(x) for x in d["loss"]]
            h.metrics = {str(k): [None if x is None else float(x) for x in v] for k, v in d["metrics"].items()}
            h.best_epoch = d["best_epoch"]
            h.best_value = d["best_value"]
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"History.from_dict: not a history dict ({type(e).__name__}: {e})") from e
        return h

    def to_json(self, path: str | os.PathLike | None = None, indent: int | None = None) -> str:
        """The history as JSON text; also written (atomically) to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            atomic_write_text(path, text)
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> History:
        """Rebuild from JSON text or from a file path written by :meth:`to_json`."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))
