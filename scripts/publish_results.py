"""Publish the committed full run: figures, the paper's PDF and ``docs/results.md``'s generated blocks.

    python scripts/publish_results.py            # from results/ (results/study, results/seeds, ...)
    python scripts/publish_results.py --check    # exit 1 if docs/results.md is not what results/ gives

1. ``boolgrad reproduce --from results`` into a scratch folder (every figure, table, number, PDF);
2. copies its ``figures/*.png`` to ``figures/png/``, ``boolgrad.pdf`` to ``paper/boolgrad.pdf`` and
   ``paper/generated/*.tex`` to ``paper/generated/`` (so the committed ``.tex`` builds as is);
3. rewrites the generated blocks of ``docs/results.md`` (between ``<!-- results:NAME -->`` and
   ``<!-- /results:NAME -->``) from the results files -- no number in the documents is typed by hand.
   ``tests/test_results_doc.py`` checks the document against the committed results.

``docs/seeds.md`` is made the same way (:func:`seeds_doc_blocks`: one answer per seed text).
The README carries one generated block (:data:`README_BLOCKS`: the decisive study's verdict);
the rest of its results it links to in ``docs/results.md``.  Links written into the
blocks are relative to ``docs/`` (:data:`UP`).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the document whose blocks this script writes
DOC = ROOT / "docs" / "results.md"
#: from the document's folder back to the repository root, for the links inside the blocks
UP = "../"
KIND_ORDER = ("boolean_yj2025", "boolean_secant_clamp", "boolean_bf16", "boolean_fixed16", "boolean_matched",
              "rectangle", "arctan", "fast_sigmoid", "straight_through")
DATASET_NAMES = {"mnist1d": "MNIST-1D", "yinyang": "Yin-Yang", "digits": "digits"}


def _ms(xs) -> str:
    """``mean ± sample std`` to 3 decimals (:func:`boolgrad.study.stats.mean_std`); empty if none."""
    from boolgrad.study.stats import mean_std

    m, s = mean_std(xs)
    return "" if m is None else f"{m:.3f} ± {s:.3f}"


def study_block(results: Path) -> str:
    """The overshoot study: verdicts with their numbers, and accuracy per dataset x kind x dt."""
    sys.path.insert(0, str(ROOT))
    from boolgrad.paper import numbers as pn
    from boolgrad.paper.results import read_overshoot

    rows = read_overshoot(results)
    n = pn.numbers(results)

    def v(name):
        return n[name].value

    lines = [
        (f"Setup: {v('nRuns')} training runs ({v('nDatasets')} datasets, {v('nKinds')} gradient kinds, "
         f"dt/tau from {v('dtFine'):g} to {v('dtCoarse'):g}, up to {v('nSeeds')} seeds per cell; "
         "[the study page](study.md) states the network, data and schedules)."),
        "",
        (f"* **Hypothesis (the Boolean gradient loses more at coarse timesteps): {v('gapVerdict')}.** "
         "Read as: the best surrogate's test accuracy minus the Yoo-Jeong gradient's is positive at the "
         f"coarsest step (dt/tau = {v('dtCoarse'):g}) and larger there than at the finest "
         f"(dt/tau = {v('dtFine'):g}), MSE spike-count readout. It {v('gapByDataset')}; averaged over "
         f"datasets the gap is {v('gapCoarse'):+.3f} at the coarsest step and {v('gapFine'):+.3f} at the finest."),
        (f"* **The fix (`boolean_matched`, a fixed-point Boolean gradient whose LSB matches the crossing "
         f"step) {v('matchedVerdict')} the Yoo-Jeong gradient**: {v('matchedGain'):+.3f} test accuracy on "
         f"average over {v('matchedCells')} (dataset, dt) cells, better in {v('matchedWins')}; "
         f"{v('matchedVsSurrogate'):+.3f} against the best surrogate."),
        f"* **Crossing theory vs simulation**: {v('simAgree')} of {v('simTotal')} (simulation, kind) pairs "
        "agree within 10% (random weights, exact scheme)"
        + ("." if v("simAgree") == v("simTotal") else
           "; where they do not, the phase of the crossing is not uniform: at coarse dt most crossings "
           f"start from a reset (the `from reset` column of [results/study/summary.md]({UP}results/study/summary.md))."),
        "",
    ]
    chance = {"mnist1d": 0.1, "digits": 0.1, "yinyang": 1 / 3}
    mse = pn.cells(rows)
    for ds in sorted({k[0] for k in mse}):
        best = max(sum(a) / len(a) for k, a in mse.items() if k[0] == ds)
        if ds in chance and best < chance[ds] + 0.5 * (1 - chance[ds]):  # below halfway from chance to 1
            lines.insert(len(lines) - 1, (
                f"* On {DATASET_NAMES.get(ds, ds)} no kind's mean test accuracy exceeds {best:.3f} (chance "
                f"{chance[ds]:.3f}): this network and budget barely learn it, so its verdict carries little weight."))
    for readout, title in (("mse_count", "MSE on spike counts (the authors' readout)"),
                           ("ce_linear", "cross-entropy on a linear readout")):
        cells = pn.cells(rows, readout=readout)
        if not cells:
            continue
        dts = sorted({k[2] for k in cells}, reverse=True)
        for ds in sorted({k[0] for k in cells}):
            kinds = [k for k in KIND_ORDER if any((ds, k, dt) in cells for dt in dts)]
            lines += [f"Test accuracy, {DATASET_NAMES.get(ds, ds)}, {title}, mean ± std over seeds:", "",
                      "| kind | " + " | ".join(f"dt/tau = {dt:g}" for dt in dts) + " |",
                      "|---|" + "---|" * len(dts)]
            for k in kinds:
                lines.append(f"| `{k}` | " + " | ".join(_ms(cells.get((ds, k, dt), [])) for dt in dts) + " |")
            lines.append("")
    authors = pn.cells(rows, scheme="authors")
    if authors:
        lines += ["The authors' setting (their LIF form, dt = tau, T = 60, batch 24, Adam 1e-4):", "",
                  "| dataset | " + " | ".join(f"`{k}`" for k in KIND_ORDER if any(c[1] == k for c in authors)) + " |",
                  "|---|" + "---|" * len({c[1] for c in authors})]
        for ds in sorted({c[0] for c in authors}):
            ks = [k for k in KIND_ORDER if any(c[1] == k for c in authors)]
            lines.append(f"| {DATASET_NAMES.get(ds, ds)} | "
                         + " | ".join(_ms(next((a for (d, kk, _), a in authors.items() if d == ds and kk == k), []))
                                      for k in ks) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _csv(path: Path) -> list[dict]:
    import csv

    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _acc(rows, **eq):
    return [float(r["test_acc"]) for r in rows if all(r[k] == v for k, v in eq.items())]


def seeds_block(results: Path) -> str:
    """The seeds' answers and tables from ``results/seeds/seed00N.csv`` (results/seeds.md has them all)."""
    d = results / "seeds"
    s2, s0, s3 = (_csv(d / f"seed{t}.csv") for t in ("002", "000", "003"))
    if not (s2 or s0 or s3):
        return "No seeds results in results/.\n"
    lines = []
    if s2:
        lrs = sorted({r["lr"] for r in s2}, key=float)
        b1 = [r for r in s2 if r["batch_size"] == "1" and not r["kind"]]
        lines += ["Seed 002, test accuracy at batch 1 (4 epochs, Adam, 3 seeds; the blog: MNIST, one run):", "",
                  "| dataset | model | " + " | ".join(f"lr {x}" for x in lrs) + " |", "|---|---|" + "---|" * len(lrs)]
        holds = []
        for ds in sorted({r["dataset"] for r in b1}):
            for model in ("central", "multi"):
                lines.append(f"| {DATASET_NAMES.get(ds, ds)} | {model} | "
                             + " | ".join(_ms(_acc(b1, dataset=ds, model=model, lr=x)) for x in lrs) + " |")
            hi = lrs[-1]
            m, c = _acc(b1, dataset=ds, model="multi", lr=hi), _acc(b1, dataset=ds, model="central", lr=hi)
            if m and c:
                holds.append((ds, sum(m) / len(m) - sum(c) / len(c)))
        lines += ["", "The blog's finding (multi-threshold more robust at high learning rates): at lr "
                  f"{lrs[-1]} multi minus central is "
                  + ", ".join(f"{d * 1:+.3f} on {DATASET_NAMES.get(ds, ds)}" for ds, d in holds)
                  + f" -- it holds on {sum(1 for _, d in holds if d > 0)} of {len(holds)} datasets.", ""]
    if s0:
        methods = [m for m in ("nudge", "perceptron", "additive", "additive_weighted", "boolean_yj2025",
                               "boolean_secant_clamp", "straight_through", "arctan") if any(r["method"] == m for r in s0)]
        cols = sorted({(r["dataset"], r["depth"]) for r in s0})
        lines += ["Seed 000, test accuracy of step-unit networks (1 or 2 layers):", "",
                  "| method | " + " | ".join(f"{DATASET_NAMES.get(ds, ds)}, {dp} layer{'s' if dp != '1' else ''}"
                                            for ds, dp in cols) + " |", "|---|" + "---|" * len(cols)]
        for m in methods:
            lines.append(f"| `{m}` | " + " | ".join(_ms(_acc(s0, method=m, dataset=ds, depth=dp)) for ds, dp in cols)
                         + " |")
        from boolgrad.study.seeds.report import answer_000, load_runs  # the paragraph of results/seeds.md

        lines += ["", *(answer_000(load_runs(results).get("seed000", [])) or [""])]
    if s3:
        systems = sorted({(r["neuron"], r["kind"]) for r in s3})
        lines += ["Seed 003, the halving neuron and LIF with a learnable threshold (initial 0.5):", "",
                  "| dataset | neuron / kind | test acc | threshold moved | steps with a non-zero threshold gradient |",
                  "|---|---|---|---|---|"]
        for ds in sorted({r["dataset"] for r in s3}):
            for n, k in systems:
                rs = [r for r in s3 if (r["dataset"], r["neuron"], r["kind"]) == (ds, n, k)]
                mv = [abs(float(r["theta_moved"])) for r in rs]
                nz = [float(r["frac_steps_theta_grad_nonzero"]) for r in rs]
                lines.append(f"| {DATASET_NAMES.get(ds, ds)} | {n} / `{k}` | {_ms([float(r['test_acc']) for r in rs])} "
                             f"| {_ms(mv)} | {_ms(nz)} |")
    lines += ["", f"All tables, with every setting: [results/seeds.md]({UP}results/seeds.md)."]
    return "\n".join(lines).rstrip() + "\n"


