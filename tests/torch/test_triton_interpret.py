"""The Triton kernel of the lookup (``boolgrad.torch.lookup.triton_kernel``) run by Triton's
interpreter on CPU tensors (``TRITON_INTERPRET=1``: the kernel's operations in numpy, no GPU):
the CPU path's gradients bit for bit.  This checks the kernel's logic -- the bucket, float64
``P + Q / v``, the patched pattern, clipping, the flagged elements handed to the slow path --
where no GPU is at hand; ``test_gpu.py`` checks the compiled kernel on a CUDA device.  Runs
when ``triton`` is installed (``pip install triton``; CI installs it for this module), in a
process of its own (``_triton_interpreted.py``: the interpreter is chosen at triton's import)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the PyTorch layer needs torch (pip install boolgrad[torch])")
pytest.importorskip("triton", reason="Triton's interpreter needs triton (pip install triton)")

_SCRIPT = Path(__file__).with_name("_triton_interpreted.py")


@pytest.fixture(scope="module")
def cases():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    run = subprocess.run([sys.executable, str(_SCRIPT)], check=False, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return {c["case"]: c for c in map(json.loads, run.stdout.splitlines())}


def test_interpreted_kernel_is_the_cpu_path_bit_for_bit(cases):
    assert len(cases) == 11  # 3 float32 tables x 3 scalings, theta's bucket, a float64 table
    for name, c in cases.items():
        assert c["equal"], name
        assert c["fits"] and c["max"] > 0, name  # the kernel's case: no rounding of v


def test_interpreted_cases_cover_clipping_slow_path_and_both_widths(cases):
    clamp = [c for name, c in cases.items() if name.endswith(" clamp")]
    assert len(clamp) == 3 and all(c["hi"] is not None and c["max"] <= c["hi"] for c in clamp)
    assert cases["float32_0.3_secant_gt clamp"]["max"] == cases["float32_0.3_secant_gt clamp"]["hi"]  # clipped
    theta = cases["theta's bucket"]
    assert theta["slow"] == theta["n"]  # every element of theta's cut bucket was flagged
    assert {c["shift"] for c in cases.values()} == {16, 48}  # float32 and float64 bit patterns
