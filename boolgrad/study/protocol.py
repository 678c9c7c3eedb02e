"""The decisive study's protocol, fixed before its run: a learning rate per cell chosen on
validation, early stopping under an epoch cap, ten seeds at the chosen rate.

A *cell* is one experiment config (a :class:`~boolgrad.study.overshoot.RunConfig`, or the
non-spiking reference :class:`~boolgrad.study.mlp.MLPConfig`) with its ``lr`` and ``seed`` left
to the protocol; every other field (dataset, kind, dt/tau, network, epoch cap, patience) is the
cell's.  For each cell:

1. **Search**: train seeds ``0 .. search_seeds - 1`` at every rate of the grid (half decades,
   :data:`LR_GRID`); the chosen rate maximises the mean over those seeds of the best validation
   accuracy (ties: the smaller rate).  A choice at the edge of the grid widens the grid by one
   half decade on that side and searches again (up to ``widen`` times); a choice still at an edge
   after that is reported as such (:class:`LRChoice` ``at_edge``).
2. **Final**: seeds ``0 .. seeds - 1`` at the chosen rate (the search's runs at that rate are
   reused: they are the same configs, and the test split never entered the choice).

Every run stops early after ``patience`` epochs without a better validation accuracy, or at the
cap; it reports the test accuracy of its best validation epoch
(:func:`patience_reached`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

__all__ = ["LR_GRID", "LRChoice", "Protocol", "cell_key", "choose_lr", "half_decade", "patience_reached"]

#: the default learning-rate grid: half decades from 1e-3 to 3e-2 (10**-1.5 rounded to 3e-2, ...),
#: widened at an edge choice
LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2)


def patience_reached(epoch: int, best_epoch: int, patience: int) -> bool:
    """Early stopping's rule: no better validation accuracy in the last ``patience`` epochs
    (``patience`` 0: never)."""
    return patience > 0 and epoch - best_epoch >= patience


def half_decade(lr: float, side: int) -> float:
    """The rate one half decade above (``side=+1``) or below (``-1``) ``lr`` on the 1-3-10 grid:
    ``3e-2 -> 1e-1``, ``3e-4 -> 1e-4``, ``1e-3 -> 3e-4``."""
    e = math.floor(math.log10(lr) + 1e-9)
    m = round(lr / 10.0**e)
    if m not in (1, 3):
        raise ValueError(f"learning rate {lr!r} is not on the 1-3-10 grid")
    steps = {(1, 1): (3, 0), (3, 1): (1, 1), (1, -1): (3, -1), (3, -1): (1, 0)}
    mm, de = steps[(m, side)]
    return float(f"{mm}e{e + de}")


@dataclass(frozen=True)
class LRChoice:
    """A cell's chosen rate: ``lr``; ``means`` (rate -> mean best validation accuracy over the
    search seeds); ``at_edge``: ``"low"``, ``"high"`` or ``""`` (inside the grid)."""

    lr: float
    means: dict
    at_edge: str


def choose_lr(val_by_lr: dict) -> LRChoice:
    """The protocol's choice from ``{lr: [best validation accuracy of each search seed]}``:
    the largest mean (ties: the smaller rate); ``at_edge`` if it is the grid's smallest or
    largest rate.  Rates without a value are ignored; none at all raises ``ValueError``."""
    means = {float(lr): sum(v) / len(v) for lr, v in val_by_lr.items() if v}
    if not means:
        raise ValueError("no validation accuracies to choose a learning rate from")
    lrs = sorted(means)
    best = max(lrs, key=lambda lr: (means[lr], -lr))
    edge = "low" if best == lrs[0] and len(lrs) > 1 else "high" if best == lrs[-1] and len(lrs) > 1 else ""
    return LRChoice(best, means, edge)


def cell_key(cfg) -> str:
    """The cell a config belongs to: its identity without ``lr`` and ``seed`` (canonical JSON)."""
    d = dict(cfg.identity())
    d.pop("lr", None)
    d.pop("seed", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Protocol:
    """The protocol's numbers (module doc): the initial rate grid, the search and final seed
    counts, how often an edge choice may widen the grid."""

    lrs: tuple = LR_GRID
    search_seeds: int = 2
    seeds: int = 10
    widen: int = 2

    def __post_init__(self):
        if not self.lrs or any(not (lr > 0) for lr in self.lrs):
            raise ValueError(f"the learning-rate grid must be positive rates, got {self.lrs!r}")
        for name in ("search_seeds", "seeds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.search_seeds > self.seeds:
            raise ValueError(f"search seeds ({self.search_seeds}) must not exceed the final seeds ({self.seeds})")

    def search(self, cell, lrs=None) -> list:
        """The search runs of ``cell``: every rate of ``lrs`` (default the grid) x the search seeds."""
        return [replace(cell, lr=float(lr), seed=s) for lr in (lrs or self.lrs) for s in range(self.search_seeds)]

    def final(self, cell, lr: float) -> list:
        """The final runs of ``cell``: seeds ``0 .. seeds - 1`` at ``lr``."""
        return [replace(cell, lr=float(lr), seed=s) for s in range(self.seeds)]

    def grid_after(self, lrs, choice: LRChoice) -> tuple:
        """The grid to search next: ``lrs`` widened on the side of an edge choice, else ``lrs``."""
        if not choice.at_edge:
            return tuple(lrs)
        lo, hi = min(lrs), max(lrs)
        extra = half_decade(lo, -1) if choice.at_edge == "low" else half_decade(hi, +1)
        return tuple(sorted({*map(float, lrs), extra}))
