"""``Trainer``: the training loop, with callbacks, progress, history, best-model tracking and exact resume.

One epoch of :meth:`Trainer.fit`::

    on_epoch_begin
    for batch in train_loader:             model in train mode
        on_batch_begin
        loss = training_step(batch); zero_grad; loss.backward(); optimizer.step(); on_batch_end
    validation_step(batch) per val batch   no_grad, eval mode; mean loss and accuracy
    history, best weights                  copy of state_dict when the monitored metric improves
    scheduler.step()                       ReduceLROnPlateau: scheduler.step(val metric)
    on_epoch_end                           early stopping, model checkpoints
    save_checkpoint(checkpoint)            atomic; everything needed to continue bit for bit

Extending it: subclass and override :meth:`Trainer.training_step` and :meth:`Trainer.validation_step` (a
batch in, its loss out, with the output and target if accuracy should be counted), or add callbacks. The
default steps read a batch as the loader yields it (:func:`unpack_batch`):

* a tuple or list ``(x₁, …, xₖ, y)``: output = model(x₁, …, xₖ), target = y;
* a single tensor or array ``x``, or a 1-tuple ``(x,)``: an autoencoder's batch, target = x;
* a dict: output = model(batch[input_key]), target = batch[target_key] (``Trainer(input_key=...,
  target_key=...)``, by default ``"input"`` and ``"target"``; ``target_key=None``: target = input).

and compute ``loss_fn(output, target)``.

Data-parallel training (a :class:`~minidl.nn.parallel.DistributedDataParallel` model, each rank's loader
reading its share through a :class:`~minidl.utils.data.distributed.DistributedSampler`): every rank runs
``fit``; each step's loss, sample and correct counts are summed over the ranks (one small allreduce that also
carries a pending Ctrl-C, so that every rank stops after the same batch), so the logged metrics are those of
the global batch and the NaN check decides alike everywhere; validation sums are reduced the same way; the
sampler's ``set_epoch`` is called each epoch; only rank 0 writes the checkpoint, which holds the unwrapped
model's state and so resumes on any number of ranks.

Resuming restores the model, optimizer, scheduler, RNG states (minidl's, NumPy's, the loader's shuffle
generator), history, best weights and callback states (each by its :attr:`~.callbacks.Callback.state_key`),
then continues with the next epoch: the final weights are bitwise identical to those of an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import NumericalError
from ..functions import as_tensor
from ..nn import functional as F
from ..nn.parallel import DistributedDataParallel
from ..nn.utils import evaluating
from ..ops import keep_freed_memory
from ..tensor import Tensor
from .callbacks import Callback, CallbackList, ProgressBar, has_state, snapshot_state
from .checkpoint import CheckpointError, restore_checkpoint, save_checkpoint
from .history import History

__all__ = ["Trainer", "evaluate", "predict", "count_correct", "unpack_batch", "unwrap_model"]

LossFn = Callable[[Tensor, Tensor], Tensor]


def _as_tensor(x: Any) -> Tensor:
    """A batch element as a tensor; arrays keep their dtype (integer labels stay integers)."""
    return x if isinstance(x, Tensor) else as_tensor(np.asarray(x))


def unpack_batch(batch: Any, input_key: str = "input", target_key: str | None = "target",
                 where: str = "Trainer") -> tuple[tuple[Tensor, ...], Tensor]:
    """A loader's batch as (inputs, target) tensors, by the rules of the module docstring: ``(x₁, …, xₖ, y)``,
    a single ``x`` or ``(x,)`` (target = x), or a dict read by ``input_key`` and ``target_key``."""
    if isinstance(batch, Tensor | np.ndarray):
        x = _as_tensor(batch)
        return (x,), x
    if isinstance(batch, Mapping):
        missing = [k for k in (input_key, target_key) if k is not None and k not in batch]
        if missing:
            raise KeyError(f"{where}: the batch dict has no key {missing[0]!r} (keys: {sorted(map(str, batch))}); "
                           "name its keys with Trainer(input_key=..., target_key=...) or override training_step")
        x = _as_tensor(batch[input_key])
        return (x,), x if target_key is None else _as_tensor(batch[target_key])
    if isinstance(batch, Sequence) and not isinstance(batch, str) and len(batch) >= 1:
        items = [_as_tensor(b) for b in batch]
        return (tuple(items[:-1]), items[-1]) if len(items) > 1 else ((items[0],), items[0])
    raise TypeError(f"{where}: a batch must be a tensor, a tuple or list (inputs..., target) or a dict, got "
                    f"{type(batch).__name__}; override training_step/validation_step for other batches")


def _default_step(model: Any, loss_fn: LossFn | None, batch: Any, input_key: str, target_key: str | None,
                  where: str) -> dict[str, Any]:
    """loss_fn(model(*inputs), target) of a batch, with what the loop logs: the output, the target, the size."""
    if loss_fn is None:
        raise RuntimeError(f"{where}: no loss function yet; fit() sets it (pass loss_fn= to fit)")
    inputs, target = unpack_batch(batch, input_key, target_key, where)
    output = model(*inputs)
    return {"loss": loss_fn(output, target), "output": output, "target": target, "size": len(inputs[0])}


#: what Trainer.fit does with a batch whose loss or gradient is NaN or infinite
NONFINITE_POLICIES = ("stop", "skip", "ignore")


def _grads_finite(optimizer: Any) -> bool:
    """Whether every gradient the optimizer would apply is finite (one reduction per parameter: the sum of an
    array is finite exactly when its elements are, barring an overflow that is itself a blow-up)."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            g = p.grad
            if g is not None and not np.isfinite(g._data.sum()):
                return False
    return True


