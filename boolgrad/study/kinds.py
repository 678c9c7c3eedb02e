"""Gradient kinds of the overshoot study: a literal registry ``name -> frozen KindSpec``.

Every kind has the same forward, the spike ``[u >= theta]`` (``boolean_yj2025``: ``[u > theta]``,
as the authors' code) (``quantize_forward`` kinds compare
``u`` rounded to their format with theta rounded to it, spec §2), and differs in the backward
``g(u)``, the derivative used for ``ds/du``:

=====================  ===========================================================================
boolean_yj2025         ``bt.boolean_spike("yoo_jeong2025", theta)``: float32, ``paper`` convention
                       (spec §5), ``clip(g, 0, 500) / 500``, firing on ``u > theta`` -- the
                       authors' training code, by preset name
boolean_secant_clamp   float32 table, ``secant`` convention, ``min(g, 500) / 500``
boolean_bf16           bfloat16 table (secant), forward quantised to bfloat16, ``min(g, 500) / 500``
boolean_fixed16        ``fixed16.12`` table (secant), forward quantised, ``min(g, 500) / 500``
boolean_matched        THE FIX: ``fixed16.F`` (secant) with ``2**-F`` matched to the typical
                       membrane increment at threshold crossings, ``F = round(-log2(dU_typ))``
                       clipped to [3, 14], forward quantised, scale ``unit_peak`` (``g / max g``,
                       so its peak is 1 like the clamped kinds and the rectangle): a Boolean
                       derivative of the quantised comparator actually computed, whose peak
                       (width ~ the lowest set bit of theta, >= 2**-F) is about one step wide
rectangle              STBP ``[|u - theta| < 0.5]`` (width 0.5, height 1: the authors' baseline)
arctan                 ``1 / (1 + (pi (u - theta))**2)`` (alpha 2, snnTorch's ``atan``)
fast_sigmoid           ``1 / (1 + 25 |u - theta|)**2`` (SuperSpike, slope 25)
straight_through       ``1``
=====================  ===========================================================================

:meth:`KindSpec.gradient` evaluates ``g`` with numpy (float64, from the gradient table for
Boolean kinds), equal to the torch spike's backward up to its float32 cast (tested);
:meth:`KindSpec.spike` builds the torch spike function (torch imported only there).
:meth:`KindSpec.crossing_grad` is what the crossing theory integrates exactly
(:mod:`boolgrad.study.crossings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..rules import surrogates
from ..rules.presets import YOO_JEONG2025, SpikePreset
from ..rules.scalings import SCALINGS

__all__ = ["KINDS", "KindSpec", "get_kind", "matched_fraction_bits"]


@dataclass(frozen=True)
class KindSpec:
    """One gradient kind (module table).  ``family`` is ``"boolean"`` or ``"surrogate"``."""

    name: str
    family: str
    # Boolean kinds
    format: str = ""
    convention: str = "secant"
    comparator: str = "ge"
    scale: str = "clamp"
    grad_max: float = 500.0
    quantize_forward: bool = False
    preset: str = ""  # build with bt.boolean_spike(preset, theta)
    matched: bool = False  # format fixed<word>.F chosen per run by resolve(typical_du)
    word: int = 16
    # surrogates
    surrogate: str = ""
    params: tuple = ()

    # -- the matched kind --------------------------------------------------------------------------
    def resolve(self, typical_du: float | None = None) -> KindSpec:
        """A concrete spec: for ``boolean_matched``, the ``fixed<word>.F`` format for this ``dU``."""
        if not self.matched:
            return self
        if typical_du is None:
            raise ValueError(f"kind {self.name!r} needs the typical crossing increment dU to pick its format")
        return replace(self, format=f"fixed{self.word}.{matched_fraction_bits(typical_du)}", matched=False)

    def _concrete(self):
        if self.matched:
            raise ValueError(f"kind {self.name!r} must be resolved (KindSpec.resolve(dU)) before use")

    # -- numpy side -------------------------------------------------------------------------------------
    def table(self, theta: float):
        """The ``wrt="u"`` gradient table of a Boolean kind (closed form, cached)."""
        self._concrete()
        if self.family != "boolean":
            raise ValueError(f"kind {self.name!r} is a surrogate: it has no table")
        return _table(self.format, float(theta), self.comparator, self.convention)

    def divisor(self, theta: float) -> float:
        """What ``g`` is divided by (:data:`boolgrad.rules.scalings.SCALINGS`)."""
        scaling = SCALINGS[self.scale]
        return scaling.divisor(self.table(theta) if scaling.needs_table else None, self.grad_max)

    def gradient(self, u, theta: float) -> np.ndarray:
        """``g(u)`` as the backward gives it (float64 numpy, scaled as the spike function scales)."""
        u = np.asarray(u, dtype=np.float64)
        if self.family == "surrogate":
            return surrogates.grad(self.surrogate, u - theta, **dict(self.params))
        return SCALINGS[self.scale].apply(self.table(theta).gradient(u), self.divisor(theta))

    def crossing_grad(self, theta: float):
        """The kind's ``g`` as the crossing theory takes it (:mod:`boolgrad.study.crossings`)."""
        from .crossings import BooleanGrad, SurrogateGrad

        if self.family == "surrogate":
            return SurrogateGrad(self.surrogate, theta, self.params)
        return BooleanGrad(self.table(theta), scale=self.scale, grad_max=self.grad_max)

    def describe(self) -> dict:
        """JSON-able identity of the kind (goes into results)."""
        if self.family == "surrogate":
            return {"name": self.name, "family": self.family, "surrogate": self.surrogate,
                    "params": dict(self.params)}
        return {"name": self.name, "family": self.family, "format": self.format,
                "convention": self.convention, "comparator": self.comparator, "scale": self.scale,
                "grad_max": self.grad_max, "quantize_forward": self.quantize_forward, "preset": self.preset}

    # -- torch side -------------------------------------------------------------------------------------
    def spike(self, theta: float):
        """The torch spike function (imports torch)."""
        self._concrete()
        import boolgrad.torch as bt

        if self.family == "surrogate":
            return bt.surrogate(self.surrogate, theta, **dict(self.params))
        if self.preset:
            return bt.boolean_spike(self.preset, theta)
        return bt.boolean_spike(self.format, theta, scale=self.scale, grad_max=self.grad_max,
                                comparator=self.comparator, convention=self.convention,
                                quantize_forward=self.quantize_forward)

    @classmethod
    def from_preset(cls, name: str, preset: SpikePreset) -> KindSpec:
        """The Boolean kind ``name`` of a spike preset (spike: ``bt.boolean_spike(preset.name, theta)``)."""
        return cls(name, "boolean", format=preset.format, convention=preset.convention,
                   comparator=preset.comparator, scale=preset.scale, grad_max=preset.grad_max,
                   preset=preset.name)

    @classmethod
    def from_surrogate(cls, name: str) -> KindSpec:
        """The surrogate kind ``name``: the surrogate of that name with its default parameters."""
        params = tuple(sorted(surrogates.DEFAULTS[name].items()))
        return cls(name, "surrogate", surrogate=name, params=params)

    def forward_threshold(self, theta: float) -> float:
        """The threshold the forward pass compares with (theta rounded for quantised kinds)."""
        if self.family == "boolean" and self.quantize_forward:
            return float(self.table(theta).meta.theta_used)
        return float(theta)

    def firing_threshold(self, theta: float) -> float:
        """The real ``u`` from which the forward fires: ``theta``, or for a quantised kind the
        smallest float64 that rounds (to nearest) onto :meth:`forward_threshold` or above --
        ``fixed16.3`` at 0.3: ``0.1875``, half an LSB below the threshold used, 0.25.  The crossing
        theory's window at the threshold used, read with ``u`` rounded down, is the same integral
        as the nearest-rounded ``g`` over a window at this threshold (exactly for fixed point;
        for floats up to the half-ulp change at a binade edge), so the simulation and the midpoint
        reference put their crossings here (:mod:`boolgrad.study.simulate`)."""
        if self.family == "boolean" and self.quantize_forward:
            from ..formats import parse_format
            from ..rules.pieces import forward_thresholds

            t = forward_thresholds(self.table(theta), parse_format("float64"))[1]
            return float(t[0] if isinstance(t, tuple) else t)
        return float(theta)


