"""The sweep spec: what ``minidl sweep SPEC`` reads, checked into a :class:`SweepSpec` (no Ray needed).

A spec is a TOML, JSON or YAML file, or a dict for :func:`minidl.tune.sweep`::

    name = "lr-sweep"        # title of the report and of the default directory sweeps/<name>-<time>
    metric = "val_acc"       # what the trials are ranked by: val_acc (default), val_loss, train_acc, train_loss
    mode = "max"             # max for accuracies, min for losses (the default follows the metric)
    num_samples = 8          # draws from the space; a grid is run num_samples times over
    search = "random"        # random (default; grid entries crossed, the others drawn), grid, optuna (TPE)
    search_seed = 0          # seed of the draws (random and optuna): the same spec draws the same trials
    rank_by = "final"        # rank by the metric of the last epoch (default), or of the best epoch ("best")
    max_concurrent = 0       # at most this many trials at once (0: as many as the CPUs allow)
    out = "sweeps/lr"        # the sweep directory (default sweeps/<name>-<time>); --out overrides it

    [base]                   # a `minidl train` config (same keys), or: base = "run.toml" (beside the spec)
    model = "mlp"
    epochs = 3
    [base.model_args]
    hidden_dims = []

    [space]                  # train option = { domain = arguments }
    lr = { loguniform = [1e-5, 1e-1] }
    batch_size = { grid = [10, 25, 50] }
    optimizer = { choice = ["sgd", "momentum"] }
    reg = { uniform = [0.0, 1e-3] }
    seed = { randint = [0, 4] }                     # 0, 1, 2 or 3: the upper end is excluded
    "model_args.hidden_dims" = { grid = [[50], [100], [200]] }

    [scheduler]              # optional: "asha" or "pbt" (a string, or a table with type = ...)
    type = "asha"
    grace_period = 1         # asha: epochs every trial gets (default 1)
    reduction_factor = 2     # asha: keep the best 1/reduction_factor at each rung (default 2)

    [resources]
    cpus = 1                 # CPUs per trial (default 1); also the BLAS threads each trial uses

PBT (``type = "pbt"``) takes ``perturbation_interval`` (epochs, default 1), ``quantile_fraction`` (0.25),
``resample_probability`` (0.25), ``synch`` (false: each trial is compared with the others whenever it
reaches a perturbation point; true: all trials wait for each other there, which is slower but does not
depend on timing) and ``[scheduler.mutations]``: domains (choice, uniform, loguniform, randint) over
``lr``, ``momentum`` and ``weight_decay``, the settings a running trial can change. There is no
perturbation after a trial's last epoch.

Every error is one :class:`~minidl.errors.ConfigError` line naming the key (``space.lrr``) with a "did
you mean" suggestion where one is close. The base and every value of the space are checked by the same
:func:`~minidl.runs.config.check_config` and :func:`~minidl.runs.config.resolve` as ``minidl train``'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..runs.config import (
    OPTIONS,
    SCHEDULERS,
    RunConfig,
    check_config,
    did_you_mean,
    load_config_file,
    read_settings_file,
    resolve,
)

__all__ = ["SweepSpec", "Domain", "SchedulerSpec", "load_spec", "parse_spec", "trial_config", "METRICS",
           "DOMAINS"]

TOP_KEYS = ("name", "base", "space", "metric", "mode", "num_samples", "search", "search_seed", "rank_by",
            "max_concurrent", "scheduler", "resources", "out")
DOMAINS = ("grid", "choice", "uniform", "loguniform", "randint")
#: per-epoch metrics a trial reports (the Trainer's names)
METRICS = ("val_acc", "val_loss", "train_acc", "train_loss")
SEARCHES = ("random", "grid", "optuna")
RANK_BY = ("final", "best")
#: scheduler type -> its options and their defaults
SCHEDULER_OPTIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "asha": {"grace_period": 1, "reduction_factor": 2.0, "brackets": 1},
    "pbt": {"perturbation_interval": 1, "quantile_fraction": 0.25, "resample_probability": 0.25, "synch": False,
            "mutations": {}},
}
#: the settings PBT may change in a running trial (applied to the optimizer when it continues a checkpoint)
PBT_MUTABLE = ("lr", "momentum", "weight_decay")
MODEL_ARG = "model_args."
_BY_NAME = {o.name: o for o in OPTIONS}
_NOT_TUNABLE = {"out": "the sweep gives every trial its own run directory",
                "model_args": 'tune constructor arguments one at a time, as "model_args.NAME"'}
# settings that stop applying when the optimizer or the scheduler is itself tuned (see trial_values)
_OPTIMIZER_DEPENDENT = {"momentum", "betas"}
_SCHEDULER_DEPENDENT = {name for opts in SCHEDULERS.values() for name in opts}


@dataclass(frozen=True)
class Domain:
    """Where a hyperparameter's values come from: ``kind`` in :data:`DOMAINS` and its arguments (the values
    of grid and choice, ``(low, high)`` of the others; randint excludes ``high``, as Python's range does)."""

    kind: str
    args: tuple[Any, ...]

    def to_json(self) -> dict[str, list[Any]]:
        return {self.kind: list(self.args)}

    def describe(self) -> str:
        """``"loguniform(1e-05, 0.1)"``, ``"grid [10, 25, 50]"``: how the report shows it."""
        if self.kind in ("grid", "choice"):
            return f"{self.kind} {list(self.args)}"
        return f"{self.kind}({self.args[0]!r}, {self.args[1]!r})"


