"""Tables by enumeration (boolgrad.builders.enumerate): refusals, backends agree, interrupts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _grid import OPTIONS

from boolgrad import build_table, gradient_at, parse_format


def test_wide_formats_are_refused():
    with pytest.raises(ValueError, match="closed-form"):
        build_table("fixed40.8", 0.3)
    with pytest.raises(ValueError, match="unknown device"):
        build_table("float16", 0.3, device="tpu")


def test_cupy_and_numpy_tables_identical(cupy):
    for name, theta in [("float16", 0.3), ("ufixed16.12", 0.3), ("e3m4", -1.0), ("bfloat16", 0.0)]:
        for opts in OPTIONS:
            assert build_table(name, theta, device="gpu", **opts) == build_table(name, theta, device="cpu", **opts)
    b = cupy.arange(2**16, dtype=cupy.uint64)
    t = build_table("float16", 0.3, device="cpu")
    assert np.array_equal(cupy.asnumpy(t.gradient(b)), t.gradient(np.arange(2**16, dtype=np.uint64)))
    assert np.array_equal(cupy.asnumpy(gradient_at("float16", 0.3, b).g), gradient_at("float16", 0.3, cupy.asnumpy(b)).g)


def test_interrupt_stops_the_sweep_and_cli_writes_nothing(monkeypatch, tmp_path, capsys):
    import boolgrad.builders.array_engine as sweep
    from boolgrad.cli import main

    calls = []
    real = sweep._chunk_runs

    def flaky(spec, r0, r1, xp):
        calls.append(r0)
        if len(calls) >= 3:
            raise KeyboardInterrupt
        return real(spec, r0, r1, xp)

    monkeypatch.setattr(sweep, "_chunk_runs", flaky)
    spec = __import__("boolgrad").make_spec("float16", 0.3)
    with pytest.raises(KeyboardInterrupt):
        sweep.array_sweep(spec, 0, spec.fmt.n_ranks, chunk=1024, workers=2)
    assert len(calls) < spec.fmt.n_ranks // 1024  # queued chunks were cancelled
    out = tmp_path / "t.npz"
    # "numpy": the patched chunk function is the array engine's ("cpu" may pick the numba kernel)
    assert main(["table", "float16", "-t", "0.3", "-o", str(out), "--device", "numpy"]) == 130
    assert not out.exists() and "interrupted" in capsys.readouterr().err


def test_build_table_reports_backend_and_tables_are_identical(numba_sweep):
    for conv, wrt in itertools.product(("secant", "paper"), ("u", "theta")):
        kw = dict(comparator="gt", convention=conv, wrt=wrt)
        ref = build_table("bfloat16", -0.3, device="numpy", **kw)
        got = build_table("bfloat16", -0.3, device="cpu", **kw)
        assert got == ref
        assert got.meta.method == "enumerate"
        assert (got.sweep_info.backend, ref.sweep_info.backend) == ("numba", "numpy")
        assert got.sweep_info.patterns == parse_format("bfloat16").n_ranks
        assert got.sweep_info.seconds > 0 and got.sweep_info.patterns_per_s > 0


def test_sweep_info_is_not_part_of_the_table(tmp_path, numba_sweep):
    t = build_table("float8_e5m2", 1.0, device="numba")
    path = t.save(tmp_path / "t.npz")
    loaded = type(t).load(path)
    assert loaded.sweep_info is None and loaded == t
