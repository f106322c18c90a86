"""Devices: ``torch.device``, availability checks, ``.to(...)``, ``.cpu()``, ``.cuda()``, ``device=``."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_HOGWILD_MAIN,
    EX_MNIST,
    EX_VAE,
    EX_WLM_MAIN,
    TU_BLITZ_CIFAR,
    TU_BLITZ_TENSOR,
    TU_BUILDMODEL,
    TU_INTROYT_AUTOGRAD,
    TU_INTROYT_TENSORS,
    TU_POLY_AUTOGRAD,
    TU_POLY_TENSOR,
    TU_QUICKSTART,
    TU_TENSORQS,
)

t = Table("devices")

t.add("device_cpu_object", TU_POLY_TENSOR, """
    device = torch.device("cpu")
    s, kind, index = str(device), device.type, device.index
""", "device s kind index")
t.add("device_from_conditional_string", EX_MNIST, """
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
""", "use_cuda device")
t.add("device_cuda_zero_index", TU_BLITZ_CIFAR, """
    d = torch.device('cuda:0')
    kind, index = d.type, d.index
""", "d kind index")
t.add("device_cuda_index_check", TU_TENSORQS, """
    ok = torch.cuda.is_available() & (torch.device('cuda').index is not None)
""", "ok")
t.add("device_with_index_argument", EX_MNIST, """
    d = torch.device('cpu', 0)
""", "d")
t.add("device_equality", TU_INTROYT_TENSORS, """
    x = torch.rand(2, 2)
    same = [x.device == torch.device('cpu'), x.device.type == 'cpu', str(x.device)]
""", "same")
t.add("device_formatting", EX_MNIST, """
    device = torch.device("cpu")
    text = "Using Device: {}".format(device)
    text2 = f"Using {device} device"
""", "text text2")
t.add("tensor_device_attribute", TU_TENSORQS, """
    tensor = torch.rand(3, 4)
    device = tensor.device
""", "device")
t.add("cuda_not_available", TU_INTROYT_TENSORS, "avail = torch.cuda.is_available()", "avail")
t.add("cuda_device_count", TU_INTROYT_TENSORS, "n = torch.cuda.device_count()", "n")
t.add("mps_not_available", EX_MNIST, "use_mps = torch.backends.mps.is_available()", "use_mps")
t.add("xpu_not_available", EX_FF, "use_xpu = torch.xpu.is_available()", "use_xpu")
t.add("accelerator_not_available", TU_POLY_AUTOGRAD, """
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
""", "device")
t.add("accelerator_current_is_none", EX_MNIST, "acc = torch.accelerator.current_accelerator()", "acc")
t.add("quickstart_device_chain", TU_QUICKSTART, """
    device = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
""", "device")
t.add("set_default_device_cpu", TU_POLY_AUTOGRAD, """
    torch.set_default_device("cpu")
    x = torch.linspace(-1, 1, 5, dtype=torch.float)
    device = x.device
""", "x device")
t.add("zeros_with_device_keyword", TU_POLY_TENSOR, """
    device = torch.device("cpu")
    a = torch.zeros(2, 3, device=device)
    b = torch.ones(2, device="cpu")
    c = torch.tensor([1, 2], device=device)
""", "a b c")
t.add("rand_with_device_keyword", TU_BUILDMODEL, """
    X = torch.rand(1, 28, 28, device='cpu')
    shape, device = X.shape, X.device
""", "shape device")
t.add("ones_like_with_device", TU_BLITZ_TENSOR, """
    x = torch.tensor(A)
    y = torch.ones_like(x, device=torch.device("cpu"))
""", "y")
t.add("to_device_keeps_values", EX_MNIST, """
    device = torch.device("cpu")
    data, target = torch.tensor(IMG), torch.tensor(LABELS)
    data, target = data.to(device), target.to(device)
""", "data target")
t.add("to_same_device_returns_self", EX_MNIST, """
    x = torch.tensor(A)
    same = x.to('cpu') is x
    same_dtype = x.to(torch.float32) is x
""", "same same_dtype")
t.add("to_device_and_dtype", TU_BLITZ_TENSOR, """
    z = torch.tensor(A)
    w = z.to("cpu", torch.double)
""", "w")
t.add("to_dtype_keyword", TU_BLITZ_TENSOR, "w = torch.tensor(A).to(dtype=torch.float64)", "w")
t.add("to_other_tensor", TU_BLITZ_TENSOR, """
    x = torch.tensor(I)
    y = x.to(torch.tensor(D))
""", "y")
t.add("to_non_blocking", EX_MNIST, """
    x = torch.tensor(A).to(torch.device("cpu"), non_blocking=True)
""", "x")
t.add("to_copy_true_is_new_tensor", EX_MNIST, """
    a = torch.tensor(A)
    b = a.to('cpu', copy=True)
    b[0, 0] = 100.0
    different = b is not a
""", "a different")
t.add("cpu_method", EX_VAE, """
    sample = torch.tensor(A).cpu()
""", "sample")
t.add("cuda_method_raises_without_cuda", TU_INTROYT_TENSORS, """
    y = torch.rand(2, 2).cuda()
""", raises=AssertionError, also_accept=(RuntimeError,),
      note="a CPU build of torch raises AssertionError('Torch not compiled with CUDA enabled'); issue 9 asks "
           "for a clear 'no CUDA device' error, which minidl raises as DeviceError (a RuntimeError)")
t.add("to_cuda_raises_without_cuda", TU_INTROYT_TENSORS, """
    y = torch.rand(2, 2).to('cuda')
""", raises=AssertionError, also_accept=(RuntimeError,),
      note="see cuda_method_raises_without_cuda")
t.add("module_to_device_returns_module", EX_MNIST, """
    model = nn.Linear(3, 2)
    same = model.to(torch.device("cpu")) is model
    device = next(model.parameters()).device
""", "same device")
t.add("module_to_dtype", EX_MNIST, """
    model = nn.Linear(3, 2)
    model.to(torch.float64)
    dtypes = [p.dtype for p in model.parameters()]
""", "dtypes")
t.add("module_double_and_float", EX_MNIST, """
    model = nn.Linear(3, 2).double()
    d1 = model.weight.dtype
    model.float()
    d2 = model.weight.dtype
""", "d1 d2")
t.add("module_cpu", EX_HOGWILD_MAIN, """
    model = nn.Linear(3, 2)
    same = model.cpu() is model
""", "same")
t.add("device_of_parameter_for_masks", EX_WLM_MAIN, """
    src = torch.tensor(I)
    device = src.device
    mask = torch.ones(3, 3).to(device)
""", "mask")
t.add("detach_for_plotting_on_cpu", TU_INTROYT_AUTOGRAD, """
    a = torch.linspace(0., 2. * math.pi, steps=5, requires_grad=True)
    b = torch.sin(a)
    arr = np.asarray(b.detach())
""", "arr")
