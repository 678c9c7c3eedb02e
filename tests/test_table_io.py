"""Table files (boolgrad.table_io): round trips, portable layout, refused files, CSV."""

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from _grid import all_patterns
from hypothesis import given, settings
from hypothesis import strategies as st

from boolgrad import GradientTable, TableFileError, build_table
from boolgrad.table import ARRAYS


def test_save_load_round_trip_and_portable_layout(table, tmp_path):
    path = table.save(tmp_path / "t.npz")
    again = GradientTable.load(path)
    assert again == table
    assert np.array_equal(again.gradient(all_patterns(table.fmt)), table.gradient(all_patterns(table.fmt)))
    # readable with numpy + json alone, as the README documents
    with np.load(path) as d:
        meta = json.loads(str(d["meta"]))
        assert meta["format"] == "float16" and meta["schema"] == 1 and len(meta["checksum"]) == 64
        assert d["first"].dtype == np.uint64 and len(d["mask"]) == table.n_runs


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["float8_e4m3fn", "e3m2", "fixed6.2", "ufixed7.3", "float8_e5m2"]),
       st.floats(-500, 500, allow_nan=False), st.sampled_from(["secant", "paper"]), st.sampled_from(["u", "theta"]),
       st.sampled_from(["ge", "gt"]))
def test_round_trip_property(tmp_path_factory, name, theta, convention, wrt, comparator):
    t = build_table(name, theta, convention=convention, wrt=wrt, comparator=comparator)
    t.validate()  # runs partition the non-NaN patterns, maximal, values match
    assert int(t.counts.sum()) == t.fmt.n_ranks
    path = t.save(tmp_path_factory.mktemp("rt") / "t.npz")
    u = GradientTable.load(path)
    assert u == t and u.meta == t.meta


def _rewrite(src, dst, change):
    with np.load(src) as d:
        arrays = {k: d[k] for k in d.files}
    change(arrays)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)


def test_load_errors_name_file_and_problem(table, tmp_path):
    good = table.save(tmp_path / "good.npz")
    raw = good.read_bytes()

    cases = {}
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    cases["trunc.npz"] = "not a readable table file"
    (tmp_path / "text.npz").write_text("hello")
    cases["text.npz"] = "not a readable table file"
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    cases["foreign.npz"] = "not a boolgrad table"

    def edit_mask(a):
        a["mask"] = a["mask"].copy()
        a["mask"][3] ^= 1
    _rewrite(good, tmp_path / "edited.npz", edit_mask)
    cases["edited.npz"] = "checksum mismatch"

    def schema(a):
        m = json.loads(str(a["meta"]))
        m["schema"] = 99
        a["meta"] = np.asarray(json.dumps(m))
    _rewrite(good, tmp_path / "schema.npz", schema)
    cases["schema.npz"] = "schema version 99"

    def bad_json(a):
        a["meta"] = np.asarray("{not json")
    _rewrite(good, tmp_path / "json.npz", bad_json)
    cases["json.npz"] = "corrupted metadata"

    # a byte flipped inside the compressed data: zip CRC or checksum catches it
    flipped = bytearray(raw)
    flipped[len(raw) // 3] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    cases["flipped.npz"] = "not a readable table file|checksum mismatch|corrupted"
    cases["missing.npz"] = "no such file"

    for fname, problem in cases.items():
        with pytest.raises(TableFileError, match=problem) as info:
            GradientTable.load(tmp_path / fname)
        assert fname in str(info.value)


def test_inconsistent_runs_are_refused(table, tmp_path):
    good = table.save(tmp_path / "good.npz")

    def drop_run(a):
        for k in ("first", "last", "first_value", "last_value", "mask"):
            a[k] = a[k][1:]
        m = json.loads(str(a["meta"]))
        m.pop("checksum")
        from boolgrad.table_io import checksum
        m["checksum"] = checksum(m, a)
        a["meta"] = np.asarray(json.dumps(m))
    _rewrite(good, tmp_path / "short.npz", drop_run)
    with pytest.raises(TableFileError, match="inconsistent table.*cover"):
        GradientTable.load(tmp_path / "short.npz")


def test_to_csv(table, tmp_path):
    path = table.to_csv(tmp_path / "t.csv")
    lines = path.read_text().splitlines()
    meta = {ln[2:].split(": ", 1)[0]: json.loads(ln[2:].split(": ", 1)[1]) for ln in lines if ln.startswith("# ")}
    assert meta["format"] == "float16" and meta["theta_used"] == table.meta.theta_used
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith("#")))
    assert len(rows) == table.n_runs
    assert [int(r["mask"]) for r in rows] == table.mask.tolist()
    assert [int(r["first_pattern"]) for r in rows] == table.first.tolist()
    assert sum(int(r["count"]) for r in rows) == table.fmt.n_ranks
    assert all(len(r["mask_bits"]) == 16 for r in rows)


