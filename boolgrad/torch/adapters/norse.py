"""Norse adapter: the exact Boolean gradient in Norse's threshold mechanism and its LIF cells.

Norse (``norse.torch``, tested with 1.1) fires through
``norse.torch.functional.threshold.threshold(v - v_th, method, alpha)``: the forward of every
``method`` is ``heaviside(x) = [x > 0]`` (``torch.gt``), so the tie ``v == v_th`` does *not*
fire -- the ``gt`` comparator (spec §2), as in snnTorch.  The surrogate is chosen by the
``method`` string from a closed list, so there is no slot to plug a new one in; the adapter
therefore provides

* :func:`threshold_fn` -- the Boolean spike with Norse's ``threshold`` semantics on
  ``x = v - v_th`` (for hand-written step functions): ``[x > 0]`` forward, ``g`` at
  ``fl(x + v_th)`` backward -- ``v`` itself whenever ``v_th/2 <= v <= 2 v_th`` (Sterbenz), see
  :mod:`boolgrad.torch.adapters`;
* :class:`BooleanLIFCell`, :class:`BooleanLIF` (the cell over time),
  :class:`BooleanLIFRecurrentCell`, :class:`BooleanLIFRecurrent` -- Norse's own modules whose
  activation is Norse's Euler step (``lif_feed_forward_step`` / ``lif_step``, line for line:
  ``i += input``, ``v += dt tau_mem_inv (v_leak - v + i)``, ``i -= dt tau_syn_inv i``, fire,
  reset ``v = (1 - z) v + z v_reset``, detached in the recurrent step as in Norse) with the
  firing ``z = [v > v_th]`` done by the Boolean spike on ``v``'s own bits (``exact=True``,
  default: ``g(v)`` for every element) or on ``v - v_th`` (``exact=False``: Norse's own
  subtraction, ``g`` at ``fl(x + v_th)``).  ``[v > v_th] == [v - v_th > 0]`` for all finite
  floats (``v - v_th`` is 0 only when ``v == v_th``), so spikes and states equal Norse's
  bit for bit.

The threshold is the table's: ``p.v_th`` must equal it in float32 (a mismatch raises), and it is
not learnable here.  Only dense inputs (Norse's sparse steps keep Norse's surrogates).
"""

from __future__ import annotations

import torch
from norse.torch.functional.lif import LIFFeedForwardState, LIFParameters, LIFState
from norse.torch.module import lif as _lif

from boolgrad import GradientTable

from ..boolean import boolean_spike
from ._shifted import ShiftedBooleanSpike

__all__ = [
    "HOST_COMPARATOR",
    "BooleanLIF",
    "BooleanLIFCell",
    "BooleanLIFRecurrent",
    "BooleanLIFRecurrentCell",
    "BooleanLIFStep",
    "threshold_fn",
]

#: Norse's heaviside: ``torch.gt(v - v_th, 0)``
HOST_COMPARATOR = "gt"


def threshold_fn(table_or_format, v_th: float = 1.0, comparator: str = HOST_COMPARATOR, **options):
    """``z = threshold_fn(table, v_th)(v - v_th)`` in place of Norse's ``threshold(v - v_th, ...)``."""
    return ShiftedBooleanSpike(table_or_format, v_th, comparator, **options)