@dataclass(frozen=True)
class SchedulerSpec:
    """The trial scheduler: ``kind`` none, asha or pbt, its options (defaults filled in), PBT's mutations."""

    kind: str = "none"
    options: dict[str, Any] = field(default_factory=dict)
    mutations: dict[str, Domain] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep spec. ``base`` holds the base config's settings as given (checked, not resolved, so
    that a trial resolves base + its own values as ``minidl train`` resolves a config file + flags)."""

    name: str
    base: dict[str, Any]
    space: dict[str, Domain]
    metric: str = "val_acc"
    mode: str = "max"
    num_samples: int = 1
    search: str = "random"
    search_seed: int = 0
    rank_by: str = "final"
    max_concurrent: int = 0
    scheduler: SchedulerSpec = field(default_factory=SchedulerSpec)
    cpus: float = 1.0
    out: str | None = None

    @property
    def tuned(self) -> list[str]:
        """The hyperparameters that vary between trials: the space's keys, then PBT's mutated ones."""
        return list(self.space) + [k for k in self.scheduler.mutations if k not in self.space]

    @property
    def log_scaled(self) -> list[str]:
        """The hyperparameters drawn log-uniformly (plotted on a log axis)."""
        domains = {**self.scheduler.mutations, **self.space}
        return [k for k, d in domains.items() if d.kind == "loguniform"]

    def base_config(self) -> RunConfig:
        """The base config resolved (as a trial with no values of its own would run)."""
        return resolve(self.base, set(self.base))

    def num_trials(self) -> int:
        """How many trials the sweep runs: num_samples, times the size of every grid for random search."""
        grids = [len(d.args) for d in self.space.values() if d.kind == "grid"]
        return self.num_samples * (math.prod(grids) if self.search != "optuna" else 1)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON data; :func:`parse_spec` reads it back to an equal spec."""
        sched: dict[str, Any] = {"type": self.scheduler.kind, **self.scheduler.options}
        if self.scheduler.kind == "pbt":
            sched["mutations"] = {k: d.to_json() for k, d in self.scheduler.mutations.items()}
        data = {
            "name": self.name, "base": self.base, "space": {k: d.to_json() for k, d in self.space.items()},
            "metric": self.metric, "mode": self.mode, "num_samples": self.num_samples, "search": self.search,
            "search_seed": self.search_seed, "rank_by": self.rank_by, "max_concurrent": self.max_concurrent,
            "scheduler": sched, "resources": {"cpus": self.cpus},
        }  # fmt: skip
        if self.out is not None:
            data["out"] = self.out
        return data


# ============================================================================================ reading
def load_spec(path: str | Path) -> SweepSpec:
    """The checked spec in a TOML, JSON or YAML file (``base = "file"`` is relative to the spec's folder)."""
    p = Path(path)
    where = f"sweep spec {str(p)!r}"
    data = read_settings_file(p, where)
    if isinstance(data, Mapping) and "name" not in data:
        data = {**data, "name": p.stem}
    return parse_spec(data, where, base_dir=p.parent)


