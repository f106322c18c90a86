"""``minidl.utils.data``: datasets, samplers and the DataLoader, with PyTorch's names and semantics.

In-memory datasets (:class:`TensorDataset`, the image datasets of :mod:`minidl.datasets`, and
:class:`Subset` s of them) give the :class:`DataLoader` a batched fast path: one fancy index per array
per batch instead of one ``__getitem__`` call per sample (see :mod:`minidl.utils.data.dataset`).
"""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import BatchFetcher, ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    resolve_generator,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "BatchFetcher",
    "DataLoader", "default_collate", "default_convert",
    "Sampler", "DistributedSampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
    "resolve_generator",
]  # fmt: skip
