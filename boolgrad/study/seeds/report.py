"""Result files -> ``OUT/seeds/seed00N.csv``, ``OUT/seeds.md`` and plots (never recomputes a run).

Cells are mean +- sample std (ddof 1) over seeds.  Plots (matplotlib, if installed) read the
result files only: seed 002 accuracy vs learning rate per model, seed 000 bar chart, seed 003
learned-threshold and leak histograms.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from functools import partial
from pathlib import Path

from ...atomic import write_text_atomic
from ..stats import fmt_pm, mean_std, quantiles

__all__ = ["answer_000", "load_runs", "write_reports"]

#: the seeds' cells over seeds (:mod:`boolgrad.study.stats`): non-finite values dropped and numpy's
#: pairwise sums, as this report has always summarised them (``seeds.md`` stays bit for bit)
_pm = partial(fmt_pm, finite=True, pairwise=True)
_ms = partial(mean_std, finite=True, pairwise=True)

COLS = {
    "seed002": (
        "dataset",
        "model",
        "kind",
        "impl",
        "lr",
        "batch_size",
        "epochs",
        "seed",
        "test_acc",
        "final_loss",
        "diverged",
        "frac_active",
        "samples_per_second",
        "hash",
    ),
    "seed000": (
        "dataset",
        "method",
        "depth",
        "lr",
        "batch_size",
        "seed",
        "test_acc",
        "train_acc",
        "test_acc_last_finite",
        "diverged_at_sample",
        "frac_wrong_direction",
        "frac_negative_factor",
        "abs_cos_init_final_min",
        "frac_weights_sign_flipped",
        "bias_moved",
        "frac_nonzero_weight_grad",
        "hash",
    ),
    "seed003": (
        "dataset",
        "neuron",
        "kind",
        "learn_leak",
        "seed",
        "test_acc",
        "theta_init",
        "theta_final",
        "theta_moved",
        "frac_steps_theta_grad_nonzero",
        "mean_abs_theta_grad",
        "firing_rate",
        "hash",
    ),
}


def load_runs(out) -> dict:
    runs = defaultdict(list)
    for p in sorted((Path(out) / "seeds" / "runs").glob("*.json")):  # apart from the study's runs
        try:
            r = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(r, dict) and r.get("experiment") in COLS and "test_acc" in r:
            r = {**r.get("config", {}), **r}
            runs[r["experiment"]].append(r)
    return runs


def _csv(rows, cols):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: tuple(str(r.get(c)) for c in cols)):
        w.writerow({c: r.get(c) for c in cols})
    return buf.getvalue()


def _group(rows, keys):
    g = defaultdict(list)
    for r in rows:
        g[tuple(r.get(k) for k in keys)].append(r)
    return g


def _md_002(rows):
    from .seed002 import BLOG

    lines = ["## Seed 002: multi-threshold vs central-threshold (test accuracy, mean +- std over seeds)", ""]
    for ds in sorted({r["dataset"] for r in rows}):
        d = [r for r in rows if r["dataset"] == ds]
        for b in sorted({r["batch_size"] for r in d if not r["kind"]}):
            g = _group(
                [r for r in d if r["batch_size"] == b and not r["kind"] and r["impl"] == "batched"],
                ("lr", "model"),
            )
            lines += [
                f"### {ds}, batch size {b}, ReLU models (blog shape)",
                "",
                "| learning rate | central-threshold | multi-threshold | blog (MNIST) central / multi |",
                "|---|---|---|---|",
            ]
            for lr in sorted({k[0] for k in g}):
                cen, mul = (_pm([r["test_acc"] for r in g.get((lr, m), [])]) for m in ("central", "multi"))
                blog = BLOG.get(lr)
                lines.append(f"| {lr:g} | {cen} | {mul} | {f'{blog[0]} / {blog[1]}' if blog else '-'} |")
            lines.append("")
        sp = [r for r in d if r["kind"]]
        if sp:
            g = _group(sp, ("lr", "model", "kind"))
            cols = sorted({(k[1], k[2]) for k in g})
            lines += [
                (f"### {ds}, spiking versions (batch {sp[0]['batch_size']}): `H(sum W I - t)` vs "
                 "`sum H(W I - t)`"),
                "",
                "| learning rate | " + " | ".join(f"{m} / {k}" for m, k in cols) + " |",
                "|---" * (len(cols) + 1) + "|",
            ]
            for lr in sorted({k[0] for k in g}):
                lines.append(
                    f"| {lr:g} | "
                    + " | ".join(_pm([r["test_acc"] for r in g.get((lr, m, k), [])]) for m, k in cols)
                    + " |"
                )
            lines.append("")
        spd = _group([r for r in d if not r["kind"]], ("model", "impl", "batch_size"))
        lines += [
            f"### {ds}: training throughput (samples/s, mean over runs)",
            "",
            "| model | implementation | batch | samples/s |",
            "|---|---|---|---|",
        ]
        for (m, impl, b), rs in sorted(spd.items()):
            lines.append(f"| {m} | {impl} | {b} | {_ms([r['samples_per_second'] for r in rs])[0]:.0f} |")
        lines.append("")
    return lines


#: seed 000's additive rules: the question's hidden credit, and the credit weighted by W2
ADDITIVE = ("additive", "additive_weighted")


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``k / n`` (95% for the default ``z``; Wilson 1927)."""
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)) ** 0.5
    return max(0.0, centre - half), min(1.0, centre + half)


