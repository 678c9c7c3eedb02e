"""What the seed experiments share: the config protocol of :func:`boolgrad.study.executor.sweep`,
data loading and seeding (numpy only; torch inside functions).  Summaries over seeds (mean +- std,
quantiles) are :mod:`boolgrad.study.stats`; ``quantiles`` is re-exported for the experiments.

A seed config is a frozen dataclass whose class attribute ``EXPERIMENT`` names it; its identity
is its fields (less ``data_dir``, tuples as lists) plus ``experiment`` and, where it has a
gradient ``kind`` of :mod:`boolgrad.study.kinds`, that kind's definition -- so a changed kind
never reuses a stale result file.
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields

from ..stats import quantiles

__all__ = ["BestEpoch", "SeedConfig", "batches", "check_dataset", "jsonable", "load", "quantiles"]


def jsonable(obj):
    """Tuples -> lists, recursively (what a JSON round trip gives back)."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj


def check_dataset(name: str, data_dir: str) -> None:
    from ..data import DATASETS

    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    if DATASETS[name] and not data_dir:
        raise ValueError(f"dataset {name!r} needs --data-dir DIR (IDX files)")


class SeedConfig:
    """Mixin for frozen dataclass configs (module doc); subclasses define ``EXPERIMENT``,
    ``_check()`` and ``_execute()``."""

    EXPERIMENT = ""
    KIND_FIELD = "kind"
    #: fields added after results were committed: left out of the identity at their default, so
    #: an old config keeps its hash (and its result file)
    LATER_FIELDS = ()

    def identity(self) -> dict:
        d = jsonable(asdict(self))
        d.pop("data_dir", None)
        defaults = {f.name: f.default for f in fields(self)}
        for name in self.LATER_FIELDS:
            if d.get(name) == jsonable(defaults[name]):
                d.pop(name)
        d["experiment"] = self.EXPERIMENT
        kind = getattr(self, self.KIND_FIELD, "")
        from ..kinds import KINDS

        if kind in KINDS:
            d["kind_spec"] = KINDS[kind].describe()
        return d

    def validate(self):
        check_dataset(self.dataset, self.data_dir)
        if self.epochs < 1 or self.batch_size < 1 or not (self.lr > 0):
            raise ValueError("epochs and batch size must be >= 1 and lr > 0")
        self._check()
        return self

    def _check(self):
        pass

    def execute(self) -> dict:
        import torch

        torch.set_num_threads(1)
        t0 = time.perf_counter()
        res = self._execute(load(self))
        res.setdefault("train_seconds", time.perf_counter() - t0)
        res["experiment"] = self.EXPERIMENT
        return res

    def label(self) -> str:
        return self.EXPERIMENT


def load(cfg):
    from ..data import load_dataset

    if cfg.dataset == "digits_affine" and cfg.subset:  # generated at the subset's size: the same images
        from .images import subset

        return subset(cfg.data_seed, *cfg.subset)
    return load_dataset(
        cfg.dataset, seed=cfg.data_seed, data_dir=cfg.data_dir or None, subset=tuple(cfg.subset) or None
    )


def batches(n: int, batch_size: int, gen):
    """A seeded permutation of ``range(n)`` split into batches (torch tensors of indices)."""
    import torch

    return torch.randperm(n, generator=gen).split(batch_size)


class BestEpoch:
    """The protocol's selection (``select="val"``): the validation accuracy after every epoch, the
    weights of the best one kept (ties: the earlier), a stop after ``patience`` epochs without a
    better one (0: never) -- as the study selects; seeds 000 and 003 use it."""

    def __init__(self, cfg):
        self.on, self.patience, self.cap = cfg.select == "val", cfg.patience, cfg.epochs
        self.path, self.best_epoch, self.best_val, self.best_state = [], 0, None, None

    def check(self, epoch: int, val: float, state) -> bool:
        """Record epoch ``epoch``'s validation accuracy (``state()`` copies the weights); True: stop."""
        from ..protocol import patience_reached

        self.path.append(val)
        if self.best_val is None or val > self.best_val:
            self.best_epoch, self.best_val, self.best_state = epoch, val, state()
        return patience_reached(epoch, self.best_epoch, self.patience)

    def fields(self, last_test_acc) -> dict:
        """The protocol's result fields (none without ``select="val"``); ``last_test_acc()``: the
        last epoch's weights' test accuracy (the number without selection)."""
        if not self.on:
            return {}
        return {"test_acc_last": last_test_acc(), "val_acc": self.best_val, "best_epoch": self.best_epoch,
                "stopped_epoch": len(self.path), "stopped_early": len(self.path) < self.cap, "val_path": self.path}
