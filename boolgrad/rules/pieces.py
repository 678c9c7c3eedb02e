"""A table as *pieces* for one input dtype: lookup bounds and the closed form ``g = P + Q / v``.

Pure numpy, no torch: :mod:`boolgrad.torch.lookup.plan` turns the result into tensors (the math
is in :mod:`boolgrad.torch.lookup`).  Everything here is exact: fractions for the coefficients,
the table's own :meth:`~boolgrad.table.GradientTable.gradient` for single patterns, bisection
over the dtype's patterns (in value order, :meth:`~boolgrad.formats.FloatFormat.rank`) for the
bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from boolgrad import GradientTable
from boolgrad.binades import run_segments, segment_terms
from boolgrad.formats import FixedFormat, FloatFormat

__all__ = ["PieceTable", "forward_thresholds", "piece_table"]

#: per-term relative distance from the 1-coefficient form accepted as "regular" (far below
#: float64's 2**-53, so the closed form is as exact as the table's own float64 sum).
_REGULAR_TOL = Fraction(1, 2**64)
_SAFE_LO, _SAFE_HI = 2.0**-1000, 2.0**1000  # float64 magnitudes with no subnormal/overflow trouble


# -- keys: the table's rank of a value's rounding, monotone in the value -------------------------
def _keys(fmt, values: np.ndarray) -> np.ndarray:
    """``rank(round_fmt(v)) + 1`` (uint64) with ``-0`` merged into ``+0``'s key.

    Overflow onto a NaN pattern (``fn`` formats) gives ``0`` below and ``n_ranks + 1`` above,
    so the key is monotone in the value over the whole real line.
    """
    b = fmt.encode(values)
    if isinstance(fmt, FixedFormat):
        return fmt.rank(b) + np.uint64(1)
    nan = fmt.is_nan(b)
    key = fmt.rank(np.where(nan, np.uint64(0), b)) + np.uint64(1)
    A = np.uint64(fmt.max_mag)
    key = np.where(key == A + np.uint64(2), A + np.uint64(1), key)  # -0 joins +0's group
    key = np.where(nan & (values < 0), np.uint64(0), key)
    return np.where(nan & (values > 0), np.uint64(fmt.n_ranks + 1), key)


def _lowest(dfmt: FloatFormat, passes, n: int) -> np.ndarray:
    """Per column ``j`` of a monotone predicate ``passes(x) -> bool[n]``: the smallest value
    ``x`` of the dtype for which it holds (vectorised bisection over the dtype's ranks, which
    are in value order); NaN where no value passes."""
    lo = np.zeros(n, dtype=np.uint64)
    hi = np.full(n, dfmt.n_ranks, dtype=np.uint64)
    while bool((lo < hi).any()):
        active = lo < hi
        mid = np.minimum(lo + (hi - lo) // np.uint64(2), np.uint64(dfmt.n_ranks - 1))
        ok = passes(dfmt.decode(dfmt.pattern_at_rank(mid)))
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + np.uint64(1), lo)
    found = lo < np.uint64(dfmt.n_ranks)
    x = dfmt.decode(dfmt.pattern_at_rank(np.minimum(lo, np.uint64(dfmt.n_ranks - 1))))
    return np.where(found, x, np.nan)


def _lowest_with_key(fmt, dfmt: FloatFormat, targets) -> np.ndarray:
    """Per target key ``K``: the smallest dtype value whose rounding has ``key >= K``."""
    targets = np.asarray(targets, dtype=np.uint64)
    return _lowest(dfmt, lambda x: _keys(fmt, x) >= targets, len(targets))


# -- pieces -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Piece:
    start: int  # table rank of the first pattern
    P: float
    Q: float
    irregular: bool = False


def _float_pieces(table: GradientTable) -> list[_Piece]:
    """Pieces of a floating-point ``wrt="u"`` table (module doc), in rank order."""
    fmt, spec = table.fmt, table.spec
    top = (1 << fmt.exp_bits) - 1
    first_r = table.first_rank
    last_r = first_r + table.counts - np.uint64(1)
    raw, singles = [], []  # [start, P|None, Q, irregular, (sign, e)]; singles: indices needing g
    for k in range(table.n_runs):
        mask = int(table.mask[k])
        for seg in run_segments(fmt, int(first_r[k]), int(last_r[k])):
            sign, e, m_lo, m_hi = seg
            start = seg.first_rank(fmt)
            if m_lo == m_hi or (fmt.has_inf and e == top):
                singles.append(len(raw))  # one pattern (or +-inf): its exact g, a constant
                raw.append([start, None, 0.0, False, (sign, e)])
                continue
            raw.append([start, *_closed_form(fmt, spec, mask, sign, e, m_lo, m_hi, top), (sign, e)])
    if singles:
        ranks = np.asarray([raw[i][0] for i in singles], dtype=np.uint64)
        pats = fmt.pattern_at_rank(ranks).astype(fmt.dtype)
        g = table.gradient(pats, read_as="patterns")
        for i, gi, x in zip(singles, g, fmt.decode(pats)):
            raw[i][1] = float(gi)
            raw[i].append(float(x))
    raw.sort(key=lambda p: p[0])
    return _absorb_singles(raw)


def _absorb_singles(raw) -> list[_Piece]:
    """Drop single-pattern pieces that a neighbour in the same binade already evaluates right.

    A single pattern often differs from its neighbours only by a bit whose term is degenerate
    (theta = 1.0: its top exponent bit flips onto infinity); the neighbour's ``P + Q / x`` then
    agrees with the exact ``g`` to float64 rounding, and one piece less means one bucket less
    for the slow path.
    """
    out = []
    for i, p in enumerate(raw):
        if len(p) == 6 and p[5] != 0 and np.isfinite(p[5]):
            x, g = p[5], p[1]
            for j in (i - 1, i + 1):
                if 0 <= j < len(raw) and len(raw[j]) == 5 and raw[j][4] == p[4] and not raw[j][3]:
                    P, Q = raw[j][1], raw[j][2]
                    f = P + Q / x
                    if abs(f - g) <= 2.0**-50 * max(abs(g), abs(P), abs(Q / x)):
                        if j == i + 1:
                            raw[j][0] = p[0]  # the next piece now starts here
                        break
            else:
                out.append(p)
                continue
            continue
        out.append(p)
    return [_Piece(int(q[0]), float(q[1]), float(q[2]), bool(q[3])) for q in out]


def _closed_form(fmt, spec, mask, sign, e, m_lo, m_hi, top):
    """``(P, Q, irregular)`` of one piece of ``(sign, e)``, mantissas ``m_lo .. m_hi``."""
    M = fmt.man_bits
    if fmt.variant == "fn" and e == top:
        return float("nan"), float("nan"), True  # mantissa flips may land on the NaN pattern
    q, C, terms = segment_terms(spec, mask, sign, e)
    c0 = (1 << M) if e else 0
    vmin, vmax = Fraction(c0 + m_lo) * Fraction(2) ** q, Fraction(c0 + m_hi) * Fraction(2) ** q
    Pf = float(C) if C == 0 or abs(C) < 2**1000 else float("inf")
    if not terms:
        ok = C == 0 or _SAFE_LO <= abs(Pf) <= _SAFE_HI
        return (Pf, 0.0, False) if ok else (float("nan"), float("nan"), True)
    if c0 == 0:
        return float("nan"), float("nan"), True
    for _, x in terms:  # relative change of w/(m+x) from replacing x by c0, at worst m = m_lo
        if abs(x - c0) > _REGULAR_TOL * (m_lo + min(x, Fraction(c0))):
            return float("nan"), float("nan"), True
    W = sum((w for w, _ in terms), Fraction(0)) * Fraction(2) ** q
    if not (
        _SAFE_LO <= vmin
        and 2 * vmax <= _SAFE_HI  # every D_i and 1/D_i a normal float64
        and (C == 0 or _SAFE_LO <= abs(C) <= _SAFE_HI)
        and (W == 0 or _SAFE_LO <= abs(W) <= _SAFE_HI)
    ):
        return float("nan"), float("nan"), True
    return float(C), float(-W if sign else W), False


def _constant_pieces(table: GradientTable) -> list[_Piece]:
    """One constant piece per run (fixed point, or ``wrt="theta"``): ``g`` at its first pattern."""
    g = table.gradient(table.first.astype(table.fmt.dtype), read_as="patterns")
    return [_Piece(int(r), float(gi), 0.0) for r, gi in zip(table.first_rank, g)]


def _merge(pieces: list[_Piece]) -> list[_Piece]:
    """Join neighbours with identical regular coefficients (fewer bounds to search)."""
    out = [pieces[0]]
    for p in pieces[1:]:
        last = out[-1]
        if not (p.irregular or last.irregular) and p.P == last.P and p.Q == last.Q:
            continue
        out.append(p)
    return out


# -- the pieces of a table, in a dtype -----------------------------------------------------------------
@dataclass(frozen=True)
class PieceTable:
    """Pieces ``0 .. n-1`` in value order; piece ``k >= 1`` starts at ``bounds[k-1]`` (a value
    of the input dtype: the smallest whose rounding to the format lands in it).  ``P``, ``Q``:
    coefficients (``Q = 0`` on constant pieces, NaN on irregular ones).  ``+0`` and ``-0`` are
    one lookup group; ``g_zero`` holds ``g`` at the format's ``+0`` and ``-0`` patterns.
    """

    bounds: np.ndarray
    P: np.ndarray
    Q: np.ndarray
    irregular: np.ndarray
    constant: bool
    g_zero: tuple[float, float]


def piece_table(table: GradientTable, dfmt: FloatFormat) -> PieceTable:
    """The pieces of ``table`` looked up by values of the dtype format ``dfmt``."""
    fmt = table.fmt
    constant = isinstance(fmt, FixedFormat) or table.spec.wrt == "theta"
    pieces = _constant_pieces(table) if constant else _float_pieces(table)
    if isinstance(fmt, FloatFormat):
        A = fmt.max_mag
        zeros = fmt.pattern_at_rank(np.asarray([A, A + 1], dtype=np.uint64)).astype(fmt.dtype)
        g0 = table.gradient(zeros, read_as="patterns")
        g_zero = (float(g0[0]), float(g0[1]))
        pieces = [p for p in pieces if p.start != A + 1]  # -0 joins +0's group (see _keys)
        if fmt.has_nan and not fmt.has_inf:  # overflow onto NaN ("fn"): g = 0 at both ends
            pieces = [_Piece(-1, 0.0, 0.0), *pieces, _Piece(fmt.n_ranks, 0.0, 0.0)]
    else:
        g = float(table.gradient(np.asarray([0.0]))[0])
        g_zero = (g, g)
    pieces = _merge(pieces)
    keys = [p.start + 1 for p in pieces]
    bounds = _lowest_with_key(fmt, dfmt, keys[1:]) if len(keys) > 1 else np.zeros(0)
    return PieceTable(
        bounds=np.asarray(bounds, dtype=np.float64),
        P=np.asarray([p.P for p in pieces], dtype=np.float64),
        Q=np.asarray([p.Q for p in pieces], dtype=np.float64),
        irregular=np.asarray([p.irregular for p in pieces], dtype=bool),
        constant=constant,
        g_zero=g_zero,
    )


def forward_thresholds(table: GradientTable, dfmt: FloatFormat) -> tuple[float, float]:
    """Smallest dtype ``t`` with ``u >= t`` <=> spike: on ``u`` itself, and on its rounding."""
    thr = table.spec.threshold
    theta = thr.used
    if thr.comparator == "gt":
        t_plain = _lowest(dfmt, lambda x: x > theta, 1)[0]
    else:
        t_plain = _lowest(dfmt, lambda x: x >= theta, 1)[0]
    fmt = table.fmt
    t_quant = float(_lowest_with_key(fmt, dfmt, [thr.rank + 1])[0])  # rank n_ranks: NaN, never
    if isinstance(fmt, FloatFormat) and fmt.has_nan and not fmt.has_inf:
        t_over = float(_lowest_with_key(fmt, dfmt, [fmt.n_ranks + 1])[0])  # rounds onto NaN
        if np.isfinite(t_over) or t_over == np.inf:
            return float(t_plain), (t_quant, t_over)
    return float(t_plain), t_quant
