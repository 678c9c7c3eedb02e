"""The float run form (boolgrad.binades) against the per-pattern reference."""

import numpy as np
import pytest

import boolgrad as bg
from boolgrad.builders.closed_form import closed_form_table


@pytest.mark.parametrize("fmt_name, theta, opt", [
    ("float32", 0.3, {}),
    ("float32", -1.0, {"convention": "paper"}),
    ("float64", 1e-310, {"comparator": "gt"}),
    ("bfloat16", 3.0, {"excluded_bits": [0, 14]}),
])
def test_float_segment_form_matches_gradient_at(fmt_name, theta, opt):
    """g = K_m/ulp + K_u/|u| + poles (proofs.float_terms) on sampled patterns of every run."""
    from boolgrad.binades import float_segment_form

    t = closed_form_table(fmt_name, theta, **opt)
    fmt = t.fmt
    rng = np.random.default_rng(5)
    counts = t.counts.astype(np.float64)
    ranks = [int(r0) + int(k) for r0, c in zip(t.first_rank, counts)
             for k in {0, int(c) - 1, *rng.integers(0, int(c), size=3).tolist()}]
    pats = fmt.pattern_at_rank(np.asarray(ranks, dtype=np.uint64))
    ref = bg.gradient_from_spec(t.spec, pats)
    M, checked = fmt.man_bits, 0
    for b, g, mask in zip(pats, ref.g, ref.mask):
        b = int(b)
        val = fmt.exact_value(b)
        if isinstance(val, float) or val == 0:
            continue  # +-inf and +-0 are pointwise cases, outside the theorem
        sign, mag = b >> (fmt.bits - 1), b & ((1 << (fmt.bits - 1)) - 1)
        form = float_segment_form(t.spec, int(mask), sign, mag >> M)
        x = form.evaluate(mag & ((1 << M) - 1))
        # float64 subnormal weights: the exact g exceeds float64 and the reference overflows to inf
        exact = float(x) if abs(x) < 2**1024 else (np.inf if x > 0 else -np.inf)
        assert exact == pytest.approx(float(g), rel=1e-12, abs=0), f"pattern {b:#x}"
        checked += 1
    assert checked > t.n_runs
