"""Figure 6: the mean gradient a threshold crossing receives, E(dU), theory vs simulation.

Lines: the crossing theory (``boolgrad.study.crossings.crossing_moments``), the exact mean of each
kind's ``g`` over the last sample below theta, uniform in ``[theta - dU, theta)``, against the
per-step increment ``dU`` (the matched kind re-picks its format ``fixed16.F`` at each ``dU``).
Points: the random-weight simulations of the overshoot study (``study/sim/*.json``, exact
scheme): the mean simulated gradient at the sample below each crossing (circles) and the theory
averaged over the same crossings' ``dU`` (crosses), placed at the median ``dU`` of the simulation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from boolgrad.paper import results
from boolgrad.paper import style as st

NAME = "fig06_crossing_theory"
INPUTS = ["study/sim/*.json"]
THETA = 0.3
DU = np.logspace(-4, 0.3, 44)


def theory_curve(kind_name: str, du=DU, theta=THETA) -> np.ndarray:
    from boolgrad.study.crossings import crossing_moments
    from boolgrad.study.kinds import get_kind

    k = get_kind(kind_name)
    if not k.matched:
        return np.asarray(crossing_moments(k.crossing_grad(theta), du).mean, dtype=float)
    return np.array([float(crossing_moments(k.resolve(d).crossing_grad(theta), d).mean) for d in du])


def make(results_dir, out_dir) -> list[Path]:
    sims = results.load_sims(results_dir)
    if not sims:
        raise st.FigureSkipped(f"no simulation results in {results.study_dir(results_dir) / 'sim'}")
    kinds = [k for k in sims[0]["kinds"]]
    with st.rc():
        fig = st.new_figure(st.WIDTH, 3.4)
        ax = fig.subplots()
        for i, k in enumerate(kinds):
            c = st.color(k, i)
            y = theory_curve(k)
            ax.plot(DU, np.where(y > 0, y, np.nan), "-", color=c, lw=1.0, label=st.label(k))
            pts = [(s["du_quantiles"][2], s["kinds"][k].get("theory_below") or {}) for s in sims if k in s["kinds"]]
            pts = [(d, tb) for d, tb in pts if tb.get("mean_sim") is not None and d]
            if pts:
                ax.plot([d for d, _ in pts], [tb["mean_sim"] for _, tb in pts], "o", mfc="none", color=c, ms=4)
                ax.plot([d for d, _ in pts], [tb["mean_theory"] for _, tb in pts], "x", color=c, ms=4)
        ax.plot([], [], "ko", mfc="none", label="simulation")
        ax.plot([], [], "kx", label="theory on the same crossings")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-4))
        st.finish_axes(ax, r"per-step increment $\Delta U$ at the crossing",
                       r"mean $ds/du$ at the sample below $\theta$",
                       rf"E($\Delta U$): crossing theory (lines) vs random-weight LIF simulation, $\theta$ = {THETA:g}")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=6.5)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
