"""Every number and table of the paper, computed from the results files and the tables.

:func:`numbers` returns ``name -> Number`` (a value, how it is printed, where it comes from);
:func:`numbers_tex` writes them as ``\\newcommand`` macros (``paper/generated/numbers.tex``), one
comment per macro naming its source.  :func:`tables_tex` returns the generated LaTeX tables
(``tab_*.tex``).  Sentences whose truth depends on a comparison (a verdict) are generated here
too, from the same numbers, so the text reads correctly whatever the results are.

Sources: closed-form gradient tables (``boolgrad.closed_form_table``, exact, milliseconds), the
crossing theory (:mod:`boolgrad.study.crossings`), the overshoot study's ``study/overshoot.csv``
and ``study/sim/*.json``, the seeds' ``seeds/*.csv`` and the decisive study's ``decisive/``
(:mod:`.decisive_tex`) (read by :mod:`.results`; means and
standard deviations by :mod:`boolgrad.study.stats`).  numpy only (no torch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..study.stats import mean, mean_std
from .results import accuracy_cells, load_sims, read_overshoot, read_rows, seeds_csvs

__all__ = ["Number", "format_value", "numbers", "numbers_tex", "parse_tex_value", "tables_tex"]

#: the thresholds of Yoo & Jeong's fixed-point table (fixed16.15)
AUTHOR_THETAS = (0.125, 0.15625, 0.2, 0.295)
THETA = 0.3
#: coarse and fine per-step increments at which the crossing theory is quoted (as ``boolgrad demo``)
DU_COARSE, DU_FINE = 0.3, 0.003
SURROGATES = ("rectangle", "arctan", "fast_sigmoid", "straight_through")
CROSSING_KINDS = ("boolean_yj2025", "boolean_secant_clamp", "boolean_matched", "rectangle", "arctan", "fast_sigmoid")


@dataclass(frozen=True)
class Number:
    value: object  # float, int or str (a generated word or sentence)
    source: str
    sig: int = 3  # significant digits for floats

    @property
    def tex(self) -> str:
        return format_value(self.value, self.sig)


def format_value(v, sig: int = 3) -> str:
    """LaTeX for a value: integers as they are, floats to ``sig`` digits (``a\\times10^{b}``
    beyond 1e5 or below 1e-3), strings verbatim."""
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return str(int(v))
    a = abs(v)
    if 1e-3 <= a < 1e5:
        digits = max(sig, math.floor(math.log10(a)) + 1)  # never drop integer digits
        return f"{v:.{digits}g}"
    m, e = f"{v:.{sig - 1}e}".split("e")
    return f"\\ensuremath{{{m}\\times10^{{{int(e)}}}}}"


def parse_tex_value(s: str):
    """Inverse of :func:`format_value` for numbers (tests): float, or the string itself."""
    t = s.strip()
    if t.startswith("\\ensuremath{") and t.endswith("}"):
        t = t[len("\\ensuremath{"):-1]
    if "\\times10^{" in t:
        m, e = t.split("\\times10^{")
        return float(m) * 10.0 ** int(e.rstrip("}"))
    try:
        return float(t)
    except ValueError:
        return s


def lowest_set_bit(x: float) -> float:
    f = Fraction(x)
    n, d = f.numerator, f.denominator
    return 2.0 ** (((n & -n).bit_length() - 1) - (d.bit_length() - 1))


# -- results files ---------------------------------------------------------------------------------


def cells(rows, scheme="exact", readout="mse_count") -> dict:
    """``(dataset, kind, dt_over_tau) -> [test_acc, ...]`` of one scheme and readout."""
    return {(k[0], k[1], k[4]): v for k, v in accuracy_cells(rows).items() if k[2] == scheme and k[3] == readout}


def gaps(rows) -> dict:
    """Per dataset and dt: best surrogate mean accuracy minus ``boolean_yj2025``'s, and the
    matched kind's gain over ``boolean_yj2025`` (exact scheme, MSE readout)."""
    c = cells(rows)
    out = {}
    for (ds, kind, dt), accs in c.items():
        if kind != "boolean_yj2025":
            continue
        sur = [mean(c[(ds, s, dt)]) for s in SURROGATES if (ds, s, dt) in c]
        m = c.get((ds, "boolean_matched", dt))
        out[(ds, dt)] = {"yj": mean(accs), "best_surrogate": max(sur) if sur else None,
                         "gap": (max(sur) - mean(accs)) if sur else None,
                         "matched_gain": (mean(m) - mean(accs)) if m else None,
                         "matched_vs_surrogate": (mean(m) - max(sur)) if (m and sur) else None}
    return out


