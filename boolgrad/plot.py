"""Plot a gradient table: ``g`` against ``u`` on a log scale, the threshold marked.

matplotlib is an optional extra (``pip install 'boolgrad[plot]'``), imported here only.
Two panels: the whole finite range (symmetric-log ``u`` axis; every run boundary plus an even
grid of ranks) and a zoom on the patterns nearest the threshold (every pattern, as steps).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_table", "sample_ranks"]


def sample_ranks(table, n_grid: int = 4096, n_zoom: int = 64):
    """Ranks to draw: ``(wide, zoom)``, exact patterns of the table's format.

    ``wide``: every rank if there are at most ``n_grid``, else an even grid plus every run's
    first and last rank.  ``zoom``: the ``n_zoom`` ranks either side of the threshold rank.
    """
    fmt = table.fmt
    n = fmt.n_ranks
    if n <= n_grid:
        wide = np.arange(n, dtype=np.uint64)
    else:
        grid = np.linspace(0, n - 1, n_grid).astype(np.uint64)
        ends = np.concatenate([table.first_rank, table.first_rank + table.counts - np.uint64(1)])
        wide = np.unique(np.concatenate([grid, ends]))
    r = table.spec.threshold.rank
    zoom = np.arange(max(r - n_zoom, 0), min(r + n_zoom, n), dtype=np.uint64)
    return wide, zoom


def plot_table(table, path) -> Path:
    """Draw ``table`` to ``path`` (format from the suffix) and return the path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'boolgrad[plot]'") from None
    fmt, meta = table.fmt, table.meta
    path = Path(path)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, ranks, title in zip(axes, sample_ranks(table), ("whole range", "near theta")):
        b = fmt.pattern_at_rank(ranks)
        u = fmt.decode(b)
        g = table.gradient(b)
        finite = np.isfinite(u)
        u, g = u[finite], g[finite]
        pos, neg = g > 0, g < 0
        ax.step(u[pos], g[pos], where="post", lw=1, label="g > 0")
        if neg.any():
            ax.step(u[neg], -g[neg], where="post", lw=1, color="tab:red", label="-g (g < 0)")
        ax.set_yscale("log")
        if title == "whole range" and fmt.kind == "float":
            ax.set_xscale("symlog", linthresh=max(abs(meta.theta_used), 1e-30))
        ax.axvline(meta.theta_used, color="k", ls="--", lw=0.8, label=f"theta = {meta.theta_used:.6g}")
        ax.set_xlabel("u")
        ax.set_ylabel("|g|")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{meta.format}: Boolean-derivative gradient of [u {'>=' if meta.comparator == 'ge' else '>'} theta]"
        f" ({meta.convention}, wrt {meta.wrt}); {table.n_runs} runs"
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
