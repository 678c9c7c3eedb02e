"""The fast path of :func:`boolgrad.integrals.integral`: a per-table index of *pieces*, in float64.

The step function ``g(u)`` of :mod:`boolgrad.integrals` is cut once per table into pieces
sorted by value, ``[start, end)``:

* *constant* pieces: a whole run of a fixed-point or ``wrt="theta"`` table (``g`` constant on
  the run), or one cell of a float table (segment ends, ``+-0``, the ``fn`` NaN neighbours:
  the special cells of :mod:`boolgrad.integrals`);
* *curve* pieces: the inside of a float segment (one run, one binade, mantissa fields
  ``m in [a, b]``), ``g(m) = C + sum_k w_k / (m + x_k)``, each cell ``2**q`` wide
  (:class:`boolgrad.integral_sums.Curve`, terms scaled by ``2**sig`` as the exact path does).

Per ``(power, clamp)`` every piece's whole integral is computed once (cached with the index)
and accumulated into double-double prefix sums, so a window ``[lo, hi]`` costs two binary
searches, one difference of prefix sums (error ``eps`` of the result plus ``n eps**2`` of the
pieces' magnitudes; where that is not below ``1e-15`` of the result, ``fsum`` of the pieces) and the two pieces cut by ``lo`` and ``hi``: a constant times the overlap,
or, in a curve, the two cut cells plus the cells in between by Euler--Maclaurin
(:meth:`~boolgrad.integral_sums.Curve.sums`).  :func:`integrals_many` does this for arrays of
windows, grouping the cut curve pieces.  Cell ends are format values, exact in float64: formats
whose values are not (fixed point wider than 53 bits, floats beyond float64) are left to the
exact path (:func:`supported`), and so is a single cell whose ``g`` overflows float64.
"""

from __future__ import annotations

import math
import weakref
from fractions import Fraction
from itertools import pairwise

import numpy as np

from .binades import run_segments, segment_terms
from .integral_sums import Curve, clamped_power, clamped_power_exact
from .measures import g_at_ranks, g_exact

__all__ = ["TableIndex", "index_of", "integrals_many", "supported"]

_INDEX: dict[int, TableIndex] = {}


def supported(fmt) -> bool:
    """Are all cell ends of ``fmt`` float64 values (the fast path's condition)?"""
    if fmt.kind == "fixed":
        return fmt.width <= 53
    return fmt.exp_bits <= 11 and fmt.man_bits <= 52 and fmt.bits <= 64


def index_of(table) -> TableIndex:
    """The cached :class:`TableIndex` of ``table`` (dropped with the table)."""
    key = id(table)
    idx = _INDEX.get(key)
    if idx is None:
        idx = TableIndex(table)
        _INDEX[key] = idx
        weakref.finalize(table, _INDEX.pop, key, None)
    return idx


def _values(fmt, ranks) -> np.ndarray:
    """Float64 value at each rank (fixed point: also one past the top)."""
    ranks = np.asarray(ranks, dtype=np.uint64)
    if fmt.kind == "fixed":
        return np.ldexp(ranks.astype(np.float64) + float(fmt.int_min), -fmt.frac)
    return fmt.decode(fmt.pattern_at_rank(ranks)).astype(np.float64)


def _cell_ranks(fmt) -> tuple[int, int]:
    if fmt.kind == "fixed":
        return 0, fmt.n_ranks - 1
    return (1 if fmt.has_inf else 0), fmt.n_ranks - (3 if fmt.has_inf else 2)