# -- the numbers -----------------------------------------------------------------------------------


def table_numbers() -> dict:
    from .. import closed_form_table

    n = {}
    src = "closed_form_table"
    f32 = closed_form_table("float32", THETA)
    n["fThirtyTwoTheta"] = Number(f32.meta.theta_used, f"{src}('float32', 0.3).meta.theta_used", 9)
    n["fThirtyTwoPeak"] = Number(f32.peak()[0], f"{src}('float32', 0.3).peak()[0]")
    n["fThirtyTwoPeakAt"] = Number(f32.peak()[1], f"{src}('float32', 0.3).peak()[1]", 8)
    n["fThirtyTwoArea"] = Number(f32.area(), f"{src}('float32', 0.3).area()")
    n["fThirtyTwoRuns"] = Number(f32.n_runs, f"{src}('float32', 0.3).n_runs")
    n["fThirtyTwoInvLambda"] = Number(1 / lowest_set_bit(f32.meta.theta_used), "1/lowest set bit of float32(0.3)")
    one = closed_form_table("float32", 1.0)
    n["fThirtyTwoOnePeak"] = Number(one.peak()[0], f"{src}('float32', 1.0).peak()[0]")
    n["fThirtyTwoOneBound"] = Number((2 * 8 + 0.5) / 1.0, "(2E + 1/2)/theta, float32, theta = 1")
    f64 = closed_form_table("float64", THETA)
    n["fSixtyFourPeak"] = Number(f64.peak()[0], f"{src}('float64', 0.3).peak()[0]")
    n["fSixtyFourArea"] = Number(f64.area(), f"{src}('float64', 0.3).area()")
    f16 = closed_form_table("float16", THETA)
    n["fSixteenPeak"] = Number(f16.peak()[0], f"{src}('float16', 0.3).peak()[0]")
    for th, name in zip(AUTHOR_THETAS, ("A", "B", "C", "D")):
        t = closed_form_table("fixed16.15", th)
        n[f"fixedPeak{name}"] = Number(t.peak()[0], f"{src}('fixed16.15', {th}).peak()[0]")
        n[f"fixedArea{name}"] = Number(t.area(), f"{src}('fixed16.15', {th}).area()")
    n["fixedAreaMin"] = Number(min(closed_form_table("fixed16.15", th).area() for th in AUTHOR_THETAS),
                               "min over the authors' thresholds of fixed16.15 areas")
    t8 = closed_form_table("fixed8.6", 0.125)
    t32 = closed_form_table("fixed32.6", 0.125)
    n["areaFixedEight"] = Number(t8.area(), f"{src}('fixed8.6', 0.125).area()")
    n["areaFixedThirtyTwo"] = Number(t32.area(), f"{src}('fixed32.6', 0.125).area()", 8)
    n["thetaAreaFixed"] = Number(closed_form_table("fixed16.15", 0.295, wrt="theta").area(),
                                 f"{src}('fixed16.15', 0.295, wrt='theta').area()")
    n["thetaAreaFThirtyTwo"] = Number(closed_form_table("float32", THETA, wrt="theta").area(),
                                      f"{src}('float32', 0.3, wrt='theta').area()")
    return n


def crossing_receipts(dus=(DU_COARSE, DU_FINE), kinds=CROSSING_KINDS, theta=THETA) -> dict:
    """``kind -> [E(dU) for dU in dus]``: the mean gradient the last sample below theta receives
    at a crossing with step ``dU`` (crossing theory; the matched kind picks ``fixed16.F`` per dU)."""
    from ..study.crossings import crossing_moments
    from ..study.kinds import get_kind

    out = {}
    for name in kinds:
        k = get_kind(name)
        out[name] = [float(crossing_moments(k.resolve(d).crossing_grad(theta), d).mean) for d in dus]
    return out


def crossing_numbers() -> dict:
    n = {}
    camel = {"boolean_yj2025": "YJ", "boolean_secant_clamp": "Secant", "boolean_matched": "Matched",
             "rectangle": "Rect", "arctan": "Arctan", "fast_sigmoid": "FastSig"}
    for k, (coarse, fine) in crossing_receipts().items():
        n[f"cross{camel[k]}Coarse"] = Number(coarse, f"crossing_moments({k}, dU={DU_COARSE}).mean")
        n[f"cross{camel[k]}Fine"] = Number(fine, f"crossing_moments({k}, dU={DU_FINE}).mean")
    n["duCoarse"] = Number(DU_COARSE, "constant")
    n["duFine"] = Number(DU_FINE, "constant")
    return n


