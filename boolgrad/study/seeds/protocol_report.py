"""``OUT/seeds_protocol.md`` and plots from the protocol runs of seeds 002 and 003 (never reruns).

Reads ``OUT/seed002`` and ``OUT/seed003`` (each a ``protocol.json`` and ``runs/*.json``,
:mod:`boolgrad.study.seeds.protocol`).  Every cell is its final seeds' mean and 95% bootstrap
interval (:func:`boolgrad.study.inference.cell_interval`); comparisons are seed-paired intervals
(:func:`~boolgrad.study.inference.paired_difference`: seed ``s`` of two cells shares its initial
weights and data order).  Each seed's question is answered in one generated paragraph; the blog's
claim gets the verdict of :func:`~boolgrad.study.seeds.protocol.claim_verdict`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path

from ...atomic import write_text_atomic
from ..inference import cell_interval, paired_difference

__all__ = ["load_folder", "write_protocol_report"]


def _key(identity: dict) -> str:
    d = dict(identity)
    d.pop("lr", None)
    d.pop("seed", None)
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def load_folder(folder) -> tuple[dict | None, list]:
    """``(protocol.json or None, [result dicts])`` of one seed's folder (unreadable files skipped)."""
    folder = Path(folder)
    prot = None
    if (folder / "protocol.json").is_file():
        prot = json.loads((folder / "protocol.json").read_text())
    rows = []
    for p in sorted((folder / "runs").glob("*.json")):
        try:
            r = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(r, dict) and isinstance(r.get("config"), dict) and "test_acc" in r:
            rows.append(r)
    return prot, rows


def _ci(iv, digits=3, sign="") -> str:
    """``mean [low, high]`` of an interval (``sign="+"``: signed, for differences)."""
    if iv is None or iv.n == 0:
        return "-"
    f = f"{sign}.{digits}f"
    if not iv.defined:
        return f"{iv.mean:{f}} (n = {iv.n})"
    return f"{iv.mean:{f}} [{iv.low:{f}}, {iv.high:{f}}]"


def _dci(iv, digits=3) -> str:
    return _ci(iv, digits, "+")


def _by_seed(rows, field="test_acc") -> dict:
    return {r["seed"]: r.get(field) for r in rows}


def _finals(prot, rows) -> list:
    """``[(entry, config of the cell, [final runs])]`` for the searched cells of ``protocol.json``."""
    if not prot:
        return []
    seeds = prot["protocol"]["seeds"]
    by = defaultdict(list)
    for r in rows:
        by[_key(r["config"])].append(r)
    out = []
    for e in prot["cells"]:
        if e.get("fixed"):
            continue
        fin = [r for r in by.get(e["cell"], []) if r["config"]["lr"] == e["lr"] and r["config"]["seed"] < seeds]
        out.append((e, json.loads(e["cell"]), sorted(fin, key=lambda r: r["config"]["seed"])))
    return out


def _lr(e) -> str:
    edge = f" (edge: {e['at_edge']})" if e.get("at_edge") else ""
    return f"{e['lr']:g}{edge}"


def _cost(rows) -> str:
    s = sum(r.get("train_seconds") or 0.0 for r in rows)
    return (f"{len(rows)} runs, {s:.0f} s = {s / 3600:.2f} h of training (the sum of the runs' `train_seconds`, "
            "one thread each)")


# -- seed 002 ---------------------------------------------------------------------------------------
def _blog_rows(rows):
    """The blog table's runs: batch 1, the epoch cap, validation per epoch, no early stopping."""
    from .seed002 import BLOG_LRS

    return [r for r in rows if r["config"].get("experiment") == "seed002" and r["config"].get("select") == "val"
            and r["config"]["batch_size"] == 1 and "updates" not in r["config"] and "patience" not in r["config"]
            and r["config"]["model"] in ("central", "multi") and r["config"]["lr"] in BLOG_LRS]


def _nested(rows, field):
    d = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        d[r["config"]["model"]][r["config"]["lr"]][r["config"]["seed"]] = r.get(field)
    return d


def _md_002(prot, rows, plots):
    lines = []
    for ds in sorted({r["dataset"] for r in rows}):
        p = prot and {**prot, "cells": [c for c in prot["cells"] if c.get("dataset") == ds]}
        lines += _md_002_dataset(ds, p, [r for r in rows if r["dataset"] == ds], plots)
    return lines


