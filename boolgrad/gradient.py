"""The Boolean derivative and the gradient it implies, per pattern (spec §3-5).

For bit ``i`` of the variable (``u``'s pattern ``b``, or the threshold's pattern ``t``):

* Boolean derivative ``chi_i = s XOR s(flip i)``; the mask ``m = sum_i chi_i 2**i``.
* Bit weight ``D_i = v(x | 2**i) - v(x & ~2**i)`` (what setting bit ``i`` adds).
* Term ``c_i``: ``secant`` -- ``(s(x | 2**i) - s(x & ~2**i)) / D_i``;
  ``paper`` -- ``1 / D_i`` (Yoo & Jeong 2025, whose code also drops the most significant
  exponent bit, the default ``excluded`` set there).  A ``D_i`` that is 0, infinite or NaN
  contributes 0 and is counted in ``degenerate``.
* ``g = sum_{i not in X} chi_i c_i``, summed from bit 0 upwards (float64).

With respect to the threshold (``wrt="theta"``) ``x`` is ``t``: flipping bit ``j`` of
``t`` moves the threshold rank, so ``chi_j(b) = [rank(b) >= R(t)] XOR [rank(b) >= R(t ^ 2**j)]``
and ``D_j`` is a constant of the threshold.  The secant terms are then ``<= 0``.

:func:`gradient_at` is the reference evaluation (every bit flipped); a
:class:`~boolgrad.table.GradientTable` supplies the mask from its runs and calls the same
:func:`sum_terms`.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property

import numpy as np

from .xp import array_module, to_numpy
from .formats import Format, as_patterns, parse_format
from .threshold import Threshold, make_threshold, pattern_threshold_rank

__all__ = [
    "CONVENTIONS",
    "OPTION_NAMES",
    "WRT",
    "exact_g",
    "GradientSpec",
    "PointGradient",
    "gradient_at",
    "gradient_from_spec",
    "make_spec",
    "mask_of",
    "sum_terms",
    "to_patterns",
]

CONVENTIONS = ("secant", "paper")
WRT = ("u", "theta")
#: the keyword options of :func:`make_spec` (besides format and theta), as every door takes them
OPTION_NAMES = ("comparator", "convention", "wrt", "exact_threshold", "excluded_bits")


@dataclass(frozen=True)
class GradientSpec:
    """Everything that fixes ``g``: format, resolved threshold, convention, variable, ``X``.

    Frozen and hashable: build it once (``make_spec``), apply it to many arrays.
    """

    fmt: Format
    threshold: Threshold
    convention: str = "secant"
    wrt: str = "u"
    excluded: tuple[int, ...] = ()

    @property
    def bits(self) -> int:
        return self.fmt.bits

    @property
    def options(self) -> dict:
        """The keyword options of :func:`make_spec` that rebuild this spec (with fmt, theta)."""
        thr = self.threshold
        values = (thr.comparator, self.convention, self.wrt, thr.exact, self.excluded)
        return dict(zip(OPTION_NAMES, values))

    def at_theta(self, theta) -> GradientSpec:
        """The same options at another threshold (a learnable theta's new value)."""
        thr = self.threshold
        return _checked(replace(self, threshold=make_threshold(self.fmt, theta, thr.comparator, thr.exact)))

    def with_wrt(self, wrt: str) -> GradientSpec:
        """The same threshold and options, differentiated with respect to ``wrt``."""
        return _checked(replace(self, wrt=wrt))

    @cached_property
    def theta_flip_ranks(self) -> tuple[tuple[int, int], ...]:
        """Per bit ``j`` of ``t``: threshold ranks of ``t & ~2**j`` and ``t | 2**j``."""
        fmt, thr = self.fmt, self.threshold
        return tuple(
            (
                pattern_threshold_rank(fmt, thr.pattern & ~(1 << j), thr.comparator),
                pattern_threshold_rank(fmt, thr.pattern | (1 << j), thr.comparator),
            )
            for j in range(fmt.bits)
        )

    @cached_property
    def theta_weights(self) -> np.ndarray:
        """``D_j`` of the threshold pattern, shape ``(bits,)`` (float64)."""
        t = self.threshold.pattern
        bits = np.uint64(1) << np.arange(self.fmt.bits, dtype=np.uint64)
        t = np.uint64(t)
        return self.fmt.decode(t | bits) - self.fmt.decode(t & ~bits)


def make_spec(
    fmt,
    theta,
    *,
    comparator: str = "ge",
    convention: str = "secant",
    wrt: str = "u",
    exact_threshold: bool = False,
    excluded_bits=None,
) -> GradientSpec:
    """Validate the options of spec §2-5 and resolve the threshold once.

    ``excluded_bits=None`` means the convention's default: empty for ``secant``; for
    ``paper`` the most significant exponent bit of a float format (empty for fixed point).
    """
    fmt = parse_format(fmt)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    thr = make_threshold(fmt, theta, comparator, exact_threshold)
    if excluded_bits is None:
        top = fmt.top_exponent_bit
        excluded = (top,) if convention == "paper" and top is not None else ()
    else:
        if isinstance(excluded_bits, (int, np.integer)):
            excluded_bits = (excluded_bits,)
        try:
            excluded = tuple(sorted({operator.index(i) for i in excluded_bits}))
        except TypeError:
            raise ValueError(f"excluded_bits must be bit indices (ints), got {excluded_bits!r}") from None
        bad = [i for i in excluded if not 0 <= i < fmt.bits]
        if bad:
            raise ValueError(f"excluded bits {bad} are outside 0..{fmt.bits - 1} of {fmt.name}")
    return _checked(GradientSpec(fmt, thr, convention, wrt, excluded))


def _checked(spec: GradientSpec) -> GradientSpec:
    if spec.wrt not in WRT:
        raise ValueError(f"wrt must be 'u' or 'theta', got {spec.wrt!r}")
    if spec.wrt == "theta" and spec.threshold.pattern is None:
        raise ValueError(
            f"wrt='theta' differentiates the threshold's bit pattern, but {spec.threshold.requested!r} "
            f"is not representable in {spec.fmt.name}; drop exact_threshold or use a representable theta"
        )
    return spec


def to_patterns(fmt: Format, x, *, read_as: str | None = None, xp=None):
    """Patterns of ``x``: unsigned integer arrays are patterns, anything else values.

    Values (real numbers: bool, int or float dtypes) are converted by round-to-nearest-even
    (``fmt.encode``; IEEE overflow rules); NaN inputs -- quiet or signalling -- are NaN.
    ``read_as="values"`` or ``"patterns"`` overrides the dtype rule.  Anything else (``None``,
    strings, complex numbers, objects) is refused with ``TypeError``.
    """
    xp = xp or array_module(x)
    if x is None:
        raise TypeError("expected values or patterns (an array of real numbers), got None")
    a = xp.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"expected values or patterns (real numbers), got an array of dtype {a.dtype}")
    if read_as is None:
        read_as = "patterns" if a.dtype.kind == "u" else "values"
    if read_as == "patterns":
        return as_patterns(a, fmt, xp)[0]
    if read_as != "values":
        raise ValueError(f"read_as must be 'values' or 'patterns', got {read_as!r}")
    with np.errstate(invalid="ignore"):  # a signalling NaN becomes a quiet NaN: still NaN
        v = a.astype(xp.float64)
    return fmt.encode(v, xp=xp)


