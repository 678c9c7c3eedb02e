"""One style for every figure of the paper (``figures/``): fonts, sizes, a colour per kind.

matplotlib's object API only (:func:`new_figure` returns a ``matplotlib.figure.Figure``; no
pyplot, no global state: the style is applied with ``matplotlib.rc_context`` around drawing and
saving).  :func:`save` writes PNG and PDF atomically (:mod:`boolgrad.atomic`) and
deterministically: no creation date, no software stamp, a fixed SVG hash salt, the bundled
DejaVu fonts -- the same inputs give the same bytes.  The figures read their results through
:mod:`boolgrad.paper.results`.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

__all__ = ["KIND_COLORS", "KIND_LABELS", "RC", "FigureSkipped", "color", "label", "new_figure", "rc", "save"]

#: a fixed colour per gradient kind (study kinds) and per table family
KIND_COLORS = {
    "boolean_yj2025": "#d62728",
    "boolean_secant_clamp": "#ff7f0e",
    "boolean_bf16": "#8c564b",
    "boolean_fixed16": "#e377c2",
    "boolean_matched": "#2ca02c",
    "rectangle": "#1f77b4",
    "arctan": "#9467bd",
    "fast_sigmoid": "#17becf",
    "straight_through": "#7f7f7f",
    # tables
    "secant": "#1f77b4",
    "paper": "#d62728",
    "theory": "#000000",
}
KIND_LABELS = {
    "boolean_yj2025": "Boolean (Yoo & Jeong)",
    "boolean_secant_clamp": "Boolean secant f32",
    "boolean_bf16": "Boolean bf16",
    "boolean_fixed16": "Boolean fixed16.12",
    "boolean_matched": "Boolean matched",
    "rectangle": "rectangle",
    "arctan": "arctan",
    "fast_sigmoid": "fast sigmoid",
    "straight_through": "straight-through",
}
_EXTRA = ["#bcbd22", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5"]

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "svg.hashsalt": "boolgrad",
    "savefig.dpi": 150,
    "path.simplify": False,
}
#: full text width of the paper (inches) and a standard height
WIDTH = 6.8
HEIGHT = 2.6
METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}


class FigureSkipped(Exception):
    """A figure whose results are absent (e.g. the seeds' CSVs): the script says so and exits 0."""


def color(kind: str, i: int = 0) -> str:
    return KIND_COLORS.get(kind, _EXTRA[i % len(_EXTRA)])


def label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def rc():
    import matplotlib

    return matplotlib.rc_context(RC)


def new_figure(width: float = WIDTH, height: float = HEIGHT):
    """A ``Figure`` with constrained layout (object API; draw inside ``with rc():``)."""
    from matplotlib.figure import Figure

    with rc():
        return Figure(figsize=(width, height), constrained_layout=True)


def save(fig, out_dir, name: str) -> list[Path]:
    """``out_dir/name.png`` and ``out_dir/name.pdf``, atomically and deterministically."""
    from ..atomic import atomic_write

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with rc():
        for ext in ("png", "pdf"):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, metadata=METADATA[ext])
            p = out_dir / f"{name}.{ext}"
            data = buf.getvalue()
            if not (p.exists() and p.read_bytes() == data):
                with atomic_write(p, "wb") as fh:
                    fh.write(data)
            paths.append(p)
    return paths


def main(make, doc: str, argv=None) -> int:
    """Command line of a figure script: ``--results DIR --out DIR``; exit 0 on a skip."""
    import argparse
    import sys

    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--results", default="reproduced", help="results root (study/, seeds/)")
    p.add_argument("--out", default="figures-out", help="output folder for PNG and PDF")
    a = p.parse_args(argv)
    try:
        paths = make(a.results, a.out)
    except FigureSkipped as exc:
        print(f"skipped: {exc}")
        return 0
    for q in paths:
        print(q)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    return 0


def curve(table, *, zoom: bool = False, n_grid: int = 4096, n_zoom: int = 64):
    """``(u, g)`` at exact patterns of ``table`` (:func:`boolgrad.plot.sample_ranks`): the whole
    finite range (an even grid of ranks plus every run's ends) or the ``n_zoom`` patterns either
    side of the threshold; draw as steps (``where="post"``)."""
    import numpy as np

    from ..plot import sample_ranks

    wide, near = sample_ranks(table, n_grid, n_zoom)
    ranks = near if zoom else wide
    fmt = table.fmt
    b = fmt.pattern_at_rank(ranks)
    u = fmt.decode(b)
    g = table.gradient(b)
    ok = np.isfinite(u)
    return u[ok], g[ok]


def symlog_u(ax, u, theta: float) -> None:
    """A signed-log ``u`` axis with a few readable decades (floats span hundreds of binades)."""
    import numpy as np

    from ..plot import _decade_ticks

    linthresh = max(abs(theta), float(np.min(np.abs(u[u != 0]), initial=1.0)), 1e-300)
    ax.set_xscale("symlog", linthresh=linthresh)
    ticks, labels = _decade_ticks(u, linthresh)
    ax.set_xticks(ticks, labels)
    ax.minorticks_off()


def finish_axes(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
