"""Adam for K stacked models, each with its own learning rate (Kingma & Ba 2015).

Per parameter ``p`` (leading axis: the model) and step ``t``, with ``lr`` per model::

    m = lerp(m, g, 1 - b1);   v = v * b2 + (1 - b2) g^2
    p = p + (-lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

the operations, in their order and rounding, of ``torch.optim.Adam``'s single-tensor CPU path
(defaults: no weight decay, no AMSGrad), so a lone model (K = 1) trains bit for bit as with
``torch.optim.Adam`` (test), and each stacked model as it would alone.  One step count serves
every parameter: as torch's when every parameter has a gradient at every step (the study's
networks); torch counts a parameter's own steps.  With one learning rate every operation is one
``torch._foreach_*`` call over all parameters (on CPU the same per-tensor kernels: test).
"""

from __future__ import annotations

import torch

__all__ = ["StackedAdam"]


class StackedAdam:
    """``StackedAdam(params, lrs, betas=(0.9, 0.999), eps=1e-8)``; ``lrs``: one per model."""

    def __init__(self, params, lrs, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lrs = [float(lr) for lr in lrs]
        self.b1, self.b2 = betas
        self.eps = eps
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        for p in self.params:
            if p.shape[0] != len(self.lrs):
                raise ValueError(f"a parameter of {p.shape[0]} models for {len(self.lrs)} learning rates")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        bc1 = 1 - self.b1**self.t
        bc2_sqrt = (1 - self.b2**self.t) ** 0.5
        live = [(p, m, v) for p, m, v in zip(self.params, self.m, self.v) if p.grad is not None]
        if not live:
            return
        ps, ms, vs = (list(t) for t in zip(*live))
        gs = [p.grad for p in ps]
        # every parameter in one call per operation: on CPU torch's _foreach ops run the same
        # per-tensor kernels as the single-tensor path (the same bits), with one Python call
        torch._foreach_lerp_(ms, gs, 1 - self.b1)
        torch._foreach_mul_(vs, self.b2)
        torch._foreach_addcmul_(vs, gs, gs, value=1 - self.b2)
        denoms = torch._foreach_sqrt(vs)
        torch._foreach_div_(denoms, bc2_sqrt)
        torch._foreach_add_(denoms, self.eps)
        if len(set(self.lrs)) == 1:  # one scalar: torch's own addcdiv_
            torch._foreach_addcdiv_(ps, ms, denoms, value=-(self.lrs[0] / bc1))
            return
        values = [-(lr / bc1) for lr in self.lrs]
        for p, m, denom in zip(ps, ms, denoms):  # addcdiv_ computes self + (value * t1) / t2 element by element
            value = torch.tensor(values, dtype=p.dtype)
            p.add_(value.view(-1, *([1] * (p.dim() - 1))) * m / denom)