def _flip_fires(spec: GradientSpec, b, i: int, xp):
    """``(s(x | 2**i), s(x & ~2**i))`` evaluated for patterns ``b`` of ``u``."""
    if spec.wrt == "u":
        bit = b.dtype.type(1 << i)
        return (
            spec.fmt.fires(b | bit, spec.threshold.rank, xp=xp),
            spec.fmt.fires(b & ~bit, spec.threshold.rank, xp=xp),
        )
    r_lo, r_hi = spec.theta_flip_ranks[i]
    return spec.fmt.fires(b, r_hi, xp=xp), spec.fmt.fires(b, r_lo, xp=xp)


def _flip_values(spec: GradientSpec, b, i: int, xp):
    """``(v(x | 2**i), v(x & ~2**i))`` of the variable ``x`` (``u``'s patterns, or ``t``)."""
    fmt = spec.fmt
    if spec.wrt == "u":
        bit = np.uint64(1 << i)
        return fmt.decode(b | bit, xp=xp), fmt.decode(b & ~bit, xp=xp)
    t = np.asarray([spec.threshold.pattern], dtype=np.uint64)
    hi, lo = (float(fmt.decode(t | np.uint64(1 << i))[0]), float(fmt.decode(t & ~np.uint64(1 << i))[0]))
    return xp.full(b.shape, hi), xp.full(b.shape, lo)


def mask_of(spec: GradientSpec, b, *, xp=None):
    """Mask ``m(b)`` of every pattern in ``b`` (in ``b``'s dtype), flipping each bit."""
    xp = xp or array_module(b)
    m = xp.zeros(b.shape, dtype=b.dtype)
    for i in range(spec.bits):
        s_hi, s_lo = _flip_fires(spec, b, i, xp)
        m |= (s_hi != s_lo).astype(b.dtype) << b.dtype.type(i)
    return m


