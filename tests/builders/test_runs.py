"""Runs over rank ranges (boolgrad.builders.runs): the closed-form wrt-theta runs, range checks."""

from __future__ import annotations

import numpy as np
import pytest
from _sweep_grid import SIXTEEN, SMALL, assert_same_runs, describe, specs

from boolgrad import make_spec, parse_format
from boolgrad.builders.array_engine import array_sweep
from boolgrad.builders.runs import check_rank_range, theta_runs


@pytest.mark.parametrize("name", SMALL + SIXTEEN)
def test_theta_runs_equal_array_engine(name):
    fmt = parse_format(name)
    n = fmt.n_ranks
    for spec in specs(fmt, wrts=("theta",)):
        for start, stop in [(0, n), (n // 3, n), (1, n // 2 + 1), (n - 1, n)]:
            if start < stop:
                ref = array_sweep(spec, start, stop)
                assert_same_runs(theta_runs(spec, start, stop), ref, f"{describe(spec)} [{start},{stop})")


def test_check_rank_range_is_the_one_validation():
    spec = make_spec("float8_e5m2", 1.0)
    n = spec.fmt.n_ranks
    check_rank_range(spec, 0, n)
    for start, stop in [(5, 5), (-1, 3), (0, n + 1), (7, 3)]:
        with pytest.raises(ValueError, match=r"rank range \[" + str(start)):
            check_rank_range(spec, start, stop)
        with pytest.raises(ValueError, match="rank range"):
            array_sweep(spec, start, stop)


def test_theta_runs_of_64_bit_formats_use_exact_integers():
    # n_ranks = 2**64 does not fit uint64: the breakpoints are Python ints until the end
    spec = make_spec("fixed64.0", 2**62, wrt="theta", comparator="gt")
    starts, masks = theta_runs(spec)
    assert starts.dtype == np.uint64 and starts[0] == 0 and len(starts) == len(masks) >= 2
    ranks = np.asarray(starts, dtype=object)
    assert all(a < b for a, b in zip(ranks[:-1], ranks[1:]))
    with pytest.raises(ValueError, match="theta_runs is for wrt='theta'"):
        theta_runs(make_spec("float16", 0.3))
