"""``minidl.nn.parallel``: data-parallel training over the ranks of a job (:mod:`minidl.distributed`)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
