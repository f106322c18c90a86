"""Creating tensors: from data and NumPy, constant and range constructors, ``*_like``/``new_*``, random
constructors, the legacy ``torch.Tensor`` constructor."""

from .harness import Table
from .sources import (
    EX_DCGAN,
    EX_FF,
    EX_REINFORCE,
    EX_STYLE,
    EX_VAE,
    EX_WLM_DATA,
    EX_WLM_GENERATE,
    EX_WLM_MAIN,
    EX_WLM_MODEL,
    PT_TORCH_DOCS,
    TU_BLITZ_AUTOGRAD,
    TU_BLITZ_NN,
    TU_BLITZ_TENSOR,
    TU_DQN,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_NLP_INTRO,
    TU_POLY_AUTOGRAD,
    TU_POLY_FUNCTION,
    TU_POLY_TENSOR,
    TU_TENSORQS,
)

t = Table("creation")

# ------------------------------------------------------------------------------------ from data
t.add("tensor_from_nested_int_list", TU_TENSORQS, """
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
""", "x_data")
t.add("tensor_from_float_list", TU_BLITZ_TENSOR, "x = torch.tensor([5.5, 3])", "x")
t.add("tensor_from_tuple_of_ints", TU_INTROYT_TENSORS, "some_integers = torch.tensor((2, 3, 5, 7, 11, 13, 17, 19))",
      "some_integers")
t.add("tensor_from_mixed_tuple_and_list", TU_INTROYT_TENSORS, "more_integers = torch.tensor(((2, 4, 6), [3, 6, 9]))",
      "more_integers")
t.add("tensor_of_python_bools", TU_TENSORQS, "mask = torch.tensor([True, False, True])", "mask")
t.add("tensor_bool_from_tuple_with_dtype", TU_DQN, """
    next_state = [1.0, None, 2.0]
    non_final_mask = torch.tensor(tuple(map(lambda s: s is not None, next_state)), dtype=torch.bool)
""", "non_final_mask")
t.add("tensor_scalar_is_zero_dim", PT_TORCH_DOCS, """
    x = torch.tensor(2.0)
    shape, ndim = x.shape, x.dim()
""", "x shape ndim")
t.add("tensor_int_scalar", PT_TORCH_DOCS, "x = torch.tensor(3)", "x")
t.add("tensor_with_dtype_float", TU_BLITZ_AUTOGRAD,
      "gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)", "gradients")
t.add("tensor_from_int_list_then_type_int64", EX_WLM_DATA, """
    ids = [3, 1, 4, 1, 5]
    t = torch.tensor(ids).type(torch.int64)
""", "t")
t.add("tensor_from_numpy_array_copies", TU_TENSORQS, """
    np_array = np.array([[1, 2], [3, 4]])
    x = torch.tensor(np_array)
    np_array[0, 0] = 100
""", "x")
t.add("tensor_from_float32_array_keeps_dtype", TU_TENSORQS, "x = torch.tensor(A)", "x")
t.add("tensor_from_float64_array_keeps_dtype", TU_TENSORQS, "x = torch.tensor(D)", "x")
t.add("tensor_from_int32_array_keeps_dtype", PT_TORCH_DOCS, "x = torch.tensor(np.array([1, 2, 3], dtype=np.int32))",
      "x")
t.add("tensor_requires_grad_flag", PT_TORCH_DOCS, """
    x = torch.tensor([[1., -1.], [1., 1.]], requires_grad=True)
    flag = x.requires_grad
""", "x flag")
t.add("tensor_of_ints_cannot_require_grad", PT_TORCH_DOCS, "x = torch.tensor([1, 2], requires_grad=True)",
      raises=RuntimeError)
t.add("from_numpy_shares_memory", TU_TENSORQS, """
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
""", "t")
t.add("from_numpy_keeps_float64", TU_INTROYT_TENSORS, """
    numpy_array = np.ones((2, 3))
    pytorch_tensor = torch.from_numpy(numpy_array)
""", "pytorch_tensor")
t.add("from_numpy_int_array", TU_TENSORQS, """
    np_array = np.array([[1, 2], [3, 4]])
    x_np = torch.from_numpy(np_array)
""", "x_np")
t.add("from_numpy_float_then_unsqueeze", EX_REINFORCE, """
    state = np.array([0.1, -0.2, 0.3, 0.05])
    s = torch.from_numpy(state).float().unsqueeze(0)
""", "s")
t.add("from_numpy_rejects_list", PT_TORCH_DOCS, "t = torch.from_numpy([1, 2, 3])", raises=TypeError)
t.add("as_tensor_shares_numpy_memory", PT_TORCH_DOCS, """
    a = np.array([1, 2, 3])
    t = torch.as_tensor(a)
    t[0] = -1
""", "t a")
t.add("as_tensor_with_dtype_converts", PT_TORCH_DOCS, """
    a = np.array([1, 2, 3])
    t = torch.as_tensor(a, dtype=torch.float32)
""", "t")

