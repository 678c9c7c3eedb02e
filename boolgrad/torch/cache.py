"""A small least-recently-used mapping (bounded caches of tables, threshold keys and plans)."""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["LRU"]


class LRU:
    """``get``/``put`` with at most ``maxsize`` entries; the least recently used goes first."""

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize!r}")
        self.maxsize = int(maxsize)
        self._data: OrderedDict = OrderedDict()

    def get(self, key, default=None):
        try:
            self._data.move_to_end(key)
        except KeyError:
            return default
        return self._data[key]

    def put(self, key, value):
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)
        return value

    def clear(self):
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key) -> bool:
        return key in self._data

    def values(self):
        return list(self._data.values())
