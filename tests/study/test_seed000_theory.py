"""Seed 000 as an explanation: the nudging rule only rescales (boolgrad.proofs.nudging_direction),
checked on ``nudge_update`` / ``nudge_hidden`` themselves; the additive rule turns the boundary and
learns what nudging cannot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boolgrad.study.data import Dataset
from boolgrad.study.seeds.seed000 import (
    UPDATE_RULES,
    Seed000Config,
    abs_cos_rows,
    additive_hidden,
    additive_update,
    nudge_hidden,
    nudge_update,
    train_rule,
)


def _abs_cos(a, b):
    return np.abs(np.sum(a * b, 1)) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    dim=st.integers(1, 12),
    units=st.integers(1, 6),
    steps=st.integers(1, 60),
    theta=st.floats(-2, 2),
    lr=st.floats(1e-3, 0.3),
    hidden=st.booleans(),
)
def test_any_sequence_of_nudges_keeps_every_row_parallel_and_the_bias_zero(
    seed, dim, units, steps, theta, lr, hidden
):
    rng = np.random.default_rng(seed)
    w = np.zeros((units, dim + 1))
    w[:, :dim] = rng.normal(0, 1 / np.sqrt(dim), (units, dim))
    w0, C = w.copy(), np.ones(units)
    for _ in range(steps):
        if np.abs(w).max() > 1e100:  # the rule's growth is super-exponential: stop before float64 overflows
            break
        x = np.append(rng.normal(size=dim), 1.0)
        net = w @ x
        out = (net >= theta).astype(np.float64)
        if hidden:
            _, f = nudge_hidden(w, net, out, rng.normal(size=3), theta, lr)
        else:
            _, f = nudge_update(w, net, out, rng.integers(0, 2, units).astype(np.float64), theta, lr)
        C *= f
    assert np.all(w[:, -1] == 0.0)  # exactly: c * 0 = 0
    # w_k = C_k w_0 (to rounding: one rounding per entry and step)
    assert np.allclose(w, C[:, None] * w0, rtol=1e-12 * steps, atol=0)
    live = C != 0
    assert np.all(np.abs(abs_cos_rows(w[live], w0[live]) - 1) < 1e-12)


def test_the_nudged_boundary_is_the_initial_one_shifted():
    """Decision of every input: [w_k . x >= theta] = [w_0 . x >= theta / C_k] (C_k > 0), flipped
    for C_k < 0 -- on inputs not within rounding of the boundary."""
    signs = set()
    for seed in range(5):
        rng = np.random.default_rng(seed)
        dim, units, theta = 3, 5, 0.5
        w = np.zeros((units, dim + 1))
        w[:, :dim] = rng.normal(0, 1, (units, dim))
        w0, C = w.copy(), np.ones(units)
        for _ in range(8):  # few steps: the rule's growth is super-exponential (factor ~ lr |n|)
            x = np.append(rng.normal(size=dim), 1.0)
            net = w @ x
            t = rng.integers(0, 2, units).astype(np.float64)
            _, f = nudge_update(w, net, (net >= theta).astype(np.float64), t, theta, 0.6)
            C *= f
        assert np.isfinite(w).all()
        xs = np.concatenate([rng.normal(size=(2000, dim)), np.ones((2000, 1))], 1)
        for j in range(units):
            signs.add(int(np.sign(C[j])))
            now = xs @ w[j] >= theta
            a0 = xs @ w0[j]
            away = np.abs(a0 - theta / C[j]) > 1e-9 * (1 + abs(theta / C[j]))
            want = a0 >= theta / C[j] if C[j] > 0 else a0 <= theta / C[j]
            assert np.array_equal(now[away], want[away])
            assert away.mean() > 0.99
    assert signs == {-1, 1}  # shifted and flipped both met


def test_the_nudging_theorem_holds():
    pytest.importorskip("sympy")
    from boolgrad import proofs

    assert "nudging_direction" in proofs.THEOREMS
    r = proofs.run_one("nudging_direction")
    assert r.ok, r.error
    assert "w_k = C_k w_0" in r.numeric and "Cauchy-Schwarz" in r.symbolic


def test_the_numeric_check_catches_a_rule_that_turns(monkeypatch):
    """Replace the nudge by an update that adds along a fixed direction: the check must fail."""
    pytest.importorskip("sympy")
    from boolgrad import proofs
    from boolgrad.study.seeds import seed000

    def turning(w, net, out, target, theta, lr):
        d = (out - target) * np.abs(net - theta)
        w[:, 0] -= lr * d
        return d, 1.0 - lr * d

    monkeypatch.setattr(seed000, "nudge_update", turning)
    with pytest.raises(AssertionError):
        proofs._module("nudging_direction").numeric()


def test_the_run_cosine_survives_rows_near_overflow():
    """The committed digits/mnist1d depth-2 nudge runs (seed 2) stored |cos| 0 and NaN: the rows'
    norms overflowed float64, not the direction (those runs give 1 - 2e-16 with this cosine)."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 65))
    w = w0 * np.array([1e200, -1e250, 3.0, 1e-200])[:, None]
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.linalg.norm(w[1]) * np.linalg.norm(w[0]))  # the naive product overflows
    assert np.allclose(abs_cos_rows(w0, w), 1.0, rtol=0, atol=1e-15)
    assert abs_cos_rows(w0, np.zeros_like(w0)).tolist() == [0.0] * 4
    turned = w0.copy()
    turned[:, 0] += 10.0
    assert np.all(abs_cos_rows(w0, turned) < 0.99)


