"""Number formats: the map from an n-bit pattern ``b`` to a value ``v(b)`` (spec §1).

Two families, both frozen value objects (usable as cache keys):

* :class:`FixedFormat` -- ``fixed<W>.<F>`` (two's complement) and ``ufixed<W>.<F>``
  (unsigned): ``v(b) = int(b) * 2**-F``.
* :class:`FloatFormat` -- IEEE-754 binary style ``e<E>m<M>``: sign bit ``n-1``, then ``E``
  exponent bits, then ``M`` mantissa bits, bias ``2**(E-1) - 1``.  The ``fn`` variant
  (``float8_e4m3fn``, OCP FP8) has no infinities and NaN only at ``S.1..1.1..1``.

Besides ``decode``/``encode``, every format defines the *rank* of a pattern: its position
in the order of spec §6 (non-NaN patterns sorted by value, ties -- only ``+0`` and ``-0`` --
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

from ._base import as_patterns
from .fixed import FixedFormat
from .floating import FloatFormat

__all__ = [
    "FixedFormat",
    "FloatFormat",
    "Format",
    "PRESETS",
    "as_patterns",
    "parse_format",
]

Format = FixedFormat | FloatFormat

#: Named presets (spec §1).
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
    """Format from its spec §1 name.

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
