"""The integer mask formula shared by the compiled kernels (boolgrad.builders.kernels.masks)."""

from __future__ import annotations

import numpy as np
import pytest
from _sweep_grid import SMALL, describe, specs

from boolgrad import make_spec, parse_format
from boolgrad.builders.array_engine import array_sweep
from boolgrad.builders.kernels.masks import kernel_params, mask_at_ranks, single_run
from boolgrad.gradient import mask_of


@pytest.mark.parametrize("name", SMALL + ["float16", "fixed16.8"])
def test_mask_formula_equals_bit_flips_on_every_pattern(name):
    fmt = parse_format(name)
    ranks = np.arange(fmt.n_ranks, dtype=np.uint64)
    b = fmt.pattern_at_rank(ranks).astype(fmt.dtype)
    for spec in specs(fmt, wrts=("u",)):
        ref = mask_of(spec, b).astype(np.uint64)
        assert np.array_equal(mask_at_ranks(kernel_params(spec), ranks), ref), describe(spec)


def test_single_run_when_nothing_fires():
    # gt the largest value of a format without infinity: s = 0 everywhere, mask 0
    for name, theta in [("float8_e4m3fn", 448.0), ("fixed8.3", 127 / 8), ("ufixed4.0", 15.0)]:
        spec = make_spec(name, theta, comparator="gt")
        assert single_run(kernel_params(spec))
        starts, masks = array_sweep(spec, 0, spec.fmt.n_ranks)
        assert list(starts) == [0] and list(masks) == [0]
    assert not single_run(kernel_params(make_spec("float16", 65504.0, comparator="gt")))  # +inf fires