def study_numbers(results) -> dict:
    rows = read_overshoot(results)
    src = "study/overshoot.csv"
    n = {"nRuns": Number(len(rows), f"{src}: rows")}
    c = cells(rows)
    n["nDatasets"] = Number(len({k[0] for k in c}), f"{src}: distinct datasets (exact, mse)")
    n["nKinds"] = Number(len({k[1] for k in c}), f"{src}: distinct kinds (exact, mse)")
    n["nSeeds"] = Number(max((len(v) for v in c.values()), default=0), f"{src}: most seeds in a cell")
    names = {"mnist1d": "MNIST-1D~\\cite{greydanus2020}", "yinyang": "Yin-Yang~\\cite{kriener2021}",
             "digits": "scikit-learn's digits"}
    ds = sorted({k[0] for k in c})
    n["datasetList"] = Number(", ".join(names.get(d, d) for d in ds) or "none", f"{src}: datasets (exact, mse)")
    seeds = max((len(v) for v in c.values()), default=0)
    if seeds < 2:
        cav = "With one seed per cell the seed-to-seed spread is unknown, so this verdict is provisional."
    else:
        sd = mean([mean_std(v)[1] for v in c.values()])
        cav = (f"For scale, the seed-to-seed standard deviation of test accuracy is {format_value(sd, 2)} "
               "on average over the cells.")
    n["seedCaveat"] = Number(cav, f"{src}: seeds per cell and mean std over cells")
    dts = sorted({k[2] for k in c})
    n["dtCoarse"] = Number(dts[-1] if dts else None, f"{src}: largest dt/tau")
    n["dtFine"] = Number(dts[0] if dts else None, f"{src}: smallest dt/tau")
    g = gaps(rows)
    coarse = [v["gap"] for (ds, dt), v in g.items() if dts and dt == dts[-1] and v["gap"] is not None]
    fine = [v["gap"] for (ds, dt), v in g.items() if dts and dt == dts[0] and v["gap"] is not None]
    gc = mean(coarse) if coarse else None
    gf = mean(fine) if fine else None
    n["gapCoarse"] = Number(gc, f"{src}: mean over datasets, best surrogate - boolean_yj2025, coarsest dt", 2)
    n["gapFine"] = Number(gf, f"{src}: same at the finest dt", 2)
    per = {}  # dataset -> (gap at the coarsest dt, gap at the finest dt)
    for ds in sorted({k[0] for k in g}):
        a, b = g.get((ds, dts[-1]), {}).get("gap"), g.get((ds, dts[0]), {}).get("gap")
        if a is not None and b is not None:
            per[ds] = (a, b)
    held = [ds for ds, (a, b) in per.items() if a > 0 and a > b]
    if not per:
        verdict = "could not be tested (no Boolean and surrogate runs at two timesteps)"
    elif len(held) == len(per):
        verdict = "supported"
    elif held:
        verdict = "partly supported"
    else:
        verdict = "not supported"
    short = {"mnist1d": "MNIST-1D", "yinyang": "Yin-Yang", "digits": "digits"}
    n["gapByDataset"] = Number(
        "; ".join(f"{'holds' if ds in held else 'fails'} on {short.get(ds, ds)} ({format_value(a, 2)} at the "
                  f"coarsest step, {format_value(b, 2)} at the finest)" for ds, (a, b) in per.items()) or "no dataset",
        f"{src}: per dataset, best surrogate - boolean_yj2025 at the coarsest and finest dt")
    n["gapVerdict"] = Number(verdict, "per dataset: gap > 0 at the coarsest dt and larger than at the finest; "
                             "all datasets: supported, some: partly supported, none: not supported")
    mg = [v["matched_gain"] for v in g.values() if v["matched_gain"] is not None]
    ms = [v["matched_vs_surrogate"] for v in g.values() if v["matched_vs_surrogate"] is not None]
    n["matchedGain"] = Number(mean(mg) if mg else None, f"{src}: mean over (dataset, dt), matched - yj2025", 2)
    n["matchedVsSurrogate"] = Number(mean(ms) if ms else None,
                                     f"{src}: mean over (dataset, dt), matched - best surrogate", 2)
    n["matchedWins"] = Number(sum(1 for x in mg if x > 0), f"{src}: cells where matched > yj2025")
    n["matchedCells"] = Number(len(mg), f"{src}: cells with both matched and yj2025")
    if not mg:
        mv = "could not be compared with"
    elif mean(mg) > 0:
        mv = "improves on"
    else:
        mv = "does not improve on"
    n["matchedVerdict"] = Number(mv, "matchedGain > 0")
    if mg:
        sent = (f"Averaged over {len(mg)} (dataset, timestep) cells it changes test accuracy by "
                f"{format_value(mean(mg), 2)} relative to the Yoo--Jeong gradient (better in "
                f"{sum(1 for x in mg if x > 0)} of them)"
                + (f" and by {format_value(mean(ms), 2)} relative to the best surrogate" if ms else "")
                + f": on average it {mv} the Yoo--Jeong gradient.")
    else:
        sent = "The results hold no cell with both the matched and the Yoo--Jeong gradient, so they are not compared."
    n["matchedSentence"] = Number(sent, "generated from matchedGain, matchedWins, matchedVsSurrogate")
    sims = load_sims(results)
    tot = agree = 0
    for s in sims:
        for v in s["kinds"].values():
            tb = v.get("theory_below") or {}
            if tb.get("agree") is not None:
                tot += 1
                agree += bool(tb["agree"])
    n["simTotal"] = Number(tot, "study/sim/*.json: (simulation, kind) pairs, exact scheme")
    n["simAgree"] = Number(agree, "study/sim/*.json: pairs within 10% of the theory")
    n["nSims"] = Number(len(sims), "study/sim/*.json: exact-scheme simulations")
    return n


