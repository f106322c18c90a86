"""The ONNX operators :class:`~minidl.onnx.OnnxModule` runs, each on minidl's functions and ops.

:data:`OPERATORS` maps an operator type to ``fn(ctx, inputs, attrs) -> outputs``. Values are minidl tensors,
or NumPy arrays for what is known without the graph's inputs (initializers of integer type, constants and
the shape computations done on them, such as the ``Shape → Gather → Unsqueeze → Concat → Reshape`` pattern),
which are folded with NumPy and never enter autograd. Semantics follow the ONNX operator specification of the
model's opset (``ctx.opset``) where it changed: Softmax's axis, Squeeze/Unsqueeze/Reduce axes as
attributes or inputs, Clip, Pad and Dropout's settings as attributes or inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import functions as M
from .. import ops
from ..errors import UnsupportedError
from ..nn import functional as F
from ..tensor import Tensor
from ._package import registrar

__all__ = ["OPERATORS", "Context", "tensor"]


@dataclass(frozen=True)
class Context:
    opset: int
    training: bool  # the module's mode: batch norms use batch statistics and dropouts drop
    outputs: int = 1  # how many outputs the node asks for


Operator = Callable[[Context, list, dict], Sequence[Any]]
OPERATORS: dict[str, Operator] = {}
operator = registrar(OPERATORS)  # @operator("Conv") adds the function to the table


def tensor(v: Any) -> Tensor:
    """``v`` as a minidl tensor (a constant array becomes one without gradient)."""
    return v if isinstance(v, Tensor) else M.as_tensor(np.asarray(v))


def array(v: Any, what: str = "value") -> np.ndarray:
    """``v`` as a NumPy array: constants as they are; a tensor's current values (for settings such as a
    shape, which are not differentiated)."""
    if v is None:
        raise UnsupportedError(f"missing {what}")
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _ints(v: Any) -> list[int]:
    return [int(i) for i in np.asarray(array(v)).reshape(-1)]


def _constant(*values: Any) -> bool:
    return all(not isinstance(v, Tensor) for v in values if v is not None)


def _axis(axis: int, ndim: int) -> int:
    return axis + ndim if axis < 0 else axis


# ------------------------------------------------------------------------------------------- elementwise
def _binary(tensor_fn: Callable[[Tensor, Tensor], Tensor], numpy_fn: Callable[[Any, Any], Any]) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        a, b = x[0], x[1]
        if _constant(a, b):
            return [np.asarray(numpy_fn(np.asarray(a), np.asarray(b)))]
        return [tensor_fn(tensor(a), tensor(b))]

    return run


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu":  # C-style division, truncating toward zero, as ONNX Div on integers
        return (np.trunc(a / b)).astype(np.result_type(a, b))
    return a / b


def _tensor_div(a: Tensor, b: Tensor) -> Tensor:
    if a._data.dtype.kind in "iu":
        return M.div(a, b, rounding_mode="trunc")
    return a / b


OPERATORS["Add"] = _binary(lambda a, b: a + b, np.add)
OPERATORS["Sub"] = _binary(lambda a, b: a - b, np.subtract)
OPERATORS["Mul"] = _binary(lambda a, b: a * b, np.multiply)
OPERATORS["Div"] = _binary(_tensor_div, _int_div)
OPERATORS["Pow"] = _binary(lambda a, b: a ** b.to(a.dtype), lambda a, b: np.power(a, b).astype(a.dtype))


def _unary(fn: Callable[..., Tensor], **defaults: Any) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        kw = {k: attrs.get(k, v) for k, v in defaults.items()}
        return [fn(tensor(x[0]), **kw)]

    return run


for _name, _fn in {"Relu": F.relu, "Sigmoid": M.sigmoid, "Tanh": M.tanh, "Exp": M.exp, "Log": M.log, "Sqrt": M.sqrt,
                   "Abs": M.abs, "Neg": M.neg, "Erf": M.erf, "Softsign": F.softsign, "HardSwish": F.hardswish,
                   "Softplus": F.softplus}.items():
    OPERATORS[_name] = _unary(_fn)
OPERATORS["LeakyRelu"] = _unary(lambda x, alpha: F.leaky_relu(x, alpha), alpha=0.01)
OPERATORS["Elu"] = _unary(lambda x, alpha: F.elu(x, alpha), alpha=1.0)
OPERATORS["Celu"] = _unary(lambda x, alpha: F.celu(x, alpha), alpha=1.0)
OPERATORS["Selu"] = _unary(lambda x, alpha, gamma: ops.activations["elu"](x, alpha=alpha, scale=gamma),
                           alpha=1.67326319217681884765625, gamma=1.05070102214813232421875)
OPERATORS["Mish"] = _unary(F.mish)
OPERATORS["Gelu"] = _unary(lambda x, approximate: F.gelu(x, approximate=approximate), approximate="none")


@operator("HardSigmoid")
def _hard_sigmoid(ctx: Context, x: list, attrs: dict) -> list:
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
    return [M.clamp(tensor(x[0]) * alpha + beta, 0.0, 1.0)]


@operator("PRelu")
def _prelu(ctx: Context, x: list, attrs: dict) -> list:
    data, slope = tensor(x[0]), tensor(x[1])
    return [F.relu(data) - F.relu(-data) * slope]


@operator("Clip")
def _clip(ctx: Context, x: list, attrs: dict) -> list:
    if ctx.opset < 11:
        lo, hi = attrs.get("min"), attrs.get("max")
    else:
        lo = None if len(x) < 2 or x[1] is None else array(x[1]).reshape(-1)[0].item()
        hi = None if len(x) < 3 or x[2] is None else array(x[2]).reshape(-1)[0].item()
    data = tensor(x[0])
    if lo is None and hi is None:
        return [data]
    if data._data.dtype.kind != "f":
        return [M.as_tensor(np.clip(data._data, lo, hi))]
    return [M.clamp(data, lo, hi)]


@operator("Identity")
def _identity(ctx: Context, x: list, attrs: dict) -> list:
    return [x[0]]


# ------------------------------------------------------------------------------------------- linear algebra
OPERATORS["MatMul"] = _binary(M.matmul, np.matmul)


@operator("Gemm")
def _gemm(ctx: Context, x: list, attrs: dict) -> list:
    a, b = tensor(x[0]), tensor(x[1])
    c = x[2] if len(x) > 2 else None
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans_a, trans_b = int(attrs.get("transA", 0)), int(attrs.get("transB", 0))
    if trans_a:
        a = a.t()
    if trans_b and alpha == 1.0 and (c is None or (beta == 1.0 and np.ndim(array(c)) <= 1)):
        return [F.linear(a, b, None if c is None else tensor(c).reshape(-1))]  # x·Wᵀ + b, the common case
    y = M.matmul(a, b.t() if trans_b else b)
    if alpha != 1.0:
        y = y * alpha
    if c is not None:
        y = y + (tensor(c) * beta if beta != 1.0 else tensor(c))
    return [y]


def _spatial(op: str, x: Tensor) -> None:
    if x.ndim != 4:
        raise UnsupportedError(f"only 2-D {op} (4-D input N, C, H, W) is supported, got a {x.ndim}-D input")


def _pads(attrs: dict, x: Tensor, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
          ) -> tuple[list[int], list[int]]:
    """(begins, ends) of the spatial padding from ``pads`` or ``auto_pad``."""
    auto = attrs.get("auto_pad", "NOTSET")
    n = len(kernel)
    if auto in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0] * (2 * n)))
        return pads[:n], pads[n:]
    if auto == "VALID":
        return [0] * n, [0] * n
    begins, ends = [], []
    for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, large = total // 2, total - total // 2
        begins.append(large if auto == "SAME_LOWER" else small)
        ends.append(small if auto == "SAME_LOWER" else large)
    return begins, ends


def pad(x: Tensor, begins: Sequence[int], ends: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """``x`` padded by ``begins``/``ends`` on its trailing axes (all non-negative), through minidl's pad op."""
    if not any(begins) and not any(ends):
        return x
    flat: list[int] = []
    for b, e in zip(reversed(list(begins)), reversed(list(ends)), strict=True):  # PyTorch's order: last axis first
        flat += [int(b), int(e)]
    mode = {"edge": "replicate", "wrap": "circular"}.get(mode, mode)
    if not hasattr(ops, "pad"):
        if mode != "constant":
            raise UnsupportedError(f"{mode} padding needs minidl's pad op")
        return _cat_pad(x, begins, ends, value)
    return ops.pad(x, pad=flat, mode=mode, value=value)


