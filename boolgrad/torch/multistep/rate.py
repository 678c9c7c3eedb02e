"""A spike count's mean over time, :func:`time_mean`: ``x.mean(dim)`` with a backward that divides
once per neuron instead of once per step.

Forward: ``x.mean(dim)`` itself.  Backward: ``dL/dx[..., t, ...] = dL/dy / T`` for every ``t``;
torch's ``MeanBackward`` expands ``dL/dy`` over the T steps and then divides the T copies, which
the fused LIF's backward then copied again into a contiguous array (a few percent of an epoch
of the study's networks, most with stacked models at T = 64: the ``torch.mean`` rows of
``benchmarks/bench_study.py --torch-mean``).  Here ``dL/dy / T`` is computed once, on the small
tensor, and expanded with stride 0 along ``dim``: element for element the same float division of
the same operands, so the same bits (test), and the fused LIF's backward
(:func:`~boolgrad.torch.multistep.lif_sequence`) reads that one row at every step instead of a
copy made T times.
"""

from __future__ import annotations

import torch

__all__ = ["time_mean"]


class _TimeMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape = dim, x.shape
        return x.mean(dim)

    @staticmethod
    def backward(ctx, grad):
        steps = ctx.shape[ctx.dim]
        return (grad / steps).unsqueeze(ctx.dim).expand(ctx.shape), None


def time_mean(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``x.mean(dim)``, its gradient computed once per element of the result (module doc)."""
    if not -x.dim() <= dim < x.dim():
        raise ValueError(f"dim {dim} is out of range for a tensor of {x.dim()} dimensions")
    if not x.dtype.is_floating_point:
        raise TypeError(f"time_mean takes a floating tensor, got {x.dtype}")
    return _TimeMean.apply(x, dim % x.dim())
