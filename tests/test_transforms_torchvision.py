"""minidl.transforms and minidl.utils.make_grid/save_image against torchvision, the oracle.

torchvision does not import beside the torch 2.13 the test venv uses, so its results come through
``tests/torchvision_oracle.py``: computed live where torchvision imports, read from the committed recording
``tests/torchvision_expected.npz`` everywhere else (how to re-record is said there). The inputs are seeded, so
both are the same numbers.

Every deterministic operation is checked on the three kinds of image: a PIL image (both sides call Pillow:
results must be identical), a uint8 and a float32 CHW tensor (torchvision's tensor path; uint8 within one
grey level, float32 within 1e-5), and an HWC uint8 array (compared with torchvision on the same pixels as a
CHW tensor). Random transforms are checked by replaying the parameters minidl drew through torchvision's
functional ops, and their ``get_params`` by the distribution of what they draw.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

import minidl
from minidl import transforms as T
from minidl.random import default_generator
from minidl.transforms import functional as F
from minidl.utils import make_grid, save_image
from torchvision_oracle import LIVE, expect, expect_str

Image = pytest.importorskip("PIL.Image")  # the images extra, installed by the test command

if LIVE:  # only the live oracle calls these; recorded results need none of them
    import torch
    import torchvision
    from torchvision import transforms as TV
    from torchvision.transforms import functional as TVF


def _expect_image(key: str, compute) -> tuple[np.ndarray, str]:
    """A PIL image torchvision returns: its pixels and its mode."""
    made = {}

    def image():
        made["image"] = compute()
        return made["image"]

    return expect(key, image), expect_str(key + "/mode", lambda: made["image"].mode)


@pytest.fixture
def hwc(rng) -> np.ndarray:
    return rng.integers(0, 256, size=(11, 14, 3), dtype=np.uint8)


def _modes(kw: dict, enum) -> dict:
    """``kw`` with its interpolation name turned into ``enum``'s member."""
    return {k: (enum(v) if k == "interpolation" else v) for k, v in kw.items()}


def _chw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


