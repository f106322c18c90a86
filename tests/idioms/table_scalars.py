"""One-element tensors as Python values: ``.item()``, ``float``/``int``/``bool``, ``__index__``, string
formatting, ``tolist``, and the NumPy bridge."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_HOGWILD_TRAIN,
    EX_MNIST,
    EX_REGRESSION,
    EX_VAE,
    EX_WLM_GENERATE,
    EX_WLM_MAIN,
    PT_TENSOR_DOCS,
    TU_BLITZ_AUTOGRAD,
    TU_BLITZ_CIFAR,
    TU_BLITZ_TENSOR,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_POLY_MODULE,
    TU_POLY_TENSOR,
    TU_QUICKSTART,
    TU_TENSORQS,
)

t = Table("scalars")

t.add("item_of_float_is_python_float", TU_BLITZ_TENSOR, """
    x = torch.tensor(V[:1])
    v = x.item()
    kind = type(v).__name__
""", "v kind")
t.add("item_of_int_is_python_int", EX_FF, """
    y = torch.tensor(LABELS)
    v = y[0].item()
    kind = type(v).__name__
""", "v kind")
t.add("item_of_bool_is_python_bool", PT_TENSOR_DOCS, """
    v = (torch.tensor(A) > 0).all().item()
    kind = type(v).__name__
""", "v kind")
t.add("item_of_double_sum", TU_POLY_TENSOR, """
    loss = (torch.tensor(D) - 1).pow(2).sum().item()
    kind = type(loss).__name__
""", "loss kind")
t.add("item_of_many_elements_raises", PT_TENSOR_DOCS, "v = torch.tensor(V).item()", raises=RuntimeError)
t.add("float_int_bool_of_one_element", PT_TENSOR_DOCS, """
    x = torch.tensor([2.75])
    r = [float(x), int(x), bool(x), int(torch.tensor(-2.5)), bool(torch.tensor(0.0))]
""", "r")
t.add("float_of_many_elements_raises", PT_TENSOR_DOCS, "v = float(torch.tensor(V))", raises=ValueError)
t.add("bool_of_many_elements_raises", PT_TENSOR_DOCS, """
    if torch.tensor(V) > 0:
        pass
""", raises=RuntimeError)
t.add("int_accumulation_from_sums", TU_BLITZ_CIFAR, """
    total = correct = 0
    labels = torch.tensor(LABELS)
    predicted = torch.tensor([0, 1, 2, 3])
    total += labels.size(0)
    correct += (predicted == labels).sum().item()
    pct = 100 * correct // total
    kind = type(correct).__name__
""", "total correct pct kind")
t.add("index_dunder_for_list_lookup", TU_BLITZ_CIFAR, """
    classes = ('plane', 'car', 'bird', 'cat', 'deer')
    label = torch.tensor(3)
    name = classes[label]
    j = torch.tensor(2).__index__()
""", "name j")
t.add("index_dunder_for_range_and_slicing", PT_TENSOR_DOCS, """
    n = torch.tensor(4)
    r = list(range(n))
    s = [10, 20, 30, 40, 50][torch.tensor(1):n]
""", "r s")
t.add("float_tensor_as_index_raises", TU_BLITZ_CIFAR, """
    classes = ('plane', 'car')
    name = classes[torch.tensor(1.0)]
""", raises=TypeError)
t.add("dict_lookup_by_tensor_label_uses_item", TU_BLITZ_CIFAR, """
    classes = ('plane', 'car', 'bird')
    correct_pred = {classname: 0 for classname in classes}
    for label in torch.tensor([0, 2, 2]):
        correct_pred[classes[label]] += 1
""", "correct_pred")
t.add("word_lookup_by_zero_dim_index", EX_WLM_GENERATE, """
    idx2word = ['a', 'b', 'c', 'd']
    word_idx = torch.tensor([2])[0]
    word = idx2word[word_idx]
""", "word")
t.add("format_spec_on_zero_dim_tensor", EX_REGRESSION, """
    W = torch.tensor([1.5, -2.25, 3.0])
    result = 'y = '
    for i, w in enumerate(W):
        result += '{:+.2f} x^{} '.format(w, i + 1)
""", "result")
t.add("fstring_format_of_loss_tensor", TU_QUICKSTART, """
    loss = torch.tensor(0.123456)
    line = f"loss: {loss:>7f}"
    line2 = f"{loss:.3f}"
""", "line line2")
t.add("percent_format_of_item", TU_BLITZ_CIFAR, """
    running_loss = torch.tensor(A).abs().sum().item()
    line = '[%d, %5d] loss: %.3f' % (1, 2000, running_loss / 2000)
