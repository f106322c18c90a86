"""The command line's error contract (issue 14), driven through real subprocesses: every bad invocation ends
with exactly one line on stderr (``minidl ...: error: ...``), no traceback, exit 2 for a usage error (a bad
option, name, value or input file) and 1 for a failure while running; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from minidl import cli
from minidl.runs import artifacts as A
from minidl.training import save_tree
from test_reliability import _png_header_only

ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}
TINY = ["--train-samples", "128", "--batch-size", "64", "--no-progress"]

# (argv, exit code, a fragment of the one error line); {name} is a file prepared by the fixture below
CASES: list[tuple[list[str], int, str]] = [
    # ---- train: options and names
    (["train", "--model", "resnet"], 2, "unknown model 'resnet'"),
    (["train", "--optimizer", "lion"], 2, "invalid choice: 'lion'"),
    (["train", "--dataset", "imagenet"], 2, "unknown dataset 'imagenet'"),
    (["train", "--epochs", "0"], 2, "epochs must be >= 1"),
    (["train", "--epochs", "-1"], 2, "epochs must be >= 1"),
    (["train", "--epochs", "abc"], 2, "invalid int value: 'abc'"),
    (["train", "--epochs"], 2, "expected one argument"),
    (["train", "--lr", "abc"], 2, "invalid float value: 'abc'"),
    (["train", "--lr", "-1"], 2, "lr"),
    (["train", "--batch-size", "0"], 2, "batch_size"),
    (["train", "--optimizer", "adam", "--momentum", "0.9"], 2, "momentum does not apply to the adam optimizer"),
    (["train", "--train-samples", "100000"], 2, "exceeds the 4500 training samples"),
    (["train", "--model", "lenet5", "--dataset", "xor"], 2, "does not accept inputs of shape [2]"),
    (["train", "--model-arg", "depth=3"], 2, "takes no argument 'depth'"),
    (["train", "--model", "mlp", "--model-arg", "hidden_dims=[0]"], 2, "must be positive integers"),
    (["train", "--model", "mlp", "--model-arg", "hidden_dims=[-3]"], 2, "must be positive integers"),
    (["train", "--model-arg", "novalue"], 2, "novalue"),
    (["train", "--scheduler", "nosuch"], 2, "invalid choice: 'nosuch'"),
    (["train", "--scheduler", "step", "--t-max", "3"], 2, "t_max does not apply to scheduler 'step'"),
    (["train", "--val-split", "2"], 2, "val_split"),
    (["train", "--on-nonfinite", "explode"], 2, "invalid choice: 'explode'"),
    (["train", "--no-such-flag"], 2, "unrecognized arguments: --no-such-flag"),
    # ---- train: config files
    (["train", "--config", "{missing}"], 2, "no such file"),
    (["train", "--config", "{bad_key}"], 2, "unknown key 'lrate' (did you mean 'lr'?)"),
    (["train", "--config", "{bad_toml}"], 2, "not valid TOML"),
    (["train", "--config", "{bad_type}"], 2, "epochs must be an integer, got 'three'"),
    (["train", "--config", "{bad_suffix}"], 2, "unknown format '.ini'"),
    (["train", "--config", "{empty_dir}"], 2, "empty"),
    # ---- train: run directories and resume
    (["train", "--out", "{a_file}"], 2, "is a file, not a directory"),
    (["train", "--out", "{run}"], 2, "already holds a run"),
    (["train", "--out", "{run}", "--overwrite"], 2, "only restarts a run that saved no weights"),
    (["train", "--resume", "{missing}"], 2, "is neither a run directory nor a checkpoint file"),
    (["train", "--resume", "{empty_dir}"], 2, "is not a run directory"),
    (["train", "--resume", "{run}", "--model", "mlp"], 2, "--model 'mlp' (the run has 'lenet5')"),
    (["train", "--resume", "{run}", "--lr", "1000"], 2, "--lr 1000.0 (the run has"),
    (["train", "--resume", "{run}", "--overwrite"], 2, "does not apply to --resume"),
    (["train", "--resume", "{pickle}"], 2, "refused: the file is a pickle"),
    (["train", "--resume", "{garbage}"], 2, "corrupt or truncated file"),
    (["train", "--resume", "{truncated}"], 2, "corrupt or truncated file"),
    (["train", "--resume", "{model_npz}"], 2, "expected a 'trainer' checkpoint, found a 'model' checkpoint"),
    # ---- train: failures while running
    (["train", "--model", "mlp", "--optimizer", "sgd", "--lr", "1e8", "--epochs", "1", "--train-samples", "1024",
      "--no-progress", "--out", "{new}"], 1, "training stopped at epoch 1"),
    # ---- eval
    (["eval"], 2, "the following arguments are required: RUN_DIR"),
    (["eval", "{missing}"], 2, "no run directory"),
    (["eval", "{empty_dir}"], 2, "is not a run directory of `minidl train`"),
    (["eval", "{a_file}"], 2, "no run directory"),
    (["eval", "{run}", "--split", "valid"], 2, "invalid choice: 'valid'"),
    (["eval", "{run}", "--dataset", "nosuch"], 2, "unknown dataset 'nosuch'"),
    (["eval", "{run}", "--dataset", "xor"], 2, "xor"),
    (["eval", "{broken_run}"], 2, "corrupt or truncated file"),
    # ---- predict
    (["predict", "{run}"], 2, "give a RUN_DIR and at least one IMAGE"),
    (["predict", "{run}", "{missing}"], 2, "no such file"),
    (["predict", "{run}", "{empty_dir}"], 2, "is a directory"),
    (["predict", "{run}", "{bomb}"], 2, "refused: the image is too large to decode safely"),
    (["predict", "{run}", "{not_png}"], 2, "cannot read the image"),
    (["predict", "{run}", "{wrong_npy}"], 2, "does not fit the model's input [1, 28, 28]"),
    (["predict", "{run}", "{object_npy}"], 2, "cannot read the array"),
    (["predict", "{run}", "{a_file}"], 2, "unknown file type"),
    (["predict", "{run}", "{good_npy}", "--topk", "0"], 2, "--topk must be >= 1"),
    (["predict", "{run}", "{good_npy}", "--weights", "x.pth"], 2, "--weights applies to --model"),
    (["predict", "--model", "nosuch", "{good_npy}"], 2, "nosuch"),
    # ---- summary, compare, graph, gradcheck
    (["summary", "nosuch"], 2, "unknown model 'nosuch'"),
    (["summary", "lenet5", "--input-shape", "0,1"], 2, "sizes must be positive"),
    (["summary", "lenet5", "--input-shape", "abc"], 2, "expected comma-separated sizes"),
    (["summary", "lenet5", "--input-shape", "1,2,2"], 2, "images must be at least 16×16"),
    (["summary", "lenet5", "--batch-size", "0"], 2, "batch_size must be a positive int or -1, got 0"),
    (["summary", "mlp", "--model-arg", "foo=1"], 2, "takes no argument 'foo'"),
    (["compare", "{empty_dir}"], 2, "is not a run directory with a history"),
    (["compare", "{missing}"], 2, "nope"),
    (["graph"], 2, "give either a MODEL or --expr EXPR"),
    (["graph", "--expr", "__import__('os').system('true')"], 2, "is not allowed"),
    (["graph", "lenet5", "-o", "{bad_suffix}"], 2, "unknown output format '.ini'"),
    (["gradcheck", "nosuch"], 2, "unknown model 'nosuch'"),
    (["gradcheck", "lenet5", "--coords", "0"], 2, "--coords must be a positive number or 'all'"),
    (["gradcheck", "--filter", "zzzz"], 2, "no check matches --filter 'zzzz'"),
    (["gradcheck", "--tol", "-1"], 2, "expected a positive number"),
    (["gradcheck", "lenet5", "--batch", "0"], 2, "--batch must be >= 1"),
    # ---- sweep, ocr, the top level
    (["sweep"], 2, "give a SPEC file or --resume DIR"),
    (["sweep", "{missing}"], 2, "nope"),
    (["ocr", "{missing}"], 2, "no such file"),
    (["ocr", "{not_png}"], 2, "cannot read the image"),
    (["nosuchcommand"], 2, "invalid choice: 'nosuchcommand'"),
    ([], 2, "give a command: train, eval"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("contract")
    run = root / "run"
    assert cli.main(["train", "--model", "lenet5", "--epochs", "1", *TINY, "--out", str(run)]) == 0
    broken = root / "broken_run"
    broken.mkdir()
    for name in ("config.json", "run.json"):
        (broken / name).write_bytes((run / name).read_bytes())
    (broken / "model.npz").write_bytes((run / "model.npz").read_bytes()[:500])
    paths = {"run": run, "broken_run": broken, "missing": root / "nope.toml", "new": root / "new_run",
             "empty_dir": root / "empty", "a_file": root / "notes.txt", "bad_key": root / "k.toml",
             "bad_toml": root / "t.toml", "bad_type": root / "y.toml", "bad_suffix": root / "c.ini",
             "pickle": root / "evil.npz", "garbage": root / "garbage.npz", "truncated": root / "cut.npz",
             "model_npz": run / "model.npz", "not_png": root / "text.png", "wrong_npy": root / "wrong.npy",
             "object_npy": root / "object.npy", "good_npy": root / "good.npy"}
    paths["empty_dir"].mkdir()
    paths["a_file"].write_text("not a run")
    paths["bad_key"].write_text("lrate = 0.1\n")
    paths["bad_toml"].write_text("epochs = = 3\n")
    paths["bad_type"].write_text('epochs = "three"\n')
    paths["bad_suffix"].write_text("[x]\n")
    paths["pickle"].write_bytes(pickle.dumps({"epoch": 1}))
    paths["garbage"].write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    paths["truncated"].write_bytes((run / "checkpoint.npz").read_bytes()[:1000])
    paths["not_png"].write_text("this is text")
    np.save(paths["wrong_npy"], np.zeros((5, 5), np.float32))
    np.save(paths["object_npy"], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(paths["good_npy"], np.zeros((28, 28), np.uint8))
    paths["bomb"] = _png_header_only(root / "huge.png", 20000, 20000)
    return {k: str(v) for k, v in paths.items()}


def _run(argv: list[str], env: dict[str, str] = ENV) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minidl", *argv], capture_output=True, text=True, timeout=300,
                          env=env)


def test_every_bad_invocation_is_one_line_with_the_right_exit_code(files, tmp_path):
    assert len(CASES) >= 60
    argvs = [[a.format(**files) for a in argv] for argv, _, _ in CASES]
    # an empty cache, as on a new machine: a bad input must be refused before anything is built or trained
    # (`minidl ocr` on an unreadable image once trained its character model first, printing two lines)
    env = {**ENV, "MINIDL_CACHE": str(tmp_path / "cache")}
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda argv: _run(argv, env), argvs))
    problems = []
    for argv, (_, code, fragment), done in zip(argvs, CASES, results, strict=True):
        lines = done.stderr.splitlines()
        if done.returncode != code or len(lines) != 1 or fragment not in done.stderr or "Traceback" in done.stderr:
            problems.append(f"minidl {' '.join(argv)} -> exit {done.returncode} (want {code}), stderr "
                            f"{done.stderr!r} (want one line with {fragment!r})")
        elif not lines[0].startswith("minidl") or ": error: " not in lines[0]:
            problems.append(f"minidl {' '.join(argv)}: the line does not say `minidl ...: error:`: {lines[0]!r}")
    assert problems == [], "\n".join(problems)


def test_debug_shows_the_traceback_in_a_subprocess(files):
    done = _run(["--debug", "predict", files["run"], files["bomb"]])
    assert done.returncode != 0 and "Traceback" in done.stderr and "DataError" in done.stderr
    done = _run(["predict", files["run"], files["bomb"], "--debug"])
    assert "Traceback" in done.stderr


def test_warnings_are_one_line_too(files, tmp_path):
    """A warning from a command (here: a run whose weights are NaN) is one `minidl eval: warning:` line."""
    run = tmp_path / "nan_run"
    shutil.copytree(files["run"], run)
    weights = A.load_model_weights(run / "model.npz")
    weights["fc1.weight"] = np.full_like(weights["fc1.weight"], np.nan)
    save_tree(run / "model.npz", weights, kind="model")
    done = _run(["eval", str(run)], env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"})
    assert done.returncode == 0
    warning = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(done.stderr.splitlines()) == 1 and warning[0].startswith("minidl eval: warning: ")
    assert "holds NaN or infinite weights (fc1.weight)" in warning[0]
