"""In-place operators and methods, ``out=``, memory sharing, the manual-update idioms under ``no_grad``,
and autograd's checks on in-place changes (leaf tensors, version counters)."""

from .harness import Table
from .sources import (
    EX_DCGAN,
    EX_FF,
    EX_IMAGENET,
    EX_REGRESSION,
    EX_STYLE,
    EX_WLM_GENERATE,
    EX_WLM_MAIN,
    PT_EXTENDING,
    PT_TENSOR_DOCS,
    PT_TORCH_DOCS,
    TU_AUTOGRADQS,
    TU_BLITZ_AUTOGRAD,
    TU_BLITZ_NN,
    TU_BLITZ_TENSOR,
    TU_DQN,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_POLY_AUTOGRAD,
    TU_POLY_FUNCTION,
    TU_POLY_NN,
    TU_POLY_TENSOR,
    TU_TENSORQS,
    TU_TRANSFORMS,
    TU_TWO_LAYER_FUNCTION,
    TU_TWO_LAYER_TENSOR,
    TU_ZEROING,
)

t = Table("inplace")

# ------------------------------------------------------------------------ methods with a _ suffix
t.add("add_mutates_and_returns_self", TU_INTROYT_TENSORS, """
    a = torch.ones(2, 2)
    b = torch.tensor(A[:2, :2])
    r = a.add_(b)
    same = r is a
""", "a same")
t.add("mul_self", TU_INTROYT_TENSORS, """
    b = torch.tensor(A[:2, :2])
    b.mul_(b)
""", "b")
t.add("add_scalar_inplace", TU_TENSORQS, """
    tensor = torch.ones(4, 4)
    tensor.add_(5)
""", "tensor")
t.add("torch_sin_inplace_function", TU_INTROYT_TENSORS, """
    b = torch.tensor([0, math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    r = torch.sin_(b)
""", "b r")
t.add("sub_inplace_with_alpha", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    x.sub_(torch.tensor(C), alpha=0.5)
""", "x")
t.add("div_inplace_by_255", EX_STYLE, """
    batch = torch.tensor(POS * 255)
    batch = batch.div_(255.0)
""", "batch")
t.add("mul_inplace_percent", EX_IMAGENET, """
    correct_k = torch.tensor([3.0])
    correct_k.mul_(100.0 / 4)
""", "correct_k")
t.add("pow_exp_sqrt_inplace", PT_TENSOR_DOCS, """
    a = torch.tensor(POS)
    a.pow_(2)
    b = torch.tensor(A)
    b.exp_()
    c = torch.tensor(POS)
    c.sqrt_()
""", "a b c")
t.add("clamp_inplace_grad", TU_DQN, """
    g = torch.tensor(A * 3)
    g.clamp_(-1, 1)
""", "g")
t.add("copy_inplace", PT_TENSOR_DOCS, """
    x = torch.zeros(4, 5)
    x.copy_(torch.tensor(A))
    y = torch.zeros(4, 5, dtype=torch.float64)
    y.copy_(torch.tensor(I))
""", "x y")
t.add("copy_broadcasts_source", PT_TENSOR_DOCS, """
    x = torch.zeros(4, 5)
    x.copy_(torch.tensor(V))
""", "x")
t.add("fill_inplace", EX_DCGAN, """
    label = torch.zeros(4)
    label.fill_(1)
    bias = torch.tensor(V)
    bias.fill_(0)
""", "label bias")
t.add("fill_with_zero_dim_tensor", EX_WLM_GENERATE, """
    input = torch.zeros(1, 1, dtype=torch.long)
    word_idx = torch.tensor([2, 7])[1]
    input.fill_(word_idx)
""", "input")
t.add("zero_inplace", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    r = x.zero_()
    same = r is x
""", "x same")
t.add("normal_inplace", EX_DCGAN, """
    w = torch.zeros(16, 3, 4, 4)
    w.normal_(0.0, 0.02)
    ok = abs(w.std().item() - 0.02) < 0.005
""", "w ok", random=True)
t.add("uniform_inplace", PT_EXTENDING, """
    w = torch.empty(30, 20)
    w.uniform_(-0.1, 0.1)
    ok = bool((w.abs() <= 0.1).all())
""", "w ok", random=True)
t.add("bernoulli_inplace", PT_TENSOR_DOCS, """
    m = torch.empty(100)
    m.bernoulli_(0.5)
    ok = bool(((m == 0) | (m == 1)).all())
""", "m ok", random=True)
t.add("masked_fill_inplace", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    x.masked_fill_(x < 0, 0.0)
""", "x")
t.add("index_put_inplace", PT_TENSOR_DOCS, """
    x = torch.zeros(3, 3)
    x.index_put_((torch.tensor([0, 2]), torch.tensor([1, 1])), torch.tensor([5.0, 6.0]))
""", "x")
t.add("index_put_accumulate", PT_TENSOR_DOCS, """
    x = torch.zeros(3)
    x.index_put_((torch.tensor([0, 0, 2]),), torch.tensor([1.0, 2.0, 3.0]), accumulate=True)
""", "x")
t.add("scatter_one_hot_target_transform", TU_TRANSFORMS, """
    y = 3
    one_hot = torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)
