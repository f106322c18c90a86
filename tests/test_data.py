"""minidl.utils.data: datasets, samplers, collate and the DataLoader (fast path, seeding, exact resume)."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from conftest import requires_torch, torch
from minidl.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)


def _xy(n: int = 10, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = rng or np.random.default_rng(0)
    return rng.standard_normal((n, 3, 2)).astype(np.float32), rng.integers(0, 5, size=n)


class CountingDataset(Dataset):
    """A TensorDataset-like dataset that counts per-item calls; optionally with a batch fetcher."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batched: bool) -> None:
        self.x, self.y, self.batched, self.calls = x, y, batched, 0

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        self.calls += 1
        return self.x[i], int(self.y[i])

    def batch_fetcher(self):
        if not self.batched:
            return None
        return lambda idx: (self.x[idx], self.y[idx].astype(np.int64))


def _slow_collate(batch):
    """Same result as default_collate, but not identical to it: forces the per-item path."""
    return default_collate(batch)


def _as_arrays(batch) -> list[np.ndarray]:
    return [t.data for t in batch]


# ----------------------------------------------------------------------------------------- datasets
def test_tensor_dataset_items_share_memory_and_keep_dtypes():
    x, y = _xy()
    tx = minidl.tensor(x)
    ds = TensorDataset(tx, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, minidl.Tensor) and isinstance(yi, minidl.Tensor)
    np.testing.assert_array_equal(xi.data, x[3])
    assert yi.item() == y[3] and yi.dtype == np.int64
    assert xi.dtype == np.float32
    tx.data[3, 0, 0] = 42.0  # a tensor's memory is shared, as in PyTorch
    assert ds[3][0].data[0, 0] == 42.0
    assert ds.arrays()[1] is y


def test_tensor_dataset_converts_lists_with_minidl_dtype_rules():
    ds = TensorDataset([[0.5, 1.5], [2.5, 3.5]], [1, 0])
    assert ds.arrays()[0].dtype == np.float32 and ds.arrays()[1].dtype == np.int64


@pytest.mark.parametrize("bad", [(np.zeros((3, 2)), np.zeros(4)), (np.zeros(3), np.float32(1.0))])
def test_tensor_dataset_rejects_mismatched_first_dims(bad):
    with pytest.raises(ValueError, match=r"TensorDataset.*same size.*shapes"):
        TensorDataset(*bad)
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_maps_indices_and_validates_them():
    x, y = _xy()
    ds = TensorDataset(x, y)
    sub = Subset(ds, [7, -1, 2])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[1][0].data, x[9])
    np.testing.assert_array_equal(sub.indices, [7, 9, 2])
    with pytest.raises(IndexError, match=r"\[-10, 10\)"):
        Subset(ds, [0, 10])
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        Subset(ds, [0.5])


def test_concat_dataset_indexes_across_parts():
    a = TensorDataset(np.arange(3))
    b = TensorDataset(np.arange(10, 15))
    cat = a + b
    assert isinstance(cat, ConcatDataset) and len(cat) == 8
    assert [cat[i][0].item() for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert cat[-1][0].item() == 14
    with pytest.raises(IndexError):
        cat[8]


def test_random_split_counts_partition_and_seed():
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, [3, 7], generator=np.random.default_rng(5))
    assert [len(p) for p in parts] == [3, 7]
    got = np.sort(np.concatenate([p.indices for p in parts]))
    np.testing.assert_array_equal(got, np.arange(10))
    again = random_split(ds, [3, 7], generator=np.random.default_rng(5))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    minidl.manual_seed(3)
    a = random_split(ds, [0.5, 0.5])
    minidl.manual_seed(3)
    b = random_split(ds, [0.5, 0.5])
    np.testing.assert_array_equal(a[0].indices, b[0].indices)


@requires_torch
@pytest.mark.parametrize(("n", "fracs"), [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.3, 0.4])])
def test_random_split_fraction_lengths_match_torch(n, fracs):
    ds = TensorDataset(np.arange(n))
    ours = [len(p) for p in random_split(ds, fracs, generator=0)]
    theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
    assert ours == theirs


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.2, -0.2], []])
def test_random_split_rejects_bad_lengths(lengths):
    with pytest.raises(ValueError, match="random_split"):
        random_split(TensorDataset(np.arange(10)), lengths)


