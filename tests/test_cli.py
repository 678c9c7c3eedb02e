"""The ``boolgrad`` command: happy paths, and every bad input exits 2 with one line."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from boolgrad import GradientTable
from boolgrad.cli import main
from boolgrad.table_io import meta_dict


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_show_plot_eval(tmp_path, capsys):
    t = tmp_path / "t.npz"
    code, out, err = run(capsys, "table", "float16", "--threshold", "0.3", "-o", str(t), "--csv", str(tmp_path / "t.csv"))
    assert code == 0, err
    assert "runs          43" in out and "used 0.300048828125" in out and "enumeration on" in out
    table = GradientTable.load(t)
    assert table.meta.format == "float16"
    assert (tmp_path / "t.csv").read_text().count("\n") == table.n_runs + 1 + len(meta_dict(table))

    code, out, err = run(capsys, "show", str(t))
    assert code == 0 and f"peak          g = {table.peak()[0]!r}" in out and f"area          {table.area()!r}" in out
    assert "runs not shown" in out
    code, out, _ = run(capsys, "show", str(t), "--all")
    assert out.count("\n") > table.n_runs

    code, out, err = run(capsys, "eval", "float32", "--threshold", "0.3", "--u", "0.29", "0.3", "0.31")
    assert code == 0
    assert "value 0.3: pattern 0x3e99999a" in out and "s = 1" in out
    assert " 31  sign   1 " in out  # the sign bit's term appears in the breakdown
    code, out, _ = run(capsys, "eval", "ufixed16.12", "-t", "0.3", "--pattern", "0x04cd", "--all-bits")
    assert code == 0 and out.count(" int ") == 16

    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    code, out, err = run(capsys, "plot", str(t), "-o", str(tmp_path / "t.png"))
    assert code == 0 and (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


def test_table_options(tmp_path, capsys):
    q = tmp_path / "q.npz"
    code, out, _ = run(capsys, "table", "ufixed16.12", "--threshold", "0.3", "--convention", "paper", "--wrt", "theta",
                       "--comparator", "gt", "--exclude-bits", "0,1", "-o", str(q), "--device", "cpu")
    assert code == 0
    meta = GradientTable.load(q).meta
    assert (meta.convention, meta.wrt, meta.comparator, meta.excluded_bits) == ("paper", "theta", "gt", (0, 1))


def test_demo(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "-o", str(tmp_path))
    assert code == 0, err
    assert out.count("== ") == 2 and "float16" in out and "ufixed16.12" in out
    assert (tmp_path / "float16_theta0.3.npz").exists() and (tmp_path / "ufixed16.12_theta0.3.npz").exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["table", "float128", "-t", "0.3"], "unknown format 'float128'"),
        (["table", "float16", "-t", "nan"], "threshold must be finite"),
        (["table", "float16", "-t", "inf"], "threshold must be finite"),
        (["table", "float16", "--threshold=-inf"], "threshold must be finite"),
        (["table", "float16", "-t", "zero"], "invalid float value"),
        (["table", "ufixed8.4", "-t", "-1", "--exact-threshold"], "outside the finite range"),
        (["table", "float16", "-t", "1e6", "--exact-threshold"], "outside the finite range"),
        (["table", "fixed40.8", "-t", "0.3", "--method", "enumerate"], "closed-form"),
        (["table", "float16", "-t", "0.3", "--device", "tpu"], "unknown device"),
        (["table", "float16", "-t", "0.3", "--exclude-bits", "99"], "outside 0..15"),
        (["show", "no-such-file.npz"], "no-such-file.npz: no such file"),
        (["plot", "no-such-file.npz", "-o", "x.png"], "no-such-file.npz: no such file"),
        (["eval", "float16", "-t", "0.3"], "give values"),
        (["frobnicate"], "invalid choice"),
        (["eval", "float32", "-t", "0.3", "--pattern=-1"], "pattern -1 is outside 0..0xffffffff of float32"),
        (["eval", "float16", "-t", "0.3", "--pattern", "0x10000"], "pattern 65536 is outside 0..0xffff"),
        (["show", "x.npz", "--head=-5"], "expected a non-negative integer"),
        (["table", "float16", "-t", "0.3", "-o", "/nonexistent_dir/f.npz"], "/nonexistent_dir/f.npz: directory"),
        (["table", "float16", "-t", "0.3", "--csv", "/nonexistent_dir/f.csv"], "/nonexistent_dir/f.csv"),
        (["table", "float16", "-t", "0.3", "-o", "/dev/full"], "/dev/full: cannot write"),
        ([], "required"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("boolgrad: error: ")
    assert message in err, err
    assert "Traceback" not in err


def test_unreadable_table_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 broken")
    code, _, err = run(capsys, "show", str(bad))
    assert code == 2 and "bad.npz" in err and err.count("\n") == 1


def test_installed_entry_point(tmp_path):
    exe = shutil.which("boolgrad")
    if exe is None:
        pytest.skip("the boolgrad entry point is not installed in this environment (pip install .)")
    r = subprocess.run([exe, "table", "e3m4", "-t", "0.5", "-o", str(tmp_path / "e.npz")], capture_output=True, text=True)
    assert r.returncode == 0 and "runs" in r.stdout
    r = subprocess.run([exe, "table", "nope", "-t", "0.5"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_module_invocation_exit_status(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-m", "boolgrad.cli", "table", "float16", "-t", "nan"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stderr.strip() == "boolgrad: error: threshold must be finite, got nan"
    assert np.isfinite(1.0)


def test_output_path_is_checked_before_any_sweep(monkeypatch, capsys):
    import boolgrad.builders.enumerate as enum

    def no_sweep(*a, **k):
        raise AssertionError("the sweep ran although the output path is unwritable")

    monkeypatch.setattr(enum, "run_sweep", no_sweep)
    code, _, err = run(capsys, "table", "float32", "-t", "0.3", "-o", "/nonexistent_dir/f.npz")
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_a_failed_save_leaves_the_old_file_intact(tmp_path):
    """``ulimit -f 1``: the write fails half way; the old table is byte-identical, no temp file."""
    keep = tmp_path / "keep.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-m", "boolgrad.cli", "table", "float16", "-t", "0.3", "-o", str(keep)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    before = keep.read_bytes()
    script = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024)); "
              "sys.argv = ['boolgrad', 'table', 'float16', '-t', '0.7', '-o', sys.argv[1]]; "
              "runpy.run_module('boolgrad.cli', run_name='__main__')")
    r = subprocess.run([sys.executable, "-c", script, str(keep)], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert str(keep) in r.stderr and "File too large" in r.stderr
    assert keep.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.npz"]


def test_negative_and_infinite_values_and_version(capsys):
    code, out, err = run(capsys, "eval", "float32", "-t", "0.3", "--u", "inf", "-inf", "-1.5", "-1e-3", "-nan")
    assert code == 0, err
    assert out.count("\nvalue ") == 5 and "value -inf:" in out and "value -0.001:" in out
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("boolgrad 0.")


def test_help_texts_name_the_choices(capsys):
    for argv in (["table", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "numba" in out and "numpy" in out and "cuda" in out, argv
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    assert "paper: 1 / D_i" in capsys.readouterr().out


def test_plot_writes_exactly_the_path_given(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    t = tmp_path / "t.npz"
    assert run(capsys, "table", "float16", "-t", "0.3", "-o", str(t))[0] == 0
    code, _, err = run(capsys, "plot", str(t), "-o", str(tmp_path / "x"))
    assert code == 2 and "must end in .png, .pdf, .svg" in err and not (tmp_path / "x.png").exists()
    for suffix in (".png", ".pdf", ".svg"):
        code, out, _ = run(capsys, "plot", str(t), "-o", str(tmp_path / f"x{suffix}"))
        assert code == 0 and f"x{suffix}" in out and (tmp_path / f"x{suffix}").stat().st_size > 1000


def test_threshold_table_summary_reports_its_trough(tmp_path, capsys):
    code, out, _ = run(capsys, "table", "fixed8.4", "-t", "1.0", "--wrt", "theta")
    assert code == 0
    table = __import__("boolgrad").closed_form_table("fixed8.4", 1.0, wrt="theta")
    g, at = table.trough()
    assert g < 0 and f"trough        g = {g!r} at u = {at!r}" in out and "-inf" not in out
