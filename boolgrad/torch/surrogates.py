"""The surrogate-gradient zoo, with the usual names and parameters (``x = u - theta``).

Each surrogate is a pure gradient ``g(x)`` (the backward), the smooth primitive ``S(x)`` whose
derivative it is (``S'(x) = g(x)``; used by the tests), one ``autograd.Function`` and a factory
in :data:`boolgrad.torch.rules.RULES`:

================  ==============================================  ===========================
name              g(x)                                            source / defaults
================  ==============================================  ===========================
rectangle         height * [|x| < width]                          STBP, Wu et al. 2018 (the
                                                                  baseline of Yoo & Jeong
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
================  ==============================================  ===========================

``arctan`` evaluates exactly snnTorch's expression (same operations, same order), so its
gradients are bit-identical to ``snntorch.surrogate.atan``'s.  The threshold's gradient is
``-g`` (``d/dtheta g(u - theta)``'s integrand); forward is the comparator on ``u`` and
``theta`` (``ge`` unless ``comparator="gt"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .rules import RULES, Spike, make_function, register

__all__ = ["PRIMITIVES", "SURROGATE_GRADS", "SURROGATE_NAMES", "surrogate"]


# -- pure gradients g(x) and primitives S(x) --------------------------------------------------------
def rectangle_grad(x, width=0.5, height=1.0):
    """``height * [|x| < width]`` (STBP's rectangular window)."""
    return (x.abs() < width).to(x.dtype) * height


def rectangle_primitive(x, width=0.5, height=1.0):
    return height * (x.clamp(-width, width) + width)


def sigmoid_grad(x, slope=25.0):
    """``k s(kx) (1 - s(kx))``."""
    s = torch.sigmoid(slope * x)
    return slope * s * (1 - s)


def sigmoid_primitive(x, slope=25.0):
    return torch.sigmoid(slope * x)


def fast_sigmoid_grad(x, slope=25.0):
    """``1 / (1 + k|x|)**2`` (SuperSpike)."""
    return 1.0 / (slope * x.abs() + 1.0) ** 2


def fast_sigmoid_primitive(x, slope=25.0):
    return x / (1.0 + slope * x.abs())


def arctan_grad(x, alpha=2.0):
    """``alpha/2 / (1 + (pi/2 alpha x)**2)``, snnTorch's ATan backward operation for operation."""
    return alpha / 2 / (1 + (torch.pi / 2 * alpha * x).pow_(2))


def arctan_primitive(x, alpha=2.0):
    return torch.atan(torch.pi / 2 * alpha * x) / torch.pi


def triangle_grad(x, width=1.0, height=1.0):
    """``height * max(0, 1 - |x| / width)``."""
    return height * torch.clamp(1.0 - x.abs() / width, min=0.0)


def triangle_primitive(x, width=1.0, height=1.0):
    xc = x.clamp(-width, width)
    return height * (xc - xc * xc.abs() / (2 * width))


def gaussian_grad(x, sigma=0.5, height=1.0):
    """``height * exp(-x**2 / (2 sigma**2)) / (sigma sqrt(2 pi))`` (unit area for height 1)."""
    return height * torch.exp(-(x * x) / (2 * sigma * sigma)) / (sigma * math.sqrt(2 * math.pi))


def gaussian_primitive(x, sigma=0.5, height=1.0):
    return height * 0.5 * (1 + torch.erf(x / (sigma * math.sqrt(2.0))))


def exponential_grad(x, tau=0.5, scale=1.0):
    """``scale / tau * exp(-|x| / tau)`` (SLAYER's spike escape rate)."""
    return scale / tau * torch.exp(-x.abs() / tau)


def exponential_primitive(x, tau=0.5, scale=1.0):
    return scale * torch.sign(x) * (1 - torch.exp(-x.abs() / tau))


def straight_through_grad(x):
    """``1`` (the identity's derivative)."""
    return torch.ones_like(x)


def straight_through_primitive(x):
    return x


#: canonical name -> (gradient, primitive, aliases)
_ZOO = {
    "rectangle": (rectangle_grad, rectangle_primitive, ("stbp",)),
    "sigmoid": (sigmoid_grad, sigmoid_primitive, ()),
    "fast_sigmoid": (fast_sigmoid_grad, fast_sigmoid_primitive, ("superspike",)),
    "arctan": (arctan_grad, arctan_primitive, ("atan",)),
    "triangle": (triangle_grad, triangle_primitive, ()),
    "gaussian": (gaussian_grad, gaussian_primitive, ()),
    "exponential": (exponential_grad, exponential_primitive, ("slayer",)),
    "straight_through": (straight_through_grad, straight_through_primitive, ("ste",)),
}
SURROGATE_GRADS = {name: grad for name, (grad, _, _) in _ZOO.items()}
PRIMITIVES = {name: prim for name, (_, prim, _) in _ZOO.items()}


@dataclass(frozen=True)
class SurrogateState:
    """What a surrogate's backward needs: its gradient function and parameters."""

    grad: object = field(repr=False)
    params: tuple = ()

    def __repr__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params)


def _surrogate_grads(u, theta, state: SurrogateState, want_theta):
    g = state.grad(u - theta, **dict(state.params)).to(u.dtype)
    return g, (-g if want_theta else None)


def _check_params(name, grad, params):
    import inspect

    allowed = list(inspect.signature(grad).parameters)[1:]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(f"surrogate {name!r} takes {allowed or 'no parameters'}, not {unknown}")
    for k, v in params.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"surrogate {name!r}: {k} must be a positive finite number, got {v!r}")


def _make_factory(name, grad, aliases):
    function = make_function(name.title().replace("_", ""), _surrogate_grads)

    @register(name, *aliases)
    def factory(theta=1.0, *, comparator="ge", learn_theta=False, **params):
        _check_params(name, grad, params)
        state = SurrogateState(grad, tuple(sorted(params.items())))
        return Spike(name, function, theta, comparator, state, learn_theta=learn_theta)

    factory.__name__ = name
    factory.__doc__ = f"Spike function with the {name} surrogate gradient: {grad.__doc__}"
    factory.function = function
    return factory


for _name, (_grad, _, _aliases) in _ZOO.items():
    _make_factory(_name, _grad, _aliases)

#: every name (and alias) :func:`surrogate` accepts
SURROGATE_NAMES = frozenset(n for name, (_, _, al) in _ZOO.items() for n in (name, *al))


def surrogate(name: str, theta=1.0, **params) -> Spike:
    """Spike function ``[u >= theta]`` with the named surrogate gradient (module table).

    ``params`` are the surrogate's own (``alpha``, ``slope``, ``width``...); also
    ``comparator="gt"`` and ``learn_theta=True`` (theta becomes an ``nn.Parameter`` whose
    gradient is ``-sum dL/ds g``).
    """
    key = name.lower().replace("-", "_").replace(" ", "_")
    if key not in SURROGATE_NAMES:
        raise ValueError(f"unknown surrogate {name!r}; choose from {', '.join(sorted(SURROGATE_NAMES))}")
    return RULES[key](theta, **params)
