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
boolean_secant_peak    ablation: ``boolean_secant_clamp`` on its saturation window only, 0 outside: the
                       runs from the lowest to the highest on which ``g >= 500`` (clamped ``g`` = 1),
                       at theta = 0.3 ``u - theta`` in [-0.0019531, +0.00078122]
                       (:mod:`boolgrad.rules.windows`, part ``peak``)
boolean_secant_tails   ablation: ``boolean_secant_clamp`` outside that window, 0 inside (part
                       ``tails``; ``peak + tails`` is the parent exactly)
boolean_matched_fair   the fix, tested fairly: ``fixed16.F`` (secant), ``F = round(-log2 dU_typ)``
                       clipped to [1, 14] only, theta kept exact (``exact_threshold``: the table
                       compares with the real 0.3) and the forward unquantised (``u >= 0.3`` like
                       every unquantised kind), ``unit_peak``
boolean_fixed16_fair   its unmatched parent: the same with ``F = 12`` fixed (``fixed16.12``)
rectangle_matched      ``boolean_matched_fair`` on its peak only (part ``top``): ``g = 1`` on exactly
                       the cells where the matched ``g`` is at its maximum, 0 elsewhere -- a
                       rectangle of the matched peak's support, resolved per run from the same dU
rectangle_matched_centred
                       the same control centred: STBP ``[|u - theta| < 2**-(F+1)]`` (height 1, width
                       one ``fixed16.F`` cell, the matched peak's width where that peak is one
                       pattern: F = 1, 3, 4, 7, 8, 11, 12), F as ``boolean_matched_fair``
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

#: F range of ``boolean_matched`` (unchanged: its identity is in committed results)
MATCHED_F = (3, 14)
#: F range of the fair matched kinds: all a ``fixed16.F`` can hold near theta.  F = 14 keeps the
#: range [-2, 2) around the potentials that cross theta (as ``boolean_matched``); F = 1 is the
#: coarsest with a fraction bit (LSB 0.5, theta's neighbours 0 and 0.5): dU ~ 0.45, measured at
#: dt = 2 tau, calls for it, and only dU > 2**-0.5 ~ 0.71 would round to F <= 0
FAIR_F = (1, 14)


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
    f_range: tuple = MATCHED_F  # the clip of F (matched kinds)
    exact_threshold: bool = False  # the table compares with the real theta (not theta rounded)
    part: str = ""  # "", or a part of the table (boolgrad.rules.windows: peak, tails, top)
    # surrogates
    surrogate: str = ""
    params: tuple = ()

    # -- the matched kind --------------------------------------------------------------------------
    def resolve(self, typical_du: float | None = None) -> KindSpec:
        """A concrete spec: for a matched kind, the ``fixed<word>.F`` format for this ``dU`` (the
        centred rectangle: its width, one such cell); ``F = round(-log2 dU)`` clipped to ``f_range``."""
        if not self.matched:
            return self
        if typical_du is None:
            raise ValueError(f"kind {self.name!r} needs the typical crossing increment dU to pick its format")
        F = matched_fraction_bits(typical_du, *self.f_range)
        if self.family == "surrogate":  # rectangle_matched_centred: one fixed<word>.F cell, at theta
            return replace(self, params=(("height", 1.0), ("width", 2.0 ** -(F + 1))), matched=False,
                           format=f"fixed{self.word}.{F}")  # format: the cell's (records, not used)
        return replace(self, format=f"fixed{self.word}.{F}", matched=False)

    def _concrete(self):
        if self.matched:
            raise ValueError(f"kind {self.name!r} must be resolved (KindSpec.resolve(dU)) before use")

    # -- numpy side -------------------------------------------------------------------------------------
    def table(self, theta: float):
        """The ``wrt="u"`` gradient table of a Boolean kind (closed form, cached)."""
        self._concrete()
        if self.family != "boolean":
            raise ValueError(f"kind {self.name!r} is a surrogate: it has no table")
        return _table(self.format, float(theta), self.comparator, self.convention, self.exact_threshold,
                      self.part, self.grad_max if self.part in ("peak", "tails") else None)

    def divisor(self, theta: float) -> float:
        """What ``g`` is divided by (:data:`boolgrad.rules.scalings.SCALINGS`)."""
        scaling = SCALINGS[self.scale]
        return scaling.divisor(self.table(theta) if scaling.needs_table else None, self.grad_max)

    def gradient(self, u, theta: float) -> np.ndarray:
        """``g(u)`` as the backward gives it (float64 numpy, scaled as the spike function scales)."""
        u = np.asarray(u, dtype=np.float64)
        self._concrete()
        if self.family == "surrogate":
            return surrogates.grad(self.surrogate, u - theta, **dict(self.params))
        return SCALINGS[self.scale].apply(self.table(theta).gradient(u), self.divisor(theta))

    def crossing_grad(self, theta: float):
        """The kind's ``g`` as the crossing theory takes it (:mod:`boolgrad.study.crossings`)."""
        from .crossings import BooleanGrad, SurrogateGrad

        self._concrete()
        if self.family == "surrogate":
            return SurrogateGrad(self.surrogate, theta, self.params)
        return BooleanGrad(self.table(theta), scale=self.scale, grad_max=self.grad_max,
                           offset=self.window_offset(theta))

    def window_offset(self, theta: float) -> float:
        """Where the crossing theory's window sits relative to the table's threshold: the theory
        reads ``g`` with ``u`` rounded down (:mod:`boolgrad.study.crossings`), the kinds with
        ``u`` rounded to nearest, i.e. at ``u + LSB/2`` read down.  A fixed-point kind with an
        unquantised forward fires at theta itself, so its window moves up by half an LSB (exact
        for fixed point); the quantised kinds move their crossings instead
        (:meth:`firing_threshold`), and floats' half ulp (~1e-8 at 0.3) is left out (0)."""
        if self.family != "boolean" or self.quantize_forward:
            return 0.0
        fmt = self.table(theta).fmt
        return 2.0 ** -(fmt.frac + 1) if fmt.kind == "fixed" else 0.0

    def describe(self) -> dict:
        """JSON-able identity of the kind (goes into results)."""
        if self.family == "surrogate":
            out = {"name": self.name, "family": self.family, "surrogate": self.surrogate,
                   "params": dict(self.params)}
            if self.matched:
                out["f_range"] = list(self.f_range)
            return out
        out = {"name": self.name, "family": self.family, "format": self.format,
               "convention": self.convention, "comparator": self.comparator, "scale": self.scale,
               "grad_max": self.grad_max, "quantize_forward": self.quantize_forward, "preset": self.preset}
        # the ablation kinds' fields, only where set: the other kinds' identities stay as committed
        if self.exact_threshold:
            out["exact_threshold"] = True
        if self.part:
            out["part"] = self.part
        if self.matched and tuple(self.f_range) != MATCHED_F:
            out["f_range"] = list(self.f_range)
        return out

    # -- torch side -------------------------------------------------------------------------------------
    def spike(self, theta: float):
        """The torch spike function (imports torch)."""
        self._concrete()
        import boolgrad.torch as bt

        if self.family == "surrogate":
            return bt.surrogate(self.surrogate, theta, **dict(self.params))
        if self.preset:
            return bt.boolean_spike(self.preset, theta)
        if self.part or self.exact_threshold:  # the ablation kinds: the very table of table()
            return bt.boolean_spike(self.table(theta), scale=self.scale, grad_max=self.grad_max,
                                    quantize_forward=self.quantize_forward)
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