def _cat_pad(x: Tensor, begins: Sequence[int], ends: Sequence[int], value: float) -> Tensor:
    """Constant padding as concatenations with filled blocks (for builds without the pad op)."""
    offset = x.ndim - len(begins)
    for i, (b, e) in enumerate(zip(begins, ends, strict=True)):
        axis = offset + i
        parts = []
        for n in (b, e):
            shape = list(x.shape)
            shape[axis] = n
            parts.append(M.full(shape, value, dtype=x.dtype))
        x = M.cat([p for p in (parts[0], x, parts[1]) if p.shape[axis]], axis)
    return x


@operator("Conv")
def _conv(ctx: Context, x: list, attrs: dict) -> list:
    data, w = tensor(x[0]), tensor(x[1])
    _spatial("Conv", data)
    kernel = list(attrs.get("kernel_shape", w.shape[2:]))
    strides = list(attrs.get("strides", [1, 1]))
    dilations = list(attrs.get("dilations", [1, 1]))
    begins, ends = _pads(attrs, data, kernel, strides, dilations)
    if begins != ends:
        data, begins = pad(data, begins, ends), [0, 0]
    bias = tensor(x[2]) if len(x) > 2 and x[2] is not None else None
    return [F.conv2d(data, w, bias, stride=tuple(strides), padding=tuple(begins), dilation=tuple(dilations),
                     groups=int(attrs.get("group", 1)))]


