"""Running a sweep on Ray Tune: the Ray session, the Tuner (new or restored), and the sweep directory.

A sweep directory holds::

    sweep.json           the spec (as checked) and one entry per session (start, wall time, interrupted)
    ray/                 Ray Tune's experiment: its state, each trial's results and checkpoints
    trials/<trial id>/   each trial's minidl run directory (config, metrics, checkpoint, plots, report)
    results.csv          the results table, best first
    best_config.toml     the best trial's config, ready for `minidl train --config`
    curves.png, hyperparameters.png, sweep.md, sweep.html

Ray: with no address, a new local Ray starts inside the process (``ray.init(address="local")``, all the
machine's cores; never a cluster some earlier ``ray start`` left behind) and stops at the end.
``address="auto"`` or ``"HOST:PORT"`` joins a running cluster, whose nodes must have minidl installed and
see the sweep directory (a shared filesystem), as Ray's own storage path requires. If Ray is already
initialised (a notebook), that session is used as it is.

Resume: ``Tuner.restore`` continues the experiment saved in ``ray/``: finished trials are not run again,
unfinished ones continue from their last checkpoint (see :mod:`.trial` for how a trial picks it). Ray
saves its experiment state every second here (``TUNE_GLOBAL_CHECKPOINT_S``, unless set) rather than every
10 s, so a killed driver loses little. Ray's state is pickled: resume only sweep directories you trust.

Trials the scheduler stopped early are killed by Ray mid-run; when the Tuner returns, their results (test
evaluation, figures, report) are written from their last checkpoint by :func:`~minidl.runs.train_run`, as
Ray tasks in parallel, so every trial's run directory has its report.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

from .._atomic import atomic_write_text
from .._sigint import sigint_handler
from .._version import __version__
from ..errors import ConfigError
from ..report._util import fmt_duration
from ..runs import artifacts as A
from ..runs.config import RunConfig
from . import report as R
from .results import TrialRecord, best_config_toml, format_table, load_trial, read_ledger, table_rows, write_csv
from .spec import Domain, SweepSpec, load_spec, parse_spec, safe_name
from .trial import PBT_TIME, TRIAL_LOG, TRIALS, TrialSetup, decode_params, encode_value, make_trainable, trial_dirname

__all__ = ["run_sweep", "SweepResult", "SWEEP_JSON", "RAY_DIR", "require_ray", "SWEEP_INSTALL_HINT"]

SWEEP_JSON = "sweep.json"
RAY_DIR = "ray"
RESULTS_CSV = "results.csv"
BEST_TOML = "best_config.toml"
SWEEP_INSTALL_HINT = "sweeps run on Ray Tune, an optional extra of minidl: pip install 'minidl[sweep]'"
# Ray Tune saves its experiment state at most every TUNE_GLOBAL_CHECKPOINT_S seconds (10 s and more by
# default); every second, a killed driver loses little (a sweep's state is small, so Ray's warning about
# frequent saves is off too)
RAY_TUNE_ENV = {"TUNE_GLOBAL_CHECKPOINT_S": "1", "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0"}
# A local Ray lowers its workers' priority (nice 15) by default, so on a shared machine every other process
# would starve the trials; the Ray that minidl starts leaves their priority as it is
LOCAL_RAY_ENV = {"RAY_worker_niceness": "0"}


@dataclass
class SweepResult:
    """A sweep's outcome: its directory, spec, results table (best first) and files."""

    sweep_dir: Path
    spec: SweepSpec
    rows: list[dict[str, Any]]
    files: dict[str, Path] = field(default_factory=dict)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def best(self) -> dict[str, Any] | None:
        """The best trial's row (None when no trial measured the metric)."""
        return self.rows[0] if self.rows and self.rows[0]["rank"] == 1 else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "error"]


def require_ray() -> None:
    """Raise ImportError with the install command when Ray Tune cannot be imported."""
    try:
        import ray.tune  # noqa: F401
    except ImportError as e:
        raise ImportError(f"{SWEEP_INSTALL_HINT} ({e})") from None


