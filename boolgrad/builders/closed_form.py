"""Gradient tables in closed form: the runs of spec §6 from the threshold's bits, no enumeration.

The mask of a pattern only depends on which side of the threshold rank ``R`` the pattern and
its one-bit flips lie, so the whole table follows from a little interval algebra (proved in
:mod:`boolgrad.proofs.straddle_blocks`):

1. **Firing set.**  ``s(b) = [b in U]`` where ``U`` (the non-NaN patterns of rank ``>= R``)
   is a union of at most two intervals of *patterns*: the format's rank is affine with slope
   ``+-1`` on a few pattern pieces (:meth:`~boolgrad.formats.FloatFormat.affine_rank_intervals`: one piece for ``ufixed``, two for
   ``fixed``, four for floats -- ``+0``, positive magnitudes, ``-0``, negative magnitudes in
   reverse).  Write ``U``'s indicator as a XOR of steps ``[b >= c]`` over its *toggle
   points* ``c`` (each interval ``[lo, hi]`` gives ``lo`` and ``hi + 1``).
2. **One step, one bit.**  ``[b >= c] XOR [b ^ 2**i >= c]`` is 1 exactly on two blocks fixed
   by ``c``'s bits: with ``base = c & ~(2**(i+1) - 1)`` and ``L = c mod 2**i``,

   * bit ``i`` of ``c`` set:   ``[base + L, base + 2**i)  u  [base + 2**i + L, base + 2**(i+1))``
   * bit ``i`` of ``c`` clear: ``[base, base + L)         u  [base + 2**i, base + 2**i + L)``.

   Hence ``chi_i = XOR_c`` of those, a set given by at most 16 toggle points per bit.
3. **Overlay.**  Sorting all ``(point, 2**i)`` toggles and XOR-accumulating gives the mask on
   every elementary pattern interval; cutting those at the piece boundaries and mapping them
   to ranks (reversed on negative floats) gives the runs; neighbours with equal masks merge.

``wrt="theta"`` is simpler: ``chi_j(b) = [rank(b) >= R_lo_j] XOR [rank(b) >= R_hi_j]`` with
``R_lo_j``/``R_hi_j`` the threshold ranks of ``t & ~2**j`` and ``t | 2**j`` -- one rank
interval per bit, overlaid the same way.

Everything is ``O(n**2)`` integer work for an ``n``-bit format (a few hundred toggle points
for float64), so a float64 table takes a few milliseconds (``benchmarks/bench_closed_form.py``).
Masks do not depend on the convention or the excluded bits (those only change ``g``), exactly
as in enumeration.
"""

from __future__ import annotations

import bisect

import numpy as np

from ..formats import Format
from ..gradient import GradientSpec, make_spec
from ..table import GradientTable, table_from_runs
from .runs import theta_runs

__all__ = [
    "closed_form_runs",
    "closed_form_table",
    "closed_form_table_from_spec",
    "firing_intervals",
    "straddle_toggles",
]


# -- 1. the firing set as pattern intervals -------------------------------------------------
def firing_intervals(fmt: Format, R: int) -> list[tuple[int, int]]:
    """Inclusive pattern intervals of ``U = {b not NaN : rank(b) >= R}``, sorted."""
    out = []
    for p_lo, p_hi, r_at_lo, slope in fmt.affine_rank_intervals():
        r_min = r_at_lo if slope == 1 else r_at_lo - (p_hi - p_lo)
        if r_min + (p_hi - p_lo) < R:
            continue
        k = max(R - r_min, 0)  # the piece's k lowest ranks do not fire
        if slope == 1:
            out.append((p_lo + k, p_hi))
        else:  # rank decreases with the pattern: the low ranks are the high patterns
            out.append((p_lo, p_hi - k))
    return sorted(out)


def straddle_toggles(c: int, i: int) -> tuple[int, int, int, int]:
    """Toggle points of ``{x : [x >= c] != [x ^ 2**i >= c]}`` (item 2 of the module doc).

    The set is ``[t0, t1) u [t2, t3)``; some intervals may be empty (``t0 == t1``).
    """
    block = 1 << (i + 1)
    half = 1 << i
    base = c & ~(block - 1)
    L = c & (half - 1)
    if c & half:
        return base + L, base + half, base + half + L, base + block
    return base, base + L, base + half, base + half + L


