"""Optimizers and schedulers as the tutorials drive them: steps from set weights, ``zero_grad``,
``param_groups``, ``state_dict``, ``StepLR``."""

from .harness import Table
from .sources import (
    EX_DCGAN,
    EX_FF,
    EX_IMAGENET,
    EX_MNIST,
    EX_VAE,
    TU_BLITZ_CIFAR,
    TU_DQN,
    TU_DYNAMIC,
    TU_POLY_MODULE,
    TU_POLY_OPTIM,
    TU_QUICKSTART,
    TU_STATE_DICT,
)

t = Table("optim")

SETUP = '''
model = nn.Linear(5, 3)
model.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
x = torch.tensor(A)
y = torch.tensor(LABELS % 3)

def step(optimizer, n=3):
    losses = []
    for _ in range(n):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
'''

t.add("sgd_steps", TU_POLY_OPTIM, SETUP + """
losses = step(torch.optim.SGD(model.parameters(), lr=0.1))
w, b = model.weight, model.bias
""", "losses w b")
t.add("sgd_momentum_steps", TU_BLITZ_CIFAR, SETUP + """
losses = step(optim.SGD(model.parameters(), lr=0.001, momentum=0.9), n=4)
w = model.weight
""", "losses w")
t.add("sgd_nesterov_weight_decay", TU_DYNAMIC, SETUP + """
losses = step(optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2))
w = model.weight
""", "losses w")
t.add("adam_steps", EX_VAE, SETUP + """
losses = step(optim.Adam(model.parameters(), lr=1e-3))
w = model.weight
""", "losses w")
t.add("adam_betas", EX_DCGAN, SETUP + """
losses = step(optim.Adam(model.parameters(), lr=0.0002, betas=(0.5, 0.999)))
w = model.weight
""", "losses w")
t.add("adamw_weight_decay", EX_FF, SETUP + """
losses = step(optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1))
w = model.weight
""", "losses w")
t.add("rmsprop_default", TU_DQN, SETUP + """
losses = step(optim.RMSprop(model.parameters()))
w = model.weight
""", "losses w")
t.add("zero_grad_sets_none", TU_QUICKSTART, SETUP + """
opt = optim.SGD(model.parameters(), lr=0.1)
F.cross_entropy(model(x), y).backward()
opt.zero_grad()
r = [p.grad is None for p in model.parameters()]
""", "r")
t.add("step_after_backward_then_zero_grad_order", TU_QUICKSTART, SETUP + """
opt = torch.optim.SGD(model.parameters(), lr=1e-1)
for _ in range(2):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
w = model.weight
""", "w")
t.add("param_groups_lr_set", EX_IMAGENET, SETUP + """
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for param_group in optimizer.param_groups:
    param_group['lr'] = 0.01
lr = optimizer.param_groups[0]['lr']
losses = step(optimizer, n=2)
""", "lr losses")
t.add("param_groups_keys", TU_STATE_DICT, SETUP + """
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
g = optimizer.param_groups[0]
r = [g['lr'], g['momentum'], g['dampening'], g['weight_decay'], g['nesterov'], len(g['params'])]
""", "r")
t.add("optimizer_state_dict_structure", TU_STATE_DICT, SETUP + """
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
step(optimizer, n=1)
sd = optimizer.state_dict()
keys = list(sd.keys())
params = sd['param_groups'][0]['params']
state_keys = sorted(sd['state'].keys())
buf = sd['state'][0]['momentum_buffer']
""", "keys params state_keys buf")
t.add("optimizer_load_state_dict_resumes", TU_STATE_DICT, SETUP + """
opt1 = optim.Adam(model.parameters(), lr=1e-2)
step(opt1, n=2)
opt2 = optim.Adam(model.parameters(), lr=1e-2)
opt2.load_state_dict(opt1.state_dict())
losses = step(opt2, n=2)
w = model.weight
""", "losses w")
t.add("separate_param_groups", TU_POLY_MODULE, SETUP + """
optimizer = optim.SGD([{'params': [model.weight]}, {'params': [model.bias], 'lr': 1.0}], lr=0.1)
losses = step(optimizer, n=2)
w, b = model.weight, model.bias
""", "losses w b")
t.add("steplr_schedule", EX_MNIST, SETUP + """
from torch.optim.lr_scheduler import StepLR
optimizer = optim.SGD(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
lrs = []
for epoch in range(1, 4):
    step(optimizer, n=1)
    scheduler.step()
    lrs.append(optimizer.param_groups[0]['lr'])
last = scheduler.get_last_lr()
""", "lrs last")
t.add("optimizer_on_list_of_leaf_tensors", EX_FF, """
    a = torch.tensor(V, requires_grad=True)
    opt = optim.Adam([a], lr=0.03)
    for _ in range(3):
        loss = torch.log1p(torch.exp(a - 2.0)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
""", "a")
t.add("optimizer_rejects_non_leaf", EX_FF, """
    a = torch.tensor(V, requires_grad=True) * 2
    opt = optim.SGD([a], lr=0.1)
""", raises=ValueError)
