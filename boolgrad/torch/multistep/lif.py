"""The fused multi-step LIF: :func:`lif_sequence`, its autograd Function and :class:`MultiStepLIF`.

``lif_sequence(I, params)`` equals ``boolgrad.torch.neurons.run(lif_step, params, I)`` (the
step loop) with ``u`` recorded: spikes bit for bit, ``u`` bit for bit, gradients to the rounding
of their sums (the loops' arithmetic: :mod:`.loops`).  Forward and backward are each one numba
pass over time, one vectorised loop over the neurons per step; the spike's ``g`` is a Boolean
rule's, evaluated on the whole recorded ``u`` at once by the rule itself, or a surrogate's,
computed op for op as the rule computes it inside the backward's loop (:mod:`.rule`).  Only
``u`` is kept for the backward (``s`` is recomputed from it: the same comparison); planned once
per layer and dtype (:class:`LoopPlan`).  ``I`` is ``(T, ...)``, or ``(...)`` with ``steps=T``: the same current
at every step (direct encoding; the first layer of the study's network), whose gradient is the
sum over time; with ``time_dim=1``, ``(K, T, ...)`` or ``(K, ...)``: K stacked layers (models)
in one call.  ``gain`` multiplies ``I`` inside the loop (the exact scheme's ``1 - e^{-a}``),
as a separate ``I * gain`` would.  A ``dL/ds`` that is the same at every step (stride 0 along
time: :func:`~.rate.time_mean`'s backward) is read as its one row, not copied T times.

Supported: float32 or float64 tensors on CPU (numba, :mod:`.loops`) or on CUDA (Triton,
:mod:`.triton_loops`: the same arithmetic, checked bit for bit in Triton's interpreter; no GPU
has run it yet); Boolean spikes (every format, convention,
comparator, scaling, ``quantize_forward``) and every surrogate of the zoo; ``reset="zero"`` or
``"subtract"`` with or without ``detach_reset``; a float or one-element learnable threshold
(``learn_theta=True``: its gradient as the rule's backward gives it).  Refused with an error:
other devices, per-neuron thresholds, a tensor ``tau``/``beta``
(learnable leak), other spike rules.  ``u`` is returned for the crossing statistics and is not
differentiable.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import torch
from torch import nn

from . import triton_loops  # imports triton only when a kernel first runs
from .rule import forward_threshold, loop_constants, rule_gradient, theta_gradient, threshold_of

__all__ = ["LoopPlan", "MultiStepLIF", "layer_config", "lif_sequence", "loop_plan", "prepare"]

_PARALLEL_MIN = 1 << 15  # elements (T * n) below which one thread runs the loop
_LOCK = threading.Lock()  # numba's threading layers may forbid concurrent parallel launches


@functools.lru_cache(maxsize=1)
def _loops():
    from ..lookup.cpu_kernel import start_pool  # numba's pool, keeping torch's thread count
    from . import loops

    return start_pool(), loops


@dataclass(frozen=True)
class _Config:
    spike: object
    steps: int | None  # the constant input's step count (None: ``I`` has a time axis)
    decay: float
    gain: float
    zero_reset: bool
    reset_by: float
    detach: bool
    time_dim: int  # 0, or 1 for stacked models (K, T, ...)


def prepare() -> None:
    """Compile-free set-up: import numba and start its thread pool keeping torch's thread count
    (call it before the first Boolean backward of a process that sets ``torch.set_num_threads``)."""
    _loops()


def _parallel(numel: int) -> bool:
    numba, _ = _loops()
    threads = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    if numel < _PARALLEL_MIN or threads == 1:
        return False
    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)
    return True


def _as3(t: torch.Tensor, K: int, rows: int):
    """The numpy ``(K, rows, n)`` view of a contiguous tensor."""
    return t.numpy().reshape(K, rows, -1)


def _view3(t: torch.Tensor, K: int, rows: int):
    """The ``(K, rows, n)`` view of a contiguous tensor."""
    return t.view(K, rows, -1)


def _backend(t: torch.Tensor):
    """``(loops, view, parallel)`` for ``t``'s device: numba's loops on numpy views (CPU), or
    :mod:`.triton_loops` on tensor views (CUDA); ``parallel(numel)``: run a numba loop on threads."""
    if t.device.type == "cpu":
        return _loops()[1], _as3, _parallel
    return triton_loops, _view3, lambda numel: False


def _grad_from_above(grad_s, shape, dtype, time_dim, device=None):
    """``(go, go_const)``: dL/ds contiguous, or, when it is the same at every step (``None``: zero;
    a tensor of stride 0 along time, as a mean over time hands down), one step of it, ``(..., 1,
    ...)``, and True: the loop reads that row at every step instead of a copy made T times."""
    if grad_s is None:
        shape = list(shape)
        shape[time_dim] = 1
        return torch.zeros(shape, dtype=dtype, device=device), True
    if grad_s.stride(time_dim) == 0:
        return grad_s.narrow(time_dim, 0, 1).contiguous(), True
    return grad_s.contiguous(), False


@dataclass(frozen=True)
class LoopPlan:
    """One layer's loops in one dtype, planned once (:func:`loop_plan`) and applied to many
    batches: the scalars of :mod:`.loops` as values of the dtype, the spike's forward threshold
    and, for a surrogate of :data:`~.rule.SURROGATE_KINDS`, the constants of its ``g``."""

    cfg: _Config
    theta: object  # a float, or a one-element tensor (a learnable threshold)
    scalars: tuple  # (gain, decay, reset_by, lo, hi) as values of the dtype
    has_hi: bool
    surrogate: tuple | None  # (kind, th, c0, c1) of :func:`~.loops.surrogate_g`, or None

    @property
    def recomputes(self) -> bool:
        """Can the backward compute ``u`` again from the input instead of reading it (a surrogate
        whose ``g`` the loop computes: :func:`~.loops.backward_recompute`)?"""
        return self.surrogate is not None

    def forward(self, x, K: int, T: int, const: bool, keep_s: bool = True, keep_u: bool = True):
        """``(u, s)`` of ``(K, T, n)``-shaped ``x`` (``(K, 1, n)`` when ``const``): new tensors of
        shape ``(K, T, ...)`` (``time_dim=1``) or ``(T, ...)``.  ``keep_s=False``: ``(u, r)``,
        ``r`` the mean of ``s`` over time (``s.mean(time)`` bit for bit), ``s`` never written;
        ``keep_u=False`` (with ``keep_s=False``): ``u`` is None, never written (the backward then
        takes ``x`` instead: :attr:`recomputes`)."""
        loops, view, parallel = _backend(x)
        gain, decay, reset_by, lo, hi = self.scalars
        cfg = self.cfg
        shape = self._shape(x, K, T, const)
        if keep_s and not keep_u:
            raise ValueError("a forward that keeps no u writes no s (keep_s=False)")
        new = functools.partial(torch.empty, dtype=x.dtype, device=x.device)
        u = new(shape) if keep_u else None
        s = new(shape) if keep_s else None
        rate = None if keep_s else new((K, *shape[1 + cfg.time_dim:]))
        with _LOCK:
            loops.forward(view(x, K, 1 if const else T), const, gain, decay, reset_by, cfg.zero_reset, lo, hi,
                          self.has_hi, None if u is None else view(u, K, T), None if s is None else view(s, K, T),
                          None if rate is None else view(rate, K, 1)[:, 0], parallel(math.prod(shape)), T)
        if keep_s:
            return u, s
        return u, rate.reshape(shape[:cfg.time_dim] + shape[1 + cfg.time_dim:])

    def backward(self, grad_s, u, K: int, T: int, in_shape, want_theta: bool, x=None):
        """``(dL/dI, dL/ds at every step or None)`` from ``grad_s`` (dL/ds from above, or None);
        ``u`` None: computed again from the forward's input ``x`` (:attr:`recomputes`)."""
        cfg = self.cfg
        gain, decay, reset_by, lo, hi = self.scalars
        const = cfg.steps is not None
        if u is None:
            return self._backward_recompute(grad_s, x, K, T, in_shape, want_theta)
        loops, view, parallel = _backend(u)
        go, go_const = _grad_from_above(grad_s, u.shape, u.dtype, cfg.time_dim, u.device)
        g = None
        if self.surrogate is None:
            g = view(rule_gradient(cfg.spike, u, self.theta).contiguous(), K, T)
        gI = torch.empty(in_shape, dtype=u.dtype, device=u.device)
        gs = torch.empty_like(u) if want_theta else torch.empty((1, 1, 1), dtype=u.dtype, device=u.device)
        with _LOCK:
            loops.backward(view(go, K, 1 if go_const else T), view(u, K, T), g, decay, reset_by, gain,
                           cfg.zero_reset, cfg.detach, const, go_const, want_theta, view(gI, K, 1 if const else T),
                           view(gs, K, T) if want_theta else view(gs, 1, 1), lo, hi, self.has_hi, self.surrogate,
                           parallel(u.numel()))
        return gI, (gs if want_theta else None)

    def _backward_recompute(self, grad_s, x, K: int, T: int, in_shape, want_theta: bool):
        if not self.recomputes:
            raise ValueError("only a surrogate computed in the loop lets the backward compute u again")
        loops, view, parallel = _backend(x)
        cfg = self.cfg
        gain, decay, reset_by, lo, hi = self.scalars
        const = cfg.steps is not None
        shape = self._shape(x, K, T, const)
        go, go_const = _grad_from_above(grad_s, shape, x.dtype, cfg.time_dim, x.device)
        gI = torch.empty(in_shape, dtype=x.dtype, device=x.device)
        gs = torch.empty(shape, dtype=x.dtype, device=x.device) if want_theta else None
        with _LOCK:
            loops.backward_recompute(view(x, K, 1 if const else T), T, const, gain, decay, reset_by, cfg.zero_reset,
                                     lo, hi, self.has_hi, view(go, K, 1 if go_const else T), go_const, cfg.detach,
                                     want_theta, view(gI, K, 1 if const else T),
                                     None if gs is None else view(gs, K, T), self.surrogate,
                                     parallel(math.prod(shape)))
        return gI, gs

    def _shape(self, x, K: int, T: int, const: bool) -> tuple:
        """The shape of ``u`` and ``s`` for the input ``x``."""
        if const:
            return (K, T, *x.shape[1:]) if self.cfg.time_dim else (T, *x.shape)
        return tuple(x.shape)


