"""Fine-tuning in a training run: ``init_from`` weights, ``replace_head`` with a new classifier, ``freeze``
module paths.

The run's model is built with the class count of the weights (a weights name: the table's, e.g. 1000 for
ImageNet; a file: the size of the model's classifier in it) and loaded with them; ``replace_head N`` then puts
a freshly initialised classifier with N outputs in place of the old one; ``freeze`` turns off the gradients of
every parameter under the given module paths (``requires_grad_(False)``), and the optimizer gets only the
parameters still trained; ``freeze body`` freezes everything but the classifier. Frozen batch norms keep their
running statistics: they run in eval mode while the rest trains. What was loaded, replaced and frozen, and how
many parameters were trained, goes into the run's ``run.json`` and report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import models
from ..models._pretrained import head_name, replace_head
from ..models.weights import get_weights, is_weights_file
from ..nn import BatchNorm1d, BatchNorm2d, Module
from ..training import Callback
from .build import RunError, _check_fits, build_model
from .config import RunConfig

__all__ = ["FineTuning", "fine_tuned_model", "pretrained_stats", "FrozenNorms", "BODY"]

BODY = "body"  # freeze's name for every parameter outside the classifier head


@dataclass
class FineTuning:
    """What a run's fine-tuning settings did to its model."""

    init_from: str | None = None
    replaced_head: str | None = None  # "classifier.1: 1000 -> 5 outputs"
    frozen: list[str] = field(default_factory=list)  # the module paths given
    frozen_params: int = 0
    trained_params: int = 0
    frozen_norms: list[Module] = field(default_factory=list, repr=False)

    @property
    def active(self) -> bool:
        return bool(self.init_from or self.replaced_head or self.frozen)

    def notes(self) -> list[str]:
        out = []
        if self.init_from:
            out.append(f"Initialised from {self.init_from}.")
        if self.replaced_head:
            out.append(f"Classifier replaced by a new, randomly initialised layer: {self.replaced_head}.")
        if self.frozen:
            out.append(f"Frozen (not trained): {', '.join(self.frozen)}: {self.frozen_params:,} parameters"
                       + (f", with {len(self.frozen_norms)} batch norms kept in eval mode" if self.frozen_norms else "")
                       + ".")
        out.append(f"Trained: {self.trained_params:,} parameters.")
        return out

    def summary(self) -> dict[str, Any]:
        return {"init_from": self.init_from, "replaced_head": self.replaced_head, "frozen": self.frozen,
                "frozen_params": self.frozen_params, "trained_params": self.trained_params}


def pretrained_stats(cfg: RunConfig) -> tuple[list[float], list[float]] | None:
    """The normalisation that named pretrained weights were trained with (None for files and no weights)."""
    if cfg.get("init_from") is None or is_weights_file(cfg.init_from) or cfg.model not in models.IMAGENET_MODELS:
        return None
    try:
        entry = get_weights(cfg.init_from, cfg.model)
    except ValueError as e:
        raise RunError(f"init_from: {e}") from None
    return list(entry.mean), list(entry.std)


def _pretrained(cfg: RunConfig, input_shape: tuple[int, ...], task: str) -> Module:
    """The run's model with the ``init_from`` weights, sized for their classes: an ImageNet zoo model through
    its ``weights=`` (a file or a weights name), any other zoo model with a classifier ``head`` from a file."""
    if cfg.model in models.IMAGENET_MODELS:
        try:
            return models.IMAGENET_MODELS[cfg.model](weights=cfg.init_from, **cfg.model_args)
        except (ValueError, OSError, TypeError) as e:
            raise RunError(f"init_from {cfg.init_from}: {e}") from None
    if not is_weights_file(cfg.init_from):
        raise RunError(f"init_from {cfg.init_from!r}: weights names exist for {', '.join(models.IMAGENET_MODELS)}; "
                       f"give {cfg.model} a file")
    from ..hub import load_weights

    try:
        state = load_weights(cfg.init_from)
    except (ValueError, OSError) as e:
        raise RunError(f"init_from {cfg.init_from}: {e}") from None
    probe = models.get(cfg.model)
    try:
        head = head_name(probe)
    except TypeError as e:
        raise RunError(f"init_from: {e}") from None
    weight = state.get(f"{head}.weight")
    if weight is None:
        raise RunError(f"init_from {cfg.init_from}: no {head}.weight in the file; is it a {cfg.model}?")
    model = build_model(cfg.model, cfg.model_args, input_shape, int(weight.shape[0]), task)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise RunError(f"init_from {cfg.init_from}: the weights do not fit {cfg.model}: {e}") from None
    return model


def fine_tuned_model(cfg: RunConfig, model: Module | None, input_shape: tuple[int, ...], num_classes: int,
                     task: str) -> tuple[Module, FineTuning]:
    """The run's model after its fine-tuning settings (``model``: the one built without them, used when no
    weights are loaded)."""
    tuning = FineTuning()
    if cfg.get("init_from") is not None:
        model = _pretrained(cfg, input_shape, task)
        tuning.init_from = str(cfg.init_from)
    assert model is not None
    if cfg.get("replace_head") is not None:
        if cfg.replace_head != num_classes:
            raise RunError(f"replace_head {cfg.replace_head} does not match the {num_classes} classes of dataset "
                           f"{cfg.dataset!r}")
        try:
            path = head_name(model)
        except TypeError as e:
            raise RunError(f"replace_head: {e}") from None
        before = model.get_submodule(path).weight.shape[0]
        replace_head(model, cfg.replace_head)
        tuning.replaced_head = f"{path}: {before} -> {cfg.replace_head} outputs"
    _check_fits(model, cfg.model, input_shape, num_classes, task)
    for prefix in [p.strip() for p in (cfg.get("freeze") or "").split(",") if p.strip()]:
        if prefix == BODY:
            head = head_name(model)
            params = [p for name, p in model.named_parameters() if not name.startswith(head + ".")]
            tuning.frozen.append(f"everything but the classifier {head}")
            tuning.frozen_norms += [m for m in model.modules() if isinstance(m, BatchNorm1d | BatchNorm2d)]
            for p in params:
                p.requires_grad_(False)
            continue
        params = [p for name, p in model.named_parameters() if name == prefix or name.startswith(prefix + ".")]
        if not params:
            names = sorted({n.rsplit(".", 1)[0].split(".")[0] for n, _ in model.named_parameters()})
            raise RunError(f"freeze: no parameter of {cfg.model} lies under {prefix!r} (top-level modules: "
                           f"{', '.join(names)})")
        for p in params:
            p.requires_grad_(False)
        tuning.frozen.append(prefix)
        sub = model.get_submodule(prefix)
        tuning.frozen_norms += [m for m in sub.modules() if isinstance(m, BatchNorm1d | BatchNorm2d)]
    tuning.frozen_params = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    tuning.trained_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if tuning.trained_params == 0:
        raise RunError(f"freeze {cfg.freeze!r} leaves no parameter to train")
    return model, tuning


class FrozenNorms(Callback):
    """Keeps the batch norms of frozen modules in eval mode (their running statistics fixed) while the rest of
    the model trains: the trainer sets train mode each epoch, this sets them back before every batch."""

    def __init__(self, norms: list[Module]) -> None:
        self.norms = norms

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        for m in self.norms:
            m.training = False
