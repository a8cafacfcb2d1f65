"""The compiled training loop behind every optimizer of :mod:`modeq.separable`.

One numba function runs all update rules on the logistic loss
``L_B(w) = (1/|B|) Σ_{i∈B} log(1 + exp(-<w, z_i>))`` of a batch ``B``, so that
only one function is compiled. Per-sample weights ``q_i = σ(-<w, z_i>)`` are
kept as logarithms, ``log q_i = -log(1 + e^{<w, z_i>})``, and the scale-free
rules (normalized GD, Adam with ``ε = 0``, Signum, the proxy, the epoch
recurrence) work with gradients divided by ``e^S`` for a running log-scale
``S``: their moments never underflow, however large the margins grow. Adam
stores ``m = e^S m̃`` and ``v = e^{2S} ṽ`` and adds ``ε`` as ``ε e^{-2S}``, which
is exact. Plain GD uses the true gradient (its steps do vanish).

The public entry points are in :mod:`modeq.separable.optimizers`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

GD, NORMALIZED_GD, ADAM, SIGNUM, PROXY, ADAM_EPOCH = range(6)
FULL, CYCLIC, SHUFFLE, REPLACE = range(4)

# Re-association lets LLVM vectorise the dot products; no assumption about NaN or infinity.
_FAST = {"reassoc", "contract"}


@numba.njit(cache=True, fastmath=_FAST)
def run_loop(z, w0, rule, lr0, decay, beta1, beta2, eps, batch, sampling, seed, record):
    """Run ``record[-1]`` steps; return ``(w at the record steps, failed step or 0)``.

    ``η_t = lr0/(t+1)^decay`` for step ``t = 0, 1, …``; ``record`` is a sorted
    array of step counts (``0`` is the starting point). A non-finite iterate
    stops the run at the next record step and returns that step.
    """
    n, d = z.shape
    steps = record[-1]
    out = np.empty((record.size, d))
    w = w0.copy()
    m = np.zeros(d)
    v = np.zeros(d)
    g = np.zeros(d)
    log_scale = -np.inf
    logq = np.empty(n)
    idx = np.arange(n)
    perm = np.arange(n)
    pos = n
    np.random.seed(seed)
    epoch_grads = np.empty((n, d)) if rule == ADAM_EPOCH else np.empty((0, d))
    rec = 0
    while rec < record.size and record[rec] == 0:
        out[rec] = w
        rec += 1
    for t in range(steps):
        lr = lr0 / (t + 1.0) ** decay
        b = n
        if sampling == CYCLIC:
            b = batch
            for k in range(b):
                idx[k] = (t * batch + k) % n
        elif sampling == SHUFFLE:
            if pos >= n:
                np.random.shuffle(perm)
                pos = 0
            b = min(batch, n - pos)
            for k in range(b):
                idx[k] = perm[pos + k]
            pos += b
        elif sampling == REPLACE:
            b = batch
            for k in range(b):
                idx[k] = np.random.randint(0, n)
        top = -np.inf
        for k in range(b):
            row = z[idx[k]]
            u = 0.0
            for j in range(d):
                u += w[j] * row[j]
            logq[k] = -(max(u, 0.0) + math.log1p(math.exp(-abs(u))))
            top = max(top, logq[k])
        if rule == GD:
            _batch_gradient(z, idx, logq, b, 0.0, g)
            for j in range(d):
                w[j] -= lr * g[j]
        elif rule == NORMALIZED_GD:
            _batch_gradient(z, idx, logq, b, top, g)
            norm = math.sqrt(np.sum(g * g))
            for j in range(d):
                w[j] -= lr * g[j] / norm
        elif rule == ADAM or rule == SIGNUM:
            new_scale = max(log_scale, top)
            decay_memory = math.exp(log_scale - new_scale)
            _batch_gradient(z, idx, logq, b, new_scale, g)
            r = 0.0
            for j in range(d):
                m[j] = beta1 * decay_memory * m[j] + (1.0 - beta1) * g[j]
                v[j] = beta2 * decay_memory**2 * v[j] + (1.0 - beta2) * g[j] ** 2
                r = max(r, abs(m[j]), math.sqrt(v[j]) if rule == ADAM else 0.0)
            log_scale = new_scale + math.log(r)
            for j in range(d):
                m[j] /= r
                v[j] /= r * r
            if rule == SIGNUM:
                for j in range(d):
                    w[j] -= lr * np.sign(m[j])
            else:
                bias1 = 1.0 - beta1 ** (t + 1)
                bias2 = 1.0 - beta2 ** (t + 1)
                floor = eps * math.exp(-2.0 * log_scale) if eps > 0.0 else 0.0
                for j in range(d):
                    den = math.sqrt(v[j] / bias2 + floor)
                    if den > 0.0:
                        w[j] -= lr * (m[j] / bias1) / den
        elif rule == PROXY:
            for k in range(b):
                logq[k] = math.exp(logq[k] - top)
            for j in range(d):
                num = 0.0
                den = 0.0
                for k in range(b):
                    c = logq[k] * z[idx[k], j]
                    num += c
                    den += c * c
                if den > 0.0:
                    w[j] += lr * num / b / math.sqrt(den)
        else:
            for k in range(n):
                c = math.exp(logq[k] - top)
                for j in range(d):
                    epoch_grads[k, j] = -c * z[k, j]
            _epoch_step(epoch_grads, beta1, beta2, lr, w)
        if rec < record.size and record[rec] == t + 1:
            out[rec] = w
            rec += 1
            if not np.all(np.isfinite(w)):
                return out, t + 1
    return out, 0


@numba.njit(cache=True, fastmath=_FAST)
def _batch_gradient(z, idx, logq, b, log_scale, g):
    """``g = e^{-S} ∇L_B(w) = -(1/|B|) Σ_{k} e^{log q_k - S} z_{i_k}`` in place."""
    g[:] = 0.0
    for k in range(b):
        c = math.exp(logq[k] - log_scale) / b
        row = z[idx[k]]
        for j in range(row.size):
            g[j] -= c * row[j]


@numba.njit(cache=True, fastmath=_FAST)
def _epoch_step(grads, beta1, beta2, lr, w):
    """One epoch of the incremental-Adam recurrence (see :mod:`modeq.separable.proxy`).

    For each coordinate, the cyclic sums ``M_i = Σ_{l<N} β1^l g_{i-l}`` and
    ``V_i = Σ_{l<N} β2^l g_{i-l}²`` (indices mod ``N``) come from
    ``M_i = β1 M_{i-1} + (1-β1^N) g_i`` started at ``M_{N-1}``.
    """
    n, d = grads.shape
    c_inc = (1.0 - beta1) / (1.0 - beta1**n) * math.sqrt((1.0 - beta2**n) / (1.0 - beta2))
    for j in range(d):
        mom = 0.0
        sq = 0.0
        for l in range(n):
            mom += beta1**l * grads[n - 1 - l, j]
            sq += beta2**l * grads[n - 1 - l, j] ** 2
        total = 0.0
        for i in range(n):
            mom = beta1 * mom + (1.0 - beta1**n) * grads[i, j]
            sq = beta2 * sq + (1.0 - beta2**n) * grads[i, j] ** 2
            if sq > 0.0:
                total += mom / math.sqrt(sq)
        w[j] -= lr * c_inc * total
