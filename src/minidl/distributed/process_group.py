"""The process group and its collectives, with ``torch.distributed``'s names, on MPI through ``mpi4py``.

One process group: every rank MPI started (``MPI.COMM_WORLD``). ``mpiexec -n N python train.py`` starts N
ranks on this machine, ``mpiexec -n N -f hostfile ...`` across hosts; ``minidl train --procs N`` runs the
former for you. MPI itself (MPICH from its PyPI wheel) moves the bytes: shared memory between local ranks,
TCP between hosts.

Each collective works in place on a :class:`~minidl.Tensor` (its array) or a NumPy array, as PyTorch's does on
its tensors. ``async_op=True`` returns a :class:`Work` whose ``wait()`` completes it; every wait polls the
request from Python rather than blocking inside MPI, so that a Ctrl-C reaches the waiting rank (a blocking
MPI call would hold it until the peers arrive, which after a peer stopped is never).

A rank that raises while the group is up aborts the whole job (``MPI.COMM_WORLD.Abort``) after printing its
traceback with its rank: without that, the other ranks would wait for it forever in their next collective.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from .._optional import require
from ..errors import ConfigError, ShapeError
from ..tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "is_available", "is_mpi_launched", "init_process_group", "is_initialized", "get_rank",
    "get_world_size", "get_backend", "all_reduce", "broadcast", "all_gather", "reduce", "barrier",
    "destroy_process_group", "allreduce_arrays", "rank_and_size",
]


class ReduceOp(Enum):
    """How :func:`all_reduce` and :func:`reduce` combine the ranks' values (``AVG``: the sum over the ranks
    divided by their number)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MAX = "max"
    MIN = "min"


class _Group:
    """The initialised group: the communicator, and the excepthook it replaced."""

    def __init__(self, comm: Any, mpi: Any, previous_hook: Any) -> None:
        self.comm, self.mpi, self.previous_hook = comm, mpi, previous_hook
        self.rank, self.size = comm.Get_rank(), comm.Get_size()


_group: _Group | None = None


def is_available() -> bool:
    """Whether the ``distributed`` extra (mpi4py and an MPI library) is installed."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


#: environment variables MPI launchers set in the processes they start (MPICH's Hydra, Open MPI, Slurm's PMI)
_LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS")


def is_mpi_launched() -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``), i.e. is one rank of a job."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def _mpi() -> Any:
    return require("mpi4py.MPI", "mpi4py", "distributed", "data-parallel training")


def init_process_group(backend: str | None = "mpi", init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job's process group: every rank ``mpiexec`` started.

    ``backend``: ``"mpi"``; ``"gloo"`` and ``None`` are accepted as the same thing (the CPU backend of a
    PyTorch script), ``"nccl"`` is refused (no GPUs). The ranks and their number come from MPI: ``rank`` and
    ``world_size``, when given, must agree with it; ``init_method``, ``store`` and ``timeout`` (rendezvous
    settings of other backends) are not needed and ignored.
    """
    global _group
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if backend not in (None, "mpi", "gloo", "cpu:gloo"):
        raise ConfigError(f"init_process_group: backend {backend!r} is not available; minidl's backend is 'mpi' "
                          "(on CPUs, through mpi4py), which also serves PyTorch scripts that ask for 'gloo'")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    for what, given, actual in (("rank", rank, comm.Get_rank()), ("world_size", world_size, comm.Get_size())):
        if given not in (-1, None) and int(given) != actual:
            raise ConfigError(f"init_process_group: {what}={given} but MPI started this process as {what} {actual}; "
                              "start the ranks with `mpiexec -n N python script.py` (or `minidl train --procs N`) "
                              "instead of spawning them yourself")
    previous = sys.excepthook
    _group = _Group(comm, MPI, previous)
    if comm.Get_size() > 1:
        sys.excepthook = _abort_job_hook


