"""The surrogate gradients: names, aliases, default parameters, and ``g``, ``S``, ``P1``, ``P2`` in numpy.

``x = u - theta``; ``g(x)`` is the backward, ``S`` its primitive (``S' = g``):

================  ==============================================  ===========================
name (alias)      g(x)                                            source / defaults
================  ==============================================  ===========================
rectangle         height * [|x| < width]                          STBP, Wu et al. 2018 (the
 (stbp)                                                           baseline of Yoo & Jeong
                                                                  2025): width 0.5, height 1
sigmoid           k s(kx) (1 - s(kx)),  s = logistic              snnTorch ``sigmoid``: k 25
fast_sigmoid      1 / (1 + k|x|)**2                               SuperSpike, Zenke & Ganguli
 (superspike)                                                     2018; snnTorch: slope 25
arctan (atan)     (alpha/2) / (1 + (pi/2 alpha x)**2)             Fang et al. 2021; snnTorch's
                                                                  default ``atan``: alpha 2
triangle          height * max(0, 1 - |x| / width)                Esser et al. 2016, Bellec et
                                                                  al. 2018: width 1, height 1
gaussian          height * N(x; 0, sigma)                         sigma 0.5 (Sinabs default)
exponential       (scale / tau) exp(-|x| / tau)                   SLAYER, Shrestha & Orchard
 (slayer)                                                         2018: tau 0.5, scale 1
straight_through  1                                               Bengio et al. 2013
 (ste)
================  ==============================================  ===========================

The torch zoo (:mod:`boolgrad.torch.surrogates`) evaluates the same formulas with torch
operations (``arctan`` as snnTorch does, bit for bit) and takes its names, aliases and defaults
from here.  Every ``g`` is even, so the crossing integrals (:mod:`boolgrad.study.crossings`)
only need the *odd* primitives ``P1(x) = int_0^x g = S(x) - S(0)`` and ``P2(x) = int_0^x g**2``,
all in closed form (no quadrature), written so that small ``x`` keeps full relative precision:

================  =======================================  ============================================
name              P1(x)                                    P2(x)
================  =======================================  ============================================
rectangle         h clip(x, -w, w)                         h**2 clip(x, -w, w)
sigmoid           t = tanh(kx/2)/2                         k (t/4 - t**3/3)
fast_sigmoid      x / (1 + k|x|)                           sgn(x) (1 - (1 + k|x|)**-3) / (3k)
arctan            atan(y) / pi,  y = pi alpha x / 2        alpha/(4 pi) (y/(1 + y**2) + atan(y))
triangle          h (c - c|c|/(2w)),  c = clip(x, -w, w)   h**2 sgn(c) (w/3) (1 - (1 - |c|/w)**3)
gaussian          (h/2) erf(x / (sigma sqrt 2))             h**2 erf(x / sigma) / (4 sigma sqrt(pi))
exponential       -s sgn(x) expm1(-|x|/tau)                -s**2 sgn(x) expm1(-2|x|/tau) / (2 tau)
straight_through  x                                        x
================  =======================================  ============================================

(sigmoid: ``S = sigma(kx) = 1/2 + t``.)  Proved by differentiation in
:mod:`boolgrad.proofs.crossing_moments` and checked against the torch zoo in the tests.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ALIASES",
    "CANONICAL_NAMES",
    "DEFAULTS",
    "SURROGATE_NAMES",
    "SurrogateParameterError",
    "canonical_name",
    "check_params",
    "grad",
    "p1",
    "p2",
    "primitive",
]

#: canonical name -> default parameters (in the order the gradient functions take them)
DEFAULTS: dict[str, dict[str, float]] = {
    "rectangle": {"width": 0.5, "height": 1.0},
    "sigmoid": {"slope": 25.0},
    "fast_sigmoid": {"slope": 25.0},
    "arctan": {"alpha": 2.0},
    "triangle": {"width": 1.0, "height": 1.0},
    "gaussian": {"sigma": 0.5, "height": 1.0},
    "exponential": {"tau": 0.5, "scale": 1.0},
    "straight_through": {},
}
#: alias -> canonical name
ALIASES: dict[str, str] = {
    "stbp": "rectangle",
    "superspike": "fast_sigmoid",
    "atan": "arctan",
    "slayer": "exponential",
    "ste": "straight_through",
}
#: the canonical names, in the module table's order
CANONICAL_NAMES = tuple(DEFAULTS)
#: every name and alias :func:`canonical_name` accepts
SURROGATE_NAMES = frozenset(DEFAULTS) | frozenset(ALIASES)

_erf = np.vectorize(math.erf, otypes=[np.float64])


class SurrogateParameterError(TypeError, ValueError):
    """A parameter the surrogate does not take (a ``TypeError`` as for any unknown keyword, and a
    ``ValueError`` as for any bad input)."""


def canonical_name(name: str) -> str:
    """Canonical surrogate name (case, ``-`` and spaces ignored; aliases resolved); ``ValueError``
    if unknown."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in DEFAULTS:
        raise ValueError(f"unknown surrogate {name!r}; choose from {', '.join(sorted(SURROGATE_NAMES))}")
    return key


