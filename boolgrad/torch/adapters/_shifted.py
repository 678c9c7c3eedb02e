"""A Boolean spike function for hosts that pass ``x = u - theta`` instead of ``u``."""

from __future__ import annotations

import torch

from ..boolean import boolean_spike
from ..rules import make_function

__all__ = ["ShiftedBooleanSpike"]


def _shifted_grads(x, theta, state, want_theta):
    """``g`` of the Boolean rule at ``fl(x + theta)`` (``u``, when the host's subtraction was exact)."""
    spike, threshold = state
    u = x + threshold  # in x's dtype: the value the host subtracted theta from (adapters doc)
    g, _ = spike.function.grads(u, spike.theta, spike.state, False)
    return g, None


_ShiftedFunction = make_function("ShiftedBoolean", _shifted_grads)


class ShiftedBooleanSpike(torch.nn.Module):
    """``spike(x)`` with ``x = u - theta``: forward ``[x > 0]`` (``gt``) or ``[x >= 0]`` (``ge``),
    backward the Boolean ``g`` of a ``theta``-table at ``fl(x + theta)``.

    ``comparator`` is the host's tie rule; the table is built with it (or must have it).
    ``table_or_format`` and ``options`` are :func:`boolgrad.torch.boolean_spike`'s.
    """

    def __init__(self, table_or_format, threshold: float = 1.0, comparator: str = "gt", **options):
        super().__init__()
        from ...table import GradientTable

        if isinstance(table_or_format, GradientTable):
            meta = table_or_format.meta
            if meta.comparator != comparator:
                raise ValueError(
                    f"the host fires on the {comparator!r} comparator but the table was built with "
                    f"{meta.comparator!r}; rebuild it with comparator={comparator!r}"
                )
            if float(threshold) not in (meta.theta_requested, meta.theta_used):
                raise ValueError(
                    f"threshold {threshold!r} disagrees with the table's ({meta.theta_requested!r})"
                )
            self.spike = boolean_spike(table_or_format, **options)
        else:
            self.spike = boolean_spike(table_or_format, threshold, comparator=comparator, **options)
        self.threshold = float(threshold)
        self.comparator = comparator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ShiftedFunction.apply(x, 0.0, self.comparator, (self.spike, self.threshold))

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, comparator={self.comparator!r}"
