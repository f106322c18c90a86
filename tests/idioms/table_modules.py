"""The module level as public code uses it today: layers with set weights, containers, parameters and
buffers, ``state_dict``, train/eval, ``apply`` and ``init``, and the ``F.*`` functions minidl has."""

from .harness import Table
from .sources import (
    EX_DCGAN,
    EX_FF,
    EX_HOGWILD_MAIN,
    EX_MNIST,
    EX_VAE,
    EX_WLM_MODEL,
    PT_EXTENDING,
    TU_AUTOGRADQS,
    TU_BLITZ_CIFAR,
    TU_BLITZ_NN,
    TU_BUILDMODEL,
    TU_DYNAMIC,
    TU_INTROYT_AUTOGRAD,
    TU_POLY_MODULE,
    TU_POLY_NN,
    TU_QUICKSTART,
    TU_STATE_DICT,
)

t = Table("modules")

SET_LINEAR = '''
def set_weights(layer, w, b):
    layer.load_state_dict({'weight': torch.tensor(w), 'bias': torch.tensor(b)})
'''

CIFAR_NET = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x
'''

# ------------------------------------------------------------------------------ layers
t.add("linear_weight_bias_shapes", TU_BUILDMODEL, """
    layer1 = nn.Linear(in_features=28*28, out_features=20)
    shapes = [layer1.weight.shape, layer1.bias.shape, layer1.in_features, layer1.out_features]
""", "shapes")
t.add("linear_forward_with_set_weights", TU_BUILDMODEL, SET_LINEAR + """
layer = nn.Linear(5, 3)
set_weights(layer, C[:3], W)
hidden1 = layer(torch.tensor(A))
""", "hidden1")
t.add("linear_without_bias", PT_EXTENDING, """
    layer = nn.Linear(5, 3, bias=False)
    b = layer.bias
    n = len(list(layer.parameters()))
""", "b n")
t.add("linear_device_dtype_positional", EX_FF, """
    class Layer(nn.Linear):
        def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
            super().__init__(in_features, out_features, bias, device, dtype)
            self.relu = torch.nn.ReLU()

        def forward(self, x):
            x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
            return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    layer = Layer(5, 3)
    layer.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    h = layer(torch.tensor(A))
""", "h")
t.add("linear_dtype_keyword", PT_EXTENDING, """
    layer = nn.Linear(5, 3, dtype=torch.float64)
    d = layer.weight.dtype
""", "d")
t.add("conv2d_forward_with_set_weights", TU_BLITZ_CIFAR, """
    conv = nn.Conv2d(3, 4, 3)
    conv.load_state_dict({'weight': torch.tensor(IMG[:, :, :3, :3].repeat(2, axis=0)),
                          'bias': torch.tensor([0.1, -0.1, 0.2, 0.0])})
    y = conv(torch.tensor(IMG))
""", "y")
t.add("conv2d_kernel_stride_padding_bias", EX_DCGAN, """
    conv = nn.Conv2d(3, 8, 4, 2, 1, bias=False)
    r = [conv.weight.shape, conv.bias is None, conv.stride, conv.padding, conv.kernel_size]
""", "r")
t.add("leaky_relu_and_sigmoid_modules", EX_DCGAN, """
    x = torch.tensor(A)
    a = nn.LeakyReLU(0.2)(x)
    b = nn.Sigmoid()(x)
    c = nn.Tanh()(x)
""", "a b c")
t.add("softmax_module_dim", TU_BUILDMODEL, """
    logits = torch.tensor(A)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
""", "pred_probab")
t.add("flatten_module", TU_BUILDMODEL, """
    input_image = torch.tensor(IMG)
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
""", "flat_image")
t.add("flatten_module_0_1", TU_POLY_NN, """
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    model.load_state_dict({'0.weight': torch.tensor([[0.5, -0.25, 0.125]]), '0.bias': torch.tensor([0.1])})
    y_pred = model(torch.tensor(A[:, :3]))
""", "y_pred")
t.add("maxpool_module", TU_BLITZ_CIFAR, """
    pool = nn.MaxPool2d(2, 2)
    y = pool(torch.tensor(IMG))
""", "y")
t.add("dropout_eval_is_identity", EX_MNIST, """
    d = nn.Dropout(0.25)
    d.eval()
    y = d(torch.tensor(A))
""", "y")
t.add("dropout_train_zeroes_and_scales", EX_MNIST, """
    d = nn.Dropout(0.5)
    y = d(torch.ones(1000))
    ok = bool(((y == 0) | (y == 2)).all())
""", "y ok", random=True)

# ---------------------------------------------------------------------------- containers
t.add("sequential_index_and_len", TU_POLY_NN, """
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    linear_layer = model[0]
    r = [len(model), type(linear_layer).__name__, linear_layer.weight.shape]
""", "r")
t.add("sequential_forward_quickstart_stack", TU_QUICKSTART, SET_LINEAR + """
stack = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
set_weights(stack[0], A[:, :5], V[:4])
set_weights(stack[2], C[:3, :4], W)
logits = stack(torch.tensor(A))
""", "logits")
t.add("sequential_reuses_modules", TU_BUILDMODEL, """
    flatten = nn.Flatten()
    layer1 = nn.Linear(in_features=192, out_features=20)
    seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
    logits = seq_modules(torch.tensor(IMG))
    shape = logits.shape
    same = seq_modules[1] is layer1
""", "shape same")
t.add("module_list_plain_list_not_registered", EX_FF, """
    class Net(torch.nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.layers = []
            for d in range(len(dims) - 1):
                self.layers = self.layers + [nn.Linear(dims[d], dims[d + 1])]

    net = Net([5, 4, 3])
    n_params = len(list(net.parameters()))
    n_layers = len(net.layers)
""", "n_params n_layers")
t.add("module_list_registered", EX_FF, """
    layers = nn.ModuleList([nn.Linear(5, 4), nn.Linear(4, 3)])
    n_params = len(list(layers.parameters()))
""", "n_params")

# ----------------------------------------------------------------------- parameters, buffers
t.add("parameters_list_and_first_size", TU_BLITZ_NN, CIFAR_NET + """
net = Net()
params = list(net.parameters())
n = len(params)
first = params[0].size()
""", "n first")
t.add("named_parameters_names_and_sizes", TU_BUILDMODEL, CIFAR_NET + """
net = Net()
names = [(name, tuple(param.size())) for name, param in net.named_parameters()]
""", "names")
t.add("parameter_count", TU_BLITZ_CIFAR, CIFAR_NET + """
net = Net()
total = sum(p.numel() for p in net.parameters())
trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
""", "total trainable")
t.add("parameter_is_tensor_requiring_grad", TU_POLY_MODULE, """
    a = torch.nn.Parameter(torch.randn(()))
    r = [isinstance(a, torch.Tensor), a.requires_grad, a.is_leaf, type(a).__name__]
""", "r")
t.add("parameter_requires_grad_false", PT_EXTENDING, """
    p = nn.Parameter(torch.tensor(V), requires_grad=False)
    r = p.requires_grad
""", "r")
t.add("custom_module_scalar_parameters", TU_POLY_MODULE, """
    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(0.1))
            self.b = torch.nn.Parameter(torch.tensor(0.9))
            self.c = torch.nn.Parameter(torch.tensor(-0.05))
            self.d = torch.nn.Parameter(torch.tensor(-0.1))

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'

    model = Polynomial3()
    y_pred = model(torch.tensor(V))
    names = [n for n, _ in model.named_parameters()]
    s = model.string()
""", "y_pred names s")
t.add("dynamic_net_reuses_parameter", TU_DYNAMIC, """
    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(0.1))
            self.e = torch.nn.Parameter(torch.tensor(0.01))

        def forward(self, x, n):
            y = self.a * x
            for exp in range(4, n):
                y = y + self.e * x ** exp
            return y

    model = DynamicNet()
    x = torch.tensor(V)
    model(x, 6).sum().backward()
    ge = model.e.grad
""", "ge")
t.add("register_buffer_in_state_dict_not_parameters", EX_WLM_MODEL, """
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=10):
            super(PositionalEncoding, self).__init__()
            pe = torch.zeros(max_len, d_model)
            self.register_buffer('pe', pe)

    m = PositionalEncoding(4)
    keys = list(m.state_dict().keys())
    n_params = len(list(m.parameters()))
    bufs = [n for n, _ in m.named_buffers()]
""", "keys n_params bufs")
t.add("register_parameter_none", PT_EXTENDING, """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.tensor(V))
            self.register_parameter('bias', None)

    m = M()
    r = [m.bias is None, [n for n, _ in m.named_parameters()], list(m.state_dict().keys())]
""", "r")

# ---------------------------------------------------------------------------- state_dict
t.add("state_dict_keys_and_sizes", TU_STATE_DICT, CIFAR_NET + """
net = Net()
rows = [(k, tuple(net.state_dict()[k].size())) for k in net.state_dict()]
""", "rows")
t.add("state_dict_values_detached", TU_STATE_DICT, """
    net = nn.Linear(5, 3)
    sd = net.state_dict()
    r = [sd['weight'].requires_grad, isinstance(sd['weight'], torch.Tensor)]
""", "r")
t.add("state_dict_shares_storage", TU_STATE_DICT, """
    net = nn.Linear(5, 3)
    sd = net.state_dict()
    with torch.no_grad():
        net.weight.fill_(1.5)
    w = sd['weight']
""", "w")
t.add("load_state_dict_copies_values", TU_STATE_DICT, """
    policy_net = nn.Linear(5, 3)
    target_net = nn.Linear(5, 3)
    policy_net.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    result = target_net.load_state_dict(policy_net.state_dict())
    w, b = target_net.weight, target_net.bias
    missing, unexpected = result.missing_keys, result.unexpected_keys
""", "w b missing unexpected")
t.add("load_state_dict_missing_key_raises", TU_STATE_DICT, """
    net = nn.Linear(5, 3)
    sd = net.state_dict()
    del sd['bias']
    net.load_state_dict(sd)
""", raises=RuntimeError)
t.add("load_state_dict_shape_mismatch_raises", TU_STATE_DICT, """
    net = nn.Linear(5, 3)
    net.load_state_dict({'weight': torch.zeros(3, 4), 'bias': torch.zeros(3)})
""", raises=RuntimeError)
t.add("load_state_dict_strict_false", TU_STATE_DICT, """
    net = nn.Linear(5, 3)
    result = net.load_state_dict({'weight': torch.tensor(C[:3])}, strict=False)
    missing = result.missing_keys
    w = net.weight
""", "missing w")
t.add("soft_update_of_state_dict_values", TU_STATE_DICT, """
    policy_net, target_net = nn.Linear(5, 3), nn.Linear(5, 3)
    policy_net.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.zeros(3)})
    target_net.load_state_dict({'weight': torch.tensor(A[:3]), 'bias': torch.ones(3)})
    TAU = 0.005
    target_net_state_dict = target_net.state_dict()
    policy_net_state_dict = policy_net.state_dict()
    for key in policy_net_state_dict:
        target_net_state_dict[key] = policy_net_state_dict[key]*TAU + target_net_state_dict[key]*(1-TAU)
    target_net.load_state_dict(target_net_state_dict)
    w, b = target_net.weight, target_net.bias
""", "w b")

# ----------------------------------------------------------------------- modes and helpers
t.add("train_eval_flags", TU_QUICKSTART, """
    model = nn.Sequential(nn.Linear(5, 3), nn.Dropout(0.5))
    model.eval()
    e = [model.training, model[1].training]
    model.train()
    tr = [model.training, model[1].training]
    r = model.train(False) is model
""", "e tr r")
t.add("apply_weights_init_by_classname", EX_DCGAN, """
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            m.weight.data.normal_(0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)

    net = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2, inplace=True))
    r = net.apply(weights_init) is net
    bias = net[1].bias
    ok = abs(net[0].weight.std().item() - 0.02) < 0.01
""", "r bias ok")
t.add("init_uniform_and_zeros", EX_WLM_MODEL, """
    decoder = nn.Linear(5, 3)
    initrange = 0.1
    nn.init.zeros_(decoder.bias)
    nn.init.uniform_(decoder.weight, -initrange, initrange)
    b = decoder.bias
    ok = bool((decoder.weight.abs() <= initrange).all())
""", "b ok")
t.add("children_and_modules", TU_BLITZ_NN, CIFAR_NET + """
net = Net()
kids = [type(m).__name__ for m in net.children()]
n_modules = len(list(net.modules()))
names = [n for n, _ in net.named_modules()]
""", "kids n_modules names")
t.add("share_memory_returns_module", EX_HOGWILD_MAIN, """
    model = nn.Linear(5, 3)
    r = model.share_memory() is model
""", "r")
t.add("model_call_shapes_lenet", TU_BLITZ_NN, CIFAR_NET + """
net = Net()
out = net(torch.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)))
shape = out.shape
""", "shape")
t.add("grad_of_conv_bias_after_backward", TU_BLITZ_NN, """
    conv1 = nn.Conv2d(3, 6, 5)
    conv1.load_state_dict({'weight': torch.full((6, 3, 5, 5), 0.01), 'bias': torch.zeros(6)})
    out = conv1(torch.tensor(IMG))
    loss = (out ** 2).mean()
    conv1.zero_grad()
    before = conv1.bias.grad
    loss.backward()
    after = conv1.bias.grad
""", "before after")
t.add("tiny_model_grad_then_step_changes_weights", TU_INTROYT_AUTOGRAD, SET_LINEAR + """
layer = nn.Linear(5, 3)
set_weights(layer, C[:3], W)
optimizer = torch.optim.SGD(layer.parameters(), lr=0.001)
prediction = layer(torch.tensor(A))
loss = (torch.tensor(A[:, :3]) - prediction).pow(2).sum()
loss.backward()
before = layer.weight.clone()
optimizer.step()
after = layer.weight
g = layer.weight.grad
""", "before after g")

# -------------------------------------------------------------------------------- F.*
t.add("F_relu_max_pool2d_tuple_and_int", TU_BLITZ_NN, """
    x = torch.tensor(IMG)
    a = F.max_pool2d(F.relu(x), (2, 2))
    b = F.max_pool2d(x, 2)
""", "a b")
t.add("F_log_softmax_nll_loss", EX_MNIST, """
    output = F.log_softmax(torch.tensor(A), dim=1)
    target = torch.tensor([1, 0, 4, 2])
    loss = F.nll_loss(output, target)
    total = F.nll_loss(output, target, reduction='sum').item()
""", "output loss total")
t.add("F_nll_loss_size_average_false", EX_MNIST, """
    output = F.log_softmax(torch.tensor(A), dim=1)
    target = torch.tensor([1, 0, 4, 2])
    s = F.nll_loss(output, target, size_average=False).item()
""", "s")
t.add("F_cross_entropy_and_module", TU_QUICKSTART, """
    pred = torch.tensor(A)
    y = torch.tensor([1, 0, 4, 2])
    a = F.cross_entropy(pred, y)
    b = nn.CrossEntropyLoss()(pred, y)
""", "a b")
t.add("mse_loss_sum_module", TU_POLY_NN, """
    loss_fn = torch.nn.MSELoss(reduction='sum')
    loss = loss_fn(torch.tensor(V), torch.tensor(V[::-1].copy()))
    m = nn.MSELoss()(torch.tensor(A), torch.tensor(C))
""", "loss m")
t.add("mse_loss_with_view_target", TU_BLITZ_NN, """
    output = torch.tensor(A[:1])
    target = torch.tensor(C[0])
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
""", "loss")
t.add("binary_cross_entropy_sum", EX_VAE, """
    recon_x = torch.tensor(PROB)
    x = torch.tensor(PROB[::-1].copy())
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 5), reduction='sum')
""", "BCE")
t.add("binary_cross_entropy_with_logits", TU_AUTOGRADQS, """
    z = torch.tensor(W)
    y = torch.zeros(3)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
""", "loss")
t.add("kl_term_of_vae", EX_VAE, """
    mu, logvar = torch.tensor(A), torch.tensor(C) * 0.1
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
""", "KLD")
t.add("reparameterize_randn_like", EX_VAE, """
    mu, logvar = torch.tensor(A), torch.tensor(C) * 0.1
    std = torch.exp(0.5*logvar)
    eps = torch.randn_like(std)
    z = mu + eps*std
""", "z", random=True)
t.add("F_dropout_training_false", EX_MNIST, """
    x = torch.tensor(A)
    y = F.dropout(x, training=False)
""", "y")
t.add("F_softmax_dim_and_sigmoid", PT_EXTENDING, """
    x = torch.tensor(A)
    a, b, c = F.softmax(x, dim=1), F.sigmoid(x), F.tanh(x)
""", "a b c")
t.add("F_linear", PT_EXTENDING, """
    y = F.linear(torch.tensor(A), torch.tensor(C[:3]), torch.tensor(W))
""", "y")
t.add("F_conv2d", PT_EXTENDING, """
    y = F.conv2d(torch.tensor(IMG), torch.tensor(IMG[:, :, :3, :3]), padding=1)
""", "y")
t.add("shared_parameter_counted_once", EX_WLM_MODEL, """
    lin = nn.Linear(4, 4)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    n_params = len(list(seq.parameters()))
    names = [n for n, _ in seq.named_parameters()]
    keys = list(seq.state_dict().keys())
""", "n_params names keys")
t.add("tied_weights_share_gradient", EX_WLM_MODEL, """
    encoder = nn.Linear(3, 4, bias=False)
    decoder = nn.Linear(4, 3, bias=False)
    decoder.weight = nn.Parameter(encoder.weight.detach().t().contiguous())
    encoder.weight = decoder.weight
    same = encoder.weight is decoder.weight
""", "same")
t.add("assigning_plain_tensor_to_parameter_raises", PT_EXTENDING, """
    m = nn.Linear(5, 3)
    m.weight = torch.zeros(3, 5)
""", raises=TypeError)
