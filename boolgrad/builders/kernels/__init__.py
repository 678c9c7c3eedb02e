"""Compiled sweep backends: the mask of a pattern as a few branch-free integer operations.

* :mod:`.masks` -- the integer reformulation shared by every kernel (pure numpy: the
  reference the compiled kernels are tested against).
* :mod:`.numba_sweep` -- multi-core CPU kernel (numba, imported lazily).
* :mod:`.cuda_sweep` -- CuPy ``RawKernel`` for CUDA GPUs (imported lazily).

Both are entries of :data:`boolgrad.builders.backends.BACKENDS` and return exactly what
:func:`boolgrad.builders.array_engine.array_sweep` returns.
"""
