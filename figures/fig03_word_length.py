"""Figure 3: peak height and area against word length, measured (points) and proved (lines).

(a) fixed point ``fixed W.(W-1)``, ``W = 8..32``: the peak height lies in ``[1/lambda, 2/lambda)``,
``lambda`` the value of theta's lowest set bit (theta rounded to the format).  (b) ``fixed W.6``,
``ufixed W.6`` at ``theta = 2**-3``: area ``6 - 3 * 2**(p+2-W)`` (two's complement),
``4 - 2**(p+2-W)`` (unsigned), ``2 - 2**(p+2-W)`` (paper convention), ``p = k + F = 3``: growing
with ``W``, never 1.  (c, d) the float formats at theta = 0.3 and 1: peak against ``1/lambda``
and, for the power of two, the bound ``(2E + 1/2) / theta``; area (measured).
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

from boolgrad import closed_form_table, parse_format
from boolgrad.paper import style as st

NAME = "fig03_word_length"
INPUTS: list[str] = []
WORDS = tuple(range(8, 33))
FIXED_THETAS = (0.125, 0.2, 0.295)
AREA_F, AREA_K = 6, -3
FLOATS = ("float8_e4m3fn", "float8_e5m2", "bfloat16", "float16", "float32", "float64")
FLOAT_THETAS = (0.3, 1.0)


def lowest_set_bit(x: float) -> float:
    """``lambda``: the largest power of two dividing the dyadic rational ``x`` (> 0)."""
    f = Fraction(x)
    n, d = f.numerator, f.denominator
    return 2.0 ** (((n & -n).bit_length() - 1) - (d.bit_length() - 1))


def area_formula(W: int, p: int, signed: bool, paper: bool) -> float:
    if paper:
        return 2 - 2.0 ** (p + 2 - W)
    return (6 - 3 * 2.0 ** (p + 2 - W)) if signed else (4 - 2.0 ** (p + 2 - W))


def fixed_peaks():
    out = {}
    for th in FIXED_THETAS:
        rows = []
        for W in WORDS:
            t = closed_form_table(f"fixed{W}.{W - 1}", th)
            lam = lowest_set_bit(t.meta.theta_used)
            rows.append((W, t.peak()[0], 1 / lam))
        out[th] = rows
    return out


def fixed_areas():
    out = {}
    p = AREA_K + AREA_F
    for lab, pre, conv, signed, paper in (("two's complement", "fixed", "secant", True, False),
                                         ("unsigned", "ufixed", "secant", False, False),
                                         ("paper convention", "fixed", "paper", True, True)):
        rows = []
        for W in WORDS:
            t = closed_form_table(f"{pre}{W}.{AREA_F}", 2.0**AREA_K, convention=conv)
            rows.append((W, t.area(), area_formula(W, p, signed, paper)))
        out[lab] = rows
    return out


def float_rows():
    out = {}
    for th in FLOAT_THETAS:
        rows = []
        for name in FLOATS:
            t = closed_form_table(name, th)
            tu = t.meta.theta_used
            E = parse_format(name).exp_bits
            rows.append({"format": name, "peak": t.peak()[0], "area": t.area(), "theta_used": tu,
                         "inv_lambda": 1 / lowest_set_bit(tu), "bound": (2 * E + 0.5) / tu})
        out[th] = rows
    return out


def make(results_dir, out_dir) -> list[Path]:
    fp, fa, fl = fixed_peaks(), fixed_areas(), float_rows()
    with st.rc():
        fig = st.new_figure(st.WIDTH, 5.0)
        (a, b), (c, d) = fig.subplots(2, 2)
        for i, (th, rows) in enumerate(fp.items()):
            W, g, inv = (np.array(v) for v in zip(*rows))
            col = ("#1f77b4", "#2ca02c", "#d62728")[i]
            a.fill_between(W, inv, 2 * inv, step="mid", color=col, alpha=0.15, lw=0)
            a.plot(W, g, "o", ms=3, color=col, label=rf"$\theta$ = {th:g}")
        a.plot([], [], "s", color="0.7", alpha=0.5, label=r"proved $[1/\lambda, 2/\lambda)$")
        a.set_yscale("log", base=2)
        st.finish_axes(a, r"word length $W$ (fixed $W$.$(W-1)$)", "peak height", "(a) fixed point: peak")
        a.legend(loc="upper left")
        for i, (lab, rows) in enumerate(fa.items()):
            W, A, F = (np.array(v) for v in zip(*rows))
            col = ("#1f77b4", "#ff7f0e", "#d62728")[i]
            b.plot(W, F, "-", color=col, lw=1.0)
            b.plot(W, A, "o", ms=3, color=col, label=lab)
        b.plot([], [], "k-", lw=1.0, label="proved formula")
        st.finish_axes(b, rf"word length $W$ (fixed $W$.{AREA_F}, $\theta = 2^{{{AREA_K}}}$)", "area",
                       "(b) fixed point: area")
        b.set_ylim(0, 6.5)
        b.legend(loc="lower right", ncol=2)
        x = np.arange(len(FLOATS))
        for i, (th, rows) in enumerate(fl.items()):
            col = ("#1f77b4", "#d62728")[i]
            off = (i - 0.5) * 0.18
            c.plot(x + off, [r["peak"] for r in rows], "o", color=col, label=rf"peak, $\theta$ = {th:g}")
            d.plot(x + off, [r["area"] for r in rows], "o", color=col, label=rf"$\theta$ = {th:g}")
            if th == 1.0:
                c.plot(x + off, [r["bound"] for r in rows], "_", ms=10, mew=1.5, color=col,
                       label=r"bound $(2E+\frac{1}{2})/\theta$")
            else:
                c.plot(x + off, [r["inv_lambda"] for r in rows], "x", color=col, label=r"$1/\lambda$")
        for ax in (c, d):
            ax.set_xticks(x, [f.replace("float8_", "f8 ") for f in FLOATS], rotation=20)
            ax.set_yscale("log")
        st.finish_axes(c, "format", "peak height", "(c) floats: peak")
        st.finish_axes(d, "format", "area", "(d) floats: area")
        c.legend(loc="upper left")
        d.legend(loc="upper left")
        return st.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(st.main(make, __doc__))
