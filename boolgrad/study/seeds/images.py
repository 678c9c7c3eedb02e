"""``digits_affine``: an offline image task that stands in for MNIST when no IDX files are given.

Nothing is downloaded.  scikit-learn's bundled 8x8 digits (1797 images, ~180 per class) are split
into originals exactly as the ``digits`` dataset splits them (the same seeded permutation: 360
test, 287 validation, 1150 training originals), and every split is expanded deterministically
into distorted 16x16 images drawn **only from its own originals** -- so no test image shares an
original with a training or validation image:

* image ``i`` has class ``i mod 10`` (classes exactly balanced, in any prefix of 10k images) and
  is the ``(i // 10)``-th original of its class in a seeded order, round-robin (each original of
  a class used ``floor`` or ``ceil`` of ``n_c / originals_c`` times);
* a random affine map -- rotation uniform in +-:data:`ROTATE` degrees, scale uniform in
  :data:`SCALE`, shear uniform in +-:data:`SHEAR`, shift uniform in +-:data:`SHIFT` of the
  half-width -- maps the 16x16 output grid into the original, sampled bilinearly (zero outside);
* contrast uniform in :data:`CONTRAST`, then Gaussian pixel noise of std :data:`NOISE`, clipped
  to ``[0, 1]``.

Sizes are MNIST's under the study's IDX split (:func:`boolgrad.study.data.idx_val_size`): 55,000
training, 5,000 validation, 10,000 test images (256 features).  At batch size 1 one epoch is
55,000 optimizer updates -- the blog's four MNIST epochs are 220,000.  It is harder than
``digits``: the same originals, distorted and noisy, and a test set from held-out originals
only, so memorising the 1150 training originals does not pass the test (docs/seeds_experiments.md
gives the accuracies of one network on both).

Deterministic: the split permutation from ``seed`` (the study's data seed), every draw from a
``numpy.random.default_rng`` stream of ``(seed, split, parameter)``, so the first ``m`` images of
a split do not depend on its size: :func:`digits_affine` with ``sizes`` equal to a subset's
gives that subset of the full set, at a fraction of the cost (the quick grid and the tests).
numpy only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "CONTRAST",
    "NAME",
    "NOISE",
    "ROTATE",
    "SCALE",
    "SHEAR",
    "SHIFT",
    "SIDE",
    "SIZES",
    "digits_affine",
    "distort",
    "split_originals",
    "subset",
]

NAME = "digits_affine"
#: images per split: train / validation / test (MNIST's under the study's IDX split)
SIZES = {"train": 55_000, "val": 5_000, "test": 10_000}
#: output side in pixels (the originals are 8x8)
SIDE = 16
ROTATE, SCALE, SHEAR, SHIFT = 20.0, (0.8, 1.15), 0.25, 0.18
CONTRAST, NOISE = (0.6, 1.0), 0.12
_SPLIT_STREAM = {"train": 1, "val": 2, "test": 3}


def split_originals(seed: int = 0):
    """Indices of the digits originals of each split: ``{"train", "val", "test"}`` -> array (the
    ``digits`` dataset's permutation: 360 test, 287 validation, the remaining 1150 training)."""
    perm = np.random.default_rng(seed).permutation(1797)
    return {"test": perm[:360], "val": perm[360:647], "train": perm[647:]}


def distort(originals: np.ndarray, streams, side: int = SIDE, chunk: int = 4096) -> np.ndarray:
    """Each ``8x8`` original (``(n, 64)`` in ``[0, 1]``) mapped by its own random affine map and
    contrast, with pixel noise (module doc): ``(n, side * side)`` float32 in ``[0, 1]``.

    ``streams``: a seed sequence (list of ints); every parameter is drawn from its own generator
    ``default_rng([*streams, k])``, so image ``i``'s distortion does not depend on ``n``
    (the first ``m`` of ``n`` images are the ``m`` images)."""
    n = len(originals)
    rng = [np.random.default_rng([*map(int, streams), k]) for k in range(7)]
    ang = np.deg2rad(rng[0].uniform(-ROTATE, ROTATE, n))
    scale = rng[1].uniform(*SCALE, n)
    shear = rng[2].uniform(-SHEAR, SHEAR, n)
    shift = np.column_stack([rng[3].uniform(-SHIFT, SHIFT, n), rng[4].uniform(-SHIFT, SHIFT, n)])
    contrast = rng[5].uniform(*CONTRAST, n)
    noise = rng[6].standard_normal((n, side * side)) * NOISE
    # output pixel centres in [-1, 1]
    c = (np.arange(side) + 0.5) / side * 2 - 1
    gy, gx = np.meshgrid(c, c, indexing="ij")
    out = np.empty((n, side * side), dtype=np.float32)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        cos, sin = np.cos(ang[a:b])[:, None, None], np.sin(ang[a:b])[:, None, None]
        px, py = gx[None] - shift[a:b, 0, None, None], gy[None] - shift[a:b, 1, None, None]
        # inverse map: undo rotation, shear, scale
        rx, ry = cos * px + sin * py, -sin * px + cos * py
        rx = rx - shear[a:b, None, None] * ry
        s = scale[a:b, None, None]
        sx, sy = (rx / s + 1) / 2 * 8 - 0.5, (ry / s + 1) / 2 * 8 - 0.5  # source pixel coordinates
        src = np.zeros((b - a, 10, 10))
        src[:, 1:9, 1:9] = originals[a:b].reshape(-1, 8, 8)
        src = src.reshape(b - a, 100)
        x0, y0 = np.floor(sx), np.floor(sy)
        wx, wy = (sx - x0).reshape(b - a, -1), (sy - y0).reshape(b - a, -1)
        # flat indices into the zero-padded 10x10 source (coordinates outside fall on the zero border)
        xi = [np.clip(x0 + d, -1, 8).astype(np.int64).reshape(b - a, -1) + 1 for d in (0, 1)]
        yi = [(np.clip(y0 + d, -1, 8).astype(np.int64).reshape(b - a, -1) + 1) * 10 for d in (0, 1)]

        def at(dy, dx, src=src, xi=xi, yi=yi):
            return np.take_along_axis(src, yi[dy] + xi[dx], axis=1)

        img = (1 - wy) * ((1 - wx) * at(0, 0) + wx * at(0, 1)) + wy * ((1 - wx) * at(1, 0) + wx * at(1, 1))
        img = img * contrast[a:b, None] + noise[a:b]
        out[a:b] = np.clip(img, 0.0, 1.0)
    return out


def _picks(target, originals, n, streams):
    """The original of each of ``n`` images: image ``i`` has class ``i mod 10`` and is the
    ``(i // 10)``-th original of that class in a seeded order, round-robin (module doc)."""
    picks = np.empty(n, dtype=np.int64)
    for c in range(10):
        mine = np.random.default_rng([*map(int, streams), 100 + c]).permutation(originals[target[originals] == c])
        k = len(range(c, n, 10))
        picks[c::10] = np.resize(mine, k)
    return picks


@lru_cache(maxsize=4)
def subset(seed: int, n_train: int, n_eval: int):
    """The stand-in's ``subset=(n_train, n_eval)`` generated at that size: the same images as
    ``load_dataset("digits_affine", subset=...)``, which generates the whole set first."""
    return digits_affine(int(seed), {"train": int(n_train), "val": int(n_eval), "test": int(n_eval)})


def digits_affine(seed: int = 0, sizes=None, *, with_originals: bool = False):
    """The stand-in's splits (module doc): a :class:`boolgrad.study.data.Dataset` named
    :data:`NAME`; ``sizes`` overrides :data:`SIZES` (tests); ``with_originals=True`` also returns
    ``{split: original index of each image}``."""
    from ..dataset import Dataset, digits_arrays

    data, target = digits_arrays()
    data, target = data / 16.0, np.asarray(target)
    sizes = {**SIZES, **(sizes or {})}
    parts, used = {}, {}
    for split, orig in split_originals(seed).items():
        streams = (int(seed), _SPLIT_STREAM[split])
        picks = _picks(target, orig, int(sizes[split]), streams)
        parts[split], used[split] = (distort(data[picks], streams), target[picks].astype(np.int64)), picks
    d = Dataset(NAME, *parts["train"], *parts["val"], *parts["test"], 10)
    return (d, used) if with_originals else d
