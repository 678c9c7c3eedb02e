"""Sinabs adapter: a ``surrogate_grad_fn=`` callable with the exact Boolean gradient.

Sinabs calls ``surrogate_grad_fn(v_mem, spike_threshold)`` with the membrane potential itself,
so ``g`` is evaluated at ``v_mem``'s own bits, exactly.  Its ``SingleSpike`` fires on
``v_mem - spike_threshold >= 0`` (the tie fires) and ``MultiSpike`` on ``v_mem >= threshold``:
:class:`BooleanSurrogateGrad` defaults to ``comparator="ge"``.

This module does not import Sinabs.
"""

from __future__ import annotations

import torch

from ...table import GradientTable
from ..boolean import boolean_spike

__all__ = ["HOST_COMPARATOR", "BooleanSurrogateGrad"]

HOST_COMPARATOR = "ge"


class BooleanSurrogateGrad:
    """``sinabs.layers.IAF(surrogate_grad_fn=BooleanSurrogateGrad(table), spike_threshold=...)``.

    Returns ``g(v_mem)`` (in ``v_mem``'s dtype).  ``spike_threshold`` must be the table's
    threshold (a Boolean gradient belongs to one threshold); a mismatch raises.
    """

    def __init__(
        self, table_or_format, spike_threshold: float = 1.0, comparator: str = HOST_COMPARATOR, **options
    ):
        if isinstance(table_or_format, GradientTable):
            if table_or_format.meta.comparator != comparator:
                built = table_or_format.meta.comparator
                raise ValueError(f"Sinabs fires on {comparator!r}; the table was built with {built!r}")
            self.spike = boolean_spike(table_or_format, **options)
            spike_threshold = table_or_format.meta.theta_requested
        else:
            self.spike = boolean_spike(table_or_format, spike_threshold, comparator=comparator, **options)
        self.threshold = float(spike_threshold)
        self._key = self.spike.state._pattern(self.threshold)

    def __call__(self, v_mem: torch.Tensor, spike_threshold) -> torch.Tensor:
        if self.spike.state._pattern(spike_threshold) != self._key:
            raise ValueError(
                f"spike_threshold {float(spike_threshold)!r} is not this Boolean gradient's "
                f"threshold {self.threshold!r}"
            )
        g, _ = self.spike.function.grads(v_mem.detach(), self.threshold, self.spike.state, False)
        return g

    def __repr__(self) -> str:
        return f"BooleanSurrogateGrad({self.spike.state!r}, threshold={self.threshold})"
