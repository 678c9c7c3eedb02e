"""Run by ``test_triton_interpret.py`` in a process of its own: Triton's interpreter is chosen
when triton is imported (``TRITON_INTERPRET=1`` must be set first: its library functions, such as
``tl.sum``, are made then), so it cannot share a test process that imported triton already.

Prints one JSON line per case: the lookup's Triton kernel (``boolgrad.torch.lookup.triton_kernel``)
run on CPU tensors against the CPU path, bit for bit.  Not a test module (no ``test_`` prefix).
"""

from __future__ import annotations

import os

os.environ["TRITON_INTERPRET"] = "1"

import json
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from _tables import FLOAT32_SPECS, float32_samples, float32_table

import boolgrad
from boolgrad.torch.lookup import compile_plan, plan_gradient_as
from boolgrad.torch.lookup.evaluate import slow
from boolgrad.torch.lookup.triton_kernel import fused_gradient

_BITS = {torch.float32: torch.int32, torch.float64: torch.int64}


def _case(name, plan, values, **extra):
    calls = []
    with warnings.catch_warnings():  # numpy's warnings of the interpreted masked lanes
        warnings.simplefilter("ignore", RuntimeWarning)
        got = fused_gradient(plan, values, values.dtype, lambda p, u: calls.append(u.numel()) or slow(p, u))
    cpu = plan_gradient_as(plan, values, values.dtype)
    bits = _BITS[values.dtype]
    print(json.dumps({"case": name, "equal": bool(got.view(bits).equal(cpu.view(bits))), "n": values.numel(),
                      "max": float(got.max()), "hi": None if plan.hi is None else float(plan.hi),
                      "fits": bool(plan.fits), "shift": int(plan.shift), "slow": sum(calls), **extra}))


def main():
    g = torch.Generator().manual_seed(0)
    for name in FLOAT32_SPECS:
        table = float32_table(name)
        values = torch.cat([torch.from_numpy(float32_samples(table)),
                            torch.randn(20000, generator=g) * 0.5 + table.meta.theta_used])
        for scale, d in (("none", 1.0), ("clamp", 500.0), ("unit_peak", table.peak()[0])):
            _case(f"{name} {scale}", compile_plan(table, torch.float32, "cpu", d, scale == "clamp"), values)
    # theta's own bucket is cut by the pieces' bounds: its elements take the slow path
    table = float32_table("float32_0.3_secant_gt")
    t = torch.tensor(table.meta.theta_used, dtype=torch.float32)
    near = t + torch.arange(-64, 65, dtype=torch.float32) * float(torch.finfo(torch.float32).eps) * 0.25
    _case("theta's bucket", compile_plan(table, torch.float32, "cpu"), near)
    table = boolgrad.closed_form_table("float64", 0.3, comparator="ge", convention="secant")
    values = torch.randn(20000, generator=g, dtype=torch.float64) * 0.5 + 0.3
    _case("float64 0.3 secant ge", compile_plan(table, torch.float64, "cpu"), values)


if __name__ == "__main__":
    main()
