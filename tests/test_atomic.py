"""Atomic writes (boolgrad.atomic): whole or not at all, the old file intact, no temp left."""

import os

import pytest

from boolgrad.atomic import OutputPathError, atomic_write, check_writable


def test_a_failure_mid_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.bin"
    target.write_bytes(b"old contents")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target) as fh:
            fh.write(b"new, half")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["t.bin"]
    with atomic_write(target, "w") as fh:
        fh.write("new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640  # mode kept


def test_interrupts_remove_the_temp_file(tmp_path):
    target = tmp_path / "t.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target, "w") as fh:
            fh.write("x")
            raise KeyboardInterrupt
    assert not any(tmp_path.iterdir())


def test_unwritable_targets_name_the_path(tmp_path):
    with pytest.raises(OutputPathError, match="does not exist"):
        check_writable(tmp_path / "missing" / "f.npz")
    with pytest.raises(OutputPathError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(OutputPathError, match="/dev/full: cannot write"):
        with atomic_write("/dev/full", "wb") as fh:
            fh.write(b"x" * 65536)
            fh.flush()
    with pytest.raises(ValueError, match="mode"):
        with atomic_write(tmp_path / "a", "a"):
            pass
