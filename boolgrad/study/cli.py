"""``boolgrad study overshoot | simulate``: the overshoot study from the command line.

``overshoot`` runs the training grid (:func:`boolgrad.study.overshoot.grid`) into
``OUT/runs/*.json`` through :func:`boolgrad.study.executor.sweep` (skipping runs whose file exists
and is valid, so an interrupted sweep resumes), the random-weight crossing simulation into
``OUT/sim/*.json``, then writes ``OUT/overshoot.csv``, ``OUT/summary.md`` and
plots from those files.  ``simulate`` runs the simulation alone.  Bad options exit 2 with one
line on stderr before any work (raised as ``ValueError`` here; :mod:`boolgrad.cli` prints it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .checks import check_counts, check_out
from .kinds import KINDS
from .overshoot import (
    DEFAULT_DATASETS,
    FULL_CE_DT,
    FULL_DT,
    FULL_KINDS,
    QUICK,
    grid,
    simulation_grid,
    simulation_record,  # looked up here at call time: boolgrad.paper.reproduce narrows its kinds
)
from .simulate import DT_OVER_TAU, SCHEMES

__all__ = ["add_parser"]


def _floats(text):
    try:
        vals = [float(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"--dt takes numbers (dt/tau), got {text!r}") from None
    return vals


def _check(a):
    from .data import DATASETS, load_dataset

    for k in a.kinds:
        if k not in KINDS:
            raise ValueError(f"unknown kind {k!r}; choose from {', '.join(KINDS)}")
    for ds in a.datasets:
        if ds not in DATASETS:
            raise ValueError(f"unknown dataset {ds!r}; choose from {', '.join(DATASETS)}")
        if DATASETS[ds]:
            if not a.data_dir:
                raise ValueError(f"dataset {ds!r} needs --data-dir DIR (IDX files)")
            if not Path(a.data_dir).is_dir():
                raise ValueError(f"--data-dir {a.data_dir} is not a directory")
    for dt in a.dt:
        if not (dt > 0 and dt < float("inf")):
            raise ValueError(f"--dt values must be positive (dt/tau), got {dt!r}")
    check_counts(a, ("seeds", "epochs", "jobs", "stack"))
    check_out(a.out, "runs", "sim")
    for ds in a.datasets:  # IDX files: read and checked now (sizes, classes, shapes), not in a run
        if DATASETS[ds]:
            load_dataset(ds, data_dir=a.data_dir)


def _cmd_overshoot(a) -> int:
    from .executor import alongside, close_client, connect_cluster, sweep
    from .report import simulation_reports, write_reports

    check_counts(a)  # before the defaults below: --seeds 0 is refused, not the default grid
    if a.quick:
        a.datasets = a.datasets or list(QUICK["datasets"])
        a.kinds = a.kinds or list(QUICK["kinds"])
        a.dt = a.dt or list(QUICK["dt"])
        a.seeds = a.seeds or QUICK["seeds"]
    a.datasets = a.datasets or list(DEFAULT_DATASETS)
    a.kinds = a.kinds or list(FULL_KINDS)
    ce_dts = () if a.quick or a.dt else FULL_CE_DT
    a.dt = a.dt or list(FULL_DT)
    a.seeds = a.seeds or 3
    if a.jobs is None:  # --quick: both cores of a 2-core machine (results do not depend on it)
        a.jobs = min(2, os.cpu_count() or 1) if a.quick else 1
    _check(a)
    client = connect_cluster(a.cluster) if a.cluster else None  # unreachable: exit 2, nothing done
    t0 = time.perf_counter()
    configs = grid(a.datasets, a.kinds, a.dt, a.seeds, epochs=a.epochs, quick=a.quick,
                   data_dir=a.data_dir or "", authors_row=not a.no_authors_row, ce_dts=ce_dts, engine=a.engine,
                   detach_reset=a.detach_reset)
    schemes = ("exact",) if a.quick else SCHEMES

    sims = {}
    simulations = [  # then their part of the reports
        lambda ds=ds, dt=dt, sch=sch: simulation_record(a.out, ds, dt, sch, data_dir=a.data_dir or "",
                                                        kinds=tuple(a.kinds))
        for ds, dt, sch in simulation_grid(a.datasets, a.dt, schemes)] + [
        lambda: sims.update(simulation_reports(a.out))]

    try:  # the simulation runs here while worker processes train (after the sweep without workers)
        with alongside(simulations, background=client is not None or a.jobs > 1):
            counts = sweep(configs, a.out, jobs=a.jobs, client=client, progress=not a.no_progress,
                           stack=a.stack)
    finally:
        close_client(client)
    rep = write_reports(a.out, sims=sims)
    print(f"{counts['ran']} runs done, {counts['skipped']} reused; {rep['rows']} rows in "
          f"{Path(a.out) / 'overshoot.csv'}; {len(rep['plots'])} plots; {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_simulate(a) -> int:
    a.kinds = a.kinds or list(KINDS)
    a.datasets = a.datasets or list(DEFAULT_DATASETS)
    a.dt = a.dt or list(DT_OVER_TAU)
    a.seeds, a.epochs, a.jobs = 1, None, 1
    _check(a)
    for sch in a.scheme:
        if sch not in SCHEMES:
            raise ValueError(f"unknown scheme {sch!r}; choose from {', '.join(SCHEMES)}")
    from .report import counts_line, simulation_counts, write_reports

    t0, records = time.perf_counter(), []
    for ds, dt, sch in simulation_grid(a.datasets, a.dt, a.scheme):
        r = simulation_record(a.out, ds, dt, sch, data_dir=a.data_dir or "", kinds=tuple(a.kinds))
        records.append(r)
        med = r["du_quantiles"][2]
        print(f"{ds:8s} {sch:7s} dt/tau={dt:<7g} crossings={r['n_crossings']:7d} median dU="
              f"{'-' if med is None else f'{med:.4g}'} from reset={r['frac_from_reset']:.2f}")
        for k, v in r["kinds"].items():
            tb, mb = v.get("theory_below") or {}, v.get("mixture_below") or {}
            if tb.get("mean_sim") is not None:
                mix = "" if mb.get("ratio") is None else (
                    f" | mixture {mb['mean_theory']:.4g} ratio {mb['ratio']:.3f}"
                    f"{'' if mb['agree'] else '  (differs > 10%)'}")
                print(f"    {k:22s} below: sim {tb['mean_sim']:.4g} uniform {tb['mean_theory']:.4g} "
                      f"ratio {tb['ratio']:.3f}{'' if tb['agree'] else '  (differs > 10%)'}{mix}")
    print(counts_line(simulation_counts(records)))
    write_reports(a.out)
    print(f"{len(records)} simulations; {Path(a.out) / 'summary.md'}; {time.perf_counter() - t0:.1f} s")
    return 0


def add_parser(sub) -> None:
    """Register ``study`` on :mod:`boolgrad.cli`'s subparsers."""
    st = sub.add_parser("study", help="the overshoot study: crossing theory, simulation, training grid, reports")
    ss = st.add_subparsers(dest="study_command", required=True, parser_class=type(st))

    def common(p):
        p.add_argument("--out", default="overshoot-study", help="output folder (default overshoot-study)")
        p.add_argument("--datasets", nargs="+", default=None, help="mnist1d yinyang digits mnist fashion spiketrains")
        p.add_argument("--kinds", nargs="+", default=None, help=" ".join(KINDS))
        p.add_argument("--dt", nargs="+", type=float, default=None, help="dt/tau values")
        p.add_argument("--data-dir", default=None, help="folder with the IDX files (mnist, fashion)")

    o = ss.add_parser("overshoot", help="train the grid and write overshoot.csv, summary.md, plots")
    common(o)
    o.add_argument("--quick", action="store_true", help="tiny grid (2 datasets x 3 kinds x 2 dt, 2 epochs)")
    o.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 3, quick 1)")
    o.add_argument("--epochs", type=int, default=None, help="override the per-dataset epochs")
    o.add_argument("--jobs", type=int, default=None,
                   help="local worker processes (default 1; --quick: 2 where there are 2 cores)")
    o.add_argument("--stack", type=int, default=16,
                   help="train up to N runs that differ only in seed (or learning rate) as one stacked model")
    o.add_argument("--detach-reset", action="store_true",
                   help="no gradient through the reset term (an ablation; snnTorch's and SpyTorch's choice)")
    o.add_argument("--engine", choices=("fused", "step"), default="fused",
                   help="LIF layers fused over time (numba) or the lif_step loop (the reference)")
    o.add_argument("--cluster", default=None, help="tcp://HOST:8786 (Dask scheduler) or local:N")
    o.add_argument("--no-authors-row", action="store_true", help="leave out the authors' setting")
    o.add_argument("--no-progress", action="store_true")
    o.set_defaults(run=_cmd_overshoot)

    s = ss.add_parser("simulate", help="random-weight crossing statistics vs the crossing theory")
    common(s)
    s.add_argument("--scheme", nargs="+", default=list(SCHEMES), help="exact authors")
    s.set_defaults(run=_cmd_simulate)

    from .crossings_cli import add_crossings_parser

    add_crossings_parser(ss)

    from .decisive_cli import add_decisive_parser

    add_decisive_parser(ss)

    from .seeds.cli import add_seeds_parser

    add_seeds_parser(ss)