""", "one_hot")
t.add("scatter_rows_one_hot", PT_TENSOR_DOCS, """
    labels = torch.tensor(LABELS)
    onehot = torch.zeros(4, 5).scatter_(1, labels.unsqueeze(1), 1.0)
""", "onehot")
t.add("unsqueeze_inplace", TU_INTROYT_TENSORS, """
    batch_me = torch.tensor(X3)
    batch_me.unsqueeze_(0)
    shape = batch_me.shape
""", "shape")
t.add("transpose_inplace_t_", TU_BLITZ_TENSOR, """
    x = torch.tensor(A)
    x.t_()
""", "x")
t.add("add_inplace_broadcast_bias", PT_EXTENDING, """
    output = torch.tensor(A)
    bias = torch.tensor(V)
    output += bias.unsqueeze(0).expand_as(output)
""", "output")

# ------------------------------------------------------------------------------- operators
t.add("iadd_keeps_identity", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    before = id(x)
    x += 1
    same = id(x) == before
""", "x same")
t.add("isub_imul_itruediv", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    y = x
    x -= 1
    x *= 2
    x /= 4
    same = y is x
""", "y same")
t.add("imatmul", PT_TENSOR_DOCS, """
    x = torch.tensor(A[:3, :3])
    x @= torch.tensor(B[:3, :3])
""", "x")
t.add("isub_on_view_changes_base", PT_TENSOR_DOCS, """
    x = torch.tensor(A)
    row = x[0]
    row -= 10
""", "x")
t.add("manual_update_tensor_weights", TU_POLY_TENSOR, """
    a = torch.tensor(1.0)
    before = id(a)
    grad_a = torch.tensor(2000.0)
    learning_rate = 1e-6
    a -= learning_rate * grad_a
    same = id(a) == before
""", "a same")
t.add("manual_update_weights_two_layer", TU_TWO_LAYER_TENSOR, """
    w1 = torch.tensor(B)
    grad_w1 = torch.tensor(B * 100)
    w1 -= 1e-3 * grad_w1
""", "w1")

# -------------------------------------------------------------- the update idioms under no_grad
t.add("no_grad_update_of_leaf_keeps_it", TU_POLY_AUTOGRAD, """
    a = torch.tensor(0.5, requires_grad=True)
    x = torch.tensor(V)
    loss = (a * x - 1).pow(2).sum()
    loss.backward()
    before = id(a)
    with torch.no_grad():
        a -= 1e-2 * a.grad
    same = id(a) == before
    flag = a.requires_grad
    leaf = a.is_leaf
""", "a same flag leaf")
t.add("no_grad_update_then_grad_none", TU_POLY_AUTOGRAD, """
    a = torch.tensor(0.5, requires_grad=True)
    (a * 3).backward()
    with torch.no_grad():
        a -= 0.1 * a.grad
        a.grad = None
    g = a.grad
    (a * 3).backward()
    g2 = a.grad
""", "a g g2")
t.add("no_grad_update_then_grad_zero_", TU_TWO_LAYER_FUNCTION, """
    w1 = torch.tensor(B, requires_grad=True)
    x = torch.tensor(A)
    loss = x.mm(w1).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w1 -= 1e-3 * w1.grad
        w1.grad.zero_()
    g = w1.grad
""", "w1 g")
t.add("no_grad_update_trains_polynomial", TU_POLY_AUTOGRAD, """
    x = torch.linspace(-math.pi, math.pi, 200)
    y = torch.sin(x)
    a = torch.tensor(0.1, requires_grad=True)
    b = torch.tensor(0.2, requires_grad=True)
    c = torch.tensor(-0.1, requires_grad=True)
    d = torch.tensor(0.05, requires_grad=True)
    losses = []
    for t in range(50):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= 1e-6 * a.grad
            b -= 1e-6 * b.grad
            c -= 1e-6 * c.grad
            d -= 1e-6 * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    decreased = losses[-1] < losses[0]
""", "a b c d decreased", rtol=1e-3)
t.add("no_grad_update_of_module_parameters", TU_POLY_NN, """
    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.1, -0.2, 0.3]]))
        model.bias.fill_(0.5)
    xx = torch.tensor(A[:, :3])
    loss = model(xx).pow(2).sum()
    model.zero_grad()
    loss.backward()
    params_before = [id(p) for p in model.parameters()]
    with torch.no_grad():
        for param in model.parameters():
            param -= 1e-2 * param.grad
    same = [id(p) for p in model.parameters()] == params_before
    w, b = model.weight, model.bias
