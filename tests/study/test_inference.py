"""Inference over seeds on synthetic data with a known answer: bootstrap intervals and their
coverage, pairing by seed, the exact sign-flip p-value, Holm, verdicts and their sentences."""

import itertools
import math

import numpy as np
import pytest

from boolgrad.study.inference import (
    Interval,
    cell_interval,
    holm,
    interaction,
    overall_verdict,
    paired_difference,
    sign_flip_p,
    verdict,
    verdict_sentence,
)

SEEDS = range(10)


def test_cell_interval_contains_the_mean_and_is_deterministic():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(7)
    x = 0.8 + rng.normal(0.0, 0.017, 10)
    iv = cell_interval(x, seed=3)
    assert iv.mean == pytest.approx(float(np.mean(x)), abs=1e-15) and iv.n == 10 and iv.method == "BCa"
    assert iv.low < 0.8 < iv.high and iv.low < iv.mean < iv.high
    assert 0.005 < iv.high - iv.low < 0.05  # about 2 * 1.96 * 0.017 / sqrt(10) = 0.021
    assert cell_interval(x, seed=3) == iv  # the same seed, the same resamples
    assert cell_interval(x, seed=4) != iv  # the seed reaches the resampling
    assert cell_interval(x, 0.5, seed=3).high - cell_interval(x, 0.5, seed=3).low < iv.high - iv.low


def test_cell_interval_degenerate_and_missing_values():
    pytest.importorskip("scipy")
    assert cell_interval([0.3] * 6) == Interval(0.3, 0.3, 0.3, 6, 0.95, "degenerate")
    one = cell_interval([0.4, None, float("nan")])
    assert (one.mean, one.n, one.method) == (0.4, 1, "none") and math.isnan(one.low) and not one.defined
    assert math.isnan(cell_interval([None]).mean) and cell_interval([]).n == 0
    clean = cell_interval([0.1, 0.5, 0.2, 0.9])
    assert cell_interval([0.1, None, 0.5, float("nan"), 0.2, 0.9]) == clean
    assert cell_interval({0: 0.1, 1: 0.5, 2: None, 3: 0.2, 4: 0.9}) == clean  # a dict: its values


def test_cell_interval_coverage_over_synthetic_samples():
    # BCa at n = 10 is known to cover a little under 95% (measured here: about 90% over 2000
    # samples); a broken interval (no resampling, wrong scale, a bias) lands far outside.
    pytest.importorskip("scipy")
    rng = np.random.default_rng(2025)
    hits = 0
    for i in range(200):
        iv = cell_interval(rng.normal(0.5, 0.02, 10), seed=i, n_resamples=999)
        hits += iv.low <= 0.5 <= iv.high
    assert 0.88 <= hits / 200 <= 0.99


def test_paired_difference_uses_pairing_by_seed():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(1)
    offset = {s: 10.0 * s for s in SEEDS}  # a huge per-seed effect, shared by both kinds
    a = {s: offset[s] + 0.03 + rng.normal(0.0, 1e-4) for s in SEEDS}
    a[99] = 5.0  # a seed that b lacks: left out
    b = {s: offset[s] for s in reversed(SEEDS)}  # pairing is by key, not by order
    b[3] = None  # a missing run: seed 3 left out
    iv = paired_difference(a, b)
    assert iv.n == 9 and 0.03 - 2e-4 < iv.low < iv.mean < iv.high < 0.03 + 2e-4  # noise sd 1e-4
    unpaired = cell_interval(a.values()).high - cell_interval(b.values()).low
    assert unpaired > 10  # the unpaired spread dwarfs the 0.03 difference


def _cells(effect, sd, rng, n=10):
    """Four dicts seed -> accuracy with a per-seed base and interaction ``effect`` + N(0, sd^2)."""
    base = {s: 0.85 + rng.normal(0.0, 0.05) for s in range(n)}
    noise = {s: rng.normal(0.0, sd, 4) / 2 for s in range(n)}  # sd of d = sd
    s_c = {s: base[s] + 0.02 + effect + noise[s][0] for s in base}
    b_c = {s: base[s] + noise[s][1] for s in base}
    s_f = {s: base[s] + 0.02 + noise[s][2] for s in base}
    b_f = {s: base[s] + noise[s][3] for s in base}
    return s_c, b_c, s_f, b_f


def _verdict(effect, sd, seed=0, m=3):
    """The verdict of one dataset's interaction, Holm-adjusted as the first of ``m`` tests with
    the others' p-values 1."""
    e = interaction(*_cells(effect, sd, np.random.default_rng(seed)))
    p_adj = holm([e.p_value] + [1.0] * (m - 1))[0]
    return e, p_adj, verdict(e.interval, p_adj)


def test_interaction_known_positive_effect_is_supported():
    pytest.importorskip("scipy")
    e, p_adj, v = _verdict(0.05, 0.017)
    assert e.interval.n == 10 and e.seeds == tuple(SEEDS)
    assert e.interval.low < 0.05 < e.interval.high and e.interval.low > 0.02
    assert e.p_value <= 4 / 1024 and p_adj == pytest.approx(3 * e.p_value) and v == "supported"


def test_interaction_no_effect_wide_noise_is_inconclusive():
    pytest.importorskip("scipy")
    e, _, v = _verdict(0.0, 0.1)
    assert e.p_value > 0.05 and e.interval.low < -0.02 and e.interval.high > 0.02 and v == "inconclusive"


def test_interaction_negative_effect_is_refuted():
    pytest.importorskip("scipy")
    e, p_adj, v = _verdict(-0.05, 0.017)
    assert e.interval.high < 0 and p_adj < 0.05 and v == "refuted"


