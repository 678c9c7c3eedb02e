"""The study's training loss: per model, the mean over its batch (``(K,)`` for K stacked models).

Readouts (:mod:`.network`): ``mse_count`` -- MSE of the output counts against the one-hot label,
averaged over the batch and the classes; ``ce_linear`` -- cross-entropy of the logits.  Each
model's loss is the mean over its own batch, so a stacked model's gradient is its own (training
the sum of the K losses trains each model as it would be trained alone).

The one home of the loss: the training loop (:mod:`.train`) and ``benchmarks/bench_study.py``
import it.
"""

from __future__ import annotations

import torch

__all__ = ["losses"]

_F = torch.nn.functional


def losses(out: torch.Tensor, y: torch.Tensor, readout: str) -> torch.Tensor:
    """Per-model losses ``(K,)`` of outputs ``out`` ``(K, B, C)`` and labels ``y`` ``(K, B)``."""
    K, B = out.shape[:2]
    if readout == "mse_count":
        target = _F.one_hot(y, out.shape[-1]).to(out.dtype)
        return _F.mse_loss(out, target, reduction="none").reshape(K, -1).mean(1)
    ce = _F.cross_entropy(out.reshape(K * B, -1), y.reshape(K * B), reduction="none")
    return ce.reshape(K, B).mean(1)
