r"""Fixed-point area: not 1, and it grows with the word length.  The gradient is delta-LIKE.

**Theorem.**  For an ``n``-bit fixed-point format with ``F`` fraction bits and threshold rank
``R``, the area of spec §7, ``A = sum_b g(b) 2**-F``, is

    A_secant = sum_{i=0}^{n-1} N_i(R) 2**-i = sum_i 2**(1-i) dist(R, 2**(i+1) Z),

independent of ``F``; under the ``paper`` convention the two's-complement sign bit enters
with a minus sign (``- N_{n-1} 2**(1-n)``).  Consequences:

* **Power-of-two threshold** ``theta = 2**k`` (comparator ``ge``, ``p = k + F``):
  two's complement (``0 <= p <= n-2``): ``A = 6 - 3 * 2**(p+2-n)``; unsigned
  (``0 <= p <= n-1``): ``A = 4 - 2**(p+2-n)``; paper convention, two's complement:
  ``A = 2 - 2**(p+2-n)``.  Strictly increasing in ``n`` (by ``3 * 2**(p+1-n)`` per extra
  bit), never 1, tending to 6 (resp. 4).
* **Average over thresholds.**  Over all ``2**n`` threshold ranks the mean area is exactly
  ``n``: one unit per bit.  A generic threshold's area grows linearly with the word length.

*Proof.*  With the secant convention every term is ``1/|D_i| = 2**(F-i)`` (sign bit:
``|D| = 2**(n-1-F)``), so ``sum_b g(b) 2**-F = sum_i N_i 2**-i`` -- the ``2**F`` cancels.
Insert :mod:`~boolgrad.proofs.per_bit_count`.  For ``T = 2**p``: ``dist(2**p, 2**(i+1) Z)`` is
``0`` for ``i < p`` and ``2**p`` for ``i >= p``; the sign bit has ``N = 2**n - 2**(p+1)``;
sum the geometric series.  The mean uses ``E_R[N_i] = 2**i``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ._common import Tally, check, enum, finite_thresholds, is_zero, positive
from .per_bit_count import count_formula

TITLE = "area = sum_i N_i 2^-i; theta=2^k: 6 - 3*2^(p+2-n); mean over thresholds = n"


def area_formula(n: int, R: int, signed: bool, paper: bool = False) -> Fraction:
    total = Fraction(0)
    for i in range(n):
        term = Fraction(count_formula(n, R, i), 2**i)
        total += -term if (paper and signed and i == n - 1) else term
    return total


def symbolic() -> str:
    import sympy as sp

    i, p, d = sp.symbols("i p d", integer=True, nonnegative=True)
    F = sp.Symbol("F", integer=True)
    N = sp.Function("N")  # N_i, the per-bit count
    # secant: each mask bit i adds 1/|D_i| = 2^(F-i); the area weighs every pattern by 2^-F
    check(is_zero(2**-F * N(i) * 2 ** (F - i) - N(i) * 2**-i), "area = sum_i N_i 2^-i, F cancels")
    n = p + 2 + d  # two's complement: p <= n - 2
    dist = sp.Piecewise((0, i < p), (2**p, True))  # dist(2^p, 2^(i+1) Z)
    check(is_zero(sp.piecewise_fold(2 * dist).subs(i, p + d) - 2 ** (p + 1)), "N_i = 2^(p+1) for i >= p")
    mag = sp.summation(2 ** (p + 1) * 2**-i, (i, p, n - 2))  # bits p .. n-2
    sign = (2**n - 2 ** (p + 1)) / 2 ** (n - 1)
    A = sp.simplify(mag + sign)
    check(is_zero(A - (6 - 3 * 2 ** (p + 2 - n))), "two's complement: A = 6 - 3*2^(p+2-n)")
    check(is_zero(sp.simplify(mag - sign) - (2 - 2 ** (p + 2 - n))), "paper: A = 2 - 2^(p+2-n)")
    nu = p + 1 + d  # unsigned: p <= n - 1
    Au = sp.simplify(sp.summation(2 ** (p + 1) * 2**-i, (i, p, nu - 1)))
    check(is_zero(Au - (4 - 2 ** (p + 2 - nu))), "unsigned: A = 4 - 2^(p+2-n)")
    # growth: A(n+1) - A(n) > 0 and the limit
    nn = sp.Symbol("n", integer=True, positive=True)
    An = 6 - 3 * 2 ** (p + 2 - nn)
    check(positive(An.subs(nn, nn + 1) - An), "A increases with n")
    check(sp.limit(An, nn, sp.oo) == 6, "A -> 6")
    check(positive(An.subs(nn, p + 2 + d) - 1), "A > 1 for every n >= p + 2")
    # mean over thresholds: sum_i E[N_i] 2^-i = sum_i 2^i 2^-i = n
    check(is_zero(sp.summation(2**i * 2**-i, (i, 0, nn - 1)) - nn), "mean area = n")
    return "F cancels; geometric sums for theta=2^k (signed, unsigned, paper), monotone in n with limit 6 > 1; mean = n"


def _enum_area(fmt: str, theta: float, **opts) -> Fraction:
    e = enum(fmt, theta, **opts)
    return Fraction(math.fsum(e.g)) * Fraction(2) ** -e.spec.fmt.frac  # dyadic: fsum exact


def numeric(include_slow: bool = False) -> str:
    tally = Tally()
    # every threshold of small formats: the general formula and the mean
    for W in range(1, 9 if include_slow else 7):
        for signed in (True, False):
            F = W // 3
            fmt = f"{'' if signed else 'u'}fixed{W}.{F}"
            ths = finite_thresholds(fmt)
            mean = Fraction(0)
            for th in ths:
                for conv in ("secant", "paper"):
                    e = enum(fmt, th, convention=conv)
                    got = Fraction(math.fsum(e.g)) * Fraction(2) ** -F
                    want = area_formula(W, e.spec.threshold.rank, signed, paper=conv == "paper")
                    check(got == want, f"{fmt} theta={th} {conv}: area {got} != {want}")
                    if conv == "secant":
                        mean += got
            check(mean / len(ths) == W, f"{fmt}: mean area {mean / len(ths)} != {W}")
            tally.add(fmt, thresholds=2 * len(ths), patterns=2 * len(ths) << W)
    # powers of two: the closed form in n and p, over a range of word lengths
    for W in range(2, 15 if include_slow else 12):
        for F in (0, 3):
            for k in range(-F, W - 1 - F):  # p = k + F in 0 .. W-2
                p = k + F
                got = _enum_area(f"fixed{W}.{F}", 2.0**k)
                check(got == 6 - Fraction(3) * Fraction(2) ** (p + 2 - W), f"fixed{W}.{F} theta=2^{k}")
                got = _enum_area(f"fixed{W}.{F}", 2.0**k, convention="paper")
                check(got == 2 - Fraction(2) ** (p + 2 - W), f"fixed{W}.{F} theta=2^{k} paper")
                got = _enum_area(f"ufixed{W}.{F}", 2.0**k)
                check(got == 4 - Fraction(2) ** (p + 2 - W), f"ufixed{W}.{F} theta=2^{k}")
                tally.add(f"fixed{W}.{F}", thresholds=3, patterns=3 << W)
    return tally.text("sum_b g(b) 2^-F by enumeration (exact), every threshold W<=6 + theta=2^k W<=11")
