"""The spike function ``s(b) = [v(b) >= theta]`` (or ``>``) as an integer comparison (spec §2).

Because the value order of a format is its rank order (:mod:`boolgrad.formats`), every
comparator against a real threshold is ``s(b) = [rank(b) >= R] and not NaN(b)`` for one
*threshold rank* ``R``: the rank of the first pattern whose value passes.  ``R`` is found
once, exactly (``fractions.Fraction`` bisection), and after that no floating-point
comparison is ever made -- which keeps ``fixed64`` (not exact in float64) exact too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .formats import Format, parse_format

__all__ = ["COMPARATORS", "Threshold", "make_threshold", "pattern_threshold_rank", "threshold_rank"]

COMPARATORS = ("ge", "gt")


def _value_at_rank(fmt: Format, r: int):
    p = int(fmt.pattern_at_rank(np.asarray([r], dtype=np.uint64))[0])
    return fmt.exact_value(p)


def threshold_rank(fmt: Format, target, comparator: str) -> int:
    """Smallest rank whose value is ``>= target`` (``ge``) or ``> target`` (``gt``).

    ``target`` is a ``Fraction``, a float, or ``+-inf``; a NaN target (a NaN threshold
    pattern, reached by flipping a bit of ``t``) never fires and gives ``fmt.n_ranks``.
    """
    if isinstance(target, float) and math.isnan(target):
        return fmt.n_ranks
    passes = (lambda v: v >= target) if comparator == "ge" else (lambda v: v > target)
    lo, hi = 0, fmt.n_ranks  # invariant: ranks < lo fail, ranks >= hi pass
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(_value_at_rank(fmt, mid)):
            hi = mid
        else:
            lo = mid + 1
    return lo


def pattern_threshold_rank(fmt: Format, pattern: int, comparator: str) -> int:
    """``threshold_rank`` for a threshold that is itself a pattern ``t`` of the format.

    No search: ``R = rank(t)`` for ``ge`` and ``rank(t) + 1`` for ``gt``, except that ``+0``
    and ``-0`` are one value (``ge`` at ``-0`` starts at ``+0``; ``gt`` at ``+0`` skips
    ``-0``), and a NaN ``t`` never fires (``R = n_ranks``).
    """
    arr = np.asarray([pattern], dtype=np.uint64)
    if bool(fmt.is_nan(arr)[0]):
        return fmt.n_ranks
    r = int(fmt.rank(arr)[0])
    if r in fmt.signed_zero_ranks:  # +0 or -0: one value
        return fmt.max_mag if comparator == "ge" else fmt.max_mag + 2
    return r if comparator == "ge" else r + 1


@dataclass(frozen=True)
class Threshold:
    """A resolved threshold: what was asked, what is compared against, and ``R``.

    ``pattern`` is the threshold's own pattern ``t`` in the format (``None`` only with
    ``exact=True`` and a theta the format cannot represent); ``used`` is the value the
    comparison uses (float64); ``rank`` is ``R``.
    """

    fmt: Format
    requested: float
    comparator: str
    exact: bool
    pattern: int | None
    used: float
    rank: int

    def fires(self, patterns, *, xp=None):
        """``s(b)`` for an array of patterns (bool array)."""
        return self.fmt.fires(patterns, self.rank, xp=xp)


def make_threshold(fmt, theta, comparator: str = "ge", exact_threshold: bool = False) -> Threshold:
    """Resolve ``theta`` in ``fmt`` (spec §2).

    By default theta is rounded to the nearest representable value (ties to even,
    saturating at the range), as hardware stores it.  With ``exact_threshold=True`` the
    comparison is against the real theta itself, which must lie within the finite range.
    A NaN or infinite theta raises ``ValueError``.
    """
    fmt = parse_format(fmt)
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator must be 'ge' or 'gt', got {comparator!r}")
    if isinstance(theta, (str, bytes, complex)):
        raise ValueError(f"threshold must be a real number, got {theta!r}")
    try:
        theta = float(theta)
    except OverflowError:  # an int beyond float64: finite, but thresholds are float64 reals
        digits = len(str(abs(int(theta))))
        raise ValueError(
            f"threshold {'-' if theta < 0 else ''}{str(abs(int(theta)))[:4]}... ({digits} digits) is beyond "
            "float64's range (+-1.8e308); pass a float64 value "
            "(it saturates at the format's range unless exact_threshold=True)"
        ) from None
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a real number, got {theta!r}") from None
    if not math.isfinite(theta):
        raise ValueError(f"threshold must be finite, got {theta}")
    pattern = int(fmt.encode(np.asarray([theta]), saturate=True)[0])
    if exact_threshold:
        if not fmt.min_finite <= theta <= fmt.max_finite:
            raise ValueError(
                f"threshold {theta!r} is outside the finite range of {fmt.name} "
                f"[{fmt.min_finite!r}, {fmt.max_finite!r}] (exact_threshold)"
            )
        if fmt.exact_value(pattern) != Fraction(theta):
            pattern = None
        used = theta
    else:
        used = float(fmt.exact_value(pattern))
    if pattern is None:  # a real between two patterns: search the first one that passes
        rank = threshold_rank(fmt, Fraction(theta), comparator)
    else:
        rank = pattern_threshold_rank(fmt, pattern, comparator)
    return Threshold(
        fmt=fmt,
        requested=theta,
        comparator=comparator,
        exact=bool(exact_threshold),
        pattern=pattern,
        used=used,
        rank=rank,
    )
