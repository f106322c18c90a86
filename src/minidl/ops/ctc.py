"""Connectionist temporal classification loss (Graves et al. 2006) as a forward/backward pair."""

from __future__ import annotations

import numpy as np

from ..backend import xp
from .activation import check_float
from .base import Op


def _logsumexp(*terms: np.ndarray) -> np.ndarray:
    """log Σ exp(terms) elementwise, −inf when every term is −inf (no warnings)."""
    stack = xp.stack(terms)
    m = stack.max(axis=0)
    safe = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(stack - safe).sum(axis=0)) + safe


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a shifted by k along the last axis (toward higher s for k > 0, lower for k < 0), −inf filled."""
    out = xp.full_like(a, -np.inf)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class CTCLoss(Op):
    r"""Negative log-likelihood of each target sequence under CTC, from log-probabilities lp (T, N, C).

    With the target l (length S) extended by blanks, l' = (b, l₁, b, l₂, …, l_S, b) (length 2S + 1), the
    forward variables are α₀(0) = lp₀(b), α₀(1) = lp₀(l₁) and

        α_t(s) = lp_t(l'_s) + log Σ exp(α_{t−1}(s), α_{t−1}(s − 1), α_{t−1}(s − 2) if l'_s ≠ b and l'_s ≠ l'_{s−2})

    and the loss is −log(exp α_{T−1}(2S) + exp α_{T−1}(2S − 1)), T the sample's input length; the backward
    variables β run the same recursion from the end. PyTorch's gradient (eq. 16 of the paper) is returned:

        dL/dlp_t(c) = g · (exp lp_t(c) − exp(log Σ_{s: l'_s = c} exp(α_t(s) + β_t(s)) + nll − lp_t(c)))

    which is the gradient with respect to the logits when lp = log_softmax(logits): the exp lp term vanishes
    through the softmax (as in PyTorch, so gradients agree for every use). Steps past a sample's input length
    get zero gradient. ``zero_infinity`` sets impossible alignments' losses (inf) and gradients to 0.
    """

    name = "ctc_loss"
    saves = (0,)

    def forward(self, log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
        check_float(self.name, log_probs, "log_probs")
        if log_probs.ndim != 3:
            raise ValueError(f"{self.name}: log_probs must be (T, N, C), got shape {log_probs.shape}")
        steps, n, c = log_probs.shape
        if not 0 <= blank < c:
            raise RuntimeError("blank must be in label range")
        il = xp.asarray(input_lengths, dtype=np.int64).reshape(-1)
        tl = xp.asarray(target_lengths, dtype=np.int64).reshape(-1)
        if il.shape != (n,) or tl.shape != (n,):
            raise RuntimeError(f"{self.name}: expected input_lengths and target_lengths of size {n} (the batch), "
                               f"got {il.size} and {tl.size}")
        if il.size and il.max() > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {int(il.max())} "
                               "(while checking arguments for ctc_loss_allocate_outputs)")
        labels = self._targets(xp.asarray(targets), tl, n)
        if labels.size and (labels.min() < 0 or labels.max() >= c):
            raise RuntimeError(f"{self.name}: target labels must be in [0, {c}), got {int(labels.min())}.."
                               f"{int(labels.max())}")
        s_max = labels.shape[1]
        # extended labels l' (N, 2S + 1) and which of them may be reached by skipping a blank
        ext = xp.full((n, 2 * s_max + 1), blank, dtype=np.int64)
        ext[:, 1::2] = labels
        skip = xp.zeros(ext.shape, dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        valid = xp.arange(ext.shape[1])[None, :] < (2 * tl + 1)[:, None]
        emit = xp.take_along_axis(log_probs, xp.broadcast_to(ext[None], (steps, n, ext.shape[1])), axis=2)
        emit = xp.where(valid[None], emit, -np.inf)  # (T, N, L'): lp_t(l'_s), −inf beyond each target
        alpha = xp.full(emit.shape, -np.inf, dtype=log_probs.dtype)
        with np.errstate(invalid="ignore"):
            alpha[0, :, :2] = emit[0, :, :2]
            for t in range(1, steps):
                prev = alpha[t - 1]
                alpha[t] = emit[t] + _logsumexp(prev, _shift(prev, 1), xp.where(skip, _shift(prev, 2), -np.inf))
        rows = xp.arange(n)
        last = xp.maximum(il - 1, 0)
        end = 2 * tl
        final = alpha[last, rows]
        ll = _logsumexp(final[rows, end], xp.where(tl > 0, final[rows, xp.maximum(end - 1, 0)], -np.inf))
        nll = xp.where(il > 0, -ll, xp.where(tl > 0, np.inf, 0.0)).astype(log_probs.dtype)
        infinite = xp.isinf(nll)
        if zero_infinity:
            nll = xp.where(infinite, 0, nll).astype(log_probs.dtype)
        cache = (log_probs, emit, alpha, ext, skip, il, tl, nll, infinite, zero_infinity)
        return nll, cache

    @staticmethod
    def _targets(targets: np.ndarray, tl: np.ndarray, n: int) -> np.ndarray:
        """Targets as a padded (N, S_max) array, from PyTorch's padded (N, S) or concatenated 1-D form."""
        s_max = int(tl.max()) if tl.size else 0
        if targets.ndim == 2:
            if targets.shape[1] < s_max:
                raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, but got size "
                                   f"{targets.shape[1]} for argument #2 'targets' (while checking arguments for "
                                   "ctc_loss_allocate_outputs)")
            return targets[:, :s_max].astype(np.int64)
        if targets.ndim != 1 or targets.size < tl.sum():
            raise RuntimeError(f"ctc_loss: 1-D targets must hold sum(target_lengths) = {int(tl.sum())} labels, got "
                               f"shape {targets.shape}")
        out = xp.zeros((n, s_max), dtype=np.int64)
        starts = xp.concatenate([[0], xp.cumsum(tl)[:-1]])
        for i in range(n):
            out[i, :tl[i]] = targets[starts[i]:starts[i] + tl[i]]
        return out

    def backward(self, dout, cache, needs=None):
        log_probs, emit, alpha, ext, skip, il, tl, nll, infinite, zero_infinity = cache
        steps, n, c = log_probs.shape
        rows = xp.arange(n)
        beta = xp.full(emit.shape, -np.inf, dtype=log_probs.dtype)
        end = 2 * tl
        # β is started at each sample's last step and run backward; a step s + 2 is reachable from s when
        # l'_{s+2} could be reached by skipping (the same rule as for α, read at s + 2)
        skip_next = _shift(xp.where(skip, 0.0, -np.inf), -2)
        with np.errstate(invalid="ignore"):
            for t in range(steps - 1, -1, -1):
                start = il - 1 == t
                nxt = beta[t + 1] if t + 1 < steps else xp.full(emit.shape[1:], -np.inf, dtype=log_probs.dtype)
                rec = emit[t] + _logsumexp(nxt, _shift(nxt, -1), _shift(nxt, -2) + skip_next)
                rec = xp.where((il - 1 > t)[:, None], rec, -np.inf)
                beta[t] = rec
                if start.any():
                    i = rows[start]
                    beta[t, i, end[i]] = emit[t, i, end[i]]
                    has = tl[i] > 0
                    beta[t, i[has], end[i][has] - 1] = emit[t, i[has], end[i][has] - 1]
        ab = alpha + beta
        m = ab.max(axis=2, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        acc = xp.zeros((steps, n, c), dtype=log_probs.dtype)
        xp.add.at(acc, (slice(None), rows[:, None], ext), xp.exp(ab - m))
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            lcab = xp.log(acc) + m
            g = xp.broadcast_to(xp.asarray(dout, dtype=log_probs.dtype), (n,))
            grad = (xp.exp(log_probs) - xp.exp(lcab + nll[None, :, None] - log_probs)) * g[None, :, None]
        grad = xp.where((xp.arange(steps)[:, None] < il[None, :])[:, :, None], grad, 0)
        if zero_infinity:
            grad = xp.where(infinite[None, :, None], 0, grad)
        return grad.astype(log_probs.dtype, copy=False), None, None, None


ctc_loss = CTCLoss()
