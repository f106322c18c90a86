"""One trial of a sweep, as Ray Tune runs it: a normal ``minidl train`` run directory, reported to Ray.

The trainable (:func:`make_trainable`) runs in a Ray worker. It resolves the trial's config from the spec's
base and the values Ray drew (:func:`~minidl.tune.spec.trial_config`), pins the BLAS threads to the trial's
CPU share (:func:`threadpoolctl.threadpool_limits`: NumPy's BLAS is already loaded in the worker, so
environment variables would come too late) and trains with :func:`~minidl.runs.train_run` into
``<sweep>/trials/<trial id>``. Two callbacks join the run:

* :class:`ReportToTune` after every epoch (once the trainer has written the run's checkpoint) links the
  checkpoint into a staging folder with ``origin.json`` (which trial, which epoch) and calls
  ``ray.tune.report(metrics, checkpoint=...)``. Ray copies the folder into its storage before ``report``
  returns, so schedulers can stop the trial (ASHA) or hand its checkpoint to another trial (PBT) from then
  on.
* :class:`ApplyHyperparameters`, when a run continues from a checkpoint, sets the optimizer's learning rate,
  momentum and weight decay to this trial's config: PBT restarts a trial from a better trial's checkpoint
  with mutated values, and the checkpoint's optimizer state would otherwise bring back the old ones.

Where a trial starts (:func:`_resume_point`): from Ray's checkpoint when it comes from another trial (PBT)
or is newer than the run directory's own; else from the run directory's own checkpoint (after the driver
was killed, the run directory may be ahead of Ray's saved state); else from scratch (a partial first epoch
of an earlier attempt is cleared). Epochs the run directory holds but Ray never heard of (the driver died
first) are reported to Ray from the run's history before training goes on, and a run that already finished
(its report written) is not trained again: its epochs are reported the same way.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import atomic_path
from ..runs import artifacts as A
from ..training import Callback, History, load_checkpoint
from .spec import METRICS, parse_spec, trial_config

__all__ = ["TrialSetup", "make_trainable", "Reporter", "ReportToTune", "ApplyHyperparameters", "TRIAL_JSON",
           "TRIALS", "PBT_TIME", "decode_params", "trial_dirname"]

TRIALS = "trials"  # <sweep>/trials/<trial id>: the run directories
STAGING = ".staging"  # <sweep>/.staging/<trial id>: the checkpoint being handed to Ray
TRIAL_JSON = "trial.json"  # in each run directory: the trial's id, values, planned config, CPUs, BLAS threads
TRIAL_LOG = "train.log"  # in each run directory: what `minidl train` prints
ORIGIN = "origin.json"  # in each Ray checkpoint: {"trial_id", "epoch"}
PBT_TIME = "pbt_epoch"  # PBT's time: the epoch, on every report but the last (see Reporter)
JSON_PREFIX = "json:"  # values Ray cannot take as choices (lists, tables) travel as JSON text


@dataclass(frozen=True)
class TrialSetup:
    """What every trial needs besides Ray's values: the sweep directory, the spec (as plain data) and the
    CPUs per trial. Plain data, so that Ray can ship it to workers on any node."""

    sweep_dir: str
    spec: dict[str, Any]
    cpus: float


def trial_dirname(trial: Any) -> str:
    """Ray's directory name for a trial: its id, the same as its run directory's name."""
    return str(trial.trial_id)


def encode_value(v: Any) -> Any:
    """A grid or choice value as Ray gets it: lists and tables as ``"json:[50, 50]"`` text (Optuna's
    categories must be scalars), everything else unchanged."""
    return JSON_PREFIX + json.dumps(v) if isinstance(v, list | tuple | dict) else v


def decode_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """Ray's values back to plain Python: JSON text decoded, NumPy scalars to ``int``/``float``/``bool``."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        if isinstance(v, str) and v.startswith(JSON_PREFIX):
            v = json.loads(v[len(JSON_PREFIX):])
        elif hasattr(v, "item") and callable(v.item):  # numpy scalars from Ray's samplers
            v = v.item()
        out[k] = v
    return out


def make_trainable(setup: TrialSetup) -> Callable[[dict[str, Any]], None]:
    """The function Ray Tune runs for each trial (``config``: the values Ray drew for it)."""

    def minidl_trial(config: dict[str, Any]) -> None:
        run_trial(setup, config)

    return minidl_trial


