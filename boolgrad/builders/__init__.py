"""Building gradient tables: by enumeration (:mod:`.enumerate`, on the backends of
:mod:`.backends`: the numpy/CuPy :mod:`.array_engine` and the compiled :mod:`.kernels`) or in
closed form from the threshold's bits (:mod:`.closed_form`).  Both give equal tables."""

from .closed_form import closed_form_table, closed_form_table_from_spec
from .enumerate import MAX_SWEEP_BITS, build_table, build_table_from_spec

__all__ = [
    "MAX_SWEEP_BITS",
    "build_table",
    "build_table_from_spec",
    "closed_form_table",
    "closed_form_table_from_spec",
]