def matched_fraction_bits(typical_du: float, lo: int = 3, hi: int = 14) -> int:
    """``F = round(-log2(dU))`` clipped to ``[lo, hi]``: the LSB ``2**-F`` closest to ``dU`` in log."""
    du = float(typical_du)
    if not (math.isfinite(du) and du > 0):
        raise ValueError(f"typical dU must be positive and finite, got {typical_du!r}")
    return int(min(hi, max(lo, round(-math.log2(du)))))


@lru_cache(maxsize=64)
def _table(fmt, theta, comparator, convention):
    import boolgrad

    return boolgrad.closed_form_table(fmt, theta, comparator=comparator, convention=convention)


_B = "boolean"
#: the registry (literal): name -> spec
KINDS = {
    "boolean_yj2025": KindSpec.from_preset("boolean_yj2025", YOO_JEONG2025),
    "boolean_secant_clamp": KindSpec("boolean_secant_clamp", _B, format="float32", scale="clamp"),
    "boolean_bf16": KindSpec("boolean_bf16", _B, format="bfloat16", scale="clamp", quantize_forward=True),
    "boolean_fixed16": KindSpec("boolean_fixed16", _B, format="fixed16.12", scale="clamp",
                                quantize_forward=True),
    "boolean_matched": KindSpec("boolean_matched", _B, scale="unit_peak", quantize_forward=True,
                                matched=True, word=16),
    # the surrogates with their default parameters: rectangle width 0.5, height 1; arctan alpha 2;
    # fast_sigmoid slope 25 (boolgrad.rules.surrogates.DEFAULTS)
    "rectangle": KindSpec.from_surrogate("rectangle"),
    "arctan": KindSpec.from_surrogate("arctan"),
    "fast_sigmoid": KindSpec.from_surrogate("fast_sigmoid"),
    "straight_through": KindSpec.from_surrogate("straight_through"),
}


def get_kind(name: str) -> KindSpec:
    if name not in KINDS:
        raise ValueError(f"unknown kind {name!r}; choose from {', '.join(KINDS)}")
    return KINDS[name]
