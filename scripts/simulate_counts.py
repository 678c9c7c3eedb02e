"""Write docs/study.md's generated block ``<!-- simulate:counts -->`` from the committed simulation.

    boolgrad study simulate --out results/simulate   # the records (every dataset, dt, scheme, kind)
    python scripts/simulate_counts.py                # rewrite the block from results/simulate/sim/*.json
    python scripts/simulate_counts.py --check        # exit 1 if the block is not what the records give

The block holds :func:`boolgrad.study.report.counts_line` over every record, the same over the
committed training grid's simulations (exact scheme, dt/tau 2 to 1/8, the seven kinds of the full
grid: the 105 pairs of ``docs/results.md``), and the range of the mixture's ratios -- no number
typed by hand (``tests/study/test_simulate_doc.py`` checks it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "study.md"
RECORDS = ROOT / "results" / "simulate"
NAME = "simulate:counts"
#: datasets whose input is spike trains (impulse drive): counted apart from the constant-current ones
TEMPORAL = ("spiketrains",)


def load(records: Path) -> list[dict]:
    sims = [json.loads(p.read_text()) for p in sorted((records / "sim").glob("*.json"))]
    sims.sort(key=lambda s: (s["dataset"], s["scheme"], -s["dt_over_tau"]))
    return sims


def training_grid(sims) -> list[dict]:
    """The records restricted to the committed training grid's simulation (exact scheme, FULL_DT, FULL_KINDS)."""
    from boolgrad.study.overshoot import FULL_DT, FULL_KINDS

    return [dict(s, kinds={k: v for k, v in s["kinds"].items() if k in FULL_KINDS}) for s in sims
            if s["scheme"] == "exact" and s["dt_over_tau"] in FULL_DT]


def _range(sims, key, field) -> str:
    r = [v[key][field] for s in sims for v in s["kinds"].values() if (v.get(key) or {}).get(field) is not None]
    return f"{min(r):.3f}-{max(r):.3f}" if r else "none"


def block(records: Path = RECORDS) -> str:
    from boolgrad.study.report import counts_line, simulation_counts

    def line(sims):
        text = counts_line(simulation_counts(sims))
        return text[0].lower() + text[1:]

    every = load(records)
    if not every:
        return "No simulation records: run `boolgrad study simulate --out results/simulate`.\n"
    sims = [s for s in every if s["dataset"] not in TEMPORAL]  # the theory's premise: a constant current
    temporal = [s for s in every if s["dataset"] in TEMPORAL]
    grid = training_grid(sims)
    datasets = sorted({s["dataset"] for s in sims})
    lines = [
        (f"All {len(sims)} simulations ({', '.join(datasets)} x {len({s['dt_over_tau'] for s in sims})} dt x "
         f"{len({s['scheme'] for s in sims})} schemes), every kind: " + line(sims)),
        "",
        (f"The training grid's {len(grid)} simulations (exact scheme, dt/tau 2 to 1/8, the seven kinds of the "
         "full grid): " + line(grid)),
        "",
        (f"Ratios simulated / theory at the sample below, all simulations: mixture {_range(sims, 'mixture_below', 'ratio')}, "
         f"uniform phase {_range(sims, 'theory_below', 'ratio')}; over the crossings not from a reset "
         f"{_range(sims, 'mixture_below', 'ratio_uniform')}."),
    ]
    if temporal:
        lines += ["", (f"The temporal task ({', '.join(sorted({s['dataset'] for s in temporal}))}: "
                       f"{len(temporal)} simulations, every kind), where input spikes are impulses, so a "
                       "crossing is a jump at an input spike and the sample below it is not uniform in the "
                       "jump (the theory's premise, a current held constant, does not hold): " + line(temporal)
                       + f" Ratios simulated / mixture: {_range(temporal, 'mixture_below', 'ratio')}.")]
    misses = sorted((k, s["dataset"], s["scheme"], s["dt_over_tau"], v["mixture_below"]["ratio"])
                    for s in sims for k, v in s["kinds"].items()
                    if (v.get("mixture_below") or {}).get("agree") is False)
    if misses:
        lines += ["", "Outside 10% with the mixture: " + "; ".join(
            f"`{k}` ({ds}, {sch}, dt/tau {dt:g}: {r:.3f})" for k, ds, sch, dt, r in misses) + "."]
    return "\n".join(lines) + "\n"


def render(doc: str, records: Path = RECORDS) -> str:
    pat = re.compile(rf"(<!-- {NAME} -->\n)(.*?)(<!-- /{NAME} -->)", re.DOTALL)
    if not pat.search(doc):
        raise SystemExit(f"{DOC.relative_to(ROOT)} has no <!-- {NAME} --> block")
    text = block(records)
    return pat.sub(lambda m: m.group(1) + text + m.group(3), doc)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the block is out of date")
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    doc = DOC.read_text()
    new = render(doc)
    if a.check:
        if new != doc:
            print(f"{DOC.relative_to(ROOT)}: the {NAME} block is out of date: run python scripts/simulate_counts.py",
                  file=sys.stderr)
            return 1
        return 0
    if new != doc:
        from boolgrad.atomic import write_text_atomic

        write_text_atomic(DOC, new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
