"""The training loop and sampler shared by the character-level examples (``lstm_sequence.py``,
``char_transformer.py``): next-character prediction on minidl's own docstrings, offline.

A model maps (batch, steps) character ids to (batch, steps, vocab) logits; the loss is the mean cross-entropy
of the next character, in nats, to compare with the text's unigram entropy (what a model ignoring context
gets)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import minidl
import minidl.nn.functional as F
from minidl.datasets import CharSequences, docstring_text
from minidl.utils.data import DataLoader


def train(build: Callable[[int], minidl.nn.Module], *, steps: int = 600, seq_len: int = 64, batch_size: int = 32,
          lr: float = 3e-3, seed: int = 0, log_every: int = 100) -> dict[str, Any]:
    """Train ``build(vocab_size)`` for ``steps`` Adam steps; returns the data, the model, the losses of each
    step and the validation loss (the last 10% of the text, never trained on)."""
    minidl.manual_seed(seed)
    text = docstring_text()
    split = int(0.9 * len(text))
    data = CharSequences(text[:split], seq_len)
    data.vocab = sorted(set(text))  # one vocabulary for both parts
    data.index = {c: i for i, c in enumerate(data.vocab)}
    data.ids = data.encode(text[:split])
    val = data.encode(text[split:])
    model = build(len(data.vocab))
    opt = minidl.optim.Adam(model.parameters(), lr=lr)
    sched = minidl.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=minidl.Generator().manual_seed(seed))
    losses: list[float] = []
    start = time.perf_counter()
    while len(losses) < steps:
        for x, y in loader:
            loss = F.cross_entropy(model(x).reshape(-1, len(data.vocab)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            minidl.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss))
            if log_every and len(losses) % log_every == 0:
                print(f"step {len(losses):>5}: loss {np.mean(losses[-log_every:]):.3f} nats "
                      f"({time.perf_counter() - start:.0f} s)", flush=True)
            if len(losses) == steps:
                break
    return {"data": data, "model": model, "losses": losses, "unigram_entropy": data.unigram_entropy(),
            "val_loss": evaluate(model, val, seq_len, len(data.vocab))}


def evaluate(model: minidl.nn.Module, ids: np.ndarray, seq_len: int, vocab: int, windows: int = 64) -> float:
    """Mean next-character cross-entropy over ``windows`` evenly spaced windows of ``ids``."""
    model.eval()
    starts = np.linspace(0, len(ids) - seq_len - 1, windows).astype(int)
    x = minidl.tensor(np.stack([ids[s:s + seq_len] for s in starts]))
    y = minidl.tensor(np.stack([ids[s + 1:s + seq_len + 1] for s in starts]))
    with minidl.no_grad():
        loss = float(F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1)))
    model.train()
    return loss


def sample(model: minidl.nn.Module, data: CharSequences, prompt: str, length: int = 200, context: int = 64,
           temperature: float = 0.8, seed: int = 0) -> str:
    """``length`` characters drawn one at a time from the model's next-character distribution."""
    rng = np.random.default_rng(seed)
    ids = list(data.encode(prompt))
    model.eval()
    with minidl.no_grad():
        for _ in range(length):
            logits = model(minidl.tensor(np.array([ids[-context:]])))[0, -1].numpy().astype(np.float64)
            p = np.exp((logits - logits.max()) / temperature)
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return data.decode(ids)


def report(result: dict[str, Any], name: str, prompt: str) -> None:
    h, losses = result["unigram_entropy"], result["losses"]
    print(f"{name}: unigram entropy {h:.3f} nats; last 50 training steps {np.mean(losses[-50:]):.3f} nats; "
          f"held-out text {result['val_loss']:.3f} nats ({result['val_loss'] / h:.0%} of the unigram entropy)")
    print("sample:", sample(result["model"], result["data"], prompt))


def main(description: str, name: str, build: Callable[[int, argparse.Namespace], minidl.nn.Module],
         options: dict[str, int], lr: float, argv: list[str] | None = None) -> dict[str, Any]:
    """The examples' command line: ``--steps``, ``--lr``, ``--seed`` and the model's own integer ``options``
    (name -> default), then training, the report and a sample."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=600)
    for option, default in options.items():
        p.add_argument(f"--{option}", type=int, default=default)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    result = train(lambda vocab: build(vocab, args), steps=args.steps, seed=args.seed, lr=args.lr)
    report(result, name, "The gradient of ")
    return result
