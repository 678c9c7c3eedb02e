"""The digits dataset read from scikit-learn's bundled file equals ``load_digits()``."""

import numpy as np
import pytest

from boolgrad.study.data import _digits, digits_arrays


def test_digits_arrays_equal_load_digits():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_digits()
    data, target = digits_arrays()
    assert data.dtype == ref.data.dtype and target.dtype == ref.target.dtype
    assert np.array_equal(data, ref.data) and np.array_equal(target, ref.target)
    assert data.shape == (1797, 64) and data.max() == 16.0 and target[:5].tolist() == [0, 1, 2, 3, 4]
    # the dataset built from them: the same splits as from load_digits (seed 0)
    d = _digits(0)
    x = ref.data / 16.0
    perm = np.random.default_rng(0).permutation(len(ref.target))
    assert np.array_equal(d.x_test, x[perm[:360]].astype(np.float32))
    assert np.array_equal(d.y_train, ref.target[perm[647:]])
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (1150, 287, 360)