def _md_002_dataset(ds, prot, rows, plots):
    from .protocol import COLLAPSE, HIGH_LRS, MARGIN, claim_verdict
    from .seed002 import BLOG, BLOG_LRS

    lines = [f"## Seed 002 under the protocol: multi-threshold vs central-threshold ({ds})", ""]
    blog = _blog_rows(rows)
    datasets = [ds]
    if blog:
        acc, val, last = _nested(blog, "test_acc"), _nested(blog, "val_acc"), _nested(blog, "test_acc_last")
        seeds = sorted({r["config"]["seed"] for r in blog})
        epochs = blog[0]["config"]["epochs"]
        cv = claim_verdict(acc, val)
        cl = claim_verdict(last, val)
        para = (f"**Is the multi-threshold model robust to the learning rate where the central one collapses?** "
                f"On {', '.join(datasets)}, batch 1, {epochs} epoch{'s' if epochs != 1 else ''} (the blog trains 4), "
                f"{len(seeds)} seeds per "
                f"learning rate, the test accuracy of the best validation epoch: ")
        bits = []
        for h in HIGH_LRS:
            p = cv["per_lr"][h]
            if p["diff"] is None:
                bits.append(f"at lr {h:g} no runs")
                continue
            bits.append(f"at lr {h:g} multi - central is {_dci(p['diff'])} and the central model's drop from "
                        f"lr {cv['ref_lr']:g} is {_dci(p['drop'])}"
                        + (f" (the multi model's drop from lr {cv['multi_ref_lr']:g}: {_dci(p['multi_drop'])})"
                           if p.get("multi_drop") is not None else "")
                        + f": {p['verdict']}")
        para += "; ".join(bits) + ". "
        para += (f"By the rule fixed before the runs (holding at a rate if multi - central excludes 0 above and "
                 f"central surely loses more than {COLLAPSE:g}; not holding if multi - central is surely below "
                 f"{MARGIN:g} or central surely loses less than {COLLAPSE:g}; 95% seed-paired bootstrap intervals) "
                 f"the blog's claim is **{cv['verdict']}**; on the last epoch's weights (the blog's own number) "
                 f"it is {cl['verdict']}.")
        lines += [para, "",
                  ("Test accuracy, mean [95% CI] over seeds, of the best validation epoch and (columns 'last epoch', "
                   "the blog's own measure) of the last epoch's weights; the blog's MNIST numbers:"), "",
                  ("| lr | central | multi | multi - central (paired) | central, last epoch | multi, last epoch | "
                   "diverged (central / multi) | blog central / multi |"), "|---" * 8 + "|"]
        div = _nested(blog, "diverged")
        for lr in sorted(set(acc["central"]) | set(acc["multi"])):
            c, m = acc["central"].get(lr, {}), acc["multi"].get(lr, {})
            b = BLOG.get(lr)
            nd = lambda mm: f"{sum(bool(v) for v in div[mm].get(lr, {}).values())}/{len(div[mm].get(lr, {}))}"  # noqa
            lines.append(f"| {lr:g} | {_ci(cell_interval(c))} | {_ci(cell_interval(m))} | "
                         f"{_dci(paired_difference(m, c)) if c and m else '-'} | "
                         f"{_ci(cell_interval(last['central'].get(lr, {})))} | "
                         f"{_ci(cell_interval(last['multi'].get(lr, {})))} | {nd('central')} / {nd('multi')} | "
                         f"{f'{b[0]} / {b[1]}' if b else '-'} |")
        lines.append("")
        if plots is not None:
            plots.append((f"seed002_blog_{ds}", acc, BLOG_LRS))
    fin = _finals(prot, rows)
    if fin:
        lines += _batches_002(prot, fin)
    lines += [f"Cost: {_cost(rows)}.", ""]
    return lines


def _regime(cfg) -> str:
    return "equal updates" if cfg.get("updates") else "equal epochs"