@operator("ConvTranspose")
def _conv_transpose(ctx: Context, x: list, attrs: dict) -> list:
    data, w = tensor(x[0]), tensor(x[1])
    _spatial("ConvTranspose", data)
    if not hasattr(ops, "conv_transpose2d"):
        raise UnsupportedError("needs minidl's conv_transpose2d op")
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "") or "output_shape" in attrs:
        raise UnsupportedError("auto_pad and output_shape are not supported; give pads and output_padding")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if pads[:2] != pads[2:]:
        raise UnsupportedError(f"asymmetric pads {pads} are not supported")
    bias = tensor(x[2]) if len(x) > 2 and x[2] is not None else None
    return [ops.conv_transpose2d(data, w, bias, stride=tuple(attrs.get("strides", [1, 1])), padding=tuple(pads[:2]),
                                 output_padding=tuple(attrs.get("output_padding", [0, 0])),
                                 groups=int(attrs.get("group", 1)), dilation=tuple(attrs.get("dilations", [1, 1])))]


# ------------------------------------------------------------------------------------------- pooling, norms
def _pool(op: str) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        data = tensor(x[0])
        _spatial(op, data)
        if ctx.outputs > 1:
            raise UnsupportedError("the Indices output is not supported")
        kernel = list(attrs["kernel_shape"])
        strides = list(attrs.get("strides", [1, 1]))
        dilations = list(attrs.get("dilations", [1, 1]))
        begins, ends = _pads(attrs, data, kernel, strides, dilations)
        ceil = bool(attrs.get("ceil_mode", 0))
        # PyTorch's pools take symmetric padding of at most half the window; other padding is applied first
        explicit = begins != ends or any(2 * b > k for b, k in zip(begins, kernel, strict=True))
        if op == "MaxPool":
            if attrs.get("storage_order", 0):
                raise UnsupportedError("storage_order=1 is not supported")
            kind = data._data.dtype
            if kind.kind != "f":  # integers: pooled exactly in float64
                data = data.to(np.float64)
            if explicit:
                data, begins = pad(data, begins, ends, value=-math.inf), [0, 0]
            out = F.max_pool2d(data, tuple(kernel), tuple(strides), tuple(begins), tuple(dilations), ceil)
            return [out if kind.kind == "f" else out.to(kind)]
        if dilations != [1, 1]:
            raise UnsupportedError("dilated AveragePool is not supported")
        include = bool(attrs.get("count_include_pad", 0))
        if explicit:
            if not include:
                raise UnsupportedError(f"pads {begins + ends} (asymmetric, or over half the window) without "
                                       "count_include_pad are not supported")
            data, begins = pad(data, begins, ends), [0, 0]
        return [F.avg_pool2d(data, tuple(kernel), tuple(strides), tuple(begins), ceil, include)]

    return run


