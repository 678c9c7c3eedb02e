"""A Boolean spike function for hosts that pass ``x = u - theta`` instead of ``u``.

Forward ``[x > 0]`` (``gt``) or ``[x >= 0]`` (``ge``); backward the Boolean ``g`` of the
``theta`` table at ``fl(x + theta)`` -- ``u`` itself whenever the host's subtraction was exact
(``theta/2 <= u <= 2 theta``, Sterbenz), see :mod:`boolgrad.torch.adapters`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..boolean import BooleanState, boolean_backward, boolean_spike
from ..spike import SpikeFunction, spike_forward

__all__ = ["ShiftedBooleanSpike", "ShiftedState"]


@dataclass(frozen=True, eq=False)
class ShiftedState:
    """The shifted rule: the Boolean state, its table's theta, and the host's threshold."""

    boolean: BooleanState
    theta: float
    threshold: float

    def spikes(self, x, theta, comparator):
        return spike_forward(x, 0.0, comparator)

    def backward(self, x, theta, grad_out, want_theta):
        # g at u = fl(x + threshold), in x's dtype: the value the host subtracted theta from (the
        # CPU kernel adds it per element, without a pass of its own)
        if self.threshold == 0.0:  # x + 0.0 turns -0 into +0: keep that
            return boolean_backward(x + 0.0, self.theta, grad_out, self.boolean, False)[0], None
        return boolean_backward(x, self.theta, grad_out, self.boolean, False, offset=self.threshold)[0], None


class ShiftedBooleanSpikeFunction(SpikeFunction):
    """Spike on ``x = u - theta`` with the Boolean gradient at ``fl(x + theta)``."""


class ShiftedBooleanSpike(torch.nn.Module):
    """``spike(x)`` with ``x = u - theta`` (module doc).

    ``comparator`` is the host's tie rule; the table is built with it (or must have it).
    ``table_or_format`` and ``options`` are :func:`boolgrad.torch.boolean_spike`'s.
    """

    def __init__(self, table_or_format, threshold: float = 1.0, comparator: str = "gt", **options):
        super().__init__()
        self.spike = boolean_spike(table_or_format, threshold, comparator=comparator, **options)
        self.threshold = float(threshold)
        self.comparator = comparator
        self._state = ShiftedState(self.spike.state, self.spike.theta, self.threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ShiftedBooleanSpikeFunction.apply(x, 0.0, self.comparator, self._state)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, comparator={self.comparator!r}"
