"""Files written whole or not at all: a temporary file in the target's directory, flushed,
fsynced and renamed over the target (``os.replace`` is atomic on POSIX and Windows).

On any failure -- a full disk, a file-size limit, Ctrl-C -- the temporary file is removed and
an existing target is left byte for byte as it was.  :func:`check_writable` (a file) and
:func:`check_writable_dir` (an output folder) are the cheap tests made *before* long work
starts (a sweep must not run for minutes and then fail to save).
:func:`write_text_atomic` and :func:`write_json_atomic` write a whole text or JSON file that way
(creating the folder): every result file, record and report of the package goes through them.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

__all__ = [
    "OutputPathError",
    "atomic_write",
    "check_writable",
    "check_writable_dir",
    "write_json_atomic",
    "write_text_atomic",
]


class OutputPathError(OSError):
    """An output path that cannot be written; the message names it and says why."""


def check_writable(path) -> Path:
    """The path, if its directory exists and is writable and it is not a directory."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputPathError(f"{path}: is a directory, not a file")
    if not parent.is_dir():
        raise OutputPathError(f"{path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{path}: directory {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputPathError(f"{path}: file is not writable")
    return path


def check_writable_dir(path) -> Path:
    """The path of an output folder, if it is a writable directory or can be made as one (its
    nearest existing ancestor is a writable directory); nothing is created."""
    path = Path(path)
    p = path
    while not p.exists() and p.parent != p:
        p = p.parent
    if not p.is_dir():
        raise OutputPathError(f"{path}: {p} is not a directory")
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutputPathError(f"{path}: directory {p} is not writable")
    return path


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", **open_kwargs):
    """``with atomic_write(path) as fh: fh.write(...)`` -- the target appears only when whole.

    ``mode`` is ``"wb"`` or ``"w"`` (text; ``open_kwargs`` such as ``newline`` pass through).
    ``OSError`` from writing is re-raised as :class:`OutputPathError` naming the target.
    Special files (``/dev/null``, ``/dev/stdout``) are written in place: they cannot be renamed over.
    """
    path = Path(path)
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', got {mode!r}")
    if path.exists() and not path.is_file():  # a device or FIFO: no temp + rename possible
        try:
            with open(path, mode, **open_kwargs) as fh:
                yield fh
        except OSError as exc:
            raise OutputPathError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return
    check_writable(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():  # keep the target's permission bits, not mkstemp's 0600
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputPathError):
            raise OutputPathError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as f:
        f.write(text)


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as JSON (sorted keys, indent 1, no NaN: ``ValueError``) to ``path`` atomically."""
    write_text_atomic(path, json.dumps(obj, sort_keys=True, indent=1, allow_nan=False) + "\n")