# ============================================================================================ entry
def run_sweep(spec: SweepSpec | Mapping[str, Any] | str | os.PathLike | None = None, *,
              out: str | os.PathLike | None = None, resume: str | os.PathLike | None = None,
              address: str | None = None, verbose: int = 0, stream: TextIO | None = None) -> SweepResult:
    """Run a sweep (``spec``: a spec file, a dict or a :class:`SweepSpec`) into ``out``, or ``resume`` the
    sweep in a directory; print the results table and return them. See the module docstring.

    ``verbose`` 0 prints a line per trial as it ends; 1 and 2 add Ray Tune's progress tables (its
    ``verbose`` levels) and the trials' log messages.
    """
    require_ray()
    stream = stream or sys.stdout
    if (spec is None) == (resume is None):
        raise ConfigError("give either a sweep spec or a sweep directory to resume (exactly one)")
    if resume is not None:
        sweep_dir = Path(resume).absolute()
        state = _read_state(sweep_dir)
        spec = parse_spec(state["spec"], f"sweep {str(sweep_dir / SWEEP_JSON)!r}")
    else:
        if isinstance(spec, str | os.PathLike):
            spec = load_spec(Path(spec))
        spec = parse_spec(spec)
        sweep_dir = _new_sweep_dir(spec, out)
        state = {"minidl_version": __version__, "spec": spec.to_dict(), "sessions": []}
        A.write_json(sweep_dir / SWEEP_JSON, state)

    with sigint_handler():  # Ray Tune's own Ctrl-C handler must not outlive the sweep
        return _run_session(spec, sweep_dir, state, resume is not None, address, verbose, stream)


def _run_session(spec: SweepSpec, sweep_dir: Path, state: dict[str, Any], resuming: bool, address: str | None,
                 verbose: int, stream: TextIO) -> SweepResult:
    """One Ray session of the sweep: run (or resume) the trials, then write the results."""
    import ray

    started, where = _connect(address, spec, verbose)
    # recorded now, completed at the end: a killed session stays in the record without its wall time
    session: dict[str, Any] = {"started": _now(), "ray": where, "seconds": None, "interrupted": None}
    state["sessions"].append(session)
    try:
        A.write_json(sweep_dir / SWEEP_JSON, state)
        tuner, restored = _tuner(spec, sweep_dir, resuming, verbose)
        verb = "resuming" if restored else "running"
        print(f"minidl sweep: {verb} {spec.name!r}: {_plan(spec)} on {where}\nsweep directory: {sweep_dir}",
              file=stream, flush=True)
        start = time.perf_counter()
        with _env_defaults(RAY_TUNE_ENV):
            grid = tuner.fit()
        trials = [_ray_trial(result) for result in grid]
        ended = read_ledger(sweep_dir)
        records = {tid: load_trial(sweep_dir, tid, params, error, tid in ended) for tid, params, error in trials}
        _finalise_stopped(records, spec)
        session["seconds"] = time.perf_counter() - start
    finally:
        if started:
            ray.shutdown()
    # Ray creates trials as slots free up (max_concurrent), so an interrupted sweep may lack some altogether
    interrupted = len(records) < spec.num_trials() or any(r.status == "pending" for r in records.values())
    session["interrupted"] = interrupted
    A.write_json(sweep_dir / SWEEP_JSON, state)
    seconds = sum(s.get("seconds") or 0.0 for s in state["sessions"])
    killed = sum(1 for s in state["sessions"] if s.get("seconds") is None)
    result = write_results(sweep_dir, spec, records, seconds, where, interrupted, killed)
    _print_summary(result, stream)
    return result


# ============================================================================================ Ray
def _connect(address: str | None, spec: SweepSpec, verbose: int) -> tuple[bool, str]:
    """Initialise Ray (unless it is already); return whether this call started it, and a description."""
    import ray

    started = False
    if not ray.is_initialized():
        level = logging.INFO if verbose >= 2 else logging.WARNING
        try:
            if address is None:
                with _env_defaults(LOCAL_RAY_ENV):
                    ray.init(address="local", include_dashboard=False, logging_level=level,
                             log_to_driver=verbose >= 1)
            else:
                ray.init(address=address, logging_level=level, log_to_driver=verbose >= 1)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise ConfigError(f"--address {address!r}: cannot join a Ray cluster there ({e})") from None
        started = True
    try:
        cpus = float(ray.cluster_resources().get("CPU", 0.0))
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        if spec.cpus > cpus:
            raise ConfigError(f"resources.cpus = {spec.cpus:g} per trial, but the Ray cluster has {cpus:g} CPUs: "
                              "no trial could start")
    except BaseException:
        if started:
            ray.shutdown()
        raise
    kind = "a local Ray" if address is None else f"the Ray cluster at {address}"
    return started, f"{kind} with {cpus:g} CPUs" + (f" on {nodes} nodes" if nodes > 1 else "")