DETERMINISTIC = [
    ("resize", dict(size=16)),
    ("resize", dict(size=[7, 5])),
    ("resize", dict(size=[30, 31], interpolation="bicubic")),
    ("resize", dict(size=[7, 5], interpolation="bicubic")),
    ("resize", dict(size=[7, 5], interpolation="nearest")),
    ("resize", dict(size=[23, 9], interpolation="nearest-exact")),
    ("resize", dict(size=[22, 28], interpolation="nearest")),
    ("resize", dict(size=10, max_size=12)),
    ("resize", dict(size=[7, 5], antialias=False)),
    ("resize", dict(size=[25, 4], interpolation="bicubic", antialias=False)),
    ("center_crop", dict(output_size=5)),
    ("center_crop", dict(output_size=[9, 20])),
    ("crop", dict(top=-2, left=3, height=6, width=14)),
    ("crop", dict(top=1, left=2, height=5, width=4)),
    ("pad", dict(padding=2, fill=7)),
    ("pad", dict(padding=[1, 3], padding_mode="edge")),
    ("pad", dict(padding=[1, 2, 3, 4], padding_mode="reflect")),
    ("pad", dict(padding=[3, 2], padding_mode="symmetric")),
    ("hflip", {}),
    ("vflip", {}),
    ("rotate", dict(angle=30.0)),
    ("rotate", dict(angle=30.0, interpolation="bilinear")),
    ("rotate", dict(angle=-45.0, expand=True)),
    ("rotate", dict(angle=-45.0, expand=True, interpolation="bilinear", fill=[10.0, 20.0, 30.0])),
    ("rotate", dict(angle=90.0, center=[3, 4])),
    ("rotate", dict(angle=17.0, center=[3, 4], interpolation="bilinear", fill=[5.0, 5.0, 5.0])),
    ("affine", dict(angle=20.0, translate=[2, -3], scale=1.2, shear=[10.0, 5.0])),
    ("affine", dict(angle=20.0, translate=[2, -3], scale=0.8, shear=[10.0, 5.0], interpolation="bilinear",
                    fill=[50.0, 60.0, 70.0])),
    ("affine", dict(angle=-33.0, translate=[0, 1], scale=1.0, shear=7.0, center=[2, 9], interpolation="bilinear")),
    ("rgb_to_grayscale", dict(num_output_channels=1)),
    ("rgb_to_grayscale", dict(num_output_channels=3)),
    ("adjust_brightness", dict(brightness_factor=0.5)),
    ("adjust_brightness", dict(brightness_factor=1.7)),
    ("adjust_contrast", dict(contrast_factor=0.3)),
    ("adjust_contrast", dict(contrast_factor=1.5)),
    ("adjust_saturation", dict(saturation_factor=0.2)),
    ("adjust_saturation", dict(saturation_factor=1.8)),
    ("adjust_hue", dict(hue_factor=-0.3)),
    ("adjust_hue", dict(hue_factor=0.2)),
    ("gaussian_blur", dict(kernel_size=[3, 5], sigma=[0.8, 1.5])),
    ("gaussian_blur", dict(kernel_size=5)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(DETERMINISTIC)]


def _assert_close_u8(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    diff = np.abs(ours.astype(np.int64) - theirs.astype(np.int64))
    assert diff.max() <= 1 and (diff > 0).mean() < 0.02, f"max {diff.max()}, {(diff > 0).mean():.3%} differ"


@pytest.mark.filterwarnings("ignore:Anti-alias option is always applied")  # both libraries warn alike
@pytest.mark.parametrize(("name", "kw"), DETERMINISTIC, ids=IDS)
def test_functional_on_pil_images_is_pillow_exact(request, hwc, name, kw):
    pil = Image.fromarray(hwc)
    ours = getattr(F, name)(pil, **_modes(kw, T.InterpolationMode))
    theirs, mode = _expect_image(request.node.name, lambda: getattr(TVF, name)(pil, **_modes(kw, TV.InterpolationMode)))
    assert isinstance(ours, Image.Image) and ours.mode == mode and np.asarray(ours).shape == theirs.shape
    np.testing.assert_array_equal(np.asarray(ours), theirs)


@pytest.mark.filterwarnings("ignore:Anti-alias option is always applied")
@pytest.mark.parametrize(("name", "kw"), DETERMINISTIC, ids=IDS)
def test_functional_on_tensors_matches_torchvision(request, hwc, name, kw):
    key = request.node.name
    ours8 = getattr(F, name)(minidl.from_numpy(_chw(hwc)), **_modes(kw, T.InterpolationMode))
    theirs8 = expect(key + "/uint8", lambda: getattr(TVF, name)(torch.from_numpy(_chw(hwc)),
                                                                **_modes(kw, TV.InterpolationMode)))
    assert isinstance(ours8, minidl.Tensor)
    _assert_close_u8(ours8.numpy(), theirs8)
    f32 = _chw(hwc.astype(np.float32) / 255)
    ours = getattr(F, name)(minidl.from_numpy(f32), **_modes(kw, T.InterpolationMode)).numpy()
    theirs = expect(key + "/float32", lambda: getattr(TVF, name)(torch.from_numpy(f32.copy()),
                                                                 **_modes(kw, TV.InterpolationMode)))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    # a batch of tensors (leading dims) gives the per-image results
    batch = getattr(F, name)(minidl.from_numpy(np.stack([f32, f32[:, ::-1].copy()])),
                             **_modes(kw, T.InterpolationMode)).numpy()
    np.testing.assert_allclose(batch[0], ours, rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Anti-alias option is always applied")
@pytest.mark.parametrize(("name", "kw"), DETERMINISTIC, ids=IDS)
def test_functional_on_hwc_arrays_matches_torchvision_on_the_same_pixels(request, hwc, name, kw):
    ours = getattr(F, name)(hwc, **_modes(kw, T.InterpolationMode))
    assert isinstance(ours, np.ndarray) and ours.ndim == 3
    theirs = expect(request.node.name, lambda: getattr(TVF, name)(torch.from_numpy(_chw(hwc)),
                                                                  **_modes(kw, TV.InterpolationMode)))
    _assert_close_u8(_chw(ours), theirs)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "1", "I", "F", "I;16", "P", "LA"])
def test_to_tensor_and_pil_to_tensor_on_pil_modes(request, rng, mode):
    base = Image.fromarray(rng.integers(0, 256, size=(6, 5, 3), dtype=np.uint8))
    pil = base.convert(mode) if mode != "I;16" else Image.fromarray(rng.integers(0, 3000, (6, 5), dtype=np.uint16))
    ours, theirs = T.ToTensor()(pil), expect(request.node.name + "/ToTensor", lambda: TV.ToTensor()(pil))
    assert ours.numpy().dtype == theirs.dtype and tuple(ours.shape) == theirs.shape
    np.testing.assert_array_equal(ours.numpy(), theirs)
    ours, theirs = T.PILToTensor()(pil), expect(request.node.name + "/PILToTensor", lambda: TV.PILToTensor()(pil))
    assert ours.numpy().dtype == theirs.dtype
    np.testing.assert_array_equal(ours.numpy(), theirs)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.int16, np.bool_])
