"""The numba loops of :mod:`.binary_product` (imported on first use: this module imports numba).

Arrays are C-contiguous, of one float dtype: ``x`` ``(K, R, n)``; each loop sums in blocks of
``L`` along the product's inner axis, each block from +0 in order, the first block's sum being
the output's and each later one added to it (the BLAS's order: :mod:`.binary_product`); a block
without a one adds +0, which changes nothing (a sum from +0 is never -0), so it is skipped.
Both return False, with ``out`` partly written, when ``x`` holds a value other than 0 and 1 or
the other operand a non-finite value (``cols`` checks the rows of ``g`` it skips, and its
result, which a non-finite value in a row it adds makes non-finite).  A row of ``x`` is read
64 entries at a time into a bit mask of its nonzero entries (a vectorised pass), whose set bits
are then walked in order.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from ..numba_cache import install as _race_free_cache

__all__ = ["cols", "rows"]

_race_free_cache()  # before anything here compiles (boolgrad.numba_cache)

_ONE = np.uint64(1)


@njit(cache=True, error_model="numpy")
def _finite(a) -> bool:
    flat = a.reshape(-1)
    bad = 0
    for j in range(flat.shape[0]):
        v = flat[j]
        bad |= v - v != 0  # inf - inf and NaN - NaN are NaN
    return bad == 0


@njit(cache=True, inline="always", error_model="numpy")
def _mask(xr, lo, hi):
    """``(bits, odd)``: bit ``i - lo`` set where ``xr[i] != 0`` for ``lo <= i < hi`` (at most
    64), and how many of those entries are not 1."""
    m = np.uint64(0)
    odd = 0
    for i in range(lo, hi):
        v = xr[i]
        m |= np.uint64(v != 0) << np.uint64(i - lo)
        odd += (v != 0) & (v != 1)
    return m, odd


@njit(cache=True, error_model="numpy")
def rows(x, w, out, L):
    """``out[k] = x[k] @ w[k]`` (``w`` ``(K, n, O)``, ``out`` ``(K, R, O)``)."""
    K, R, n = x.shape
    O = w.shape[2]
    if not _finite(w):
        return False
    nil = out.dtype.type(0)
    acc = np.zeros(O, dtype=out.dtype)
    for k in range(K):
        wk, xk, yk = w[k], x[k], out[k]
        for r in range(R):
            blk = -1  # the block being summed: 0 into y, a later one into acc
            for c0 in range(0, n, 64):
                m, odd = _mask(xk[r], c0, min(c0 + 64, n))
                if odd:
                    return False
                while m:
                    i = c0 + int(trailing_zeros(m))
                    m &= m - _ONE
                    b = i // L
                    if b == blk:  # (the study's inputs, n <= L: every one but the first)
                        if b == 0:
                            for o in range(O):
                                yk[r, o] = yk[r, o] + wk[i, o]
                        else:
                            for o in range(O):
                                acc[o] = acc[o] + wk[i, o]
                        continue
                    if blk < 0:  # the row's first one: its block's sum from +0 (0 + w: a -0 is +0)
                        for o in range(O):
                            yk[r, o] = nil + wk[i, o] if b == 0 else nil
                    elif blk > 0:
                        for o in range(O):
                            yk[r, o] = yk[r, o] + acc[o]
                    if b > 0:
                        for o in range(O):
                            acc[o] = nil + wk[i, o]
                    blk = b
            if blk < 0:
                for o in range(O):
                    yk[r, o] = nil
            elif blk > 0:
                for o in range(O):
                    yk[r, o] = yk[r, o] + acc[o]
    return True


@njit(cache=True, error_model="numpy")
def cols(x, g, out, L):
    """``out[k] = x[k]^T @ g[k]`` (``g`` ``(K, R, O)``, ``out`` ``(K, n, O)``): the sum over rows."""
    K, R, n = x.shape
    O = g.shape[2]
    acc = np.zeros((n, O), dtype=out.dtype)
    for k in range(K):
        xk, gk, y = x[k], g[k], out[k]
        y[:] = 0
        for s in range(0, R, L):
            a = y if s == 0 else acc
            if s:
                a[:] = 0
            for r in range(s, min(s + L, R)):
                ones = False
                for c0 in range(0, n, 64):
                    m, odd = _mask(xk[r], c0, min(c0 + 64, n))
                    if odd:
                        return False
                    ones |= m != 0
                    while m:
                        i = c0 + int(trailing_zeros(m))
                        m &= m - _ONE
                        for o in range(O):
                            a[i, o] = a[i, o] + gk[r, o]
                if not ones:  # a row without a one: its g still meets the BLAS's 0 (0 * inf: NaN)
                    bad = False
                    for o in range(O):
                        bad |= gk[r, o] - gk[r, o] != 0
                    if bad:
                        return False
            if s:
                for i in range(n):
                    for o in range(O):
                        y[i, o] = y[i, o] + acc[i, o]
        if not _finite(y):  # a non-finite g in a row that had a one (or an overflow): the dense product
            return False
    return True
