"""The progress bar (boolgrad.progress) and the array-module helpers (boolgrad.xp)."""

import numpy as np

from boolgrad.progress import Progress
from boolgrad.xp import array_module, resolve_xp, to_numpy


def test_progress_counts_and_is_silent_when_disabled(capsys):
    with Progress(10, False, "x") as bar:
        bar.update(10)
    assert capsys.readouterr().err == ""
    with Progress(4, True, "sweep") as bar:
        for _ in range(4):
            bar.update(1)
        assert bar._bar is None or bar._bar.n == 4


def test_array_module_and_host_copies():
    a = np.arange(3)
    assert array_module(a) is np and resolve_xp("cpu") is np and resolve_xp("numpy") is np
    assert to_numpy(a) is a and np.array_equal(to_numpy([1, 2]), [1, 2])
