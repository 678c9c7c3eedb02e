"""Area and peak of a gradient table without visiting every pattern (spec §7).

Within a run the mask is fixed, so ``g`` only changes through the bit weights ``D_i``:

* fixed point (any ``wrt``) and ``wrt="theta"``: every ``D_i`` is constant, so ``g`` is
  constant on a run; the area is ``g`` times the run's width.
* floating point, ``wrt="u"``: split a run into *segments* of one sign and one exponent
  field ``e``.  With ``m`` the mantissa field, ``q = max(e, 1) - bias - M`` and
  ``c0 = 2**M`` (normal) or ``0`` (subnormal), ``|v| = (c0 + m) 2**q`` and every weight is
  affine in ``m``: a mantissa bit ``i`` adds ``2**(i+q)``; the sign bit ``-2 |v|``; an
  exponent bit ``j`` moves between fields ``e_lo``/``e_hi`` and adds
  ``alpha + beta m`` with ``alpha = c0(e_hi) 2**q(e_hi) - c0(e_lo) 2**q(e_lo)`` and
  ``beta = 2**q(e_hi) - 2**q(e_lo)``.  Hence on a segment

      g(m) = C + sum_k w_k / (m + x_k)          (x_k = alpha_k / beta_k > -m)

  and the left Riemann sum over the segment's inside (spacing ``2**q``) is
  ``2**q (C n + sum_k w_k (psi(a + x_k + n) - psi(a + x_k)))``.  Segment ends, ``+-0``,
  infinities and the NaN neighbours of the ``fn`` top binade are evaluated directly with
  :func:`boolgrad.gradient.sum_terms`.

Peak: with the secant convention every ``w_k > 0``, so ``g`` falls with ``|v|`` on a
segment and the maximum is at a segment end; with the paper convention (terms of both
signs) interior critical points are searched as well.  Both are checked against brute force
on every pattern of small formats in the tests.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .binades import magnitude_rank, run_segments, segment_terms
from .gradient import exact_g, sum_terms

__all__ = ["area_and_peak", "recip_sum"]


def recip_sum(y: float, n: int) -> float:
    """``sum_{k=0}^{n-1} 1 / (y + k)`` for ``y > 0`` (digamma difference, ~1e-16 relative)."""
    if n <= 0:
        return 0.0
    head = 0.0
    if n <= (1 << 14) or y < 4096.0:
        k = n if n <= (1 << 14) else min(n, math.ceil(4096.0 - y))
        head = math.fsum(1.0 / (y + np.arange(k, dtype=np.float64)))
        y, n = y + k, n - k
        if n == 0:
            return head
    z = y + n
    # psi(z) = ln z - 1/(2z) - 1/(12 z^2) + 1/(120 z^4) - 1/(252 z^6) + O(z^-8), z >= 4096
    tail = (
        math.log1p(n / y)
        - (0.5 / z - 0.5 / y)
        - (1 / (12 * z * z) - 1 / (12 * y * y))
        + (1 / (120 * z**4) - 1 / (120 * y**4))
        - (1 / (252 * z**6) - 1 / (252 * y**6))
    )
    return head + tail


def g_at_ranks(table, ranks, run_idx):
    """Exact ``g`` at the given ranks (numpy arrays), reading masks from their runs."""
    fmt, spec = table.fmt, table.spec
    ranks = np.asarray(ranks, dtype=np.uint64)
    b = fmt.pattern_at_rank(ranks)
    g, _, _, _ = sum_terms(spec, b, table.mask[np.asarray(run_idx, dtype=np.int64)])
    return g


def g_exact(table, g: float, rank: int, run: int) -> Fraction:
    """``g`` as a fraction: the float itself, or the exact sum where it overflowed."""
    if math.isfinite(g):
        return Fraction(float(g))
    fmt = table.fmt
    pattern = int(fmt.pattern_at_rank(np.asarray([rank], dtype=np.uint64))[0])
    return exact_g(table.spec, pattern, int(table.mask[run]))


def _exact(fmt, rank: int):
    return fmt.exact_value(int(fmt.pattern_at_rank(np.asarray([rank], dtype=np.uint64))[0]))


def _pick_peak(table, g, ranks, *, lowest: bool = False):
    """``(g*, value)``: the largest (or smallest) ``g`` and the smallest value where it occurs."""
    g = np.asarray(g, dtype=np.float64)
    best = g.min() if lowest else g.max()
    r = int(np.asarray(ranks, dtype=np.uint64)[g == best].min())
    fmt = table.fmt
    return float(best), float(fmt.decode(fmt.pattern_at_rank(np.asarray([r], dtype=np.uint64)))[0])


def _constant_runs(table):
    """Area and peak when ``g`` is constant on each run (fixed point, or wrt theta)."""
    fmt = table.fmt
    first_r = table.first_rank
    last_r = first_r + table.counts - np.uint64(1)
    g = g_at_ranks(table, first_r, np.arange(table.n_runs))
    total = Fraction(0)
    if fmt.kind == "fixed":
        step = Fraction(2) ** -fmt.frac
        for k, (gr, c, r0) in enumerate(zip(g, table.counts, first_r)):
            total += g_exact(table, gr, r0, k) * int(c) * step
    else:
        f_lo, f_hi = fmt.finite_ranks
        for k, (gr, r0, r1) in enumerate(zip(g, first_r, last_r)):
            lo, hi = max(int(r0), f_lo), min(int(r1), f_hi - 1)  # pairs (b, next(b)) finite
            if gr != 0 and lo <= hi:
                total += g_exact(table, gr, r0, k) * (_exact(fmt, hi + 1) - _exact(fmt, lo))
    return float(total), _pick_peak(table, g, first_r), _pick_peak(table, g, first_r, lowest=True)


def _interior_peaks(terms, a: int, b: int) -> list[int]:
    """Integer maximisers of ``sum w/(m+x)`` inside ``[a, b]`` when terms have both signs."""
    ws = [float(w) for w, _ in terms]
    if len({float(x) for _, x in terms}) <= 1 or min(ws) > 0 or max(ws) < 0:
        return []  # monotone on the segment: its ends suffice

    def h(m):
        m = np.asarray(m, dtype=np.float64)
        return sum(float(w) / (m + float(x)) for w, x in terms)

    grid = np.unique(np.round(np.concatenate([np.linspace(a, b, 257), a - 1 + np.geomspace(1, b - a + 1, 257)])))
    grid = grid[(grid >= a) & (grid <= b)].astype(np.int64)
    hv = h(grid)
    out = []
    for k in range(1, len(grid) - 1):
        if hv[k] >= hv[k - 1] and hv[k] >= hv[k + 1]:
            lo, hi = int(grid[k - 1]), int(grid[k + 1])
            while hi - lo > 2:  # ternary search on integers (h is unimodal near a grid peak)
                m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
                if h(m1) < h(m2):
                    lo = m1
                else:
                    hi = m2
            out.extend(range(lo, hi + 1))
    return out


def _float_u(table):
    """Area and peak for floating point, ``wrt="u"`` (module doc)."""
    fmt, spec = table.fmt, table.spec
    M = fmt.man_bits
    xmask = sum(1 << i for i in spec.excluded)
    top = (1 << fmt.exp_bits) - 1
    f_lo, f_hi = fmt.finite_ranks

    def rank_of(sign, e, m):
        return magnitude_rank(fmt, sign, (e << M) | m)

    direct, extra, closed = [], [], []  # (rank, run): area + peak / peak only
    first_r = table.first_rank
    last_r = first_r + table.counts - np.uint64(1)
    for k in range(table.n_runs):
        r0, r1, mask = int(first_r[k]), int(last_r[k]), int(table.mask[k])
        if not mask & ~xmask:
            extra.append((r0, k))  # g = 0 on the whole run
            continue
        for sign, e, m_lo, m_hi in run_segments(fmt, r0, r1):
            special = {m_lo, m_hi, (1 << M) - 1}
            if fmt.variant == "fn" and e == top:  # flips onto the NaN pattern
                special |= {((1 << M) - 1) ^ (1 << i) for i in range(M)}
            special = sorted(m for m in special if m_lo <= m <= m_hi)
            direct.extend((rank_of(sign, e, m), k) for m in special)
            q, C, terms = segment_terms(spec, mask, sign, e)
            # g * ulp: C and w alone can exceed float64 (subnormal weights), g * ulp cannot
            ulp = Fraction(2) ** q
            C, terms = C * ulp, [(w * ulp, x) for w, x in terms]
            for a, b in zip(special[:-1], special[1:]):
                if b - a < 2:
                    continue
                a, b = a + 1, b - 1
                closed.append((C, terms, a, b - a + 1))
                extra.extend((rank_of(sign, e, m), k) for m in {a, b, *_interior_peaks(terms, a, b)})
    # inside of segments in closed form: sum of g * spacing, the spacing being one ulp
    parts = []
    for C, terms, a, n in closed:
        parts.append(float(C) * n + sum(float(w) * recip_sum(a + float(x), n) for w, x in terms))
    # segment ends and special points: g times the exact spacing to the next value
    d_rank = np.asarray([r for r, _ in direct], dtype=np.uint64)
    d_g = g_at_ranks(table, d_rank, [k for _, k in direct])
    for gi, (r, k) in zip(d_g, direct):
        if gi != 0 and f_lo <= r < f_hi:
            parts.append(float(g_exact(table, gi, r, k) * (_exact(fmt, r + 1) - _exact(fmt, r))))
    e_rank = np.asarray([r for r, _ in extra], dtype=np.uint64)
    e_g = g_at_ranks(table, e_rank, [k for _, k in extra])
    peak = _pick_peak(table, np.concatenate([d_g, e_g]), np.concatenate([d_rank, e_rank]))
    return math.fsum(parts), peak, None


def area_and_peak(table):
    """``(area, (g_max, at), (g_min, at) or None)`` of a :class:`~boolgrad.table.GradientTable`.

    The minimum (a threshold gradient's most negative value) is found where ``g`` is constant
    on runs (fixed point, ``wrt="theta"``); ``None`` for floats with ``wrt="u"``.
    """
    if table.fmt.constant_weights or table.spec.wrt == "theta":
        return _constant_runs(table)
    return _float_u(table)
