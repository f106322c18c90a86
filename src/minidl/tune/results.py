"""A sweep's results, read from its trials' run directories: the table (best first), its CSV, its printed
form, and the best config as a ready ``minidl train`` TOML file.

The run directories are the source of truth: each trial's ``trial.json`` (its values and planned config),
``history.json`` (its epochs) and ``results.json`` (final and test metrics, once the run is complete).
Ray only says which trials exist and which failed.

A row holds ``rank`` (1 = best; none for trials without the metric), ``trial``, ``status`` (finished,
stopped early by the scheduler, error, or pending in an interrupted sweep), every tuned hyperparameter as the
trial used it, ``epochs`` trained, ``final_<m>`` and ``best_<m>`` for each per-epoch metric measured,
``best_epoch`` (of the sweep's metric), ``test_acc``/``test_loss``, ``time_s`` (training time), the run
directory and its report, and ``error``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_text
from .._version import __version__
from ..report._util import fmt_number, fmt_percent
from ..runs import artifacts as A
from ..runs.config import to_toml
from ..training import History
from .spec import METRICS, MODEL_ARG, SweepSpec
from .trial import TRIAL_JSON, TRIALS

__all__ = ["TrialRecord", "load_trial", "read_ledger", "ENDED_JSON", "table_rows", "write_csv", "format_table",
           "best_config_toml", "STATUSES"]

ENDED_JSON = "ended.json"  # the driver's ledger of the trials Ray ended (see minidl.tune.progress)
#: trial status -> how the report words it
STATUSES = {"finished": "finished", "stopped": "stopped early", "error": "error", "pending": "pending"}


@dataclass
class TrialRecord:
    """One trial as its run directory shows it."""

    trial_id: str
    run_dir: Path
    status: str
    params: dict[str, Any]
    config: dict[str, Any] | None = None
    history: History | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def planned_epochs(self) -> int | None:
        return None if self.config is None else int(self.config["epochs"])


def load_trial(sweep_dir: Path, trial_id: str, ray_params: Mapping[str, Any], error: str | None,
               ended: bool) -> TrialRecord:
    """The record of trial ``trial_id``: ``ray_params`` are the values Ray drew (used until the trial's own
    ``trial.json`` says how they resolved), ``error`` Ray's error message if the trial failed, and ``ended``
    whether Ray ended it (an incomplete run that did not end is pending: an interrupted sweep resumes it;
    one that ended was stopped early by the scheduler)."""
    run_dir = sweep_dir / TRIALS / trial_id
    rec = TrialRecord(trial_id, run_dir, "pending", dict(ray_params), error=error)
    info = _read(run_dir / TRIAL_JSON)
    if isinstance(info, dict) and isinstance(info.get("config"), dict):
        rec.config = info["config"]
        rec.params = {k: _param(rec.config, k, v) for k, v in {**ray_params, **info.get("params", {})}.items()}
    history = _read(run_dir / A.HISTORY)
    if isinstance(history, dict):
        rec.history = History.from_dict(history)
    results = _read(run_dir / A.RESULTS)
    if isinstance(results, dict):
        rec.metrics = dict(results.get("metrics", {}))
    if error is not None:
        rec.status = "error"
    elif rec.metrics and (run_dir / "report.html").is_file():
        planned = rec.planned_epochs
        rec.status = "stopped" if planned is not None and rec.metrics.get("epochs", planned) < planned else "finished"
    elif ended:
        rec.status = "stopped"  # ended by the scheduler before its run completed (the driver finalises it)
    return rec


def read_ledger(sweep_dir: Path) -> dict[str, str]:
    """``{trial id: "complete" | "error"}`` of the trials that ended, in this session or earlier ones."""
    data = _read(sweep_dir / ENDED_JSON)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _read(path: Path) -> Any:
    try:
        return A.read_json(path)
    except (OSError, ValueError):
        return None


def _param(config: Mapping[str, Any], key: str, drawn: Any) -> Any:
    """The value a trial used for hyperparameter ``key`` (None when it did not apply, e.g. momentum for Adam)."""
    if key.startswith(MODEL_ARG):
        return config.get("model_args", {}).get(key[len(MODEL_ARG):], drawn)
    return config.get(key, drawn)


def _series(history: History | None, key: str) -> list[float]:
    if history is None:
        return []
    return [float(v) for v in history.metrics.get(key, []) if v is not None and math.isfinite(float(v))]


def table_rows(spec: SweepSpec, records: Sequence[TrialRecord], link_base: Path | None = None
               ) -> list[dict[str, Any]]:
    """The results table: one row per trial, best first (see the module docstring for the columns).

    ``rank_by`` final ranks by the metric's last epoch, best by its best epoch; ties keep the trial order.
    Paths are relative to ``link_base`` when given.
    """
    measured = [m for m in METRICS if any(_series(r.history, m) for r in records)]
    sign = 1.0 if spec.mode == "max" else -1.0
    rows = []
    for r in records:
        row: dict[str, Any] = {"rank": None, "trial": r.trial_id, "status": STATUSES[r.status]}
        row.update({k: r.params.get(k) for k in spec.tuned})
        row["epochs"] = r.history.epochs if r.history is not None else 0
        for m in [spec.metric] + [m for m in measured if m != spec.metric]:
            values = _series(r.history, m)
            pick = max if m.endswith("acc") else min
            row[f"final_{m}"] = values[-1] if values else None
            row[f"best_{m}"] = pick(values) if values else None
            if m == spec.metric:
                row["best_epoch"] = values.index(pick(values)) + 1 if values else None
        for k in ("test_acc", "test_loss", "time_s"):
            row[k] = r.metrics.get(k)
        run_dir = r.run_dir if link_base is None else _relative(r.run_dir, link_base)
        row["run_dir"] = str(run_dir)
        row["report"] = str(Path(run_dir) / "report.html") if (r.run_dir / "report.html").is_file() else None
        row["error"] = r.error
        rows.append(row)
    key = f"{spec.rank_by}_{spec.metric}"
    ranked = sorted((row for row in rows if row[key] is not None), key=lambda row: -sign * row[key])
    for i, row in enumerate(ranked, start=1):
        row["rank"] = i
    return ranked + [row for row in rows if row[key] is None]


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple | dict):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """The table as CSV (lists as JSON text, missing values empty), written atomically."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(c)) for c in columns])
    return atomic_write_text(path, buf.getvalue())