OPERATORS["MaxPool"] = _pool("MaxPool")
OPERATORS["AveragePool"] = _pool("AveragePool")


@operator("GlobalAveragePool")
def _global_average_pool(ctx: Context, x: list, attrs: dict) -> list:
    data = tensor(x[0])
    return [M.mean(data, tuple(range(2, data.ndim)), keepdim=True)]


@operator("GlobalMaxPool")
def _global_max_pool(ctx: Context, x: list, attrs: dict) -> list:
    data = tensor(x[0])
    return [M.amax(data, tuple(range(2, data.ndim)), keepdim=True)]


@operator("BatchNormalization")
def _batch_norm(ctx: Context, x: list, attrs: dict) -> list:
    if attrs.get("training_mode", 0):
        raise UnsupportedError("training_mode=1 (batch statistics as outputs) is not supported; the module's "
                               "train() mode uses batch statistics")
    if ctx.opset < 7 and not attrs.get("spatial", 1):
        raise UnsupportedError("spatial=0 is not supported")
    data, scale, bias, mean, var = (tensor(v) for v in x[:5])
    momentum = 1.0 - float(attrs.get("momentum", 0.9))  # ONNX keeps this share of the old statistics
    return [F.batch_norm(data, mean, var, scale, bias, training=ctx.training, momentum=momentum,
                         eps=float(attrs.get("epsilon", 1e-5)))]


@operator("Dropout")
def _dropout(ctx: Context, x: list, attrs: dict) -> list:
    if ctx.opset < 12:
        ratio = float(attrs.get("ratio", 0.5))
        training = ctx.opset < 7 and not attrs.get("is_test", 0)
    else:
        ratio = 0.5 if len(x) < 2 or x[1] is None else float(array(x[1]).reshape(-1)[0])
        training = len(x) > 2 and x[2] is not None and bool(array(x[2]))
    if training:
        raise UnsupportedError("training_mode=True (random masks) is not supported; the module's train() mode "
                               "applies dropout")
    data = tensor(x[0])
    out = F.dropout(data, ratio, training=ctx.training) if ratio > 0 else data
    return [out, np.ones(data.shape, dtype=bool)]


# ------------------------------------------------------------------------------------------- softmax
def _softmax(fn: Callable[..., Tensor]) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        data = tensor(x[0])
        if ctx.opset >= 13:
            return [fn(data, int(attrs.get("axis", -1)))]
        axis = _axis(int(attrs.get("axis", 1)), data.ndim)  # older opsets: over all axes from ``axis`` on
        flat = data.reshape(int(np.prod(data.shape[:axis], dtype=np.int64)), -1)
        return [fn(flat, 1).reshape(data.shape)]

    return run


OPERATORS["Softmax"] = _softmax(F.softmax)
OPERATORS["LogSoftmax"] = _softmax(F.log_softmax)


# ------------------------------------------------------------------------------------------- shapes
@operator("Constant")
def _constant_op(ctx: Context, x: list, attrs: dict) -> list:
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            value = attrs[key]
            if key.startswith("value_float"):
                return [np.asarray(value, dtype=np.float32)]
            if key.startswith("value_int"):
                return [np.asarray(value, dtype=np.int64)]
            return [np.asarray(value)]
    raise UnsupportedError(f"constant attribute {sorted(attrs)} is not supported")


@operator("Shape")
def _shape(ctx: Context, x: list, attrs: dict) -> list:
    shape = np.asarray(np.shape(array(x[0])), dtype=np.int64)
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    return [shape[start:None if end is None else int(end)]]


@operator("Gather")
def _gather(ctx: Context, x: list, attrs: dict) -> list:
    data, index = x[0], np.asarray(array(x[1], "indices")).astype(np.int64)
    axis = int(attrs.get("axis", 0))
    ndim = np.ndim(array(data))
    axis = _axis(axis, ndim)
    size = np.shape(array(data))[axis]
    index = np.where(index < 0, index + size, index)
    if _constant(data):
        return [np.take(np.asarray(data), index, axis=axis)]
    t = tensor(data)
    return [t[(slice(None),) * axis + (index,)]]


