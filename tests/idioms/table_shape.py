"""Shapes: ``Size``, ``view``/``reshape``/``permute`` and friends, joining and splitting, gathering and
scattering, and their gradients."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_HOGWILD_MAIN,
    EX_IMAGENET,
    EX_MNIST,
    EX_REGRESSION,
    EX_STYLE,
    EX_WLM_MAIN,
    EX_WLM_MODEL,
    PT_TENSOR_DOCS,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_BLITZ_NN,
    TU_BLITZ_TENSOR,
    TU_DQN,
    TU_INTROYT_TENSORS,
    TU_NLP_INTRO,
    TU_POLY_NN,
    TU_QUICKSTART,
    TU_TENSORQS,
)

t = Table("shape")

# ------------------------------------------------------------------------------------- Size
t.add("size_is_tuple", TU_BLITZ_TENSOR, """
    x = torch.tensor(A)
    s = x.size()
    is_tuple = isinstance(s, tuple)
    rows, cols = s
""", "s is_tuple rows cols")
t.add("size_dim_and_shape_index", TU_BLITZ_CIFAR, """
    labels = torch.tensor(LABELS)
    n = labels.size(0)
    m = torch.tensor(IMG).shape[0]
    last = torch.tensor(IMG).size(-1)
""", "n m last")
t.add("size_slice_product", TU_BLITZ_NN, """
    x = torch.tensor(IMG)
    size = x.size()[1:]
    num_features = 1
    for s in size:
        num_features *= s
""", "size num_features")
t.add("size_unpack_four", EX_STYLE, """
    y = torch.tensor(IMG)
    (b, ch, h, w) = y.size()
""", "b ch h w")
t.add("torch_Size_constructor_and_equality", PT_TORCH_DOCS, """
    s = torch.Size([2, 3])
    same = torch.zeros(2, 3).shape == s
    same_tuple = torch.zeros(2, 3).shape == (2, 3)
    n = s.numel()
""", "s same same_tuple n")
t.add("shape_print_format", TU_QUICKSTART, """
    X = torch.tensor(IMG)
    line = f"Shape of X [N, C, H, W]: {tuple(X.shape)}"
""", "line")
t.add("len_dim_ndim", PT_TENSOR_DOCS, """
    x = torch.tensor(X3)
    r = [len(x), x.dim(), x.ndim, x.numel(), len(torch.tensor(V))]
""", "r")
t.add("len_of_zero_dim_raises", PT_TENSOR_DOCS, "n = len(torch.tensor(1.5))", raises=TypeError)

# ------------------------------------------------------------------------- view and reshape
t.add("view_infers_minus_one", TU_BLITZ_TENSOR, """
    x = torch.tensor(A[:4, :4])
    y = x.view(16)
    z = x.view(-1, 8)
""", "y z")
t.add("view_2_12_and_2_minus1", TU_NLP_INTRO, """
    x = torch.tensor(X3)
    a, b = x.view(2, 12), x.view(2, -1)
""", "a b")
t.add("view_batch_flatten", EX_HOGWILD_MAIN, """
    x = torch.tensor(IMG)
    y = x.view(-1, 192)
""", "y")
t.add("view_tuple_argument", PT_TENSOR_DOCS, "y = torch.tensor(A).view((5, 4))", "y")
t.add("view_as", EX_MNIST, """
    pred = torch.tensor([[1], [0], [3], [3]])
    target = torch.tensor([1, 2, 3, 0])
    t2 = target.view_as(pred)
""", "t2")
t.add("view_wrong_size_raises", PT_TENSOR_DOCS, "y = torch.tensor(A).view(3, -1)", raises=RuntimeError)
t.add("view_of_transposed_raises", EX_WLM_MAIN, """
    data = torch.arange(12).view(3, 4).t()
    flat = data.view(-1)