def fmt_value(key: str, v: Any) -> str:
    """A table cell for people: accuracies as percentages, numbers to 4 digits, lists as written."""
    if v is None:
        return "-"
    if isinstance(v, float) and key.endswith("acc"):
        return fmt_percent(v)
    if isinstance(v, list | tuple | dict):
        return json.dumps(v)
    return fmt_number(v)


def display_columns(spec: SweepSpec) -> list[str]:
    """The columns printed and shown in the report (the CSV has them all)."""
    m = spec.metric
    return ["rank", "trial", "status", *spec.tuned, "epochs", f"final_{m}", f"best_{m}", "test_acc"]


def format_table(spec: SweepSpec, rows: Sequence[Mapping[str, Any]]) -> str:
    """The table as aligned text, one line per trial."""
    columns = display_columns(spec)
    cells = [[fmt_value(c, row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def best_config_toml(spec: SweepSpec, row: Mapping[str, Any], record: TrialRecord, sweep_dir: Path,
                     n_trials: int) -> str:
    """The best trial's config as a ``minidl train`` TOML file (its planned epochs; no ``out``)."""
    m = f"{spec.rank_by}_{spec.metric}"
    lines = [f"minidl {__version__} sweep {spec.name!r}: the best of {n_trials} trials by {m}",
             f"trial {record.trial_id}: {spec.metric} {fmt_value(spec.metric, row.get(m))}"
             + (f" (stopped early by the scheduler after {row['epochs']} epochs)" if record.status == "stopped"
                else ""),
             f"run directory: {record.run_dir}",
             f"train it with: minidl train --config {sweep_dir / 'best_config.toml'} --out runs/best"]
    if spec.scheduler.kind == "pbt":
        lines.append("PBT changed this trial's values while it trained (and copied other trials' weights); these "
                     "are its last values, not a recipe that retrains to the same model")
    return to_toml({k: v for k, v in (record.config or {}).items() if k != "out"}, header="\n".join(lines))
