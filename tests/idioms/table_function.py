"""Custom autograd: ``torch.autograd.Function`` with ``ctx`` (``save_for_backward``, ``saved_tensors``,
``needs_input_grad``, ``mark_non_differentiable``, plain attributes), ``Function.apply``, and
``torch.autograd.gradcheck``."""

from .harness import Table
from .sources import PT_EXTENDING, TU_POLY_FUNCTION, TU_TWO_LAYER_FUNCTION

t = Table("function")

LEGENDRE = '''
class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)
'''

MY_RELU = '''
class MyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input
'''

LINEAR = '''
from torch.autograd import Function

class LinearFunction(Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None):
        ctx.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias

linear = LinearFunction.apply
'''

MUL_CONSTANT = '''
class MulConstant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None
'''

WRONG_SQUARE = '''
class WrongSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 3 * x
'''

t.add("legendre_forward_and_grad", TU_POLY_FUNCTION, LEGENDRE + """
x = torch.tensor(V, requires_grad=True)
P3 = LegendrePolynomial3.apply
y = P3(x)
y.sum().backward()
g = x.grad
flag = y.requires_grad
""", "y g flag")
t.add("legendre_in_polynomial_model", TU_POLY_FUNCTION, LEGENDRE + """
x = torch.linspace(-math.pi, math.pi, 50)
y = torch.sin(x)
a = torch.full((), 0.0, requires_grad=True)
b = torch.full((), -1.0, requires_grad=True)
c = torch.full((), 0.0, requires_grad=True)
d = torch.full((), 0.3, requires_grad=True)
P3 = LegendrePolynomial3.apply
y_pred = a + b * P3(c + d * x)
loss = (y_pred - y).pow(2).sum()
loss.backward()
grads = [a.grad, b.grad, c.grad, d.grad]
""", "loss grads", atol=1e-4,
      note="a.grad and c.grad are 0 analytically (odd function on a symmetric grid): round-off of ~1e-6 either way")
