"""Datasets (shapes, determinism, balance, IDX) and gradient kinds (numpy == torch backward)."""

import gzip
import math

import numpy as np
import pytest

from boolgrad.study import data
from boolgrad.study.kinds import KINDS, get_kind, matched_fraction_bits


def test_yinyang_balanced_deterministic_and_on_definition():
    x, y = data.yinyang(999, 42)
    x2, y2 = data.yinyang(999, 42)
    assert x.dtype == np.float32 and x.shape == (999, 4)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert np.bincount(y).tolist() == [333, 333, 333]
    np.testing.assert_allclose(x[:, 2], 1 - x[:, 0], atol=1e-7)
    # every point inside the big disc; dots within r_small of their centres
    r = np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5)
    assert r.max() <= 0.5 + 1e-6
    dots = x[y == 2]
    d = np.minimum(np.hypot(dots[:, 0] - 0.25, dots[:, 1] - 0.5), np.hypot(dots[:, 0] - 0.75, dots[:, 1] - 0.5))
    assert d.max() < 0.1 + 1e-6
    # the top-left point (0.3, 0.9) is yin (criterion 3 of the definition), (0.3, 0.1) yang
    assert data._yinyang_class(np.array([0.3, 0.3]), np.array([0.9, 0.1])).tolist() == [0, 1]


def test_yinyang_splits():
    d = data.load_dataset("yinyang")
    assert (d.x_train.shape, d.x_val.shape, d.x_test.shape) == ((5000, 4), (1000, 4), (1000, 4))
    assert not np.array_equal(d.x_val, d.x_test)
    assert d.n_classes == 3


def test_digits_splits_and_scale():
    pytest.importorskip("sklearn")
    d = data.load_dataset("digits", seed=0)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (1150, 287, 360)
    assert d.x_train.dtype == np.float32 and 0 <= d.x_train.min() and d.x_train.max() == 1.0
    d1 = data.load_dataset("digits", seed=1)
    assert not np.array_equal(d.y_test, d1.y_test)


def test_mnist1d_shapes_scaled_and_global_rng_untouched():
    pytest.importorskip("mnist1d")
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    d = data._mnist1d(0)  # uncached: must restore numpy's global state
    assert np.random.random() == before
    assert d.x_train.shape == (3200, 40) and d.x_val.shape == (800, 40) and d.x_test.shape == (1000, 40)
    assert 0.0 <= d.x_test.min() and d.x_train.max() == 1.0 and d.x_train.min() == 0.0
    assert set(np.unique(d.y_train)) == set(range(10))
    np.testing.assert_array_equal(d.x_val, data._mnist1d(0).x_val)


def _write_idx(path, arr, code):
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def test_idx_reader_and_missing_file(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5010, 2, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 5010, dtype=np.uint8)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, 0x08)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, 0x08)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "train-images-idx3-ubyte.gz"), imgs)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        data.load_dataset("mnist", data_dir=str(tmp_path))
    test_labels = np.arange(12, dtype=np.uint8) % 10  # every class in the test split
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs[:12], 0x08)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", test_labels, 0x08)
    d = data.load_dataset("fashion", data_dir=str(tmp_path))
    n_val = 5010 // 12  # the validation split scales with the training images (at most 5000)
    assert d.x_train.shape == (5010 - n_val, 6) and d.x_val.shape == (n_val, 6) and d.x_test.shape == (12, 6)
    np.testing.assert_allclose(d.x_test * 255, imgs[:12].reshape(12, 6), atol=1e-4)
    np.testing.assert_array_equal(d.y_test, test_labels)
    with pytest.raises(ValueError, match="data_dir"):
        data.load_dataset("mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_dataset("cifar")


def test_matched_fraction_bits():
    assert matched_fraction_bits(2.0**-6) == 6
    assert matched_fraction_bits(0.05) == 4  # -log2(0.05) = 4.32
    assert matched_fraction_bits(10.0) == 3 and matched_fraction_bits(1e-9) == 14
    spec = get_kind("boolean_matched").resolve(0.05)
    assert spec.format == "fixed16.4" and spec.forward_threshold(0.3) == 0.3125
    assert spec.gradient(np.array([0.3]), 0.3).max() <= 1.0
    with pytest.raises(ValueError, match="resolve"):
        get_kind("boolean_matched").table(0.3)
    with pytest.raises(ValueError, match="unknown kind"):
        get_kind("nope")


def test_numpy_gradient_equals_torch_backward():
    torch = pytest.importorskip("torch")
    u = np.concatenate([np.linspace(-0.5, 1.2, 501), 0.3 + np.linspace(-1e-3, 1e-3, 501)])
    ut = torch.tensor(u, dtype=torch.float32)
    u32 = ut.double().numpy()
    for name, spec in KINDS.items():
        spec = spec.resolve(0.03)
        x = ut.clone().requires_grad_(True)
        s = spec.spike(0.3)(x)
        s.sum().backward()
        np.testing.assert_allclose(spec.gradient(u32, 0.3), x.grad.double().numpy(), rtol=1e-6, atol=1e-12,
                                   err_msg=name)
        # forward: [u >= theta used]
        th = spec.forward_threshold(0.3)
        assert th == 0.3 or abs(th - 0.3) < 2.0**-4, name
    assert math.isclose(KINDS["arctan"].gradient(np.array([0.3]), 0.3)[0], 1.0)
