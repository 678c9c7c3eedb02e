"""Every figure script draws a non-blank, labelled figure from quick results (module doc of
``test_reproduce``), runs alone from the command line, and the seeds' figure skips cleanly
without its CSVs (and draws from them when present)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("torch")

from _reproduce import build_tiny  # tests/helpers

from boolgrad.paper import style as st
from boolgrad.paper.reproduce import ROOT, figure_scripts, load_figure

SCRIPTS = figure_scripts()


#: the tiny reproduction is built once per test process: its users share one
pytestmark = pytest.mark.xdist_group("reproduce_tiny")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.getbasetemp())


def _pixel_variance(png: Path) -> float:
    from matplotlib.image import imread

    return float(imread(str(png))[..., :3].var())


def _check_labels(fig):
    """Every axes with data has a y label (its own or its row's) and an x label (its own, its
    column's or a shared-x sibling's)."""
    fig.canvas.draw()  # final positions under constrained layout
    axes = [ax for ax in fig.axes if ax.has_data() and ax.get_label() != "<colorbar>"]
    assert axes
    pos = {ax: ax.get_position() for ax in fig.axes}
    for ax in axes:
        row = [a for a in fig.axes if abs(pos[a].y0 - pos[ax].y0) < 0.03]
        col = [a for a in fig.axes if abs(pos[a].x0 - pos[ax].x0) < 0.03]
        assert any(a.get_ylabel().strip() for a in row), ax
        sib = [*ax.get_shared_x_axes().get_siblings(ax), *col]
        assert any(a.get_xlabel().strip() for a in sib), ax


def test_eleven_figure_scripts():
    assert [p.name[:5] for p in SCRIPTS] == [f"fig{i:02d}" for i in range(1, 12)]


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_figure_is_non_blank_and_labelled(script, tiny, tmp_path, monkeypatch):
    drawn = []
    save = st.save
    monkeypatch.setattr(st, "save", lambda fig, out, name: drawn.append(fig) or save(fig, out, name))
    mod = load_figure(script)
    try:
        paths = mod.make(tiny, tmp_path)
    except st.FigureSkipped as exc:
        pytest.skip(str(exc))
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    png = next(p for p in paths if p.suffix == ".png")
    assert _pixel_variance(png) > 0.005
    assert next(p for p in paths if p.suffix == ".pdf").read_bytes()[:5] == b"%PDF-"
    _check_labels(drawn[0])


def test_a_script_runs_alone(tiny, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "figures" / "fig08_accuracy.py"), "--results", str(tiny),
                        "--out", str(tmp_path)], capture_output=True, text=True, env=_env(), check=False)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fig08_accuracy.png").is_file() and (tmp_path / "fig08_accuracy.pdf").is_file()


def _env():
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_seeds_figure_without_results_exits_cleanly(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "figures" / "fig09_seeds.py"), "--results", str(tmp_path),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, env=_env(), check=False)
    assert r.returncode == 0 and r.stdout.startswith("skipped:")
    assert not (tmp_path / "o").exists()


def test_seeds_figure_reads_the_csvs_by_column(tmp_path, monkeypatch):
    """The columns ``boolgrad study seeds`` writes (the committed full run's CSVs, cut short)."""
    d = tmp_path / "seeds"
    d.mkdir()
    for name in ("seed002.csv", "seed000.csv", "seed003.csv"):
        lines = (ROOT / "results" / "seeds" / name).read_text().splitlines()
        (d / name).write_text("\n".join(lines[:1] + lines[1::7]) + "\n")
    drawn = []
    save = st.save
    monkeypatch.setattr(st, "save", lambda fig, out, name: drawn.append(fig) or save(fig, out, name))
    paths = load_figure(ROOT / "figures" / "fig09_seeds.py").make(tmp_path, tmp_path / "o")
    assert _pixel_variance(next(p for p in paths if p.suffix == ".png")) > 0.005
    _check_labels(drawn[0])


def test_nudging_figure_needs_no_results(tmp_path, monkeypatch):
    """fig10 computes its tiny example itself: drawn from an empty results folder, and the
    nudged boundaries stay parallel while the additive one turns and separates the classes."""
    drawn = []
    save = st.save
    monkeypatch.setattr(st, "save", lambda fig, out, name: drawn.append(fig) or save(fig, out, name))
    mod = load_figure(ROOT / "figures" / "fig10_nudging.py")
    paths = mod.make(tmp_path / "none", tmp_path / "o")
    assert _pixel_variance(next(p for p in paths if p.suffix == ".png")) > 0.005
    _check_labels(drawn[0])
    x, y = mod.toy()
    w_nud, acc_nud = mod.run("nudge", x, y)
    w_add, acc_add = mod.run("additive", x, y)
    w0 = w_nud[0, :2]
    cross = w_nud[:, 0] * w0[1] - w_nud[:, 1] * w0[0]
    assert (abs(cross) <= 1e-12 * abs(w_nud[:, :2]).sum(1)).all() and (w_nud[:, 2] == 0).all()
    assert acc_nud.max() <= mod.best_parallel(x, y) < 0.7 and acc_add[-1] == 1.0
    w1 = w_add[-1, :2]
    assert abs(w1 @ w0) / (np.linalg.norm(w1) * np.linalg.norm(w0)) < 0.9  # turned
