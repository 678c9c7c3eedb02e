"""``boolgrad study overshoot | simulate``: the overshoot study from the command line.

``overshoot`` runs the training grid (:func:`grid`) into ``OUT/runs/*.json`` (skipping runs
whose file exists and is valid, so an interrupted sweep resumes), the random-weight crossing
simulation into ``OUT/sim/*.json``, then writes ``OUT/overshoot.csv``, ``OUT/summary.md`` and
plots from those files.  ``simulate`` runs the simulation alone.  Bad options exit 2 with one
line on stderr before any work (raised as ``ValueError`` here; :mod:`boolgrad.cli` prints it).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from .kinds import KINDS, get_kind
from .simulate import DT_OVER_TAU, SCHEMES

__all__ = ["add_parser", "grid", "simulation_grid"]

DEFAULT_DATASETS = ("mnist1d", "yinyang", "digits")
QUICK = {"datasets": ("yinyang", "digits"), "kinds": ("boolean_yj2025", "boolean_matched", "arctan"),
             "dt": (1.0, 0.25), "seeds": 1, "epochs": 2, "subset": (1000, 300)}
#: dt/tau of the default (full) training grid: the five coarsest of DT_OVER_TAU (1/16 costs as much
#: as the other five together; the simulation covers it)
FULL_DT = DT_OVER_TAU[:5]
#: the cross-entropy readout variant is trained at these dt/tau (the full grid)
FULL_CE_DT = (1.0,)
#: kinds of the default (full) grid; boolean_bf16 and fast_sigmoid are in KINDS (--kinds) but left
#: out of the committed full run to fit its budget on 2 cores
FULL_KINDS = ("boolean_yj2025", "boolean_secant_clamp", "boolean_fixed16", "boolean_matched", "rectangle",
              "arctan", "straight_through")
#: per-dataset network and epochs of the full grid (sized for ~1 h on 2 cores, docs/study.md)
FULL = {"mnist1d": {"hidden": (128,), "epochs": 5}, "yinyang": {"hidden": (64,), "epochs": 4},
        "digits": {"hidden": (128,), "epochs": 12}}


def grid(datasets, kinds, dts, seeds, *, epochs=None, quick=False, data_dir="", authors_row=True, ce_dts=()):
    """The configs of a sweep: datasets x kinds x dt x seeds (exact scheme, the authors' MSE
    spike-count readout), the cross-entropy readout at ``ce_dts``, plus the authors' row."""
    from .runner import RunConfig

    out = []
    for ds in datasets:
        base = dict(FULL.get(ds, {"hidden": (128,), "epochs": 10}))
        if quick:
            base.update(epochs=QUICK["epochs"], subset=QUICK["subset"])
        if epochs is not None:
            base["epochs"] = epochs
        for kind in kinds:
            for readout, these in (("mse_count", dts), ("ce_linear", ce_dts)):
                for dt in these:
                    for seed in range(seeds):
                        out.append(RunConfig(dataset=ds, kind=kind, dt_over_tau=float(dt), seed=seed,
                                             readout=readout, data_dir=data_dir, **base))
        if authors_row:  # Yoo & Jeong: their form, dt = tau, T = 60, batch 24, Adam 1e-4
            for kind in [k for k in ("boolean_yj2025", "rectangle") if k in kinds]:
                for seed in range(seeds):
                    out.append(RunConfig(dataset=ds, kind=kind, dt_over_tau=1.0, seed=seed, scheme="authors",
                                         horizon=60.0, batch_size=24, lr=1e-4, data_dir=data_dir, **base))
    return out


def simulation_grid(datasets, dts, schemes=SCHEMES):
    return [(ds, float(dt), sch) for ds in datasets for dt in dts for sch in schemes]


