"""Shared fixtures and the GPU skip rule.

Tests mirror the package (``tests/builders/`` for ``boolgrad/builders/``, ``tests/torch/``,
``tests/study/``); they import their shared helpers (``reference``, ``_grid``) by name, so the
test folders (``tests/helpers`` and the mirror folders, never ``tests`` itself) are put on
``sys.path`` here (pytest runs with ``--import-mode=importlib``).
"""

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
# the folders themselves, never tests/ (its subfolder torch/ would shadow the real torch where
# torch is not installed): tests/helpers and each mirror folder's own helper modules
for _d in (_HERE / "helpers", *sorted(p for p in _HERE.iterdir()
                                       if p.is_dir() and p.name not in ("helpers", "data", "__pycache__")
                                       and not p.name.startswith("."))):
    if str(_d) not in sys.path:
        sys.path.insert(0, str(_d))

from boolgrad.xp import cupy_or_none  # noqa: E402 - after the path set-up


@pytest.fixture(scope="session")
def cupy():
    """The cupy module, or a skip that says why there is none."""
    cp = cupy_or_none()
    if cp is None:
        pytest.skip("CuPy with a visible CUDA GPU is not available on this machine")
    return cp


@pytest.fixture(scope="session")
def table():
    """The float16 table at theta = 0.3 (43 runs), shared by the table tests."""
    from boolgrad import build_table

    return build_table("float16", 0.3)
