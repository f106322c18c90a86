"""Dtypes: the dtype objects, conversions, and type promotion (``torch.result_type``)."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_IMAGENET,
    EX_MNIST,
    EX_STYLE,
    EX_WLM_DATA,
    PT_TENSOR_DOCS,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_INTROYT_TENSORS,
    TU_POLY_NN,
    TU_POLY_TENSOR,
    TU_QUICKSTART,
    TU_TENSORQS,
)

t = Table("dtypes")

# ----------------------------------------------------------------------------- dtype objects
t.add("dtype_aliases", TU_INTROYT_TENSORS, """
    same = [torch.float is torch.float32, torch.double is torch.float64, torch.long is torch.int64,
            torch.int is torch.int32]
""", "same")
t.add("dtype_objects_by_name", TU_INTROYT_TENSORS, """
    names = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float32,
             torch.float64]
""", "names")
t.add("dtype_is_floating_point", PT_TORCH_DOCS, """
    flags = [torch.float32.is_floating_point, torch.float64.is_floating_point, torch.int64.is_floating_point,
             torch.bool.is_floating_point]
""", "flags")
t.add("tensor_dtype_attribute", TU_TENSORQS, """
    tensor = torch.rand(3, 4)
    dtype = tensor.dtype
    is_f32 = tensor.dtype == torch.float32
""", "dtype is_f32")
t.add("tensor_is_floating_point", PT_TORCH_DOCS, """
    flags = [torch.tensor(A).is_floating_point(), torch.tensor(I).is_floating_point()]
""", "flags")
t.add("default_dtype_is_float32", PT_TORCH_DOCS, "d = torch.get_default_dtype()", "d")
t.add("set_default_dtype_float64", PT_TORCH_DOCS, """
    torch.set_default_dtype(torch.float64)
    x = torch.tensor([1.2, 3])
    z = torch.zeros(2)
    torch.set_default_dtype(torch.float32)
    y = torch.tensor([1.2, 3])
""", "x z y")
t.add("element_size_and_nbytes", PT_TENSOR_DOCS, """
    sizes = [torch.tensor([]).element_size(), torch.tensor([], dtype=torch.uint8).element_size(),
             torch.tensor([1, 2]).element_size(), torch.zeros(3, 4).nbytes]
""", "sizes")

# ----------------------------------------------------------------------------- conversions
t.add("to_int32_truncates", TU_INTROYT_TENSORS, """
    b = torch.tensor(A * 20.)
    c = b.to(torch.int32)
""", "c")
t.add("float_of_bool_mask", EX_FF, """
    pred = torch.tensor([1, 2, 3, 0])
    y = torch.tensor([1, 2, 0, 0])
    acc = pred.eq(y).float().mean().item()
""", "acc")
t.add("type_float_of_bool_sum", TU_QUICKSTART, """
    pred = torch.tensor(A)
    y = torch.tensor([4, 0, 1, 2])
    correct = (pred.argmax(1) == y).type(torch.float).sum().item()
""", "correct")
t.add("long_int_double_methods", PT_TENSOR_DOCS, """
    x = torch.tensor(A * 3)
    a, b, c, d = x.long(), x.int(), x.double(), x.float()
""", "a b c d")
t.add("bool_method", PT_TENSOR_DOCS, "b = torch.tensor([0., 1.5, -2.]).bool()", "b")
t.add("type_as", PT_TENSOR_DOCS, """
    x = torch.tensor(I)
    y = torch.tensor(A).type_as(x)
""", "y")
t.add("type_with_no_argument_names_the_type", PT_TENSOR_DOCS, """
    names = [t.type().split('.', 1)[1] for t in (torch.tensor(A), torch.tensor(I), torch.tensor(D))]
""", "names", note="the library's own prefix ('torch.' / 'minidl.') is not compared")
t.add("int64_tokens_cat", EX_WLM_DATA, """
    idss = [torch.tensor([1, 2]).type(torch.int64), torch.tensor([3]).type(torch.int64)]
    ids = torch.cat(idss)
""", "ids")

# ----------------------------------------------------------------------------- promotion
t.add("float32_times_int64_tensor_is_float32", TU_POLY_NN, """
    x = torch.linspace(-1, 1, 5)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
""", "xx")
t.add("float_tensor_pow_int_tensor", TU_INTROYT_TENSORS, """
    twos = torch.ones(2, 2) * 2
    powers2 = twos ** torch.tensor([[1, 2], [3, 4]])
""", "powers2")
t.add("int_tensor_div_int_is_float32", PT_TORCH_DOCS, """
    x = torch.tensor([1, 2, 3, 4])
    y = x / 2
""", "y")
t.add("int_tensor_div_int_tensor_is_float32", PT_TORCH_DOCS, """
    y = torch.tensor(I) / torch.tensor(I + 1)
""", "y")
t.add("int_tensor_floordiv_stays_int", PT_TORCH_DOCS, """
    y = torch.tensor(I) // 3
""", "y")
t.add("int_tensor_times_float_scalar_is_float32", PT_TORCH_DOCS, """
    y = torch.tensor(I) * 2.5
""", "y")
t.add("float32_times_python_float_stays_float32", TU_POLY_TENSOR, """
    x = torch.tensor(A)
    y = 2.0 * x + 1e-6
""", "y")
t.add("float32_plus_zero_dim_float64_stays_float32", PT_TORCH_DOCS, """
    y = torch.tensor(A) + torch.tensor(1.5, dtype=torch.float64)
""", "y")
t.add("float32_plus_float64_tensor_is_float64", PT_TORCH_DOCS, """
    y = torch.tensor(A) + torch.tensor(D)
