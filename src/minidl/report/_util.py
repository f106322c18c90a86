"""Helpers shared by the plots, the written report and the graph export.

* atomic file writes (:func:`atomic_path`, :func:`atomic_write_text`, re-exported from :mod:`minidl._atomic`,
  the one implementation): a reader, or a crash mid-write, never sees half a PNG or half a report;
* reading a series out of a run history, whatever shape the history comes in;
* formatting numbers and durations for people.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._atomic import PathLike, atomic_path, atomic_write_text

__all__ = ["PathLike", "atomic_path", "atomic_write_text", "history_keys", "get_series", "is_fraction",
           "fmt_number", "fmt_percent", "fmt_duration"]


def history_keys(history: Any) -> list[str]:
    """The series names a history offers (flat mapping, ``History.to_dict()`` form, or a ``History``)."""
    if history is None:
        return []
    if isinstance(history, Mapping):
        keys = [k for k in history if k != "metrics" and _is_series(history[k])]
        nested = history.get("metrics")
        if isinstance(nested, Mapping):
            keys += [k for k in nested if k not in keys]
        return keys
    metrics = getattr(history, "metrics", None)
    keys = ["loss"] if hasattr(history, "loss") else []
    if isinstance(metrics, Mapping):
        keys += list(metrics)
    return keys


def get_series(history: Any, key: str) -> np.ndarray | None:
    """``history[key]`` as a float64 array with ``None`` entries turned into NaN, or None if absent.

    Accepts a flat mapping ``{"loss": [...], "val_acc": [...]}``, the nested ``History.to_dict()`` form
    ``{"loss": [...], "metrics": {"val_acc": [...]}}``, or any object supporting ``key in h`` and
    ``h[key]`` (such as :class:`minidl.training.History`). A series never measured (all ``None``) is absent.
    """
    if history is None:
        return None
    raw = None
    if isinstance(history, Mapping):
        if key in history and key != "metrics":
            raw = history[key]
        elif isinstance(history.get("metrics"), Mapping) and key in history["metrics"]:
            raw = history["metrics"][key]
    else:
        try:
            raw = history[key] if key in history else None
        except TypeError:
            raw = None
    if raw is None or not _is_series(raw):
        return None
    arr = np.array([np.nan if v is None else float(v) for v in np.asarray(raw, dtype=object).reshape(-1)],
                   dtype=np.float64)
    if arr.size == 0 or np.isnan(arr).all():
        return None
    return arr


def _is_series(v: Any) -> bool:
    return isinstance(v, Sequence | np.ndarray) and not isinstance(v, str | bytes)


def is_fraction(values: np.ndarray) -> bool:
    """Whether accuracy-like values are fractions in [0, 1] (shown as percentages) rather than percents."""
    finite = values[np.isfinite(values)]
    return finite.size > 0 and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0


def fmt_number(v: Any) -> str:
    """A compact human form of a number: 4 significant digits, ints as ints, everything else via str()."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f) or math.isinf(f):
            return str(f)
        return f"{f:.4g}"
    return str(v)


def fmt_percent(v: float, fraction: bool = True) -> str:
    """``0.9123 -> '91.23%'`` (or ``91.23 -> '91.23%'`` when ``fraction`` is False)."""
    return f"{100.0 * v if fraction else v:.2f}%"


def fmt_duration(seconds: float) -> str:
    """``7.2 -> '7.2 s'``, ``125 -> '2 min 05 s'``, ``3725 -> '1 h 02 min'``."""
    if not math.isfinite(seconds) or seconds < 0:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