# --- the additive rule: the same error, added along the input -------------------------------


def _toy(n, seed, margin=0.1, offset=0.0):
    """2-D points in [-1, 1]^2, label [x1 - x0 > offset], at least ``margin`` from the line."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (6 * n, 2))
    x = x[np.abs(x[:, 1] - x[:, 0] - offset) / np.sqrt(2) > margin][:n]
    return x, (x[:, 1] - x[:, 0] > offset).astype(np.float64)


def _train_unit(rule, x, y, w0, theta=0.5, lr=0.5, epochs=30):
    w = w0.copy()
    xa = np.concatenate([x, np.ones((len(x), 1))], 1)
    rng = np.random.default_rng(1)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            for i in rng.permutation(len(x)):
                net = w @ xa[i]
                out = (net >= theta).astype(np.float64)
                if rule == "nudge":
                    nudge_update(w, net, out, y[i : i + 1], theta, lr)
                else:
                    additive_update(w, xa[i], net, out, y[i : i + 1], theta, lr)
    return w, float(((xa @ w[0] >= theta) == y).mean())


def test_additive_rule_turns_a_unit_onto_a_boundary_nudging_can_never_reach():
    x, y = _toy(200, 0)
    w0 = np.array([[1.0, 0.0, 0.0]])  # initial boundary x0 = 0.5; the right one is x1 = x0
    # the best any nudged unit can do: a decision set {x0 >= tau} or {x0 <= tau}
    taus = np.concatenate([np.sort(x[:, 0]), [-2.0, 2.0]])
    best_parallel = max(max(((x[:, 0] >= t) == y).mean(), ((x[:, 0] <= t) == y).mean()) for t in taus)
    assert best_parallel < 0.85
    w_add, acc_add = _train_unit("additive", x, y, w0)
    w_nud, acc_nud = _train_unit("nudge", x, y, w0)
    assert acc_add == 1.0
    assert _abs_cos(w_add[:, :2], w0[:, :2])[0] < 0.9  # the direction turned
    assert w_add[0, -1] != 0  # and the bias learned
    assert acc_nud <= best_parallel
    fin = np.isfinite(w_nud).all()
    assert not fin or abs(_abs_cos(w_nud, w0)[0] - 1) < 1e-12


def test_additive_moves_the_sample_toward_its_target():
    """n' - n = -lr d |x|^2: always the target's way (nudging: only when n > 0)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        w = rng.normal(size=(4, 3))
        x = np.append(rng.normal(size=2), 1.0)
        net = w @ x
        out = (net >= 0.5).astype(np.float64)
        t = rng.integers(0, 2, 4).astype(np.float64)
        d = additive_update(w, x, net, out, t, 0.5, 0.1)
        assert np.allclose(w @ x - net, -0.1 * d * (x @ x))
        assert np.all(np.sign(w @ x - net) == np.sign(t - out))


