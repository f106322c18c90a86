"""``minidl train``: train a run from its config and write its run directory (files: :mod:`.artifacts`).

A run goes: resolve the run directory (new, or the one being resumed) → build data, model, loss, optimizer
and schedule (:mod:`.build`) → write the config, the derived facts and the model summary → train with
:class:`~minidl.training.Trainer` (checkpoint after every epoch; metrics files rewritten after every epoch)
→ save the final model, evaluate the test split, draw the figures and write the report.

Data-parallel (``--procs N``, or ``mpiexec -n N minidl train``): every rank builds the same data and model;
rank 0's weights are broadcast, each rank trains on its share of every global batch of ``batch_size``
samples (:class:`~minidl.utils.data.distributed.DistributedSampler`, ``batch_size / N`` per rank) with
averaged gradients (:class:`~minidl.nn.parallel.DistributedDataParallel`; batch norm as
:class:`~minidl.nn.SyncBatchNorm` unless ``sync_batchnorm = false``), validation and test evaluation are
sharded, and only rank 0 writes the run directory. Every run, single-process included, draws its batches the
same way, so a run visits the same global batches on any number of ranks and its checkpoint resumes on any.

Ctrl-C: the first SIGINT only raises a flag; training stops at the end of the current batch (never in the
middle of an optimizer step), a checkpoint of that exact point is written (model, optimizer, schedule, RNG
and data-loader position) and :class:`TrainingInterrupted` says how to resume. ``--resume`` then continues
mid-epoch, with the same batches and random draws as an uninterrupted run. A second Ctrl-C stops at once,
keeping the checkpoint of the last completed epoch.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import random as mrandom
from .._atomic import atomic_write_text, remove_stale_temps
from .._sigint import sigint_handler
from .._version import __version__
from ..distributed import rank_and_size
from ..errors import NumericalError
from ..nn import SyncBatchNorm
from ..nn.parallel import DistributedDataParallel
from ..optim.lr_scheduler import CosineAnnealingLR
from ..report._util import fmt_duration
from ..report.summary import summary as model_summary
from ..training import (
    Callback,
    CheckpointError,
    History,
    ProgressBar,
    Trainer,
    load_checkpoint,
    restore_checkpoint,
)
from ..training.checkpoint import warn_nonfinite
from ..utils.data import DataLoader, DistributedSampler
from . import artifacts as A
from .build import (
    Data,
    RunError,
    build_data,
    build_model,
    make_loader,
    make_loss,
    make_optimizer,
    make_scheduler,
    model_spec,
)
from .config import OPTIONS, RunConfig, load_config_file, resolve, to_toml
from .evaluation import evaluate_dataset, per_class_rows, shard, write_figures, write_run_report
from .finetune import FineTuning, FrozenNorms, fine_tuned_model, pretrained_stats

OPTION_NAMES = frozenset(o.name for o in OPTIONS)

__all__ = ["train_run", "TrainResult", "TrainingInterrupted", "resolve_run_config", "find_run"]


class TrainingInterrupted(Exception):
    """Training was stopped with Ctrl-C; ``checkpoint`` (None if none could be saved) resumes it.

    ``epoch`` is the (0-based) epoch that was running, ``iterations`` the iterations done, and ``saved_epochs``
    the number of finished epochs the checkpoint on disk holds (what ``--resume`` continues after), read back
    from the file: a second Ctrl-C during a checkpoint write keeps the previous checkpoint, not the new one.
    ``clean``: the checkpoint was written at the batch boundary where the first Ctrl-C stopped (the exact
    point), rather than being the last one written before a second Ctrl-C. ``epochs``: the run's length.
    """

    def __init__(self, run_dir: Path, checkpoint: Path | None, epoch: int, iterations: int,
                 saved_epochs: int | None = None, clean: bool = True, epochs: int | None = None) -> None:
        self.run_dir, self.checkpoint, self.epoch, self.iterations = run_dir, checkpoint, epoch, iterations
        self.saved_epochs, self.clean, self.epochs = saved_epochs, clean, epochs
        super().__init__(f"training interrupted in epoch {epoch + 1} after {iterations} iterations")


@dataclass
class TrainResult:
    """What :func:`train_run` produced."""

    run_dir: Path
    config: RunConfig
    history: History
    metrics: dict[str, Any]
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ============================================================================================ run directory
def find_run(path: str | os.PathLike) -> tuple[Path, Path]:
    """``(run directory, checkpoint)`` from a run directory or a checkpoint file."""
    p = Path(path)
    if p.is_dir():
        if not (p / A.CONFIG_JSON).is_file():
            raise RunError(f"{str(p)!r} is not a run directory (no {A.CONFIG_JSON})")
        return p, p / A.CHECKPOINT
    if p.is_file():
        return p.parent, p
    raise RunError(f"{str(p)!r} is neither a run directory nor a checkpoint file")


def _resumed_config(run_dir: Path, ckpt: Path) -> dict[str, Any]:
    """The settings of the run a checkpoint belongs to: those the checkpoint carries (the trainer stores the
    run config in it), else the ``config.json`` next to it."""
    try:
        saved = load_checkpoint(ckpt).get("config", {})
    except CheckpointError as e:
        raise RunError(str(e)) from None
    if isinstance(saved, Mapping) and "model" in saved:
        return {k: v for k, v in saved.items() if k in OPTION_NAMES}
    if (run_dir / A.CONFIG_JSON).is_file():
        return dict(A.read_json(run_dir / A.CONFIG_JSON))
    raise RunError(f"{str(ckpt)!r} does not record its run's settings and {str(run_dir)!r} has no "
                   f"{A.CONFIG_JSON}; resume from the run directory instead")


def _default_out(model: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("runs") / f"{model}-{stamp}"
    k = 2
    while out.exists():
        out = Path("runs") / f"{model}-{stamp}-{k}"
        k += 1
    return out


#: settings a resumed run may change: a longer run, where it lives, and how it treats a NaN batch
RESUME_MAY_CHANGE = frozenset({"epochs", "out", "on_nonfinite"})


def _refuse_changes(resumed: Mapping[str, Any], values: Mapping[str, Any], given: set[str]) -> None:
    """A resumed run continues as it was configured: a flag or config file that changes any other setting is
    refused, naming each, instead of being recorded while the checkpoint's schedule and model carry on."""
    changed = [name for name in sorted(given - RESUME_MAY_CHANGE)
               if name in values and values[name] != resumed.get(name, values[name])]
    if changed:
        listing = ", ".join(f"--{name.replace('_', '-')} {values[name]!r} (the run has {resumed[name]!r})"
                            for name in changed)
        raise RunError(f"--resume continues a run with its own settings; these differ: {listing}. Pass only "
                       "--epochs N to train it longer, or start a new run with --out")


