"""Datasets and the DataLoader: ``TensorDataset``, custom ``Dataset`` subclasses, default collation of
tensors, ints, floats, NumPy arrays and dicts, ``random_split``."""

from .harness import Table
from .sources import (
    EX_FF,
    EX_HOGWILD_TRAIN,
    EX_MNIST,
    PT_TORCH_DOCS,
    TU_BLITZ_CIFAR,
    TU_OPTIMIZATION,
    TU_QUICKSTART,
    TU_TRANSFORMS,
)

t = Table("data")

DATASET = '''
from torch.utils.data import Dataset, DataLoader

class PairDataset(Dataset):
    def __init__(self):
        self.images = IMG
        self.labels = [int(v) for v in LABELS[:2]]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return torch.tensor(self.images[idx]), self.labels[idx]
'''

t.add("tensor_dataset_len_and_item", PT_TORCH_DOCS, """
    from torch.utils.data import TensorDataset
    ds = TensorDataset(torch.tensor(A), torch.tensor(LABELS))
    n = len(ds)
    x0, y0 = ds[0]
""", "n x0 y0")
t.add("dataloader_batches_of_tensor_dataset", TU_QUICKSTART, """
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.tensor(A), torch.tensor(LABELS))
    loader = DataLoader(ds, batch_size=3)
    batches = [(X, y) for X, y in loader]
    n_batches = len(loader)
""", "batches n_batches")
t.add("dataloader_shapes_and_label_dtype", TU_QUICKSTART, DATASET + """
loader = DataLoader(PairDataset(), batch_size=2)
for X, y in loader:
    shape = X.shape
    ydtype = y.dtype
    break
line = f"Shape of y: {tuple(y.shape)} {y.dtype}"
""", "X y shape ydtype")
t.add("collate_tensor_int_pairs", TU_BLITZ_CIFAR, DATASET + """
loader = torch.utils.data.DataLoader(PairDataset(), batch_size=2, shuffle=False)
dataiter = iter(loader)
images, labels = next(dataiter)
kinds = [isinstance(images, torch.Tensor), isinstance(labels, torch.Tensor)]
""", "images labels kinds")
t.add("collate_python_floats_is_float64", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader
    loader = DataLoader([(1.5, 2), (2.5, 3), (0.5, 1)], batch_size=3)
    xs, ys = next(iter(loader))
""", "xs ys")
t.add("collate_numpy_arrays_become_tensors", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader
    samples = [(A[i], int(LABELS[i])) for i in range(4)]
    X, y = next(iter(DataLoader(samples, batch_size=4)))
    kinds = [type(X).__name__, type(y).__name__]
""", "X y kinds")
t.add("collate_float64_arrays_keep_float64", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader
    X = next(iter(DataLoader([D[i] for i in range(4)], batch_size=2)))
""", "X")
t.add("collate_dict_samples", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader
    samples = [{'x': torch.tensor(A[i]), 'y': int(LABELS[i])} for i in range(4)]
    batch = next(iter(DataLoader(samples, batch_size=4)))
    keys = sorted(batch.keys())
    x, y = batch['x'], batch['y']
""", "keys x y")
t.add("collate_one_hot_target", TU_TRANSFORMS, """
    from torch.utils.data import DataLoader
    samples = [(torch.tensor(A[i]), torch.zeros(5, dtype=torch.float).scatter_(0, torch.tensor(int(LABELS[i])), value=1))
               for i in range(4)]
    X, Y = next(iter(DataLoader(samples, batch_size=4)))
""", "X Y")
t.add("len_dataset_and_loader", EX_MNIST, """
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.tensor(A), torch.tensor(LABELS))
    loader = DataLoader(ds, batch_size=3)
    r = [len(loader.dataset), len(loader), 100. * 1 / len(loader)]
""", "r")
t.add("drop_last", TU_OPTIMIZATION, """
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.tensor(A))
    sizes = [len(b[0]) for b in DataLoader(ds, batch_size=3, drop_last=True)]
""", "sizes")
t.add("shuffle_keeps_pairs_and_content", EX_HOGWILD_TRAIN, """
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.arange(8.), torch.arange(8))
    xs, ys = [], []
    for x, y in DataLoader(ds, batch_size=3, shuffle=True):
        xs += x.tolist()
        ys += y.tolist()
    pairs_ok = all(float(a) == float(b) for a, b in zip(xs, ys))
    content = sorted(ys)
""", "pairs_ok content")
t.add("whole_dataset_in_one_batch", EX_FF, """
    from torch.utils.data import DataLoader, TensorDataset
    ds = TensorDataset(torch.tensor(A), torch.tensor(LABELS))
    x, y = next(iter(DataLoader(ds, batch_size=50000)))
""", "x y")
t.add("loader_of_plain_tensor", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader
    batches = list(DataLoader(torch.tensor(A), batch_size=2))
""", "batches")
t.add("random_split_lengths", PT_TORCH_DOCS, """
    from torch.utils.data import random_split, TensorDataset
    ds = TensorDataset(torch.arange(10.))
    a, b = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(42))
    r = [len(a), len(b)]
""", "r")
t.add("random_split_fractions", PT_TORCH_DOCS, """
    from torch.utils.data import random_split, TensorDataset
    ds = TensorDataset(torch.arange(10.))
    a, b = random_split(ds, [0.8, 0.2])
    r = [len(a), len(b)]
""", "r")
t.add("dataloader_generator_argument", PT_TORCH_DOCS, """
    from torch.utils.data import DataLoader, TensorDataset
    g = torch.Generator()
    g.manual_seed(0)
    ds = TensorDataset(torch.arange(6))
    order = [b[0].tolist() for b in DataLoader(ds, batch_size=6, shuffle=True, generator=g)][0]
    content = sorted(order)
""", "content")
