"""Plot a gradient table: ``|g|`` against ``u`` on a log scale, the threshold marked.

matplotlib is an optional extra (``pip install 'boolgrad[plot]'``), imported here only, and
only its object API (no pyplot, no change of the process's backend).  Two panels: the whole
finite range (symmetric-log ``u`` axis with a few readable decades; every run boundary plus
an even grid of ranks) and a zoom on the patterns nearest the threshold, drawn against the
offset ``u - theta`` (exact: Sterbenz).  Where ``g = 0`` (off a log scale) a rug of ticks at
the bottom says so; negative values are drawn as ``-g`` in red.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["PLOT_SUFFIXES", "check_plot_path", "plot_table", "sample_ranks"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def check_plot_path(path) -> Path:
    """The path if it names a writable .png/.pdf/.svg file (checked before any work)."""
    from .atomic import check_writable

    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise ValueError(f"{path}: a plot file must end in {', '.join(PLOT_SUFFIXES)}")
    return check_writable(path)


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
    r = min(table.spec.threshold.rank, n - 1)
    zoom = np.arange(max(r - n_zoom, 0), min(r + n_zoom, n), dtype=np.uint64)
    return wide, zoom


def _decade_ticks(u: np.ndarray, linthresh: float, max_per_side: int = 3):
    """A few ``+-10**k`` ticks (and 0) spanning ``u``, at least ``step`` decades apart and from
    the linear region around 0, so symlog labels never overlap."""
    big = np.abs(u[np.isfinite(u) & (np.abs(u) >= linthresh)])
    lo = math.ceil(math.log10(linthresh))
    hi = math.floor(math.log10(big.max())) if big.size else lo
    step = max(1, math.ceil((hi - lo + 1) / max_per_side))
    ks = [k for k in range(hi, lo - 1, -step) if k - lo >= step / 2 or k == hi]
    ticks, labels = [0.0], ["0"]
    for k in sorted(ks):
        for sgn in (-1, 1):
            if (u * sgn > 0).any():
                ticks.append(sgn * 10.0**k)
                labels.append(f"${'-' if sgn < 0 else ''}10^{{{k}}}$")
    order = np.argsort(ticks)
    return [ticks[i] for i in order], [labels[i] for i in order]


def _draw(ax, x, g, *, zero_label: bool):
    """``g`` as steps (``-g`` in red where negative), and a rug where ``g == 0``."""
    drawn = False
    for mask, y, color, label in ((g > 0, g, "tab:blue", "g > 0"), (g < 0, -g, "tab:red", "-g (g < 0)")):
        if mask.any():
            ax.step(x[mask], y[mask], where="post", lw=1, color=color, label=label)
            drawn = True
    zero = g == 0
    if zero.any():
        ax.plot(x[zero], np.full(int(zero.sum()), 0.02), "|", color="0.55", ms=6,
                transform=ax.get_xaxis_transform(), label="g = 0 (off the log scale)" if zero_label else None)
    if drawn:
        ax.set_yscale("log")
    return drawn


def plot_table(table, path) -> Path:
    """Draw ``table`` to exactly ``path`` (.png, .pdf or .svg; written atomically)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'boolgrad[plot]'") from None
    from .atomic import atomic_write

    path = check_plot_path(path)
    fmt, meta = table.fmt, table.meta
    theta = meta.theta_used
    fig = Figure(figsize=(11, 4), constrained_layout=True)
    axes = fig.subplots(1, 2)
    for ax, ranks, title in zip(axes, sample_ranks(table), ("whole range", "near theta")):
        b = fmt.pattern_at_rank(ranks)
        u = fmt.decode(b)
        g = table.gradient(b)
        finite = np.isfinite(u)
        u, g = u[finite], g[finite]
        if title == "near theta":
            x = u - theta  # exact for neighbours of theta (Sterbenz), readable without an offset
            ax.set_xlabel(f"u - theta   (theta = {theta:.9g})")
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3), useOffset=False)
            ax.axvline(0.0, color="k", ls="--", lw=0.8, label="theta")
        else:
            x = u
            ax.set_xlabel("u")
            if not fmt.constant_weights:  # floats span many decades: signed log axis
                linthresh = max(abs(theta), float(np.min(np.abs(u[u != 0]), initial=1.0)), 1e-300)
                ax.set_xscale("symlog", linthresh=linthresh)
                ticks, labels = _decade_ticks(u, linthresh)
                ax.set_xticks(ticks, labels)
                ax.minorticks_off()
            ax.axvline(theta, color="k", ls="--", lw=0.8, label=f"theta = {theta:.6g}")
        if not _draw(ax, x, g, zero_label=True):
            ax.text(0.5, 0.5, "g = 0 everywhere shown", ha="center", transform=ax.transAxes)
        ax.set_ylabel("|g|")
        ax.set_title(title)
        ax.legend(fontsize=8)
    var = "theta" if meta.wrt == "theta" else "u"
    fig.suptitle(
        f"{meta.format}: Boolean-derivative gradient of [u {'>=' if meta.comparator == 'ge' else '>'} theta]"
        f" ({meta.convention}, d/d{var}); {table.n_runs} runs"
    )
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=path.suffix.lower()[1:], dpi=120)
    return path