def run_trial(setup: TrialSetup, config: Mapping[str, Any]) -> None:
    """Run the trial Ray is running in this worker with the values ``config`` (see the module docstring)."""
    from ray import tune

    from ..runs import train_run

    spec = parse_spec(setup.spec)
    trial_id = tune.get_context().get_trial_id()
    sweep_dir = Path(setup.sweep_dir)
    run_dir = sweep_dir / TRIALS / trial_id
    params = decode_params(config)
    cfg = trial_config(spec, params, run_dir)
    threads = max(1, int(setup.cpus))
    reporter = Reporter(trial_id, sweep_dir / STAGING / trial_id,
                        cfg["epochs"] if spec.scheduler.kind == "pbt" else None)
    with _blas_threads(threads) as blas:
        ray_ckpt = tune.get_checkpoint()
        with ray_ckpt.as_directory() if ray_ckpt is not None else contextlib.nullcontext() as ray_dir:
            origin = A.read_json(Path(ray_dir) / ORIGIN) if ray_dir is not None else None
            reported = origin["epoch"] if origin and origin["trial_id"] == trial_id else 0  # epochs Ray has
            if _finished(run_dir, cfg):
                reporter.history(A.read_history(run_dir), run_dir / A.CHECKPOINT, after=reported)
                return
            resume, source = _resume_point(run_dir, trial_id, Path(ray_dir) if ray_dir else None, origin)
        if resume is not None and source is not None and source["trial_id"] == trial_id \
                and source["epoch"] > reported:  # the run got ahead of Ray's saved state before the driver died
            reporter.history(History.from_dict(load_checkpoint(resume)["history"]), resume, after=reported)
        A.write_json(run_dir / TRIAL_JSON, {
            "trial_id": trial_id, "params": params, "config": dict(cfg), "cpus": setup.cpus,
            "blas_threads": blas, "host": socket.gethostname(), "pid": os.getpid(),
            "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "resumed_from": source,
        })  # fmt: skip
        with open(run_dir / TRIAL_LOG, "a", encoding="utf-8") as log:
            train_run(cfg, resume, progress=False, out=log,
                      callbacks=[ApplyHyperparameters(cfg), ReportToTune(run_dir, reporter)])
    shutil.rmtree(reporter.staging, ignore_errors=True)


