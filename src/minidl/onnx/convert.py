"""Each minidl op as ONNX nodes: :data:`CONVERTERS` maps an op's name to ``fn(g, inputs, params, out) -> name``.

``g`` is the :class:`~minidl.onnx.export.Tracer` (``g.value(x)`` names an input, ``g.node(...)`` adds a node,
``g.constant``/``g.ints`` add initializers), ``inputs`` and ``params`` are what the op was called with and
``out`` its result (whose shape and dtype the converter may read). A converter returns the name of the value
holding ``out``, and raises :class:`~minidl.errors.UnsupportedError` for settings ONNX cannot express.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ..ops.activation import SELU_ALPHA, SELU_SCALE
from ..ops.conv import as_pair, conv_padding
from ..tensor import Tensor
from ._package import registrar

__all__ = ["CONVERTERS"]

Converter = Callable[[Any, tuple, dict, Tensor], str]
CONVERTERS: dict[str, Converter] = {}
converts = registrar(CONVERTERS)  # @converts("relu") adds the function to the table


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else ()


def _keep_batch(g: Any, in_shape: tuple[int, ...], target: list[int]) -> list[int]:
    """A reshape/expand target that leaves a symbolic batch axis free: 0 ("as in the input") where the
    first axis is kept, -1 where it absorbs the batch."""
    if g.batch is None or not in_shape or not target or in_shape[0] != g.batch:
        return target
    if target[0] == in_shape[0]:
        return [0, *target[1:]]
    return [-1, *target[1:]]


# ------------------------------------------------------------------------------------------- linear algebra
@converts("conv2d")
def _conv2d(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w, b = (list(inputs) + [None, None])[:3]
    kernel = _shape(w)[2:]
    stride = as_pair("conv2d", "stride", params.get("stride", 1), 1)
    dilation = as_pair("conv2d", "dilation", params.get("dilation", 1), 1)
    (top, bottom), (left, right) = conv_padding("conv2d", params.get("padding", 0), kernel, stride, dilation)
    names = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    return g.node("Conv", names, kernel_shape=list(kernel), strides=list(stride), dilations=list(dilation),
                  pads=[top, left, bottom, right], group=int(params.get("groups", 1)))


@converts("conv_transpose2d")
def _conv_transpose2d(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w, b = (list(inputs) + [None, None])[:3]
    stride = as_pair("conv_transpose2d", "stride", params.get("stride", 1), 1)
    dilation = as_pair("conv_transpose2d", "dilation", params.get("dilation", 1), 1)
    ph, pw = as_pair("conv_transpose2d", "padding", params.get("padding", 0), 0)
    oph, opw = as_pair("conv_transpose2d", "output_padding", params.get("output_padding", 0), 0)
    names = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    return g.node("ConvTranspose", names, kernel_shape=list(_shape(w)[2:]), strides=list(stride),
                  dilations=list(dilation), pads=[ph, pw, ph, pw], output_padding=[oph, opw],
                  group=int(params.get("groups", 1)))


@converts("linear")
def _linear(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w, b = (list(inputs) + [None, None])[:3]
    if len(_shape(x)) == 2:  # Gemm: x·Wᵀ + b
        names = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
        return g.node("Gemm", names, transB=1)
    y = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(w)], perm=[1, 0])])
    return g.node("Add", [y, g.value(b)]) if b is not None else y


@converts("matmul")
def _matmul(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("MatMul", [g.value(inputs[0]), g.value(inputs[1])])


# ------------------------------------------------------------------------------------------- pooling and norms
def _pool_attrs(op: str, x: Any, params: dict, dilated: bool) -> dict[str, Any]:
    kernel = as_pair(op, "kernel_size", params["kernel_size"], 1)
    stride = as_pair(op, "stride", kernel if params.get("stride") is None else params["stride"], 1)
    ph, pw = as_pair(op, "padding", params.get("padding", 0), 0)
    attrs: dict[str, Any] = {"kernel_shape": list(kernel), "strides": list(stride), "pads": [ph, pw, ph, pw],
                             "ceil_mode": int(bool(params.get("ceil_mode", False)))}
    if dilated:
        attrs["dilations"] = list(as_pair(op, "dilation", params.get("dilation", 1), 1))
    return attrs


@converts("max_pool2d")
def _max_pool2d(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    if params.get("indices_out") is not None:
        raise UnsupportedError("max_pool2d with return_indices has no ONNX form here")
    return g.node("MaxPool", [g.value(inputs[0])], **_pool_attrs("max_pool2d", inputs[0], params, True))


@converts("avg_pool2d")
def _avg_pool2d(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    if params.get("divisor_override") is not None:
        raise UnsupportedError("avg_pool2d with divisor_override has no ONNX form")
    attrs = _pool_attrs("avg_pool2d", inputs[0], params, False)
    return g.node("AveragePool", [g.value(inputs[0])], count_include_pad=int(params.get("count_include_pad", True)),
                  **attrs)


def _adaptive_matrix(size: int, n: int) -> np.ndarray:
    """A (n, size) averaging matrix: row a averages input ⌊a·size/n⌋ ≤ i < ⌈(a+1)·size/n⌉."""
    m = np.zeros((n, size))
    for a in range(n):
        lo, hi = (a * size) // n, -(-(a + 1) * size // n)
        m[a, lo:hi] = 1.0 / (hi - lo)
    return m


@converts("adaptive_avg_pool2d")
def _adaptive_avg_pool2d(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = inputs[0]
    n, c, h, w = _shape(x)
    oh, ow = out.shape[2:]
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", [g.value(x)])
    if h % oh == 0 and w % ow == 0:  # equal windows: a plain average pool
        k = [h // oh, w // ow]
        return g.node("AveragePool", [g.value(x)], kernel_shape=k, strides=k)
    # unequal (or overlapping, or upsampling) windows: a fixed linear map of each (H·W) map
    pool = np.kron(_adaptive_matrix(h, oh), _adaptive_matrix(w, ow)).T.astype(out._data.dtype)  # (H·W, oh·ow)
    flat = g.node("Reshape", [g.value(x), g.ints(_keep_batch(g, (n,), [n, c, h * w]))])
    y = g.node("MatMul", [flat, g.constant(pool, "adaptive_pool")])
    return g.node("Reshape", [y, g.ints(_keep_batch(g, (n,), [n, c, oh, ow]))])


@converts("batch_norm")
def _batch_norm(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w, b = (list(inputs) + [None, None])[:3]
    mean, var = params.get("running_mean"), params.get("running_var")
    if params.get("training") or mean is None:
        raise UnsupportedError("batch norm with batch statistics (training mode, or no running statistics) has no "
                               "ONNX inference form")
    c = _shape(x)[1]
    dtype = out._data.dtype
    scale = g.value(w) if w is not None else g.constant(np.ones(c, dtype))
    shift = g.value(b) if b is not None else g.constant(np.zeros(c, dtype))
    return g.node("BatchNormalization", [g.value(x), scale, shift, g.value(mean), g.value(var)],
                  epsilon=float(params.get("eps", 1e-5)))


@converts("layer_norm")
def _layer_norm(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w, b = (list(inputs) + [None, None])[:3]
    shape = tuple(params["normalized_shape"])
    dtype = out._data.dtype
    scale = g.value(w) if w is not None else g.constant(np.ones(shape, dtype))
    names = [g.value(x), scale] + ([g.value(b)] if b is not None else [])
    return g.node("LayerNormalization", names, axis=-len(shape), epsilon=float(params.get("eps", 1e-5)))


@converts("dropout")
def _dropout(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    if params.get("training", True) and params.get("p", 0.5) > 0:
        raise UnsupportedError("dropout in training mode has no deterministic ONNX form (export runs in eval mode)")
    return g.node("Identity", [g.value(inputs[0])])


@converts("pad")
def _pad(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    mode = params.get("mode", "constant")
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    if onnx_mode == "wrap" and g.opset < 19:
        raise UnsupportedError("circular padding needs ONNX opset 19 or later")
    x = inputs[0]
    ndim, flat = len(_shape(x)), list(params["pad"])
    begins, ends = [0] * ndim, [0] * ndim
    for i in range(len(flat) // 2):  # PyTorch's (lo, hi) pairs, last axis first
        begins[ndim - 1 - i], ends[ndim - 1 - i] = flat[2 * i], flat[2 * i + 1]
    names = [g.value(x), g.ints(begins + ends)]
    if onnx_mode == "constant":
        names.append(g.constant(np.asarray(params.get("value", 0.0), dtype=out._data.dtype)))
    return g.node("Pad", names, mode=onnx_mode)


# ------------------------------------------------------------------------------------------- activations
def _unary(op_type: str, **attrs: Any) -> Converter:
    return lambda g, inputs, params, out: g.node(op_type, [g.value(inputs[0])], **attrs)


for _name, _type in {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "exp": "Exp", "log": "Log",
                     "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "softsign": "Softsign", "clone": "Identity",
                     "hardswish": "HardSwish"}.items():
    CONVERTERS[_name] = _unary(_type)


@converts("leaky_relu")
def _leaky_relu(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("LeakyRelu", [g.value(inputs[0])], alpha=float(params.get("negative_slope", 0.01)))


def _softmax(op_type: str) -> Converter:
    return lambda g, inputs, params, out: g.node(op_type, [g.value(inputs[0])], axis=int(params["dim"]))


CONVERTERS["softmax"], CONVERTERS["log_softmax"] = _softmax("Softmax"), _softmax("LogSoftmax")


@converts("prelu")
def _prelu(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x, w = inputs
    ndim = len(_shape(x))
    slope = w._data.reshape((-1,) + (1,) * max(ndim - 2, 0)) if w._data.size > 1 else w._data.reshape(())
    slope_name = g.value(w) if slope.shape == w._data.shape else g.node("Reshape", [g.value(w), g.ints(slope.shape)])
    return g.node("PRelu", [g.value(x), slope_name])


def _scalar(g: Any, value: Any, dtype: Any) -> str:
    """A 0-d constant (a setting may arrive as a one-element array)."""
    return g.constant(np.asarray(value, dtype).reshape(()))


def _clip(g: Any, x: Any, lo: float | None, hi: float | None, dtype: Any) -> str:
    names = [g.value(x), "" if lo is None else _scalar(g, lo, dtype), "" if hi is None else _scalar(g, hi, dtype)]
    while names[-1] == "":
        names.pop()
    return g.node("Clip", names)


@converts("clip")
def _clip_op(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return _clip(g, inputs[0], params.get("min"), params.get("max"), out._data.dtype)


@converts("hardtanh")
def _hardtanh(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return _clip(g, inputs[0], params.get("min_val", -1.0), params.get("max_val", 1.0), out._data.dtype)


@converts("hardsigmoid")
def _hardsigmoid(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("HardSigmoid", [g.value(inputs[0])], alpha=1.0 / 6, beta=0.5)


@converts("elu")
def _elu(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    alpha, scale, input_scale = (float(params.get(k, 1.0)) for k in ("alpha", "scale", "input_scale"))
    x = g.value(inputs[0])
    if scale == 1.0 and input_scale == 1.0:
        return g.node("Elu", [x], alpha=alpha)
    if np.isclose(alpha, SELU_ALPHA) and np.isclose(scale, SELU_SCALE) and input_scale == 1.0:
        return g.node("Selu", [x], alpha=alpha, gamma=scale)
    if scale == 1.0 and np.isclose(input_scale * alpha, 1.0):
        return g.node("Celu", [x], alpha=alpha)
    raise UnsupportedError(f"elu with alpha={alpha}, scale={scale}, input_scale={input_scale} has no ONNX form")


@converts("gelu")
def _gelu(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    approximate = params.get("approximate", "none")
    if g.opset >= 20:
        return g.node("Gelu", [g.value(inputs[0])], approximate=approximate)
    if approximate != "none":
        raise UnsupportedError("gelu(approximate='tanh') needs ONNX opset 20 or later")
    dtype = out._data.dtype
    x = g.value(inputs[0])  # x·Φ(x) = x·(1 + erf(x/√2))/2
    erf = g.node("Erf", [g.node("Div", [x, g.constant(np.asarray(np.sqrt(2.0), dtype))])])
    half = g.node("Mul", [x, g.constant(np.asarray(0.5, dtype))])
    return g.node("Mul", [half, g.node("Add", [erf, g.constant(np.asarray(1.0, dtype))])])


@converts("silu")
def _silu(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = g.value(inputs[0])
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@converts("mish")
def _mish(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = g.value(inputs[0])
    if g.opset >= 18:
        return g.node("Mish", [x])
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


@converts("softplus")
def _softplus(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    beta = float(params.get("beta", 1.0))
    x = g.value(inputs[0])
    if beta == 1.0:  # PyTorch's threshold (x past it) differs from log(1 + eˣ) by < e^-threshold
        return g.node("Softplus", [x])
    dtype = out._data.dtype
    scaled = g.node("Softplus", [g.node("Mul", [x, g.constant(np.asarray(beta, dtype))])])
    return g.node("Div", [scaled, g.constant(np.asarray(beta, dtype))])


@converts("logsigmoid")
def _logsigmoid(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("Log", [g.node("Sigmoid", [g.value(inputs[0])])])


@converts("threshold")
def _threshold(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    dtype = out._data.dtype
    x = g.value(inputs[0])
    above = g.node("Greater", [x, g.constant(np.asarray(params["threshold"], dtype))])
    return g.node("Where", [above, x, g.constant(np.asarray(params["value"], dtype))])


# ------------------------------------------------------------------------------------------- arithmetic
def _binary(op_type: str) -> Converter:
    def convert(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
        dtype = out._data.dtype
        return g.node(op_type, [g.value(inputs[0], dtype), g.value(inputs[1], dtype)])

    return convert


for _name, _type in {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max",
                     "minimum": "Min"}.items():
    CONVERTERS[_name] = _binary(_type)


@converts("pow_scalar")
def _pow_scalar(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("Pow", [g.value(inputs[0]), g.constant(np.asarray(params["exponent"], out._data.dtype))])


@converts("cast")
def _cast(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    onnx = g.onnx
    return g.node("Cast", [g.value(inputs[0])], to=onnx.helper.np_dtype_to_tensor_dtype(out._data.dtype))


def _reduce(op_type: str) -> Converter:
    def convert(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
        ndim = len(_shape(inputs[0]))
        axis = params.get("axis")
        axes = list(range(ndim)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
        keep = int(bool(params.get("keepdims", False)))
        if op_type == "ReduceSum" or g.opset >= 18:  # axes became an input (ReduceSum in 13, the rest in 18)
            return g.node(op_type, [g.value(inputs[0]), g.ints(axes)], keepdims=keep)
        return g.node(op_type, [g.value(inputs[0])], axes=axes, keepdims=keep)

    return convert


for _name, _type in {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin"}.items():
    CONVERTERS[_name] = _reduce(_type)


# ------------------------------------------------------------------------------------------- shapes
@converts("reshape")
def _reshape(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = inputs[0]
    shape_in, shape_out = _shape(x), tuple(out.shape)
    if len(shape_in) >= 2 and shape_out == (shape_in[0], int(np.prod(shape_in[1:]))):
        return g.node("Flatten", [g.value(x)], axis=1)
    return g.node("Reshape", [g.value(x), g.ints(_keep_batch(g, shape_in, list(shape_out)))])


@converts("permute")
def _permute(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("Transpose", [g.value(inputs[0])], perm=[int(a) for a in params["axes"]])


@converts("cat")
def _cat(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    return g.node("Concat", [g.value(t) for t in inputs], axis=int(params.get("axis", 0)))


@converts("stack")
def _stack(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    axis = int(params.get("axis", 0))
    parts = [g.node("Unsqueeze", [g.value(t), g.ints([axis])]) for t in inputs]
    return g.node("Concat", parts, axis=axis)


@converts("expand")
def _expand(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = inputs[0]
    shape_in, target = _shape(x), list(out.shape)
    padded = (1,) * (len(target) - len(shape_in)) + shape_in
    keep = [1 if a == b else b for a, b in zip(padded, target, strict=True)]  # 1: keep that input axis
    return g.node("Expand", [g.value(x), g.ints(keep)])


@converts("tile")
def _tile(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    reps = list(params["reps"])
    x = inputs[0]
    name = g.value(x)
    extra = len(reps) - len(_shape(x))
    if extra > 0:  # np.tile's leading new axes
        name = g.node("Unsqueeze", [name, g.ints(list(range(extra)))])
    return g.node("Tile", [name, g.ints(reps)])


@converts("getitem")
def _getitem(g: Any, inputs: tuple, params: dict, out: Tensor) -> str:
    x = inputs[0]
    index = params["index"] if isinstance(params["index"], tuple) else (params["index"],)
    shape = _shape(x)
    if any(i is Ellipsis for i in index):
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (len(shape) - len(index) + 1) + index[at + 1:]
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, item in enumerate(index):
        if isinstance(item, slice):
            start, stop, step = item.indices(shape[axis])
            if (start, stop, step) == (0, shape[axis], 1):
                continue
            if step < 0:
                raise UnsupportedError(f"indexing with a negative step ({item}) is not exported")
            starts.append(start)
            ends.append(stop)
            axes.append(axis)
            steps.append(step)
        elif isinstance(item, int | np.integer):
            i = int(item) % shape[axis]
            starts.append(i)
            ends.append(i + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        else:
            raise UnsupportedError(f"indexing with {type(item).__name__} ({item!r}) is not exported; only slices "
                                   "and integers are")
    name = g.value(x)
    if starts:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze)])
    return name if name != g.value(x) else g.node("Identity", [name])
