"""Linear algebra: ``mm``/``bmm``/``matmul``/``@``, ``einsum``, ``outer``/``dot``, ``linalg.norm``, and
their gradients."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_REGRESSION,
    EX_STYLE,
    PT_EXTENDING,
    PT_TORCH_DOCS,
    TU_AUTOGRADQS,
    TU_INTROYT_TENSORS,
    TU_POLY_TENSOR,
    TU_TENSORQS,
    TU_TWO_LAYER_TENSOR,
)

t = Table("linalg")

t.add("matmul_operator_method_function", TU_TENSORQS, """
    tensor = torch.tensor(A)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.matmul(tensor, tensor.T)
""", "y1 y2 y3")
t.add("matmul_vector_matrix", TU_AUTOGRADQS, """
    x = torch.ones(5)
    w = torch.tensor(B)
    b = torch.tensor(W)
    z = torch.matmul(x, w) + b
""", "z")
t.add("matmul_keyword_arguments", TU_POLY_TENSOR, """
    grad_y_pred = torch.tensor(V)
    x = torch.tensor(V * 2)
    g = torch.matmul(input=grad_y_pred, other=x).sum()
""", "g")
t.add("matmul_matrix_vector_and_dot", PT_TORCH_DOCS, """
    a = torch.matmul(torch.tensor(A), torch.tensor(V))
    b = torch.matmul(torch.tensor(V), torch.tensor(V))
""", "a b")
t.add("matmul_batched_broadcast", PT_TORCH_DOCS, """
    a = torch.matmul(torch.tensor(X3), torch.tensor(A))
    b = torch.matmul(torch.tensor(X3), torch.tensor(A[:, :3]).view(1, 4, 3))
""", "a b")
t.add("mm_two_layer_net", TU_TWO_LAYER_TENSOR, """
    x = torch.tensor(A)
    w1 = torch.tensor(B)
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    grad_w1 = x.t().mm(torch.tensor(C[:, :3]))
""", "h h_relu grad_w1")
t.add("mm_function", PT_TORCH_DOCS, "y = torch.mm(torch.tensor(A), torch.tensor(B))", "y")
t.add("mm_regression_target", EX_REGRESSION, """
    W_target = torch.tensor(B[:4, :1])
    b_target = torch.tensor([0.75])
    x = torch.tensor(A[:, :4])
    y = x.mm(W_target) + b_target.item()
""", "y")
t.add("mm_with_transposed_weight", EX_FF, """
    x = torch.tensor(A)
    weight = torch.tensor(C[:3])
    bias = torch.tensor(W)
    out = torch.mm(x, weight.T) + bias.unsqueeze(0)
""", "out")
t.add("mm_shape_mismatch_raises", PT_TORCH_DOCS, "y = torch.mm(torch.tensor(A), torch.tensor(A))",
      raises=RuntimeError)
t.add("bmm_gram_matrix", EX_STYLE, """
    y = torch.tensor(IMG)
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
""", "gram")
t.add("bmm_function", PT_TORCH_DOCS, """
    r = torch.bmm(torch.tensor(X3), torch.tensor(X3).transpose(1, 2))
""", "r")
t.add("einsum_patterns", PT_TORCH_DOCS, """
    x, y = torch.tensor(A), torch.tensor(B)
    a = torch.einsum('ij,jk->ik', x, y)
    b = torch.einsum('i,i->', torch.tensor(V), torch.tensor(V))
    c = torch.einsum('bij,bjk->bik', torch.tensor(X3), torch.tensor(X3).transpose(1, 2))
    d = torch.einsum('ii', torch.tensor(A[:4, :4]))
""", "a b c d")
t.add("einsum_operand_list", PT_TORCH_DOCS, """
    r = torch.einsum('i,j->ij', [torch.tensor(V), torch.tensor(W)])
""", "r")
t.add("outer_and_dot", PT_TORCH_DOCS, """
    a = torch.outer(torch.tensor(V), torch.tensor(W))
    b = torch.dot(torch.tensor([2, 3]), torch.tensor([2, 1]))
    c = torch.tensor(V).dot(torch.tensor(V))
""", "a b c")
t.add("t_function_and_transpose_function", PT_TORCH_DOCS, """
    a = torch.t(torch.tensor(A))
    b = torch.transpose(torch.tensor(A), 0, 1)
    c = torch.t(torch.tensor(V))
""", "a b c")
t.add("linalg_norm_vector_matrix", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a = torch.linalg.norm(x)
    b = torch.linalg.norm(x, dim=1)
    c = torch.linalg.norm(torch.tensor(V), ord=1)
    d = torch.linalg.norm(x, ord='fro')
""", "a b c d")
t.add("matmul_of_identity_scaled", TU_INTROYT_TENSORS, """
    m1 = torch.tensor(A[:2, :2])
    m2 = torch.tensor([[3., 0.], [0., 3.]])
    m3 = torch.matmul(m1, m2)
""", "m3")
t.add("grad_of_matmul", TU_AUTOGRADQS, """
    x = torch.ones(5)
    w = torch.tensor(B, requires_grad=True)
    b = torch.tensor(W, requires_grad=True)
    z = torch.matmul(x, w) + b
    (z ** 2).sum().backward()
    gw, gb = w.grad, b.grad
""", "gw gb")
t.add("grad_of_bmm_and_einsum", EX_STYLE, """
    y = torch.tensor(X3, requires_grad=True)
    gram = y.bmm(y.transpose(1, 2))
    e = torch.einsum('bij->b', gram)
    e.sum().backward()
    g = y.grad
""", "g")
t.add("grad_of_linear_function_style", PT_EXTENDING, """
    input = torch.tensor(A, requires_grad=True)
    weight = torch.tensor(C[:3], requires_grad=True)
    output = input.mm(weight.t())
    output.sum().backward()
    gi, gw = input.grad, weight.grad
""", "gi gw")