def test_zipfile_is_a_real_npz(table, tmp_path):
    path = table.save(tmp_path / "t.npz")
    assert zipfile.is_zipfile(path)


# -- hardening: every hostile file is a TableFileError naming it; no forged table is accepted ------
def _arrays_and_meta(path):
    with np.load(path) as d:
        arrays = {k: d[k] for k in ("first", "last", "first_value", "last_value", "mask")}
        meta = json.loads(str(d["meta"]))
    meta.pop("checksum")
    return meta, arrays


def _write_forged(path, meta, arrays):
    """Rewrite a table with a *recomputed* checksum: only meaning checks can refuse it."""
    from boolgrad.table_io import checksum

    meta = dict(meta)
    try:
        with np.errstate(invalid="ignore"):  # retyped arrays: the checksum casts them
            meta["checksum"] = checksum(meta, arrays)
    except (TypeError, ValueError):
        meta["checksum"] = "0" * 64
    with open(path, "wb") as fh:
        np.savez(fh, meta=np.asarray(json.dumps(meta)), **arrays)


@pytest.mark.parametrize("edit, problem", [
    (dict(theta_used=0.5), "theta_used is 0.5"),
    (dict(theta_used=float("nan")), "not a finite number"),
    (dict(theta_requested=123), "theta_used"),
    (dict(theta_pattern=0), "theta_pattern is 0"),
    (dict(exact_threshold="yes"), "'exact_threshold' has type str"),
    (dict(method="magic"), "'method' is 'magic'"),
    (dict(comparator="lt"), "'comparator' is 'lt'"),
    (dict(excluded_bits=["a"]), "excluded_bits"),
    (dict(extra_key=1), "extra"),
])
def test_forged_metadata_with_a_recomputed_checksum_is_refused(table, tmp_path, edit, problem):
    meta, arrays = _arrays_and_meta(table.save(tmp_path / "good.npz"))
    meta.update(edit)
    _write_forged(tmp_path / "forged.npz", meta, arrays)
    with pytest.raises(TableFileError, match=problem) as info:
        GradientTable.load(tmp_path / "forged.npz")
    assert "forged.npz" in str(info.value)


@pytest.mark.parametrize("change", ["flip_bit", "reverse", "swap_first_last"])
def test_forged_runs_are_refused(table, tmp_path, change):
    meta, arrays = _arrays_and_meta(table.save(tmp_path / "good.npz"))
    if change == "flip_bit":
        arrays["mask"] = arrays["mask"].copy()
        arrays["mask"][3] ^= np.uint64(4)
    elif change == "reverse":
        arrays["mask"] = arrays["mask"][::-1].copy()
    else:
        arrays["first"], arrays["last"] = arrays["last"], arrays["first"]
    _write_forged(tmp_path / "forged.npz", meta, arrays)
    with pytest.raises(TableFileError, match="forged.npz"):
        GradientTable.load(tmp_path / "forged.npz")


def test_library_errors_become_table_file_errors(table, tmp_path):
    good = table.save(tmp_path / "good.npz")
    np.save(tmp_path / "array.npy", np.arange(3))
    (tmp_path / "array.npy").rename(tmp_path / "array.npz")  # a .npy named .npz
    raw = bytearray(good.read_bytes())
    for i in range(len(raw) - 4):  # an unsupported zip version in every header
        if raw[i:i + 4] == b"PK\x03\x04":
            raw[i + 4] = 99
        if raw[i:i + 4] == b"PK\x01\x02":
            raw[i + 6] = 99
    (tmp_path / "zipver.npz").write_bytes(bytes(raw))
    # a deflate stream broken in the middle of the mask member
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("mask.npy")
    raw = bytearray(good.read_bytes())
    off = info.header_offset
    n_name, n_extra = int.from_bytes(raw[off + 26:off + 28], "little"), int.from_bytes(raw[off + 28:off + 30], "little")
    start = off + 30 + n_name + n_extra  # the compressed data of the local file entry
    raw[start + 2: start + 40] = bytes(38)
    (tmp_path / "deflate.npz").write_bytes(bytes(raw))
    # a small file that declares a 2**31-element mask
    with zipfile.ZipFile(tmp_path / "huge.npz", "w", zipfile.ZIP_DEFLATED) as z, np.load(good) as d:
        for k in d.files:
            buf = io.BytesIO()
            if k == "mask":
                np.lib.format.write_array_header_1_0(
                    buf, {"descr": "<u8", "fortran_order": False, "shape": (2**31,)})
                buf.write(bytes(1 << 20))
            else:
                np.save(buf, d[k])
            z.writestr(f"{k}.npy", buf.getvalue())
    (tmp_path / "dir.npz").mkdir()
    for name in ("array.npz", "zipver.npz", "deflate.npz", "huge.npz", "dir.npz"):
        with pytest.raises(TableFileError) as info:
            GradientTable.load(tmp_path / name)
        assert name in str(info.value)


