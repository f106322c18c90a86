"""Optimizers and learning-rate schedulers with PyTorch's names, defaults, update rules and state dicts.

Parameters are leaf tensors (e.g. ``nn.Parameter``); each ``step()`` reads ``p.grad.data`` and updates
``p.data`` in place, keeping its identity and dtype::

    opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
    sched = minidl.optim.lr_scheduler.StepLR(opt, step_size=10)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD",
           "LBFGS", "lr_scheduler"]
