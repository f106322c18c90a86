"""The ImageNet zoo against PyTorch: every model, written in torch in tests/torch_zoo.py (torchvision is not
needed), gets random weights, is saved with torch.save and with safetensors, and must load into the minidl
model under the same keys and give the same outputs (eval mode, and train mode with dropout off, where batch
norm uses batch statistics and updates its running ones); minidl's safetensors files load back into torch."""

from __future__ import annotations

from copy import deepcopy

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import models
from minidl.models import weights as W

ZOO = list(models.IMAGENET_MODELS)


def close(actual, expected, tol=1e-4):
    """|actual - expected| <= tol, relative to the size of the values (float32 through deep networks)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    err = float(np.abs(actual - expected).max())
    assert err <= tol * scale, f"max error {err:.3g} > {tol:g} x {scale:.3g}"


# ------------------------------------------------------------------------------------------ without torch
@pytest.mark.parametrize("name", ZOO)
def test_parameter_counts_are_torchvisions(name):
    model = models.get(name) if name != "vgg11_bn" else None
    if model is None:  # 133 M parameters: count without initialising them
        count = models.vgg11_bn(init_weights=False)
    else:
        count = model
    assert sum(p.numel() for p in count.parameters()) == W.get_weights(name).num_params


def test_weights_tables():
    assert W.imagenet_categories()[:3] == ("tench", "goldfish", "great white shark")
    assert len(set(W.imagenet_categories())) == 1000
    entry = W.get_weights("resnet18")
    assert entry is W.get_weights("ResNet18_Weights.IMAGENET1K_V1") is W.get_weights("DEFAULT", "resnet18")
    assert entry.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert (entry.file_name, entry.sha256_prefix, entry.input_size) == ("resnet18-f37072fd.pth", "f37072fd",
                                                                        (3, 224, 224))
    assert W.get_weights("alexnet").sha256_prefix == "7be5be79"  # the hash follows the last "-"
    assert W.get_weights("mobilenet_v2").name == "IMAGENET1K_V2"  # torchvision's DEFAULT
    assert W.get_weights("mobilenet_v2").resize_size == 232
    for name in ZOO:
        e = W.get_weights(name)
        assert e.model == name and e.num_classes == 1000 and len(e.sha256_prefix) >= 8
        assert e.mean == (0.485, 0.456, 0.406) and e.std == (0.229, 0.224, 0.225)
    with pytest.raises(ValueError, match="unknown weights 'IMAGENET1K_V9' for resnet18; known: DEFAULT"):
        W.get_weights("IMAGENET1K_V9", "resnet18")


def test_num_classes_must_match_named_weights():
    with pytest.raises(ValueError, match="num_classes=10 does not match the 1000 classes"):
        models.squeezenet1_1(weights="DEFAULT", num_classes=10)


def test_replace_head_and_file_class_count(tmp_path):
    model = models.squeezenet1_1(num_classes=7)
    new = models.replace_head(model, 3)
    assert model.classifier[1] is new and tuple(new.weight.shape) == (3, 512, 1, 1)
    assert list(model.state_dict()) == list(models.squeezenet1_1(num_classes=3).state_dict())
    path = tmp_path / "five.safetensors"
    minidl.save(models.resnet18(num_classes=5).state_dict(), path)
    loaded = models.resnet18(weights=path)  # the class count is read from the file's head
    assert loaded.fc.out_features == 5
    with pytest.raises(ValueError, match="do not fit the model"):
        models.resnet18(weights=path, num_classes=4)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        models.resnet18(weights=str(tmp_path / "missing.pth"))


# ------------------------------------------------------------------------------------------ torch parity
@pytest.fixture(scope="module")
def torch_zoo(tmp_path_factory):
    """name -> (torch model, its torch.save file, its safetensors file, input size, the minidl model built
    with ``weights=`` the torch.save file), built on first use and shared by the tests of this module."""
    from safetensors.torch import save_file

    from torch_zoo import TORCH_MODELS, randomize

    built = {}
    folder = tmp_path_factory.mktemp("zoo")

    def get(name):
        if name not in built:
            ctor, size = TORCH_MODELS[name]
            model = randomize(ctor(num_classes=10, **_no_dropout(name))).eval()
            pth, st = folder / f"{name}.pth", folder / f"{name}.safetensors"
            torch.save(model.state_dict(), pth)
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, st)
            ours = models.get(name, weights=pth, **_no_dropout(name))
            built[name] = (model, pth, st, size, ours)
        return built[name]

    return get


def _no_dropout(name):
    """Constructor arguments that turn dropout off (ResNets have none)."""
    return {} if name.startswith("resnet") else {"dropout": 0.0}


def _input(size, n=2):
    return np.random.default_rng(7).standard_normal((n, 3, size, size)).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("fmt", ["pth", "safetensors"])
@pytest.mark.parametrize("name", ZOO)
def test_torch_weights_load_and_match_in_eval_mode(name, fmt, torch_zoo):
    """torch.save files load through ``weights=``; safetensors files too (for the two largest models, whose
    construction is slow, into the already built model through the hub, which reads both formats alike)."""
    tmodel, pth, st, size, ours = torch_zoo(name)
    if fmt == "pth":
        model = ours
    elif name in ("vgg11_bn", "alexnet"):
        model = deepcopy(ours)
        for t in model.state_dict().values():
            t.zero_()
        model.load_state_dict(minidl.hub.load_weights(st))
    else:
        model = models.get(name, weights=st, **_no_dropout(name))
    model.eval()
    assert list(model.state_dict()) == list(tmodel.state_dict())
    x = _input(size)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    with minidl.no_grad():
        close(model(minidl.from_numpy(x)).numpy(), expected)


@requires_torch
@pytest.mark.parametrize("name", ZOO)
def test_train_mode_with_dropout_off_matches_and_updates_running_stats(name, torch_zoo):
    tmodel, _, _, size, ours = torch_zoo(name)
    model = deepcopy(ours).train()
    copy = deepcopy(tmodel).train()  # the cached model stays in eval mode with its statistics
    x = _input(size, n=4)
    expected = copy(torch.from_numpy(x))
    out = model(minidl.from_numpy(x))
    close(out.detach().numpy(), expected.detach().numpy())
    ours, theirs = model.state_dict(), copy.state_dict()
    for key in ours:  # running statistics and num_batches_tracked moved alike
        close(ours[key].numpy(), theirs[key].numpy())


@requires_torch
@pytest.mark.parametrize("name", ["squeezenet1_1", "resnet18", "mobilenet_v2"])
def test_train_mode_gradients_match_in_float64(name, torch_zoo):
    """Batch norm over a few small maps amplifies float32 rounding in deep layers' gradients, so the
    gradients are compared in float64, where both libraries must agree to rounding."""
    tmodel, _, _, size, ours = torch_zoo(name)
    copy = deepcopy(tmodel).double().train()
    model = deepcopy(ours).double().train()
    x = np.random.default_rng(3).standard_normal((4, 3, size, size))
    target = np.arange(4) % 10
    torch.nn.functional.cross_entropy(copy(torch.from_numpy(x)), torch.from_numpy(target)).backward()
    minidl.nn.functional.cross_entropy(model(minidl.from_numpy(x)), minidl.tensor(target)).backward()
    grads = dict(model.named_parameters())
    for key, p in copy.named_parameters():
        close(grads[key].grad.numpy(), p.grad.numpy(), tol=1e-9)


@requires_torch
@pytest.mark.parametrize("name", ["squeezenet1_1", "resnet18", "mobilenet_v2"])
def test_minidl_safetensors_load_into_torch(name, tmp_path, torch_zoo):
    from safetensors.torch import load_file

    tmodel, _, _, size, _ = torch_zoo(name)
    model = models.get(name, num_classes=10).eval()
    path = tmp_path / "ours.safetensors"
    minidl.save(model.state_dict(), path)
    fresh = deepcopy(tmodel)
    fresh.load_state_dict(load_file(path))
    x = _input(size)
    with torch.no_grad(), minidl.no_grad():
        close(model(minidl.from_numpy(x)).numpy(), fresh(torch.from_numpy(x)).numpy())
