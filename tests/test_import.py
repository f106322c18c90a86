"""``import minidl`` has no process-wide side effects and loads only the core.

Each check runs in a fresh interpreter (``sys.modules`` and the allocator of this test process have long
been touched by other tests).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from minidl.ops import _memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# record every C library ctypes opens, then run the snippet
_PROBE = """
import ctypes, json, sys
opened = []
_CDLL = ctypes.CDLL
class Recorder(_CDLL):
    def __init__(self, name, *args, **kwargs):
        opened.append(str(name))
        super().__init__(name, *args, **kwargs)
ctypes.CDLL = Recorder
{snippet}
print(json.dumps({{"opened": opened, "modules": sorted(sys.modules)}}))
"""


def run_fresh(snippet: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != _memory.ENV}
    out = subprocess.run([sys.executable, "-c", _PROBE.format(snippet=snippet)], capture_output=True, text=True,
                         env={**environ, **env}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_leaves_the_allocator_alone():
    assert not any("libc" in name for name in run_fresh("import minidl")["opened"])


@pytest.mark.skipif(not GLIBC, reason="the allocator tuning exists only for glibc (Linux)")
def test_allocator_tuning_is_opt_in():
    # the environment variable turns it on at import ...
    assert any("libc" in name for name in run_fresh("import minidl", MINIDL_MALLOC_TUNING="1")["opened"])
    # ... the documented call anywhere, and MINIDL_MALLOC_TUNING=0 keeps it off even then
    snippet = "import minidl; assert minidl.ops.keep_freed_memory() is {}"
    assert any("libc" in name for name in run_fresh(snippet.format(True))["opened"])
    assert not run_fresh(snippet.format(False), MINIDL_MALLOC_TUNING="0")["opened"]


def test_trainer_and_cli_turn_the_allocator_tuning_on(monkeypatch):
    import minidl.cli
    import minidl.training.trainer as trainer_mod

    calls = []
    monkeypatch.setattr(trainer_mod, "keep_freed_memory", lambda: calls.append("trainer"))
    monkeypatch.setattr(minidl.cli, "keep_freed_memory", lambda: calls.append("cli"))
    model = minidl.nn.Linear(2, 2)
    data = [(minidl.zeros(4, 2), minidl.tensor([0, 1, 0, 1]))]
    trainer_mod.Trainer(progress=False).fit(model, data, epochs=1)
    minidl.cli.main(["summary", "mlp", "--input-shape", "1,28,28"])
    assert calls == ["trainer", "cli"]


def test_import_loads_neither_reporting_nor_runs_nor_plotting():
    modules = run_fresh("import minidl")["modules"]
    unwanted = [m for m in modules if m.split(".")[:2] in (["minidl", "report"], ["minidl", "runs"],
                                                           ["minidl", "cli"]) or m.split(".")[0] == "matplotlib"]
    assert not unwanted
    # minidl.summary lives in the reporting layer and loads on first use
    modules = run_fresh("import minidl; minidl.summary")["modules"]
    assert "minidl.report.summary" in modules and "matplotlib" not in modules
