"""Seeds 000, 002 and 003 under the study's protocol (``boolgrad study seeds --protocol``).

The protocol (:mod:`boolgrad.study.protocol`, :func:`boolgrad.study.decisive.run`): per cell a
learning rate chosen on validation (``search_seeds`` seeds per rate, widened at an edge), then
``seeds`` final seeds at the chosen rate; early stopping on validation; the test accuracy of the
best validation check.  Written down before the runs in docs/seeds_experiments.md.

**Seed 000** (``OUT/seed000``, :func:`cells_000`): the question's nudging rule, the perceptron, the
additive rules and backprop through the step units (Boolean, straight-through, arctan), depth 1
and 2, digits and Yin-Yang; every method searched over the same half-decade grid
:data:`LRS_000` (an online rule's step and Adam's rate alike), early stopping
(:data:`PATIENCE_000` epochs, cap :data:`CAP_000`).

**Seed 002** (``OUT/seed002``), on an image task: MNIST or Fashion-MNIST from IDX files
(``--data-dir``), else the offline stand-in :mod:`boolgrad.study.seeds.images`
(``digits_affine``); 2 hidden layers :data:`HIDDEN_002`; Adam; the blog's ``N(0, 1)`` init.

* *The blog's table* (:func:`blog_cells`): ``(model, lr)`` for the blog's four rates, batch 1,
  the blog's 4 epochs as the cap, validation after every epoch, the best epoch's test accuracy
  (and the last epoch's, the blog's own number), :data:`BLOG_SEEDS` seeds each -- **no search**:
  the blog's claim is about robustness *across* learning rates, so it needs every rate with ten
  seeds, not only a chosen one.  Its verdict: :func:`claim_verdict`.
* *Batch sizes* (:func:`batch_cells`): model x batch :data:`BATCHES` x {equal updates, equal
  epochs}, each searched over the blog's rates (:class:`SeriesProtocol`, widened on the 1-2-5
  series).  Equal updates: :data:`EQUAL_UPDATES` optimizer updates for every batch size (batch
  ``B`` runs ``EQUAL_UPDATES / ceil(n / B)`` epochs), validation every
  ``EQUAL_UPDATES / CHECKS`` updates, patience :data:`PATIENCE_CHECKS` checks.  Equal epochs: the
  blog's 4 epochs for every batch size, validation every epoch (the batch-1 cell's runs are the
  blog table's runs: the same configs, run once).

**Seed 003** (``OUT/seed003``, :func:`cells_003`): the halving neuron and LIF, learnable
threshold and leak, the Boolean ``wrt="theta"`` gradient (``boolean_fixed16.8``) against the
surrogate's ``-g`` (``arctan``), each kind with its own searched rate (the threshold's rate tied
to it, :data:`THETA_LR_RATIO`), early stopping (:data:`PATIENCE_003` epochs, cap
:data:`CAP_003`), Yin-Yang and MNIST-1D; the threshold per epoch is in every result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from ..protocol import LR_GRID, Protocol

__all__ = [
    "BATCHES",
    "BLOG_SEEDS",
    "CAP_000",
    "CAP_003",
    "CHECKS",
    "COLLAPSE",
    "EQUAL_EPOCHS",
    "EQUAL_UPDATES",
    "HIDDEN_002",
    "HIGH_LRS",
    "LRS_000",
    "MARGIN",
    "PATIENCE_000",
    "PATIENCE_003",
    "PATIENCE_CHECKS",
    "PROTOCOL_000",
    "PROTOCOL_002",
    "PROTOCOL_003",
    "QUICK",
    "THETA_LR_RATIO",
    "SeriesProtocol",
    "batch_cells",
    "blog_cells",
    "blog_runs",
    "cells_000",
    "cells_003",
    "claim_verdict",
    "equal_update_epochs",
    "image_dataset",
    "run_protocol",
    "series_step",
]

#: the image network of seed 002 (input 256 for the stand-in, 784 for MNIST)
HIDDEN_002 = (128, 64)
BATCHES = (1, 64, 256)
#: equal updates: every batch size trains this many optimizer updates (one batch-1 epoch of the
#: stand-in's and MNIST's 55,000 training images), validated every EQUAL_UPDATES / CHECKS updates
EQUAL_UPDATES, CHECKS, PATIENCE_CHECKS = 55_000, 20, 5
#: equal epochs: the blog's 4 epochs for every batch size
EQUAL_EPOCHS = 4
BLOG_SEEDS = 10
#: the blog's claim: at these rates the multi-threshold model beats the central one, which collapses
HIGH_LRS = (0.005, 0.01)
#: a collapse is a loss of more than COLLAPSE accuracy; MARGIN: a difference too small to matter
COLLAPSE, MARGIN = 0.10, 0.02
#: seed 003: threshold and leak rate = THETA_LR_RATIO x the searched rate (the seed's 1e-3 / 3e-3)
THETA_LR_RATIO = 1 / 3
#: the cap is the decisive study's largest (Yin-Yang's 150 epochs). Amended from 60 before any run at 150:
#: at 60, the cap (not patience) ended 20 of the 40 MNIST-1D final runs and 1 of 40 Yin-Yang (that grid:
#: results/seeds_protocol_cap60), so they were not converged by the study's standard
PATIENCE_003, CAP_003 = 10, 150
DATASETS_003 = ("yinyang", "mnist1d")
NEURONS_003 = ("halving", "lif")
KINDS_003 = ("boolean_fixed16.8", "arctan")
#: seed 000: one grid for every method (the rules' step sizes and Adam's rates), widened at an edge
LRS_000 = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
PATIENCE_000, CAP_000 = 10, 60
#: MNIST-1D is left out: no method of the 3-seed, 10-epoch table learns it with these step networks
#: (every cell <= 0.3) and it costs two thirds of the time
DATASETS_000 = {"digits": {}, "yinyang": {"subset": (2000, 1000)}}


def series_step(lr: float, side: int) -> float:
    """The next rate on the 1-2-5 series above (``side=+1``) or below (``-1``) ``lr``:
    ``0.01 -> 0.02 -> 0.05 -> 0.1``, ``0.0005 -> 0.0002 -> 0.0001``."""
    e = math.floor(math.log10(lr) + 1e-9)
    m = round(lr / 10.0**e)
    if m not in (1, 2, 5):
        raise ValueError(f"learning rate {lr!r} is not on the 1-2-5 series")
    up = {1: (2, 0), 2: (5, 0), 5: (1, 1)}
    down = {1: (5, -1), 2: (1, 0), 5: (2, 0)}
    mm, de = (up if side > 0 else down)[m]
    return float(f"{mm}e{e + de}")


@dataclass(frozen=True)
class SeriesProtocol(Protocol):
    """:class:`~boolgrad.study.protocol.Protocol` over the blog's rates (``5e-4 .. 1e-2``, not on
    the 1-3-10 grid): an edge choice widens the grid one step of the 1-2-5 series."""

    def grid_after(self, lrs, choice) -> tuple:
        if not choice.at_edge:
            return tuple(lrs)
        extra = series_step(min(lrs), -1) if choice.at_edge == "low" else series_step(max(lrs), +1)
        return tuple(sorted({*map(float, lrs), extra}))


def _blog_lrs():
    from .seed002 import BLOG_LRS

    return tuple(BLOG_LRS)


PROTOCOL_000 = Protocol(lrs=LRS_000, search_seeds=2, seeds=10, widen=2)
PROTOCOL_002 = SeriesProtocol(lrs=_blog_lrs(), search_seeds=2, seeds=10, widen=2)
PROTOCOL_003 = Protocol(lrs=LR_GRID, search_seeds=2, seeds=10, widen=2)

#: a tiny version for CI (< 30 s): data subsets, short caps, 2 final seeds (intervals need 2)
QUICK = {
    "subset_002": (200, 100), "hidden_002": (16, 8), "batches": (1, 16), "updates": 200, "checks": 4,
    "patience_checks": 2, "epochs": 1, "blog_seeds": 2,
    "protocol_002": SeriesProtocol(lrs=(0.001, 0.01), search_seeds=1, seeds=2, widen=1),
    "datasets_003": ("yinyang",), "neurons_003": ("halving",), "subset_003": (300, 100), "cap_003": 3,
    "patience_003": 2, "protocol_003": Protocol(lrs=(3e-3, 3e-2), search_seeds=1, seeds=2, widen=0),
    "datasets_000": {"digits": {"subset": (300, 100)}}, "methods_000": ("nudge", "additive_weighted", "arctan"),
    "cap_000": 3, "patience_000": 2, "protocol_000": Protocol(lrs=(1e-2, 1e-1), search_seeds=1, seeds=2, widen=0),
}


def image_dataset(dataset: str | None, data_dir: str) -> str:
    """Seed 002's dataset: ``dataset`` if given, else ``mnist`` with IDX files, else the stand-in."""
    return dataset or ("mnist" if data_dir else "digits_affine")