def to_ray(domain: Domain, pbt: bool = False) -> Any:
    """A spec domain as a Ray Tune search space entry (for PBT's mutations, a choice is its list)."""
    from ray import tune

    kind, args = domain.kind, domain.args
    if kind in ("grid", "choice"):
        values = [encode_value(v) for v in args]
        return values if pbt else (tune.grid_search(values) if kind == "grid" else tune.choice(values))
    if kind == "uniform":
        return tune.uniform(*args)
    if kind == "loguniform":
        return tune.loguniform(*args)
    return tune.randint(*args)


def _tuner(spec: SweepSpec, sweep_dir: Path, resume: bool, verbose: int) -> tuple[Any, bool]:
    """The Tuner: restored from ``ray/`` when resuming and Ray saved it, else new."""
    from ray import tune

    from .progress import TrialProgress

    trainable = tune.with_resources(make_trainable(TrialSetup(str(sweep_dir), spec.to_dict(), spec.cpus)),
                                    {"cpu": spec.cpus})
    experiment = sweep_dir / RAY_DIR
    if resume and tune.Tuner.can_restore(str(experiment)):
        return tune.Tuner.restore(str(experiment), trainable=trainable, resume_unfinished=True), True
    if resume:  # killed before Ray saved anything: start the sweep again in its directory
        shutil.rmtree(experiment, ignore_errors=True)
        shutil.rmtree(sweep_dir / TRIALS, ignore_errors=True)
    if spec.search == "optuna":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuner = tune.Tuner(
        trainable,
        param_space={k: to_ray(d) for k, d in spec.space.items()},
        tune_config=tune.TuneConfig(
            metric=spec.metric, mode=spec.mode, search_alg=_search_alg(spec), scheduler=_scheduler(spec),
            num_samples=spec.num_samples,
            max_concurrent_trials=spec.max_concurrent or None if spec.search == "optuna" else None,
            trial_dirname_creator=trial_dirname, reuse_actors=True),
        run_config=tune.RunConfig(
            name=RAY_DIR, storage_path=str(sweep_dir), verbose=verbose,
            callbacks=[TrialProgress(spec.metric, None if "epochs" in spec.space else spec.base_config().epochs)],
            # PBT copies checkpoints of past perturbation points (every one is kept); resuming needs the last
            checkpoint_config=tune.CheckpointConfig(num_to_keep=None if spec.scheduler.kind == "pbt" else 2),
            failure_config=tune.FailureConfig(max_failures=0)),
    )  # fmt: skip
    return tuner, False


def _search_alg(spec: SweepSpec) -> Any:
    if spec.search == "optuna":
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(seed=spec.search_seed)
    from ray.tune.search import BasicVariantGenerator

    # the generator limits its own concurrency (TuneConfig's limit applies to Searchers such as Optuna's only)
    return BasicVariantGenerator(random_state=spec.search_seed, max_concurrent=spec.max_concurrent)


def _scheduler(spec: SweepSpec) -> Any:
    """ASHA or PBT on the trials' ``epoch`` (None: Ray's FIFO, every trial runs to the end)."""
    opts = spec.scheduler.options
    if spec.scheduler.kind == "asha":
        from ray.tune.schedulers import ASHAScheduler

        # stop_last_trials=False: a trial that reaches the last epoch ends by itself, after writing its report
        return ASHAScheduler(time_attr="epoch", max_t=spec.base_config().epochs, grace_period=opts["grace_period"],
                             reduction_factor=opts["reduction_factor"], brackets=opts["brackets"],
                             stop_last_trials=False)
    if spec.scheduler.kind == "pbt":
        from ray.tune.schedulers import PopulationBasedTraining

        # PBT_TIME is missing from each trial's last report (no perturbation after the last epoch), which
        # require_attrs=False lets PBT take as "continue"; its notice of the missing key is expected here
        pbt_logger = logging.getLogger("ray.tune.schedulers.pbt")
        if not any(isinstance(f, _LastEpochNotice) for f in pbt_logger.filters):
            pbt_logger.addFilter(_LastEpochNotice())
        return PopulationBasedTraining(
            time_attr=PBT_TIME, require_attrs=False, perturbation_interval=opts["perturbation_interval"],
            hyperparam_mutations={k: to_ray(d, pbt=True) for k, d in spec.scheduler.mutations.items()},
            quantile_fraction=opts["quantile_fraction"], resample_probability=opts["resample_probability"],
            synch=opts["synch"])
    return None


