"""``torch.save``/``torch.load`` as the tutorials and recipes use them: tensors, state dicts, general
checkpoints with optimizer state and plain values, file objects, ``map_location`` and ``weights_only``.
Every snippet writes into its own empty directory ``TMP``."""

import pickle

from .harness import Table
from .sources import (
    EX_MNIST,
    EX_WLM_MAIN,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_CHECKPOINT,
    TU_INFERENCE,
    TU_QUICKSTART,
    TU_SAVELOAD,
)

t = Table("saveload")

CHECKPOINT = '''
import os
net = nn.Linear(5, 3)
net.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
F.cross_entropy(net(torch.tensor(A)), torch.tensor(LABELS % 3)).backward()
optimizer.step()
EPOCH = 5
PATH = os.path.join(TMP, "model.pt")
LOSS = 0.4
torch.save({
            'epoch': EPOCH,
            'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': LOSS,
            }, PATH)
'''

t.add("save_load_state_dict_roundtrip", TU_QUICKSTART, """
    import os
    model = nn.Linear(5, 3)
    model.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    path = os.path.join(TMP, "model.pth")
    torch.save(model.state_dict(), path)
    model2 = nn.Linear(5, 3)
    model2.load_state_dict(torch.load(path, weights_only=True))
    w, b = model2.weight, model2.bias
    out = model2(torch.tensor(A))
""", "w b out")
t.add("loaded_state_dict_keys_and_tensors", TU_INFERENCE, """
    import os
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    PATH = os.path.join(TMP, "state_dict_model.pt")
    torch.save(net.state_dict(), PATH)
    sd = torch.load(PATH)
    keys = list(sd.keys())
    kinds = [isinstance(v, torch.Tensor) for v in sd.values()]
    grads = [v.requires_grad for v in sd.values()]
""", "keys kinds grads")
t.add("load_default_then_eval", TU_BLITZ_CIFAR, """
    import os
    PATH = os.path.join(TMP, 'cifar_net.pth')
    net = nn.Linear(5, 3)
    net.load_state_dict({'weight': torch.tensor(C[:3]), 'bias': torch.tensor(W)})
    torch.save(net.state_dict(), PATH)
    net = nn.Linear(5, 3)
    net.load_state_dict(torch.load(PATH))
    net.eval()
    outputs = net(torch.tensor(A))
""", "outputs")
t.add("save_load_single_tensor", PT_TORCH_DOCS, """
    import os
    x = torch.tensor([0, 1, 2, 3, 4])
    torch.save(x, os.path.join(TMP, "tensor.pt"))
    y = torch.load(os.path.join(TMP, "tensor.pt"))
    f = torch.tensor(D)
    torch.save(f, os.path.join(TMP, "f.pt"))
    g = torch.load(os.path.join(TMP, "f.pt"))
""", "y g")
t.add("save_load_file_objects", EX_WLM_MAIN, """
    import os
    sd = nn.Linear(5, 3).state_dict()
    path = os.path.join(TMP, 'model.pt')
    with open(path, 'wb') as f:
        torch.save(sd, f)
    with open(path, 'rb') as f:
        loaded = torch.load(f)
    same = all(torch.equal(sd[k], loaded[k]) for k in sd)
""", "same")
t.add("save_load_bytes_buffer", PT_TORCH_DOCS, """
    import io
    buffer = io.BytesIO()
    torch.save({'w': torch.tensor(A)}, buffer)
    buffer.seek(0)
    w = torch.load(buffer)['w']
""", "w")
t.add("save_load_pathlib_path", PT_TORCH_DOCS, """
    import pathlib
    path = pathlib.Path(TMP) / "t.pt"
    torch.save(torch.tensor(I), path)
    x = torch.load(path)
""", "x")
t.add("general_checkpoint_values", TU_CHECKPOINT, CHECKPOINT + """
checkpoint = torch.load(PATH)
epoch = checkpoint['epoch']
loss = checkpoint['loss']
keys = list(checkpoint.keys())
model_keys = list(checkpoint['model_state_dict'].keys())
opt_keys = list(checkpoint['optimizer_state_dict'].keys())
""", "epoch loss keys model_keys opt_keys")
t.add("general_checkpoint_resumes_model_and_optimizer", TU_CHECKPOINT, CHECKPOINT + """
model = nn.Linear(5, 3)
optimizer2 = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer2.load_state_dict(checkpoint['optimizer_state_dict'])
model.train()
F.cross_entropy(model(torch.tensor(A)), torch.tensor(LABELS % 3)).backward()
optimizer2.step()
w = model.weight
buf = optimizer2.state_dict()['state'][0]['momentum_buffer']
""", "w buf")
t.add("load_map_location_string_and_device", EX_MNIST, """
    import os
    path = os.path.join(TMP, "mnist_cnn.pt")
    torch.save(nn.Linear(3, 2).state_dict(), path)
    a = torch.load(path, map_location='cpu')
    b = torch.load(path, map_location=torch.device('cpu'))
    device = a['weight'].device
    same = torch.equal(a['weight'], b['weight'])
""", "device same")
t.add("save_nested_containers_and_plain_values", TU_CHECKPOINT, """
    import os
    obj = {'list': [torch.tensor(V), 3, 'text', None], 'tuple': (1.5, torch.tensor(I)), 'flag': True,
           'nested': {'x': torch.zeros(2)}}
    path = os.path.join(TMP, "obj.pt")
    torch.save(obj, path)
    back = torch.load(path)
""", "back")
t.add("save_preserves_dtypes", PT_TORCH_DOCS, """
    import os
    path = os.path.join(TMP, "d.pt")
    torch.save({'f32': torch.tensor(A), 'f64': torch.tensor(D), 'i64': torch.tensor(I),
                'b': torch.tensor([True, False])}, path)
    back = torch.load(path)
    dtypes = [v.dtype for v in back.values()]
""", "dtypes")
t.add("save_entire_model_weights_only_false", TU_INFERENCE, """
    import os
    net = nn.Linear(5, 3)
    PATH = os.path.join(TMP, "entire_model.pt")
    torch.save(net, PATH)
    model = torch.load(PATH, weights_only=False)
    model.eval()
    r = type(model).__name__
""", "r", minidl_may_raise=NotImplementedError,
      note="saving a whole module needs pickle; minidl never pickles, so a clear error naming the feature is "
           "the expected outcome")
t.add("load_entire_model_by_default_raises", TU_SAVELOAD, """
    import os
    net = nn.Linear(5, 3)
    PATH = os.path.join(TMP, "model.pth")
    torch.save(net, PATH)
    model = torch.load(PATH)
""", raises=pickle.UnpicklingError, also_accept=(ValueError, NotImplementedError),
      note="torch >= 2.6 loads with weights_only=True and refuses a pickled module (UnpicklingError); minidl "
           "refuses it with a clear CheckpointError (a ValueError) or UnsupportedError (a NotImplementedError)")
t.add("load_missing_file_raises", PT_TORCH_DOCS, """
    import os
    x = torch.load(os.path.join(TMP, "missing.pt"))
""", raises=FileNotFoundError)
t.add("save_into_missing_directory_raises", PT_TORCH_DOCS, """
    import os
    torch.save(torch.zeros(2), os.path.join(TMP, "no", "such", "dir.pt"))
""", raises=RuntimeError, also_accept=(OSError,),
      note="torch raises RuntimeError (parent directory does not exist); an OSError says the same")
