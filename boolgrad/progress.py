"""A progress bar over a count of items (tqdm when installed and wanted, else silent).

Its own module so that every long job (sweeps, kernels, study runs) can show progress without
importing the engine that drives it.
"""

from __future__ import annotations

__all__ = ["Progress"]


class Progress:
    """``with Progress(total, enabled, desc) as bar: bar.update(n)``; cosmetic only."""

    def __init__(self, total: int, enabled: bool, desc: str, unit: str = "pat"):
        self._bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # progress is cosmetic; tqdm is a soft dependency
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
