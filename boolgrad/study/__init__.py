"""The overshoot study (issue 10): do coarse timesteps jump over the Boolean gradient's peak?

numpy-only at import; torch, dask, mnist1d and scikit-learn are imported inside the functions
that need them.  Modules: :mod:`.data` (offline datasets), :mod:`.kinds` (gradient kinds),
:mod:`.simulate` (LIF crossing statistics), :mod:`.reference` (numerical crossing expectation),
:mod:`.train` (the spiking network, torch), :mod:`.overshoot` (the training run as an
experiment, its grids, the simulation records), :mod:`.executor` (any experiment: result files
keyed by config hash, executors), :mod:`.report` (CSV, summary, plots), :mod:`.cli`
(``boolgrad study``).
"""

from .kinds import KINDS, KindSpec, get_kind

__all__ = ["KINDS", "KindSpec", "get_kind"]
