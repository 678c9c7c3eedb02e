"""Fixed point ``fixed<W>.<F>`` / ``ufixed<W>.<F>``: ``v(b) = int(b) * 2**-F`` (spec §1)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..xp import array_module
from ._base import _FormatBase, as_patterns

__all__ = ["FixedFormat"]


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
