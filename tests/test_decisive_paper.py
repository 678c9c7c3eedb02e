"""The decisive study in the paper: ``generated/decisive.tex`` and ``decisive_numbers.tex`` and
``figures/fig11_decisive.py`` from a tiny hand-written decisive folder (``protocol.json`` and run
files with the fields :func:`boolgrad.study.decisive_report.cell_rows` reads), and the absent case
(the paper still builds: one sentence, the figure skips)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

pytest.importorskip("scipy")

from boolgrad.paper import decisive_tex as dt
from boolgrad.paper.reproduce import NUMBER_INPUTS, ROOT, _inputs, load_figure
from boolgrad.study import decisive_report as dr

SEEDS = 6  # the fewest seeds at which the exact sign-flip test can reach p < 0.05 (2 / 2**6)
FIG = ROOT / "figures" / "fig11_decisive.py"


def _key(cfg: dict) -> str:
    return json.dumps(cfg, sort_keys=True, separators=(",", ":"))


def write_decisive(root, *, coarse_gap=0.1):
    """``root/decisive``: yinyang, arctan and boolean_yj2025 at dt/tau 2 and 1/8 (and with the reset
    detached), the MLP and the authors' row, ``SEEDS`` seeds each; arctan leads by ``coarse_gap`` at
    the coarsest step only, so the interaction is about ``+coarse_gap``."""
    d = root / "decisive"
    (d / "runs").mkdir(parents=True)
    base = {"dataset": "yinyang", "scheme": "exact", "readout": "ce_linear", "detach_reset": False}
    cells = []
    for kind in ("arctan", "boolean_yj2025"):
        for dt_ in (2.0, 0.125):
            for det in (False, True):
                cells.append(({**base, "kind": kind, "dt_over_tau": dt_, "detach_reset": det}, False))
    cells.append(({"dataset": "yinyang", "model": "mlp"}, False))
    cells.append(({**base, "kind": "boolean_yj2025", "dt_over_tau": 1.0, "scheme": "authors",
                   "readout": "mse_count"}, True))
    record = {"protocol": {"lrs": [0.001, 0.01], "search_seeds": 2, "seeds": SEEDS, "widen": 0}, "cells": []}
    n = 0
    for cfg, fixed in cells:
        lr = 1e-4 if fixed else 0.01
        record["cells"].append({"cell": _key(cfg), "dataset": "yinyang", "label": "", "grid": [lr], "means": {},
                                "lr": lr, "at_edge": "", "fixed": fixed})
        for s in range(SEEDS):
            acc = 0.9 + 0.01 * ((s * 7) % 5) / 4
            if cfg.get("kind") == "boolean_yj2025" and cfg.get("dt_over_tau") == 2.0:
                acc -= coarse_gap + 0.002 * s
            if fixed:
                acc = 0.6 + 0.01 * s
            res = {"config": {**cfg, "lr": lr, "seed": s}, "seed": s, "test_acc": acc, "val_acc": acc - 0.01,
                   "best_epoch": 5 + s, "stopped_early": s % 2 == 0}
            (d / "runs" / f"{n:04d}.json").write_text(json.dumps(res))
            n += 1
    (d / "runs" / "broken.json").write_text("{")  # a file mid-write is skipped
    (d / "protocol.json").write_text(json.dumps(record))
    return d


@pytest.fixture
def results(tmp_path):
    write_decisive(tmp_path)
    return tmp_path


def _macros(tex: str) -> dict:
    return dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}$", tex, flags=re.MULTILINE))


def _text_lines(tex: str) -> list[str]:
    return [ln for ln in tex.splitlines() if not ln.startswith("%")]


def _check_escaped(tex: str) -> None:
    for ln in _text_lines(tex):
        ln = re.sub(r"\\includegraphics\[[^]]*\]\{[^}]*\}", "", ln)  # a file name is not text
        assert not re.search(r"(?<!\\)[_%#&]", ln.replace("\\\\", "").replace(" & ", "")), ln


def test_the_section_has_the_verdicts_the_cells_and_the_ablations(results):
    files = dt.decisive_files(results, figure_available=True)
    tex = files["decisive.tex"]
    rows = dr.cell_rows(results / "decisive")
    hyp = dr.hypothesis(rows)
    for which in ("primary", "secondary"):
        e = hyp[which]["datasets"]["yinyang"]
        assert e["verdict"] == "supported" and e["effect"].interval.n == SEEDS
        assert dt._sentence("yinyang", e) in tex  # inference.verdict_sentence, escaped
    assert tex.count("Holm-adjusted p = 0.031") == 2 and f"n = {SEEDS} seeds" in tex
    assert "Primary comparison, \\texttt{arctan} against \\texttt{boolean\\_yj2025}: supported." in tex
    # the primary pair's cells: mean and interval per dt, the MLP and the authors' row
    arctan = next(r for r in rows if r["kind"] == "arctan" and r["dt_over_tau"] == 2.0 and not r["detach_reset"])
    assert f"{arctan['mean']:.3f} [{arctan['low']:.3f}, {arctan['high']:.3f}]" in tex
    assert "MLP (no spikes)" in tex and "\\texttt{boolean\\_yj2025}, authors' row" in tex
    assert "$dt/\\tau=2$" in tex and "$dt/\\tau=1/8$" in tex and "\\label{tab:decisive}" in tex
    # the ablations: the reset detached, per dt, with its verdict's style
    assert "reset detached (arctan)" in tex and "reset detached (boolean\\_yj2025)" in tex
    assert "\\label{tab:ablations}" in tex and "\\includegraphics[width=\\linewidth]{fig11_decisive.pdf}" in tex
    _check_escaped(tex)
    macros = _macros(files["decisive_numbers.tex"])
    assert macros["decisivePrimary"] == macros["decisiveSecondary"] == "supported"
    assert macros["decisiveSeeds"] == str(SEEDS) and macros["decisiveMargin"] == "0.02"
    assert macros["decisiveLevel"] == "95\\%" and macros["decisiveAlpha"] == "0.05"
    assert "Yin-Yang" in macros["decisiveAbstract"] and "supported" in macros["decisiveAbstract"]


def test_without_the_figure_the_section_does_not_include_it(results):
    tex = dt.decisive_tex(results)
    assert "\\includegraphics" not in tex and "fig:decisive" not in tex


def test_without_the_decisive_study_one_sentence_and_every_macro(tmp_path):
    files = dt.decisive_files(tmp_path, figure_available=True)
    assert "had not been run" in files["decisive.tex"] and "\\begin{table}" not in files["decisive.tex"]
    assert "\\includegraphics" not in files["decisive.tex"]
    _check_escaped(files["decisive.tex"])
    macros = _macros(files["decisive_numbers.tex"])
    assert set(macros) == {"decisiveLevel", "decisiveAlpha", "decisiveMargin", "decisiveSeeds", "decisivePrimary",
                           "decisiveSecondary", "decisiveAbstract", "decisiveLimitation"}
    assert macros["decisivePrimary"] == "not run"
    paper = (ROOT / "paper" / "boolgrad.tex").read_text()
    for name in macros:
        assert f"\\{name}" in paper or name in ("decisivePrimary", "decisiveSecondary")
    assert "\\input{generated/decisive_numbers}" in paper and "\\input{generated/decisive}" in paper


def test_tex_escape_and_signs():
    assert dt.tex_escape("boolean_yj2025 95% p < 0.001") == "boolean\\_yj2025 95\\% p $<$ 0.001"
    assert dt.signs("+0.010 (CI -0.003 to +0.022, 2--10, Yin-Yang, 1e-3)") == (
        "$+$0.010 (CI $-$0.003 to $+$0.022, 2--10, Yin-Yang, 1e-3)")


def test_the_generated_step_hashes_the_decisive_run_files(results):
    got = _inputs(results, NUMBER_INPUTS)
    assert "decisive/protocol.json" in got and sum(k.startswith("decisive/runs/") for k in got) == 10 * SEEDS + 1
    assert set(_inputs(results, load_figure(FIG).INPUTS)) == {k for k in got if k.startswith("decisive/")}


def test_the_figure_draws_intervals_chance_and_the_mlp(results, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    from boolgrad.paper import style as st

    drawn = []
    save = st.save
    monkeypatch.setattr(st, "save", lambda fig, out, name: drawn.append(fig) or save(fig, out, name))
    paths = load_figure(FIG).make(results, tmp_path / "o")
    assert sorted(p.name for p in paths) == ["fig11_decisive.pdf", "fig11_decisive.png"]
    png = next(p for p in paths if p.suffix == ".png")
    assert float(imread(str(png))[..., :3].var()) > 0.005
    fig = drawn[0]
    acc, inter, abl = fig.axes[:3]
    assert acc.get_title() == "yinyang" and acc.get_xlabel() and acc.get_ylabel()
    assert any(abs(ln.get_ydata()[0] - 1 / 3) < 1e-12 for ln in acc.get_lines() if len(ln.get_ydata()) == 2)
    mlp = next(r for r in dr.cell_rows(results / "decisive") if r["model"] == "mlp")
    assert mlp["low"] < mlp["high"]
    assert any(abs(p.get_y() - mlp["low"]) < 1e-9 and abs(p.get_height() - (mlp["high"] - mlp["low"])) < 1e-9
               for p in acc.patches)  # the MLP band
    assert [t.get_text() for t in inter.get_yticklabels()] == ["yinyang: primary, arctan", "yinyang: secondary, arctan"]
    assert {t.get_text() for t in abl.get_yticklabels()} == {"reset detached (arctan)",
                                                              "reset detached (boolean_yj2025)"}


def test_the_figure_script_skips_without_the_decisive_study(tmp_path):
    pytest.importorskip("matplotlib")
    import os

    r = subprocess.run([sys.executable, str(FIG), "--results", str(tmp_path), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert r.returncode == 0 and r.stdout.startswith("skipped: no decisive study"), r.stdout + r.stderr
    assert not (tmp_path / "o").exists()