def parse_spec(data: Any, where: str = "sweep spec", base_dir: str | Path | None = None) -> SweepSpec:
    """Check a spec given as data (a dict, as read from a file) and return it as a :class:`SweepSpec`.

    Raises :class:`~minidl.errors.ConfigError` with a one-line message naming the key.
    """
    if isinstance(data, SweepSpec):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table of settings, got {type(data).__name__}")
    _no_unknown(data, TOP_KEYS, where, "")
    name = _string(data.get("name", "sweep"), f"{where}: name")
    base = _base(data.get("base", {}), where, Path(base_dir) if base_dir is not None else Path.cwd())
    try:
        base_cfg = resolve(base, set(base))
    except ConfigError as e:
        raise ConfigError(f"{where}: base: {e}") from None
    space_data = data.get("space", {})
    if not isinstance(space_data, Mapping):
        raise ConfigError(f"{where}: space must be a table of option = {{ domain = [...] }}, "
                          f"got {space_data!r}")
    space = {str(k): _domain(f"{where}: space.{k}", v) for k, v in space_data.items()}
    for key in space:
        _check_key(key, base_cfg, space, f"{where}: space.{key}")

    metric = _one_of(data.get("metric", "val_acc"), METRICS, f"{where}: metric")
    default_mode = "max" if metric.endswith("acc") else "min"
    mode = _one_of(data.get("mode", default_mode), ("min", "max"), f"{where}: mode")
    if mode != default_mode:
        raise ConfigError(f"{where}: mode {mode!r} with metric {metric!r} would rank the worst trial first; "
                          f"use mode = {default_mode!r} (or leave it out)")
    search = _one_of(data.get("search", "random"), SEARCHES, f"{where}: search")
    sched = _scheduler(data.get("scheduler", "none"), base_cfg, space, where)
    resources = data.get("resources", {})
    if not isinstance(resources, Mapping):
        raise ConfigError(f"{where}: resources must be a table such as {{ cpus = 1 }}, got {resources!r}")
    _no_unknown(resources, ("cpus",), where, "resources.")
    cpus = _number(resources.get("cpus", 1), f"{where}: resources.cpus", low=0.0, low_open=True)
    out = data.get("out")
    spec = SweepSpec(
        name=name, base=base, space=space, metric=metric, mode=mode,
        num_samples=_integer(data.get("num_samples", 1), f"{where}: num_samples", low=1), search=search,
        search_seed=_integer(data.get("search_seed", 0), f"{where}: search_seed", low=0),
        rank_by=_one_of(data.get("rank_by", "final"), RANK_BY, f"{where}: rank_by"),
        max_concurrent=_integer(data.get("max_concurrent", 0), f"{where}: max_concurrent", low=0),
        scheduler=sched, cpus=float(cpus), out=None if out is None else _string(out, f"{where}: out"),
    )  # fmt: skip
    for key, domain in space.items():
        # a setting of the optimizer or schedule must apply to the base's, unless that is tuned too (then the
        # trials it does not apply to drop it)
        controlled = (key in _OPTIMIZER_DEPENDENT and "optimizer" in space) or (
            key in _SCHEDULER_DEPENDENT and "scheduler" in space)
        _check_values(spec, key, domain, f"{where}: space.{key}", given=not controlled)
    for key, domain in sched.mutations.items():
        _check_values(spec, key, domain, f"{where}: scheduler.mutations.{key}", given=True)
    _check_search(spec, where)
    _check_metric(spec, base_cfg, where)
    return spec