# -- 2. overlay of per-bit toggles --------------------------------------------------------
def _overlay(points: list[int], bitvals: list[int], cuts: list[int], size: int):
    """Mask on each elementary interval of ``[0, size)``.

    ``points[k]`` toggles ``bitvals[k]``; ``cuts`` are extra breakpoints.  Returns
    ``(starts, masks)`` with ``starts[0] == 0`` (Python ints; ``size`` may be ``2**64``).
    """
    keep = [(p, v) for p, v in zip(points, bitvals) if p < size]
    keep.sort(key=lambda pv: pv[0])
    starts, masks = [0], [0]
    cur = 0
    for p, v in keep:
        cur ^= v
        if p == starts[-1]:
            masks[-1] = cur
        else:
            starts.append(p)
            masks.append(cur)
    cuts = sorted({c for c in cuts if 0 < c < size} - set(starts))
    if cuts:
        extra = [(c, masks[bisect.bisect_right(starts, c) - 1]) for c in cuts]
        merged = sorted([*zip(starts, masks), *extra])
        starts = [s for s, _ in merged]
        masks = [m for _, m in merged]
    return starts, masks


def _merge_runs(seg_ranks: list[tuple[int, int]]):
    """Sort ``(rank_start, mask)`` and keep the starts of maximal equal-mask runs."""
    seg_ranks.sort()
    starts, masks = [], []
    for r, m in seg_ranks:
        if not masks or masks[-1] != m:
            starts.append(r)
            masks.append(m)
    return starts, masks


def _u_runs(fmt: Format, R: int):
    n = fmt.bits
    size = 1 << n
    points, bitvals = [], []
    for lo, hi in firing_intervals(fmt, R):
        for c in (lo, hi + 1):
            if c >= size:  # [x >= 2**n] is 0: no toggle
                continue
            for i in range(n):
                points.extend(straddle_toggles(c, i))
                bitvals.extend([1 << i] * 4)
    pieces = fmt.affine_rank_intervals()
    cuts = [p for lo, hi, _, _ in pieces for p in (lo, hi + 1)]
    starts, masks = _overlay(points, bitvals, cuts, size)
    ends = [*(s - 1 for s in starts[1:]), size - 1]
    seg = []
    for p_lo, p_hi, r_at_lo, slope in pieces:  # each elementary interval lies in one piece or none
        k0 = bisect.bisect_right(starts, p_lo) - 1
        k1 = bisect.bisect_right(starts, p_hi) - 1
        for k in range(k0, k1 + 1):
            a, b = max(starts[k], p_lo), min(ends[k], p_hi)
            r = r_at_lo + (a - p_lo) if slope == 1 else r_at_lo - (b - p_lo)
            seg.append((r, masks[k]))
    return _merge_runs(seg)


def closed_form_runs(spec: GradientSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(run_start_ranks, run_masks)`` as uint64 arrays, like a sweep over all ranks."""
    if spec.wrt == "theta":
        return theta_runs(spec)
    starts, masks = _u_runs(spec.fmt, spec.threshold.rank)
    return np.asarray(starts, dtype=np.uint64), np.asarray(masks, dtype=np.uint64)


def closed_form_table(fmt, theta, **options) -> GradientTable:
    """Exact gradient table (spec §6) in closed form, for any format up to 64 bits.

    ``options`` are those of :func:`boolgrad.gradient.make_spec`.  Same result as
    :func:`boolgrad.build_table` (``==`` to it for every format it can enumerate;
    ``meta.method == "closed-form"``), in ``O(bits**2)`` time.
    """
    return closed_form_table_from_spec(make_spec(fmt, theta, **options))


def closed_form_table_from_spec(spec: GradientSpec) -> GradientTable:
    """:func:`closed_form_table` of a built :class:`~boolgrad.gradient.GradientSpec`."""
    starts, masks = closed_form_runs(spec)
    return table_from_runs(spec, starts, masks, method="closed-form")
