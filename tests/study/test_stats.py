"""The one mean/std helper: sample std (ddof 1), 0 for one value, None for none, both sum orders."""

import math

import numpy as np

from boolgrad.study.stats import fmt_pm, mean, mean_std, quantiles


def test_mean_std_sample_std_and_edge_cases():
    m, s = mean_std([1.0, 2.0, 4.0])
    assert m == 7 / 3 and math.isclose(s, np.std([1.0, 2.0, 4.0], ddof=1), rel_tol=1e-15)
    assert mean_std([0.5]) == (0.5, 0.0)
    assert mean_std([]) == (None, None) and mean_std([None]) == (None, None)
    assert mean_std([1.0, None, 3.0]) == (2.0, math.sqrt(2.0))
    assert math.isnan(mean_std([1.0, float("nan")])[0])  # kept unless finite=True
    assert mean_std([1.0, float("nan"), float("inf"), 3.0], finite=True) == (2.0, math.sqrt(2.0))
    assert mean([2.0, None, 4.0]) == 3.0 and mean([]) is None


def test_pairwise_is_numpy_and_sequential_is_python():
    rng = np.random.default_rng(0)
    x = list(rng.random(100))
    assert mean_std(x, pairwise=True) == (float(np.mean(x)), float(np.std(x, ddof=1)))
    m = sum(x) / len(x)
    assert mean_std(x) == (m, math.sqrt(sum((v - m) ** 2 for v in x) / (len(x) - 1)))
    assert mean(x[:7]) == mean(x[:7], pairwise=True)  # the same sums below 8 values


def test_fmt_pm_and_quantiles():
    assert fmt_pm([1.0, 3.0], 2) == "2.00 +- 1.41" and fmt_pm([None]) == "-"
    assert quantiles([3.0, 1.0, 2.0], (0.0, 0.5, 1.0)) == [1.0, 2.0, 3.0]
    assert quantiles([], (0.5,)) == [None]