def _record_line(path: Path, rec: dict, setup: str = "") -> str:
    """When, where and by which command a benchmark record was made, with a link to it."""
    return (f"Measured {rec['date']} on {rec['machine']}{setup}: `python {rec['script']} {' '.join(rec['argv'])}` "
            f"([{path.name}]({UP}results/benchmarks/{path.name})).")


def torch_speed_block(results: Path) -> str:
    """The torch layer's speed: the tables ``benchmarks/bench_torch.py --out`` recorded."""
    import json

    records = [(path, json.loads(path.read_text())) for path in sorted((results / "benchmarks").glob("torch_*.json"))]
    if not records:
        return "No speed record is committed (`python benchmarks/bench_torch.py --out results/benchmarks/NAME.json`).\n"
    records.sort(key=lambda pr: ("--flush-denormal" in pr[1]["argv"], math.prod(pr[1]["shape"])))
    lines = []
    for path, rec in records:
        lines += [_record_line(path, rec, f" ({rec['device']}, {rec['threads']} threads, torch {rec['torch']})"), ""]
        for table in rec["tables"]:
            if table.get("kind") == "share":  # the spike function's share of a profiled step
                lines += [f"{table['title']} (profiler overhead included; it is larger for the rule that runs more ops):", "",
                          "| | step ms | spike fwd+bwd ms | rest ms | rest / baseline step |", "|---|---|---|---|---|"]
                lines += [f"| {r['name']} | {r['step_ms']:.3f} | {r['spike_ms']:.3f} | {r['rest_ms']:.3f} | "
                          f"{r['rest_ratio']:.2f} |" for r in table["rows"]]
                lines.append("")
                continue
            lines += [f"{table['title']}; load average {table['load_average']}:", "",
                      "| | median ms | min ms | min / baseline min | median / baseline median |",
                      "|---|---|---|---|---|"]
            lines += [f"| {r['name']} | {r['median_ms']:.3f} | {r['min_ms']:.3f} | {r['min_ratio']:.2f} | "
                      f"{r['median_ratio']:.2f} |" for r in table["rows"]]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def backends_speed_block(results: Path) -> str:
    """The sweep backends' and the closed form's speed: the records of ``benchmarks/bench_sweep.py``
    and ``benchmarks/bench_closed_form.py`` (``--out``)."""
    import json

    lines = []
    for path in sorted((results / "benchmarks").glob("sweep_*.json")):
        rec = json.loads(path.read_text())
        lines += [_record_line(path, rec), "", "| case | backend | patterns | median s | patterns/s | x numpy | repeats |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['case']} | `{r['backend']}` | {r['patterns']:,} | {r['median_s']:.4g} | "
                  f"{r['patterns_per_s']:.3g} | {r['x_numpy']:.1f} | {r['repeats']} |" for r in rec["rows"]]
        lines.append("")
    for path in sorted((results / "benchmarks").glob("closed_form_*.json")):
        rec = json.loads(path.read_text())
        lines += [_record_line(path, rec), "",
                  (f"`closed_form_table`: median over {rec['repeats']} calls for each theta in {rec['thetas']}; "
                   f"the numpy sweep: median of {rec['sweep_repeats']}, in the same run."), "",
                  "| format | bits | runs | closed form ms | numpy sweep s | sweep / closed form | sweep |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['format']} | {r['bits']} | {r['runs']} | {r['closed_form_ms']:.3f} | {r['sweep_s']:.4g} | "
                  f"{r['ratio']:.3g} | {r['sweep_how']} |" for r in rec["rows"]]
        lines.append("")
    if not lines:
        return "No speed record is committed (`python benchmarks/bench_sweep.py --out results/benchmarks/NAME.json`).\n"
    return "\n".join(lines).rstrip() + "\n"


