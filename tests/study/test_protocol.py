"""The decisive study's protocol: the learning-rate choice (on a toy problem with a known best
rate), the widening of an edge choice, early stopping, and the resume of a stacked run."""

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

from boolgrad.study import executor
from boolgrad.study.protocol import LR_GRID, LRChoice, Protocol, cell_key, choose_lr, half_decade, patience_reached


def test_half_decades():
    assert [half_decade(lr, +1) for lr in LR_GRID] == [3e-3, 1e-2, 3e-2, 1e-1]
    assert [half_decade(lr, -1) for lr in LR_GRID] == [3e-4, 1e-3, 3e-3, 1e-2]
    with pytest.raises(ValueError, match="1-3-10"):
        half_decade(2e-3, 1)


def test_choose_lr_takes_the_best_mean_smaller_on_ties_and_flags_edges():
    ch = choose_lr({1e-3: [0.5, 0.7], 3e-3: [0.8, 0.8], 1e-2: [0.9, 0.7]})
    assert ch.lr == 3e-3 and ch.at_edge == "" and ch.means[1e-3] == pytest.approx(0.6)
    assert choose_lr({1e-3: [0.9], 3e-3: [0.8], 1e-2: []}).at_edge == "low"  # the empty rate is ignored
    assert choose_lr({1e-3: [0.1], 3e-3: [0.8], 1e-2: [0.9]}) == LRChoice(1e-2, {1e-3: 0.1, 3e-3: 0.8, 1e-2: 0.9},
                                                                             "high")
    with pytest.raises(ValueError, match="no validation"):
        choose_lr({1e-3: []})


def test_protocol_configs_and_widening():
    p = Protocol(lrs=(1e-3, 3e-3), search_seeds=2, seeds=4)
    cell = Toy()
    assert [(c.lr, c.seed) for c in p.search(cell)] == [(1e-3, 0), (1e-3, 1), (3e-3, 0), (3e-3, 1)]
    assert [(c.lr, c.seed) for c in p.final(cell, 3e-3)] == [(3e-3, s) for s in range(4)]
    assert len({cell_key(c) for c in p.search(cell) + p.final(cell, 1.0)}) == 1
    assert p.grid_after((1e-3, 3e-3), LRChoice(3e-3, {}, "high")) == (1e-3, 3e-3, 1e-2)
    assert p.grid_after((1e-3, 3e-3), LRChoice(1e-3, {}, "low")) == (3e-4, 1e-3, 3e-3)
    assert p.grid_after((1e-3, 3e-3), LRChoice(1e-3, {}, "")) == (1e-3, 3e-3)
    for bad in ({"lrs": ()}, {"seeds": 0}, {"search_seeds": 5, "seeds": 4}, {"lrs": (-1e-3,)}):
        with pytest.raises(ValueError):
            Protocol(**bad)


def test_patience_rule():
    assert not patience_reached(5, 1, 0)  # 0: never
    assert patience_reached(4, 1, 3) and not patience_reached(3, 1, 3)


@dataclass(frozen=True)
class Toy:
    """Gradient descent on a 1-D quadratic for 20 steps, scored by how close it gets: too small a
    rate does not arrive, too large a rate (lr > 1 for curvature 2) diverges.  The best rate on the
    1-3-10 grid is 0.3 (lr * 2 = 0.6: the contraction |1 - 2 lr| smallest there among the grid)."""

    dataset: str = "toy"
    seed: int = 0
    lr: float = 1e-3

    def identity(self):
        return asdict(self)

    def validate(self):
        return self

    def label(self):
        return "toy"

    def execute(self):
        rng = np.random.default_rng(self.seed)
        x = 1.0 + 0.01 * rng.standard_normal()
        for _ in range(20):
            x -= self.lr * 2 * x
        score = 1.0 / (1.0 + abs(x)) if math.isfinite(x) else 0.0
        return {"test_acc": score, "val_acc": score, "train_seconds": 0.0}


