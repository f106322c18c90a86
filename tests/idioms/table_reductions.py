"""Reductions: the ``(values, indices)`` results of max/min/sort/topk/kthvalue/median, argmax, sums,
means, spreads, norms, cumulative ops, counting."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_HOGWILD_TRAIN,
    EX_IMAGENET,
    EX_MNIST,
    EX_REINFORCE,
    EX_VAE,
    EX_WLM_MAIN,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_BUILDMODEL,
    TU_CHAR_RNN,
    TU_DQN,
    TU_INTROYT_TENSORS,
    TU_QUICKSTART,
    TU_TENSORQS,
)

t = Table("reductions")

# ---------------------------------------------------------------------------- max / min
t.add("max_dim_index_1_is_argmax", EX_HOGWILD_TRAIN, """
    output = torch.tensor(A)
    pred = output.max(1)[1]
""", "pred")
t.add("max_dim_index_0_is_values", TU_DQN, """
    q = torch.tensor(A)
    best = q.max(1)[0].detach()
""", "best")
t.add("max_dim_keepdim_indices", EX_MNIST, """
    output = torch.tensor(A)
    pred = output.max(1, keepdim=True)[1]
""", "pred")
t.add("max_dim_named_fields", TU_DQN, """
    q = torch.tensor(A)
    r = q.max(1)
    values, indices = r.values, r.indices
""", "values indices")
t.add("max_dim_keyword", PT_TORCH_DOCS, """
    values, indices = torch.tensor(A).max(dim=1, keepdim=True)
""", "values indices")
t.add("torch_max_dim_unpack", TU_BLITZ_CIFAR, """
    outputs = torch.tensor(A)
    _, predicted = torch.max(outputs, 1)
""", "predicted")
t.add("torch_max_of_data", TU_BLITZ_CIFAR, """
    outputs = torch.tensor(A, requires_grad=True) * 2
    _, predicted = torch.max(outputs.data, 1)
""", "predicted")
t.add("torch_max_whole_tensor", TU_INTROYT_TENSORS, """
    d = torch.tensor([[1., 2.], [3., 4.]])
    m = torch.max(d)
    v = torch.max(d).item()
""", "m v")
t.add("torch_max_two_tensors_elementwise", EX_VAE, """
    lam = torch.tensor(PROB)
    keep = torch.max(torch.le(lam, 0.49), torch.gt(lam, 0.51))
""", "keep")
t.add("torch_max_two_float_tensors", PT_TORCH_DOCS, """
    m = torch.max(torch.tensor(A), torch.tensor(C))
""", "m")
t.add("min_dim_values_indices", PT_TORCH_DOCS, """
    values, indices = torch.min(torch.tensor(A), 0)
    v2, i2 = torch.tensor(A).min(dim=-1)
""", "values indices v2 i2")
t.add("max_view_for_action", TU_DQN, """
    q = torch.tensor(A[:1])
    action = q.max(1)[1].view(1, 1)
""", "action")
t.add("max_of_int_tensor_values_indices", PT_TORCH_DOCS, """
    values, indices = torch.tensor(I).max(1)
""", "values indices")
t.add("max_ties_pick_first", PT_TORCH_DOCS, """
    values, indices = torch.tensor([[1., 3., 3.], [2., 2., 1.]]).max(1)