# ============================================================================================ trial configs
def trial_values(spec: SweepSpec, params: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A trial's settings (the base with the trial's ``params`` on top) and the ones counted as given.

    The trial's own values are never "given": one that does not apply (momentum for a trial that drew
    Adam) is dropped, as :func:`~minidl.runs.config.resolve` drops defaults that do not apply. When the
    optimizer (scheduler) is tuned, the base's optimizer (scheduler) settings are dropped in the trials they
    do not apply to as well, so a sweep over SGD against Adam may keep ``momentum = 0.9`` in its base.
    """
    values = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in spec.base.items()}
    for key, value in params.items():
        if key.startswith(MODEL_ARG):
            values["model_args"] = {**values.get("model_args", {}), key[len(MODEL_ARG):]: value}
        else:
            values[key] = value
    given = set(spec.base)
    if "optimizer" in params:
        given -= _OPTIMIZER_DEPENDENT
    if "scheduler" in params:
        given -= _SCHEDULER_DEPENDENT
    return values, given


def trial_config(spec: SweepSpec, params: Mapping[str, Any], out: str | Path) -> RunConfig:
    """The resolved ``minidl train`` config of the trial with hyperparameters ``params``, run in ``out``."""
    values, given = trial_values(spec, params)
    values["out"] = str(out)
    return resolve(values, given | {"out"})


# ============================================================================================ parts
def _no_unknown(data: Mapping[str, Any], valid: tuple[str, ...] | list[str], where: str, prefix: str) -> None:
    for k in data:
        if k not in valid:
            raise ConfigError(f"{where}: unknown key {prefix}{k}{did_you_mean(str(k), valid)}; valid keys "
                              f"there: {', '.join(valid)}")


def _string(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(f"{where} must be a non-empty string, got {v!r}")
    return v


def _one_of(v: Any, valid: tuple[str, ...], where: str) -> str:
    if not isinstance(v, str) or v not in valid:
        hint = did_you_mean(v, valid) if isinstance(v, str) else ""
        raise ConfigError(f"{where}: unknown value {v!r}{hint}; valid: {', '.join(valid)}")
    return v


def _integer(v: Any, where: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ConfigError(f"{where} must be an integer >= {low}, got {v!r}")
    return int(v)


def _number(v: Any, where: str, low: float, low_open: bool = False, high: float | None = None,
            high_open: bool = False) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        span = f"{'(' if low_open else '['}{low:g}, " + (f"{high:g}{')' if high_open else ']'}" if high is not None
                                                       else "inf)")
        raise ConfigError(f"{where} must be a number in {span}, got {v!r}")
    return float(v)


def _base(data: Any, where: str, base_dir: Path) -> dict[str, Any]:
    """The base config: a table of ``minidl train`` settings, or the path of a config file."""
    if isinstance(data, str):
        path = Path(data) if Path(data).is_absolute() else base_dir / data
        try:
            base = load_config_file(path)
        except ConfigError as e:
            raise ConfigError(f"{where}: base: {e}") from None
    else:
        base = check_config(data, f"{where}: base")
    if "out" in base:
        raise ConfigError(f"{where}: base.out: the sweep gives every trial its own run directory "
                          "(<sweep>/trials/<trial>); remove it (set the sweep's directory with out or --out)")
    if isinstance(base.get("data_root"), str):  # trials run in other working directories
        base["data_root"] = str(Path(base["data_root"]).expanduser().absolute())
    return base


def _domain(where: str, v: Any) -> Domain:
    shape = "a table with one domain, e.g. { choice = [...] } or { loguniform = [1e-4, 1e-1] }"
    if not isinstance(v, Mapping):
        raise ConfigError(f"{where}: expected {shape}, got {v!r} (a constant belongs in [base])")
    if len(v) != 1:
        raise ConfigError(f"{where}: expected {shape} (exactly one of {', '.join(DOMAINS)}), "
                          f"got {', '.join(map(str, v)) or 'an empty table'}")
    kind, args = next(iter(v.items()))
    if kind not in DOMAINS:
        raise ConfigError(f"{where}: unknown domain {kind!r}{did_you_mean(str(kind), DOMAINS)}; "
                          f"valid: {', '.join(DOMAINS)}")
    if not isinstance(args, list | tuple) or not args:
        raise ConfigError(f"{where}: {kind} takes a non-empty list, got {args!r}")
    if kind in ("grid", "choice"):
        return Domain(kind, tuple(args))
    if len(args) != 2:
        raise ConfigError(f"{where}: {kind} takes [low, high], got {list(args)!r}")
    low, high = args
    if kind == "randint":
        if any(isinstance(x, bool) or not isinstance(x, int) for x in args) or low >= high:
            raise ConfigError(f"{where}: randint takes two integers [low, high] with low < high (high is "
                              f"excluded), got {list(args)!r}")
        return Domain(kind, (int(low), int(high)))
    if any(isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) for x in args) \
            or low >= high or (kind == "loguniform" and low <= 0):
        need = "0 < low < high" if kind == "loguniform" else "low < high"
        raise ConfigError(f"{where}: {kind} takes two numbers [low, high] with {need}, got {list(args)!r}")
    return Domain(kind, (float(low), float(high)))


def _check_key(key: str, base_cfg: RunConfig, space: Mapping[str, Domain], where: str) -> None:
    """The key names a train option (or a constructor argument of the model, ``model_args.NAME``)."""
    if key in _NOT_TUNABLE:
        raise ConfigError(f"{where}: {key} cannot be tuned: {_NOT_TUNABLE[key]}")
    if key.startswith(MODEL_ARG):
        arg = key[len(MODEL_ARG):]
        if not arg.isidentifier():
            raise ConfigError(f"{where}: {arg!r} is not an argument name")
        if "model" in space:  # several models: each trial's build checks its own arguments
            return
        from ..runs.build import model_spec

        params = list(model_spec(base_cfg.model).params)
        if params and arg not in params:
            raise ConfigError(f"{where}: model {base_cfg.model!r} takes no argument {arg!r}"
                              f"{did_you_mean(arg, params)}; it takes: {', '.join(params)}")
        return
    if key not in _BY_NAME:
        candidates = [o for o in _BY_NAME if o not in _NOT_TUNABLE]
        raise ConfigError(f"{where}: unknown option {key!r}{did_you_mean(key, candidates)}; see "
                          "`minidl train --help` for the options")


def _samples(domain: Domain) -> list[Any]:
    """Values that stand for the whole domain in checks: every listed value, or both ends of a range (the
    excluded upper end of uniform and randint replaced by the largest value inside)."""
    if domain.kind in ("grid", "choice"):
        return list(domain.args)
    low, high = domain.args
    if domain.kind == "randint":
        return [low, high - 1]
    return [low, high if domain.kind == "loguniform" else math.nextafter(high, low)]


def _check_values(spec: SweepSpec, key: str, domain: Domain, where: str, given: bool) -> None:
    """Every value the domain can produce has the option's type and resolves with the base config."""
    opt = _BY_NAME.get(key)
    if opt is not None and domain.kind in ("uniform", "loguniform") and opt.kind != "float":
        other = "randint, grid or choice" if opt.kind == "int" else "grid or choice"
        raise ConfigError(f"{where}: {domain.kind} draws real numbers, but {key} is {_KIND_WORDS[opt.kind]} "
                          f"option; use {other}")
    if opt is not None and domain.kind == "randint" and opt.kind not in ("int", "float"):
        raise ConfigError(f"{where}: randint draws integers, but {key} is {_KIND_WORDS[opt.kind]} option; use "
                          "grid or choice")
    for value in _samples(domain):
        if opt is not None:
            value = check_config({key: float(value) if opt.kind == "float" else value}, where)[key]
        values, base_given = trial_values(spec, {key: value})
        try:
            resolve(values, base_given | ({key} if given else set()))
        except ConfigError as e:
            raise ConfigError(f"{where}: the value {value!r} does not work with the base config: {e}") from None