def _acc_range(rs) -> str:
    """``mean [min, max]`` of the test accuracy over the runs (seeds)."""
    v = _finite(r.get("test_acc") for r in rs)
    return f"{_ms(v)[0]:.3f} [{min(v):.3f}, {max(v):.3f}]"


def _norms_finite(r) -> bool:
    q = r.get("norm_ratio_quantiles") or []
    return bool(q) and all(x is not None and math.isfinite(x) for x in q)


def _cells(rows, dataset, depth, rules) -> str:
    """``dataset: rule acc, ..., backprop `kind` (best kind) acc`` at one depth."""
    from .seed000 import UPDATE_RULES

    by = _group([r for r in rows if r["dataset"] == dataset and r.get("depth") == depth], ("method",))
    cell = [f"{m} {_acc_range(by[(m,)])}" for m in rules if (m,) in by]
    bp = [k[0] for k in by if k[0] not in UPDATE_RULES]
    if bp:
        best = max(bp, key=lambda m: _ms([r["test_acc"] for r in by[(m,)]])[0])
        cell.append(f"backprop `{best}` (best kind) {_acc_range(by[(best,)])}")
    return f"{dataset}: " + ", ".join(cell)


def answer_000(rows) -> list:
    """Seed 000's question ("why wouldn't it work?") answered in one paragraph: the theorem
    (:mod:`boolgrad.proofs.nudging_direction`) and what the nudge runs measured, every number
    from ``rows``; ``[]`` without nudge runs."""
    nudge = [r for r in rows if r.get("method") == "nudge"]
    if not nudge:
        return []
    n = len(nudge)
    fin = [r for r in nudge if _norms_finite(r) and r.get("abs_cos_init_final_min") is not None]
    gap = max(1 - r["abs_cos_init_final_min"] for r in fin) if fin else None
    over = [r for r in nudge if r not in fin]
    div = sorted(r["diverged_at_sample"] for r in nudge if r.get("diverged_at_sample"))
    lo, hi = _wilson(len(div), n)
    wrong = _finite(r.get("frac_wrong_direction") for r in nudge)
    text = (
        "**Why wouldn't it work?** The nudge `w <- (1 - lr d) w` multiplies each unit's weight row by a "
        "number, so no row ever turns: after any updates `w = C w0`, the unit fires on "
        "`{x : w0 . x >= theta / C}` (the side flipped when `C < 0`), a parallel shift of its initial "
        "hyperplane, and a bias initialised at 0 stays 0 (theorem `nudging_direction` of `boolgrad prove`; "
        "figure 10). With one unit per class the rule fits one number per unit, whatever the input size. "
        f"The {n} nudge runs agree: "
    )
    if fin:
        text += f"1 - |cos(W0, W)| <= {gap:.1e} for every unit of the {len(fin)} runs whose "
        text += "weight norms stay finite"
        if over:
            vals = ", ".join("missing" if r.get("abs_cos_init_final_min") is None
                             else f"{r['abs_cos_init_final_min']:.4f}" for r in over)
            text += (f" (in the other {len(over)} the norms overflow float64 and the stored |cos| is {vals}: "
                     "an overflowed norm, not a turn)")
        text += "; "
    text += f"the bias moved in {sum(bool(r.get('bias_moved')) for r in nudge)} of {n}; "
    text += f"the weights overflowed float64 in {len(div)} of {n} runs "
    text += f"(95% Wilson interval {lo:.2f}-{hi:.2f})"
    if div:
        text += f", at sample {div[len(div) // 2]} (median; {div[0]}-{div[-1]})"
    text += (f"; and {min(wrong):.0%}-{max(wrong):.0%} of the updates moved the sample's net input away from "
             "its target (a unit that should fire with `n < 0` is scaled up). ")
    datasets = sorted({r["dataset"] for r in nudge})
    methods = {r.get("method") for r in rows}
    text += ("Test accuracy of one layer, mean [min, max] over seeds: "
             + "; ".join(_cells(rows, ds, 1, ("nudge", "perceptron", "additive")) for ds in datasets) + ". "
             "The smallest change that learns keeps the question's error but adds it along the input, "
             "`w <- w - lr d x` (method `additive`: the perceptron with a step proportional to the "
             "violation), which turns the boundary (figure 10)")
    text += "." if "additive" in methods else "; it is not in these runs yet."
    if set(ADDITIVE) <= methods:
        text += (" With a hidden layer the question's credit `d_h = sum_j d_j` ignores whether unit `h` "
                 "excites or inhibits output `j`; weighted by the outgoing weights, `d_h = sum_j W2_jh d_j` "
                 "(method `additive_weighted`: backprop of the same error with the straight-through "
                 "derivative), it is the delta rule through the hidden layer. Two layers: "
                 + "; ".join(_cells(rows, ds, 2, ("nudge", *ADDITIVE)) for ds in datasets) + ".")
    return [text, ""]