def seeds_numbers(results) -> dict:
    files = seeds_csvs(results)
    rows = sum(len(read_rows(p)) for p in files)
    n = {"nSeedFiles": Number(len(files), "seeds/*.csv: files"), "nSeedRows": Number(rows, "seeds/*.csv: rows")}
    return n


def numbers(results) -> dict:
    out = {}
    out.update(table_numbers())
    out.update(crossing_numbers())
    out.update(study_numbers(results))
    out.update(seeds_numbers(results))
    return out


def numbers_tex(nums: dict) -> str:
    lines = ["% Generated by boolgrad reproduce (boolgrad/paper_numbers.py); do not edit.", ""]
    for name in sorted(nums):
        lines.append(f"% {nums[name].source}")
        lines.append(f"\\newcommand{{\\{name}}}{{{nums[name].tex}}}")
    return "\n".join(lines) + "\n"


# -- the tables ------------------------------------------------------------------------------------


def _g(x, sig=4):
    return format_value(float(x), sig)


def tab_fixed() -> str:
    from .. import closed_form_table

    lines = ["% Generated by boolgrad reproduce; do not edit.", "\\begin{tabular}{rrrrrrrr}", "\\toprule",
             "$\\theta$ & used & $1/\\lambda$ & runs & peak $g$ & at & area (secant) & area (paper) \\\\",
             "\\midrule"]
    for th in AUTHOR_THETAS:
        s = closed_form_table("fixed16.15", th)
        p = closed_form_table("fixed16.15", th, convention="paper")
        tu = s.meta.theta_used
        lines.append(f"{th:g} & {tu:.8g} & {_g(1 / lowest_set_bit(tu))} & {s.n_runs} & {_g(s.peak()[0])} & "
                     f"{s.peak()[1]:.8g} & {_g(s.area())} & {_g(p.area())} \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def tab_floats() -> str:
    from .. import closed_form_table

    lines = ["% Generated by boolgrad reproduce; do not edit.", "\\begin{tabular}{lrrrrrr}", "\\toprule",
             "format & $\\theta$ used & $1/\\lambda$ & runs & peak $g$ & at & area \\\\", "\\midrule"]
    for name in ("float8_e4m3fn", "float8_e5m2", "bfloat16", "float16", "float32", "float64"):
        for th in (THETA, 1.0):
            t = closed_form_table(name, th)
            tu = t.meta.theta_used
            lines.append(f"\\texttt{{{name.replace('_', chr(92) + '_')}}} & {tu:.8g} & {_g(1 / lowest_set_bit(tu))} & "
                         f"{t.n_runs} & {_g(t.peak()[0])} & {t.peak()[1]:.8g} & {_g(t.area())} \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def _kind_tex(k: str) -> str:
    return "\\texttt{" + k.replace("_", "\\_") + "}"


def tab_accuracy(results) -> str:
    rows = read_overshoot(results)
    c = cells(rows)
    if not c:
        return "% Generated by boolgrad reproduce: no overshoot results.\n\\emph{No overshoot results.}\n"
    from ..study.kinds import KINDS

    dts = sorted({k[2] for k in c}, reverse=True)
    datasets = sorted({k[0] for k in c})
    kinds = [k for k in KINDS if any(key[1] == k for key in c)]
    lines = ["% Generated by boolgrad reproduce from study/overshoot.csv; do not edit.",
             "\\begin{tabular}{ll" + "r" * len(dts) + "}", "\\toprule",
             "dataset & kind & " + " & ".join(f"$dt/\\tau={Fraction(d).limit_denominator(1024)}$" for d in dts)
             + " \\\\", "\\midrule"]
    for ds in datasets:
        for kind in kinds:
            cellsx = []
            for d in dts:
                m, s = mean_std(c.get((ds, kind, d), []))
                cellsx.append("--" if m is None else f"{m:.3f} $\\pm$ {s:.3f}")
            lines.append(f"{ds} & {_kind_tex(kind)} & " + " & ".join(cellsx) + " \\\\")
        lines.append("\\midrule" if ds != datasets[-1] else "\\bottomrule")
    lines.append("\\end{tabular}")
    return "\n".join(lines) + "\n"


SHORT = {"boolean_yj2025": "Y\\&J", "boolean_secant_clamp": "secant", "boolean_matched": "matched",
         "rectangle": "rect.", "arctan": "arctan", "fast_sigmoid": "fast sig."}


def tab_sim(results) -> str:
    sims = load_sims(results)
    if not sims:
        return "% Generated by boolgrad reproduce: no simulation results.\n\\emph{No simulation results.}\n"
    kinds = [k for k in CROSSING_KINDS if k in sims[0]["kinds"]]
    lines = ["% Generated by boolgrad reproduce from study/sim/*.json; do not edit.",
             "\\begin{tabular}{lrrr" + "r" * len(kinds) + "}", "\\toprule",
             "dataset & $dt/\\tau$ & median $\\Delta U$ & from reset & "
             + " & ".join(SHORT.get(k, k) for k in kinds) + " \\\\", "\\midrule"]
    for s in sims:
        vals = []
        for k in kinds:
            tb = s["kinds"][k].get("theory_below") or {}
            r = tb.get("ratio")
            vals.append("--" if r is None else (f"{r:.2f}" if tb.get("agree") else f"\\textbf{{{r:.2f}}}"))
        med = s["du_quantiles"][2]
        lines.append(f"{s['dataset']} & {Fraction(s['dt_over_tau']).limit_denominator(1024)} & "
                     f"{'--' if med is None else _g(med, 3)} & {s['frac_from_reset']:.2f} & " + " & ".join(vals)
                     + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def seeds_tex(results, figure_available: bool) -> str:
    """The seeds' paragraph and figure (or a sentence saying their results are absent)."""
    files = seeds_csvs(results)
    if not files or not figure_available:
        return ("% Generated by boolgrad reproduce: no seeds results.\n"
                "The seeds' experiments had not been run when this document was generated "
                "(no \\texttt{seeds/*.csv} in the results); their figure is omitted.\n")
    names = ", ".join("\\texttt{" + p.name.replace("_", "\\_") + "}" for p in files)
    return ("% Generated by boolgrad reproduce from seeds/*.csv; do not edit.\n"
            f"Figure~\\ref{{fig:seeds}} is drawn from {names}.\n"
            "\\begin{figure}[t]\\centering\\includegraphics[width=\\linewidth]{fig09_seeds.pdf}\n"
            "\\caption{The seeds' systems: (a) seed 002, accuracy against the learning rate; (b) seed 000; "
            "(c) seed 003's learned thresholds.}\\label{fig:seeds}\\end{figure}\n")


def tables_tex(results, *, seeds_figure: bool = False, decisive_figure: bool = False) -> dict:
    """Every generated TeX file but ``numbers.tex``: the tables, the seeds' section and the decisive
    study's section and macros (:mod:`.decisive_tex`)."""
    from .decisive_tex import decisive_files

    return {"tab_fixed.tex": tab_fixed(), "tab_floats.tex": tab_floats(), "tab_accuracy.tex": tab_accuracy(results),
            "tab_sim.tex": tab_sim(results), "seeds.tex": seeds_tex(results, seeds_figure),
            **decisive_files(results, figure_available=decisive_figure)}
