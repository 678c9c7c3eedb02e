"""The scalings of a Boolean gradient: ``h = clip(g / d, lo, hi)``, in float64 before any cast.

==========  ==========================  ==========  ===========================================
name        divisor ``d``               ``[lo, hi]``
==========  ==========================  ==========  ===========================================
none        ``1``                       unbounded   ``g`` itself
clamp       ``grad_max``                ``(-, 1]``  ``min(g, G) / G``: the peak becomes 1, the
                                                    tails keep their shape
clamp01     ``grad_max``                ``[0, 1]``  ``clip(g, 0, G) / G``: Yoo & Jeong's training
                                                    backward (also zeroes the negative sign-bit
                                                    terms of the ``paper`` convention)
unit_area   ``table.area()`` (spec §7)  unbounded   unit area
unit_peak   ``table.peak()[0]``         unbounded   unit peak
==========  ==========================  ==========  ===========================================

One table, :data:`SCALINGS`, read by the torch spike (:mod:`boolgrad.torch.boolean`, which
compiles ``d``, ``lo`` and ``hi`` into its plans) and by the study (:mod:`boolgrad.study.kinds`,
:mod:`boolgrad.study.crossings`).  The bounds are ``lo in {None, 0}`` and ``hi in {None, 1}``, so
a clip of ``g / d`` is a clip of ``g`` at ``lo d, hi d``; :meth:`Scaling.integral` uses this with
``clip(g, 0, c)**p = min(g, c)**p - min(g, 0)**p``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CLAMP",
    "CLAMP01",
    "NONE",
    "SCALINGS",
    "UNIT_AREA",
    "UNIT_PEAK",
    "Scaling",
    "check_grad_max",
    "clip",
    "get_scaling",
]

NONE, CLAMP, CLAMP01, UNIT_AREA, UNIT_PEAK = "none", "clamp", "clamp01", "unit_area", "unit_peak"
_BY = ("one", "grad_max", "area", "peak")


def clip(g, lo, hi):
    """``g`` clipped to ``[lo, hi]`` (``None``: no bound; numpy; NaN stays NaN)."""
    if lo is None and hi is None:
        return g
    return np.clip(g, lo, hi)


def check_grad_max(grad_max) -> float:
    """``grad_max`` as a float; ``ValueError`` unless positive and finite."""
    if grad_max is None or not (math.isfinite(float(grad_max)) and float(grad_max) > 0):
        raise ValueError(f"grad_max must be positive and finite, got {grad_max!r}")
    return float(grad_max)


@dataclass(frozen=True)
class Scaling:
    """One scaling (module table): ``by`` names the divisor (``one``, ``grad_max``, ``area``,
    ``peak``), ``lo``/``hi`` the clip after dividing (``None``: unbounded)."""

    name: str
    by: str
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self):
        if self.by not in _BY:
            raise ValueError(f"a scaling divides by one of {', '.join(_BY)}, not {self.by!r}")
        if self.lo not in (None, 0.0) or self.hi not in (None, 1.0):
            raise ValueError("a scaling clips at lo in {None, 0} and hi in {None, 1}")

    @property
    def uses_grad_max(self) -> bool:
        """Is ``grad_max`` the divisor (the clamps)?"""
        return self.by == "grad_max"

    @property
    def needs_table(self) -> bool:
        """Does the divisor read the table (``unit_area``, ``unit_peak``)?"""
        return self.by in ("area", "peak")

    def divisor(self, table=None, grad_max=None) -> float:
        """``d`` for this ``table`` (read only by ``unit_area``/``unit_peak``) and ``grad_max``
        (read only by the clamps); ``ValueError`` unless positive and finite."""
        if self.by == "one":
            d = 1.0
        elif self.by == "grad_max":
            d = check_grad_max(grad_max)
        else:
            d = float(table.area() if self.by == "area" else table.peak()[0])
        if not (math.isfinite(d) and d > 0):
            raise ValueError(f"scale={self.name!r} needs a positive finite divisor; this table gives {d!r}")
        return d

    def apply(self, g, divisor: float) -> np.ndarray:
        """``clip(g / divisor, lo, hi)`` (float64)."""
        return clip(np.asarray(g, dtype=np.float64) / divisor, self.lo, self.hi)

    def integral(self, table, a: float, b: float, power: int, divisor: float) -> float:
        """``int_a^b h(u)**power du`` of ``h = clip(g / divisor, lo, hi)``, exact (module doc)."""
        clamp = None if self.hi is None else self.hi * divisor
        total = table.integral(a, b, power=power, clamp=clamp)
        if self.lo is not None:  # clip(g, 0, c)**p = min(g, c)**p - min(g, 0)**p
            total -= table.integral(a, b, power=power, clamp=self.lo * divisor)
        return total / divisor**power


#: name -> :class:`Scaling` (module table)
SCALINGS = {
    s.name: s
    for s in (
        Scaling(NONE, "one"),
        Scaling(CLAMP, "grad_max", None, 1.0),
        Scaling(CLAMP01, "grad_max", 0.0, 1.0),
        Scaling(UNIT_AREA, "area"),
        Scaling(UNIT_PEAK, "peak"),
    )
}


def get_scaling(name: str) -> Scaling:
    """The scaling called ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return SCALINGS[name]
    except (KeyError, TypeError):
        raise ValueError(f"scale must be one of {', '.join(SCALINGS)}, got {name!r}") from None
