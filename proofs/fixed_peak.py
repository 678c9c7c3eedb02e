r"""Fixed-point peak: where the maximum of g sits, how high it is, and when it is NOT at theta.

**Theorem.**  Fixed point (``n`` bits, ``F`` fraction bits), secant convention, threshold rank
``0 < R < 2**n``, ``j = ctz(R)`` (trailing zeros) and ``lambda = 2**(j-F)`` (what ``R``'s lowest
set bit is worth).  Let ``M+ = {j} u {i > j : R_i = 1}`` and ``M- = {j} u {i > j : R_i = 0}``
(bits below ``n``).

1. No mask contains a bit below ``j``; bit ``j`` is in the mask exactly on the ranks
   ``[R - 2**j, R + 2**j)``, where the mask is ``M-`` on ``[R - 2**j, R)`` and ``M+`` on
   ``[R, R + 2**j)``: ``g`` is flat on both runs.
2. ``g_max = 2**F max(sum_{M+} 2**-i, sum_{M-} 2**-i)``, and ``1/lambda <= g_max < 2/lambda``.
3. The peak (smallest value with ``g = g_max``) is at rank ``R`` -- the threshold itself for
   ``ge`` -- iff ``R_{j+1} = 1``.  If ``R_{j+1} = 0`` (or ``j = n-1``, a tie) it is at rank
   ``R - 2**j``, i.e. at ``theta - lambda``, and ``g`` keeps its maximum on the whole run
   ``[theta - lambda, theta)``.

For comparator ``ge`` and two's complement, ``R = T + 2**(n-1)`` with ``T = theta 2**F``, so
(for ``j + 1 < n - 1``) the peak is at theta iff the odd part of ``T`` is ``3 mod 4``.  Every
positive power of two (``T = 2**p``, ``p <= n-3``) has odd part 1: its peak is at 0 and
``g`` is flat on ``[0, theta)`` -- a plateau as wide as the threshold, not a spike at it.

*Proof.*  ``g(b) = 2**F sum_{i in m(b)} 2**-i``, so ``g`` orders masks like the binary
fractions ``sum 2**-i`` (lexicographically from the lowest bit).  (1) follows from
:mod:`~boolgrad.proofs.straddle_blocks` with ``c = R``: ``S(i, R)`` is empty for ``i < j``
(``rho = 0``) and for ``i = j`` it is ``[R - 2**j, R + 2**j)``.  The masks on the two runs:
for ``r = R + d``, ``0 <= d < 2**j``, bit ``i`` is in the mask iff ``r_i = 1`` and
``r - 2**i < R``, i.e. ``i >= j`` and ``R_i = 1``; symmetrically below.  (2)-(3): the
difference ``sum_{M+} - sum_{M-} = sum_{i>j} (2 R_i - 1) 2**-i`` has the sign of its first
term because the tail is at most ``2**-(j+1) - 2**(1-n) < 2**-(j+1)``; any mask without bit
``j`` sums to at most ``2**-j - 2**(1-n) < 2**-j``.
"""

from __future__ import annotations

import numpy as np

from ._common import Tally, check, ctz, enum, finite_thresholds, is_zero, positive, positive_on_box

TITLE = "peak at theta iff bit j+1 of R is 1 (j = ctz R); height in [1/lsb, 2/lsb)"


def predicted(n: int, F: int, R: int) -> tuple[float, int]:
    """``(g_max, peak_rank)`` of the theorem (``0 < R < 2**n``)."""
    j = ctz(R)
    plus = [j] + [i for i in range(j + 1, n) if (R >> i) & 1]
    minus = [j] + [i for i in range(j + 1, n) if not (R >> i) & 1]
    sp_, sm = sum(2.0 ** (F - i) for i in plus), sum(2.0 ** (F - i) for i in minus)
    return max(sp_, sm), (R if sp_ > sm else R - (1 << j))


def symbolic() -> str:
    import sympy as sp

    j, i, k, d, t = sp.symbols("j i k d t", integer=True, nonnegative=True)
    n = j + 2 + k  # bits j+1 .. n-1 exist
    tail = sp.summation(2**-i, (i, j + 2, n - 1))
    check(is_zero(tail - (2 ** -(j + 1) - 2 ** (1 - n))), "tail sum")
    check(positive(2 ** -(j + 1) - tail), "first differing bit dominates the tail")
    without_j = sp.summation(2**-i, (i, j + 1, n - 1))
    check(positive(2**-j - without_j), "a mask without bit j is below any mask with it")
    with_all = sp.summation(2**-i, (i, j, n - 1))
    check(positive(2 ** (1 - j) - with_all), "g_max < 2/lambda")
    # masks on the runs.  Above: r = R + d (0 <= d < 2^j); a set bit i >= j of r flips down to
    # r - 2^i < R  <=>  2^i - d > 0.  Below: r = R - 1 - d; a clear bit i >= j of r flips up to
    # r + 2^i >= R  <=>  2^i - d > 0.  (Bits i < j of r are those of d, resp. of its complement,
    # and flipping them keeps r within [R, R + 2^j), resp. [R - 2^j, R): no crossing.)
    box = {d: (0, 2**j - 1)}
    check(positive_on_box(2 ** (j + t) - d, box), "bits i >= j cross R on both runs")
    return "tail < first bit (summation), masks without j < 2^-j, g_max < 2^(1-j); run masks by inequalities"


def numeric(include_slow: bool = False) -> str:
    tally = Tally()
    for W in range(2, 10 if include_slow else 8):
        for signed in (True, False):
            for F in (-1, W // 2):
                fmt = f"{'' if signed else 'u'}fixed{W}.{F}"
                ths = finite_thresholds(fmt)
                for th in ths:
                    for comp in ("ge", "gt"):
                        e = enum(fmt, th, comparator=comp)
                        R = e.spec.threshold.rank
                        if not 0 < R < (1 << W):
                            check(not e.g.any(), f"{fmt} theta={th}: g = 0 when R is 0 or 2^n")
                            continue
                        g_max, r_peak = predicted(W, F, R)
                        got_r = int(np.flatnonzero(e.g == e.g.max())[0])
                        check(float(e.g.max()) == g_max, f"{fmt} theta={th} {comp}: height")
                        check(got_r == r_peak, f"{fmt} theta={th} {comp}: peak rank {got_r} != {r_peak}")
                        j = ctz(R)
                        lam = 2.0 ** (j - F)
                        check(1 / lam <= g_max < 2 / lam, "bounds")
                        flat = e.g[R - (1 << j) : R]
                        check(bool((flat == flat[0]).all()), "flat below")
                        T = round(th * 2**F)
                        if comp == "ge" and signed and T > 0 and T & (T - 1) == 0 and T.bit_length() <= W - 2:
                            check(got_r == R - (1 << j) and e.values[got_r] == th - lam, "2^k: peak at theta - lambda")
                tally.add(fmt, thresholds=2 * len(ths), patterns=2 * len(ths) << W)
    return tally.text("peak height and location vs every pattern's g")
