"""Run by ``test_triton_interpret.py`` in a process of its own: Triton's interpreter is chosen
when triton is imported (``TRITON_INTERPRET=1`` must be set first: its library functions, such as
``tl.sum``, are made then), so it cannot share a test process that imported triton already.

Prints one JSON line per case, each a Triton kernel run on CPU tensors against the CPU path:
the lookup's (``boolgrad.torch.lookup.triton_kernel``) against the numba or torch path, and the
fused LIF's (``boolgrad.torch.multistep.triton_loops``) against the numba loops
(``boolgrad.torch.multistep.loops``) for every flag, directly and through the layer and the
study's network, bit for bit.  Not a test module (no ``test_`` prefix).
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


def _same(a, b) -> bool:
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(a.view(_BITS[a.dtype]).equal(b.view(_BITS[b.dtype])))


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


def _lif_inputs(dtype, K, T, n, exact, seed):
    """``(I, go, scalars)``: currents and dL/ds, and (gain, d, rb, lo, hi) in ``dtype``.  ``exact``:
    binary fractions, so that ``u`` lands on the threshold exactly (the tie fires)."""
    g = torch.Generator().manual_seed(seed)
    if exact:
        I = torch.randint(-8, 17, (K, T, n), generator=g).to(dtype) / 8
        scalars = (0.5, 0.75, 1.0, 0.5, 1.25)
    else:
        I = (torch.rand(K, T, n, generator=g, dtype=torch.float64) * 3 - 1).to(dtype)
        scalars = (0.18126924692201818, 0.8187307530779818, 0.7, 0.3, 0.9)
    go = torch.randn(K, T, n, generator=g, dtype=torch.float64).to(dtype)
    return I, go, tuple(torch.tensor(v, dtype=dtype).numpy()[()] for v in scalars)


def _design(factors: int, base: int = 3):
    """Rows of ``factors`` booleans in ``2**base`` runs, each pair of factors taking all four
    combinations (distinct XORs of the base factors: a strength-2 orthogonal array), so that every
    flag, and every pair of flags, is exercised without the full product."""
    masks = [m for m in range(1, 2**base)][:factors]
    return [tuple(bool((r & m).bit_count() % 2) for m in masks) for r in range(2**base)]


def _backward_cases(full: bool):
    """``(kind, flags)`` of the backward cases: a ``g`` array (kind 0) over the whole design of
    the six flags, each surrogate over two complementary rows of it (``full``; else four cases in
    all: numba compiles each combination anew, about half a second each)."""
    design = _design(6)
    if not full:
        return [(0, design[1]), (1, design[6]), (4, design[3]), (5, design[4])]
    return [(0, flags) for flags in design] + [(k, design[r]) for k in range(1, 6) for r in (k, 7 - k)]


def lif_loops():
    """The Triton loops against the numba loops, called directly, over designs of the flags."""
    from boolgrad.torch.multistep import loops, triton_loops

    K, T, n = 2, 4, 100  # one program of 128 columns per problem, the last 28 masked (the network's cases run several)
    modes = {(False, False): (1, 1, 0), (False, True): (1, 0, 1), (True, False): (0, 0, 1), (True, True): (1, 0, 0)}
    for dtype, exact in [(torch.float32, True), (torch.float32, False), (torch.float64, False)]:
        full = dtype == torch.float32
        I, go, (gain, d, rb, lo, hi) = _lif_inputs(dtype, K, T, n, exact, 3)
        fails, cases, ties = [], 0, 0
        for const, zero, has_hi, m1, m2 in _design(5) if full else _design(5)[:4]:
            keep_u, keep_s, count = modes[m1, m2]
            x = I[:, :1].contiguous() if const else I
            outs = []
            for lib in ("numba", "triton"):
                u = torch.empty(K, T, n, dtype=dtype) if keep_u else None
                s = torch.empty(K, T, n, dtype=dtype) if keep_s else None
                c = torch.empty(K, n, dtype=dtype) if count else None
                if lib == "numba":
                    np_ = lambda t: None if t is None else t.numpy()
                    loops.forward(x.numpy(), const, gain, d, rb, zero, lo, hi, has_hi, np_(u), np_(s), np_(c), False, T)
                else:
                    triton_loops.forward(x, const, gain, d, rb, zero, lo, hi, has_hi, u, s, c, False, T)
                outs.append((u, s, c))
            cases += 1
            if keep_u:
                ties += int((outs[0][0] == torch.tensor(float(lo), dtype=dtype)).sum())
            if not all(a is None or _same(a, b) for a, b in zip(*outs)):
                fails.append(f"forward const={const} zero={zero} hi={has_hi} keep={keep_u, keep_s, count}")
        u = torch.empty(K, T, n, dtype=dtype)
        loops.forward(I.numpy(), False, gain, d, rb, True, lo, hi, False, u.numpy(), None, None, False, T)
        g = torch.rand(K, T, n, generator=torch.Generator().manual_seed(5), dtype=dtype)
        consts = [torch.tensor(v, dtype=dtype).numpy()[()] for v in (float(lo), 2.0, 0.5)]
        for kind, (zero, detach, const, go_const, want_gs, has_hi) in _backward_cases(full):
            gor = go[:, :1].contiguous() if go_const else go
            outs = []
            for lib in ("numba", "triton"):
                gI = torch.empty(K, 1 if const else T, n, dtype=dtype)
                gs = torch.empty(K, T, n, dtype=dtype)
                args = (d, rb, gain, zero, detach, const, go_const, want_gs)
                if lib == "numba":
                    loops.backward(gor.numpy(), u.numpy(), g.numpy() if kind == 0 else None, *args, gI.numpy(),
                                   gs.numpy(), lo, hi, has_hi, (kind, *consts), False)
                else:
                    triton_loops.backward(gor, u, g if kind == 0 else None, *args, gI, gs, lo, hi, has_hi,
                                          (kind, *consts), False)
                outs.append((gI, gs if want_gs else None))
            cases += 1
            if not all(a is None or _same(a, b) for a, b in zip(*outs)):
                fails.append(f"backward kind={kind} zero={zero} detach={detach} const={const} "
                             f"go_const={go_const} gs={want_gs} hi={has_hi}")
        for kind in range(1, 6) if full else (1,):
            zero, const, go_const = _design(3, 2)[kind % 4]
            x = I[:, :1].contiguous() if const else I
            gor = go[:, :1].contiguous() if go_const else go
            outs = []
            for lib in ("numba", "triton"):
                gI = torch.empty(K, 1 if const else T, n, dtype=dtype)
                gs = torch.empty(K, T, n, dtype=dtype)
                args = (T, const, gain, d, rb, zero, lo, hi, False)
                if lib == "numba":
                    loops.backward_recompute(x.numpy(), *args, gor.numpy(), go_const, False, True, gI.numpy(),
                                             gs.numpy(), (kind, *consts), False)
                else:
                    triton_loops.backward_recompute(x, *args, gor, go_const, False, True, gI, gs, (kind, *consts))
                outs.append((gI, gs))
            cases += 1
            if not all(_same(a, b) for a, b in zip(*outs)):
                fails.append(f"recompute kind={kind} zero={zero} const={const} go_const={go_const}")
        print(json.dumps({"case": f"lif loops {str(dtype)[6:]} {'exact' if exact else 'rounded'}",
                          "equal": not fails, "fails": fails[:5], "cases": cases, "ties": ties}), flush=True)


def lif_layers():
    """The layer (``lif_sequence``) and the study's network on the Triton loops (the device
    dispatch pointed at them for CPU tensors) against the numba loops: outputs, ``u`` and
    every gradient."""
    from boolgrad.study import fused_network
    from boolgrad.study.kinds import KINDS
    from boolgrad.study.loss import losses
    from boolgrad.study.network import SpikingNet
    from boolgrad.torch.multistep import lif, triton_loops

    fused_network.RECOMPUTE_BYTES = 0  # every unrecorded surrogate last layer computes u again
    numba_backend = lif._backend
    calls = []
    triton_backend = (triton_loops, lif._view3, lambda numel: calls.append(numel) or False)
    for kind, readout, temporal in [("arctan", "ce_linear", False), ("arctan", "mse_count", True),
                                    ("boolean_yj2025", "ce_linear", True), ("boolean_yj2025", "mse_count", False),
                                    ("fast_sigmoid", "ce_linear", False)]:
        spec = KINDS[kind]
        sizes = (5, 24, 16, 3)
        runs = []
        for backend in ("numba", "triton"):
            lif._backend = numba_backend if backend == "numba" else (lambda t: triton_backend)
            net = SpikingNet(sizes, spec.spike(0.3), dt_over_tau=1.0, steps=8, readout=readout, temporal=temporal,
                             generator=[torch.Generator().manual_seed(s) for s in (1, 4)], engine="fused")
            g = torch.Generator().manual_seed(3)
            x = (torch.rand(2, 20, 8, 5, generator=g) < 0.3).float() if temporal else torch.rand(2, 20, 5, generator=g) * 2
            y = torch.arange(40).reshape(2, 20) % 3
            out, us = net(x, record=True)
            loss = losses(net(x), y, readout).sum()
            runs.append((out.detach(), us, torch.autograd.grad(loss, list(net.parameters()))))
        lif._backend = numba_backend
        (o1, u1, g1), (o2, u2, g2) = runs
        equal = _same(o1, o2) and all(map(_same, u1, u2)) and all(map(_same, g1, g2))
        print(json.dumps({"case": f"network {kind} {readout}{' temporal' if temporal else ''}", "equal": equal,
                          "grad": float(sum(t.abs().sum() for t in g1)), "triton_calls": len(calls)}), flush=True)
        calls.clear()


SECTIONS = {"lookup": main, "lif_loops": lif_loops, "lif_layers": lif_layers}

if __name__ == "__main__":
    for name in sys.argv[1:] or SECTIONS:
        SECTIONS[name]()