_KIND_WORDS = {"int": "an integer", "float": "a real-number", "str": "a text", "bool": "a true/false",
               "ints": "a list", "floats": "a list", "table": "a table"}


def _scheduler(data: Any, base_cfg: RunConfig, space: Mapping[str, Domain], where: str) -> SchedulerSpec:
    if isinstance(data, str):
        data = {"type": data}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: scheduler must be 'asha', 'pbt', 'none' or a table with type = ..., "
                          f"got {data!r}")
    kind = _one_of(data.get("type", "none"), tuple(SCHEDULER_OPTIONS), f"{where}: scheduler.type")
    defaults = SCHEDULER_OPTIONS[kind]
    _no_unknown(data, ["type", *defaults], where, "scheduler.")
    if kind == "none":
        return SchedulerSpec()
    if "epochs" in space:
        raise ConfigError(f"{where}: space.epochs cannot be tuned with a scheduler: the {kind} scheduler "
                          "works on trials of one length (base.epochs)")
    epochs = base_cfg.epochs
    w = f"{where}: scheduler."
    options: dict[str, Any] = {}
    mutations: dict[str, Domain] = {}
    if kind == "asha":
        options["grace_period"] = _integer(data.get("grace_period", 1), w + "grace_period", low=1)
        if options["grace_period"] > epochs:
            raise ConfigError(f"{w}grace_period ({options['grace_period']}) must be at most base.epochs "
                              f"({epochs})")
        options["reduction_factor"] = _number(data.get("reduction_factor", 2), w + "reduction_factor", low=1.0,
                                              low_open=True)
        options["brackets"] = _integer(data.get("brackets", 1), w + "brackets", low=1)
        return SchedulerSpec(kind, options)
    interval = _integer(data.get("perturbation_interval", 1), w + "perturbation_interval", low=1)
    if interval >= epochs:
        raise ConfigError(f"{w}perturbation_interval ({interval}) must be less than base.epochs ({epochs}), "
                          "or PBT never changes a trial")
    options["perturbation_interval"] = interval
    options["quantile_fraction"] = _number(data.get("quantile_fraction", 0.25), w + "quantile_fraction",
                                           low=0.0, low_open=True, high=0.5)
    options["resample_probability"] = _number(data.get("resample_probability", 0.25),
                                              w + "resample_probability", low=0.0, high=1.0)
    options["synch"] = data.get("synch", False)
    if not isinstance(options["synch"], bool):
        raise ConfigError(f"{w}synch must be true or false, got {options['synch']!r}")
    raw = data.get("mutations", {})
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{w}mutations: PBT needs a table of the settings it may change ({', '.join(PBT_MUTABLE)})"
                          ", e.g. lr = { loguniform = [1e-4, 1e-1] }")
    for key, v in raw.items():
        if key not in PBT_MUTABLE:
            raise ConfigError(f"{w}mutations.{key}: PBT can change only {', '.join(PBT_MUTABLE)} in a running "
                              f"trial{did_you_mean(str(key), PBT_MUTABLE)}")
        mutations[key] = _domain(f"{w}mutations.{key}", v)
        if mutations[key].kind == "grid":
            raise ConfigError(f"{w}mutations.{key}: PBT draws new values; use choice, uniform, loguniform or "
                              "randint, not grid")
    return SchedulerSpec(kind, options, mutations)


