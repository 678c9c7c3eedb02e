"""Gradient tables: the runs of spec §6 plus metadata, exact for every pattern.

A table is built once (:mod:`boolgrad.builders`: by enumeration or in closed form) and applied
many times (:meth:`GradientTable.gradient`): a pattern's run is found by binary search over
the run starts (in rank order), its mask read from the run, and ``g`` computed from the mask
and the pattern itself (:func:`boolgrad.gradient.sum_terms`) -- so a few hundred runs are exact
for every one of 2**32 patterns.  Files: :mod:`boolgrad.table_io`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ._version import __version__
from .gradient import OPTION_NAMES, GradientSpec, make_spec, mask_of, sum_terms, to_patterns
from .xp import array_module, to_numpy

__all__ = ["ARRAYS", "SCHEMA_VERSION", "GradientTable", "TableMeta", "table_from_runs"]

SCHEMA_VERSION = 1
#: the per-run arrays, in file and checksum order
ARRAYS = ("first", "last", "first_value", "last_value", "mask")


@dataclass(frozen=True)
class TableMeta:
    """Metadata of a table (spec §6): what its file stores, enough to rebuild its
    :class:`GradientSpec` (:meth:`spec`, used when a file is loaded)."""

    format: str
    comparator: str
    convention: str
    wrt: str
    excluded_bits: tuple[int, ...]
    theta_requested: float
    theta_used: float
    theta_pattern: int | None
    exact_threshold: bool
    method: str = "enumerate"
    schema: int = SCHEMA_VERSION
    boolgrad_version: str = ""

    @classmethod
    def from_spec(cls, spec: GradientSpec, method: str) -> TableMeta:
        thr = spec.threshold
        return cls(
            format=spec.fmt.name,
            theta_requested=thr.requested,
            theta_used=thr.used,
            theta_pattern=thr.pattern,
            method=method,
            boolgrad_version=__version__,
            **spec.options,
        )

    def spec(self) -> GradientSpec:
        """The :class:`GradientSpec` these metadata describe (built anew)."""
        return make_spec(self.format, self.theta_requested, **{k: getattr(self, k) for k in OPTION_NAMES})


@dataclass(frozen=True, eq=False)
class GradientTable:
    """Runs of equal mask over all non-NaN patterns in value order, plus metadata.

    Arrays (numpy, one entry per run): ``first``/``last`` patterns, ``first_value``/
    ``last_value``, ``mask``.  Equality (``==``) compares metadata except ``method`` and
    ``boolgrad_version``, and every array exactly.  ``spec`` is the :class:`GradientSpec`
    the table was built (or loaded) with -- carried, not rebuilt from the metadata; given as
    ``None`` it is built from them (:meth:`TableMeta.spec`).  It and ``sweep_info`` (which
    backend built the table, how fast; ``None`` unless it came from :func:`build_table`) are
    determined by the rest or not part of the table: not compared, not saved.
    """

    meta: TableMeta
    first: np.ndarray
    last: np.ndarray
    first_value: np.ndarray
    last_value: np.ndarray
    mask: np.ndarray
    sweep_info: object = field(default=None, repr=False, compare=False)  # builders.backends.SweepInfo
    spec: GradientSpec = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.spec is None:  # assembled from metadata alone
            object.__setattr__(self, "spec", self.meta.spec())

    def __setstate__(self, state):
        self.__dict__.update(state)
        if self.__dict__.get("spec") is None:  # pickled before tables carried their spec
            object.__setattr__(self, "spec", self.meta.spec())

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"GradientTable({m.format}, theta={m.theta_used!r}, {m.comparator}, {m.convention}, "
            f"wrt={m.wrt}, {self.n_runs} runs)"
        )

    # -- derived ----------------------------------------------------------------------
    @property
    def fmt(self):
        return self.spec.fmt

    @property
    def n_runs(self) -> int:
        return len(self.mask)

    @cached_property
    def first_rank(self) -> np.ndarray:
        return self.fmt.rank(self.first)

    @cached_property
    def counts(self) -> np.ndarray:
        """Patterns per run (uint64)."""
        return self.fmt.rank(self.last) - self.first_rank + np.uint64(1)

    def __len__(self) -> int:
        return self.n_runs

    def __eq__(self, other) -> bool:
        if not isinstance(other, GradientTable):
            return NotImplemented
        ignore = {"method", "boolgrad_version"}
        a = {k: v for k, v in asdict(self.meta).items() if k not in ignore}
        b = {k: v for k, v in asdict(other.meta).items() if k not in ignore}
        return a == b and all(
            np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True) for n in ARRAYS
        )

    __hash__ = object.__hash__

    # -- lookups ----------------------------------------------------------------------
    def _run_index(self, b, xp):
        """Index of the run holding each non-NaN pattern (garbage for NaN patterns)."""
        starts = xp.asarray(self.first_rank)
        return xp.searchsorted(starts, self.fmt.rank(b, xp=xp), side="right") - 1

    def mask_at(self, x, *, read_as: str | None = None):
        """Mask ``m`` at each element of ``x`` (values or patterns, as in :meth:`gradient`)."""
        xp = array_module(x)
        b = to_patterns(self.fmt, x, read_as=read_as, xp=xp)
        return self._mask_of_patterns(b, xp)

    def _mask_of_patterns(self, b, xp):
        m = xp.asarray(self.mask)[self._run_index(b, xp)]
        nan = self.fmt.is_nan(b, xp=xp)
        if bool(nan.any()):  # NaN patterns are not in the runs: flip their bits directly
            m[nan] = mask_of(self.spec, b[nan], xp=xp)
        return m

    def gradient(self, x, *, read_as: str | None = None):
        """``g`` at each element of ``x`` (float64 array of ``x``'s shape).

        ``x`` holds values -- converted to the table's format by round-to-nearest-even
        first (overflow to infinity as the format does) -- or raw patterns (an unsigned
        integer array, or ``read_as="patterns"``).  numpy and CuPy arrays both work.  NaN
        patterns are outside the runs; their mask is found by flipping bits, so the result
        is exact there too.
        """
        xp = array_module(x)
        b = to_patterns(self.fmt, x, read_as=read_as, xp=xp)
        g, _, _, _ = sum_terms(self.spec, b, self._mask_of_patterns(b, xp), xp=xp)
        return g

    # -- derived quantities (spec §7) --------------------------------------------------
    @cached_property
    def _area_peak(self):
        from .measures import area_and_peak

        return area_and_peak(self)

    def area(self) -> float:
        """Area under ``g`` (spec §7).

        Fixed point: ``sum_b g(b) 2**-F`` over all patterns.  Floating point: the left
        Riemann sum ``sum g(b) (v(next(b)) - v(b))`` over consecutive pairs of finite
        values (the largest finite value has no finite successor and adds nothing).
        """
        return self._area_peak[0]

    def peak(self) -> tuple[float, float]:
        """``(g_max, value)``: the largest ``g`` and the smallest value where it occurs."""
        return self._area_peak[1]

    def trough(self) -> tuple[float, float]:
        """``(g_min, value)``: the smallest ``g`` (a threshold gradient's most negative) and
        the smallest value where it occurs; for ``wrt="theta"`` and fixed-point tables."""
        if self._area_peak[2] is None:
            raise ValueError("trough() is computed for wrt='theta' and fixed-point tables")
        return self._area_peak[2]

    def integral(self, lo, hi, *, power: int = 1, clamp=None) -> float:
        """``int_lo^hi min(g, clamp)**power du``, ``g`` the step function of spec §7's area
        (each pattern's ``g`` on ``[v(b), v(next b))``); see :mod:`boolgrad.integrals`."""
        from .integrals import integral

        return integral(self, lo, hi, power=power, clamp=clamp)

    def summary(self) -> dict:
        """What ``boolgrad show`` prints, as a dict (a ``wrt="theta"`` table reports its trough,
        the most negative ``g``, where a ``u`` table reports its peak)."""
        g, at = self.trough() if self.meta.wrt == "theta" else self.peak()
        m = self.meta
        return {
            "format": m.format,
            "comparator": m.comparator,
            "convention": m.convention,
            "wrt": m.wrt,
            "excluded_bits": list(m.excluded_bits),
            "theta_requested": m.theta_requested,
            "theta_used": m.theta_used,
            "theta_pattern": m.theta_pattern,
            "runs": self.n_runs,
            "patterns": int(sum(int(c) for c in self.counts)),
            "extreme": "trough" if m.wrt == "theta" else "peak",
            "peak_g": g,
            "peak_at": at,
            "area": self.area(),
            "method": m.method,
        }

    # -- files (boolgrad.table_io) --------------------------------------------------------
    def save(self, path) -> Path:
        """Write the portable ``.npz`` atomically (layout: :mod:`boolgrad.table_io`)."""
        from .table_io import save_table

        return save_table(self, path)

    @classmethod
    def load(cls, path) -> GradientTable:
        """Read and verify a table file (:func:`boolgrad.table_io.load_table`)."""
        from .table_io import load_table

        return load_table(path)

    def to_csv(self, path) -> Path:
        """One row per run; metadata as leading ``# key: value`` lines (written atomically)."""
        from .table_io import save_csv

        return save_csv(self, path)

    def validate(self) -> None:
        """Check that the runs partition the non-NaN patterns; raise ``ValueError`` if not."""
        fmt = self.fmt
        n = len(self.mask)
        if not n or any(len(getattr(self, a)) != n for a in ARRAYS):
            raise ValueError("run arrays are empty or of different lengths")
        if bool(fmt.is_nan(self.first).any() | fmt.is_nan(self.last).any()):
            raise ValueError("a run starts or ends at a NaN pattern")
        first_r, last_r = self.first_rank, fmt.rank(self.last)
        if int(first_r[0]) != 0 or int(last_r[-1]) != fmt.n_ranks - 1:
            raise ValueError("runs do not cover every non-NaN pattern")
        if not (np.array_equal(first_r[1:], last_r[:-1] + np.uint64(1)) and (last_r >= first_r).all()):
            raise ValueError("runs are not consecutive")
        if n > 1 and not (self.mask[1:] != self.mask[:-1]).all():
            raise ValueError("neighbouring runs share a mask (not maximal)")
        for name, pats in (("first_value", self.first), ("last_value", self.last)):
            if not np.array_equal(fmt.decode(pats), getattr(self, name), equal_nan=True):
                raise ValueError(f"{name} does not match the patterns")


def table_from_runs(spec: GradientSpec, starts, masks, method: str, sweep_info=None) -> GradientTable:
    """Assemble a table from run-start ranks and masks (as every sweep backend returns)."""
    fmt = spec.fmt
    starts = np.asarray(to_numpy(starts), dtype=np.uint64)
    masks = np.asarray(to_numpy(masks), dtype=np.uint64)
    ends = np.append(starts[1:] - np.uint64(1), np.uint64(fmt.n_ranks - 1))
    first = fmt.pattern_at_rank(starts)
    last = fmt.pattern_at_rank(ends)
    return GradientTable(
        meta=TableMeta.from_spec(spec, method),
        first=first,
        last=last,
        first_value=fmt.decode(first),
        last_value=fmt.decode(last),
        mask=masks,
        sweep_info=sweep_info,
        spec=spec,
    )

