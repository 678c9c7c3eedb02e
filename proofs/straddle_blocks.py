r"""Straddle blocks: where flipping one bit crosses a step.

**Theorem.**  Let ``n >= 1``, ``0 <= i < n``, ``0 <= c <= 2**n`` and write
``c = H 2**(i+1) + beta 2**i + L`` with ``beta in {0, 1}`` and ``0 <= L < 2**i``.  The set

    S(i, c) = { x in [0, 2**n) : [x >= c] != [x XOR 2**i >= c] }

is the union of two blocks of ``2**i``-aligned integers:

* ``beta = 1``:  ``[H 2**(i+1) + L, H 2**(i+1) + 2**i)  u  [H 2**(i+1) + 2**i + L, (H+1) 2**(i+1))``
* ``beta = 0``:  ``[H 2**(i+1), H 2**(i+1) + L)         u  [H 2**(i+1) + 2**i, H 2**(i+1) + 2**i + L)``

and ``|S(i, c)| = 2 min(rho, 2**(i+1) - rho)`` with ``rho = c mod 2**(i+1)``: twice the
distance from ``c`` to the nearest multiple of ``2**(i+1)``.

**Corollary (the closed-form table).**  In every format the firing set
``U = {b : rank(b) >= R, b not NaN}`` is a union of at most two pattern intervals, i.e. a XOR
of steps ``[b >= c]`` over at most four toggle points ``c``; since XOR distributes,
``chi_i(b) = XOR_c [b in S(i, c)]``.  That is exactly what
:func:`boolgrad.builders.closed_form.closed_form_table` computes.

*Proof.*  Write ``x = X 2**(i+1) + gamma 2**i + l``; its partner ``x XOR 2**i`` differs only
in ``gamma``.  If ``X > H`` both are ``>= c`` and if ``X < H`` both are ``< c`` (checked
below with slack variables).  If ``X = H``: for ``beta = 1`` the member with ``gamma = 0`` is
``< c`` and the one with ``gamma = 1`` is ``>= c`` iff ``l >= L``; for ``beta = 0`` the member
with ``gamma = 1`` is ``>= c`` and the other one iff ``l >= L``.  Counting ``l`` gives the size.
"""

from __future__ import annotations

import numpy as np

from ._common import Tally, check, is_zero, positive_on_box

TITLE = "one-bit flips cross a step c on two blocks fixed by c's bits above i"


def symbolic() -> str:
    import sympy as sp

    i, H, L, l, a = sp.symbols("i H L l a", integer=True, nonnegative=True)
    Lp = sp.Symbol("Lp", integer=True, nonnegative=True)  # L = 2**i - 1 - Lp
    blk, half = 2 ** (i + 1), 2**i
    box = {L: (0, half - 1), l: (0, half - 1)}  # the low parts of c and of x
    for beta in (0, 1):
        c = H * blk + beta * half + L
        # X = H + 1 + a > H: the smaller member X 2**(i+1) + l is already >= c
        low_above = (H + 1 + a) * blk + l
        check(positive_on_box(low_above - c + 1, box), f"beta={beta}: blocks above H fire")
        # X = H - 1 - a < H: the larger member X 2**(i+1) + 2**i + l is still < c
        high_below = (H - 1 - a) * blk + half + l
        check(positive_on_box(c - high_below, box), f"beta={beta}: blocks below H are quiet")
        # X = H: which member fires
        lo_member, hi_member = H * blk + l, H * blk + half + l
        if beta:
            check(positive_on_box(c - lo_member, box), "beta=1: gamma=0 member is quiet")
            check(is_zero((hi_member - c) - (l - L)), "beta=1: gamma=1 member fires iff l >= L")
        else:
            check(positive_on_box(hi_member - c + 1, box), "beta=0: gamma=1 member fires")
            check(is_zero((lo_member - c) - (l - L)), "beta=0: gamma=0 member fires iff l >= L")
    # X = H, count the straddling l in both cases and compare with 2 dist(c, 2**(i+1) Z)
    for beta in (0, 1):
        rho = beta * half + L
        if beta:
            count = 2 * sp.summation(1, (l, L, half - 1))  # l >= L, both gammas
        else:
            count = 2 * sp.summation(1, (l, 0, L - 1))  # l < L, both gammas
        claimed = 2 * sp.Min(rho, blk - rho)
        claimed = claimed.subs(L, half - 1 - Lp)
        check(is_zero(count.subs(L, half - 1 - Lp) - claimed), f"beta={beta}: |S| = 2 dist(c, 2^(i+1) Z)")
    # a piecewise form of the size, folded: it is the triangle wave in rho
    rho = sp.Symbol("rho", integer=True, nonnegative=True)
    size = sp.piecewise_fold(2 * sp.Piecewise((rho, rho <= half), (blk - rho, True)))
    check(is_zero(size.subs(rho, half) - 2 * half), "the triangle wave peaks at rho = 2^i with 2^(i+1)")
    return "side of x, x^2^i vs c in all (X vs H, beta) cases (affine, box corners); |S| = 2 min(rho, 2^(i+1)-rho)"


def numeric(include_slow: bool = False) -> str:
    from boolgrad import build_table
    from boolgrad.builders.closed_form import closed_form_table, straddle_toggles

    from ._common import finite_thresholds

    tally = Tally()
    for n in range(1, 11 if include_slow else 8):
        x = np.arange(1 << n, dtype=np.int64)
        for i in range(n):
            xf = x ^ (1 << i)
            for c in range((1 << n) + 1):
                brute = (x >= c) != (xf >= c)
                t0, t1, t2, t3 = straddle_toggles(c, i)
                formula = ((x >= t0) & (x < t1)) | ((x >= t2) & (x < t3))
                check(np.array_equal(brute, formula), f"n={n} i={i} c={c}")
                check(int(brute.sum()) == 2 * min(c % (2 << i), (2 << i) - c % (2 << i)), f"size n={n} i={i} c={c}")
                tally.cases += 1
        tally.patterns += (1 << n) * n * ((1 << n) + 1)
    fmts = ["fixed5.1", "ufixed5.0", "e2m2", "e3m1fn"] + (["e3m3", "fixed7.2"] if include_slow else [])
    for f in fmts:
        ths = finite_thresholds(f)
        for th in ths:
            for comp in ("ge", "gt"):
                check(build_table(f, th, comparator=comp, device="cpu") == closed_form_table(f, th, comparator=comp),
                      f"corollary: closed form == enumeration for {f} theta={th} {comp}")
        tally.add(f, thresholds=2 * len(ths))
    return tally.text(f"all (n<={10 if include_slow else 7}, i, c) by brute force; corollary tables")
