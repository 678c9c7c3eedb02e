r"""Per-bit count: how many patterns of a fixed-point word have bit i in their mask.

**Theorem.**  Let an ``n``-bit fixed-point format (``fixed<n>.<F>`` or ``ufixed<n>.<F>``, any
``F``) have threshold rank ``R`` (``0 <= R <= 2**n``; spec §2).  Then for every bit ``i``

    N_i(R) = #{ b : chi_i(b) = 1 } = 2 dist(R, 2**(i+1) Z) = 2 min(rho, 2**(i+1) - rho),
    rho = R mod 2**(i+1),

independent of ``F``.  In terms of the threshold's integer ``T = theta / 2**-F`` (theta
representable; comparator ``ge``; for ``gt`` replace ``T`` by ``T + 1``):

* unsigned (``R = T``):         ``N_i = 2 dist(T, 2**(i+1) Z)`` for every bit;
* two's complement (``R = T + 2**(n-1)``): ``N_i = 2 dist(T, 2**(i+1) Z)`` for ``i < n-1``
  and ``N_{n-1} = 2**n - 2 |T|`` for the sign bit.

Averaged over the ``2**n`` thresholds ``R = 0 .. 2**n - 1``, ``N_i`` is exactly ``2**i``.

*Proof.*  The rank of a fixed-point pattern is ``b XOR k`` (``k = 0`` unsigned, ``2**(n-1)``
two's complement), so flipping bit ``i`` of ``b`` flips bit ``i`` of the rank and
``chi_i(b) = [r >= R] XOR [r XOR 2**i >= R]``: the rank set is ``S(i, R)`` of
:mod:`~boolgrad.proofs.straddle_blocks`, of size ``2 min(rho, 2**(i+1) - rho)``.  For
``i + 1 <= n - 1`` adding ``2**(n-1)`` does not change ``R mod 2**(i+1)``; for the sign bit
``dist(T + 2**(n-1), 2**n Z) = 2**(n-1) - |T|`` for ``-2**(n-1) <= T < 2**(n-1)``.
"""

from __future__ import annotations

import numpy as np

from ._common import Tally, check, enum, finite_thresholds, is_zero

TITLE = "N_i = 2 dist(R, 2^(i+1) Z): a triangle wave in the threshold"


def count_formula(n: int, R: int, i: int) -> int:
    """``N_i(R)`` of the theorem."""
    rho = R % (2 << i)
    return 2 * min(rho, (2 << i) - rho)


def symbolic() -> str:
    import sympy as sp

    i, s, Q, rho = sp.symbols("i s Q rho", integer=True, nonnegative=True)
    T = sp.Symbol("T", integer=True)
    blk = 2 ** (i + 1)
    # two's complement, i + 1 <= n - 1: write n - 1 = i + 1 + s, T = Q 2**(i+1) + rho
    n = i + 2 + s
    shifted = Q * blk + rho + 2 ** (n - 1)
    quotient = sp.simplify((shifted - rho) / blk)
    check(quotient.is_integer is True, "R = T + 2^(n-1) has the same residue mod 2^(i+1) as T")
    # sign bit: dist(T + 2^(n-1), 2^n Z) = 2^(n-1) - |T| on [-2^(n-1), 2^(n-1))
    nn = sp.Symbol("n", integer=True, positive=True)
    half, full = 2 ** (nn - 1), 2**nn
    Rs = T + half
    dist = sp.Piecewise((Rs, Rs <= half), (full - Rs, True))
    claimed = half - sp.Abs(T)
    Tn = sp.Symbol("Tn", integer=True, nonnegative=True)  # T = -Tn <= 0
    Tp = sp.Symbol("Tp", integer=True, positive=True)  # T = Tp > 0
    check(is_zero((dist - claimed).subs(T, -Tn)), "sign bit, T <= 0")
    check(is_zero((dist - claimed).subs(T, Tp)), "sign bit, T > 0")
    # average over one period of R: sum_rho 2 min(rho, 2^(i+1) - rho) = 2^(i+1) * 2^i
    period = 2 * (sp.summation(rho, (rho, 0, 2**i)) + sp.summation(blk - rho, (rho, 2**i + 1, blk - 1)))
    check(is_zero(period / blk - 2**i), "mean of N_i over a period of R is 2^i")
    # the mean over R in [0, 2^n) equals the mean over one period: 2^n is a multiple of 2^(i+1)
    k = sp.Symbol("k", integer=True, nonnegative=True)  # n = i + 1 + k
    check(sp.simplify(2 ** (i + 1 + k) / blk).is_integer is True, "2^n is a whole number of periods")
    return "residue of T+2^(n-1) mod 2^(i+1); sign bit 2^n-2|T| (Piecewise, T<=0 / T>0); mean N_i = 2^i"


def numeric(include_slow: bool = False) -> str:
    tally = Tally()
    widths = range(1, 11 if include_slow else 8)
    for W in widths:
        for signed in (True, False):
            fmt = f"{'' if signed else 'u'}fixed{W}.{W // 2}"
            ths = finite_thresholds(fmt)
            total = np.zeros(W)
            for th in ths:
                for comp in ("ge", "gt"):
                    e = enum(fmt, th, comparator=comp)
                    R = e.spec.threshold.rank
                    T = round(th * 2 ** (W // 2)) + (comp == "gt")
                    for i in range(W):
                        got = int(((e.masks >> np.uint64(i)) & np.uint64(1)).sum())
                        check(got == count_formula(W, R, i), f"{fmt} theta={th} {comp} bit {i}")
                        if signed and i == W - 1:
                            want = (1 << W) - 2 * abs(T) if T < (1 << (W - 1)) else 0
                        else:
                            want = 2 * min(T % (2 << i), (2 << i) - T % (2 << i))
                        if not (not signed and T == (1 << W)):  # gt at the top: R = 2^n
                            check(got == want, f"{fmt} theta={th} {comp} bit {i}: T form")
                        if comp == "ge":
                            total[i] += got
            if len(ths) == 1 << W:  # every threshold rank 0..2^n-1 once (ge)
                check(np.array_equal(total / len(ths), 2.0 ** np.arange(W)), f"{fmt}: mean N_i = 2^i")
            tally.add(fmt, thresholds=2 * len(ths), patterns=2 * len(ths) << W)
    return tally.text(f"masks of every pattern, every threshold, W<={widths[-1]}")
