"""Shared pieces of the format value objects: pattern arrays and the common base class."""

from __future__ import annotations

import numpy as np

from ..xp import array_module

__all__ = ["as_patterns"]


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
