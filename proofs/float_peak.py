r"""Float peak: its height is set by theta's lowest set bit, and it is often NOT at theta.

**Theorem.**  Float ``e<E>m<M>``, secant convention, comparator ``ge``, threshold ``theta > 0``
(finite, representable).  Let ``T >= 1`` be theta's magnitude pattern, ``j = ctz(T)``,
``ulp = ulp(theta)`` and, for ``j < M``, ``lambda = 2**j ulp`` (the value of theta's lowest
set mantissa bit).  Terms of flips onto NaN/infinity are 0 (spec §5) and are ignored below.

1. *Support.*  No mantissa bit ``i < j`` contributes to any ``g(u)``; mantissa terms only
   occur for ``u`` in theta's binade.  If ``j >= M`` (theta's mantissa field is 0: a power of
   two) no mantissa term occurs anywhere and ``g(u) <= (2E + 1/2) / theta`` for every ``u``:
   there is no ``1/ulp`` peak at all (float32 ``theta = 1``: ``g_max = 8.9``, not ~``2**23``).
2. *Candidates* (``j < M``).  Mantissa bit ``j`` contributes exactly on ``[theta - lambda,
   theta)`` (mask ``M-``) and ``[theta, theta + lambda)`` (mask ``M+``), where, on the
   mantissa bits, ``M+ = {j} u {j < i < M : T_i = 1}`` and ``M- = {j} u {j < i < M : T_i = 0}``.
   With ``S+- = sum_{i in M+-, i < M} 2**-i`` (so ``2**-j <= S+- < 2**(1-j)``),
   ``g(theta) = S+ / ulp + K+ / theta`` and ``g(theta - lambda) = S- / ulp + K- / (theta - lambda)``,
   ``K+-`` the sign/exponent constants of :mod:`~boolgrad.proofs.float_terms` (``K >= 0``).
   Both heights are ``~ 1/lambda``: the peak height is the reciprocal of the threshold's
   lowest set bit, not of its ulp.
3. *Peak at theta.*  If ``j + 1 < M`` and ``T_{j+1} = 1`` then ``g(theta) > g(u)`` for every
   ``u`` in ``[theta - lambda, theta)``: the mantissa margin ``S+ - S- >= 2**(1-M)`` beats the
   largest exponent part there, ``(13/9) / (2**M ulp)`` (normal) or ``(7/4) / (2**M ulp)``
   (subnormal theta).
4. *Peak NOT at theta.*  If theta is normal, ``j + 1 < M`` and ``T_{j+1} = 0``, let ``mu = S- - S+ >= 2**(1-M)``.
   Then ``g(theta - lambda) - g(theta) >= mu / ulp - K+ / theta``, so whenever
   ``mu 2**M > K+`` (in particular whenever ``mu 2**M > 2 popcount(e_theta) + 1/2``) the
   maximum lies a lowest-set-bit *below* the threshold, at ``theta - lambda``.

Checked by enumeration (not proved in general): the global maximum of ``g`` is always at
``theta``, ``theta - lambda`` or ``0``, and among ``theta``/``theta - lambda`` it is the larger of
the two closed-form heights of (2).

*Proof.*  (1) A mantissa flip stays in its binade, so it can only cross theta inside theta's
binade; there the magnitude patterns behave like an unsigned word with threshold ``T``, and
:mod:`~boolgrad.proofs.straddle_blocks` gives ``S(i, T) = {}`` for ``i < j``.  For ``j >= M``
every term is an exponent or sign flip; a crossing exponent flip has ``D = v(hi) - v(lo)``
with ``v(hi) >= theta`` and ``v(lo) <= v(hi)/2`` (same mantissa, lower binade), so each of the
at most ``E`` terms is ``<= 2/theta`` and the sign term ``<= 1/(2 theta)``.  (2) is
:mod:`~boolgrad.proofs.fixed_peak` (1) on the magnitude word plus
:mod:`~boolgrad.proofs.float_terms`.  (3) On ``[theta - lambda, theta)`` the exponent flips
in the mask *set* bits, each multiplying ``|u| >= 2**M ulp`` by ``2**(2**k)``:
``sum_k 1/(2**(2**k) - 1) <= 1 + sum_{k>=1} (4/3) 4**-k = 13/9 < 2``; from a subnormal ``u``
the weights are ``>= 2**(M + 2**k - 1) ulp`` and ``1 + sum_{k>=1} 2**(1-2**k) <= 7/4 < 2``.
(4) ``K- >= 0`` and ``theta >= 2**M ulp``; ``K+ <= 1/2 + 2 popcount(e_theta)`` as each
clearing flip has ``D >= |u|/2``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ._common import Tally, check, ctz, enum, is_zero, positive

TITLE = "height ~ 1/lsb(theta); peak at theta iff bit j+1 set (margin), else often lsb below"


def _by_induction(lhs, rhs, var, base: int) -> bool:
    """``lhs(k) >= rhs(k)`` for all integers ``k >= base``, with ``lhs(k+1) = 2 lhs(k)``.

    Base case evaluated; step: write ``lhs(k) = rhs(k) + s`` (``s >= 0``) and show
    ``2 lhs(k) - rhs(k+1) >= 0`` for ``k = base + t``, ``t >= 0`` (sympy, by assumptions).
    """
    import sympy as sp

    s = sp.Symbol("s_ind", nonnegative=True)
    t = sp.Symbol("t_ind", integer=True, nonnegative=True)
    base_ok = bool(lhs.subs(var, base) - rhs.subs(var, base) >= 0)
    step = sp.expand((2 * (rhs + s) - rhs.subs(var, var + 1)).subs(var, base + t))
    return base_ok and step.is_nonnegative is True


def symbolic() -> str:
    import sympy as sp

    i, j, d = sp.symbols("i j d", integer=True, nonnegative=True)
    k = sp.Symbol("k", integer=True)
    kp = sp.Symbol("kp", integer=True, positive=True)
    # (3) normal binades: 2^k >= 2k (k >= 1) gives 2^(2^k) >= 4^k >= 4, and for x >= 4
    # 1/(x - 1) <= (4/3)/x; so sum_{k>=0} 1/(2^(2^k) - 1) <= 1 + sum_{k>=1} (4/3) 4^-k = 13/9
    check(_by_induction(2**k, 2 * k, k, 1), "2^k >= 2k for k >= 1")
    y = sp.Symbol("y", nonnegative=True)  # x = 4 + y
    gap = sp.together(sp.Rational(4, 3) / (4 + y) - 1 / (4 + y - 1))
    check(gap.is_nonnegative is True, "1/(x-1) <= (4/3)/x for x >= 4")
    normal = 1 + sp.summation(sp.Rational(4, 3) * sp.Integer(4) ** -kp, (kp, 1, sp.oo))
    check(normal == sp.Rational(13, 9) and normal < 2, "sum_k 1/(2^(2^k)-1) <= 13/9 < 2")
    # (3) subnormal u: 2^(1-2^k) <= 2^-(k+1) for k >= 2 (2^k >= k + 2): 1 + 1/2 + 1/4 = 7/4
    check(_by_induction(2**k, k + 2, k, 2), "2^k >= k + 2 for k >= 2")
    sub = 1 + sp.Rational(1, 2) + sp.summation(sp.Integer(2) ** (-k - 1), (k, 2, sp.oo))
    check(sub == sp.Rational(7, 4) and sub < 2, "subnormal exponent part <= 7/4 < 2")
    # margin: S+ - S- = +-2^-(j+1) + sum_{i=j+2}^{M-1} (+-1) 2^-i, at least 2^(1-M) in size
    M = j + 2 + d
    tail = sp.summation(2**-i, (i, j + 2, M - 1))
    check(is_zero(2 ** -(j + 1) - tail - 2 ** (1 - M)), "mantissa margin >= 2^(1-M)")
    # heights: 2^-j <= S < 2^(1-j)
    check(positive(2 ** (1 - j) - sp.summation(2**-i, (i, j, M - 1))), "S < 2^(1-j)")
    return "13/9 and 7/4 exponent bounds (inductions, series), margin 2^(1-M) = 2^-(j+1) - tail, S < 2^(1-j)"


def _positive_thresholds(fmt):
    A = fmt.max_mag
    out = []
    for T in range(1, A + 1):
        v = fmt.exact_value(T)
        if not isinstance(v, float):  # Fraction: finite
            out.append(T)
    return out


def numeric(include_slow: bool = False) -> str:
    from boolgrad.formats import parse_format

    tally = Tally()
    where = Counter()
    fmts = ["e2m3", "e3m3", "e4m3", "e3m4", "float8_e5m2", "float8_e4m3fn", "e2m5"]
    if include_slow:
        fmts += ["e5m4", "e3m6", "e4m5", "e2m8"]
    for f in fmts:
        fmt = parse_format(f)
        M, E, A = fmt.man_bits, fmt.exp_bits, fmt.max_mag
        Ts = _positive_thresholds(fmt)
        for T in Ts:
            theta = float(fmt.exact_value(T))
            e = enum(fmt, theta)
            R = e.spec.threshold.rank
            j = ctz(T)
            ulp = 2.0 ** (max(T >> M, 1) - fmt.bias - M)
            r_theta, g = R, e.g
            # (1) support: contributing mantissa terms only in theta's binade and only bits >= j
            mant = e.masks & np.uint64((1 << M) - 1)
            pats = e.patterns
            for i in range(M):
                has = ((mant >> np.uint64(i)) & np.uint64(1)).astype(bool)
                partner_nan = fmt.is_nan(pats ^ np.uint64(1 << i))
                contributing = has & ~partner_nan
                if i < j:
                    check(not contributing.any(), f"{f} theta={theta}: mantissa bit {i} < j contributes")
                same_binade = (pats >> np.uint64(M)) == np.uint64(T >> M)
                check(not (contributing & ~same_binade).any(), f"{f} theta={theta}: bit {i} outside binade")
            g_max = float(g.max())
            r_peak = int(np.flatnonzero(g == g_max)[0])
            if j >= M:
                check(g_max * theta <= 2 * E + 0.5, f"{f} theta={theta}: power of two bound")
                check(r_peak in (r_theta, A), f"{f} theta={theta}: peak at theta or 0")
                where["2^k: theta" if r_peak == r_theta else "2^k: 0"] += 1
                continue
            T_below = T - (1 << j)  # magnitude pattern of theta - lambda (maybe +0, rank A)
            r_below = A + 1 + T_below if T_below else A
            check(r_peak in (r_theta, r_below, A), f"{f} theta={theta}: peak elsewhere (rank {r_peak})")
            below = g[r_below:R]
            if j + 1 < M and (T >> (j + 1)) & 1:
                check(float(g[r_theta]) > float(below.max()), f"{f} theta={theta}: (3) margin")
            if j + 1 < M and not (T >> (j + 1)) & 1:
                mu = sum((1 - 2 * ((T >> i) & 1)) * 2.0**-i for i in range(j + 1, M))
                e_t = T >> M
                if e_t and mu * 2**M > 2 * bin(e_t).count("1") + 0.5:
                    check(r_peak == r_below, f"{f} theta={theta}: (4) peak below theta")
            if r_peak != A:  # the larger candidate wins (exact comparison; ties -> smaller value)
                check(r_peak == (r_theta if g[r_theta] > g[r_below] else r_below), "candidate order")
            # heights are ~1/lambda: 2^-j/ulp <= S/ulp <= g at the candidates
            lam = 2.0**j * ulp
            check(float(g[r_theta]) >= (1 / lam if (T >> j) & 1 else 0), "height >= 1/lambda")
            check(float(g[r_below]) >= 1 / lam, "height >= 1/lambda below")
            where["at theta" if r_peak == r_theta else ("lsb below" if r_peak == r_below else "at 0")] += 1
        tally.add(f, thresholds=len(Ts), patterns=len(Ts) * fmt.n_ranks)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(where.items()))
    return tally.text(f"every positive threshold, all patterns (peak: {summary})")
