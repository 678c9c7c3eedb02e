"""``boolgrad study seeds``: the seed experiments through the study's resumable executor.

Writes ``OUT/seeds/runs/*.json`` (one per config hash; a rerun reuses finished runs), then
``OUT/seeds/*.csv``, ``OUT/seeds.md`` and plots from those files.  Bad options raise
``ValueError`` before any work (:mod:`boolgrad.cli` prints one line and exits 2).
"""

from __future__ import annotations

import time
from pathlib import Path

from .grids import SEEDS

__all__ = ["add_seeds_parser"]


def _cmd(a) -> int:
    from ..checks import check_counts, check_out
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
    p.set_defaults(run=_cmd)