# ----------------------------------------------------------------------------------------- collate
def test_default_collate_dtypes_and_structure():
    Pair = namedtuple("Pair", "a b")
    batch = [
        {"img": np.full((2, 2), i, dtype=np.float32), "y": i, "w": 0.5 * i, "ok": i % 2 == 0,
         "name": f"s{i}", "p": Pair(np.float64(i), [i, i + 1])}
        for i in range(3)
    ]  # fmt: skip
    out = default_collate(batch)
    assert out["img"].shape == (3, 2, 2) and out["img"].dtype == np.float32
    assert out["y"].dtype == np.int64 and out["y"].tolist() == [0, 1, 2]
    assert out["w"].dtype == np.float64 and out["ok"].dtype == np.bool_  # Python floats: float64, as torch
    assert out["name"] == ["s0", "s1", "s2"]
    assert isinstance(out["p"], Pair) and out["p"].a.dtype == np.float64
    assert isinstance(out["p"].b, list) and out["p"].b[1].tolist() == [1, 2, 3]
    t = default_collate([(minidl.tensor(np.ones(2)), 1), (minidl.tensor(np.zeros(2)), 0)])
    assert isinstance(t, list) and t[0].dtype == np.float64 and t[0].shape == (2, 2)  # a list, as torch's


@requires_torch
def test_default_collate_values_match_torch():
    rng = np.random.default_rng(3)
    batch = [
        (rng.standard_normal((3, 4)), int(rng.integers(9)), {"z": rng.standard_normal(2)}) for _ in range(5)
    ]
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    np.testing.assert_array_equal(ours[0].data, theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].data, theirs[1].numpy())
    np.testing.assert_array_equal(ours[2]["z"].data, theirs[2]["z"].numpy())
    assert theirs[1].dtype == torch.int64 and ours[1].dtype == np.int64


def test_default_collate_errors_are_clear():
    with pytest.raises(ValueError, match=r"equal shapes.*\(2,\).*\(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="cannot collate samples of type object"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="empty batch"):
        default_collate([])


# ----------------------------------------------------------------------------------------- loader
def test_loader_sequential_batches_and_length():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[0]) for b in dropped] == [4, 4]


def test_loader_shuffle_is_a_fresh_permutation_each_epoch_and_seedable():
    ds = TensorDataset(np.arange(50))
    minidl.manual_seed(7)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    e1 = np.concatenate([b[0].data for b in loader])
    e2 = np.concatenate([b[0].data for b in loader])
    np.testing.assert_array_equal(np.sort(e1), np.arange(50))
    np.testing.assert_array_equal(np.sort(e2), np.arange(50))
    assert not np.array_equal(e1, e2) and not np.array_equal(e1, np.arange(50))
    minidl.manual_seed(7)
    again = np.concatenate([b[0].data for b in DataLoader(ds, batch_size=8, shuffle=True)])
    np.testing.assert_array_equal(e1, again)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), shuffle=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_loader_batches_partition_the_dataset(n, batch_size, drop_last, shuffle, seed):
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        generator=seed)
    sizes = [len(b[0]) for b in loader]
    got = [i for b in loader for i in b[0].data.tolist()]  # a second epoch: same partition property
    assert len(sizes) == len(loader) == (n // batch_size if drop_last else -(-n // batch_size))
    assert all(s == batch_size for s in sizes[:-1]) and (not drop_last or all(s == batch_size for s in sizes))
    assert len(got) == len(set(got)) == sum(sizes) and set(got) <= set(range(n))
    assert shuffle or got == list(range(len(got)))


def test_loader_explicit_generator_ignores_global_seed():
    ds = TensorDataset(np.arange(30))
    orders = []
    for seed in (1, 2):
        minidl.manual_seed(seed)
        loader = DataLoader(ds, batch_size=30, shuffle=True, generator=np.random.default_rng(11))
        orders.append(next(iter(loader))[0].data)
    np.testing.assert_array_equal(orders[0], orders[1])
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, shuffle=True, generator="seed")


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_gives_the_same_batches_as_per_item_path_without_item_calls(shuffle):
    x, y = _xy(23)
    fast_ds, slow_ds = CountingDataset(x, y, batched=True), CountingDataset(x, y, batched=False)
    fast = DataLoader(fast_ds, batch_size=5, shuffle=shuffle, generator=np.random.default_rng(4))
    slow = DataLoader(slow_ds, batch_size=5, shuffle=shuffle, generator=np.random.default_rng(4))
    for bf, bs in zip(fast, slow, strict=True):
        for tf, ts in zip(bf, bs, strict=True):
            assert tf.dtype == ts.dtype and tf.shape == ts.shape
            np.testing.assert_array_equal(tf.data, ts.data)
    assert fast_ds.calls == 0 and slow_ds.calls == 23