""", "y")
t.add("int_tensor_plus_zero_dim_float64", PT_TORCH_DOCS, """
    y = torch.tensor(I) + torch.tensor(0.5, dtype=torch.float64)
""", "y")
t.add("int32_plus_int64_is_int64", PT_TORCH_DOCS, """
    y = torch.tensor([1, 2], dtype=torch.int32) + torch.tensor([3, 4])
""", "y")
t.add("int32_plus_python_int_stays_int32", PT_TORCH_DOCS, """
    y = torch.tensor([1, 2], dtype=torch.int32) + 5
""", "y")
t.add("uint8_plus_int_stays_uint8", PT_TORCH_DOCS, """
    y = torch.tensor([250, 3], dtype=torch.uint8) + 10
""", "y")
t.add("bool_plus_bool_and_bool_times_int", PT_TORCH_DOCS, """
    a = torch.tensor([True, False]) + torch.tensor([True, True])
    b = torch.tensor([True, False]) * 3
""", "a b")
t.add("float64_numpy_tensor_times_float32", TU_INTROYT_TENSORS, """
    y = torch.from_numpy(np.ones((2, 3))) * torch.ones(2, 3)
""", "y")
t.add("numpy_float64_scalar_does_not_upcast", PT_TORCH_DOCS, """
    y = torch.tensor(A) * np.float64(0.5)
""", "y")
t.add("result_type", PT_TORCH_DOCS, """
    r = [torch.result_type(torch.tensor([1, 2], dtype=torch.int), 1.0),
         torch.result_type(torch.tensor([1, 2], dtype=torch.uint8), torch.tensor(1)),
         torch.result_type(torch.tensor(A), torch.tensor(I))]
""", "r")
t.add("promote_types", PT_TORCH_DOCS, """
    r = [torch.promote_types(torch.int32, torch.float32), torch.promote_types(torch.uint8, torch.long)]
""", "r")
t.add("divide_uint8_image_by_255", EX_STYLE, """
    img = torch.tensor(I * 25, dtype=torch.uint8)
    y = img / 255
""", "y")
t.add("mean_of_int_tensor_raises", PT_TORCH_DOCS, "m = torch.tensor(I).mean()", raises=RuntimeError)
t.add("mean_of_int_tensor_after_float", PT_TORCH_DOCS, "m = torch.tensor(I).float().mean()", "m")
t.add("sum_of_int32_is_int64", PT_TORCH_DOCS, "s = torch.tensor([1, 2, 3], dtype=torch.int32).sum()", "s")
t.add("sum_of_bool_is_int64", EX_MNIST, """
    pred = torch.tensor([[1], [2], [3]])
    target = torch.tensor([1, 0, 3])
    s = pred.eq(target.view_as(pred)).sum()
""", "s")
t.add("prod_of_int_is_int64", PT_TORCH_DOCS, "p = torch.tensor([[1, 2], [3, 4]], dtype=torch.int16).prod()", "p")
t.add("comparison_gives_bool", TU_BLITZ_CIFAR, """
    predicted = torch.tensor([1, 2, 3, 4])
    labels = torch.tensor([1, 0, 3, 0])
    eq = predicted == labels
""", "eq")
t.add("argmax_gives_int64", TU_QUICKSTART, "i = torch.tensor(A).argmax(1)", "i")
t.add("correct_k_float_sum_keepdim", EX_IMAGENET, """
    correct = torch.tensor([[True, False, True], [False, False, True]])
    correct_k = correct[:1].reshape(-1).float().sum(0, keepdim=True)
""", "correct_k")
t.add("float32_inplace_add_int_tensor_stays_float32", PT_TORCH_DOCS, """
    a = torch.ones(3)
    a.add_(torch.tensor([1, 2, 3]))
""", "a")
t.add("int_tensor_inplace_mul_float_raises", PT_TORCH_DOCS, """
    a = torch.tensor([1, 2, 3])
    a *= 0.5
""", raises=RuntimeError)
t.add("int_tensor_inplace_div_raises", PT_TORCH_DOCS, """
    a = torch.tensor([1, 2, 3])
    a /= 2
""", raises=RuntimeError)
t.add("where_promotes_int_and_float_scalar", PT_TORCH_DOCS, """
    y = torch.where(torch.tensor(A) > 0, torch.tensor(I), 0.5)
""", "y")
t.add("clamp_int_tensor_with_float_bounds", PT_TORCH_DOCS, """
    y = torch.tensor([1, 5, -2]).clamp(0.5, 3.5)
""", "y")
t.add("conversion_to_same_dtype_returns_self", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    r = [x.float() is x, x.double() is x, torch.tensor(I).long() is torch.tensor(I)]
""", "r")
t.add("integer_and_bool_results_do_not_require_grad", PT_TENSOR_DOCS, """
    w = torch.tensor(A, requires_grad=True)
    r = [(w > 0).requires_grad, w.argmax().requires_grad, w.long().requires_grad, w.float().requires_grad]
""", "r")
t.add("empty_tensor_is_float32", PT_TORCH_DOCS, """
    x = torch.tensor([])
    shape, dtype = x.shape, x.dtype
""", "shape dtype")
t.add("arange_float_step_length", PT_TORCH_DOCS, """
    x = torch.arange(0, 1, 0.1)
    n = len(x)
""", "x n")
t.add("log_of_zero_is_minus_inf_without_error", PT_TORCH_DOCS, """
    y = torch.log(torch.tensor([0.0, 1.0, 2.0]))
    z = torch.tensor([1., -1., 0.]) / torch.tensor([0., 0., 0.])
""", "y z")
