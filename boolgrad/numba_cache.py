"""numba's on-disk cache, made safe for processes that compile at the same time.

Why.  numba (0.68) keeps a function's compiled variants in one index file (key -> data file)
and names a new variant's data file by the first number its index does not use yet.  Two
processes that compile different variants of one function at once -- pytest-xdist workers,
the study's executor on a fresh cache -- both read the index before either writes it, so both
pick number 1: each writes the index with its own key, then its data, and whichever index and
data land last need not be the same process's.  The survivor's key then maps to the other
variant's machine code, which numba loads without checking: a wrong kernel, silently (seen in
CI: the lookup kernel's ``shifted``/``gt`` variants returned another variant's gradients).

How.  :func:`install` names each data file by a digest of its key instead of a number, so two
keys never share a file whatever the interleaving; the index may still lose a concurrent
entry (last writer wins), which only costs a compilation.  Writes stay atomic (numba writes a
temporary file and renames it).  Every module of boolgrad that compiles with ``cache=True``
calls it on import; it changes numba's class once per process, for every cached function.
"""

from __future__ import annotations

import hashlib

__all__ = ["data_name", "install"]


def data_name(cache_file, key) -> str:
    """The data file of ``key`` in ``cache_file`` (a ``numba.core.caching.IndexDataCacheFile``):
    its pattern numbered by the first 48 bits of the key's SHA-256."""
    digest = hashlib.sha256(cache_file._dump(key)).digest()
    return cache_file._data_name(int.from_bytes(digest[:6], "big"))


def _save(self, key, data):
    """``IndexDataCacheFile.save`` with :func:`data_name` for a new key (module doc)."""
    overloads = self._load_index()
    name = overloads.get(key) or data_name(self, key)
    self._save_data(name, data)  # the data first: an index entry never names a file not yet there
    if overloads.get(key) != name:
        overloads[key] = name
        self._save_index(overloads)


def install() -> None:
    """Name numba's cache data files by their keys' digests in this process (idempotent)."""
    from numba.core import caching

    caching.IndexDataCacheFile.save = _save
