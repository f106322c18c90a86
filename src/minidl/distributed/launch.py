"""Starting a command's ranks (``minidl train --procs N``) and running as one of them.

``--procs N`` on a command that was not started by MPI re-runs the same command line, without ``--procs``,
as ``mpiexec -n N python -m minidl ...`` (the ``mpiexec`` of the ``distributed`` extra, next to the Python
running minidl, else the one on ``PATH``). Each rank then sees that MPI started it and joins the group
(:func:`join_if_launched`). ``mpiexec -n N -f hostfile minidl train ...`` by hand takes the same path, on
any hosts.

Threads: N ranks on a machine share its cores, so each rank's BLAS gets cores / N threads (at least one),
unless the environment already sets ``OMP_NUM_THREADS``.

Ctrl-C reaches every rank (the launcher passes it to ``mpiexec``, which forwards it to the ranks); the
launcher waits for the ranks, which agree on the batch to stop after, and returns their exit code. When a
rank dies or fails, ``mpiexec`` ends the others.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from .process_group import init_process_group, is_available, is_initialized, is_mpi_launched, rank_and_size

__all__ = ["parse_procs", "mpiexec_path", "launch", "join_if_launched", "cores"]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parse_procs(text: str) -> int:
    """``--procs``: a positive int, or ``auto`` (one process per core)."""
    if text == "auto":
        return cores()
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"--procs: expected a positive number of processes or 'auto', got {text!r}")
    return n


def mpiexec_path() -> str:
    """The MPI launcher: the ``distributed`` extra's (beside this Python), else ``mpiexec`` on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("mpiexec")
    if found is None or not is_available():
        raise ConfigError("--procs needs MPI: pip install 'minidl[distributed]' (mpi4py and MPICH, no system MPI "
                          "needed)")
    return found


def launch(procs: int, argv: Sequence[str]) -> int:
    """Run ``python -m minidl ARGV`` as ``procs`` ranks under ``mpiexec``; their exit code."""
    cmd = [mpiexec_path(), "-n", str(procs), sys.executable, "-m", "minidl", *argv]
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, cores() // procs))
    # its own session: a terminal's Ctrl-C reaches only this process, which passes each one on exactly once
    # (mpiexec forwards the first to every rank; a second makes it stop them at once)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
    if code < 0 or code not in (0, 1, 2, 130):  # the ranks report their own errors; a killed one cannot
        how = f"was killed by signal {-code}" if code < 0 else f"ended with exit code {code}"
        print(f"minidl {argv[0] if argv else ''}: error: a process of the job {how} (mpiexec's message above "
              "names it); mpiexec stopped the others", file=sys.stderr)
        return 1
    return code


def join_if_launched() -> bool:
    """Join the process group when MPI started this process with more than one rank; whether it is one."""
    if not is_initialized() and is_mpi_launched():
        init_process_group("mpi")
    return rank_and_size()[1] > 1
