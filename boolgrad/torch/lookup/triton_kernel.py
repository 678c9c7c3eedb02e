"""Fused GPU path: the plan's fast path as one Triton kernel (CUDA only, optional).

One pass per element: read ``u``, take the top 16 bits of its pattern as the bucket, gather
``P`` and ``Q`` (float64), ``g = P + Q / v`` in float64 (``div.rn.f64``: correctly rounded, as on
the CPU), clipped to ``[lo, hi]``, cast to ``u``'s dtype and store; a NaN ``g`` (a bucket that
needs the slow path) bumps a counter instead.  The caller then runs the exact slow path of
:mod:`.evaluate` on just those elements.  Same operations in the same order as the
unfused path, so the results are identical (``tests/torch/test_gpu.py`` checks it).

Only used for plans that need no rounding of ``v`` (``plan.fits``, or constant pieces);
everything else, and any machine without Triton, takes the unfused path.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["fused_available", "fused_gradient"]


@functools.lru_cache(maxsize=1)
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def kernel(
        u_ptr,
        out_ptr,
        pb_ptr,
        qb_ptr,
        bad_ptr,
        exc_ptr,
        n,
        SHIFT: tl.constexpr,
        INT: tl.constexpr,
        HAS_Q: tl.constexpr,
        HAS_HI: tl.constexpr,
        HAS_LO: tl.constexpr,
        HAS_EXC: tl.constexpr,
        HI: tl.constexpr,
        LO: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        u = tl.load(u_ptr + offs, mask=mask, other=0.0)
        if INT == 16:
            bits = u.to(tl.int16, bitcast=True).to(tl.int32)
        elif INT == 32:
            bits = u.to(tl.int32, bitcast=True)
        else:
            bits = u.to(tl.int64, bitcast=True)
        idx = (bits >> SHIFT) & 0xFFFF
        g = tl.load(pb_ptr + idx, mask=mask, other=0.0)
        if HAS_Q:
            q = tl.load(qb_ptr + idx, mask=mask, other=0.0)
            g = g + q / u.to(tl.float64)
        if HAS_EXC:  # (value, g) as float64: Python floats would reach Triton as float32
            g = tl.where(u.to(tl.float64) == tl.load(exc_ptr), tl.load(exc_ptr + 1), g)
        bad = (g != g) & mask  # noqa: PLR0124 -- the NaN test
        tl.atomic_add(bad_ptr, tl.sum(bad.to(tl.int32), axis=0))
        if HAS_HI:
            g = tl.where(g > HI, HI, g)
        if HAS_LO:
            g = tl.where(g < LO, LO, g)
        tl.store(out_ptr + offs, g.to(out_ptr.dtype.element_ty), mask=mask)

    return kernel


@functools.lru_cache(maxsize=1)
def fused_available() -> bool:
    """Triton importable (it ships with CUDA builds of torch) and a CUDA device visible."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


_INT_BITS = {torch.float16: 16, torch.bfloat16: 16, torch.float32: 32, torch.float64: 64}


def fused_gradient(plan, u: torch.Tensor, dtype, slow) -> torch.Tensor:
    """``g`` cast to ``dtype`` for a CUDA tensor ``u`` (module doc); ``slow(plan, u_bad)`` gives
    the exact float64 ``g`` of the flagged elements."""
    flat = u.reshape(-1)
    n = flat.numel()
    out = torch.empty(n, dtype=dtype, device=u.device)
    bad = torch.zeros(1, dtype=torch.int32, device=u.device)
    exc = torch.tensor(
        plan.exceptions[0] if plan.exceptions else (0.0, 0.0), dtype=torch.float64, device=u.device
    )
    BLOCK = 1024
    _kernel()[(triton_cdiv(n, BLOCK),)](
        flat,
        out,
        plan.PB,
        plan.QB if plan.QB is not None else plan.PB,
        bad,
        exc,
        n,
        SHIFT=plan.shift,
        INT=_INT_BITS[u.dtype],
        HAS_Q=plan.QB is not None,
        HAS_HI=plan.hi is not None,
        HAS_LO=plan.lo is not None,
        HI=1.0 if plan.hi is None else float(plan.hi),
        LO=0.0 if plan.lo is None else float(plan.lo),
        HAS_EXC=bool(plan.exceptions),
        BLOCK=BLOCK,
        enable_fp_fusion=False,  # each operation rounded on its own, as on the CPU
    )
    if int(bad.item()):
        idx = torch.isnan(out).nonzero().squeeze(1)
        g = slow(plan, flat[idx])
        out[idx] = g.to(dtype)  # slow() clips
    return out.view(u.shape)


def triton_cdiv(a: int, b: int) -> int:
    return -(-a // b)