@contextlib.contextmanager
def _blas_threads(n: int) -> Iterator[int | None]:
    """``with _blas_threads(n) as used``: BLAS (and OpenMP) limited to ``n`` threads inside the block;
    ``used`` is the thread count the BLAS libraries report there (None without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is part of the sweep extra
        yield None
        return
    with threadpool_limits(limits=n):
        blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        yield max(blas) if blas else None


def _finished(run_dir: Path, cfg: Mapping[str, Any]) -> bool:
    """The run directory holds this trial's completed run (Ray's saved state was older than the run): its
    results for the planned epochs, and its report (written last)."""
    if not (run_dir / "report.html").is_file():
        return False
    try:
        saved = A.read_json(run_dir / TRIAL_JSON)["config"]
        done = A.read_json(run_dir / A.RESULTS)["metrics"]["epochs"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return saved == json.loads(json.dumps(dict(cfg))) and done == cfg["epochs"]


def _resume_point(run_dir: Path, trial_id: str, ray_dir: Path | None, origin: Mapping[str, Any] | None
                  ) -> tuple[Path | None, dict[str, Any] | None]:
    """The checkpoint the trial continues from (in its run directory; None to start afresh) and where it
    came from (``{"trial_id", "epoch"}``)."""
    own = run_dir / A.CHECKPOINT
    own_epoch = _epoch(own)
    # Ray's checkpoint wins when it is another trial's (a PBT exploit) or newer than the run directory's own
    if ray_dir is not None and origin is not None and (origin["trial_id"] != trial_id or origin["epoch"] > own_epoch):
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(own) as tmp:
            shutil.copyfile(ray_dir / A.CHECKPOINT, tmp)
        return own, dict(origin)
    if own_epoch > 0:
        return own, {"trial_id": trial_id, "epoch": own_epoch}
    if run_dir.exists():  # an earlier attempt that did not finish its first epoch
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    return None, None


def _epoch(ckpt: Path) -> int:
    if not ckpt.is_file():
        return 0
    try:
        return int(load_checkpoint(ckpt)["epoch"])
    except (ValueError, KeyError, OSError):
        return 0


class Reporter:
    """Reports a trial's epochs to Ray Tune: ``epoch`` (1-based, the schedulers' time), the metrics measured,
    and a checkpoint (a copy of the run's, with ``origin.json``) in ``staging``, which Ray copies into its
    storage before ``report`` returns.

    Under PBT (``pbt_epochs``: the trial's epochs) every epoch but the last also carries ``pbt_epoch``, PBT's
    time: a perturbation after the last epoch would restart a trial only to copy another's final model.
    """

    def __init__(self, trial_id: str, staging: Path, pbt_epochs: int | None = None) -> None:
        self.trial_id = trial_id
        self.staging = staging
        self.pbt_epochs = pbt_epochs

    def epoch(self, epoch: int, logs: Mapping[str, Any], ckpt: Path | None) -> None:
        """Report epoch ``epoch`` (1-based) with its ``logs``, and the checkpoint ``ckpt`` when given."""
        from ray import tune

        metrics: dict[str, Any] = {"epoch": epoch}
        metrics.update({k: float(logs[k]) for k in (*METRICS, "lr") if logs.get(k) is not None})
        if self.pbt_epochs is not None and epoch < self.pbt_epochs:
            metrics[PBT_TIME] = epoch
        checkpoint = None
        if ckpt is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging.mkdir(parents=True)
            try:  # a second name for the file (the run's next checkpoint replaces its name, not its data)
                os.link(ckpt, self.staging / A.CHECKPOINT)
            except OSError:  # another filesystem, or no hard links there
                shutil.copyfile(ckpt, self.staging / A.CHECKPOINT)
            A.write_json(self.staging / ORIGIN, {"trial_id": self.trial_id, "epoch": epoch})
            checkpoint = tune.Checkpoint.from_directory(str(self.staging))
        tune.report(metrics, checkpoint=checkpoint)

    def history(self, history: History, ckpt: Path, after: int) -> None:
        """Report the epochs of ``history`` after the first ``after``, the last with the checkpoint ``ckpt``
        (taken after that epoch)."""
        for e in range(after, history.epochs):
            logs = {k: v[e] for k, v in history.metrics.items() if e < len(v)}
            self.epoch(e + 1, logs, ckpt if e == history.epochs - 1 else None)


class ReportToTune(Callback):
    """Hands every epoch's metrics and the run's checkpoint of that epoch to Ray Tune.

    The trainer writes the checkpoint right after the epoch's callbacks, so an epoch is reported when the
    next one begins (or training ends): Ray may stop the trial as soon as it has the report, and the run
    directory then holds the checkpoint of the epoch reported.
    """

    def __init__(self, run_dir: Path, reporter: Reporter) -> None:
        self.run_dir = run_dir
        self.reporter = reporter
        self.pending: tuple[int, dict[str, Any]] | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.pending = (epoch + 1, dict(logs or {}))

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._report()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self._report()

    def _report(self) -> None:
        if self.pending is not None:
            (epoch, logs), self.pending = self.pending, None
            self.reporter.epoch(epoch, logs, self.run_dir / A.CHECKPOINT)


class ApplyHyperparameters(Callback):
    """Sets the optimizer's lr, momentum and weight decay to the trial's config when training starts.

    A run continued from a checkpoint gets the checkpoint's optimizer settings back (as PyTorch's
    ``load_state_dict`` does); under PBT the trial's config holds new values. The learning rate keeps the
    schedule's progress: with the schedule at factor ``f = lr / base_lr``, the new rate is
    ``f * new_lr`` and ``new_lr`` becomes the schedule's base. On a fresh run nothing changes.
    """

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.cfg = cfg

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        optimizer, scheduler = self.trainer.optimizer, self.trainer.scheduler
        base_lrs = getattr(scheduler, "base_lrs", None)
        lr = float(self.cfg["lr"])
        for i, group in enumerate(optimizer.param_groups):
            if base_lrs is not None and base_lrs[i] > 0:
                group["lr"] = lr * group["lr"] / base_lrs[i]
                base_lrs[i] = lr
                if "initial_lr" in group:
                    group["initial_lr"] = lr
            else:
                group["lr"] = lr
            if "momentum" in group and self.cfg.get("momentum") is not None:
                group["momentum"] = float(self.cfg["momentum"])
            if "weight_decay" in group and self.cfg.get("weight_decay") is not None:
                group["weight_decay"] = float(self.cfg["weight_decay"])


def planned_config(run_dir: Path) -> dict[str, Any] | None:
    """The config a trial was started with (``trial.json``), or None when it never started."""
    try:
        return dict(A.read_json(run_dir / TRIAL_JSON)["config"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