def _md_000(rows):
    lines = [
        "## Seed 000: weight nudging vs perceptron vs backprop through step units",
        "",
        *answer_000(rows),
        "| dataset | depth | method | test acc | train acc | diagnostics |",
        "|---|---|---|---|---|---|",
    ]
    for (ds, depth, m), rs in sorted(_group(rows, ("dataset", "depth", "method")).items()):
        diag = ""
        if m == "nudge":
            div = [r["diverged_at_sample"] for r in rs if r.get("diverged_at_sample")]
            diag = (
                f"overflow in {len(div)}/{len(rs)} runs (median sample {sorted(div)[len(div) // 2]}); "
                if div
                else ""
            ) + (
                f"wrong-direction updates {_pm([r['frac_wrong_direction'] for r in rs], 3)}; "
                f"min abs cos(W0, W) {min(_finite(r['abs_cos_init_final_min'] for r in rs)):.6f}; "
                f"negative factors {_pm([r['frac_negative_factor'] for r in rs], 4)}; "
                f"bias moved: {any(r['bias_moved'] for r in rs)}; "
                f"acc of last finite weights {_pm([r['test_acc_last_finite'] for r in rs], 3)}"
            )
        elif rs[0].get("frac_nonzero_weight_grad") is not None:
            diag = (
                f"non-zero weight-gradient fraction {_pm([r['frac_nonzero_weight_grad'] for r in rs], 3)}"
            )
        lines.append(
            f"| {ds} | {depth} | {m} | {_pm([r['test_acc'] for r in rs], 3)} | "
            f"{_pm([r['train_acc'] for r in rs], 3)} | {diag} |"
        )
    return lines + [""]


def _q(v):
    return "/".join("-" if x is None else f"{x:.3f}" for x in v)


