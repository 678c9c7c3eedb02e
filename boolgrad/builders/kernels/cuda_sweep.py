"""GPU sweep: one CuPy ``RawKernel`` that enumerates ranks and writes only run starts.

Each thread takes segments of ``PER_THREAD`` consecutive ranks in a grid-stride loop.  It
generates the ranks from its index (no ``arange`` array), computes each mask in registers
with the uint32 formula of :mod:`boolgrad.builders.kernels.masks` (``__clz`` replaces the smear),
and compares it with the previous rank's mask -- a segment starts from the mask of the
rank before it, so segments are independent.  A rank whose mask differs is a run start;
the warp counts its starts with ``__ballot_sync``, one lane reserves room with a single
``atomicAdd`` and every lane writes at its prefix-popcount offset (warp-aggregated
append).  Run starts are rare (tens in 2**32 ranks), so the kernel is compute-bound and
writes almost nothing.  The unordered starts are then sorted on the host
(:func:`finish_runs`, plain numpy, tested without a GPU).

If the output buffer is too small the counter still counts every start; the kernel is run
again with room for all of them (:func:`plan_capacity`).
CuPy is imported when this module is, so :mod:`boolgrad.builders.backends` imports it lazily.
"""

from __future__ import annotations

import functools

import numpy as np

from ...gradient import GradientSpec
from ...progress import Progress
from ..runs import check_rank_range, theta_runs
from .masks import kernel_params, single_run

__all__ = ["cuda_sweep", "finish_runs", "plan_capacity", "CUDA_SOURCE"]

#: consecutive ranks per thread segment (one extra mask per segment for its predecessor)
PER_THREAD = 64
#: run starts the first launch makes room for
CAP = 1 << 16
#: ranks per launch; between launches the progress bar moves and Ctrl-C is seen
LAUNCH = 1 << 30
THREADS = 256

CUDA_SOURCE = r"""
typedef unsigned int u32;
typedef unsigned long long u64;

// Bits whose flip changes [x >= T] ([x > T] if strict), and the comparison (masks.py).
__device__ __forceinline__ u32 flip_cmp(u32 x, u32 T, bool strict, bool &c) {
    u32 d = x ^ T;
    u32 S = d ? (0xFFFFFFFFu >> __clz(d)) : 0u;   // bits at or below the highest difference
    u32 low = S >> 1, top = S ^ low;
    u32 xl = x & low, tl = T & low;
    c = strict ? (x > T) : (x >= T);
    bool cl = strict ? (xl > tl) : (xl >= tl);
    return (~S & (c ? x : ~x)) | (c != cl ? top : 0u);
}

template <int KIND>  // 0: fixed point, 1: floating point
__device__ __forceinline__ u32 mask_at(u32 r, u32 R, u32 A, u32 L0, u32 U0,
                                       u32 L1, u32 U1, u32 wm, u32 top_shift) {
    bool a, b;
    if (KIND == 0) {
        return flip_cmp(r, R, false, a) & wm;
    }
    u32 A1 = A + 1u;
    bool neg = r < A;
    u32 mag = neg ? (A - r) : (r > A1 ? r - A1 : 0u);
    bool sign = neg || r == A1;
    u32 L = sign ? L1 : L0, U = sign ? U1 : U0;
    u32 fa = flip_cmp(mag, L, false, a);
    u32 fb = flip_cmp(mag, U, true, b);
    u32 all_a = a ? 0xFFFFFFFFu : 0u, all_b = b ? 0xFFFFFFFFu : 0u;
    u32 chi = (all_a & ~all_b) ^ ((all_a ^ fa) & ~(all_b ^ fb));
    bool in0 = mag >= L0 && mag <= U0, in1 = mag >= L1 && mag <= U1;
    return (chi & wm) | (in0 != in1 ? (1u << top_shift) : 0u);
}

template <int KIND>
__global__ void sweep_runs(
    u64 first, u64 count, u64 global_start, u32 per_thread,
    u32 R, u32 A, u32 L0, u32 U0, u32 L1, u32 U1, u32 wm, u32 top_shift,
    u32 *out_rank, u32 *out_mask, u64 *counter, u64 cap)
{
    const u32 lane = threadIdx.x & 31u;
    const u32 lanes_below = (1u << lane) - 1u;
    const u64 n_seg = (count + per_thread - 1) / per_thread;
    const u64 stride = (u64)gridDim.x * blockDim.x;
    // the loop bound is the warp's first segment, so all 32 lanes run the same trips
    for (u64 seg = (u64)blockIdx.x * blockDim.x + threadIdx.x; seg - lane < n_seg; seg += stride) {
        const u64 off = seg * per_thread;
        // ranks are < 2**32: 32-bit arithmetic from here on
        const u32 r0 = (u32)(first + off);
        const u32 kmax = seg < n_seg ? (u32)min((u64)per_thread, count - off) : 0u;
        u32 prev = 0u;
        if (kmax) {
            prev = ((u64)r0 == global_start)
                ? ~mask_at<KIND>(r0, R, A, L0, U0, L1, U1, wm, top_shift)
                : mask_at<KIND>(r0 - 1u, R, A, L0, U0, L1, U1, wm, top_shift);
        }
        #pragma unroll 4
        for (u32 k = 0; k < per_thread; ++k) {
            const u32 r = r0 + k;
            const u32 m = mask_at<KIND>(r, R, A, L0, U0, L1, U1, wm, top_shift);
            const bool start_here = k < kmax && m != prev;
            prev = m;
            const u32 ballot = __ballot_sync(0xFFFFFFFFu, start_here);
            if (ballot) {  // rare: reserve room for the warp's starts with one atomic
                const u32 leader = __ffs(ballot) - 1;
                u64 base = 0;
                if (lane == leader) base = atomicAdd(counter, (u64)__popc(ballot));
                base = __shfl_sync(0xFFFFFFFFu, base, leader);
                if (start_here) {
                    const u64 at = base + __popc(ballot & lanes_below);
                    if (at < cap) { out_rank[at] = r; out_mask[at] = m; }
                }
            }
        }
    }
}
"""


