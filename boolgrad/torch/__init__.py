"""PyTorch layer: spike functions with the exact Boolean gradient, the surrogate zoo, neurons.

Optional extra (``pip install boolgrad[torch]``); ``import boolgrad`` never imports torch.

* :func:`boolean_spike` / :func:`load_spike` -- forward ``[u >= theta]``, backward the table's
  exact ``g`` at each element's own bit pattern (:mod:`.boolean`, evaluated by :mod:`.lookup`).
* :func:`surrogate` -- rectangle, sigmoid, fast_sigmoid, arctan, triangle, gaussian,
  exponential, straight_through with the same interface (:mod:`.surrogates`).
* :mod:`.spike` -- the forward/backward shape they share; :mod:`.neurons`, :mod:`.layers`
  take any of them; :mod:`.adapters` for snnTorch, SpikingJelly and Sinabs.

Tie rule: boolgrad fires on ``u >= theta`` (``ge``, spec §2) unless told ``gt``; snnTorch and
Norse fire on ``u - theta > 0`` (``gt``), SpikingJelly on ``>= 0`` (``ge``), Yoo & Jeong's
training code on ``u > theta`` (``gt``, the ``yoo_jeong2025`` preset).
"""

from functools import partial

from .boolean import SCALINGS, SPIKE_PRESETS, BooleanState, boolean_spike, default_builder, load_spike
from .lookup import TablePlan, compile_plan, plan_gradient
from .quantize import quantize
from .spike import Spike
from .surrogates import SURROGATE_NAMES, SURROGATES, surrogate

#: gradient rule name -> factory (the Boolean spike and every surrogate name or alias)
SPIKE_RULES = {
    "boolean": boolean_spike,
    **{name: partial(surrogate, name) for name in sorted(SURROGATE_NAMES)},
}

__all__ = [
    "SCALINGS",
    "SPIKE_PRESETS",
    "SPIKE_RULES",
    "SURROGATES",
    "SURROGATE_NAMES",
    "BooleanState",
    "Spike",
    "TablePlan",
    "boolean_spike",
    "compile_plan",
    "default_builder",
    "load_spike",
    "plan_gradient",
    "quantize",
    "surrogate",
]
