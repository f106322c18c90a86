"""The driver's view of the trials as they end (a Ray Tune callback): one line per trial (which finished,
was stopped early or failed, with its metric and values), and the ledger ``<sweep>/ended.json`` of the
trials that ended, with how.

The ledger is what tells a trial the scheduler stopped (it ended; its run is then finalised) from one cut
short by Ctrl-C (it did not end; resuming continues it): after an interrupt Ray marks every trial as
terminated in memory, and only its saved state and this callback know better.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ray import tune

from ..report._util import fmt_number, fmt_percent
from ..runs import artifacts as A
from .results import ENDED_JSON, read_ledger
from .trial import decode_params

__all__ = ["TrialProgress"]


class TrialProgress(tune.Callback):
    """Prints ``[k/n] trial ID finished after E epochs: val_acc 81.20% (lr=0.01)`` and records the ending.

    Plain data only (it is pickled with Ray's experiment state and comes back on resume); the sweep
    directory is found from each trial's path (``<sweep>/ray/<trial id>``), so a moved sweep still works.
    """

    def __init__(self, metric: str, epochs: int | None) -> None:
        self.metric = metric
        self.epochs = epochs

    def _end(self, trials: list[Any], trial: Any, how: str, what: str) -> None:
        sweep_dir = Path(trial.path).parent.parent
        ledger = read_ledger(sweep_dir)
        ledger[trial.trial_id] = how
        A.write_json(sweep_dir / ENDED_JSON, ledger)
        done = 1 + sum(1 for t in trials if t is not trial and t.trial_id in ledger)
        result = trial.last_result or {}
        value = result.get(self.metric)
        shown = "-" if value is None else (fmt_percent(value) if self.metric.endswith("acc") else fmt_number(value))
        params = ", ".join(f"{k}={fmt_number(v)}" for k, v in decode_params(trial.config).items())
        epochs = result.get("epoch")
        after = f" after {epochs} epoch{'s' if epochs != 1 else ''}" if epochs else ""
        print(f"[{min(done, len(trials))}/{len(trials)}] trial {trial.trial_id} {what}{after}: {self.metric} "
              f"{shown}" + (f" ({params})" if params else ""), file=sys.stdout, flush=True)

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        epoch = (trial.last_result or {}).get("epoch")
        stopped = self.epochs is not None and epoch is not None and epoch < self.epochs
        self._end(trials, trial, "complete", "stopped early by the scheduler" if stopped else "finished")

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._end(trials, trial, "error", "FAILED (see the table at the end)")
