"""``boolgrad reproduce``: a second run rewrites identical files, the manifest is right, every macro
of ``numbers.tex`` equals the value recomputed here from the results files, bad options and a
missing LaTeX exit 2 with one line before any work.

The results come from one tiny grid per session (:func:`build_tiny`: yinyang, 2 kinds, 2 dt,
1 epoch, through the same study functions as ``--quick``), shared with ``test_figures.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("torch")

from _reproduce import build_tiny  # noqa: E402 - tests/helpers

from boolgrad.cli import main  # noqa: E402


#: the tiny reproduction is built once per test process: its users share one
pytestmark = pytest.mark.xdist_group("reproduce_tiny")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.getbasetemp())


def _hashes(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_second_run_rewrites_identical_files_in_seconds(tiny, capsys):
    before = _hashes(tiny)
    t0 = time.perf_counter()
    assert main(["reproduce", "--quick", "--grid", "tiny", "--no-pdf", "--out", str(tiny)]) == 0
    assert time.perf_counter() - t0 < 30
    assert _hashes(tiny) == before
    out = capsys.readouterr().out
    assert " built " not in out and "reused" in out


def test_manifest_lists_every_artefact_with_its_hash_and_inputs(tiny):
    man = json.loads((tiny / "manifest.json").read_text())
    assert man["schema"] == 1 and man["mode"] == "quick" and man["results_root"] == "."
    for rel, h in man["results"].items():
        assert hashlib.sha256((tiny / rel).read_bytes()).hexdigest() == h
    gens = {a["generator"] for a in man["artefacts"]}
    assert {"boolgrad/paper/numbers.py", "figures/fig01_fixed_thresholds.py", "figures/fig08_accuracy.py"} <= gens
    n_out = 0
    for a in man["artefacts"]:
        for rel, h in a["outputs"].items():
            assert hashlib.sha256((tiny / rel).read_bytes()).hexdigest() == h
            n_out += 1
        assert set(a["inputs"]) <= set(man["results"])
    assert n_out >= 16 + 6  # 8 figures x (png, pdf) + numbers and 5 tables
    fig8 = next(a for a in man["artefacts"] if a["generator"].endswith("fig08_accuracy.py"))
    assert list(fig8["inputs"]) == ["study/overshoot.csv"]


# -- every macro recomputed from the files ---------------------------------------------------------


def _macros(path: Path) -> dict:
    text = path.read_text()
    return dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}\s*$", text, flags=re.MULTILINE))


def _value(tex: str):
    t = tex.strip()
    m = re.fullmatch(r"\\ensuremath\{(-?[\d.]+)\\times10\^\{(-?\d+)\}\}", t)
    if m:
        return float(m.group(1)) * 10.0 ** int(m.group(2))
    try:
        return float(t)
    except ValueError:
        return t


def _close(printed, exact) -> bool:
    if isinstance(printed, str) or exact is None:
        return printed == ("n/a" if exact is None else exact)
    if exact == 0:
        return printed == 0
    return abs(printed - exact) <= 6e-3 * abs(exact) + 1e-12 or (abs(exact) < 1 and abs(printed - exact) < 6e-4)


def _expected(results: Path) -> dict:
    """Every macro, recomputed here without boolgrad.paper.numbers."""
    from fractions import Fraction

    from boolgrad import closed_form_table
    from boolgrad.study.crossings import crossing_moments
    from boolgrad.study.kinds import get_kind

    def lsb(x):
        f = Fraction(x)
        return 2.0 ** (((f.numerator & -f.numerator).bit_length() - 1) - (f.denominator.bit_length() - 1))

    e = {}
    f32 = closed_form_table("float32", 0.3)
    e |= {"fThirtyTwoTheta": f32.meta.theta_used, "fThirtyTwoPeak": f32.peak()[0], "fThirtyTwoPeakAt": f32.peak()[1],
          "fThirtyTwoArea": f32.area(), "fThirtyTwoRuns": f32.n_runs, "fThirtyTwoInvLambda": 1 / lsb(f32.meta.theta_used),
          "fThirtyTwoOnePeak": closed_form_table("float32", 1.0).peak()[0], "fThirtyTwoOneBound": 16.5,
          "fSixtyFourPeak": closed_form_table("float64", 0.3).peak()[0],
          "fSixtyFourArea": closed_form_table("float64", 0.3).area(),
          "fSixteenPeak": closed_form_table("float16", 0.3).peak()[0],
          "areaFixedEight": closed_form_table("fixed8.6", 0.125).area(),
          "areaFixedThirtyTwo": closed_form_table("fixed32.6", 0.125).area(),
          "thetaAreaFixed": closed_form_table("fixed16.15", 0.295, wrt="theta").area(),
          "thetaAreaFThirtyTwo": closed_form_table("float32", 0.3, wrt="theta").area()}
    areas = []
    for th, n in zip((0.125, 0.15625, 0.2, 0.295), "ABCD"):
        t = closed_form_table("fixed16.15", th)
        e[f"fixedPeak{n}"], e[f"fixedArea{n}"] = t.peak()[0], t.area()
        areas.append(t.area())
    e["fixedAreaMin"] = min(areas)
    e["duCoarse"], e["duFine"] = 0.3, 0.003
    for k, name in (("boolean_yj2025", "YJ"), ("boolean_secant_clamp", "Secant"), ("boolean_matched", "Matched"),
                    ("rectangle", "Rect"), ("arctan", "Arctan"), ("fast_sigmoid", "FastSig")):
        for du, side in ((0.3, "Coarse"), (0.003, "Fine")):
            e[f"cross{name}{side}"] = float(crossing_moments(get_kind(k).resolve(du).crossing_grad(0.3), du).mean)
    with open(results / "study" / "overshoot.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    e["nRuns"] = len(rows)
    cell = {}
    for r in rows:
        if r["scheme"] == "exact" and r["readout"] == "mse_count":
            cell.setdefault((r["dataset"], r["kind"], float(r["dt_over_tau"])), []).append(float(r["test_acc"]))
    mean = lambda xs: sum(xs) / len(xs)
    e["nDatasets"] = len({k[0] for k in cell})
    e["nKinds"] = len({k[1] for k in cell})
    e["nSeeds"] = max(len(v) for v in cell.values())
    names = {"mnist1d": "MNIST-1D~\\cite{greydanus2020}", "yinyang": "Yin-Yang~\\cite{kriener2021}",
             "digits": "scikit-learn's digits"}
    e["datasetList"] = ", ".join(names[d] for d in sorted({k[0] for k in cell}))
    if e["nSeeds"] < 2:
        e["seedCaveat"] = "With one seed per cell the seed-to-seed spread is unknown, so this verdict is provisional."
    else:
        from boolgrad.paper.numbers import format_value as fv

        sd = mean([(sum((x - mean(v)) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else 0.0
                   for v in cell.values()])
        e["seedCaveat"] = (f"For scale, the seed-to-seed standard deviation of test accuracy is {fv(sd, 2)} "
                           "on average over the cells.")
    dts = sorted({k[2] for k in cell})
    e["dtCoarse"], e["dtFine"] = dts[-1], dts[0]
    sur = ("rectangle", "arctan", "fast_sigmoid", "straight_through")
    gap = {}
    gain, vs = [], []
    for (ds, k, dt), v in cell.items():
        if k != "boolean_yj2025":
            continue
        s = [mean(cell[(ds, x, dt)]) for x in sur if (ds, x, dt) in cell]
        if s:
            gap[(ds, dt)] = max(s) - mean(v)
        if (ds, "boolean_matched", dt) in cell:
            gain.append(mean(cell[(ds, "boolean_matched", dt)]) - mean(v))
            if s:
                vs.append(mean(cell[(ds, "boolean_matched", dt)]) - max(s))
    gc = mean([g for (ds, dt), g in gap.items() if dt == dts[-1]])
    gf = mean([g for (ds, dt), g in gap.items() if dt == dts[0]])
    e["gapCoarse"], e["gapFine"] = gc, gf
    per = {ds: (gap[(ds, dts[-1])], gap[(ds, dts[0])]) for ds in sorted({k[0] for k in gap})
           if (ds, dts[-1]) in gap and (ds, dts[0]) in gap}
    held = [ds for ds, (a, b) in per.items() if a > 0 and a > b]
    e["gapVerdict"] = ("supported" if len(held) == len(per) else "partly supported" if held else "not supported")
    from boolgrad.paper.numbers import format_value as fv2

    short = {"mnist1d": "MNIST-1D", "yinyang": "Yin-Yang", "digits": "digits"}
    e["gapByDataset"] = "; ".join(
        f"{'holds' if ds in held else 'fails'} on {short.get(ds, ds)} ({fv2(a, 2)} at the coarsest step, "
        f"{fv2(b, 2)} at the finest)" for ds, (a, b) in per.items()) or "no dataset"
    e["matchedGain"] = mean(gain) if gain else None
    e["matchedVsSurrogate"] = mean(vs) if vs else None
    e["matchedWins"] = sum(1 for g in gain if g > 0)
    e["matchedCells"] = len(gain)
    e["matchedVerdict"] = ("could not be compared with" if not gain else
                           "improves on" if mean(gain) > 0 else "does not improve on")
    if gain:
        from boolgrad.paper.numbers import format_value as fv

        e["matchedSentence"] = (
            f"Averaged over {len(gain)} (dataset, timestep) cells it changes test accuracy by {fv(mean(gain), 2)} "
            f"relative to the Yoo--Jeong gradient (better in {e['matchedWins']} of them)"
            + (f" and by {fv(mean(vs), 2)} relative to the best surrogate" if vs else "")
            + f": on average it {e['matchedVerdict']} the Yoo--Jeong gradient.")
    else:
        e["matchedSentence"] = ("The results hold no cell with both the matched and the Yoo--Jeong gradient, "
                                "so they are not compared.")
    sims = [json.loads(p.read_text()) for p in sorted((results / "study" / "sim").glob("*.json"))]
    sims = [s for s in sims if s["scheme"] == "exact"]
    pairs = [v["theory_below"]["agree"] for s in sims for v in s["kinds"].values()
             if (v.get("theory_below") or {}).get("agree") is not None]
    e["nSims"], e["simTotal"], e["simAgree"] = len(sims), len(pairs), sum(pairs)
    seeds = sorted((results / "seeds").glob("*.csv"))
    e["nSeedFiles"] = len(seeds)
    e["nSeedRows"] = sum(len(p.read_text().splitlines()) - 1 for p in seeds)
    return e


def test_every_macro_equals_the_value_recomputed_from_the_results(tiny):
    macros = _macros(tiny / "paper" / "generated" / "numbers.tex")
    expected = _expected(tiny)
    assert set(macros) == set(expected)
    bad = {k: (macros[k], expected[k]) for k in macros if not _close(_value(macros[k]), expected[k])}
    assert not bad
    assert math.isfinite(expected["gapCoarse"])


# -- --from, the PDF, bad options --------------------------------------------------------------------


def test_from_rebuilds_the_same_figures_and_numbers_from_committed_results(tiny, tmp_path):
    res = tmp_path / "docs"
    shutil.copytree(tiny / "study", res / "study")
    out = tmp_path / "o"
    assert main(["reproduce", "--from", str(res), "--no-pdf", "--out", str(out)]) == 0
    a, b = _hashes(out), _hashes(tiny)
    figs = [k for k in a if k.startswith(("figures/", "paper/generated/"))]
    assert figs and all(a[k] == b[k] for k in figs)
    man = json.loads((out / "manifest.json").read_text())
    assert man["mode"] == "from" and man["results_root"] == "../docs"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="LaTeX is not installed")
def test_the_pdf_builds_with_every_reference_resolved(tiny, tmp_path):
    out = tmp_path / "o"
    shutil.copytree(tiny, out)  # figures and generated files reused: only LaTeX runs
    assert main(["reproduce", "--quick", "--grid", "tiny", "--out", str(out)]) == 0
    assert (out / "boolgrad.pdf").read_bytes()[:5] == b"%PDF-"
    log = (out / "paper" / "boolgrad.log").read_text(errors="replace")
    assert "undefined" not in log.lower() and "Overfull" not in log


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="LaTeX is not installed")
def test_the_pdf_is_deterministic(tiny, tmp_path):
    pdfs = []
    for name in ("a", "b"):
        out = tmp_path / name
        shutil.copytree(tiny, out)
        assert main(["reproduce", "--quick", "--grid", "tiny", "--out", str(out)]) == 0
        pdfs.append((out / "boolgrad.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]


def _one_line_exit_2(argv, capsys, out: Path):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("boolgrad: error:")
    assert not out.exists()  # nothing done
    return err


def test_missing_latex_exits_2_with_one_line_before_any_work(monkeypatch, capsys, tmp_path):
    import boolgrad.paper.reproduce as rp

    monkeypatch.setattr(rp.shutil, "which", lambda name: None)
    out = tmp_path / "o"
    err = _one_line_exit_2(["reproduce", "--quick", "--out", str(out)], capsys, out)
    assert "LaTeX" in err and "texlive-latex-base" in err


@pytest.mark.parametrize("extra", [["--jobs", "0"], ["--from", "/nonexistent/docs"], ["--from", ".", "--quick"],
                                   ["--grid", "tiny"], ["--bogus"]])
def test_bad_options_exit_2_with_one_line(extra, capsys, tmp_path):
    out = tmp_path / "o"
    _one_line_exit_2(["reproduce", "--no-pdf", "--out", str(out), *extra], capsys, out)
