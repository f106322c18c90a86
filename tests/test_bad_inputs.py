"""Bad inputs against PyTorch (issue 14): a table of API calls with wrong shapes, dtypes, labels, ranges,
empty batches and NaN inputs, each run on both libraries. Where torch raises, minidl must raise too (and an
exception that torch's ``except`` clause would catch); where torch computes a result, minidl must compute
the same one (shape, dtype and values, NaN where torch gives NaN), without a RuntimeWarning.

Every case is ``fn(lib)`` with ``lib`` the ``minidl`` or ``torch`` module, inputs built from the same NumPy
arrays. Hypothesis then draws random shape pairs for broadcasting and matrix products: minidl raises a
:class:`~minidl.errors.ShapeError` exactly when NumPy's broadcasting rules (which PyTorch shares) refuse.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from conftest import requires_torch, torch
from minidl.errors import ShapeError

R = np.random.default_rng(0)
X4 = R.standard_normal((2, 4))
W34 = R.standard_normal((3, 4))
IMG = R.standard_normal((2, 3, 6, 6))
K = R.standard_normal((4, 3, 3, 3))
LOGITS = R.standard_normal((4, 3))
LABELS = np.array([0, 2, 1, 2])
NAN = np.array([[1.0, np.nan, 2.0], [0.5, 0.1, -1.0]])
INF = np.array([[1.0, np.inf, 2.0], [-np.inf, 0.1, -1.0]])


def t(lib: Any, a: Any, dtype: str | None = None, grad: bool = False) -> Any:
    """The same tensor in either library (from a NumPy array or a list)."""
    arr = np.asarray(a)
    if dtype is not None:
        arr = arr.astype(dtype)
    out = lib.tensor(arr)
    return out.requires_grad_() if grad else out


def F(lib: Any) -> Any:
    return lib.nn.functional


CASES: dict[str, Callable[[Any], Any]] = {
    # ---------------------------------------------------------------- shapes
    "linear_features": lambda L: F(L).linear(t(L, R.standard_normal((2, 5))), t(L, W34)),
    "linear_scalar_input": lambda L: F(L).linear(t(L, 1.0), t(L, W34)),
    "linear_1d_input": lambda L: F(L).linear(t(L, X4[0]), t(L, W34)),
    "linear_bias_shape": lambda L: F(L).linear(t(L, X4), t(L, W34), t(L, np.ones(4))),
    "Linear_module_features": lambda L: L.nn.Linear(4, 3)(t(L, R.standard_normal((2, 5)), "float32")),
    "conv2d_channels": lambda L: F(L).conv2d(t(L, R.standard_normal((2, 4, 6, 6))), t(L, K)),
    "conv2d_2d_input": lambda L: F(L).conv2d(t(L, IMG[0, 0]), t(L, K)),
    "conv2d_unbatched": lambda L: F(L).conv2d(t(L, IMG[0]), t(L, K)),
    "conv2d_kernel_too_big": lambda L: F(L).conv2d(t(L, IMG[:, :, :2, :2]), t(L, K)),
    "conv2d_stride_0": lambda L: F(L).conv2d(t(L, IMG), t(L, K), stride=0),
    "conv2d_groups_mismatch": lambda L: F(L).conv2d(t(L, IMG), t(L, K), groups=2),
    "conv2d_bias_shape": lambda L: F(L).conv2d(t(L, IMG), t(L, K), t(L, np.ones(3))),
    "Conv2d_module_channels": lambda L: L.nn.Conv2d(3, 4, 3)(t(L, R.standard_normal((2, 5, 6, 6)), "float32")),
    "max_pool_kernel_too_big": lambda L: F(L).max_pool2d(t(L, IMG[:, :, :2, :2]), 3),
    "max_pool_padding_too_big": lambda L: F(L).max_pool2d(t(L, IMG), 2, padding=2),
    "avg_pool_1d_input": lambda L: F(L).avg_pool2d(t(L, X4[0]), 2),
    "batch_norm_features": lambda L: F(L).batch_norm(t(L, X4), None, None, t(L, np.ones(3)), t(L, np.zeros(3)),
                                                     training=True),
    "BatchNorm2d_3d_input": lambda L: L.nn.BatchNorm2d(3)(t(L, IMG[0, :, :, 0], "float32")),
    "BatchNorm1d_features": lambda L: L.nn.BatchNorm1d(5)(t(L, X4, "float32")),
    "layer_norm_shape": lambda L: F(L).layer_norm(t(L, X4), (3,)),
    "cross_entropy_batch": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, np.array([0, 1, 2, 0, 1]))),
    "cross_entropy_2d_target": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, LABELS[:, None])),
    "nll_loss_1d_input_2d_target": lambda L: F(L).nll_loss(t(L, LOGITS[0]), t(L, LABELS[:2].reshape(1, 2))),
    "mse_mismatch": lambda L: F(L).mse_loss(t(L, X4), t(L, R.standard_normal((2, 5)))),
    "l1_mismatch": lambda L: F(L).l1_loss(t(L, X4), t(L, R.standard_normal((3, 4)))),
    "bce_mismatch": lambda L: F(L).binary_cross_entropy(t(L, [0.2, 0.7]), t(L, [0.0, 1.0, 1.0])),
    "matmul_mismatch": lambda L: t(L, X4) @ t(L, X4),
    "matmul_vector_mismatch": lambda L: t(L, X4) @ t(L, np.ones(3)),
    "matmul_scalar": lambda L: L.matmul(t(L, 2.0), t(L, X4)),
    "bmm_2d": lambda L: L.bmm(t(L, X4), t(L, X4.T)),
    "bmm_batch_mismatch": lambda L: L.bmm(t(L, np.ones((2, 3, 4))), t(L, np.ones((3, 4, 5)))),
    "mm_3d": lambda L: L.mm(t(L, np.ones((2, 3, 4))), t(L, np.ones((4, 5)))),
    "add_broadcast": lambda L: t(L, X4) + t(L, np.ones(3)),
    "mul_broadcast_ok": lambda L: t(L, X4) * t(L, np.ones((3, 1, 4))),
    "inplace_add_broadcast_grows": lambda L: t(L, np.ones(4)).add_(t(L, X4)),
    "cat_mismatch": lambda L: L.cat([t(L, X4), t(L, np.ones((2, 3)))]),
    "cat_ndim_mismatch": lambda L: L.cat([t(L, X4), t(L, np.ones(4))]),
    "cat_dim_out_of_range": lambda L: L.cat([t(L, X4), t(L, X4)], dim=2),
    "cat_empty_list": lambda L: L.cat([]),
    "stack_mismatch": lambda L: L.stack([t(L, X4), t(L, np.ones((2, 3)))]),
    "stack_empty_list": lambda L: L.stack([]),
    "view_size": lambda L: t(L, X4).view(3, 3),
    "view_two_minus_ones": lambda L: t(L, X4).view(-1, -1),
    "reshape_size": lambda L: t(L, X4).reshape(7),
    "reshape_negative": lambda L: t(L, X4).reshape(-2, 4),
    "transpose_dim": lambda L: t(L, X4).transpose(0, 2),
    "permute_count": lambda L: t(L, X4).permute(0),
    "permute_repeat": lambda L: t(L, X4).permute(0, 0),
    "unsqueeze_dim": lambda L: t(L, X4).unsqueeze(3),
    "squeeze_dim": lambda L: t(L, X4).squeeze(2),
    "flatten_start_after_end": lambda L: t(L, IMG).flatten(2, 1),
    "expand_invalid": lambda L: t(L, X4).expand(3, 4),
    "expand_fewer_dims": lambda L: t(L, X4).expand(4),
    "repeat_fewer_dims": lambda L: t(L, X4).repeat(2),
    "index_out_of_range": lambda L: t(L, X4)[5],
    "index_negative_out_of_range": lambda L: t(L, X4)[:, -5],
    "index_too_many": lambda L: t(L, X4)[0, 0, 0],
    "gather_index": lambda L: L.gather(t(L, X4), 1, t(L, np.array([[0, 4], [1, 1]]))),
    "sum_dim": lambda L: t(L, X4).sum(dim=3),
    "mean_dim_negative": lambda L: t(L, X4).mean(dim=-3),
    "softmax_dim": lambda L: F(L).softmax(t(L, X4), dim=2),
    "log_softmax_dim": lambda L: F(L).log_softmax(t(L, X4), dim=-3),
    "argmax_dim": lambda L: t(L, X4).argmax(dim=2),
    "topk_k_too_big": lambda L: t(L, X4).topk(5),
    "chunk_zero": lambda L: t(L, X4).chunk(0),
    "split_zero": lambda L: t(L, X4).split(0),
    "narrow_out_of_range": lambda L: t(L, X4).narrow(1, 3, 2),
    "interpolate_no_size": lambda L: F(L).interpolate(t(L, IMG)),
    "interpolate_3d_bilinear": lambda L: F(L).interpolate(t(L, IMG[0]), scale_factor=2.0, mode="bilinear"),
    "pad_too_many": lambda L: F(L).pad(t(L, X4), (1, 1, 1, 1, 1, 1)),
    "pad_odd": lambda L: F(L).pad(t(L, X4), (1,)),
    "pixel_shuffle_channels": lambda L: F(L).pixel_shuffle(t(L, IMG), 2),
    "embedding_1d_weight": lambda L: F(L).embedding(t(L, LABELS), t(L, np.ones(3))),
    # ---------------------------------------------------------------- dtypes
    "linear_float64_input_float32_weight": lambda L: F(L).linear(t(L, X4), t(L, W34, "float32")),
    "linear_int_input": lambda L: F(L).linear(t(L, np.ones((2, 4), np.int64)), t(L, W34)),
    "Linear_module_float64": lambda L: L.nn.Linear(4, 3)(t(L, X4)),
    "Linear_module_int64": lambda L: L.nn.Linear(4, 3)(t(L, np.ones((2, 4), np.int64))),
    "Linear_module_float16": lambda L: L.nn.Linear(4, 3)(t(L, X4, "float16")),
    "conv2d_float64_float32": lambda L: F(L).conv2d(t(L, IMG), t(L, K, "float32")),
    "Conv2d_module_float64": lambda L: L.nn.Conv2d(3, 4, 3)(t(L, IMG)),
    "matmul_int_float": lambda L: t(L, np.ones((2, 3), np.int64)) @ t(L, np.ones((3, 2))),
    "matmul_float32_float64": lambda L: t(L, np.ones((2, 3), np.float32)) @ t(L, np.ones((3, 2))),
    "mm_int_float": lambda L: L.mm(t(L, np.ones((2, 3), np.int64)), t(L, np.ones((3, 2)))),
    "cross_entropy_float_target_shape": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, np.ones(4))),
    "cross_entropy_int32_target": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, LABELS, "int32")),
    "cross_entropy_int_input": lambda L: F(L).cross_entropy(t(L, np.ones((4, 3), np.int64)), t(L, LABELS)),
    "nll_loss_float_target": lambda L: F(L).nll_loss(t(L, LOGITS), t(L, LABELS, "float64")),
    "embedding_float_indices": lambda L: F(L).embedding(t(L, [0.0, 1.0]), t(L, W34)),
    "bool_subtraction": lambda L: t(L, [True, False]) - t(L, [False, False]),
    "bool_neg": lambda L: -t(L, [True, False]),
    "int_requires_grad": lambda L: t(L, [1, 2]).requires_grad_(),
    "int_softmax": lambda L: F(L).softmax(t(L, [1, 2]), dim=0),
    "int_mean": lambda L: t(L, [1, 2]).mean(),
    "int_sqrt_promotes": lambda L: t(L, [1, 4]).sqrt(),
    "int_true_divide": lambda L: t(L, [1, 4]) / t(L, [2, 3]),
    "int_float_add": lambda L: t(L, [1, 4]) + t(L, [0.5, 0.25]),
    "mse_int": lambda L: F(L).mse_loss(t(L, [1, 2]), t(L, [1, 3])),
    "where_condition_float": lambda L: L.where(t(L, [1.0, 0.0]), t(L, [1.0, 2.0]), t(L, [3.0, 4.0])),
    "bitwise_and_float": lambda L: t(L, [1.0]) & t(L, [1.0]),
    # ---------------------------------------------------------------- labels and ranges
    "cross_entropy_label_eq_classes": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, [0, 3, 1, 2])),
    "cross_entropy_label_negative": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, [0, -1, 1, 2])),
    "cross_entropy_ignore_index": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, [0, -100, 1, 2])),
    "cross_entropy_label_smoothing_range": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, LABELS),
                                                                        label_smoothing=1.5),
    "cross_entropy_weight_length": lambda L: F(L).cross_entropy(t(L, LOGITS), t(L, LABELS), weight=t(L, [1.0, 2.0])),
    "nll_loss_label_too_big": lambda L: F(L).nll_loss(t(L, LOGITS), t(L, [0, 9, 1, 2])),
    "bce_input_above_1": lambda L: F(L).binary_cross_entropy(t(L, [0.5, 1.5]), t(L, [0.0, 1.0])),
    "bce_input_negative": lambda L: F(L).binary_cross_entropy(t(L, [-0.5, 0.5]), t(L, [0.0, 1.0])),
    "bce_input_nan": lambda L: F(L).binary_cross_entropy(t(L, [np.nan, 0.5]), t(L, [0.0, 1.0])),
    "embedding_index_too_big": lambda L: F(L).embedding(t(L, [0, 4]), t(L, W34)),
    "embedding_negative_index": lambda L: F(L).embedding(t(L, [0, -1]), t(L, W34)),
    "one_hot_too_few_classes": lambda L: F(L).one_hot(t(L, [0, 3]), 3),
    "one_hot_negative": lambda L: F(L).one_hot(t(L, [0, -1]), 3),
    "dropout_p_above_1": lambda L: F(L).dropout(t(L, X4), p=1.5),
    "dropout_p_negative": lambda L: L.nn.Dropout(p=-0.1),
    "SGD_negative_lr": lambda L: L.optim.SGD([t(L, X4, grad=True)], lr=-0.1),
    "SGD_negative_momentum": lambda L: L.optim.SGD([t(L, X4, grad=True)], lr=0.1, momentum=-0.5),
    "Adam_beta_above_1": lambda L: L.optim.Adam([t(L, X4, grad=True)], betas=(0.9, 1.5)),
    "Adam_negative_eps": lambda L: L.optim.Adam([t(L, X4, grad=True)], eps=-1.0),
    "AdamW_negative_weight_decay": lambda L: L.optim.AdamW([t(L, X4, grad=True)], weight_decay=-0.1),
    "Linear_negative_size": lambda L: L.nn.Linear(-1, 3),
    "Conv2d_groups_not_dividing": lambda L: L.nn.Conv2d(3, 4, 3, groups=2),
    "Conv2d_bad_padding_mode": lambda L: L.nn.Conv2d(3, 4, 3, padding_mode="mirror"),
    "Conv2d_padding_same_strided": lambda L: L.nn.Conv2d(3, 4, 3, padding="same", stride=2),
    "Embedding_padding_idx_too_big": lambda L: L.nn.Embedding(3, 4, padding_idx=5),
    "arange_step_zero": lambda L: L.arange(0, 5, 0),
    "arange_wrong_direction": lambda L: L.arange(0, 5, -1),
    "zeros_negative_size": lambda L: L.zeros(2, -1),
    "randn_negative_size": lambda L: L.randn(-3),
    "full_negative_size": lambda L: L.full((-1,), 2.0),
    "clamp_min_above_max": lambda L: t(L, X4).clamp(min=1.0, max=0.0),
    # ---------------------------------------------------------------- empty batches
    "linear_empty_batch": lambda L: F(L).linear(t(L, np.ones((0, 4))), t(L, W34)),
    "conv2d_empty_batch": lambda L: F(L).conv2d(t(L, np.ones((0, 3, 6, 6))), t(L, K)),
    "cross_entropy_empty_batch": lambda L: F(L).cross_entropy(t(L, np.ones((0, 3))), t(L, np.zeros(0, np.int64))),
    "mse_empty": lambda L: F(L).mse_loss(t(L, np.ones(0)), t(L, np.ones(0))),
    "mean_empty": lambda L: t(L, np.ones(0)).mean(),
    "sum_empty": lambda L: t(L, np.ones((0, 3))).sum(0),
    "max_empty": lambda L: t(L, np.ones(0)).max(),
    "max_dim_empty": lambda L: t(L, np.ones((0, 3))).max(dim=0),
    "argmax_empty": lambda L: t(L, np.ones(0)).argmax(),
    "softmax_empty": lambda L: F(L).softmax(t(L, np.ones((0, 3))), dim=1),
    "batch_norm_train_one_sample": lambda L: L.nn.BatchNorm1d(4)(t(L, X4[:1], "float32")),
    "batch_norm2d_train_one_value": lambda L: L.nn.BatchNorm2d(3)(t(L, IMG[:1, :, :1, :1], "float32")),
    "batch_norm_eval_one_sample": lambda L: L.nn.BatchNorm1d(4).eval()(t(L, X4[:1], "float32")),
    "max_pool_empty_batch": lambda L: F(L).max_pool2d(t(L, np.ones((0, 3, 4, 4))), 2),
    # ---------------------------------------------------------------- NaN and infinite inputs
    "relu_nan": lambda L: F(L).relu(t(L, NAN)),
    "softmax_nan": lambda L: F(L).softmax(t(L, NAN), dim=1),
    "log_softmax_inf": lambda L: F(L).log_softmax(t(L, INF), dim=1),
    "cross_entropy_nan_logits": lambda L: F(L).cross_entropy(t(L, NAN), t(L, [0, 1])),
    "cross_entropy_inf_logits": lambda L: F(L).cross_entropy(t(L, INF), t(L, [1, 0])),
    "mse_inf": lambda L: F(L).mse_loss(t(L, INF), t(L, np.zeros((2, 3)))),
    "max_nan": lambda L: t(L, NAN).max(),
    "max_dim_nan": lambda L: t(L, NAN).max(dim=1).values,
    "argmax_nan": lambda L: t(L, NAN).argmax(dim=1),
    "sort_nan": lambda L: t(L, NAN).sort(dim=1).values,
    "clamp_nan": lambda L: t(L, NAN).clamp(0.0, 1.0),
    "sigmoid_large": lambda L: t(L, [-1000.0, 1000.0]).sigmoid(),
    "tanh_large": lambda L: t(L, [-1000.0, 1000.0]).tanh(),
    "softplus_large": lambda L: F(L).softplus(t(L, [-1000.0, 1000.0])),
    "exp_overflow": lambda L: t(L, [1000.0]).exp(),
    "log_zero_and_negative": lambda L: t(L, [0.0, -1.0]).log(),
    "sqrt_negative": lambda L: t(L, [-1.0]).sqrt(),
    "divide_by_zero": lambda L: t(L, [1.0, -1.0, 0.0]) / t(L, [0.0, 0.0, 0.0]),
    "int_divide_by_zero": lambda L: t(L, [1, 2]) // t(L, [0, 1]),
    "bce_with_logits_large": lambda L: F(L).binary_cross_entropy_with_logits(t(L, [-1000.0, 1000.0]),
                                                                               t(L, [1.0, 0.0])),
    "log_sigmoid_large": lambda L: F(L).logsigmoid(t(L, [-1000.0, 1000.0])),
    "layer_norm_constant": lambda L: F(L).layer_norm(t(L, np.ones((2, 4))), (4,)),
    "normalize_zero_vector": lambda L: F(L).normalize(t(L, np.zeros((2, 3))), dim=1),
    "cosine_similarity_zero": lambda L: F(L).cosine_similarity(t(L, np.zeros((2, 3))), t(L, np.ones((2, 3)))),
    # ---------------------------------------------------------------- API misuse
    "tensor_ragged": lambda L: L.tensor([[1.0, 2.0], [3.0]]),
    "tensor_none": lambda L: L.tensor(None),
    "optimizer_empty_params": lambda L: L.optim.SGD([], lr=0.1),
    "optimizer_non_tensor_params": lambda L: L.optim.SGD([1.0], lr=0.1),
    "load_state_dict_missing_key": lambda L: L.nn.Linear(4, 3).load_state_dict({"weight": L.zeros(3, 4)}),
    "load_state_dict_wrong_shape": lambda L: L.nn.Linear(4, 3).load_state_dict({"weight": L.zeros(4, 4), "bias": L.zeros(3)}),
    "module_to_cuda": lambda L: L.nn.Linear(4, 3).to("cuda"),
    "tensor_cuda": lambda L: t(L, X4).cuda(),
    "dataloader_batch_size_zero": lambda L: L.utils.data.DataLoader(L.utils.data.TensorDataset(t(L, X4)), batch_size=0),
    "dataloader_negative_batch": lambda L: L.utils.data.DataLoader(L.utils.data.TensorDataset(t(L, X4)), batch_size=-1),
    "tensordataset_size_mismatch": lambda L: L.utils.data.TensorDataset(t(L, X4), t(L, LABELS)),
    "random_split_bad_lengths": lambda L: L.utils.data.random_split(L.utils.data.TensorDataset(t(L, X4)), [1, 5]),
    "backward_non_scalar": lambda L: (t(L, X4, grad=True) * 2).backward(),
    "backward_no_grad": lambda L: t(L, X4).sum().backward(),
    "backward_twice": lambda L: (lambda y: (y.backward(), y.backward()))((t(L, X4, grad=True) ** 2).sum()),
    "grad_shape_mismatch": lambda L: (t(L, X4, grad=True) * 2).backward(t(L, np.ones(3))),
    "inplace_on_leaf_requiring_grad": lambda L: t(L, X4, grad=True).add_(1.0),
    "numpy_of_requires_grad": lambda L: t(L, X4, grad=True).numpy(),
    "item_of_many": lambda L: t(L, X4).item(),
    "float_of_many": lambda L: float(t(L, X4)),
    "bool_of_many": lambda L: bool(t(L, X4)),
    "sequential_wrong_arg_count": lambda L: L.nn.Sequential(L.nn.Linear(4, 3))(t(L, X4, "float32"), t(L, X4, "float32")),
    "conv_transpose_output_padding": lambda L: F(L).conv_transpose2d(t(L, IMG), t(L, np.ones((3, 2, 3, 3))), stride=1, output_padding=2),
    "max_pool_stride_zero": lambda L: F(L).max_pool2d(t(L, IMG), 2, stride=0),
    "unfold_kernel_too_big": lambda L: F(L).unfold(t(L, IMG), 7),
    "clip_grad_norm_nan": lambda L: (lambda p: (setattr(p, "grad", t(L, np.full((2, 4), np.nan))), L.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)))(t(L, X4, grad=True)),
    "kl_div_shape": lambda L: F(L).kl_div(t(L, X4), t(L, np.ones((2, 3))), reduction="batchmean"),
    "huber_negative_delta": lambda L: F(L).huber_loss(t(L, X4), t(L, X4), delta=-1.0),
    "smooth_l1_negative_beta": lambda L: F(L).smooth_l1_loss(t(L, X4), t(L, X4), beta=-1.0),
    "multinomial_negative": lambda L: L.multinomial(t(L, [0.5, -0.1]), 1),
    "normal_negative_std": lambda L: L.normal(0.0, t(L, [-1.0])),
    "randint_low_ge_high": lambda L: L.randint(5, 5, (2,)),
    "linspace_negative_steps": lambda L: L.linspace(0, 1, -1),
    "eye_negative": lambda L: L.eye(-1),
    "one_hot_float": lambda L: F(L).one_hot(t(L, [0.0, 1.0]), 3),
    "cross_entropy_3d_ok": lambda L: F(L).cross_entropy(t(L, np.ones((2, 3, 4))), t(L, np.zeros((2, 4), np.int64))),
    "index_select_float_index": lambda L: L.index_select(t(L, X4), 0, t(L, [0.0])),
    "masked_fill_float_mask": lambda L: t(L, X4).masked_fill(t(L, np.ones((2, 4))), 0.0),
    "where_shape": lambda L: L.where(t(L, [True, False, True]), t(L, [1.0, 2.0]), t(L, [3.0, 4.0])),
    "std_single": lambda L: t(L, [1.0]).std(),
    "var_empty": lambda L: t(L, np.ones(0)).var(),
    "norm_empty": lambda L: t(L, np.ones(0)).norm(),
    "log_softmax_empty_dim": lambda L: F(L).log_softmax(t(L, np.ones((2, 0))), dim=1),
}


#: cases where minidl raises another class than torch on purpose, and why
OTHER_CLASS = {
    "avg_pool_1d_input": "torch's IndexError comes from wrapping a dim of the 1-D input; minidl says it needs a "
                         "4-D input (ShapeError, a ValueError and RuntimeError)",
}


def _outcome(lib: Any, fn: Callable[[Any], Any]) -> tuple[BaseException | None, Any, list[str]]:
    """(the exception raised or None, the result as NumPy values, RuntimeWarnings issued)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the outcome
            return e, None, []
    numeric = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return None, _values(result), numeric