""", "w b same")
t.add("no_grad_update_keeps_optimizer_state", PT_TORCH_DOCS, """
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.tensor(A[:, :3])).sum().backward()
    opt.step()
    with torch.no_grad():
        model.weight -= 0.01 * model.weight.grad
    still_known = model.weight in opt.state
    n_state = len(opt.state)
""", "still_known n_state")
t.add("data_sub_inplace_update", TU_BLITZ_NN, """
    f = nn.Parameter(torch.tensor(A))
    (f * torch.tensor(C)).sum().backward()
    learning_rate = 0.01
    f.data.sub_(f.grad.data * learning_rate)
""", "f")
t.add("data_add_inplace_with_alpha", EX_WLM_MAIN, """
    p = nn.Parameter(torch.tensor(A))
    (p ** 2).sum().backward()
    lr = 0.5
    p.data.add_(p.grad, alpha=-lr)
""", "p")
t.add("data_add_inplace_legacy_signature", EX_WLM_MAIN, """
    p = nn.Parameter(torch.tensor(A))
    (p ** 2).sum().backward()
    lr = 0.5
    p.data.add_(-lr, p.grad.data)
""", "p")
t.add("grad_data_clamp_inplace", TU_DQN, """
    p = nn.Parameter(torch.tensor(A))
    (p * 5).sum().backward()
    p.grad.data.clamp_(-1, 1)
    g = p.grad
""", "g")
t.add("param_add_inplace_outside_no_grad_raises", EX_REGRESSION, """
    fc = nn.Linear(4, 1)
    fc(torch.tensor(A[:, :4])).sum().backward()
    for param in fc.parameters():
        param.add_(-0.1 * param.grad)
""", raises=RuntimeError)
t.add("param_data_add_inplace", EX_REGRESSION, """
    fc = nn.Linear(4, 1)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
        fc.bias.zero_()
    fc(torch.tensor(A[:, :4])).sum().backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)
    w, b = fc.weight, fc.bias
""", "w b")

# ----------------------------------------------------------------------------- Tensor.data
t.add("data_is_tensor_sharing_memory", TU_BLITZ_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    d = x.data
    is_tensor = isinstance(d, torch.Tensor)
    flag = d.requires_grad
    d.fill_(0)
""", "x is_tensor flag")
t.add("data_norm_in_loop", TU_BLITZ_AUTOGRAD, """
    x = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)
    y = x * 2
    n = 0
    while y.data.norm() < 1000:
        y = y * 2
        n += 1
""", "y n")
t.add("data_normal_weight_init", EX_DCGAN, """
    conv = nn.Conv2d(3, 4, 3)
    conv.weight.data.normal_(0.0, 0.02)
    flag = conv.weight.requires_grad
    shape = conv.weight.shape
""", "flag shape")
t.add("data_mean_item", EX_DCGAN, """
    output = torch.tensor(PROB, requires_grad=True) * 1
    D_x = output.data.mean()
""", "D_x")