def finish_runs(ranks, masks, start: int):
    """Sort the unordered run starts a kernel appended; check they form a run list.

    ``ranks``/``masks``: numpy arrays of the starts found (``start`` among them).
    Returns ``(run_starts, run_masks)`` as ``uint64``, ordered by rank.
    """
    ranks = np.asarray(ranks).astype(np.uint64)
    masks = np.asarray(masks).astype(np.uint64)
    order = np.argsort(ranks, kind="stable")
    ranks, masks = ranks[order], masks[order]
    if not len(ranks) or int(ranks[0]) != start:
        raise RuntimeError(f"GPU sweep lost the run at its start rank {start}")
    if len(ranks) > 1 and not ((ranks[1:] > ranks[:-1]).all() and (masks[1:] != masks[:-1]).all()):
        raise RuntimeError("GPU sweep returned duplicated run starts or repeated masks")
    return ranks, masks


def plan_capacity(found: int, cap: int) -> int | None:
    """Room a rerun needs when ``found`` starts did not fit in ``cap`` (None: they fit)."""
    return None if found <= cap else found


@functools.cache
def _kernel(family: int):
    """Compiled kernel for format family 0 (fixed) / 1 (float); CuPy also caches it on disk."""
    import cupy as cp

    names = ("sweep_runs<0>", "sweep_runs<1>")
    module = cp.RawModule(code=CUDA_SOURCE, options=("-std=c++14",), name_expressions=names)
    return module.get_function(names[family])


def _launch(cp, kern, params, first, count, start, cap, grid):
    out_r = cp.empty(max(cap, 1), dtype=cp.uint32)
    out_m = cp.empty(max(cap, 1), dtype=cp.uint32)
    counter = cp.zeros(1, dtype=cp.uint64)
    args = (np.uint64(first), np.uint64(count), np.uint64(start), np.uint32(PER_THREAD), *params,
            out_r, out_m, counter, np.uint64(cap))
    kern((grid,), (THREADS,), args)
    found = int(counter.get()[0])
    return found, out_r, out_m


def cuda_sweep(spec: GradientSpec, start: int, stop: int, progress: bool = False):
    """Run starts and masks over ranks ``[start, stop)`` on the GPU, exactly as ``array_sweep``."""
    import cupy as cp

    check_rank_range(spec, start, stop)
    if spec.wrt == "theta":  # 2n breakpoints in closed form: nothing to enumerate
        return theta_runs(spec, start, stop)
    p = kernel_params(spec)
    if single_run(p):
        return np.asarray([start], dtype=np.uint64), np.zeros(1, dtype=np.uint64)
    family = 0 if p.family == "fixed" else 1
    top = p.n - 1 if p.family == "float" else 0
    params = tuple(np.uint32(v) for v in (p.R, p.A, p.L0, p.U0, p.L1, p.U1, p.width_mask, top))
    kern = _kernel(family)
    sms = cp.cuda.Device().attributes["MultiProcessorCount"]
    rs, ms = [], []
    with Progress(stop - start, progress, f"sweep {spec.fmt.name} (cuda)") as bar:
        for first in range(start, stop, LAUNCH):
            count = min(LAUNCH, stop - first)
            segs = -(-count // PER_THREAD)
            grid = max(1, min(sms * 2048 // THREADS, -(-segs // THREADS)))
            found, out_r, out_m = _launch(cp, kern, params, first, count, start, CAP, grid)
            room = plan_capacity(found, CAP)
            if room is not None:  # more starts than room: run again with room for all
                found, out_r, out_m = _launch(cp, kern, params, first, count, start, room, grid)
            rs.append(out_r[:found].get())
            ms.append(out_m[:found].get())
            bar.update(count)
    return finish_runs(np.concatenate(rs), np.concatenate(ms), start)