def _same_gradient(a, b) -> bool:
    """Two tables give the same g at every pattern (same runs and the same spec)."""
    sa, sb = a.spec, b.spec
    return (
        all(np.array_equal(getattr(a, n), getattr(b, n), equal_nan=True) for n in ARRAYS)
        and (sa.fmt, sa.convention, sa.wrt, sa.excluded) == (sb.fmt, sb.convention, sb.wrt, sb.excluded)
        and (sa.threshold.rank, sa.threshold.pattern, sa.threshold.comparator)
        == (sb.threshold.rank, sb.threshold.pattern, sb.threshold.comparator)
    )


_VALUES = [None, True, False, 0, 1, -1, 7, 2**40, 0.5, -0.0, 1e308, float("nan"), float("inf"), "", "x",
           "float16", "secant", "paper", "gt", "theta", "enumerate", [], [1], [99], {"a": 1}]


def _mutations(path, rng, n):
    """``n`` hostile variants of a table file: byte flips, truncations, forged metadata (the
    checksum recomputed), swapped/reversed/retyped arrays (checksum recomputed)."""
    raw = path.read_bytes()
    meta0, arrays0 = _arrays_and_meta(path)
    for k in range(n):
        kind = k % 4
        if kind == 0:
            b = bytearray(raw)
            for _ in range(int(rng.integers(1, 4))):
                b[int(rng.integers(len(b)))] ^= int(rng.integers(1, 256))
            yield "flip", bytes(b)
            continue
        if kind == 1:
            yield "truncate", raw[: int(rng.integers(len(raw)))]
            continue
        meta, arrays = dict(meta0), {n: a.copy() for n, a in arrays0.items()}
        if kind == 2:
            key = list(meta)[int(rng.integers(len(meta)))]
            op = int(rng.integers(3))
            if op == 0:
                meta[key] = _VALUES[int(rng.integers(len(_VALUES)))]
            elif op == 1:
                del meta[key]
            elif isinstance(meta[key], float):
                meta[key] = float(meta[key] * (1 + rng.normal() * 1e-3))
            else:
                meta["unknown"] = 1
        else:
            names = list(arrays)
            a, b = (names[i] for i in rng.choice(len(names), 2, replace=False))
            op = int(rng.integers(5))
            if op == 0:
                arrays[a], arrays[b] = arrays[b], arrays[a]
            elif op == 1:
                arrays[a] = arrays[a][::-1].copy()
            elif op == 2:
                arrays[a] = arrays[a][1:]
            elif op == 3:
                arrays[a] = arrays[a].astype(np.float32)
            else:
                arrays[a] = arrays[a].copy()
                arrays[a][int(rng.integers(len(arrays[a])))] += 1
        forged = path.parent / "forged.npz"
        _write_forged(forged, meta, arrays)
        yield "forge", forged.read_bytes()


@pytest.mark.parametrize("fmt, theta", [("float16", 0.3), ("fixed12.6", -1.25), ("float8_e4m3fn", 2.0)])
def test_fuzz_mutated_tables_never_crash_and_never_pass_as_something_else(tmp_path, fmt, theta):
    original = build_table(fmt, theta)
    good = original.save(tmp_path / "good.npz")
    rng = np.random.default_rng(20261201)
    counts = {"refused": 0, "accepted": 0}
    for i, (how, data) in enumerate(_mutations(good, rng, 180)):
        path = tmp_path / f"m{i}.npz"
        path.write_bytes(data)
        try:
            loaded = GradientTable.load(path)
        except TableFileError as exc:
            assert path.name in str(exc)
            counts["refused"] += 1
            continue
        assert _same_gradient(loaded, original), f"mutation {i} ({how}) was accepted as a different table"
        counts["accepted"] += 1
    assert counts["refused"] + counts["accepted"] == 180 and counts["refused"] > 150