def matched_fraction_bits(typical_du: float, lo: int = MATCHED_F[0], hi: int = MATCHED_F[1]) -> int:
    """``F = round(-log2(dU))`` clipped to ``[lo, hi]``: the LSB ``2**-F`` closest to ``dU`` in log."""
    du = float(typical_du)
    if not (math.isfinite(du) and du > 0):
        raise ValueError(f"typical dU must be positive and finite, got {typical_du!r}")
    return int(min(hi, max(lo, round(-math.log2(du)))))


@lru_cache(maxsize=64)
def _table(fmt, theta, comparator, convention, exact_threshold=False, part="", grad_max=None):
    if part:  # an ablation kind: a part of its parent's table, the one definition of the window
        from ..rules.windows import table_part

        return table_part(_table(fmt, theta, comparator, convention, exact_threshold), part, grad_max)
    import boolgrad

    return boolgrad.closed_form_table(fmt, theta, comparator=comparator, convention=convention,
                                      exact_threshold=exact_threshold)


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
    # ablations (issue "Why it loses"): the secant kind's peak and tails (boolgrad.rules.windows)
    "boolean_secant_peak": KindSpec("boolean_secant_peak", _B, format="float32", scale="clamp", part="peak"),
    "boolean_secant_tails": KindSpec("boolean_secant_tails", _B, format="float32", scale="clamp", part="tails"),
    # the fix, tested fairly: forward u >= theta unquantised for all three, F clipped to FAIR_F only
    "boolean_matched_fair": KindSpec("boolean_matched_fair", _B, scale="unit_peak", exact_threshold=True,
                                     matched=True, word=16, f_range=FAIR_F),
    "boolean_fixed16_fair": KindSpec("boolean_fixed16_fair", _B, format="fixed16.12", scale="unit_peak",
                                     exact_threshold=True),
    "rectangle_matched": KindSpec("rectangle_matched", _B, scale="unit_peak", exact_threshold=True,
                                  matched=True, word=16, f_range=FAIR_F, part="top"),
    "rectangle_matched_centred": KindSpec("rectangle_matched_centred", "surrogate", surrogate="rectangle",
                                          matched=True, word=16, f_range=FAIR_F),
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
