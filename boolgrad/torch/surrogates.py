"""The surrogate-gradient zoo, with the usual names and parameters (``x = u - theta``).

Each surrogate is a pure gradient ``g(x)`` (the backward), the smooth primitive ``S(x)`` whose
derivative it is (``S'(x) = g(x)``; used by the tests) and its own named ``autograd.Function``
(:class:`ArctanSpike`...); :func:`surrogate` makes the spike module.  The registry
:data:`SURROGATES` is a literal dict:

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

import inspect
import math
from dataclasses import dataclass, field

import torch

from .rules import Spike, SpikeFunction, spike_forward

__all__ = ["ALIASES", "PRIMITIVES", "SURROGATES", "SURROGATE_GRADS", "SURROGATE_NAMES", "surrogate"]


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


# -- one named autograd Function per surrogate (picklable by reference) ----------------------------
class RectangleSpike(SpikeFunction):
    """Spike with the rectangle (STBP) surrogate gradient."""


class SigmoidSpike(SpikeFunction):
    """Spike with the sigmoid surrogate gradient."""


class FastSigmoidSpike(SpikeFunction):
    """Spike with the fast-sigmoid (SuperSpike) surrogate gradient."""


class ArctanSpike(SpikeFunction):
    """Spike with the arctan surrogate gradient."""


class TriangleSpike(SpikeFunction):
    """Spike with the triangle surrogate gradient."""


class GaussianSpike(SpikeFunction):
    """Spike with the Gaussian surrogate gradient."""


class ExponentialSpike(SpikeFunction):
    """Spike with the exponential (SLAYER) surrogate gradient."""


class StraightThroughSpike(SpikeFunction):
    """Spike with the straight-through gradient."""


#: canonical name -> (gradient, primitive, autograd Function)
SURROGATES = {
    "rectangle": (rectangle_grad, rectangle_primitive, RectangleSpike),
    "sigmoid": (sigmoid_grad, sigmoid_primitive, SigmoidSpike),
    "fast_sigmoid": (fast_sigmoid_grad, fast_sigmoid_primitive, FastSigmoidSpike),
    "arctan": (arctan_grad, arctan_primitive, ArctanSpike),
    "triangle": (triangle_grad, triangle_primitive, TriangleSpike),
    "gaussian": (gaussian_grad, gaussian_primitive, GaussianSpike),
    "exponential": (exponential_grad, exponential_primitive, ExponentialSpike),
    "straight_through": (straight_through_grad, straight_through_primitive, StraightThroughSpike),
}
#: alias -> canonical name
ALIASES = {
    "stbp": "rectangle",
    "superspike": "fast_sigmoid",
    "atan": "arctan",
    "slayer": "exponential",
    "ste": "straight_through",
}
SURROGATE_GRADS = {name: grad for name, (grad, _, _) in SURROGATES.items()}
PRIMITIVES = {name: prim for name, (_, prim, _) in SURROGATES.items()}
#: every name (and alias) :func:`surrogate` accepts
SURROGATE_NAMES = frozenset(SURROGATES) | frozenset(ALIASES)


def surrogate_backward(u, theta, grad_out, grad, params, want_theta):
    """``(dL/ds * g(u - theta), g_theta = -g)``: a surrogate's backward, pure."""
    g = grad(u - theta, **params).to(u.dtype)
    g_theta = -g if want_theta else None
    return g.mul_(grad_out), g_theta


@dataclass(frozen=True)
class SurrogateState:
    """A surrogate rule: its gradient function and parameters (:mod:`boolgrad.torch.rules`)."""

    grad: object = field(repr=False)
    params: tuple = ()

    def __repr__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params)

    def spikes(self, u, theta, comparator):
        return spike_forward(u, theta, comparator)

    def backward(self, u, theta, grad_out, want_theta):
        return surrogate_backward(u, theta, grad_out, self.grad, dict(self.params), want_theta)


def _check_params(name, grad, params):
    allowed = list(inspect.signature(grad).parameters)[1:]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(f"surrogate {name!r} takes {allowed or 'no parameters'}, not {unknown}")
    for k, v in params.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise ValueError(f"surrogate {name!r}: {k} must be a positive finite number, got {v!r}")


def surrogate(name: str, theta=1.0, *, comparator="ge", learn_theta=False, **params) -> Spike:
    """Spike function ``[u >= theta]`` with the named surrogate gradient (module table).

    ``params`` are the surrogate's own (``alpha``, ``slope``, ``width``...); also
    ``comparator="gt"`` and ``learn_theta=True`` (theta becomes an ``nn.Parameter`` whose
    gradient is ``-sum dL/ds g``).
    """
    key = name.lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in SURROGATES:
        raise ValueError(f"unknown surrogate {name!r}; choose from {', '.join(sorted(SURROGATE_NAMES))}")
    grad, _, function = SURROGATES[key]
    _check_params(key, grad, params)
    state = SurrogateState(grad, tuple(sorted(params.items())))
    return Spike(key, function, theta, comparator, state, learn_theta=learn_theta)
