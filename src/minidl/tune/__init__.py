"""Hyperparameter sweeps on Ray Tune: ``minidl sweep SPEC`` on the command line, :func:`sweep` in Python.

A sweep trains one ``minidl train`` run per trial, each in its own run directory with its report, on Ray
Tune: a local Ray started in the process by default, or a cluster (``address="auto"`` / ``"HOST:PORT"``).
Trials report their metrics and checkpoints every epoch, so ASHA can stop the weak ones early and PBT can
copy the strong ones; the results are a table (best first, also ``results.csv``), the best config as a
``minidl train`` TOML file, two figures and a report (``sweep.md``, ``sweep.html``).

* :mod:`.spec`: the spec file and its checks (no Ray needed);
* :mod:`.trial`: one trial, as a Ray worker runs it;
* :mod:`.driver`: the Ray session, the Tuner, resuming, the sweep directory;
* :mod:`.results` and :mod:`.report`: the table, the best config, the figures and the report.

Ray Tune (and Optuna, for TPE search) are the ``sweep`` extra: ``pip install 'minidl[sweep]'``. Nothing
imports Ray before a sweep starts, so the rest of minidl works without it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .driver import SWEEP_INSTALL_HINT, SweepResult, require_ray, run_sweep
    from .spec import SweepSpec, load_spec, parse_spec

__all__ = ["sweep", "run_sweep", "SweepResult", "SweepSpec", "load_spec", "parse_spec", "require_ray",
           "SWEEP_INSTALL_HINT"]

# loaded on first use: importing minidl must stay light, and must never import Ray
_LAZY = {"run_sweep": "driver", "SweepResult": "driver", "require_ray": "driver", "SWEEP_INSTALL_HINT": "driver",
         "SweepSpec": "spec", "load_spec": "spec", "parse_spec": "spec"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sweep(spec: Mapping[str, Any] | str | os.PathLike | None, *, out: str | os.PathLike | None = None,
          address: str | None = None, resume: str | os.PathLike | None = None, verbose: int = 0,
          as_frame: bool | None = None) -> Any:
    """Run a sweep and return its results table, best trial first.

    ``spec`` is a spec dict (the keys of a spec file, see :mod:`minidl.tune.spec`) or the path of a spec
    file; ``out`` the sweep directory (default: the spec's ``out``, else ``sweeps/<name>-<time>``);
    ``address`` a Ray cluster to join (default: a local Ray in this process, or the Ray session already
    initialised); ``resume`` a sweep directory to continue instead (then ``spec`` is ignored and may be
    None). Returns a pandas DataFrame when pandas is installed (``as_frame=None``) or asked for
    (``as_frame=True``), else a list of dicts, one per trial (the columns of ``results.csv``). The sweep
    directory is the ``sweep_dir`` entry of ``DataFrame.attrs``; :func:`run_sweep` returns everything.
    """
    from .driver import run_sweep

    result = run_sweep(None if resume is not None else spec, out=out, resume=resume, address=address,
                       verbose=verbose)
    if as_frame is False:
        return result.rows
    try:
        import pandas as pd
    except ImportError:
        if as_frame:
            raise ImportError("sweep(as_frame=True) needs pandas: pip install pandas") from None
        return result.rows
    frame = pd.DataFrame(result.rows)
    frame.attrs["sweep_dir"] = str(result.sweep_dir)
    return frame
