"""The gradient rules, in numpy: what every spike function's backward is, spelled once.

* :mod:`.scalings` -- ``none``, ``clamp``, ``clamp01``, ``unit_area``, ``unit_peak``: the
  divisor of a Boolean gradient table and the clip after it (:data:`SCALINGS`);
* :mod:`.surrogates` -- the surrogate zoo's names, aliases and default parameters, ``g``, its
  primitive ``S`` and the odd primitives ``P1``, ``P2`` of the crossing theory;
* :mod:`.presets` -- named Boolean spike setups (:data:`SPIKE_PRESETS`: ``yoo_jeong2025``);
* :mod:`.pieces` -- a table as exact pieces ``g = P + Q / v`` for one input dtype (what the
  torch lookup compiles).

Read by :mod:`boolgrad.torch` (which evaluates the rules on tensors) and :mod:`boolgrad.study`;
importing this package never imports torch.
"""

from .presets import SPIKE_PRESETS, SpikePreset
from .scalings import SCALINGS, Scaling, get_scaling
from .surrogates import DEFAULTS, SURROGATE_NAMES, canonical_name

__all__ = [
    "DEFAULTS",
    "SCALINGS",
    "SPIKE_PRESETS",
    "SURROGATE_NAMES",
    "Scaling",
    "SpikePreset",
    "canonical_name",
    "get_scaling",
]