def test_to_tensor_on_arrays(request, rng, dtype):
    for shape in [(4, 5), (4, 5, 3), (4, 5, 1)]:
        arr = (rng.random(shape) * 255).astype(dtype)
        ours = T.ToTensor()(arr)
        theirs = expect(f"{request.node.name}/{shape}", lambda a=arr: TV.ToTensor()(a))
        assert ours.numpy().dtype == theirs.dtype
        np.testing.assert_array_equal(ours.numpy(), theirs)


@pytest.mark.parametrize(("shape", "dtype", "mode"), [
    ((3, 4, 5), np.float32, None), ((1, 4, 5), np.float32, None), ((4, 4, 5), np.uint8, None),
    ((2, 4, 5), np.uint8, None), ((1, 4, 5), np.uint8, None), ((4, 5), np.float32, "F"),
    ((1, 4, 5), np.int32, None), ((3, 4, 5), np.uint8, "HSV"),
])
def test_to_pil_image(request, rng, shape, dtype, mode):
    data = rng.random(shape) if np.dtype(dtype).kind == "f" else rng.integers(0, 255, size=shape)
    data = data.astype(dtype)
    ours = T.ToPILImage(mode)(minidl.from_numpy(data))
    theirs, their_mode = _expect_image(request.node.name, lambda: TV.ToPILImage(mode)(torch.from_numpy(data)))
    assert ours.mode == their_mode and np.asarray(ours).shape == theirs.shape
    np.testing.assert_array_equal(np.asarray(ours), theirs)
    if data.ndim == 3:  # an HWC array of the same pixels
        hwc_img = T.ToPILImage(mode)(np.moveaxis(data, 0, -1))
        np.testing.assert_array_equal(np.asarray(hwc_img), theirs)


@pytest.mark.parametrize("inplace", [False, True])
def test_normalize_and_convert_image_dtype(request, rng, inplace):
    key = request.node.name
    x = rng.random((2, 3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.5, 0.9), (0.2, 0.3, 0.25)
    ours_in = minidl.from_numpy(x.copy())
    ours = T.Normalize(mean, std, inplace=inplace)(ours_in)
    theirs = expect(key + "/normalize", lambda: TV.Normalize(mean, std, inplace=inplace)(torch.from_numpy(x.copy())))
    np.testing.assert_array_equal(ours.numpy(), theirs)
    assert np.array_equal(ours_in.numpy(), theirs) == inplace
    u8 = rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    for name in ["float32", "int32", "int16"]:
        a = T.ConvertImageDtype(getattr(minidl, name))(minidl.from_numpy(u8)).numpy()
        b = expect(f"{key}/{name}", lambda n=name: TV.ConvertImageDtype(getattr(torch, n))(torch.from_numpy(u8)))
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    back = F.convert_image_dtype(minidl.from_numpy(u8.astype(np.float32) / 255), minidl.uint8).numpy()
    np.testing.assert_array_equal(back, expect(key + "/back", lambda: TVF.convert_image_dtype(
        torch.from_numpy(u8.astype(np.float32) / 255), torch.uint8)))


def test_five_and_ten_crop(hwc):
    pil = Image.fromarray(hwc)
    theirs = expect("five_and_ten_crop/ten", lambda: [np.asarray(c) for c in TV.TenCrop(5, vertical_flip=True)(pil)])
    ours = T.TenCrop(5, vertical_flip=True)(pil)
    assert len(ours) == len(theirs) == 10
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)
    t = minidl.from_numpy(_chw(hwc))
    theirs = expect("five_and_ten_crop/five", lambda: [c.numpy() for c in TV.FiveCrop((4, 6))(torch.from_numpy(_chw(hwc)))])
    ours = T.FiveCrop((4, 6))(t)
    assert len(ours) == len(theirs) == 5
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b)


