"""A benchmark's record: its tables with the setup (machine, command, date), written atomically.

The README's speed tables are generated from the records committed in ``results/benchmarks/``
(``scripts/publish_results.py``); every script here that takes ``--out FILE.json`` writes one.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def machine() -> str:
    """The CPU model and core count (Linux), for the record."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {os.cpu_count()} cores"


def check_out(path: Path | None) -> None:
    """Before minutes of measuring: a folder that cannot be made fails now."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def write_record(path: Path, script: str, argv: list, **fields) -> None:
    """``fields`` (JSON values) with the script, its arguments, the date and the machine."""
    from boolgrad.atomic import write_json_atomic

    write_json_atomic(path, dict(script=script, argv=list(argv), date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                 machine=machine(), **fields))
    print(f"\nwrote {path}")
