"""minidl.transforms: per-sample results against PyTorch, batched forms against the per-sample ones."""

from __future__ import annotations

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import transforms as T


@pytest.fixture
def hwc(rng) -> np.ndarray:
    return rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


# ----------------------------------------------------------------------------------------- ToTensor / ToFloat
@requires_torch
def test_to_tensor_matches_torchvision_rule_bit_for_bit(hwc):
    ours = T.ToTensor()(hwc)
    # torchvision.transforms.ToTensor on a uint8 HWC array: permute to CHW, float, divide by 255
    theirs = torch.from_numpy(hwc).permute(2, 0, 1).float().div(255).numpy()
    assert ours.dtype == np.float32 and ours.shape == (3, 5, 7) and ours.flags.c_contiguous
    np.testing.assert_array_equal(ours, theirs)
    gray = hwc[..., 0]
    np.testing.assert_array_equal(T.ToTensor()(gray), torch.from_numpy(gray)[None].float().div(255).numpy())


def test_to_tensor_float_input_keeps_dtype_and_values(rng):
    x = rng.random((4, 4, 2))
    out = T.ToTensor()(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.moveaxis(x, -1, 0))
    assert T.ToTensor()(np.ones((2, 2), dtype=bool)).dtype == np.float32


def test_to_tensor_batch_equals_stacked_samples(rng):
    for shape in [(6, 5, 7, 3), (6, 5, 7)]:
        xb = rng.integers(0, 256, size=shape, dtype=np.uint8)
        out = T.ToTensor().batch(xb)
        np.testing.assert_array_equal(out, np.stack([T.ToTensor()(x) for x in xb]))
        assert out.flags.c_contiguous and out.dtype == np.float32


def test_to_tensor_errors():
    with pytest.raises(ValueError, match=r"ToTensor.*\(H, W\).*shape \(2, 3, 4, 5\)"):
        T.ToTensor()(np.zeros((2, 3, 4, 5), dtype=np.uint8))
    with pytest.raises(TypeError, match="ToTensor.*int32"):
        T.ToTensor()(np.zeros((2, 2), dtype=np.int32))
    with pytest.raises(TypeError, match="numpy array"):
        T.ToTensor()([[1, 2]])


def test_to_float_scales_and_keeps_layout(hwc):
    out = T.ToFloat()(hwc)
    assert out.dtype == np.float32 and out.shape == hwc.shape
    np.testing.assert_allclose(out, hwc / 255.0, rtol=1e-6)
    out64 = T.ToFloat(scale=0.5, dtype=np.float64)(hwc)
    assert out64.dtype == np.float64
    np.testing.assert_array_equal(out64, hwc * 0.5)
    np.testing.assert_array_equal(T.ToFloat().batch(hwc[None]), out[None])
    with pytest.raises(TypeError, match="float dtype"):
        T.ToFloat(dtype=np.int32)


# ----------------------------------------------------------------------------------------- Normalize
@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_matches_torch(rng, dtype):
    x = rng.random((3, 4, 5)).astype(dtype)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.25]
    out = T.Normalize(mean, std)(x)
    # torchvision's F.normalize: tensor.sub_(mean[:, None, None]).div_(std[:, None, None])
    tx = torch.from_numpy(x.copy())
    m = torch.tensor(mean, dtype=tx.dtype)[:, None, None]
    s = torch.tensor(std, dtype=tx.dtype)[:, None, None]
    theirs = tx.sub(m).div(s).numpy()
    assert out.dtype == dtype
    np.testing.assert_allclose(out, theirs, rtol=1e-6, atol=1e-7)


