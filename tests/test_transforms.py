"""minidl.transforms without torchvision: hand-computed values, properties, batched forms, seeding, errors.

The parity with torchvision itself is in ``test_transforms_torchvision.py`` (skipped where it is absent);
these tests hold the behaviour on their own: exact values worked out by hand, PyTorch (where installed)
for the conversions, and invariants such as "a crop is a window of the padded image".
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import datasets as D
from minidl import transforms as T
from minidl.errors import DTypeError, ShapeError
from minidl.transforms import functional as F
from minidl.utils import make_grid, save_image
from minidl.utils.data import DataLoader, default_collate

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is the images extra
    Image = None

requires_pillow = pytest.mark.skipif(Image is None, reason="Pillow is not installed")
CIFAR_JPG = Path("/work/shared/datasets/cifar10-jpg")
CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


@pytest.fixture
def hwc(rng) -> np.ndarray:
    return rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def _chw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


def _t(a: np.ndarray) -> minidl.Tensor:
    return minidl.from_numpy(np.ascontiguousarray(a))


# ----------------------------------------------------------------------------------------- conversion
@requires_torch
def test_to_tensor_returns_a_tensor_equal_to_torchvisions_rule_bit_for_bit(hwc):
    ours = T.ToTensor()(hwc)
    # torchvision's ToTensor on a uint8 HWC array: permute to CHW, float, divide by 255
    theirs = torch.from_numpy(hwc).permute(2, 0, 1).float().div(255).numpy()
    assert isinstance(ours, minidl.Tensor) and ours.dtype == minidl.float32 and tuple(ours.shape) == (3, 5, 7)
    assert ours.is_contiguous()
    np.testing.assert_array_equal(ours.numpy(), theirs)
    gray = hwc[..., 0]
    np.testing.assert_array_equal(T.ToTensor()(gray).numpy(), torch.from_numpy(gray)[None].float().div(255).numpy())


def test_to_tensor_keeps_other_dtypes_as_torchvision(rng):
    x = rng.random((4, 4, 2))
    out = T.ToTensor()(x)
    assert out.dtype == minidl.float64
    np.testing.assert_array_equal(out.numpy(), np.moveaxis(x, -1, 0))
    assert T.ToTensor()(np.ones((2, 2), dtype=bool)).dtype == minidl.bool
    assert T.ToTensor()(np.ones((2, 2), dtype=np.int16)).dtype == minidl.int16


@requires_pillow
def test_to_tensor_on_pil_images_by_mode(hwc):
    rgb = Image.fromarray(hwc)
    np.testing.assert_array_equal(T.ToTensor()(rgb).numpy(), _chw(hwc) / np.float32(255))
    gray = rgb.convert("L")
    assert tuple(T.ToTensor()(gray).shape) == (1, 5, 7)
    bw = T.ToTensor()(rgb.convert("1"))  # mode 1 stores 0/1: scaled to 0/255, then to 0.0/1.0
    assert set(np.unique(bw.numpy()).tolist()) <= {0.0, 1.0} and bw.dtype == minidl.float32
    ints = T.ToTensor()(rgb.convert("I"))
    assert ints.dtype == minidl.int32 and ints.numpy().max() > 1  # 32-bit modes keep their values
    assert tuple(T.ToTensor()(rgb.convert("RGBA")).shape) == (4, 5, 7)
    raw = T.PILToTensor()(rgb)
    assert raw.dtype == minidl.uint8
    np.testing.assert_array_equal(raw.numpy(), _chw(hwc))


@requires_pillow
def test_to_pil_image_round_trips_and_truncates_floats(hwc):
    for mode in ["RGB", "L", "RGBA"]:
        img = Image.fromarray(hwc).convert(mode)
        back = T.ToPILImage()(T.PILToTensor()(img))
        assert back.mode == mode
        np.testing.assert_array_equal(np.asarray(back), np.asarray(img))
        np.testing.assert_array_equal(np.asarray(T.ToPILImage()(np.asarray(img))), np.asarray(img))
    half = T.ToPILImage()(_t(np.full((1, 2, 2), 0.999, dtype=np.float32)))
    assert half.mode == "L" and np.asarray(half).tolist() == [[254, 254], [254, 254]]  # trunc(0.999 * 255)
    with pytest.raises(ShapeError, match="at most 4 channels"):
        T.ToPILImage()(_t(np.zeros((5, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="mode 'F' does not fit uint8"):
        T.ToPILImage("F")(_t(np.zeros((1, 2, 2), np.uint8)))


def test_to_tensor_batch_equals_stacked_samples(rng):
    for shape in [(6, 5, 7, 3), (6, 5, 7)]:
        xb = rng.integers(0, 256, size=shape, dtype=np.uint8)
        out = T.ToTensor().batch(xb)
        assert isinstance(out, minidl.Tensor) and out.is_contiguous() and out.dtype == minidl.float32
        np.testing.assert_array_equal(out.numpy(), np.stack([T.ToTensor()(x).numpy() for x in xb]))


def test_to_tensor_errors():
    with pytest.raises(ShapeError, match=r"ToTensor.*\(H, W\).*shape \(2, 3, 4, 5\)"):
        T.ToTensor()(np.zeros((2, 3, 4, 5), dtype=np.uint8))
    with pytest.raises(ShapeError, match="looks channels-first"):  # a CHW array would be silently transposed
        T.ToTensor()(np.zeros((3, 32, 32), dtype=np.uint8))
    with pytest.raises(TypeError, match="PIL image or a NumPy array"):
        T.ToTensor()([[1, 2]])
    with pytest.raises(TypeError, match="PIL image or a NumPy array"):
        T.ToTensor()(_t(np.zeros((3, 2, 2), np.float32)))


def test_to_float_scales_and_keeps_layout(hwc):
    out = T.ToFloat()(hwc)
    assert out.dtype == np.float32 and out.shape == hwc.shape
    np.testing.assert_allclose(out, hwc / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(T.ToFloat(scale=0.5, dtype=np.float64)(hwc), hwc * 0.5)
    np.testing.assert_array_equal(T.ToFloat().batch(hwc[None]), out[None])
    with pytest.raises(TypeError, match="float dtype"):
        T.ToFloat(dtype=np.int32)


# ----------------------------------------------------------------------------------------- Normalize
@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalize_matches_torch(rng, dtype):
    x = rng.random((3, 4, 5)).astype(dtype)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.3, 0.25]
    out = T.Normalize(mean, std)(_t(x))
    # torchvision's F.normalize: tensor.sub_(mean[:, None, None]).div_(std[:, None, None])
    tx = torch.from_numpy(x.copy())
    theirs = tx.sub(torch.tensor(mean, dtype=tx.dtype)[:, None, None]).div(
        torch.tensor(std, dtype=tx.dtype)[:, None, None]).numpy()
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), theirs)


def test_normalize_batch_inplace_and_errors(rng):
    xb = rng.random((4, 3, 2, 2)).astype(np.float32)
    norm = T.Normalize([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(norm.batch(_t(xb)).numpy(), np.stack([norm(_t(x)).numpy() for x in xb]))
    one = T.Normalize(0.5, 0.25)
    np.testing.assert_allclose(one(_t(xb[0])).numpy(), (xb[0] - 0.5) / 0.25, rtol=1e-6)
    t = _t(xb[0].copy())
    version = t._version
    out = T.Normalize(0.5, 0.25, inplace=True)(t)
    assert out is t and t._version == version + 1
    np.testing.assert_allclose(t.numpy(), (xb[0] - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ShapeError, match=r"Normalize: 3 values of mean for an image with 2 channels"):
        norm(_t(rng.random((2, 3, 3))))
    with pytest.raises(DTypeError, match="apply ToTensor first"):
        one(_t(np.zeros((1, 2, 2), dtype=np.uint8)))
    with pytest.raises(TypeError, match="expected a Tensor image"):
        one(np.zeros((1, 2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="std non-zero"):
        T.Normalize([0.0], [0.0])


def test_flatten():
    x = np.arange(24).reshape(2, 3, 4)
    assert T.Flatten()(x).shape == (24,)
    assert T.Flatten().batch(x).shape == (2, 12)
    assert tuple(T.Flatten().batch(_t(x)).shape) == (2, 12)


# ----------------------------------------------------------------------------------------- Resize
def test_resize_antialiased_bilinear_weights_by_hand():
    # halving a row: the triangle filter stretched to support 2 gives taps (1, 3, 3, 1) / 8 inside, and at the
    # left border only (3, 3, 1) fit, renormalised to (3, 3, 1) / 7
    row = np.arange(8, dtype=np.float64) ** 2
    out = F.resize(_t(row[None, None]), [1, 4]).numpy()[0, 0]
    a = row
    assert out[0] == pytest.approx((3 * a[0] + 3 * a[1] + a[2]) / 7)
    assert out[1] == pytest.approx((a[1] + 3 * a[2] + 3 * a[3] + a[4]) / 8)


def test_resize_bilinear_upsampling_without_antialias_by_hand():
    a = np.array([[2.0, 6.0, 10.0]])
    out = F.resize(_t(a[None]), [1, 6], antialias=False).numpy()[0, 0]
    # source positions 0.5 (i + 0.5) - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25, 1.75, 2.25 (last repeats)
    np.testing.assert_allclose(out, [2.0, 3.0, 5.0, 7.0, 9.0, 10.0])


def test_resize_nearest_and_sizes(rng):
    x = rng.random((2, 4, 6))
    up = F.resize(_t(x), [8, 12], T.InterpolationMode.NEAREST).numpy()
    np.testing.assert_array_equal(up, x.repeat(2, axis=-2).repeat(2, axis=-1))
    down = F.resize(_t(x), [2, 3], T.InterpolationMode.NEAREST).numpy()
    np.testing.assert_array_equal(down, x[:, ::2, ::2])
    img = np.zeros((10, 20, 3), np.uint8)
    assert T.Resize(5)(img).shape == (5, 10, 3)  # the smaller edge becomes 5, the aspect ratio is kept
    assert T.Resize(5, max_size=8)(img).shape == (4, 8, 3)  # the longer edge is capped
    assert T.Resize((3, 4))(img).shape == (3, 4, 3)
    assert tuple(T.Resize([7])(_t(np.zeros((1, 20, 10)))).shape) == (1, 14, 7)
    with pytest.raises(ValueError, match="max_size = 5 must be strictly greater"):
        T.Resize(5, max_size=5)(img)
    with pytest.raises(ValueError, match="max_size should only be passed"):
        F.resize(img, [5, 6], max_size=9)
    with pytest.raises(ValueError, match="not supported for arrays and tensors"):
        F.resize(img, 4, T.InterpolationMode.LANCZOS)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_keeps_constant_images_constant(mode, antialias):
    for size in ([3, 17], [9, 2], [20, 20]):
        out = F.resize(np.full((7, 5, 3), 117, np.uint8), size, T.InterpolationMode(mode), antialias=antialias)
        assert out.shape == (*size, 3) and out.dtype == np.uint8 and np.all(out == 117)
        f = F.resize(_t(np.full((2, 7, 5), 0.25)), size, T.InterpolationMode(mode), antialias=antialias).numpy()
        np.testing.assert_allclose(f, 0.25, rtol=1e-12)


@requires_pillow
def test_resize_on_pil_uses_pillow(hwc):
    img = Image.fromarray(hwc)
    out = T.Resize(10, interpolation=T.InterpolationMode.BICUBIC)(img)
    assert isinstance(out, Image.Image) and out.size == (14, 10)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((14, 10), Image.Resampling.BICUBIC)))
    with pytest.warns(UserWarning, match="Anti-alias option is always applied"):
        T.Resize(3, antialias=False)(img)
    assert T.Resize(4, interpolation=T.InterpolationMode.LANCZOS)(img).size == (5, 4)


# ----------------------------------------------------------------------------------------- crops and padding
def test_pad_modes_by_hand():
    row = np.array([[1, 2, 3]])
    assert F.pad(row, [2, 0], padding_mode="reflect")[0].tolist() == [3, 2, 1, 2, 3, 2, 1]
    assert F.pad(row, [2, 0], padding_mode="symmetric")[0].tolist() == [2, 1, 1, 2, 3, 3, 2]
    assert F.pad(row, [2, 0], padding_mode="edge")[0].tolist() == [1, 1, 1, 2, 3, 3, 3]
    assert F.pad(_t(row[None]), [1, 0, 2, 0], fill=9).numpy()[0, 0].tolist() == [9, 1, 2, 3, 9, 9]
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    out = F.pad(hwc, [1, 2], fill=(7, 8, 9))  # an HWC array keeps its channels last, one fill per channel
    assert out.shape == (6, 6, 3) and out[0, 0].tolist() == [7, 8, 9]
    np.testing.assert_array_equal(out[2:4, 1:5], hwc)
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(row, [3, 0], padding_mode="reflect")
    with pytest.raises(ValueError, match="padding_mode"):
        F.pad(row, 1, padding_mode="wrap")
    with pytest.raises(ValueError, match="1, 2 or 4 ints"):
        F.pad(row, [1, 2, 3])


def test_center_crop_and_crop_by_hand():
    x = _t(np.arange(20.0).reshape(1, 4, 5))
    # top = round(1.0) = 1, left = round(1.5) = 2 (Python rounds half to even, as torchvision relies on)
    np.testing.assert_array_equal(T.CenterCrop(2)(x).numpy()[0], [[7, 8], [12, 13]])
    big = T.CenterCrop((6, 6))(x).numpy()[0]  # padded evenly: one row on each side, the odd column after
    assert big.shape == (6, 6) and big[0].tolist() == [0] * 6 and big[1].tolist() == [0.0, 1, 2, 3, 4, 0]
    out = F.crop(x, -1, 3, 3, 4).numpy()[0]  # outside the image reads zero
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [3, 4, 0, 0], [8, 9, 0, 0]])


def _offsets(padded: np.ndarray, crop: np.ndarray) -> list[tuple[int, int]]:
    """All (i, j) where ``crop`` is the window of ``padded`` (last two axes) at rows i.., cols j.."""
    th, tw = crop.shape[-2:]
    return [(i, j) for i in range(padded.shape[-2] - th + 1) for j in range(padded.shape[-1] - tw + 1)
            if np.array_equal(padded[..., i:i + th, j:j + tw], crop)]


@pytest.mark.parametrize(("padding", "ltrb"), [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)), ((1, 2, 3, 4), (1, 2, 3, 4))])
def test_random_crop_is_a_window_of_the_padded_image(rng, padding, ltrb):
    x = rng.random((2, 6, 5)).astype(np.float32)
    left, top, right, bottom = ltrb
    padded = np.pad(x, [(0, 0), (top, bottom), (left, right)])
    crop = T.RandomCrop((4, 3), padding=padding, generator=0)
    seen = set()
    for _ in range(600):
        out = crop(_t(x))
        assert tuple(out.shape) == (2, 4, 3) and out.dtype == minidl.float32
        found = _offsets(padded, out.numpy())
        assert found, "the crop is not a window of the padded image"
        seen.update(found)
    assert len(seen) == (padded.shape[1] - 4 + 1) * (padded.shape[2] - 3 + 1)  # every position is reachable


def test_random_crop_reads_hwc_arrays_as_images(rng):
    # the reported bug: an (H, W, C) array was cropped along (W, C) as if it were (C, H, W)
    img = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    padded = np.pad(img, [(4, 4), (4, 4), (0, 0)])
    for _ in range(20):
        out = T.RandomCrop(32, padding=4)(img)
        assert out.shape == (32, 32, 3) and out.dtype == np.uint8
        assert _offsets(np.moveaxis(padded, -1, 0), np.moveaxis(out, -1, 0))
    small = rng.integers(0, 256, size=(5, 3, 3), dtype=np.uint8)
    grown = T.RandomCrop((6, 4), pad_if_needed=True, padding_mode="edge")(small)
    assert grown.shape == (6, 4, 3)
    with pytest.raises(ValueError, match=r"RandomCrop: required crop size \(9, 9\) is larger"):
        T.RandomCrop(9)(img[:8, :8])


@requires_pillow
def test_random_crop_on_pil_images(rng):
    arr = rng.integers(0, 256, size=(10, 12, 3), dtype=np.uint8)
    out = T.RandomCrop(8, padding=2, fill=(1, 2, 3))(Image.fromarray(arr))
    assert isinstance(out, Image.Image) and out.size == (8, 8)
    padded = np.pad(arr, [(2, 2), (2, 2), (0, 0)])
    padded[:2], padded[-2:], padded[:, :2], padded[:, -2:] = (1, 2, 3), (1, 2, 3), (1, 2, 3), (1, 2, 3)
    assert _offsets(np.moveaxis(padded, -1, 0), np.moveaxis(np.asarray(out), -1, 0))


def test_random_crop_batch_crops_each_sample_independently(rng):
    xb = rng.random((40, 1, 5, 5))
    out = T.RandomCrop(3, padding=1, generator=1).batch(_t(xb)).numpy()
    assert out.shape == (40, 1, 3, 3)
    padded = np.pad(xb, [(0, 0), (0, 0), (1, 1), (1, 1)])
    offsets = set()
    for p, o in zip(padded, out, strict=True):
        found = _offsets(p, o)
        assert found
        offsets.update(found)
    assert len(offsets) > 5  # per-sample offsets, not one for the whole batch
    nhwc = rng.integers(0, 9, size=(3, 6, 6, 3), dtype=np.uint8)
    crops = T.RandomCrop(4, padding=1).batch(nhwc)
    assert crops.shape == (3, 4, 4, 3)
    for p, o in zip(np.pad(nhwc, [(0, 0), (1, 1), (1, 1), (0, 0)]), crops, strict=True):
        assert _offsets(np.moveaxis(p, -1, 0), np.moveaxis(o, -1, 0))
    assert T.RandomCrop(4).batch(rng.integers(0, 9, size=(3, 6, 6), dtype=np.uint8)).shape == (3, 4, 4)


def test_random_crop_seeding_and_errors(rng):
    x = _t(rng.random((1, 8, 8)))
    minidl.manual_seed(5)
    a = T.RandomCrop(4, padding=2)(x).numpy()
    minidl.manual_seed(5)
    np.testing.assert_array_equal(T.RandomCrop(4, padding=2)(x).numpy(), a)
    with pytest.raises(ValueError, match="padding"):
        T.RandomCrop(2, padding=(1, 2, 3))
    with pytest.raises(ShapeError, match=r"at least 2 dimensions"):
        T.RandomCrop(1)(_t(np.zeros(3)))


# ----------------------------------------------------------------------------------------- flips
def test_flips_probabilities_and_batch(rng):
    x = rng.random((2, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(_t(x)).numpy(), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(_t(x)).numpy(), x[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(_t(x)).numpy(), x)
    hwc = rng.integers(0, 256, size=(3, 4, 2), dtype=np.uint8)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(hwc), hwc[:, ::-1])  # W is axis 1 of HWC
    flips = sum(np.array_equal(T.RandomHorizontalFlip()(_t(x)).numpy(), x[..., ::-1]) for _ in range(400))
    assert 140 < flips < 260
    xb = rng.random((300, 2, 3, 4))
    out = T.RandomVerticalFlip(generator=2).batch(_t(xb)).numpy()
    flipped = np.array([np.array_equal(o, s[..., ::-1, :]) for o, s in zip(out, xb, strict=True)])
    kept = np.array([np.array_equal(o, s) for o, s in zip(out, xb, strict=True)])
    assert np.all(flipped ^ kept) and 100 < flipped.sum() < 200
    nhwc = rng.integers(0, 256, size=(50, 3, 4, 2), dtype=np.uint8)
    out = T.RandomHorizontalFlip(generator=3).batch(nhwc)
    assert all(np.array_equal(o, s) or np.array_equal(o, s[:, ::-1]) for o, s in zip(out, nhwc, strict=True))
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        T.RandomHorizontalFlip(p=1.5)


# ----------------------------------------------------------------------------------------- rotation and affine
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotation_by_quarter_turns_and_translation(rng, mode):
    x = rng.random((2, 5, 7))
    # counter-clockwise, like np.rot90; expand=True swaps the sides of a non-square image
    out = F.rotate(_t(x), 90.0, T.InterpolationMode(mode), expand=True).numpy()
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(-2, -1)), atol=1e-12)
    sq = rng.random((1, 5, 5))
    np.testing.assert_allclose(F.rotate(_t(sq), -90.0, T.InterpolationMode(mode)).numpy(),
                               np.rot90(sq, -1, axes=(-2, -1)), atol=1e-12)
    np.testing.assert_allclose(F.rotate(_t(sq), 0.0).numpy(), sq)
    shifted = F.affine(_t(x), 0.0, [2, 1], 1.0, 0.0, T.InterpolationMode(mode), fill=[0.5]).numpy()
    want = np.full_like(x, 0.5)
    want[:, 1:, 2:] = x[:, :-1, :-2]  # out[i, j] = x[i - 1, j - 2]; the uncovered border shows the fill
    np.testing.assert_allclose(shifted, want, atol=1e-12)


def test_random_rotation_and_affine_reproducible(rng):
    img = rng.integers(0, 256, size=(9, 9, 3), dtype=np.uint8)
    for transform in [T.RandomRotation(30, fill=(1, 2, 3)), T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                                                           shear=5)]:
        minidl.manual_seed(1)
        a = transform(img)
        minidl.manual_seed(1)
        assert a.shape == img.shape and np.array_equal(transform(img), a)
    angle = T.RandomRotation.get_params([-10.0, 20.0])
    assert -10 <= angle < 20
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="translation values"):
        T.RandomAffine(0, translate=(2, 0))


# ----------------------------------------------------------------------------------------- colour
def test_grayscale_and_color_adjustments_by_hand():
    px = np.array([10, 200, 30], np.uint8).reshape(1, 1, 3)
    # trunc(0.2989 * 10 + 0.587 * 200 + 0.114 * 30) = trunc(123.81); an HWC array keeps a channel axis
    assert T.Grayscale()(px).tolist() == [[[123]]]
    assert T.Grayscale(3)(px).tolist() == [[[123, 123, 123]]]
    img = np.array([[[10, 200, 30], [250, 0, 100]]], np.uint8)
    assert F.adjust_brightness(img, 0.0).max() == 0
    np.testing.assert_array_equal(F.adjust_brightness(img, 1.0), img)
    assert F.adjust_brightness(img, 2.0).tolist() == [[[20, 255, 60], [255, 0, 200]]]  # clipped at 255
    gray = T.Grayscale()(img)  # 123 and trunc(0.2989 * 250 + 0.114 * 100) = 86
    assert gray.tolist() == [[[123], [86]]]
    flat = F.adjust_contrast(img, 0.0)  # every pixel becomes the mean grey level, (123 + 86) / 2
    assert np.all(flat == 104)
    np.testing.assert_array_equal(F.adjust_saturation(img, 0.0), np.repeat(gray, 3, axis=-1))
    red = _t(np.array([1.0, 0.0, 0.0], np.float32).reshape(3, 1, 1))
    np.testing.assert_allclose(F.adjust_hue(red, 1 / 3).numpy().ravel(), [0, 1, 0], atol=1e-6)  # to green
    np.testing.assert_allclose(F.adjust_hue(red, -1 / 3).numpy().ravel(), [0, 0, 1], atol=1e-6)  # to blue
    x = _t(np.random.default_rng(0).random((3, 4, 4)).astype(np.float32))
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).numpy(), x.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="hue_factor"):
        F.adjust_hue(x, 0.6)
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_contrast(x, -1)
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        F.adjust_saturation(_t(np.zeros((2, 2, 2), np.float32)), 0.5)


def test_color_jitter(rng):
    img = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(T.ColorJitter()(img), img)
    jitter = T.ColorJitter(0.5, 0.5, 0.5, 0.2)
    minidl.manual_seed(4)
    a = jitter(img)
    minidl.manual_seed(4)
    assert a.dtype == np.uint8 and np.array_equal(jitter(img), a)
    order, b, c, s, h = T.ColorJitter.get_params((0.5, 1.5), None, (0.0, 2.0), (-0.2, 0.2))
    assert sorted(order.tolist()) == [0, 1, 2, 3] and c is None
    assert 0.5 <= b < 1.5 and 0.0 <= s < 2.0 and -0.2 <= h < 0.2
    assert T.ColorJitter(brightness=2).brightness == (0.0, 3.0)  # 1 - 2 is clipped to 0
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.6)
    minidl.manual_seed(0)
    gray_share = np.mean([np.all(np.ptp(T.RandomGrayscale(0.3)(img), axis=-1) == 0) for _ in range(400)])
    assert 0.2 < gray_share < 0.4


# ----------------------------------------------------------------------------------------- blur, erasing
def test_gaussian_blur_kernel_and_impulse_response():
    from minidl.transforms._kernels import gaussian_kernel1d

    k = gaussian_kernel1d(5, 1.2, np.dtype(np.float64))
    assert k.sum() == pytest.approx(1.0) and np.allclose(k, k[::-1])
    np.testing.assert_allclose(k, np.exp(-np.arange(-2, 3) ** 2 / (2 * 1.2**2)) / np.exp(-np.arange(-2, 3) ** 2 / (2 * 1.2**2)).sum())
    impulse = np.zeros((1, 11, 11))
    impulse[0, 5, 5] = 1.0
    out = F.gaussian_blur(_t(impulse), [5, 3], [1.2, 0.7]).numpy()[0]
    ky = gaussian_kernel1d(3, 0.7, np.dtype(np.float64))
    np.testing.assert_allclose(out[4:7, 3:8], np.outer(ky, k), atol=1e-15)
    assert out.sum() == pytest.approx(1.0)
    const = F.gaussian_blur(np.full((6, 6, 3), 80, np.uint8), 5)
    assert np.all(const == 80)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)


def test_random_erasing(rng):
    x = rng.random((3, 20, 20)).astype(np.float32)
    out = T.RandomErasing(p=1.0, value=(1.0, 2.0, 3.0))(_t(x)).numpy()
    changed = np.any(out != x, axis=0)
    rows, cols = np.nonzero(changed)
    assert changed.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # one solid rectangle
    assert 0.02 * 400 * 0.5 < changed.sum() <= 0.33 * 400
    assert np.all(out[:, changed] == np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(_t(x)).numpy(), x)
    noisy = T.RandomErasing(p=1.0, value="random", scale=(0.3, 0.33))(_t(x)).numpy()
    patch = noisy[:, np.any(noisy != x, axis=0)]
    assert abs(patch.mean()) < 0.3 and 0.7 < patch.std() < 1.3  # standard normal noise
    t = _t(x.copy())
    assert T.RandomErasing(p=1.0, inplace=True)(t) is t and np.any(t.numpy() != x)
    hwc = rng.integers(1, 256, size=(20, 20, 3), dtype=np.uint8)
    erased = T.RandomErasing(p=1.0, value=0)(hwc)
    assert erased.shape == hwc.shape and np.any(np.all(erased == 0, axis=-1))
    with pytest.raises(ValueError, match="'random'"):
        T.RandomErasing(value="noise")


def test_random_resized_crop(rng):
    img = rng.random((3, 30, 40)).astype(np.float32)
    out = T.RandomResizedCrop(16)(_t(img))
    assert tuple(out.shape) == (3, 16, 16)
    for _ in range(200):
        i, j, h, w = T.RandomResizedCrop.get_params(_t(img), (0.2, 0.6), (0.5, 2.0))
        assert 0 <= i <= 30 - h and 0 <= j <= 40 - w
        assert 0.2 * 1200 - 40 <= h * w <= 0.6 * 1200 + 40 and 0.5 * 0.8 <= w / h <= 2.0 * 1.25
    # no window of ratio 10 fits a 30 x 40 image: the central crop of the widest ratio allowed
    assert T.RandomResizedCrop.get_params(_t(img), (0.9, 1.0), (10.0, 10.0)) == (13, 0, 4, 40)


# ----------------------------------------------------------------------------------------- containers
def test_compose_order_batchability_and_random_containers(hwc):
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5), T.Flatten()])
    out = pipeline(hwc).numpy()
    np.testing.assert_allclose(out, ((_chw(hwc) / 255.0 - 0.5) / 0.5).reshape(-1), rtol=1e-5)
    assert pipeline.batchable
    np.testing.assert_array_equal(pipeline.batch(hwc[None]).numpy(), out[None])
    with_lambda = T.Compose([T.ToTensor(), T.Lambda(lambda a: a * 2)])
    assert not with_lambda.batchable and "Lambda" in repr(with_lambda)
    with pytest.raises(TypeError, match="batched form"):
        with_lambda.batch(hwc[None])
    both = T.Lambda(lambda a: a + 1, batch_fn=lambda a: a + 1)
    assert both.batchable and both.batch(np.zeros(2)).tolist() == [1.0, 1.0]
    add1, double = T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 2)
    assert T.RandomApply([add1, double], p=1.0)(3) == 8 and T.RandomApply([add1], p=0.0)(3) == 3
    minidl.manual_seed(0)
    picks = [T.RandomChoice([add1, double], p=[0.8, 0.2])(10) for _ in range(500)]
    assert 0.7 < picks.count(11) / 500 < 0.9
    orders = {T.RandomOrder([add1, double])(1) for _ in range(50)}
    assert orders == {3, 4}  # (1 + 1) * 2 and 1 * 2 + 1


def test_even_odd_target_transform():
    assert [T.EvenOdd()(c) for c in range(4)] == [0, 1, 0, 1]
    out = T.EvenOdd().batch(np.arange(10))
    assert out.dtype == np.int64 and out.tolist() == [0, 1] * 5


def test_arrays_work_without_pillow(monkeypatch, hwc, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    pipeline = T.Compose([T.RandomCrop(4, padding=1), T.Resize(6), T.RandomHorizontalFlip(), T.ColorJitter(0.2),
                          T.ToTensor(), T.Normalize(CIFAR_MEAN, CIFAR_STD)])
    assert tuple(pipeline(hwc).shape) == (3, 6, 6)
    with pytest.raises(ImportError, match=r'pip install "minidl\[images\]"'):
        T.ToPILImage()(hwc)
    with pytest.raises(ImportError, match=r'pip install "minidl\[images\]"'):
        save_image(_t(np.zeros((3, 2, 2), np.float32)), tmp_path / "x.png")


# ----------------------------------------------------------------------------------------- make_grid / save_image
def test_make_grid_layout_by_hand():
    imgs = _t(np.arange(1, 4, dtype=np.float32).reshape(3, 1, 1, 1) * np.ones((3, 1, 2, 2), np.float32))
    grid = make_grid(imgs, nrow=2, padding=1, pad_value=9).numpy()
    # 2 columns, 2 rows of 2x2 cells with 1-pixel gaps and border; grey images become 3 equal channels
    assert grid.shape == (3, 7, 7)
    assert np.all(grid[:, 1:3, 1:3] == 1) and np.all(grid[:, 1:3, 4:6] == 2) and np.all(grid[:, 4:6, 1:3] == 3)
    assert np.all(grid[:, 4:6, 4:6] == 9) and np.all(grid[:, 0] == 9) and np.all(grid[:, :, 3] == 9)
    one = make_grid(_t(np.full((1, 3, 2, 2), 5.0, np.float32)))
    assert tuple(one.shape) == (3, 2, 2)  # a single image comes back without padding
    norm = make_grid(_t(np.array([[[[-1.0, 3.0]]]], np.float32)), normalize=True).numpy()
    np.testing.assert_allclose(norm[0, 0], [0.0, 1.0])
    clipped = make_grid(_t(np.array([[[[-1.0, 3.0]]]], np.float32)), normalize=True, value_range=(0, 2)).numpy()
    np.testing.assert_allclose(clipped[0, 0], [0.0, 1.0])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(imgs, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors"):
        make_grid(np.zeros((2, 3, 2, 2)))


@requires_pillow
def test_save_image_writes_png_atomically(tmp_path, rng):
    x = rng.random((4, 3, 5, 6)).astype(np.float32)
    dest = tmp_path / "grid.png"
    save_image(_t(x), dest, nrow=2, padding=0)
    with Image.open(dest) as im:
        assert im.format == "PNG" and im.size == (12, 10)
        pixels = np.asarray(im)
    want = np.floor(np.clip(x * 255 + 0.5, 0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(pixels[:5, 6:], np.moveaxis(want[1], 0, -1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]  # no temporary file left behind
    with pytest.raises(ValueError):
        save_image(_t(x), tmp_path / "grid.unknown-extension")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]


# ----------------------------------------------------------------------------------------- the CIFAR pipeline
def _cifar_pipeline() -> T.Compose:
    return T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                      T.Normalize(CIFAR_MEAN, CIFAR_STD)])


def _cifar_files(root, rng, n=12):
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    records = np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records.tofile(folder / name)
    return images, labels


def test_cifar_pipeline_on_the_dataset_fast_and_per_sample_paths(tmp_path, rng):
    images, labels = _cifar_files(tmp_path, rng)
    ds = D.CIFAR10(tmp_path, train=False, transform=_cifar_pipeline())
    assert _cifar_pipeline().batchable
    fast = next(iter(DataLoader(ds, batch_size=12)))
    slow = next(iter(DataLoader(ds, batch_size=12, collate_fn=default_collate)))
    assert type(fast) is list and type(slow) is list  # PyTorch's collate gives a list for (image, label) samples
    for xb, yb in (fast, slow):
        assert isinstance(xb, minidl.Tensor) and xb.dtype == minidl.float32 and tuple(xb.shape) == (12, 3, 32, 32)
        assert isinstance(yb, minidl.Tensor) and yb.dtype == minidl.int64 and yb.tolist() == labels.tolist()
        # undo Normalize: each image is a (possibly mirrored) window of its zero-padded original
        raw = np.rint((xb.numpy() * np.reshape(CIFAR_STD, (3, 1, 1)) + np.reshape(CIFAR_MEAN, (3, 1, 1))) * 255)
        padded = np.pad(images, [(0, 0), (0, 0), (4, 4), (4, 4)])
        for p, r in zip(padded, raw.astype(np.uint8), strict=True):
            assert _offsets(p, r) or _offsets(p, r[..., ::-1])


@requires_pillow
def test_cifar_pipeline_on_pil_images_and_collate(rng):
    samples = [(Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)), k % 10) for k in range(6)]
    pipeline = _cifar_pipeline()
    batch = default_collate([(pipeline(img), label) for img, label in samples])
    xb, yb = batch
    assert xb.dtype == minidl.float32 and tuple(xb.shape) == (6, 3, 32, 32)
    assert yb.dtype == minidl.int64 and yb.tolist() == [0, 1, 2, 3, 4, 5]


@requires_pillow
@pytest.mark.skipif(not (CIFAR_JPG / "test").is_dir(), reason="CIFAR-10 JPEG folders absent")
def test_cifar_pipeline_on_image_folder_jpegs_through_the_dataloader():
    ds = D.ImageFolder(CIFAR_JPG / "test", transform=_cifar_pipeline())
    minidl.manual_seed(0)
    xb, yb = next(iter(DataLoader(ds, batch_size=16, shuffle=True, num_workers=2)))
    assert isinstance(xb, minidl.Tensor) and xb.dtype == minidl.float32 and tuple(xb.shape) == (16, 3, 32, 32)
    assert isinstance(yb, minidl.Tensor) and yb.dtype == minidl.int64 and set(yb.tolist()) <= set(range(10))
    # Normalize's output of [0, 1] pixels lies within the range those means and stds map it to
    lo = (0 - np.max(CIFAR_MEAN)) / np.min(CIFAR_STD)
    hi = (1 - np.min(CIFAR_MEAN)) / np.min(CIFAR_STD)
    assert lo - 1e-5 <= float(xb.min()) and float(xb.max()) <= hi + 1e-5 and float(xb.std()) > 0.3


def test_random_erasing_takes_a_numpy_scalar_value():
    """A NumPy scalar is a number here as in torchvision: the erased rectangle holds it, the rest is untouched."""
    x = minidl.zeros(3, 8, 8)
    out = T.RandomErasing(p=1.0, value=np.float32(0.5), generator=minidl.Generator().manual_seed(0))(x).numpy()
    erased = out != 0
    assert erased.any() and np.all(out[erased] == 0.5)
    rows, cols = np.nonzero(erased[0])
    assert erased[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()  # one rectangle, all channels
