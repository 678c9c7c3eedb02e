"""The mask ``m(b)`` as a branch-free integer function of the rank (spec §3, 6).

Every backend of :mod:`boolgrad.builders.backends` returns the runs of ``m`` over ranks in value order.
The array engine finds ``m`` by evaluating ``s`` at ``b`` and at each ``b ^ 2**i``.  Here
the whole mask comes out of a handful of word operations, because ``s`` is an interval
test on an integer (see :meth:`boolgrad.formats.FloatFormat.fires`):

* fixed point: ``s(b) = [x >= R]`` with ``x = rank(b) = b ^ (sign flip)``; flipping bit
  ``i`` of ``b`` flips bit ``i`` of ``x``.
* floating point, with ``A = max_mag`` and ``x = b``'s magnitude (``n-1`` bits):
  ``s(b) = [L_S <= x <= U_S]`` on sign ``S``, where ``I_0 = [max(R-A-1, 0), A]`` and
  ``I_1 = [0, A-R]`` (empty when ``R > A``).  The bound ``A`` is the NaN boundary.
  Flipping a magnitude bit keeps the interval; flipping the sign bit swaps it:
  ``chi_{n-1} = [x in I_0] XOR [x in I_1]``.

**Flip mask of a comparison.**  For ``c(x) = [x >= T]``, let ``h`` be the highest bit in
which ``x`` and ``T`` differ.  Flipping a bit below ``h`` cannot change the comparison.
Above ``h``, ``x`` agrees with ``T``; flipping bit ``i`` makes ``i`` the highest
difference, so ``c`` changes iff ``x_i = c`` (a 1 bit of an ``x >= T`` lowers it below
``T``; a 0 bit of an ``x < T`` raises it).  At ``h`` itself, ``x ^ 2**h`` agrees with
``T`` down to ``h`` and compares by its lower bits: ``c`` changes iff
``c(x) != [x mod 2**h >= T mod 2**h]``.  With ``S`` = all bits at or below ``h``
(``x ^ T`` smeared right)::

    flip(x, T) = (~S & (c ? x : ~x)) | (top bit of S if c != c_low else 0)

and the same with ``>`` for ``[x > U]``.  For an interval ``[x >= L] AND NOT [x > U]``
the flips of both bounds combine bitwise: after flipping bit ``i`` the two comparisons
are ``a ^ fa_i`` and ``b ^ fb_i``, so ``chi = in(x) ^ ((a ^ fa) & ~(b ^ fb))`` with ``a``,
``b``, ``in`` broadcast to every bit.  That is about 40 uint32 operations per pattern and
no branch, whatever the format (the array engine needs ``n`` full evaluations of ``s``).

With respect to the threshold (``wrt="theta"``) ``chi_j(r) = [r >= R_lo_j] XOR
[r >= R_hi_j]`` is the indicator of a rank interval, so ``m`` is piecewise constant with
at most ``2n`` breakpoints: :func:`boolgrad.builders.runs.theta_runs` lists them exactly, no enumeration needed.

:func:`mask_at_ranks` is this reformulation in numpy -- the reference the compiled
kernels copy line by line, tested for equality against :func:`boolgrad.gradient.mask_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...gradient import GradientSpec

__all__ = ["KernelParams", "kernel_params", "mask_at_ranks", "single_run"]

#: kernels compute in uint32 lanes (8 per AVX2 register); MAX_SWEEP_BITS is 32
KERNEL_BITS = 32


@dataclass(frozen=True)
class KernelParams:
    """The integers a kernel needs for ``wrt="u"`` (all fit in uint32).

    ``family`` is the format's family, ``"fixed"`` or ``"float"`` (``Format.kind``); ``n`` the
    pattern width.  Fixed: ``R``, the
    threshold rank (``< 2**n``; a threshold nothing passes is a single run, see
    :func:`single_run`).  Float: ``A`` (``max_mag``) and the two magnitude intervals
    ``I_0 = [L0, U0]`` (sign 0) and ``I_1 = [L1, U1]`` (sign 1); empty is ``[1, 0]``.
    """

    family: str
    n: int
    R: int = 0
    A: int = 0
    L0: int = 0
    U0: int = 0
    L1: int = 0
    U1: int = 0

    @property
    def width_mask(self) -> int:
        """Bits of ``x``: all ``n`` for fixed point, the ``n - 1`` magnitude bits for floats."""
        w = self.n if self.family == "fixed" else self.n - 1
        return (1 << w) - 1


def kernel_params(spec: GradientSpec) -> KernelParams:
    """Integer form of ``s`` for ``spec`` (``wrt="u"``), exactly as ``fmt.fires`` defines it."""
    fmt, R = spec.fmt, spec.threshold.rank
    if fmt.bits > KERNEL_BITS:
        raise ValueError(f"the sweep kernels handle formats up to {KERNEL_BITS} bits, not {fmt.name}")
    if spec.wrt != "u":
        raise ValueError("kernel_params is for wrt='u'; wrt='theta' runs come from theta_runs")
    if fmt.kind == "fixed":
        return KernelParams("fixed", fmt.bits, R=min(R, fmt.n_ranks))
    A = fmt.max_mag
    L0, U0 = max(R - A - 1, 0), A  # fires() on sign 0: max(R-A-1, 0) <= mag <= A
    L1, U1 = (0, A - R) if R <= A else (1, 0)  # sign 1: mag <= A - R, none when R > A
    if L0 > U0:
        L0, U0 = 1, 0
    return KernelParams("float", fmt.bits, A=A, L0=L0, U0=U0, L1=L1, U1=U1)


def single_run(p: KernelParams) -> bool:
    """True when ``s`` is constant 0 on every pattern, so the sweep is one run of mask 0."""
    if p.family == "fixed":
        return p.R >= 1 << p.n
    return p.L0 > p.U0 and p.L1 > p.U1


# -- numpy reference of the kernels (uint32 arithmetic, wrapping like the kernels) ----------
_U = np.uint32


def _smear(d):
    for s in (1, 2, 4, 8, 16):
        d = d | (d >> _U(s))
    return d


def _flip(x, T, strict: bool):
    """Bits ``i`` where ``[x >= T]`` (``[x > T]`` if ``strict``) changes when bit ``i`` flips."""
    T = np.asarray(T, dtype=_U)
    S = _smear(x ^ T)
    top = S ^ (S >> _U(1))
    low = S >> _U(1)
    if strict:
        c, c_low = x > T, (x & low) > (T & low)
    else:
        c, c_low = x >= T, (x & low) >= (T & low)
    keep = np.where(c, x, ~x)
    return (~S & keep) | np.where(c != c_low, top, _U(0)), c


def _interval_flip(x, L, U):
    """``(chi, in)``: bits whose flip changes ``[L <= x <= U]``, and the membership itself."""
    fa, a = _flip(x, L, False)
    fb, b = _flip(x, U, True)
    ones = _U(0xFFFFFFFF)
    A_ = np.where(a, ones, _U(0))
    B_ = np.where(b, ones, _U(0))
    inside = a & ~b
    chi = np.where(inside, ones, _U(0)) ^ ((A_ ^ fa) & ~(B_ ^ fb))
    return chi, inside


def mask_at_ranks(p: KernelParams, ranks) -> np.ndarray:
    """``m`` at each rank (uint64 array) by the integer formula of the module docstring."""
    r = np.asarray(ranks, dtype=np.uint64).astype(_U)
    wm = _U(p.width_mask)
    if p.family == "fixed":
        if single_run(p):
            return np.zeros(r.shape, dtype=np.uint64)
        return (_flip(r, p.R, False)[0] & wm).astype(np.uint64)
    A = _U(p.A)
    neg = r < A
    mag = np.where(neg, A - r, np.where(r > A + _U(1), r - A - _U(1), _U(0)))
    sign = neg | (r == A + _U(1))
    L = np.where(sign, _U(p.L1), _U(p.L0))
    U = np.where(sign, _U(p.U1), _U(p.U0))
    chi, _ = _interval_flip(mag, L, U)
    in0 = (mag >= _U(p.L0)) & (mag <= _U(p.U0))
    in1 = (mag >= _U(p.L1)) & (mag <= _U(p.U1))
    chi_sign = (in0 != in1).astype(_U) << _U(p.n - 1)
    return ((chi & wm) | chi_sign).astype(np.uint64)