""", "values indices")
t.add("max_grad_flows_to_argmax", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    x.max(1)[0].sum().backward()
    g = x.grad
""", "g")
t.add("amax_amin", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b, c = torch.amax(x, 1), torch.amin(x, dim=(0, 1)), x.amax(dim=0, keepdim=True)
""", "a b c")

# ------------------------------------------------------------------------ argmax / argmin
t.add("argmax_dim_keepdim", EX_MNIST, """
    output = torch.tensor(A)
    pred = output.argmax(dim=1, keepdim=True)
""", "pred")
t.add("argmax_positional", TU_QUICKSTART, """
    pred = torch.tensor(A)
    cls = pred.argmax(1)
""", "cls")
t.add("argmax_whole_tensor", PT_TORCH_DOCS, "i = torch.tensor(A).argmax()", "i")
t.add("argmax_of_softmax", TU_BUILDMODEL, """
    logits = torch.tensor(A)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
""", "y_pred")
t.add("argmax_zero_of_row_as_index", TU_QUICKSTART, """
    classes = ["a", "b", "c", "d", "e"]
    pred = torch.tensor(A[:1])
    predicted = classes[pred[0].argmax(0)]
""", "predicted")
t.add("argmin", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    i, j = torch.argmin(x), torch.argmin(x, dim=1, keepdim=True)
""", "i j")
t.add("goodness_argmax_after_sum_of_list", EX_FF, """
    goodness = [torch.tensor(A).pow(2).mean(1), torch.tensor(C).pow(2).mean(1)]
    per_label = [sum(goodness).unsqueeze(1), (sum(goodness) * 2).unsqueeze(1)]
    pred = torch.cat(per_label, 1).argmax(1)
""", "pred")

# ---------------------------------------------------------------------------- sort / topk
t.add("topk_imagenet_accuracy", EX_IMAGENET, """
    output = torch.tensor(A)
    target = torch.tensor([2, 0, 4, 1])
    maxk = 3
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    res = []
    for k in (1, 3):
        correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
        res.append(correct_k.mul_(100.0 / 4))
""", "pred correct res")
t.add("topk_one_item", TU_CHAR_RNN, """
    output = torch.tensor(A[:1])
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
""", "top_n top_i category_i")
t.add("topk_named_and_smallest", PT_TORCH_DOCS, """
    r = torch.topk(torch.tensor(V), 2, largest=False)
    values, indices = r.values, r.indices
""", "values indices")
t.add("topk_grad", PT_TORCH_DOCS, """
    x = torch.tensor(A, requires_grad=True)
    x.topk(2, dim=1).values.sum().backward()
    g = x.grad
""", "g")
t.add("sort_values_indices", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    sorted_x, indices = torch.sort(x)
    s0, i0 = torch.sort(x, 0)
""", "sorted_x indices s0 i0")
t.add("sort_descending_named", PT_TORCH_DOCS, """
    r = torch.tensor(A).sort(dim=1, descending=True)
    values, indices = r.values, r.indices
""", "values indices")
t.add("argsort", PT_TORCH_DOCS, "i = torch.argsort(torch.tensor(A), dim=1)", "i")
t.add("kthvalue", PT_TORCH_DOCS, """
    x = torch.arange(1., 6.)
    v, i = torch.kthvalue(x, 4)
    x2 = torch.arange(1., 7.).view(2, 3)
    r = torch.kthvalue(x2, 2, 0, True)
    v2, i2 = r.values, r.indices
""", "v i v2 i2")
t.add("median_all_and_dim", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    m = torch.median(x)
    values, indices = torch.median(x, 1)
""", "m values indices")
t.add("median_even_count_takes_lower", PT_TORCH_DOCS, """
    m = torch.tensor([1., 4., 2., 3.]).median()
""", "m")

