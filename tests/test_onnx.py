"""minidl.onnx: export of every zoo model and mappable layer (checked with onnx's full check, run by
onnxruntime and by onnx's reference evaluator), import of minidl's and PyTorch's exports (same outputs,
trainable parameters), and the errors for what cannot be exported or imported."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch
from minidl import models, nn
from minidl.errors import UnsupportedError

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'minidl[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime (the onnx extra) is not installed")
from minidl import onnx as mo  # noqa: E402

ZOO_SIZES = {"squeezenet1_0": 64, "squeezenet1_1": 64, "resnet18": 64, "resnet34": 64, "mobilenet_v2": 64,
             "vgg11_bn": 32, "alexnet": 64}  # vgg at 32 and alexnet at 64 end on 1×1 maps: adaptive upsampling


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _run_ort(proto, *inputs):
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs, strict=True)))[0]


def _ours(model, *inputs):
    with minidl.no_grad():
        return model(*[minidl.from_numpy(x) for x in inputs]).numpy()


def close(actual, expected, tol=1e-4):
    scale = max(1.0, float(np.abs(expected).max()))
    assert actual.shape == expected.shape
    err = float(np.abs(actual - expected).max())
    assert err <= tol * scale, f"max error {err:.3g} > {tol:g} x {scale:.3g}"


def _randomize_stats(model):
    """Batch-norm statistics away from 0 and 1, so exported eval-mode normalisation is really checked."""
    rng = np.random.default_rng(5)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            m.running_mean._data[...] = rng.standard_normal(m.running_mean.shape) * 0.1
            m.running_var._data[...] = rng.random(m.running_var.shape) + 0.5
            m.weight.data.uniform_(0.5, 1.5)
    return model


# ------------------------------------------------------------------------------------------ export: the zoo
@pytest.mark.parametrize("name", list(ZOO_SIZES))
def test_zoo_export_runs_in_onnxruntime_on_another_batch_size(name, tmp_path):
    size = ZOO_SIZES[name]
    model = _randomize_stats(models.get(name, num_classes=10)).eval()
    path = tmp_path / f"{name}.onnx"
    proto = mo.export(model, _x((2, 3, size, size)), path)  # checked with full_check=True inside
    assert onnx.load(str(path)) == proto
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = _x((3, 3, size, size), seed=1)
    close(_run_ort(proto, x), _ours(model, x))
    names = {i.name for i in proto.graph.initializer}
    assert set(model.state_dict()) - names <= {k for k in model.state_dict() if k.endswith("num_batches_tracked")}


@pytest.mark.parametrize("name", ["squeezenet1_1", "mobilenet_v2"])
def test_zoo_export_matches_the_reference_evaluator(name):
    """A second oracle: onnx's own reference implementation of every operator."""
    from onnx.reference import ReferenceEvaluator

    model = _randomize_stats(models.get(name, num_classes=10)).eval()
    proto = mo.export(model, _x((1, 3, 32, 32)))
    x = _x((2, 3, 32, 32), seed=2)
    close(ReferenceEvaluator(proto).run(None, {"input": x})[0], _ours(model, x))


