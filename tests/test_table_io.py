"""Table files (boolgrad.table_io): round trips, portable layout, refused files, CSV."""

import csv
import json
import zipfile

import numpy as np
import pytest
from _grid import all_patterns
from hypothesis import given, settings
from hypothesis import strategies as st

from boolgrad import GradientTable, TableFileError, build_table


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