class TableIndex:
    """Pieces of one table (module doc): ``start``, ``end``, constant ``g`` (NaN on curves)."""

    def __init__(self, table):
        fmt, spec = table.fmt, table.spec
        self.fmt = fmt
        c0, c1 = _cell_ranks(fmt)
        self.domain = tuple(float(v) for v in _values(fmt, [c0, c1 + 1]))
        starts = table.first_rank
        ends = np.minimum(starts + table.counts - np.uint64(1), np.uint64(c1))
        starts = np.maximum(starts, np.uint64(c0))
        self.curves: list = []  # (Curve, q, sig, sign, c0) per curve piece
        self.exact: dict[int, Fraction] = {}  # piece -> exact g where the float overflowed
        if fmt.kind == "fixed" or spec.wrt == "theta":
            keep = starts <= ends
            runs = np.flatnonzero(keep)
            g = g_at_ranks(table, starts[keep], runs)
            rows = list(zip(_values(fmt, starts[keep]), _values(fmt, ends[keep] + np.uint64(1)), g, [-1] * len(g),
                            starts[keep].tolist(), runs.tolist()))
        else:
            rows = self._float_rows(table, starts, ends)
        rows = [r for r in rows if r[1] > r[0]]
        rows.sort(key=lambda r: r[0])
        self.start = np.asarray([r[0] for r in rows], dtype=np.float64)
        self.end = np.asarray([r[1] for r in rows], dtype=np.float64)
        self.g = np.asarray([r[2] for r in rows], dtype=np.float64)
        self.curve = np.asarray([r[3] for r in rows], dtype=np.int64)
        for i, r in enumerate(rows):
            if r[3] < 0 and not math.isfinite(r[2]):
                self.exact[i] = g_exact(table, r[2], int(r[4]), int(r[5]))
        self._totals: dict = {}

    def _float_rows(self, table, starts, ends):
        fmt, spec = table.fmt, table.spec
        M = fmt.man_bits
        xmask = sum(1 << i for i in spec.excluded)
        rows, pts, pt_runs = [], [], []
        for k in range(table.n_runs):
            s0, s1, mask = int(starts[k]), int(ends[k]), int(table.mask[k])
            if s0 > s1 or not mask & ~xmask:
                continue  # no cell, or g = 0 on the run
            for seg in run_segments(fmt, s0, s1):
                sign, e = seg.sign, seg.e
                special = seg.special_mantissas(fmt)
                pts += [seg.rank(fmt, m) for m in special]
                pt_runs += [k] * len(special)
                if all(b - a < 2 for a, b in pairwise(special)):
                    continue
                q, C, terms = segment_terms(spec, mask, sign, e)
                sig = max(q, -960)  # g * 2**sig: C and w alone can overflow float64
                sc = Fraction(2) ** sig
                c0 = (1 << M) if e else 0
                for a, b in pairwise(special):
                    if b - a < 2:
                        continue
                    a, b = a + 1, b - 1
                    curve = Curve(float(C * sc), [(float(w * sc), float(x)) for w, x in terms], a, b)
                    self.curves.append((curve, q, sig, sign, c0))
                    if sign:
                        lo, hi = -math.ldexp(c0 + b, q), -math.ldexp(c0 + a - 1, q)
                    else:
                        lo, hi = math.ldexp(c0 + a, q), math.ldexp(c0 + b + 1, q)
                    rows.append((lo, hi, math.nan, len(self.curves) - 1, 0, k))
        if pts:
            r = np.asarray(pts, dtype=np.uint64)
            g = g_at_ranks(table, r, pt_runs)
            v0, v1 = _values(fmt, r), _values(fmt, r + np.uint64(1))
            rows += list(zip(v0.tolist(), v1.tolist(), g.tolist(), [-1] * len(pts), pts, pt_runs))
        return rows

    # -- whole pieces -----------------------------------------------------------------------------
    def totals(self, power: int, clamp):
        """``(totals, prefix_hi, prefix_lo)`` per piece for ``(power, clamp)`` (cached)."""
        key = (power, clamp)
        hit = self._totals.get(key)
        if hit is not None:
            return hit
        tot = clamped_power(self.g, power, clamp) * (self.end - self.start)
        for i in np.flatnonzero(self.curve >= 0):
            curve, q, sig, _, _ = self.curves[self.curve[i]]
            cap = None if clamp is None else math.ldexp(clamp, sig)
            s = float(curve.sums([curve.a], [curve.b], power, cap)[0])
            tot[i] = math.ldexp(s, q - sig * power) if math.isfinite(s) else s
        for i, g in self.exact.items():
            tot[i] = clamped_power_exact(g, Fraction(self.end[i]) - Fraction(self.start[i]), power, clamp)
        bad = np.flatnonzero((self.curve < 0) & ~np.isfinite(tot) & np.isfinite(self.g))
        for i in bad:  # h * width overflowed in float64 although the product may not
            tot[i] = clamped_power_exact(Fraction(float(self.g[i])), Fraction(self.end[i]) - Fraction(self.start[i]),
                              power, clamp)
        hi = np.empty(len(tot) + 1)
        lo = np.empty(len(tot) + 1)
        hi[0] = lo[0] = s = c = 0.0
        for i, x in enumerate(tot.tolist()):  # double-double running sum (TwoSum)
            t = s + x
            c += (s - t) + x if abs(s) >= abs(x) else (x - t) + s
            s = t
            hi[i + 1], lo[i + 1] = s, c
        bound = len(tot) * 2.0**-104 * np.concatenate([[0.0], np.cumsum(np.abs(tot))])  # of hi + lo
        hit = (tot, hi, lo, bound, bool(np.isfinite(tot).all()))
        self._totals[key] = hit
        return hit

    def _middle(self, i0, i1, power, clamp):
        """Sum of whole pieces ``i0 .. i1 - 1`` (arrays)."""
        tot, hi, lo, bound, finite = self.totals(power, clamp)
        if not finite:
            return np.asarray([math.fsum(tot[a:b]) if b > a else 0.0 for a, b in zip(i0, i1)])
        out = (hi[i1] - hi[i0]) + (lo[i1] - lo[i0])
        # a window far smaller than the prefix sums around it (near 0, say): sum it afresh
        redo = np.flatnonzero(bound[i1] + bound[i0] > 1e-15 * np.abs(out))
        for j in redo:
            out[j] = math.fsum(tot[i0[j]:i1[j]]) if i1[j] > i0[j] else 0.0
        return out

    # -- cut pieces ---------------------------------------------------------------------------------
    def _cut(self, piece, lo, hi, power, clamp) -> np.ndarray:
        """``int`` over ``[lo, hi] ∩ piece`` for windows cutting one piece (arrays)."""
        a, b = np.maximum(lo, self.start[piece]), np.minimum(hi, self.end[piece])
        c = int(self.curve[piece])
        if c < 0:
            if piece in self.exact:
                return np.asarray([clamped_power_exact(self.exact[piece], Fraction(y) - Fraction(x), power, clamp)
                                   for x, y in zip(a, b)])
            return clamped_power(self.g[piece], power, clamp) * np.maximum(b - a, 0.0)
        curve, q, sig, sign, c0 = self.curves[c]
        cap = None if clamp is None else math.ldexp(clamp, sig)
        if sign:  # cell m is y in (m, m + 1] with y = |u| / 2**q - c0 + 1
            y0, y1 = np.ldexp(-b, -q) - (c0 - 1), np.ldexp(-a, -q) - (c0 - 1)
        else:  # cell m is y in [m, m + 1) with y = u / 2**q - c0
            y0, y1 = np.ldexp(a, -q) - c0, np.ldexp(b, -q) - c0
        m0 = np.floor(y0)
        m1 = np.ceil(y1) - 1  # last cell met
        same = m0 >= m1
        first = np.where(same, y1 - y0, m0 + 1 - y0)
        last = np.where(same, 0.0, y1 - m1)
        total = curve.h(m0, power, cap) * first + curve.h(m1, power, cap) * last
        total = total + curve.sums((m0 + 1).astype(np.int64), (m1 - 1).astype(np.int64), power, cap)
        with np.errstate(over="ignore"):
            return np.ldexp(total, q - sig * power)

    def integrals(self, lo, hi, power: int, clamp) -> np.ndarray:
        """``int_lo^hi h(g)`` for arrays ``lo <= hi`` inside the domain."""
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        out = np.zeros(lo.shape)
        i0 = np.searchsorted(self.end, lo, side="right")  # first piece ending after lo
        i1 = np.searchsorted(self.start, hi, side="left") - 1  # last piece starting before hi
        live = (i0 <= i1) & (hi > lo)
        if not live.any():
            return out
        i0, i1, lo_l, hi_l = i0[live], i1[live], lo[live], hi[live]
        res = np.where(i1 - i0 >= 2, self._middle(i0 + 1, np.maximum(i1, i0 + 1), power, clamp), 0.0)
        ends = np.concatenate([i0, i1[i1 > i0]])
        which = np.concatenate([np.arange(len(i0)), np.flatnonzero(i1 > i0)])
        plain = (self.curve[ends] < 0) & ~np.isin(ends, list(self.exact))
        if plain.any():  # constant pieces, all at once: h(g) times the overlap
            e, w = ends[plain], which[plain]
            width = np.maximum(np.minimum(hi_l[w], self.end[e]) - np.maximum(lo_l[w], self.start[e]), 0.0)
            np.add.at(res, w, clamped_power(self.g[e], power, clamp) * width)
        for piece in np.unique(ends[~plain]):
            sel = (ends == piece) & ~plain
            w = which[sel]
            np.add.at(res, w, self._cut(int(piece), lo_l[w], hi_l[w], power, clamp))
        out[live] = res
        return out


def integrals_many(table, lo, hi, *, power: int = 1, clamp=None) -> np.ndarray:
    """:func:`boolgrad.integrals.integral` over arrays of windows (fast path only; ``lo``, ``hi``
    any order, infinite allowed, not NaN; arguments checked as there)."""
    lo, hi = np.broadcast_arrays(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    idx = index_of(table)
    sign = np.where(hi < lo, -1.0, 1.0)
    a, b = np.minimum(lo, hi), np.maximum(lo, hi)
    a, b = np.maximum(a, idx.domain[0]), np.minimum(b, idx.domain[1])
    flat = idx.integrals(a.ravel(), b.ravel(), power, clamp).reshape(a.shape)
    return sign * np.where(b > a, flat, 0.0)
