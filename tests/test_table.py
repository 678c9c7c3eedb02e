"""Tables (spec §6-7): enumeration == per-pattern evaluation, area/peak, files, CSV."""


import numpy as np
import pytest
from _grid import FORMATS, OPTIONS, all_patterns, thresholds

from boolgrad import build_table, gradient_at, parse_format


@pytest.mark.parametrize("name", FORMATS)
def test_table_equals_per_pattern_evaluation(name):
    fmt = parse_format(name)
    b = all_patterns(fmt)
    for theta in thresholds(fmt):
        for opts in OPTIONS:
            table = build_table(fmt, theta, device="cpu", **opts)
            ref = gradient_at(fmt, theta, b, **opts)
            assert np.array_equal(table.mask_at(b), ref.mask), (theta, opts)
            g = table.gradient(b)
            assert np.allclose(g, ref.g, rtol=1e-12, atol=0, equal_nan=True), (theta, opts)
            table.validate()


# -- files ---------------------------------------------------------------------------


def test_values_are_rounded_to_the_format_first(table):
    x = np.array([0.3, 0.30001, 0.2999, 1e6, -1e6])
    b = table.fmt.encode(x)
    assert np.array_equal(table.gradient(x), table.gradient(b))
    assert table.gradient(np.array([np.nan]))[0] == gradient_at("float16", 0.3, np.array([np.nan])).g[0]




def test_repr_is_one_line():
    t = build_table("float16", 0.3)
    assert repr(t) == "GradientTable(float16, theta=0.300048828125, ge, secant, wrt=u, 43 runs)"
    from boolgrad import closed_form_table

    assert "\n" not in repr(closed_form_table("float64", 0.3)) and len(repr(closed_form_table("float64", 0.3))) < 100


def test_gradient_refuses_non_numbers():
    t = build_table("float8_e4m3fn", 1.0)
    for bad in (None, "1", [1j]):
        with pytest.raises(TypeError, match="expected values or patterns"):
            t.gradient(bad)
