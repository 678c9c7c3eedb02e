"""``boolgrad study seeds``: the seed experiments through the study's resumable executor.

Writes ``OUT/seeds/runs/*.json`` (one per config hash; a rerun reuses finished runs), then
``OUT/seeds/*.csv``, ``OUT/seeds.md`` and plots from those files.  Bad options raise
``ValueError`` before any work (:mod:`boolgrad.cli` prints one line and exits 2).

``--protocol``: seeds 000, 002 and 003 under the study's protocol (:mod:`.protocol`): ``OUT/seed000``,
``OUT/seed002`` and ``OUT/seed003`` (``protocol.json``, ``runs/``), then ``OUT/seeds_protocol.md``,
``OUT/seeds_protocol/*.csv`` and plots (:mod:`.protocol_report`).
"""

from __future__ import annotations

import time
from pathlib import Path

from .grids import SEEDS

__all__ = ["add_seeds_parser"]


PROTOCOL_SEEDS = ("000", "002", "003")
IMAGE_DATASETS = ("digits_affine", "mnist", "fashion")


def _protocol_cmd(a) -> int:
    from dataclasses import replace

    from ..checks import check_counts, check_out
    from ..decisive import check_protocol
    from ..executor import close_client, connect_cluster
    from .protocol import image_dataset, protocols, run_protocol
    from .protocol_report import write_protocol_report

    only = a.only or list(PROTOCOL_SEEDS)
    for s in only:
        if s not in PROTOCOL_SEEDS:
            raise ValueError(f"--protocol runs seeds {', '.join(PROTOCOL_SEEDS)}, not {s!r}")
    check_counts(a, ("jobs", "seeds", "search_seeds"))
    if a.dataset is not None and a.dataset not in IMAGE_DATASETS:
        raise ValueError(f"unknown --dataset {a.dataset!r}; choose from {', '.join(IMAGE_DATASETS)}")
    if a.data_dir and not Path(a.data_dir).is_dir():
        raise ValueError(f"--data-dir {a.data_dir} is not a directory")
    dataset = image_dataset(a.dataset, a.data_dir or "")
    if dataset != "digits_affine" and not a.data_dir:
        raise ValueError(f"--dataset {dataset} needs --data-dir DIR (IDX files)")
    over = {k: v for k, v in (("seeds", a.seeds), ("search_seeds", a.search_seeds)) if v is not None}
    prots = {k: replace(v, **over) for k, v in protocols(a.quick).items()}  # raises on search > final seeds
    check_out(a.out, *(f"seed{s}/runs" for s in only))
    for s in only:
        check_protocol(Path(a.out) / f"seed{s}", prots[s])
    if a.report_only:
        rep = write_protocol_report(a.out)
        print(f"{rep['runs']} runs; {Path(a.out) / 'seeds_protocol.md'}; {len(rep['plots'])} plots")
        return 0
    if "002" in only and dataset != "digits_affine":  # the IDX files: read and checked now, not in a run
        from ..data import load_dataset

        load_dataset(dataset, data_dir=a.data_dir)
    client = connect_cluster(a.cluster) if a.cluster else None
    t0 = time.perf_counter()
    try:
        counts = run_protocol(a.out, only, quick=a.quick, dataset=dataset, data_dir=a.data_dir or "", jobs=a.jobs,
                              client=client, progress=not a.no_progress, protocol_overrides=over)
    finally:
        close_client(client)
    rep = write_protocol_report(a.out)
    done = "; ".join(f"seed {s}: {c['ran']} runs done, {c['final']} final runs" for s, c in counts.items())
    print(f"{done}; {rep['runs']} results in {Path(a.out) / 'seeds_protocol.md'}; {len(rep['plots'])} plots; "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


def _cmd(a) -> int:
    from ..checks import check_counts, check_out

    if a.protocol:
        return _protocol_cmd(a)
    for opt in ("seeds", "search_seeds", "dataset"):
        if getattr(a, opt) is not None:
            raise ValueError(f"--{opt.replace('_', '-')} needs --protocol")
    if a.report_only:
        raise ValueError("--report-only needs --protocol")
    from ..executor import close_client, connect_cluster, sweep
    from .grids import grid
    from .report import write_reports

    only = a.only or list(SEEDS)
    for s in only:
        if s not in SEEDS:
            raise ValueError(f"unknown seed {s!r}; choose from {', '.join(SEEDS)}")
    if a.data_dir and not Path(a.data_dir).is_dir():
        raise ValueError(f"--data-dir {a.data_dir} is not a directory")
    check_counts(a, ("jobs",))
    check_out(a.out, "seeds", "seeds/runs")
    if a.data_dir:  # the IDX files: read and checked now (sizes, classes, shapes), not in a run
        from ..data import load_dataset

        load_dataset("mnist", data_dir=a.data_dir)
    client = connect_cluster(a.cluster) if a.cluster else None
    t0 = time.perf_counter()
    configs = grid(only, a.quick, a.data_dir or "")
    try:
        counts = sweep(configs, Path(a.out) / "seeds", jobs=a.jobs, client=client, progress=not a.no_progress)
    finally:
        close_client(client)
    rep = write_reports(a.out)
    print(
        f"{counts['ran']} runs done, {counts['skipped']} reused; {rep['rows']} results in "
        f"{Path(a.out) / 'seeds.md'}; {len(rep['plots'])} plots; {time.perf_counter() - t0:.1f} s"
    )
    return 0


def add_seeds_parser(ss) -> None:
    """Register ``seeds`` on the ``study`` subparsers."""
    p = ss.add_parser("seeds", help="the seed experiments 000-003 (seeds.md, seeds/*.csv, plots)")
    p.add_argument("--quick", action="store_true", help="tiny grid, 1 seed (< 2 min)")
    p.add_argument("--only", nargs="+", default=None, help="seed ids: " + " ".join(SEEDS))
    p.add_argument("--out", default="seeds-study", help="output folder (default seeds-study)")
    p.add_argument("--data-dir", default=None, help="folder with MNIST IDX files (adds mnist to seed 002)")
    p.add_argument("--jobs", type=int, default=1, help="local worker processes")
    p.add_argument("--cluster", default=None, help="tcp://HOST:8786 (Dask scheduler) or local:N")
    p.add_argument("--no-progress", action="store_true")
    g = p.add_argument_group("the study's protocol (seeds 000, 002 and 003; docs/seeds_experiments.md)")
    g.add_argument("--protocol", action="store_true",
                   help="learning rate searched on validation, early stopping, 10 seeds, intervals (seeds_protocol.md)")
    g.add_argument("--dataset", default=None,
                   help="seed 002's images: digits_affine (the offline stand-in; default without --data-dir), "
                        "mnist (default with --data-dir) or fashion")
    g.add_argument("--seeds", type=int, default=None, help="final seeds per cell (default 10; quick 2)")
    g.add_argument("--search-seeds", type=int, default=None, help="seeds per rate in the search (default 2)")
    g.add_argument("--report-only", action="store_true", help="rewrite seeds_protocol.md from the runs in --out")
    p.set_defaults(run=_cmd)