""", "line")
t.add("format_of_item_in_print_line", EX_MNIST, """
    loss = torch.tensor(A).pow(2).mean()
    line = 'Train Epoch: {} [{}/{} ({:.0f}%)]\\tLoss: {:.6f}'.format(1, 640, 60000, 100. * 10 / 938, loss.item())
""", "line")
t.add("format_many_elements_raises", EX_REGRESSION, "s = '{:.2f}'.format(torch.tensor(V))", raises=TypeError)
t.add("result_string_of_items", TU_POLY_MODULE, """
    a, b = torch.tensor(0.25), torch.tensor(-1.5)
    s = f'y = {a.item()} + {b.item()} x'
""", "s")
t.add("math_exp_of_float_loss", EX_WLM_MAIN, """
    cur_loss = torch.tensor(A).abs().mean().item()
    ppl = math.exp(cur_loss)
""", "ppl")
t.add("error_rate_from_mean_item", EX_FF, """
    pred = torch.tensor([1, 2, 3, 3])
    y = torch.tensor([1, 2, 0, 3])
    err = 1.0 - pred.eq(y).float().mean().item()
""", "err")
t.add("tolist_nested_python_numbers", PT_TENSOR_DOCS, """
    a = torch.tensor(I[:2, :3]).tolist()
    b = torch.tensor(A[:2, :2]).tolist()
    c = torch.tensor(1.5).tolist()
    kinds = [type(a[0][0]).__name__, type(b[0][0]).__name__]
""", "a b c kinds")
t.add("numpy_of_tensor", TU_TENSORQS, """
    t = torch.ones(5)
    n = t.numpy()
""", "n")
t.add("numpy_of_requires_grad_raises", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    n = a.numpy()
""", raises=RuntimeError)
t.add("numpy_of_detached_for_plotting", TU_INTROYT_AUTOGRAD, """
    a = torch.tensor(V, requires_grad=True)
    b = torch.sin(a)
    n = b.detach().numpy()
""", "n")
t.add("np_asarray_of_tensor", TU_BLITZ_CIFAR, """
    img = torch.tensor(IMG[0]) / 2 + 0.5
    npimg = img.numpy()
    hwc = np.transpose(npimg, (1, 2, 0))
""", "hwc")
t.add("np_array_of_int_tensor", PT_TENSOR_DOCS, """
    arr = np.array(torch.tensor(I))
""", "arr")
t.add("numpy_of_zero_dim", EX_VAE, """
    n = torch.tensor(2.5).numpy()
""", "n")
t.add("str_starts_with_tensor", TU_INTROYT_TENSORS, """
    s = str(torch.tensor([1., 2.]))
    ok = s.startswith('tensor(')
""", "ok")
t.add("set_printoptions_precision", PT_TENSOR_DOCS, """
    torch.set_printoptions(precision=2)
    s = str(torch.tensor([1.23456]))
    torch.set_printoptions(precision=4)
    ok = '1.23' in s and '1.2346' not in s
""", "ok")
t.add("len_of_dataset_like_tensor", EX_HOGWILD_TRAIN, """
    data = torch.tensor(IMG)
    n = len(data)
    pct = 100. * 3 / len(data)
""", "n pct")
t.add("bool_of_empty_raises", PT_TENSOR_DOCS, """
    if torch.tensor([]):
        pass
""", raises=RuntimeError)
t.add("builtin_abs_pow_max", PT_TENSOR_DOCS, """
    r = [abs(torch.tensor(-1.5)), pow(torch.tensor(3.0), 2), max(torch.tensor([1., 4., 2.]))]
""", "r")
t.add("print_plain_tensors", TU_BLITZ_TENSOR, """
    s = [str(torch.tensor([5.5, 3])), str(torch.tensor([[1, 2], [3, 4]])), str(torch.tensor(3.)),
         str(torch.tensor([True, False])), str(torch.zeros(2, 2))]
""", "s")
t.add("print_shows_requires_grad_and_dtype", TU_BLITZ_AUTOGRAD, """
    s = [str(torch.ones(2, 2, requires_grad=True)),
         str(torch.tensor([1., 2.], dtype=torch.float64)).replace('minidl.', 'torch.'),
         str(torch.tensor([1, 2], dtype=torch.int32)).replace('minidl.', 'torch.')]
""", "s", note="the library's own name in a printed dtype is not compared")
t.add("print_size", TU_BLITZ_TENSOR, """
    s = str(torch.zeros(4, 4).size()).replace('minidl.', 'torch.')
""", "s", note="the library's own name is not compared")