def _abort_job_hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    """An uncaught exception on one rank: print it, naming the rank, then end every rank of the job."""
    group = _group
    prefix = f"rank {group.rank} of {group.size}: " if group is not None else ""
    sys.stderr.write(f"{prefix}uncaught {kind.__name__}; stopping every rank of the job\n")
    (group.previous_hook if group is not None else sys.__excepthook__)(kind, value, tb)
    abort(130 if issubclass(kind, KeyboardInterrupt) else 1)


#: seconds between a failing rank's last words and the abort: mpiexec forwards a rank's output through a
#: pipe, and an abort tears the job down before it reads what is still in flight (seen: the error was lost)
_LAST_WORDS_S = 0.5


def abort(code: int = 1) -> None:
    """End every rank of the job now (after a failure on this one); no-op outside a multi-rank group."""
    if _group is not None and _group.size > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(_LAST_WORDS_S)
        _group.comm.Abort(code)


def is_initialized() -> bool:
    return _group is not None


def rank_and_size() -> tuple[int, int]:
    """(this process's rank, the number of ranks), and (0, 1) outside an initialised group: the question every
    layer above asks (is this a data-parallel job, and is this rank the one that writes?)."""
    return (_group.rank, _group.size) if _group is not None else (0, 1)


def _require_group(what: str) -> _Group:
    if _group is None:
        raise RuntimeError(f"{what}: Default process group has not been initialized, please make sure to call "
                           "init_process_group.")
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank, 0 … world size − 1 (as in PyTorch, an error before :func:`init_process_group`)."""
    return _require_group("get_rank").rank


def get_world_size(group: Any = None) -> int:
    return _require_group("get_world_size").size


def get_backend(group: Any = None) -> str:
    _require_group("get_backend")
    return "mpi"


def destroy_process_group(group: Any = None) -> None:
    """Leave the group (MPI itself is finalised when the process exits)."""
    global _group
    if _group is None:
        return
    if sys.excepthook is _abort_job_hook:
        sys.excepthook = _group.previous_hook
    _group = None


# --------------------------------------------------------------------------------------------- requests
class Work:
    """A collective in flight (``async_op=True``); ``wait()`` completes it, then ``finish`` runs (copy-back,
    division by the world size)."""

    def __init__(self, request: Any, finish: Any = None) -> None:
        self._request, self._finish, self._done = request, finish, False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            _wait(self._request)
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()


def _wait(request: Any) -> None:
    """Poll until ``request`` completes, yielding the core after the first few thousand polls: a Ctrl-C can
    interrupt the loop (it cannot interrupt a blocking MPI call), and a rank waiting for a slower one does
    not steal the core that rank needs when the ranks outnumber the cores."""
    polls = 0
    while not request.Test():
        polls += 1
        if polls > 2000:
            time.sleep(0)


# --------------------------------------------------------------------------------------------- collectives
def _array(tensor: Any, what: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor._data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"{what}: expected a Tensor or a NumPy array, got {type(tensor).__name__}")


def _buffer(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """A contiguous array to communicate with, and whether it is a copy to write back afterwards."""
    return (a, False) if a.flags.c_contiguous else (np.ascontiguousarray(a), True)


def _mpi_op(group: _Group, op: ReduceOp) -> Any:
    MPI = group.mpi
    if not isinstance(op, ReduceOp):
        raise TypeError(f"expected a ReduceOp, got {op!r}")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MAX: MPI.MAX,
            ReduceOp.MIN: MPI.MIN}[op]


def _run(request: Any, finish: Any, async_op: bool) -> Work | None:
    work = Work(request, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Any, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over every rank with ``op``; every rank's ``tensor`` then holds the result."""
    g = _require_group("all_reduce")
    a = _array(tensor, "all_reduce")
    if op is ReduceOp.AVG and a.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating-point tensor, got {a.dtype}")
    buf, copied = _buffer(a)
    request = g.comm.Iallreduce(g.mpi.IN_PLACE, buf, _mpi_op(g, op))

    def finish() -> None:
        if op is ReduceOp.AVG:
            buf[...] /= g.size
        if copied:
            a[...] = buf

    return _run(request, finish, async_op)