@operator("Unsqueeze")
def _unsqueeze(ctx: Context, x: list, attrs: dict) -> list:
    axes = list(attrs["axes"]) if ctx.opset < 13 else _ints(x[1])
    ndim = np.ndim(array(x[0])) + len(axes)
    shape = list(np.shape(array(x[0])))
    for a in sorted(_axis(a, ndim) for a in axes):
        shape.insert(a, 1)
    return [_reshaped(x[0], shape)]


@operator("Squeeze")
def _squeeze(ctx: Context, x: list, attrs: dict) -> list:
    shape = list(np.shape(array(x[0])))
    if ctx.opset < 13:
        axes = attrs.get("axes")
    else:
        axes = _ints(x[1]) if len(x) > 1 and x[1] is not None else None
    drop = [i for i, s in enumerate(shape) if s == 1] if axes is None else [_axis(a, len(shape)) for a in axes]
    return [_reshaped(x[0], [s for i, s in enumerate(shape) if i not in drop])]


def _reshaped(v: Any, shape: Sequence[int]) -> Any:
    if _constant(v):
        return np.reshape(v, shape)
    return tensor(v).reshape(tuple(int(s) for s in shape))


@operator("Reshape")
def _reshape(ctx: Context, x: list, attrs: dict) -> list:
    shape_in = np.shape(array(x[0]))
    target = _ints(x[1]) if ctx.opset >= 5 else list(attrs["shape"])
    if not attrs.get("allowzero", 0):
        target = [shape_in[i] if s == 0 else s for i, s in enumerate(target)]
    return [_reshaped(x[0], target)]


@operator("Flatten")
def _flatten(ctx: Context, x: list, attrs: dict) -> list:
    shape = np.shape(array(x[0]))
    axis = _axis(int(attrs.get("axis", 1)), len(shape))
    return [_reshaped(x[0], [int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64))])]


@operator("Transpose")
def _transpose(ctx: Context, x: list, attrs: dict) -> list:
    ndim = np.ndim(array(x[0]))
    perm = list(attrs.get("perm", range(ndim - 1, -1, -1)))
    if _constant(x[0]):
        return [np.transpose(x[0], perm)]
    return [tensor(x[0]).permute(*perm)]


@operator("Concat")
def _concat(ctx: Context, x: list, attrs: dict) -> list:
    axis = int(attrs["axis"])
    parts = [v for v in x if v is not None]
    if _constant(*parts):
        return [np.concatenate([np.asarray(p) for p in parts], axis=axis)]
    return [M.cat([tensor(p) for p in parts], axis)]


@operator("Pad")
def _pad_op(ctx: Context, x: list, attrs: dict) -> list:
    data = tensor(x[0])
    mode = attrs.get("mode", "constant")
    if ctx.opset < 11:
        pads, value, axes = list(attrs["pads"]), float(attrs.get("value", 0.0)), None
    else:
        pads = _ints(x[1])
        value = float(array(x[2]).reshape(-1)[0]) if len(x) > 2 and x[2] is not None and np.size(array(x[2])) else 0.0
        axes = _ints(x[3]) if len(x) > 3 and x[3] is not None else None
    axes = list(range(data.ndim)) if axes is None else [_axis(a, data.ndim) for a in axes]
    begins, ends = [0] * data.ndim, [0] * data.ndim
    for i, a in enumerate(axes):
        begins[a], ends[a] = pads[i], pads[len(axes) + i]
    if min(begins + ends) < 0:
        raise UnsupportedError(f"negative pads {pads} (cropping) are not supported")
    first = next((i for i in range(data.ndim) if begins[i] or ends[i]), data.ndim)
    return [pad(data, begins[first:], ends[first:], mode, value)]


