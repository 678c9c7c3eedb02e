"""Compile a :class:`~boolgrad.table.GradientTable` into tensors that give ``g`` at surrogate speed.

The table stores runs of equal mask (SPEC 6); ``g`` at a pattern is the sum of the terms its
mask selects (SPEC 5).  Summing per element and per bit is exact but costs ~10 tensor
operations per bit.  Instead we use the closed form that holds inside a run (the derivation is
in :mod:`boolgrad.segments`):

* fixed point, and ``wrt="theta"`` for any format: every bit weight ``D_i`` is constant, so
  ``g`` is constant on a run.
* floating point, ``wrt="u"``: cut each run at every change of sign or exponent field into
  *pieces*.  On a piece ``|v| = (c0 + m) 2**q`` and ``g(m) = C + sum_k w_k / (m + x_k)``.  In
  a normal binade every exponent-bit term and the sign-bit term have ``x_k = c0 = 2**M``
  (flipping an exponent bit scales the value by a power of two), so

      g = P + Q / v,      P = C,   Q = sign(v) 2**q sum_k w_k

  -- one division and one addition in float64, with ``P`` and ``Q`` computed once from exact
  fractions.  A piece is *regular* when this form is within ``2**-64`` (relative, per term) of
  the exact ``sum w_k / (m + x_k)``: every normal binade whose exponent flips stay normal, and
  the binades ``e = 2**j`` that flip to subnormals when ``x_k - c0`` is negligible (``j >= 6``
  for float32: e.g. ``[2, 4)``).  The others are *irregular* (subnormals, the float32 binades
  ``2**-125 .. 2**-94``, the ``fn`` top binade whose flips hit the NaN pattern, float64 values
  whose weights overflow): their rare elements get the table's own
  :meth:`~boolgrad.table.GradientTable.gradient`.

Lookup without a binary search (a searchsorted costs ~50 ns per element on a CPU, more than the
whole surrogate): the top 16 bits of each element's pattern in its *own* dtype index a table
of ``2**16`` buckets (for 16-bit dtypes a bucket is one pattern and holds ``g`` itself, exactly).
A bucket inside one regular piece holds its ``(P, Q)``; the few others -- buckets that a piece
boundary cuts (next to theta), that hold ``+-0`` or NaN patterns, or that meet an irregular
piece -- hold NaN.  So the fast path is: shift, two gathers, ``P + Q / v``; a NaN in the
result (one ``sum``) sends just those elements down the exact slow path: ``searchsorted`` over
the pieces' bounds, ``g(+-0)`` by sign, ``g = 0`` for NaN inputs (SPEC 5 makes every term at a
NaN pattern degenerate), and the table itself on irregular pieces.  Two refinements keep the
buckets next to theta on the fast path: a single pattern whose neighbour's ``P + Q / x``
already gives its ``g`` to float64 rounding is absorbed (theta = 1.0: its extra mask bit flips
onto infinity, a degenerate term); one remaining single pattern at a bucket's end (the nearest
to theta) is patched by value (``masked_fill``).  On a CPU the float64 intermediates live in a
per-thread workspace (:func:`plan_gradient_as`); on CUDA with Triton the fast path is one
fused kernel (:mod:`boolgrad.torch._fused`).

The bounds are values of the *input* dtype ("the smallest value whose rounding to the table's
format lands in this piece", :mod:`boolgrad.torch._pieces`), so a float32 tensor is looked up in
a bfloat16 or fixed-point table without rounding it first, ties to even included; only the
``v`` of ``P + Q / v`` is rounded (:func:`boolgrad.torch.quantize.quantize`) -- and not even
that when every dtype value is a value of the format.

Result: float64 ``g`` equal to ``GradientTable.gradient`` up to float64 rounding (16-bit
dtypes and constant pieces: bit for bit), scaled (``/ divisor``, optional ``min(., 1)``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from ..formats import PRESETS, FloatFormat
from ..table import GradientTable
from ._pieces import forward_thresholds, piece_table

__all__ = ["DTYPE_FORMATS", "TablePlan", "compile_plan", "dtype_format", "plan_gradient", "plan_gradient_as"]

#: torch dtypes a spike function accepts, and the boolgrad format of their bit patterns.
DTYPE_FORMATS = {
    torch.float16: "float16",
    torch.bfloat16: "bfloat16",
    torch.float32: "float32",
    torch.float64: "float64",
}
_INT_VIEW = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}
_BUCKET_BITS = 16
_MAX_EXCEPTIONS = 1  # each costs two elementwise operations on every call
_NP = {"float32": np.float32, "float64": np.float64}


def dtype_format(dtype) -> FloatFormat:
    """The boolgrad format of a floating torch dtype's bit patterns."""
    try:
        return PRESETS[DTYPE_FORMATS[dtype]]
    except KeyError:
        supported = ", ".join(str(d) for d in DTYPE_FORMATS)
        raise TypeError(f"spike functions take floating tensors ({supported}), got {dtype}") from None


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
    """A table compiled for one input dtype and device, scaled (build with :func:`compile_plan`).

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
    fits: bool  # every dtype value is a value of the format: no rounding in the backward
    divisor: float
    clamp: bool
    forward_threshold: float
    quantized_threshold: float | tuple  # (lo, hi) when values above hi round onto NaN ("fn")
    workspace: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def fmt(self):
        return self.table.fmt

    @property
    def n_pieces(self) -> int:
        return int(self.P.numel())


def _exact(table: GradientTable, values: np.ndarray, divisor: float, clamp: bool) -> np.ndarray:
    """The table's own ``g`` (scaled) at dtype values; NaN values have ``g = 0``."""
    out = np.zeros(values.shape, dtype=np.float64)
    ok = ~np.isnan(values)
    out[ok] = table.gradient(values[ok], kind="values") / divisor
    return np.minimum(out, 1.0) if clamp else out


