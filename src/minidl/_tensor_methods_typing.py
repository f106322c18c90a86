# mypy: disable-error-code="empty-body"
"""Type declarations of the Tensor methods and operators that :func:`minidl.tensor_methods.bind` attaches
at import time (the ``minidl.*`` functions with the tensor first, their in-place forms, the operators).

Only the type checker reads this module: ``Tensor`` derives from :class:`BoundMethods` under
``TYPE_CHECKING`` alone. ``tests/test_typing.py`` checks that it declares exactly the names ``bind`` attaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tensor import Tensor

_ToTensor = Callable[..., "Tensor"]
_ToAny = Callable[..., Any]  # named tuples, sequences of tensors or bools


class BoundMethods:
    def __abs__(self) -> Tensor: ...
    def __add__(self, other: Any) -> Tensor: ...
    def __and__(self, other: Any) -> Tensor: ...
    def __eq__(self, other: Any) -> Tensor: ...  # type: ignore[override]
    def __floordiv__(self, other: Any) -> Tensor: ...
    def __ge__(self, other: Any) -> Tensor: ...
    def __gt__(self, other: Any) -> Tensor: ...
    def __iadd__(self, other: Any) -> Tensor: ...
    def __iand__(self, other: Any) -> Tensor: ...
    def __ifloordiv__(self, other: Any) -> Tensor: ...
    def __imatmul__(self, other: Any) -> Tensor: ...
    def __imod__(self, other: Any) -> Tensor: ...
    def __imul__(self, other: Any) -> Tensor: ...
    def __invert__(self) -> Tensor: ...
    def __ior__(self, other: Any) -> Tensor: ...
    def __ipow__(self, other: Any) -> Tensor: ...
    def __isub__(self, other: Any) -> Tensor: ...
    def __itruediv__(self, other: Any) -> Tensor: ...
    def __ixor__(self, other: Any) -> Tensor: ...
    def __le__(self, other: Any) -> Tensor: ...
    def __lt__(self, other: Any) -> Tensor: ...
    def __matmul__(self, other: Any) -> Tensor: ...
    def __mod__(self, other: Any) -> Tensor: ...
    def __mul__(self, other: Any) -> Tensor: ...
    def __ne__(self, other: Any) -> Tensor: ...  # type: ignore[override]
    def __neg__(self) -> Tensor: ...
    def __or__(self, other: Any) -> Tensor: ...
    def __pos__(self) -> Tensor: ...
    def __pow__(self, other: Any) -> Tensor: ...
    def __radd__(self, other: Any) -> Tensor: ...
    def __rand__(self, other: Any) -> Tensor: ...
    def __rfloordiv__(self, other: Any) -> Tensor: ...
    def __rmatmul__(self, other: Any) -> Tensor: ...
    def __rmod__(self, other: Any) -> Tensor: ...
    def __rmul__(self, other: Any) -> Tensor: ...
    def __ror__(self, other: Any) -> Tensor: ...
    def __rpow__(self, other: Any) -> Tensor: ...
    def __rsub__(self, other: Any) -> Tensor: ...
    def __rtruediv__(self, other: Any) -> Tensor: ...
    def __rxor__(self, other: Any) -> Tensor: ...
    def __sub__(self, other: Any) -> Tensor: ...
    def __truediv__(self, other: Any) -> Tensor: ...
    def __xor__(self, other: Any) -> Tensor: ...

    abs: _ToTensor
    abs_: _ToTensor
    absolute: _ToTensor
    absolute_: _ToTensor
    acos: _ToTensor
    acos_: _ToTensor
    add: _ToTensor
    add_: _ToTensor
    addcdiv: _ToTensor
    addcdiv_: _ToTensor
    addcmul: _ToTensor
    addcmul_: _ToTensor
    addmm: _ToTensor
    addmm_: _ToTensor
    all: _ToTensor
    allclose: _ToAny
    amax: _ToTensor
    amin: _ToTensor
    aminmax: _ToAny
    any: _ToTensor
    arccos: _ToTensor
    arccos_: _ToTensor
    arcsin: _ToTensor
    arcsin_: _ToTensor
    arctan: _ToTensor
    arctan2: _ToTensor
    arctan2_: _ToTensor
    arctan_: _ToTensor
    argmax: _ToTensor
    argmin: _ToTensor
    argsort: _ToTensor
    asin: _ToTensor
    asin_: _ToTensor
    atan: _ToTensor
    atan2: _ToTensor
    atan2_: _ToTensor
    atan_: _ToTensor
    bernoulli_: _ToTensor
    bincount: _ToTensor
    bitwise_and: _ToTensor
    bitwise_and_: _ToTensor
    bitwise_not: _ToTensor
    bitwise_not_: _ToTensor
    bitwise_or: _ToTensor
    bitwise_or_: _ToTensor
    bitwise_xor: _ToTensor
    bitwise_xor_: _ToTensor
    bmm: _ToTensor
    broadcast_to: _ToTensor
    ceil: _ToTensor
    ceil_: _ToTensor
    chunk: _ToAny
    clamp: _ToTensor
    clamp_: _ToTensor
    clip: _ToTensor
    clip_: _ToTensor
    clone: _ToTensor
    contiguous: _ToTensor
    copy_: _ToTensor
    cos: _ToTensor
    cos_: _ToTensor
    cosh: _ToTensor
    cosh_: _ToTensor
    count_nonzero: _ToTensor
    cumprod: _ToTensor
    cumprod_: _ToTensor
    cumsum: _ToTensor
    cumsum_: _ToTensor
    diag: _ToTensor
    diagonal: _ToTensor
    div: _ToTensor
    div_: _ToTensor
    divide: _ToTensor
    divide_: _ToTensor
    dot: _ToTensor
    eq: _ToTensor
    equal: _ToAny
    erf: _ToTensor
    erf_: _ToTensor
    erfc: _ToTensor
    erfc_: _ToTensor
    exp: _ToTensor
    exp2: _ToTensor
    exp2_: _ToTensor
    exp_: _ToTensor
    expand_as: _ToTensor
    expm1: _ToTensor
    expm1_: _ToTensor
    exponential_: _ToTensor
    fill_: _ToTensor
    fix: _ToTensor
    fix_: _ToTensor
    flatten: _ToTensor
    fliplr: _ToTensor
    flipud: _ToTensor
    float_power: _ToTensor
    float_power_: _ToTensor
    floor: _ToTensor
    floor_: _ToTensor
    floor_divide: _ToTensor
    floor_divide_: _ToTensor
    fmax: _ToTensor
    fmin: _ToTensor
    fmod: _ToTensor
    fmod_: _ToTensor
    frac: _ToTensor
    frac_: _ToTensor
    gather: _ToTensor
    ge: _ToTensor
    ger: _ToTensor
    greater: _ToTensor
    greater_equal: _ToTensor
    gt: _ToTensor
    index_add: _ToTensor
    index_add_: _ToTensor
    index_copy: _ToTensor
    index_copy_: _ToTensor
    index_fill: _ToTensor
    index_fill_: _ToTensor
    index_put_: _ToTensor
    index_select: _ToTensor
    inner: _ToTensor
    is_nonzero: _ToAny
    isclose: _ToTensor
    isfinite: _ToTensor
    isinf: _ToTensor
    isnan: _ToTensor
    isneginf: _ToTensor
    isposinf: _ToTensor
    kthvalue: _ToAny
    le: _ToTensor
    lerp: _ToTensor
    lerp_: _ToTensor
    less: _ToTensor
    less_equal: _ToTensor
    log: _ToTensor
    log10: _ToTensor
    log10_: _ToTensor
    log1p: _ToTensor
    log1p_: _ToTensor
    log2: _ToTensor
    log2_: _ToTensor
    log_: _ToTensor
    log_softmax: _ToTensor
    logical_and: _ToTensor
    logical_and_: _ToTensor
    logical_not: _ToTensor
    logical_not_: _ToTensor
    logical_or: _ToTensor
    logical_or_: _ToTensor
    logical_xor: _ToTensor
    logical_xor_: _ToTensor
    logsumexp: _ToTensor
    lt: _ToTensor
    masked_fill: _ToTensor
    masked_fill_: _ToTensor
    masked_select: _ToTensor
    matmul: _ToTensor
    matmul_: _ToTensor
    max: _ToAny
    maximum: _ToTensor
    mean: _ToTensor
    median: _ToAny
    min: _ToAny
    minimum: _ToTensor
    mm: _ToTensor
    moveaxis: _ToTensor
    movedim: _ToTensor
    mul: _ToTensor
    mul_: _ToTensor
    multiply: _ToTensor
    multiply_: _ToTensor
    mv: _ToTensor
    nan_to_num: _ToTensor
    nan_to_num_: _ToTensor
    nanmean: _ToTensor
    nansum: _ToTensor
    narrow: _ToTensor
    ne: _ToTensor
    neg: _ToTensor
    neg_: _ToTensor
    negative: _ToTensor
    negative_: _ToTensor
    nonzero: _ToTensor
    norm: _ToTensor
    normal_: _ToTensor
    not_equal: _ToTensor
    outer: _ToTensor
    positive: _ToTensor
    pow: _ToTensor
    pow_: _ToTensor
    prelu: _ToTensor
    prod: _ToTensor
    random_: _ToTensor
    ravel: _ToTensor
    reciprocal: _ToTensor
    reciprocal_: _ToTensor
    relu: _ToTensor
    relu_: _ToTensor
    remainder: _ToTensor
    remainder_: _ToTensor
    roll: _ToTensor
    round: _ToTensor
    round_: _ToTensor
    rsqrt: _ToTensor
    rsqrt_: _ToTensor
    scatter: _ToTensor
    scatter_: _ToTensor
    scatter_add: _ToTensor
    scatter_add_: _ToTensor
    select: _ToTensor
    sgn: _ToTensor
    sgn_: _ToTensor
    sigmoid: _ToTensor
    sigmoid_: _ToTensor
    sign: _ToTensor
    sign_: _ToTensor
    sin: _ToTensor
    sin_: _ToTensor
    sinh: _ToTensor
    sinh_: _ToTensor
    softmax: _ToTensor
    sort: _ToAny
    split: _ToAny
    sqrt: _ToTensor
    sqrt_: _ToTensor
    square: _ToTensor
    square_: _ToTensor
    squeeze: _ToTensor
    squeeze_: _ToTensor
    std: _ToTensor
    sub: _ToTensor
    sub_: _ToTensor
    subtract: _ToTensor
    subtract_: _ToTensor
    sum: _ToTensor
    swapaxes: _ToTensor
    swapaxes_: _ToTensor
    swapdims: _ToTensor
    swapdims_: _ToTensor
    t: _ToTensor
    t_: _ToTensor
    take_along_dim: _ToTensor
    tan: _ToTensor
    tan_: _ToTensor
    tanh: _ToTensor
    tanh_: _ToTensor
    topk: _ToAny
    trace: _ToTensor
    transpose: _ToTensor
    transpose_: _ToTensor
    tril: _ToTensor
    tril_: _ToTensor
    triu: _ToTensor
    triu_: _ToTensor
    true_divide: _ToTensor
    true_divide_: _ToTensor
    trunc: _ToTensor
    trunc_: _ToTensor
    unbind: _ToAny
    unflatten: _ToTensor
    uniform_: _ToTensor
    unique: _ToAny
    unsqueeze: _ToTensor
    unsqueeze_: _ToTensor
    var: _ToTensor
    view_as: _ToTensor
    where: _ToTensor
    zero_: _ToTensor