t.add("legendre_trains_under_no_grad_updates", TU_POLY_FUNCTION, LEGENDRE + """
x = torch.linspace(-math.pi, math.pi, 100)
y = torch.sin(x)
a = torch.full((), 0.0, requires_grad=True)
b = torch.full((), -1.0, requires_grad=True)
c = torch.full((), 0.0, requires_grad=True)
d = torch.full((), 0.3, requires_grad=True)
learning_rate = 5e-6
losses = []
for t in range(30):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
final = [a, b, c, d]
decreased = losses[-1] < losses[0]
""", "final decreased", rtol=1e-3)
t.add("my_relu_mask_setitem_backward", TU_TWO_LAYER_FUNCTION, MY_RELU + """
x = torch.tensor(A)
w1 = torch.tensor(B, requires_grad=True)
relu = MyReLU.apply
y_pred = relu(x.mm(w1))
loss = y_pred.pow(2).sum()
loss.backward()
g = w1.grad
""", "y_pred loss g")
t.add("my_relu_apply_on_plain_tensor", TU_TWO_LAYER_FUNCTION, MY_RELU + """
y = MyReLU.apply(torch.tensor(A))
r = [y.requires_grad, y.grad_fn is None]
""", "y r")
t.add("linear_function_needs_input_grad", PT_EXTENDING, LINEAR + """
input = torch.tensor(A, requires_grad=True)
weight = torch.tensor(C[:3], requires_grad=True)
bias = torch.tensor(W, requires_grad=True)
out = linear(input, weight, bias)
out.pow(2).sum().backward()
grads = [input.grad, weight.grad, bias.grad]
""", "out grads")
t.add("linear_function_without_bias", PT_EXTENDING, LINEAR + """
input = torch.tensor(A)
weight = torch.tensor(C[:3], requires_grad=True)
out = linear(input, weight)
out.sum().backward()
gw = weight.grad
gi = input.grad
""", "out gw gi")
t.add("needs_input_grad_flags", PT_EXTENDING, """
seen = []

class Probe(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b, k):
        return a * b * k

    @staticmethod
    def backward(ctx, grad_output):
        seen.append(tuple(ctx.needs_input_grad))
        return grad_output, None, None

a = torch.tensor(V, requires_grad=True)
b = torch.tensor(V)
Probe.apply(a, b, 2.0).sum().backward()
flags = seen[0]
""", "flags")
t.add("mul_constant_non_tensor_argument", PT_EXTENDING, MUL_CONSTANT + """
x = torch.tensor(V, requires_grad=True)
y = MulConstant.apply(x, 5.5)
y.sum().backward()
g = x.grad
""", "y g")
t.add("linear_module_using_function", PT_EXTENDING, LINEAR + """
class Linear(nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super(Linear, self).__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = nn.Parameter(torch.empty(output_features, input_features))
        if bias:
            self.bias = nn.Parameter(torch.empty(output_features))
        else:
            self.register_parameter('bias', None)
        self.weight.data.uniform_(-0.1, 0.1)
        if self.bias is not None:
            self.bias.data.uniform_(-0.1, 0.1)

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)

m = Linear(5, 3)
names = [n for n, _ in m.named_parameters()]
with torch.no_grad():
    m.weight.copy_(torch.tensor(C[:3]))
    m.bias.copy_(torch.tensor(W))
out = m(torch.tensor(A))
out.sum().backward()
gw = m.weight.grad
m2 = Linear(5, 3, bias=False)
names2 = [n for n, _ in m2.named_parameters()]
""", "names out gw names2")
t.add("mark_non_differentiable_indices", PT_EXTENDING, """
class SortWithIndices(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, indices = x.sort()
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        indices, = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        grad.scatter_(0, indices, grad_values)
        return grad

x = torch.tensor(V, requires_grad=True)
values, indices = SortWithIndices.apply(x)
(values * torch.arange(5.)).sum().backward()
g = x.grad
r = [values.requires_grad, indices.requires_grad]
""", "values indices g r")
t.add("function_with_two_outputs", PT_EXTENDING, """
class SplitHalves(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 * 2 + g2 * 3

x = torch.tensor(V, requires_grad=True)
a, b = SplitHalves.apply(x)
(a.sum() + (b ** 2).sum()).backward()
g = x.grad
""", "a b g")
t.add("ctx_attributes_and_saved_output", PT_EXTENDING, """
class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result

x = torch.tensor(V, requires_grad=True)
y = Exp.apply(x)
y.sum().backward()
g = x.grad
""", "y g")
t.add("function_under_no_grad", PT_EXTENDING, MUL_CONSTANT + """
x = torch.tensor(V, requires_grad=True)
with torch.no_grad():
    y = MulConstant.apply(x, 2.0)
r = y.requires_grad
""", "y r")
t.add("gradcheck_passes_for_correct_backward", PT_EXTENDING, LINEAR + """
from torch.autograd import gradcheck
input = (torch.tensor(D, requires_grad=True), torch.tensor(D[:3] * 0.5, requires_grad=True))
test = gradcheck(linear, input, eps=1e-6, atol=1e-4)
""", "test")
t.add("gradcheck_raises_for_wrong_backward", PT_EXTENDING, WRONG_SQUARE + """
ok = torch.autograd.gradcheck(WrongSquare.apply, (torch.tensor(D[0], requires_grad=True),))
""", raises=RuntimeError)
t.add("gradcheck_raise_exception_false", PT_EXTENDING, WRONG_SQUARE + """
ok = torch.autograd.gradcheck(WrongSquare.apply, (torch.tensor(D[0], requires_grad=True),),
                              raise_exception=False)
""", "ok")
t.add("backward_returning_wrong_count_raises", PT_EXTENDING, """
class Bad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output

a = torch.tensor(V, requires_grad=True)
b = torch.tensor(V, requires_grad=True)
Bad.apply(a, b).sum().backward()
""", raises=RuntimeError)
t.add("legacy_function_instance_call_raises", TU_TWO_LAYER_FUNCTION, MY_RELU + """
y = MyReLU()(torch.tensor(A, requires_grad=True))
""", raises=RuntimeError)