def _values(result: Any) -> Any:
    if isinstance(result, tuple | list):
        return [_values(r) for r in result]
    if hasattr(result, "detach") and hasattr(result, "numpy"):
        return result.detach().numpy()
    return None  # a module or optimizer: constructing it was the case


def _builtin_base(err: BaseException) -> type:
    for base in type(err).__mro__:
        if base.__module__ == "builtins":
            return base
    return Exception


@requires_torch
@pytest.mark.parametrize("name", list(CASES))
def test_minidl_raises_where_torch_raises_and_agrees_elsewhere(name):
    fn = CASES[name]
    theirs, their_value, _ = _outcome(torch, fn)
    ours, our_value, numeric = _outcome(minidl, fn)
    if theirs is not None:
        assert ours is not None, f"torch raises {type(theirs).__name__}: {theirs}; minidl returned {our_value}"
        expected = _builtin_base(theirs)
        if expected is not AssertionError and name not in OTHER_CLASS:  # torch's asserts: minidl raises ValueError
            assert isinstance(ours, expected), f"torch raises {expected.__name__}, minidl {type(ours).__mro__}"
        assert "Traceback" not in str(ours) and str(ours)
        return
    assert ours is None, f"torch computes {their_value}; minidl raises {type(ours).__name__}: {ours}"
    assert numeric == [], f"minidl issued RuntimeWarnings: {numeric}"
    _assert_same(our_value, their_value)


