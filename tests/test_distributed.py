"""Data-parallel training on MPI (minidl.distributed, DistributedDataParallel, SyncBatchNorm,
DistributedSampler, ``minidl train --procs``), tested as real multi-process jobs under ``mpiexec``.

The jobs' oracles: hand-computed collective results, the same training in one process (weights equal to
1e-5 after 50 SGD-momentum steps in float64, with and without synchronised batch norm), and the CLI's own
single-process run (the same metrics and weights). Faults are real: a rank raising, a rank SIGKILLed, Ctrl-C
on the launcher. Without the ``distributed`` extra (mpi4py and an ``mpiexec``), the MPI tests skip.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.training
from conftest import requires_torch
from minidl.errors import ConfigError
from minidl.nn import BatchNorm1d, BatchNorm2d, SyncBatchNorm
from minidl.utils.data.distributed import DistributedSampler

HERE = Path(__file__).parent
MPIEXEC = Path(sys.executable).parent / "mpiexec"

try:
    import mpi4py  # noqa: F401

    HAVE_MPI = MPIEXEC.is_file()
except ImportError:
    HAVE_MPI = False

requires_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs the distributed extra: mpi4py and MPICH's mpiexec")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MINIDL_DEBUG": ""}


def _mpi(n: int, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(MPIEXEC), "-n", str(n), sys.executable, str(HERE / "mpi_scenarios.py"), *args],
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def _minidl(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minidl", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=ENV)


SCENARIOS = ["collectives", "same_result", "no_sync", "unused", "sampler"]


# ============================================================================================ MPI jobs
@requires_mpi
@pytest.mark.parametrize("ranks", [2, 3])  # 3 ranks on 2 cores: oversubscribed
def test_scenarios_as_real_jobs(ranks):
    r = _mpi(ranks, *SCENARIOS)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for name in SCENARIOS:
        assert r.stdout.count(f"{name} ok rank") == ranks, (name, r.stdout)
    diffs = [float(d) for d in re.findall(r"max diff (\S+)\|", r.stdout)]
    assert len(diffs) == 6 and max(diffs) < 1e-5


@requires_mpi
def test_a_rank_that_raises_ends_every_rank_and_is_named():
    start = time.monotonic()
    r = _mpi(2, "fails_on_last_rank", timeout=60)
    assert r.returncode != 0
    assert time.monotonic() - start < 30
    assert "rank 1 of 2: uncaught ValueError" in r.stderr and "injected failure" in r.stderr


# ============================================================================================ the CLI
def _weights(run: Path) -> dict[str, np.ndarray]:
    with np.load(run / "model.npz") as z:
        return {k: z[k] for k in z.files}


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())["metrics"]


@requires_mpi
def test_two_processes_train_as_one_and_resume_on_three(tmp_path):
    common = ["--model", "lenet5", "--batch-size", "96", "--no-progress"]
    one = _minidl("train", *common, "--epochs", "2", "--out", "one", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    two = _minidl("train", *common, "--epochs", "1", "--out", "two", "--procs", "2", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    assert "on 2 processes (batch 48 each)" in two.stdout
    assert two.stdout.count("epoch 1/1") == 1  # only rank 0 prints
    run = json.loads((tmp_path / "two" / "run.json").read_text())
    assert run["world_size"] == 2 and run["global_batch_size"] == 96
    resumed = _minidl("train", "--resume", "two", "--epochs", "2", "--procs", "3", "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "on 3 processes (batch 32 each)" in resumed.stdout
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for k in a:
        # float32: the ranks sum the batch in other orders, which Adam's normalised steps carry to ~1e-5
        np.testing.assert_allclose(b[k], a[k], rtol=1e-3, atol=1e-4, err_msg=k)
    assert abs(_results(tmp_path / "two")["test_acc"] - _results(tmp_path / "one")["test_acc"]) <= 0.003
    assert json.loads((tmp_path / "two" / "run.json").read_text())["resumes"][-1]["world_size"] == 3
    ev = _minidl("eval", "two", "--procs", "2", cwd=tmp_path)
    single = _minidl("eval", "two", cwd=tmp_path)
    assert ev.returncode == 0 and ev.stdout == single.stdout  # sharded evaluation: the same numbers, printed once


@requires_mpi
def test_a_global_batch_that_does_not_split_is_one_usage_error(tmp_path):
    r = _minidl("train", "--model", "lenet5", "--batch-size", "64", "--procs", "3", "--out", "x", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "minidl train: error: --batch-size 64 is the global batch, split evenly over the 3 processes; it must be "
        "a multiple of 3 (e.g. 63 or 66)"]
    assert not (tmp_path / "x").exists()


def _start_training(tmp_path: Path, out: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "minidl", "train", "--model", "lenet5", "--epochs", "200",
                             "--out", out, "--procs", "2", "--no-progress"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            # a SIGINT ignored by this test process (as Ray leaves it) would be inherited
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_epochs(proc: subprocess.Popen, run: Path, epochs: int = 2, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = run / "metrics.jsonl"
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= epochs:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError("training did not get going")


def _ranks_of(out: str) -> list[int]:
    """The pids of the rank processes (started by mpiexec without --procs) of the run writing to ``out``."""
    wanted = ["-m", "minidl", "train", "--model", "lenet5", "--epochs", "200", "--out", out, "--no-progress"]
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().decode().split("\0")[:-1]
        except OSError:
            continue
        if argv[1:] == wanted:
            pids.append(int(proc.name))
    return pids


@requires_mpi
def test_ctrl_c_on_the_launcher_stops_every_rank_with_a_checkpoint(tmp_path):
    proc = _start_training(tmp_path, "c")
    _wait_for_epochs(proc, tmp_path / "c")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "checkpoint saved to c/checkpoint.npz" in err and "resume with: minidl train --resume c" in err
    assert not _ranks_of("c")
    tree = minidl.training.load_checkpoint(tmp_path / "c" / "checkpoint.npz")
    assert tree["extra"]["data_parallel"] == {"world_size": 2, "world_size_agnostic": True}
    resumed = _minidl("train", "--resume", "c", "--epochs", str(int(tree["epoch"]) + 1), "--no-progress",
                      cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr


@requires_mpi
def test_a_killed_rank_ends_the_job_within_seconds_and_the_checkpoint_stays(tmp_path):
    proc = _start_training(tmp_path, "k")
    _wait_for_epochs(proc, tmp_path / "k")
    ranks = _ranks_of("k")
    assert len(ranks) == 2
    os.kill(ranks[-1], signal.SIGKILL)
    start = time.monotonic()
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 10
    assert proc.returncode not in (0, None)
    assert "a process of the job ended" in err
    assert not _ranks_of("k")
    tree = minidl.training.load_checkpoint(tmp_path / "k" / "checkpoint.npz")
    assert int(tree["epoch"]) >= 1


def test_procs_values():
    from minidl.distributed.launch import cores, parse_procs

    assert parse_procs("3") == 3 and parse_procs("auto") == cores()
    for bad in ("0", "-2", "two", ""):
        with pytest.raises(ConfigError, match="--procs"):
            parse_procs(bad)


# ============================================================================================ without MPI
def test_collectives_need_a_group():
    import minidl.distributed as dist

    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        minidl.nn.parallel.DistributedDataParallel(minidl.nn.Linear(2, 2))
    with pytest.raises(ConfigError, match="nccl"):
        dist.init_process_group("nccl")


@pytest.mark.parametrize("n", [0, 1, 5, 8, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shares(n, replicas, drop_last):
    """Without shuffling, rank r takes positions r, r+R, ... of the order padded (or cut) to a multiple of R;
    with it, every epoch is a permutation shared by all ranks, a new one per epoch."""
    for shuffle in (False, True):
        shares = [DistributedSampler(range(n), replicas, r, shuffle=shuffle, seed=1, drop_last=drop_last)
                  for r in range(replicas)]
        got = [s.epoch_indices() for s in shares]
        assert len({len(g) for g in got}) <= 1 and all(len(g) == len(s) for g, s in zip(got, shares, strict=True))
        everything = np.concatenate(got) if got else np.zeros(0)
        if drop_last:
            assert len(set(everything.tolist())) == len(everything) == n // replicas * replicas
        else:
            assert set(everything.tolist()) == set(range(n)) and len(everything) - n == (-n) % replicas if n else True
        if not shuffle:
            order = np.resize(np.arange(n), len(everything)) if n else everything
            assert np.array_equal(np.stack(got, 1).reshape(-1) if n else everything, order)
    s = DistributedSampler(range(50), 2, 0, seed=3)
    first = s.epoch_indices()
    s.set_epoch(1)
    assert not np.array_equal(first, s.epoch_indices())
    s.load_state_dict({"epoch": 0, "seed": 3})
    assert np.array_equal(first, s.epoch_indices())


@requires_torch
@pytest.mark.parametrize("n", [7, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_without_shuffle(n, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for replicas in (1, 2, 3, 5):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
            theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_errors():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match="not a DistributedSampler state"):
        DistributedSampler(range(4), 1, 0).load_state_dict({"epoch_seed": 1})


def test_sync_batchnorm_alone_is_batchnorm_and_converts_in_place(rng):
    minidl.manual_seed(0)
    model = minidl.nn.Sequential(minidl.nn.Conv2d(2, 3, 3), BatchNorm2d(3), minidl.nn.Flatten(),
                                 minidl.nn.Linear(3 * 16, 4), BatchNorm1d(4, affine=False))
    x = minidl.from_numpy(rng.standard_normal((5, 2, 6, 6)).astype(np.float32))
    reference = model(x).detach().numpy()
    keys = list(model.state_dict())
    weight = model[1].weight
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model and isinstance(model[1], SyncBatchNorm) and isinstance(model[4], SyncBatchNorm)
    assert model[1].weight is weight and model[4].weight is None and list(model.state_dict()) == keys
    for m in (model[1], model[4]):
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
        m.num_batches_tracked.zero_()
    np.testing.assert_allclose(model(x).detach().numpy(), reference, rtol=1e-6, atol=1e-6)
    model.eval()
    assert model[1].num_batches_tracked.item() == 1


def test_sync_batch_norm_op_gradients_with_one_rank(rng):
    """The op's backward against central differences (one process: the reduction is the identity)."""
    from minidl.autograd import gradcheck

    x = minidl.from_numpy(rng.standard_normal((4, 3, 2, 2))).requires_grad_()
    w = minidl.from_numpy(rng.standard_normal(3)).requires_grad_()
    b = minidl.from_numpy(rng.standard_normal(3)).requires_grad_()
    assert gradcheck(lambda x, w, b: minidl.ops.sync_batch_norm(x, w, b, eps=1e-5), (x, w, b), atol=1e-6)


