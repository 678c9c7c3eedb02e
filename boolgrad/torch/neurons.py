"""Spiking neurons as functional steps ``(input, state, params, dt) -> (out, state)`` plus modules.

Any spike function of :mod:`boolgrad.torch` (Boolean or surrogate) goes in ``params.spike``;
a learnable threshold lives in the spike function (``learn_theta=True``).  All time constants
and the step ``dt`` are explicit, so a coarser timestep is one argument away (the case Yoo &
Jeong 2025 blame for the Boolean gradient's undershoot/overshoot).

* LIF, as in Yoo & Jeong's training code (the STBP form, Wu et al. 2018)::

      u[t] = u[t-1] * exp(-dt / tau) * (1 - s[t-1]) + I[t]        s[t] = spike(u[t])

  ``reset="subtract"`` uses ``u[t-1] exp(-dt/tau) - s[t-1] * reset_by`` instead of the
  multiplicative reset; ``detach_reset=True`` stops the gradient through ``s[t-1]`` in the
  reset (snnTorch and SpikingJelly do this by default).
* IF: LIF without leak (``tau = inf``).
* SRM with a two-exponential synaptic kernel and an exponential refractory kernel::

      a[t] = a[t-1] exp(-dt/tau_m) + I[t],   b[t] = b[t-1] exp(-dt/tau_s) + I[t]
      r[t] = r[t-1] exp(-dt/tau_r) - reset_by * s[t-1]
      u[t] = (a[t] - b[t]) * tau_m / (tau_m - tau_s) + r[t],      s[t] = spike(u[t])

  (``a - b`` is the input filtered by ``exp(-t/tau_m) - exp(-t/tau_s)``.)
* The halving neuron of seed 003: the potential integrates the input; if it reaches the
  threshold the neuron outputs the potential and resets to 0, otherwise it outputs 0 and the
  potential is multiplied by ``leak`` (0.5 there)::

      p = v[t-1] + x[t];  s = spike(p);  out[t] = s * p;  v[t] = (1 - s) * p * leak

  Threshold (in the spike function) and ``leak`` are learnable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "IF",
    "LIF",
    "SRM",
    "Halving",
    "HalvingParams",
    "HalvingState",
    "LIFParams",
    "LIFState",
    "SRMParams",
    "SRMState",
    "halving_step",
    "lif_step",
    "run",
    "srm_step",
]


def _decay(dt, tau):
    """``exp(-dt / tau)`` for a float or tensor ``tau`` (``inf``: no leak)."""
    if isinstance(tau, torch.Tensor):
        return torch.exp(-dt / tau)
    return math.exp(-dt / tau) if math.isfinite(tau) else 1.0


def _check_positive(**values):
    for k, v in values.items():
        if not isinstance(v, torch.Tensor) and not (v > 0):
            raise ValueError(f"{k} must be positive, got {v!r}")


# -- LIF / IF ------------------------------------------------------------------------------------------
class LIFState(NamedTuple):
    u: torch.Tensor
    s: torch.Tensor


@dataclass(frozen=True)
class LIFParams:
    spike: object
    tau: float | torch.Tensor = 2.0
    reset: str = "zero"  # "zero" (multiplicative, the authors') or "subtract"
    reset_by: float = 1.0
    detach_reset: bool = False
    beta: float | torch.Tensor | None = None  # the decay itself (snnTorch's beta), overrides tau

    def __post_init__(self):
        if self.reset not in ("zero", "subtract"):
            raise ValueError(f"reset must be 'zero' or 'subtract', got {self.reset!r}")
        _check_positive(tau=self.tau)

    def decay(self, dt):
        return self.beta if self.beta is not None else _decay(dt, self.tau)


def lif_step(input: torch.Tensor, state: LIFState | None, params: LIFParams, dt: float = 1.0):
    """One LIF step (module doc); ``state=None`` starts from ``u = s = 0``."""
    _check_positive(dt=dt)
    if state is None:
        s = params.spike(input)  # u[-1] = 0, so u[0] = I[0]
        return s, LIFState(input, s)
    s_prev = state.s.detach() if params.detach_reset else state.s
    leaked = state.u * params.decay(dt)
    if params.reset == "zero":
        u = leaked * (1 - s_prev) + input
    else:
        u = leaked - s_prev * params.reset_by + input
    s = params.spike(u)
    return s, LIFState(u, s)


# -- SRM -----------------------------------------------------------------------------------------------
class SRMState(NamedTuple):
    a: torch.Tensor
    b: torch.Tensor
    r: torch.Tensor
    s: torch.Tensor


@dataclass(frozen=True)
class SRMParams:
    spike: object
    tau_m: float = 4.0
    tau_s: float = 1.0
    tau_r: float = 2.0
    reset_by: float = 1.0
    detach_reset: bool = False

    def __post_init__(self):
        _check_positive(tau_m=self.tau_m, tau_s=self.tau_s, tau_r=self.tau_r)
        if self.tau_m == self.tau_s:
            raise ValueError("the two-exponential kernel needs tau_m != tau_s")


def srm_step(input: torch.Tensor, state: SRMState | None, params: SRMParams, dt: float = 1.0):
    """One SRM step (module doc); ``state=None`` starts from rest."""
    _check_positive(dt=dt)
    if state is None:
        zero = torch.zeros_like(input)
        state = SRMState(zero, zero, zero, zero)
    s_prev = state.s.detach() if params.detach_reset else state.s
    a = state.a * _decay(dt, params.tau_m) + input
    b = state.b * _decay(dt, params.tau_s) + input
    r = state.r * _decay(dt, params.tau_r) - s_prev * params.reset_by
    u = (a - b) * (params.tau_m / (params.tau_m - params.tau_s)) + r
    s = params.spike(u)
    return s, SRMState(a, b, r, s)


# -- halving neuron (seed 003) -------------------------------------------------------------------------
class HalvingState(NamedTuple):
    v: torch.Tensor


@dataclass(frozen=True)
class HalvingParams:
    spike: object
    leak: float | torch.Tensor = 0.5


def halving_step(input: torch.Tensor, state: HalvingState | None, params: HalvingParams, dt: float = 1.0):
    """One step of the halving neuron (module doc).  ``dt`` is accepted for a uniform signature;
    the neuron is defined per input event, so it must be 1."""
    if dt != 1.0:
        raise ValueError("the halving neuron is defined per step; dt must be 1")
    p = input if state is None else state.v + input
    s = params.spike(p)
    out = s * p
    v = (1 - s) * p * params.leak
    return out, HalvingState(v)


# -- modules -------------------------------------------------------------------------------------------
def run(step, params, inputs: torch.Tensor, dt: float = 1.0, state=None):
    """Apply ``step`` over the first (time) axis of ``inputs``; returns (outputs, last state)."""
    outs = []
    for x in inputs:
        out, state = step(x, state, params, dt)
        outs.append(out)
    return torch.stack(outs), state


class _Neuron(nn.Module):
    """Common wrapper: ``forward(x, state=None) -> (out, state)``; ``run(xs)`` over time."""

    step = None

    def __init__(self, spike, dt: float):
        super().__init__()
        self.spike = spike  # an nn.Module: its learnable theta trains with the neuron
        self.dt = float(dt)

    def params(self):
        raise NotImplementedError

    def forward(self, x: torch.Tensor, state=None):
        return type(self).step(x, state, self.params(), self.dt)

    def run(self, inputs: torch.Tensor, state=None):
        return run(type(self).step, self.params(), inputs, self.dt, state)


class LIF(_Neuron):
    """LIF neuron (module doc); ``learn_tau=True`` makes ``tau`` a parameter."""

    step = staticmethod(lif_step)

    def __init__(
        self,
        spike,
        tau=2.0,
        dt=1.0,
        reset="zero",
        reset_by=1.0,
        detach_reset=False,
        learn_tau=False,
        beta=None,
    ):
        super().__init__(spike, dt)
        self.tau = nn.Parameter(torch.tensor(float(tau))) if learn_tau else float(tau)
        self.reset, self.reset_by, self.detach_reset = reset, reset_by, detach_reset
        self.beta = beta
        self.params()  # validate now

    def params(self):
        return LIFParams(self.spike, self.tau, self.reset, self.reset_by, self.detach_reset, self.beta)


class IF(LIF):
    """Integrate-and-fire: LIF with ``tau = inf``."""

    def __init__(self, spike, dt=1.0, reset="zero", reset_by=1.0, detach_reset=False):
        super().__init__(spike, math.inf, dt, reset, reset_by, detach_reset, beta=1.0)


class SRM(_Neuron):
    """Spike response model neuron (module doc)."""

    step = staticmethod(srm_step)

    def __init__(self, spike, tau_m=4.0, tau_s=1.0, tau_r=2.0, dt=1.0, reset_by=1.0, detach_reset=False):
        super().__init__(spike, dt)
        self.tau_m, self.tau_s, self.tau_r = float(tau_m), float(tau_s), float(tau_r)
        self.reset_by, self.detach_reset = reset_by, detach_reset
        self.params()

    def params(self):
        return SRMParams(self.spike, self.tau_m, self.tau_s, self.tau_r, self.reset_by, self.detach_reset)


class Halving(_Neuron):
    """The halving neuron of seed 003; ``learn_leak=True`` makes ``leak`` a parameter."""

    step = staticmethod(halving_step)

    def __init__(self, spike, leak=0.5, learn_leak=True):
        super().__init__(spike, 1.0)
        self.leak = nn.Parameter(torch.tensor(float(leak))) if learn_leak else float(leak)

    def params(self):
        return HalvingParams(self.spike, self.leak)