def _ratio(v) -> str:
    return "" if v is None else f"{v:.2f}"


def study_speed_block(results: Path) -> str:
    """The study engine's speed, its spike functions' cost per element and the subnormal check: the
    records of ``benchmarks/bench_study.py``, ``benchmarks/bench_lookup.py``,
    ``benchmarks/bench_binary_product.py`` and ``benchmarks/check_flush.py`` (``--out``)."""
    import json

    lines = []
    for path in sorted((results / "benchmarks").glob("study_*.json")):
        rec = json.loads(path.read_text())
        setting = "".join([f", readout {rec['readout']}" if "readout" in rec else "",
                           {True: ", subnormals flushed (as the study trains)", False: ", subnormals exact"}
                           .get(rec.get("flush"), ""),
                           {True: ", freed memory kept (as the study trains)",
                            False: ", glibc's default heap (large freed blocks unmapped)"}.get(rec.get("keep_heap"), "")])
        lines += [_record_line(path, rec, f" ({rec['threads']} torch thread, batch {rec['batch']}, "
                                          f"{rec['rounds']} rounds{setting})"), "",
                  "| net | T | engine | kind | median s | min s | model-samples/s | vs step | / arctan, K gain |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['net']} | {r['T']} | {r['engine']} | {r['kind']} | {r['median_s']:.3f} | {r['min_s']:.3f} | "
                  f"{r['model_samples_per_s']:.0f} | {_ratio(r['vs_step'])} | {_ratio(r['rel'])} |" for r in rec["rows"]]
        lines.append("")
    for path in sorted((results / "benchmarks").glob("lookup_*.json")):
        rec = json.loads(path.read_text())
        lines += [_record_line(path, rec, f" ({rec['threads']} thread, {rec['rounds']} rounds x {rec['reps']} calls)"),
                  "", "| T | elements | row | median us | min us | ns / element | / arctan |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['T']} | {r['elements']} | {r['row']} | {r['median_us']:.1f} | {r['min_us']:.1f} | "
                  f"{r['ns_per_element']:.2f} | {r['vs_arctan']:.2f} |" for r in rec["rows"]]
        lines.append("")
    for path in sorted((results / "benchmarks").glob("binary_product_*.json")):
        rec = json.loads(path.read_text())
        lines += [_record_line(path, rec, f" ({rec['threads']} torch thread, batch {rec['batch']}, {rec['rounds']} rounds)"),
                  "", "| T | product | path | median us | min us | ones in x | dense / this |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['T']} | {r['op']} | {r['path']} | {r['median_us']:.1f} | {r['min_us']:.1f} | {r['ones']:.4f} | "
                  f"{r['speedup']:.2f} |" for r in rec["rows"]]
        lines.append("")
    for path in sorted((results / "benchmarks").glob("flush_*.json")):
        rec = json.loads(path.read_text())
        lines += [_record_line(path, rec), "",
                  "| dataset | dt/tau | kind | subnormal g | weights differing | test acc off / on | s off / on |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {r['dataset']} | {r['dt_over_tau']:g} | {r['kind']} | {r['subnormal_g_fraction']:.2%} | "
                  f"{r['differing']} / {r['weights']} | {r['test_acc'][0]:.4f} / {r['test_acc'][1]:.4f} | "
                  f"{r['train_seconds'][0]:.1f} / {r['train_seconds'][1]:.1f} |" for r in rec["rows"]]
        lines.append("")
    if not lines:
        return "No speed record is committed (`python benchmarks/bench_study.py --out results/benchmarks/NAME.json`).\n"
    return "\n".join(lines).rstrip() + "\n"