# ------------------------------------------------------------------------- out= and sharing
t.add("add_out_argument", TU_BLITZ_TENSOR, """
    x, y = torch.tensor(A), torch.tensor(C)
    result = torch.empty(4, 5)
    torch.add(x, y, out=result)
""", "result")
t.add("matmul_out_returns_out", TU_INTROYT_TENSORS, """
    a, b = torch.tensor(A[:2, :2]), torch.tensor(C[:2, :2])
    c = torch.zeros(2, 2)
    old_id = id(c)
    d = torch.matmul(a, b, out=c)
    same = (c is d) and id(c) == old_id
""", "c same")
t.add("mul_out_argument", TU_TENSORQS, """
    tensor = torch.tensor(A)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
""", "z3")
t.add("rand_out_argument", TU_INTROYT_TENSORS, """
    c = torch.zeros(2, 2)
    old_id = id(c)
    torch.rand(2, 2, out=c)
    same = id(c) == old_id
""", "c same", random=True)
t.add("numpy_view_sees_inplace_add", TU_TENSORQS, """
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
""", "t n")
t.add("detach_shares_memory", TU_AUTOGRADQS, """
    x = torch.tensor(V, requires_grad=True)
    y = x.detach()
    y.zero_()
""", "x")
t.add("view_shares_memory", TU_BLITZ_TENSOR, """
    x = torch.tensor(A)
    y = x.view(20)
    x.mul_(2)
""", "y")

# ----------------------------------------------------------------- autograd's in-place checks
t.add("inplace_on_leaf_requiring_grad_raises", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    torch.sin_(a)
""", raises=RuntimeError)
t.add("iadd_on_leaf_requiring_grad_raises", TU_POLY_AUTOGRAD, """
    a = torch.tensor(0.5, requires_grad=True)
    a -= 0.1
""", raises=RuntimeError)
t.add("inplace_on_saved_output_then_backward_raises", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()
""", raises=RuntimeError)
t.add("inplace_on_saved_input_then_backward_raises", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    h = x * 2
    y = h ** 2
    h.mul_(3)
    y.sum().backward()
""", raises=RuntimeError)
t.add("inplace_on_nonleaf_not_saved_is_fine", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.sum().backward()
    g = x.grad
    out = y
""", "g out")
t.add("relu_inplace_in_graph", EX_DCGAN, """
    x = torch.tensor(A, requires_grad=True)
    h = x * 1.5
    y = F.relu(h, inplace=True)
    y.sum().backward()
    g = x.grad
""", "y g")
t.add("leaky_relu_inplace_module", EX_DCGAN, """
    x = torch.tensor(A, requires_grad=True)
    h = x * 1.0
    y = nn.LeakyReLU(0.2, inplace=True)(h)
    y.sum().backward()
    g = x.grad
""", "y g")
t.add("inplace_clone_in_custom_backward_style", TU_TWO_LAYER_FUNCTION, """
    grad_output = torch.tensor(C)
    input = torch.tensor(A)
    grad_input = grad_output.clone()
    grad_input[input < 0] = 0
    unchanged = grad_output
""", "grad_input unchanged")
t.add("overlay_inplace_on_clone", EX_FF, """
    x = torch.tensor(A)
    x_ = x.clone()
    x_[:, :3] *= 0.0
""", "x x_")
t.add("no_grad_decorated_full_fill", TU_POLY_FUNCTION, """
    b = torch.full((), -1.0, requires_grad=True)
    with torch.no_grad():
        b.fill_(2.0)
    flag = b.requires_grad
""", "b flag")
t.add("inplace_on_view_of_nonleaf_keeps_gradient", PT_TENSOR_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    b = a * 2
    b[1:3].mul_(3)
    b.sum().backward()
    g = a.grad
""", "b g")
t.add("inplace_on_view_of_leaf_requiring_grad_raises", TU_INTROYT_AUTOGRAD, """
    w = torch.tensor(V, requires_grad=True)
    w[0:2].mul_(2)
""", raises=RuntimeError)
t.add("augmented_setitem_with_repeated_indices_does_not_accumulate", PT_TENSOR_DOCS, """
    x = torch.zeros(3)
    x[torch.tensor([0, 0, 1])] += 1
""", "x")
t.add("zero_grad_set_to_none_false_keeps_zero_tensors", TU_ZEROING, """
    net = nn.Linear(5, 3)
    net(torch.tensor(A)).sum().backward()
    opt = optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad(set_to_none=False)
    g = net.weight.grad
    net.zero_grad(set_to_none=False)
    gb = net.bias.grad
""", "g gb")
