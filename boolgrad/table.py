"""Gradient tables: the runs of SPEC 6 plus metadata, exact for every pattern.

A table is built once (:func:`build_table`, by enumeration) and applied many times
(:meth:`GradientTable.gradient`): a pattern's run is found by binary search over the run
starts (in rank order), its mask read from the run, and ``g`` computed from the mask and the
pattern itself (:func:`boolgrad.gradient.sum_terms`) -- so a few hundred runs are exact for
every one of 2**32 patterns.

File layout (``save``/``load``; readable with numpy + json alone)::

    np.load(path)  ->  an .npz with five arrays, one entry per run, in value order
        first, last             uint64   first and last pattern of the run
        first_value, last_value float64  their values
        mask                    uint64   the run's mask m = sum_i chi_i 2**i
    and "meta": a 0-d unicode array holding a JSON object (json.loads(str(d["meta"]))) with
    schema, boolgrad_version, format, comparator, convention, wrt, excluded_bits,
    theta_requested, theta_used, theta_pattern, exact_threshold, method, checksum.

``checksum`` is the SHA-256 of the canonical JSON of the other metadata keys followed by the
little-endian bytes of the five arrays in the order above.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ._backend import array_module, to_numpy
from .gradient import GradientSpec, make_spec, mask_of, sum_terms, to_patterns
from .sweep import MAX_SWEEP_BITS, SweepInfo, run_sweep

__all__ = ["SCHEMA_VERSION", "GradientTable", "TableFileError", "TableMeta", "build_table"]

SCHEMA_VERSION = 1
_ARRAYS = ("first", "last", "first_value", "last_value", "mask")
_DTYPES = {"first": "<u8", "last": "<u8", "first_value": "<f8", "last_value": "<f8", "mask": "<u8"}


class TableFileError(ValueError):
    """A table file that cannot be trusted: unreadable, foreign, wrong schema, corrupted."""


@dataclass(frozen=True)
class TableMeta:
    """Metadata of a table (SPEC 6); everything needed to rebuild its :class:`GradientSpec`."""

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
        from . import __version__

        thr = spec.threshold
        return cls(
            format=spec.fmt.name,
            comparator=thr.comparator,
            convention=spec.convention,
            wrt=spec.wrt,
            excluded_bits=tuple(spec.excluded),
            theta_requested=thr.requested,
            theta_used=thr.used,
            theta_pattern=thr.pattern,
            exact_threshold=thr.exact,
            method=method,
            boolgrad_version=__version__,
        )

    def spec(self) -> GradientSpec:
        return make_spec(
            self.format,
            self.theta_requested,
            comparator=self.comparator,
            convention=self.convention,
            wrt=self.wrt,
            exact_threshold=self.exact_threshold,
            excluded_bits=self.excluded_bits,
        )


@dataclass(frozen=True, eq=False)
class GradientTable:
    """Runs of equal mask over all non-NaN patterns in value order, plus metadata.

    Arrays (numpy, one entry per run): ``first``/``last`` patterns, ``first_value``/
    ``last_value``, ``mask``.  Equality (``==``) compares metadata except ``method`` and
    ``boolgrad_version``, and every array exactly.  ``sweep_info`` (which backend built
    the table, how fast; ``None`` unless it came from :func:`build_table`) is not part of
    the table: not compared, not saved.
    """

    meta: TableMeta
    first: np.ndarray
    last: np.ndarray
    first_value: np.ndarray
    last_value: np.ndarray
    mask: np.ndarray
    sweep_info: SweepInfo | None = field(default=None, repr=False)

    # -- derived ----------------------------------------------------------------------
    @cached_property
    def spec(self) -> GradientSpec:
        return self.meta.spec()

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
            np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True) for n in _ARRAYS
        )

    __hash__ = object.__hash__

    # -- lookups ----------------------------------------------------------------------
    def _run_index(self, b, xp):
        """Index of the run holding each non-NaN pattern (garbage for NaN patterns)."""
        starts = xp.asarray(self.first_rank)
        return xp.searchsorted(starts, self.fmt.rank(b, xp=xp), side="right") - 1

    def mask_at(self, x, *, kind: str | None = None):
        """Mask ``m`` at each element of ``x`` (values or patterns, as in :meth:`gradient`)."""
        xp = array_module(x)
        b = to_patterns(self.fmt, x, kind=kind, xp=xp)
        return self._mask_of_patterns(b, xp)

    def _mask_of_patterns(self, b, xp):
        m = xp.asarray(self.mask)[self._run_index(b, xp)]
        nan = self.fmt.is_nan(b, xp=xp)
        if bool(nan.any()):  # NaN patterns are not in the runs: flip their bits directly
            m[nan] = mask_of(self.spec, b[nan], xp=xp)
        return m

    def gradient(self, x, *, kind: str | None = None):
        """``g`` at each element of ``x`` (float64 array of ``x``'s shape).

        ``x`` holds values -- converted to the table's format by round-to-nearest-even
        first (overflow to infinity as the format does) -- or raw patterns (an unsigned
        integer array, or ``kind="patterns"``).  numpy and CuPy arrays both work.  NaN
        patterns are outside the runs; their mask is found by flipping bits, so the result
        is exact there too.
        """
        xp = array_module(x)
        b = to_patterns(self.fmt, x, kind=kind, xp=xp)
        g, _, _, _ = sum_terms(self.spec, b, self._mask_of_patterns(b, xp), xp=xp)
        return g

    # -- derived quantities (SPEC 7) --------------------------------------------------
    @cached_property
    def _area_peak(self):
        from .measures import area_and_peak

        return area_and_peak(self)

    def area(self) -> float:
        """Area under ``g`` (SPEC 7).

        Fixed point: ``sum_b g(b) 2**-F`` over all patterns.  Floating point: the left
        Riemann sum ``sum g(b) (v(next(b)) - v(b))`` over consecutive pairs of finite
        values (the largest finite value has no finite successor and adds nothing).
        """
        return self._area_peak[0]

    def peak(self) -> tuple[float, float]:
        """``(g_max, value)``: the largest ``g`` and the smallest value where it occurs."""
        return self._area_peak[1]

    def integral(self, lo, hi, *, power: int = 1, clamp=None) -> float:
        """``int_lo^hi min(g, clamp)**power du``, ``g`` the step function of SPEC 7's area
        (each pattern's ``g`` on ``[v(b), v(next b))``); see :mod:`boolgrad.integrals`."""
        from .integrals import integral

        return integral(self, lo, hi, power=power, clamp=clamp)

    def summary(self) -> dict:
        """What ``boolgrad show`` prints, as a dict."""
        g, at = self.peak()
        return {
            "format": self.meta.format,
            "comparator": self.meta.comparator,
            "convention": self.meta.convention,
            "wrt": self.meta.wrt,
            "excluded_bits": list(self.meta.excluded_bits),
            "theta_requested": self.meta.theta_requested,
            "theta_used": self.meta.theta_used,
            "theta_pattern": self.meta.theta_pattern,
            "runs": self.n_runs,
            "patterns": int(sum(int(c) for c in self.counts)),
            "peak_g": g,
            "peak_at": at,
            "area": self.area(),
            "method": self.meta.method,
        }

    # -- files ------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {n: np.ascontiguousarray(getattr(self, n), dtype=_DTYPES[n]) for n in _ARRAYS}

    def _meta_dict(self) -> dict:
        d = asdict(self.meta)
        d["excluded_bits"] = list(d["excluded_bits"])
        return d

    @staticmethod
    def _checksum(meta: dict, arrays: dict[str, np.ndarray]) -> str:
        h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
        for n in _ARRAYS:
            h.update(np.ascontiguousarray(arrays[n], dtype=_DTYPES[n]).tobytes())
        return h.hexdigest()

    def save(self, path) -> Path:
        """Write the portable ``.npz`` (layout in the module docstring)."""
        path = Path(path)
        arrays = self._arrays()
        meta = self._meta_dict()
        meta["checksum"] = self._checksum(meta, arrays)
        with open(path, "wb") as fh:  # a file object keeps numpy from appending ".npz"
            np.savez_compressed(fh, meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)
        return path

    @classmethod
    def load(cls, path) -> GradientTable:
        """Read a table written by :meth:`save`, verifying schema, checksum and runs.

        Raises :class:`TableFileError` naming the file and the problem.
        """
        path = Path(path)

        def fail(problem):
            return TableFileError(f"{path}: {problem}")

        try:
            with np.load(path, allow_pickle=False) as d:
                names = set(d.files)
                missing = {"meta", *_ARRAYS} - names
                if missing:
                    raise fail(f"not a boolgrad table (missing {', '.join(sorted(missing))})")
                raw_meta = str(d["meta"][()])
                arrays = {n: d[n] for n in _ARRAYS}
        except TableFileError:
            raise
        except FileNotFoundError:
            raise fail("no such file") from None
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
            raise fail(f"not a readable table file ({type(exc).__name__}: {exc})") from None
        try:
            meta = json.loads(raw_meta)
            if not isinstance(meta, dict):
                raise ValueError("metadata is not an object")
        except ValueError as exc:
            raise fail(f"corrupted metadata ({exc})") from None
        schema = meta.get("schema")
        if schema != SCHEMA_VERSION:
            raise fail(f"schema version {schema!r}, this boolgrad reads {SCHEMA_VERSION}")
        stored = meta.pop("checksum", None)
        for n in _ARRAYS:
            if arrays[n].dtype != np.dtype(_DTYPES[n]) or arrays[n].ndim != 1:
                raise fail(f"array {n!r} has dtype {arrays[n].dtype} and {arrays[n].ndim} dims")
        if stored != cls._checksum(meta, arrays):
            raise fail("checksum mismatch (the file is corrupted or was edited)")
        try:
            meta["excluded_bits"] = tuple(meta["excluded_bits"])
            table = cls(meta=TableMeta(**meta), **arrays)
            table.validate()
        except (TypeError, ValueError) as exc:
            raise fail(f"inconsistent table ({exc})") from None
        return table

    def validate(self) -> None:
        """Check that the runs partition the non-NaN patterns; raise ``ValueError`` if not."""
        fmt = self.fmt
        n = len(self.mask)
        if not n or any(len(getattr(self, a)) != n for a in _ARRAYS):
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

    def to_csv(self, path) -> Path:
        """One row per run; metadata as leading ``# key: value`` lines."""
        path = Path(path)
        n = self.fmt.bits
        with open(path, "w", newline="") as fh:
            for k, v in self._meta_dict().items():
                fh.write(f"# {k}: {json.dumps(v)}\n")
            w = csv.writer(fh)
            w.writerow(["first_pattern", "last_pattern", "first_value", "last_value", "count", "mask", "mask_bits"])
            for f, l, fv, lv, c, m in zip(
                self.first, self.last, self.first_value, self.last_value, self.counts, self.mask
            ):
                w.writerow([int(f), int(l), repr(float(fv)), repr(float(lv)), int(c), int(m), format(int(m), f"0{n}b")])
        return path


def build_table(
    fmt,
    theta,
    *,
    comparator: str = "ge",
    convention: str = "secant",
    wrt: str = "u",
    exact_threshold: bool = False,
    excluded_bits=None,
    device: str = "auto",
    progress: bool | None = None,
) -> GradientTable:
    """Exact gradient table by exhaustive enumeration of every pattern (formats <= 32 bits).

    ``device``: ``"auto"`` (fastest available backend), ``"cpu"``/``"numpy"``, ``"gpu"``/
    ``"cupy"``, or another name registered in :data:`boolgrad.sweep.SWEEPERS`.  Every backend
    gives the identical table.  ``progress=None`` shows a bar for sweeps over 2**24 patterns.
    Ctrl-C stops the sweep (``KeyboardInterrupt`` propagates; nothing is returned).
    The returned table's ``sweep_info`` says which backend ran, on how many patterns and
    in how many seconds (``.backend``, ``.patterns``, ``.seconds``, ``.patterns_per_s``).
    """
    spec = make_spec(
        fmt,
        theta,
        comparator=comparator,
        convention=convention,
        wrt=wrt,
        exact_threshold=exact_threshold,
        excluded_bits=excluded_bits,
    )
    f = spec.fmt
    if f.bits > MAX_SWEEP_BITS:
        raise ValueError(
            f"{f.name} has {f.bits} bits; exhaustive enumeration stops at {MAX_SWEEP_BITS} "
            f"(2**{f.bits} patterns). Use the closed-form route (closed_form_table) for wider formats"
        )
    if progress is None:
        progress = f.n_ranks > (1 << 24)
    starts, masks, info = run_sweep(spec, device, progress)
    return table_from_runs(spec, starts, masks, method="enumerate", sweep_info=info)


def table_from_runs(
    spec: GradientSpec, starts, masks, method: str, sweep_info: SweepInfo | None = None
) -> GradientTable:
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
    )

