"""The study's dataset value and the bundled digits it is built from (numpy only).

* :class:`Dataset` -- train / validation / test splits, features float32, labels int64; spike-train
  data (:mod:`boolgrad.study.spiketrains`) binned at a run's step by :meth:`Dataset.at_dt`;
* :func:`digits_arrays` -- scikit-learn's bundled 8x8 digits, read without importing it.

:mod:`boolgrad.study.data` (the named loaders) and the seeds' image stand-in
(:mod:`boolgrad.study.seeds.images`) both build on this module, so neither imports the other's
loaders.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "digits_arrays"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test splits; ``x_*`` float32 ``(n, features)`` in [0, 1], ``y_*`` int64.

    Spike-train data: ``horizon`` set and ``x_*`` spike times ``(n, n_in, n_spikes)`` in units of
    tau, in ``[0, horizon)``; :meth:`at_dt` gives the splits binned at a step (``x_*`` counts
    ``(n, T, n_in)``: ``temporal``)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    horizon: float | None = None  # spike times in [0, horizon) (units of tau); None: features

    @property
    def n_features(self) -> int:
        """Input features, or input neurons of spike data (times or counts)."""
        return int(self.x_train.shape[1] if self.horizon is not None else self.x_train.shape[-1])

    @property
    def temporal(self) -> bool:
        """Inputs per step ``(n, T, n_in)`` (spike counts binned by :meth:`at_dt`)."""
        return self.x_train.ndim == 3 and self.horizon is None

    def subset(self, n_train: int, n_eval: int) -> Dataset:
        return Dataset(
            self.name, self.x_train[:n_train], self.y_train[:n_train], self.x_val[:n_eval],
            self.y_val[:n_eval], self.x_test[:n_eval], self.y_test[:n_eval], self.n_classes, self.horizon,
        )

    def at_dt(self, dt_over_tau: float, horizon: float = 8.0) -> Dataset:
        """The splits as a network at this step takes them: spike times binned into counts
        ``(n, steps_for(dt, horizon), n_in)`` (:func:`~boolgrad.study.spiketrains.bin_spikes`);
        a dataset of features is returned as it is."""
        if self.horizon is None:
            return self
        if horizon < self.horizon:
            raise ValueError(f"{self.name}: spikes lie in [0, {self.horizon:g}) tau; a horizon of {horizon:g} "
                             "would drop some")
        from .spiketrains import bin_spikes

        b = lambda t: bin_spikes(t, dt_over_tau, horizon)
        return Dataset(self.name, b(self.x_train), self.y_train, b(self.x_val), self.y_val, b(self.x_test),
                       self.y_test, self.n_classes)


def _f32(x):
    return np.ascontiguousarray(x, dtype=np.float32)


def _i64(y):
    return np.ascontiguousarray(y, dtype=np.int64)


# -- sklearn digits ---------------------------------------------------------------------------------
def digits_arrays():
    """scikit-learn's digits ``(data, target)`` as ``load_digits()`` returns them (float64 pixels
    0..16, int labels), read from its bundled ``digits.csv.gz`` as it reads it
    (``np.loadtxt(..., delimiter=",")``, last column the label) without importing scikit-learn
    (whose import, ~2-3 s, pulls scipy.stats); ``load_digits`` itself if the file is not there."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # locates the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("dataset 'digits' needs scikit-learn: pip install 'boolgrad[study]'")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "datasets", "data", "digits.csv.gz")
    if not os.path.isfile(path):
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.data, d.target
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int, copy=False)