def loop_plan(cfg: _Config, theta, dtype: torch.dtype) -> LoopPlan:
    """The :class:`LoopPlan` of a layer ``cfg`` at threshold ``theta`` for tensors of ``dtype``
    (numpy scalars of the dtype, what torch casts a Python scalar to; no numba needed: the CUDA
    path plans it too)."""
    lo, hi, has_hi = forward_threshold(cfg.spike, theta, dtype)
    probe = torch.empty(0, dtype=dtype)
    c = probe.numpy().dtype.type
    scalars = (c(cfg.gain), c(cfg.decay), c(cfg.reset_by), c(lo), c(hi))
    return LoopPlan(cfg, theta, scalars, has_hi, loop_constants(cfg.spike, probe, theta))


class LIFSequence(torch.autograd.Function):
    """``apply(I, theta, theta_tensor, cfg) -> (s, u)``; ``theta_tensor``: a tensor threshold (or None)."""

    @staticmethod
    def forward(ctx, current, theta, theta_t, cfg: _Config):
        ctx.set_materialize_grads(False)  # u is not differentiable: no zero gradient for it
        x = current.detach().contiguous()
        K = x.shape[0] if cfg.time_dim else 1
        T = cfg.steps if cfg.steps is not None else x.shape[cfg.time_dim]
        plan = loop_plan(cfg, theta, current.dtype)
        u, s = plan.forward(x, K, T, cfg.steps is not None)
        ctx.save_for_backward(u)
        ctx.plan, ctx.dims, ctx.in_shape = plan, (K, T), current.shape
        ctx.mark_non_differentiable(u)
        return s, u

    @staticmethod
    def backward(ctx, grad_s, grad_u):
        (u,) = ctx.saved_tensors
        plan = ctx.plan
        want_theta = ctx.needs_input_grad[2]
        gI, gs = plan.backward(grad_s, u, *ctx.dims, ctx.in_shape, want_theta)
        grad_theta = theta_gradient(plan.cfg.spike, u, plan.theta, gs) if want_theta else None
        return (gI if ctx.needs_input_grad[0] else None), None, grad_theta, None


