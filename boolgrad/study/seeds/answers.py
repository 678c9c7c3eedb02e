"""The seeds' questions, one generated paragraph each: the blocks of ``docs/seeds.md``.

Every block reads committed results only (``scripts/publish_results.py`` writes them):

* seeds 000, 002 and 003: the question paragraphs of the protocol report
  (:func:`boolgrad.study.seeds.protocol_report.answers`, ``results/seeds_protocol``), once that
  seed's protocol run is complete -- until then the block says so and states no verdict;
* seed 001 (surrogate gradients for step functions): the decisive study's surrogates at its finest
  time step (``results/decisive``: 10 seeds, learning rate searched on validation, 95% intervals);
* seed 004 (Yoo & Jeong's Boolean gradient) is the decisive study's verdict, which the publishing
  script already renders for the README;
* the protocol run's cost (:func:`cost_block`): runs and summed training hours per seed.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SURROGATES_001", "blocks", "cost_block", "protocol_block", "surrogates_block"]

#: seed 001's family: the straight-through estimator and the smooth surrogates of the study's zoo
SURROGATES_001 = ("straight_through", "rectangle", "fast_sigmoid", "arctan")


def protocol_block(results: Path, seed: str) -> str:
    """Seed ``seed``'s answer paragraphs from ``results/seeds_protocol`` (module doc)."""
    from .protocol_report import answers

    out = Path(results) / "seeds_protocol"
    if not out.is_dir():
        return "The protocol run (`boolgrad study seeds --protocol`) has not been made into `results/seeds_protocol`.\n"
    got = answers(out).get(seed)
    if got:
        return "\n\n".join(got) + "\n"
    # how far the run is (final runs present / wanted) is in seeds_protocol.md, not here: this page
    # stays the same while a run fills the folder
    return (f"The protocol run of seed {seed} is not complete (how far it is: `results/seeds_protocol/"
            "seeds_protocol.md`; `boolgrad study seeds --protocol --out results/seeds_protocol` resumes it). Its "
            "answer is written here when the grid is complete; no verdict is drawn from part of it.\n")


def cost_block(results: Path) -> str:
    """What the protocol run in ``results/seeds_protocol`` cost: runs and summed training hours per seed."""
    from .protocol_report import load_folder, seed_status, train_seconds

    out = Path(results) / "seeds_protocol"
    if not out.is_dir():
        return "The protocol run (`boolgrad study seeds --protocol`) has not been made into `results/seeds_protocol`.\n"
    parts, n, total = [], 0, 0.0
    for seed in ("000", "002", "003"):
        prot, rows = load_folder(out / f"seed{seed}")  # read once: the cost and the completeness
        s = train_seconds(rows)
        n, total = n + len(rows), total + s
        have, want = seed_status(seed, prot, rows)
        parts.append(f"seed {seed}: {len(rows)} runs, {s / 3600:.2f} h"
                     + ("" if have >= want else f" (incomplete: {have} of {want} final runs)"))
    return ("**What does the full protocol run cost?** `boolgrad study seeds --protocol --out results/seeds_protocol` "
            f"trained {n} runs, {total / 3600:.2f} h of training summed over the runs (each run's `train_seconds`, "
            "one thread; `--jobs N` runs N at a time): " + "; ".join(parts) + ". `boolgrad study seeds --protocol "
            "--quick`, the same grids at toy sizes, runs in CI.\n")


def _fmt(r) -> str:
    return f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"


def surrogates_block(results: Path) -> str:
    """Seed 001's answer from the decisive study's cells (module doc)."""
    from ..decisive_report import cell_rows

    out = Path(results) / "decisive"
    if not (out / "protocol.json").is_file():
        return "The decisive study has not been run into `results/decisive` yet.\n"
    rows = [r for r in cell_rows(out) if r["n"] and r["n"] >= r["seeds_wanted"]]
    snn = [r for r in rows if r["model"] == "snn" and r["readout"] == "ce_linear" and r["scheme"] == "exact"
           and not r["detach_reset"]]
    parts = []
    for ds in sorted({r["dataset"] for r in snn}):
        here = [r for r in snn if r["dataset"] == ds]
        fine = min(r["dt_over_tau"] for r in here)
        at = {r["kind"]: r for r in here if r["dt_over_tau"] == fine}
        kinds = [k for k in (*SURROGATES_001, "boolean_yj2025") if k in at]
        if sum(k in SURROGATES_001 for k in kinds) < 2:  # a dataset the study ran with one kind only
            continue
        mlp = [r for r in rows if r["model"] == "mlp" and r["dataset"] == ds]
        best = max((k for k in kinds if k in SURROGATES_001), key=lambda k: at[k]["val_mean"])
        parts.append(f"{ds} (dt/tau {fine:g}): " + ", ".join(f"{k} {_fmt(at[k])}" for k in kinds)
                     + (f"; the non-spiking MLP {_fmt(mlp[0])}" if mlp else "")
                     + f"; best surrogate by validation: {best}")
    if not parts:
        return "The decisive study has no complete surrogate cells yet.\n"
    return ("**Do surrogate gradients make a step network trainable?** The step's true derivative is zero "
            "almost everywhere, so backprop through it moves no weight; a surrogate keeps the step in the "
            "forward pass and differentiates a smooth stand-in (straight-through: the identity). In the "
            "decisive study (the same spiking network per dataset, each kind with its own learning rate "
            "searched on validation, early stopping, test accuracy of the best validation epoch, mean [95% "
            "bootstrap CI] over 10 seeds, at the finest time step): " + "; ".join(parts) + ".\n")


def blocks() -> dict:
    """``{block name: maker(results) -> text}`` for seeds 000-003 (004: the publishing script's
    decisive verdict)."""
    return {"seeds_000": lambda r: protocol_block(r, "000"), "seeds_001": surrogates_block,
            "seeds_002": lambda r: protocol_block(r, "002"), "seeds_003": lambda r: protocol_block(r, "003"),
            "seeds_cost": cost_block}
