"""A :class:`~boolgrad.GradientTable` compiled for one input dtype and device: :class:`TablePlan`.

Buckets (the lookup of :mod:`boolgrad.torch.lookup`) and pieces as tensors, divided by the
scaling's divisor and clipped to ``[lo, hi]`` (``None``: unbounded).  The bounds are values of
the *input* dtype (the smallest whose rounding to the table's format lands in a piece), so a
float32 tensor is looked up in a bfloat16 or fixed-point table without rounding it first; only
the ``v`` of ``P + Q / v`` is rounded (``fits=False``).  :func:`compile_plan` refuses a plan
whose scaled peak does not fit the dtype that carries the gradient (it would be ``inf``):
:func:`range_error` says so (the Boolean spike raises it in its backward).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from boolgrad import GradientTable, parse_format
from boolgrad.formats import FloatFormat
from boolgrad.rules import scalings
from boolgrad.rules.pieces import forward_thresholds, piece_table

__all__ = ["DTYPE_FORMATS", "TablePlan", "compile_plan", "dtype_format", "exact_gradient", "range_error"]

#: torch dtypes a spike function accepts, and the boolgrad format of their bit patterns.
DTYPE_FORMATS = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
}
_BUCKET_BITS = 16
_MAX_EXCEPTIONS = 1  # each costs a comparison per element
_NP = {"float32": np.float32, "float64": np.float64}


def dtype_format(dtype) -> FloatFormat:
    """The boolgrad format of a floating torch dtype's bit patterns."""
    try:
        return parse_format(DTYPE_FORMATS[dtype])
    except KeyError:
        supported = ", ".join(str(d) for d in DTYPE_FORMATS)
        raise TypeError(f"spike functions take floating tensors ({supported}), got {dtype}") from None


def _direct(fmt, dtype) -> bool:
    """Does rounding a ``dtype`` value to ``fmt`` keep the top 16 bits of its pattern (rounded to
    nearest even by integer addition)?  True for bfloat16 on float32."""
    return (
        dtype == torch.float32
        and isinstance(fmt, FloatFormat)
        and fmt.variant == "ieee"
        and fmt.exp_bits == 8
        and fmt.bits == _BUCKET_BITS
    )


def _fits(fmt, dfmt: FloatFormat) -> bool:
    """Is every value of the dtype's format exactly a value of ``fmt`` (inf to inf)?"""
    return (
        isinstance(fmt, FloatFormat)
        and fmt.variant == "ieee"
        and fmt.exp_bits >= dfmt.exp_bits
        and fmt.man_bits >= dfmt.man_bits
    )


@dataclass(frozen=True, eq=False)
class TablePlan:
    """A table compiled for one input dtype and device (build with :func:`compile_plan`).

    Fast path: ``PB``/``QB`` (float64, ``2**16`` buckets; ``QB`` is ``None`` when ``g`` is
    constant per bucket).  Slow path: ``bounds`` (input dtype), ``P``, ``Q`` per piece.
    ``forward_threshold`` / ``quantized_threshold``: the spike as ``u >= t`` in the input's
    dtype, on ``u`` itself / on its rounding to the format (NaN: never fires).
    """

    table: GradientTable
    dtype: torch.dtype
    shift: int
    PB: torch.Tensor
    QB: torch.Tensor | None
    bounds: torch.Tensor
    P: torch.Tensor
    Q: torch.Tensor
    irregular: torch.Tensor
    g_zero: tuple[float, float]  # g at the format's +0 and -0 (scaled)
    exceptions: tuple  # ((value, g), ...) patterns whose bucket holds a neighbour's P, Q
    mixed: tuple | None  # (KL, KH) int32 per bucket: the pieces KL..KH of a NaN bucket cut by
    # bounds (all regular, no +-0/inf/NaN), searched by the CPU kernel; -1: none (slow path)
    split: tuple | None  # (K, PB2, QB2): buckets cut by one bound at pattern offset K, resolved in the
    # CPU kernel's loop (see _split)
    fits: bool  # every dtype value is a value of the format: no rounding in the backward
    direct: bool  # float32 input, a 16-bit format with float32's exponent field (bfloat16): the
    # rounded pattern is the input's top 16 bits rounded to nearest even -- the CPU kernel looks
    # g up by it (one entry a pattern, no division; see lookup.evaluate.direct_table)
    divisor: float
    lo: float | None  # clip g to [lo, hi] after dividing (None: no bound)
    hi: float | None
    forward_threshold: float
    quantized_threshold: float | tuple  # (lo, hi) when values above hi round onto NaN ("fn")
    workspace: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def fmt(self):
        return self.table.fmt

    @property
    def clamp(self) -> bool:
        return self.lo is not None or self.hi is not None

    @property
    def n_pieces(self) -> int:
        return int(self.P.numel())


