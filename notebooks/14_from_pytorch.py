# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 14. From PyTorch to minidl: one script, two imports
#
# minidl speaks PyTorch's API: the same names, signatures, dtype rules, layouts and `state_dict` keys. So a
# PyTorch training script runs on minidl when its import line changes, and nothing else. Here one script
# (a small CNN on synthetic data, SGD with momentum, a learning-rate schedule, `state_dict` saved and loaded
# back) runs twice: once with `import torch`, once with `import minidl as torch`. Both start from the same
# weights (the script loads them from a `.npz` file), so their losses can be compared step by step.

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import minidl

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-from-pytorch-"))
OUT.mkdir(parents=True, exist_ok=True)
STEPS = 20 if QUICK else 100

SCRIPT = '''
import json, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))

model = Net()
start = np.load("start.npz")
model.load_state_dict({k: torch.from_numpy(start[k]) for k in start.files})
data = np.load("data.npz")
x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
losses = []
for step in range(int(sys.argv[1])):
    xb, yb = x[step % 8 * 32:(step % 8 + 1) * 32], y[step % 8 * 32:(step % 8 + 1) * 32]
    opt.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
print(json.dumps({"losses": losses, "accuracy": accuracy, "keys": list(model.state_dict())}))
'''

# %% [markdown]
# The same start for both: minidl builds the model once and saves its weights; the data is random images
# whose class is which quadrant is brightest, so there is something to learn.

# %%
rng = np.random.default_rng(0)
x = rng.random((256, 1, 14, 14), dtype=np.float32)
y = rng.integers(0, 4, 256)
for i, c in enumerate(y):
    x[i, 0, (c // 2) * 7:(c // 2 + 1) * 7, (c % 2) * 7:(c % 2 + 1) * 7] += 1.0
np.savez(OUT / "data.npz", x=x, y=y)
(OUT / "with_torch.py").write_text(SCRIPT)
(OUT / "with_minidl.py").write_text(SCRIPT.replace("import torch\n", "import minidl as torch\n", 1)
                                    .replace("import torch.nn as nn", "import minidl.nn as nn")
                                    .replace("import torch.nn.functional as F", "import minidl.nn.functional as F"))
exec(compile(SCRIPT.split("model = Net()")[0].replace("import torch\n", "import minidl as torch\n", 1)
             .replace("import torch.nn as nn", "import minidl.nn as nn")
             .replace("import torch.nn.functional as F", "import minidl.nn.functional as F"), "net", "exec"))
minidl.manual_seed(0)
np.savez(OUT / "start.npz", **{k: v.numpy() for k, v in Net().state_dict().items()})  # noqa: F821
print("the minidl copy differs only in its imports:")
for a, b in zip(SCRIPT.splitlines(), (OUT / "with_minidl.py").read_text().splitlines(), strict=True):
    if a != b:
        print(f"  - {a}\n  + {b}")


# %%
def run(script: str) -> dict:
    done = subprocess.run([sys.executable, script, str(STEPS)], capture_output=True, text=True, cwd=OUT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


ours = run("with_minidl.py")
try:
    import torch  # noqa: F401

    theirs = run("with_torch.py")
except ImportError:  # without PyTorch the comparison shows minidl's side only
    theirs = None

# %% [markdown]
# Side by side: the loss at every fifth step, and the final training accuracy.

# %%
print(f"{'step':>5} {'minidl':>10} {'PyTorch':>10}")
for step in range(0, STEPS, 5):
    print(f"{step:>5} {ours['losses'][step]:>10.5f} {theirs['losses'][step] if theirs else float('nan'):>10.5f}")
print(f"accuracy: minidl {ours['accuracy']:.3f}, PyTorch {theirs['accuracy'] if theirs else float('nan'):.3f}")
assert ours["losses"][-1] < ours["losses"][0]
if theirs is not None:
    assert ours["keys"] == theirs["keys"]  # the same state_dict keys, so weights move both ways
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-3, atol=1e-4)
