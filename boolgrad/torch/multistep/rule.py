"""What the fused loop needs from a spike function: its forward threshold and its ``g`` on a tensor.

* forward: the spike as ``lo <= u (< hi)`` in ``u``'s dtype.  A surrogate compares ``u`` with
  theta cast to the dtype (``gt``: with the next value up, the same set); a Boolean spike with
  its plan's threshold (:class:`~boolgrad.torch.lookup.TablePlan`: ``forward_threshold``, or
  ``quantized_threshold`` with ``quantize_forward``, a pair when values above the top round onto
  NaN);
* backward: ``cast(g(u))`` over the whole ``(T, B, N)`` tensor in one call -- the Boolean
  spike's own per-element plan (:meth:`~boolgrad.torch.boolean.BooleanState.gradient`: one
  numba pass on CPU), the surrogate's own torch expression -- so ``g`` is element for element
  the step loop's; and ``g_theta`` by the rule's own backward (a learnable threshold).  The
  surrogates whose expression is plain arithmetic (:data:`~.loops.SURROGATE_KINDS`) are instead
  computed inside the backward loop, operation for operation, and so, when
  :data:`BOOLEAN_IN_LOOP` (off: slower so far), is the Boolean spike's lookup where it runs the
  CPU kernel (:func:`loop_rule` gives the loop what it needs).

Other rules (the adapters' shifted spikes, user rules) are refused with a clear error.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch

from ..boolean import BooleanState
from ..spike import reduce_to
from ..surrogates import SurrogateState

__all__ = ["forward_threshold", "loop_rule", "rule_gradient", "theta_gradient", "threshold_of"]


#: compute the Boolean ``g`` in the backward loop (:func:`~boolgrad.torch.lookup.cpu_loops.element_g`).
#: Off: it equals the lookup bit for bit (tests) but costs ~80-100 ns an element in the loop against
#: ~8 ns for the lookup kernel's whole-tensor pass (measured on digits T=64: backward 56 ms vs 7 ms a
#: layer); the per-element slowness is not yet explained (not the tuple unpacking, round_to, the
#: binary search or the neighbour check: each removed alone, it stays).
BOOLEAN_IN_LOOP = False


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


def loop_rule(spike, u: torch.Tensor, theta, loops) -> tuple:
    """``(kind, th, c0, c1, bool_args)`` for the backward loop (:mod:`.loops`): ``kind`` 0 (``g``
    from :func:`rule_gradient`) unless the loop computes the spike's ``g`` itself -- a surrogate of
    ``loops.SURROGATE_KINDS`` (its constants as torch casts the expression's Python scalars to
    ``u``'s dtype) or a Boolean spike whose plan runs the CPU kernel (its kernel arrays and
    ``u``'s bits, ``(T, n)``)."""
    state = _check_rule(spike)
    np_dtype = u.numpy().dtype
    zero = np_dtype.type(0.0)
    none = (0, zero, zero, zero, loops.no_boolean(np_dtype))
    if isinstance(state, BooleanState):
        return (BOOLEAN_IN_LOOP and _loop_boolean(state, u, theta, loops)) or none
    kind = loops.SURROGATE_KINDS.get(spike.name, 0)
    from .. import surrogates

    if not kind or state.grad is not surrogates.SURROGATE_GRADS.get(spike.name):
        return none  # sigmoid, gaussian, exponential: torch's exp; or a state computing another g
    bound = inspect.signature(state.grad).bind(None, **dict(state.params))
    bound.apply_defaults()
    p = dict(list(bound.arguments.items())[1:])
    value = float(theta.detach()) if isinstance(theta, torch.Tensor) else float(theta)
    c0, c1 = {
        "arctan": lambda: (math.pi / 2 * p["alpha"], p["alpha"] / 2),
        "rectangle": lambda: (p["width"], p["height"]),
        "straight_through": lambda: (0.0, 0.0),
        "fast_sigmoid": lambda: (p["slope"], 0.0),
        "triangle": lambda: (p["width"], p["height"]),
    }[spike.name]()
    return kind, np_dtype.type(value), np_dtype.type(c0), np_dtype.type(c1), none[4]


def _loop_boolean(state, u, theta, loops):
    from ..lookup import cpu_kernel
    from ..lookup.evaluate import kernel_params

    plan, _, error = state.plans(u, theta)
    if error is not None or not plan.shift or u.dtype != plan.dtype or not cpu_kernel.available():
        return None  # rule_gradient: the error, or the torch path
    local = plan.workspace  # the kernel's own arrays, kept per thread by the plan
    kp = getattr(local, "kernel_params", None)
    if kp is None:
        kp = local.kernel_params = kernel_params(plan)
    tabs, p, (rnd, pow2), _ = kp
    special = getattr(local, "loop_special", None)
    if special is None:  # the slow path's g at +0, -0, inf, -inf: what the lookup gives them
        from ..lookup.evaluate import slow

        special = local.loop_special = slow(plan, torch.tensor([0.0, -0.0, math.inf, -math.inf], dtype=u.dtype)).numpy()
    a = u.numpy()
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64).reshape(u.shape[0], -1)
    zero = a.dtype.type(0.0)
    return loops.BOOLEAN_KIND, zero, zero, zero, (bits, tabs, p, rnd, pow2, special)


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
