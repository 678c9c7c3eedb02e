r"""Area of the threshold gradient: minus one per non-degenerate bit (and where that fails).

**Theorem.**  ``wrt="theta"``, secant convention, threshold pattern ``t``, excluded bits ``X``.
For bit ``j`` let ``R_lo``/``R_hi`` be the threshold ranks of ``t & ~2**j`` / ``t | 2**j``,
``a = min``, ``b = max``.  The bit's contribution to the area (spec §7, over ``u``) telescopes:

    A_j = - (v<b> - v<a>) / |D_j|,

with ``v<r>`` the value at rank ``r`` clamped to the finite range (``0`` if ``D_j`` is 0,
infinite or NaN).  Hence

* **fixed point** (either comparator): ``A = -(n - |X|)`` exactly -- every bit is
  non-degenerate and each contributes ``-1`` (``2**j`` patterns of height ``2**(F-j)`` times the
  spacing ``2**-F``; the sign bit ``2**(n-1)`` patterns of height ``2**(F-n+1)``);
* **floats, comparator ge**: ``A = -#{j not in X : D_j finite and nonzero}``, because
  ``R(t') = rank(t')`` makes ``v<b> - v<a> = |v(t | 2**j) - v(t & ~2**j)| = |D_j|``;
* **floats, comparator gt**: ``R(t') = rank(t') + 1`` and the contribution is
  ``-(v(next(t_hi)) - v(next(t_lo))) / |D_j|``, which is *not* ``-1`` when the spacings at
  ``t_hi`` and ``t_lo`` differ (e.g. e3m2, theta = 0.0625: ``A = -6.29`` with 6 such bits).

**Relation to the u-gradient.**  For fixed point the mean of the ``u``-area over all ``2**n``
thresholds is ``n`` (:mod:`~boolgrad.proofs.fixed_area`), the exact negative of the
``theta``-area: on average the two carry equal and opposite mass, as
``d/du H(u - theta) = -d/dtheta H(u - theta)`` does for the Heaviside step; threshold by
threshold they differ (``theta = 2**k``: ``6 - 3 * 2**(p+2-n)`` against ``-n``).  Pointwise the
relation is the duality of :mod:`~boolgrad.proofs.theta_duality`.

*Proof.*  ``chi_j(u) = [rank(u) in [a, b)]`` and its secant term is ``-1/|D_j|``, constant in
``u``; the Riemann sum over ``[a, b)`` telescopes.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._common import Tally, check, enum, finite_thresholds, is_zero

TITLE = "area of the secant theta-gradient = -(number of non-degenerate bits) (fixed; floats ge)"


def symbolic() -> str:
    import sympy as sp

    r, a, b, j, F, n = sp.symbols("r a b j F n", integer=True)
    jn = sp.Symbol("jn", integer=True, nonnegative=True)
    nn = sp.Symbol("nn", integer=True, positive=True)
    v = sp.Function("v")
    tele = sp.summation(v(r + 1) - v(r), (r, a, b - 1))
    check(is_zero(tele - (v(b) - v(a))), "Riemann sum over [a, b) telescopes")
    bit = sp.summation(2 ** (F - jn) * 2**-F, (r, 0, 2**jn - 1))
    check(is_zero(bit - 1), "fixed point: 2^j patterns x 2^(F-j) x 2^-F = 1")
    sign = sp.summation(2 ** (F - nn + 1) * 2**-F, (r, 0, 2 ** (nn - 1) - 1))
    check(is_zero(sign - 1), "fixed point sign bit: 2^(n-1) x 2^(F-n+1) x 2^-F = 1")
    i = sp.Symbol("i", integer=True, nonnegative=True)
    check(is_zero(sp.summation(1, (i, 0, nn - 1)) - nn), "n bits")
    del j, n
    return "telescoping Riemann sum (undefined v), per-bit unit mass in fixed point, total n"


def _riemann_area(e) -> float:
    """spec §7 area of an enumeration: fixed sum g 2^-F, float left Riemann sum over finite pairs."""
    fmt = e.spec.fmt
    if fmt.kind == "fixed":
        return float(Fraction(math.fsum(e.g)) * Fraction(2) ** -fmt.frac)
    v = e.values
    ok = np.isfinite(v[:-1]) & np.isfinite(v[1:])
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 at the ends, masked out
        return math.fsum((e.g[:-1] * (v[1:] - v[:-1]))[ok])


def _predicted(spec) -> float:
    fmt = spec.fmt
    lo_r, hi_r = (1, fmt.n_ranks - 2) if fmt.kind == "float" and fmt.has_inf else (0, fmt.n_ranks - 1)

    def v_at(r):
        r = min(max(r, lo_r), hi_r + 1) if fmt.kind == "fixed" else min(max(r, lo_r), hi_r)
        if fmt.kind == "fixed" and r > hi_r:  # one past the top: the spacing continues
            return Fraction(fmt.int_max + 1) * Fraction(2) ** -fmt.frac
        return fmt.exact_value(int(fmt.pattern_at_rank(np.asarray([r], dtype=np.uint64))[0]))

    total = Fraction(0)
    for jbit, ((r_lo, r_hi), D) in enumerate(zip(spec.theta_flip_ranks, spec.theta_weights)):
        if jbit in spec.excluded or not np.isfinite(D) or D == 0:
            continue
        a, b = min(r_lo, r_hi), max(r_lo, r_hi)
        total -= (v_at(b) - v_at(a)) / abs(Fraction(float(D)))
    return float(total)


def numeric(include_slow: bool = False) -> str:
    tally = Tally()
    fmts = ["fixed5.1", "ufixed5.-2", "fixed4.6", "e2m2", "e3m2", "e3m1fn"]
    if include_slow:
        fmts += ["float8_e4m3fn", "e4m4", "fixed9.3", "e5m3"]
    gt_not_minus_one = 0
    for f in fmts:
        ths = finite_thresholds(f)
        for th in ths:
            for comp in ("ge", "gt"):
                for X in (None, [0]) if comp == "ge" else (None,):
                    e = enum(f, th, comparator=comp, wrt="theta", excluded_bits=X)
                    spec = e.spec
                    got = _riemann_area(e)
                    D = spec.theta_weights
                    good = [jb for jb in range(spec.bits) if jb not in spec.excluded and np.isfinite(D[jb]) and D[jb] != 0]
                    check(abs(got - _predicted(spec)) <= 1e-12 * max(1.0, abs(got)), f"{f} theta={th} {comp}: telescoping")
                    if spec.fmt.kind == "fixed":
                        check(got == -(spec.bits - len(spec.excluded)) and len(good) == spec.bits - len(spec.excluded),
                              f"{f} theta={th} {comp}: -n")
                    elif comp == "ge":
                        check(abs(got + len(good)) <= 1e-12 * len(good), f"{f} theta={th}: -#non-degenerate")
                    else:
                        gt_not_minus_one += abs(got + len(good)) > 1e-9
        n_ranks = enum(f, 0.0).spec.fmt.n_ranks
        tally.add(f, thresholds=3 * len(ths), patterns=3 * len(ths) * n_ranks)
    check(gt_not_minus_one > 0, "gt on floats really differs from -#bits somewhere (as stated)")
    return tally.text(f"Riemann sums of enumerated g (gt floats != -#bits in {gt_not_minus_one} cases)")
