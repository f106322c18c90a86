"""The homework ``Solver`` (CS231n conventions), backed by minidl's update rules and checkpoints.

A model for the Solver exposes

* ``model.params``: a dict mapping parameter names to NumPy arrays;
* ``model.loss(X, y=None)``: with ``y=None`` (test mode) the class scores (N, C); with labels (train mode)
  a tuple ``(loss, grads)`` where ``grads[name]`` is dL/d``params[name]``.

The data comes as arrays in memory (``X_train``, ``y_train``, ``X_val``, ``y_val``) or as batches:
``data["train"]`` and ``data["val"]`` may be a :class:`~minidl.utils.data.DataLoader` or any re-iterable of
``(X, y)`` batches (tensors or arrays), which is how a dataset too large for memory, or read from files,
is fed. The two kinds can be mixed (a training loader with validation arrays).

Each iteration takes a minibatch, computes ``(loss, grads)`` and applies the update rule to every parameter
with that parameter's own config dict (velocity, moments, ... live there). With arrays, an epoch is
``N // batch_size`` minibatches sampled at random (with replacement, the classic Solver); with batches, an
epoch is one pass over ``data["train"]`` and ``batch_size`` is the loader's business. After every epoch
the learning rate of every config is multiplied by ``lr_decay``, the train and validation accuracies are
measured (on the first ``num_train_samples``/``num_val_samples`` samples: random ones from arrays, the
first batches' from a loader), and the parameters of the best validation accuracy are kept in
``best_params``, which are swapped into the model when training ends.

Minibatches and accuracy subsamples of arrays are drawn from ``rng`` (a NumPy Generator or seed); by
default from minidl's global generator, so ``minidl.manual_seed`` makes runs reproducible. A loader
shuffles with its own generator.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sized
from typing import Any

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .checkpoint import CheckpointError, load_tree, save_tree
from .optim_rules import UPDATE_RULES, UpdateRule, get_update_rule

__all__ = ["Solver"]

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


class Solver:
    """Train a homework-style model with minibatch SGD-family rules (see the module docstring).

    Example::

        solver = Solver(model, data, update_rule="sgd_momentum", optim_config={"learning_rate": 1e-3},
                        lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100)
        solver.train()
        solver.best_val_acc, solver.loss_history, solver.val_acc_history

    ``data`` holds ``X_train``, ``y_train``, ``X_val``, ``y_val`` arrays, or ``train``/``val`` iterables of
    ``(X, y)`` batches in their place (see the module docstring). ``update_rule`` is ``'sgd'``,
    ``'sgd_momentum'``, ``'rmsprop'``, ``'adam'`` or a callable ``rule(w, dw, config) -> (next_w, config)``.
    ``num_train_samples``/``num_val_samples`` bound the samples used to measure the accuracies after each epoch
    (``None``: all). With ``checkpoint_name`` a pickle-free checkpoint ``{checkpoint_name}_epoch_{e}.npz`` is
    written after every epoch; :meth:`load_checkpoint` reads one back.
    """

    def __init__(self, model: Any, data: Mapping[str, Any], update_rule: str | UpdateRule = "sgd",
                 optim_config: Mapping[str, Any] | None = None, lr_decay: float = 1.0, num_epochs: int = 10,
                 batch_size: int = 100, print_every: int = 10, verbose: bool = True,
                 num_train_samples: int | None = 1000, num_val_samples: int | None = None,
                 checkpoint_name: str | os.PathLike | None = None,
                 rng: np.random.Generator | int | None = None) -> None:
        if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
            raise TypeError(f"Solver: model must have a 'params' dict and a 'loss(X, y=None)' method, "
                            f"got {type(model).__name__}")
        if not isinstance(data, Mapping):
            raise TypeError(f"Solver: data must be a dict of arrays (X_train, y_train, X_val, y_val) or of batch "
                            f"iterables (train, val), got {type(data).__name__}")
        self.X_train = self.y_train = self.X_val = self.y_val = None
        self.train_batches: Iterable[Any] | None = None
        self.val_batches: Iterable[Any] | None = None
        for split in ("train", "val"):
            if f"X_{split}" in data or f"y_{split}" in data:
                X, y = data.get(f"X_{split}"), data.get(f"y_{split}")
                if X is None or y is None:
                    absent, present = (f"X_{split}", f"y_{split}") if X is None else (f"y_{split}", f"X_{split}")
                    raise ValueError(f"Solver: data is missing {absent} (it has {present}; give both)")
                if len(X) != len(y):
                    raise ValueError(f"Solver: X_{split} has {len(X)} samples (shape {np.shape(X)}) but y_{split} "
                                     f"has {len(y)} (shape {np.shape(y)})")
                if len(X) == 0:
                    raise ValueError(f"Solver: X_{split} is empty")
                setattr(self, f"X_{split}", X)
                setattr(self, f"y_{split}", y)
            elif split in data:
                batches = data[split]
                if isinstance(batches, Iterator):
                    raise TypeError(f"Solver: data[{split!r}] is a one-shot iterator, which the Solver would use "
                                    "up after one pass; give a DataLoader or another re-iterable (a list)")
                if not isinstance(batches, Iterable) or isinstance(batches, np.ndarray | Tensor):
                    raise TypeError(f"Solver: data[{split!r}] must be a DataLoader or an iterable of (X, y) "
                                    f"batches, got {type(batches).__name__}")
                setattr(self, f"{split}_batches", batches)
            else:
                raise ValueError(f"Solver: data is missing X_{split}/y_{split} (arrays) or {split!r} (batches); "
                                 f"got keys {sorted(data)}")
        if batch_size < 1 or num_epochs < 0:
            raise ValueError(f"Solver: batch_size must be >= 1 and num_epochs >= 0, got {batch_size}, {num_epochs}")
        self.model = model
        self.update_rule = get_update_rule(update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.checkpoint_name = None if checkpoint_name is None else os.fspath(checkpoint_name)
        self.print_every = print_every
        self.verbose = verbose
        self.rng = np.random.default_rng(rng) if isinstance(rng, int) else rng
        self._reset()

    def _generator(self) -> np.random.Generator:
        return self.rng if self.rng is not None else default_generator()

    def _reset(self) -> None:
        """Bookkeeping for a fresh run (no need to call by hand)."""
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        # one config per parameter: the rules keep per-parameter state (velocity, moments) in it
        self.optim_configs = {p: copy.deepcopy(self.optim_config) for p in self.model.params}

    def _random_batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """One epoch of the classic Solver: ``N // batch_size`` minibatches drawn with replacement."""
        assert self.X_train is not None and self.y_train is not None  # no loader: the arrays were given
        num_train = self.X_train.shape[0]
        for _ in range(max(num_train // self.batch_size, 1)):
            batch_mask = self._generator().choice(num_train, self.batch_size)
            yield self.X_train[batch_mask], self.y_train[batch_mask]

    def _epoch_batches(self) -> tuple[Iterator[tuple[np.ndarray, np.ndarray]], int | None]:
        """The minibatches of one epoch, and how many there are (None when the iterable has no length)."""
        if self.train_batches is None:
            assert self.X_train is not None
            return self._random_batches(), max(self.X_train.shape[0] // self.batch_size, 1)
        size = len(self.train_batches) if isinstance(self.train_batches, Sized) else None
        return (_arrays(b, "train") for b in self.train_batches), size

    def _step(self, X: np.ndarray, y: np.ndarray) -> None:
        """One gradient update on the minibatch ``(X, y)``."""
        loss, grads = self.model.loss(X, y)
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            if p not in grads:
                raise KeyError(f"Solver: model.loss returned no gradient for parameter {p!r}")
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def check_accuracy(self, X: Any, y: np.ndarray | None = None, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Fraction of ``X`` classified as ``y`` (argmax of the scores), on a random subsample of
        ``num_samples`` if given, computed ``batch_size`` rows at a time. ``X`` may instead be an iterable of
        ``(X, y)`` batches (then ``y`` is None): the first ``num_samples`` samples it yields are scored."""
        if y is None:
            return self._batches_accuracy(X, num_samples)
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = self._generator().choice(N, num_samples)
            X, y = X[mask], y[mask]
            N = num_samples
        if N == 0:
            raise ValueError("Solver.check_accuracy: no samples")
        preds = []
        for i in range(0, N, batch_size):
            scores = self.model.loss(X[i:i + batch_size])
            preds.append(np.argmax(scores, axis=1))
        return float(np.mean(np.concatenate(preds) == y))

    def _batches_accuracy(self, batches: Iterable[Any], num_samples: int | None) -> float:
        correct = seen = 0
        for batch in batches:
            X, y = _arrays(batch, "accuracy")
            if num_samples is not None:
                X, y = X[: num_samples - seen], y[: num_samples - seen]
            correct += int(np.sum(np.argmax(self.model.loss(X), axis=1) == y))
            seen += len(y)
            if num_samples is not None and seen >= num_samples:
                break
        if seen == 0:
            raise ValueError("Solver.check_accuracy: the batches yielded no samples")
        return correct / seen

    def _accuracies(self) -> tuple[float, float]:
        if self.train_batches is None:
            train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        else:
            train_acc = self._batches_accuracy(self.train_batches, self.num_train_samples)
        if self.val_batches is None:
            val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        else:
            val_acc = self._batches_accuracy(self.val_batches, self.num_val_samples)
        return train_acc, val_acc

    def train(self) -> None:
        """Run the optimisation for ``num_epochs`` epochs and keep the best parameters in the model."""
        t = 0
        for epoch in range(self.num_epochs):
            batches, per_epoch = self._epoch_batches()
            total = "" if per_epoch is None else f" / {self.num_epochs * per_epoch}"
            steps, first_pending = 0, False
            for X, y in batches:
                steps += 1
                if first_pending:  # the first iteration was not the epoch's last: record it now
                    self._record_accuracies()
                    first_pending = False
                self._step(X, y)
                if self.verbose and t % self.print_every == 0:
                    print(f"(Iteration {t + 1}{total}) loss: {self.loss_history[-1]:f}")
                if t == 0:  # accuracies after the very first iteration too, unless the epoch ends there
                    if per_epoch is None:
                        first_pending = True
                    elif per_epoch > 1:
                        self._record_accuracies()
                t += 1
            if steps == 0:
                raise ValueError(f"Solver: data['train'] yielded no batches in epoch {epoch + 1}")
            self.epoch += 1
            for k in self.optim_configs:
                if "learning_rate" in self.optim_configs[k]:
                    self.optim_configs[k]["learning_rate"] *= self.lr_decay
            self._record_accuracies()
        if self.best_params:
            self.model.params = self.best_params

    def _record_accuracies(self) -> None:
        train_acc, val_acc = self._accuracies()
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose:
            print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}

    # ------------------------------------------------------------------------------------------ checkpoints
    def _rule_name(self) -> str:
        for name, fn in UPDATE_RULES.items():
            if fn is self.update_rule:
                return name
        return getattr(self.update_rule, "__name__", type(self.update_rule).__name__)

    def state_tree(self) -> dict[str, Any]:
        """Everything a checkpoint stores: parameters, per-parameter configs, histories and settings."""
        return {
            "params": dict(self.model.params),
            "bn_params": getattr(self.model, "bn_params", None),
            "optim_configs": self.optim_configs,
            "best_params": self.best_params,
            "update_rule": self._rule_name(), "lr_decay": self.lr_decay, "optim_config": self.optim_config,
            "batch_size": self.batch_size, "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples, "epoch": self.epoch, "best_val_acc": self.best_val_acc,
            "loss_history": self.loss_history, "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }  # fmt: skip

    def _save_checkpoint(self) -> None:
        if self.checkpoint_name is None:
            return
        path = f"{self.checkpoint_name}_epoch_{self.epoch}.npz"
        if self.verbose:
            print(f'Saving checkpoint to "{path}"')
        save_tree(path, self.state_tree(), kind="solver")

    def load_checkpoint(self, path: str | os.PathLike) -> dict[str, Any]:
        """Restore parameters, optimizer configs, histories and epoch from a Solver checkpoint; return its tree.

        The model must have the same parameter names and shapes. A callable update rule is not stored (only
        its name), so a checkpoint of a custom rule is restored with the rule this Solver was built with.
        """
        tree = load_tree(path, kind="solver")
        params = tree["params"]
        own = {k: np.shape(v) for k, v in self.model.params.items()}
        saved = {k: np.shape(v) for k, v in params.items()}
        if own != saved:
            raise CheckpointError(path, f"parameters do not match the model: saved {saved}, model {own}")
        self.model.params = dict(params)
        if tree.get("bn_params") is not None and hasattr(self.model, "bn_params"):
            self.model.bn_params = tree["bn_params"]
        if tree["update_rule"] in UPDATE_RULES:
            self.update_rule = UPDATE_RULES[tree["update_rule"]]
        self.optim_configs = tree["optim_configs"]
        self.best_params = tree["best_params"]
        for key in ("lr_decay", "optim_config", "batch_size", "num_train_samples", "num_val_samples", "epoch",
                    "best_val_acc", "loss_history", "train_acc_history", "val_acc_history"):
            setattr(self, key, tree[key])
        return tree


def _arrays(batch: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` as NumPy arrays from a batch of tensors or arrays."""
    if not isinstance(batch, tuple | list) or len(batch) < 2:
        raise TypeError(f"Solver: each {where} batch must be an (X, y) pair, got {type(batch).__name__}")
    X, y = (b._data if isinstance(b, Tensor) else np.asarray(b) for b in batch[:2])
    return X, y
