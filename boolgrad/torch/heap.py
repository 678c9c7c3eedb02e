"""Keep the memory of freed tensors in the process: glibc's ``malloc`` without ``mmap`` chunks.

Why.  A CPU tensor's memory comes from the C library's ``malloc``.  glibc serves a block above
its mmap threshold (128 KiB, rising with use to at most 32 MiB on 64-bit) with a fresh ``mmap``
and returns it with ``munmap`` when freed, so the next batch's tensor of the same size is new
memory again: the kernel maps and zeroes every 4 KiB page of it on first touch.  A training step
of the study's stacked models makes tensors of ``K x T x B x H`` floats (K = 16, T = 64, B = 64,
H = 128: 32 MiB, above that cap), so every batch paid those page faults: 16 stacked models at
T = 64 trained at about half the model-samples/s of one model alone, and at about the same
once the freed memory was kept (``benchmarks/bench_study.py`` and its ``--no-keep-heap``;
the records ``results/benchmarks/study_cpu*.json``).  The values computed are unchanged: only
where the bytes live.

How.  :func:`keep_freed_memory` sets, with ``mallopt`` (glibc's ``malloc.h``):

* ``M_MMAP_MAX = 0``: no block of the main arena is served by ``mmap``; every one comes from
  the heap, and a freed block is reused by the next request that fits it;
* ``M_TRIM_THRESHOLD`` to its largest value: free memory at the heap's top is not returned to the
  system (the next batch needs it again).

Threads' own arenas still ``mmap`` a block too big for one of their heaps (glibc falls back to
it), so nothing fails for want of ``mmap``.  The cost: the process keeps its peak heap until it
exits, which a training worker does.  Elsewhere than glibc (macOS, musl) it does nothing and
returns False.
"""

from __future__ import annotations

import ctypes
import functools
import platform

__all__ = ["keep_freed_memory", "mmapped_bytes"]

_M_TRIM_THRESHOLD = -1  # glibc malloc.h
_M_MMAP_MAX = -4
_INT_MAX = 2**31 - 1  # mallopt takes an int


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]


@functools.lru_cache(maxsize=1)
def _glibc():
    """The process's C library when it is glibc, else None."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallopt"):
        return None
    if hasattr(libc, "mallinfo2"):
        libc.mallinfo2.restype = _Mallinfo2
    return libc


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set the policy of the module doc once per process; True when it is in force (glibc)."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _INT_MAX))


def mmapped_bytes() -> int | None:
    """Bytes the process's ``malloc`` holds in ``mmap`` chunks now (``mallinfo2().hblkhd``), or
    None where that cannot be read (not glibc, or a glibc before 2.33)."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    return int(libc.mallinfo2().hblkhd)