def _check_search(spec: SweepSpec, where: str) -> None:
    if spec.search == "grid":
        for key, d in spec.space.items():
            if d.kind != "grid":
                raise ConfigError(f"{where}: space.{key}: search = 'grid' runs grids only; make it "
                                  f"{{ grid = [...] }} or use search = 'random'")
    if spec.search == "optuna":
        for key, d in spec.space.items():
            if d.kind == "grid":
                raise ConfigError(f"{where}: space.{key}: Optuna's TPE does not take grids; use "
                                  "{ choice = [...] } (or search = 'random')")
        if spec.scheduler.kind == "pbt":
            raise ConfigError(f"{where}: scheduler.type: PBT picks its own values and works with search = "
                              "'random' only, not 'optuna'")
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise ConfigError(f"{where}: search = 'optuna' needs the optuna package, part of the sweep "
                              "extra: pip install 'minidl[sweep]'") from None
    if not spec.space and not spec.scheduler.mutations and spec.num_samples > 1:
        raise ConfigError(f"{where}: space is empty, so all {spec.num_samples} samples would train the same "
                          "config; add a [space] (e.g. seed = { randint = [0, 10] } to compare seeds)")


def _check_metric(spec: SweepSpec, base_cfg: RunConfig, where: str) -> None:
    """The metric is measured: a validation set exists in every trial, accuracy only for classifiers."""
    if spec.metric.startswith("val_"):
        splits = _samples(spec.space["val_split"]) if "val_split" in spec.space else [base_cfg.val_split]
        if any(s == 0 for s in splits):
            raise ConfigError(f"{where}: metric {spec.metric!r} needs a validation set, but val_split can be 0; "
                              f"set base.val_split > 0 or rank by train_{spec.metric[4:]}")
    if spec.metric.endswith("_acc"):
        from ..runs.build import model_spec

        names = list(spec.space["model"].args) if "model" in spec.space else [base_cfg.model]
        for name in names:
            if model_spec(name).task != "classification":
                raise ConfigError(f"{where}: metric {spec.metric!r}: model {name!r} reconstructs its input and "
                                  "has no accuracy; use val_loss or train_loss")


def safe_name(name: str) -> str:
    """``name`` usable as a directory name (anything but letters, digits, ``.``, ``_``, ``-`` becomes ``-``)."""
    return re.sub(r"[^\w.-]+", "-", name).strip("-.") or "sweep"