def _replan_cosine_length(resumed: Mapping[str, Any], values: dict[str, Any], given: set[str]) -> None:
    """A cosine schedule planned over the whole run (``t_max`` = ``epochs``, the default) follows a run resumed
    with another ``--epochs``: annealing over the old length would run the next epoch at ``eta_min`` (lr 0)
    and then climb again. An explicit ``t_max`` (one that differs from the old length) is kept."""
    if (values.get("scheduler") == "cosine" and "t_max" not in given and "epochs" in values
            and resumed.get("t_max") == resumed.get("epochs") != values["epochs"]):
        values["t_max"] = values["epochs"]


def resolve_run_config(config_file: str | None, overrides: Mapping[str, Any], resume: str | None
                       ) -> tuple[RunConfig, Path | None]:
    """The run's config: defaults < the resumed run's config < ``config_file`` < ``overrides`` (flags).

    Returns the resolved config (with ``out`` set) and the checkpoint to resume from (or None).
    """
    values: dict[str, Any] = {}
    given: set[str] = set()
    ckpt = None
    if resume is not None:
        run_dir, ckpt = find_run(resume)
        if not ckpt.is_file():
            raise RunError(f"no checkpoint to resume from in {str(run_dir)!r} ({ckpt.name} is missing: the run "
                           f"stopped before its first epoch ended); start it again with --out {run_dir} "
                           "--overwrite")
        values.update(_resumed_config(run_dir, ckpt))
        if (run_dir / A.CONFIG_JSON).is_file() or "out" not in values:
            values["out"] = str(run_dir)
    if config_file is not None:
        from_file = load_config_file(config_file)
        values.update(from_file)
        given.update(from_file)
    resumed = dict(values)
    for name, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(values.get(name), Mapping):
            value = {**values[name], **value}  # flags add to a table (model_args) rather than replace it
        values[name] = value
    given.update(overrides)
    if resume is not None:
        _refuse_changes(resumed, values, given)
        _replan_cosine_length(resumed, values, given)
    cfg = resolve(values, given)
    if cfg.out is None:
        cfg["out"] = str(_default_out(cfg.model))
    return cfg, ckpt