def test_normalize_batch_single_channel_and_errors(rng):
    xb = rng.random((4, 3, 2, 2)).astype(np.float32)
    norm = T.Normalize([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(norm.batch(xb), np.stack([norm(x) for x in xb]))
    one = T.Normalize(0.5, 0.25)
    np.testing.assert_allclose(one(xb[0]), (xb[0] - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match=r"Normalize: 3 means/stds for an input with 2 channels"):
        norm(rng.random((2, 3, 3)))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        one(np.zeros((1, 2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="std non-zero"):
        T.Normalize([0.0], [0.0])


def test_flatten():
    x = np.arange(24).reshape(2, 3, 4)
    assert T.Flatten()(x).shape == (24,)
    assert T.Flatten().batch(x).shape == (2, 12)


# ----------------------------------------------------------------------------------------- random transforms
def _offsets(padded: np.ndarray, crop: np.ndarray) -> list[tuple[int, int]]:
    """All (i, j) where ``crop`` is the window of ``padded`` at rows i.., cols j.."""
    th, tw = crop.shape[-2:]
    return [
        (i, j)
        for i in range(padded.shape[-2] - th + 1)
        for j in range(padded.shape[-1] - tw + 1)
        if np.array_equal(padded[..., i : i + th, j : j + tw], crop)
    ]


@requires_torch
@pytest.mark.parametrize(
    ("padding", "torch_pad"),
    [(2, (2, 2, 2, 2)), ((1, 3), (1, 1, 3, 3)), ((1, 2, 3, 4), (1, 3, 2, 4))],
)
def test_random_crop_is_a_window_of_the_padded_image(rng, padding, torch_pad):
    x = rng.random((2, 6, 5)).astype(np.float32)
    # torchvision padding is (left, top, right, bottom); torch's F.pad takes (left, right, top, bottom)
    padded = torch.nn.functional.pad(torch.from_numpy(x), torch_pad).numpy()
    crop = T.RandomCrop((4, 3), padding=padding, generator=0)
    seen = set()
    for _ in range(600):
        out = crop(x)
        assert out.shape == (2, 4, 3) and out.dtype == np.float32
        found = _offsets(padded, out)
        assert found, "the crop is not a window of the padded image"
        seen.update(found)
    all_offsets = (padded.shape[1] - 4 + 1) * (padded.shape[2] - 3 + 1)
    assert len(seen) == all_offsets  # every position is reachable


def test_random_crop_batch_crops_each_sample_independently(rng):
    xb = rng.random((40, 1, 5, 5))
    crop = T.RandomCrop(3, padding=1, generator=1)
    out = crop.batch(xb)
    assert out.shape == (40, 1, 3, 3)
    padded = np.pad(xb, [(0, 0), (0, 0), (1, 1), (1, 1)])
    offsets = set()
    for p, o in zip(padded, out, strict=True):
        found = _offsets(p, o)
        assert found
        offsets.update(found)
    assert len(offsets) > 5  # per-sample offsets, not one for the whole batch
    hw = rng.integers(0, 9, size=(3, 6, 6), dtype=np.uint8)  # (N, H, W) batch
    assert T.RandomCrop(4).batch(hw).shape == (3, 4, 4)


def test_random_crop_seeding_and_errors(rng):
    x = rng.random((1, 8, 8))
    minidl.manual_seed(5)
    a = T.RandomCrop(4, padding=2)(x)
    minidl.manual_seed(5)
    b = T.RandomCrop(4, padding=2)(x)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"RandomCrop: crop size \(9, 9\) is larger"):
        T.RandomCrop(9)(x)
    with pytest.raises(ValueError, match="padding"):
        T.RandomCrop(2, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        T.RandomCrop(1)(np.zeros(3))


@requires_torch
def test_horizontal_flip_probabilities_and_batch(rng):
    x = rng.random((2, 3, 4))
    mirrored = torch.flip(torch.from_numpy(x), [-1]).numpy()
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), mirrored)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    flips = sum(np.array_equal(T.RandomHorizontalFlip(generator=None)(x), x[..., ::-1]) for _ in range(400))
    assert 140 < flips < 260
    xb = rng.random((300, 2, 3, 4))
    out = T.RandomHorizontalFlip(generator=2).batch(xb)
    flipped = np.array([np.array_equal(o, s[..., ::-1]) for o, s in zip(out, xb, strict=True)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, xb, strict=True)])
    assert np.all(flipped ^ kept) and 100 < flipped.sum() < 200
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        T.RandomHorizontalFlip(p=1.5)


# ----------------------------------------------------------------------------------------- composition
def test_compose_order_and_batchability(hwc):
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5), T.Flatten()])
    out = pipeline(hwc)
    np.testing.assert_allclose(out, ((np.moveaxis(hwc, -1, 0) / 255.0 - 0.5) / 0.5).reshape(-1), rtol=1e-5)
    assert pipeline.batchable
    np.testing.assert_array_equal(pipeline.batch(hwc[None]), out[None])
    with_lambda = T.Compose([T.ToTensor(), T.Lambda(lambda a: a * 2)])
    assert not with_lambda.batchable
    with pytest.raises(TypeError, match="batched form"):
        with_lambda.batch(hwc[None])
    both = T.Lambda(lambda a: a + 1, batch_fn=lambda a: a + 1)
    assert both.batchable and both.batch(np.zeros(2)).tolist() == [1.0, 1.0]


def test_even_odd_target_transform():
    assert [T.EvenOdd()(c) for c in range(4)] == [0, 1, 0, 1]
    out = T.EvenOdd().batch(np.arange(10))
    assert out.dtype == np.int64 and out.tolist() == [0, 1] * 5
