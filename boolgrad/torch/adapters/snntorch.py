"""snnTorch adapter: the exact Boolean gradient in ``snn.Leaky`` and friends.

snnTorch's neurons call ``spike_grad(mem - threshold)`` and fire on ``mem - threshold > 0``
(``torch.Tensor.__gt__``): the tie ``mem == threshold`` does *not* fire.  Both modes here
default to that rule (tables built with ``comparator="gt"``).

* :func:`spike_grad` -- a ``spike_grad=`` object for any snnTorch neuron.  It only sees
  ``x = mem - threshold``, so ``g`` is evaluated at ``fl(x + threshold)``: exactly ``mem``'s
  pattern whenever ``threshold/2 <= mem <= 2 threshold`` (Sterbenz), possibly a neighbour of it
  elsewhere, where ``g`` is tiny.  A learnable threshold then gets snnTorch's own gradient
  ``-g`` through the subtraction.
* :class:`BooleanLeaky` -- ``snn.Leaky`` whose ``fire()`` and ``mem_reset()`` call the Boolean
  spike on ``mem`` itself: exact for every element, and a ``learn_threshold=True`` threshold gets
  the gradient of the ``wrt="theta"`` table.
"""

from __future__ import annotations

import snntorch as snn

from ..boolean import boolean_spike
from ._shifted import ShiftedBooleanSpike

__all__ = ["BooleanLeaky", "spike_grad"]

HOST_COMPARATOR = "gt"


def spike_grad(table_or_format, threshold: float = 1.0, comparator: str = HOST_COMPARATOR, **options):
    """``snn.Leaky(..., spike_grad=spike_grad(table))``: see the module doc."""
    return ShiftedBooleanSpike(table_or_format, threshold, comparator, **options)


class BooleanLeaky(snn.Leaky):
    """``snn.Leaky`` firing through a Boolean spike on ``mem``'s own bits (module doc).

    ``table_or_format``: a ``GradientTable`` built with ``comparator="gt"`` (snnTorch's tie rule)
    or a format name; the neuron's threshold is the table's.  Other arguments are
    ``snn.Leaky``'s; ``spike_options`` go to :func:`boolgrad.torch.boolean_spike`.
    """

    def __init__(
        self, beta, table_or_format, threshold=None, comparator=HOST_COMPARATOR, spike_options=None, **kwargs
    ):
        from boolgrad import GradientTable

        spike_options = dict(spike_options or {})
        learn = kwargs.get("learn_threshold", False)
        if threshold is None:
            is_table = isinstance(table_or_format, GradientTable)
            threshold = table_or_format.meta.theta_requested if is_table else 1.0
        spike = boolean_spike(
            table_or_format, threshold, comparator=comparator, theta_tables=learn, **spike_options
        )
        table = spike.state.table_at(threshold)
        # snnTorch's own paths that still call spike_grad (fire_inhibition) get the shifted form
        shifted = ShiftedBooleanSpike(table, threshold, comparator, **spike_options)
        super().__init__(beta, threshold=threshold, spike_grad=shifted, **kwargs)
        self.boolean = spike

    def fire(self, mem):
        if self.state_quant:
            mem = self.state_quant(mem)
        return self.boolean(mem, self.threshold) * self.graded_spikes_factor

    def mem_reset(self, mem):
        return self.boolean(mem, self.threshold).clone().detach()
