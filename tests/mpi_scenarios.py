"""Scenarios run as real MPI jobs by tests/test_distributed.py: ``mpiexec -n N python mpi_scenarios.py NAME``.

Each rank checks its results against an independent oracle (hand-computed values from the ranks' numbers, or
the same training in one process inside the same rank) and prints ``NAME ok rank K``; a failed check raises,
which ends the whole job with a non-zero exit (minidl.distributed aborts every rank on an uncaught error).
"""

from __future__ import annotations

import sys

import numpy as np

import minidl
import minidl.distributed as dist
from minidl import nn
from minidl.nn.parallel import DistributedDataParallel as DDP
from minidl.utils.data.distributed import DistributedSampler


def collectives(rank: int, size: int) -> None:
    ranks = np.arange(size, dtype=np.float64)
    for op, expected in ((dist.ReduceOp.SUM, ranks.sum() + size), (dist.ReduceOp.AVG, ranks.mean() + 1),
                         (dist.ReduceOp.MAX, size), (dist.ReduceOp.MIN, 1.0), (dist.ReduceOp.PRODUCT,
                                                                               np.prod(ranks + 1))):
        t = minidl.full((2, 3), float(rank + 1), dtype=minidl.float64)
        dist.all_reduce(t, op)
        assert np.allclose(t.numpy(), expected), (op, t, expected)
    a = np.arange(12, dtype=np.float32).reshape(3, 4) * (rank + 1)
    view = a[:, ::2]  # not contiguous: reduced through a copy, written back into the view
    dist.all_reduce(view)
    assert np.allclose(a[:, ::2], np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2] * sum(range(1, size + 1)))
    assert np.allclose(a[:, 1::2], np.arange(12, dtype=np.float32).reshape(3, 4)[:, 1::2] * (rank + 1))
    i = minidl.tensor([rank, 10 * rank])
    work = dist.all_reduce(i, async_op=True)
    assert work is not None
    work.wait()
    assert i.tolist() == [sum(range(size)), 10 * sum(range(size))] and work.is_completed()
    b = minidl.tensor([float(rank)] * 4) if rank != size - 1 else minidl.tensor([7.0, 8.0, 9.0, 10.0])
    dist.broadcast(b, src=size - 1)
    assert b.tolist() == [7.0, 8.0, 9.0, 10.0]
    outs = [minidl.zeros(2, dtype=minidl.int64) for _ in range(size)]
    dist.all_gather(outs, minidl.tensor([rank, rank * rank]))
    assert [o.tolist() for o in outs] == [[k, k * k] for k in range(size)]
    r = np.array([rank + 1.0])
    dist.reduce(r, dst=0)
    assert r[0] == (sum(range(1, size + 1)) if rank == 0 else rank + 1.0)
    rows = dist.gather_rows(np.full((rank + 1, 2), rank, dtype=np.int64))  # different row counts per rank
    assert rows.tolist() == [[k, k] for k in range(size) for _ in range(k + 1)]
    dist.barrier()
    for bad in (lambda: dist.broadcast(b, src=size), lambda: dist.all_gather(outs[:1], b)):
        try:
            bad()
        except ValueError:
            pass
        else:
            raise AssertionError("a bad collective call was accepted")


def _model(batchnorm: bool) -> nn.Module:
    norm = [nn.BatchNorm2d(4)] if batchnorm else []
    return nn.Sequential(nn.Conv2d(1, 4, 3), *norm, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 8),
                         nn.Tanh(), nn.Linear(8, 3)).double()


def _same_as_one_process(rank: int, size: int, batchnorm: bool, **ddp_kwargs: object) -> float:
    """50 SGD-momentum steps on `size` ranks with global batch 6·size against one process with the same batches
    (computed here too, in this rank); returns the largest difference of the final states."""
    minidl.manual_seed(0)
    single = _model(batchnorm)
    reference_state = {k: v.clone() for k, v in single.state_dict().items()}
    minidl.manual_seed(100 + rank)  # each rank starts from other weights: the wrapper must broadcast rank 0's
    local = _model(batchnorm)
    if rank == 0:
        local.load_state_dict(reference_state)
    if batchnorm:
        local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
    model = DDP(local, **ddp_kwargs)
    opts = [minidl.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in (single, model)]
    rng = np.random.default_rng(7)
    share = 6
    for _ in range(50):
        x = minidl.from_numpy(rng.standard_normal((share * size, 1, 8, 8)))
        y = minidl.from_numpy(rng.integers(0, 3, share * size))
        for m, opt, (xs, ys) in ((single, opts[0], (x, y)),
                                 (model, opts[1], (x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]))):
            opt.zero_grad()
            minidl.nn.functional.cross_entropy(m(xs), ys).backward()
            opt.step()
    ours = local.state_dict()
    assert set(model.state_dict()) == {f"module.{k}" for k in ours}  # PyTorch's keys
    return max(float(np.abs(ours[k].numpy() - v.numpy()).max()) for k, v in single.state_dict().items())


