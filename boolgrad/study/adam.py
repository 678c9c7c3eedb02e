"""Adam for K stacked models, each with its own learning rate (Kingma & Ba 2015).

Per parameter ``p`` (leading axis: the model) and step ``t``, with ``lr`` per model::

    m = lerp(m, g, 1 - b1);   v = v * b2 + (1 - b2) g^2
    p = p + (-lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

the operations, in their order and rounding, of ``torch.optim.Adam``'s single-tensor CPU path
(defaults: no weight decay, no AMSGrad), so a lone model (K = 1) trains bit for bit as with
``torch.optim.Adam`` (test), and each stacked model as it would alone.
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
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            m.lerp_(g, 1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            denom = (v.sqrt() / bc2_sqrt).add_(self.eps)
            if len(set(self.lrs)) == 1:  # one scalar: torch's own addcdiv_
                p.addcdiv_(m, denom, value=-(self.lrs[0] / bc1))
            else:  # addcdiv_ computes self + (value * t1) / t2 element by element
                value = torch.tensor([-(lr / bc1) for lr in self.lrs], dtype=p.dtype)
                p.add_(value.view(-1, *([1] * (p.dim() - 1))) * m / denom)