def equal_update_epochs(updates: int, n_train: int, batch_size: int) -> float:
    """The epochs that ``updates`` optimizer updates make at ``batch_size`` (``ceil(n / B)`` per epoch)."""
    return updates / math.ceil(n_train / batch_size)


def _c002(dataset, quick, data_dir, **kw):
    from .seed002 import Seed002Config

    q = QUICK if quick else {}
    return Seed002Config(dataset=dataset, hidden=tuple(q.get("hidden_002", HIDDEN_002)),
                         subset=tuple(q.get("subset_002", ())), data_dir=data_dir, select="val", **kw)


def blog_cells(dataset, quick=False, data_dir=""):
    """The blog's table: one cell per (model, blog rate), batch 1, the blog's epochs (module doc)."""
    q = QUICK if quick else {}
    return [_c002(dataset, quick, data_dir, model=m, lr=lr, batch_size=1, epochs=q.get("epochs", EQUAL_EPOCHS))
            for m in ("central", "multi") for lr in _blog_lrs()]


def blog_runs(dataset, quick=False, data_dir="", seeds=None):
    """The blog table's runs: every cell x seeds ``0 .. seeds - 1`` (default :data:`BLOG_SEEDS`)."""
    n = seeds or (QUICK["blog_seeds"] if quick else BLOG_SEEDS)
    return [replace(c, seed=s) for c in blog_cells(dataset, quick, data_dir) for s in range(n)]