# ------------------------------------------------------------------------------------------- resize
def _resize_matrix(size: int, out: int, scale: float, mode: str, transform: str, nearest: str) -> np.ndarray:
    """(out, size) interpolation matrix of one axis: row i holds the weights of the input samples that output
    i reads (ONNX Resize's coordinate transformation, then nearest or linear sampling)."""
    i = np.arange(out, dtype=np.float64)
    if transform == "half_pixel":
        src = (i + 0.5) / scale - 0.5
    elif transform == "pytorch_half_pixel":
        src = (i + 0.5) / scale - 0.5 if out > 1 else np.zeros(out)
    elif transform == "align_corners":  # the resized length is size·scale, before rounding (ONNX's formula)
        src = i * (size - 1) / (size * scale - 1) if size * scale > 1 else np.zeros(out)
    elif transform == "asymmetric":
        src = i / scale
    else:
        raise UnsupportedError(f"coordinate_transformation_mode {transform!r} is not supported")
    m = np.zeros((out, size))
    if mode == "nearest":
        pick = {"round_prefer_floor": np.ceil(src - 0.5), "round_prefer_ceil": np.floor(src + 0.5),
                "floor": np.floor(src), "ceil": np.ceil(src)}.get(nearest)
        if pick is None:
            raise UnsupportedError(f"nearest_mode {nearest!r} is not supported")
        m[np.arange(out), np.clip(pick, 0, size - 1).astype(np.int64)] = 1.0
        return m
    src = np.clip(src, 0, size - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, size - 1)
    frac = src - lo
    np.add.at(m, (np.arange(out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(out), hi), frac)
    return m


@operator("Resize")
def _resize(ctx: Context, x: list, attrs: dict) -> list:
    data = tensor(x[0])
    _spatial("Resize", data)
    mode = attrs.get("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise UnsupportedError(f"mode {mode!r} is not supported (nearest and linear are)")
    if attrs.get("antialias", 0) or attrs.get("axes") is not None or attrs.get("exclude_outside", 0):
        raise UnsupportedError("antialias, axes and exclude_outside are not supported")
    scales: Any
    sizes: Any
    if ctx.opset < 11:
        scales, sizes = array(x[1]).astype(np.float64), None
    else:
        scales = x[2] if len(x) > 2 and x[2] is not None and np.size(array(x[2])) else None
        sizes = x[3] if len(x) > 3 and x[3] is not None and np.size(array(x[3])) else None
        scales = None if scales is None else array(scales).astype(np.float64)
    if sizes is not None:
        out_hw = _ints(sizes)[2:]
        scale_hw = [o / s for o, s in zip(out_hw, data.shape[2:], strict=True)]
    else:
        if scales is None or list(scales[:2]) != [1.0, 1.0]:
            raise UnsupportedError("only the spatial axes (H, W) may be resized")
        scale_hw = list(scales[2:])
        out_hw = [int(math.floor(s * f)) for s, f in zip(data.shape[2:], scale_hw, strict=True)]
    transform = attrs.get("coordinate_transformation_mode", "half_pixel" if ctx.opset >= 11 else "asymmetric")
    nearest = attrs.get("nearest_mode", "round_prefer_floor")
    mh, mw = (M.as_tensor(_resize_matrix(size, o, s, mode, transform, nearest).astype(data._data.dtype))
              for size, o, s in zip(data.shape[2:], out_hw, scale_hw, strict=True))
    return [M.matmul(M.matmul(mh, data), mw.t())]  # A_h · x · A_wᵀ over every (n, c) map


# ------------------------------------------------------------------------------------------- what export writes
@operator("LayerNormalization")
def _layer_norm(ctx: Context, x: list, attrs: dict) -> list:
    if ctx.outputs > 1:
        raise UnsupportedError("the Mean and InvStdDev outputs are not supported")
    data = tensor(x[0])
    axis = _axis(int(attrs.get("axis", -1)), data.ndim)
    if attrs.get("stash_type", 1) != 1:
        raise UnsupportedError("stash_type other than float32 is not supported")
    shape = tuple(data.shape[axis:])
    scale = tensor(x[1]).expand(shape) if x[1] is not None else None
    bias = tensor(x[2]).expand(shape) if len(x) > 2 and x[2] is not None else None
    return [F.layer_norm(data, shape, scale, bias, eps=float(attrs.get("epsilon", 1e-5)))]


def _reduce(fn: Callable[..., Tensor], numpy_fn: Callable[..., Any], axes_input_since: int) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        if ctx.opset >= axes_input_since:
            axes = _ints(x[1]) if len(x) > 1 and x[1] is not None and np.size(array(x[1])) else None
        else:
            axes = attrs.get("axes")
        keep = bool(attrs.get("keepdims", 1))
        ndim = np.ndim(array(x[0]))
        if axes is None:
            if attrs.get("noop_with_empty_axes", 0):
                return [x[0]]
            axes = list(range(ndim))
        axes = [_axis(a, ndim) for a in axes]
        if any(np.shape(array(x[0]))[a] == 0 for a in axes):
            raise UnsupportedError("reductions over empty axes are not supported")
        if _constant(x[0]):
            return [numpy_fn(np.asarray(x[0]), axis=axes, keepdims=keep)]
        return [fn(tensor(x[0]), axes, keepdim=keep)]

    return run


OPERATORS["ReduceMean"] = _reduce(M.mean, np.mean, 18)
OPERATORS["ReduceSum"] = _reduce(M.sum, np.sum, 13)
OPERATORS["ReduceMax"] = _reduce(M.amax, np.max, 18)
OPERATORS["ReduceMin"] = _reduce(M.amin, np.min, 18)


def _variadic(fn: Callable[[Tensor, Tensor], Tensor], numpy_fn: Callable[[Any, Any], Any]) -> Operator:
    def run(ctx: Context, x: list, attrs: dict) -> list:
        parts = [v for v in x if v is not None]
        if _constant(*parts):
            out = np.asarray(parts[0])
            for p in parts[1:]:
                out = numpy_fn(out, np.asarray(p))
            return [out]
        result = tensor(parts[0])
        for p in parts[1:]:
            result = fn(result, tensor(p))
        return [result]

    return run


OPERATORS["Max"] = _variadic(M.maximum, np.maximum)
OPERATORS["Min"] = _variadic(M.minimum, np.minimum)
OPERATORS["Sum"] = _variadic(lambda a, b: a + b, np.add)


OPERATORS["Greater"] = _binary(M.gt, np.greater)


@operator("Where")
def _where(ctx: Context, x: list, attrs: dict) -> list:
    if _constant(*x):
        return [np.where(*x)]
    return [M.where(tensor(x[0]), tensor(x[1]), tensor(x[2]))]


@operator("Cast")
def _cast(ctx: Context, x: list, attrs: dict) -> list:
    from ._package import onnx

    dtype = onnx().helper.tensor_dtype_to_np_dtype(int(attrs["to"]))
    if _constant(x[0]):
        return [np.asarray(x[0]).astype(dtype)]
    if np.dtype(dtype).name not in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                    "float64"):
        raise UnsupportedError(f"casting to {np.dtype(dtype)} is not supported")
    return [tensor(x[0]).to(np.dtype(dtype))]


@operator("Expand")
def _expand(ctx: Context, x: list, attrs: dict) -> list:
    target = _ints(x[1])
    shape = np.broadcast_shapes(np.shape(array(x[0])), tuple(target))
    if _constant(x[0]):
        return [np.broadcast_to(x[0], shape).copy()]
    return [tensor(x[0]).expand(shape)]


@operator("Slice")
def _slice(ctx: Context, x: list, attrs: dict) -> list:
    shape = np.shape(array(x[0]))
    if ctx.opset < 10:
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:
        starts, ends = _ints(x[1]), _ints(x[2])
        axes = _ints(x[3]) if len(x) > 3 and x[3] is not None else None
        steps = _ints(x[4]) if len(x) > 4 and x[4] is not None else None
    axes = list(range(len(starts))) if axes is None else [_axis(a, len(shape)) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    out = x[0] if _constant(x[0]) else tensor(x[0])
    for a, s, e, st in zip(axes, starts, ends, steps, strict=True):
        lo, hi, step = slice(s, e, st).indices(shape[a])
        # a negative step gathers its positions explicitly (PyTorch's indexing has only positive steps)
        item = slice(lo, hi, step) if step > 0 else np.arange(lo, hi, step)
        out = (np.asarray(out) if _constant(out) else out)[(slice(None),) * a + (item,)]
    return [out]


@operator("Tile")
def _tile(ctx: Context, x: list, attrs: dict) -> list:
    reps = _ints(x[1])
    if _constant(x[0]):
        return [np.tile(np.asarray(x[0]), reps)]
    return [tensor(x[0]).repeat(*reps)]
