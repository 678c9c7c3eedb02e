"""The decisive study's report, read from its files only (``OUT/protocol.json``, ``OUT/runs``).

* :func:`cell_rows` -- per cell (dataset, model, kind, dt/tau, reset): the chosen rate and whether
  it lies at the edge of its grid, the final seeds' test accuracies with their mean and 95%
  bootstrap interval (:func:`boolgrad.study.inference.cell_interval`), the fraction of runs that
  stopped at the epoch cap, the median best epoch.
* :func:`hypothesis` -- per dataset the interaction ``[S - B](coarsest dt) - [S - B](finest dt)``
  with its paired interval and sign-flip p (:func:`~boolgrad.study.inference.interaction`), Holm
  adjusted across datasets, and the verdict; the primary comparison S = arctan, B =
  boolean_yj2025 (fixed in advance, :data:`~boolgrad.study.decisive.PRIMARY`), the secondary one
  S = the zoo's surrogate of the best mean validation accuracy on that dataset.
* :func:`write_report` -- ``OUT/decisive.csv``, ``OUT/decisive.md`` and ``OUT/verdicts.json``
  (atomically), all generated.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

from ..atomic import write_json_atomic, write_text_atomic
from .decisive import ZOO
from .inference import (
    MIN_SEEDS,
    cell_interval,
    holm,
    interaction,
    overall_verdict,
    paired_difference,
    verdict,
    verdict_sentence,
)

__all__ = ["ABLATIONS", "MARGIN", "ablations", "cell_rows", "chance", "factor_verdict", "hypothesis", "load",
           "plot", "totals", "write_report"]

#: the detectable difference at 10 seeds: an ablation *matters* when its interval lies outside +-MARGIN
MARGIN = 0.02
#: the mechanism's ablations, (name, ablated kind, detached?, parent kind, detached?): each asks
#: whether one factor moves accuracy (docs/study.md, the decisive study's protocol)
ABLATIONS = (
    ("reset detached (arctan)", "arctan", True, "arctan", False),
    ("reset detached (boolean_yj2025)", "boolean_yj2025", True, "boolean_yj2025", False),
    ("paper convention vs secant", "boolean_yj2025", False, "boolean_secant_clamp", False),
    ("peak only vs secant", "boolean_secant_peak", False, "boolean_secant_clamp", False),
    ("tails only vs secant", "boolean_secant_tails", False, "boolean_secant_clamp", False),
    ("matched fixed point vs its unmatched parent", "boolean_matched_fair", False, "boolean_fixed16_fair", False),
    ("matched fixed point vs a rectangle of its support", "boolean_matched_fair", False, "rectangle_matched", False),
    ("matched fixed point vs a centred rectangle of its width", "boolean_matched_fair", False,
     "rectangle_matched_centred", False),
)


def _cell_of(config: dict) -> str:
    d = dict(config)
    d.pop("lr", None)
    d.pop("seed", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def totals(out, rows) -> dict:
    """What the run cost and how it stopped: every run file in ``out`` (search and final) with
    its summed training time (the workers' busy seconds), the final runs that reached the epoch
    cap, the cells whose chosen rate is at an edge of their grid."""
    _, runs = load(out)
    every = [r for by_lr in runs.values() for by_seed in by_lr.values() for r in by_seed.values()]
    final = [(r["n"], r["at_cap"]) for r in rows if r["n"] and not r["fixed_lr"]]
    n_final = sum(n for n, _ in final)
    return {"runs": len(every), "train_hours": sum(r.get("train_seconds") or 0.0 for r in every) / 3600.0,
            "final_runs": n_final, "at_cap": sum(n * c for n, c in final) / n_final if n_final else None,
            "edge_cells": sum(1 for r in rows if r["at_edge"]), "cells": len(rows)}


def load(out):
    """``(protocol record, {cell_key: {lr: {seed: result}}})`` from ``out``."""
    out = Path(out)
    record = json.loads((out / "protocol.json").read_text())
    runs = defaultdict(lambda: defaultdict(dict))
    for f in sorted((out / "runs").glob("*.json")):
        try:
            res = json.loads(f.read_text())
        except ValueError:
            continue
        runs[_cell_of(res["config"])][float(res["config"]["lr"])][res["seed"]] = res
    return record, runs


def cell_rows(out) -> list[dict]:
    """One row per cell of ``OUT/protocol.json`` (module doc)."""
    record, runs = load(out)
    rows = []
    for c in record["cells"]:
        cfg = json.loads(c["cell"])
        final = runs.get(c["cell"], {}).get(float(c["lr"]), {})
        seeds = sorted(final)[: record["protocol"]["seeds"]]
        test = {s: final[s]["test_acc"] for s in seeds}
        iv = cell_interval(list(test.values()))
        capped = [not final[s].get("stopped_early", False) for s in seeds]
        best = sorted(final[s]["best_epoch"] for s in seeds)
        rows.append({
            "dataset": c["dataset"], "model": cfg.get("model", "snn"), "kind": cfg.get("kind", "mlp"),
            "dt_over_tau": cfg.get("dt_over_tau"), "detach_reset": bool(cfg.get("detach_reset", False)),
            "readout": cfg.get("readout", ""), "scheme": cfg.get("scheme", ""), "fixed_lr": c["fixed"],
            "lr": c["lr"], "at_edge": c["at_edge"], "n": len(seeds), "seeds_wanted": record["protocol"]["seeds"],
            "mean": iv.mean, "low": iv.low, "high": iv.high,
            "val_mean": sum(final[s]["val_acc"] for s in seeds) / len(seeds) if seeds else None,
            "at_cap": sum(capped) / len(seeds) if seeds else None,
            "best_epoch_median": best[len(best) // 2] if best else None, "test": test,
        })
    return rows


def _main(rows, dataset, kind, readout="ce_linear"):
    return [r for r in rows if r["dataset"] == dataset and r["kind"] == kind and r["model"] == "snn"
            and not r["detach_reset"] and not r["fixed_lr"] and r["readout"] == readout]


#: the readouts of the hypothesis' tests: the main one (a linear readout) and the authors'
READOUTS = {"ce_linear": "linear readout", "mse_count": "authors' readout (spiking output, MSE)"}


def _zoo_best(rows, dataset, primary):
    """The surrogate of the zoo (:data:`~boolgrad.study.decisive.ZOO`) with the best mean
    validation accuracy over its dt cells on ``dataset``."""
    scores = {}
    for kind in ZOO:
        cells = _main(rows, dataset, kind)
        if cells and all(r["val_mean"] is not None for r in cells):
            scores[kind] = sum(r["val_mean"] for r in cells) / len(cells)
    return max(scores, key=scores.get) if scores else primary


def hypothesis(rows, primary=("arctan", "boolean_yj2025")) -> dict:
    """The interaction per dataset for the primary and the secondary comparison (module doc).

    A test whose four cells do not all hold the protocol's final seeds yet (a grid run in parts,
    stopped mid-way: ``n < seeds_wanted``) gets no verdict and takes no part in the Holm
    correction: it is listed under ``incomplete`` with its runs present / wanted."""
    out = {}
    for which in ("primary", "secondary"):
        effects, incomplete = {}, {}
        for ds in sorted({r["dataset"] for r in rows}):
            for readout, readout_name in READOUTS.items():
                s_kind = primary[0] if which == "primary" else _zoo_best(rows, ds, primary[0])
                s_cells = {r["dt_over_tau"]: r for r in _main(rows, ds, s_kind, readout)}
                b_cells = {r["dt_over_tau"]: r for r in _main(rows, ds, primary[1], readout)}
                dts = sorted(set(s_cells) & set(b_cells))
                if len(dts) < 2:
                    continue
                coarse, fine = dts[-1], dts[0]
                name = ds if readout == "ce_linear" else f"{ds}, {readout_name}"
                four = [s_cells[coarse], b_cells[coarse], s_cells[fine], b_cells[fine]]
                wanted = [r.get("seeds_wanted", 0) for r in four]  # 0: rows of no protocol (tests)
                if any(r["n"] < w for r, w in zip(four, wanted)):
                    incomplete[name] = (sum(r["n"] for r in four), sum(wanted))
                    continue
                eff = interaction(*(r["test"] for r in four))
                effects[name] = {"surrogate": s_kind, "boolean": primary[1], "coarse": coarse, "fine": fine,
                                 "readout": readout, "effect": eff}
        adjusted = holm([e["effect"].p_value for e in effects.values()]) if effects else []
        for e, q in zip(effects.values(), adjusted):
            e["p_holm"] = q
            e["verdict"] = verdict(e["effect"].interval, q)
        out[which] = {"datasets": effects, "overall": overall_verdict({d: e["verdict"] for d, e in effects.items()}),
                      "incomplete": incomplete}
    return out


def chance(dataset: str) -> float:
    """The chance level of ``dataset``: one over its number of classes."""
    from .data import load_dataset

    return 1.0 / load_dataset(dataset).n_classes


def factor_verdict(iv, margin: float = MARGIN) -> str:
    """"matters" if the interval lies outside ``(-margin, margin)``, "does not matter" if inside,
    else "inconclusive" (no interval, or fewer than ``MIN_SEEDS`` seeds: "inconclusive")."""
    if not iv.defined or iv.n < MIN_SEEDS:
        return "inconclusive"
    if iv.low >= margin or iv.high <= -margin:
        return "matters"
    if -margin < iv.low and iv.high < margin:
        return "does not matter"
    return "inconclusive"


def ablations(rows) -> list[dict]:
    """Every ablation of :data:`ABLATIONS` at every dataset and dt where both cells exist: the
    paired difference ablated - parent over seeds, its interval and :func:`factor_verdict`."""
    found = []
    for name, kind, det, parent, pdet in ABLATIONS:
        for ds in sorted({r["dataset"] for r in rows}):
            cells = {}
            for r in rows:
                if r["dataset"] == ds and r["model"] == "snn" and not r["fixed_lr"] and r["readout"] == "ce_linear":
                    cells[(r["kind"], r["detach_reset"], r["dt_over_tau"])] = r["test"]
            for dt in sorted({k[2] for k in cells}, reverse=True):
                a, b = cells.get((kind, det, dt)), cells.get((parent, pdet, dt))
                if a and b:
                    iv = paired_difference(a, b)
                    found.append({"ablation": name, "dataset": ds, "dt_over_tau": dt, "mean": iv.mean, "low": iv.low,
                                  "high": iv.high, "n": iv.n, "verdict": factor_verdict(iv)})
    return found


def _f(v, digits=3):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _label(r):
    if r["model"] == "mlp":
        return "MLP (no spikes)"
    extra = (" (authors' row)" if r["fixed_lr"] else " (reset detached)" if r["detach_reset"] else
             " (authors' readout)" if r["readout"] == "mse_count" else "")
    return r["kind"] + extra


def markdown(rows, hyp, abl=(), tot=None) -> str:
    lines = ["# The decisive study (generated by `boolgrad study decisive`)", ""]
    if tot:
        lines += [(f"{tot['cells']} cells, {tot['runs']} runs (search and final), {tot['train_hours']:.2f} h of "
                   f"training summed over the runs (one thread each); {_f(tot['at_cap'], 3)} of the "
                   f"{tot['final_runs']} final runs of searched cells reached the epoch cap; "
                   f"{tot['edge_cells']} cells chose a rate at the edge of their widened grid."), ""]
    for which, title in (("primary", "Primary comparison (arctan vs boolean_yj2025)"),
                         ("secondary", "Secondary comparison (the best surrogate of the zoo vs boolean_yj2025)")):
        h = hyp[which]
        lines += [f"## {title}: {h['overall']}", ""]
        for ds, e in h["datasets"].items():
            lines.append("- " + verdict_sentence(f"{ds} ({e['surrogate']}, dt/tau {e['coarse']:g} vs {e['fine']:g})",
                                                 e["effect"].interval, e["p_holm"], e["verdict"]))
        for ds, (have, want) in h.get("incomplete", {}).items():
            lines.append(f"- {ds}: not yet decided ({have} of its cells' {want} final runs are done; the same "
                         "command resumes the grid)")
        lines.append("")
    if abl:
        lines += ["## Ablations: paired difference (ablated - parent) of test accuracy, 95% interval over seeds", "",
                  f"A factor matters where the interval lies outside +-{MARGIN}, does not where it lies inside.", "",
                  "| ablation | dataset | dt/tau | difference | 95% CI | n | verdict |", "|---|---|---|---|---|---|---|"]
        for a in abl:
            lines.append(f"| {a['ablation']} | {a['dataset']} | {a['dt_over_tau']:g} | {a['mean']:+.3f} | "
                         f"{_f(a['low'])} to {_f(a['high'])} | {a['n']} | {a['verdict']} |")
        lines.append("")
    lines += ["## Cells: test accuracy at the best validation epoch, mean and 95% bootstrap interval over seeds", "",
              "| dataset | model | dt/tau | lr | n | mean | 95% CI | at cap | best epoch |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["dataset"], _label(r), -(r["dt_over_tau"] or 0))):
        edge = f" ({r['at_edge']} edge)" if r["at_edge"] else ""
        dt = "-" if r["model"] == "mlp" else f"{r['dt_over_tau']:g}"
        lines.append(f"| {r['dataset']} | {_label(r)} | {dt} | {r['lr']:g}{edge} | {r['n']} | {_f(r['mean'])} | "
                     f"{_f(r['low'])} to {_f(r['high'])} | {_f(r['at_cap'], 2)} | {r['best_epoch_median']} |")
    return "\n".join(lines) + "\n"


def write_report(out, dest=None) -> dict:
    """Write ``decisive.csv``, ``decisive.md``, ``verdicts.json`` and the figure into ``dest``
    (default ``out``) from the files in ``out``; returns the counts."""
    import csv
    import io

    rows, src = cell_rows(out), out
    out = Path(dest or out)
    out.mkdir(parents=True, exist_ok=True)
    hyp = hypothesis(rows)
    keys = [k for k in rows[0] if k != "test"] if rows else []
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(Path(out) / "decisive.csv", buf.getvalue())
    abl = ablations(rows)
    tot = totals(src, rows)
    write_text_atomic(Path(out) / "decisive.md", markdown(rows, hyp, abl, tot))
    verdicts = {which: {"overall": h["overall"], "incomplete": h["incomplete"], "datasets": {
        ds: {"surrogate": e["surrogate"], "coarse": e["coarse"], "fine": e["fine"], "mean": e["effect"].interval.mean,
             "low": e["effect"].interval.low, "high": e["effect"].interval.high, "n": e["effect"].interval.n,
             "p": e["effect"].p_value, "p_holm": e["p_holm"], "verdict": e["verdict"]}
        for ds, e in h["datasets"].items()}} for which, h in hyp.items()}
    verdicts["ablations"] = abl
    verdicts["totals"] = tot
    write_json_atomic(Path(out) / "verdicts.json", verdicts)
    return {"cells": len(rows), "verdicts": verdicts, "plots": plot(out, rows)}


def plot(out, rows) -> list:
    """``OUT/decisive_accuracy.png``: test accuracy vs dt/tau per dataset, each kind's mean with
    its 95% interval, the MLP reference's interval as a band and chance as a line (matplotlib;
    none without it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from ..atomic import atomic_write

    datasets = sorted({r["dataset"] for r in rows if r["model"] == "snn" and not r["fixed_lr"]})
    if not datasets:
        return []
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        kinds = sorted({(r["kind"], r["detach_reset"], r["readout"]) for r in rows if r["dataset"] == ds
                        and r["model"] == "snn" and not r["fixed_lr"]})
        for kind, det, readout in kinds:
            pts = sorted(((r["dt_over_tau"], r) for r in rows if r["dataset"] == ds and r["kind"] == kind
                          and r["detach_reset"] == det and r["readout"] == readout and r["model"] == "snn"
                          and not r["fixed_lr"] and r["n"]), key=lambda p: p[0])
            if not pts:
                continue
            x = [p[0] for p in pts]
            y = [p[1]["mean"] for p in pts]
            err = [[max(0.0, p[1]["mean"] - p[1]["low"]) if p[1]["n"] > 1 else 0 for p in pts],
                   [max(0.0, p[1]["high"] - p[1]["mean"]) if p[1]["n"] > 1 else 0 for p in pts]]
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, ls="--" if det else ":" if readout == "mse_count" else "-",
                        label=kind + (" (reset detached)" if det else " (authors' readout)" if readout == "mse_count"
                                      else ""))
        for r in rows:
            if r["dataset"] == ds and r["model"] == "mlp" and r["n"] > 1:
                ax.axhspan(r["low"], r["high"], color="0.85", label="MLP (95% CI)")
        ax.axhline(chance(ds), color="k", lw=0.8, ls=":", label="chance")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("dt / tau")
        ax.set_ylabel("test accuracy (mean, 95% CI over seeds)")
        ax.set_title(ds)
        ax.legend(fontsize=6)
    fig.tight_layout()
    path = Path(out) / "decisive_accuracy.png"
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return [str(path)]
