"""Seeds 000, 002 and 003 under the study's protocol: the image stand-in, early stopping, the grids,
the blog claim's verdict rule, the quick CLI (``boolgrad study seeds --protocol``)."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from boolgrad.study import data as data_mod
from boolgrad.study.executor import config_hash
from boolgrad.study.protocol import LRChoice
from boolgrad.study.seeds import images
from boolgrad.study.seeds import protocol as sp
from boolgrad.study.seeds.protocol import (
    BATCHES,
    CHECKS,
    EQUAL_EPOCHS,
    EQUAL_UPDATES,
    HIGH_LRS,
    PROTOCOL_002,
    PROTOCOL_003,
)
from boolgrad.study.seeds.seed000 import UPDATE_RULES, Seed000Config
from boolgrad.study.seeds.seed002 import BLOG_LRS, Seed002Config
from boolgrad.study.seeds.seed003 import Seed003Config

SMALL = {"train": 200, "val": 50, "test": 100}


# -- the image stand-in -----------------------------------------------------------------------------
def test_stand_in_is_deterministic_balanced_and_sized():
    pytest.importorskip("sklearn")
    a = images.digits_affine(0, SMALL)
    b = images.digits_affine(0, SMALL)
    for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(a, k), getattr(b, k))
    assert not np.array_equal(a.x_train, images.digits_affine(1, SMALL).x_train)  # the data seed matters
    assert a.x_train.shape == (200, 256) and a.x_train.dtype == np.float32 and a.n_classes == 10
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    for y, n in ((a.y_train, 200), (a.y_val, 50), (a.y_test, 100)):
        assert np.array_equal(np.bincount(y, minlength=10), np.full(10, n // 10))
    # the full sizes: MNIST's under the study's IDX split; one batch-1 epoch is 55,000 >= 50,000 updates
    assert images.SIZES == {"train": 55_000, "val": 5_000, "test": 10_000}
    assert images.SIZES["val"] == data_mod.idx_val_size(60_000)


def test_stand_in_splits_come_from_disjoint_originals():
    pytest.importorskip("sklearn")
    _, used = images.digits_affine(0, {"train": 3000, "val": 600, "test": 800}, with_originals=True)
    orig = images.split_originals(0)
    for split in ("train", "val", "test"):
        assert set(used[split]) <= set(orig[split].tolist())
    assert not set(used["test"]) & (set(used["train"]) | set(used["val"]))
    assert not set(used["train"]) & set(used["val"])
    assert len(set(used["test"])) == 360  # every held-out original is used
    assert set(orig["test"].tolist()) == set(np.random.default_rng(0).permutation(1797)[:360].tolist())  # digits'


def test_stand_in_subsets_are_prefixes_and_registered(monkeypatch):
    pytest.importorskip("sklearn")
    big = images.digits_affine(0, {"train": 120, "val": 40, "test": 40})
    sub = images.subset(0, 50, 20)
    assert np.array_equal(sub.x_train, big.x_train[:50]) and np.array_equal(sub.y_test, big.y_test[:20])
    assert np.array_equal(sub.x_val, big.x_val[:20])
    assert data_mod.DATASETS["digits_affine"] is False  # no data_dir needed
    monkeypatch.setattr(images, "SIZES", {"train": 120, "val": 40, "test": 40})
    data_mod._load_cached.cache_clear()
    try:
        d = data_mod.load_dataset("digits_affine", subset=(50, 20))
        assert np.array_equal(d.x_train, sub.x_train) and d.name == "digits_affine"
    finally:
        data_mod._load_cached.cache_clear()


# -- early stopping ---------------------------------------------------------------------------------
def test_old_configs_keep_their_identity():
    assert not {"select", "patience", "updates", "val_every"} & set(Seed002Config().identity())
    assert not {"select", "patience", "theta_lr_ratio"} & set(Seed003Config().identity())
    assert Seed002Config(select="val", patience=3).identity()["patience"] == 3
    assert config_hash(Seed002Config()) != config_hash(Seed002Config(select="val"))
    with pytest.raises(ValueError, match="select"):
        Seed002Config(patience=2).validate()
    with pytest.raises(ValueError, match="select"):
        Seed003Config(patience=2).validate()
    assert Seed003Config(lr=3e-2, theta_lr_ratio=0.5).rate_theta == pytest.approx(1.5e-2)
    assert Seed003Config().rate_theta == 1e-3
    assert not {"select", "patience"} & set(Seed000Config().identity())
    assert Seed000Config(select="val", patience=4).identity()["patience"] == 4
    with pytest.raises(ValueError, match="select"):
        Seed000Config(patience=2).validate()


@pytest.mark.parametrize("method", ["additive_weighted", "nudge", "arctan"])
def test_seed000_selection_reports_the_best_validation_epoch(method):
    """``select="val"``: the test accuracy is that of the best validation epoch's weights -- the
    same number as a run of exactly ``best_epoch`` epochs without selection (the same seeds, so the
    same trajectory) -- and the run stops ``patience`` epochs after it."""
    pytest.importorskip("torch")  # every seed run sets torch's threads, the online rules too
    from boolgrad.study import executor

    kw = dict(dataset="digits", method=method, depth=2, hidden=16, subset=(300, 100), lr=0.03,
              batch_size=1 if method in UPDATE_RULES else 16)
    r = executor.run(Seed000Config(select="val", patience=2, epochs=7, **kw))
    n, best = r["stopped_epoch"], r["best_epoch"]
    assert len(r["val_path"]) == n and r["val_acc"] == max(r["val_path"])
    assert r["val_path"].index(r["val_acc"]) + 1 == best  # ties: the earlier epoch
    assert r["stopped_early"] == (n < 7) and (n == 7 or n - best == 2)
    alone = executor.run(Seed000Config(epochs=best, **kw))
    assert r["test_acc"] == alone["test_acc"]
    assert r["test_acc_last"] == executor.run(Seed000Config(epochs=n, **kw))["test_acc"]
    if method == "nudge":  # the theorem's consequence, under the protocol too: no row turns
        assert r["abs_cos_init_final_min"] == pytest.approx(1.0, abs=1e-12)


def test_seed002_early_stopping_and_equal_updates():
    pytest.importorskip("torch")
    from boolgrad.study import executor

    # a rate too small to move the validation accuracy: the best check is the first, the run stops
    # `patience` checks later
    cfg = Seed002Config(dataset="digits_affine", subset=(50, 30), hidden=(8, 4), batch_size=16, lr=1e-12,
                        select="val", updates=100, val_every=2, patience=3)
    r = executor.run(cfg)
    assert r["stop"] == "patience" and r["stopped_early"] and r["best_check"] == 1 and r["checks"] == 4
    assert r["updates_done"] == 8 and r["updates_per_epoch"] == 4 and r["epochs_done"] == 2.0
    assert r["val_acc"] == max(h["val_acc"] for h in r["history"])
    # the cap in updates: 10 updates of 4 per epoch = 2.5 epochs (the last epoch partial)
    r = executor.run(replace(cfg, lr=1e-2, patience=0, updates=10, val_every=5))
    assert r["updates_done"] == 10 and r["epochs_done"] == 2.5 == sp.equal_update_epochs(10, 50, 16)
    assert [h["updates"] for h in r["history"]] == [5, 10] and r["stop"] == "cap"
    best = max(range(2), key=lambda i: (r["history"][i]["val_acc"], -i))
    assert r["best_check"] == best + 1 and r["best_updates"] == 5 * (best + 1)
    # per epoch (val_every 0): the blog's cap in epochs
    r = executor.run(replace(cfg, lr=1e-3, patience=0, updates=0, val_every=0, epochs=3, batch_size=1))
    assert r["checks"] == 3 and r["updates_done"] == 150 and r["cap_updates"] == 150
    assert "test_acc_last" in r and r["train_loss"] == [h["loss"] for h in r["history"]]


def test_seed003_early_stopping_records_the_threshold_per_epoch():
    pytest.importorskip("torch")
    from boolgrad.study import executor

    cfg = Seed003Config(dataset="yinyang", kind="arctan", subset=(200, 100), epochs=6, select="val", patience=1,
                        theta_lr_ratio=1 / 3, lr=1e-2)
    r = executor.run(cfg)
    n = r["stopped_epoch"]
    assert 1 <= r["best_epoch"] <= n <= 6 and len(r["theta_path"]) == n + 1 and len(r["theta_grad_path"]) == n
    assert len(r["val_path"]) == n and r["val_acc"] == max(r["val_path"])
    assert r["val_path"].index(r["val_acc"]) + 1 == r["best_epoch"]
    assert r["stopped_early"] == (n < 6) and (n == 6 or n - r["best_epoch"] == 1)
    # the reported threshold is the best epoch's
    assert r["theta_final"] == pytest.approx(r["theta_path"][r["best_epoch"]], abs=1e-7)


# -- the grids --------------------------------------------------------------------------------------
def test_full_grids_sizes_and_equal_updates():
    ds = sp.image_dataset(None, "")
    assert ds == "digits_affine" and sp.image_dataset(None, "/d") == "mnist" and sp.image_dataset("fashion", "/d")
    runs = sp.blog_runs(ds)
    assert len(runs) == 2 * len(BLOG_LRS) * 10 and sp.BLOG_SEEDS >= 10
    assert {(c.model, c.lr) for c in runs} == {(m, lr) for m in ("central", "multi") for lr in BLOG_LRS}
    assert all(c.batch_size == 1 and c.epochs == 4 and c.select == "val" for c in runs)
    assert PROTOCOL_002.seeds >= 10 and PROTOCOL_003.seeds >= 10 and PROTOCOL_002.lrs == tuple(BLOG_LRS)
    cells = sp.batch_cells(ds)
    assert len(cells) == 2 * len(BATCHES) * 2
    upd = [c for c in cells if c.updates]
    assert len(upd) == 2 * len(BATCHES) and all(c.updates == EQUAL_UPDATES >= 50_000 for c in upd)
    assert all(c.val_every * CHECKS == c.updates and c.patience > 0 for c in upd)
    n = images.SIZES["train"]
    for c in upd:  # batch B runs updates / ceil(n / B) epochs; the same updates for every B
        assert sp.equal_update_epochs(c.updates, n, c.batch_size) == pytest.approx(
            EQUAL_UPDATES * c.batch_size / n, rel=0.01)
        assert c.cap_updates(n) == EQUAL_UPDATES
    ep = [c for c in cells if not c.updates]
    assert all(c.epochs == EQUAL_EPOCHS for c in ep)
    assert {c.cap_updates(n) for c in ep} == {EQUAL_EPOCHS * -(-n // b) for b in BATCHES}
    # the equal-epochs batch-1 cells are the blog table's: the same configs, run once
    blog = {config_hash(c) for c in sp.blog_cells(ds)}
    for c in ep:
        if c.batch_size == 1:
            assert {config_hash(replace(c, lr=lr)) for lr in BLOG_LRS} <= blog
    c0 = sp.cells_000()
    assert len(c0) == 2 * 2 * 8 and sp.PROTOCOL_000.seeds >= 10 and len(sp.PROTOCOL_000.lrs) == 6
    assert {c.method for c in c0} >= {"nudge", "additive", "additive_weighted", "straight_through", "boolean_yj2025"}
    assert all(c.select == "val" and c.patience > 0 and c.epochs >= 50 for c in c0)
    assert all(c.batch_size == (1 if c.method in UPDATE_RULES else 32) for c in c0)
    c3 = sp.cells_003()
    assert len(c3) == 8 and {c.kind for c in c3} == {"boolean_fixed16.8", "arctan"}
    assert all(c.select == "val" and c.patience > 0 and c.epochs >= 50 for c in c3)
    for c in [*cells, *runs, *c3, *c0]:
        c.validate()


def test_series_widening():
    assert [sp.series_step(lr, +1) for lr in (0.01, 0.02, 0.05)] == [0.02, 0.05, 0.1]
    assert [sp.series_step(lr, -1) for lr in (0.0005, 0.0002, 0.0001)] == [0.0002, 0.0001, 0.00005]
    p = sp.SeriesProtocol(lrs=BLOG_LRS)
    assert p.grid_after(BLOG_LRS, LRChoice(0.01, {}, "high")) == (*BLOG_LRS, 0.02)
    assert p.grid_after(BLOG_LRS, LRChoice(0.0005, {}, "low")) == (0.0002, *BLOG_LRS)
    assert p.grid_after(BLOG_LRS, LRChoice(0.001, {}, "")) == tuple(BLOG_LRS)
    with pytest.raises(ValueError, match="1-2-5"):
        sp.series_step(3e-3, 1)


# -- the blog claim's verdict -----------------------------------------------------------------------
def _acc(means, noise=0.01, n=10):
    """``{model: {lr: {seed: mean + a seeded +-noise}}}``."""
    rng = np.random.default_rng(1)
    return {m: {lr: {s: v + noise * rng.standard_normal() for s in range(n)} for lr, v in by.items()}
            for m, by in means.items()}


BLOG_LIKE = {"central": {0.0005: 0.86, 0.001: 0.90, 0.005: 0.26, 0.01: 0.10},
             "multi": {0.0005: 0.88, 0.001: 0.89, 0.005: 0.91, 0.01: 0.77}}


def test_claim_holding_on_the_blogs_numbers():
    pytest.importorskip("scipy")
    v = sp.claim_verdict(_acc(BLOG_LIKE))
    assert v["verdict"] == "holding" and v["ref_lr"] == 0.001
    assert all(v["per_lr"][h]["verdict"] == "holding" for h in HIGH_LRS)
    assert v["per_lr"][0.005]["diff"].low > 0.5 and v["per_lr"][0.01]["drop"].low > sp.COLLAPSE


def test_claim_not_holding_without_a_collapse_or_an_advantage():
    pytest.importorskip("scipy")
    flat = {m: {lr: 0.85 for lr in BLOG_LRS} for m in ("central", "multi")}
    v = sp.claim_verdict(_acc(flat))
    assert v["verdict"] == "not holding" and all(p["verdict"] == "not holding" for p in v["per_lr"].values())
    # our digits numbers of results/seeds.md: central does not collapse at high rates
    digits = {"central": {0.0005: 0.70, 0.001: 0.80, 0.005: 0.84, 0.01: 0.82},
              "multi": {0.0005: 0.56, 0.001: 0.67, 0.005: 0.83, 0.01: 0.88}}
    assert sp.claim_verdict(_acc(digits, 0.03))["verdict"] == "not holding"
    # holding at 0.01 only: the claim names both rates, so it does not hold
    half = {"central": {**BLOG_LIKE["central"], 0.005: 0.88}, "multi": BLOG_LIKE["multi"]}
    v = sp.claim_verdict(_acc(half))
    assert v["per_lr"][0.01]["verdict"] == "holding" and v["verdict"] == "not holding"


def test_claim_inconclusive_with_wide_intervals_or_one_seed():
    pytest.importorskip("scipy")
    noisy = {"central": {0.0005: 0.80, 0.001: 0.80, 0.005: 0.68, 0.01: 0.68},
             "multi": {0.0005: 0.80, 0.001: 0.80, 0.005: 0.75, 0.01: 0.75}}
    v = sp.claim_verdict(_acc(noisy, noise=0.15))
    assert v["verdict"] == "inconclusive", {h: (p["diff"], p["drop"]) for h, p in v["per_lr"].items()}
    assert sp.claim_verdict(_acc(BLOG_LIKE, n=1))["verdict"] == "inconclusive"
    assert sp.claim_verdict({})["verdict"] == "inconclusive"


@pytest.mark.parametrize("low, high, plain, than, better", [
    (0.01, 0.05, "higher", "higher than", "better"),
    (-0.05, -0.001, "lower", "lower than", "worse"),
    (-0.015, 0.019, "equivalent within 0.02", "equivalent within 0.02 to", "equivalent within 0.02"),
    (-0.03, 0.01, "inconclusive", "inconclusive vs", "inconclusive"),
    (0.0, 0.0, "equivalent within 0.02", "equivalent within 0.02 to", "equivalent within 0.02"),
    (float("nan"), float("nan"), "inconclusive", "inconclusive vs", "inconclusive"),
])
def test_report_words_a_paired_difference_by_its_interval(low, high, plain, than, better):
    from boolgrad.study.inference import Interval
    from boolgrad.study.seeds.protocol_report import BETTER, THAN, _word

    d = Interval(mean=(low + high) / 2, low=low, high=high, n=10, confidence=0.95)
    assert (_word(d), _word(d, phrases=THAN), _word(d, phrases=BETTER)) == (plain, than, better)
    wide = Interval(mean=0.0, low=-0.05, high=0.05, n=10, confidence=0.95)
    assert (_word(wide), _word(wide, margin=0.1)) == ("inconclusive", "equivalent within 0.1")


def test_claim_reference_rate_is_chosen_on_validation():
    pytest.importorskip("scipy")
    acc = _acc(BLOG_LIKE)
    val = _acc({"central": {0.0005: 0.95, 0.001: 0.5}, "multi": {0.0005: 0.5, 0.001: 0.9}})
    v = sp.claim_verdict(acc, val)
    assert v["ref_lr"] == 0.0005 and v["multi_ref_lr"] == 0.001


# -- the CLI ----------------------------------------------------------------------------------------
def _cli(*args):
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.dirname(__file__)))}
    return subprocess.run([sys.executable, "-m", "boolgrad.cli", "study", "seeds", *args], check=False,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args, msg", [
    (("--protocol", "--only", "001"), "--protocol runs seeds 000, 002, 003"),
    (("--seeds", "3"), "--seeds needs --protocol"),
    (("--protocol", "--dataset", "mnist"), "needs --data-dir"),
    (("--protocol", "--dataset", "cifar"), "unknown --dataset"),
    (("--protocol", "--seeds", "1"), "search seeds (2) must not exceed"),
    (("--protocol", "--seeds", "0"), "--seeds must be >= 1"),
])
def test_protocol_cli_bad_options_exit_2(tmp_path, args, msg):
    r = _cli(*args, "--out", str(tmp_path / "o"), "--no-progress")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and msg in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_protocol_cli_quick(tmp_path, capsys):
    pytest.importorskip("torch")
    from boolgrad.cli import main

    out = tmp_path / "seeds_protocol"  # the folder name docs/seeds.md's blocks read under results/
    assert main(["study", "seeds", "--protocol", "--quick", "--out", str(out), "--no-progress"]) == 0
    md = (out / "seeds_protocol.md").read_text()
    assert "Final runs present / wanted: seed 000 12/12; seed 002 32/32; seed 003 4/4." in md
    assert "the blog's claim is **" in md and "Is the multi-threshold model robust" in md
    assert "Batch sizes at equal updates" in md and "Batch sizes at equal epochs" in md
    assert "Boolean - surrogate" in md and "Cost:" in md
    assert "the threshold's largest move from its initial 0.5: Boolean " in md
    cells3 = json.loads((out / "seed003" / "protocol.json").read_text())["cells"]
    chosen = {c["cell"]: c["lr"] for c in cells3}
    runs3 = [json.loads(p.read_text()) for p in (out / "seed003" / "runs").glob("*.json")]
    fin = [r for r in runs3 if r["seed"] < 2 and chosen.get(_cell_key(r["config"])) == r["config"]["lr"]]
    capped = sum(not r["stopped_early"] for r in fin)
    assert len(fin) == 4 and (f"{capped} of the 4 runs ended at the 3-epoch cap" in md if capped
                              else "-epoch cap" not in md)
    table = [ln.split(" | ") for ln in md.splitlines() if ln.startswith("| yinyang | halving |")]
    assert len(table) == 2 and sum(int(c[6].split("/")[0]) for c in table) == 4 - capped
    assert "Why wouldn't the nudging rule work?" in md and "additive_weighted - nudge" in md
    for s in ("seed000", "seed002", "seed003"):
        prot = json.loads((out / s / "protocol.json").read_text())
        assert prot["protocol"]["seeds"] == 2 and all(not c["fixed"] for c in prot["cells"])
    assert (out / "seeds_protocol" / "seed003_theta.png").exists()
    assert len(json.loads((out / "seed002" / "protocol.json").read_text())["cells"]) == 8
    capsys.readouterr()
    assert main(["study", "seeds", "--protocol", "--quick", "--out", str(out), "--no-progress"]) == 0
    assert "seed 002: 0 runs done" in capsys.readouterr().out  # resumed: nothing reruns
    assert main(["study", "seeds", "--protocol", "--quick", "--seeds", "3", "--out", str(out)]) == 2  # protocol
    _check_answers(tmp_path, out)


def _cell_key(config):
    """A run's cell: its config without the learning rate and seed, as protocol.json writes it."""
    return json.dumps({k: v for k, v in config.items() if k not in ("lr", "seed")}, sort_keys=True,
                      separators=(",", ":"))