""", raises=RuntimeError, note="torch cannot view a non-contiguous tensor; NumPy's reshape silently copies")
t.add("transpose_contiguous_then_view", EX_WLM_MAIN, """
    data = torch.arange(12)
    bsz = 3
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    flat = data.view(-1)
""", "data flat")
t.add("is_contiguous", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    r = [x.is_contiguous(), x.t().is_contiguous(), x.t().contiguous().is_contiguous()]
""", "r")
t.add("reshape_function_and_method", TU_INTROYT_TENSORS, """
    output3d = torch.tensor(IMG[0])
    input1d = output3d.reshape(3 * 8 * 8)
    same = torch.reshape(output3d, (3 * 8 * 8,))
""", "input1d same")
t.add("reshape_of_transposed_copies", EX_IMAGENET, """
    correct = torch.tensor(A).t()
    flat = correct[:2].reshape(-1)
""", "flat")
t.add("flatten_function_start_dim", EX_MNIST, """
    x = torch.tensor(IMG)
    y = torch.flatten(x, 1)
""", "y")
t.add("flatten_method_keyword", TU_BLITZ_CIFAR, """
    x = torch.tensor(IMG)
    y = x.flatten(start_dim=1)
    z = x.flatten()
    w = x.flatten(1, 2)
""", "y z w")
t.add("flatten_in_lambda_transform", EX_FF, "y = torch.flatten(torch.tensor(IMG[0]))", "y")
t.add("unflatten", PT_TORCH_DOCS, """
    x = torch.tensor(IMG).view(2, 3, 64)
    y = x.unflatten(2, (8, 8))
    z = torch.unflatten(torch.tensor(A), 1, (5, 1))
""", "y z")
t.add("squeeze_all_and_dim", TU_INTROYT_TENSORS, """
    a = torch.tensor(V).view(1, 5)
    b = a.squeeze(0)
    c = torch.tensor(A[:2, :2]).squeeze(0)
    d = torch.zeros(2, 1, 2, 1, 2).squeeze()
    e = torch.zeros(2, 1, 2, 1, 2).squeeze(-2)
""", "b c d e")
t.add("squeeze_output_for_one_logit", TU_DQN, """
    out = torch.tensor(A[:, :1])
    y = out.squeeze(1)
    z = torch.squeeze(out)
""", "y z")
t.add("unsqueeze_batch_dim", TU_INTROYT_TENSORS, """
    a = torch.tensor(IMG[0])
    b = a.unsqueeze(0)
    c = torch.unsqueeze(torch.tensor(V), 1)
""", "b c")
t.add("unsqueeze_negative", TU_POLY_NN, """
    x = torch.tensor(V)
    y = x.unsqueeze(-1)
""", "y")
t.add("features_matrix_from_powers", EX_REGRESSION, """
    x = torch.tensor(V)
    x = x.unsqueeze(1)
    feats = torch.cat([x ** i for i in range(1, 5)], 1)
""", "feats")

# --------------------------------------------------------------------- transpose and permute
t.add("permute_chw_to_hwc", TU_DQN, """
    screen = torch.tensor(IMG[:1])
    img = screen.squeeze(0).permute(1, 2, 0)
""", "img")
t.add("permute_tuple_argument", PT_TENSOR_DOCS, "y = torch.tensor(X3).permute((2, 0, 1))", "y")
t.add("transpose_and_T", TU_TENSORQS, """
    tensor = torch.tensor(A)
    a, b, c = tensor.T, tensor.t(), tensor.transpose(0, 1)
    d = torch.transpose(torch.tensor(X3), 1, 2)
""", "a b c d")
t.add("movedim", PT_TORCH_DOCS, """
    x = torch.tensor(X3)
    a, b = torch.movedim(x, 1, 0), x.movedim((1, 2), (0, 1))
""", "a b")
t.add("t_of_3d_raises", PT_TORCH_DOCS, "y = torch.tensor(X3).t()", raises=RuntimeError)
t.add("positional_encoding_unsqueeze_transpose", EX_WLM_MODEL, """
    pe = torch.tensor(A)
    pe = pe.unsqueeze(0).transpose(0, 1)
""", "pe")

# -------------------------------------------------------------------------- expand, repeat
t.add("expand_as_target", EX_IMAGENET, """
    pred = torch.tensor([[1, 0, 4, 2], [0, 1, 2, 3]])
    target = torch.tensor([1, 1, 2, 2])
    correct = pred.eq(target.view(1, -1).expand_as(pred))
""", "correct")
t.add("expand_sizes_and_minus_one", PT_TENSOR_DOCS, """
    x = torch.tensor([[1], [2], [3]])
    a, b = x.expand(3, 4), x.expand(-1, 4)
""", "a b")
t.add("expand_grad_sums", PT_TENSOR_DOCS, """
    b = torch.tensor(V, requires_grad=True)
    b.unsqueeze(0).expand(4, 5).sum().backward()
    g = b.grad
""", "g")
t.add("repeat_and_tile", PT_TORCH_DOCS, """
    x = torch.tensor([1, 2, 3])
    a, b = x.repeat(4, 2), x.repeat(4, 2, 1).size()
    c, d = torch.tile(x, (2,)), torch.tensor([[1, 2], [3, 4]]).tile((2, 2))
""", "a b c d")
t.add("broadcast_to", PT_TORCH_DOCS, "y = torch.broadcast_to(torch.tensor([1, 2, 3]), (3, 3))", "y")