def _batch_size(batch: Any) -> int:
    """The length of the first tensor or array in a batch (depth first)."""
    if isinstance(batch, Tensor | np.ndarray):
        return len(batch)
    items = batch.values() if isinstance(batch, Mapping) else batch if isinstance(batch, list | tuple) else ()
    for item in items:
        try:
            return _batch_size(item)
        except TypeError:
            continue
    raise TypeError(f"cannot tell the number of samples of a {type(batch).__name__} batch: return 'size' from "
                    "the step")


def _step_result(result: Any, batch: Any, where: str) -> tuple[Tensor, int, int | None]:
    """(loss, samples, correct predictions or None) from what a step returned: the loss tensor, or a dict with
    ``loss`` and optionally ``output`` and ``target`` (accuracy) and ``size``."""
    if isinstance(result, Tensor):
        result = {"loss": result}
    if not isinstance(result, Mapping) or not isinstance(result.get("loss"), Tensor):
        raise TypeError(f"{where} must return the loss tensor or a dict with a 'loss' tensor, got "
                        f"{type(result).__name__}")
    n = int(result["size"]) if result.get("size") is not None else _batch_size(batch)
    output, target = result.get("output"), result.get("target")
    correct = None
    if isinstance(output, Tensor) and isinstance(target, Tensor):
        correct = count_correct(output._data, target._data)
    return result["loss"], n, correct


def count_correct(output: np.ndarray, target: np.ndarray) -> int | None:
    """Correct predictions of class scores ``output`` (N, C, ...) against class indices ``target`` (N, ...).

    The prediction is argmax over axis 1. Returns ``None`` when the pair is not a classification
    (float targets, or shapes that do not fit), so regression losses simply have no accuracy.
    """
    if target.dtype.kind not in "iu" or output.ndim < 2 or target.shape != output.shape[:1] + output.shape[2:]:
        return None
    return int(np.count_nonzero(output.argmax(axis=1) == target))


def _default_loss(output: Tensor, target: Tensor) -> Tensor:
    """Softmax cross-entropy, the default loss of :meth:`Trainer.fit` and :func:`evaluate`."""
    return F.cross_entropy(output, target)


def evaluate(model: Any, loader: Iterable[Any], loss_fn: LossFn | None = None) -> dict[str, float | None]:
    """Mean loss and accuracy of ``model`` over ``loader``, under ``no_grad`` and in eval mode.

    Returns ``{'loss': ..., 'acc': ...}``; ``acc`` is ``None`` when the targets are not class indices.
    Per-batch mean losses are weighted by batch size, so the result is the mean over all samples. The
    model's train/eval mode is restored afterwards. Batches are read as the module docstring says.
    """
    loss_fn = loss_fn or _default_loss
    return _evaluate(model, loader, lambda batch: _default_step(model, loss_fn, batch, "input", "target", "evaluate"),
                     "evaluate")