def test_additive_hidden_uses_the_summed_error_along_the_input():
    w = np.zeros((3, 3))
    x = np.array([1.0, -2.0, 1.0])
    d = additive_hidden(
        w,
        x,
        net=np.array([6.0, 1.0, 9.0]),
        out=np.array([1.0, 0.0, 1.0]),
        d_next=np.array([0.5, -0.2]),
        theta=5.0,
        lr=0.1,
    )
    assert np.allclose(d, [0.3, 0.0, 0.3])
    assert np.allclose(w, -0.1 * np.outer([0.3, 0.0, 0.3], x))


def test_additive_weighted_hidden_credit_is_the_straight_through_backprop():
    """d_h = sum_j W2_jh d_j for every hidden unit (the unweighted sum ignores W2's signs)."""
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 5))
    x = np.array([0.5, -1.0, 1.0])
    d_out = np.array([0.4, -0.1])
    before = w1.copy()
    d = additive_hidden(
        w1, x, net=w1 @ x, out=(w1 @ x >= 0.5).astype(float), d_next=d_out, theta=0.5, lr=0.1, w_next=w2
    )
    assert np.allclose(d, w2[:, :4].T @ d_out)
    assert np.allclose(w1, before - 0.1 * np.outer(w2[:, :4].T @ d_out, x))


def _dataset(offset):
    (xtr, ytr), (xte, yte) = _toy(300, 0, offset=offset), _toy(200, 1, offset=offset)
    f, i = np.float32, np.int64
    return Dataset(
        "toy", xtr.astype(f), ytr.astype(i), xte.astype(f), yte.astype(i), xte.astype(f), yte.astype(i), 2
    )


@pytest.mark.parametrize("depth", [1, 2])
def test_train_rule_additive_learns_what_nudge_cannot(depth):
    """Two classes, argmax of one unit per class.  Nudging keeps both biases at 0, so the argmax
    boundary (C_0 w0_0 - C_1 w0_1) . x = 0 passes through the origin; the classes' boundary
    x1 - x0 = 0.6 does not."""
    assert {"additive", "additive_weighted"} <= set(UPDATE_RULES)
    data = _dataset(offset=0.6)
    kw = {"dataset": "yinyang", "depth": depth, "hidden": 8, "epochs": 20, "theta": 0.5}
    add = train_rule(Seed000Config(method="additive", lr=0.2, **kw), data)
    nud = train_rule(Seed000Config(method="nudge", lr=0.1, **kw), data)
    assert add["test_acc"] >= 0.95 and add["train_acc"] >= 0.95
    assert (
        add["bias_moved"] is True
        and add["abs_cos_init_final_min"] < 0.99
        and add["diverged_at_sample"] is None
    )
    wtd = train_rule(Seed000Config(method="additive_weighted", lr=0.2, **kw), data)
    assert wtd["test_acc"] >= (0.95 if depth == 1 else 0.85) and wtd["bias_moved"] is True
    if depth == 1:  # no hidden layer: the same rule
        assert wtd["epoch_train_acc"] == add["epoch_train_acc"]
    assert nud["bias_moved"] is False
    assert max(nud["test_acc"], nud["test_acc_last_finite"]) < 0.9


# --- seeds.md: the question answered from the runs -------------------------------------------