# ------------------------------------------------------------------------- constant constructors
t.add("zeros_long", TU_BLITZ_TENSOR, "x = torch.zeros(5, 3, dtype=torch.long)", "x")
t.add("zeros_shape_tuple", TU_TENSORQS, """
    shape = (2, 3,)
    zeros_tensor = torch.zeros(shape)
    ones_tensor = torch.ones(shape)
""", "zeros_tensor ones_tensor")
t.add("ones_int16_dtype", TU_INTROYT_TENSORS, "a = torch.ones((2, 3), dtype=torch.int16)", "a")
t.add("zeros_plus_one_arith", TU_INTROYT_TENSORS, """
    ones = torch.zeros(2, 2) + 1
    twos = torch.ones(2, 2) * 2
    threes = (torch.ones(2, 2) * 7 - 1) / 2
""", "ones twos threes")
t.add("zeros_size_scalar_int", TU_DQN,
      "next_state_values = torch.zeros(8)", "next_state_values")
t.add("full_scalar_requires_grad", TU_POLY_FUNCTION, """
    dtype = torch.float
    device = torch.device("cpu")
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    flag = b.requires_grad
""", "b flag")
t.add("full_int_fill_infers_int64", PT_TORCH_DOCS, "x = torch.full((2, 3), 7)", "x")
t.add("full_float_fill", PT_TORCH_DOCS, "x = torch.full((2, 3), 3.141592)", "x")
t.add("empty_shape_and_dtype", TU_BLITZ_TENSOR, """
    x = torch.empty(5, 3)
    shape, dtype = x.shape, x.dtype
""", "shape dtype")
t.add("empty_like_shape", TU_INTROYT_TENSORS, """
    x = torch.empty(2, 2, 3)
    empty_like_x = torch.empty_like(x)
    shape = empty_like_x.shape
""", "shape")
t.add("arange_int", PT_TORCH_DOCS, "x = torch.arange(5)", "x")
t.add("arange_start_end", EX_WLM_MODEL, "position = torch.arange(0, 10, dtype=torch.float).unsqueeze(1)", "position")
t.add("arange_step_float_infers_float", PT_TORCH_DOCS, "x = torch.arange(1, 2.5, 0.5)", "x")
t.add("arange_even_then_float", EX_WLM_MODEL, """
    d_model = 8
    div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
""", "div_term")
t.add("arange_view_dummy_target", TU_BLITZ_NN, """
    target = torch.arange(1, 11)
    target = target.view(1, -1)
""", "target")
t.add("linspace_polynomial_input", TU_POLY_TENSOR, """
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
""", "x y")
t.add("linspace_steps_keyword_requires_grad", TU_INTROYT_AUTOGRAD,
      "a = torch.linspace(0., 2. * math.pi, steps=25, requires_grad=True)", "a")
t.add("logspace", PT_TORCH_DOCS, "x = torch.logspace(start=-10, end=10, steps=5)", "x", rtol=1e-5)
t.add("eye_square_and_rect", PT_TORCH_DOCS, """
    a = torch.eye(3)
    b = torch.eye(4, 5)
""", "a b")
t.add("zeros_like_ones_like_keep_dtype", TU_TENSORQS, """
    x_data = torch.tensor([[1, 2], [3, 4]])
    x_ones = torch.ones_like(x_data)
    x_zeros = torch.zeros_like(x_data)
""", "x_ones x_zeros")
t.add("full_like", PT_TORCH_DOCS, "y = torch.full_like(torch.tensor(A), 0.5)", "y")
t.add("ones_like_float_scaled", EX_VAE, """
    lam = torch.tensor(PROB)
    cut = 0.49 * torch.ones_like(lam)
""", "cut")
t.add("new_ones_double", TU_BLITZ_TENSOR, """
    x = torch.tensor([5.5, 3])
    x = x.new_ones(5, 3, dtype=torch.double)
""", "x")
t.add("new_zeros_for_hidden_state", EX_WLM_MODEL, """
    weight = torch.tensor(A)
    h = weight.new_zeros(2, 3, 4)
""", "h")
t.add("new_tensor_keeps_dtype", EX_STYLE, """
    batch = torch.tensor(IMG, dtype=torch.float64)
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
""", "mean")
t.add("new_full", PT_TORCH_DOCS, "y = torch.ones((2,), dtype=torch.float64).new_full((3, 4), 3.141592)", "y")
t.add("new_empty_shape", PT_TORCH_DOCS, """
    y = torch.ones(()).new_empty((2, 3))
    shape, dtype = y.shape, y.dtype
""", "shape dtype")

# ------------------------------------------------------------------------- legacy constructors
t.add("legacy_Tensor_from_list_is_float32", TU_NLP_INTRO, """
    V_data = [1., 2., 3.]
    V = torch.Tensor(V_data)
    M = torch.Tensor([[1., 2., 3.], [4., 5., 6]])
""", "V M")
t.add("legacy_Tensor_from_int_list_is_float32", EX_REINFORCE,
      "rewards = torch.Tensor([1, 2, 3])", "rewards")
