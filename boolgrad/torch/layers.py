"""The neuron layers of seed 002: multi-threshold (per-dendrite) and central-threshold.

Sardi et al. (2017) found neurons behaving as if each dendrite had its own threshold; the seed
blog turned this into a layer, trainable only at batch size 1.  Here all three are batched:

* :class:`MultiThresholdLinear`: ``y_j = sum_i relu(W_ji x_i) + b_j``.  Since
  ``relu(x w) = relu(x) relu(w) + relu(-x) relu(-w)`` for real ``x, w`` (the product is
  positive exactly when both factors have the same sign), the layer is two matrix products,
  ``relu(x) @ relu(W).T + relu(-x) @ relu(-W).T + b``, and autograd gives the naive loop's
  gradient ``x_i [W_ji x_i > 0]``.
* :class:`DendriteSpikeLinear`: the Heaviside-dendrite form ``y_j = sum_i H(W_ji x_i - t)``
  with any spike function (Boolean or surrogate) as ``H``: the products ``W_ji x_i`` are
  materialised, ``batch * out * in`` elements (chunked over outputs to bound memory).
* :class:`CentralThresholdLinear`: ``y_j = act(sum_i W_ji x_i + b_j)``, ReLU by default (the
  blog's comparison) or any spike function (``H(Wx + b - t)``, the classic threshold unit).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CentralThresholdLinear", "DendriteSpikeLinear", "MultiThresholdLinear", "multi_threshold_linear"]


def multi_threshold_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None):
    """``y[..., j] = sum_i relu(weight[j, i] * x[..., i]) + bias[j]`` as two matmuls."""
    y = F.relu(x) @ F.relu(weight).T + F.relu(-x) @ F.relu(-weight).T
    return y if bias is None else y + bias


def _init_linear(weight, bias, in_features):
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # nn.Linear's initialisation
    if bias is not None:
        bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
        nn.init.uniform_(bias, -bound, bound)


class _LinearBase(nn.Module):
    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        _init_linear(self.weight, self.bias, in_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class MultiThresholdLinear(_LinearBase):
    """``y_j = sum_i relu(W_ji x_i) + b_j`` (module doc), batched over any leading axes."""

    def forward(self, x):
        return multi_threshold_linear(x, self.weight, self.bias)


class DendriteSpikeLinear(_LinearBase):
    """``y_j = sum_i H(W_ji x_i - t)`` with ``H = spike`` (its own threshold ``t``)."""

    def __init__(self, in_features: int, out_features: int, spike, chunk: int | None = None):
        super().__init__(in_features, out_features, bias=False)
        self.spike = spike
        self.chunk = chunk

    def forward(self, x):
        W = self.weight
        step = self.chunk or self.out_features
        parts = []
        for j in range(0, self.out_features, step):
            z = x.unsqueeze(-2) * W[j : j + step]  # (..., out_chunk, in)
            parts.append(self.spike(z).sum(-1))
        return torch.cat(parts, dim=-1)


class CentralThresholdLinear(_LinearBase):
    """``y = act(x W^T + b)``; ``act`` is ReLU unless a spike function is given."""

    def __init__(self, in_features: int, out_features: int, activation=None, bias: bool = True):
        super().__init__(in_features, out_features, bias)
        self.activation = activation if activation is not None else nn.ReLU()

    def forward(self, x):
        return self.activation(F.linear(x, self.weight, self.bias))
