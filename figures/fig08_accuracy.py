"""Figure 8: test accuracy against the timestep, per gradient kind and dataset.

From ``study/overshoot.csv`` (test accuracy at the best-validation epoch): mean over seeds, error
bars one sample standard deviation (none for a single seed); exact scheme, one row per readout
(MSE on spike counts, the authors'; cross-entropy on a linear readout where trained).  The
authors' own setting (``scheme="authors"``, dt = tau) is drawn as open squares at dt/tau = 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

from boolgrad.paper import results
from boolgrad.paper import style as st
from boolgrad.study.stats import mean_std

NAME = "fig08_accuracy"
INPUTS = ["study/overshoot.csv"]


def dt_label(d: float) -> str:
    """``1/4`` for 0.25, ``2`` for 2.0."""
    from fractions import Fraction

    f = Fraction(d).limit_denominator(1024)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def make(results_dir, out_dir) -> list[Path]:
    from boolgrad.study.kinds import KINDS

    p = results.overshoot_csv(results_dir)
    if not p.exists():
        raise st.FigureSkipped(f"no {p}")
    c = results.accuracy_cells(results.read_rows(p))  # (dataset, kind, scheme, readout, dt) -> accuracies
    if not c:
        raise st.FigureSkipped("overshoot.csv has no rows")
    datasets = sorted({k[0] for k in c})
    readouts = [r for r in ("mse_count", "ce_linear") if any(k[3] == r and k[2] == "exact" for k in c)]
    kinds = [k for k in KINDS if any(key[1] == k for key in c)]
    with st.rc():
        fig = st.new_figure(st.WIDTH, 1.0 + 2.2 * len(readouts))
        axes = fig.subplots(len(readouts), len(datasets), squeeze=False)
        for i, ro in enumerate(readouts):
            for j, ds in enumerate(datasets):
                ax = axes[i][j]
                for n, kind in enumerate(kinds):
                    pts = sorted((k[4], mean_std(v)) for k, v in c.items()
                                 if k[0] == ds and k[1] == kind and k[2] == "exact" and k[3] == ro)
                    if pts:
                        off = 2 ** ((n - len(kinds) / 2) * 0.03)  # a small dodge on the log axis
                        ax.errorbar([p[0] * off for p in pts], [p[1][0] for p in pts], yerr=[p[1][1] for p in pts],
                                    marker="o", ms=3, capsize=2, lw=1.0, color=st.color(kind, n),
                                    label=st.label(kind))
                    auth = [v for k, v in c.items() if k[0] == ds and k[1] == kind and k[2] == "authors"]
                    if auth and ro == "mse_count":
                        m, s = mean_std(auth[0])
                        ax.errorbar([1.0], [m], yerr=[s], marker="s", mfc="none", ms=5, capsize=2,
                                    color=st.color(kind, n), lw=0)
                ax.set_xscale("log", base=2)
                dts = sorted({k[4] for k in c if k[0] == ds})
                ax.set_xticks(dts, [dt_label(d) for d in dts])
                ax.minorticks_off()
                st.finish_axes(ax, r"$dt/\tau$", "test accuracy" if j == 0 else " ",
                               f"{ds}, {'MSE, spike counts' if ro == 'mse_count' else 'cross-entropy'}")
        axes[0][0].plot([], [], "ks", mfc="none", label="authors' setting")
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=6.5)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
