"""Figure 10: why seed 000's weight nudging cannot learn, and the smallest change that can.

One threshold unit ``s = [w . (x, 1) >= theta]`` (``theta = 0.5``, initial ``w0 = (1, 0.5)``,
bias 0) trained online on a 2-D problem whose classes are split by ``x1 = x0``
(:func:`toy`, deterministic, no results read).  (a) The nudging rule ``w <- (1 - lr d) w``,
``d = (s - t) |n - theta|``: every boundary it visits is ``w0 . x = theta / C`` -- parallel to the
initial one (dashed where ``C < 0``: the same line, the firing side flipped), never the classes'
(:mod:`boolgrad.proofs.nudging_direction`); the weights overflow after a few dozen samples.
Class 1 (should fire) green, class 0 grey.
(b) The additive rule with the same error, ``w <- w - lr d (x, 1)``: the boundary turns onto the
classes'.  (c) Training accuracy against samples seen, with the best accuracy of *any* boundary
parallel to the initial one (what nudging can reach at most).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from boolgrad.paper import style as st
from boolgrad.study.seeds.seed000 import additive_update, nudge_update

NAME = "fig10_nudging"
INPUTS: list = []  # computed here: a tiny deterministic example
THETA, LR, W0 = 0.5, 0.5, (1.0, 0.5)
NUDGE, ADD = "#d62728", "#1f77b4"


def toy(n=200, seed=0, margin=0.1):
    """``n`` points of ``[-1, 1]^2`` at least ``margin`` from the line ``x1 = x0``; label
    ``[x1 > x0]``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (6 * n, 2))
    x = x[np.abs(x[:, 1] - x[:, 0]) / np.sqrt(2) > margin][:n]
    return x, (x[:, 1] > x[:, 0]).astype(np.float64)


def run(rule, x, y, epochs=3, seed=1):
    """Online training of the unit: the weights after every sample (finite ones) and the
    training accuracy after every sample."""
    xa = np.concatenate([x, np.ones((len(x), 1))], 1)
    w = np.array([[*W0, 0.0]])
    ws, acc = [w[0].copy()], [float(((xa @ w[0] >= THETA) == y).mean())]
    order = np.random.default_rng(seed).permutation(np.tile(np.arange(len(x)), epochs).reshape(epochs, -1), axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in order.ravel():
            net = w @ xa[i]
            out = (net >= THETA).astype(np.float64)
            if rule == "nudge":
                nudge_update(w, net, out, y[i : i + 1], THETA, LR)
            else:
                additive_update(w, xa[i], net, out, y[i : i + 1], THETA, LR)
            if not np.isfinite(w).all():
                break
            ws.append(w[0].copy())
            acc.append(float(((xa @ w[0] >= THETA) == y).mean()))
    return np.array(ws), np.array(acc)


def best_parallel(x, y):
    """The best training accuracy of any decision set ``{w0 . x >= tau}`` or ``{w0 . x <= tau}``."""
    a = x @ np.array(W0)
    taus = np.concatenate([np.sort(a), [a.min() - 1, a.max() + 1]])
    return max(max(((a >= t) == y).mean(), ((a <= t) == y).mean()) for t in taus)


def _line(ax, w, **kw):
    """``w . (x, 1) = theta`` inside ``[-1, 1]^2``."""
    u = np.linspace(-1, 1, 2)
    if abs(w[1]) > abs(w[0]):
        ax.plot(u, (THETA - w[2] - w[0] * u) / w[1], **kw)
    else:
        ax.plot((THETA - w[2] - w[1] * u) / w[0], u, **kw)


def _points(ax, x, y):
    ax.scatter(*x[y == 1].T, s=4, c="#2ca02c", marker="o", lw=0)  # class 1: should fire
    ax.scatter(*x[y == 0].T, s=4, c="#7f7f7f", marker="s", lw=0)
    ax.plot([-1, 1], [-1, 1], color="k", lw=0.8, ls=":", label="class boundary")
    ax.set(xlim=(-1, 1), ylim=(-1, 1), aspect="equal")


def make(results_dir, out_dir) -> list[Path]:
    del results_dir  # nothing read: computed here
    x, y = toy()
    w_nud, acc_nud = run("nudge", x, y)
    w_add, acc_add = run("additive", x, y)
    best = best_parallel(x, y)
    with st.rc():
        fig = st.new_figure(st.WIDTH, 2.5)
        a, b, c = fig.subplots(1, 3)
        for ax, ws, colour, title in ((a, w_nud, NUDGE, "(a) nudging: parallel shifts"),
                                      (b, w_add, ADD, "(b) additive: the boundary turns")):
            _points(ax, x, y)
            moved = [w for k, w in enumerate(ws) if k == 0 or not np.array_equal(w, ws[k - 1])]
            moved = [moved[k] for k in np.unique(np.linspace(0, len(moved) - 1, 30).astype(int))]
            for k, w in enumerate(moved[1:], 1):
                flipped = colour == NUDGE and np.dot(w[:2], W0) < 0  # C < 0
                _line(ax, w, color=colour, lw=0.6, alpha=0.25 + 0.6 * k / len(moved), ls="--" if flipped else "-")
            _line(ax, ws[0], color="k", lw=1.2, label="initial")
            _line(ax, ws[-1], color=colour, lw=1.6, label=f"last finite ({len(ws) - 1} samples)")
            ax.legend(fontsize=5, loc="lower left", framealpha=0.9)
            st.finish_axes(ax, "x0", "x1", title)
        c.plot(np.arange(1, len(acc_nud) + 1), acc_nud, color=NUDGE, label="nudging (x: overflow)")
        c.plot(np.arange(1, len(acc_add) + 1), acc_add, color=ADD, label="additive")
        if len(acc_nud) < len(acc_add):
            c.plot(len(acc_nud), acc_nud[-1], "x", color=NUDGE, ms=6)
        c.set_xscale("log")
        c.axhline(best, color="k", ls="--", lw=0.8, label="best parallel boundary")
        c.set_ylim(0, 1.02)
        c.legend(fontsize=5.5, loc="lower right")
        st.finish_axes(c, "samples seen + 1", "training accuracy", "(c) accuracy")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