def _md_003(rows):
    lines = [
        "## Seed 003: halving neuron vs LIF, learnable threshold (and leak)",
        "",
        ("theta: one learnable threshold per layer (init 0.5); quantiles min/25/50/75/max over seeds; "
         "leak quantiles over all neurons of all seeds."),
        "",
        ("| dataset | neuron | kind | leak | test acc | theta final (quantiles) | abs theta moved | "
         "steps with theta grad != 0 | mean abs theta grad | leak quantiles |"),
        "|---" * 10 + "|",
    ]
    for (ds, n, k, lk), rs in sorted(_group(rows, ("dataset", "neuron", "kind", "learn_leak")).items()):
        leaks = [v for r in rs for v in r["leaks"]]
        lines.append(
            f"| {ds} | {n} | {k} | {'learn' if lk else 'fixed'} | {_pm([r['test_acc'] for r in rs], 3)} | "
            f"{_q(quantiles([r['theta_final'] for r in rs]))} | "
            f"{_pm([r['theta_moved'] for r in rs], 3)} | "
            f"{_pm([r['frac_steps_theta_grad_nonzero'] for r in rs], 3)} | "
            f"{_pm([r['mean_abs_theta_grad'] for r in rs], 4)} | {_q(quantiles(leaks))} |"
        )
    return lines + [""]


def plots(runs, out) -> list:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made, folder = [], Path(out) / "seeds"
    rows = runs.get("seed002", [])
    for ds in sorted({r["dataset"] for r in rows}):
        fig, ax = plt.subplots(figsize=(6, 4))
        for key, rs in sorted(
            _group(
                [r for r in rows if r["dataset"] == ds and r["impl"] == "batched"],
                ("model", "kind", "batch_size"),
            ).items()
        ):
            by = _group(rs, ("lr",))
            lrs = sorted(k[0] for k in by)
            ys = [_ms([r["test_acc"] for r in by[(lr,)]]) for lr in lrs]
            ax.errorbar(
                lrs,
                [y[0] for y in ys],
                [y[1] for y in ys],
                marker="o",
                capsize=3,
                label=f"{key[0]}{'/' + key[1] if key[1] else ''} b={key[2]}",
            )
        ax.set(xscale="log", xlabel="learning rate", ylabel="test accuracy", title=f"seed 002, {ds}")
        ax.legend(fontsize=6)
        made.append(_save(fig, folder / f"seed002_{ds}.png"))
    rows = runs.get("seed000", [])
    if rows:
        g = _group(rows, ("dataset", "depth", "method"))
        fig, ax = plt.subplots(figsize=(9, 4))
        keys = sorted(g)
        ms = [_ms([r["test_acc"] for r in g[k]]) for k in keys]
        ax.bar(range(len(keys)), [m[0] for m in ms], yerr=[m[1] for m in ms], capsize=2)
        ax.set_xticks(range(len(keys)), [f"{d}/{k}/{m}" for d, k, m in keys], rotation=90, fontsize=6)
        ax.set(ylabel="test accuracy", title="seed 000: nudging vs perceptron vs backprop")
        made.append(_save(fig, folder / "seed000.png"))
    rows = runs.get("seed003", [])
    if rows:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        for key, rs in sorted(_group(rows, ("neuron", "kind")).items()):
            a1.hist([r["theta_final"] for r in rs], bins=15, alpha=0.5, label="/".join(key))
            a2.hist(
                [v for r in rs if r["learn_leak"] for v in r["leaks"]],
                bins=30,
                alpha=0.5,
                label="/".join(key),
            )
        a1.set(xlabel="learned threshold", title="seed 003: thresholds (init 0.5)")
        a2.set(xlabel="learned leak", title="leaks (init 0.5)")
        a1.legend(fontsize=6)
        made.append(_save(fig, folder / "seed003_thresholds.png"))
    return made


def _save(fig, path):
    import matplotlib.pyplot as plt

    from ...atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
    return str(path)


def write_reports(out) -> dict:
    runs = load_runs(out)
    for exp, cols in COLS.items():
        if runs.get(exp):
            write_text_atomic(Path(out) / "seeds" / f"{exp}.csv", _csv(runs[exp], cols))
    md = ["# Seed experiments", ""]
    for exp, fn in (("seed002", _md_002), ("seed000", _md_000), ("seed003", _md_003)):
        if runs.get(exp):
            md += fn(runs[exp])
    write_text_atomic(Path(out) / "seeds.md", "\n".join(md) + "\n")
    return {"rows": sum(len(v) for v in runs.values()), "plots": plots(runs, out)}


def _finite(values):
    return [v for v in values if v is not None] or [float("nan")]