def test_gradients_reach_post_accumulate_hooks_before_backward_ends():
    """A leaf's post-accumulate hook fires as soon as its gradient is complete, while earlier layers' backward
    has yet to run: what lets data-parallel training start averaging during backward (as PyTorch's does)."""
    minidl.manual_seed(0)
    first, last = minidl.nn.Linear(3, 3), minidl.nn.Linear(3, 1)
    events: list[str] = []
    last.weight.register_post_accumulate_grad_hook(lambda p: events.append("last.weight ready"))
    first.weight.register_post_accumulate_grad_hook(lambda p: events.append("first.weight ready"))
    h = first(minidl.ones(2, 3))
    h.register_hook(lambda g: events.append("backward through first"))
    last(h).sum().backward()
    assert events == ["last.weight ready", "backward through first", "first.weight ready"]
    assert last.weight.grad is not None and first.weight.grad is not None


@requires_mpi
def test_the_pytorch_style_ddp_example_runs_on_two_ranks(tmp_path):
    """examples/ddp_mnist.py is PyTorch's DDP tutorial structure with `import minidl as torch`."""
    r = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, str(HERE.parent / "examples" / "ddp_mnist.py"),
                        "--epochs", "1"], capture_output=True, text=True, timeout=240, env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    accuracy = float(re.search(r"test accuracy ([\d.]+)% \(2 ranks x 32\)", r.stdout).group(1))
    assert accuracy > 60  # one epoch on 6,000 images: chance is 10%
    state = minidl.load(tmp_path / "ddp_mnist.pt")
    assert "bn.running_mean" in state and "conv1.weight" in state
