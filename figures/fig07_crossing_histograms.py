"""Figure 7: where the membrane potential lands around theta at a crossing, per timestep.

Histograms (density) of ``u - theta`` at the last sample below theta (left of 0) and at the
crossing step (right of 0), from the random-weight simulations (``study/sim/*.json``, exact
scheme), one panel per dataset, one line per ``dt / tau``.  At coarse steps the samples land far
from theta -- far outside the Boolean gradient's peak (width: theta's lowest set bit).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from boolgrad.paper import results
from boolgrad.paper import style as st

NAME = "fig07_crossing_histograms"
INPUTS = ["study/sim/*.json"]


def make(results_dir, out_dir) -> list[Path]:
    sims = results.load_sims(results_dir)
    if not sims:
        raise st.FigureSkipped(f"no simulation results in {results.study_dir(results_dir) / 'sim'}")
    datasets = sorted({s["dataset"] for s in sims})
    dts = sorted({s["dt_over_tau"] for s in sims}, reverse=True)
    cmap = __import__("matplotlib").colormaps["viridis"]
    with st.rc():
        fig = st.new_figure(st.WIDTH, 2.8)
        axes = fig.subplots(1, len(datasets), squeeze=False, sharey=True)[0]
        for ax, ds in zip(axes, datasets):
            for s in [s for s in sims if s["dataset"] == ds]:
                e = np.asarray(s["hist_edges"])
                c = cmap(dts.index(s["dt_over_tau"]) / max(1, len(dts) - 1))
                w = np.diff(e)
                tot = max(1, s["n_crossings"])
                for key, ls in (("hist_below", "--"), ("hist_above", "-")):
                    h = np.asarray(s[key], dtype=float) / (tot * w)
                    ax.stairs(np.where(h > 0, h, np.nan), e, color=c, ls=ls, lw=1.0,
                              label=f"dt/tau = {s['dt_over_tau']:g}" if key == "hist_above" else None)
            ax.axvline(0, color="k", lw=0.6, ls=":")
            ax.set_yscale("log")
            ax.set_xlim(-0.6, 1.2)
            st.finish_axes(ax, r"$u-\theta$ (dashed: sample below; solid: crossing step)",
                           "density" if ax is axes[0] else " ", ds)
        axes[-1].legend(loc="upper right")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
