"""Indexing and ``__setitem__``: int, slice, ellipsis, None, boolean masks, integer tensors and lists, and
gradients through them."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_IMAGENET,
    EX_REGRESSION,
    EX_WLM_MAIN,
    EX_WLM_MODEL,
    PT_TENSOR_DOCS,
    TU_BLITZ_CIFAR,
    TU_BUILDMODEL,
    TU_CHAR_RNN,
    TU_DQN,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_NLP_INTRO,
    TU_POLY_NN,
    TU_TENSORQS,
    TU_TWO_LAYER_FUNCTION,
    TU_TWO_LAYER_TENSOR,
)

t = Table("indexing")

# ---------------------------------------------------------------------------------- reading
t.add("int_index_row", TU_TENSORQS, """
    tensor = torch.tensor(A)
    first_row = tensor[0]
""", "first_row")
t.add("slice_column", TU_TENSORQS, """
    tensor = torch.tensor(A)
    first_column = tensor[:, 0]
""", "first_column")
t.add("ellipsis_last_column", TU_TENSORQS, """
    tensor = torch.tensor(A)
    last_column = tensor[..., -1]
""", "last_column")
t.add("index_3d_gives_matrix_vector_scalar", TU_NLP_INTRO, """
    T = torch.tensor(X3)
    m, v, s = T[0], T[0][1], T[0][1][2]
""", "m v s")
t.add("negative_index_and_step_slice", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    a, b = x[-1], x[1:3, ::2]
""", "a b")
t.add("none_adds_dimension", PT_TENSOR_DOCS, """
    x = torch.tensor(V)
    a, b = x[None], x[:, None]
""", "a b")
t.add("none_and_ellipsis_mixed", PT_TENSOR_DOCS, """
    x = torch.tensor(X3)
    y = x[..., None, 1:]
""", "y")
t.add("chained_index_of_weight_slice", TU_INTROYT_AUTOGRAD, """
    w = torch.tensor(B)
    row = w[0][0:2]
""", "row")
t.add("parameter_slice_first_rows", TU_BUILDMODEL, """
    param = nn.Parameter(torch.tensor(A))
    head = param[:2]
""", "head")
t.add("scalar_weight_by_column", TU_POLY_NN, """
    weight = torch.tensor([[0.5, -1.5, 2.0]])
    w0, w1 = weight[:, 0].item(), weight[:, 1].item()
""", "w0 w1")
t.add("zero_dim_int_tensor_as_index", TU_BLITZ_CIFAR, """
    classes = ('plane', 'car', 'bird', 'cat', 'deer')
    labels = torch.tensor(LABELS)
    names = [classes[labels[j]] for j in range(4)]
""", "names")
t.add("bool_mask_select", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    pos = x[x > 0]
""", "pos")
t.add("bool_mask_rows", TU_DQN, """
    x = torch.tensor(A)
    mask = torch.tensor([True, False, True, True])
    rows = x[mask]
""", "rows")
t.add("long_tensor_index_rows", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    idx = torch.tensor([2, 0, 2])
    rows = x[idx]
""", "rows")
t.add("list_index_rows", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    rows = x[[0, 3]]
""", "rows")
t.add("range_and_tensor_pair_index", EX_FF, """
    x = torch.tensor(A)
    y = torch.tensor([1, 0, 4, 2])
    picked = x[range(x.shape[0]), y]
""", "picked")
t.add("two_long_tensors_pair_index", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    picked = x[torch.tensor([0, 1, 3]), torch.tensor([4, 4, 0])]
""", "picked")
t.add("long_tensor_2d_index_gathers_rows", PT_TENSOR_DOCS, """
    x = torch.tensor(V)
    picked = x[torch.tensor([[0, 1], [4, 3]])]
""", "picked")
t.add("index_random_allowed_choice", EX_FF, """
    allowed_indices = list(range(10))
    allowed_indices.remove(3)
    pick = torch.tensor(allowed_indices)[torch.tensor([4])].item()
""", "pick")
t.add("slice_of_batch_for_batchify", EX_WLM_MAIN, """
    source = torch.arange(20).view(10, 2)
    i, bptt = 4, 3
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
""", "data target")
t.add("positional_encoding_slice", EX_WLM_MODEL, """
    pe = torch.tensor(X3).transpose(0, 1)
    x = torch.ones(2, 2, 4)
    y = x + pe[:x.size(0), :]
""", "y")
t.add("index_out_of_range_raises", PT_TENSOR_DOCS, "x = torch.tensor(A)[4]", raises=IndexError)
t.add("too_many_indices_raises", PT_TENSOR_DOCS, "x = torch.tensor(V)[0, 1]", raises=IndexError)
t.add("float_index_raises", PT_TENSOR_DOCS, "x = torch.tensor(V)[1.5]", raises=IndexError)
t.add("negative_step_raises", PT_TENSOR_DOCS, "x = torch.tensor(V)[::-1]", raises=ValueError,
      note="torch refuses negative steps (use flip); NumPy would silently reverse")
