r"""Threshold derivative: it is the u-derivative with the roles of u and theta swapped.

**Theorem.**  Any format; ``u`` a non-NaN pattern, ``t`` the threshold's pattern (both
finite-valued where a threshold is needed), ``X`` the excluded bits.  Write ``g^theta_ge(u; t)``
for the ``wrt="theta"`` gradient of the spike ``[u >= v(t)]`` at ``u``, and ``g^u_gt(t; v(u))``
for the ``wrt="u"`` gradient of the spike ``[x > v(u)]`` evaluated at the pattern ``x = t``.
Then, for every bit ``j`` whose flip of ``t`` is not NaN,

    chi^theta_j(u; t) = chi^u_j(t; [x > v(u)])           (masks agree)

and, summing over the bits (the NaN flips contribute 0 on both sides),

    g^theta_ge(u; t) = - g^u_gt(t; v(u))   (secant),     g^theta_ge(u; t) = + g^u_gt(t; v(u))   (paper),

and the same with ``ge`` and ``gt`` exchanged.  So every statement about the ``u``-gradient
transfers to the threshold: the secant theta-gradient is ``<= 0``; its mask is the ``u``-mask of
the threshold with the threshold rank set just above ``u``; for fixed point, flipping bit ``j``
of ``t`` moves the threshold rank by ``2**j``, so ``g^theta`` is a sum of boxes
``-2**(F-j) [rank(u) in [R(t & ~2**j), R(t | 2**j))]`` of widths ``2**j``.

*Proof.*  For non-NaN values ``[u >= t] = 1 - [t > u]`` (trichotomy).  A Boolean derivative
is unchanged by complementing the function (``a XOR b = (not a) XOR (not b)``), so the masks
agree; both sides use the same weights ``D_j(t)``, and the secant numerator changes sign:
``(s(t|2**j) - s(t&~2**j)) = -((1 - s)(t|2**j) - (1 - s)(t&~2**j))``.  A NaN ``t'`` breaks
trichotomy, but its weight is NaN, so its term is 0 on both sides.
"""

from __future__ import annotations

import numpy as np

from ._common import Tally, check, finite_thresholds, is_zero

TITLE = "g_theta(u; t) = -g_u(t; threshold u, swapped comparator) (secant), masks equal"

_SWAP = {"ge": "gt", "gt": "ge"}


def symbolic() -> str:
    import sympy as sp
    from sympy.logic.boolalg import Equivalent, Not, Xor

    u, t = sp.symbols("u t", real=True)
    # trichotomy on the reals: [u >= t] + [t > u] = 1
    ind = sp.Piecewise((1, u >= t), (0, True)) + sp.Piecewise((1, t > u), (0, True))
    check(sp.simplify(sp.piecewise_fold(ind)) == 1, "[u >= t] = 1 - [t > u]")
    ind = sp.Piecewise((1, u > t), (0, True)) + sp.Piecewise((1, t >= u), (0, True))
    check(sp.simplify(sp.piecewise_fold(ind)) == 1, "[u > t] = 1 - [t >= u]")
    # complementing does not change a Boolean derivative
    a, b = sp.symbols("a b")
    check(sp.satisfiable(Not(Equivalent(Xor(a, b), Xor(Not(a), Not(b))))) is False, "chi(not s) = chi(s)")
    # the secant term changes sign, the paper term does not depend on s
    s_hi, s_lo, D = sp.symbols("s_hi s_lo D", nonzero=True)
    dual = ((1 - s_hi) - (1 - s_lo)) / D
    check(is_zero(dual + (s_hi - s_lo) / D), "secant: c_dual = -c")
    # fixed point: flipping bit j of t moves the threshold rank by 2^j (ranks are t XOR const)
    r, j = sp.symbols("r j", integer=True, nonnegative=True)
    check(is_zero((r + 2**j) - r - 2**j), "box width 2^j")
    return "trichotomy (piecewise_fold), chi invariant under complement (SAT), secant sign flip"


def numeric(include_slow: bool = False) -> str:
    import boolgrad as bg
    from boolgrad.formats import parse_format

    tally = Tally()
    fmts = ["e2m2", "e3m1fn", "fixed4.1", "ufixed4.0", "e2m1"]
    if include_slow:
        fmts += ["e3m2", "float8_e4m3fn", "fixed6.2"]
    for f in fmts:
        fmt = parse_format(f)
        pats = np.arange(fmt.n_patterns, dtype=np.uint64)
        with np.errstate(over="ignore"):
            vals = fmt.decode(pats)
        us = [int(p) for p, v in zip(pats, vals) if np.isfinite(v)]
        ths = finite_thresholds(f)
        for comp in ("ge", "gt"):
            for conv in ("secant", "paper"):
                sign = -1.0 if conv == "secant" else 1.0
                # left: theta-gradient, one spec per threshold, at every u
                lhs, tpats = [], []
                for th in ths:
                    spec = bg.make_spec(fmt, th, comparator=comp, convention=conv, wrt="theta")
                    with np.errstate(all="ignore"):
                        lhs.append(bg.gradient_from_spec(spec, np.asarray(us, dtype=np.uint64)))
                    tpats.append(spec.threshold.pattern)
                tarr = np.asarray(tpats, dtype=np.uint64)
                nan_bits = [sum(1 << j for j in range(fmt.bits) if fmt.is_nan_pattern(t ^ (1 << j))) for t in tpats]
                # right: u-gradient of [x > v(u)] (swapped comparator), one spec per u, at every t
                for k, u in enumerate(us):
                    dual = bg.make_spec(fmt, float(vals[u]), comparator=_SWAP[comp], convention=conv)
                    with np.errstate(all="ignore"):
                        rhs = bg.gradient_from_spec(dual, tarr)
                    for n_t, th in enumerate(ths):
                        ml, mr = int(lhs[n_t].mask[k]), int(rhs.mask[n_t])
                        nb = nan_bits[n_t]
                        check((ml & ~nb) == (mr & ~nb), f"{f} t={th} u={vals[u]} {comp}: masks")
                        gl, gr = float(lhs[n_t].g[k]), float(rhs.g[n_t])
                        check(gl == sign * gr or (np.isnan(gl) and np.isnan(gr)),
                              f"{f} t={th} u={vals[u]} {comp} {conv}: g {gl} vs {gr}")
                        tally.cases += 1
        tally.add(f, thresholds=4 * len(ths), patterns=4 * len(ths) * len(us))
    return tally.text("every (u, t) pair: mask and g, both comparators and conventions")
