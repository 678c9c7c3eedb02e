"""Table files: save (atomic), load (verified), CSV, checksum.

File layout (readable with numpy + json alone)::

    np.load(path)  ->  an .npz with five arrays, one entry per run, in value order
        first, last             uint64   first and last pattern of the run
        first_value, last_value float64  their values
        mask                    uint64   the run's mask m = sum_i chi_i 2**i
    and "meta": a 0-d unicode array holding a JSON object (json.loads(str(d["meta"]))) with
    schema, boolgrad_version, format, comparator, convention, wrt, excluded_bits,
    theta_requested, theta_used, theta_pattern, exact_threshold, method, checksum.

``checksum`` is the SHA-256 of the canonical JSON of the other metadata keys followed by the
little-endian bytes of the five arrays in the order above.  It only detects accidents, so
:func:`load_table` also verifies *meaning*: every field's type and value, the used theta and
its pattern against the requested theta and the format, and the runs themselves against the
closed form of the metadata (milliseconds for any format) -- a table whose masks are not the
Boolean derivative of its own metadata is refused.  Sizes are bounded from the zip headers
before anything is decompressed: a table has at most ``16 n + 16`` runs for an ``n``-bit
format (the closed form's toggle count, :mod:`boolgrad.builders.closed_form`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .formats import parse_format
from .gradient import CONVENTIONS, WRT
from .table import ARRAYS, SCHEMA_VERSION, GradientTable, TableMeta
from .threshold import COMPARATORS

__all__ = ["TableFileError", "checksum", "load_table", "max_runs", "meta_dict", "save_csv", "save_table"]

DTYPES = {"first": "<u8", "last": "<u8", "first_value": "<f8", "last_value": "<f8", "mask": "<u8"}
METHODS = ("enumerate", "closed-form")
_META_LIMIT = 1 << 16  # bytes of the JSON metadata member
_NPY_HEADER = 1 << 12  # generous room for a .npy header


class TableFileError(ValueError):
    """A table file that cannot be trusted: unreadable, foreign, wrong schema, corrupted, forged."""


def max_runs(bits: int) -> int:
    """Upper bound on the runs of an ``n``-bit table (``16 n + 16``; module doc)."""
    return 16 * bits + 16


def meta_dict(table: GradientTable) -> dict:
    d = asdict(table.meta)
    d["excluded_bits"] = list(d["excluded_bits"])
    return d


def _arrays(table: GradientTable) -> dict[str, np.ndarray]:
    return {n: np.ascontiguousarray(getattr(table, n), dtype=DTYPES[n]) for n in ARRAYS}


def checksum(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the canonical metadata JSON (without ``checksum``) and the arrays' bytes."""
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for n in ARRAYS:
        h.update(np.ascontiguousarray(arrays[n], dtype=DTYPES[n]).tobytes())
    return h.hexdigest()


def save_table(table: GradientTable, path) -> Path:
    """Write the portable ``.npz`` atomically (an existing file is replaced only when whole)."""
    path = Path(path)
    arrays = _arrays(table)
    meta = meta_dict(table)
    meta["checksum"] = checksum(meta, arrays)
    with atomic_write(path, "wb") as fh:  # a file object keeps numpy from appending ".npz"
        np.savez_compressed(fh, meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)
    return path


def save_csv(table: GradientTable, path) -> Path:
    """One row per run; metadata as leading ``# key: value`` lines (atomic)."""
    path = Path(path)
    n = table.fmt.bits
    with atomic_write(path, "w", newline="") as fh:
        for k, v in meta_dict(table).items():
            fh.write(f"# {k}: {json.dumps(v)}\n")
        w = csv.writer(fh)
        w.writerow(["first_pattern", "last_pattern", "first_value", "last_value", "count", "mask", "mask_bits"])
        for f, last, fv, lv, c, m in zip(
            table.first, table.last, table.first_value, table.last_value, table.counts, table.mask
        ):
            w.writerow(
                [int(f), int(last), repr(float(fv)), repr(float(lv)), int(c), int(m), format(int(m), f"0{n}b")]
            )
    return path


