"""PyTorch-style sequence models, written once against the ``torch`` API and run with the module standing in for
``torch`` (minidl or PyTorch): a word-language-model-style LSTM and a Transformer-encoder classifier train for a
few steps from the same weights on the same batches, and minidl's losses and weights follow PyTorch's."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minidl
from conftest import requires_torch, torch


def make_models(torch):  # noqa: ANN001 - the library is the argument: PyTorch code, run as is under either
    nn = torch.nn

    class RNNModel(nn.Module):
        """Embedding -> LSTM -> Linear, as in PyTorch's word_language_model example."""

        def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.0):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            self.nlayers, self.nhid = nlayers, nhid

        def forward(self, input, hidden):
            output, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
            decoded = self.decoder(self.drop(output))
            return torch.nn.functional.log_softmax(decoded.view(-1, decoded.size(-1)), dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))

    class TransformerClassifier(nn.Module):
        """Token embedding + sinusoidal positions -> TransformerEncoder -> mean over tokens -> Linear."""

        def __init__(self, ntoken, d_model, nhead, nlayers, nclass):
            super().__init__()
            self.embed = nn.Embedding(ntoken, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2 * d_model, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, nclass)
            position = torch.arange(0, 64, dtype=torch.float64).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).double() * (-math.log(10000.0) / d_model))
            pe = torch.zeros(64, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe)

        def forward(self, tokens, padding_mask):
            x = self.embed(tokens) * math.sqrt(self.embed.embedding_dim) + self.pe[: tokens.size(1)]
            x = self.encoder(x, src_key_padding_mask=padding_mask)
            keep = (~padding_mask).unsqueeze(-1).double()
            return self.head((x * keep).sum(1) / keep.sum(1))

    return RNNModel, TransformerClassifier


def _train(lib, model, batches, step_fn, lr):
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for batch in batches:
        opt.zero_grad()
        loss = step_fn(model, *[lib.tensor(b) for b in batch])
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        losses.append(float(loss.detach()))
    return losses, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _same_weights(ours, theirs):
    ours.load_state_dict({k: minidl.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})


@requires_torch
@pytest.mark.parametrize("kind", ["lstm_language_model", "transformer_classifier"])
def test_pytorch_code_trains_the_same_under_minidl(kind, rng):
    models = {lib: make_models(lib) for lib in (minidl, torch)}
    if kind == "lstm_language_model":
        torch_model = models[torch][0](30, 16, 24, 2).double()
        ours = models[minidl][0](30, 16, 24, 2).double()
        tokens = [rng.integers(0, 30, (12, 4)) for _ in range(20)]
        batches = [(x, ((x + 1) % 30).reshape(-1)) for x in tokens]  # learnable: the next token is x + 1

        def step(model, x, y):
            lib = minidl if isinstance(x, minidl.Tensor) else torch
            out, _ = model(x, model.init_hidden(4))
            return lib.nn.functional.nll_loss(out, y)
    else:
        torch_model = models[torch][1](30, 16, 2, 2, 3).double()
        ours = models[minidl][1](30, 16, 2, 2, 3).double()
        batches = []
        for _ in range(8):
            lengths = rng.integers(3, 10, 5)
            pad = np.arange(10)[None, :] >= lengths[:, None]
            tokens = rng.integers(0, 30, (5, 10))
            batches.append((tokens, pad, tokens[:, 0] % 3))  # learnable: the class is the first token mod 3

        def step(model, tokens, pad, y):
            lib = minidl if isinstance(tokens, minidl.Tensor) else torch
            return lib.nn.functional.cross_entropy(model(tokens, pad), y)
    _same_weights(ours, torch_model)
    lr = 1.0 if kind == "lstm_language_model" else 0.1
    our_losses, our_weights = _train(minidl, ours, batches, step, lr)
    their_losses, their_weights = _train(torch, torch_model, batches, step, lr)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-9)
    assert our_losses[-1] < our_losses[0]
    for k in their_weights:
        np.testing.assert_allclose(our_weights[k], their_weights[k], rtol=1e-7, atol=1e-9, err_msg=k)