def batch_cells(dataset, quick=False, data_dir=""):
    """The searched cells: model x batch size x {equal updates, equal epochs} (module doc)."""
    q = QUICK if quick else {}
    u, checks = q.get("updates", EQUAL_UPDATES), q.get("checks", CHECKS)
    out = []
    for m in ("central", "multi"):
        for b in q.get("batches", BATCHES):
            out.append(_c002(dataset, quick, data_dir, model=m, batch_size=b, updates=u, val_every=u // checks,
                             patience=q.get("patience_checks", PATIENCE_CHECKS)))
            out.append(_c002(dataset, quick, data_dir, model=m, batch_size=b, epochs=q.get("epochs", EQUAL_EPOCHS)))
    return out


def cells_000(quick=False):
    """Seed 000's searched cells (module doc): dataset x depth x method (the methods of the
    seeds' grid, :data:`boolgrad.study.seeds.grids.METHODS_000`)."""
    from .grids import METHODS_000
    from .seed000 import UPDATE_RULES, Seed000Config

    q = QUICK if quick else {}
    return [Seed000Config(dataset=ds, method=m, depth=depth, batch_size=1 if m in UPDATE_RULES else 32,
                          select="val", patience=q.get("patience_000", PATIENCE_000),
                          epochs=q.get("cap_000", CAP_000), **kw)
            for ds, kw in q.get("datasets_000", DATASETS_000).items() for depth in (1, 2)
            for m in q.get("methods_000", METHODS_000)]


def cells_003(quick=False):
    """Seed 003's searched cells (module doc)."""
    from .seed003 import Seed003Config

    q = QUICK if quick else {}
    return [Seed003Config(dataset=ds, neuron=n, kind=k, learn_leak=True, select="val",
                          patience=q.get("patience_003", PATIENCE_003), epochs=q.get("cap_003", CAP_003),
                          theta_lr_ratio=THETA_LR_RATIO, subset=tuple(q.get("subset_003", ())))
            for ds in q.get("datasets_003", DATASETS_003) for n in q.get("neurons_003", NEURONS_003)
            for k in KINDS_003]


def protocols(quick=False):
    """``{"000": protocol, "002": protocol, "003": protocol}``."""
    if quick:
        return {"000": QUICK["protocol_000"], "002": QUICK["protocol_002"], "003": QUICK["protocol_003"]}
    return {"000": PROTOCOL_000, "002": PROTOCOL_002, "003": PROTOCOL_003}


