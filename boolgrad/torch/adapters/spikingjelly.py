"""SpikingJelly adapter: a ``surrogate_function=`` module with the exact Boolean gradient.

SpikingJelly's neurons call ``surrogate_function(v - v_threshold)`` and its ``heaviside``
fires on ``x >= 0``: the tie ``v == v_threshold`` fires.  :class:`BooleanSurrogate` defaults to
that rule (tables built with ``comparator="ge"``) and, like every host that passes ``v -
v_threshold``, evaluates ``g`` at ``fl(x + v_threshold)`` (exact for ``v_threshold/2 <= v <= 2
v_threshold``; see :mod:`boolgrad.torch.adapters`).  Works with the ``torch`` backend; the
cupy/triton backends generate their own kernels from SpikingJelly's surrogate classes.

This module does not import SpikingJelly: the surrogate is a plain ``nn.Module``.
"""

from __future__ import annotations

from ._shifted import ShiftedBooleanSpike

__all__ = ["HOST_COMPARATOR", "BooleanSurrogate"]

HOST_COMPARATOR = "ge"


class BooleanSurrogate(ShiftedBooleanSpike):
    """``neuron.IFNode(surrogate_function=BooleanSurrogate(table, v_threshold))``.

    ``spiking`` mirrors SpikingJelly's surrogate modules; ``spiking=False`` (SpikingJelly's
    "primitive function" mode) has no Boolean counterpart and raises.
    """

    def __init__(
        self, table_or_format, v_threshold: float = 1.0, comparator: str = HOST_COMPARATOR, **options
    ):
        super().__init__(table_or_format, v_threshold, comparator, **options)
        self.spiking = True

    def set_spiking_mode(self, spiking: bool):
        if not spiking:
            raise ValueError("a Boolean spike function has no smooth primitive to use with spiking=False")
        self.spiking = True
