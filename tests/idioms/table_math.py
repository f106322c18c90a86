"""Elementwise math and comparisons: the ``torch.*`` functions and Tensor methods, broadcasting, and the
gradients of the common ones."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_VAE,
    EX_WLM_GENERATE,
    EX_WLM_MODEL,
    PT_TENSOR_DOCS,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_BLITZ_TENSOR,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_NLP_INTRO,
    TU_POLY_AUTOGRAD,
    TU_POLY_TENSOR,
    TU_TENSORQS,
    TU_TWO_LAYER_TENSOR,
)

t = Table("math")

# ------------------------------------------------------------------------------ arithmetic
t.add("add_function_and_operator", TU_BLITZ_TENSOR, """
    x, y = torch.tensor(A), torch.tensor(C)
    a, b = x + y, torch.add(x, y)
    c = torch.add(x, y, alpha=2)
""", "a b c")
t.add("sub_mul_div_functions", PT_TORCH_DOCS, """
    x, y = torch.tensor(A), torch.tensor(POS)
    a, b, c = torch.sub(x, y), torch.mul(x, 3), torch.div(x, y)
    d = x.sub(1).mul(2).div(4)
""", "a b c d")
t.add("div_rounding_modes", PT_TORCH_DOCS, """
    x = torch.tensor(A * 5)
    a = torch.div(x, 2, rounding_mode='floor')
    b = x.div(2, rounding_mode='trunc')
""", "a b")
t.add("rsub_and_rtruediv", TU_POLY_TENSOR, """
    x = torch.tensor(POS)
    a, b = 1 - x, 1 / x
""", "a b")
t.add("neg_and_pos", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    a, b = -x, torch.neg(x)
""", "a b")
t.add("broadcast_row_vector", TU_INTROYT_TENSORS, """
    rand = torch.tensor(A[:2, :4])
    doubled = rand * (torch.ones(1, 4) * 2)
""", "doubled")
t.add("broadcast_rules", TU_INTROYT_TENSORS, """
    a = torch.ones(4, 3, 2)
    b = a * torch.tensor(X3[0, :, :2])
    c = a * torch.tensor(X3[0, :, :1])
    d = a * torch.tensor(X3[0, :1, :2])
""", "b c d")
t.add("broadcast_after_unsqueeze", TU_INTROYT_TENSORS, """
    a = torch.ones(4, 3, 2)
    b = torch.tensor(W)
    c = b.unsqueeze(1)
    r = a * c
""", "r")
t.add("broadcast_mismatch_raises", TU_INTROYT_TENSORS, """
    a = torch.rand(2, 3)
    b = torch.rand(3, 2)
    c = a * b
""", raises=RuntimeError)
t.add("polynomial_forward", TU_POLY_TENSOR, """
    x = torch.linspace(-math.pi, math.pi, 50)
    a, b, c, d = torch.tensor(0.1), torch.tensor(0.9), torch.tensor(-0.05), torch.tensor(-0.1)
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
""", "y_pred")

