"""Figure 2: the float32 Boolean gradient at theta = 0.125 and 0.3, whole range and near theta.

Left: every binade (signed-log ``u`` axis, an even grid of patterns plus every run's ends).
Right: the 64 patterns either side of theta against the exact offset ``u - theta``.  Secant
convention solid; paper convention dashed where ``g > 0`` (its sign-bit terms are negative).
theta = 0.125 is a power of two: no mantissa bit is in any mask and the peak is ``O(1/theta)``;
theta = 0.3 has its lowest set bit at the last place and the peak is ``~ 1/ulp``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from boolgrad import closed_form_table
from boolgrad.paper import style as st

NAME = "fig02_float32"
INPUTS: list[str] = []
THETAS = (0.125, 0.3)


def _offset_axis(ax, x):
    """``u - theta`` in units of ``10**k`` written once in the label (no offset text)."""
    span = float(np.max(np.abs(x))) or 1.0
    k = int(np.floor(np.log10(span)))
    return x / 10.0**k, k


def make(results_dir, out_dir) -> list[Path]:
    with st.rc():
        fig = st.new_figure(st.WIDTH, 4.2)
        axes = fig.subplots(len(THETAS), 2, squeeze=False)
        for i, th in enumerate(THETAS):
            for conv, ls in (("secant", "-"), ("paper", "--")):
                t = closed_form_table("float32", th, convention=conv)
                theta = t.meta.theta_used
                for j, zoom in enumerate((False, True)):
                    u, g = st.curve(t, zoom=zoom)
                    ax = axes[i][j]
                    pos = g > 0
                    if zoom:
                        x, k = _offset_axis(ax, u - theta)
                        ax.step(x[pos], g[pos], where="post", ls=ls, lw=1.0, color=st.color(conv),
                                label=f"{conv} (peak {t.peak()[0]:.3g})")
                    else:  # |u| on a log axis: u > 0 in colour, u < 0 thin grey
                        for side, c, lw in ((u > 0, st.color(conv), 1.0), (u < 0, "0.6", 0.6)):
                            m = side & pos
                            if conv == "paper" and c == "0.6":
                                continue
                            ax.step(np.abs(u[m]), g[m], where="post", ls=ls, lw=lw, color=c,
                                    label=("u < 0 (against |u|)" if c == "0.6" and conv == "secant" else None))
                    if zoom:
                        ax.set_xlabel(rf"$u-\theta$  [$10^{{{k}}}$]   ($\theta$ = {theta:.9g})")
            for j in (0, 1):
                axes[i][j].set_yscale("log")
            axes[i][0].set_xscale("log")
            axes[i][0].axvline(theta, color="k", lw=0.6, ls=":")
            axes[i][1].axvline(0.0, color="k", lw=0.6, ls=":")
            axes[i][0].set_xlabel(r"$|u|$")
            axes[i][0].set_ylabel(rf"$g$,  $\theta$ = {th:g}")
            axes[i][1].set_ylabel(r"$g$ near $\theta$")
            axes[i][0].set_title(rf"float32, $\theta$ = {th:g}: whole range")
            axes[i][1].set_title(rf"float32, $\theta$ = {th:g}: 64 patterns either side")
            axes[i][1].legend(loc="lower right" if i == 0 else "upper right")
            axes[i][0].legend(loc="lower center")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
