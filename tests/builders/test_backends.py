"""The sweep backend registry (boolgrad.builders.backends): order, aliases, fallback, size rule."""

from __future__ import annotations

import dataclasses

import pytest

from boolgrad import build_table
from boolgrad.builders import backends as sweep_mod
from boolgrad.builders.backends import pick_backend


def test_auto_order_prefers_kernels():
    assert list(sweep_mod.BACKENDS) == ["cuda", "numba", "cupy", "numpy"]
    assert sweep_mod.ALIASES == {"cpu": ("numba", "numpy"), "gpu": ("cuda", "cupy")}


def test_fallback_without_numba_prints_one_notice(monkeypatch, capsys):
    for name in ("numba", "cuda", "cupy"):
        missing = dataclasses.replace(sweep_mod.BACKENDS[name], available=lambda: False)
        monkeypatch.setitem(sweep_mod.BACKENDS, name, missing)
    sweep_mod._notice.cache_clear()
    try:
        assert pick_backend("auto").name == "numpy"
        assert pick_backend("cpu").name == "numpy"
        t = build_table("float8_e5m2", 1.0)
        assert t.sweep_info.backend == "numpy"
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "numba is not installed" in err
        with pytest.raises(RuntimeError, match="not available"):
            pick_backend("numba")
    finally:
        sweep_mod._notice.cache_clear()


def test_auto_skips_numba_start_up_on_small_sweeps(numba_sweep):
    assert pick_backend("auto", 1 << 16).name == "numpy"
    assert pick_backend("auto", 1 << 24).name == "numba"
    assert build_table("float16", 0.3).sweep_info.backend == "numpy"
    assert pick_backend("cpu", 1 << 16).name == "numba"  # an alias is not second-guessed


def test_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="unknown device"):
        pick_backend("tpu")


def test_no_fallback_notice_when_the_sweep_is_too_small_for_numba(monkeypatch, capsys):
    missing = dataclasses.replace(sweep_mod.BACKENDS["numba"], available=lambda: False)
    monkeypatch.setitem(sweep_mod.BACKENDS, "numba", missing)
    sweep_mod._notice.cache_clear()
    try:
        assert pick_backend("auto", 1 << 16).name in ("numpy", "cuda", "cupy")
        assert capsys.readouterr().err == ""
    finally:
        sweep_mod._notice.cache_clear()
