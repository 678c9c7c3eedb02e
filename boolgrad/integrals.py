"""Exact integrals of a table's ``g`` over value intervals: ``int_lo^hi h(g(u)) du``.

**The step function.**  A table gives ``g`` on patterns; on the reals it is read as the step
function of spec §7's area (the left Riemann sum): with the non-NaN patterns in value order
(spec §6; ``-0`` after ``+0``), pattern ``b`` of rank ``r`` holds on its *cell*
``[v(b), v(next(b)))``, so

    g(u) = g(b(u)),   b(u) = the last pattern in value order with v(b) <= u   (round DOWN),

and ``g(u) = 0`` outside the cells.  Fixed point: every pattern has a cell of width
``2**-F`` (the largest one too), domain ``[v_min, v_max + 2**-F)``.  Floating point: cells
between consecutive *finite* values only, domain ``[v_min, v_max)`` (the largest finite value
has no finite successor; infinities and NaN have no cell); ``+0``'s cell is empty, ``-0``'s is
``[0, v_min_subnormal)``.  Hence ``integral(table, -inf, inf) == table.area()`` (spec §7), and

    integral(lo, hi) = sum_b h(g(b)) |[v(b), v(next b)) ∩ [lo, hi]|,

``h(g) = g**p`` (``power=p``, 1 or 2) or ``min(g, G)**p`` (``clamp=G``).  ``hi < lo`` gives
``-integral(hi, lo)``.  :func:`step_gradient` evaluates this ``g(u)`` (for Monte Carlo).

**How.**  Fixed point (and ``wrt="theta"``): ``g`` is constant on a run, whose cells tile
``[v(first), v(last + 1))``: ``O(runs)`` exact products.  Floating point, ``wrt="u"``: per
run, per binade segment (:func:`boolgrad.binades.segment_terms`), ``g(m) = C + sum_k w_k /
(m + x_k)`` on the mantissa field ``m`` with cells of width ``2**q``.  Segment ends and the
``fn`` NaN neighbours are summed directly (exact spacing); the inside is
``sum_m h(g(m))`` over an integer range, split where ``g`` crosses ``G`` (roots of the
numerator polynomial, confirmed by bisection on integers, so both conventions work), each
piece constant ``G**p`` or ``g**p``, summed by :func:`power_sum`: directly where
``m + x_k < 4096`` (at most 4096 terms), else by Euler--Maclaurin to the ``B_6`` term with the
integral in closed form (``log1p`` forms; cross terms ``1/((m+x_j)(m+x_k))`` by partial
fractions written cancellation-free) -- remainder below ``1e-20`` relative.  Accuracy is that
of float64 evaluation (~``1e-15`` relative); tests compare with sums over every pattern.

**Two paths.**  :func:`integral_exact` does the above per call (exact rationals at the cells,
:func:`~boolgrad.integral_sums.power_sum` inside segments): the test oracle.  :func:`integral`
(the default, and ``GradientTable.integral``) evaluates the same closed forms in float64 from a
piece index cached per table (:mod:`boolgrad.integral_index`: whole pieces once, prefix sums, the
two cut pieces per window); :func:`integrals_many` takes arrays of windows.  They agree to
~``1e-12`` relative (tested on every small format and on sampled float32/float64 windows).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import pairwise

import numpy as np

from .binades import run_segments, segment_terms
from .integral_index import integrals_many
from .integral_sums import clamped_power, clamped_power_exact, power_sum
from .measures import g_at_ranks, g_exact

__all__ = ["integral", "integral_exact", "integrals_many", "power_sum", "step_gradient", "step_ranks"]


# -- the step function ----------------------------------------------------------------------------
def _cell_ranks(fmt) -> tuple[int, int]:
    """First and last rank that has a (non-empty or empty) cell."""
    if fmt.kind == "fixed":
        return 0, fmt.n_ranks - 1
    lo = 1 if fmt.has_inf else 0
    return lo, fmt.n_ranks - (3 if fmt.has_inf else 2)


def _v(fmt, r: int) -> Fraction:
    """Exact value at rank ``r``; for fixed point also ``r = n_ranks`` (one past the top)."""
    if fmt.kind == "fixed":
        return Fraction(fmt.int_min + r) * Fraction(2) ** -fmt.frac
    return fmt.exact_value(int(fmt.pattern_at_rank(np.asarray([r], dtype=np.uint64))[0]))


def _domain(fmt) -> tuple[float, float]:
    r0, r1 = _cell_ranks(fmt)
    return float(_v(fmt, r0)), float(_v(fmt, r1 + 1))


def step_ranks(fmt, u):
    """``(ranks, inside)``: rank of the pattern ``u`` rounds down to (module doc), and
    whether ``u`` lies in a cell (``ranks`` is meaningless where not)."""
    u = np.asarray(u, dtype=np.float64)
    d_lo, d_hi = _domain(fmt)
    inside = (u >= d_lo) & (u < d_hi)
    uc = np.clip(np.where(inside, u, d_lo), d_lo, d_hi)
    if fmt.kind == "fixed":
        k = np.floor(np.ldexp(uc, fmt.frac))
        k = np.clip(k, fmt.int_min, fmt.int_max)
        r = (
            np.array([int(x) - fmt.int_min for x in k.ravel()], dtype=np.uint64).reshape(u.shape)
            if fmt.width > 52
            else (k - fmt.int_min).astype(np.uint64)
        )
        return r, inside
    r = fmt.rank(fmt.encode(uc))  # uint64 (float64 ranks exceed int64)
    for _ in range(2):  # nearest may lie above u; +0/-0 share a value: step down twice at most
        v = fmt.decode(fmt.pattern_at_rank(r))
        r = r - (v > uc).astype(np.uint64)
    A = np.uint64(fmt.max_mag)
    r = np.where(r == A, A + np.uint64(1), r)  # u = 0 (or -0): the cell [0, ...) belongs to -0
    return r.astype(np.uint64), inside


def step_gradient(table, u):
    """The step function ``g(u)`` of the module doc (0 outside the cells), float64."""
    u = np.asarray(u, dtype=np.float64)
    r, inside = step_ranks(table.fmt, u)
    out = np.zeros(u.shape, dtype=np.float64)
    if inside.any():
        b = table.fmt.pattern_at_rank(r[inside])
        out[inside] = table.gradient(b, read_as="patterns")
    return out


# -- the integral ---------------------------------------------------------------------------------
def _points(table, ranks, runs, widths, power, clamp) -> list[float]:
    """``h(g) * width`` at single cells (exact ``g``, rounded once; overflow -> exact)."""
    if not ranks:
        return []
    g = g_at_ranks(table, np.asarray(ranks, dtype=np.uint64), runs)
    out = []
    for gi, r, k, wd in zip(g, ranks, runs, widths):
        if wd == 0:
            continue
        if math.isfinite(gi) and math.isfinite(float(clamped_power(gi, power, clamp)) * float(wd)):
            out.append(float(clamped_power(gi, power, clamp)) * float(wd))
        else:
            out.append(clamped_power_exact(g_exact(table, gi, r, k), Fraction(wd), power, clamp))
    return out


def _full_cells(table, ra: int, rb: int, power: int, clamp) -> list[float]:
    """Terms of ``sum h(g(b)) (v(next b) - v(b))`` over ranks ``ra..rb`` (every cell whole)."""
    fmt, spec = table.fmt, table.spec
    starts = table.first_rank
    ends = starts + table.counts - np.uint64(1)
    k0 = int(np.searchsorted(starts, np.uint64(ra), side="right")) - 1
    k1 = int(np.searchsorted(starts, np.uint64(rb), side="right")) - 1
    parts: list[float] = []
    if fmt.kind == "fixed" or spec.wrt == "theta":
        ranks = [max(int(starts[k]), ra) for k in range(k0, k1 + 1)]
        widths = [_v(fmt, min(int(ends[k]), rb) + 1) - _v(fmt, r) for k, r in zip(range(k0, k1 + 1), ranks)]
        return _points(table, ranks, list(range(k0, k1 + 1)), widths, power, clamp)
    d_rank, d_run, d_w = [], [], []
    for k in range(k0, k1 + 1):
        s0, s1, mask = max(int(starts[k]), ra), min(int(ends[k]), rb), int(table.mask[k])
        if not mask & ~sum(1 << i for i in spec.excluded):
            continue  # g = 0 on the run
        for seg in run_segments(fmt, s0, s1):
            sign, e = seg.sign, seg.e
            special = seg.special_mantissas(fmt)
            for m in special:
                r = seg.rank(fmt, m)
                d_rank.append(r)
                d_run.append(k)
                d_w.append(_v(fmt, r + 1) - _v(fmt, r))
            q, C, terms = segment_terms(spec, mask, sign, e)
            # work with g * 2**sig: C and w alone can overflow float64, G * ulp underflow
            sig = max(q, -960)
            sc = Fraction(2) ** sig
            Cs, ts = float(C * sc), [(float(w * sc), float(x)) for w, x in terms]
            cap = None if clamp is None else float(Fraction(clamp) * sc)
            for a, b in pairwise(special):
                if b - a >= 2:
                    s = power_sum(Cs, ts, a + 1, b - 1, power, cap)
                    parts.append(math.ldexp(s, q - sig * power) if math.isfinite(s) else s)
    parts += _points(table, d_rank, d_run, d_w, power, clamp)
    return parts


def _checked(lo, hi, power, clamp):
    lo, hi = float(lo), float(hi)
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError("integral bounds must not be NaN")
    if power not in (1, 2):
        raise ValueError(f"power must be 1 or 2, got {power!r}")
    if clamp is not None:
        clamp = float(clamp)
        if not (clamp >= 0 and math.isfinite(clamp)):
            raise ValueError(f"clamp must be non-negative and finite, got {clamp!r}")
    return lo, hi, clamp


def integral(table, lo: float, hi: float, *, power: int = 1, clamp: float | None = None,
             method: str = "fast") -> float:
    """``int_lo^hi h(g(u)) du`` for the step function ``g`` of the module doc (float64).

    ``power`` 1 or 2; ``clamp=G`` (``G >= 0``) integrates ``min(g, G)**power`` (``clamp=0``:
    the negative part, as the ``clamp01`` scaling needs).  ``lo``/``hi``
    may be infinite (the cells end where the format's finite range does).  ``method="fast"``
    (default): the cached piece index of :mod:`boolgrad.integral_index` (formats it does not
    support go to the exact path); ``"exact"``: :func:`integral_exact`.
    """
    if method == "exact":
        return integral_exact(table, lo, hi, power=power, clamp=clamp)
    if method != "fast":
        raise ValueError(f"method must be 'fast' or 'exact', got {method!r}")
    lo, hi, clamp = _checked(lo, hi, power, clamp)
    from .integral_index import supported

    if not supported(table.fmt):
        return integral_exact(table, lo, hi, power=power, clamp=clamp)
    return float(integrals_many(table, lo, hi, power=power, clamp=clamp))


def integral_exact(table, lo: float, hi: float, *, power: int = 1, clamp: float | None = None) -> float:
    """:func:`integral` by the reference path (the test oracle): per call, every run's cells in
    exact rationals and every segment's inside by :func:`~boolgrad.integral_sums.power_sum`."""
    lo, hi, clamp = _checked(lo, hi, power, clamp)
    if hi < lo:
        return -integral_exact(table, hi, lo, power=power, clamp=clamp)
    fmt = table.fmt
    _, c1 = _cell_ranks(fmt)
    d_lo, d_hi = _domain(fmt)
    lo, hi = max(lo, d_lo), min(hi, d_hi)
    if not hi > lo:
        return 0.0
    ra = int(step_ranks(fmt, [lo])[0][0])
    rb = int(step_ranks(fmt, [hi])[0][0]) if hi < d_hi else c1
    flo, fhi = Fraction(lo), Fraction(hi)
    ends = sorted({ra, rb})
    widths = [max(Fraction(0), min(_v(fmt, r + 1), fhi) - max(_v(fmt, r), flo)) for r in ends]
    runs = [int(np.searchsorted(table.first_rank, np.uint64(r), side="right")) - 1 for r in ends]
    parts = _points(table, ends, runs, widths, power, clamp)
    if rb - ra >= 2:
        parts += _full_cells(table, ra + 1, rb - 1, power, clamp)
    return math.fsum(parts)
