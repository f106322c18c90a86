"""``minidl.distributed``: data-parallel training over MPI ranks, with ``torch.distributed``'s names.

Install the ``distributed`` extra (``pip install 'minidl[distributed]'``: mpi4py and MPICH's wheel, no
system MPI needed), then start N ranks with ``mpiexec -n N python script.py`` (``-f hostfile`` for several
hosts) or ``minidl train --procs N``. In the script::

    import minidl.distributed as dist
    dist.init_process_group("mpi")
    model = minidl.nn.parallel.DistributedDataParallel(model)
    sampler = minidl.utils.data.distributed.DistributedSampler(train_set)

The pieces: :mod:`.process_group` (the group and its collectives), :mod:`.launch` (starting ranks from the
CLI, and stopping every rank when one fails), :class:`minidl.nn.parallel.DistributedDataParallel`,
:class:`minidl.nn.SyncBatchNorm` and :class:`minidl.utils.data.distributed.DistributedSampler`.
"""

from .process_group import (
    ReduceOp,
    Work,
    abort,
    all_gather,
    all_reduce,
    allreduce_arrays,
    barrier,
    broadcast,
    destroy_process_group,
    gather_rows,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_launched,
    rank_and_size,
    reduce,
)

__all__ = [
    "ReduceOp", "Work", "is_available", "is_mpi_launched", "init_process_group", "is_initialized", "get_rank",
    "get_world_size", "get_backend", "all_reduce", "broadcast", "all_gather", "reduce", "barrier",
    "destroy_process_group", "allreduce_arrays", "gather_rows", "abort", "rank_and_size",
]  # fmt: skip