def _batches_002(prot, fin):
    cells = defaultdict(dict)
    for e, cfg, runs in fin:
        cells[_regime(cfg)][(cfg["model"], cfg["batch_size"])] = (e, cfg, runs)
    lines = []
    summary = []
    for regime in ("equal updates", "equal epochs"):
        if regime not in cells:
            continue
        g = cells[regime]
        any_cfg = next(iter(g.values()))[1]
        budget = (f"{any_cfg['updates']} updates for every batch size, validation every {any_cfg['val_every']}, "
                  f"patience {any_cfg['patience']} checks" if regime == "equal updates"
                  else f"{any_cfg['epochs']} epochs for every batch size, validation every epoch")
        lines += [f"### Batch sizes at {regime} ({budget}); learning rate searched on validation", "",
                  ("| model | batch | chosen lr | test acc [95% CI] | epochs run (median) | best check at update "
                   "(median) | vs batch 1 (paired) |"), "|---" * 7 + "|"]
        for model in ("central", "multi"):
            base = g.get((model, 1))
            for b in sorted(k[1] for k in g if k[0] == model):
                e, cfg, runs = g[(model, b)]
                acc = _by_seed(runs)
                med = lambda f: sorted(r.get(f) or 0 for r in runs)[len(runs) // 2] if runs else math.nan  # noqa
                vs = "-"
                if base is not None and b != 1 and base[2] and runs:
                    d = paired_difference(acc, _by_seed(base[2]))
                    vs = _dci(d)
                    summary.append((regime, model, b, d))
                lines.append(f"| {model} | {b} | {_lr(e)} | {_ci(cell_interval(acc))} | "
                             f"{med('epochs_done'):.1f} | {med('best_updates'):.0f} | {vs} |")
        lines.append("")
        rows = []
        for b in sorted({k[1] for k in g}):
            if ("central", b) in g and ("multi", b) in g:
                d = paired_difference(_by_seed(g[("multi", b)][2]), _by_seed(g[("central", b)][2]))
                rows.append(f"batch {b}: {_dci(d)}")
        if rows:
            lines += [f"multi - central at {regime}, each at its chosen rate (paired by seed): " + "; ".join(rows)
                      + ".", ""]
    if summary:
        words = []
        for regime, model, b, d in summary:
            w = ("higher than" if d.defined and d.low > 0 else "lower than" if d.defined and d.high < 0 else
                 "equivalent within 0.02 to" if d.defined and -0.02 < d.low and d.high < 0.02 else
                 "inconclusive vs")
            words.append(f"{model} at batch {b}, {regime}: {w} batch 1 ({_dci(d)})")
        lines = [("**Does the batch size matter once the learning rate is searched?** Test accuracy of each "
                  "batch size minus batch 1's, seed-paired 95% intervals: " + "; ".join(words) + "."), ""] + lines
    return lines


# -- seed 003 ---------------------------------------------------------------------------------------
def _md_003(prot, rows, plots):
    fin = _finals(prot, rows)
    if not fin:
        return []
    lines = ["## Seed 003 under the protocol: a learnable threshold, Boolean `wrt=\"theta\"` vs surrogate `-g`", "",
             ("| dataset | neuron | kind | chosen lr (theta: x1/3) | test acc [95% CI] | best epoch (median) | "
              "theta at best epoch [CI] | theta max moved [CI] | steps with theta grad != 0 |"), "|---" * 9 + "|"]
    g = {}
    for e, cfg, runs in fin:
        g[(cfg["dataset"], cfg["neuron"], cfg["kind"])] = (e, cfg, runs)
        be = sorted(r.get("best_epoch") or 0 for r in runs)
        lines.append(f"| {cfg['dataset']} | {cfg['neuron']} | {cfg['kind']} | {_lr(e)} | "
                     f"{_ci(cell_interval(_by_seed(runs)))} | {be[len(be) // 2] if be else '-'} | "
                     f"{_ci(cell_interval(_by_seed(runs, 'theta_final')))} | "
                     f"{_ci(cell_interval(_by_seed(runs, 'theta_max_moved')))} | "
                     f"{_ci(cell_interval(_by_seed(runs, 'frac_steps_theta_grad_nonzero')))} |")
    lines.append("")
    words = []
    for (ds, neuron, kind), (e, cfg, runs) in sorted(g.items()):
        if kind != "boolean_fixed16.8" or (ds, neuron, "arctan") not in g:
            continue
        other = g[(ds, neuron, "arctan")][2]
        d = paired_difference(_by_seed(runs), _by_seed(other))
        w = ("better" if d.defined and d.low > 0 else "worse" if d.defined and d.high < 0 else
             "equivalent within 0.02" if d.defined and -0.02 < d.low and d.high < 0.02 else "inconclusive")
        mv = cell_interval(_by_seed(runs, "theta_max_moved"))
        words.append(f"{ds}, {neuron}: Boolean - surrogate {_dci(d)} ({w}); the Boolean threshold moved up to "
                     f"{_ci(mv)} from 0.5")
    if words:
        lines = lines[:2] + [(
            "**Can the threshold be learned, and does the exact Boolean threshold gradient do as well as the "
            "surrogate's `-g`?** Each kind with its own learning rate searched on validation (the threshold's and "
            "leak's rate a third of it), early stopping, test accuracy of the best validation epoch, seed-paired "
            "95% intervals: " + "; ".join(words) + ". The thresholds' trajectories are in "
            "`seeds_protocol/seed003_theta.png`."), ""] + lines[2:]
    if plots is not None:
        plots.append(("seed003_theta", g, None))
    return lines + [f"Cost: {_cost(rows)}.", ""]


# -- plots, CSV -------------------------------------------------------------------------------------
def _plots(todo, folder) -> list:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from .report import _save

    made = []
    for name, data, extra in todo:
        if name.startswith("seed002_blog"):
            fig, ax = plt.subplots(figsize=(6, 4))
            for model, by_lr in sorted(data.items()):
                lrs = sorted(by_lr)
                ivs = [cell_interval(by_lr[lr]) for lr in lrs]
                y = [iv.mean for iv in ivs]
                err = [[iv.mean - iv.low if iv.defined else 0 for iv in ivs],
                       [iv.high - iv.mean if iv.defined else 0 for iv in ivs]]
                ax.errorbar(lrs, y, err, marker="o", capsize=3, label=f"{model} (95% CI)")
            from .seed002 import BLOG

            for i, model in enumerate(("central", "multi")):
                ax.plot(sorted(BLOG), [BLOG[lr][i] for lr in sorted(BLOG)], ls=":", marker="x",
                        label=f"blog MNIST {model}")
            ax.set(xscale="log", xlabel="learning rate", ylabel="test accuracy",
                   title=f"seed 002, {name.removeprefix('seed002_blog_')}: the blog's table (batch 1)")
            ax.legend(fontsize=7)
            made.append(_save(fig, folder / f"{name}.png"))
        elif name == "seed003_theta":
            keys = sorted({(ds, n) for ds, n, _ in data})
            fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.6), squeeze=False)
            for ax, (ds, n) in zip(axes[0], keys):
                for i, kind in enumerate(sorted({k for d, nn, k in data if (d, nn) == (ds, n)})):
                    runs = data[(ds, n, kind)][2]
                    paths = [r.get("theta_path") or [] for r in runs]
                    for p in paths:
                        ax.plot(range(len(p)), p, color=f"C{i}", alpha=0.25, lw=0.8)
                    longest = max((len(p) for p in paths), default=0)
                    mean = [sum(p[t] for p in paths if len(p) > t) / max(1, sum(len(p) > t for p in paths))
                            for t in range(longest)]
                    ax.plot(range(longest), mean, color=f"C{i}", lw=2, label=f"{kind} (mean of {len(paths)})")
                ax.set(xlabel="epoch", ylabel="threshold theta", title=f"seed 003: {ds}, {n}")
                ax.legend(fontsize=7)
            made.append(_save(fig, folder / "seed003_theta.png"))
    return made


