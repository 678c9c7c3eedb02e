"""Where a Boolean kind's time goes in the fused engine: ``g(u)`` per element against arctan's.

The fused LIF's backward evaluates a Boolean kind's ``g`` once on the whole recorded ``u``
(``(1, T, 64, 128)``: the decisive study's digits network, 64-128 LIF, batch 64, horizon 8 tau,
real data, initial weights) by its table lookup (:mod:`boolgrad.torch.lookup`); arctan's
expression it computes row by row inside its own loop.  Both are timed here as one pass over the
same ``u`` by :func:`boolgrad.torch.multistep.rule.loop_gradient` (arctan: the same expression
as one vectorised numba loop).  Rows, timed in interleaved rounds (one thread; subnormals
flushed, as the study trains):

* ``arctan`` and every Boolean kind of the study: ``loop_gradient``;
* probes of a float32 table's lookup (``boolean_yj2025``'s plan: entry ``j`` of the split bucket
  table, ``g = P[j] + Q[j] / u``), each a minimal numba loop over the same ``u``: ``index``
  (``j`` only), ``gather P`` (one table), ``gather P, Q`` (both), ``divide`` (``P + Q / u`` from
  gathered arrays: vectorised), ``gather + divide`` (one loop, as the kernel: scalar, since
  LLVM does not vectorise the gathers on this CPU) -- the floor of a one-pass lookup.

Columns: median and minimum microseconds a call, nanoseconds an element (minimum), ratio to
arctan (minimum).  Run: ``python benchmarks/bench_lookup.py [--steps 16 64] [--out FILE.json]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _record import check_out, write_record

THETA, HORIZON, BATCH, HIDDEN = 0.3, 8.0, 64, 128
#: warm-up calls a row: more than the lookup's protect policy needs to settle (``cpu_kernel._QUIET_CALLS``)
WARM = 24


def recorded_u(steps):
    """The hidden layer's ``u`` ``(1, T, 64, 128)`` of the digits network on a real batch."""
    from boolgrad.study.data import load_dataset
    from boolgrad.study.kinds import get_kind
    from boolgrad.study.network import SpikingNet

    d = load_dataset("digits")
    net = SpikingNet((d.n_features, HIDDEN, d.n_classes), get_kind("arctan").spike(THETA),
                     dt_over_tau=HORIZON / steps, steps=steps, readout="ce_linear",
                     generator=[torch.Generator().manual_seed(0)])
    with torch.no_grad():
        _, us = net(torch.from_numpy(d.x_train[:BATCH]).unsqueeze(0), record=True)
    return us[0].contiguous()


def probes():
    """The minimal loops (module doc), compiled on first use."""
    from numba import njit

    @njit(cache=True, error_model="numpy")
    def index(bits, K, idx):
        for i in range(bits.shape[0]):
            b = bits[i]
            idx[i] = 2 * ((b >> 16) & 0xFFFF) + (1 if (b & 0xFFFF) >= K else 0)

    @njit(cache=True, error_model="numpy")
    def gather1(idx, P, ps):
        for i in range(idx.shape[0]):
            ps[i] = P[idx[i]]

    @njit(cache=True, error_model="numpy")
    def gather2(idx, P, Q, ps, qs):
        for i in range(idx.shape[0]):
            j = idx[i]
            ps[i] = P[j]
            qs[i] = Q[j]

    @njit(cache=True, error_model="numpy")
    def divide(u, ps, qs, out):
        for i in range(u.shape[0]):
            out[i] = ps[i] + qs[i] / np.float64(u[i])

    @njit(cache=True, error_model="numpy")
    def gather_divide(bits, u, P, Q, K, out):
        for i in range(u.shape[0]):
            b = bits[i]
            j = 2 * ((b >> 16) & 0xFFFF) + (1 if (b & 0xFFFF) >= K else 0)
            out[i] = P[j] + Q[j] / np.float64(u[i])

    return index, gather1, gather2, divide, gather_divide


def calls(u):
    """``(name, zero-argument call)`` of every row."""
    from boolgrad.study.kinds import KINDS, get_kind
    from boolgrad.torch.lookup.evaluate import kernel_params
    from boolgrad.torch.multistep.lif import _loops
    from boolgrad.torch.multistep.rule import loop_gradient

    _, loops = _loops()
    rows = []
    for name, spec in KINDS.items():
        if name != "arctan" and not name.startswith("boolean_"):
            continue
        spec = spec.resolve(0.05) if spec.matched else spec
        spike = spec.spike(THETA)
        rows.append((name, lambda spike=spike: loop_gradient(spike, u, THETA, loops)))
    plan = get_kind("boolean_yj2025").spike(THETA).state.plans(u, THETA)[0]
    tabs, p, _, _ = kernel_params(plan)
    P, Q, K = tabs[9], tabs[10], p[10]
    a = u.numpy().reshape(-1)
    bits = a.view(np.int32)
    n = a.shape[0]
    idx, ps, qs, out = np.empty(n, np.int32), np.empty(n), np.empty(n), np.empty(n)
    index, gather1, gather2, divide, gather_divide = probes()
    index(bits, K, idx)
    rows += [("probe: index", lambda: index(bits, K, idx)),
             ("probe: gather P", lambda: gather1(idx, P, ps)),
             ("probe: gather P, Q", lambda: gather2(idx, P, Q, ps, qs)),
             ("probe: divide", lambda: divide(a, ps, qs, out)),
             ("probe: gather + divide", lambda: gather_divide(bits, a, P, Q, K, out))]
    return rows


def measure(steps, rounds, reps):
    u = recorded_u(steps)
    rows = calls(u)
    times = {name: [] for name, _ in rows}
    for _, call in rows:
        for _ in range(WARM):  # compile, tables, and the lookup's subnormal policy settled
            call()
    for _ in range(rounds):
        for name, call in rows:
            t0 = time.perf_counter()
            for _ in range(reps):
                call()
            times[name].append((time.perf_counter() - t0) / reps)
    base = min(times["arctan"])
    return [{"T": steps, "elements": u.numel(), "row": name, "median_us": statistics.median(t) * 1e6,
             "min_us": min(t) * 1e6, "ns_per_element": min(t) * 1e9 / u.numel(), "vs_arctan": min(t) / base}
            for name, t in times.items()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", nargs="+", type=int, default=[16, 64])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=20, help="calls per timing")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    check_out(args.out)
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    from boolgrad.torch.multistep import prepare

    prepare()
    print(f"torch {torch.__version__}, 1 thread, subnormals flushed, {args.rounds} rounds x {args.reps} calls")
    print("| T | elements | row | median us | min us | ns / element | / arctan |\n|---|---|---|---|---|---|---|")
    rows = []
    for steps in args.steps:
        for r in measure(steps, args.rounds, args.reps):
            rows.append(r)
            print(f"| {r['T']} | {r['elements']} | {r['row']} | {r['median_us']:.1f} | {r['min_us']:.1f} | "
                  f"{r['ns_per_element']:.2f} | {r['vs_arctan']:.2f} |", flush=True)
    if args.out:
        write_record(args.out, "benchmarks/bench_lookup.py", sys.argv[1:] if argv is None else argv, threads=1,
                     rounds=args.rounds, reps=args.reps, rows=rows)


if __name__ == "__main__":
    main()
