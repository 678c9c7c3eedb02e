"""The surrogate-gradient zoo in torch (``x = u - theta``).

Each surrogate is a pure gradient ``g(x)`` (the backward), the smooth primitive ``S(x)`` whose
derivative it is (``S'(x) = g(x)``; used by the tests) and its own named ``autograd.Function``
(:class:`ArctanSpike`...); :func:`surrogate` makes the spike module.  Formulas, sources, names,
aliases and default parameters are the rules' (:mod:`boolgrad.rules.surrogates`, which also
evaluates them in numpy); here they are torch operations, one function each, with the defaults
bound from :data:`~boolgrad.rules.surrogates.DEFAULTS`.

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

from boolgrad.rules.surrogates import (
    ALIASES,
    CANONICAL_NAMES,
    DEFAULTS,
    SURROGATE_NAMES,
    canonical_name,
    check_params,
)

from .spike import Spike, SpikeFunction, spike_forward

__all__ = ["ALIASES", "PRIMITIVES", "SURROGATES", "SURROGATE_GRADS", "SURROGATE_NAMES", "surrogate"]


def _defaults(name):
    """Bind the rules' default parameters of surrogate ``name`` to a ``g`` or ``S`` (``f(x, *params)``)."""

    def bind(f):
        params = list(inspect.signature(f).parameters)[1:]
        if params != list(DEFAULTS[name]):
            raise TypeError(f"{f.__name__} takes {params}; the rules' {name!r} takes {list(DEFAULTS[name])}")
        f.__defaults__ = tuple(DEFAULTS[name].values()) or None
        return f

    return bind


# -- pure gradients g(x) and primitives S(x) --------------------------------------------------------
@_defaults("rectangle")
def rectangle_grad(x, width, height):
    """``height * [|x| < width]`` (STBP's rectangular window)."""
    return (x.abs() < width).to(x.dtype) * height


@_defaults("rectangle")
def rectangle_primitive(x, width, height):
    return height * (x.clamp(-width, width) + width)


@_defaults("sigmoid")
def sigmoid_grad(x, slope):
    """``k s(kx) (1 - s(kx))``."""
    s = torch.sigmoid(slope * x)
    return slope * s * (1 - s)


@_defaults("sigmoid")
def sigmoid_primitive(x, slope):
    return torch.sigmoid(slope * x)


@_defaults("fast_sigmoid")
def fast_sigmoid_grad(x, slope):
    """``1 / (1 + k|x|)**2`` (SuperSpike)."""
    return 1.0 / (slope * x.abs() + 1.0) ** 2


@_defaults("fast_sigmoid")
def fast_sigmoid_primitive(x, slope):
    return x / (1.0 + slope * x.abs())


@_defaults("arctan")
def arctan_grad(x, alpha):
    """``alpha/2 / (1 + (pi/2 alpha x)**2)``, snnTorch's ATan backward operation for operation."""
    return alpha / 2 / (1 + (torch.pi / 2 * alpha * x).pow_(2))


@_defaults("arctan")
def arctan_primitive(x, alpha):
    return torch.atan(torch.pi / 2 * alpha * x) / torch.pi


@_defaults("triangle")
def triangle_grad(x, width, height):
    """``height * max(0, 1 - |x| / width)``."""
    return height * torch.clamp(1.0 - x.abs() / width, min=0.0)


@_defaults("triangle")
def triangle_primitive(x, width, height):
    xc = x.clamp(-width, width)
    return height * (xc - xc * xc.abs() / (2 * width))


@_defaults("gaussian")
def gaussian_grad(x, sigma, height):
    """``height * exp(-x**2 / (2 sigma**2)) / (sigma sqrt(2 pi))`` (unit area for height 1)."""
    return height * torch.exp(-(x * x) / (2 * sigma * sigma)) / (sigma * math.sqrt(2 * math.pi))


@_defaults("gaussian")
def gaussian_primitive(x, sigma, height):
    return height * 0.5 * (1 + torch.erf(x / (sigma * math.sqrt(2.0))))


@_defaults("exponential")
def exponential_grad(x, tau, scale):
    """``scale / tau * exp(-|x| / tau)`` (SLAYER's spike escape rate)."""
    return scale / tau * torch.exp(-x.abs() / tau)


@_defaults("exponential")
def exponential_primitive(x, tau, scale):
    return scale * torch.sign(x) * (1 - torch.exp(-x.abs() / tau))


@_defaults("straight_through")
def straight_through_grad(x):
    """``1`` (the identity's derivative)."""
    return torch.ones_like(x)


@_defaults("straight_through")
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


_ZOO = {
    "rectangle": (rectangle_grad, rectangle_primitive, RectangleSpike),
    "sigmoid": (sigmoid_grad, sigmoid_primitive, SigmoidSpike),
    "fast_sigmoid": (fast_sigmoid_grad, fast_sigmoid_primitive, FastSigmoidSpike),
    "arctan": (arctan_grad, arctan_primitive, ArctanSpike),
    "triangle": (triangle_grad, triangle_primitive, TriangleSpike),
    "gaussian": (gaussian_grad, gaussian_primitive, GaussianSpike),
    "exponential": (exponential_grad, exponential_primitive, ExponentialSpike),
    "straight_through": (straight_through_grad, straight_through_primitive, StraightThroughSpike),
}
if set(_ZOO) != set(CANONICAL_NAMES):  # the rules name the zoo; this module only implements it
    raise ImportError(f"the torch zoo implements {sorted(_ZOO)}, the rules name {sorted(CANONICAL_NAMES)}")
#: canonical name -> (gradient, primitive, autograd Function), in the rules' order
SURROGATES = {name: _ZOO[name] for name in CANONICAL_NAMES}
SURROGATE_GRADS = {name: grad for name, (grad, _, _) in SURROGATES.items()}
PRIMITIVES = {name: prim for name, (_, prim, _) in SURROGATES.items()}


def surrogate_backward(u, theta, grad_out, grad, params, want_theta):
    """``(dL/ds * g(u - theta), g_theta = -g)``: a surrogate's backward, pure."""
    g = grad(u - theta, **params).to(u.dtype)
    g_theta = -g if want_theta else None
    return g.mul_(grad_out), g_theta


@dataclass(frozen=True)
class SurrogateState:
    """A surrogate rule: its gradient function and parameters (:mod:`boolgrad.torch.spike`)."""

    grad: object = field(repr=False)
    params: tuple = ()

    def __repr__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params)

    def spikes(self, u, theta, comparator):
        return spike_forward(u, theta, comparator)

    def backward(self, u, theta, grad_out, want_theta):
        return surrogate_backward(u, theta, grad_out, self.grad, dict(self.params), want_theta)


def surrogate(name: str, theta=1.0, *, comparator="ge", learn_theta=False, **params) -> Spike:
    """Spike function ``[u >= theta]`` with the named surrogate gradient (the table of
    :mod:`boolgrad.rules.surrogates`; aliases, case and ``-`` or spaces accepted).

    ``params`` are the surrogate's own (``alpha``, ``slope``, ``width``...); also
    ``comparator="gt"`` and ``learn_theta=True`` (theta becomes an ``nn.Parameter`` whose
    gradient is ``-sum dL/ds g``).
    """
    key = canonical_name(name)
    check_params(key, params)  # the given values are kept as given (ints stay ints)
    grad, _, function = SURROGATES[key]
    state = SurrogateState(grad, tuple(sorted(params.items())))
    return Spike(key, function, theta, comparator, state, learn_theta=learn_theta)
