"""Figure 11: the decisive study (``decisive/protocol.json`` and ``decisive/runs/*.json``).

Drawn from :mod:`boolgrad.study.decisive_report` only (nothing recomputed here): (top) test
accuracy against dt/tau per dataset, each kind's mean over the final seeds with its 95% bootstrap
interval (:func:`~boolgrad.study.decisive_report.cell_rows`; dashed: reset detached, dotted: the
authors' readout), the authors' row as open squares at dt = tau, the MLP reference's interval as a
grey band and chance as a dotted black line; (middle) the interaction ``[S - B](coarsest) -
[S - B](finest)`` per dataset and readout with its 95% interval, primary and secondary comparison,
its verdict beside it (:func:`~boolgrad.study.decisive_report.hypothesis`), the equivalence margin
shaded; (bottom) each ablation's paired difference (ablated - parent) with its 95% interval per
dataset and dt, the +-0.02 margin shaded (:func:`~boolgrad.study.decisive_report.ablations`).
Without ``decisive/protocol.json`` the script says so and exits 0.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from boolgrad.paper import results
from boolgrad.paper import style as st

NAME = "fig11_decisive"
INPUTS = ["decisive/protocol.json", "decisive/runs/*.json"]
#: the package modules it is drawn by (their hashes enter its key in ``boolgrad reproduce``)
CODE = ("study/decisive_report.py", "study/inference.py")
DATASET_COLORS = {"digits": "#1f77b4", "yinyang": "#ff7f0e", "spiketrains": "#2ca02c", "mnist1d": "#7f7f7f"}
WHICH = {"primary": ("#d62728", "o"), "secondary": ("#1f77b4", "s")}


def dt_label(d: float) -> str:
    """``1/8`` for 0.125, ``2`` for 2.0."""
    from fractions import Fraction

    f = Fraction(d).limit_denominator(1024)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _ok(x) -> bool:
    return x is not None and math.isfinite(x)


def _err(r):
    """Asymmetric error bars ``([below], [above])`` of a row with ``mean``, ``low``, ``high`` (0 without an interval)."""
    ok = _ok(r["low"]) and _ok(r["high"])
    return (max(0.0, r["mean"] - r["low"]) if ok else 0.0), (max(0.0, r["high"] - r["mean"]) if ok else 0.0)


def _series(rows, ds):
    """``(kind, detached, readout) -> rows sorted by dt`` of the searched spiking cells with seeds."""
    out = {}
    for r in rows:
        if r["dataset"] == ds and r["model"] == "snn" and not r["fixed_lr"] and r["n"] and _ok(r["mean"]):
            out.setdefault((r["kind"], r["detach_reset"], r["readout"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["dt_over_tau"]) for k, v in out.items()}


def _colors(kinds):
    """A fixed colour per kind (the style's; the others in turn from its spare colours)."""
    spare = [k for k in kinds if k not in st.KIND_COLORS]
    return {k: st.color(k, spare.index(k) if k in spare else 0) for k in kinds}


def _accuracy(ax, rows, ds, colors, chance):
    from boolgrad.study.kinds import KINDS

    series = _series(rows, ds)
    order = sorted(series, key=lambda k: (list(KINDS).index(k[0]) if k[0] in KINDS else len(KINDS), k[1], k[2]))
    for n, key in enumerate(order):
        kind, det, readout = key
        pts = series[key]
        off = 2 ** ((n - len(order) / 2) * 0.012)  # a small dodge on the log axis
        below, above = zip(*(_err(r) for r in pts))
        ax.errorbar([r["dt_over_tau"] * off for r in pts], [r["mean"] for r in pts], yerr=[below, above],
                    marker="o", ms=2.5, capsize=1.5, lw=0.9, elinewidth=0.7, color=colors[kind],
                    ls="--" if det else ":" if readout == "mse_count" else "-",
                    label=st.label(kind) + (" (reset detached)" if det else " (authors' readout)"
                                            if readout == "mse_count" else ""))
    for r in rows:
        if r["dataset"] == ds and r["model"] == "snn" and r["fixed_lr"] and r["n"] and _ok(r["mean"]):
            below, above = _err(r)
            ax.errorbar([r["dt_over_tau"]], [r["mean"]], yerr=[[below], [above]], marker="s", mfc="none", ms=4.5,
                        capsize=1.5, lw=0, elinewidth=0.7, color=colors.get(r["kind"], "k"))
        if r["dataset"] == ds and r["model"] == "mlp" and r["n"] and _ok(r["mean"]):
            if _ok(r["low"]) and _ok(r["high"]) and r["high"] > r["low"]:
                ax.axhspan(r["low"], r["high"], color="0.8", alpha=0.7, lw=0, zorder=0)
            else:
                ax.axhline(r["mean"], color="0.6", lw=1.5, zorder=0)
    ax.axhline(chance, color="k", lw=0.8, ls=":")
    ax.set_xscale("log", base=2)
    dts = sorted({r["dt_over_tau"] for r in rows if r["dataset"] == ds and r["model"] == "snn" and r["n"]})
    if dts:
        ax.set_xticks(dts, [dt_label(d) for d in dts])
    ax.minorticks_off()
    ax.set_ylim(min(chance, ax.get_ylim()[0]) - 0.03, 1.01)


def _interactions(ax, hyp, margin):
    """One line per (dataset and readout, comparison): the interaction, its interval and verdict."""
    lines = [(which, name, e) for which in WHICH for name, e in hyp[which]["datasets"].items()]
    lines.sort(key=lambda t: (list(hyp["primary"]["datasets"]).index(t[1]) if t[1] in hyp["primary"]["datasets"]
                              else len(lines), t[0] != "primary"))
    labels = []
    for y, (which, name, e) in enumerate(lines):
        colour, marker = WHICH[which]
        iv = e["effect"].interval
        labels.append(f"{name.replace(' (spiking output, MSE)', '')}: {which}, {e['surrogate']}")
        if not _ok(iv.mean):
            continue
        xerr = [[iv.mean - iv.low], [iv.high - iv.mean]] if iv.defined else None
        ax.errorbar([iv.mean], [y], xerr=xerr, marker=marker, ms=3.5, capsize=2, lw=0, elinewidth=1.0, color=colour)
        ax.annotate(e["verdict"], (iv.high if iv.defined else iv.mean, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=6, color=colour)
    ax.axvspan(-margin, margin, color="0.88", lw=0, zorder=0)
    ax.axvline(0, color="k", lw=0.7)
    lo, hi = ax.get_xlim()
    ax.set_xlim(min(lo, -1.5 * margin), max(hi, 1.5 * margin) + 0.25 * (max(hi, 1.5 * margin) - min(lo, -1.5 * margin)))
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    st.finish_axes(ax, r"interaction $[S-B](dt_{\max}) - [S-B](dt_{\min})$ in test accuracy, 95% CI",
                   "dataset: comparison, $S$", r"the hypothesis: $S$ against $B$ = boolean_yj2025 (shaded: the margin)")


def _ablations(ax, abl, margin):
    names = list(dict.fromkeys(a["ablation"] for a in abl))
    keys = sorted({(a["dataset"], a["dt_over_tau"]) for a in abl}, key=lambda k: (k[0], -k[1]))
    dts = sorted({k[1] for k in keys}, reverse=True)
    shapes = dict(zip(dts, "o^sDv<>p"))
    for a in abl:
        if not _ok(a["mean"]):
            continue
        j = keys.index((a["dataset"], a["dt_over_tau"]))
        y = names.index(a["ablation"]) + (j - (len(keys) - 1) / 2) * (0.8 / max(1, len(keys)))
        ok = _ok(a["low"]) and _ok(a["high"])
        ax.errorbar([a["mean"]], [y], xerr=[[a["mean"] - a["low"]], [a["high"] - a["mean"]]] if ok else None,
                    marker=shapes[a["dt_over_tau"]], ms=2.5, capsize=1, lw=0, elinewidth=0.8,
                    color=DATASET_COLORS.get(a["dataset"], "k"), mfc="none" if a["verdict"] == "inconclusive" else None)
    for ds in dict.fromkeys(k[0] for k in keys):
        ax.plot([], [], "o", color=DATASET_COLORS.get(ds, "k"), label=ds)
    for d in dts:
        ax.plot([], [], shapes[d], color="0.4", label=rf"$dt/\tau$ = {dt_label(d)}")
    ax.axvspan(-margin, margin, color="0.88", lw=0, zorder=0)
    ax.axvline(0, color="k", lw=0.7)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.legend(fontsize=5.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    st.finish_axes(ax, f"paired difference ablated $-$ parent, test accuracy (95% CI; shaded: $\\pm${margin:g})",
                   "ablation", "the mechanism's ablations (open: inconclusive)")


def make(results_dir, out_dir) -> list[Path]:
    from boolgrad.study import decisive_report as dr

    d = results.decisive_dir(results_dir)
    if not (d / "protocol.json").is_file():
        raise st.FigureSkipped(f"no decisive study ({d / 'protocol.json'}); run boolgrad study decisive")
    rows = dr.cell_rows(d)
    datasets = sorted({r["dataset"] for r in rows if r["model"] == "snn" and not r["fixed_lr"] and r["n"]})
    if not datasets:
        raise st.FigureSkipped(f"{d} has no finished runs")
    hyp, abl = dr.hypothesis(rows), dr.ablations(rows)
    kinds = list(dict.fromkeys(r["kind"] for r in rows if r["model"] == "snn"))
    colors = _colors(kinds)
    n_hyp = sum(len(h["datasets"]) for h in hyp.values())
    n_abl = len({a["ablation"] for a in abl})
    heights = [2.3] + ([0.5 + 0.22 * n_hyp] if n_hyp else []) + ([0.6 + 0.4 * n_abl] if n_abl else [])
    with st.rc():
        fig = st.new_figure(st.WIDTH, sum(heights) + 0.9)
        grid = fig.add_gridspec(len(heights), len(datasets), height_ratios=heights)
        for j, ds in enumerate(datasets):
            ax = fig.add_subplot(grid[0, j])
            _accuracy(ax, rows, ds, colors, dr.chance(ds))
            st.finish_axes(ax, r"$dt/\tau$", "test accuracy (95% CI)" if j == 0 else " ", ds)
        first = fig.axes[0]
        first.plot([], [], "s", color="0.3", mfc="none", label="authors' row")
        first.fill_between([], [], color="0.8", label="MLP (95% CI)")
        first.plot([], [], "k:", lw=0.8, label="chance")
        handles = {}
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        row = 1
        if n_hyp:
            _interactions(fig.add_subplot(grid[row, :]), hyp, dr.MARGIN)
            row += 1
        if n_abl:
            _ablations(fig.add_subplot(grid[row, :]), abl, dr.MARGIN)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=4, fontsize=6)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