def test_fast_path_through_subset_and_custom_collate_uses_items():
    x, y = _xy(12)
    ds = CountingDataset(x, y, batched=True)
    sub = Subset(ds, [11, 0, 5, 6])
    (bx, by), = list(DataLoader(sub, batch_size=4))
    np.testing.assert_array_equal(bx.data, x[[11, 0, 5, 6]])
    assert ds.calls == 0
    seen = []
    loader = DataLoader(sub, batch_size=4, collate_fn=lambda samples: seen.append(samples) or len(samples))
    assert list(loader) == [4]
    assert ds.calls == 4 and isinstance(seen[0], list) and seen[0][0][1] == int(y[11])


def test_loader_accepts_samplers_batch_samplers_and_plain_sequences():
    ds = TensorDataset(np.arange(10))
    got = [b[0].data.tolist() for b in DataLoader(ds, batch_size=2, sampler=[9, 8, 7])]
    assert got == [[9, 8], [7]]
    bs = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    got = [b[0].data.tolist() for b in DataLoader(ds, batch_sampler=bs)]
    assert got == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    got = [b[0].data.tolist() for b in DataLoader(ds, batch_sampler=[[1, 3], [5]])]
    assert got == [[1, 3], [5]]
    data = [(np.float32(i), i) for i in range(5)]  # any sequence is a dataset
    xb, yb = next(iter(DataLoader(data, batch_size=5)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"shuffle": True, "sampler": [0, 1]}, "mutually exclusive"),
        ({"batch_sampler": [[0]], "batch_size": 2}, "mutually exclusive"),
        ({"num_workers": -1}, "num_workers"),
    ],
)
def test_loader_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)


def test_samplers():
    ds = TensorDataset(np.arange(6))
    rs = RandomSampler(ds, replacement=True, num_samples=20, generator=0)
    idx = list(rs)
    assert len(idx) == len(rs) == 20 and all(0 <= i < 6 for i in idx)
    assert sorted(RandomSampler(ds, generator=1)) == list(range(6))
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ds, num_samples=7)
    sub = SubsetRandomSampler([4, 2, 0], generator=3)
    assert sorted(sub) == [0, 2, 4] and len(sub) == 3
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]


# ----------------------------------------------------------------------------------------- resume
def _epoch_batches(it) -> list[list[int]]:
    return [b[0].data.tolist() for b in it]


@pytest.mark.parametrize("explicit_generator", [False, True])
def test_state_dict_resumes_mid_epoch_exactly(explicit_generator):
    ds = TensorDataset(np.arange(37))

    def make():
        gen = np.random.default_rng(99) if explicit_generator else None
        return DataLoader(ds, batch_size=5, shuffle=True, generator=gen)

    minidl.manual_seed(0)
    loader = make()
    _epoch_batches(loader)  # epoch 1
    it = iter(loader)  # epoch 2, interrupted after 3 batches
    head = [next(it)[0].data.tolist() for _ in range(3)]
    state = json.loads(json.dumps(loader.state_dict()))  # must survive a JSON checkpoint
    rng_state = minidl.random.get_rng_state()
    rest = _epoch_batches(it)
    epoch3 = _epoch_batches(loader)
    assert state["epoch_in_progress"] and state["batches_done"] == 3

    minidl.manual_seed(12345)  # a fresh process would start elsewhere
    resumed = make()
    resumed.load_state_dict(state)
    minidl.random.set_rng_state(rng_state)
    assert _epoch_batches(resumed) == rest
    assert _epoch_batches(resumed) == epoch3
    full = sorted(sum(head + rest, []))
    assert full == list(range(37))


def test_state_dict_between_epochs_starts_the_next_epoch():
    ds = TensorDataset(np.arange(12))
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(1))
    _epoch_batches(loader)
    state = loader.state_dict()
    assert not state["epoch_in_progress"] and state["batches_done"] == 0
    nxt = _epoch_batches(loader)
    resumed = DataLoader(ds, batch_size=4, shuffle=True)
    resumed.load_state_dict(state)  # the explicit generator's state is restored too
    assert _epoch_batches(resumed) == nxt


def test_resume_skips_batches_without_reading_them():
    x, y = _xy(20)
    ds = CountingDataset(x, y, batched=False)
    loader = DataLoader(ds, batch_size=4)
    it = iter(loader)
    next(it)
    next(it)
    state = loader.state_dict()
    ds.calls = 0
    loader.load_state_dict(state)
    rest = list(loader)
    assert len(rest) == 3 and ds.calls == 12
    np.testing.assert_array_equal(rest[0][0].data, x[8:12])
    with pytest.raises(ValueError, match="not a DataLoader state"):
        loader.load_state_dict({"nope": 1})
