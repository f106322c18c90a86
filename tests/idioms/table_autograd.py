"""Autograd: ``backward`` (with gradients, twice, accumulating), leaves and ``retain_grad``, ``no_grad`` and
friends, ``detach``, ``requires_grad_``, tensor hooks, ``torch.autograd.grad``."""

from .harness import Table
from .sources import (
    EX_WLM_MAIN,
    PT_EXTENDING,
    PT_TENSOR_DOCS,
    PT_TORCH_DOCS,
    TU_AUTOGRADQS,
    TU_BLITZ_AUTOGRAD,
    TU_BLITZ_NN,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_NLP_INTRO,
    TU_OPTIMIZATION,
    TU_POLY_AUTOGRAD,
    TU_ZEROING,
)

t = Table("autograd")

# ------------------------------------------------------------------------------- backward
t.add("backward_of_mean_gives_4_5", TU_BLITZ_AUTOGRAD, """
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    out.backward()
    g = x.grad
""", "z out g")
t.add("backward_with_gradient_argument", TU_BLITZ_AUTOGRAD, """
    x = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    y.backward(gradients)
    g = x.grad
""", "g")
t.add("backward_of_nonscalar_without_gradient_raises", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    y = x * 2
    y.backward()
""", raises=RuntimeError)
t.add("backward_retain_graph_accumulates", TU_AUTOGRADQS, """
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    out.backward(torch.ones_like(out), retain_graph=True)
    second = inp.grad.clone()
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    third = inp.grad
""", "first second third")
t.add("backward_twice_without_retain_raises", TU_AUTOGRADQS, """
    x = torch.tensor(V, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    y.backward()
""", raises=RuntimeError)
t.add("backward_accumulates_over_steps", TU_INTROYT_AUTOGRAD, """
    w = torch.tensor(B, requires_grad=True)
    x = torch.tensor(A)
    for i in range(0, 5):
        loss = x.mm(w).pow(2).sum()
        loss.backward()
    g = w.grad
""", "g")
t.add("backward_random_gradient_on_output", TU_BLITZ_NN, """
    w = torch.tensor(A, requires_grad=True)
    out = w * 3
    out.backward(torch.tensor(C))
    g = w.grad
""", "g")
t.add("backward_of_module_loss", TU_AUTOGRADQS, """
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.tensor(B, requires_grad=True)
    b = torch.tensor(W, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    gw, gb = w.grad, b.grad
""", "loss gw gb")
t.add("grad_of_shared_parameter", PT_TENSOR_DOCS, """
    e = torch.tensor(0.5, requires_grad=True)
    x = torch.tensor(V)
    y = e * x ** 4 + e * x ** 5
    y.sum().backward()
    g = e.grad
""", "g")
t.add("grad_is_none_before_backward", TU_BLITZ_NN, """
    bias = nn.Parameter(torch.tensor(V))
    g = bias.grad
""", "g")
t.add("grad_of_unused_leaf_stays_none", PT_TENSOR_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    b = torch.tensor(V, requires_grad=True)
    (a * 2).sum().backward()
    ga, gb = a.grad, b.grad
""", "ga gb")
t.add("backward_through_int_tensor_multiplication", PT_TENSOR_DOCS, """
    w = torch.tensor(V, requires_grad=True)
    counts = torch.tensor([1, 2, 3, 4, 5])
    (w * counts).sum().backward()
    g = w.grad
""", "g")

# -------------------------------------------------------------------- leaves and grad_fn
t.add("grad_fn_of_leaf_and_result", TU_BLITZ_AUTOGRAD, """
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    r = [x.grad_fn is None, y.grad_fn is not None, x.is_leaf, y.is_leaf]
""", "r")
t.add("requires_grad_propagates", TU_BLITZ_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    r = [x.requires_grad, (x ** 2).requires_grad, (torch.tensor(A) * 2).requires_grad]
""", "r")
t.add("requires_grad_underscore", TU_BLITZ_AUTOGRAD, """
    a = torch.tensor(A)
    a = ((a * 3) / (a - 1))
    before = a.requires_grad
    r = a.requires_grad_(True)
    after = a.requires_grad
    same = r is a
    b = (a * a).sum()
    has_fn = b.grad_fn is not None
""", "before after same has_fn")
t.add("requires_grad_attribute_set_false", TU_INTROYT_AUTOGRAD, """
    a = torch.ones(2, 3, requires_grad=True)
    b1 = 2 * a
    a.requires_grad = False
    b2 = 2 * a
    r = [b1.requires_grad, b2.requires_grad, b2.grad_fn is None]
""", "r")
t.add("nonleaf_grad_is_none", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    c = 2 * torch.sin(a)
    c.sum().backward()
    g = c.grad
""", "g")
t.add("retain_grad_on_nonleaf", PT_TENSOR_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    c = 2 * a
    c.retain_grad()
    (c ** 2).sum().backward()
    gc, ga = c.grad, a.grad
    flag = c.retains_grad
""", "gc ga flag")
t.add("is_leaf_rules", PT_TENSOR_DOCS, """
    a = torch.rand(10, requires_grad=True)
    b = torch.rand(10, requires_grad=True) * 2
    c = torch.rand(10)
    d = torch.rand(10).requires_grad_()
    r = [a.is_leaf, b.is_leaf, c.is_leaf, d.is_leaf]
""", "r")

# ------------------------------------------------------------------- no_grad and friends
t.add("no_grad_result_does_not_require_grad", TU_AUTOGRADQS, """
    x = torch.ones(5)
    w = torch.tensor(B, requires_grad=True)
    b = torch.tensor(W, requires_grad=True)
    z = torch.matmul(x, w) + b
    r1 = z.requires_grad
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    r2 = z.requires_grad
""", "r1 r2")
t.add("no_grad_decorator", TU_INTROYT_AUTOGRAD, """
    @torch.no_grad()
    def add_tensors2(x, y):
        return x + y

    a = torch.ones(2, 3, requires_grad=True) * 2
    b = torch.ones(2, 3, requires_grad=True) * 3
    c2 = add_tensors2(a, b)
    r = c2.requires_grad
""", "c2 r")
t.add("enable_grad_inside_no_grad", TU_INTROYT_AUTOGRAD, """
    x = torch.tensor(V, requires_grad=True)
    with torch.no_grad():
        with torch.enable_grad():
            y = x * 2
        z = x * 2
    r = [y.requires_grad, z.requires_grad]
""", "r")
t.add("set_grad_enabled_context_and_call", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    with torch.set_grad_enabled(False):
        y = x * 2
    torch.set_grad_enabled(False)
    z = x * 2
    off = torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    on = torch.is_grad_enabled()
    r = [y.requires_grad, z.requires_grad, off, on]
""", "r")
t.add("no_grad_evaluation_loop", TU_OPTIMIZATION, """
    model = nn.Linear(5, 3)
    with torch.no_grad():
        pred = model(torch.tensor(A))
    r = [pred.requires_grad, pred.grad_fn is None]
""", "r")

# ------------------------------------------------------------------------------ detach
t.add("detach_stops_tracking", TU_AUTOGRADQS, """
    x = torch.tensor(A)
    w = torch.tensor(B, requires_grad=True)
    z = torch.matmul(x, w)
    z_det = z.detach()
    r = [z_det.requires_grad, z_det.grad_fn is None, z_det.is_leaf]
""", "z_det r")
t.add("detach_clone_vs_clone", TU_INTROYT_TENSORS, """
    a = torch.tensor(A, requires_grad=True)
    b = a.clone()
    c = a.detach().clone()
    r = [b.requires_grad, b.grad_fn is not None, c.requires_grad]
""", "b c r")
t.add("clone_passes_gradient", TU_INTROYT_TENSORS, """
    a = torch.tensor(V, requires_grad=True)
    b = a.clone()
    (b * 3).sum().backward()
    g = a.grad
""", "g")
t.add("repackage_hidden_detach", EX_WLM_MAIN, """
    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        else:
            return tuple(repackage_hidden(v) for v in h)

    w = torch.tensor(A, requires_grad=True)
    hidden = (w * 2, w * 3)
    hidden = repackage_hidden(hidden)
    r = [h.requires_grad for h in hidden]
""", "hidden r")
t.add("detach_in_loss_target", PT_TENSOR_DOCS, """
    w = torch.tensor(V, requires_grad=True)
    target = (w * 2).detach()
    ((w - target) ** 2).sum().backward()
    g = w.grad
""", "g")
t.add("rewrap_data_breaks_graph", TU_NLP_INTRO, """
    var_x = torch.tensor(A[:2, :2], requires_grad=True)
    var_y = torch.tensor(C[:2, :2], requires_grad=True)
    var_z = var_x + var_y
    var_z_data = var_z.data
    r = [var_z.grad_fn is not None, var_z_data.grad_fn is None, var_z_data.requires_grad]
""", "var_z_data r")

# ---------------------------------------------------------------------------------- hooks
t.add("register_hook_scales_gradient", PT_TENSOR_DOCS, """
    v = torch.tensor([0., 0., 0.], requires_grad=True)
    h = v.register_hook(lambda grad: grad * 2)
    v.backward(torch.tensor([1., 2., 3.]))
    g = v.grad
""", "g")
t.add("register_hook_observes_and_remove", PT_EXTENDING, """
    seen = []
    v = torch.tensor(V, requires_grad=True)
    h = v.register_hook(lambda grad: seen.append(grad.clone()))
    (v * 3).sum().backward()
    h.remove()
    (v * 3).sum().backward()
    n_seen = len(seen)
    first = seen[0]
    g = v.grad
""", "n_seen first g")
t.add("hook_on_intermediate", PT_TENSOR_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    y = x * 2
    y.register_hook(lambda grad: grad + 1)
    (y ** 2).sum().backward()
    g = x.grad
""", "g")

# -------------------------------------------------------------------------- autograd.grad
t.add("autograd_grad_returns_tuple", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = torch.autograd.grad(y, x)
    untouched = x.grad
""", "g untouched")
t.add("autograd_grad_several_inputs_and_grad_outputs", PT_TORCH_DOCS, """
    a = torch.tensor(A, requires_grad=True)
    b = torch.tensor(C, requires_grad=True)
    out = a * b
    ga, gb = torch.autograd.grad(out, (a, b), grad_outputs=torch.ones_like(out))
""", "ga gb")
t.add("autograd_grad_allow_unused", PT_TORCH_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    b = torch.tensor(V, requires_grad=True)
    ga, gb = torch.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
""", "ga gb")
t.add("autograd_grad_unused_raises", PT_TORCH_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    b = torch.tensor(V, requires_grad=True)
    ga, gb = torch.autograd.grad((a * 2).sum(), [a, b])
""", raises=RuntimeError)
t.add("autograd_grad_retain_graph", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    y = (x.exp()).sum()
    (g1,) = torch.autograd.grad(y, x, retain_graph=True)
    (g2,) = torch.autograd.grad(y, x)
""", "g1 g2")
t.add("autograd_grad_create_graph_second_derivative", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    y = (x ** 3).sum()
    (g,) = torch.autograd.grad(y, x, create_graph=True)
    g.sum().backward()
    g2 = x.grad
""", "g g2", minidl_may_raise=NotImplementedError,
      note="issue 9 allows a clear NotImplementedError for create_graph=True")

# ------------------------------------------------------------------------ zeroing grads
t.add("module_zero_grad_sets_none", TU_ZEROING, """
    net = nn.Linear(5, 3)
    net(torch.tensor(A)).sum().backward()
    had = net.weight.grad is not None
    net.zero_grad()
    r = [had, net.weight.grad is None, net.bias.grad is None]
""", "r")
t.add("grad_zero_inplace_keeps_tensor", TU_POLY_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    (a * 2).sum().backward()
    a.grad.zero_()
    g = a.grad
""", "g")
t.add("assign_grad_none", TU_POLY_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    (a * 2).sum().backward()
    a.grad = None
    (a * 3).sum().backward()
    g = a.grad
""", "g")
t.add("assign_float_to_grad_raises", TU_POLY_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    a.grad = 0.
""", raises=TypeError)
t.add("autograd_grad_nonscalar_without_grad_outputs_raises", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    g = torch.autograd.grad(x * 2, x)
""", raises=RuntimeError)
t.add("register_hook_on_tensor_without_grad_raises", PT_TENSOR_DOCS, """
    x = torch.tensor(V)
    x.register_hook(lambda g: g)
""", raises=RuntimeError)
t.add("requires_grad_false_on_nonleaf_raises", PT_TENSOR_DOCS, """
    a = torch.tensor(V, requires_grad=True)
    b = a * 2
    b.requires_grad_(False)
""", raises=RuntimeError)
t.add("backward_on_tensor_without_grad_raises", TU_AUTOGRADQS, """
    y = torch.tensor(V).sum()
    y.backward()
""", raises=RuntimeError)
