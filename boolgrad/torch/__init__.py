"""PyTorch layer: spike functions with the exact Boolean gradient, the surrogate zoo, neurons.

Optional extra (``pip install boolgrad[torch]``); ``import boolgrad`` never imports torch.

* :func:`boolean_spike` / :func:`load_table` -- forward ``[u >= theta]``, backward the table's
  exact ``g`` at each element's own bit pattern (:mod:`boolgrad.torch.boolean`).
* :func:`surrogate` -- rectangle, sigmoid, fast_sigmoid, arctan, triangle, gaussian,
  exponential, straight_through with the same interface (:mod:`boolgrad.torch.surrogates`).
* neurons (:mod:`boolgrad.torch.neurons`) and layers (:mod:`boolgrad.torch.layers`) take any
  of them; adapters for snnTorch, SpikingJelly and Sinabs live in
  :mod:`boolgrad.torch.adapters`.
"""

from .boolean import PRESETS, SCALINGS, boolean_spike, default_builder, load_table
from .plan import TablePlan, compile_plan, plan_gradient
from .quantize import quantize
from .rules import RULES, Spike
from .surrogates import SURROGATE_NAMES, surrogate

__all__ = [
    "PRESETS",
    "RULES",
    "SCALINGS",
    "SURROGATE_NAMES",
    "Spike",
    "TablePlan",
    "boolean_spike",
    "compile_plan",
    "default_builder",
    "load_table",
    "plan_gradient",
    "quantize",
    "surrogate",
]
