"""Checks of the study commands' options, made before any work (exit 2, one line).

Shared by ``boolgrad study overshoot | simulate`` (:mod:`boolgrad.study.cli`) and ``boolgrad study
seeds`` (:mod:`boolgrad.study.seeds.cli`); each raises ``ValueError`` naming the option, which
:mod:`boolgrad.cli` prints as one line with exit status 2.  The data themselves are checked by
:mod:`boolgrad.study.data` (:func:`~boolgrad.study.data.check_idx`) when the command loads them.
"""

from __future__ import annotations

__all__ = ["check_counts", "check_out"]


def check_counts(a, names=("seeds", "epochs", "jobs")) -> None:
    """``--seeds``, ``--epochs``, ``--jobs`` given (not ``None``) must be >= 1 (0 is no default)."""
    for name in names:
        v = getattr(a, name, None)
        if v is not None and v < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {v}")


def check_out(out, *subfolders) -> None:
    """``--out`` (and ``out/sub`` for each subfolder the command writes) must be a writable
    directory or one that can be made; nothing is created."""
    from pathlib import Path

    from ..atomic import OutputPathError, check_writable_dir

    try:
        for folder in (Path(out), *(Path(out, s) for s in subfolders)):
            check_writable_dir(folder)
    except OutputPathError as exc:
        raise ValueError(f"--out {out} is not a writable directory ({str(exc).split(': ', 1)[1]})") from None