# --------------------------------------------------------------------------- cat and stack
t.add("cat_rows_default_dim", TU_NLP_INTRO, """
    x_1 = torch.tensor(A[:2])
    y_1 = torch.tensor(C[:3])
    z_1 = torch.cat([x_1, y_1])
""", "z_1")
t.add("cat_columns", TU_NLP_INTRO, """
    x_2 = torch.tensor(A[:2, :3])
    y_2 = torch.tensor(C[:2])
    z_2 = torch.cat([x_2, y_2], 1)
""", "z_2")
t.add("cat_dim_keyword_three_times", TU_TENSORQS, """
    tensor = torch.tensor(A)
    t1 = torch.cat([tensor, tensor, tensor], dim=1)
""", "t1")
t.add("cat_tuple_with_zeros_padding", TU_DQN, """
    means = torch.tensor(V)
    means = torch.cat((torch.zeros(3), means))
""", "means")
t.add("concat_alias", PT_TORCH_DOCS, "y = torch.concat((torch.tensor(A), torch.tensor(C)), dim=0)", "y")
t.add("cat_incompatible_raises", TU_NLP_INTRO, """
    x_1 = torch.randn(2, 5)
    x_2 = torch.randn(2, 3)
    z = torch.cat([x_1, x_2])
""", raises=RuntimeError)
t.add("cat_grad_splits", TU_NLP_INTRO, """
    a = torch.tensor(A[:2], requires_grad=True)
    b = torch.tensor(C[:3], requires_grad=True)
    (torch.cat([a, b]) * torch.arange(25.).view(5, 5)).sum().backward()
    ga, gb = a.grad, b.grad
""", "ga gb")
t.add("stack_new_dim", PT_TORCH_DOCS, """
    x, y = torch.tensor(V), torch.tensor(V * 2)
    a, b = torch.stack([x, y]), torch.stack((x, y), dim=1)
""", "a b")
t.add("stack_grad", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    (torch.stack([x, x * 2], dim=1) ** 2).sum().backward()
    g = x.grad
""", "g")

# ------------------------------------------------------------------------- split and chunk
t.add("split_int_and_list", PT_TORCH_DOCS, """
    a = torch.arange(10).reshape(5, 2)
    s1 = torch.split(a, 2)
    s2 = torch.split(a, [1, 4])
""", "s1 s2")
t.add("chunk", PT_TORCH_DOCS, """
    c1 = torch.arange(11).chunk(6)
    c2 = torch.tensor(A).chunk(2, dim=1)
""", "c1 c2")
t.add("split_grad", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    a, b = x.split([2, 3], dim=1)
    (a.sum() * 2 + b.sum() * 3).backward()
    g = x.grad
""", "g")
t.add("narrow", EX_WLM_MAIN, """
    data = torch.arange(10)
    a = data.narrow(0, 0, 8)
    b = torch.narrow(torch.tensor(A), 1, 1, 2)
""", "a b")
t.add("iteration_gives_rows", PT_TENSOR_DOCS, """
    rows = list(torch.tensor(A[:2]))
""", "rows")

