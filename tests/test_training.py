"""Trainer.fit, History, callbacks, evaluate/predict, and bitwise-exact resume from checkpoints."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import minidl
from minidl import optim
from minidl.datasets import FashionMNISTSmall, make_blobs
from minidl.models import MLP, BatchNormCNN, LeNet5
from minidl.nn import functional as F
from minidl.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from minidl.training import (
    Callback,
    CheckpointError,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    ProgressBar,
    Trainer,
    evaluate,
    predict,
    restore_checkpoint,
)
from minidl.training.trainer import count_correct
from minidl.utils.data import DataLoader, TensorDataset

CENTERS = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]])


def _blobs(n: int = 240, seed: int = 0) -> TensorDataset:
    """Three Gaussian blobs (std 1.5) around fixed centres; ``seed`` draws a new sample of the same problem."""
    x, y = make_blobs(n, centers=CENTERS, std=1.5, generator=np.random.default_rng(seed))
    return TensorDataset(minidl.tensor(x.astype(np.float32)), minidl.tensor(y))


def _loaders(seed: int = 3, n: int = 240) -> tuple[DataLoader, DataLoader]:
    train = DataLoader(_blobs(n), batch_size=32, shuffle=True, generator=np.random.default_rng(seed))
    val = DataLoader(_blobs(n // 2, seed=1), batch_size=50)
    return train, val


def _mlp(dropout: float = 0.0, batchnorm: bool = False) -> MLP:
    return MLP(input_dim=2, hidden_dims=(16,), num_classes=3, dropout=dropout, batchnorm=batchnorm)


def _silent() -> Trainer:
    return Trainer(progress=False)


# ------------------------------------------------------------------------------------------ fit and History
def test_fit_learns_and_records_history() -> None:
    train, val = _loaders()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = _silent().fit(model, train, val, optimizer=opt, epochs=4)
    assert len(hist.loss) == 4 * len(train)  # one loss per iteration
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "time"):
        assert len(hist[key]) == 4, key
    assert hist.lr == [0.1] * 4
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert hist.val_acc[-1] > 0.9  # three well separated blobs; chance is 1/3
    # the recorded validation numbers are what evaluate() measures on the final model
    final = evaluate(model, val)
    assert final["loss"] == pytest.approx(hist.val_loss[-1], rel=1e-6)
    assert final["acc"] == hist.val_acc[-1]
    assert hist.best_epoch == int(np.argmax(hist.val_acc)) and hist.best_value == max(hist.val_acc)


def test_history_json_round_trip(tmp_path) -> None:
    train, val = _loaders()
    hist = _silent().fit(_mlp(), train, val, epochs=2)
    text = hist.to_json(tmp_path / "h.json")
    again = History.from_json(tmp_path / "h.json")
    assert again == hist and History.from_json(text) == hist
    assert json.loads(text)["metrics"]["val_acc"] == hist.val_acc
    assert "val_acc" in hist and "loss" in hist and "nope" not in hist
    with pytest.raises(KeyError, match="no series 'nope'"):
        hist["nope"]
    with pytest.raises(ValueError, match="not a history"):
        History.from_dict({"loss": []})


def test_regression_has_no_accuracy() -> None:
    x = minidl.randn(64, 3)
    ds = TensorDataset(x, x * 2.0)
    model = minidl.nn.Linear(3, 3)
    trainer = Trainer(progress=False, monitor="val_loss")
    hist = trainer.fit(model, DataLoader(ds, batch_size=16), DataLoader(ds, batch_size=16), loss_fn=F.mse_loss,
                       optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=3)
    assert hist.train_acc == [None] * 3 and hist.val_acc == [None] * 3
    assert hist.val_loss[-1] < hist.val_loss[0]
    assert hist.best_epoch == 2 and trainer.best_state is not None
    assert evaluate(model, DataLoader(ds, batch_size=64), F.mse_loss)["acc"] is None


def test_count_correct() -> None:
    out = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert count_correct(out, np.array([1, 0, 0])) == 2
    assert count_correct(out, np.array([1.0, 0.0, 0.0])) is None  # float targets: not a classification
    assert count_correct(out, np.array([1, 0])) is None


def test_best_state_is_a_copy_of_the_best_epoch() -> None:
    train, val = _loaders()
    model = _mlp(dropout=0.3)
    snapshots = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(
        {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}))
    trainer = Trainer(progress=False, restore_best=False)
    hist = trainer.fit(model, train, val, optimizer=optim.SGD(model.parameters(), lr=0.5), epochs=5,
                       callbacks=[record])
    best = snapshots[hist.best_epoch]
    assert all(np.array_equal(trainer.best_state[k], best[k]) for k in best)
    restoring = Trainer(progress=False, restore_best=True)
    model2 = _mlp(dropout=0.3)
    h2 = restoring.fit(model2, *_loaders(), optimizer=optim.SGD(model2.parameters(), lr=0.5), epochs=3)
    assert evaluate(model2, _loaders()[1])["acc"] == h2.best_value


# ------------------------------------------------------------------------------------------ schedulers
def test_epoch_scheduler_steps_once_per_epoch() -> None:
    train, val = _loaders()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.4)
    hist = _silent().fit(model, train, val, optimizer=opt, scheduler=StepLR(opt, step_size=1, gamma=0.5), epochs=3)
    assert hist.lr == [0.4, 0.2, 0.1]
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_plateau_scheduler_gets_the_validation_metric() -> None:
    seen = []

    class Recording(ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    train, val = _loaders()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = _silent().fit(model, train, val, optimizer=opt, scheduler=Recording(opt, patience=0), epochs=3)
    assert seen == hist.val_loss
    seen.clear()
    model3 = _mlp()
    opt3 = optim.SGD(model3.parameters(), lr=0.0)
    # a scheduler in mode 'max' is stepped with the validation accuracy
    h3 = _silent().fit(model3, train, val, optimizer=opt3, scheduler=Recording(opt3, mode="max"), epochs=3)
    assert seen == h3.val_acc


def test_plateau_scheduler_with_lr_reduction() -> None:
    train, val = _loaders()
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    # with no validation set and mode 'max' the train accuracy is used; a huge threshold makes every epoch
    # after the first "not better", so the rate halves after epochs 2 and 3
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0, threshold=10.0)
    hist = _silent().fit(model, train, optimizer=opt, scheduler=sched, epochs=3)
    assert hist.lr == [0.1, 0.1, 0.05] and opt.param_groups[0]["lr"] == 0.025
    assert sched.best == hist.train_acc[0]


# ------------------------------------------------------------------------------------------ callbacks
def test_callback_hooks_order() -> None:
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")
            assert self.trainer.model is not None

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin{epoch}")

        def on_batch_begin(self, batch, logs=None):
            events.append("batch_begin")
            x, y = logs["data"]  # the batch as the loader yielded it
            assert x.shape[1] == 2 and len(y) == len(x)

        def on_batch_end(self, batch, logs=None):
            events.append("batch")
            assert set(logs) == {"loss", "acc", "size"}

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end{epoch}")
            assert logs["val_acc"] is not None and logs["lr"] == 1e-3

        def on_train_end(self, logs=None):
            events.append("train_end")

    train, val = _loaders(n=64)
    _silent().fit(_mlp(), train, val, epochs=2, callbacks=[Recorder()])
    batches = ["batch_begin", "batch"] * len(train)
    assert events == ["train_begin", "epoch_begin0", *batches, "epoch_end0", "epoch_begin1", *batches,
                      "epoch_end1", "train_end"]
    with pytest.raises(TypeError, match="Callback instances"):
        _silent().fit(_mlp(), train, epochs=1, callbacks=[lambda: None])


def test_early_stopping() -> None:
    train, val = _loaders()
    model = _mlp()
    stop = EarlyStopping(monitor="val_loss", patience=2)
    # lr 0: the validation loss never changes, so it never improves after the first epoch
    hist = _silent().fit(model, train, val, optimizer=optim.SGD(model.parameters(), lr=0.0), epochs=10,
                         callbacks=[stop])
    assert hist.epochs == 3 and stop.stopped_epoch == 2 and stop.best_epoch == 0


def test_early_stopping_restores_best_weights() -> None:
    train, val = _loaders()
    model = _mlp()
    best = []

    class Worsen(Callback):
        """After epoch 1, push the weights far off so validation gets worse: the best epoch is 1."""

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                best.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
            if epoch >= 1:
                for p in model.parameters():
                    p.data += 5.0

    stop = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    # early stopping runs before Worsen, so it copies the weights the epoch's metrics were measured with
    hist = _silent().fit(model, train, val, optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=10,
                         callbacks=[stop, Worsen()])
    assert stop.best_epoch == 1 and hist.epochs == 3
    for k, v in model.state_dict().items():
        assert np.array_equal(v.detach().numpy(), best[0][k])


def test_model_checkpoint_best_only(tmp_path) -> None:
    train, val = _loaders()
    model = _mlp()
    saved = []
    cb = ModelCheckpoint(tmp_path / "e{epoch:02d}-{val_loss:.4f}.npz", monitor="val_loss", save_best_only=True)
    watcher = LambdaCallback(on_epoch_end=lambda e, logs: saved.append(cb.last_saved))
    # lr schedule 0.1 then 0: improvements only in the first epochs, then a flat metric
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = _silent().fit(model, train, val, optimizer=opt, scheduler=StepLR(opt, step_size=2, gamma=0.0),
                         epochs=4, callbacks=[cb, watcher])
    files = sorted(p.name for p in tmp_path.iterdir())
    improved = [e for e in range(4) if hist.val_loss[e] == min(hist.val_loss[: e + 1])
                and (e == 0 or hist.val_loss[e] < min(hist.val_loss[:e]))]
    assert files == [f"e{e + 1:02d}-{hist.val_loss[e]:.4f}.npz" for e in improved]
    assert len(files) < 4  # the frozen epochs did not write
    restored = _mlp()
    tree = restore_checkpoint(tmp_path / files[-1], restored)
    assert tree["epoch"] == improved[-1] + 1


def test_model_checkpoint_every_epoch(tmp_path) -> None:
    train, val = _loaders(n=64)
    _silent().fit(_mlp(), train, val, epochs=2, callbacks=[ModelCheckpoint(tmp_path / "c{epoch}.npz")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.npz", "c2.npz"]
    with pytest.raises(ValueError, match="cannot format"):
        _silent().fit(_mlp(), train, val, epochs=1, callbacks=[ModelCheckpoint(tmp_path / "{nope}.npz")])


def test_missing_monitor_warns() -> None:
    train, _ = _loaders(n=64)
    with pytest.warns(UserWarning, match="'val_acc' is not available"):
        _silent().fit(_mlp(), train, epochs=1, callbacks=[EarlyStopping(monitor="val_acc")])


# ------------------------------------------------------------------------------------------ progress output
def test_progress_plain_lines_and_silence(capsys) -> None:
    train, val = _loaders(n=128)  # 4 batches per epoch
    buf = io.StringIO()
    trainer = Trainer(progress=False)
    trainer.fit(_mlp(), train, val, epochs=2, callbacks=[ProgressBar(log_every=2, use_tqdm=False, file=buf)])
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/2 [2/4] loss") and "acc" in lines[0]
    assert lines[2].startswith("epoch 1/2: train_loss") and "val_acc" in lines[2] and "lr 0.001" in lines[2]
    assert len(lines) == 6
    _silent().fit(_mlp(), train, val, epochs=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_tqdm_bar() -> None:
    pytest.importorskip("tqdm")
    train, val = _loaders(n=64)
    buf = io.StringIO()
    _silent().fit(_mlp(), train, val, epochs=1, callbacks=[ProgressBar(use_tqdm=True, file=buf)])
    text = buf.getvalue()
    assert "epoch 1/1" in text and "loss=" in text and "val_acc" in text


# ------------------------------------------------------------------------------------------ evaluate / predict
def test_evaluate_and_predict() -> None:
    ds = _blobs(100)
    model = _mlp(dropout=0.5, batchnorm=True)
    _silent().fit(model, DataLoader(ds, batch_size=20, shuffle=True), epochs=2)
    model.train()
    x, y = ds.tensors
    loader = DataLoader(ds, batch_size=30)  # batches 30, 30, 30, 10: the mean must weight them
    res = evaluate(model, loader)
    assert model.training  # mode restored
    model.eval()
    with minidl.no_grad():
        logits = model(x)
        expected_loss = F.cross_entropy(logits, y).item()
    model.train()
    assert res["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert res["acc"] == np.mean(logits.detach().numpy().argmax(1) == y.detach().numpy())
    out = predict(model, x.detach().numpy(), batch_size=33)
    assert np.allclose(out, logits.detach().numpy(), rtol=1e-6, atol=1e-6) and model.training
    assert np.allclose(predict(model, loader), out, rtol=1e-6, atol=1e-6)
    assert np.allclose(predict(model, x), out, rtol=1e-6, atol=1e-6)
    probs = predict(model, x, probs=True)
    assert np.allclose(probs.sum(1), 1.0) and np.array_equal(probs.argmax(1), out.argmax(1))
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="no samples"):
        evaluate(model, [])


def test_bad_batches_and_arguments() -> None:
    model = _mlp()
    with pytest.raises(TypeError, match="a batch must be a tensor, a tuple or list"):
        _silent().fit(model, [3], epochs=1)
    with pytest.raises(KeyError, match=r"no key 'input' \(keys: \['image', 'label'\]\).*input_key"):
        _silent().fit(model, [{"image": minidl.randn(4, 2), "label": minidl.tensor([0, 1, 2, 0])}], epochs=1)
    with pytest.raises(TypeError, match="training_step must return the loss"):
        class NoLoss(Trainer):
            def training_step(self, batch):
                return {"output": self.model(batch[0])}

        NoLoss(progress=False).fit(model, _loaders()[0], epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        _silent().fit(model, _loaders()[0], epochs=-1)


# ------------------------------------------------------------------------------------------ extending the Trainer
def test_training_and_validation_steps_can_be_overridden() -> None:
    """A subclass adds an L2 penalty to the training loss and validates on the plain loss; what the steps return
    is what the history records."""
    calls = {"train": 0, "val": 0}

    class L2Trainer(Trainer):
        def training_step(self, batch):
            calls["train"] += 1
            x, y = batch
            out = self.model(x)
            penalty = sum((p * p).sum() for p in self.model.parameters())
            return {"loss": F.cross_entropy(out, y) + 0.01 * penalty, "output": out, "target": y}

        def validation_step(self, batch):
            calls["val"] += 1
            x, y = batch
            return F.cross_entropy(self.model(x), y)  # the loss alone: no accuracy

    train, val = _loaders(n=96)
    model = _mlp()
    hist = L2Trainer(progress=False, monitor="val_loss").fit(model, train, val, epochs=2)
    assert calls == {"train": 2 * len(train), "val": 2 * len(val)}
    assert hist.train_acc[0] is not None and hist.val_acc == [None, None]
    assert hist.val_loss[-1] == pytest.approx(evaluate(model, val)["loss"], rel=1e-6)
    with minidl.no_grad():  # the training loss includes the penalty
        x, y = next(iter(train))
        plain = F.cross_entropy(model(x), y).item()
    assert hist.train_loss[-1] > plain - 0.5


def test_batches_of_any_structure() -> None:
    """Tuples (several inputs, then the target), dicts (keys named on the Trainer), a bare tensor or a 1-tuple
    (an autoencoder: the input is the target) all train with the default steps."""
    x, y = _blobs(64).tensors
    # dict batches with torchvision-like keys
    dicts = DataLoader([{"image": x[i], "label": y[i]} for i in range(64)], batch_size=16)
    hist = Trainer(progress=False, input_key="image", target_key="label").fit(_mlp(), dicts, dicts, epochs=1)
    assert hist.train_acc[0] is not None and hist.val_acc[0] is not None

    # an autoencoder on single tensors: TensorDataset(x) yields 1-tuples, a list of tensors yields tensors
    def autoencoder():
        return minidl.nn.Sequential(minidl.nn.Linear(2, 4), minidl.nn.Tanh(), minidl.nn.Linear(4, 2))

    for loader in (DataLoader(TensorDataset(x), batch_size=16), [x[:32], x[32:]]):
        model = autoencoder()
        before = evaluate(model, loader, F.mse_loss)["loss"]
        hist = Trainer(progress=False, monitor="train_loss").fit(model, loader, loss_fn=F.mse_loss, epochs=5,
                                                                  optimizer=optim.Adam(model.parameters(), 1e-2))
        assert hist.train_acc == [None] * 5 and evaluate(model, loader, F.mse_loss)["loss"] < before
    # dicts without targets: target_key=None reconstructs the input
    model = autoencoder()
    Trainer(progress=False, monitor="train_loss", target_key=None).fit(
        model, [{"input": x[:32]}], loss_fn=F.mse_loss, epochs=1)

    # a model of two inputs: (x₁, x₂, y)
    class TwoInputs(minidl.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = minidl.nn.Linear(2, 3), minidl.nn.Linear(2, 3)

        def forward(self, u, v):
            return self.a(u) + self.b(v)

    hist = _silent().fit(TwoInputs(), [(x[:32], 2 * x[:32], y[:32])], epochs=2)
    assert hist.train_acc[1] is not None


def test_numpy_batches_keep_their_dtypes() -> None:
    """Integer label arrays stay class indices (not floats, which would read as class probabilities)."""
    x, y = _blobs(64).tensors
    batches = [(x.numpy()[:32], y.numpy()[:32]), (x.numpy()[32:], y.numpy()[32:])]
    hist = _silent().fit(_mlp(), batches, epochs=1)
    assert hist.train_acc[0] is not None


def test_evaluating_restores_the_mode_even_when_the_block_raises() -> None:
    from minidl.nn.utils import evaluating

    model = _mlp(dropout=0.5)
    with pytest.raises(RuntimeError), evaluating(model):
        assert not model.training and not minidl.is_grad_enabled()
        raise RuntimeError
    assert model.training and minidl.is_grad_enabled()
    with evaluating(lambda t: t):  # a plain function has no mode: used as it is
        pass


class _Counter(Callback):
    """A stateful callback: counts the batches it has seen (across a resume, through its state)."""

    state_key_settings = ("name",)

    def __init__(self, name: str) -> None:
        self.name, self.seen = name, 0

    def on_batch_end(self, batch, logs=None):
        self.seen += 1

    def state_dict(self):
        return {"seen": self.seen}

    def load_state_dict(self, state):
        self.seen = state["seen"]


def test_callback_state_is_restored_by_key_and_mismatches_warn(tmp_path) -> None:
    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, epochs=1, checkpoint=path,
                  callbacks=[_Counter("a"), EarlyStopping("val_loss"), _Counter("b"), LambdaCallback()])
    per_epoch = len(train)

    # another order, a callback more and one less: states follow their keys, the rest is said aloud
    a, b, stop, extra = _Counter("a"), _Counter("b"), EarlyStopping("val_loss"), _Counter("new")
    model, train, val, opt, sched = _resume_setup(1)
    with pytest.warns(UserWarning) as record:
        _silent().fit(model, train, val, optimizer=opt, epochs=2, resume=path, callbacks=[b, extra, stop, a])
    assert (a.seen, b.seen, extra.seen) == (2 * per_epoch, 2 * per_epoch, per_epoch)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "no state for callback \"_Counter(name='new')\"" in messages[0]
    assert "starts afresh" in messages[0]
    assert stop.best_epoch in (0, 1)  # epoch 0's best came back with the checkpoint

    model, train, val, opt, sched = _resume_setup(1)
    with pytest.warns(UserWarning, match=r"does not have, ignored: \[\"_Counter\(name='a'\)\""):
        _silent().fit(model, train, val, optimizer=opt, epochs=2, resume=path,
                      callbacks=[_Counter("b"), EarlyStopping("val_loss")])

    with pytest.raises(ValueError, match="share the state key"):
        _silent().fit(model, train, epochs=1, callbacks=[_Counter("a"), _Counter("a")])
    twin = _Counter("a")
    twin.state_key = "second counter"
    _silent().fit(model, train, epochs=1, callbacks=[_Counter("a"), twin])


def test_checkpoints_from_before_state_keys_still_resume(tmp_path) -> None:
    """Checkpoints used to list callback states by class name; a class present once is still matched."""
    from minidl.training import load_tree, save_tree

    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, epochs=1, checkpoint=path, callbacks=[_Counter("a")])
    tree = load_tree(path)
    tree["extra"]["callbacks"] = [{"class": "_Counter", "state": {"seen": 5}}, {"class": "ProgressBar", "state": {}}]
    save_tree(path, tree, kind="trainer")
    counter = _Counter("a")
    model, train, val, opt, sched = _resume_setup(1)
    _silent().fit(model, train, val, optimizer=opt, epochs=1, resume=path, callbacks=[counter])
    assert counter.seen == 5


# ------------------------------------------------------------------------------------------ exact resume
def _resume_setup(seed: int):
    """A model with dropout and batchnorm, a shuffling loader with its own generator, Adam and a scheduler."""
    minidl.manual_seed(seed)
    model = MLP(input_dim=2, hidden_dims=(16, 8), num_classes=3, dropout=0.3, batchnorm=True)
    train = DataLoader(_blobs(200), batch_size=32, shuffle=True, generator=np.random.default_rng(seed + 100))
    val = DataLoader(_blobs(60, seed=1), batch_size=30)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = StepLR(opt, step_size=1, gamma=0.7)
    return model, train, val, opt, sched


def _final_state(model) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_resume_is_bitwise_identical(tmp_path) -> None:
    model, train, val, opt, sched = _resume_setup(0)
    straight = _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=3,
                             callbacks=[EarlyStopping("val_loss", patience=5)])
    expected = _final_state(model)

    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=1, checkpoint=path,
                  callbacks=[EarlyStopping("val_loss", patience=5)])

    # brand-new objects, built from a different seed: everything must come from the checkpoint
    model, train, val, opt, sched = _resume_setup(1)
    stop = EarlyStopping("val_loss", patience=5)
    resumed = _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=3, resume=path,
                            callbacks=[stop])
    got = _final_state(model)
    assert list(got) == list(expected)
    for k in expected:
        assert got[k].dtype == expected[k].dtype and np.array_equal(got[k], expected[k]), k
    assert resumed.loss == straight.loss and resumed.val_loss == straight.val_loss and resumed.lr == straight.lr
    assert stop.best == min(straight.val_loss)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.7**3)


def test_resume_needs_the_rng_states(tmp_path) -> None:
    """Control: restoring weights and optimizer but not the RNG states does not reproduce the run, so the
    bitwise test above really depends on the restored shuffle and dropout streams."""
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=2)
    expected = _final_state(model)

    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=1, checkpoint=path)
    model, train, val, opt, sched = _resume_setup(1)
    restore_checkpoint(path, model, opt, sched, restore_rng=False)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=1)
    got = _final_state(model)
    assert not all(np.array_equal(got[k], expected[k]) for k in expected)


def test_resume_same_file_and_finished_run(tmp_path) -> None:
    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=2, checkpoint=path)
    done = _final_state(model)
    # resuming a finished run trains nothing more
    model, train, val, opt, sched = _resume_setup(1)
    hist = _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=2, resume=path, checkpoint=path)
    assert hist.epochs == 2
    assert all(np.array_equal(v, done[k]) for k, v in _final_state(model).items())


def test_resume_errors(tmp_path) -> None:
    path = tmp_path / "run.npz"
    model, train, val, opt, sched = _resume_setup(0)
    _silent().fit(model, train, val, optimizer=opt, scheduler=sched, epochs=1, checkpoint=path)
    other = MLP(input_dim=2, hidden_dims=(4,), num_classes=3)
    with pytest.raises(CheckpointError, match="run.npz.*model state does not match"):
        _silent().fit(other, train, val, optimizer=optim.Adam(other.parameters()), epochs=2, resume=path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="bad.npz"):
        _silent().fit(model, train, val, optimizer=opt, epochs=2, resume=bad)
    with pytest.raises(CheckpointError, match="monitored 'val_acc'"):
        Trainer(progress=False, monitor="val_loss").fit(model, train, val, optimizer=opt, scheduler=sched,
                                                        epochs=2, resume=path)


# ------------------------------------------------------------------------------------------ real data, small
@pytest.fixture(scope="module")
def fashion_slice():
    train = FashionMNISTSmall(train=True)
    test = FashionMNISTSmall(train=False)
    x, y = train.arrays()
    xt, yt = test.arrays()
    return (TensorDataset(minidl.tensor(x[:512]), minidl.tensor(y[:512])),
            TensorDataset(minidl.tensor(xt[:300]), minidl.tensor(yt[:300])))


@pytest.mark.parametrize(("factory", "epochs"), [(LeNet5, 2), (BatchNormCNN, 1)])
def test_cnn_learns_fashion_mnist_slice(fashion_slice, factory, epochs: int) -> None:
    train_ds, test_ds = fashion_slice
    model = factory()
    hist = _silent().fit(model, DataLoader(train_ds, batch_size=32, shuffle=True), DataLoader(test_ds, batch_size=100),
                         optimizer=optim.Adam(model.parameters(), lr=2e-3), epochs=epochs)
    first, last = np.mean(hist.loss[:4]), np.mean(hist.loss[-4:])
    assert last < 0.8 * first
    assert hist.val_acc[-1] > 0.3  # chance is 0.1


def _poisoned_loader(bad_batch: int = 2):
    """8 batches of a learnable problem; batch ``bad_batch`` has a NaN input (its loss and gradients are NaN)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    x[8 * bad_batch] = np.nan
    ds = minidl.utils.data.TensorDataset(minidl.tensor(x), minidl.tensor(y))
    return minidl.utils.data.DataLoader(ds, batch_size=8)