class _LastEpochNotice(logging.Filter):
    """Drops PBT's notice that a result lacks its time attribute (by design on each trial's last epoch)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"time_attr {PBT_TIME}" not in record.getMessage()


@contextlib.contextmanager
def _env_defaults(settings: Mapping[str, str]) -> Iterator[None]:
    """Environment variables set for the duration of the block, unless the user set them already."""
    added = [k for k in settings if k not in os.environ]
    os.environ.update({k: settings[k] for k in added})
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _ray_trial(result: Any) -> tuple[str, dict[str, Any], str | None]:
    """``(trial id, the values Ray drew, error message or None)`` of one of Ray's results."""
    path = Path(result.path)
    config = result.config
    if config is None:  # no report yet: Ray wrote the values when the trial started
        try:
            config = A.read_json(path / "params.json")
        except (OSError, ValueError):
            config = {}
    return path.name, decode_params(config), None if result.error is None else _last_line(result.error)


# ============================================================================================ directory
def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _new_sweep_dir(spec: SweepSpec, out: str | os.PathLike | None) -> Path:
    if out is None and spec.out is not None:
        out = spec.out
    if out is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path("sweeps") / f"{safe_name(spec.name)}-{stamp}"
    sweep_dir = Path(out).expanduser().absolute()
    if (sweep_dir / SWEEP_JSON).exists():
        raise ConfigError(f"{str(sweep_dir)!r} already holds a sweep; resume it with --resume {sweep_dir}, or "
                          "choose another directory")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return sweep_dir


def _read_state(sweep_dir: Path) -> dict[str, Any]:
    path = sweep_dir / SWEEP_JSON
    try:
        state = A.read_json(path)
    except FileNotFoundError:
        raise ConfigError(f"{str(sweep_dir)!r} is not a sweep directory (no {SWEEP_JSON})") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"{str(path)!r} cannot be read: {e}") from None
    if not isinstance(state, dict) or "spec" not in state or not isinstance(state.get("sessions"), list):
        raise ConfigError(f"{str(path)!r} is not a minidl sweep state (no spec and sessions)")
    return state


def _plan(spec: SweepSpec) -> str:
    base = spec.base_config()
    sched = {"none": "", "asha": ", ASHA early stopping", "pbt": ", population-based training"}
    return (f"{spec.num_trials()} trials of {base.model} on {base.dataset} ({spec.metric} {spec.mode}, "
            f"{spec.search} search{sched[spec.scheduler.kind]}, {spec.cpus:g} CPU per trial)")


def _finalise_stopped(records: dict[str, TrialRecord], spec: SweepSpec) -> None:
    """Write the results and report of every trial the scheduler stopped, from its last checkpoint: as Ray
    tasks, in parallel, on the sweep's resources (a failure becomes that trial's error)."""
    import ray

    todo = [r for r in records.values() if r.status == "stopped" and r.config is not None
            and (r.run_dir / A.CHECKPOINT).is_file() and not (r.run_dir / "report.html").is_file()]
    if not todo:
        return
    task = ray.remote(num_cpus=spec.cpus)(finalise_run)
    # todo holds records whose config is set (filtered above)
    refs = [task.remote(str(r.run_dir), cast(dict[str, Any], r.config), spec.scheduler.kind, max(1, int(spec.cpus)))
            for r in todo]
    for rec, ref in zip(todo, refs, strict=True):
        try:
            ray.get(ref)
            error = None
        except Exception as e:  # reported in the table; the other trials' results still count
            error = f"writing its results after the stop failed: {_last_line(e)}"
        records[rec.trial_id] = load_trial(rec.run_dir.parent.parent, rec.trial_id, rec.params, error, True)