def _buckets(table, pieces, dfmt, divisor, clamp, fits, theta):
    """``(shift, PB, QB, exceptions)``: per top-16-bit bucket of the dtype's patterns (module
    doc).  ``exceptions``: up to :data:`_MAX_EXCEPTIONS` ``(value, g)`` -- single patterns at
    the end of an otherwise pure bucket (theta = 1.0 itself is one), the nearest to theta."""
    n = 1 << min(dfmt.bits, _BUCKET_BITS)
    tops = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        if dfmt.bits <= _BUCKET_BITS:  # a bucket is one pattern: g itself, exactly
            return 0, _exact(table, dfmt.decode(tops), divisor, clamp), None, ()
        shift = dfmt.bits - _BUCKET_BITS  # <= man_bits: a bucket has one sign and exponent field
        first = tops << np.uint64(shift)
        last = first | np.uint64((1 << shift) - 1)
        a, b = dfmt.decode(first), dfmt.decode(last)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    exp = (first >> np.uint64(dfmt.man_bits)) & np.uint64((1 << dfmt.exp_bits) - 1)
    special = (exp == (1 << dfmt.exp_bits) - 1) | (lo == 0) | (hi == 0)  # inf/NaN, +-0
    k_lo = np.searchsorted(pieces.bounds, np.where(special, 0.0, lo), side="right")
    k_hi = np.searchsorted(pieces.bounds, np.where(special, 0.0, hi), side="right")
    k = k_lo.copy()
    exceptions = []
    if fits:  # two pieces, one of them a single pattern at an end of the bucket
        two = np.flatnonzero(
            ~special & (k_hi == k_lo + 1) & ~pieces.irregular[k_lo] & ~pieces.irregular[k_hi]
        )
        nxt = np.nextafter(lo[two].astype(_NP[dfmt.name]), np.inf).astype(np.float64)
        start = pieces.bounds[k_lo[two]]  # where the upper piece begins
        cand = [(i, lo[i], k_hi[i]) for i, s, nx in zip(two, start, nxt) if s == nx]  # low end alone
        cand += [(i, hi[i], k_lo[i]) for i, s in zip(two, start) if s == hi[i]]  # high end alone
        cand.sort(key=lambda c: abs(c[1] - theta))
        cand = cand[:_MAX_EXCEPTIONS]
        if cand:
            xs = np.asarray([c[1] for c in cand])
            gx = _exact(table, xs, divisor, clamp)
            for (i, x, keep), g in zip(cand, gx):
                k[i] = keep
                k_hi[i] = keep
                exceptions.append((float(x), float(g)))
    good = ~special & (k == k_hi) & ~pieces.irregular[k]
    PB = np.where(good, pieces.P[k] / divisor, np.nan)
    QB = None if pieces.constant else np.where(good, pieces.Q[k] / divisor, np.nan)
    return shift, PB, QB, tuple(exceptions)


def compile_plan(
    table: GradientTable, dtype=torch.float32, device="cpu", divisor=1.0, clamp=False
) -> TablePlan:
    """Compile ``table`` for inputs of ``dtype`` on ``device``; ``g`` comes out divided by
    ``divisor`` and, with ``clamp``, capped at 1 (see :data:`boolgrad.torch.SCALINGS`)."""
    dfmt = dtype_format(dtype)
    pieces = piece_table(table, dfmt)
    fits = _fits(table.fmt, dfmt)
    theta = table.spec.threshold.used
    shift, PB, QB, exceptions = _buckets(table, pieces, dfmt, divisor, clamp, fits, theta)
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
        fits=fits,
        divisor=float(divisor),
        clamp=bool(clamp),
        forward_threshold=t_plain,
        quantized_threshold=t_quant,
    )


