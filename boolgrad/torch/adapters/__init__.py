"""Adapters: the exact Boolean gradient inside trainers people already use.

Supported releases, what each adapter covers and how CI checks them: docs/compatibility.md.

Trainers disagree on the tie and on what the spike function sees (spec §2 comparators):

==============  ================  ======================  =====================================
host            fires on          spike function gets     adapter
==============  ================  ======================  =====================================
snnTorch        ``u - theta > 0``  ``u - theta``           :mod:`.snntorch` (``gt`` tables)
SpikingJelly    ``u - theta >= 0`` ``u - theta``           :mod:`.spikingjelly` (``ge`` tables)
Sinabs          ``u - theta >= 0`` ``u`` and ``theta``     :mod:`.sinabs` (``ge`` tables)
Norse           ``u - theta > 0``  ``u - theta``           :mod:`.norse` (``gt`` tables)
any             --                --                      :func:`boolgrad.torch.load_spike`
==============  ================  ======================  =====================================

Each adapter defaults to its host's tie rule and builds (or checks) its table with that
comparator.  Hosts that pass ``x = u - theta`` lose ``u``'s bit pattern: the adapters evaluate
``g`` at ``fl(x + theta)``, which is ``u`` itself whenever ``theta/2 <= u <= 2 theta`` (the
subtraction is then exact, Sterbenz's lemma) -- i.e. wherever ``g`` is large -- and may differ
in the last bits elsewhere.  Where the host lets us, an exact mode evaluates at ``u``'s own bits.

Importing this package imports no trainer; each submodule imports its own.
"""

from ._shifted import ShiftedBooleanSpike

__all__ = ["ShiftedBooleanSpike"]