def _check_answers(results, out):
    """docs/seeds.md's blocks: each complete seed's question paragraphs; none from a grid stopped
    mid-way (one final run removed: the block says how far the run is and states no verdict)."""
    from boolgrad.study.seeds.answers import protocol_block
    from boolgrad.study.seeds.protocol_report import answers, status

    got = answers(out)
    assert set(got) == {"000", "002", "003"}
    assert got["002"][0].startswith("**Is the multi-threshold model robust") and len(got["002"]) == 2
    assert protocol_block(results, "003") == got["003"][0] + "\n"
    prot = json.loads((out / "seed003" / "protocol.json").read_text())
    cell = prot["cells"][0]
    victim = next(p for p in (out / "seed003" / "runs").glob("*.json")
                  if (r := json.loads(p.read_text()))["config"]["lr"] == cell["lr"] and r["config"]["seed"] == 1
                  and _cell_key(r["config"]) == cell["cell"])
    victim.unlink()
    assert status(out)["003"] == (3, 4) and "003" not in answers(out)
    text = protocol_block(results, "003")
    assert "seed 003 is not complete" in text and "**" not in text
    assert "has not been made" in protocol_block(results / "nowhere", "000")
    from boolgrad.study.seeds.answers import cost_block

    runs = {s: [json.loads(p.read_text()) for p in (out / f"seed{s}" / "runs").glob("*.json")] for s in ("000", "002")}
    cost = cost_block(results)
    for s, rs in runs.items():
        assert f"seed {s}: {len(rs)} runs, {sum(r['train_seconds'] for r in rs) / 3600:.2f} h;" in cost
    n3 = len(list((out / "seed003" / "runs").glob("*.json")))
    assert f"seed 003: {n3} runs" in cost and "(incomplete: 3 of 4 final runs)" in cost  # one final run removed above
    assert "has not been made" in cost_block(results / "nowhere")