def run_protocol(out, only=("000", "002", "003"), *, quick=False, dataset=None, data_dir="", jobs=1, client=None,
                 progress=True, protocol_overrides=None, log=print) -> dict:
    """Run the grids of ``only`` under their protocols into ``OUT/seed000``, ``OUT/seed002`` and
    ``OUT/seed003`` (resumable; seed 000, the cheapest, first); returns
    ``{seed: counts}``."""
    from ..decisive import run
    from ..executor import sweep

    out, got = Path(out), {}
    prots = {k: replace(v, **(protocol_overrides or {})) for k, v in protocols(quick).items()}
    if "000" in only:
        got["000"] = run(out / "seed000", cells_000(quick), (), protocol=prots["000"], jobs=jobs, client=client,
                         progress=progress, log=log)
    if "002" in only:
        ds = image_dataset(dataset, data_dir)
        # the blog table first: the equal-epochs batch-1 cells' search reuses its runs
        ran = sweep(blog_runs(ds, quick, data_dir, prots["002"].seeds), out / "seed002", jobs=jobs, client=client,
                    progress=progress)["ran"]
        counts = run(out / "seed002", batch_cells(ds, quick, data_dir), (), protocol=prots["002"], jobs=jobs,
                     client=client, progress=progress, log=log)
        counts["ran"] += ran
        got["002"] = counts
    if "003" in only:
        got["003"] = run(out / "seed003", cells_003(quick), (), protocol=prots["003"], jobs=jobs, client=client,
                         progress=progress, log=log)
    return got


# -- the blog's claim -------------------------------------------------------------------------------
def claim_verdict(acc: dict, val: dict | None = None, *, confidence=0.95) -> dict:
    """The blog's claim -- "the multi-threshold model is robust to the learning rate where the
    central one collapses at lr 0.005-0.01" -- judged from ``acc[model][lr] = {seed: test acc}``
    (models ``central``, ``multi``; the blog's rates), by the rule fixed before the runs
    (docs/seeds_experiments.md):

    * the central model's reference rate ``r`` is the one of the blog's two low rates (below
      :data:`HIGH_LRS`) with the higher mean *validation* accuracy ``val["central"][lr]`` (the
      higher mean test accuracy if ``val`` is not given);
    * at each high rate ``h``: ``D`` = the seed-paired interval of multi - central at ``h``,
      ``C`` = the seed-paired interval of central's drop, central at ``r`` - central at ``h``;
      *holding* at ``h`` if ``D`` excludes 0 above (``D.low > 0``) and ``C.low > COLLAPSE``
      (central loses more than 0.10 for sure); *not holding* at ``h`` if ``D.high < MARGIN``
      (multi is not better by 0.02) or ``C.high < COLLAPSE`` (central surely loses less than
      0.10: no collapse); else *inconclusive* (or an interval is missing);
    * overall: *holding* if it holds at both high rates, *not holding* if it fails at either
      (the claim names both), else *inconclusive*.

    Returns ``{"verdict", "ref_lr", "per_lr": {h: {"verdict", "diff", "drop", "multi_drop"}}}``
    (intervals: :class:`boolgrad.study.inference.Interval`).
    """
    from ..inference import paired_difference

    cen, mul = acc.get("central", {}), acc.get("multi", {})
    low = [lr for lr in sorted(cen) if lr < min(HIGH_LRS)]
    score = (val or acc).get("central", {})
    mean = lambda d: (sum(d.values()) / len(d)) if d else -math.inf
    ref = max(low, key=lambda lr: (mean(score.get(lr, {})), -lr)) if low else None
    mlow = [lr for lr in sorted(mul) if lr < min(HIGH_LRS)]
    mscore = (val or acc).get("multi", {})
    mref = max(mlow, key=lambda lr: (mean(mscore.get(lr, {})), -lr)) if mlow else None
    per = {}
    for h in HIGH_LRS:
        if ref is None or h not in cen or h not in mul:
            per[h] = {"verdict": "inconclusive", "diff": None, "drop": None, "multi_drop": None}
            continue
        d = paired_difference(mul[h], cen[h], confidence)
        c = paired_difference(cen[ref], cen[h], confidence)
        md = paired_difference(mul[mref], mul[h], confidence) if mref is not None else None
        if not (d.defined and c.defined):
            v = "inconclusive"
        elif d.low > 0 and c.low > COLLAPSE:
            v = "holding"
        elif d.high < MARGIN or c.high < COLLAPSE:
            v = "not holding"
        else:
            v = "inconclusive"
        per[h] = {"verdict": v, "diff": d, "drop": c, "multi_drop": md}
    vs = [p["verdict"] for p in per.values()]
    overall = "holding" if all(v == "holding" for v in vs) else "not holding" if "not holding" in vs else "inconclusive"
    return {"verdict": overall, "ref_lr": ref, "multi_ref_lr": mref, "per_lr": per}