def _evaluate(model: Any, loader: Iterable[Any], step: Callable[[Any], Any], where: str) -> dict[str, float | None]:
    """:func:`evaluate` with any step function (a batch in, what :func:`_step_result` reads out). In a
    data-parallel job the sums are over every rank's loader (each rank's shard; a loader of the whole set on
    every rank counts each sample once per rank, which leaves the means unchanged)."""
    total = loss_sum = 0.0
    correct: int | None = 0
    with evaluating(model):
        for batch in loader:
            loss, n, c = _step_result(step(batch), batch, where)
            loss_sum += float(loss.item()) * n
            correct = None if c is None or correct is None else correct + c
            total += n
    if _data_parallel():
        loss_sum, total, summed = _sum_over_ranks(loss_sum, total, -1 if correct is None else correct)
        correct = None if summed < 0 else int(summed)
    if total == 0:
        raise ValueError(f"{where}: the loader yielded no samples")
    return {"loss": loss_sum / total, "acc": None if correct is None else correct / total}


def predict(model: Any, data: Any, batch_size: int = 256, probs: bool = False) -> np.ndarray:
    """Outputs of ``model`` for ``data`` (a loader, an array or a tensor), under ``no_grad`` in eval mode.

    Returns the raw outputs (logits) stacked into one array, or softmax probabilities over axis 1 with
    ``probs=True``. A loader may yield inputs alone or (inputs, targets) pairs; arrays are split into
    batches of ``batch_size``.
    """
    if isinstance(data, Tensor | np.ndarray):
        arr = data._data if isinstance(data, Tensor) else data
        if arr.ndim == 0:
            raise ValueError(f"predict: expected a batch of inputs, got a 0-d array of shape {arr.shape}")
        batches: Iterable[Any] = (arr[i:i + batch_size] for i in range(0, len(arr), batch_size))
    else:
        batches = data
    outs: list[np.ndarray] = []
    with evaluating(model):
        for batch in batches:
            if isinstance(batch, list | tuple):
                batch = batch[0]
            out = model(_as_tensor(batch))
            if probs:
                out = F.softmax(out, dim=1)
            outs.append(out._data)
    if not outs:
        raise ValueError("predict: no inputs given")
    return np.concatenate(outs, axis=0)


def _data_parallel() -> bool:
    """Whether this process is one of several ranks of an initialised process group."""
    from ..distributed import rank_and_size

    return rank_and_size()[1] > 1


def _sum_over_ranks(*values: float) -> list[float]:
    from ..distributed import allreduce_arrays

    return [float(v) for v in allreduce_arrays([np.array(values, dtype=np.float64)])[0]]


def unwrap_model(model: Any) -> Any:
    """The model inside a :class:`~minidl.nn.parallel.DistributedDataParallel` (whose own keys start with
    ``module.``), else ``model``: what checkpoints and best-weight snapshots hold, on any number of ranks."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def _set_epoch(loader: Any, epoch: int) -> None:
    """A distributed sampler's epoch (its shuffle seed), as PyTorch scripts call ``sampler.set_epoch``."""
    set_epoch = getattr(getattr(loader, "sampler", None), "set_epoch", None)
    if callable(set_epoch):
        set_epoch(epoch)


def _is_plateau(scheduler: Any) -> bool:
    """ReduceLROnPlateau is stepped with a metric, every other scheduler per epoch without one."""
    try:
        from ..optim.lr_scheduler import ReduceLROnPlateau
    except ImportError:  # pragma: no cover - optim.lr_scheduler is part of the package
        return type(scheduler).__name__ == "ReduceLROnPlateau"
    return isinstance(scheduler, ReduceLROnPlateau)


