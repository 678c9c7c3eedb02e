"""``OUT/seeds_protocol.md`` and plots from the protocol runs of seeds 000, 002 and 003 (never reruns).

Reads ``OUT/seed000``, ``OUT/seed002`` and ``OUT/seed003`` (each a ``protocol.json`` and ``runs/*.json``,
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
from .protocol_plots import plots

__all__ = ["answers", "load_folder", "seed_status", "status", "train_seconds", "write_protocol_report"]


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


def train_seconds(rows) -> float:
    """The runs' summed training time (each run's ``train_seconds``: one thread)."""
    return sum(r.get("train_seconds") or 0.0 for r in rows)


def _cost(rows) -> str:
    s = train_seconds(rows)
    return (f"{len(rows)} runs, {s:.0f} s = {s / 3600:.2f} h of training (the sum of the runs' `train_seconds`, "
            "one thread each)")


# -- seed 000 ---------------------------------------------------------------------------------------
#: seed 000's methods in the report's order: the question's rule, its additive repairs, backprop
ORDER_000 = ("nudge", "perceptron", "additive", "additive_weighted", "straight_through", "boolean_yj2025",
             "boolean_secant_clamp", "arctan")


#: how :func:`_word` phrases a difference standing alone, against a named baseline, and as better/worse
PLAIN = ("higher", "lower", "equivalent within {m:g}", "inconclusive")
THAN = ("higher than", "lower than", "equivalent within {m:g} to", "inconclusive vs")
BETTER = ("better", "worse", "equivalent within {m:g}", "inconclusive")


def _word(d, margin=0.02, phrases=PLAIN) -> str:
    """A seed-paired difference in words: up / down if its interval excludes 0, equivalent
    if it lies within +-``margin``, else inconclusive (``phrases`` in that order)."""
    up, down, same, unsure = phrases
    if not d.defined:
        return unsure
    if d.low > 0:
        return up
    if d.high < 0:
        return down
    return same.format(m=margin) if -margin < d.low and d.high < margin else unsure


def _median(runs, field):
    """The median (the upper of two middles) of ``field`` over the runs that have it; None if none."""
    vs = sorted(v for r in runs if (v := r.get(field)) is not None)
    return vs[len(vs) // 2] if vs else None


def _md_000(prot, rows):
    fin = _finals(prot, rows)
    if not fin:
        return []
    g = {(cfg["dataset"], cfg["depth"], cfg["method"]): (e, runs) for e, cfg, runs in fin}
    lines = ["## Seed 000 under the protocol: the nudging rule, its additive repair and backprop", "",
             ("| dataset | depth | method | chosen lr | test acc [95% CI] | best epoch (median) | "
              "min abs cos(W0, W) (median) | runs whose weights overflowed |"), "|---" * 8 + "|"]
    words = []
    for ds, depth in sorted({k[:2] for k in g}):
        here = {k[2] for k in g if k[:2] == (ds, depth)}
        for m in [m for m in ORDER_000 if m in here] + sorted(here - set(ORDER_000)):
            e, runs = g[(ds, depth, m)]
            cos = _median(runs, "abs_cos_init_final_min")
            over = sum(r.get("diverged_at_sample") is not None for r in runs) if "diverged_at_sample" in runs[0] else None
            lines.append(f"| {ds} | {depth} | {m} | {_lr(e)} | {_ci(cell_interval(_by_seed(runs)))} | "
                         f"{_median(runs, 'best_epoch')} | {'-' if cos is None else f'{cos:.6f}'} | "
                         f"{'-' if over is None else f'{over}/{len(runs)}'} |")
        acc = {m: _by_seed(g[(ds, depth, m)][1]) for m in ORDER_000 if (ds, depth, m) in g}
        bits = []
        for a, b in (("additive_weighted", "nudge"), ("additive_weighted", "straight_through"),
                     ("straight_through", "boolean_yj2025")):
            if a in acc and b in acc:
                d = paired_difference(acc[a], acc[b])
                bits.append(f"{a} - {b} {_dci(d)} ({_word(d)})")
        if bits:
            nud = f"the nudge reaches {_ci(cell_interval(acc['nudge']))}, " if "nudge" in acc else ""
            words.append(f"{ds}, depth {depth}: {nud}" + "; ".join(bits))
    lines.append("")
    if words:
        lines = lines[:2] + [(
            "**Why wouldn't the nudging rule work?** Because it cannot turn a weight vector: `W_j <- (1 - lr d_j) "
            "W_j` only rescales each unit's row, so every unit keeps its initial direction and fires on a "
            "parallel shift of its initial hyperplane, and a zero bias stays zero (`proofs/nudging_direction.py`, "
            "run by `boolgrad prove`; the column 'min abs cos' is 1 for the nudge). The smallest change that "
            "makes the idea learn adds the same error along the input (`W_j <- W_j - lr d_j x`: the perceptron "
            "with a step proportional to the violation) and, in a hidden layer, weights the credit by the "
            "outgoing weights (`additive_weighted`, which is backprop with the straight-through derivative). "
            "Each method with its own learning rate searched on validation, early stopping, the test accuracy "
            "of the best validation epoch, seed-paired 95% intervals: " + "; ".join(words) + "."), ""] + lines[2:]
    return lines + [f"Cost: {_cost(rows)}.", ""]


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
            words.append(f"{model} at batch {b}, {regime}: {_word(d, phrases=THAN)} batch 1 ({_dci(d)})")
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
              "ended by patience (not the cap) | theta at best epoch [CI] | theta max moved [CI] | "
              "steps with theta grad != 0 |"), "|---" * 10 + "|"]
    g = {}
    for e, cfg, runs in fin:
        g[(cfg["dataset"], cfg["neuron"], cfg["kind"])] = (e, cfg, runs)
        be = sorted(r.get("best_epoch") or 0 for r in runs)
        lines.append(f"| {cfg['dataset']} | {cfg['neuron']} | {cfg['kind']} | {_lr(e)} | "
                     f"{_ci(cell_interval(_by_seed(runs)))} | {be[len(be) // 2] if be else '-'} | "
                     f"{sum(bool(r.get('stopped_early')) for r in runs)}/{len(runs)} | "
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
        w = _word(d, phrases=BETTER)
        mv, mv_s = (cell_interval(_by_seed(r, "theta_max_moved")) for r in (runs, other))
        capped = sum(not r.get("stopped_early") for r in (*runs, *other))
        words.append(f"{ds}, {neuron}: Boolean - surrogate {_dci(d)} ({w}); the threshold's largest move from its "
                     f"initial {cfg['theta']:g}: Boolean {_ci(mv)}, surrogate {_ci(mv_s)}"
                     + (f"; {capped} of the {len(runs) + len(other)} runs ended at the {cfg['epochs']}-epoch cap"
                        if capped else ""))
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


# -- CSV -------------------------------------------------------------------------------------------
CSV_COLS = ("seed_id", "dataset", "model", "neuron", "kind", "method", "depth", "batch_size", "updates", "epochs",
            "lr", "seed",
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


def _grids(seed, quick, rows):
    """Seed ``seed``'s searched cells and (seed 002) the blog table's runs, full or ``quick``."""
    from .protocol import batch_cells, blog_runs, cells_000, cells_003, image_dataset

    if seed == "002":
        ds = sorted({r["dataset"] for r in rows}) or [image_dataset(None, "")]
        return batch_cells(ds[0], quick), blog_runs(ds[0], quick)
    return (cells_000 if seed == "000" else cells_003)(quick), []


def status(out) -> dict:
    """``{seed: (final runs present, final runs wanted)}`` of the protocol's grids in ``out`` (the
    full grids, or the quick ones if the runs are those): the searched cells' final seeds (a cell
    whose search has not ended counts 0) and, for seed 002, the blog table's runs."""
    return {seed: seed_status(seed, *load_folder(Path(out) / f"seed{seed}")) for seed in ("000", "002", "003")}


