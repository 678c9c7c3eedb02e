"""Speed of ``GradientTable.integral`` (the fast float64 path) against the exact oracle.

Windows as the crossing study takes them: ``[theta - dU, theta]`` and ``[theta, theta + dU]``,
``dU`` log-spaced in ``[1e-3, 2]``, power 1 and 2, no clamp and ``clamp=500`` (the study's
clamp kinds), on float32 / float64 tables at theta 0.3 (secant and the paper convention of
``boolean_yj2025``), plus bfloat16 / fixed16.12.  Per table: median and minimum ms per call of
the fast path (warm: the piece index built and the whole-piece totals of each (power, clamp)
cached -- the first-call cost is printed apart), of the exact path on a subsample of the same
windows, and their ratio; then a 1000-point crossing curve (``crossing_moments`` over 1000
``dU``: 2000 integrals in two batched calls).  Run: ``python benchmarks/bench_integrals.py``.
"""

import itertools
import statistics
import sys
import time

import numpy as np

from boolgrad import closed_form_table
from boolgrad.integrals import integral, integral_exact
from boolgrad.study.crossings import crossing_moments
from boolgrad.study.kinds import KINDS

TABLES = [("float32", "secant"), ("float32", "paper"), ("float64", "secant"), ("bfloat16", "secant"),
          ("fixed16.12", "secant")]


def windows(theta, n):
    du = np.geomspace(1e-3, 2, n)
    return [(theta - d, theta) for d in du] + [(theta, theta + d) for d in du]


def timed(fn, args):
    out = []
    for a in args:
        t0 = time.perf_counter()
        fn(*a)
        out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(out), min(out)


def main(n_windows=40, n_exact=6):
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; ms per call (median / min)")
    print("| table | first call (build) | fast median | fast min | exact median | exact min | exact / fast |")
    print("|---|---|---|---|---|---|---|")
    for fmt, conv in TABLES:
        table = closed_form_table(fmt, 0.3, convention=conv)
        th = table.meta.theta_used
        cases = list(itertools.product((1, 2), (None, 500.0)))
        t0 = time.perf_counter()
        for p, c in cases:
            table.integral(th - 0.1, th, power=p, clamp=c)
        first = (time.perf_counter() - t0) * 1e3
        win = windows(th, n_windows)
        args = [(table, lo, hi, p, c) for (lo, hi), (p, c) in itertools.product(win, cases)]
        fast = timed(lambda t, lo, hi, p, c: integral(t, lo, hi, power=p, clamp=c), args)
        sub = args[:: max(1, len(args) // n_exact)]
        exact = timed(lambda t, lo, hi, p, c: integral_exact(t, lo, hi, power=p, clamp=c), sub)
        print(f"| {fmt} {conv} | {first:.0f} | {fast[0]:.3f} | {fast[1]:.3f} | {exact[0]:.1f} | {exact[1]:.1f} "
              f"| {exact[0] / fast[0]:.0f} |")
    print("\n| 1000-point crossing curve (crossing_moments, 2000 integrals) | median ms | min ms |\n|---|---|---|")
    du = np.geomspace(1e-3, 2, 1000)
    for name in ("boolean_yj2025", "boolean_secant_clamp", "boolean_bf16", "boolean_fixed16"):
        grad = KINDS[name].crossing_grad(0.3)
        crossing_moments(grad, du)  # warm
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            crossing_moments(grad, du)
            ts.append((time.perf_counter() - t0) * 1e3)
        print(f"| {name} | {statistics.median(ts):.1f} | {min(ts):.1f} |")


if __name__ == "__main__":
    main()
