r"""Crossing timestep: when the Boolean gradient at a crossing falls below a fraction of STBP's.

Let ``h = min(g, G) / G`` (clamp at ``G``, spec §7 step function, any format and convention
with ``g >= 0`` -- the secant convention) and the unit-area rectangle of STBP
(``width 0.5, height 1``), whose crossing mean is ``E_rect(dU) = min(dU, 1/2) / dU``.

**Theorem.**  With ``a_G = int_{-inf}^{theta} h`` (the clamped mass below theta, exact by
:func:`boolgrad.integrals.integral`), for every ``dU > 0``

    E_B(dU) = (1/dU) int_{theta-dU}^{theta} h <= min(1, a_G / dU),
    rho(dU) = E_B(dU) / E_rect(dU) <= min(dU, a_G) / min(dU, 1/2),

so for ``0 < f < 1`` with ``a_G < f / 2``: ``rho(dU) < f`` for every ``dU > dU*(f) := a_G / f``
(and ``rho = a_G / min(dU, 1/2)`` exactly once ``dU`` covers the whole support below theta).
For fixed point without clamp (``h = g``, ``G = 1``) ``a = A / 2`` (:mod:`crossing_moments`).

*Proof.*  ``0 <= h <= 1`` gives ``int_{theta-dU}^{theta} h <= min(dU, a_G)``; divide by
``E_rect``; if ``dU > a_G / f`` and ``a_G < f/2`` then ``min(dU, a_G)/min(dU, 1/2) <= a_G /
min(dU, 1/2) < f`` since ``min(dU, 1/2) > a_G / f`` (both ``dU`` and ``1/2`` exceed it).
"""

from __future__ import annotations

import math

import numpy as np

from ._common import Tally, check, positive

TITLE = "clamped Boolean vs rectangle at a crossing: rho(dU) <= min(dU, a_G)/min(dU, 1/2) < f beyond a_G/f"


def symbolic() -> str:
    import sympy as sp

    a, f, e = sp.symbols("a f e", positive=True)
    # dU = a/f + e > a/f, and 1/2 > a/f: both branches of min(dU, 1/2) give rho < f
    check(positive(f - a / (a / f + e)), "rho <= a/dU < f for dU > a/f")
    half_gap = sp.Symbol("c", positive=True)  # 1/2 = a/f + c
    check(positive(f - a / (a / f + half_gap)), "rho <= a/(1/2) < f when a < f/2")
    return "rho(dU) <= a_G/min(dU, 1/2) < f for dU > a_G/f, a_G < f/2 (both branches)"


def _enum_window(table, lo, hi, G):
    """Ground truth: sum over the patterns whose cells meet [lo, hi] (enumeration)."""
    from boolgrad.gradient import mask_of, sum_terms
    from boolgrad.integrals import step_ranks

    fmt, spec = table.fmt, table.spec
    r0, _ = step_ranks(fmt, [max(lo, fmt.min_finite)])
    r1, _ = step_ranks(fmt, [hi])
    r = np.arange(int(r0[0]), int(r1[0]) + 2, dtype=np.uint64)
    b = fmt.pattern_at_rank(r)
    g, _, _, _ = sum_terms(spec, b[:-1], mask_of(spec, b[:-1]))
    v = fmt.decode(b)
    if fmt.kind == "fixed":
        v = np.append(v[:-1], v[-2] + fmt.ulp)
    w = np.clip(np.minimum(v[1:], hi) - np.maximum(v[:-1], lo), 0, None)
    return math.fsum(np.minimum(g, G) / G * w)


def numeric(include_slow: bool = False) -> str:
    from boolgrad import build_table
    from boolgrad.study.crossings import BooleanGrad, SurrogateGrad, crossing_moments

    tally = Tally()
    fmts = ["fixed10.6", "ufixed12.8", "float16", "bfloat16", "float8_e4m3fn", "e3m4"]
    grid = np.geomspace(1e-4, 4.0, 40 if include_slow else 16)
    for fmt in fmts:
        for th in (0.3, 0.75, 1.0):
            table = build_table(fmt, th)
            theta = table.meta.theta_used
            for G in (10.0, 100.0, 500.0):
                grad = BooleanGrad(table, "clamp", G)
                a = table.integral(-math.inf, theta, clamp=G) / G
                check(math.isclose(a, _enum_window(table, -1e300, theta, G), rel_tol=1e-12), f"{fmt}: a_G")
                m = crossing_moments(grad, grid).mean
                rect = crossing_moments(SurrogateGrad("rectangle", theta), grid).mean
                for dU, mb, mr in zip(grid, m, rect):
                    want = _enum_window(table, theta - dU, theta, G) / dU
                    check(math.isclose(mb, want, rel_tol=1e-11, abs_tol=1e-15), f"{fmt} {th} {G}: E_B({dU})")
                    check(mb <= min(1.0, a / dU) * (1 + 1e-12), f"{fmt}: E_B <= min(1, a/dU)")
                    check(mb / mr <= min(dU, a) / min(dU, 0.5) * (1 + 1e-12), f"{fmt}: rho bound")
                for f in (0.5, 0.1, 0.01):
                    if a < f / 2:
                        beyond = grid[grid > a / f]
                        check(
                            bool(np.all(m[grid > a / f] / rect[grid > a / f] < f)) or beyond.size == 0,
                            f"{fmt} theta={th} G={G}: rho < {f} beyond a/f = {a / f}",
                        )
                        tally.add(fmt, cases=1)
                tally.add(fmt, thresholds=1, patterns=table.fmt.n_ranks)
    return tally.text("E_B(dU) vs enumerated windows; rho <= min(dU,a_G)/min(dU,1/2); rho < f beyond a_G/f")