t.add("legacy_Tensor_sizes_uninitialised", EX_DCGAN, """
    input = torch.Tensor(4, 3, 2)
    shape, dtype = input.shape, input.dtype
""", "shape dtype")
t.add("legacy_FloatTensor_normal_", EX_DCGAN, """
    fixed_noise = torch.FloatTensor(4, 10, 1, 1).normal_(0, 1)
    shape, dtype = fixed_noise.shape, fixed_noise.dtype
""", "shape dtype")
t.add("legacy_LongTensor_zero_view", EX_WLM_MAIN, """
    dummy_input = torch.LongTensor(6).zero_().view(-1, 2)
""", "dummy_input")

# ---------------------------------------------------------------------------------- random
t.add("rand_shape_range", TU_TENSORQS, """
    rand_tensor = torch.rand((2, 3,))
    in_range = bool(((rand_tensor >= 0) & (rand_tensor < 1)).all())
""", "rand_tensor in_range", random=True)
t.add("rand_like_overrides_dtype", TU_TENSORQS, """
    x_data = torch.tensor([[1, 2], [3, 4]])
    x_rand = torch.rand_like(x_data, dtype=torch.float)
""", "x_rand", random=True)
t.add("randn_like_overrides_dtype", TU_BLITZ_TENSOR, """
    x = torch.ones(5, 3, dtype=torch.double)
    x = torch.randn_like(x, dtype=torch.float)
""", "x", random=True)
t.add("randn_zero_dim_weights", TU_POLY_TENSOR, """
    a = torch.randn((), device=torch.device("cpu"), dtype=torch.float)
""", "a", random=True)
t.add("randn_statistics", PT_TORCH_DOCS, """
    x = torch.randn(20000)
    mean_ok = abs(x.mean().item()) < 0.05
    std_ok = abs(x.std().item() - 1) < 0.05
""", "x mean_ok std_ok", random=True)
t.add("manual_seed_reproduces", TU_INTROYT_TENSORS, """
    torch.manual_seed(1729)
    random1 = torch.rand(2, 3)
    random2 = torch.rand(2, 3)
    torch.manual_seed(1729)
    random3 = torch.rand(2, 3)
    random4 = torch.rand(2, 3)
    same13 = bool(torch.equal(random1, random3))
    same24 = bool(torch.equal(random2, random4))
    differ12 = not bool(torch.equal(random1, random2))
""", "same13 same24 differ12")
t.add("randint_high_and_size", EX_FF, """
    i = torch.randint(9, size=(1,))
    ok = 0 <= i.item() < 9
""", "i ok", random=True)
t.add("randint_dtype_long", EX_WLM_GENERATE, """
    input = torch.randint(100, (1, 1), dtype=torch.long)
""", "input", random=True)
t.add("randint_low_high", PT_TORCH_DOCS, """
    x = torch.randint(3, 10, (200,))
    ok = bool(((x >= 3) & (x < 10)).all())
""", "x ok", random=True)
t.add("randperm_is_permutation", PT_TORCH_DOCS, """
    p = torch.randperm(10)
    ok = torch.equal(p.sort().values, torch.arange(10))
""", "p ok", random=True)
t.add("normal_mean_std_tensors", PT_TORCH_DOCS, """
    x = torch.normal(mean=torch.arange(1., 11.), std=torch.arange(1, 0, -0.1))
""", "x", random=True)
t.add("normal_scalar_args_size", PT_TORCH_DOCS, """
    x = torch.normal(2, 3, size=(1, 4))
""", "x", random=True)
t.add("bernoulli_of_probabilities", PT_TORCH_DOCS, """
    a = torch.empty(3, 3).uniform_(0, 1)
    b = torch.bernoulli(a)
    binary = bool(((b == 0) | (b == 1)).all())
    sure = torch.bernoulli(torch.ones(3, 3))
""", "b binary sure", random=True)
t.add("multinomial_one_sample", EX_WLM_GENERATE, """
    word_weights = torch.tensor([0.0, 0.0, 5.0, 0.0])
    word_idx = torch.multinomial(word_weights, 1)[0]
""", "word_idx")
t.add("multinomial_without_replacement", PT_TORCH_DOCS, """
    weights = torch.tensor([0, 10, 3, 0], dtype=torch.float)
    s = torch.multinomial(weights, 2)
    ok = sorted(s.tolist()) == [1, 2]
""", "s ok", random=True)
t.add("generator_manual_seed_reproduces", PT_TORCH_DOCS, """
    g = torch.Generator()
    g.manual_seed(42)
    a = torch.randn(3, generator=g)
    g.manual_seed(42)
    b = torch.randn(3, generator=g)
    same = bool(torch.equal(a, b))
""", "a same", random=True)
t.add("randn_weights_requires_grad", TU_POLY_AUTOGRAD, """
    a = torch.randn((), dtype=torch.float, requires_grad=True)
    flag = a.requires_grad
    leaf = a.is_leaf
""", "a flag leaf", random=True)
t.add("is_tensor_and_numel", PT_TORCH_DOCS, """
    a = torch.randn(1, 2, 3, 4, 5)
    is_t = torch.is_tensor(a)
    is_not = torch.is_tensor([1, 2])
    n = torch.numel(a)
    n2 = a.numel()
""", "is_t is_not n n2")
