"""Number formats: the map from an n-bit pattern ``b`` to a value ``v(b)`` (SPEC 1).

Two families, both frozen value objects (usable as cache keys):

* :class:`FixedFormat` -- ``fixed<W>.<F>`` (two's complement) and ``ufixed<W>.<F>``
  (unsigned): ``v(b) = int(b) * 2**-F``.
* :class:`FloatFormat` -- IEEE-754 binary style ``e<E>m<M>``: sign bit ``n-1``, then ``E``
  exponent bits, then ``M`` mantissa bits, bias ``2**(E-1) - 1``.  The ``fn`` variant
  (``float8_e4m3fn``, OCP FP8) has no infinities and NaN only at ``S.1..1.1..1``.

Besides ``decode``/``encode``, every format defines the *rank* of a pattern: its position
in the order of SPEC 6 (non-NaN patterns sorted by value, ties -- only ``+0`` and ``-0`` --
by pattern).  Ranks are consecutive integers ``0 .. n_ranks - 1``; the spike function is
``s(b) = [rank(b) >= R]`` for one threshold rank ``R`` (see :mod:`boolgrad.threshold`), which
turns every comparison into integer arithmetic and lets a sweep walk the patterns in value
order.

All vectorised methods take a keyword-only ``xp`` (``numpy`` or ``cupy``); by default the
module of the input array.  Patterns are unsigned integer arrays (any width that holds
``bits``); values are float64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np

from .xp import array_module

__all__ = [
    "FixedFormat",
    "FloatFormat",
    "Format",
    "PRESETS",
    "parse_format",
]


def _uint_dtype(bits: int) -> np.dtype:
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if bits <= np.dtype(dt).itemsize * 8:
            return np.dtype(dt)
    raise ValueError(f"no unsigned dtype holds {bits} bits")


def as_patterns(patterns, fmt, xp=None):
    """Patterns as a ``uint64`` array, checked to fit in ``fmt.bits``."""
    xp = xp or array_module(patterns)
    b = xp.asarray(patterns)
    if b.dtype.kind not in "ui":
        raise TypeError(f"patterns must be an integer array, got dtype {b.dtype}")
    if b.dtype.kind == "i" and b.size and bool((b < 0).any()):
        raise ValueError("patterns must be non-negative")
    b = b.astype(xp.uint64, copy=False)
    if fmt.bits < 64 and b.size and bool((b >> np.uint64(fmt.bits)).any()):
        raise ValueError(f"pattern does not fit in the {fmt.bits} bits of {fmt.name}")
    return b, xp


class _FormatBase:
    """Shared behaviour; subclasses are frozen dataclasses."""

    bits: int

    @property
    def dtype(self) -> np.dtype:
        """Smallest unsigned integer dtype that holds a pattern."""
        return _uint_dtype(self.bits)

    @property
    def n_patterns(self) -> int:
        return 1 << self.bits

    def __str__(self) -> str:  # the name round-trips through parse_format
        return self.name


@dataclass(frozen=True)
class FixedFormat(_FormatBase):
    """Fixed point: ``v(b) = int(b) * 2**-F`` with ``int`` two's complement if ``signed``.

    ``1 <= W <= 64``; any integer ``F`` for which every value is a finite float64 with
    an exact power-of-two step (``W - 1024 <= F <= 1074``).  Values with more than 53
    significant bits (``W > 53``) are rounded when decoded to float64; comparisons and
    ranks stay exact because they are integer operations on patterns.
    """

    width: int
    frac: int
    signed: bool = True

    def __post_init__(self):
        if not 1 <= self.width <= 64:
            raise ValueError(f"fixed-point word length must be 1..64, got {self.width}")
        if not self.width - 1024 <= self.frac <= 1074:
            raise ValueError(
                f"fraction bits {self.frac} put fixed{self.width} values outside float64 "
                f"(need {self.width - 1024} <= F <= 1074)"
            )

    kind = "fixed"

    @property
    def bits(self) -> int:
        return self.width

    @property
    def name(self) -> str:
        return f"{'' if self.signed else 'u'}fixed{self.width}.{self.frac}"

    @property
    def _flip(self) -> int:
        """XOR that maps a pattern to its rank (offset binary for two's complement)."""
        return 1 << (self.width - 1) if self.signed else 0

    @property
    def n_ranks(self) -> int:
        return 1 << self.width

    @property
    def int_min(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def int_max(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def max_finite(self) -> float:
        return float(Fraction(self.int_max) * Fraction(2) ** -self.frac)

    @property
    def min_finite(self) -> float:
        return float(Fraction(self.int_min) * Fraction(2) ** -self.frac)

    @property
    def ulp(self) -> float:
        """Spacing of the format, ``2**-F``."""
        return 2.0**-self.frac

    # -- traits shared with FloatFormat (so callers need not branch on the kind) ------------
    constant_weights = True  # every D_i is a constant, so g is constant on a run
    top_exponent_bit = None  # no exponent field
    signed_zero_ranks: tuple[int, ...] = ()  # one zero

    @property
    def finite_ranks(self) -> tuple[int, int]:
        """Inclusive rank range of the finite values (every pattern)."""
        return 0, self.n_ranks - 1

    def affine_rank_intervals(self) -> list[tuple[int, int, int, int]]:
        """Pattern intervals on which the rank is affine: ``(p_lo, p_hi, r_at_lo, slope)``."""
        n = self.width
        if not self.signed:
            return [(0, (1 << n) - 1, 0, 1)]
        S = 1 << (n - 1)
        return [(S, (1 << n) - 1, 0, 1), (0, S - 1, S, 1)]

    def bit_role(self, i: int) -> str:
        """``sign`` or ``int`` (what bit ``i`` is)."""
        return "sign" if self.signed and i == self.bits - 1 else "int"

    def group_mask_bits(self, bits: str) -> str:
        """A mask's binary string as it is shown (fixed point: unchanged)."""
        return bits

    # -- scalar, exact -------------------------------------------------------------------
    def to_int(self, pattern: int) -> int:
        pattern = int(pattern)
        if self.signed and pattern >> (self.width - 1):
            return pattern - (1 << self.width)
        return pattern

    def exact_value(self, pattern: int) -> Fraction:
        """``v(b)`` as an exact fraction."""
        return Fraction(self.to_int(pattern)) * Fraction(2) ** -self.frac

    def is_nan_pattern(self, pattern: int) -> bool:
        return False

    # -- vectorised ----------------------------------------------------------------------
    def decode(self, patterns, *, xp=None):
        """Pattern array -> float64 values (rounded to nearest only when ``W > 53``)."""
        b, xp = as_patterns(patterns, self, xp)
        if self.signed:
            if self.width == 64:
                ints = b.view(xp.int64)
            else:
                half = np.int64(1 << (self.width - 1))
                ints = (b.astype(xp.int64) ^ half) - half
        else:
            ints = b
        return xp.ldexp(ints.astype(xp.float64), -self.frac)

    def encode(self, values, *, saturate=True, xp=None):
        """Values -> nearest pattern (ties to even), saturating at the range ends.

        Fixed point has no infinity, so ``saturate`` is ignored (always saturates);
        ``+-inf`` map to the extremes.  NaN cannot be encoded and raises ``ValueError``.
        """
        xp = xp or array_module(values)
        v = xp.asarray(values, dtype=xp.float64)
        if v.size and bool(xp.isnan(v).any()):
            raise ValueError(f"NaN has no pattern in {self.name}")
        with np.errstate(over="ignore"):  # huge or infinite values saturate just below
            r = xp.rint(xp.ldexp(v, self.frac))  # round half to even, exact for float64 input
        lo, hi = float(self.int_min), float(self.int_max + 1)  # both exact powers of two
        too_high = r >= hi
        too_low = r <= lo
        r = xp.clip(r, lo, np.nextafter(hi, 0.0))  # castable; out-of-range ones replaced below
        if self.signed:
            ints = r.astype(xp.int64)
            ints = xp.where(too_high, np.int64(self.int_max), ints)
            ints = xp.where(too_low, np.int64(self.int_min), ints)
            b = ints.view(xp.uint64) if self.width == 64 else ints.astype(xp.uint64)
            return b & np.uint64((1 << self.width) - 1)
        b = r.astype(xp.uint64)
        b = xp.where(too_high, np.uint64(self.int_max), b)
        return xp.where(too_low, np.uint64(0), b)

    def is_nan(self, patterns, *, xp=None):
        b, xp = as_patterns(patterns, self, xp)
        return xp.zeros(b.shape, dtype=bool)

    def rank(self, patterns, *, xp=None):
        """Position in value order (uint64): offset binary for signed, the pattern otherwise."""
        b, xp = as_patterns(patterns, self, xp)
        return b ^ np.uint64(self._flip)

    def pattern_at_rank(self, ranks, *, xp=None):
        xp = xp or array_module(ranks)
        r = xp.asarray(ranks).astype(xp.uint64, copy=False)
        return r ^ np.uint64(self._flip)

    def fires(self, patterns, threshold_rank: int, *, xp=None):
        """``s(b) = [rank(b) >= R]`` as a bool array, in the patterns' own dtype."""
        xp = xp or array_module(patterns)
        b = xp.asarray(patterns)
        if threshold_rank >= self.n_ranks:
            return xp.zeros(b.shape, dtype=bool)
        return (b ^ b.dtype.type(self._flip)) >= b.dtype.type(threshold_rank)


@dataclass(frozen=True)
class FloatFormat(_FormatBase):
    """IEEE-754-style binary float ``e<E>m<M>`` (``1 <= E <= 11``, ``0 <= M <= 52``).

    ``variant="ieee"``: exponent all ones is infinity (mantissa 0) or NaN.
    ``variant="fn"``: OCP FP8 "fn" rule -- no infinities; only ``S.1..1.1..1`` is NaN, so
    the top binade is finite except its last pattern.
    The limits on ``E`` and ``M`` make every value exactly representable in float64.
    """

    exp_bits: int
    man_bits: int
    variant: str = "ieee"
    #: display name only (``float32``): not part of equality or hashing -- a format is its bits
    preset: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if not 1 <= self.exp_bits <= 11:
            raise ValueError(f"exponent bits must be 1..11 (float64 range), got {self.exp_bits}")
        if not 0 <= self.man_bits <= 52:
            raise ValueError(f"mantissa bits must be 0..52 (float64 precision), got {self.man_bits}")
        if self.variant not in ("ieee", "fn"):
            raise ValueError(f"unknown float variant {self.variant!r} (ieee or fn)")

    kind = "float"

    @property
    def bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def name(self) -> str:
        if self.preset:
            return self.preset
        return f"e{self.exp_bits}m{self.man_bits}{'fn' if self.variant == 'fn' else ''}"

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def sign_bit(self) -> int:
        return self.bits - 1

    @property
    def exponent_bits(self) -> range:
        """Bit indices of the exponent field, least significant first."""
        return range(self.man_bits, self.man_bits + self.exp_bits)

    @property
    def _mag_mask(self) -> int:
        return (1 << (self.exp_bits + self.man_bits)) - 1

    @cached_property
    def max_mag(self) -> int:
        """Largest magnitude pattern that is not NaN (the infinity, or 448's pattern for fn)."""
        if self.variant == "fn":
            return self._mag_mask - 1 if self.man_bits else self._mag_mask  # M=0: no NaN
        return ((1 << self.exp_bits) - 1) << self.man_bits

    @property
    def has_inf(self) -> bool:
        return self.variant == "ieee"

    @property
    def max_finite_mag(self) -> int:
        return self.max_mag - 1 if self.has_inf else self.max_mag

    @property
    def max_finite(self) -> float:
        return float(self.exact_value(self.max_finite_mag))

    @property
    def min_finite(self) -> float:
        return -self.max_finite

    @property
    def n_ranks(self) -> int:
        """Non-NaN patterns: ``2 * max_mag + 2`` (each non-zero magnitude twice, +0, -0)."""
        return 2 * self.max_mag + 2

    # -- traits shared with FixedFormat -----------------------------------------------------
    constant_weights = False  # exponent and sign weights vary with |u| inside a run

    @property
    def top_exponent_bit(self) -> int:
        """The most significant exponent bit (dropped by the ``paper`` convention)."""
        return self.bits - 2

    @property
    def signed_zero_ranks(self) -> tuple[int, int]:
        """Ranks of ``+0`` and ``-0``: one value, two patterns."""
        return self.max_mag, self.max_mag + 1

    @property
    def finite_ranks(self) -> tuple[int, int]:
        """Inclusive rank range of the finite values (without the infinities)."""
        return (1, self.n_ranks - 2) if self.has_inf else (0, self.n_ranks - 1)

    def affine_rank_intervals(self) -> list[tuple[int, int, int, int]]:
        """Pattern intervals on which the rank is affine: ``(p_lo, p_hi, r_at_lo, slope)``.

        ``rank(p) = r_at_lo + slope * (p - p_lo)``: negative magnitudes in reverse, ``+0``,
        ``-0``, positive magnitudes; NaN patterns lie in none (see :meth:`rank`).
        """
        A, S = self.max_mag, 1 << (self.bits - 1)
        pieces = [(S + 1, S + A, A - 1, -1), (0, 0, A, 1), (S, S, A + 1, 1)]
        if A >= 1:
            pieces.append((1, A, A + 2, 1))
        return pieces

    def bit_role(self, i: int) -> str:
        """``sign``, ``exp<j>`` or ``man<i>`` (what bit ``i`` is)."""
        if i == self.bits - 1:
            return "sign"
        return f"exp{i - self.man_bits}" if i >= self.man_bits else f"man{i}"

    def group_mask_bits(self, bits: str) -> str:
        """A mask's binary string grouped ``sign|exponent|mantissa``."""
        e = self.exp_bits
        return f"{bits[0]}|{bits[1:1 + e]}|{bits[1 + e:]}"

    # -- scalar, exact -------------------------------------------------------------------
    def is_nan_pattern(self, pattern: int) -> bool:
        return (int(pattern) & self._mag_mask) > self.max_mag

    def exact_value(self, pattern: int):
        """``v(b)`` as an exact fraction, or ``float('inf')``/``-inf``/``nan``."""
        pattern = int(pattern)
        neg = bool(pattern >> (self.exp_bits + self.man_bits))
        mag = pattern & self._mag_mask
        if mag > self.max_mag:
            return float("nan")
        e, m = mag >> self.man_bits, mag & ((1 << self.man_bits) - 1)
        if self.has_inf and e == (1 << self.exp_bits) - 1:
            return float("-inf") if neg else float("inf")
        sig = m + ((1 << self.man_bits) if e else 0)
        val = Fraction(sig) * Fraction(2) ** (max(e, 1) - self.bias - self.man_bits)
        return -val if neg else val

    # -- vectorised ----------------------------------------------------------------------
    def decode(self, patterns, *, xp=None):
        """Pattern array -> float64 values; exact (agrees with numpy / ml_dtypes)."""
        b, xp = as_patterns(patterns, self, xp)
        E, M = self.exp_bits, self.man_bits
        e = (b >> np.uint64(M)) & np.uint64((1 << E) - 1)
        m = b & np.uint64((1 << M) - 1)
        normal = e != 0
        sig = (m | (normal.astype(xp.uint64) << np.uint64(M))).astype(xp.float64)
        e_eff = xp.maximum(e, np.uint64(1))
        if self.has_inf:  # inf/NaN field: scale by 1 here (replaced below), not overflow
            e_eff = xp.where(e == np.uint64((1 << E) - 1), np.uint64(self.bias + M), e_eff)
        exp = e_eff.astype(xp.int64) - (self.bias + M)
        val = xp.ldexp(sig, exp.astype(xp.int32))
        mag = b & np.uint64(self._mag_mask)
        if self.has_inf:
            val = xp.where(mag == np.uint64(self.max_mag), xp.inf, val)
        val = xp.where(mag > np.uint64(self.max_mag), xp.nan, val)
        neg = (b >> np.uint64(E + M)) != 0
        return xp.where(neg, -val, val)

    def encode(self, values, *, saturate=False, xp=None):
        """Values -> nearest pattern, ties to even (IEEE round-to-nearest-even).

        Overflow follows the format: infinity for ``ieee``, NaN for ``fn`` (as ml_dtypes
        converts), or the largest finite magnitude with ``saturate=True`` (how a threshold
        is stored).  NaN encodes as the canonical quiet NaN; a format without a NaN pattern
        raises ``ValueError``.
        """
        xp = xp or array_module(values)
        v = xp.asarray(values, dtype=xp.float64)
        E, M = self.exp_bits, self.man_bits
        neg = xp.signbit(v)
        a = xp.abs(v)
        nan = xp.isnan(a)
        if not self.has_nan and v.size and bool(nan.any()):
            raise ValueError(f"NaN has no pattern in {self.name}")
        a = xp.where(nan, 0.0, a)
        inf = xp.isinf(a)
        a = xp.where(inf, 0.0, a)
        emin = 1 - self.bias
        _, k = xp.frexp(a)  # a = f * 2**k, 0.5 <= f < 1; k = 0 for a = 0
        q = xp.maximum(k.astype(xp.int64) - 1, emin) - M  # exponent of one ulp at a
        sig = xp.rint(xp.ldexp(a, (-q).astype(xp.int32)))  # ties to even; exact scaling
        carry = sig >= 2.0 ** (M + 1)  # rounded up into the next binade
        sig = xp.where(carry, sig / 2, sig)
        q = q + carry
        isnormal = sig >= 2.0**M
        efield = xp.where(isnormal, q + M + self.bias, 0)
        mfield = xp.where(isnormal, sig - 2.0**M, sig).astype(xp.uint64)
        mag = (efield.astype(xp.uint64) << np.uint64(M)) | mfield
        over = inf | (efield >= (1 << E)) | (mag > np.uint64(self.max_finite_mag))
        if saturate:
            over_mag = self.max_finite_mag
        else:
            over_mag = self.max_mag if self.has_inf else self._nan_mag
        mag = xp.where(over, np.uint64(over_mag), mag)
        if self.has_nan:
            mag = xp.where(nan, np.uint64(self._nan_mag), mag)
        return mag | (neg.astype(xp.uint64) << np.uint64(E + M))

    @property
    def has_nan(self) -> bool:
        return self.max_mag < self._mag_mask

    @property
    def _nan_mag(self) -> int:
        """Canonical NaN magnitude: quiet NaN for ieee, all ones for fn."""
        if self.variant == "fn":
            return self._mag_mask
        return self.max_mag | (1 << (self.man_bits - 1)) if self.man_bits else self._mag_mask

    def is_nan(self, patterns, *, xp=None):
        b, xp = as_patterns(patterns, self, xp)
        return (b & np.uint64(self._mag_mask)) > np.uint64(self.max_mag)

    def rank(self, patterns, *, xp=None):
        """Position in value order (uint64); meaningless for NaN patterns (see ``is_nan``).

        With ``A = max_mag``: negative magnitude ``m > 0`` -> ``A - m``; ``+0`` -> ``A``;
        ``-0`` -> ``A + 1``; positive magnitude ``m > 0`` -> ``A + 1 + m``.
        """
        b, xp = as_patterns(patterns, self, xp)
        A = np.uint64(self.max_mag)
        mag = b & np.uint64(self._mag_mask)
        neg = (b >> np.uint64(self.exp_bits + self.man_bits)) != 0
        zero = mag == 0
        pos_rank = xp.where(zero, A, A + np.uint64(1) + mag)
        neg_rank = xp.where(zero, A + np.uint64(1), A - xp.minimum(mag, A))
        return xp.where(neg, neg_rank, pos_rank)

    def pattern_at_rank(self, ranks, *, xp=None):
        xp = xp or array_module(ranks)
        r = xp.asarray(ranks).astype(xp.uint64, copy=False)
        A = np.uint64(self.max_mag)
        sign = np.uint64(1 << (self.exp_bits + self.man_bits))
        neg = sign | (A - xp.minimum(r, A))
        pos = r - xp.minimum(r, A + np.uint64(1))
        out = xp.where(r < A, neg, pos)
        return xp.where(r == A + np.uint64(1), sign, out)

    def fires(self, patterns, threshold_rank: int, *, xp=None):
        """``s(b) = [rank(b) >= R]`` and not NaN, without computing ranks.

        Negative patterns fire iff ``mag <= A - R``; non-negative ones iff
        ``max(R - A - 1, 0) <= mag <= A``.  (``R = A + 1`` cannot occur: a threshold rank
        always starts a group of equal values, and ``+0``/``-0`` are one group.)
        """
        xp = xp or array_module(patterns)
        b = xp.asarray(patterns)
        t = b.dtype.type
        A = self.max_mag
        mag = b & t(self._mag_mask)
        neg = b > t(self._mag_mask)
        pos_fire = (mag >= t(max(threshold_rank - A - 1, 0))) & (mag <= t(A))
        if threshold_rank > A:
            return pos_fire & ~neg
        return xp.where(neg, mag <= t(A - threshold_rank), pos_fire)


Format = FixedFormat | FloatFormat

#: Named presets (SPEC 1).
PRESETS: dict[str, FloatFormat] = {
    "float64": FloatFormat(11, 52, preset="float64"),
    "float32": FloatFormat(8, 23, preset="float32"),
    "float16": FloatFormat(5, 10, preset="float16"),
    "bfloat16": FloatFormat(8, 7, preset="bfloat16"),
    "float8_e5m2": FloatFormat(5, 2, preset="float8_e5m2"),
    "float8_e4m3fn": FloatFormat(4, 3, variant="fn", preset="float8_e4m3fn"),
}

_FIXED_RE = re.compile(r"(u?)fixed(\d+)\.(-?\d+)")
_FLOAT_RE = re.compile(r"e(\d+)m(\d+)(fn)?")


def parse_format(name) -> Format:
    """Format from its SPEC 1 name.

    ``fixed16.12``, ``ufixed5.-2``, ``e5m10``, ``e4m3fn``, or a preset (``float64``,
    ``float32``, ``float16``, ``bfloat16``, ``float8_e5m2``, ``float8_e4m3fn``).  A format
    object is returned unchanged.  Unknown names raise ``ValueError`` listing the forms.
    """
    if isinstance(name, (FixedFormat, FloatFormat)):
        return name
    if not isinstance(name, str):
        raise TypeError(f"format must be a name or a format object, got {type(name).__name__}")
    key = name.strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    if m := _FIXED_RE.fullmatch(key):
        return FixedFormat(int(m.group(2)), int(m.group(3)), signed=not m.group(1))
    if m := _FLOAT_RE.fullmatch(key):
        return FloatFormat(int(m.group(1)), int(m.group(2)), variant="fn" if m.group(3) else "ieee")
    raise ValueError(
        f"unknown format {name!r}: use fixed<W>.<F>, ufixed<W>.<F>, e<E>m<M>[fn] or one of "
        + ", ".join(PRESETS)
    )
