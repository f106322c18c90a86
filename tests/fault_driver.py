"""Run ``minidl ARGS...`` in this process and SIGKILL it inside its K-th atomic file write (tests/test_faults.py).

Usage: ``python fault_driver.py STAGE K[:NAME] ARGS...`` where STAGE is where in the write the process dies:

* ``created``: the temporary file was just created, empty;
* ``partial``: the writer finished, then the temporary file is cut to half its bytes (a write the kill tore);
* ``written``: the temporary file is complete, not yet renamed onto the destination;
* ``replaced``: the rename happened, the directory was not yet synced.

``K`` counts the writes that go through :mod:`minidl._atomic` (config, metrics, checkpoints, model, figures,
report), from 1; with ``:NAME`` only the writes of files called NAME (``2:checkpoint.npz``: the second
checkpoint). If the run makes fewer such writes it finishes normally (exit 0); STAGE ``none`` never kills.
At the end the driver prints how many writes the run made. With ``MINIDL_FAULT_NO_PLOTS=1`` the run skips its
figures, as it does without matplotlib (faster: most cases need not draw them).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import minidl.report
from minidl import _atomic, cli


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    stage, (k_text, _, name), argv = sys.argv[1], sys.argv[2].partition(":"), sys.argv[3:]
    k = int(k_text)
    state = {"counted": 0, "all": 0, "armed": False}  # armed: the write under way is the one to kill
    open_temp, fsync_file, replace = _atomic.open_temp_beside, _atomic._fsync_file, os.replace

    def counting_open(dest, suffix=".tmp"):
        f, tmp = open_temp(dest, suffix)
        state["all"] += 1
        counted = not name or Path(dest).name == name
        state["counted"] += counted
        state["armed"] = counted and state["counted"] == k and stage != "none"
        if state["armed"] and stage == "created":
            f.close()
            _die()
        return f, tmp

    def fsync_then_maybe_die(path: Path) -> None:
        if state["armed"] and stage == "partial":
            size = os.path.getsize(path)
            with open(path, "r+b") as f:
                f.truncate(size // 2)
            _die()
        if state["armed"] and stage == "written":
            _die()
        fsync_file(path)

    def replace_then_maybe_die(src, dst) -> None:
        replace(src, dst)
        if state["armed"] and stage == "replaced":
            _die()

    if os.environ.get("MINIDL_FAULT_NO_PLOTS") == "1":
        minidl.report.plots_available = lambda: False
    _atomic.open_temp_beside = counting_open
    _atomic._fsync_file = fsync_then_maybe_die
    _atomic.os.replace = replace_then_maybe_die  # type: ignore[attr-defined]
    code = cli.main(argv)
    print(f"fault_driver: {state['all']} atomic writes", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
