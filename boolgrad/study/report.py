"""From result files to ``overshoot.csv``, ``summary.md`` and plots (never recomputes a run).

``overshoot.csv``: one row per run file, columns :data:`COLUMNS`, sorted by (dataset, kind,
scheme, readout, dt/tau descending, seed).  ``summary.md``: per dataset x kind x scheme x dt, the
mean +- sample standard deviation (ddof 1; 0 for one seed) of the test accuracy over seeds, and
the mean gradient at crossings; then the random-weight simulation: the counts of
:func:`simulation_counts` and a table (mean gradient at the sample below each crossing,
simulated, by the uniform-phase theory and by the reset-aware mixture, with their ratios).
Simulation records are read by :func:`boolgrad.paper.results.load_sims`, means by :mod:`.stats`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..atomic import write_text_atomic
from ..paper.results import load_sims
from .stats import mean, mean_std

__all__ = ["COLUMNS", "counts_line", "csv_rows", "plot_runs", "plot_sims", "plots", "simulation_counts",
           "simulation_reports", "summary_markdown", "write_reports"]

COLUMNS = ("dataset", "kind", "scheme", "readout", "dt_over_tau", "steps", "seed", "test_acc", "val_acc",
           "best_epoch", "epochs", "train_seconds", "samples_per_second", "mean_grad_at_crossings",
           "frac_nonzero_grad", "matched_format", "trained_theory_ratio", "hash")


def load_runs(out) -> list:
    from .executor import load_result

    runs = []
    for p in sorted((Path(out) / "runs").glob("*.json")):
        r = load_result(p)
        if r is not None and "experiment" not in r:  # the seeds' results share the folder
            runs.append(r)
    return runs


def _row(r: dict) -> dict:
    tc = (r.get("trained_crossings") or [{}])[0].get("kinds", {})
    ratio = next((v.get("theory_below", {}).get("ratio") for v in tc.values()), None)
    return {
        "dataset": r["dataset"], "kind": r["kind_name"], "scheme": r["scheme"], "readout": r["readout"],
        "dt_over_tau": r["dt_over_tau"], "steps": r["steps"], "seed": r["seed"], "test_acc": r["test_acc"],
        "val_acc": r["val_acc"], "best_epoch": r["best_epoch"], "epochs": r["epochs"],
        "train_seconds": r["train_seconds"], "samples_per_second": r["samples_per_second"],
        "mean_grad_at_crossings": r["mean_grad_at_crossings"], "frac_nonzero_grad": r["frac_nonzero_grad"],
        "matched_format": (r.get("matched") or {}).get("format", ""), "trained_theory_ratio": ratio,
        "hash": r["hash"],
    }


def csv_rows(runs) -> list:
    rows = [_row(r) for r in runs]
    rows.sort(key=lambda d: (d["dataset"], d["kind"], d["scheme"], d["readout"], -d["dt_over_tau"],
                             d["seed"], d["hash"]))
    return rows


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def csv_text(rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for d in rows:
        w.writerow([_fmt(d[c]) for c in COLUMNS])
    return buf.getvalue()


def groups(rows):
    out = {}
    for d in rows:
        out.setdefault((d["dataset"], d["kind"], d["scheme"], d["readout"], d["dt_over_tau"]), []).append(d)
    return out


def simulation_counts(sims) -> dict:
    """How many (simulation, kind) pairs agree with the theory at the sample below each crossing.

    ``pairs``: pairs with a comparison; ``mixture`` / ``uniform``: within 10% by the reset-aware
    mixture (``mixture_below``) / by the uniform phase at every crossing (``theory_below``);
    ``uniform_part``: within 10% at the crossings not from a reset alone (``ratio_uniform``), of
    ``uniform_part_pairs`` (pairs that have such crossings); ``reference``: the exact integrals'
    uniform-phase mean within 1% of the midpoint-rule reference's, of ``reference_pairs``.
    Records without the mixture (simulation ``schema`` < 4) count in ``pairs`` and ``uniform``
    only (``mixture_pairs``: those with it)."""
    c = dict.fromkeys(("pairs", "uniform", "mixture_pairs", "mixture", "uniform_part_pairs", "uniform_part",
                       "reference_pairs", "reference"), 0)
    for sm in sims:
        for v in sm["kinds"].values():
            tb = v.get("theory_below") or {}
            if tb.get("agree") is None:
                continue
            c["pairs"] += 1
            c["uniform"] += bool(tb["agree"])
            mb = v.get("mixture_below") or {}
            if mb.get("agree") is not None:
                c["mixture_pairs"] += 1
                c["mixture"] += bool(mb["agree"])
            if mb.get("ratio_uniform") is not None:
                c["uniform_part_pairs"] += 1
                c["uniform_part"] += abs(mb["ratio_uniform"] - 1.0) <= 0.10
            rb = v.get("reference_below") or {}
            if rb.get("ratio") is not None:
                c["reference_pairs"] += 1
                c["reference"] += abs(rb["ratio"] - 1.0) <= 0.01
    return c


def counts_line(c: dict) -> str:
    """:func:`simulation_counts` in one sentence (the ``simulate`` command prints it, ``summary.md`` holds it)."""
    mix = (f"reset-aware mixture {c['mixture']} of {c['mixture_pairs']}" if c["mixture_pairs"]
           else "reset-aware mixture: not in these records")
    return (f"Within 10% of the theory (sample below each crossing): {mix} (simulation, kind) pairs; "
            f"uniform phase at every crossing {c['uniform']} of {c['pairs']}; uniform phase at the crossings "
            f"not from a reset {c['uniform_part']} of {c['uniform_part_pairs']}. Exact integrals within 1% of "
            f"the midpoint-rule reference: {c['reference']} of {c['reference_pairs']}.")


def summary_markdown(rows, sims=()) -> str:
    lines = ["# Overshoot study: summary", "",
             ("Generated from `overshoot.csv` (test accuracy at the best-validation epoch; mean +- sample "
             "std over seeds)."), "",
             ("| dataset | kind | scheme | readout | dt/tau | steps | seeds | test acc | mean ds/du at crossings "
             "| frac ds/du != 0 |"), "|---|---|---|---|---|---|---|---|---|---|"]
    for key, ds in groups(rows).items():
        m, s = mean_std([d["test_acc"] for d in ds])
        g = mean([d["mean_grad_at_crossings"] for d in ds])
        nz = mean([d["frac_nonzero_grad"] for d in ds])
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]:g} | {ds[0]['steps']} | {len(ds)} "
                     f"| {m:.4f} +- {s:.4f} | {'' if g is None else f'{g:.4g}'} | {nz:.3f} |")
    if sims:
        lines += ["", "## Random-weight simulation: ds/du at the sample below each crossing", "",
                  counts_line(simulation_counts(sims)), "",
                  ("`uniform`: the uniform phase at every crossing; `mixture`: the gradient at the pinned "
                   "sample for crossings from a reset, the uniform phase for the others; `non-reset ratio`: "
                   "simulated / uniform phase over the crossings not from a reset. `from reset`: the kind's "
                   "crossings (a quantised kind's at its firing threshold)."), "",
                  ("| dataset | scheme | dt/tau | crossings | median dU | from reset | kind | simulated | uniform "
                   "| ratio | mixture | ratio | non-reset ratio |"), "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for sm in sims:
            for k, v in sm["kinds"].items():
                tb = v.get("theory_below") or {}
                if tb.get("mean_sim") is None:
                    continue
                mb = v.get("mixture_below") or {}
                mix = "| |" if mb.get("mean_theory") is None else f"| {mb['mean_theory']:.4g} | {mb['ratio']:.3f} |"
                ru = mb.get("ratio_uniform")
                lines.append(
                    f"| {sm['dataset']} | {sm['scheme']} | {sm['dt_over_tau']:g} | {v.get('n_crossings', sm['n_crossings'])} "
                    f"| {sm['du_quantiles'][2]:.4g} | {v.get('frac_from_reset', sm['frac_from_reset']):.2f} | {k} "
                    f"| {tb['mean_sim']:.4g} | {tb['mean_theory']:.4g} | {tb['ratio']:.3f} {mix} "
                    f"{'' if ru is None else f'{ru:.3f}'} |")
    return "\n".join(lines) + "\n"


def _pyplot():
    """matplotlib's pyplot on the Agg backend, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt, out, name, fig, written):
    from ..atomic import atomic_write

    p = Path(out) / name
    with atomic_write(p, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    written.append(p)


def plot_runs(out, rows) -> list:
    """``accuracy_vs_dt.png`` from the CSV rows (needs matplotlib; the written paths, [] without)."""
    plt, written = _pyplot(), []
    datasets = sorted({d["dataset"] for d in rows})
    if plt is None or not datasets:
        return written
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    g = groups([d for d in rows if d["scheme"] == "exact"])
    for ax, ds in zip(axes[0], datasets):
        for kind in sorted({k[1] for k in g if k[0] == ds}):
            pts = sorted((k[4], mean_std([d["test_acc"] for d in v])) for k, v in g.items()
                         if k[0] == ds and k[1] == kind)
            ax.errorbar([p[0] for p in pts], [p[1][0] for p in pts], yerr=[p[1][1] for p in pts],
                        marker="o", capsize=3, label=kind)
        ax.set_xscale("log", base=2)
        ax.set(title=ds, xlabel="dt / tau", ylabel="test accuracy")
    axes[0][0].legend(fontsize=7)
    _save(plt, out, "accuracy_vs_dt.png", fig, written)
    return written


def plot_sims(out, sims) -> list:
    """``grad_at_crossings_theory_vs_sim.png`` and ``hist_u_at_crossings.png`` from the
    simulation records (needs matplotlib; the written paths, [] without)."""
    plt, written = _pyplot(), []
    if plt is None or not sims:
        return written
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind in sorted({k for s in sims for k in s["kinds"]}):
        pts = [(s["dt_over_tau"], s["kinds"][kind]["theory_below"]) for s in sims
               if s["scheme"] == "exact" and kind in s["kinds"] and s["kinds"][kind].get("theory_below")]
        pts = [(dt, t) for dt, t in pts if t.get("mean_sim") is not None]
        if not pts:
            continue
        line = ax.plot([p[0] for p in pts], [p[1]["mean_sim"] for p in pts], "o-", label=kind)[0]
        ax.plot([p[0] for p in pts], [p[1]["mean_theory"] for p in pts], "x--", color=line.get_color())
        mix = [(s["dt_over_tau"], s["kinds"][kind]["mixture_below"]["mean_theory"]) for s in sims
               if s["scheme"] == "exact" and kind in s["kinds"]
               and (s["kinds"][kind].get("mixture_below") or {}).get("mean_theory") is not None]
        if mix:
            ax.plot([m[0] for m in mix], [m[1] for m in mix], "+:", color=line.get_color())
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set(xlabel="dt / tau", ylabel="mean ds/du below crossings",
           title="simulation (o) vs theory: uniform phase (x), reset-aware mixture (+)")
    ax.legend(fontsize=6)
    _save(plt, out, "grad_at_crossings_theory_vs_sim.png", fig, written)
    fig, ax = plt.subplots(figsize=(6, 4))
    for s in [s for s in sims if s["scheme"] == "exact"]:
        e = s["hist_edges"]
        ax.stairs(s["hist_above"], e, label=f"{s['dataset']} dt/tau={s['dt_over_tau']:g}")
    ax.set(xlabel="u - theta at the crossing step", ylabel="count", yscale="log")
    ax.legend(fontsize=6)
    _save(plt, out, "hist_u_at_crossings.png", fig, written)
    return written


def plots(out, rows, sims) -> list:
    """PNG figures: :func:`plot_runs` then :func:`plot_sims` (the written paths)."""
    return plot_runs(out, rows) + plot_sims(out, sims)


def simulation_reports(out) -> dict:
    """The simulation's part of :func:`write_reports`, done ahead: the records under ``out`` and
    their figures (:func:`plot_sims`).  Call it once the simulation is complete (nothing else
    writes ``OUT/sim`` before the reports) and pass it to :func:`write_reports` as ``sims=``:
    the ``overshoot`` command draws them while worker processes train."""
    sims = load_sims(out, scheme=None)
    return {"sims": sims, "plots": [str(p) for p in plot_sims(out, sims)]}


def write_reports(out, *, sims=None) -> dict:
    """Write ``overshoot.csv``, ``summary.md`` (and plots) from the files under ``out``;
    ``sims``: the simulation's part already done (:func:`simulation_reports`)."""
    rows = csv_rows(load_runs(out))
    done = sims or {"sims": load_sims(out, scheme=None), "plots": None}
    write_text_atomic(Path(out) / "overshoot.csv", csv_text(rows))
    write_text_atomic(Path(out) / "summary.md", summary_markdown(rows, done["sims"]))
    figs = [str(p) for p in plot_runs(out, rows)]
    figs += done["plots"] if done["plots"] is not None else [str(p) for p in plot_sims(out, done["sims"])]
    return {"rows": len(rows), "plots": figs}
