"""The surrogate zoo in numpy: ``g(x)``, its primitive ``S`` (``S' = g``) and ``int_0^x g**2``.

Same names, formulas and default parameters as :mod:`boolgrad.torch.surrogates` (``x = u -
theta``), without torch.  Every ``g`` is even, so the crossing integrals only need the *odd*
primitives ``P1(x) = int_0^x g = S(x) - S(0)`` and ``P2(x) = int_0^x g**2``, all in closed form
(no quadrature), written so that small ``x`` keeps full relative precision:

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

__all__ = ["DEFAULTS", "SURROGATE_FORMS", "canonical_name", "grad", "primitive", "p1", "p2"]

#: default parameters, as in :mod:`boolgrad.torch.surrogates`
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
_ALIASES = {
    "stbp": "rectangle",
    "superspike": "fast_sigmoid",
    "atan": "arctan",
    "slayer": "exponential",
    "ste": "straight_through",
}
SURROGATE_FORMS = tuple(DEFAULTS)

_erf = np.vectorize(math.erf, otypes=[np.float64])


def canonical_name(name: str) -> str:
    """Canonical surrogate name (aliases as the torch zoo); ``ValueError`` if unknown."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in DEFAULTS:
        raise ValueError(
            f"unknown surrogate {name!r}; choose from {', '.join(sorted([*DEFAULTS, *_ALIASES]))}"
        )
    return key


def _params(name: str, params) -> dict[str, float]:
    p = dict(DEFAULTS[name])
    for k, v in dict(params or {}).items():
        if k not in p:
            raise ValueError(f"surrogate {name!r} takes {sorted(p) or 'no parameters'}, not {k!r}")
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"surrogate {name!r}: {k} must be a positive finite number, got {v!r}")
        p[k] = float(v)
    return p


def grad(name: str, x, **params):
    """``g(x)`` (float64), the torch zoo's formula."""
    name = canonical_name(name)
    p = _params(name, params)
    x = np.asarray(x, dtype=np.float64)
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
    """``S(x)`` of the torch zoo (same constant of integration)."""
    name = canonical_name(name)
    p = _params(name, params)
    x = np.asarray(x, dtype=np.float64)
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
    name = canonical_name(name)
    p = _params(name, params)
    x = np.asarray(x, dtype=np.float64)
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
    name = canonical_name(name)
    p = _params(name, params)
    x = np.asarray(x, dtype=np.float64)
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
