"""The Triton kernels run by Triton's interpreter on CPU tensors (``TRITON_INTERPRET=1``: the
kernels' operations in numpy, no GPU), bit for bit against the CPU paths:

* the lookup's (``boolgrad.torch.lookup.triton_kernel``): the bucket, float64 ``P + Q / v``, the
  patched pattern, clipping, the flagged elements handed to the slow path;
* the fused LIF's (``boolgrad.torch.multistep.triton_loops``) against the numba loops: forward,
  backward and the recomputing backward over designs of their flags (every flag and every pair of
  flags both ways, for a ``g`` array; two cases for each surrogate the loops compute), float32
  (and fewer float64 cases), ties ``u == theta``; and the study's network trained through them.

This checks the kernels' logic where no GPU is at hand, not their compiled arithmetic
(``test_gpu.py`` checks that on a CUDA device).  Runs when ``triton`` is installed (``pip install
triton``; CI installs it for this module), in processes of their own (``_triton_interpreted.py``:
the interpreter is chosen when triton is imported), two at a time."""

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
    runs = [subprocess.Popen([sys.executable, str(_SCRIPT), *sections], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
            for sections in (["lif_loops"], ["lookup", "lif_layers"])]
    found = {}
    for run in runs:
        out, err = run.communicate(timeout=900)
        assert run.returncode == 0, err[-3000:]
        found.update((c["case"], c) for c in map(json.loads, out.splitlines()))
    return found


def test_interpreted_lookup_kernel_is_the_cpu_path_bit_for_bit(cases):
    lookup = {name: c for name, c in cases.items() if "fits" in c}
    assert len(lookup) == 11  # 3 float32 tables x 3 scalings, theta's bucket, a float64 table
    for name, c in lookup.items():
        assert c["equal"], name
        assert c["fits"] and c["max"] > 0, name  # the kernel's case: no rounding of v


def test_interpreted_lif_loops_are_the_numba_loops_bit_for_bit(cases):
    loops = {name: c for name, c in cases.items() if name.startswith("lif loops")}
    assert len(loops) == 3
    for name, c in loops.items():
        assert c["equal"], (name, c["fails"])
    for name in ("lif loops float32 exact", "lif loops float32 rounded"):  # forward, backward, recomputing backward
        assert loops[name]["cases"] == 8 + (8 + 5 * 2) + 5
    assert loops["lif loops float64 rounded"]["cases"] == 4 + 4 + 1
    assert loops["lif loops float32 exact"]["ties"] > 0  # u == theta happened, and fired alike


def test_interpreted_network_trains_as_on_the_numba_loops(cases):
    nets = {name: c for name, c in cases.items() if name.startswith("network")}
    assert len(nets) == 5
    for name, c in nets.items():
        assert c["equal"] and c["grad"] > 0, name
        assert c["triton_calls"] >= 6, name  # each layer's forward and backward ran on the Triton loops


def test_interpreted_lookup_covers_clipping_slow_path_and_both_widths(cases):
    clamp = [c for name, c in cases.items() if name.endswith(" clamp")]
    assert len(clamp) == 3 and all(c["hi"] is not None and c["max"] <= c["hi"] for c in clamp)
    assert cases["float32_0.3_secant_gt clamp"]["max"] == cases["float32_0.3_secant_gt clamp"]["hi"]  # clipped
    theta = cases["theta's bucket"]
    assert theta["slow"] == theta["n"]  # every element of theta's cut bucket was flagged
    assert {c["shift"] for c in cases.values() if "shift" in c} == {16, 48}  # float32 and float64 bit patterns


def _ptx(fn, pointers, constexprs, dtype, scalars=("n", "T")):
    """The PTX of kernel ``fn`` compiled ahead of time for an sm_90 GPU (an H100/H200): Triton
    compiles without a device, so the kernels are checked to compile, and for what they compile to.
    ``pointers``: names, or name -> pointee type."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    pointers = pointers if isinstance(pointers, dict) else dict.fromkeys(pointers, dtype)
    signature = ({p: f"*{t}" for p, t in pointers.items()} | dict.fromkeys(scalars, "i32")
                 | dict.fromkeys(constexprs, "constexpr"))
    source = ASTSource(fn=fn, signature=signature, constexprs=constexprs)
    return triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"enable_fp_fusion": False}).asm["ptx"]


@pytest.mark.parametrize("dtype", ["fp32", "fp64"])
def test_lif_kernels_compile_for_a_gpu_without_fused_or_approximate_arithmetic(dtype):
    """No ``fma`` (numba forms none: each product rounds on its own) and no approximate division
    (``div.full``/``div.approx``: Triton's float32 ``/``): the compiled kernels round as the numba
    loops do, where the interpreter (numpy) cannot tell."""
    from boolgrad.torch.multistep import _triton_lif_kernels as kernels

    fp64 = dtype == "fp64"
    flags = {"CONST": False, "ZERO_RESET": True, "HAS_HI": True, "STORE_U": True, "STORE_S": True, "COUNT": True}
    ptxs = [_ptx(kernels.forward_kernel, ["I", "u_out", "s_out", "cnt", "c"], flags | {"FP64": fp64, "BLOCK": 128},
                 dtype)]
    for kind in range(6):
        flags = {"KIND": kind, "ZERO_RESET": kind != 2, "DETACH": kind == 3, "CONST": kind % 2 == 1, "GO_CONST": kind < 3,
                     "WANT_GS": True, "HAS_HI": kind > 3, "FP64": fp64, "BLOCK": 128}
        ptxs.append(_ptx(kernels.backward_kernel, ["go", "u", "g", "gI", "gs_out", "c"], flags, dtype))
    width = "f64" if fp64 else "f32"
    for ptx in ptxs:
        assert f"mul.rn.{width}" in ptx or f"mul.{width}" in ptx
        assert "fma." not in ptx and "div.full" not in ptx and "div.approx" not in ptx and "rcp.approx" not in ptx
    assert f"div.rn.{width}" in ptxs[0]  # the spike rate's count / T
    assert all(f"div.rn.{width}" in ptxs[1 + kind] for kind in (1, 4, 5))  # arctan, fast_sigmoid, triangle


@pytest.mark.parametrize("width", [32, 64])
def test_lookup_kernel_compiles_for_a_gpu_with_correctly_rounded_division(width):
    from boolgrad.torch.lookup.triton_kernel import _kernel

    dtype = f"fp{width}"
    flags = {"SHIFT": 16 if width == 32 else 48, "INT": width, "HAS_Q": True, "HAS_HI": True, "HAS_LO": True,
             "HAS_EXC": True, "HI": 1.0, "LO": 0.0, "BLOCK": 1024}
    pointers = {"u_ptr": dtype, "out_ptr": dtype, "pb_ptr": "fp64", "qb_ptr": "fp64", "bad_ptr": "i32", "exc_ptr": "fp64"}
    ptx = _ptx(_kernel(), pointers, flags, dtype, scalars=("n",))
    assert "div.rn.f64" in ptx  # P + Q / v in float64, correctly rounded as on the CPU
    assert "fma." not in ptx and "div.full" not in ptx and "div.approx" not in ptx
    assert ("cvt.rn.f32.f64" in ptx) == (width == 32)  # g cast to the input's dtype, to nearest
