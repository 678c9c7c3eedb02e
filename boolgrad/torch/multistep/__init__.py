"""Multi-step neurons fused over time: one compiled pass forward, one backward (BPTT).

:func:`lif_sequence` / :class:`MultiStepLIF` run a LIF layer over a whole ``(T, B, N)`` input
(:mod:`.lif`) -- or K stacked layers ``(K, T, B, N)`` -- in one numba loop each way
(:mod:`.loops`), with the spike's backward the spike function's own rule at the recorded ``u``
(:mod:`.rule`): the Boolean table's per-element plan under any scaling, or any surrogate of the
zoo.  Equal to the step loop of :func:`boolgrad.torch.neurons.lif_step` (spikes and ``u`` bit
for bit, gradients to the rounding of their sums); the study's network
(:class:`boolgrad.study.network.SpikingNet`, ``engine="fused"``) runs its layers' planned loops
(:class:`~.lif.LoopPlan`) inside one autograd node (:mod:`boolgrad.study.fused_network`).
:func:`time_mean` (:mod:`.rate`) is a spike count's mean over time whose gradient is computed
once per neuron, not once per step.
"""

from .lif import LIFSequence, MultiStepLIF, lif_sequence, prepare
from .rate import time_mean

__all__ = ["LIFSequence", "MultiStepLIF", "lif_sequence", "prepare", "time_mean"]