def _scalar(name, value):
    if isinstance(value, torch.Tensor):
        raise NotImplementedError(
            f"the fused LIF takes a fixed {name} (a float); a tensor {name} (learnable) needs the step "
            "loop (boolgrad.torch.neurons.lif_step)"
        )
    return float(value)


def lif_sequence(current: torch.Tensor, params, dt: float = 1.0, *, steps: int | None = None,
                 gain: float = 1.0, theta=None, time_dim: int = 0):
    """``(spikes, u)`` of a LIF layer over time (module doc); ``params``: a
    :class:`boolgrad.torch.neurons.LIFParams`.  ``steps``: ``current`` is one step's, repeated.
    ``time_dim=1``: ``current`` is ``(K, T, ...)`` (``(K, ...)`` with ``steps``), K independent
    layers (stacked models) run as one, each exactly as alone."""
    if not (dt > 0):
        raise ValueError(f"dt must be positive, got {dt!r}")
    if current.device.type != "cpu" and not (current.is_cuda and triton_loops.available()):
        raise NotImplementedError(
            f"the fused LIF runs on CPU (numba) and on CUDA with Triton; got a {current.device.type} tensor"
            + ("" if current.device.type != "cuda" else " and Triton is not installed") + " -- use the step loop"
        )
    if current.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"the fused LIF takes float32 or float64 currents, got {current.dtype}")
    if time_dim not in (0, 1):
        raise ValueError(f"time_dim must be 0 or 1 (after a stacked-models axis), got {time_dim!r}")
    if steps is None and current.dim() < 1 + time_dim:
        raise ValueError("current must have a time axis, or give steps=")
    if time_dim and current.dim() < 1:
        raise ValueError("time_dim=1 needs a leading stacked-models axis")
    if steps is not None and int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    cfg, theta = layer_config(params, dt, steps=steps, gain=gain, theta=theta, time_dim=time_dim)
    theta_t = theta if isinstance(theta, torch.Tensor) and theta.requires_grad else None
    return LIFSequence.apply(current, theta, theta_t, cfg)


