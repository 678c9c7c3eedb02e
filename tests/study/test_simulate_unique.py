"""The gradient at crossings evaluated once per distinct table pattern: the same float64s as directly."""

import numpy as np
import pytest

from boolgrad.study import simulate as sm
from boolgrad.study.kinds import get_kind
from boolgrad.study.simulate import CrossingRecorder, kind_gradient, lif_trajectory, simulate, xavier_uniform

THETA = 0.3


def _kinds():
    return [get_kind("boolean_yj2025"), get_kind("boolean_fixed16"), get_kind("boolean_bf16"),
            get_kind("boolean_matched").resolve(0.01), get_kind("arctan")]


def _same_bits(a, b):
    return a.dtype == b.dtype == np.float64 and a.shape == b.shape and np.array_equal(a.view(np.uint64),
                                                                                       b.view(np.uint64))


@pytest.mark.parametrize("kind", _kinds(), ids=lambda k: k.format or k.name)
def test_kind_gradient_equals_the_direct_gradient_bit_for_bit(kind):
    rng = np.random.default_rng(1)
    pool = np.concatenate([rng.uniform(-1.5, 1.5, 300), np.float32(rng.uniform(0.25, 0.35, 100)),
                           [THETA, np.nextafter(THETA, 0), np.nextafter(THETA, 1), 0.0, -0.0, 1e-300, -2.5,
                            np.inf, -np.inf, 1e300, 5e-324, 0.3000000001, 0.1875, 0.25]])
    u = rng.choice(pool, 3000)  # many repeats, both zeros, overflow to the format's extremes
    with np.errstate(all="ignore"):  # the surrogate at +-inf, 1e300
        assert _same_bits(kind_gradient(kind, u, THETA), kind.gradient(u, THETA))
        grid = u[:600].reshape(20, 30)  # any shape
        assert _same_bits(kind_gradient(kind, grid, THETA), kind.gradient(grid, THETA))
        assert _same_bits(kind_gradient(kind, u[:1], THETA), kind.gradient(u[:1], THETA))
    assert kind_gradient(kind, np.array([]), THETA).shape == (0,)
    if kind.family == "boolean":  # the groups: one per pattern, the zero-mask patterns together
        t = kind.table(THETA)
        b = t.fmt.encode(u)
        assert np.unique(b).size > 3 and (t.mask_at(b, read_as="patterns") == 0).any()
    with_nan = np.array([np.nan, 0.5, np.nan, THETA])
    if kind.family == "surrogate" or kind.format.startswith(("float", "bfloat")):
        assert _same_bits(kind_gradient(kind, with_nan, THETA), kind.gradient(with_nan, THETA))
    else:  # fixed point has no NaN: refused alike
        with pytest.raises(ValueError, match="NaN"):
            kind.gradient(with_nan, THETA)
        with pytest.raises(ValueError, match="NaN"):
            kind_gradient(kind, with_nan, THETA)


def test_kind_gradient_tells_the_two_zeros_apart():
    k = get_kind("boolean_yj2025")
    z = np.array([0.0, -0.0, 0.0, -0.0])
    assert _same_bits(kind_gradient(k, z, THETA), k.gradient(z, THETA))


def test_crossing_values_repeat_and_finish_is_unchanged(monkeypatch):
    x = np.random.default_rng(0).uniform(0, 1, (128, 4))
    w = xavier_uniform(4, 32, 0)
    us, _ = lif_trajectory(x @ w, 0.25, 32)
    rec = CrossingRecorder(THETA)
    rec.update(us)
    below, _ = rec._samples()
    assert np.unique(below.view(np.uint64)).size < below.size / 2  # neurons retrace their potentials
    kinds = ("boolean_yj2025", "boolean_matched", "boolean_fixed16", "arctan")
    fast = simulate(x, w, 0.25, kinds=kinds)
    monkeypatch.setattr(sm, "kind_gradient", lambda k, u, theta: k.gradient(u, theta))
    slow = simulate(x, w, 0.25, kinds=kinds)
    assert fast == slow
    assert fast["kinds"]["boolean_yj2025"]["mean_grad_below"] > 0