def test_the_protocol_finds_the_toy_problems_best_rate_by_widening(tmp_path):
    from boolgrad.study.decisive import run

    p = Protocol(lrs=(1e-3, 3e-3), search_seeds=2, seeds=3, widen=5)
    counts = run(tmp_path, [Toy()], protocol=p, progress=False, log=lambda m: None)
    import json

    rec = json.loads((tmp_path / "protocol.json").read_text())["cells"][0]
    assert rec["lr"] == 0.3 and rec["at_edge"] == "" and rec["grid"] == [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
    assert counts["final"] == 3 and counts["ran"] == 2 * 7 + 1  # seed 2 at the chosen rate is new
    assert run(tmp_path, [Toy()], protocol=p, progress=False, log=lambda m: None)["ran"] == 0


def test_an_edge_choice_is_reported_when_widening_is_spent(tmp_path):
    import json

    from boolgrad.study.decisive import run

    run(tmp_path, [Toy()], protocol=Protocol(lrs=(1e-3, 3e-3), search_seeds=1, seeds=1, widen=1), progress=False,
        log=lambda m: None)
    rec = json.loads((tmp_path / "protocol.json").read_text())["cells"][0]
    assert rec["lr"] == 1e-2 and rec["at_edge"] == "high"


TINY = {"dataset": "digits", "subset": (200, 60), "hidden": (16,), "epochs": 6, "probe": 32}


def test_early_stopping_stacked_equals_alone():
    pytest.importorskip("torch")
    from boolgrad.study.overshoot import RunConfig

    cfgs = [RunConfig(**TINY, patience=1, seed=s, lr=lr) for s, lr in ((0, 1e-1), (1, 3e-3), (0, 3e-2))]
    stacked = executor.run_group(cfgs)
    strip = lambda r: {k: v for k, v in r.items() if k not in executor.TIMING_FIELDS}
    for cfg, res in zip(cfgs, stacked):
        assert strip(res) == strip(executor.run(cfg))
        assert res["stopped_epoch"] == len(res["history"]) <= 6
        assert res["stopped_epoch"] - res["best_epoch"] == (1 if res["stopped_early"] else res["stopped_epoch"]
                                                            - res["best_epoch"])
    assert any(r["stopped_early"] and r["stopped_epoch"] < 6 for r in stacked)


def test_a_stacked_decisive_run_resumes(tmp_path):
    pytest.importorskip("torch")
    from boolgrad.study.decisive import cells, run
    from boolgrad.study.decisive_report import write_report

    p = Protocol(lrs=(1e-3, 1e-2), search_seeds=1, seeds=2, widen=0)
    searched, _ = cells(["digits"], ["arctan", "boolean_yj2025"], [2.0, 0.5], subset=(200, 60), epochs=3,
                            patience=1, reset_ablation=(), mse_readout=(), mlp=False, authors_row=False)
    first = run(tmp_path, searched, protocol=p, progress=False, stack=4)
    assert first["ran"] == 4 * 2 + 4  # 4 cells x 2 rates, then seed 1 of each
    before = {f.name: f.read_text() for f in (tmp_path / "runs").glob("*.json")}
    gone = sorted(before)[:3]
    for name in gone:
        (tmp_path / "runs" / name).unlink()
    again = run(tmp_path, searched, protocol=p, progress=False, stack=4)
    assert again["ran"] == 3
    import json

    for name, text in before.items():  # every number equal, the wall-clock fields aside
        a, b = json.loads(text), json.loads((tmp_path / "runs" / name).read_text())
        for k in executor.TIMING_FIELDS:
            a.pop(k), b.pop(k)
        assert a == b
    rep = write_report(tmp_path)
    assert rep["cells"] == 4 and rep["verdicts"]["primary"]["datasets"]["digits"]["n"] == 2
    assert (tmp_path / "decisive.md").read_text().count("| digits |") == 4
    assert all(Path(p).stat().st_size > 1000 for p in rep["plots"])
    again = write_report(tmp_path, dest=tmp_path / "copy")  # reproduce --from: the report elsewhere, the same
    assert (tmp_path / "copy" / "decisive.md").read_text() == (tmp_path / "decisive.md").read_text()
    assert again["verdicts"] == rep["verdicts"]


def test_protocol_json_merges_parts_and_refuses_another_protocol(tmp_path):
    import json

    from boolgrad.study.decisive import check_protocol, run

    p = Protocol(lrs=(0.1, 0.3), search_seeds=1, seeds=1, widen=0)
    run(tmp_path, [Toy(dataset="a")], protocol=p, progress=False)
    run(tmp_path, [Toy(dataset="b")], protocol=p, progress=False)
    cells = json.loads((tmp_path / "protocol.json").read_text())["cells"]
    assert sorted(c["dataset"] for c in cells) == ["a", "b"] and {c["lr"] for c in cells} == {0.3}
    check_protocol(tmp_path, p)
    with pytest.raises(ValueError, match="another protocol"):
        check_protocol(tmp_path, Protocol(lrs=(0.1, 0.3), search_seeds=1, seeds=2, widen=0))


def test_ablation_verdicts_on_synthetic_cells():
    pytest.importorskip("scipy")
    from boolgrad.study.decisive_report import ablations, factor_verdict
    from boolgrad.study.inference import Interval

    assert factor_verdict(Interval(0.05, 0.03, 0.07, 10, 0.95)) == "matters"
    assert factor_verdict(Interval(-0.05, -0.07, -0.021, 10, 0.95)) == "matters"
    assert factor_verdict(Interval(0.0, -0.01, 0.015, 10, 0.95)) == "does not matter"
    assert factor_verdict(Interval(0.01, -0.01, 0.04, 10, 0.95)) == "inconclusive"
    rng = np.random.default_rng(0)
    base = {s: 0.9 + 0.02 * rng.standard_normal() for s in range(10)}

    def row(kind, det, dt, shift):
        return {"dataset": "d", "model": "snn", "fixed_lr": False, "kind": kind, "detach_reset": det, "readout": "ce_linear",
                "dt_over_tau": dt, "test": {s: v + shift for s, v in base.items()}}

    rows = [row("arctan", False, 2.0, 0.0), row("arctan", True, 2.0, 0.1), row("arctan", False, 0.5, 0.0),
            row("arctan", True, 0.5, 0.001)]
    got = {(a["ablation"], a["dt_over_tau"]): a for a in ablations(rows)}
    assert got[("reset detached (arctan)", 2.0)]["verdict"] == "matters"
    assert got[("reset detached (arctan)", 2.0)]["mean"] == pytest.approx(0.1)
    assert got[("reset detached (arctan)", 0.5)]["verdict"] == "does not matter"  # paired: the seeds' spread cancels
    assert len(got) == 2


def test_the_grid_has_each_ablation_and_readout_once():
    from boolgrad.study.decisive import cells

    searched, fixed = cells(["digits"], ["arctan", "rectangle"], [2.0, 0.5], reset_ablation=("arctan",),
                            mse_readout=("arctan",))
    kinds = [(getattr(c, "kind", "mlp"), getattr(c, "detach_reset", None), getattr(c, "readout", None))
             for c in searched]
    assert kinds.count(("arctan", False, "ce_linear")) == 2 and kinds.count(("arctan", True, "ce_linear")) == 2
    assert kinds.count(("arctan", False, "mse_count")) == 2 and kinds.count(("rectangle", False, "mse_count")) == 0
    assert kinds[-1] == ("mlp", None, None) and len(searched) == 9 and len({cell_key(c) for c in searched}) == 9
    assert [(c.kind, c.lr, c.horizon, c.batch_size) for c in fixed] == [("rectangle", 1e-4, 60.0, 24)]
    assert all(c.patience == 10 and c.epochs == 100 for c in searched)


def test_a_test_with_unfinished_cells_gets_no_verdict_and_no_share_of_holm():
    pytest.importorskip("scipy")
    from boolgrad.study.decisive_report import hypothesis

    rng = np.random.default_rng(1)
    noise = {s: 0.02 * rng.standard_normal() for s in range(10)}

    def row(ds, kind, dt, acc, n=10):
        return {"dataset": ds, "model": "snn", "fixed_lr": False, "kind": kind, "detach_reset": False,
                "readout": "ce_linear", "dt_over_tau": dt, "n": n, "seeds_wanted": 10, "val_mean": acc,
                "test": {s: acc + noise[s] for s in range(n)}}

    rows = []
    for ds, n_fine in (("a", 10), ("b", 5)):  # b: the Boolean cell at the finest dt has 5 of its 10 runs
        rows += [row(ds, "arctan", 2.0, 0.9), row(ds, "boolean_yj2025", 2.0, 0.6), row(ds, "arctan", 0.125, 0.9),
                 row(ds, "boolean_yj2025", 0.125, 0.88, n_fine)]
    hyp = hypothesis(rows)["primary"]
    assert list(hyp["datasets"]) == ["a"] and hyp["incomplete"] == {"b": (35, 40)}
    a = hyp["datasets"]["a"]
    assert a["effect"].interval.mean == pytest.approx(0.28) and a["verdict"] == "supported"
    assert a["p_holm"] == pytest.approx(a["effect"].p_value)  # one test: Holm leaves its p alone
    complete = hypothesis([dict(r, n=10, test={s: r["test"].get(s, 0.88 + noise[s]) for s in range(10)})
                           for r in rows])["primary"]
    assert list(complete["datasets"]) == ["a", "b"] and complete["incomplete"] == {}