# ------------------------------------------------------------ gather, scatter, select, mask
t.add("gather_action_values", TU_DQN, """
    q = torch.tensor(A)
    action_batch = torch.tensor([[1], [0], [4], [2]])
    state_action_values = q.gather(1, action_batch)
""", "state_action_values")
t.add("gather_grad", TU_DQN, """
    q = torch.tensor(A, requires_grad=True)
    q.gather(1, torch.tensor([[1], [0], [4], [1]])).sum().backward()
    g = q.grad
""", "g")
t.add("gather_function_dim0", PT_TORCH_DOCS, """
    t = torch.tensor([[1, 2], [3, 4]])
    g = torch.gather(t, 1, torch.tensor([[0, 0], [1, 0]]))
""", "g")
t.add("scatter_out_of_place", PT_TORCH_DOCS, """
    src = torch.arange(1, 11).reshape((2, 5))
    index = torch.tensor([[0, 1, 2, 0]])
    r = torch.zeros(3, 5, dtype=src.dtype).scatter(0, index, src)
""", "r")
t.add("index_select", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    indices = torch.tensor([0, 2])
    a, b = torch.index_select(x, 0, indices), x.index_select(1, indices)
""", "a b")
t.add("masked_fill_out_of_place", EX_WLM_MODEL, """
    sz = 4
    mask = (torch.triu(torch.ones(sz, sz)) == 1).transpose(0, 1)
    mask = mask.float().masked_fill(mask == 0, float('-inf')).masked_fill(mask == 1, float(0.0))
""", "mask")
t.add("masked_select", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    r = torch.masked_select(x, x.ge(0.5))
""", "r")
t.add("masked_fill_grad", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    x.masked_fill(x < 0, 0.0).sum().backward()
    g = x.grad
""", "g")

# --------------------------------------------------------------------------- reorderings
t.add("flip", PT_TORCH_DOCS, """
    x = torch.arange(8).view(2, 2, 2)
    a, b = torch.flip(x, [0, 1]), x.flip(-1)
""", "a b")
t.add("roll", PT_TORCH_DOCS, """
    x = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8]).view(4, 2)
    a, b, c = torch.roll(x, 1), torch.roll(x, 1, 0), x.roll(shifts=(2, 1), dims=(0, 1))
""", "a b c")
t.add("tril_triu", PT_TORCH_DOCS, """
    x = torch.tensor(A[:4, :4])
    a, b, c = torch.tril(x), torch.triu(x, diagonal=1), x.tril(-1)
""", "a b c")
t.add("triu_subsequent_mask", EX_WLM_MODEL, """
    sz = 4
    m = torch.triu(torch.ones(sz, sz) * float('-inf'), diagonal=1)
""", "m")
t.add("meshgrid_ij", PT_TORCH_DOCS, """
    x = torch.tensor([1, 2, 3])
    y = torch.tensor([4, 5, 6, 7])
    grid_x, grid_y = torch.meshgrid(x, y, indexing='ij')
    gx, gy = torch.meshgrid(x, y, indexing='xy')
""", "grid_x grid_y gx gy")

# ----------------------------------------------------------------------- gradients of views
t.add("grad_through_view_permute_transpose", PT_TENSOR_DOCS, """
    x = torch.tensor(X3, requires_grad=True)
    y = x.view(2, 12).t().reshape(4, 6).permute(1, 0)
    (y * torch.arange(24.).view(6, 4)).sum().backward()
    g = x.grad
""", "g")
t.add("grad_through_squeeze_unsqueeze_flatten", PT_TENSOR_DOCS, """
    x = torch.tensor(IMG, requires_grad=True)
    y = torch.flatten(x.unsqueeze(0).squeeze(0), 1)
    (y ** 2).sum().backward()
    g = x.grad
""", "g")
t.add("cat_of_empty_list_raises", PT_TORCH_DOCS, "y = torch.cat([])", raises=ValueError)
t.add("stack_of_mismatched_shapes_raises", PT_TORCH_DOCS, """
    y = torch.stack([torch.zeros(2, 3), torch.zeros(3, 2)])
""", raises=RuntimeError)
t.add("view_two_inferred_dims_raises", PT_TENSOR_DOCS, "y = torch.tensor(A).view(-1, -1)", raises=RuntimeError)
t.add("permute_repeated_dim_raises", PT_TENSOR_DOCS, "y = torch.tensor(A).permute(0, 0)", raises=RuntimeError)
t.add("squeeze_dim_out_of_range_raises", PT_TENSOR_DOCS, "y = torch.tensor(A).squeeze(5)", raises=IndexError)
t.add("sum_dim_out_of_range_raises", PT_TORCH_DOCS, "y = torch.tensor(A).sum(dim=5)", raises=IndexError)
t.add("ragged_nested_list_raises", PT_TORCH_DOCS, "y = torch.tensor([[1, 2], [3]])", raises=ValueError)
t.add("iterating_zero_dim_raises", PT_TENSOR_DOCS, """
    for v in torch.tensor(1.5):
        pass
""", raises=TypeError)
t.add("contains_operator", PT_TENSOR_DOCS, """
    x = torch.tensor([1, 2, 3])
    r = [2 in x, 7 in x]
""", "r")
