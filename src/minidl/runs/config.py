"""The configuration of a training run: one table of options, config files, flags, and resolution.

:data:`OPTIONS` is the single list of run settings. From it come the ``minidl train`` flags (``--batch-size``
for ``batch_size``), the keys accepted in a config file, the validation of types, and the defaults.

A config file is TOML (``tomllib`` on Python 3.11+, else the ``tomli`` package), JSON, or YAML (when
PyYAML is installed), with the options as top-level keys and the model's constructor arguments in a
``model_args`` table::

    model = "mlp"
    epochs = 5
    optimizer = "momentum"
    lr = 0.05
    scheduler = "step"
    step_size = 2

    [model_args]
    hidden_dims = [256, 128]

Precedence: defaults < config file < flags. :func:`resolve` then fills in the settings that depend on
others (the optimizer's default learning rate, the scheduler's parameters, the model's default dataset) and
rejects settings that do not apply (``momentum`` for Adam, ``gamma`` without a scheduler), so the resolved
config written to a run directory lists exactly what was used.
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = [
    "ConfigError", "Option", "OPTIONS", "OPTIMIZERS", "SCHEDULERS", "RunConfig", "defaults",
    "load_config_file", "read_settings_file", "check_config", "did_you_mean", "resolve", "to_toml", "parse_model_arg",
]  # fmt: skip


#: optimizer name -> (default lr, settings it accepts among momentum/betas)
OPTIMIZERS: dict[str, tuple[float, tuple[str, ...]]] = {
    "sgd": (0.01, ("momentum",)),
    "momentum": (0.01, ("momentum",)),
    "adam": (3e-3, ("betas",)),
    "adamw": (3e-3, ("betas",)),
    "rmsprop": (1e-3, ("momentum",)),
    "adagrad": (1e-2, ()),
}
#: scheduler name -> the options it reads
SCHEDULERS: dict[str, tuple[str, ...]] = {
    "none": (),
    "step": ("step_size", "gamma"),
    "multistep": ("milestones", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("t_max", "eta_min"),
    "plateau": ("factor", "patience"),
}
_SCHEDULER_OPTIONS = ("step_size", "milestones", "gamma", "t_max", "eta_min", "factor", "patience")


@dataclass(frozen=True)
class Option:
    """One run setting. ``kind``: str, int, float, bool, ints, floats (lists) or table (a dict)."""

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _model_names() -> tuple[str, ...]:
    from .. import models

    return tuple(models.list_models())


OPTIONS: tuple[Option, ...] = (
    Option("model", "str", "lenet5", "zoo model (default lenet5; the models are listed below)"),
    Option("model_args", "table", {}, "constructor arguments of the model, KEY=VALUE (repeatable), "
           "e.g. hidden_dims=[256,128]", metavar="KEY=VALUE"),
    Option("dataset", "str", None, "dataset name (default: 'embedded', the Fashion-MNIST subset shipped "
           "with minidl; 'xor' for the xor model)"),
    Option("data_root", "str", None, "folder holding (or receiving) the dataset files", metavar="DIR"),
    Option("download", "bool", None, "download the dataset if it is not found (default: the dataset's own "
           "default; fashion-mnist, mnist and cifar10 download)"),
    Option("epochs", "int", 5, "total number of epochs (default 5)"),
    Option("batch_size", "int", 64, "training batch size (default 64)"),
    Option("optimizer", "str", "adam", "optimizer (default adam)", tuple(OPTIMIZERS)),
    Option("lr", "float", None, "learning rate (default: 3e-3 adam/adamw, 1e-3 rmsprop, "
           "1e-2 sgd/momentum/adagrad)"),
    Option("momentum", "float", None, "momentum of sgd, momentum (default 0.9) and rmsprop"),
    Option("betas", "floats", None, "Adam's (beta1, beta2), e.g. 0.9,0.999", metavar="B1,B2"),
    Option("weight_decay", "float", None, "weight decay of the optimizer (default 0; 0.01 for adamw)"),
    Option("reg", "float", 0.0, "L2 penalty 0.5*reg*sum(W**2) over the weight matrices and kernels, "
           "added to the loss (default 0)"),
    Option("scheduler", "str", "cosine", "learning-rate schedule (default cosine)", tuple(SCHEDULERS)),
    Option("step_size", "int", None, "step: epochs between decays (default epochs // 3)"),
    Option("milestones", "ints", None, "multistep: epochs at which to decay, e.g. 4,8", metavar="E1,E2"),
    Option("gamma", "float", None, "step/multistep: decay factor (default 0.1); exponential: factor per "
           "epoch (default 0.9)"),
    Option("t_max", "int", None, "cosine: epochs of the half period (default epochs)"),
    Option("eta_min", "float", None, "cosine: final learning rate (default 0)"),
    Option("factor", "float", None, "plateau: decay factor (default 0.1)"),
    Option("patience", "int", None, "plateau: epochs without improvement before decaying (default 2)"),
    Option("seed", "int", 0, "seed of the initialisation, shuffling, augmentation and split (default 0)"),
    Option("augment", "bool", False, "random crops (after 2-pixel padding) and horizontal flips of the "
           "training images"),
    Option("normalize", "bool", True, "standardise images with the training set's per-channel mean and std"),
    Option("train_samples", "int", None, "train on this many samples only (after the validation hold-out)",
           metavar="N"),
    Option("sync_batchnorm", "bool", True, "with several processes (--procs), batch norm statistics over the "
           "whole global batch (SyncBatchNorm), so that N processes train as one does (default on)"),
    Option("on_nonfinite", "str", "stop", "a NaN or infinite loss or gradient: stop the run (keeping the last "
           "good checkpoint), skip that batch, or ignore it (default stop)", choices=("stop", "skip", "ignore")),
    Option("val_split", "float", 0.1, "fraction of the training split held out for validation (default 0.1)"),
    Option("image_size", "int", None, "folder dataset: resize the shorter side to N and crop the centre square "
           "(default: the images' own size, which must be the same for all)", metavar="N"),
    Option("init_from", "str", None, "fine-tuning: start from these weights, a .pth/.safetensors/.npz file (e.g. "
           "another run's model.safetensors) or a weights name such as IMAGENET1K_V1 (ImageNet models)",
           metavar="WEIGHTS"),
    Option("freeze", "str", None, "fine-tuning: keep the parameters under these module paths fixed, comma-separated "
           "(e.g. features)", metavar="PATH[,PATH]"),
    Option("replace_head", "int", None, "fine-tuning: replace the classifier layer by a new one with N outputs "
           "(N = the dataset's classes)", metavar="N"),
    Option("out", "str", None, "run directory (default runs/<model>-<timestamp>)", metavar="DIR"),
)
_BY_NAME = {o.name: o for o in OPTIONS}


class RunConfig(dict):
    """A run's settings: a dict (JSON-able as is) whose keys are also attributes (``cfg.lr``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"RunConfig has no option {name!r}") from None