def sum_terms(spec: GradientSpec, b, mask=None, *, xp=None, keep_terms=False):
    """``g = sum_{i not in X} chi_i c_i`` for patterns ``b`` (uint64).

    ``chi_i`` is read from ``mask`` when given (a table's run mask), else found by
    flipping bit ``i``.  Returns ``(g, degenerate, mask, terms)``; ``terms`` is
    ``(chi, D, c)`` stacked on a last axis over the bits when ``keep_terms``, else None.
    """
    xp = xp or array_module(b)
    fmt = spec.fmt
    g = xp.zeros(b.shape, dtype=xp.float64)
    degenerate = xp.zeros(b.shape, dtype=xp.int64)
    found = xp.zeros(b.shape, dtype=xp.uint64) if mask is None else mask
    overflow = xp.zeros(b.shape, dtype=bool)
    chis, Ds, cs = [], [], []
    for i in range(fmt.bits):
        bit = np.uint64(1 << i)
        s_hi, s_lo = _flip_fires(spec, b, i, xp)
        if mask is None:
            chi = s_hi != s_lo
            found |= chi.astype(xp.uint64) << np.uint64(i)
        else:
            chi = (mask & bit) != 0
        v_hi, v_lo = _flip_values(spec, b, i, xp)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            D = v_hi - v_lo
            # only float64's sign bit above 2**1023 overflows: the weight is a finite real,
            # so its term is computed from the halves (D itself stays reported as +-inf)
            over = xp.isinf(D) & xp.isfinite(v_hi) & xp.isfinite(v_lo)
            num = s_hi.astype(xp.float64) - s_lo.astype(xp.float64) if spec.convention == "secant" else 1.0
            c = num / xp.where(over, v_hi * 0.5 - v_lo * 0.5, D) * xp.where(over, 0.5, 1.0)
        bad = (~xp.isfinite(D) & ~over) | (D == 0)
        c = xp.where(bad, 0.0, c)
        if i not in spec.excluded:
            with np.errstate(invalid="ignore"):  # inf - inf: redone exactly below
                g += xp.where(chi, c, 0.0)
            degenerate += (chi & bad).astype(xp.int64)
            overflow |= chi & ~xp.isfinite(c)
        if keep_terms:
            chis.append(chi)
            Ds.append(D)
            cs.append(c)
    if bool(overflow.any()):
        # a weight below 2**-1024 (float64 subnormals, F > 1024) makes 1/D overflow although
        # D is a finite non-zero real: sum those patterns exactly, then round (maybe to inf)
        idx = xp.flatnonzero(overflow)
        pats, masks = to_numpy(b[idx]), to_numpy(found[idx])
        exact = [_round(exact_g(spec, int(p), int(m))) for p, m in zip(pats, masks)]
        g[idx] = xp.asarray(exact, dtype=xp.float64)
    terms = tuple(xp.stack(t, axis=-1) for t in (chis, Ds, cs)) if keep_terms else None
    return g, degenerate, found, terms


def _round(x: Fraction) -> float:
    """Nearest float64 of an exact rational, +-inf beyond the float64 range."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def exact_g(spec: GradientSpec, pattern: int, mask: int) -> Fraction:
    """``g`` at one pattern with the given mask, in exact rational arithmetic (spec §5)."""
    fmt = spec.fmt
    var = pattern if spec.wrt == "u" else spec.threshold.pattern
    b = np.asarray([pattern], dtype=np.uint64)
    total = Fraction(0)
    for i in range(fmt.bits):
        if not (mask >> i) & 1 or i in spec.excluded:
            continue
        v_hi, v_lo = fmt.exact_value(var | (1 << i)), fmt.exact_value(var & ~(1 << i))
        if isinstance(v_hi, float) or isinstance(v_lo, float) or v_hi == v_lo:
            continue  # an infinite or NaN end, or D = 0: degenerate
        if spec.convention == "secant":
            s_hi, s_lo = _flip_fires(spec, b, i, np)
            total += Fraction(int(s_hi[0]) - int(s_lo[0])) / (v_hi - v_lo)
        else:
            total += 1 / (v_hi - v_lo)
    return total


@dataclass(frozen=True)
class PointGradient:
    """Result of :func:`gradient_at`; arrays have the input's shape.

    ``chi``, ``D`` and ``c`` (only with ``terms=True``) add a last axis over the bits
    ``0 .. n-1``; ``c`` is the per-bit term before exclusion (0 where degenerate).
    """

    spec: GradientSpec
    patterns: object
    values: object
    spike: object
    mask: object
    g: object
    degenerate: object
    chi: object = None
    D: object = None
    c: object = None


def gradient_at(fmt, theta, x, *, read_as: str | None = None, terms: bool = False, xp=None, **options):
    """Exact Boolean-derivative gradient at the patterns of ``x``, any format up to 64 bits.

    ``options`` are those of :func:`make_spec` (``comparator``, ``convention``, ``wrt``,
    ``exact_threshold``, ``excluded_bits``); :func:`gradient_from_spec` takes a built spec.
    """
    return gradient_from_spec(make_spec(fmt, theta, **options), x, read_as=read_as, terms=terms, xp=xp)


def gradient_from_spec(spec: GradientSpec, x, *, read_as: str | None = None, terms: bool = False, xp=None):
    """:class:`PointGradient` of ``spec`` at ``x``.

    ``x``: values (rounded to the format, ties to even) or raw patterns (unsigned integer
    dtype, or ``read_as="patterns"``).  NaN patterns are allowed (``s = 0`` there).
    """
    xp = xp or array_module(x)
    b = to_patterns(spec.fmt, x, read_as=read_as, xp=xp)
    g, degenerate, mask, t = sum_terms(spec, b, xp=xp, keep_terms=terms)
    chi, D, c = t if terms else (None, None, None)
    return PointGradient(
        spec=spec,
        patterns=b,
        values=spec.fmt.decode(b, xp=xp),
        spike=spec.threshold.fires(b, xp=xp),
        mask=mask,
        g=g,
        degenerate=degenerate,
        chi=chi,
        D=D,
        c=c,
    )