CSV_COLS = ("seed_id", "dataset", "model", "neuron", "kind", "batch_size", "updates", "epochs", "lr", "seed",
            "test_acc", "test_acc_last", "val_acc", "best_epoch", "epochs_done", "stopped_epoch", "theta_final",
            "diverged", "train_seconds", "hash")


def _csv(rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    flat = [{**r["config"], **{k: v for k, v in r.items() if k != "config"},
             "seed_id": r["config"].get("experiment", "")[-3:]} for r in rows]
    for r in sorted(flat, key=lambda r: tuple(str(r.get(c)) for c in CSV_COLS)):
        w.writerow({c: r.get(c) for c in CSV_COLS})
    return buf.getvalue()


def write_protocol_report(out) -> dict:
    """Write ``OUT/seeds_protocol.md``, ``OUT/seeds_protocol/*.csv`` and plots; returns
    ``{"runs": n, "plots": [paths]}``."""
    out = Path(out)
    p2, r2 = load_folder(out / "seed002")
    p3, r3 = load_folder(out / "seed003")
    todo = []
    md = ["# Seeds 002 and 003 under the study's protocol", "",
          ("Generated by `boolgrad study seeds --protocol` from the runs in this folder (protocol: "
           "docs/seeds_experiments.md). Cells: mean [95% bootstrap CI] over the final seeds; comparisons are "
           "seed-paired."), ""]
    if r2:
        md += _md_002(p2, r2, todo)
    if r3:
        md += _md_003(p3, r3, todo)
    folder = out / "seeds_protocol"
    write_text_atomic(out / "seeds_protocol.md", "\n".join(md) + "\n")
    for name, rows in (("seed002", r2), ("seed003", r3)):
        if rows:
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(folder / f"{name}.csv", _csv(rows))
    return {"runs": len(r2) + len(r3), "plots": _plots(todo, folder)}