# ============================================================================================ callbacks
class _StopOnInterrupt(Callback):
    """Turns the first Ctrl-C into a stop at the next batch boundary (the SIGINT handler only sets a flag)."""

    def __init__(self, out: TextIO) -> None:
        self.requested = False
        self.out = out

    def handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: stopping after this batch and saving a checkpoint (Ctrl-C again to stop at once)",
              file=self.out, flush=True)

    def on_batch_begin(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.trainer.interrupt_requested = self.requested  # data-parallel: the step's reduction shares it

    def on_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        # data-parallel: stop when any rank was interrupted before this step's reduction, so all stop together
        if self.trainer.stop_now if rank_and_size()[1] > 1 else self.requested:
            raise _CleanStop


class _CleanStop(KeyboardInterrupt):
    """Raised at a batch boundary: the model, optimizer and loader are consistent and can be checkpointed."""


class _ReplanCosine(Callback):
    """After the trainer restored a checkpoint, stretch a cosine schedule to the run's new ``t_max``: the rate
    continues on the closed form η_min + (lr₀ − η_min)·(1 + cos(π·e / T_max)) / 2 of the new plan from the
    epochs already done, so no epoch runs at η_min while more are to come."""

    def __init__(self, t_max: int) -> None:
        self.t_max = t_max

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        sched = self.trainer.scheduler
        if isinstance(sched, CosineAnnealingLR) and sched.T_max != self.t_max:
            sched.T_max = self.t_max
            for group, lr in zip(sched.optimizer.param_groups, sched._get_closed_form_lr(), strict=True):
                group["lr"] = lr
            sched._last_lr = [g["lr"] for g in sched.optimizer.param_groups]


class _LiveMetrics(Callback):
    """Rewrites the metrics files after every epoch, so they can be watched while the run trains."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        A.write_metrics(self.run_dir, self.trainer.history, self.trainer.batches_per_epoch)


# ============================================================================================ training
def _describe(cfg: RunConfig, data: Data, n_params: int) -> str:
    n_val = len(data.val) if data.val is not None else 0
    sizes = f"{len(data.train):,} train / {n_val:,} val / {len(data.test):,} test"
    opt = f"{cfg.optimizer} lr {cfg.lr:g}"
    if cfg.scheduler != "none":
        opt += f", {cfg.scheduler} schedule"
    epochs = f"{cfg.epochs} epoch{'s' if cfg.epochs != 1 else ''}"
    return (f"{cfg.model} ({n_params:,} parameters) on {cfg.dataset} ({sizes}), {opt}, "
            f"batch {cfg.batch_size}, {epochs}" + (", augmented" if cfg.augment else ""))


def _summary_metrics(history: History, test: Any, n_params: int, task: str) -> dict[str, Any]:
    """Final, best and test numbers for ``results.json`` and the report."""
    m: dict[str, Any] = {"epochs": history.epochs, "iterations": len(history.loss)}
    times = [t for t in history.metrics.get("time", []) if t is not None]
    m["time_s"] = float(sum(times))
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        values = [v for v in history.metrics.get(key, []) if v is not None]
        if values:
            m[f"final_{key}"] = values[-1]
            m[f"best_{key}"] = max(values) if key.endswith("acc") else min(values)
    if history.best_epoch is not None:
        m["best_epoch"] = history.best_epoch + 1
        m["monitor"] = history.monitor
    m["test_loss"] = test.loss
    if test.acc is not None:
        m["test_acc"] = test.acc
    if test.psnr_db is not None:
        m["test_psnr_db"] = test.psnr_db
    m["params"] = n_params
    return m


#: files of an attempt that saved no checkpoint, removed when ``--overwrite`` starts it again
_ATTEMPT_FILES = (A.METRICS, A.ITERATIONS, A.HISTORY, "error.txt")


def _check_run_dir(run_dir: Path, resuming: bool, overwrite: bool) -> None:
    """Refuse a run directory that cannot take this run, before anything is written: a file, another run
    (unless ``overwrite`` restarts one that saved no weights), or ``overwrite`` with a resume."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"--out {str(run_dir)!r} is a file, not a directory; choose a directory for the run")
    if resuming:
        if overwrite:
            raise RunError("--overwrite starts a run again from scratch; it does not apply to --resume")
        return
    if not (run_dir / A.CONFIG_JSON).exists():
        return
    saved = [name for name in (A.CHECKPOINT, A.MODEL) if (run_dir / name).is_file()]
    if saved and overwrite:
        raise RunError(f"--overwrite only restarts a run that saved no weights; {str(run_dir)!r} holds "
                       f"{' and '.join(saved)}: continue it with --resume {run_dir}, or choose another --out")
    if not overwrite:
        hint = (f"continue it with --resume {run_dir}" if saved else
                f"it saved no checkpoint, so start it again with --out {run_dir} --overwrite")
        raise RunError(f"{str(run_dir)!r} already holds a run; choose another --out, or {hint}")


def check_global_batch(batch_size: int, size: int) -> None:
    """The global batch must split evenly over the ranks (equal shares keep the averaged gradient that of
    the whole batch)."""
    if batch_size % size:
        fits = sorted({max(size, batch_size // size * size), (batch_size // size + 1) * size})
        raise RunError(f"--batch-size {batch_size} is the global batch, split evenly over the {size} processes; "
                       f"it must be a multiple of {size} (e.g. {' or '.join(map(str, fits))})")


def _train_loader(cfg: RunConfig, data: Data, world: tuple[int, int]) -> DataLoader:
    """Rank k's share of every global batch of ``cfg.batch_size``: a permutation per epoch from the seed and
    the epoch (one process included), strided over the ranks. A checkpoint thus resumes on any number of
    ranks: its position, in global batches, means the same samples on all."""
    rank, size = world
    check_global_batch(cfg.batch_size, size)
    sampler = DistributedSampler(data.train, num_replicas=size, rank=rank, shuffle=True, seed=cfg.seed)
    return DataLoader(data.train, batch_size=cfg.batch_size // size, sampler=sampler)


def _data_parallel_model(model: Any, cfg: RunConfig, size: int) -> Any:
    """The model each rank trains: itself alone, or wrapped for gradient averaging over ``size`` ranks."""
    if size == 1:
        return model
    if cfg.get("sync_batchnorm", True):
        model = SyncBatchNorm.convert_sync_batchnorm(model)
    return DistributedDataParallel(model)


def _run_history(run_dir: Path, cfg: RunConfig, resumed: Mapping[str, Any] | None, done: int) -> dict[str, Any]:
    """``started`` and ``resumes`` of ``run.json``: a resumed run keeps its start time and appends what this
    resume changed (each setting as ``[before, after]``) to the list of its resumes."""
    now = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if resumed is None:
        return {"started": now, "resumes": []}
    previous: Mapping[str, Any] = {}
    if (run_dir / A.RUN_JSON).is_file():
        try:
            previous = A.read_json(run_dir / A.RUN_JSON)
        except (OSError, ValueError):
            previous = {}
    changed = {k: [resumed[k], cfg[k]] for k in sorted(OPTION_NAMES) if k in resumed and resumed[k] != cfg.get(k)}
    entry = {"time": now, "after_epoch": done, "changed": changed, "world_size": rank_and_size()[1]}
    return {"started": previous.get("started", now), "resumes": [*previous.get("resumes", []), entry]}


def _write_run_files(run_dir: Path, cfg: RunConfig, task: str, data: Data, n_params: int, tuning: FineTuning,
                     history_entry: Mapping[str, Any], summary: Any, overwrite: bool) -> None:
    """The files a run writes before training: config (JSON and TOML), ``run.json`` and the model summary."""
    run_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(run_dir)
    if overwrite:
        for name in _ATTEMPT_FILES:
            (run_dir / name).unlink(missing_ok=True)
    A.write_json(run_dir / A.CONFIG_JSON, dict(cfg))
    atomic_write_text(run_dir / A.CONFIG_TOML, to_toml(cfg, header=(
        f"minidl {__version__} run configuration (resolved). Reuse it with: minidl train --config "
        f"{run_dir / A.CONFIG_TOML} --out NEW_DIR")))
    A.write_json(run_dir / A.RUN_JSON, {
        "minidl_version": __version__, "model": cfg.model, "dataset": cfg.dataset, "task": task,
        "data_kind": data.kind, "input_shape": list(data.input_shape), "classes": data.classes,
        "normalize_mean": data.mean, "normalize_std": data.std, "params": n_params,
        "train_samples": len(data.train), "val_samples": len(data.val) if data.val is not None else 0,
        "test_samples": len(data.test), **({"fine_tuning": tuning.summary()} if tuning.active else {}),
        "world_size": rank_and_size()[1], "global_batch_size": cfg.batch_size, **history_entry,
    })  # fmt: skip
    atomic_write_text(run_dir / A.SUMMARY_TXT, str(summary))


def train_run(cfg: RunConfig, resume_from: Path | None = None, *, progress: bool = True,
              out: TextIO | None = None, callbacks: Sequence[Callback] = (), overwrite: bool = False) -> TrainResult:
    """Train the run ``cfg`` (resolved; ``cfg.out`` is the run directory) and write every artifact.

    ``resume_from`` is a checkpoint to continue from; a changed ``epochs`` is applied (a cosine schedule over
    the whole run is stretched to the new length) and recorded under ``resumes`` in ``run.json``.
    ``overwrite`` starts again, in the same directory, a run that was stopped before it saved any weights.
    ``callbacks`` join the run's own; they see each epoch after its metrics files are written (``minidl
    sweep`` reports to Ray Tune through one). Raises :class:`RunError` for a run that cannot be set up,
    before anything is written, :class:`~minidl.errors.NumericalError` when the loss or a gradient stops being
    finite (``on_nonfinite='stop'``), and :class:`TrainingInterrupted` after Ctrl-C (with the checkpoint saved).
    Temporary files left in the run directory by a killed writer are removed when the run starts.
    """
    out = out or sys.stdout
    rank, world = rank_and_size()
    writer = rank == 0  # in a data-parallel job only rank 0 prints and writes the run directory
    if not writer:
        out = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
        progress = False
    run_dir = Path(cfg.out)
    _check_run_dir(run_dir, resume_from is not None, overwrite)
    if world > 1:
        from ..distributed import barrier

        barrier()  # every rank has checked the directory before rank 0 writes into it
    spec = model_spec(cfg.model)
    mrandom.manual_seed(cfg.seed)
    data = build_data(cfg, spec.task, pretrained_stats(cfg))
    num_classes = len(data.classes) if spec.task == "classification" else None
    tuning = FineTuning()
    if cfg.get("init_from") is None:
        model = build_model(cfg.model, cfg.model_args, data.input_shape, num_classes, spec.task)
    if cfg.get("init_from") is not None or cfg.get("replace_head") is not None or cfg.get("freeze") is not None:
        model, tuning = fine_tuned_model(cfg, None if cfg.get("init_from") else model, data.input_shape,
                                         num_classes or 0, spec.task)
    loss_fn = make_loss(spec.task, model, cfg.reg)
    optimizer = make_optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    scheduler = make_scheduler(cfg, optimizer)
    train_loader = _train_loader(cfg, data, (rank, world))
    val_loader = make_loader(shard(data.val)) if data.val is not None else None
    n_params = sum(p.numel() for p in model.parameters())
    summary = model_summary(model, data.input_shape)

    resumed: dict[str, Any] | None = None
    done = 0
    if resume_from is not None:  # a checkpoint that does not fit fails here, before the run's files are touched
        tree = restore_checkpoint(resume_from, model, optimizer, scheduler, restore_rng=False)
        resumed, done = dict(tree.get("config") or {}), int(tree["epoch"])
        warn_nonfinite(model, resume_from, "training will stop at its first step; resume an earlier checkpoint "
                       "or start a new run")
    history_entry = _run_history(run_dir, cfg, resumed, done)
    if writer:
        _write_run_files(run_dir, cfg, spec.task, data, n_params, tuning, history_entry, summary, overwrite)
    trained = _data_parallel_model(model, cfg, world)
    parallel = f" on {world} processes (batch {cfg.batch_size // world} each)" if world > 1 else ""
    print(f"minidl train: {_describe(cfg, data, n_params)}{parallel}", file=out)

    for note in tuning.notes() if tuning.active else []:
        print(f"fine-tuning: {note}", file=out)
    print(f"run directory: {run_dir}" + (f" (resuming from {resume_from})" if resume_from else ""), file=out,
          flush=True)
    changed = history_entry["resumes"][-1]["changed"] if resumed is not None else {}
    if changed:
        listing = ", ".join(f"{k} {before} -> {after}" for k, (before, after) in changed.items())
        print(f"resumed with changed settings: {listing} (recorded in {A.RUN_JSON})", file=out, flush=True)
    has_val = data.val is not None
    kind = "acc" if spec.task == "classification" else "loss"
    trainer = Trainer(progress=progress, log_every=50, monitor=f"{'val' if has_val else 'train'}_{kind}",
                      config=dict(cfg), on_nonfinite=cfg.get("on_nonfinite") or "stop")
    stop = _StopOnInterrupt(out)
    run_callbacks: list[Callback] = [stop, _LiveMetrics(run_dir)] if writer else [stop]
    if tuning.frozen_norms:
        run_callbacks.append(FrozenNorms(tuning.frozen_norms))
    if not progress:  # no bar, but still one line per epoch
        run_callbacks.append(ProgressBar(log_every=None, use_tqdm=False, file=out))
    run_callbacks += callbacks
    ckpt = run_dir / A.CHECKPOINT
    if resume_from is not None:
        if cfg.scheduler == "cosine":
            run_callbacks.append(_ReplanCosine(cfg.t_max))
        if done >= cfg.epochs:
            print(f"the run has already trained {done} of {cfg.epochs} epochs; pass --epochs N (N > {done}) "
                  "to train longer. Rewriting its results.", file=out)
    start = time.perf_counter()
    with sigint_handler(stop.handler):
        try:
            history = trainer.fit(trained, train_loader, val_loader, loss_fn=loss_fn, optimizer=optimizer,
                                  scheduler=scheduler, epochs=cfg.epochs, callbacks=run_callbacks, resume=resume_from,
                                  checkpoint=ckpt)
        except NumericalError as e:  # the epoch's metrics so far, and what happened, stay in the run directory
            if writer:
                A.write_metrics(run_dir, trainer.history, trainer.batches_per_epoch)
                atomic_write_text(run_dir / "error.txt", f"{e}\n")
            kept = f"; the last good checkpoint is {ckpt}" if ckpt.is_file() else "; no epoch had finished"
            raise NumericalError(f"{e}{kept}") from None
        except KeyboardInterrupt as e:
            clean = isinstance(e, _CleanStop)
            if clean:  # stopped at a batch boundary: this exact point can be resumed
                try:
                    trainer.save_checkpoint(ckpt)
                except KeyboardInterrupt:  # a second Ctrl-C during that write: the previous checkpoint stays
                    clean = False
            saved_epochs = _saved_epochs(ckpt)
            with contextlib.suppress(KeyboardInterrupt):
                if writer:
                    A.write_metrics(run_dir, trainer.history, trainer.batches_per_epoch)
            raise TrainingInterrupted(run_dir, ckpt if saved_epochs is not None else None, trainer.epoch,
                                      len(trainer.history.loss), saved_epochs, clean, cfg.epochs) from None
    elapsed = time.perf_counter() - start

    if writer:
        A.write_metrics(run_dir, history, trainer.batches_per_epoch)
        A.save_model(run_dir / A.MODEL, model)
    test = evaluate_dataset(model, data.test, loss_fn, spec.task, len(data.classes))
    metrics = _summary_metrics(history, test, n_params, spec.task)
    if world > 1:
        metrics["world_size"] = world
    if not writer:
        return TrainResult(run_dir, cfg, history, metrics)
    per_class = per_class_rows(test, data.classes)
    A.write_json(run_dir / A.RESULTS, {
        "metrics": metrics, "per_class": [{"class": n, "acc": a, "count": c} for n, a, c in per_class]})
    figures, notes = write_figures(run_dir, history, data, test, model)
    if tuning.active:
        notes = tuning.notes() + notes
    if world > 1:
        notes.append(f"Trained data-parallel on {world} processes: each step averaged the gradients of {world} "
                     f"shares of {cfg.batch_size // world} samples of the global batch of {cfg.batch_size}"
                     + (" (batch norm synchronised over the processes)." if cfg.get("sync_batchnorm", True)
                        else "."))
    if stop.requested:
        notes.append("Ctrl-C was pressed after the last batch; training had finished and was kept.")
    if trainer.skipped_batches:
        metrics["skipped_batches"] = trainer.skipped_batches
        notes.append(f"{trainer.skipped_batches} batches had a NaN or infinite loss or gradient and were skipped "
                     "(on_nonfinite = 'skip').")
    title = f"{cfg.model} on {cfg.dataset}"
    write_run_report(run_dir, title, dict(cfg), str(summary), metrics, history, per_class, figures, notes)
    _print_result(out, run_dir, metrics, elapsed)
    return TrainResult(run_dir, cfg, history, metrics, figures, notes)


def _saved_epochs(ckpt: Path) -> int | None:
    """The finished epochs the checkpoint on disk holds (None when there is none, or it cannot be read)."""
    try:
        return int(load_checkpoint(ckpt)["epoch"]) if ckpt.is_file() else None
    except (CheckpointError, OSError):
        return None


def _print_result(out: TextIO, run_dir: Path, m: dict[str, Any], elapsed: float) -> None:
    parts = []
    if "test_acc" in m:
        parts.append(f"test accuracy {100 * m['test_acc']:.2f}%")
    parts.append(f"test loss {m['test_loss']:.4f}")
    if "best_val_acc" in m:
        parts.append(f"best val accuracy {100 * m['best_val_acc']:.2f}% (epoch {m.get('best_epoch', '?')})")
    print(f"done in {fmt_duration(elapsed)}: " + ", ".join(parts), file=out)
    print(f"report: {run_dir / 'report.html'}", file=out, flush=True)