def _assert_same(ours: Any, theirs: Any) -> None:
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b)
    elif theirs is None:
        assert ours is None
    else:
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.shape, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12, equal_nan=True)


def test_the_table_is_large_enough():
    assert len(CASES) >= 80


# ============================================================================================ hypothesis
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)


def _numpy_broadcast(a: tuple, b: tuple) -> tuple | None:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


@settings(max_examples=150, deadline=None)
@given(shapes, shapes)
def test_broadcasting_raises_exactly_when_the_shapes_do_not_broadcast(a, b):
    expected = _numpy_broadcast(a, b)
    x, y = minidl.ones(*a), minidl.ones(*b)
    for op in (lambda: x + y, lambda: x * y, lambda: minidl.maximum(x, y), lambda: minidl.where(x > 0, x, y)):
        if expected is None:
            with pytest.raises(ShapeError) as e:
                op()
            assert "broadcast" in str(e.value) or "must match the size of tensor" in str(e.value)
            assert "operands could not" not in str(e.value)  # NumPy's wording
        else:
            assert tuple(op().shape) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple),
       st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple))
def test_matmul_raises_a_shape_error_exactly_when_numpy_refuses(a, b):
    try:
        expected = np.matmul(np.ones(a), np.ones(b)).shape
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ShapeError) as e:
            minidl.ones(*a) @ minidl.ones(*b)
        assert "signature" not in str(e.value) and "gufunc" not in str(e.value)
    else:
        assert tuple((minidl.ones(*a) @ minidl.ones(*b)).shape) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple), st.integers(-6, 6))
def test_reductions_raise_index_errors_for_dims_out_of_range(shape, dim):
    x = minidl.ones(*shape)
    if -len(shape) <= dim < len(shape):
        assert tuple(x.sum(dim=dim).shape) == shape[:dim % len(shape)] + shape[dim % len(shape) + 1:]
    else:
        with pytest.raises(IndexError, match="Dimension out of range"):
            x.sum(dim=dim)
