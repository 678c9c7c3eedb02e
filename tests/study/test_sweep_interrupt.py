"""A parallel sweep stopped by ``kill PID`` (SIGTERM) stops its worker processes too.

Before the fix, the command died and its forkserver workers ran on, writing result files after
the caller had moved on (a report made then counted stale files).  Now SIGTERM is a
``KeyboardInterrupt`` in the command, and the sweep terminates its workers: the command exits
with 130 and one line, every process it started is gone, no result file appears after the exit,
and the resource tracker has no leaked semaphore to warn about (the workers' own SIGTERM exit).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (Linux: /proc)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_sigterm_stops_the_workers_and_no_file_appears_after(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "boolgrad.cli", "study", "overshoot", "--out", str(out), "--datasets", "yinyang",
           "--kinds", "arctan", "rectangle", "--dt", "1", "0.5", "--seeds", "3", "--epochs", "30", "--jobs", "2",
           "--stack", "1", "--no-authors-row", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path, text=True)
    runs = out / "runs"
    try:
        t0, workers = time.monotonic(), set()
        while not (runs.is_dir() and any(runs.glob("*.json"))):  # the first run is done: the others are in flight
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t0 < 240, "no run finished in 240 s"
            workers |= _children(proc.pid)
            time.sleep(0.05)
        workers |= _children(proc.pid)
        assert len(workers) >= 2  # the forkserver and its workers
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("boolgrad: interrupted")
    assert "Traceback" not in err and "Warning" not in err  # nor the resource tracker's leak warning
    written = sorted(p.name for p in runs.iterdir())
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _alive(p)], "worker processes outlived the command"
    time.sleep(2.0)
    assert sorted(p.name for p in runs.iterdir()) == written  # nothing written after the exit
    assert 1 <= len([n for n in written if n.endswith(".json")]) < 12