def test_wilson_interval_solves_the_score_equation():
    """Wilson's bounds are the roots p of (k/n - p)^2 = z^2 p (1 - p) / n."""
    from boolgrad.study.seeds.report import _wilson

    z = 1.959963984540054
    for k, n in ((17, 18), (0, 18), (3, 7), (18, 18)):
        lo, hi = _wilson(k, n)
        a, b, c = 1 + z * z / n, -(2 * k / n + z * z / n), (k / n) ** 2
        roots = sorted(np.roots([a, b, c]).real)
        assert np.allclose([lo, hi], np.clip(roots, 0, 1), atol=1e-12)
    assert np.allclose(_wilson(17, 18), (0.7424, 0.9901), atol=5e-5)


def _row(dataset, method, depth, seed, acc, **kw):
    return {"dataset": dataset, "method": method, "depth": depth, "seed": seed, "test_acc": acc, **kw}


def test_answer_000_numbers_come_from_the_rows():
    from boolgrad.study.seeds.report import answer_000

    ok_q = [0.5, 1.0, 2.0, 3.0, 4.0]
    nudge = {"frac_wrong_direction": 0.25, "bias_moved": False}
    rows = [
        _row(
            "toy",
            "nudge",
            1,
            0,
            0.1,
            abs_cos_init_final_min=1 - 2.2e-16,
            norm_ratio_quantiles=ok_q,
            diverged_at_sample=100,
            **nudge,
        ),
        _row(
            "toy",
            "nudge",
            1,
            1,
            0.3,
            abs_cos_init_final_min=0.0,
            norm_ratio_quantiles=[1.0, None, None, None, None],
            diverged_at_sample=300,
            **nudge,
        ),
        _row(
            "toy",
            "nudge",
            2,
            0,
            0.2,
            abs_cos_init_final_min=1.0,
            norm_ratio_quantiles=ok_q,
            diverged_at_sample=None,
            **{**nudge, "frac_wrong_direction": 0.5},
        ),
        _row("toy", "perceptron", 1, 0, 0.9),
        _row("toy", "straight_through", 1, 0, 0.8),
        _row("toy", "boolean_yj2025", 1, 0, 0.7),
    ]
    text = answer_000(rows)[0]
    assert "The 3 nudge runs agree: 1 - |cos(W0, W)| <= 2.2e-16 for every unit of the 2 runs" in text
    assert "in the other 1 the norms overflow float64 and the stored |cos| is 0.0000" in text
    assert "bias moved in 0 of 3" in text and "overflowed float64 in 2 of 3 runs" in text
    assert "at sample 300 (median; 100-300)" in text and "25%-50%" in text
    assert (
        "toy: nudge 0.200 [0.100, 0.300], perceptron 0.900 [0.900, 0.900], backprop `straight_through`"
        in text
    )
    assert text.endswith("it is not in these runs yet.")
    assert answer_000([r for r in rows if r["method"] != "nudge"]) == []
    rows.append(_row("toy", "additive", 1, 0, 0.95))
    text = answer_000(rows)[0]
    assert "additive 0.950 [0.950, 0.950]" in text and text.endswith("(figure 10).")
    rows += [
        _row("toy", "additive", 2, 0, 0.15),
        _row("toy", "additive_weighted", 2, 0, 0.85),
        _row("toy", "arctan", 2, 0, 0.9),
    ]
    text = answer_000(rows)[0]
    assert text.endswith(
        "Two layers: toy: nudge 0.200 [0.200, 0.200], additive 0.150 [0.150, 0.150], "
        "additive_weighted 0.850 [0.850, 0.850], backprop `arctan` (best kind) 0.900 [0.900, 0.900]."
    )


def test_committed_seeds_md_carries_the_generated_answer():
    """results/seeds.md's paragraph is what the report makes of results/seeds/runs (never typed)."""
    from pathlib import Path

    from boolgrad.study.seeds.report import answer_000, load_runs

    root = Path(__file__).resolve().parents[2] / "results"
    rows = load_runs(root).get("seed000")
    if not rows:
        pytest.skip("no committed seed 000 runs")
    assert answer_000(rows)[0] in (root / "seeds.md").read_text().splitlines()