# ------------------------------------------------------------------------------------------ export: layers
class _Fn(nn.Module):
    """A module running a function of its input (for the tensor-level exports)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


F = nn.functional
LAYERS = {
    "conv_groups_dilation": (nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 9, 9)),
    "conv_same": (nn.Conv2d(3, 5, 4, padding="same", bias=False), (2, 3, 8, 8)),
    "linear_2d": (nn.Linear(6, 4), (3, 6)),
    "linear_3d": (nn.Linear(6, 4), (2, 3, 6)),
    "matmul": (_Fn(lambda x: x @ x.transpose(1, 2)), (2, 3, 4)),
    "maxpool_ceil_pad_dilation": (nn.MaxPool2d(3, 2, padding=1, dilation=1, ceil_mode=True), (2, 3, 10, 10)),
    "maxpool_dilated": (nn.MaxPool2d(2, 1, dilation=2), (1, 2, 7, 7)),
    "avgpool_exclude_pad": (nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), (2, 3, 9, 9)),
    "avgpool_ceil": (nn.AvgPool2d(2, ceil_mode=True), (2, 3, 7, 7)),
    "adaptive_global": (nn.AdaptiveAvgPool2d(1), (2, 3, 5, 6)),
    "adaptive_divisible": (nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 8, 9)),
    "adaptive_uneven": (nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 5)),
    "batchnorm2d": (nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "batchnorm1d": (nn.BatchNorm1d(3), (4, 3)),
    "layernorm": (nn.LayerNorm([4, 5]), (2, 3, 4, 5)),
    "dropout_eval": (nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)), (3, 4)),
    "flatten": (nn.Flatten(), (2, 3, 4, 5)),
    "flatten_middle": (nn.Flatten(2), (2, 3, 4, 5)),
    "view": (_Fn(lambda x: x.view(x.shape[0], 6, -1)), (2, 3, 4, 5)),
    "permute": (_Fn(lambda x: x.permute(0, 2, 3, 1)), (2, 3, 4, 5)),
    "cat_stack": (_Fn(lambda x: minidl.stack([minidl.cat([x, x * 2], 1), x.repeat(1, 2, 1)], 1)), (2, 3, 4)),
    "arithmetic": (_Fn(lambda x: (x + 1.5) * x - x / 2 - 0.25 ** x.abs() + minidl.maximum(x, x * 0.5) ** 2), (3, 4)),
    "slicing": (_Fn(lambda x: x[:, 1:3, ::2] + x[:, 0:1, 1::2]), (2, 4, 6)),
    "reductions": (_Fn(lambda x: x.mean((2, 3)) + x.sum(1).amax(-1)[:, :3] - x.amin((1, 2, 3), keepdim=True)),
                   (2, 3, 4, 5)),
    "softmax": (nn.Softmax(dim=1), (2, 5, 3)),
    "log_softmax": (nn.LogSoftmax(dim=-1), (2, 5)),
    "expand": (_Fn(lambda x: x.mean(1, keepdim=True).expand(-1, 4, -1) * x), (2, 4, 3)),
    "prelu": (nn.PReLU(3), (2, 3, 4, 4)),
}
for _name, _act in {"relu": nn.ReLU(inplace=True), "leaky_relu": nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid(),
                    "tanh": nn.Tanh(), "relu6": nn.ReLU6(), "hardtanh": nn.Hardtanh(-0.5, 2.0), "elu": nn.ELU(0.7),
                    "selu": nn.SELU(), "celu": nn.CELU(1.3), "gelu": nn.GELU(), "silu": nn.SiLU(), "mish": nn.Mish(),
                    "softplus": nn.Softplus(), "softplus_beta": nn.Softplus(beta=2.0), "softsign": nn.Softsign(),
                    "hardswish": nn.Hardswish(), "hardsigmoid": nn.Hardsigmoid(), "logsigmoid": nn.LogSigmoid(),
                    "threshold": nn.Threshold(0.1, -2.0)}.items():
    LAYERS[_name] = (_act, (2, 3, 4))


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_exports_run_in_onnxruntime_and_import_back(name):
    module, shape = LAYERS[name]
    module = _randomize_stats(module).eval()
    proto = mo.export(module, _x(shape))
    bigger = (shape[0] + 2, *shape[1:])
    x = _x(bigger, seed=3)
    expected = _ours(module, x)
    close(_run_ort(proto, x), expected)
    back = mo.load(proto).eval()
    close(_ours(back, x), expected)


def test_gelu_tanh_needs_opset_20_and_works_there():
    with pytest.raises(UnsupportedError, match="opset 20"):
        mo.export(nn.GELU("tanh"), _x((2, 3)))
    proto = mo.export(nn.GELU("tanh"), _x((2, 3)), opset=20)
    x = _x((4, 3), 1)
    close(_run_ort(proto, x), _ours(nn.GELU("tanh"), x))


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets(opset):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), _Fn(lambda x: x.mean((2, 3))), nn.Softmax(1))
    proto = mo.export(model, _x((2, 3, 6, 6)), opset=opset)
    x = _x((3, 3, 6, 6), 4)
    close(_run_ort(proto, x), _ours(model, x))
    close(_ours(mo.load(proto), x), _ours(model, x))


def test_pad_conv_transpose_and_resize_when_minidl_has_them():
    if not hasattr(minidl.ops, "pad") or not hasattr(minidl.ops, "conv_transpose2d"):
        pytest.skip("minidl's pad and conv_transpose2d ops are not in this build")
    for mode in ("constant", "reflect", "replicate"):
        model = _Fn(lambda x, m=mode: F.pad(x, (1, 2, 2, 0), mode=m))
        proto = mo.export(model, _x((2, 3, 5, 5)))
        x = _x((3, 3, 5, 5), 6)
        close(_run_ort(proto, x), _ours(model, x))
        close(_ours(mo.load(proto), x), _ours(model, x))
    model = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
    proto = mo.export(model, _x((2, 4, 5, 5)))
    x = _x((1, 4, 5, 5), 7)
    close(_run_ort(proto, x), _ours(model, x))
    close(_ours(mo.load(proto), x), _ours(model, x))


# ------------------------------------------------------------------------------------------ export: errors
class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, x):
        return self.emb(x.long())


class _Writer(nn.Module):
    def forward(self, x):
        y = x * 2
        y[:, 0] = 0.0
        return y


def test_unexportable_layer_error_names_the_module_path():
    model = nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.ReLU(), _Tagger()))
    with pytest.raises(UnsupportedError, match=r"module '1\.1\.emb' runs the op 'embedding', which has no ONNX form"):
        mo.export(model, _x((2, 3)))
    with pytest.raises(UnsupportedError, match=r"module 'w' assigns into a tensor by index"):
        mo.export(nn.Sequential(__import__("collections").OrderedDict(w=_Writer())), _x((2, 3)))
    with pytest.raises(ValueError, match="opset must be from 13 to 21"):
        mo.export(nn.ReLU(), _x((2, 3)), opset=11)


def test_export_restores_the_training_mode_and_touches_no_statistics():
    model = nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.5)).train()
    before = model.state_dict()["0.running_mean"].numpy().copy()
    mo.export(model, _x((4, 3)))
    assert model.training and model[0].training
    np.testing.assert_array_equal(model.state_dict()["0.running_mean"].numpy(), before)


# ------------------------------------------------------------------------------------------ import
def test_roundtrip_keeps_state_dict_keys_and_trains_like_the_original():
    model = _randomize_stats(models.resnet18(num_classes=4))
    proto = mo.export(model, _x((2, 3, 32, 32)))
    back = mo.load(proto)
    assert list(back.state_dict()) == [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    assert all(isinstance(p, nn.Parameter) for p in back.parameters())
    # train mode: batch statistics, and the running ones move as in the original
    x = _x((4, 3, 32, 32), 8)
    model.train(), back.train()
    close(back(minidl.from_numpy(x)).detach().numpy(), model(minidl.from_numpy(x)).detach().numpy())
    close(back.state_dict()["bn1.running_mean"].numpy(), model.state_dict()["bn1.running_mean"].numpy())
    # one fine-tuning step changes the parameters, and only through gradients
    opt = minidl.optim.SGD(back.parameters(), lr=0.1)
    before = back.state_dict()["fc.weight"].numpy().copy()
    loss = nn.functional.cross_entropy(back(minidl.from_numpy(x)), minidl.tensor([0, 1, 2, 3]))
    loss.backward()
    opt.step()
    assert not np.array_equal(back.state_dict()["fc.weight"].numpy(), before)
    # and its weights load back into the zoo model
    fresh = models.resnet18(num_classes=4)
    fresh.load_state_dict(back.state_dict(), strict=False)
    np.testing.assert_array_equal(fresh.fc.weight.detach().numpy(), back.state_dict()["fc.weight"].numpy())


def test_unsupported_operator_names_it_and_its_node():
    h = onnx.helper
    node = h.make_node("Einsum", ["x", "x"], ["y"], name="mix", equation="ij,ij->i")
    graph = h.make_graph([h.make_node("Relu", ["x"], ["r"]), node], "g",
                         [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3])],
                         [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2])])
    with pytest.raises(UnsupportedError, match=r"operator 'Einsum' at node 1 \('mix'\) is not supported"):
        mo.load(h.make_model(graph))


def test_shape_gather_reshape_pattern():
    """x.view(x.size(0), -1) as ONNX models spell it: Shape → Gather → Unsqueeze → Concat → Reshape."""
    h, T = onnx.helper, onnx.TensorProto
    nodes = [h.make_node("Shape", ["x"], ["s"]),
             h.make_node("Constant", [], ["zero"], value=h.make_tensor("z", T.INT64, [], [0])),
             h.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             h.make_node("Constant", [], ["axes"], value_ints=[0]),
             h.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
             h.make_node("Constant", [], ["minus1"], value_ints=[-1]),
             h.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             h.make_node("Reshape", ["x", "shape"], ["flat"]),
             h.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["y"], transB=1)]
    w, b = _x((2, 12)), _x((2,), 1)
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, ["n", 3, 4])],
                         [h.make_tensor_value_info("y", T.FLOAT, ["n", 2])],
                         [onnx.numpy_helper.from_array(w, "fc.weight"), onnx.numpy_helper.from_array(b, "fc.bias")])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)
    back = mo.load(model)
    assert [n for n, _ in back.named_parameters()] == ["fc.weight", "fc.bias"]
    x = _x((5, 3, 4), 2)
    close(_ours(back, x), x.reshape(5, -1) @ w.T + b)
    close(_ours(back, x), _run_ort(model, x))


# ------------------------------------------------------------------------------------------ PyTorch's exports
@requires_torch
@pytest.mark.parametrize("name", list(ZOO_SIZES))
def test_torch_onnx_exports_of_the_zoo_import_and_match(name):
    from torch_zoo import TORCH_MODELS, randomize

    ctor, _ = TORCH_MODELS[name]
    size = 224 if name in ("alexnet", "vgg11_bn") else 64  # torch exports adaptive pools of divisible sizes
    tmodel = randomize(ctor(num_classes=10)).eval()
    x = _x((2, 3, size, size))
    f = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(tmodel, (torch.from_numpy(x),), f, dynamo=False, opset_version=17, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    back = mo.load(f.getvalue()).eval()
    x1 = _x((1, 3, size, size), 9)
    with torch.no_grad():
        close(_ours(back, x1), tmodel(torch.from_numpy(x1)).numpy())
