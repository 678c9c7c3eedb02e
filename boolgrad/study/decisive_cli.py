"""``boolgrad study decisive``: the decisive study under its protocol, resumable, and its report.

Bad options exit 2 with one line before any run (raised as ``ValueError``; :mod:`boolgrad.cli`
prints it).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from .checks import check_counts, check_out

__all__ = ["add_decisive_parser"]


def _cmd(a) -> int:
    from .decisive import DECISIVE_DATASETS, DECISIVE_DT, DECISIVE_KINDS, QUICK_DECISIVE, cells, run
    from .decisive_report import write_report
    from .executor import close_client, connect_cluster
    from .kinds import KINDS
    from .protocol import Protocol

    check_counts(a, ("seeds", "search_seeds", "jobs", "stack"))
    q = QUICK_DECISIVE if a.quick else {}
    datasets = a.datasets or list(q.get("datasets", DECISIVE_DATASETS))
    kinds = a.kinds or list(q.get("kinds", DECISIVE_KINDS))
    dts = a.dt or list(q.get("dt", DECISIVE_DT))
    from .data import DATASETS

    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"unknown kind {k!r}; choose from {', '.join(KINDS)}")
    for ds in datasets:
        if ds not in DATASETS:
            raise ValueError(f"unknown dataset {ds!r}; choose from {', '.join(DATASETS)}")
        if DATASETS[ds] and not a.data_dir:
            raise ValueError(f"dataset {ds!r} needs --data-dir DIR (IDX files)")
    for dt in dts:
        if not (0 < dt < float("inf")):
            raise ValueError(f"--dt values must be positive (dt/tau), got {dt!r}")
    for lr in a.lrs or ():
        if not (0 < lr < float("inf")):
            raise ValueError(f"--lrs values must be positive learning rates, got {lr!r}")
    protocol = q.get("protocol", Protocol())
    protocol = replace(protocol, **{k: v for k, v in (("lrs", tuple(a.lrs) if a.lrs else None),
                                                      ("seeds", a.seeds), ("search_seeds", a.search_seeds))
                                    if v is not None})
    check_out(a.out, "runs")
    from .decisive import check_protocol

    check_protocol(a.out, protocol)
    if a.report_only:
        if not (Path(a.out) / "protocol.json").is_file():
            raise ValueError(f"--report-only: {a.out} has no protocol.json (run the study first)")
        rep = write_report(a.out)
        print(f"{rep['cells']} cells; {Path(a.out) / 'decisive.md'}")
        return 0
    searched, fixed = cells(datasets, kinds, dts, subset=q.get("subset", ()), epochs=q.get("epochs"),
                            patience=q.get("patience", 10), data_dir=a.data_dir or "",
                            authors_row=not a.no_authors_row, mlp=not a.no_mlp)
    jobs = a.jobs if a.jobs is not None else (min(2, os.cpu_count() or 1) if a.quick else 1)
    client = connect_cluster(a.cluster) if a.cluster else None
    t0 = time.perf_counter()
    try:
        counts = run(a.out, searched, fixed, protocol=protocol, jobs=jobs, stack=a.stack, client=client,
                     progress=not a.no_progress)
    finally:
        close_client(client)
    rep = write_report(a.out)
    print(f"{counts['ran']} runs done; {counts['searched']} searched cells, {counts['final']} final runs; "
          f"{rep['cells']} cells in {Path(a.out) / 'decisive.md'}; {time.perf_counter() - t0:.1f} s")
    return 0


def add_decisive_parser(ss) -> None:
    """Register ``decisive`` on the ``study`` subparsers."""
    p = ss.add_parser("decisive", help="the decisive study: learning rate per cell on validation, early stopping, "
                                       "ten seeds, intervals and verdicts")
    p.add_argument("--out", default="decisive-study", help="output folder (default decisive-study)")
    p.add_argument("--quick", action="store_true", help="a tiny grid (digits subset, 2 kinds x 2 dt, short caps)")
    p.add_argument("--datasets", nargs="+", default=None)
    p.add_argument("--kinds", nargs="+", default=None)
    p.add_argument("--dt", nargs="+", type=float, default=None, help="dt/tau values")
    p.add_argument("--lrs", nargs="+", type=float, default=None, help="the initial learning-rate grid")
    p.add_argument("--seeds", type=int, default=None, help="final seeds per cell (default 10)")
    p.add_argument("--search-seeds", type=int, default=None, help="seeds per rate in the search (default 2)")
    p.add_argument("--jobs", type=int, default=None, help="local worker processes (default 1; --quick: 2)")
    p.add_argument("--stack", type=int, default=16, help="train up to N runs of one cell as one stacked model")
    p.add_argument("--cluster", default=None, help="tcp://HOST:8786 (Dask scheduler) or local:N")
    p.add_argument("--data-dir", default=None, help="folder with the IDX files (mnist, fashion)")
    p.add_argument("--no-authors-row", action="store_true", help="leave out the authors' setting")
    p.add_argument("--no-mlp", action="store_true", help="leave out the non-spiking reference")
    p.add_argument("--report-only", action="store_true", help="rewrite the report from the files in --out")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=_cmd)
