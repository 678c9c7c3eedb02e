"""Figure 1: the Boolean gradient of fixed16.15 at the authors' thresholds, both conventions.

Top row: the whole range ``[-1, 1)``; bottom row: the 48 patterns either side of theta, against
``(u - theta) / 2**-15`` (offset in units of the last place).  ``g`` is constant on each run in
fixed point, so the steps are exact.  The paper convention's sign-bit term is ``-1``: where it
is the only term ``g = -1`` (drawn on the symmetric-log axis below zero).
"""

from __future__ import annotations

import sys
from pathlib import Path

from boolgrad import closed_form_table
from boolgrad.paper import style as st

NAME = "fig01_fixed_thresholds"
INPUTS: list[str] = []  # tables only
FORMAT = "fixed16.15"
THETAS = (0.125, 0.15625, 0.2, 0.295)


def make(results_dir, out_dir) -> list[Path]:
    with st.rc():
        fig = st.new_figure(st.WIDTH, 3.6)
        axes = fig.subplots(2, len(THETAS), squeeze=False)
        ulp = 2.0**-15
        for j, th in enumerate(THETAS):
            for conv, ls in (("secant", "-"), ("paper", "--")):
                t = closed_form_table(FORMAT, th, convention=conv)
                theta = t.meta.theta_used
                for row, zoom in ((0, False), (1, True)):
                    u, g = st.curve(t, zoom=zoom, n_zoom=48)
                    x = (u - theta) / ulp if zoom else u
                    ax = axes[row][j]
                    ax.step(x, g, where="post", ls=ls, color=st.color(conv), label=conv, lw=1.0)
            axes[0][j].set_yscale("symlog", linthresh=1.0)
            axes[1][j].set_yscale("log")
            axes[0][j].axvline(theta, color="k", lw=0.6, ls=":")
            axes[1][j].axvline(0.0, color="k", lw=0.6, ls=":")
            axes[0][j].set_title(rf"$\theta$ = {th:g}" + ("" if theta == th else f"\n(used {theta:.7g})"))
            axes[0][j].set_xlabel(r"$u$")
            axes[1][j].set_xlabel(r"$(u-\theta)\,/\,2^{-15}$")
        axes[0][0].set_ylabel(r"$g$ (symlog)")
        axes[1][0].set_ylabel(r"$g$ near $\theta$ (log)")
        axes[1][0].legend(loc="lower left")
        fig.suptitle(f"{FORMAT}: Boolean gradient of [u >= theta] at the authors' thresholds", fontsize=9)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