# -- evaluation -------------------------------------------------------------------------------------
def _value(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """``v``: the element's value in the table's format, float64."""
    if plan.fits:
        return u.to(torch.float64)
    from .quantize import quantize

    return quantize(u, plan.fmt, dtype=torch.float64)


def plan_gradient(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """Scaled ``g`` (float64, a new tensor of ``u``'s shape) at each element's own pattern in the
    table's format."""
    return _gradient(plan, u, None)


def plan_gradient_as(plan: TablePlan, u: torch.Tensor, dtype, fused: bool = True) -> torch.Tensor:
    """``plan_gradient(plan, u).to(dtype)``, the backward's form: on a CPU the float64
    intermediates live in a per-thread workspace kept by the plan, so the only new ``u``-sized
    tensor is the result (fresh CPU allocations page-fault: ~0.1 ms per MiB).  On a CUDA device
    with Triton, float32/float64 inputs on plans that need no rounding run as one fused kernel
    (:mod:`boolgrad.torch._fused`; ``fused=False`` forces the unfused path)."""
    if (
        fused
        and u.is_cuda
        and plan.shift
        and (plan.fits or plan.QB is None)
        and dtype in (torch.float32, torch.float64)
    ):
        from ._fused import fused_available, fused_gradient

        if fused_available():
            return fused_gradient(plan, u, dtype, _slow)
    ws = None
    if u.device.type == "cpu":
        local = plan.workspace
        ws = getattr(local, "buffers", None)
        if ws is None or ws[0] != (u.numel(), u.dtype):
            n = u.numel()
            idx_dtype = torch.int64 if u.dtype == torch.float64 else torch.int32
            ws = (
                (n, u.dtype),
                torch.empty(n, dtype=idx_dtype),
                torch.empty(n, dtype=torch.float64),
                torch.empty(n, dtype=torch.float64),
            )
            local.buffers = ws
    return _gradient(plan, u, ws).to(dtype, copy=ws is not None)  # never hand out the workspace


def _gradient(plan: TablePlan, u: torch.Tensor, ws) -> torch.Tensor:
    """The fast path (module doc); ``ws``: optional ``(key, idx, P, Q)`` scratch tensors."""
    if u.dtype != plan.dtype:
        raise TypeError(f"plan compiled for {plan.dtype}, got a {u.dtype} tensor")
    ints = u.reshape(-1).view(_INT_VIEW[u.dtype])
    _, idx_buf, p_buf, q_buf = ws if ws is not None else (None, None, None, None)
    if plan.shift:
        idx = torch.bitwise_right_shift(ints, plan.shift, out=idx_buf)
    else:
        idx = ints.to(torch.int32) if idx_buf is None else idx_buf.copy_(ints)
    idx = idx.bitwise_and_(0xFFFF)  # the top 16 bits as an unsigned bucket number
    g = torch.index_select(plan.PB, 0, idx, out=p_buf)
    if plan.QB is not None:
        Q = torch.index_select(plan.QB, 0, idx, out=q_buf)
        v = u.reshape(-1) if plan.fits else _value(plan, u).reshape(-1)  # addcdiv promotes float32 exactly
        g = torch.addcdiv(g, Q, v, out=Q)  # P + Q / v
    if plan.clamp:
        g = g.clamp_max_(1.0)
    for x, gx in plan.exceptions:
        g = g.masked_fill_(u.reshape(-1) == x, gx)
    if plan.shift and bool(torch.isnan(g.sum())):  # NaN buckets (or inf - inf: harmless)
        bad = torch.isnan(g).nonzero().squeeze(1)
        g[bad] = _slow(plan, u.reshape(-1)[bad])
    return g.view(u.shape)


def _slow(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """Exact ``g`` for a (small) 1-D set of elements: searchsorted over the pieces."""
    r = torch.searchsorted(plan.bounds, u, right=True)
    g = plan.P[r]
    if plan.QB is not None:
        v = _value(plan, u)
        g = g + plan.Q[r] / v
        zero = v == 0  # the format's +-0: their own g (the lookup joins them)
        if bool(zero.any()):
            g0 = torch.tensor(plan.g_zero, dtype=torch.float64, device=g.device)
            g = torch.where(zero, g0[torch.signbit(v).long()], g)
        g = g.masked_fill_(torch.isnan(v), 0.0)  # NaN patterns (NaN input, fn overflow): g = 0
        irr = plan.irregular[r] & ~torch.isnan(v)
        if bool(irr.any()):
            values = u[irr].to(torch.float64).cpu().numpy()
            exact = _exact(plan.table, values, plan.divisor, False)
            g = g.masked_scatter(irr, torch.from_numpy(exact).to(g.device))
    else:
        g = g.masked_fill(torch.isnan(u), 0.0)  # a NaN input has no pattern in fixed point: g = 0
    return g.clamp_max_(1.0) if plan.clamp else g
