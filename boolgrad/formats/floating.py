"""IEEE-754-style binary floats ``e<E>m<M>`` and the OCP ``fn`` variant (spec §1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..xp import array_module
from ._base import _FormatBase, as_patterns

__all__ = ["FloatFormat"]


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
