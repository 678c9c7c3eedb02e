"""Figure 9: the seeds' systems (``seeds/seed00N.csv`` of ``boolgrad study seeds``).

(a, b) seed 002: test accuracy (mean +- std over seeds) against the learning rate of the
multi- and central-threshold networks at batch 1 (the blog's setting), per dataset, the blog's
MNIST numbers dashed; (c) seed 003: the learned threshold of the halving neuron and of LIF
(Boolean ``wrt="theta"`` gradient vs arctan; initial 0.5 dotted); (d, e) seed 000: test accuracy
of the weight-nudging rule, the perceptron rule, the additive rules (figure 10) and backprop with
Boolean / straight-through / smooth gradients, one- and two-layer step networks, per dataset; (f)
seed 003 accuracy.
Without the seeds' results the script says so and exits 0 (the test skips).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from boolgrad.paper import results
from boolgrad.paper import style as st
from boolgrad.study.stats import mean_std

NAME = "fig09_seeds"
INPUTS = ["seeds/*.csv"]
#: the blog's table (MNIST, batch 1, 4 epochs): lr -> (central, multi)
BLOG = {0.0005: (0.8571, 0.8757), 0.001: (0.8958, 0.8879), 0.005: (0.2554, 0.9085), 0.01: (0.1028, 0.773)}
DATASET_COLORS = {"digits": "#1f77b4", "yinyang": "#ff7f0e", "mnist1d": "#2ca02c", "mnist": "#7f7f7f"}


def _num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _groups(rows, key, value="test_acc"):
    out: dict = {}
    for r in rows:
        out.setdefault(key(r), []).append(_num(r.get(value)))
    return out


def _seed002(ax, rows, dataset):
    rows = [r for r in rows if r["dataset"] == dataset and r["batch_size"] == "1" and not r["kind"]]
    for model, colour in (("central", "#1f77b4"), ("multi", "#d62728")):
        by = _groups([r for r in rows if r["model"] == model], lambda r: float(r["lr"]))
        lrs = sorted(by)
        stats = [mean_std(by[x]) for x in lrs]
        if lrs:
            ax.errorbar(lrs, [m for m, _ in stats], yerr=[s for _, s in stats], fmt="o-", ms=3, capsize=2,
                        color=colour, label=f"{model}-threshold")
        blog = sorted(BLOG)
        ax.plot(blog, [BLOG[x][0 if model == "central" else 1] for x in blog], "--", color=colour, lw=0.8,
                alpha=0.7, label=f"{model}, blog (MNIST)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=5.5, loc="lower left")
    st.finish_axes(ax, "learning rate (batch 1)", "test accuracy", f"seed 002: {dataset}")


def _bars(ax, rows, order, key, title, ylabel="test accuracy", xlabel="", datasets=None):
    datasets = datasets or sorted({r["dataset"] for r in rows})
    width = 0.8 / max(1, len(datasets))
    for j, ds in enumerate(datasets):
        by = _groups([r for r in rows if r["dataset"] == ds], key, "test_acc" if ylabel == "test accuracy" else ylabel)
        for i, name in enumerate(order):
            m, s = mean_std(by.get(name, []))
            if m is not None:
                ax.bar(i + (j - (len(datasets) - 1) / 2) * width, m, width, yerr=s, capsize=1.5,
                       color=DATASET_COLORS.get(ds, "#7f7f7f"), label=ds if i == 0 else None)
    ax.set_xticks(range(len(order)), [o.replace("boolean_", "bool ") for o in order], rotation=35, ha="right",
                  fontsize=6)
    ax.legend(fontsize=5.5)
    st.finish_axes(ax, xlabel, ylabel if ylabel == "test accuracy" else "learned threshold", title)


def make(results_dir, out_dir) -> list[Path]:
    found = results.read_seeds(results_dir)
    rows = {t: found.get(f"seed{t}", []) for t in ("002", "000", "003")}
    if not any(f"seed{t}" in found for t in rows):
        raise st.FigureSkipped(f"no seeds results ({results.seeds_dir(results_dir)}/seed00N.csv); "
                               "run boolgrad study seeds")
    with st.rc():
        fig = st.new_figure(st.WIDTH, 5.4)
        axes = fig.subplots(2, 3)
        for ax, ds in zip(axes[0, :2], ("digits", "mnist1d")):
            _seed002(ax, rows["002"], ds)
        r3 = rows["003"]
        systems = sorted({(r["neuron"], r["kind"]) for r in r3})
        labels = [f"{n} / {k}" for n, k in systems]
        key3 = lambda r: f"{r['neuron']} / {r['kind']}"
        _bars(axes[0, 2], r3, labels, key3, "seed 003: learned theta", ylabel="theta_final", xlabel="neuron / kind")
        axes[0, 2].axhline(0.5, color="k", ls=":", lw=0.8)
        r0 = rows["000"]
        methods = ["nudge", "perceptron", "additive", "additive_weighted", "boolean_yj2025", "boolean_secant_clamp",
                   "straight_through", "arctan"]
        methods = [m for m in methods if any(r["method"] == m for r in r0)]
        for ax, depth in zip(axes[1, :2], ("1", "2")):
            _bars(ax, [r for r in r0 if r["depth"] == depth], methods, lambda r: r["method"],
                  f"seed 000: {'one' if depth == '1' else 'two'}-layer step network", xlabel="training rule")
        _bars(axes[1, 2], r3, labels, key3, "seed 003: accuracy", xlabel="neuron / kind")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
