"""Figure 4: which bits make the peak -- the per-bit terms ``chi_i c_i`` near theta.

For the patterns from 12 below to 12 above theta (x: offset in patterns), each cell is
``log10`` of bit ``i``'s term ``chi_i c_i`` (secant convention, from
``boolgrad.gradient_at(..., terms=True)``); blank where ``chi_i = 0``.  The top panel is ``g``,
their sum.  fixed16.15 at theta = 0.295 and float32 at theta = 0.3: the peak is made by the
few low bits below theta's lowest set bit, the exponent/high bits add ``O(1/theta)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from boolgrad import gradient_at, make_spec, parse_format
from boolgrad.paper import style as st

NAME = "fig04_per_bit"
INPUTS: list[str] = []
CASES = (("fixed16.15", 0.295), ("float32", 0.3))
HALF = 12


def terms(fmt_name: str, theta: float):
    fmt = parse_format(fmt_name)
    spec = make_spec(fmt_name, theta)
    r0 = spec.threshold.rank
    ranks = np.arange(r0 - HALF, r0 + HALF + 1, dtype=np.uint64)
    b = fmt.pattern_at_rank(ranks)
    r = gradient_at(fmt, theta, b, terms=True)
    t = np.where(r.chi, r.c, 0.0)  # (patterns, bits)
    return np.arange(-HALF, HALF + 1), t, np.asarray(r.g), fmt


def make(results_dir, out_dir) -> list[Path]:
    with st.rc():
        fig = st.new_figure(st.WIDTH, 4.4)
        grid = fig.add_gridspec(2, len(CASES), height_ratios=(1, 2.6))
        for j, (name, th) in enumerate(CASES):
            x, t, g, fmt = terms(name, th)
            top = fig.add_subplot(grid[0, j])
            top.step(x, g, where="mid", color=st.color("secant"))
            top.set_yscale("log")
            top.axvline(0, color="k", lw=0.6, ls=":")
            st.finish_axes(top, "", r"$g$", rf"{name}, $\theta$ = {th:g}")
            top.tick_params(labelbottom=False)
            ax = fig.add_subplot(grid[1, j], sharex=top)
            with np.errstate(divide="ignore"):
                z = np.where(t > 0, np.log10(np.abs(t)), np.nan).T  # (bits, patterns)
            used = np.where(np.isfinite(z).any(axis=1))[0]
            lo, hi = int(used.min()), int(used.max())
            zmax = float(np.nanmax(z))
            ax.grid(False)
            im = ax.imshow(z[lo:hi + 1], origin="lower", aspect="auto", cmap="viridis", interpolation="nearest",
                           vmin=zmax - 9, vmax=zmax,
                           extent=(x[0] - 0.5, x[-1] + 0.5, lo - 0.5, hi + 0.5))
            ax.axvline(0, color="w", lw=0.6, ls=":")
            st.finish_axes(ax, r"pattern offset from $\theta$ (in patterns)", "bit i")
            if hasattr(fmt, "man_bits"):
                ax.axhline(fmt.man_bits - 0.5, color="k", lw=1.0)
                ax.text(x[0], fmt.man_bits, "exponent / sign", fontsize=6.5, va="bottom",
                        bbox={"fc": "w", "ec": "none", "pad": 1})
                ax.text(x[0], fmt.man_bits - 1, "mantissa", fontsize=6.5, va="top",
                        bbox={"fc": "w", "ec": "none", "pad": 1})
            fig.colorbar(im, ax=ax, label=r"$\log_{10}\,\chi_i c_i$ (9 decades)", shrink=0.9)
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