t.add("index_result_is_view", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    row = x[1]
    row[0] = 100.0
""", "x")

# ---------------------------------------------------------------------------------- writing
t.add("setitem_column_zero", TU_TENSORQS, """
    tensor = torch.ones(4, 4)
    tensor[:,1] = 0
""", "tensor")
t.add("setitem_alias_sees_change", TU_INTROYT_TENSORS, """
    a = torch.ones(2, 2)
    b = a
    a[0][1] = 561
""", "b")
t.add("setitem_clone_does_not_see_change", TU_INTROYT_TENSORS, """
    a = torch.ones(2, 2)
    b = a.clone()
    a[0][1] = 561
""", "a b")
t.add("setitem_bool_mask_scalar", TU_TWO_LAYER_TENSOR, """
    h = torch.tensor(A)
    grad_h = torch.tensor(C)
    grad_h[h < 0] = 0
""", "grad_h")
t.add("setitem_bool_mask_tensor_values", TU_DQN, """
    next_state_values = torch.zeros(4)
    non_final_mask = torch.tensor([True, False, True, True])
    next_state_values[non_final_mask] = torch.tensor([1.5, 2.5, 3.5])
""", "next_state_values")
t.add("setitem_bool_mask_from_max", TU_DQN, """
    next_state_values = torch.zeros(4)
    non_final_mask = torch.tensor([True, False, True, False])
    q = torch.tensor(A[:2])
    next_state_values[non_final_mask] = q.max(1)[0].detach()
""", "next_state_values")
t.add("setitem_slice_from_tensor_step", EX_WLM_MODEL, """
    pe = torch.zeros(6, 4)
    position = torch.arange(0, 6, dtype=torch.float).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, 4, 2).float() * (-math.log(10000.0) / 4))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
""", "pe")
t.add("setitem_pair_index_with_scalar_tensor", EX_FF, """
    x = torch.tensor(A)
    y = torch.tensor([1, 0, 4, 2])
    x_ = x.clone()
    x_[:, :3] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
""", "x_")
t.add("setitem_long_tensor_index", PT_TENSOR_DOCS, """
    x = torch.zeros(5)
    x[torch.tensor([0, 3])] = torch.tensor([1.0, 2.0])
""", "x")
t.add("setitem_int_entry_then_read", EX_FF, """
    y_neg = torch.tensor([3, 1, 4, 1])
    y_neg[2] = torch.tensor([7, 8, 9])[1].item()
""", "y_neg")
t.add("setitem_one_hot_in_nested_index", TU_CHAR_RNN, """
    tensor = torch.zeros(3, 1, 5)
    for li, letter in enumerate([2, 0, 4]):
        tensor[li][0][letter] = 1
""", "tensor")
t.add("setitem_ellipsis", PT_TENSOR_DOCS, """
    x = torch.tensor(X3)
    x[..., 0] = -1.0
""", "x")
t.add("setitem_broadcast_row", PT_TENSOR_DOCS, """
    x = torch.zeros(3, 4)
    x[1:] = torch.tensor([1.0, 2.0, 3.0, 4.0])
""", "x")
t.add("setitem_casts_to_tensor_dtype", PT_TENSOR_DOCS, """
    x = torch.zeros(3, dtype=torch.int64)
    x[0] = 2.7
    y = torch.zeros(3)
    y[1] = torch.tensor(5)
""", "x y")
t.add("setitem_into_view_changes_base", PT_TENSOR_DOCS, """
    x = torch.zeros(4, 4)
    y = x.view(16)
    y[5] = 3.0
""", "x")
t.add("setitem_wrong_shape_raises", PT_TENSOR_DOCS, """
    x = torch.zeros(3, 4)
    x[0] = torch.ones(3)
""", raises=RuntimeError)
t.add("setitem_on_leaf_requiring_grad_raises", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    a[0] = 1.0
""", raises=RuntimeError)
t.add("setitem_on_leaf_under_no_grad", TU_TWO_LAYER_FUNCTION, """
    w = torch.tensor(A, requires_grad=True)
    with torch.no_grad():
        w[0] = 0.0
    flag = w.requires_grad
""", "w flag")

# ------------------------------------------------------------------------------ gradients
t.add("grad_through_slice", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(A, requires_grad=True)
    x[:, 1:3].sum().backward()
    g = x.grad
""", "g")
t.add("grad_through_int_index_twice", PT_TENSOR_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    (x[0] * x[0] + 3 * x[2]).backward()
    g = x.grad
""", "g")
t.add("grad_through_repeated_long_index_accumulates", PT_TENSOR_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    x[torch.tensor([0, 0, 3])].sum().backward()
    g = x.grad
""", "g")
t.add("grad_through_bool_mask", PT_TENSOR_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    (x[x > 0] ** 2).sum().backward()
    g = x.grad
""", "g")
t.add("grad_through_pair_index", EX_IMAGENET, """
    x = torch.tensor(A, requires_grad=True)
    x[range(4), torch.tensor([1, 0, 4, 2])].sum().backward()
    g = x.grad
""", "g")
t.add("grad_through_setitem_on_nonleaf", EX_WLM_MODEL, """
    w = torch.tensor(V, requires_grad=True)
    y = w * 2
    y[1] = 0.0
    y.sum().backward()
    g = w.grad
""", "g")
t.add("grad_of_value_written_by_setitem", PT_TENSOR_DOCS, """
    v = torch.tensor(W, requires_grad=True)
    x = torch.zeros(3, 3)
    x[1] = v * 3
    (x ** 2).sum().backward()
    g = v.grad
""", "g")
t.add("index_in_regression_poly_desc", EX_REGRESSION, """
    b = torch.tensor([1.25])
    text = '{:+.2f}'.format(b[0])
""", "text")
