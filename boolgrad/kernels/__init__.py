"""Compiled sweep backends: the mask of a pattern as a few branch-free integer operations.

* :mod:`boolgrad.kernels.masks` -- the integer reformulation shared by every kernel
  (pure numpy: the reference the compiled kernels are tested against), and the exact
  run list for ``wrt="theta"``, which needs no per-pattern work at all.
* :mod:`boolgrad.kernels.numba_sweep` -- multi-core CPU kernel (numba, imported lazily).
* :mod:`boolgrad.kernels.cuda_sweep` -- CuPy ``RawKernel`` for CUDA GPUs (imported lazily).

Both register in :data:`boolgrad.sweep.SWEEPERS` and return exactly what
:func:`boolgrad.sweep.array_sweep` returns.
"""