def allreduce_arrays(arrays: Sequence[np.ndarray], op: ReduceOp = ReduceOp.SUM) -> list[np.ndarray]:
    """:func:`all_reduce` of several small arrays in one message: their values concatenated (as the first
    array's dtype), reduced, split again. Returns new arrays; a group of one returns copies."""
    flat = np.concatenate([np.asarray(a, dtype=arrays[0].dtype).ravel() for a in arrays])
    if _group is not None and _group.size > 1:
        all_reduce(flat, op)
    out, start = [], 0
    for a in arrays:
        out.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    return out


def broadcast(tensor: Any, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Every rank's ``tensor`` takes rank ``src``'s values."""
    g = _require_group("broadcast")
    if not 0 <= src < g.size:
        raise ValueError(f"broadcast: src {src} is not a rank of this group (0 … {g.size - 1})")
    a = _array(tensor, "broadcast")
    buf, copied = _buffer(a)
    request = g.comm.Ibcast(buf, root=src)

    def finish() -> None:
        if copied:
            a[...] = buf

    return _run(request, finish, async_op)


def all_gather(tensor_list: list[Any], tensor: Any, group: Any = None, async_op: bool = False) -> Work | None:
    """``tensor_list[k]`` receives rank k's ``tensor`` (same shape and dtype on every rank)."""
    g = _require_group("all_gather")
    a = _array(tensor, "all_gather")
    if len(tensor_list) != g.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} entries, the group {g.size} ranks")
    outs = [_array(t, "all_gather") for t in tensor_list]
    for k, o in enumerate(outs):
        if o.shape != a.shape or o.dtype != a.dtype:
            raise ShapeError(f"all_gather: tensor_list[{k}] is {o.dtype} {o.shape}, the input {a.dtype} {a.shape}")
    recv = np.empty((g.size, *a.shape), dtype=a.dtype)
    request = g.comm.Iallgather(np.ascontiguousarray(a), recv)

    def finish() -> None:
        for k, o in enumerate(outs):
            o[...] = recv[k]

    return _run(request, finish, async_op)


def reduce(tensor: Any, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over every rank with ``op`` into rank ``dst``'s ``tensor`` (the others keep theirs)."""
    g = _require_group("reduce")
    if not 0 <= dst < g.size:
        raise ValueError(f"reduce: dst {dst} is not a rank of this group (0 … {g.size - 1})")
    a = _array(tensor, "reduce")
    buf, copied = _buffer(a)
    send = g.mpi.IN_PLACE if g.rank == dst else buf
    request = g.comm.Ireduce(send, buf if g.rank == dst else None, _mpi_op(g, op), root=dst)

    def finish() -> None:
        if g.rank != dst:
            return
        if op is ReduceOp.AVG:
            buf[...] /= g.size
        if copied:
            a[...] = buf

    return _run(request, finish, async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank reached this call."""
    g = _require_group("barrier")
    return _run(g.comm.Ibarrier(), None, async_op)


def gather_rows(a: np.ndarray) -> np.ndarray:
    """Every rank's ``a`` (N_k, ...) stacked in rank order, on every rank (the row counts may differ): one
    ``Allgatherv``. A group of one (or none) returns ``a``."""
    if _group is None or _group.size == 1:
        return a
    g = _group
    a = np.ascontiguousarray(a)
    counts = np.zeros(g.size, dtype=np.int64)
    counts[g.rank] = len(a)
    all_reduce(counts)
    row = int(np.prod(a.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()), *a.shape[1:]), dtype=a.dtype)
    sizes = [int(c) * row for c in counts]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    _wait(g.comm.Iallgatherv(a, [out, (sizes, offsets)]))
    return out
