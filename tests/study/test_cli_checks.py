"""The study commands check their options and the user's IDX data before any run starts.

Every refusal: exit 2, one line on stderr naming the problem, no traceback, no numpy warning,
nothing written.  A valid small IDX dataset (scikit-learn's digits written as IDX files, 8x8
images) trains to well above chance.
"""

import json
import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from boolgrad.cli import main
from boolgrad.study.data import IDX_MIN_TRAIN, idx_val_size, load_dataset

ROOT = Path(__file__).resolve().parents[2]


def write_idx(path, a):
    """One IDX file: magic ``0 0 0x08 ndim`` (uint8), big-endian uint32 dims, the bytes."""
    a = np.ascontiguousarray(a, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, a.ndim]) + struct.pack(">" + "I" * a.ndim, *a.shape) + a.tobytes())


def idx_dir(folder, x, y, xt, yt):
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, xi, yi in (("train", x, y), ("t10k", xt, yt)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", xi)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", yi)
    return folder


@pytest.fixture(scope="module")
def digits():
    """scikit-learn's 1797 digits as uint8 8x8 images: the first 1437 train, the last 360 test."""
    sk = pytest.importorskip("sklearn.datasets", reason="the IDX fixtures are scikit-learn's digits")
    d = sk.load_digits()
    x, y = np.round(d.images * 255 / 16).astype(np.uint8), d.target.astype(np.uint8)
    return x[:1437], y[:1437], x[1437:], y[1437:]


def _refused(capsys, argv, msg, out):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy (or any) warning fails the test
        assert main(["study", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("boolgrad: error: "), err
    assert msg in err, err
    assert "Traceback" not in err and "Warning" not in err
    if out is not None:
        assert not Path(out).exists()  # refused before anything was written


@pytest.mark.parametrize(
    "argv, msg",
    [
        (("overshoot", "--seeds", "0"), "--seeds must be >= 1, got 0"),
        (("overshoot", "--quick", "--seeds", "0"), "--seeds must be >= 1, got 0"),
        (("overshoot", "--epochs", "0"), "--epochs must be >= 1, got 0"),
        (("overshoot", "--epochs", "-1"), "--epochs must be >= 1, got -1"),
        (("overshoot", "--jobs", "0"), "--jobs must be >= 1, got 0"),
        (("seeds", "--jobs", "0"), "--jobs must be >= 1, got 0"),
    ],
)
def test_counts_below_one_are_refused(tmp_path, capsys, argv, msg):
    out = tmp_path / "o"
    _refused(
        capsys, [*argv, "--out", str(out), *(("--no-progress",) if argv[0] != "simulate" else ())], msg, out
    )


@pytest.mark.parametrize("command", ["overshoot", "seeds", "simulate"])
@pytest.mark.parametrize("where", ["/dev/null", "file", "under_file"])
def test_out_that_is_not_a_writable_directory_is_refused(tmp_path, capsys, command, where):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    out = {"/dev/null": "/dev/null", "file": str(a_file), "under_file": str(a_file / "sub")}[where]
    culprit = "/dev/null" if where == "/dev/null" else str(a_file)
    _refused(
        capsys, [command, "--out", out], f"--out {out} is not a writable directory ({culprit} is not a", None
    )
    assert a_file.read_text() == "x"


def _bad_idx(digits, case):
    x, y, xt, yt = digits
    if case == "too_small":
        return x[:50], y[:50], xt, yt
    if case == "empty_class":
        keep = y != 7
        return x[keep], y[keep], xt, yt
    if case == "empty_test_class":
        keep = yt != 3
        return x, y, xt[keep], yt[keep]
    if case == "other_shape":
        return x, y, np.zeros((len(xt), 10, 10), np.uint8), yt
    if case == "label_range":
        y = y.copy()
        y[5] = 12
        return x, y, xt, yt
    if case == "flat_images":
        return x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case, msg",
    [
        ("too_small", f"50 training and 360 test images; need at least {IDX_MIN_TRAIN} training images"),
        ("empty_class", "no training image of class 7"),
        ("empty_test_class", "no test image of class 3"),
        ("other_shape", "train images are 8x8 but test images 10x10"),
        ("label_range", "train labels must be 0..9, found 12"),
        ("flat_images", "train images (1437, 64) and labels (1437,) do not match"),
    ],
)
@pytest.mark.parametrize("command", ["overshoot", "seeds"])
def test_bad_idx_data_is_refused_before_any_run(tmp_path, capsys, digits, case, msg, command):
    data = idx_dir(tmp_path / "idx", *_bad_idx(digits, case))
    out = tmp_path / "o"
    argv = [command, "--data-dir", str(data), "--out", str(out), "--no-progress"]
    if command == "overshoot":
        argv += ["--datasets", "mnist", "--kinds", "arctan", "--dt", "1", "--seeds", "1"]
    else:
        argv += ["--quick", "--only", "002"]
    _refused(capsys, argv, msg, out)


def test_small_idx_dataset_scales_its_validation_split(tmp_path, digits):
    x, y, xt, yt = digits
    d = load_dataset("mnist", data_dir=str(idx_dir(tmp_path / "idx", x[:1000], y[:1000], xt, yt)))
    assert idx_val_size(1000) == 83 and idx_val_size(60000) == 5000 and idx_val_size(IDX_MIN_TRAIN) == 10
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (917, 83, 360)
    assert d.n_features == 64 and np.array_equal(d.y_val, y[917:1000])


def test_valid_small_idx_dataset_trains_well_above_chance(tmp_path, digits):
    """The CLI end to end in a subprocess (real stderr): no warning, accuracy far above 0.1."""
    pytest.importorskip("torch")
    data = idx_dir(tmp_path / "idx", *digits)
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "error::RuntimeWarning"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "boolgrad.cli",
            "study",
            "overshoot",
            "--datasets",
            "mnist",
            "--data-dir",
            str(data),
            "--quick",
            "--kinds",
            "arctan",
            "--dt",
            "1",
            "--epochs",
            "3",
            "--no-authors-row",
            "--no-progress",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr and "empty slice" not in r.stderr, r.stderr
    (run,) = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert run["dataset"] == "mnist" and run["test_acc"] > 0.5, run["test_acc"]  # chance: 0.1


@pytest.mark.parametrize(
    "argv, msg",
    [
        (("--seeds", "0"), "--seeds must be >= 1, got 0"),
        (("--search-seeds", "0"), "--search-seeds must be >= 1, got 0"),
        (("--seeds", "2", "--search-seeds", "3"), "search seeds (3) must not exceed the final seeds (2)"),
        (("--lrs", "0.001", "-1"), "--lrs values must be positive learning rates, got -1.0"),
        (("--kinds", "nope"), "unknown kind 'nope'"),
        (("--datasets", "mnist"), "dataset 'mnist' needs --data-dir DIR"),
        (("--dt", "0"), "--dt values must be positive (dt/tau), got 0.0"),
        (("--report-only",), "has no protocol.json"),
    ],
)
def test_decisive_refuses_bad_options_before_any_run(tmp_path, capsys, argv, msg):
    out = tmp_path / "o"
    _refused(capsys, ["decisive", *argv, "--out", str(out), "--no-progress"], msg,
             None if "--report-only" in argv else out)
