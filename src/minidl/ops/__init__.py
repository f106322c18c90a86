"""Every differentiable op in minidl, each an :class:`~minidl.ops.base.Op` with ``forward``/``backward``.

Families live in their own modules; this namespace gathers them so ``minidl.ops.conv2d.forward(...)``
works for homework-style use and ``minidl.ops.conv2d(x, w)`` runs the op through the autograd engine.
"""

from ._memory import keep_freed_memory as keep_freed_memory  # the documented opt-in call
from ._memory import keep_freed_memory_if_asked
from .activation import activations, leaky_relu, log_softmax, prelu, relu, sigmoid, softmax, tanh
from .base import Op, wants
from .conv import conv2d, conv_transpose2d
from .ctc import ctc_loss
from .dropout import dropout
from .elementwise import (
    abs,
    add,
    cast,
    clip,
    clone,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    pow_scalar,
    sqrt,
    sub,
    unary,
    where,
)
from .embedding import embedding, embedding_bag
from .linalg import einsum, linear, matmul
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
    pointwise_losses,
)
from .norm import batch_norm, group_norm, layer_norm, local_response_norm, sync_batch_norm
from .padding import pad
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d, max_unpool2d
from .recurrent import lstm_scan
from .reduce import amax, amin, cumprod, cumsum, logsumexp, mean, norm, prod, sum
from .resample import interpolate
from .shape import (
    cat,
    expand,
    flip,
    gather,
    getitem,
    index_put,
    permute,
    reshape,
    roll,
    scatter,
    stack,
    tile,
    view_of,
    view_scatter,
)
from .sliding_blocks import fold, unfold

keep_freed_memory_if_asked()  # opt-in (MINIDL_MALLOC_TUNING=1): it tunes the whole process's allocator (see _memory)

__all__ = [
    "Op", "wants",
    "add", "sub", "mul", "div", "pow", "pow_scalar", "neg", "exp", "log", "sqrt", "abs", "clip",
    "maximum", "minimum", "where", "cast", "clone", "unary",
    "sum", "mean", "amax", "amin", "prod", "logsumexp", "cumsum", "cumprod", "norm",
    "reshape", "permute", "getitem", "cat", "stack", "index_put", "view_of", "view_scatter",
    "expand", "tile", "roll", "flip", "gather", "scatter",
    "matmul", "linear", "einsum",
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "activations", "prelu",
    "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "conv_transpose2d", "adaptive_max_pool2d", "max_unpool2d", "pad", "interpolate", "unfold", "fold",
    "batch_norm", "sync_batch_norm", "layer_norm", "dropout", "group_norm", "local_response_norm", "embedding",
    "embedding_bag",
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "pointwise_losses", "ctc_loss", "lstm_scan",
]  # fmt: skip