# ----------------------------------------------------------------------------------------- random transforms
def _replay(kind: str, hwc: np.ndarray):
    """The image as minidl's transform sees it and a map from its output to torchvision's layout, and (lazily,
    for the live oracle) the image as torchvision's functional ops see it."""
    if kind == "pil":
        pil = Image.fromarray(hwc)
        return pil, lambda: pil, np.asarray
    if kind == "tensor":
        return minidl.from_numpy(_chw(hwc)), lambda: torch.from_numpy(_chw(hwc)), lambda t: t.numpy()
    return hwc, lambda: torch.from_numpy(_chw(hwc)), _chw


@pytest.mark.parametrize("kind", ["pil", "tensor", "array"])
def test_random_transforms_apply_the_drawn_parameters_as_torchvision(request, hwc, kind):
    ours_img, their_img, view = _replay(kind, hwc)
    cases = [
        (T.RandomCrop(8, padding=[1, 2], fill=3),
         lambda: T.RandomCrop.get_params(F.pad(ours_img, [1, 2], 3), (8, 8)),
         lambda p: TVF.crop(TVF.pad(their_img(), [1, 2], 3), *p)),
        (T.RandomCrop((13, 16), pad_if_needed=True, padding_mode="edge"),
         lambda: T.RandomCrop.get_params(F.pad(F.pad(ours_img, [2, 0], 0, "edge"), [0, 2], 0, "edge"), (13, 16)),
         lambda p: TVF.crop(TVF.pad(TVF.pad(their_img(), [2, 0], 0, "edge"), [0, 2], 0, "edge"), *p)),
        (T.RandomResizedCrop(9, scale=(0.3, 0.9)),
         lambda: T.RandomResizedCrop.get_params(ours_img, (0.3, 0.9), (3 / 4, 4 / 3)),
         lambda p: TVF.resized_crop(their_img(), *p, [9, 9])),
        (T.RandomRotation(40, interpolation=T.InterpolationMode.BILINEAR, fill=9),
         lambda: T.RandomRotation.get_params([-40.0, 40.0]),
         lambda a: TVF.rotate(their_img(), a, TV.InterpolationMode.BILINEAR,
                              fill=9 if kind == "pil" else [9.0] * 3)),
        (T.RandomAffine(10, translate=(0.2, 0.1), scale=(0.8, 1.1), shear=(-5, 5, -3, 3)),
         lambda: T.RandomAffine.get_params([-10.0, 10.0], (0.2, 0.1), (0.8, 1.1), [-5.0, 5.0, -3.0, 3.0], [14, 11]),
         lambda p: TVF.affine(their_img(), p[0], list(p[1]), p[2], list(p[3]), fill=0 if kind == "pil" else [0.0] * 3)),
        (T.GaussianBlur(3, sigma=(0.5, 1.5)),
         lambda: T.GaussianBlur.get_params(0.5, 1.5),
         lambda s: TVF.gaussian_blur(their_img(), [3, 3], [s, s])),
    ]
    for i, (transform, draw, apply) in enumerate(cases):
        minidl.manual_seed(7)
        ours = transform(ours_img)

        def replay(draw=draw, apply=apply):  # the parameters minidl draws after the same seed
            minidl.manual_seed(7)
            return apply(draw())

        a, b = view(ours), expect(f"{request.node.name}/{i}", replay)
        if kind == "pil":
            np.testing.assert_array_equal(a, b)
        else:
            _assert_close_u8(a, b)


@pytest.mark.parametrize("kind", ["pil", "tensor", "array"])
def test_color_jitter_applies_its_factors_in_its_order(request, hwc, kind):
    ours_img, their_img, view = _replay(kind, hwc)
    jitter = T.ColorJitter(brightness=0.4, contrast=(0.5, 1.2), saturation=0.3, hue=0.1)
    for seed in range(5):
        minidl.manual_seed(seed)
        ours = jitter(ours_img)

        def replay(seed=seed):
            minidl.manual_seed(seed)
            order, *factors = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation,
                                                       jitter.hue)
            fns = [TVF.adjust_brightness, TVF.adjust_contrast, TVF.adjust_saturation, TVF.adjust_hue]
            theirs = their_img()
            for k in order.tolist():
                theirs = fns[k](theirs, factors[k])
            return theirs

        b = expect(f"{request.node.name}/{seed}", replay)
        if kind == "pil":
            np.testing.assert_array_equal(view(ours), b)
        else:
            _assert_close_u8(view(ours), b)