def examples_block(results: Path) -> str:
    """What the README's digits example (its code stays in README.md) and ``examples/train_digits.py``
    printed: their records (``scripts/readme_examples.py``, ``examples/train_digits.py --out``)."""
    import json

    spec = importlib.util.spec_from_file_location("readme_examples", ROOT / "scripts" / "readme_examples.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    lines = []
    path = results / "examples" / "readme_digits.json"
    rec = json.loads(path.read_text()) if path.is_file() else None
    code = ex.example_code((ROOT / "README.md").read_text())
    if rec is None or rec["code_sha256"] != ex.code_hash(code):
        lines.append("The example's record is missing or was made from other code: run "
                     "`python scripts/readme_examples.py`.")
    else:
        m = re.fullmatch(r"Boolean (\S+) arctan (\S+)\n", rec["stdout"])
        b, a = float(m.group(1)), float(m.group(2))
        side = "behind" if b < a else ("level with" if b == a else "ahead of")
        lines.append(f"It printed `{rec['stdout'].strip()}` (CPU, torch {rec['torch']}, {rec['threads']} threads, "
                     f"{rec['date']}; [record]({UP}results/examples/{path.name}), `python scripts/readme_examples.py`): "
                     f"the Boolean gradient trains, {abs(b - a):.3f} {side} the arctan surrogate.")
    path = results / "examples" / "train_digits.json"
    if path.is_file():
        rec = json.loads(path.read_text())
        acc = rec["test_accuracy"]
        lines.append(f"`examples/train_digits.py` is the same experiment on a shuffled 80/20 split; it printed "
                     f"{acc['boolean']:.3f} for the Boolean gradient and {acc['arctan']:.3f} for arctan "
                     f"({rec['epochs']} epochs, torch {rec['torch']}, {rec['threads']} threads; "
                     f"`python {rec['script']} {' '.join(rec['argv'])}`).")
    return "\n".join(lines) + "\n"


#: the closed-form examples of docs/results.md: (format, theta) -- a power of two, generic thresholds, four formats
CLOSED_FORM_EXAMPLES = (("fixed16.8", 1.0), ("fixed16.8", 1.25), ("fixed16.8", 1.5), ("float16", 0.3),
                        ("float32", 1.0), ("float32", 0.3), ("float64", 1.0), ("float64", 0.3))


def closed_form_block(results: Path) -> str:
    """The closed-form tables of :data:`CLOSED_FORM_EXAMPLES`: exact, computed here (milliseconds),
    so the document's numbers are the code's (``results`` is not needed)."""
    sys.path.insert(0, str(ROOT))
    import boolgrad

    lines = ["| format | theta (used) | runs | peak g | at | area |", "|---|---|---|---|---|---|"]
    for fmt, theta in CLOSED_FORM_EXAMPLES:
        table = boolgrad.closed_form_table(fmt, theta)
        peak, at = table.peak()
        lines.append(f"| {fmt} | {table.meta.theta_used!r} | {table.n_runs} | {peak:g} | {at!r} | {table.area():g} |")
    return "\n".join(lines) + "\n"


def _decisive(results: Path):
    from boolgrad.study import decisive_report as dr

    out = results / "decisive"
    if not (out / "protocol.json").is_file():
        return None
    rows = dr.cell_rows(out)
    return rows, dr.hypothesis(rows), dr.ablations(rows), dr.totals(out, rows)


def decisive_block(results: Path) -> str:
    """The decisive study's report (``results/decisive``): verdicts, ablations, every cell."""
    got = _decisive(results)
    if got is None:
        return "The decisive study has not been run into `results/decisive` yet.\n"
    from boolgrad.study.decisive_report import markdown

    text = markdown(*got)
    return text.split("\n", 2)[2].replace("\n## ", "\n### ").replace("## ", "### ", 1)


def verdict_block(results: Path) -> str:
    """The README's answer: the primary verdict per dataset and overall, with its numbers."""
    got = _decisive(results)
    if got is None:
        return "The decisive study has not been run into `results/decisive` yet.\n"
    from boolgrad.study.inference import verdict_sentence

    _, hyp, _, _ = got
    h = hyp["primary"]
    waiting = sorted({d.split(",")[0] for d in h.get("incomplete", {})})
    pending = f"; {', '.join(waiting)} still running: no verdict yet" if waiting else ""
    lines = [(f"Decisive study, arctan vs `boolean_yj2025`, overall: **{h['overall']}** "
              f"(datasets decided: {', '.join(sorted({d.split(',')[0] for d in h['datasets']})) or 'none'}{pending})."),
             ""]
    for ds, e in h["datasets"].items():
        lines.append("- " + verdict_sentence(f"{ds} (dt/tau {e['coarse']:g} vs {e['fine']:g})", e["effect"].interval,
                                             e["p_holm"], e["verdict"]))
    return "\n".join(lines) + "\n"


#: the README's generated blocks (the rest of the README is prose)
README_BLOCKS = {"decisive_verdict": verdict_block}
README = ROOT / "README.md"
SEEDS_DOC = ROOT / "docs" / "seeds.md"


def seeds_doc_blocks() -> dict:
    """``docs/seeds.md``'s blocks: seeds 000-003 (:mod:`boolgrad.study.seeds.answers`), 004 the
    decisive verdict."""
    sys.path.insert(0, str(ROOT))
    from boolgrad.study.seeds.answers import blocks

    return {**blocks(), "seeds_004": verdict_block}


BLOCKS = {"decisive": decisive_block, "study": study_block, "seeds": seeds_block, "torch_speed": torch_speed_block,
          "closed_form": closed_form_block, "backends_speed": backends_speed_block, "examples": examples_block,
          "study_speed": study_speed_block}


def render(doc: str, results: Path, blocks=None, name=None) -> str:
    """``doc`` (the text of docs/results.md, or of the README with :data:`README_BLOCKS`) with
    every block of ``blocks`` (default :data:`BLOCKS`) rewritten."""
    blocks, name = blocks or BLOCKS, name or DOC.relative_to(ROOT)
    for name_, make in blocks.items():
        pat = re.compile(rf"(<!-- results:{name_} -->\n)(.*?)(<!-- /results:{name_} -->)", re.DOTALL)
        if not pat.search(doc):
            raise SystemExit(f"{name} has no <!-- results:{name_} --> block")
        block = make(results)
        doc = pat.sub(lambda m, block=block: m.group(1) + block + m.group(3), doc)
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(ROOT / "results"))
    ap.add_argument("--check", action="store_true", help="only compare docs/results.md with the results")
    a = ap.parse_args(argv)
    results = Path(a.results)
    name = DOC.relative_to(ROOT)
    new = render(DOC.read_text(), results)
    readme = render(README.read_text(), results, README_BLOCKS, "README.md")
    seeds = render(SEEDS_DOC.read_text(), results, seeds_doc_blocks(), "docs/seeds.md")
    if a.check:
        same = new == DOC.read_text() and readme == README.read_text() and seeds == SEEDS_DOC.read_text()
        print(f"{name}, docs/seeds.md and README.md are up to date" if same
              else f"{name}, docs/seeds.md or README.md differs from what the results give")
        return 0 if same else 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        subprocess.run([sys.executable, "-m", "boolgrad.cli", "reproduce", "--from", str(results), "--out", str(out)],
                       check=True, cwd=ROOT)
        (ROOT / "figures" / "png").mkdir(exist_ok=True)
        for p in sorted((out / "figures").glob("*.png")):
            shutil.copyfile(p, ROOT / "figures" / "png" / p.name)
        (ROOT / "paper" / "generated").mkdir(exist_ok=True)
        for p in sorted((out / "paper" / "generated").glob("*.tex")):
            shutil.copyfile(p, ROOT / "paper" / "generated" / p.name)
        if (out / "boolgrad.pdf").is_file():
            shutil.copyfile(out / "boolgrad.pdf", ROOT / "paper" / "boolgrad.pdf")
    from boolgrad.atomic import atomic_write

    with atomic_write(DOC, "w") as fh:
        fh.write(new)
    with atomic_write(README, "w") as fh:
        fh.write(readme)
    with atomic_write(SEEDS_DOC, "w") as fh:
        fh.write(seeds)
    print(f"published figures/png/, paper/generated/, paper/boolgrad.pdf and the results blocks of {name}, "
          "docs/seeds.md and README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