def clip(g, lo, hi):
    """``g`` clipped to ``[lo, hi]`` (numpy: :func:`boolgrad.rules.scalings.clip`; torch: in
    place; NaN stays NaN)."""
    if isinstance(g, np.ndarray):
        return scalings.clip(g, lo, hi)
    if hi is not None:
        g = g.clamp_max_(hi)
    return g.clamp_min_(lo) if lo is not None else g


def exact_gradient(table: GradientTable, values: np.ndarray, divisor: float, lo, hi) -> np.ndarray:
    """The table's own ``g`` (scaled, clipped) at dtype values; NaN values have ``g = 0``."""
    out = np.zeros(values.shape, dtype=np.float64)
    ok = ~np.isnan(values)
    out[ok] = table.gradient(values[ok], read_as="values") / divisor
    return clip(out, lo, hi)


def _buckets(table, pieces, dfmt, divisor, lo, hi, fits, theta):
    """``(shift, PB, QB, exceptions, mixed, split)`` per top-16-bit bucket of the dtype's patterns
    (package doc).  ``exceptions``: up to :data:`_MAX_EXCEPTIONS` ``(value, g)`` -- single
    patterns at the end of an otherwise pure bucket (theta = 1.0 itself is one), the nearest to
    theta.  ``mixed``: ``(KL, KH)``, the range of regular pieces of each bucket cut by piece
    bounds (``-1``: none), for the kernel's second level (see :class:`TablePlan`); ``split``:
    :func:`_split`."""
    n = 1 << min(dfmt.bits, _BUCKET_BITS)
    tops = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        if dfmt.bits <= _BUCKET_BITS:  # a bucket is one pattern: g itself, exactly
            return 0, exact_gradient(table, dfmt.decode(tops), divisor, lo, hi), None, (), None, None
        shift = dfmt.bits - _BUCKET_BITS  # <= man_bits: a bucket has one sign and exponent field
        first = tops << np.uint64(shift)
        last = first | np.uint64((1 << shift) - 1)
        a, b = dfmt.decode(first), dfmt.decode(last)
    lo_v, hi_v = np.minimum(a, b), np.maximum(a, b)
    exp = (first >> np.uint64(dfmt.man_bits)) & np.uint64((1 << dfmt.exp_bits) - 1)
    special = (exp == (1 << dfmt.exp_bits) - 1) | (lo_v == 0) | (hi_v == 0)  # inf/NaN, +-0
    k_lo = np.searchsorted(pieces.bounds, np.where(special, 0.0, lo_v), side="right")
    k_hi = np.searchsorted(pieces.bounds, np.where(special, 0.0, hi_v), side="right")
    k = k_lo.copy()
    exceptions = []
    if fits:  # two pieces, one of them a single pattern at an end of the bucket
        two = np.flatnonzero(
            ~special & (k_hi == k_lo + 1) & ~pieces.irregular[k_lo] & ~pieces.irregular[k_hi]
        )
        nxt = np.nextafter(lo_v[two].astype(_NP[dfmt.name]), np.inf).astype(np.float64)
        start = pieces.bounds[k_lo[two]]  # where the upper piece begins
        cand = [(i, lo_v[i], k_hi[i]) for i, s, nx in zip(two, start, nxt) if s == nx]  # low end alone
        cand += [(i, hi_v[i], k_lo[i]) for i, s in zip(two, start) if s == hi_v[i]]  # high end alone
        cand.sort(key=lambda c: abs(c[1] - theta))
        cand = cand[:_MAX_EXCEPTIONS]
        if cand:
            gx = exact_gradient(table, np.asarray([c[1] for c in cand]), divisor, lo, hi)
            for (i, x, keep), g in zip(cand, gx):
                k[i] = k_hi[i] = keep
                exceptions.append((float(x), float(g)))
    good = ~special & (k == k_hi) & ~pieces.irregular[k]
    PB = np.where(good, pieces.P[k] / divisor, np.nan)
    QB = None if pieces.constant else np.where(good, pieces.Q[k] / divisor, np.nan)
    n_irr = np.concatenate([[0], np.cumsum(pieces.irregular)])
    cut = ~special & (k_hi > k) & (n_irr[k_hi + 1] == n_irr[k])  # several pieces, all regular
    mixed = (np.where(cut, k, -1).astype(np.int32), np.where(cut, k_hi, -1).astype(np.int32))
    split = _split(pieces, cut & (k_hi == k + 1), k, PB, QB, divisor, first, dfmt)
    return shift, PB, QB, tuple(exceptions), mixed, split