def layer_config(params, dt: float = 1.0, *, steps: int | None = None, gain: float = 1.0, theta=None,
                 time_dim: int = 0):
    """``(cfg, theta)``: the loops' description of a layer of :func:`lif_sequence`'s arguments
    (for :func:`loop_plan`), and the threshold it uses."""
    decay = _scalar("beta", params.beta) if params.beta is not None else _scalar("tau", params.tau)
    if params.beta is None:
        decay = math.exp(-dt / decay) if math.isfinite(decay) else 1.0
    spike = params.spike
    theta = threshold_of(spike, theta)
    cfg = _Config(spike, None if steps is None else int(steps), decay, float(gain), params.reset == "zero",
                  _scalar("reset_by", params.reset_by), bool(params.detach_reset), int(time_dim))
    return cfg, theta


class MultiStepLIF(nn.Module):
    """A LIF layer over time, fused (module doc): ``forward(I, steps=None) -> (spikes, u)``.

    Options as :class:`boolgrad.torch.neurons.LIF` (``tau``, ``dt``, ``reset``, ``reset_by``,
    ``detach_reset``, ``beta``) plus ``gain`` on the input; the spike module (and its learnable
    threshold) trains with the layer."""

    def __init__(self, spike, tau=2.0, dt=1.0, reset="zero", reset_by=1.0, detach_reset=False, beta=None,
                 gain=1.0):
        super().__init__()
        from ..neurons import LIFParams

        self.spike = spike
        self.dt, self.gain = float(dt), float(gain)
        self._params = LIFParams(spike, float(tau), reset, reset_by, detach_reset, beta)
        lif_sequence(torch.zeros(1, 1), self._params, self.dt)  # validate now

    def forward(self, current: torch.Tensor, steps: int | None = None):
        return lif_sequence(current, self._params, self.dt, steps=steps, gain=self.gain)