# ----------------------------------------------------------------------------- functions
t.add("abs_ceil_floor_clamp", TU_INTROYT_TENSORS, """
    a = torch.tensor(A) * 2 - 1
    r = [torch.abs(a), torch.ceil(a), torch.floor(a), torch.clamp(a, -0.5, 0.5)]
""", "r")
t.add("sin_of_angles", TU_INTROYT_TENSORS, """
    angles = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    sines = torch.sin(angles)
""", "sines")
t.add("exp_log_sqrt_methods", PT_TENSOR_DOCS, """
    x = torch.tensor(POS)
    a, b, c = x.exp(), x.log(), x.sqrt()
""", "a b c")
t.add("log1p_expm1", EX_FF, """
    x = torch.tensor(A)
    a, b = torch.log1p(torch.exp(x)), torch.expm1(x)
""", "a b")
t.add("rsqrt_reciprocal", PT_TORCH_DOCS, """
    x = torch.tensor(POS)
    a, b = torch.rsqrt(x), x.reciprocal()
""", "a b")
t.add("trig_and_tanh", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    r = [torch.cos(x), torch.tan(x * 0.3), torch.tanh(x), x.sin(), x.cos()]
""", "r")
t.add("sigmoid_function_and_method", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b = torch.sigmoid(x), x.sigmoid()
""", "a b")
t.add("pow_function_and_method", EX_VAE, """
    lam = torch.tensor(PROB)
    a = torch.pow(lam - 0.5, 2)
    b = lam.pow(3)
    c = torch.pow(2, torch.tensor([1., 2., 3.]))
""", "a b c")
t.add("rpow_and_sqrt_by_pow", TU_INTROYT_TENSORS, """
    twos = torch.ones(2, 2) * 2
    sqrt2s = twos ** 0.5
    r = 2 ** torch.tensor([1., 2., 3.])
""", "sqrt2s r")
t.add("clamp_min_only", TU_TWO_LAYER_TENSOR, """
    h = torch.tensor(A)
    h_relu = h.clamp(min=0)
""", "h_relu")
t.add("clamp_probabilities", EX_VAE, """
    x = torch.tensor(A)
    p = torch.clamp(torch.sigmoid(x), min=1e-4, max=1.0 - 1e-4)
""", "p")
t.add("clip_alias_and_max_only", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b = torch.clip(x, -0.5, 0.5), x.clamp(max=0.2)
""", "a b")
t.add("clamp_tensor_bounds", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    lo, hi = torch.tensor(C).clamp(max=0), torch.tensor(C).clamp(min=0)
    r = torch.clamp(x, min=lo, max=hi)
""", "r")
t.add("round_trunc_sign", PT_TORCH_DOCS, """
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.7, -1.7])
    a, b, c = torch.round(x), torch.trunc(x), torch.sign(x)
    d = torch.round(torch.tensor([1.2345, -2.3456]), decimals=2)
""", "a b c d")
t.add("maximum_minimum", PT_TORCH_DOCS, """
    x, y = torch.tensor(A), torch.tensor(C)
    a, b = torch.maximum(x, y), torch.minimum(x, y)
""", "a b")
t.add("where_three_args", EX_VAE, """
    lam = torch.tensor(PROB)
    l_lim, u_lim = 0.49, 0.51
    cut_lam = torch.where(torch.max(torch.le(lam, l_lim), torch.gt(lam, u_lim)), lam, l_lim * torch.ones_like(lam))
""", "cut_lam")
t.add("where_with_scalar", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a = torch.where(x > 0, x, 0.0)
    b = torch.where(x > 0, 1.0, -1.0)
""", "a b")
t.add("where_one_arg", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    rows, cols = torch.where(x > 1)
""", "rows cols")
t.add("where_grad", EX_VAE, """
    x = torch.tensor(A, requires_grad=True)
    y = torch.where(x > 0, x ** 2, -x)
    y.sum().backward()
    g = x.grad
""", "g")
t.add("lerp", PT_TORCH_DOCS, """
    start, end = torch.arange(1., 5.), torch.empty(4).fill_(10)
    a = torch.lerp(start, end, 0.5)
    b = start.lerp(end, torch.full_like(start, 0.25))
""", "a b")
t.add("addmm", PT_TORCH_DOCS, """
    M, m1, m2 = torch.tensor(A[:2, :3]), torch.tensor(A[:2]), torch.tensor(B)
    a = torch.addmm(M, m1, m2)
    b = torch.addmm(M, m1, m2, beta=0.5, alpha=2)
""", "a b")
t.add("atanh_composite_log", EX_VAE, """
    x = torch.tensor(PROB) * 2 - 1
    r = 0.5 * (torch.log(1.0 + x) - torch.log(1.0 - x))
""", "r")
t.add("log_of_tensor_constant", EX_VAE, "c = torch.log(torch.tensor(2.0))", "c")
t.add("softmax_temperature_exp", EX_WLM_GENERATE, """
    output = torch.tensor(A[:1])
    word_weights = output.squeeze().div(0.5).exp()
""", "word_weights")
t.add("exp_of_arange_positional", EX_WLM_MODEL, """
    d = torch.exp(torch.arange(0, 8, 2) * (-math.log(10000.0) / 8))
""", "d")
t.add("relu_softmax_log_softmax_methods", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    a, b, c = x.relu(), x.softmax(dim=1), x.log_softmax(-1)
    d = torch.softmax(x, 0)
""", "a b c d")
t.add("square_and_mean_loss", TU_INTROYT_AUTOGRAD, """
    ideal_output, prediction = torch.tensor(A), torch.tensor(C)
    loss = (ideal_output - prediction).pow(2).sum()
""", "loss")
t.add("eq_broadcast_bool", TU_INTROYT_TENSORS, """
    d = torch.tensor([[1., 2.], [3., 4.]])
    e = torch.ones(1, 2)
    r = torch.eq(d, e)
""", "r")
t.add("comparison_operators", PT_TORCH_DOCS, """
    x, y = torch.tensor(A), torch.tensor(C)
    r = [x == y, x != y, x < y, x <= 0, x > 0.5, x >= y]
""", "r")
t.add("comparison_functions", PT_TORCH_DOCS, """
    x, y = torch.tensor(A), torch.tensor(C)
    r = [torch.ne(x, y), torch.lt(x, y), torch.le(x, 0), torch.gt(x, 0.5), torch.ge(x, y), x.ne(0), x.lt(y)]
""", "r")
t.add("eq_method_and_sum", TU_BLITZ_CIFAR, """
    predicted, labels = torch.tensor([1, 2, 3, 0]), torch.tensor([1, 0, 3, 0])
    correct = (predicted == labels).sum().item()
    c = predicted.eq(labels)
""", "correct c")
t.add("zero_dim_comparison_in_if", TU_BLITZ_CIFAR, """
    labels, predictions = torch.tensor([1, 2, 3]), torch.tensor([1, 0, 3])
    hits = 0
    for label, prediction in zip(labels, predictions):
        if label == prediction:
            hits += 1
""", "hits")
t.add("compare_with_float_target", PT_TORCH_DOCS, """
    output = torch.tensor(A)
    target = torch.tensor([1., 0., 1., 0., 1.])
    acc = ((output > 0).float() == target).sum().item()
""", "acc")
t.add("bool_and_or_not_operators", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b, c = (x > 0) & (x < 1), (x < -1) | (x > 1), ~(x > 0)
""", "a b c")
t.add("isnan_isinf_isfinite", PT_TORCH_DOCS, """
    x = torch.tensor([1, float('inf'), 2, float('-inf'), float('nan')])
    r = [torch.isnan(x), torch.isinf(x), torch.isfinite(x), x.isnan()]
""", "r")
t.add("allclose_isclose_equal", PT_TORCH_DOCS, """
    x = torch.tensor([10000., 1e-07])
    y = torch.tensor([10000.1, 1e-08])
    a = torch.allclose(x, y)
    b = torch.isclose(x, y)
    c = torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2]))
    d = torch.allclose(torch.tensor(A), torch.tensor(A) + 1e-9)
""", "a b c d")
t.add("equal_different_shapes_is_false", PT_TORCH_DOCS, """
    r = torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2, 3]))
""", "r")
t.add("elementwise_sum_of_tensors", TU_NLP_INTRO, """
    x = torch.tensor([1., 2., 3.])
    y = torch.tensor([4., 5., 6.])
    z = x + y
""", "z")

