# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 16. A character-level LSTM and Transformer trained on minidl's own docs
#
# A language model predicts the next character from the ones before it and is trained with the
# cross-entropy $-\log p(c_{t+1} \mid c_{\le t})$ in nats. A model that ignores the context can do no better
# than the *unigram entropy* $H = -\sum_c p(c) \log p(c)$ of the text's character frequencies; how far a
# model gets below $H$ is how much of the context it uses. The text is minidl's own docstrings (offline), and
# the loss is also measured on held-out text. Two models from `minidl.nn`: an LSTM (its whole recurrence one
# op, `ops.recurrent.lstm_scan`, forward and backward) and a decoder-only Transformer built from
# `nn.TransformerEncoder` with a causal mask. Both come from `examples/`, run here as functions.

# %%
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import minidl

QUICK = os.environ.get("MINIDL_QUICK") == "1"  # quick mode (CI): smaller data, fewer epochs, the same code
OUT = Path(os.environ.get("MINIDL_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="minidl-charlm-"))
STEPS = 20 if QUICK else 600
EXAMPLES = Path(minidl.__file__).resolve().parents[2] / "examples"  # the repository's examples/ (src layout)
sys.path.insert(0, str(EXAMPLES))

import char_transformer  # noqa: E402
import lstm_sequence  # noqa: E402

# %% [markdown]
# ## The LSTM
#
# Embedding(vocab, 64) → LSTM(64, 256, 2 layers) → Linear(256, vocab), Adam with a cosine schedule, batches
# of 32 windows of 64 characters.

# %%
lstm = lstm_sequence.main(["--steps", str(STEPS)])
print(f"held-out loss {lstm['val_loss']:.3f} nats against a unigram entropy of {lstm['unigram_entropy']:.3f}")
assert np.isfinite(lstm["losses"]).all() and lstm["losses"][-1] < lstm["losses"][0]
assert lstm["val_loss"] < (1.0 if QUICK else 0.6) * lstm["unigram_entropy"] + (0.6 if QUICK else 0.0)

# %% [markdown]
# ## The Transformer
#
# Token and learned position embeddings (128 wide) → 2 pre-norm encoder layers (4 heads, GELU) with a causal
# mask, so that position $t$ attends only to positions $\le t$ → LayerNorm → Linear(128, vocab).

# %%
transformer = char_transformer.main(["--steps", str(STEPS)])
print(f"held-out loss {transformer['val_loss']:.3f} nats")
assert np.isfinite(transformer["losses"]).all() and transformer["losses"][-1] < transformer["losses"][0]
if not QUICK:
    assert transformer["val_loss"] < 0.8 * transformer["unigram_entropy"]
