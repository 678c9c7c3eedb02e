"""What the fused loop needs from a spike function: its forward threshold and its ``g`` on a tensor.

* forward: the spike as ``lo <= u (< hi)`` in ``u``'s dtype.  A surrogate compares ``u`` with
  theta cast to the dtype (``gt``: with the next value up, the same set); a Boolean spike with
  its plan's threshold (:class:`~boolgrad.torch.lookup.TablePlan`: ``forward_threshold``, or
  ``quantized_threshold`` with ``quantize_forward``, a pair when values above the top round onto
  NaN);
* backward: ``cast(g(u))``, element for element the step loop's.  A Boolean spike's (and a
  surrogate's outside :data:`SURROGATE_KINDS`) over the whole ``(K, T, B, N)`` tensor
  in one call of the rule itself (:func:`rule_gradient`; the Boolean per-element plan,
  :meth:`~boolgrad.torch.boolean.BooleanState.gradient`, is one numba pass on CPU); for the
  surrogates whose expression is plain arithmetic, :func:`loop_constants` gives the constants
  with which the LIF backward computes that expression operation for operation, row by row
  inside its loop (:mod:`.loops`; :func:`loop_gradient`: the same values on a whole tensor);
  and ``g_theta`` by the rule's own backward (a learnable threshold).

Other rules (the adapters' shifted spikes, user rules) are refused with a clear error.
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np
import torch

from ..boolean import BooleanState
from ..spike import reduce_to
from ..surrogates import SurrogateState

__all__ = ["SURROGATE_KINDS", "forward_threshold", "loop_constants", "loop_gradient", "rule_gradient",
           "theta_gradient", "threshold_of"]

#: surrogate name -> its number in the loops that compute its ``g`` themselves (:mod:`.loops`'
#: ``surrogate_g``, :mod:`.triton_loops`); the others' ``g`` is the rule's own
SURROGATE_KINDS = {"arctan": 1, "rectangle": 2, "straight_through": 3, "fast_sigmoid": 4, "triangle": 5}


def threshold_of(spike, theta=None):
    """The threshold a call ``spike(u, theta)`` uses: a float or a one-element tensor."""
    theta = spike.theta if theta is None else theta
    if isinstance(theta, torch.Tensor) and theta.numel() != 1:
        raise NotImplementedError(
            "the fused LIF takes one threshold for the layer; per-neuron thresholds (a theta tensor "
            f"of shape {tuple(theta.shape)}) need the step loop (boolgrad.torch.neurons.lif_step)"
        )
    return theta


def _check_rule(spike):
    state = getattr(spike, "state", None)
    if not isinstance(state, (BooleanState, SurrogateState)):
        raise NotImplementedError(
            f"the fused LIF supports Boolean spikes (boolean_spike) and the surrogate zoo (surrogate); "
            f"got a spike with rule {type(state).__name__} -- use boolgrad.torch.neurons.lif_step"
        )
    return state


def forward_threshold(spike, theta, dtype: torch.dtype) -> tuple[float, float, bool]:
    """``(lo, hi, has_hi)``: the spike is ``u >= lo`` (and ``u < hi`` when ``has_hi``) in ``dtype``."""
    state = _check_rule(spike)
    np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
    if isinstance(state, BooleanState):
        plan = state.plans(torch.empty(0, dtype=dtype), theta)[0]
        t = plan.quantized_threshold if state.quantize_forward else plan.forward_threshold
        if isinstance(t, tuple):
            return float(np_dtype.type(t[0])), float(np_dtype.type(t[1])), True
        return float(np_dtype.type(t)), math.inf, False
    value = float(theta.detach()) if isinstance(theta, torch.Tensor) else float(theta)
    t = np_dtype.type(value)  # torch compares a float32 tensor with the scalar cast to float32
    if spike.comparator == "gt":
        t = np.nextafter(t, np_dtype.type(np.inf))
    return float(t), math.inf, False


@functools.lru_cache(maxsize=256)
def _surrogate_constants(name, grad, params: tuple):
    """``(c0, c1)`` of surrogate ``name`` with ``grad`` and ``params`` (module doc of :mod:`.loops`),
    or None when ``grad`` is not the zoo's own expression; cached: ``inspect.signature`` costs more
    than the loop it feeds."""
    from .. import surrogates

    if grad is not surrogates.SURROGATE_GRADS.get(name):
        return None
    bound = inspect.signature(grad).bind(None, **dict(params))
    bound.apply_defaults()
    p = dict(list(bound.arguments.items())[1:])
    return {
        "arctan": lambda: (math.pi / 2 * p["alpha"], p["alpha"] / 2),
        "rectangle": lambda: (p["width"], p["height"]),
        "straight_through": lambda: (0.0, 0.0),
        "fast_sigmoid": lambda: (p["slope"], 0.0),
        "triangle": lambda: (p["width"], p["height"]),
    }[name]()


def loop_constants(spike, u: torch.Tensor, theta):
    """``(kind, th, c0, c1)`` for :func:`~.loops.surrogate_g` when ``spike`` is a surrogate of
    :data:`SURROGATE_KINDS` computing its own expression (its constants as torch casts the
    expression's Python scalars to ``u``'s dtype); ``None`` for the others (Boolean spikes, the
    surrogates with torch's ``exp``, a state computing another ``g``)."""
    state = _check_rule(spike)
    kind = SURROGATE_KINDS.get(spike.name, 0)
    if isinstance(state, BooleanState) or not kind:
        return None
    found = _surrogate_constants(spike.name, state.grad, state.params)
    if found is None:
        return None
    value = float(theta.detach()) if isinstance(theta, torch.Tensor) else float(theta)
    f = u.numpy().dtype.type
    return kind, f(value), f(found[0]), f(found[1])


def loop_gradient(spike, u: torch.Tensor, theta, loops) -> torch.Tensor:
    """:func:`rule_gradient`, by :func:`~.loops.surrogate_g`'s one vectorised pass where
    :func:`loop_constants` has the spike's constants (the same values, bit for bit: tests)."""
    consts = loop_constants(spike, u, theta)
    if consts is None:
        return rule_gradient(spike, u, theta)
    return torch.from_numpy(loops.surrogate_g(consts[0], u.numpy(), *consts[1:]))


def rule_gradient(spike, u: torch.Tensor, theta) -> torch.Tensor:
    """``cast(g(u))`` in ``u``'s dtype, every element (the spike's backward without ``dL/ds``)."""
    state = _check_rule(spike)
    if isinstance(state, BooleanState):
        return state.gradient(u, theta)
    return state.grad(u - theta, **dict(state.params)).to(u.dtype)


def theta_gradient(spike, u: torch.Tensor, theta: torch.Tensor, gs: torch.Tensor) -> torch.Tensor:
    """``dL/dtheta = sum dL/ds * g_theta(u)`` (``gs``: dL/ds at every step), theta's shape and dtype."""
    state = _check_rule(spike)
    _, g_theta = state.backward(u, theta, gs, True)
    return reduce_to(gs * g_theta, theta.shape).to(theta.dtype)