# --------------------------------------------------------------------------- gradients
t.add("grad_of_sin_is_cos", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    b = torch.sin(a)
    c = 2 * b
    d = c + 1
    out = d.sum()
    out.backward()
    g = a.grad
""", "out g")
t.add("grad_of_polynomial_terms", TU_POLY_AUTOGRAD, """
    x = torch.linspace(-math.pi, math.pi, 20)
    a = torch.tensor(0.3, requires_grad=True)
    b = torch.tensor(-0.2, requires_grad=True)
    loss = (a + b * x ** 3 - torch.sin(x)).pow(2).sum()
    loss.backward()
    ga, gb = a.grad, b.grad
""", "ga gb")
t.add("grad_of_exp_log_sqrt_div", PT_TORCH_DOCS, """
    x = torch.tensor(POS, requires_grad=True)
    y = (x.exp() + x.log() + x.sqrt() + 1 / x + x.rsqrt()).sum()
    y.backward()
    g = x.grad
""", "g", rtol=1e-4)
t.add("grad_of_sigmoid_tanh_abs", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    (x.sigmoid() * x.tanh() + x.abs()).sum().backward()
    g = x.grad
""", "g")
t.add("grad_of_clamp_zero_outside", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    x.clamp(-0.5, 0.5).sum().backward()
    g = x.grad
""", "g")
t.add("grad_of_maximum", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    y = torch.tensor(C, requires_grad=True)
    torch.maximum(x, y).sum().backward()
    gx, gy = x.grad, y.grad
""", "gx gy")
t.add("grad_of_pow_tensor_exponent", PT_TORCH_DOCS, """
    x = torch.tensor(POS, requires_grad=True)
    p = torch.tensor(C, requires_grad=True)
    (x ** p).sum().backward()
    gx, gp = x.grad, p.grad
""", "gx gp")
t.add("grad_broadcast_reduces", TU_INTROYT_TENSORS, """
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(V, requires_grad=True)
    (a * b).sum().backward()
    ga, gb = a.grad, b.grad
""", "ga gb")
t.add("grad_of_log1p_exp_loss", EX_FF, """
    g_pos = torch.tensor(V, requires_grad=True)
    loss = torch.log1p(torch.exp(torch.cat([-g_pos + 2.0, g_pos - 2.0]))).mean()
    loss.backward()
    g = g_pos.grad
""", "loss g")
t.add("loss_print_format", TU_TENSORQS, """
    x = torch.tensor(A)
    loss = (x - 1).pow(2).sum().item()
    line = f"{99} {loss:.4f}"
""", "line")