class BooleanLIFStep(torch.nn.Module):
    """Norse's LIF Euler step (feed-forward or recurrent) firing through a Boolean spike.

    Called with Norse's activation signature: ``(input, state, p, dt)`` or, ``recurrent=True``,
    ``(input, state, input_weights, recurrent_weights, p, dt)``; returns ``(z, new_state)``.
    """

    def __init__(
        self, table_or_format, v_th, comparator=HOST_COMPARATOR, exact=True, recurrent=False, **options
    ):
        super().__init__()
        if isinstance(table_or_format, GradientTable):
            v_th = table_or_format.meta.theta_requested
        self.v_th = float(v_th)
        self.exact = bool(exact)
        self.recurrent = bool(recurrent)
        if self.exact:
            self.spike = boolean_spike(table_or_format, self.v_th, comparator=comparator, **options)
        else:
            self.spike = ShiftedBooleanSpike(table_or_format, self.v_th, comparator, **options)
        self._v_th32 = float(torch.tensor(self.v_th, dtype=torch.float32))

    def check(self, p: LIFParameters):
        """Refuse a ``p.v_th`` that is not the table's threshold (one Boolean gradient per theta)."""
        v_th = torch.as_tensor(p.v_th)
        if v_th.numel() != 1 or float(v_th.to(torch.float32)) != self._v_th32:
            raise ValueError(
                f"p.v_th {v_th.tolist()!r} is not this Boolean gradient's threshold {self.v_th!r}"
            )
        if isinstance(v_th, torch.Tensor) and v_th.requires_grad:
            raise ValueError("a learnable v_th is not supported by the Norse adapter (the table's is fixed)")

    def fire(self, v, p):
        return self.spike(v) if self.exact else self.spike(v - p.v_th)

    def forward(self, input_tensor, state, *args):
        if self.recurrent:
            input_weights, recurrent_weights, p, dt = args
            i_new = (
                state.i
                + torch.nn.functional.linear(input_tensor, input_weights)
                + torch.nn.functional.linear(state.z, recurrent_weights)
            )
        else:
            p, dt = args
            i_new = state.i + input_tensor
        dv = dt * p.tau_mem_inv * ((p.v_leak - state.v) + i_new)
        v_decayed = state.v + dv
        di = -dt * p.tau_syn_inv * i_new
        i_decayed = i_new + di
        z_new = self.fire(v_decayed, p)
        if self.recurrent:  # lif_step detaches the reset, lif_feed_forward_step does not
            v_new = (1 - z_new.detach()) * v_decayed + z_new.detach() * p.v_reset
            return z_new, LIFState(z_new, v_new, i_decayed)
        v_new = (1 - z_new) * v_decayed + z_new * p.v_reset
        return z_new, LIFFeedForwardState(v=v_new, i=i_decayed)

    def extra_repr(self) -> str:
        return f"v_th={self.v_th}, exact={self.exact}, recurrent={self.recurrent}"


def _params(table_or_format, p):
    """Norse's default parameters with the table's threshold, or ``p`` itself."""
    if p is None:
        theta = table_or_format.meta.theta_requested if isinstance(table_or_format, GradientTable) else 1.0
        p = LIFParameters(v_th=torch.as_tensor(theta))
    if p.method == "adjoint":
        raise ValueError("method='adjoint' has its own backward; the Boolean cells replace the step")
    return p._replace(method="boolean")  # what the cell fires with, in its repr


def _install(cell, table_or_format, exact, comparator, recurrent, spike_options):
    """Replace a Norse cell's activation by a :class:`BooleanLIFStep` (a submodule: it moves with
    the cell; Norse 1.1's modules do not pickle, their ``LIFParameters`` class cannot be found by
    name); sparse inputs are not supported."""
    step = BooleanLIFStep(
        table_or_format,
        float(torch.as_tensor(cell.p.v_th)),
        comparator,
        exact,
        recurrent,
        **(spike_options or {}),
    )
    step.check(cell.p)
    cell.activation = step
    cell.activation_sparse = None


_DOC = """Norse's ``{name}`` firing through the Boolean spike (module doc).

    ``table_or_format``: a ``GradientTable`` built with ``comparator="gt"`` (Norse's tie rule) or a
    format name; ``p.v_th`` must be its threshold (default ``p``: Norse's defaults with ``v_th``
    the table's).  ``exact``: ``g`` at ``v``'s own bits (else at ``fl((v - v_th) + v_th)``).  Other
    arguments are ``{name}``'s; ``spike_options`` go to :func:`boolgrad.torch.boolean_spike`.
    """


def _boolean_cell(base, recurrent: bool):
    """``base`` (a Norse LIF module) with its activation replaced by the Boolean step: the same
    constructor with ``table_or_format`` first and the Boolean options as keywords."""

    lead = 2 if recurrent else 0  # (input_size, hidden_size) come before p in the recurrent modules

    def __init__(self, table_or_format, *args, exact=True, comparator=HOST_COMPARATOR, spike_options=None, **kwargs):
        if len(args) > lead + 1:
            raise TypeError(f"Boolean{base.__name__} takes at most {lead + 2} positional arguments")
        p = args[lead] if len(args) > lead else kwargs.pop("p", None)
        base.__init__(self, *args[:lead], p=_params(table_or_format, p), **kwargs)
        _install(self, table_or_format, exact, comparator, recurrent, spike_options)

    name = base.__name__
    return type(f"Boolean{name}", (base,), {"__init__": __init__, "__doc__": _DOC.format(name=name),
                                             "__module__": __name__, "__qualname__": f"Boolean{name}"})


BooleanLIFCell = _boolean_cell(_lif.LIFCell, False)
BooleanLIF = _boolean_cell(_lif.LIF, False)
BooleanLIFRecurrentCell = _boolean_cell(_lif.LIFRecurrentCell, True)  # (table, input_size, hidden_size, ...)
BooleanLIFRecurrent = _boolean_cell(_lif.LIFRecurrent, True)
