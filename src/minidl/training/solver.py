"""The homework ``Solver`` (CS231n conventions), backed by minidl's update rules and checkpoints.

A model for the Solver exposes

* ``model.params``: a dict mapping parameter names to NumPy arrays;
* ``model.loss(X, y=None)``: with ``y=None`` (test mode) the class scores (N, C); with labels (train mode)
  a tuple ``(loss, grads)`` where ``grads[name]`` is dL/d``params[name]``.

Each iteration samples a minibatch, computes ``(loss, grads)`` and applies the update rule to every
parameter with that parameter's own config dict (velocity, moments, ... live there). After every epoch the
learning rate of every config is multiplied by ``lr_decay``, the train and validation accuracies are
measured (on subsamples), and the parameters of the best validation accuracy are kept in ``best_params``,
which are swapped into the model when training ends.

Minibatches and accuracy subsamples are drawn from ``rng`` (a NumPy Generator or seed); by default from
minidl's global generator, so ``minidl.manual_seed`` makes runs reproducible.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..random import default_generator
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

    ``data`` holds ``X_train``, ``y_train``, ``X_val``, ``y_val``. ``update_rule`` is ``'sgd'``,
    ``'sgd_momentum'``, ``'rmsprop'``, ``'adam'`` or a callable ``rule(w, dw, config) -> (next_w, config)``.
    ``num_train_samples``/``num_val_samples`` bound the samples used to measure the accuracies after each epoch
    (``None``: all). With ``checkpoint_name`` a pickle-free checkpoint ``{checkpoint_name}_epoch_{e}.npz`` is
    written after every epoch; :meth:`load_checkpoint` reads one back.
    """

    def __init__(self, model: Any, data: Mapping[str, np.ndarray], update_rule: str | UpdateRule = "sgd",
                 optim_config: Mapping[str, Any] | None = None, lr_decay: float = 1.0, num_epochs: int = 10,
                 batch_size: int = 100, print_every: int = 10, verbose: bool = True,
                 num_train_samples: int | None = 1000, num_val_samples: int | None = None,
                 checkpoint_name: str | os.PathLike | None = None,
                 rng: np.random.Generator | int | None = None) -> None:
        if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss", None)):
            raise TypeError(f"Solver: model must have a 'params' dict and a 'loss(X, y=None)' method, "
                            f"got {type(model).__name__}")
        missing = [k for k in _DATA_KEYS if k not in data]
        if missing:
            raise ValueError(f"Solver: data is missing {missing}; expected keys {list(_DATA_KEYS)}")
        for split in ("train", "val"):
            X, y = data[f"X_{split}"], data[f"y_{split}"]
            if len(X) != len(y):
                raise ValueError(f"Solver: X_{split} has {len(X)} samples (shape {np.shape(X)}) but y_{split} "
                                 f"has {len(y)} (shape {np.shape(y)})")
            if len(X) == 0:
                raise ValueError(f"Solver: X_{split} is empty")
        if batch_size < 1 or num_epochs < 0:
            raise ValueError(f"Solver: batch_size must be >= 1 and num_epochs >= 0, got {batch_size}, {num_epochs}")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
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

    def _step(self) -> None:
        """One gradient update on a random minibatch."""
        num_train = self.X_train.shape[0]
        batch_mask = self._generator().choice(num_train, self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch_mask], self.y_train[batch_mask])
        self.loss_history.append(float(loss))
        for p, w in self.model.params.items():
            if p not in grads:
                raise KeyError(f"Solver: model.loss returned no gradient for parameter {p!r}")
            next_w, next_config = self.update_rule(w, grads[p], self.optim_configs[p])
            self.model.params[p] = next_w
            self.optim_configs[p] = next_config

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Fraction of ``X`` classified as ``y`` (argmax of the scores), on a random subsample of
        ``num_samples`` if given, computed ``batch_size`` rows at a time."""
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

    def train(self) -> None:
        """Run the optimisation for ``num_epochs`` epochs and keep the best parameters in the model."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        for t in range(num_iterations):
            self._step()
            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for k in self.optim_configs:
                    if "learning_rate" in self.optim_configs[k]:
                        self.optim_configs[k]["learning_rate"] *= self.lr_decay
            # accuracies at the first iteration, the last one and every epoch end
            if t == 0 or t == num_iterations - 1 or epoch_end:
                train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
                val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)
                self._save_checkpoint()
                if self.verbose:
                    print(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
                if val_acc > self.best_val_acc:
                    self.best_val_acc = val_acc
                    self.best_params = {k: v.copy() for k, v in self.model.params.items()}
        if self.best_params:
            self.model.params = self.best_params

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
