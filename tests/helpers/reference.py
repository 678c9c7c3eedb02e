"""An independent, slow reference: spec §2-5 with exact fractions, one pattern at a time.

It shares no code with boolgrad's evaluation: float32/float64 patterns are decoded with
``struct`` (the machine's own IEEE decoder), fixed point with integer arithmetic, the threshold
is rounded by numpy's IEEE conversion, and every weight, term and sum is a ``Fraction``.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import numpy as np

_STRUCT = {32: ("<I", "<f", np.float32), 64: ("<Q", "<d", np.float64)}


def float_value(bits: int, pattern: int):
    """Exact value of an IEEE binary32/binary64 pattern (Fraction, +-inf or nan)."""
    ifmt, ffmt, _ = _STRUCT[bits]
    x = struct.unpack(ffmt, struct.pack(ifmt, pattern))[0]
    return x if not math.isfinite(x) else Fraction(x)


def round_theta_float(bits: int, theta: float) -> tuple[int, object]:
    """Hardware rounding of theta (RNE), saturating at the largest finite value."""
    ifmt, ffmt, dt = _STRUCT[bits]
    with np.errstate(over="ignore"):
        x = float(dt(theta))
    if math.isinf(x):
        x = float(np.finfo(dt).max) * (1 if x > 0 else -1)
    pattern = struct.unpack(ifmt, struct.pack(ffmt, x))[0]
    return pattern, Fraction(x)


def _s(value, theta, comparator):
    if isinstance(value, float) and math.isnan(value):
        return 0
    return int(value >= theta) if comparator == "ge" else int(value > theta)


def reference_g(value_of, n_bits, pattern, theta_used, *, comparator="ge", convention="secant",
                excluded=(), wrt="u", theta_pattern=None):
    """``(mask, g)`` at one pattern by spec §3-5; ``value_of(p)`` decodes a pattern exactly."""
    mask, g = 0, Fraction(0)
    u = value_of(pattern)
    for i in range(n_bits):
        bit = 1 << i
        if wrt == "u":
            hi, lo = value_of(pattern | bit), value_of(pattern & ~bit)
            s_hi, s_lo = _s(hi, theta_used, comparator), _s(lo, theta_used, comparator)
        else:
            hi, lo = value_of(theta_pattern | bit), value_of(theta_pattern & ~bit)
            s_hi = 0 if isinstance(hi, float) and math.isnan(hi) else _s(u, hi, comparator)
            s_lo = 0 if isinstance(lo, float) and math.isnan(lo) else _s(u, lo, comparator)
        chi = s_hi != s_lo
        mask |= int(chi) << i
        if not chi or i in excluded:
            continue
        if isinstance(hi, float) or isinstance(lo, float):  # an inf or NaN end: D not finite
            continue
        D = hi - lo
        if D == 0:
            continue
        g += Fraction(s_hi - s_lo) / D if convention == "secant" else 1 / D
    return mask, g