def simulation_record(out, dataset, dt, scheme, *, hidden=64, n=512, seed=0, data_dir="", kinds=tuple(KINDS)):
    """Random-weight simulation of one (dataset, dt, scheme), cached in ``OUT/sim/<hash>.json``."""
    from .data import load_dataset
    from .runner import write_json_atomic
    from .simulate import simulate, xavier_uniform

    ident = {"dataset": dataset, "dt_over_tau": dt, "scheme": scheme, "hidden": hidden, "n": n, "seed": seed,
             "kinds": [get_kind(k).describe() for k in kinds], "schema": 2}
    h = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(out) / "sim" / f"{h}.json"
    if path.exists():
        try:
            return json.loads(path.read_text())
        except ValueError:
            pass
    d = load_dataset(dataset, data_dir=data_dir or None)
    w = xavier_uniform(d.n_features, hidden, seed)
    res = simulate(d.x_train[:n], w, dt, scheme=scheme, kinds=kinds, seed=seed)
    res.update(dataset=dataset, identity=ident)
    write_json_atomic(path, res)
    return res


def _floats(text):
    try:
        vals = [float(t) for t in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"--dt takes numbers (dt/tau), got {text!r}") from None
    return vals


def _check(a):
    from .data import DATASETS

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
    if a.seeds < 1 or (a.epochs is not None and a.epochs < 1) or a.jobs < 1:
        raise ValueError("--seeds, --epochs and --jobs must be >= 1")


def _cmd_overshoot(a) -> int:
    from .report import write_reports
    from .runner import close_client, connect_cluster, sweep

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
    _check(a)
    client = connect_cluster(a.cluster) if a.cluster else None  # unreachable: exit 2, nothing done
    t0 = time.perf_counter()
    configs = grid(a.datasets, a.kinds, a.dt, a.seeds, epochs=a.epochs, quick=a.quick,
                   data_dir=a.data_dir or "", authors_row=not a.no_authors_row, ce_dts=ce_dts)
    try:
        counts = sweep(configs, a.out, jobs=a.jobs, client=client, progress=not a.no_progress)
    finally:
        close_client(client)
    schemes = ("exact",) if a.quick else SCHEMES
    for ds, dt, sch in simulation_grid(a.datasets, a.dt, schemes):
        simulation_record(a.out, ds, dt, sch, data_dir=a.data_dir or "", kinds=tuple(a.kinds))
    rep = write_reports(a.out)
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
    for ds, dt, sch in simulation_grid(a.datasets, a.dt, a.scheme):
        r = simulation_record(a.out, ds, dt, sch, data_dir=a.data_dir or "", kinds=tuple(a.kinds))
        med = r["du_quantiles"][2]
        print(f"{ds:8s} {sch:7s} dt/tau={dt:<7g} crossings={r['n_crossings']:7d} median dU="
              f"{'-' if med is None else f'{med:.4g}'} from reset={r['frac_from_reset']:.2f}")
        for k, v in r["kinds"].items():
            tb = v.get("theory_below") or {}
            if tb.get("mean_sim") is not None:
                print(f"    {k:22s} below: sim {tb['mean_sim']:.4g} theory {tb['mean_theory']:.4g} "
                      f"ratio {tb['ratio']:.3f}{'' if tb['agree'] else '  (differs > 10%)'}")
    from .report import write_reports

    write_reports(a.out)
    return 0


def add_parser(sub) -> None:
    """Register ``study`` on :mod:`boolgrad.cli`'s subparsers."""
    st = sub.add_parser("study", help="the overshoot study: crossing theory, simulation, training grid, reports")
    ss = st.add_subparsers(dest="study_command", required=True, parser_class=type(st))

    def common(p):
        p.add_argument("--out", default="overshoot-study", help="output folder (default overshoot-study)")
        p.add_argument("--datasets", nargs="+", default=None, help="mnist1d yinyang digits mnist fashion")
        p.add_argument("--kinds", nargs="+", default=None, help=" ".join(KINDS))
        p.add_argument("--dt", nargs="+", type=float, default=None, help="dt/tau values")
        p.add_argument("--data-dir", default=None, help="folder with the IDX files (mnist, fashion)")

    o = ss.add_parser("overshoot", help="train the grid and write overshoot.csv, summary.md, plots")
    common(o)
    o.add_argument("--quick", action="store_true", help="tiny grid (2 datasets x 3 kinds x 2 dt, 2 epochs)")
    o.add_argument("--seeds", type=int, default=None, help="seeds per cell (default 3, quick 1)")
    o.add_argument("--epochs", type=int, default=None, help="override the per-dataset epochs")
    o.add_argument("--jobs", type=int, default=1, help="local worker processes")
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

    from .seeds.cli import add_seeds_parser

    add_seeds_parser(ss)
