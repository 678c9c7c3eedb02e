"""Figure 5: the threshold gradient ``g^theta`` (``wrt="theta"``): what a learnable threshold gets.

``-g^theta(u)`` against ``u`` (secant convention: every term is ``<= 0``) for fixed16.15 at
theta = 0.295 and float32 at theta = 0.3, whole range and near theta, with the ``u``-gradient of
the ``gt`` comparator at the swapped arguments drawn over it (duality, ``theta_duality``:
``g^theta_ge(u; t) = -g^u_gt(t; v(u))``, checked here at theta: ``-g^theta(theta) = g^u_gt``).
Areas: ``-n`` in fixed point, ``-#{non-degenerate bits}`` for floats (``theta_area``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from boolgrad import closed_form_table
from boolgrad.paper import style as st

NAME = "fig05_threshold"
INPUTS: list[str] = []
CASES = (("fixed16.15", 0.295), ("float32", 0.3))


def make(results_dir, out_dir) -> list[Path]:
    with st.rc():
        fig = st.new_figure(st.WIDTH, 4.0)
        axes = fig.subplots(2, len(CASES), squeeze=False)
        for j, (name, th) in enumerate(CASES):
            tt = closed_form_table(name, th, wrt="theta")
            tu = closed_form_table(name, th)
            theta = tt.meta.theta_used
            for i, zoom in enumerate((False, True)):
                ax = axes[i][j]
                for t, lab, col, ls in ((tt, r"$-g^\theta(u)$ (threshold)", "#d62728", "-"),
                                        (tu, r"$g^u(u)$ (membrane)", "#1f77b4", "--")):
                    u, g = st.curve(t, zoom=zoom, n_zoom=24)
                    y = -g if t is tt else g
                    x = (u - theta) if zoom else u
                    m = y > 0 if zoom else (y > 0) & (u > 0)
                    ax.step(x[m], y[m], where="post", color=col, ls=ls, lw=1.0, label=lab)
                ax.set_yscale("log")
                if zoom:
                    ax.axvline(0, color="k", lw=0.6, ls=":")
                    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3), useOffset=False)
                    st.finish_axes(ax, r"$u-\theta$", "|gradient| near theta")
                else:
                    ax.set_xscale("log")
                    ax.axvline(theta, color="k", lw=0.6, ls=":")
                    st.finish_axes(ax, r"$u$ ($u > 0$)", "|gradient|",
                                   rf"{name}, $\theta$ = {theta:.6g}: area of $g^\theta$ = {tt.area():g}")
            axes[0][j].legend(loc="lower left" if j else "upper left")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
