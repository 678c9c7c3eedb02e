"""Evaluate a :class:`~.plan.TablePlan` on a tensor: the fast path, the exact slow path, dispatch.

* :func:`plan_gradient` -- scaled float64 ``g`` (torch operations only: the reference path);
* :func:`plan_gradient_as` -- ``g`` cast to a dtype, the form a backward needs;
* :func:`grad_input` -- ``cast(g) * grad_out``, the backward itself.

Fast path (package doc): shift, two gathers, ``P + Q / v``, clip, patch; elements whose bucket
holds NaN go to :func:`slow` (``searchsorted`` over the pieces, ``g(+-0)`` by sign, ``0`` at
NaN patterns, the table's own sum on irregular pieces).  On a CPU with numba the fast path is
one loop (:mod:`.cpu_kernel`); on CUDA with Triton one kernel (:mod:`.triton_kernel`); else
torch operations with float64 scratch kept per thread (fresh CPU allocations page-fault).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import cpu_kernel
from .plan import TablePlan, clip, exact_gradient

__all__ = ["direct_table", "grad_input", "kernel_params", "plan_gradient", "plan_gradient_as", "slow"]

_INT_VIEW = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}


def _value(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """``v``: the element's value in the table's format, float64."""
    if plan.fits:
        return u.to(torch.float64)
    from ..quantize import quantize

    return quantize(u, plan.fmt, dtype=torch.float64)


def plan_gradient(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """Scaled float64 ``g`` (a new tensor of ``u``'s shape) at each element's own pattern."""
    return _gradient(plan, u, None)


def plan_gradient_as(plan: TablePlan, u: torch.Tensor, dtype, fused: bool = True) -> torch.Tensor:
    """``plan_gradient(plan, u).to(dtype)``; ``fused=False`` forces the torch path."""
    return _evaluate(plan, u, None, dtype, fused)


def grad_input(
    plan: TablePlan, u: torch.Tensor, grad_out: torch.Tensor, fused: bool = True, offset: float = 0.0
) -> torch.Tensor:
    """The backward ``plan_gradient_as(plan, u, u.dtype) * grad_out`` (one pass when fused).

    ``offset``: the gradient at ``u + offset`` (in ``u``'s dtype; the shifted adapters' ``fl(x +
    theta)``), added inside the CPU kernel for float32 (no extra pass)."""
    fuse_offset = (
        offset and fused and plan.shift and u.dtype == torch.float32 and u.device.type == "cpu"
        and cpu_kernel.available() and grad_out.shape == u.shape and grad_out.dtype == u.dtype
    )
    if offset and not fuse_offset:
        u = u + offset
    if grad_out.shape != u.shape or grad_out.dtype != u.dtype:
        return plan_gradient_as(plan, u, u.dtype, fused).mul_(grad_out)
    if fuse_offset:
        if u.dtype != plan.dtype:
            raise TypeError(f"plan compiled for {plan.dtype}, got a {u.dtype} tensor")
        return _cpu_fused(plan, u, grad_out, float(offset))
    return _evaluate(plan, u, grad_out, u.dtype, fused)


def _evaluate(plan, u, grad_out, dtype, fused):
    if u.dtype != plan.dtype:
        raise TypeError(f"plan compiled for {plan.dtype}, got a {u.dtype} tensor")
    if fused and plan.shift and dtype == u.dtype:
        if u.device.type == "cpu" and cpu_kernel.available():
            return _cpu_fused(plan, u, grad_out)
        if u.is_cuda and (plan.fits or plan.QB is None):
            from .triton_kernel import fused_available, fused_gradient

            if fused_available():
                g = fused_gradient(plan, u, dtype, slow)
                return g if grad_out is None else g.mul_(grad_out)
    g = _gradient(plan, u, _workspace(plan, u) if u.device.type == "cpu" else None)
    g = g.to(dtype, copy=u.device.type == "cpu")  # never hand out the workspace
    return g if grad_out is None else g.mul_(grad_out)


def _workspace(plan, u):
    """Per-thread float64 scratch ``(key, idx, P, Q)`` of ``u``'s size, kept by the plan."""
    local = plan.workspace
    ws = getattr(local, "buffers", None)
    if ws is None or ws[0] != (u.numel(), u.dtype):
        n = u.numel()
        idx_dtype = torch.int64 if u.dtype == torch.float64 else torch.int32
        ws = (
            (n, u.dtype),
            torch.empty(n, dtype=idx_dtype),
            torch.empty(n, dtype=torch.float64),
            torch.empty(n, dtype=torch.float64),
        )
        local.buffers = ws
    return ws


def _cpu_fused(plan, u, grad_out, offset=0.0):
    # reshapes in numpy (a copy only where torch's contiguous() would copy): a torch op per call
    # costs microseconds, which is what a small tensor's whole kernel costs
    local = plan.workspace
    kp = getattr(local, "kernel_params", None)
    if kp is None:
        kp = local.kernel_params = kernel_params(plan)
    a = np.ascontiguousarray(u.numpy(force=True).reshape(-1))
    n = a.shape[0]
    out = torch.empty_like(u, memory_format=torch.contiguous_format)
    o = out.numpy().reshape(-1)
    bad = getattr(local, "bad", None)
    if bad is None or bad.shape[0] < n:
        bad = local.bad = np.empty(n, dtype=np.bool_)
    go = None if grad_out is None else np.ascontiguousarray(grad_out.numpy(force=True).reshape(-1))
    nbad = cpu_kernel.run(
        a.view(np.int32 if a.dtype == np.float32 else np.int64),
        a,
        go,
        o,
        bad[:n],
        kp,
        torch.get_num_threads(),
        _protect_state(local),
        offset,
    )
    if nbad:
        idx = np.flatnonzero(bad[:n])
        x = a[idx]
        if offset:
            x = (torch.from_numpy(x) + offset).numpy()  # fl(x + offset), as torch adds it
        g = _flagged(plan, local, x).astype(a.dtype)  # float64 -> u's dtype, rounded as torch's .to()
        o[idx] = g if go is None else g * go[idx]
    return out


def _flagged(plan, local, x: np.ndarray) -> np.ndarray:
    """The slow path's float64 ``g`` at the kernel's flagged elements ``x``; at ``+-0`` and
    ``+-inf`` (a silent layer's ``u = 0`` is common in training) its results computed once per
    plan, in numpy: a torch op per call costs what a small tensor's kernel costs."""
    special = getattr(local, "special", None)
    if special is None:
        at = torch.tensor([0.0, -0.0, math.inf, -math.inf], dtype=torch.from_numpy(x[:0]).dtype)
        special = local.special = slow(plan, at).numpy()
    zero, inf = x == 0, np.isinf(x)
    known = zero | inf
    pick = np.where(zero, np.signbit(x), 2 + (x < 0)).astype(np.intp)
    if known.all():
        return special[pick]
    g = np.empty(x.shape, dtype=np.float64)
    g[known] = special[pick[known]]
    g[~known] = slow(plan, torch.from_numpy(np.ascontiguousarray(x[~known]))).numpy()
    return g


def kernel_params(plan: TablePlan):
    """The CPU kernel's arguments for ``plan`` (:func:`.cpu_kernel.params`)."""
    from .neighbours import neighbour_tables

    direct = direct_table(plan) if plan.direct else None
    return cpu_kernel.params(plan, direct, neighbour_tables(plan, plan_gradient))


def direct_table(plan: TablePlan) -> np.ndarray:
    """``g`` (scaled, clipped, float64) at each of a ``plan.direct`` format's ``2**16`` patterns,
    by the torch path: the CPU kernel's table for such plans.  ``g`` depends on a float32 input
    only through its rounding to the format (the piece bounds are rounding boundaries and ``v``
    is the rounded value), so the entry of the rounded pattern is the input's exact result."""
    values = torch.from_numpy((np.arange(1 << 16, dtype=np.uint32) << 16).view(np.float32))
    g = _gradient(plan, values, None).numpy()
    if np.isnan(g).any():
        raise AssertionError("a direct table has a NaN entry")  # the torch path resolves every pattern
    return g


def _protect_state(local):
    state = getattr(local, "protect", None)
    if state is None:
        state = local.protect = [0, True]
    return state


def _gradient(plan: TablePlan, u: torch.Tensor, ws) -> torch.Tensor:
    """The fast path in torch operations; ``ws``: optional ``(key, idx, P, Q)`` scratch."""
    if u.dtype != plan.dtype:
        raise TypeError(f"plan compiled for {plan.dtype}, got a {u.dtype} tensor")
    ints = u.reshape(-1).view(_INT_VIEW[u.dtype])
    _, idx_buf, p_buf, q_buf = ws if ws is not None else (None, None, None, None)
    if plan.shift:
        idx = torch.bitwise_right_shift(ints, plan.shift, out=idx_buf)
    else:
        idx = ints.to(torch.int32) if idx_buf is None else idx_buf.copy_(ints)
    idx = idx.bitwise_and_(0xFFFF)  # the top 16 bits as an unsigned bucket number
    g = torch.index_select(plan.PB, 0, idx, out=p_buf)
    if plan.QB is not None:
        Q = torch.index_select(plan.QB, 0, idx, out=q_buf)
        v = u.reshape(-1) if plan.fits else _value(plan, u).reshape(-1)  # addcdiv promotes float32 exactly
        g = torch.addcdiv(g, Q, v, out=Q)  # P + Q / v
    g = clip(g, plan.lo, plan.hi)
    for x, gx in plan.exceptions:
        g = g.masked_fill_(u.reshape(-1) == x, gx)
    if plan.shift and bool(torch.isnan(g.sum())):  # NaN buckets (or inf - inf: harmless)
        bad = torch.isnan(g).nonzero().squeeze(1)
        g[bad] = slow(plan, u.reshape(-1)[bad])
    return g.view(u.shape)


def slow(plan: TablePlan, u: torch.Tensor) -> torch.Tensor:
    """Exact scaled, clipped float64 ``g`` for a (small) 1-D set of elements."""
    r = torch.searchsorted(plan.bounds, u, right=True)
    g = plan.P[r]
    if plan.QB is not None:
        v = _value(plan, u)
        g = g + plan.Q[r] / v
        zero = v == 0  # the format's +-0: their own g (the lookup joins them)
        if bool(zero.any()):
            g0 = torch.tensor(plan.g_zero, dtype=torch.float64, device=g.device)
            g = torch.where(zero, g0[torch.signbit(v).long()], g)
        g = g.masked_fill_(torch.isnan(v), 0.0)  # NaN patterns (NaN input, fn overflow): g = 0
        irr = plan.irregular[r] & ~torch.isnan(v)
        if bool(irr.any()):
            values = u[irr].to(torch.float64).cpu().numpy()
            exact = exact_gradient(plan.table, values, plan.divisor, None, None)
            g = g.masked_scatter(irr, torch.from_numpy(exact).to(g.device))
    else:
        g = g.masked_fill(torch.isnan(u), 0.0)  # a NaN input has no pattern in fixed point: g = 0
    return clip(g, plan.lo, plan.hi)