def finalise_run(run_dir: str, config: dict[str, Any], scheduler: str, threads: int) -> None:
    """Write a stopped trial's results (test evaluation, figures, report) from its run's last checkpoint,
    with :func:`~minidl.runs.train_run` training no further epoch."""
    from threadpoolctl import threadpool_limits

    from ..runs import train_run
    from ..training import load_checkpoint

    run = Path(run_dir)
    ckpt = run / A.CHECKPOINT
    for tmp in run.glob(".*.tmp"):  # writes cut short when Ray stopped the trial
        tmp.unlink(missing_ok=True)
    done = int(load_checkpoint(ckpt)["epoch"])
    with threadpool_limits(threads), open(run / TRIAL_LOG, "a", encoding="utf-8") as log:
        print(f"minidl sweep: the {scheduler} scheduler stopped this trial after epoch {done} of "
              f"{config['epochs']}; writing its results from that checkpoint", file=log, flush=True)
        train_run(RunConfig({**config, "epochs": done}), ckpt, progress=False, out=log)


def _last_line(error: BaseException) -> str:
    """The last non-empty line of an error's text (Ray's errors carry the whole remote traceback)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:300]


# ============================================================================================ results
def write_results(sweep_dir: Path, spec: SweepSpec, records: Mapping[str, TrialRecord], seconds: float,
                  where: str, interrupted: bool = False, killed: int = 0) -> SweepResult:
    """Write results.csv, best_config.toml, the figures and sweep.md/html from the trials' records
    (``seconds``: the wall time of the sessions that ended; ``killed``: sessions that never did)."""
    rows = table_rows(spec, list(records.values()), link_base=sweep_dir)
    files = {"results": write_csv(sweep_dir / RESULTS_CSV, rows)}
    best_toml = None
    if rows and rows[0]["rank"] == 1 and records[rows[0]["trial"]].config is not None:
        best_toml = best_config_toml(spec, rows[0], records[rows[0]["trial"]], sweep_dir, len(rows))
        files["best_config"] = atomic_write_text(sweep_dir / BEST_TOML, best_toml)
    figures, notes = R.write_figures(sweep_dir, spec, rows, records)
    files.update({Path(p).stem: Path(p) for p in figures.values()})
    if interrupted:
        notes.insert(0, f"The sweep was interrupted: pending trials continue with minidl sweep --resume {sweep_dir}")
    if killed:
        sessions = f"{killed} session{'s' if killed > 1 else ''}"
        notes.append(f"{sessions} of this sweep ended without finishing (the driver was killed), not counted in "
                     "the wall time; the sweep was resumed from Ray's saved state and the trials' checkpoints.")
    stopped = sum(1 for r in records.values() if r.status == "stopped")
    if stopped:
        notes.append(f"{stopped} trial{'s were' if stopped > 1 else ' was'} stopped early by the "
                     f"{spec.scheduler.kind.upper()} scheduler; {'their' if stopped > 1 else 'its'} results and "
                     "report come from the last checkpoint before the stop.")
    report = R.write_sweep_report(sweep_dir, spec, rows, records, figures=figures, best_toml=best_toml,
                                  seconds=seconds, where=where, notes=notes)
    files.update(report=report.html, report_md=report.markdown)
    return SweepResult(sweep_dir, spec, rows, files, interrupted, seconds)


def _print_summary(result: SweepResult, stream: TextIO) -> None:
    print("\n" + format_table(result.spec, result.rows), file=stream)
    planned = result.spec.num_trials()
    count = f"{len(result.rows)} of {planned}" if len(result.rows) < planned else f"{len(result.rows)}"
    print(f"\n{count} trials in {fmt_duration(result.seconds)}; results: {result.files['results']}", file=stream)
    if "best_config" in result.files:
        print(f"best config: {result.files['best_config']}", file=stream)
    print(f"report: {result.files['report']}", file=stream)
    if result.errors:
        print(f"{len(result.errors)} trial{'s' if len(result.errors) > 1 else ''} failed: "
              + "; ".join(f"{row['trial']}: {row['error']}" for row in result.errors), file=stream)
    if result.interrupted:
        print(f"interrupted; continue with: minidl sweep --resume {result.sweep_dir}", file=stream)
    stream.flush()