def check_params(name: str, params=None) -> dict[str, float]:
    """The full parameters of canonical surrogate ``name``: its defaults updated by ``params``
    (each a positive finite number the surrogate takes)."""
    p = dict(DEFAULTS[name])
    params = dict(params or {})
    unknown = sorted(set(params) - set(p))
    if unknown:
        raise SurrogateParameterError(f"surrogate {name!r} takes {list(p) or 'no parameters'}, not {unknown}")
    for k, v in params.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"surrogate {name!r}: {k} must be a positive finite number, got {v!r}")
        p[k] = float(v)
    return p


def _setup(name, x, params):
    name = canonical_name(name)
    return name, check_params(name, params), np.asarray(x, dtype=np.float64)


def grad(name: str, x, **params):
    """``g(x)`` (float64; module table)."""
    name, p, x = _setup(name, x, params)
    a = np.abs(x)
    if name == "rectangle":
        return np.where(a < p["width"], p["height"], 0.0)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-p["slope"] * x))
        return p["slope"] * s * (1 - s)
    if name == "fast_sigmoid":
        return 1.0 / (p["slope"] * a + 1.0) ** 2
    if name == "arctan":
        return p["alpha"] / 2 / (1 + (math.pi / 2 * p["alpha"] * x) ** 2)
    if name == "triangle":
        return p["height"] * np.maximum(1.0 - a / p["width"], 0.0)
    if name == "gaussian":
        sg = p["sigma"]
        return p["height"] * np.exp(-(x * x) / (2 * sg * sg)) / (sg * math.sqrt(2 * math.pi))
    if name == "exponential":
        return p["scale"] / p["tau"] * np.exp(-a / p["tau"])
    return np.ones_like(x)


def primitive(name: str, x, **params):
    """``S(x)``, with the torch zoo's constant of integration."""
    name, p, x = _setup(name, x, params)
    if name == "rectangle":
        return p["height"] * (np.clip(x, -p["width"], p["width"]) + p["width"])
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-p["slope"] * x))
    if name == "gaussian":
        return p["height"] * 0.5 * (1 + _erf(x / (p["sigma"] * math.sqrt(2.0))))
    if name == "exponential":
        return p["scale"] * np.sign(x) * (1 - np.exp(-np.abs(x) / p["tau"]))
    return p1(name, x, **params)  # the others have S(0) = 0


def p1(name: str, x, **params):
    """``int_0^x g`` (odd; module table)."""
    name, p, x = _setup(name, x, params)
    a, sg = np.abs(x), np.sign(x)
    if name == "rectangle":
        return p["height"] * np.clip(x, -p["width"], p["width"])
    if name == "sigmoid":
        return np.tanh(p["slope"] * x / 2) / 2
    if name == "fast_sigmoid":
        return x / (1.0 + p["slope"] * a)
    if name == "arctan":
        return np.arctan(math.pi / 2 * p["alpha"] * x) / math.pi
    if name == "triangle":
        c = np.clip(x, -p["width"], p["width"])
        return p["height"] * (c - c * np.abs(c) / (2 * p["width"]))
    if name == "gaussian":
        return p["height"] * 0.5 * _erf(x / (p["sigma"] * math.sqrt(2.0)))
    if name == "exponential":
        return -p["scale"] * sg * np.expm1(-a / p["tau"])
    return x.copy()


def p2(name: str, x, **params):
    """``int_0^x g**2`` (odd; module table)."""
    name, p, x = _setup(name, x, params)
    a, sg = np.abs(x), np.sign(x)
    if name == "rectangle":
        return p["height"] ** 2 * np.clip(x, -p["width"], p["width"])
    if name == "sigmoid":
        t = np.tanh(p["slope"] * x / 2) / 2
        return p["slope"] * (t / 4 - t**3 / 3)
    if name == "fast_sigmoid":
        k = p["slope"]
        return -sg * np.expm1(-3 * np.log1p(k * a)) / (3 * k)
    if name == "arctan":
        y = math.pi / 2 * p["alpha"] * x
        return p["alpha"] / (4 * math.pi) * (y / (1 + y * y) + np.arctan(y))
    if name == "triangle":
        w = p["width"]
        c = np.minimum(a, w)
        return p["height"] ** 2 * sg * (c - c * c / w + c**3 / (3 * w * w))  # (w/3)(1 - (1 - c/w)**3)
    if name == "gaussian":
        sgm = p["sigma"]
        return p["height"] ** 2 * _erf(x / sgm) / (4 * sgm * math.sqrt(math.pi))
    if name == "exponential":
        return -(p["scale"] ** 2) * sg * np.expm1(-2 * a / p["tau"]) / (2 * p["tau"])
    return x.copy()
