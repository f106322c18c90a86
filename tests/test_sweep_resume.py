"""Interrupting a sweep and resuming it: Ctrl-C (SIGINT) of the driver, then SIGKILL of the resumed driver
in the middle of a trial, then ``minidl sweep --resume``. Finished trials are not trained again, the trial
cut short continues from its checkpoint to exactly the result of an uninterrupted run, and no trial is
added. The drivers run as subprocesses in their own process groups (their local Ray included), which the
test kills at the end."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minidl import cli
from minidl.training import load_checkpoint

pytest.importorskip("ray.tune")

SPEC = """
name = "resume"
max_concurrent = 1   # one trial at a time: the driver is stopped while exactly one trial is training
[base]
model = "mlp"
epochs = 8
optimizer = "sgd"
train_samples = 2048
[base.model_args]
hidden_dims = [64]
[space]
lr = { grid = [0.1, 0.05, 0.02] }
"""


def start(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as f:
        return subprocess.Popen([sys.executable, "-m", "minidl", "sweep", *args], stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def end_group(proc: subprocess.Popen) -> None:
    """Kill what is left of a driver's process group (Ray's helpers outlive a SIGKILLed driver)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def wait_for(condition, timeout: float = 180.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the driver ended early (exit {proc.returncode})")
        time.sleep(0.05)
    pytest.fail("timed out waiting for the sweep")


def runs(sweep: Path) -> list[Path]:
    return sorted((sweep / "trials").iterdir()) if (sweep / "trials").is_dir() else []


def finished(sweep: Path) -> list[Path]:
    return [r for r in runs(sweep) if (r / "report.html").is_file()]


def mid_run(sweep: Path, done: list[Path]) -> Path | None:
    """A trial past its second epoch and not finished (its checkpoint says how far it got)."""
    for r in runs(sweep):
        if r in done or (r / "results.json").exists() or not (r / "checkpoint.npz").is_file():
            continue
        try:
            if 2 <= load_checkpoint(r / "checkpoint.npz")["epoch"] < 8:
                return r
        except (ValueError, OSError):  # being replaced right now
            continue
    return None


def train_log_starts(run: Path) -> list[str]:
    return [line for line in (run / "train.log").read_text().splitlines() if line.startswith("run directory:")]


def test_ctrl_c_and_sigkill_then_resume(tmp_path):
    (tmp_path / "s.toml").write_text(SPEC)
    sweep = tmp_path / "sweep"

    # 1. Ctrl-C once the first trial has finished: the driver stops, writes what it has, exits 130
    first = start(str(tmp_path / "s.toml"), "--out", str(sweep), log=tmp_path / "first.log")
    try:
        wait_for(lambda: finished(sweep), proc=first)
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=120) == 130
    finally:
        end_group(first)
    out = (tmp_path / "first.log").read_text()
    assert f"interrupted; continue with: minidl sweep --resume {sweep}" in out
    with open(sweep / "results.csv", newline="") as f:
        statuses = [row["status"] for row in csv.DictReader(f)]
    # the trial cut short is pending; trials Ray had not created yet (one at a time) are not in the table yet
    assert "finished" in statuses and ("pending" in statuses or len(statuses) < 3)
    assert f"{len(statuses)} of 3 trials in" in out
    done = finished(sweep)
    kept = {r: (r / "results.json").read_bytes() for r in done}

    # 2. resume, and SIGKILL that driver while a trial is in the middle of its epochs
    second = start("--resume", str(sweep), log=tmp_path / "second.log")
    try:
        cut = wait_for(lambda: mid_run(sweep, done), proc=second)
        second.kill()
        second.wait(timeout=30)
    finally:
        end_group(second)
    reached = load_checkpoint(cut / "checkpoint.npz")["epoch"]
    assert not (cut / "report.html").exists()

    # 3. resume in this process: everything finishes, nothing finished is trained again, no trial is added
    assert cli.main(["sweep", "--resume", str(sweep)]) == 0
    assert len(runs(sweep)) == 3
    with open(sweep / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(row["status"] == "finished" and row["epochs"] == "8" for row in rows)
    for r, results in kept.items():
        assert (r / "results.json").read_bytes() == results
        assert len(train_log_starts(r)) == 1
    starts = train_log_starts(cut)  # every start after its first continued from its checkpoint
    assert len(starts) >= 2 and all("(resuming from" in line for line in starts[1:]), starts
    resumed_from = json.loads((cut / "trial.json").read_text())["resumed_from"]
    assert resumed_from["trial_id"] == cut.name and resumed_from["epoch"] >= reached

    # the trial cut short ends exactly where an uninterrupted run of its config ends (one BLAS thread, as
    # in the trial)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        assert cli.main(["train", "--config", str(cut / "config.toml"), "--out", str(tmp_path / "whole"),
                         "--no-progress"]) == 0
    whole = json.loads((tmp_path / "whole" / "results.json").read_text())["metrics"]
    resumed = json.loads((cut / "results.json").read_text())["metrics"]
    for key in ("final_val_acc", "final_val_loss", "final_train_loss", "test_acc", "test_loss"):
        assert resumed[key] == whole[key], key

    state = json.loads((sweep / "sweep.json").read_text())
    assert [s["interrupted"] for s in state["sessions"]] == [True, None, False]  # the killed one never ended
    assert "ended without finishing (the driver was killed)" in (sweep / "sweep.md").read_text()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_address_joins_a_running_ray_cluster(tmp_path, monkeypatch):
    """`--address HOST:PORT` runs the sweep on a Ray cluster started beforehand (`ray start --head`), and
    leaves that cluster running."""
    import socket

    # a throwaway cluster on localhost, for this test only: no token authentication on either side; the
    # driver is a subprocess too (a process that already ran a Ray session keeps that session's settings)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    port = free_port()
    ray_cli = Path(sys.executable).with_name("ray")
    with open(tmp_path / "head.log", "w") as log:
        head = subprocess.Popen([str(ray_cli), "start", "--head", "--port", str(port), "--num-cpus", "2",
                                 "--include-dashboard", "false", "--disable-usage-stats", "--block"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_for(listening, timeout=120, proc=head)
        (tmp_path / "s.toml").write_text(
            'name = "cluster"\n[base]\nmodel = "mlp"\nepochs = 1\ntrain_samples = 256\n'
            '[base.model_args]\nhidden_dims = []\n[space]\nlr = { grid = [0.1, 0.01] }\n')
        address = f"127.0.0.1:{port}"
        driver = start(str(tmp_path / "s.toml"), "--out", str(tmp_path / "s"), "--address", address,
                       log=tmp_path / "driver.log")
        assert driver.wait(timeout=300) == 0, (tmp_path / "driver.log").read_text()
        state = json.loads((tmp_path / "s" / "sweep.json").read_text())
        assert state["sessions"][0]["ray"] == f"the Ray cluster at {address} with 2 CPUs"
        with open(tmp_path / "s" / "results.csv", newline="") as f:
            assert [row["status"] for row in csv.DictReader(f)] == ["finished", "finished"]
        assert head.poll() is None  # the cluster is still up: the sweep only disconnected from it
    finally:
        end_group(head)
        # `ray start` noted the cluster in Ray's shared temp folder; a later ray.init() would look for it
        current = Path("/tmp/ray/ray_current_cluster")
        if current.is_file() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
