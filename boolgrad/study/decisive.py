"""The decisive study's grid and its run under the protocol (``boolgrad study decisive``).

The cells (:func:`cells`): every dataset x kind x dt/tau of the grid, each a
:class:`~boolgrad.study.overshoot.RunConfig` with the network of :data:`NETWORK` (the baselines
that learn: one hidden LIF layer, a linear cross-entropy readout), early stopping with
:data:`PATIENCE` under the dataset's epoch cap; the reset ablation (``detach_reset``) for
:data:`RESET_ABLATION`; the authors' readout (``mse_count``) for :data:`MSE_READOUT`; the non-spiking reference (:class:`~boolgrad.study.mlp.MLPConfig`, same
hidden size) per dataset; and the authors' row (their T = 60, batch 24, Adam 1e-4, MSE on spike
counts, theta 0.3, clamp 500 at dt = tau) at their fixed rate.

:func:`run` applies :class:`~boolgrad.study.protocol.Protocol` to every cell: the search runs of
all cells in one sweep, the choices (widening the grid of cells that chose an edge, then
searching again), ``OUT/protocol.json`` (atomically), then the final seeds of all cells in one
sweep.  Every run is a result file keyed by its config's hash, so an interrupted run resumes and
a finished one reruns nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ..atomic import write_json_atomic
from .executor import load_result, result_path, sweep
from .mlp import MLPConfig
from .overshoot import RunConfig
from .protocol import Protocol, cell_key, choose_lr

__all__ = [
    "AUTHORS_LR",
    "DECISIVE_DATASETS",
    "DECISIVE_DT",
    "DECISIVE_KINDS",
    "MSE_READOUT",
    "NETWORK",
    "PATIENCE",
    "PRIMARY",
    "QUICK_DECISIVE",
    "RESET_ABLATION",
    "cells",
    "check_protocol",
    "choices",
    "run",
]

#: the datasets (MNIST-1D is left out: see docs/study.md, "Baselines")
DECISIVE_DATASETS = ("digits", "yinyang", "spiketrains")
#: dt/tau of the grid: the coarsest and the finest decide the hypothesis
DECISIVE_DT = (2.0, 1.0, 0.5, 0.125)
#: the hypothesis' comparison, fixed in advance: (surrogate, Boolean)
PRIMARY = ("arctan", "boolean_yj2025")
#: the surrogate zoo: the secondary comparison takes its best on each dataset (by validation)
ZOO = ("arctan", "rectangle", "fast_sigmoid", "straight_through")
#: the kinds of the grid: the primary pair, the surrogate zoo (the best of it is the secondary
#: comparison), the secant Boolean kind, and the mechanism's ablations and fair fix where registered
DECISIVE_KINDS = ("arctan", "boolean_yj2025", "rectangle", "fast_sigmoid", "straight_through",
                  "boolean_secant_clamp", "boolean_secant_peak", "boolean_secant_tails", "boolean_matched_fair",
                  "boolean_fixed16_fair", "rectangle_matched", "rectangle_matched_centred")
#: kinds also trained with the reset detached (the reset ablation)
RESET_ABLATION = ("arctan", "boolean_yj2025")
#: kinds also trained with the authors' readout (a spiking output layer, MSE on its spike counts),
#: so the hypothesis is answered under both readouts
MSE_READOUT = PRIMARY
#: epochs without a better validation accuracy before a run stops
PATIENCE = 10
#: the network and epoch cap per dataset (chosen so arctan learns at dt = tau: docs/study.md)
NETWORK = {"digits": {"hidden": (128,), "epochs": 100}, "yinyang": {"hidden": (128,), "epochs": 150},
           "spiketrains": {"hidden": (128,), "epochs": 100}, "mnist1d": {"hidden": (256,), "epochs": 100}}
#: the authors' fixed learning rate (their row is not searched)
AUTHORS_LR = 1e-4
#: a tiny version for CI: two kinds, two dt, a data subset, short caps
QUICK_DECISIVE = {"datasets": ("digits",), "kinds": PRIMARY, "dt": (2.0, 0.5), "subset": (300, 100),
                  "epochs": 4, "patience": 2, "protocol": Protocol(lrs=(1e-3, 1e-2), search_seeds=2, seeds=3,
                                                                    widen=1)}


def cells(datasets=DECISIVE_DATASETS, kinds=DECISIVE_KINDS, dts=DECISIVE_DT, *, reset_ablation=RESET_ABLATION,
          mse_readout=MSE_READOUT, mlp=True, authors_row=True, subset=(), epochs=None, patience=PATIENCE, data_dir=""):
    """The searched cells (RunConfigs and MLPConfigs, ``lr`` and ``seed`` left to the protocol)
    and the fixed-rate cells (the authors' row): ``(searched, fixed)``."""
    searched, fixed = [], []
    for ds in datasets:
        net = dict(NETWORK.get(ds, {"hidden": (128,), "epochs": 100}))
        if epochs is not None:
            net["epochs"] = epochs
        common = dict(dataset=ds, subset=tuple(subset), patience=patience, data_dir=data_dir, **net)
        for kind in kinds:
            for dt in dts:
                cell = RunConfig(kind=kind, dt_over_tau=float(dt), readout="ce_linear", **common)
                searched.append(cell)
                if kind in reset_ablation:
                    searched.append(replace(cell, detach_reset=True))
                if kind in mse_readout:
                    searched.append(replace(cell, readout="mse_count"))
        if mlp:
            searched.append(MLPConfig(**common))
        if authors_row:
            for kind in [k for k in ("boolean_yj2025", "rectangle") if k in kinds]:
                fixed.append(RunConfig(kind=kind, dt_over_tau=1.0, scheme="authors", horizon=60.0, batch_size=24,
                                       lr=AUTHORS_LR, readout="mse_count", **common))
    return searched, fixed


def _val(out, cfg):
    res = load_result(result_path(out, cfg), cfg)
    return None if res is None else res["val_acc"]


def choices(out, searched, protocol: Protocol, grids=None) -> dict:
    """``{cell_key: (grid, LRChoice)}`` from the search runs present in ``out``."""
    got = {}
    for cell in searched:
        key = cell_key(cell)
        grid = (grids or {}).get(key, protocol.lrs)
        vals = {lr: [v for c in protocol.search(cell, [lr]) if (v := _val(out, c)) is not None] for lr in grid}
        got[key] = (tuple(grid), choose_lr(vals))
    return got


def _record(out, protocol, cells) -> None:
    """Merge ``cells`` into ``OUT/protocol.json`` (a cell run again replaces its entry; cells of
    earlier invocations stay, so a grid may be run in parts); refuses another protocol's folder."""
    path, head = out / "protocol.json", {"lrs": list(protocol.lrs), "search_seeds": protocol.search_seeds,
                                         "seeds": protocol.seeds, "widen": protocol.widen}
    old = json.loads(path.read_text()) if path.is_file() else {"protocol": head, "cells": []}
    if old["protocol"] != head:
        raise ValueError(f"{path} was written under another protocol ({old['protocol']}); use another --out")
    merged = {c["cell"]: c for c in old["cells"]}
    merged.update({c["cell"]: c for c in cells})
    write_json_atomic(path, {"protocol": head, "cells": list(merged.values())})


def check_protocol(out, protocol) -> None:
    """Raise ``ValueError`` (before any run) if ``OUT/protocol.json`` holds another protocol."""
    path = Path(out) / "protocol.json"
    if path.is_file():
        head = json.loads(path.read_text())["protocol"]
        if head != {"lrs": list(protocol.lrs), "search_seeds": protocol.search_seeds, "seeds": protocol.seeds,
                    "widen": protocol.widen}:
            raise ValueError(f"{path} was written under another protocol ({head}); use another --out")


def run(out, searched, fixed=(), *, protocol: Protocol | None = None, jobs=1, stack=16, client=None,
        progress=True, log=print) -> dict:
    """Apply the protocol to every cell (module doc); returns ``{"searched": n, "final": n,
    "ran": n}`` and writes ``OUT/protocol.json``."""
    out, protocol = Path(out), protocol or Protocol()
    grids = {cell_key(c): tuple(protocol.lrs) for c in searched}
    ran = 0
    for round_ in range(protocol.widen + 1):
        todo = [c for cell in searched for c in protocol.search(cell, grids[cell_key(cell)])]
        ran += sweep(todo, out, jobs=jobs, client=client, progress=progress, stack=stack)["ran"]
        chosen = choices(out, searched, protocol, grids)
        widened = {k: protocol.grid_after(g, ch) for k, (g, ch) in chosen.items()}
        if round_ == protocol.widen or widened == grids:
            break
        log(f"{sum(widened[k] != grids[k] for k in grids)} cells chose an edge rate: widening their grid")
        grids = widened
    record = []
    for cell in searched:
        grid, ch = chosen[cell_key(cell)]
        record.append({"cell": cell_key(cell), "dataset": cell.dataset, "label": cell.label(), "grid": list(grid),
                       "means": {repr(k): v for k, v in sorted(ch.means.items())}, "lr": ch.lr,
                       "at_edge": ch.at_edge, "fixed": False})
    for cell in fixed:
        record.append({"cell": cell_key(cell), "dataset": cell.dataset, "label": cell.label() + " (authors' row)",
                       "grid": [cell.lr], "means": {}, "lr": cell.lr, "at_edge": "", "fixed": True})
    _record(out, protocol, record)
    finals = [c for cell in searched for c in protocol.final(cell, chosen[cell_key(cell)][1].lr)]
    finals += [c for cell in fixed for c in protocol.final(cell, cell.lr)]
    ran += sweep(finals, out, jobs=jobs, client=client, progress=progress, stack=stack)["ran"]
    return {"searched": len(searched), "final": len(finals), "ran": ran}