class Trainer:
    """Runs :meth:`fit`; keeps the run's state for callbacks (``model``, ``optimizer``, ``history``, ...).

    Parameters
    ----------
    progress:
        show a progress bar (tqdm if installed, else a plain line every ``log_every`` batches) and one
        summary line per epoch; ``False`` trains silently.
    monitor, mode:
        the metric that defines the best epoch (``'val_acc'``, ``'val_loss'``, ``'train_loss'``, ...), and
        whether higher or lower is better (``'auto'``: max for accuracies). The best weights are kept in
        ``best_state``.
    restore_best:
        load ``best_state`` into the model when training ends.
    on_nonfinite:
        a batch whose loss or gradient is NaN or infinite: ``'stop'`` (default) raises
        :class:`~minidl.errors.NumericalError` naming the epoch and step before the weights see it, so the
        last checkpoint keeps the last good state; ``'skip'`` leaves the weights alone for that batch and
        counts it in ``skipped_batches``; ``'ignore'`` applies it, as PyTorch would.
    config:
        JSON-able run settings (hyperparameters, data options) stored in every checkpoint's ``config``.
    plateau_metric:
        the metric passed to ``ReduceLROnPlateau.step``; by default ``'val_loss'`` for a scheduler in
        ``mode='min'`` and ``'val_acc'`` in ``mode='max'`` (the ``train_`` ones without a validation set).
    input_key, target_key:
        the keys the default steps read from dict batches (``target_key=None``: the input is the target).

    Subclasses override :meth:`training_step` and :meth:`validation_step` for other losses or batches.
    ``fit`` also turns on :func:`minidl.ops.keep_freed_memory` (off with ``MINIDL_MALLOC_TUNING=0``).
    """

    def __init__(self, progress: bool = True, log_every: int = 100, monitor: str = "val_acc", mode: str = "auto",
                 restore_best: bool = False, plateau_metric: str | None = None,
                 config: Mapping[str, Any] | None = None, input_key: str = "input",
                 target_key: str | None = "target", on_nonfinite: str = "stop") -> None:
        if on_nonfinite not in NONFINITE_POLICIES:
            raise ValueError(f"Trainer: on_nonfinite must be one of {', '.join(NONFINITE_POLICIES)}, got "
                             f"{on_nonfinite!r}")
        self.on_nonfinite = on_nonfinite
        self.skipped_batches = 0
        self.progress = progress
        self.input_key = input_key
        self.target_key = target_key
        self.config = dict(config or {})
        self.log_every = log_every
        self.monitor = monitor
        self.mode = mode
        self.restore_best = restore_best
        self.plateau_metric = plateau_metric
        self.model: Any = None
        self.optimizer: Any = None
        self.scheduler: Any = None
        self.loss_fn: LossFn | None = None
        self.train_loader: Any = None
        self.history = History(monitor, mode)
        self.best_state: dict[str, np.ndarray] | None = None
        self.stop_training = False
        #: set by a Ctrl-C handler (the CLI's); ``stop_now`` is whether every rank should stop after this batch
        self.interrupt_requested = False
        self.stop_now = False
        self.epoch = 0
        self.epochs = 0
        self.batches_per_epoch: int | None = None
        self._callbacks: list[Callback] = []
        self._config: dict[str, Any] = {}

    # ------------------------------------------------------------------------------------------ fit
    def fit(self, model: Any, train_loader: Iterable[Any], val_loader: Iterable[Any] | None = None,
            loss_fn: LossFn | None = None, optimizer: Any = None, scheduler: Any = None, epochs: int = 1,
            callbacks: Iterable[Callback] = (), resume: str | os.PathLike | None = None,
            checkpoint: str | os.PathLike | None = None) -> History:
        """Train ``model`` until ``epochs`` epochs are complete and return the :class:`History`.

        ``loss_fn(output, target)`` defaults to cross-entropy, ``optimizer`` to ``Adam(lr=1e-3)``.
        ``epochs`` is the total: a run resumed from a checkpoint taken after epoch k trains ``epochs - k``
        more. ``checkpoint`` is a path rewritten (atomically) after every epoch; ``resume`` is a path to
        continue from (it may be the same file).
        """
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be an int >= 0, got {epochs!r}")
        keep_freed_memory()  # steps reuse their large blocks instead of page-faulting them in (minidl.ops._memory)
        if optimizer is None:
            from ..optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.loss_fn = loss_fn or _default_loss
        self.train_loader, self.epochs = train_loader, epochs
        self.history = History(self.monitor, self.mode)
        self.best_state, self.stop_training, self.epoch = None, False, 0
        try:
            self.batches_per_epoch = len(train_loader)  # type: ignore[arg-type]
        except TypeError:
            self.batches_per_epoch = None
        self._callbacks = list(callbacks)
        _check_state_keys(self._callbacks)
        self._config = {**self.config, "epochs": epochs, "monitor": self.monitor, "mode": self.history.mode,
                        "loss_fn": getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__)}
        if resume is not None:
            self._resume(resume)
        extra = [ProgressBar(self.log_every)] if self.progress else []
        cbs = CallbackList([*self._callbacks, *extra], self)

        cbs.on_train_begin({})
        while self.epoch < epochs and not self.stop_training:
            epoch = self.epoch
            _set_epoch(train_loader, epoch)
            cbs.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            lr = self._lr()
            logs = self._train_epoch(cbs)
            if val_loader is not None:
                val = _evaluate(model, val_loader, self.validation_step, "Trainer.validation_step")
                logs.update(val_loss=val["loss"], val_acc=val["acc"])
            logs.update(lr=lr, time=time.perf_counter() - t0)
            if self.history.log_epoch(logs):
                self.best_state = snapshot_state(unwrap_model(model))
            self._step_scheduler(logs)
            self.epoch = epoch + 1
            cbs.on_epoch_end(epoch, logs)
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
        cbs.on_train_end({})
        if self.restore_best and self.best_state is not None:
            unwrap_model(model).load_state_dict(self.best_state)
        return self.history

    def _lr(self) -> float | None:
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def training_step(self, batch: Any) -> Tensor | Mapping[str, Any]:
        """The loss of one training batch (the model is in train mode; the trainer then runs backward and the
        optimizer step). Return the loss tensor, or a dict with ``loss`` and, to count accuracy, ``output``
        and ``target`` (also ``size``, the number of samples, when it is not the batch's first dimension).

        The default reads the batch as the module docstring says and returns ``loss_fn(model(*inputs), target)``.
        """
        return _default_step(self.model, self.loss_fn, batch, self.input_key, self.target_key,
                             "Trainer.training_step")

    def validation_step(self, batch: Any) -> Tensor | Mapping[str, Any]:
        """The loss of one validation batch, returned as :meth:`training_step` does (eval mode, ``no_grad``);
        the epoch's ``val_loss`` and ``val_acc`` are the sample-weighted means. The default is the same as
        :meth:`training_step`'s."""
        return _default_step(self.model, self.loss_fn, batch, self.input_key, self.target_key,
                             "Trainer.validation_step")

    def _train_epoch(self, cbs: CallbackList) -> dict[str, Any]:
        model, optimizer = self.model, self.optimizer
        model.train()
        ranks = _data_parallel()
        seen = 0
        loss_sum = 0.0
        correct: int | None = 0
        for i, batch in enumerate(self.train_loader):
            cbs.on_batch_begin(i, {"data": batch})
            loss, n, c = _step_result(self.training_step(batch), batch, "Trainer.training_step")
            optimizer.zero_grad()
            loss.backward()
            value = float(loss.item())
            if ranks:  # the global batch's mean loss and counts, and whether any rank was interrupted
                loss_sum_all, n_all, c_all, stops = _sum_over_ranks(value * n, n, -1 if c is None else c,
                                                                    self.interrupt_requested)
                value, n, c = loss_sum_all / n_all, int(n_all), None if c_all < 0 else int(c_all)
                self.stop_now = stops > 0
            else:
                self.stop_now = self.interrupt_requested
            if self.on_nonfinite != "ignore" and not (math.isfinite(value) and _grads_finite(optimizer)):
                if self.on_nonfinite == "stop":
                    what = f"the loss is {value}" if not math.isfinite(value) else "a gradient is NaN or infinite"
                    lr = optimizer.param_groups[0].get("lr")
                    raise NumericalError(
                        f"training stopped at epoch {self.epoch + 1}, step {i + 1}: {what}. The weights were not "
                        f"updated with it; the last checkpoint holds the last good state. Try a smaller learning "
                        f"rate (now {lr}) or check the scale of the inputs (on_nonfinite='skip' skips such "
                        "batches instead)")
                self.skipped_batches += 1  # "skip": this batch leaves the weights (and the epoch's means) alone
                continue
            optimizer.step()
            correct = None if c is None or correct is None else correct + c
            seen += n
            loss_sum += value * n
            self.history.log_batch(value)
            cbs.on_batch_end(i, {"loss": value, "acc": None if c is None else c / n, "size": n})
        if seen == 0 and self.skipped_batches:
            raise NumericalError(f"training stopped at epoch {self.epoch + 1}: every batch had a NaN or infinite loss "
                                 f"or gradient and was skipped ({self.skipped_batches} skipped so far); the weights "
                                 "have blown up: lower the learning rate")
        if seen == 0:
            raise ValueError("Trainer.fit: the training loader yielded no samples")
        return {"train_loss": loss_sum / seen, "train_acc": None if correct is None else correct / seen}

    def _step_scheduler(self, logs: Mapping[str, Any]) -> None:
        if self.scheduler is None:
            return
        if _is_plateau(self.scheduler):
            key = self.plateau_metric
            if key is None:  # the metric matching the scheduler's direction, validation when measured
                kind = "acc" if getattr(self.scheduler, "mode", "min") == "max" else "loss"
                key = f"val_{kind}" if logs.get(f"val_{kind}") is not None else f"train_{kind}"
            if logs.get(key) is None:
                raise ValueError(f"Trainer.fit: ReduceLROnPlateau needs the metric {key!r}, which was not "
                                 f"measured (available: {sorted(k for k, v in logs.items() if v is not None)})")
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()

    # ------------------------------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike, epoch: int | None = None) -> None:
        """Atomically write everything needed to resume after ``epoch`` (default: the epochs completed).

        In a data-parallel job only rank 0 writes (the ranks' states are equal); the file holds the unwrapped
        model and says which world size wrote it, and that any other may resume it."""
        from ..distributed import rank_and_size

        rank, size = rank_and_size()
        if rank != 0:
            return
        extra = {
            "data_parallel": {"world_size": size, "world_size_agnostic": True},
            "best_state": self.best_state,
            "callbacks": {cb.state_key: cb.state_dict() for cb in self._callbacks if has_state(cb)},
            "stop_training": self.stop_training,
        }
        save_checkpoint(path, unwrap_model(self.model), self.optimizer, self.scheduler,
                        epoch=self.epoch if epoch is None else epoch, history=self.history, config=self._config,
                        loaders=[self.train_loader], extra=extra)

    def _resume(self, path: str | os.PathLike) -> None:
        tree = restore_checkpoint(path, unwrap_model(self.model), self.optimizer, self.scheduler,
                                  loaders=[self.train_loader])
        try:
            self.history = History.from_dict(tree["history"])
        except (ValueError, TypeError, KeyError) as e:
            raise CheckpointError(path, f"bad history ({e})") from e
        if self.history.monitor != self.monitor:
            raise CheckpointError(path, f"the run monitored {self.history.monitor!r}, this trainer monitors "
                                        f"{self.monitor!r}")
        self.epoch = int(tree["epoch"])
        extra = tree.get("extra", {})
        self.best_state = extra.get("best_state")
        self.stop_training = bool(extra.get("stop_training", False))
        self._restore_callbacks(extra.get("callbacks", {}), path)

    def _restore_callbacks(self, saved: Any, path: str | os.PathLike) -> None:
        """Give each stateful callback the state saved under its ``state_key``; warn about the unmatched."""
        legacy = isinstance(saved, list)
        if legacy:  # written before state keys: a list of {"class", "state"}, matched by a unique class name
            names = [e.get("class") for e in saved]
            saved = {e["class"]: e["state"] for e in saved if e.get("state") and names.count(e.get("class")) == 1}
        saved = dict(saved)
        for cb in self._callbacks:
            if not has_state(cb):
                continue
            key = type(cb).__name__ if legacy else cb.state_key
            if key in saved:
                cb.load_state_dict(saved.pop(key))
            else:
                warnings.warn(f"Trainer.fit: {os.fspath(path)} holds no state for callback {cb.state_key!r}, which "
                              f"starts afresh (saved: {sorted(saved)})", UserWarning, stacklevel=4)
        if saved:
            warnings.warn(f"Trainer.fit: {os.fspath(path)} holds the state of callbacks this run does not have, "
                          f"ignored: {sorted(saved)}", UserWarning, stacklevel=4)

    # ------------------------------------------------------------------------------------------ shortcuts
    def evaluate(self, model: Any, loader: Iterable[Any], loss_fn: LossFn | None = None) -> dict[str, float | None]:
        """See :func:`evaluate` (with this trainer's ``input_key`` and ``target_key``)."""
        loss_fn = loss_fn or self.loss_fn or _default_loss
        return _evaluate(model, loader, lambda batch: _default_step(model, loss_fn, batch, self.input_key,
                                                                    self.target_key, "Trainer.evaluate"),
                         "Trainer.evaluate")

    def predict(self, model: Any, data: Any, batch_size: int = 256, probs: bool = False) -> np.ndarray:
        """See :func:`predict`."""
        return predict(model, data, batch_size, probs)


def _check_state_keys(callbacks: Sequence[Callback]) -> None:
    """Two stateful callbacks under one ``state_key`` would restore each other's state: refuse them."""
    seen: dict[str, Callback] = {}
    for cb in callbacks:
        if isinstance(cb, Callback) and has_state(cb):
            if cb.state_key in seen:
                raise ValueError(f"Trainer.fit: two callbacks share the state key {cb.state_key!r}; give one a "
                                 "distinct state_key (cb.state_key = '...')")
            seen[cb.state_key] = cb