# -- loading ----------------------------------------------------------------------------------
def _read_member(zf: zipfile.ZipFile, name: str, limit: int) -> np.ndarray:
    """One ``.npy`` member, refused if its declared or actual size exceeds ``limit`` bytes."""
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise TableFileError(f"member {name} declares {info.file_size} bytes, more than a table can hold")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TableFileError(f"member {name} is larger than a table can hold")
    return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def _read_file(path: Path):
    """``(raw_meta_json, arrays)`` from the zip, bounded; library errors become TableFileError."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        wanted = {f"{n}.npy" for n in ("meta", *ARRAYS)}
        missing = sorted(n[:-4] for n in wanted - names)
        if missing:
            raise TableFileError(f"not a boolgrad table (missing {', '.join(missing)})")
        if names - wanted:
            raise TableFileError(f"not a boolgrad table (unexpected members {', '.join(sorted(names - wanted))})")
        meta = _read_member(zf, "meta.npy", _META_LIMIT + _NPY_HEADER)
        if meta.dtype.kind != "U" or meta.shape != ():
            raise TableFileError("corrupted metadata (not a 0-d unicode array)")
        raw_meta = str(meta[()])
        try:
            bits = parse_format(json.loads(raw_meta)["format"]).bits
        except Exception:  # noqa: BLE001 - reported in full by _check_meta below
            bits = 64
        limit = 8 * max_runs(bits) + _NPY_HEADER
        arrays = {n: _read_member(zf, f"{n}.npy", limit) for n in ARRAYS}
    return raw_meta, arrays


def _field(meta: dict, key: str, types, allowed=None):
    v = meta[key]
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise TableFileError(f"field {key!r} has type bool")
    if not isinstance(v, types):
        raise TableFileError(f"field {key!r} has type {type(v).__name__}")
    if allowed is not None and v not in allowed:
        raise TableFileError(f"field {key!r} is {v!r}, not one of {', '.join(map(str, allowed))}")
    return v


def _check_meta(meta: dict) -> TableMeta:
    """Types and values of every metadata field; the spec they describe must exist."""
    keys = {*TableMeta.__dataclass_fields__}
    if set(meta) != keys:
        extra, missing = sorted(set(meta) - keys), sorted(keys - set(meta))
        raise TableFileError(f"metadata keys differ from the schema (extra {extra}, missing {missing})")
    _field(meta, "format", str)
    _field(meta, "comparator", str, COMPARATORS)
    _field(meta, "convention", str, CONVENTIONS)
    _field(meta, "wrt", str, WRT)
    _field(meta, "method", str, METHODS)
    _field(meta, "boolgrad_version", str)
    _field(meta, "exact_threshold", bool)
    excluded = _field(meta, "excluded_bits", list)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in excluded):
        raise TableFileError("field 'excluded_bits' must be a list of integers")
    for key in ("theta_requested", "theta_used"):
        v = _field(meta, key, (int, float))
        if not math.isfinite(v):
            raise TableFileError(f"field {key!r} is {v!r}, not a finite number")
    pattern = meta["theta_pattern"]
    if pattern is not None and (isinstance(pattern, bool) or not isinstance(pattern, int)):
        raise TableFileError("field 'theta_pattern' must be an integer or null")
    fields = dict(meta, excluded_bits=tuple(excluded))
    fields["theta_requested"] = float(fields["theta_requested"])
    fields["theta_used"] = float(fields["theta_used"])
    return TableMeta(**fields)


def _check_meaning(meta: TableMeta, arrays: dict) -> GradientTable:
    """The spec rebuilt from the metadata must give exactly these theta fields and runs."""
    from .builders.closed_form import closed_form_table_from_spec

    try:
        spec = meta.spec()
    except (TypeError, ValueError) as exc:
        raise TableFileError(f"metadata describe no valid table ({exc})") from None
    thr = spec.threshold
    for key, have, want in (("theta_used", meta.theta_used, thr.used), ("theta_pattern", meta.theta_pattern, thr.pattern)):
        if have != want:
            raise TableFileError(f"{key} is {have!r}, but theta {meta.theta_requested!r} in {meta.format} gives {want!r}")
    for n in ARRAYS:
        a = arrays[n]
        if a.dtype != np.dtype(DTYPES[n]) or a.ndim != 1:
            raise TableFileError(f"array {n!r} has dtype {a.dtype} and {a.ndim} dims")
    table = GradientTable(meta=meta, **arrays, spec=spec)
    try:
        table.validate()
    except ValueError as exc:
        raise TableFileError(f"inconsistent table ({exc})") from None
    if table != closed_form_table_from_spec(spec):
        raise TableFileError("its runs are not the Boolean derivative of its own metadata (forged or damaged)")
    return table


def load_table(path) -> GradientTable:
    """Read a table written by :func:`save_table`, verifying it fully (module doc).

    Raises :class:`TableFileError` naming the file and the problem, whatever is wrong.
    """
    path = Path(path)
    try:
        return _load(path)
    except TableFileError as exc:
        raise TableFileError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise TableFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TableFileError(f"{path}: is a directory") from None
    except Exception as exc:  # noqa: BLE001 - zlib, zipfile, numpy, MemoryError...: one clean error
        raise TableFileError(f"{path}: not a readable table file ({type(exc).__name__}: {exc})") from None


def _load(path: Path) -> GradientTable:
    raw_meta, arrays = _read_file(path)
    try:
        meta = json.loads(raw_meta)
    except ValueError as exc:
        raise TableFileError(f"corrupted metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise TableFileError("corrupted metadata (metadata is not an object)")
    schema = meta.get("schema")
    if schema != SCHEMA_VERSION:
        raise TableFileError(f"schema version {schema!r}, this boolgrad reads {SCHEMA_VERSION}")
    stored = meta.pop("checksum", None)
    for n in ARRAYS:
        if arrays[n].dtype != np.dtype(DTYPES[n]) or arrays[n].ndim != 1:
            raise TableFileError(f"array {n!r} has dtype {arrays[n].dtype} and {arrays[n].ndim} dims")
    if stored != checksum(meta, arrays):
        raise TableFileError("checksum mismatch (the file is corrupted or was edited)")
    return _check_meaning(_check_meta(meta), arrays)