def _split(pieces, one, k, PB, QB, divisor, first, dfmt):
    """``(K, PB2, QB2)`` for buckets cut by exactly one bound, all at the same pattern offset
    ``K`` inside their bucket: entry ``2 b + [low bits >= K]`` of ``PB2``/``QB2`` holds the
    coefficients of the element's piece (the other buckets' own twice), so the kernel picks the
    entry from the element's bits alone, without loading the bound.  Buckets cut at another
    offset keep NaN (the kernel's binary search over ``plan.mixed`` resolves them); ``K`` is the
    most common offset (for float32 tables every such cut shares one: ``1`` under ``gt``,
    theta's own low bits elsewhere).  ``None`` when no bucket is cut once."""
    if not one.any():
        return None
    idx = np.flatnonzero(one)
    S = pieces.bounds[k[idx]].astype(_NP[dfmt.name])  # where the upper piece begins: a dtype value
    pat = S.view(np.uint32 if dfmt.bits == 32 else np.uint64).astype(np.uint64)
    neg = (first[idx] >> np.uint64(dfmt.bits - 1)) == 1
    # patterns below the offset: the lower piece (positive), the upper one (negative: reversed)
    off = (pat - first[idx]).astype(np.int64) + neg
    values, counts = np.unique(off, return_counts=True)
    K = int(values[np.argmax(counts)])
    keep = np.zeros_like(one)
    keep[idx[off == K]] = True
    flip = np.zeros_like(one)
    flip[idx[neg]] = True
    up = np.minimum(k + 1, len(pieces.P) - 1)
    tabs = []
    for B, C in ((PB, pieces.P), (QB, pieces.Q)):
        if B is None:
            tabs.append(None)
            continue
        low_piece, high_piece = np.where(flip, C[up], C[k]) / divisor, np.where(flip, C[k], C[up]) / divisor
        low = np.where(keep, low_piece, B)
        high = np.where(keep, high_piece, B)
        tabs.append(np.stack([low, high], axis=1).reshape(-1))
    return K, tabs[0], tabs[1]


def range_error(table: GradientTable, dtype, divisor: float, hi) -> ValueError | None:
    """The error for a gradient whose scaled peak overflows ``dtype`` (it would be ``inf``)."""
    peak = float(table.peak()[0]) / divisor
    if hi is not None:
        peak = min(peak, hi)
    top = torch.finfo(dtype).max
    if peak > top:
        theta = table.meta.theta_requested
        wide = "float32" if peak <= torch.finfo(torch.float32).max else "float64"
        return ValueError(
            f"the {table.fmt.name} table at theta={theta!r} peaks at g = {peak:.6g} (after scaling), "
            f"beyond {dtype}'s largest value {top:.6g}: its gradients would be inf. "
            f"Use scale='clamp' (or 'unit_peak'), or compute in {wide}"
        )
    return None


def compile_plan(
    table: GradientTable, dtype=torch.float32, device="cpu", divisor=1.0, clamp=False
) -> TablePlan:
    """Compile ``table`` for inputs of ``dtype`` on ``device``; ``g`` comes out divided by
    ``divisor`` and clipped: ``clamp=True`` caps it at 1, ``clamp=(lo, hi)`` clips to
    ``[lo, hi]`` (see :data:`boolgrad.rules.scalings.SCALINGS`)."""
    lo, hi = (None, 1.0) if clamp is True else (None, None) if clamp is False else clamp
    dfmt = dtype_format(dtype)
    pieces = piece_table(table, dfmt)
    fits = _fits(table.fmt, dfmt)
    shift, PB, QB, exceptions, mixed, split = _buckets(
        table, pieces, dfmt, divisor, lo, hi, fits, table.spec.threshold.used
    )
    t_plain, t_quant = forward_thresholds(table, dfmt)
    f64 = dict(dtype=torch.float64, device=device)
    return TablePlan(
        table=table,
        dtype=dtype,
        shift=shift,
        PB=torch.tensor(PB, **f64),
        QB=None if QB is None else torch.tensor(QB, **f64),
        bounds=torch.tensor(pieces.bounds, dtype=torch.float64).to(device=device, dtype=dtype),
        P=torch.tensor(pieces.P / divisor, **f64),
        Q=torch.tensor(pieces.Q / divisor, **f64),
        irregular=torch.tensor(pieces.irregular, device=device),
        g_zero=(pieces.g_zero[0] / divisor, pieces.g_zero[1] / divisor),
        exceptions=exceptions,
        mixed=mixed,
        split=split,
        fits=fits,
        direct=_direct(table.fmt, dtype),
        divisor=float(divisor),
        lo=lo,
        hi=hi,
        forward_threshold=t_plain,
        quantized_threshold=t_quant,
    )
