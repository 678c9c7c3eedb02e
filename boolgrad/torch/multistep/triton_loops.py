"""The fused LIF's loops as Triton kernels, for CUDA tensors (optional: Triton ships with CUDA
builds of torch).

The functions of :mod:`.loops` with the same arguments, on torch tensors ``(K, T, n)`` instead
of numpy arrays, and the same arithmetic operation for operation (the recurrences are in
:mod:`.loops`' docstring): each product, sum and quotient rounded to the dtype ``F`` once --
the kernels are launched with ``enable_fp_fusion=False`` (no fused multiply-add, which numba
does not form either) and divide by ``div_rn`` (correctly rounded, as numba's ``/``; Triton's
own float32 ``/`` is approximate).  One program takes ``BLOCK`` columns of one problem ``k``
and walks time over them, as a numba block does; the scalars travel as a tensor of ``F`` (a
Python float would reach the kernel as float32).

``tests/torch/test_triton_interpret.py`` runs these kernels in Triton's interpreter on CPU
tensors against the numba loops, bit for bit, over designs of their flags (every flag and
every pair of flags both ways), and compiles them for an sm_90 GPU without one; no GPU has run
or timed them yet (``tests/torch/test_gpu.py`` compares them with the numba loops where one is).
"""

from __future__ import annotations

import functools
import importlib.util
import math

import torch

__all__ = ["available", "backward", "backward_recompute", "forward"]

_BLOCK = 128


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Triton installed."""
    return importlib.util.find_spec("triton") is not None


@functools.lru_cache(maxsize=1)
def _kernels():
    import triton

    from ._triton_lif_kernels import backward_kernel, forward_kernel

    return triton, forward_kernel, backward_kernel


def _consts(like: torch.Tensor, *values) -> torch.Tensor:
    """The kernels' scalars as a tensor of ``like``'s dtype (each value already one of it), made
    once per set of values and device: a tensor made from Python numbers on a GPU is a
    synchronous copy from the host, which would stall every call."""
    values = tuple(float(v) for v in values)
    return _consts_on(like.dtype, like.device, values, tuple(math.copysign(1.0, v) for v in values))


@functools.lru_cache(maxsize=256)
def _consts_on(dtype, device, values: tuple, signs: tuple) -> torch.Tensor:
    """(``signs``: in the key, so that -0.0 is not served 0.0's tensor.)"""
    return torch.tensor(values, dtype=dtype, device=device)


def forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, s, cnt, parallel: bool = False, T=None) -> None:
    """:func:`.loops.forward` on tensors (``parallel`` is the GPU's own)."""
    if u is None and (cnt is None or s is not None or T is None):
        raise ValueError("a forward that keeps no u gives the spike rate over T steps and writes no s")
    triton, kernel, _ = _kernels()
    K, n = I.shape[0], I.shape[2]
    T = u.shape[1] if u is not None else T
    c = _consts(I, gain, d, rb, lo, hi)
    grid = (triton.cdiv(n, _BLOCK), K)
    kernel[grid](I, I if u is None else u, I if s is None else s, I if cnt is None else cnt, c, n, T,
                 CONST=bool(const), ZERO_RESET=bool(zero_reset), HAS_HI=bool(has_hi), STORE_U=u is not None,
                 STORE_S=s is not None, COUNT=cnt is not None, FP64=I.dtype == torch.float64, BLOCK=_BLOCK,
                 enable_fp_fusion=False)


def backward(go, u, g, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
             surrogate, parallel: bool = False) -> None:
    """:func:`.loops.backward` on tensors."""
    triton, _, kernel = _kernels()
    kind, th, c0, c1 = surrogate if g is None else (0, d, d, d)
    K, T, n = u.shape
    c = _consts(u, gain, d, rb, lo, hi, th, c0, c1)
    grid = (triton.cdiv(n, _BLOCK), K)
    kernel[grid](go, u, u if g is None else g, gI, gs_out if want_gs else u, c, n, T, KIND=int(kind),
                 ZERO_RESET=bool(zero_reset), DETACH=bool(detach), CONST=bool(const), GO_CONST=bool(go_const),
                 WANT_GS=bool(want_gs), HAS_HI=bool(has_hi), FP64=u.dtype == torch.float64, BLOCK=_BLOCK,
                 enable_fp_fusion=False)


def backward_recompute(I, T, const, gain, d, rb, zero_reset, lo, hi, has_hi, go, go_const, detach, want_gs, gI,
                       gs_out, surrogate, parallel: bool = False) -> None:
    """:func:`.loops.backward_recompute` on tensors: ``u`` computed again by :func:`forward`
    (the same bits) into a tensor of its own, then :func:`backward` over it."""
    u = torch.empty((I.shape[0], T, I.shape[2]), dtype=I.dtype, device=I.device)
    forward(I, const, gain, d, rb, zero_reset, lo, hi, has_hi, u, None, None)
    backward(go, u, None, d, rb, gain, zero_reset, detach, const, go_const, want_gs, gI, gs_out, lo, hi, has_hi,
             surrogate)