def test_seed001_answer_reads_the_decisive_cells(monkeypatch, tmp_path):
    from boolgrad.study import decisive_report
    from boolgrad.study.seeds import answers

    (tmp_path / "decisive").mkdir()
    (tmp_path / "decisive" / "protocol.json").write_text("{}")

    def cell(kind, dt, mean, val, model="snn", n=10):
        return {"dataset": "digits", "model": model, "kind": kind, "dt_over_tau": dt, "readout": "ce_linear",
                "scheme": "exact", "detach_reset": False, "n": n, "seeds_wanted": 10, "mean": mean,
                "low": mean - 0.01, "high": mean + 0.01, "val_mean": val}

    rows = [cell("arctan", 0.125, 0.9, 0.8), cell("straight_through", 0.125, 0.7, 0.9), cell("arctan", 2.0, 0.5, 0.99),
            cell("boolean_yj2025", 0.125, 0.85, 0.7), cell("rectangle", 0.125, 0.2, 0.95, n=3),
            cell("mlp", None, 0.97, 0.97, model="mlp")]
    monkeypatch.setattr(decisive_report, "cell_rows", lambda out: rows)
    text = answers.surrogates_block(tmp_path)
    assert ("digits (dt/tau 0.125): straight_through 0.700 [0.690, 0.710], arctan 0.900 [0.890, 0.910], "
            "boolean_yj2025 0.850 [0.840, 0.860]; the non-spiking MLP 0.970 [0.960, 0.980]; best surrogate by "
            "validation: straight_through.") in text
    assert "rectangle" not in text.split("(straight")[1]  # an incomplete cell (3 of 10 seeds) is left out
