"""Seed 000: the weight-nudging rule for threshold units, next to the perceptron and backprop.

Step network: input ``x`` augmented with a constant 1 (so the bias is weight column 0's
neighbour, the last column), ``depth=1``: ``s = [W x >= theta]`` (one unit per class);
``depth=2``: ``h = [W1 x >= theta]``, ``s = [W2 (h, 1) >= theta]``.  Weights start
``N(0, 1/fan_in)``, bias columns at 0; prediction = argmax of the output net inputs ``n``.

``method``:

* ``nudge`` -- the question's rule, exactly.  Output unit ``j`` with net input ``n_j``, output
  ``s_j`` and target ``t_j``: error ``d_j = (s_j - t_j) |n_j - theta|`` (0 when right) and
  ``W_j <- W_j (1 - lr d_j)``: fired but should not (``n = 5.5``, ``theta = 5``, ``lr = 0.1``):
  ``d = 0.5``, weights x 0.95; should have fired: ``d = -|theta - n|``, weights x
  ``(1 + lr |theta - n|)``.  Hidden unit ``h``: the summed error of the units that follow,
  ``d_h = sum_j d_j``; its target is "not fire" when ``d_h > 0`` and "fire" when ``d_h < 0``,
  and if it disagrees, ``W1_h <- W1_h (1 - lr d_h)``.  Online (batch 1).
* ``perceptron`` -- ``W_j <- W_j + lr (t_j - s_j) x`` (output layer; with ``depth=2`` the hidden
  layer stays at its random initialisation: Rosenblatt's fixed association units).  Online.
* ``additive`` -- the smallest change that lets the question's idea learn: the same error
  ``d_j = (s_j - t_j) |n_j - theta|`` and the same hidden credit (``d_h = sum_j d_j`` where the
  unit disagrees), but *added along the input* instead of multiplied into the weights:
  ``W_j <- W_j - lr d_j x`` (``x`` with its constant 1, so the bias learns).  The output layer is
  the perceptron with a step proportional to the violation -- the relaxation method of Agmon
  (1954) and Motzkin & Schoenberg (1954); ``n' - n = -lr d |x|^2`` always moves the sample's net
  input toward its target, and the weight vector turns.  Online.
* ``additive_weighted`` -- ``additive`` with the hidden credit weighted by the outgoing weights,
  ``d_h = sum_j W2_jh d_j`` for every hidden unit (``W2`` before its update): the question's
  unweighted sum ignores whether unit ``h`` excites or inhibits output ``j``, so it pushes half
  the hidden units the wrong way; the weighted sum is backprop of the output errors with the
  straight-through derivative ``ds/dn = 1`` (Hinton 2012, Bengio et al. 2013).  Same as
  ``additive`` at ``depth=1``.  Online.
* a gradient kind of :mod:`boolgrad.study.kinds` (``boolean_yj2025``, ``boolean_secant_clamp``,
  ``straight_through``, ``arctan``...): backprop through every step unit with the kind's
  ``ds/dn``, loss ``0.5 sum_j (s_j - t_j)^2``, Adam, mini-batches.

Diagnostics of ``nudge``: updates, the fraction whose factor ``1 - lr d`` is negative (the only
way the rule flips a weight's sign), the fraction that moved the sample's net input the wrong
way (should fire but ``n < 0``: scaling up pushes it further down), the sample at which the
weights first overflowed (checked every 50 samples; the statistics then use the last finite
weights, and ``test_acc_last_finite`` is their accuracy), ``|cos|`` between each
unit's initial and final weight vectors (1: scaling never turns a weight vector, it only moves
the unit's effective threshold ``theta / c``; proved in :mod:`boolgrad.proofs.nudging_direction`),
and whether the zero-initialised bias moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .common import BestEpoch, SeedConfig, quantiles

__all__ = [
    "UPDATE_RULES",
    "BestEpoch",
    "Seed000Config",
    "abs_cos_rows",
    "additive_hidden",
    "additive_update",
    "hidden_error",
    "init_weights",
    "nudge_update",
]

#: the learning rules that update weights directly (online), not by backprop through a gradient kind
UPDATE_RULES = ("nudge", "perceptron", "additive", "additive_weighted")


@dataclass(frozen=True)
class Seed000Config(SeedConfig):
    EXPERIMENT = "seed000"
    KIND_FIELD = "method"
    dataset: str = "digits"
    method: str = "nudge"
    depth: int = 1
    hidden: int = 64
    theta: float = 0.5
    lr: float = 0.1
    epochs: int = 10
    batch_size: int = 1
    seed: int = 0
    subset: tuple = ()
    data_seed: int = 0
    data_dir: str = ""
    select: str = "last"
    patience: int = 0

    #: the protocol's fields (added after the first runs were committed; see SeedConfig)
    LATER_FIELDS = ("select", "patience")

    def _check(self):
        from ..kinds import get_kind

        if self.method not in UPDATE_RULES:
            get_kind(self.method)
        elif self.batch_size != 1:
            raise ValueError(f"the {self.method} rule is online: batch size 1")
        if self.depth not in (1, 2) or self.hidden < 1:
            raise ValueError("depth is 1 or 2, hidden >= 1")
        if self.select not in ("last", "val") or self.patience < 0:
            raise ValueError("select is 'last' or 'val'; patience >= 0")
        if self.select == "last" and self.patience:
            raise ValueError("patience needs select='val' (validation checks)")

    def label(self):
        return f"000 {self.method} depth={self.depth} lr={self.lr:g}"

    def _execute(self, data):
        return (train_rule if self.method in UPDATE_RULES else train_backprop)(self, data)


def init_weights(cfg, n_in, n_out, seed):
    """``[W1 (hidden, n_in + 1), W2 (n_out, hidden + 1)]`` or ``[W (n_out, n_in + 1)]``; the last
    column is the bias, 0."""
    rng = np.random.default_rng(seed)
    sizes = (n_in, cfg.hidden, n_out) if cfg.depth == 2 else (n_in, n_out)
    ws = []
    for a, b in pairwise(sizes):
        w = np.zeros((b, a + 1))
        w[:, :a] = rng.normal(0.0, 1.0 / np.sqrt(a), (b, a))
        ws.append(w)
    return ws


def _aug(x):
    return np.concatenate([x, np.ones(x.shape[:-1] + (1,))], axis=-1)


def forward(ws, x, theta):
    """Net inputs and outputs of every layer for one sample or a batch (rows)."""
    nets, outs, h = [], [], x
    for w in ws:
        n = _aug(h) @ w.T
        h = (n >= theta).astype(np.float64)
        nets.append(n)
        outs.append(h)
    return nets, outs


def nudge_update(w, net, out, target, theta, lr):
    """The rule on an output layer (module doc), in place: ``d = (s - t) |n - theta|``,
    ``W_j *= 1 - lr d_j``.  Returns the errors ``d`` and the factors applied."""
    d = (out - target) * np.abs(net - theta)
    factor = 1.0 - lr * d
    w *= factor[:, None]
    return d, factor


def hidden_error(net, out, d_next):
    """The question's hidden credit: ``d_h = sum_j d_j`` for the units whose output disagrees with
    its sign (fired but ``d_h > 0``, silent but ``d_h < 0``), 0 for the others."""
    d = np.full_like(net, d_next.sum())
    wrong = ((out == 1) & (d > 0)) | ((out == 0) & (d < 0))
    return np.where(wrong, d, 0.0)


def nudge_hidden(w, net, out, d_next, theta, lr):
    """Hidden layer: ``d_h = sum_j d_j``; update the units whose output disagrees with the sign."""
    d = hidden_error(net, out, d_next)
    factor = 1.0 - lr * d
    w *= factor[:, None]
    return d, factor


def additive_update(w, x, net, out, target, theta, lr):
    """The additive rule on an output layer, in place: ``d = (s - t) |n - theta|``,
    ``W_j -= lr d_j x`` (``x`` the layer's input with its constant 1).  Returns ``d``."""
    d = (out - target) * np.abs(net - theta)
    w -= lr * np.outer(d, x)
    return d


def additive_hidden(w, x, net, out, d_next, theta, lr, w_next=None):
    """Hidden layer of the additive rule: :func:`hidden_error` (or, given the following layer's
    weights ``w_next``, ``d_h = sum_j w_next[j, h] d_j``), then ``W1_h -= lr d_h x``."""
    d = hidden_error(net, out, d_next) if w_next is None else w_next[:, :-1].T @ d_next
    w -= lr * np.outer(d, x)
    return d


def abs_cos_rows(a, b):
    """``|cos|`` between matching rows of ``a`` and ``b``, each row first divided by its largest
    ``|entry|`` (so rows near float64's overflow, as the nudge's grow, give their cosine and not
    ``0`` or NaN from an overflowed norm); 0 for a zero row."""

    def unit(m):
        return m / np.maximum(np.abs(m).max(1, keepdims=True), 1e-300)

    a, b = unit(a), unit(b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.abs(np.sum(a * b, 1)) / np.maximum(norms, 1e-300)


def _accuracy(ws, x, y, theta):
    nets, _ = forward(ws, x, theta)
    return float((nets[-1].argmax(1) == y).mean())


def train_rule(cfg, data) -> dict:
    with np.errstate(over="ignore", invalid="ignore"):  # the rule overflows (reported, not an error)
        return _train_rule(cfg, data)


def _train_rule(cfg, data) -> dict:
    ws = init_weights(cfg, data.n_features, data.n_classes, cfg.seed)
    w0 = [w.copy() for w in ws]
    x, y = data.x_train.astype(np.float64), data.y_train
    eye = np.eye(data.n_classes)
    rng = np.random.default_rng(cfg.seed + 1)
    stats = {"updates": 0, "negative_factor": 0, "wrong_direction": 0}
    epoch_acc, seen, diverged_at, last_finite = [], 0, None, [w.copy() for w in ws]
    sel = BestEpoch(cfg)
    for epoch in range(1, cfg.epochs + 1):
        for i in rng.permutation(len(x)):
            seen += 1
            if diverged_at is None and seen % 50 == 0:
                if all(np.isfinite(w).all() for w in ws):
                    last_finite = [w.copy() for w in ws]
                else:
                    diverged_at = seen
            nets, outs = forward(ws, x[i], cfg.theta)
            ins = [x[i]] + outs[:-1]
            t = eye[y[i]]
            if cfg.method == "perceptron":
                ws[-1] += cfg.lr * np.outer(t - outs[-1], _aug(ins[-1]))
                continue
            if cfg.method.startswith("additive"):
                w_next = ws[-1].copy() if cfg.method == "additive_weighted" and cfg.depth == 2 else None
                d = additive_update(ws[-1], _aug(ins[-1]), nets[-1], outs[-1], t, cfg.theta, cfg.lr)
                stats["updates"] += int((d != 0).sum())
                if cfg.depth == 2:
                    dh = additive_hidden(ws[0], _aug(ins[0]), nets[0], outs[0], d, cfg.theta, cfg.lr, w_next)
                    stats["updates"] += int((dh != 0).sum())
                continue
            d, f = nudge_update(ws[-1], nets[-1], outs[-1], t, cfg.theta, cfg.lr)
            ds_fs = [(d, f, nets[-1])]
            if cfg.depth == 2:
                dh, fh = nudge_hidden(ws[0], nets[0], outs[0], d, cfg.theta, cfg.lr)
                ds_fs.append((dh, fh, nets[0]))
            for dd, ff, nn in ds_fs:
                on = dd != 0
                stats["updates"] += int(on.sum())
                stats["negative_factor"] += int((ff[on] < 0).sum())
                stats["wrong_direction"] += int(((dd < 0) & (nn < 0)).sum())  # scaled up, n falls
        epoch_acc.append(_accuracy(ws, x, y, cfg.theta))
        if sel.on and sel.check(epoch, _accuracy(ws, data.x_val.astype(np.float64), data.y_val, cfg.theta),
                                lambda: [w.copy() for w in ws]):
            break
    if diverged_at is None and all(np.isfinite(w).all() for w in ws):
        last_finite = ws
    x_te = data.x_test.astype(np.float64)
    res = {
        "test_acc": _accuracy(sel.best_state or ws, x_te, data.y_test, cfg.theta),
        **sel.fields(lambda: _accuracy(ws, x_te, data.y_test, cfg.theta)),
        "test_acc_last_finite": _accuracy(last_finite, x_te, data.y_test, cfg.theta),
        "train_acc": epoch_acc[-1],
        "epoch_train_acc": epoch_acc,
        "diverged_at_sample": diverged_at,
        "samples_seen": seen,
    }
    ws = last_finite  # the weight statistics below: the last finite weights
    cos = [abs_cos_rows(a, b) for a, b in zip(w0, ws)]
    ratio = [
        np.linalg.norm(b, axis=1) / np.maximum(np.linalg.norm(a, axis=1), 1e-300) for a, b in zip(w0, ws)
    ]
    sign_flips = sum(int((np.sign(a) * np.sign(b) < 0).sum()) for a, b in zip(w0, ws))
    res.update(
        {
            "updates": stats["updates"],
            "frac_negative_factor": stats["negative_factor"] / max(1, stats["updates"]),
            "frac_wrong_direction": stats["wrong_direction"] / max(1, stats["updates"]),
            "abs_cos_init_final_min": float(min(c.min() for c in cos)),
            "norm_ratio_quantiles": quantiles(np.concatenate(ratio)),
            "frac_weights_sign_flipped": sign_flips / sum(w.size for w in ws),
            "bias_moved": bool(any(np.any(w[:, -1] != 0) for w in ws)),
        }
    )
    return res


def train_backprop(cfg, data) -> dict:
    import torch

    from ..kinds import get_kind

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    spike = get_kind(cfg.method).spike(cfg.theta)
    ws = [
        torch.nn.Parameter(torch.from_numpy(w).float())
        for w in init_weights(cfg, data.n_features, data.n_classes, cfg.seed)
    ]
    opt = torch.optim.Adam(ws, lr=cfg.lr)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)

    def net(xb):
        h, n = xb, None
        for w in ws:
            n = torch.cat([h, torch.ones(len(h), 1)], 1) @ w.T
            h = spike(n)
        return n, h

    def acc(xb, yb):
        with torch.no_grad():
            return float((net(xb)[0].argmax(1) == yb).double().mean())

    losses, epoch_acc, nonzero = [], [], []
    sel = BestEpoch(cfg)
    for epoch in range(1, cfg.epochs + 1):
        tot = 0.0
        for idx in torch.randperm(len(x), generator=gen).split(cfg.batch_size):
            opt.zero_grad(set_to_none=True)
            _, s = net(x[idx])
            t = torch.nn.functional.one_hot(y[idx], data.n_classes).float()
            loss = 0.5 * ((s - t) ** 2).sum(1).mean()
            loss.backward()
            nonzero.append(float(np.mean([float((w.grad != 0).double().mean()) for w in ws])))
            opt.step()
            tot += float(loss.detach()) * len(idx)
        losses.append(tot / len(x))
        epoch_acc.append(acc(x, y))
        if sel.on and sel.check(epoch, acc(torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)),
                                lambda: [w.detach().clone() for w in ws]):
            break
    x_te, y_te = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    res = sel.fields(lambda: acc(x_te, y_te))
    if sel.best_state is not None:
        with torch.no_grad():
            for w, b in zip(ws, sel.best_state):
                w.copy_(b)
    return {
        "test_acc": acc(x_te, y_te),
        **res,
        "train_acc": epoch_acc[-1],
        "epoch_train_acc": epoch_acc,
        "train_loss": losses,
        "frac_nonzero_weight_grad": float(np.mean(nonzero)),
    }