def test_interaction_zero_effect_tiny_noise_is_refuted_by_the_margin():
    pytest.importorskip("scipy")
    e, p_adj, v = _verdict(0.0, 0.001)
    assert p_adj >= 0.05 and -0.02 < e.interval.low < e.interval.high < 0.02 and v == "refuted"
    # a significant but negligible positive effect: the margin outranks significance
    e, p_adj, v = _verdict(0.005, 0.001)
    assert p_adj < 0.05 and e.interval.mean > 0 and e.interval.high < 0.02 and v == "refuted"
    assert verdict(e.interval, p_adj, margin=0.001) == "supported"


def test_interaction_uses_only_seeds_present_in_all_four():
    pytest.importorskip("scipy")
    s_c, b_c, s_f, b_f = _cells(0.05, 0.017, np.random.default_rng(0))
    del s_f[4]
    b_c[7] = float("nan")
    s_c[42] = 1.0
    e = interaction(s_c, b_c, s_f, b_f)
    assert e.seeds == (0, 1, 2, 3, 5, 6, 8, 9) and e.interval.n == 8
    d = [(s_c[s] - b_c[s]) - (s_f[s] - b_f[s]) for s in e.seeds]
    assert e.interval.mean == pytest.approx(np.mean(d), abs=1e-15)


def test_sign_flip_p_exact_values():
    pytest.importorskip("scipy")
    assert sign_flip_p([1.0, 1.0, 1.0]) == pytest.approx(2 / 8)  # all + or all -: 2 of 8 flips
    assert sign_flip_p([1.0, 2.0, -0.5]) == pytest.approx(4 / 8)  # |sum| >= 2.5: 3.5, 2.5 twice each
    assert sign_flip_p([0.01] * 10) == pytest.approx(2 / 1024)
    assert sign_flip_p([0.0, 0.0, 0.0]) == 1.0 and sign_flip_p([2.0]) == 1.0
    assert math.isnan(sign_flip_p([])) and sign_flip_p([1.0, None, 1.0, float("nan"), 1.0]) == pytest.approx(0.25)


def test_sign_flip_p_matches_brute_force_enumeration():
    pytest.importorskip("scipy")
    d = np.random.default_rng(5).normal(0.01, 0.02, 9)
    flips = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
    means = np.abs((flips * d).mean(axis=1))
    expected = np.mean(means >= abs(d.mean()) * (1 - 1e-12))
    assert sign_flip_p(d) == pytest.approx(expected, abs=1e-12)


def test_holm_hand_example_monotone_and_capped():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.6]) == [1.0, 1.0] and holm([]) == [] and holm([0.02]) == [0.02]
    p = np.random.default_rng(3).random(12) ** 3
    q = np.array(holm(p))
    order = np.argsort(p)
    assert np.all(np.diff(q[order]) >= 0) and np.all(q >= p) and np.all(q <= 1)
    assert q[order[0]] == pytest.approx(min(1.0, 12 * p[order[0]]))
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])


def test_verdict_rules_and_undefined_interval():
    iv = Interval(0.06, 0.04, 0.08, 10, 0.95, "BCa")
    assert verdict(iv, 0.01) == "supported" and verdict(iv, 0.06) == "inconclusive"
    assert verdict(Interval(-0.06, -0.08, -0.04, 10, 0.95), 0.01) == "refuted"
    assert verdict(Interval(0.0, -0.019, 0.019, 10, 0.95), 0.9) == "refuted"
    assert verdict(Interval(0.0, -0.021, 0.019, 10, 0.95), 0.9) == "inconclusive"
    assert verdict(Interval(0.06, math.nan, math.nan, 1, 0.95, "none"), 0.01) == "inconclusive"


def test_verdict_sentence_formats_the_numbers():
    iv = Interval(0.0712, 0.0521, 0.0904, 10, 0.95, "BCa")
    assert verdict_sentence("digits", iv, 0.0041, "supported") == (
        "digits: interaction +0.071 (95% CI +0.052 to +0.090, n = 10 seeds, "
        "Holm-adjusted p = 0.004): supported."
    )
    neg = Interval(-0.0123, -0.03, 0.0051, 9, 0.9, "percentile")
    assert verdict_sentence("mnist1d", neg, 0.0002, "inconclusive") == (
        "mnist1d: interaction -0.012 (90% CI -0.030 to +0.005, n = 9 seeds, "
        "Holm-adjusted p < 0.001): inconclusive."
    )
    one = Interval(0.05, math.nan, math.nan, 1, 0.95, "none")
    assert verdict_sentence("x", one, 1.0, "inconclusive") == (
        "x: interaction +0.050 (no CI, n = 1 seed, Holm-adjusted p = 1.000): inconclusive."
    )


def test_overall_verdict_rule():
    assert overall_verdict({"digits": "supported", "mnist1d": "supported"}) == "supported"
    assert overall_verdict(["supported", "inconclusive"]) == "inconclusive"
    assert overall_verdict(["refuted", "refuted"]) == "refuted"
    assert overall_verdict(["supported", "refuted", "inconclusive"]) == "mixed"
    assert overall_verdict([]) == "inconclusive"
    with pytest.raises(ValueError):
        overall_verdict(["maybe"])


def test_too_few_seeds_give_no_verdict():
    from boolgrad.study.inference import MIN_SEEDS, Interval, verdict

    strong = Interval(0.2, 0.15, 0.25, MIN_SEEDS - 1, 0.95)
    assert verdict(strong, 0.001) == "inconclusive"
    assert verdict(Interval(0.2, 0.15, 0.25, MIN_SEEDS, 0.95), 0.001) == "supported"