@pytest.mark.parametrize("policy", ["stop", "skip", "ignore"])
def test_a_nonfinite_batch_stops_skips_or_is_ignored(policy, tmp_path):
    minidl.manual_seed(0)
    model = minidl.nn.Linear(3, 2)
    trainer = minidl.training.Trainer(progress=False, monitor="train_loss", on_nonfinite=policy)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ckpt = tmp_path / "ckpt.npz"
    if policy == "stop":
        with pytest.raises(minidl.errors.NumericalError, match="epoch 1, step 3: the loss is nan"):
            trainer.fit(model, _poisoned_loader(), optimizer=opt, epochs=2, checkpoint=ckpt)
        assert np.isfinite(model.weight.detach().numpy()).all()  # the bad step never reached the weights
        assert not ckpt.exists()  # no epoch finished: no checkpoint written from a bad state
        assert isinstance(minidl.errors.NumericalError("x"), RuntimeError)
        return
    trainer.fit(model, _poisoned_loader(), optimizer=opt, epochs=2, checkpoint=ckpt)
    finite = np.isfinite(model.weight.detach().numpy()).all()
    if policy == "skip":
        assert finite and trainer.skipped_batches == 2  # once per epoch
        assert np.isfinite(trainer.history.metrics["train_loss"]).all()
    else:  # "ignore": PyTorch's behaviour, the NaN reaches the weights
        assert not finite and trainer.skipped_batches == 0