def same_result(rank: int, size: int) -> None:
    for batchnorm in (False, True):
        for kwargs in ({}, {"bucket_cap_mb": 0.0005}, {"overlap": False}):
            diff = _same_as_one_process(rank, size, batchnorm, **kwargs)
            assert diff < 1e-5, (batchnorm, kwargs, diff)
            if rank == 0:  # the ranks' lines may interleave; one rank reports
                print(f"same_result batchnorm={batchnorm} {kwargs} max diff {diff:.1e}|", flush=True)


def no_sync(rank: int, size: int) -> None:
    """Two half-batches accumulated (the first under no_sync) step as one process with the whole batch."""
    minidl.manual_seed(0)
    single = _model(False)
    model = DDP(_model(False))
    model.module.load_state_dict(single.state_dict())
    rng = np.random.default_rng(3)
    x = minidl.from_numpy(rng.standard_normal((4 * size, 1, 8, 8)))
    y = minidl.from_numpy(rng.integers(0, 3, 4 * size))
    F = minidl.nn.functional
    (F.cross_entropy(single(x), y, reduction="sum") / (4 * size)).backward()
    mine = [x[rank * 4:(rank + 1) * 4], y[rank * 4:(rank + 1) * 4]]
    with model.no_sync():
        (F.cross_entropy(model(mine[0][:2]), mine[1][:2], reduction="sum") / 4).backward()
    grads_unsynced = model.module[0].weight.grad.numpy().copy()
    (F.cross_entropy(model(mine[0][2:]), mine[1][2:], reduction="sum") / 4).backward()
    for p, q in zip(single.parameters(), model.module.parameters(), strict=True):
        assert np.allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-12)
    if size > 1:  # inside no_sync the gradient was this rank's alone
        assert not np.allclose(grads_unsynced, single[0].weight.grad.numpy())


def unused(rank: int, size: int) -> None:
    """A parameter no rank uses is an error naming it; with find_unused_parameters, a parameter used on one
    rank only gets the average over all ranks (zero where unused) and one used nowhere keeps no gradient."""

    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body, self.a, self.b, self.never = nn.Linear(3, 3), nn.Linear(3, 1), nn.Linear(3, 1), nn.Linear(3, 1)

        def forward(self, x: minidl.Tensor, head: str) -> minidl.Tensor:
            return getattr(self, head)(self.body(x))

    minidl.manual_seed(0)
    x = minidl.ones(2, 3, dtype=minidl.float32)
    model = DDP(TwoHeads())
    try:
        model(x, "a").sum().backward()
    except RuntimeError as e:
        assert "b.weight" in str(e) and "never.weight" in str(e) and "find_unused_parameters" in str(e), e
    else:
        raise AssertionError("unused parameters were not reported")
    model = DDP(TwoHeads(), find_unused_parameters=True)
    model(x, "a" if rank == 0 else "b").sum().backward()
    assert model.module.never.weight.grad is None
    expected = model.module.body(x).detach().sum(0).numpy() / size  # d(sum a(h))/d a.weight on rank 0 only
    assert np.allclose(model.module.a.weight.grad.numpy()[0], expected, atol=1e-6)


def sampler(rank: int, size: int) -> None:
    """Every sample exactly once per epoch across ranks (dataset length a multiple of the ranks), a new order
    each epoch, and at most size - 1 repeats when padding."""
    for n, epoch in ((12 * size, 0), (12 * size, 1)):
        s = DistributedSampler(range(n), shuffle=True, seed=5)
        s.set_epoch(epoch)
        mine = minidl.from_numpy(s.epoch_indices())
        gathered = [minidl.zeros(len(mine), dtype=minidl.int64) for _ in range(size)]
        dist.all_gather(gathered, mine)
        everything = np.concatenate([g.numpy() for g in gathered])
        assert sorted(everything.tolist()) == list(range(n)), everything


def fails_on_last_rank(rank: int, size: int) -> None:
    """Rank size-1 raises in the middle of training while the others wait in an allreduce."""
    model = DDP(_model(False))
    opt = minidl.optim.SGD(model.parameters(), lr=0.1)
    for step in range(1000):
        if rank == size - 1 and step == 3:
            raise ValueError("injected failure")
        opt.zero_grad()
        model(minidl.randn(2, 1, 8, 8, dtype=minidl.float64)).sum().backward()
        opt.step()


SCENARIOS = {f.__name__: f for f in (collectives, same_result, no_sync, unused, sampler, fails_on_last_rank)}

if __name__ == "__main__":
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    for name in sys.argv[1:]:
        SCENARIOS[name](rank, size)
        print(f"{name} ok rank {rank}", flush=True)
    dist.destroy_process_group()
