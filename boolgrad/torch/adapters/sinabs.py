"""Sinabs adapter: a ``surrogate_grad_fn=`` callable with the exact Boolean gradient.

Sinabs calls ``surrogate_grad_fn(v_mem, spike_threshold)`` with the membrane potential itself,
so ``g`` is evaluated at ``v_mem``'s own bits, exactly.  Its ``SingleSpike`` fires on
``v_mem - spike_threshold >= 0`` (the tie fires) and ``MultiSpike`` on ``v_mem >= threshold``:
:class:`BooleanSurrogateGrad` defaults to ``comparator="ge"``.

This module does not import Sinabs.
"""

from __future__ import annotations

import torch

from boolgrad import GradientTable

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
        if isinstance(table_or_format, GradientTable):  # the table's own threshold
            spike_threshold = table_or_format.meta.theta_requested
        self.spike = boolean_spike(table_or_format, spike_threshold, comparator=comparator, **options)
        self.threshold = float(spike_threshold)
        self._key = self.spike.state.threshold_key(self.threshold)

    def __call__(self, v_mem: torch.Tensor, spike_threshold) -> torch.Tensor:
        if self.spike.state.threshold_key(spike_threshold) != self._key:
            raise ValueError(
                f"spike_threshold {float(spike_threshold)!r} is not this Boolean gradient's "
                f"threshold {self.threshold!r}"
            )
        return self.spike.state.gradient(v_mem.detach(), self.threshold)

    def __repr__(self) -> str:
        return f"BooleanSurrogateGrad({self.spike.state!r}, threshold={self.threshold})"
