"""Offline datasets of the overshoot study: deterministic, float32 features in [0, 1].

Every loader returns a :class:`Dataset` with train / validation / test splits, features as
float32 arrays scaled to ``[0, 1]`` and integer labels.  Nothing is ever downloaded.

* ``mnist1d`` -- MNIST-1D (Greydanus 2020) generated with ``mnist1d.data.make_dataset`` and
  its default arguments (5000 samples, 40 features, generator seed 42): the first 4000 are
  train, the last 1000 test; ``n_val`` (default 800) of the train samples, drawn with the
  split seed, become the validation split.  Features are min-max scaled with the training
  split's global min and max, then clipped to ``[0, 1]``.
* ``yinyang`` -- the Yin-Yang dataset (Kriener et al. 2021), generated here from its
  definition: points uniform in the disc of radius ``r_big = 0.5`` centred at (0.5, 0.5),
  dots of radius ``r_small = 0.1`` at (0.25, 0.5) and (0.75, 0.5); features
  ``(x, y, 1 - x, 1 - y)``; classes yin (0), yang (1), dot (2) exactly balanced by rejection
  sampling (class of sample ``i`` is ``i mod 3``, then a seeded shuffle).  Train 5000 / val
  1000 / test 1000 with generator seeds 42 / 41 / 40, as in the paper's code.
* ``digits`` -- scikit-learn's bundled 8x8 digits (1797 samples), features ``/ 16``; a seeded
  permutation gives 360 test, 287 validation, 1150 train.
* ``mnist`` / ``fashion`` -- MNIST or Fashion-MNIST from the four IDX files in ``data_dir``
  (``train-images-idx3-ubyte`` etc., optionally ``.gz``), parsed with numpy; pixels ``/ 255``,
  ``h * w`` features (784 for 28x28); the last ``min(5000, n // 12)`` of the ``n`` training
  images are the validation split (5000 for MNIST's 60,000).  Any image size is accepted if
  train and test agree; :func:`check_idx` refuses, in one line naming the sizes, fewer than
  120 training images (a validation split under 10), labels outside ``0..9``, a class without
  a training or test image, and train / test images of different shapes.

* ``spiketrains`` -- spike trains in continuous time (:mod:`boolgrad.study.spiketrains`:
  random manifolds of spike-time patterns after Zenke & Vogels 2021, parameters
  :data:`~boolgrad.study.spiketrains.SPIKETRAINS`): ``x_*`` hold spike times ``(n, n_in,
  n_spikes)`` in units of tau (``Dataset.horizon`` set); :meth:`Dataset.at_dt` bins them at a
  run's ``dt`` into counts ``(n, T, n_in)``, the network's temporal input.

``subset=(n_train, n_eval)`` keeps the first ``n_train`` train and ``n_eval`` val / test samples
(the quick grid).
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache

import numpy as np

from .dataset import Dataset, _f32, _i64, digits_arrays

__all__ = ["DATASETS", "IDX_MIN_TRAIN", "Dataset", "check_idx", "digits_arrays", "idx_val_size", "load_dataset",
           "read_idx", "yinyang"]


# -- MNIST-1D ---------------------------------------------------------------------------------------
def _mnist1d(seed: int, n_val: int = 800) -> Dataset:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise RuntimeError("dataset 'mnist1d' needs the mnist1d package: pip install 'boolgrad[study]'") from None
    saved = np.random.get_state()  # make_dataset reseeds numpy's global generator: restore it
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(saved)
    x, y, xt, yt = d["x"], d["y"], d["x_test"], d["y_test"]
    lo, hi = float(x.min()), float(x.max())
    scale = lambda a: np.clip((a - lo) / (hi - lo), 0.0, 1.0)
    perm = np.random.default_rng(seed).permutation(len(y))
    val, tr = perm[:n_val], perm[n_val:]
    return Dataset("mnist1d", _f32(scale(x[tr])), _i64(y[tr]), _f32(scale(x[val])), _i64(y[val]),
                   _f32(scale(xt)), _i64(yt), 10)


# -- Yin-Yang ---------------------------------------------------------------------------------------
def _yinyang_class(x, y, r_small=0.1, r_big=0.5):
    """Class of points (vectorised): 0 yin, 1 yang, 2 dot (Kriener et al. 2021, their code)."""
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    yin = (d_right <= r_small) | ((d_left > r_small) & (d_left <= 0.5 * r_big)) | (
        (y > r_big) & (d_right > 0.5 * r_big)
    )
    dots = (d_right < r_small) | (d_left < r_small)
    return np.where(dots, 2, np.where(yin, 0, 1))


def yinyang(size: int, seed: int, r_small: float = 0.1, r_big: float = 0.5):
    """``size`` Yin-Yang samples: features ``(x, y, 1-x, 1-y)`` (float32), labels (int64).

    Candidates are uniform in the square ``[0, 2 r_big]^2``; those outside the big disc are
    rejected; sample ``i`` must have class ``i mod 3`` (rejection), so the classes are exactly
    balanced (up to ``size mod 3``); the samples are then shuffled with the same generator.
    """
    rng = np.random.default_rng(seed)
    need = [len(range(c, size, 3)) for c in range(3)]
    got = [[] for _ in range(3)]
    while any(sum(len(a) for a in got[c]) < need[c] for c in range(3)):
        p = rng.random((4 * size + 64, 2)) * 2 * r_big
        inside = np.hypot(p[:, 0] - r_big, p[:, 1] - r_big) <= r_big
        p = p[inside]
        c = _yinyang_class(p[:, 0], p[:, 1], r_small, r_big)
        for k in range(3):
            got[k].append(p[c == k])
    pts = np.empty((size, 2))
    labels = np.arange(size) % 3
    for k in range(3):
        pts[labels == k] = np.concatenate(got[k])[: need[k]]
    order = rng.permutation(size)
    pts, labels = pts[order], labels[order]
    feats = np.column_stack([pts[:, 0], pts[:, 1], 1 - pts[:, 0], 1 - pts[:, 1]])
    return _f32(feats), _i64(labels)


def _yinyang_dataset(seed: int) -> Dataset:
    # the paper's generator seeds (train 42, val 41, test 40); ``seed`` shifts all three
    s = int(seed)
    xtr, ytr = yinyang(5000, 42 + 3 * s)
    xv, yv = yinyang(1000, 41 + 3 * s)
    xt, yt = yinyang(1000, 40 + 3 * s)
    return Dataset("yinyang", xtr, ytr, xv, yv, xt, yt, 3)


def _digits(seed: int) -> Dataset:
    data, target = digits_arrays()
    x, y = data / 16.0, target
    perm = np.random.default_rng(seed).permutation(len(y))
    te, va, tr = perm[:360], perm[360:647], perm[647:]
    return Dataset("digits", _f32(x[tr]), _i64(y[tr]), _f32(x[va]), _i64(y[va]), _f32(x[te]), _i64(y[te]), 10)


# -- IDX (MNIST, Fashion-MNIST) ---------------------------------------------------------------------
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Parse one IDX file (``.gz`` too): magic ``0 0 type ndim``, big-endian uint32 dims, data."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    start = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(raw) - start != n * dtype.itemsize:
        raise ValueError(f"{path}: IDX header says {tuple(dims)} but the file has {len(raw) - start} data bytes")
    return np.frombuffer(raw, dtype, count=n, offset=start).reshape(tuple(dims))


def _find_idx(data_dir, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"missing IDX file {stem}[.gz] in {data_dir}")


#: the validation split of an IDX dataset is the last ``n // IDX_VAL_FRACTION`` training images,
#: at most ``IDX_VAL_MAX``; fewer than ``IDX_MIN_TRAIN`` training images are refused
IDX_VAL_MAX, IDX_VAL_FRACTION, IDX_MIN_TRAIN = 5000, 12, 120


def idx_val_size(n_train_images: int) -> int:
    """Size of the validation split carved from ``n`` IDX training images (module doc)."""
    return min(IDX_VAL_MAX, int(n_train_images) // IDX_VAL_FRACTION)


def _classes_missing(y, n_classes=10):
    return sorted(set(range(n_classes)) - set(np.unique(y).tolist()))


def check_idx(data_dir, parts) -> None:
    """Refuse IDX data the study cannot train on, in one line naming the sizes (module doc).

    ``parts``: ``{"train": (images, labels), "test": (images, labels)}`` as read from the files.
    """
    for prefix, (xi, yi) in parts.items():
        if xi.ndim != 3 or yi.ndim != 1 or len(xi) != len(yi):
            raise ValueError(f"{data_dir}: {prefix} images {xi.shape} and labels {yi.shape} do not match "
                             "(need images (n, h, w) and labels (n,))")
        bad = yi[(yi < 0) | (yi > 9)] if yi.size else yi
        if bad.size:
            raise ValueError(f"{data_dir}: {prefix} labels must be 0..9, found {int(bad[0])}")
    (x, y), (xt, yt) = parts["train"], parts["test"]
    if x.shape[1:] != xt.shape[1:]:
        raise ValueError(f"{data_dir}: train images are {x.shape[1]}x{x.shape[2]} but test images "
                         f"{xt.shape[1]}x{xt.shape[2]}")
    if len(x) < IDX_MIN_TRAIN or len(xt) < 1:
        raise ValueError(f"{data_dir}: {len(x)} training and {len(xt)} test images; need at least "
                         f"{IDX_MIN_TRAIN} training images (the validation split is 1/{IDX_VAL_FRACTION} of them, "
                         f"at most {IDX_VAL_MAX}) and 1 test image")
    n_val = idx_val_size(len(x))
    for what, labels in (("training", y[:-n_val]), ("test", yt)):
        missing = _classes_missing(labels)
        if missing:
            raise ValueError(f"{data_dir}: no {what} image of class {', '.join(map(str, missing))} "
                             f"({len(labels)} {what} images; the study has 10 classes)")


def _idx_dataset(name: str, data_dir, seed: int) -> Dataset:
    if data_dir is None:
        raise ValueError(f"dataset {name!r} reads IDX files: pass data_dir (--data-dir DIR)")
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"data directory {data_dir} does not exist")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        parts[split] = (read_idx(_find_idx(data_dir, f"{prefix}-images-idx3-ubyte")),
                        read_idx(_find_idx(data_dir, f"{prefix}-labels-idx1-ubyte")))
    check_idx(data_dir, parts)
    (x, y), (xt, yt) = ((xi.reshape(len(xi), -1) / 255.0, yi) for xi, yi in (parts["train"], parts["test"]))
    n_val = idx_val_size(len(x))
    return Dataset(name, _f32(x[:-n_val]), _i64(y[:-n_val]), _f32(x[-n_val:]), _i64(y[-n_val:]),
                   _f32(xt), _i64(yt), 10)


def _spiketrains(seed: int) -> Dataset:
    from .spiketrains import SPIKETRAINS, spiketrains

    kw = dict(SPIKETRAINS)
    (xtr, ytr), (xv, yv), (xt, yt) = spiketrains(kw.pop("sizes"), seed, **kw)
    return Dataset("spiketrains", xtr, ytr, xv, yv, xt, yt, kw["n_classes"], float(kw["horizon"]))


#: name -> needs a data_dir
DATASETS = {"mnist1d": False, "yinyang": False, "digits": False, "mnist": True, "fashion": True,
            "spiketrains": False, "digits_affine": False}  # digits_affine: boolgrad.study.seeds.images


@lru_cache(maxsize=8)
def _load_cached(name, seed, data_dir):
    if name == "mnist1d":
        return _mnist1d(seed)
    if name == "yinyang":
        return _yinyang_dataset(seed)
    if name == "digits":
        return _digits(seed)
    if name == "spiketrains":
        return _spiketrains(seed)
    if name == "digits_affine":
        from .seeds.images import digits_affine

        return digits_affine(seed)
    return _idx_dataset(name, data_dir, seed)


def load_dataset(name: str, *, seed: int = 0, data_dir=None, subset=None) -> Dataset:
    """The named dataset (:data:`DATASETS`) with split seed ``seed``; ``subset=(n_train, n_eval)``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    d = _load_cached(name, int(seed), None if data_dir is None else os.fspath(data_dir))
    return d.subset(*subset) if subset else d