def defaults() -> RunConfig:
    """Every option at its default value."""
    return RunConfig({o.name: (dict(o.default) if o.kind == "table" else o.default) for o in OPTIONS})


# ============================================================================================ values
def _type_error(where: str, name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{where}: {name} must be {expected}, got {value!r} ({type(value).__name__})")


def _coerce(opt: Option, value: Any, where: str) -> Any:
    """``value`` checked (and, for numbers, converted) against ``opt.kind``; None stays None."""
    if value is None:
        return None
    kind, name = opt.kind, opt.name
    if kind == "str":
        if not isinstance(value, str):
            raise _type_error(where, name, "a string", value)
        if opt.choices is not None and value not in opt.choices:
            raise ConfigError(f"{where}: unknown {name} {value!r}; valid: {', '.join(opt.choices)}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(where, name, "true or false", value)
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(where, name, "an integer", value)
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _type_error(where, name, "a finite number", value)
        return float(value)
    if kind in ("ints", "floats"):
        item = "int" if kind == "ints" else "float"
        if not isinstance(value, list | tuple) or not value:
            raise _type_error(where, name, f"a non-empty list of {item}s", value)
        sub = Option(name, item, None, "")
        return [_coerce(sub, v, where) for v in value]
    if kind == "table":
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _type_error(where, name, "a table of named values", value)
        return dict(value)
    raise AssertionError(f"unknown option kind {kind!r}")  # pragma: no cover - OPTIONS is fixed


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """``" (did you mean 'lr'?)"`` for the valid name closest to ``name``, or ``""`` when none is close: one
    that ``name`` abbreviates or extends (``grace`` -> ``grace_period``), else the most similar one."""
    valid = list(valid)
    close = [v for v in valid if name and (v.startswith(name) or name.startswith(v))][:1]
    close = close or difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_config(values: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``values`` with unknown keys rejected (listing the valid ones) and every value type-checked."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a table of settings, got {type(values).__name__}")
    unknown = [k for k in values if k not in _BY_NAME]
    if unknown:
        hints = [f"{k!r}{did_you_mean(str(k), _BY_NAME)}" for k in unknown]
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                          f"valid keys: {', '.join(_BY_NAME)}")
    return {k: _coerce(_BY_NAME[k], v, where) for k, v in values.items()}


def parse_model_arg(text: str) -> tuple[str, Any]:
    """``"hidden_dims=[256,128]" -> ("hidden_dims", [256, 128])``: the value is a Python literal (numbers,
    strings, lists, tuples, booleans, None) read with :func:`ast.literal_eval`, else the raw string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ConfigError(f"--model-arg: expected KEY=VALUE with KEY a name, got {text!r}")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = raw.strip()
    return key, list(value) if isinstance(value, tuple) else value


# ============================================================================================ files
def _read_toml(text: str, where: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - depends on the Python version
        try:
            import tomli as tomllib
        except ImportError:
            raise ConfigError(f"{where}: reading TOML needs Python 3.11+ or the tomli package "
                              "(pip install tomli); or write the config as JSON") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None


def _read_yaml(text: str, where: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ConfigError(f"{where}: reading YAML needs PyYAML (pip install pyyaml); "
                          "or write the config as TOML or JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """The settings in a TOML (``.toml``), JSON (``.json``) or YAML (``.yaml``/``.yml``) file, checked."""
    where = f"config file {str(path)!r}"
    return check_config(read_settings_file(path, where), where)


def read_settings_file(path: str | Path, where: str) -> Any:
    """The data of a TOML, JSON or YAML file (by its suffix; an empty file is ``{}``), unchecked; errors are
    :class:`ConfigError` messages starting with ``where``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot be read ({type(e).__name__}: {e})") from None
    suffix = p.suffix.lower()
    if suffix == ".toml":
        data = _read_toml(text, where)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{where}: not valid JSON: {e}") from None
    elif suffix in (".yaml", ".yml"):
        data = _read_yaml(text, where)
    else:
        shown = suffix or "(no suffix)"
        raise ConfigError(f"{where}: unknown format {shown!r}; use .toml, .json, .yaml or .yml")
    return {} if data is None else data


# ============================================================================================ resolution
def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


def resolve(values: Mapping[str, Any], given: set[str] | None = None) -> RunConfig:
    """Defaults < ``values``, with the dependent defaults filled in and every setting validated.

    ``given`` names the options the user set explicitly (file or flag); an option that does not apply to
    the chosen optimizer or scheduler is an error when given and dropped (None) otherwise, so a resolved
    config can be resolved again unchanged.
    """
    cfg = defaults()
    cfg.update(check_config(values, "config"))
    given = set(values) if given is None else set(given)
    models = _model_names()
    _require(cfg.model in models, f"unknown model {cfg.model!r}; valid: {', '.join(models)}")
    if cfg.dataset is None:
        cfg["dataset"] = "xor" if cfg.model == "xor" else "embedded"
    for name in ("epochs", "batch_size"):
        _require(cfg[name] >= 1, f"{name} must be >= 1, got {cfg[name]}")
    _require(cfg.train_samples is None or cfg.train_samples >= 1,
             f"train_samples must be >= 1, got {cfg.train_samples}")
    _require(0.0 <= cfg.val_split < 1.0, f"val_split must be in [0, 1), got {cfg.val_split}")
    _require(cfg.reg >= 0.0, f"reg must be >= 0, got {cfg.reg}")
    _require(cfg.replace_head is None or cfg.replace_head >= 1, f"replace_head must be >= 1, got {cfg.replace_head}")
    _require(cfg.image_size is None or cfg.image_size >= 1, f"image_size must be >= 1, got {cfg.image_size}")

    default_lr, accepts = OPTIMIZERS[cfg.optimizer]
    for name in ("momentum", "betas"):
        if name not in accepts:
            _require(name not in given or cfg[name] is None,
                     f"{name} does not apply to the {cfg.optimizer} optimizer (it does to: "
                     f"{', '.join(o for o, (_, a) in OPTIMIZERS.items() if name in a)})")
            cfg[name] = None
    if cfg.lr is None:
        cfg["lr"] = default_lr
    _require(cfg.lr > 0, f"lr must be > 0, got {cfg.lr}")
    if "momentum" in accepts and cfg.momentum is None:
        cfg["momentum"] = 0.9 if cfg.optimizer == "momentum" else 0.0
    if cfg.momentum is not None:
        _require(0.0 <= cfg.momentum < 1.0, f"momentum must be in [0, 1), got {cfg.momentum}")
    if "betas" in accepts:
        if cfg.betas is None:
            cfg["betas"] = [0.9, 0.999]
        _require(len(cfg.betas) == 2 and all(0.0 <= b < 1.0 for b in cfg.betas),
                 f"betas must be two numbers in [0, 1), got {cfg.betas}")
    if cfg.weight_decay is None:
        cfg["weight_decay"] = 0.01 if cfg.optimizer == "adamw" else 0.0
    _require(cfg.weight_decay >= 0.0, f"weight_decay must be >= 0, got {cfg.weight_decay}")

    used = SCHEDULERS[cfg.scheduler]
    for name in _SCHEDULER_OPTIONS:
        if name not in used:
            _require(name not in given or cfg[name] is None,
                     f"{name} does not apply to scheduler {cfg.scheduler!r} (it does to: "
                     f"{', '.join(s for s, opts in SCHEDULERS.items() if name in opts)})")
            cfg[name] = None
    sched_defaults = {
        "step_size": max(1, cfg.epochs // 3),
        "milestones": [max(1, cfg.epochs // 2), max(1, 3 * cfg.epochs // 4)],
        "gamma": 0.9 if cfg.scheduler == "exponential" else 0.1, "t_max": cfg.epochs, "eta_min": 0.0,
        "factor": 0.1, "patience": 2,
    }  # fmt: skip
    for name in used:
        if cfg[name] is None:
            cfg[name] = sched_defaults[name]
    if cfg.scheduler == "multistep":
        cfg["milestones"] = sorted(set(cfg.milestones))
        _require(cfg.milestones[0] >= 1, f"milestones must be epochs >= 1, got {cfg.milestones}")
    for name in ("step_size", "t_max"):
        _require(cfg[name] is None or cfg[name] >= 1, f"{name} must be >= 1, got {cfg[name]}")
    _require(cfg.patience is None or cfg.patience >= 0, f"patience must be >= 0, got {cfg.patience}")
    _require(cfg.gamma is None or cfg.gamma > 0.0, f"gamma must be > 0, got {cfg.gamma}")
    _require(cfg.factor is None or 0.0 < cfg.factor < 1.0, f"factor must be in (0, 1), got {cfg.factor}")
    return cfg


# ============================================================================================ TOML output
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON's escapes (\", \\, \n, \uXXXX) are valid in a TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"to_toml: cannot write a {type(v).__name__} value")


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def to_toml(cfg: Mapping[str, Any], skip: tuple[str, ...] = ("out",), header: str = "") -> str:
    """A config as TOML that :func:`load_config_file` reads back to the same settings.

    TOML has no null, so unset (None) options are left out (they resolve to the same defaults); ``skip``
    options (the run directory, by default, so that reusing the file starts a new run) become comments.
    """
    lines = [f"# {line}" for line in header.splitlines()]
    tables = []
    for k, v in cfg.items():
        if isinstance(v, Mapping):
            tables.append((k, v))
        elif k in skip:
            lines.append(f"# {_toml_key(k)} = {_toml_value(v)}" if v is not None else f"# {k} =")
        elif v is not None:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for name, table in tables:
        lines += ["", f"[{_toml_key(name)}]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"