# ------------------------------------------------------------------------ sums and means
t.add("sum_item_accuracy", EX_MNIST, """
    pred = torch.tensor([[1], [0], [3], [3]])
    target = torch.tensor([1, 2, 3, 0])
    correct = 0
    correct += pred.eq(target.view_as(pred)).sum().item()
""", "correct")
t.add("sum_dim_keepdim", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b, c = x.sum(0), x.sum(1, keepdim=True), torch.sum(x, dim=(0, 1))
""", "a b c")
t.add("sum_dtype_argument", PT_TORCH_DOCS, """
    s = torch.tensor(I).sum(dtype=torch.float32)
""", "s")
t.add("mean_dim", TU_INTROYT_TENSORS, """
    d = torch.tensor([[1., 2.], [3., 4.]])
    a, b = torch.mean(d), d.mean(1)
""", "a b")
t.add("mean_dim_tuple_keepdim", PT_TORCH_DOCS, """
    m = torch.tensor(IMG).mean(dim=(2, 3), keepdim=True)
""", "m")
t.add("pow_mean_goodness", EX_FF, """
    h = torch.tensor(A)
    g = h.pow(2).mean(1)
""", "g")
t.add("std_unbiased_default", TU_INTROYT_TENSORS, """
    d = torch.tensor([[1., 2.], [3., 4.]])
    s = torch.std(d)
""", "s")
t.add("reward_normalisation", EX_REINFORCE, """
    rewards = torch.tensor([1.0, 0.99, 0.9801, 0.970299])
    eps = np.finfo(np.float32).eps.item()
    rewards = (rewards - rewards.mean()) / (rewards.std() + eps)
""", "rewards")
t.add("std_var_dim_and_correction", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a = x.std(dim=1)
    b = x.var(dim=0, unbiased=False)
    c = torch.var(x, 1, keepdim=True)
    d = x.std(correction=0)
""", "a b c d")
t.add("prod", TU_INTROYT_TENSORS, """
    d = torch.tensor([[1., 2.], [3., 4.]])
    p, p1 = torch.prod(d), d.prod(1)
""", "p p1")
t.add("norm_p2_dim_keepdim", EX_FF, """
    x = torch.tensor(A)
    x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
""", "x_direction")
t.add("norm_whole_and_p1", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b, c = x.norm(), torch.norm(x, p=1), x.norm(dim=0)
""", "a b c")
t.add("logsumexp", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b = torch.logsumexp(x, dim=1), x.logsumexp(0, keepdim=True)
""", "a b")
t.add("cumsum_cumprod", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b = torch.cumsum(x, dim=0), x.cumprod(1)
    c = torch.tensor(I).cumsum(0)
""", "a b c")
t.add("cumsum_grad", PT_TORCH_DOCS, """
    x = torch.tensor(V, requires_grad=True)
    (x.cumsum(0) * torch.arange(5.)).sum().backward()
    g = x.grad
""", "g")
t.add("all_any", PT_TORCH_DOCS, """
    x = torch.tensor(A)
    a, b = (x > -3).all(), (x > 1).any(dim=1)
    c, d = torch.all(x < 0), torch.any(x < 0)
""", "a b c d")
t.add("unique_sorted", TU_INTROYT_TENSORS, """
    u = torch.unique(torch.tensor([1, 2, 1, 2, 1, 2]))
""", "u")
t.add("unique_counts_inverse", PT_TORCH_DOCS, """
    x = torch.tensor(I)
    u, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
""", "u inverse counts")
t.add("bincount", PT_TORCH_DOCS, """
    labels = torch.tensor(I).view(-1)
    b = torch.bincount(labels)
    b7 = torch.bincount(torch.tensor([1, 1, 3]), minlength=7)
    w = torch.bincount(torch.tensor([0, 1, 1]), weights=torch.tensor([0.5, 1.0, 2.0]))
""", "b b7 w")
t.add("count_nonzero", PT_TORCH_DOCS, """
    x = torch.tensor(I)
    a, b = torch.count_nonzero(x), x.count_nonzero(dim=1)
""", "a b")
t.add("total_loss_accumulation_float", EX_WLM_MAIN, """
    total_loss = 0.
    for k in range(3):
        total_loss += 2 * torch.tensor(A[k]).pow(2).mean().item()
""", "total_loss")
t.add("agg_sum_item_type", TU_TENSORQS, """
    tensor = torch.ones(4, 4)
    tensor[:, 1] = 0
    agg = tensor.sum()
    agg_item = agg.item()
    kind = type(agg_item).__name__
""", "agg agg_item kind")
