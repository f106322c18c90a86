"""A new user follows docs/getting-started.md: the commands of its code blocks, read from the page itself and
run in an empty folder (with this environment's ``minidl`` standing in for the freshly installed
``.venv/bin/minidl``), train a model, write its report, evaluate it, predict an image, compare runs; the
page's Python example runs as written.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "getting-started.md"
BIN = Path(sys.executable).parent


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", PAGE.read_text(), flags=re.S)


def _commands(block: str) -> list[str]:
    """The block's commands without comments; the install chain of step 1 reduced to what it runs last."""
    out = []
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        if line and not line.startswith("#"):
            out.append(line.split("&&")[-1].strip())
    return out


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    command = command.replace(".venv/bin/", f"{BIN}/")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "MINIDL_DEBUG": ""}
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_the_getting_started_page_works_as_written(tmp_path):
    pytest.importorskip("matplotlib")
    PIL = pytest.importorskip("PIL.Image")
    install, report, then = _blocks("bash")[:3]
    train = _commands(install)
    assert train == [".venv/bin/minidl train"], train
    done = _run(train[0], tmp_path)
    assert done.returncode == 0, done.stderr
    runs = list((tmp_path / "runs").glob("lenet5-*"))
    assert len(runs) == 1 and f"runs/{runs[0].name}" in done.stdout  # "the last lines name the run directory"

    opener = _commands(report)[0]  # xdg-open runs/lenet5-*/report.html: the file it opens
    target = list(tmp_path.glob(opener.split()[-1]))
    html = target[0].read_text()
    assert "<img" in html and "lenet5" in html
    for name in ("config.toml", "metrics.jsonl", "checkpoint.npz", "model.npz"):
        assert (runs[0] / name).is_file(), name

    # "your own images": a sneaker from the embedded test set, saved as the page's shoe.png
    from minidl.datasets import FashionMNISTSmall

    test = FashionMNISTSmall(train=False)
    sneaker = int(np.flatnonzero(np.asarray(test.targets) == 7)[0])
    PIL.fromarray(np.asarray(test.data[sneaker])).save(tmp_path / "shoe.png")
    for command in _commands(then):
        if "fashion-mnist" in command:  # the full data set: a longer run, not part of a first look
            continue
        done = _run(command, tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        assert done.stdout.strip(), command


def test_the_python_example_runs():
    code = _blocks("python")[0]
    namespace: dict = {}
    exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - the page's own example
    assert np.isfinite(float(namespace["loss"].item()))