def seed_status(seed: str, prot, rows) -> tuple[int, int]:
    """:func:`status` of one seed from its folder's contents (:func:`load_folder`)."""
    from ..protocol import cell_key
    from .protocol import protocols

    keys = {_key(r["config"]) for r in rows}
    quick = bool(keys & {cell_key(c) for c in _grids(seed, True, rows)[0]})
    cells, blog = _grids(seed, quick, rows)
    n_seeds = prot["protocol"]["seeds"] if prot else protocols(quick)[seed].seeds
    present = sum(min(len(runs), n_seeds) for _, _, runs in _finals(prot, rows))
    if not blog:
        return present, len(cells) * n_seeds
    have = {(r["config"]["model"], r["config"]["lr"], r["config"]["seed"]) for r in _blog_rows(rows)}
    want = {(c.model, c.lr, s) for c in blog if c.seed == 0 for s in range(n_seeds)}
    return present + len(have & want), len(cells) * n_seeds + len(want)


def answers(out) -> dict:
    """``{seed: [paragraphs]}``: the question paragraphs of ``OUT/seeds_protocol.md`` (those that
    open in bold) of every seed whose protocol run is complete (:func:`status`); an incomplete seed
    is absent, so no document states a verdict of a grid stopped mid-way."""
    out, done = Path(out), status(out)
    makers = {"000": _md_000, "002": lambda p, r: _md_002(p, r, None),
              "003": lambda p, r: _md_003(p, r, None)}
    got = {}
    for seed, make in makers.items():
        have, want = done[seed]
        if want == 0 or have < want:
            continue
        lines = make(*load_folder(out / f"seed{seed}"))
        got[seed] = [ln for ln in lines if ln.startswith("**")]
    return got


def write_protocol_report(out) -> dict:
    """Write ``OUT/seeds_protocol.md``, ``OUT/seeds_protocol/*.csv`` and plots; returns
    ``{"runs": n, "plots": [paths]}``."""
    out = Path(out)
    p0, r0 = load_folder(out / "seed000")
    p2, r2 = load_folder(out / "seed002")
    p3, r3 = load_folder(out / "seed003")
    todo = []
    md = ["# Seeds 000, 002 and 003 under the study's protocol", "",
          ("Generated by `boolgrad study seeds --protocol` from the runs in this folder (protocol: "
           "docs/seeds_experiments.md). Cells: mean [95% bootstrap CI] over the final seeds; comparisons are "
           "seed-paired."), ""]
    st = status(out)
    md += ["Final runs present / wanted: " + "; ".join(
        f"seed {s} {h}/{w}" + ("" if h >= w else " (incomplete: its verdicts are provisional)")
        for s, (h, w) in st.items()) + ".", ""]
    if r0:
        md += _md_000(p0, r0)
    if r2:
        md += _md_002(p2, r2, todo)
    if r3:
        md += _md_003(p3, r3, todo)
    folder = out / "seeds_protocol"
    write_text_atomic(out / "seeds_protocol.md", "\n".join(md) + "\n")
    for name, rows in (("seed000", r0), ("seed002", r2), ("seed003", r3)):
        if rows:
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(folder / f"{name}.csv", _csv(rows))
    return {"runs": len(r0) + len(r2) + len(r3), "plots": plots(todo, folder)}
