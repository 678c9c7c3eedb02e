"""numba's on-disk cache under concurrent compilation (``boolgrad.numba_cache``): two processes
that each save a different variant of one function, neither seeing the other's index entry,
never leave one variant's key pointing at the other's code."""

import pytest

pytest.importorskip("numba", reason="the cache is numba's")

from numba.core import caching

from boolgrad import numba_cache


def _interleave(cf, name_of):
    """``save`` by two processes that both read an empty index, split at its two writes and
    interleaved as CI saw it lose: A writes its index, B its index and its data, then A its data.
    ``name_of(cf, key)``: the data file a process picks for a new key."""
    a, b = name_of(cf, "key A"), name_of(cf, "key B")
    cf._save_index({"key A": a})
    cf._save_index({"key B": b})
    cf._save_data(b, b"code B")
    cf._save_data(a, b"code A")
    return a, b


def test_two_variants_never_share_a_data_file(tmp_path):
    cf = caching.IndexDataCacheFile(str(tmp_path), "f-1.py311", ("stamp", 1))
    a, b = _interleave(cf, numba_cache.data_name)
    assert a != b
    assert cf.load("key B") == b"code B"  # B's key, B's code (A's entry is lost: a recompilation)
    assert cf.load("key A") is None


def test_numbered_names_lose_the_race(tmp_path):
    """numba's own naming (the first number an empty index does not use) hands B's key A's code."""
    cf = caching.IndexDataCacheFile(str(tmp_path), "h-1.py311", ("stamp", 1))
    a, b = _interleave(cf, lambda cf, key: cf._data_name(1))
    assert a == b
    assert cf.load("key B") == b"code A"


def test_install_saves_by_digest(tmp_path):
    numba_cache.install()
    assert caching.IndexDataCacheFile.save is numba_cache._save
    cf = caching.IndexDataCacheFile(str(tmp_path), "g-1.py311", ("stamp", 1))
    cf.save(("sig", 1), b"one")
    cf.save(("sig", 2), b"two")
    cf.save(("sig", 1), b"one again")
    assert cf.load(("sig", 1)) == b"one again" and cf.load(("sig", 2)) == b"two"
    names = sorted(p.name for p in tmp_path.glob("g-1.py311.*.nbc"))
    assert names == sorted(numba_cache.data_name(cf, ("sig", k)) for k in (1, 2))
