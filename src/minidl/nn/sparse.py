"""Embedding layers: ``Embedding`` and ``EmbeddingBag`` (PyTorch's ``torch.nn.modules.sparse``)."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedError
from ..tensor import Tensor
from . import functional as F
from . import init
from ._functional_sparse import _padding_idx
from .module import Module, Parameter, _empty_parameter, _factory_dtype

__all__ = ["Embedding", "EmbeddingBag"]


class _Embeddings(Module):
    """A table ``weight`` (num_embeddings, embedding_dim) initialised N(0, 1), the ``padding_idx`` row zero; or
    a given ``_weight`` (which then becomes the parameter's storage, as in PyTorch)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None, max_norm: float | None,
                 norm_type: float, scale_grad_by_freq: bool, sparse: bool, _weight: Tensor | None, _freeze: bool,
                 device: Any, dtype: Any) -> None:
        super().__init__()
        if sparse:
            raise UnsupportedError(f"{type(self).__name__}: sparse=True (sparse gradients) is not supported by "
                                   "minidl; use sparse=False (the default), whose dense gradient has the same values")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = None if padding_idx is None else _padding_idx(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = _empty_parameter((num_embeddings, embedding_dim), _factory_dtype(device, dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"{type(self).__name__}: shape of weight {tuple(_weight.shape)} does not match "
                                 f"num_embeddings and embedding_dim ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def _repr_options(self) -> list[str]:
        parts = [f"{self.num_embeddings}, {self.embedding_dim}"]
        if self.max_norm is not None:
            parts.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2:
            parts.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            parts.append(f"scale_grad_by_freq={self.scale_grad_by_freq}")
        return parts


def _pretrained(embeddings: Tensor, what: str) -> tuple[int, int]:
    if embeddings.ndim != 2:
        raise ValueError(f"{what}.from_pretrained: embeddings parameter is expected to be 2-dimensional, got "
                         f"{embeddings.ndim} dimensions")
    return embeddings.shape[0], embeddings.shape[1]


class Embedding(_Embeddings):
    r"""A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) for each index i of the input.

    ``padding_idx``: that row starts at zero and gets no gradient. ``max_norm``: rows used by a forward whose
    ``norm_type``-norm exceeds it are renormalised in place first. ``scale_grad_by_freq``: gradients are
    divided by each index's count in the batch. Weight initialised N(0, 1), as in PyTorch.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, _freeze, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        parts = self._repr_options()
        if self.padding_idx is not None:
            parts.insert(1, f"padding_idx={self.padding_idx}")
        return ", ".join(parts)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (shared storage), frozen unless ``freeze=False``."""
        rows, cols = _pretrained(embeddings, "Embedding")
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(_Embeddings):
    r"""Sums, means or maxima (``mode``) of bags of embeddings, without building the per-index rows: input
    (B, N) gives B bags of N indices; a 1-D input is cut into bags at ``offsets``. ``per_sample_weights``
    weigh the entries of 'sum' bags; ``padding_idx`` entries are skipped (and its row starts at zero)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, False, device, dtype)
        self.mode = mode
        self.include_last_offset = include_last_offset

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self) -> str:
        parts = self._repr_options()
        parts.append(f"mode={self.mode!r}")
        if self.padding_idx is not None:
            parts.append(f"padding_idx={self.padding_idx}")
        return ", ".join(parts)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (shared storage), frozen unless ``freeze=False``."""
        rows, cols = _pretrained(embeddings, "EmbeddingBag")
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