def test_random_erasing_replays_through_torchvision(rng):
    x = rng.random((3, 20, 24)).astype(np.float32)
    for value in [0, (0.1, 0.2, 0.3), "random"]:
        erase = T.RandomErasing(p=1.0, value=value)
        minidl.manual_seed(3)
        ours = erase(minidl.from_numpy(x.copy())).numpy()

        def replay(value=value, erase=erase):
            minidl.manual_seed(3)
            default_generator().random()  # the draw against p comes first
            v = None if value == "random" else ([float(value)] if isinstance(value, int) else list(value))
            i, j, h, w, fill = T.RandomErasing.get_params(minidl.from_numpy(x), erase.scale, erase.ratio, v)
            assert 0 < h * w < 20 * 24 * 0.34
            return TVF.erase(torch.from_numpy(x.copy()), i, j, h, w, torch.from_numpy(fill.numpy()))

        theirs = expect(f"random_erasing/{value}", replay)
        np.testing.assert_array_equal(ours, theirs)
        erased = np.any(ours != x, axis=0)
        assert 0 < erased.sum() < 20 * 24 * 0.34


def _draws(get, n=4000):
    minidl.manual_seed(0)
    if LIVE:
        torch.manual_seed(0)
    return np.array([get(i) for i in range(n)], dtype=np.float64)


def test_get_params_distributions_match_torchvision():
    img_m = minidl.zeros(3, 30, 40)
    pairs = [
        (lambda i: T.RandomResizedCrop.get_params(img_m, (0.08, 1.0), (3 / 4, 4 / 3)),
         lambda i: TV.RandomResizedCrop.get_params(torch.zeros(3, 30, 40), (0.08, 1.0), (3 / 4, 4 / 3))),
        (lambda i: T.RandomErasing.get_params(img_m, (0.02, 0.33), (0.3, 3.3), [0.0])[:4],
         lambda i: TV.RandomErasing.get_params(torch.zeros(3, 30, 40), (0.02, 0.33), (0.3, 3.3), [0.0])[:4]),
        (lambda i: T.RandomCrop.get_params(img_m, (20, 25)),
         lambda i: TV.RandomCrop.get_params(torch.zeros(3, 30, 40), (20, 25))),
        (lambda i: (T.RandomAffine.get_params([-10, 10], [0.1, 0.2], [0.9, 1.1], [-4, 4, -2, 2], [40, 30])[1]),
         lambda i: (TV.RandomAffine.get_params([-10, 10], [0.1, 0.2], [0.9, 1.1], [-4, 4, -2, 2], [40, 30])[1])),
    ]
    for k, (ours_fn, theirs_fn) in enumerate(pairs):
        ours, theirs = _draws(ours_fn), expect(f"get_params/{k}", lambda f=theirs_fn: _draws(f))
        assert ours.min(0).tolist() == theirs.min(0).tolist() or np.allclose(ours.min(0), theirs.min(0), atol=1)
        se = theirs.std(0) / np.sqrt(len(theirs)) + 1e-9
        assert np.all(np.abs(ours.mean(0) - theirs.mean(0)) < 5 * np.sqrt(2) * se), (ours.mean(0), theirs.mean(0))
        assert np.allclose(ours.std(0), theirs.std(0), rtol=0.1, atol=0.05)


# ----------------------------------------------------------------------------------------- make_grid / save_image
GRID_CASES = [{}, dict(nrow=2, padding=1, pad_value=0.5), dict(normalize=True),
              dict(normalize=True, value_range=(-0.5, 0.5)), dict(normalize=True, scale_each=True, nrow=3)]


@pytest.mark.parametrize("shape", [(5, 3, 4, 6), (1, 3, 4, 6), (7, 1, 3, 3), (3, 4, 5), (4, 5)])
@pytest.mark.parametrize("kw", GRID_CASES)
def test_make_grid_and_save_image_match_torchvision(request, rng, shape, kw):
    x = rng.random(shape).astype(np.float32) * 3 - 1
    ours = make_grid(minidl.from_numpy(x.copy()), **kw).numpy()
    theirs = expect(request.node.name + "/grid", lambda: torchvision.utils.make_grid(torch.from_numpy(x.copy()), **kw))
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    mine = io.BytesIO()
    save_image(minidl.from_numpy(x.copy()), mine, format="png", **kw)

    def saved():
        ref = io.BytesIO()
        torchvision.utils.save_image(torch.from_numpy(x.copy()), ref, format="png", **kw)
        return np.asarray(Image.open(ref))

    np.testing.assert_array_equal(np.asarray(Image.open(mine)), expect(request.node.name + "/png", saved))
