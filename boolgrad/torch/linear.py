"""``x @ w`` for a spiking layer's input, in the memory layout the CPU BLAS runs fastest.

:func:`linear` is ``x @ w`` (``x``: ``(..., n_in)``, ``w``: ``(n_in, n_out)``), or for K stacked
models ``x``: ``(K, ..., n_in)``, ``w``: ``(K, n_in, n_out)`` (a batched product per model), with
its gradients ``dx = dy w^T`` and ``dw = x^T dy``, one 2-D product per stacked model (so a
model's numbers never depend on the stack).  The values are those products; only the layout of
the calls changes: for a narrow output (``n_out < 16``: the study's 10- and 3-class
readouts) ``y`` is computed as ``(w^T x^T)^T`` and ``dw`` as ``(dy^T x)^T``, because MKL's
single-thread ``sgemm`` with 10 output columns runs 3-5x slower than the same product transposed
(measured at the study's sizes: ``(1024, 128) @ (128, 10)`` 335 us against 73 us;
``benchmarks/bench_study.py``).  Summation order inside the BLAS may differ between the two
layouts, so results agree to float rounding with a plain ``x @ w``; every engine of the study
calls this one function, so they agree with each other bit for bit.  An ``x`` of spikes (zeros
and ones: a hidden layer's input, binned spike trains) can take :mod:`.binary_product` instead
(``spikes=True``): the sum of ``w``'s rows at its ones in the BLAS's own order, the same bits,
2-4x faster at the study's spike-train sizes, T = 16 to 64
(``benchmarks/bench_binary_product.py``).
"""

from __future__ import annotations

import torch

from . import binary_product

__all__ = ["NARROW", "linear", "product", "product_grads"]

#: outputs narrower than this take the transposed layout
NARROW = 16


def _mm(a, b):
    """``a @ b``; stacked: one ``mm`` per model (MKL's batched product runs 1.5-10x slower per
    model at the study's sizes, and a model's sums then depend on the stack and thread count)."""
    if a.dim() == 2:
        return torch.mm(a, b)
    if a.shape[0] == 1:  # the same product, a few microseconds of indexing and allocation fewer
        return torch.mm(a[0], b[0]).unsqueeze(0)
    out = torch.empty(a.shape[0], a.shape[1], b.shape[2], dtype=a.dtype)
    for k in range(a.shape[0]):
        torch.mm(a[k], b[k], out=out[k])
    return out


def _t(a):
    return a.transpose(-1, -2)


def product(x, w, spikes=False):
    """``x @ w`` in the layout of the module doc (``x`` ``(rows, n_in)`` or ``(K, rows, n_in)``).
    ``spikes``: ``x`` is likely all zeros and ones; then, in the plain layout, the sum of ``w``'s
    rows at its ones, in the BLAS's order (:mod:`.binary_product`: the same bits), where it can."""
    if w.shape[-1] < NARROW:
        return _t(_mm(_t(w), _t(x)))
    y = binary_product.matmul(x, w) if spikes else None
    return _mm(x, w) if y is None else y


def product_grads(x, w, gy, want_x=True, want_w=True, spikes=False):
    """``(dx, dw)`` of :func:`product` for ``dL/dy = gy`` (None where not wanted); ``spikes`` as
    :func:`product` (for ``dw``)."""
    gx = _mm(gy, _t(w)) if want_x else None
    gw = None
    if want_w and w.shape[-1] < NARROW:
        gw = _t(_mm(_t(gy), x))
    elif want_w:
        gw = binary_product.matmul_t(x, gy.contiguous()) if spikes else None
        gw = _mm(_t(x), gy) if gw is None else gw
    return gx, gw


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return product(x, w)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        return product_grads(x, w, gy, ctx.needs_input_grad[0], ctx.needs_input_grad[1])


def linear(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``x @ w`` (module doc): ``w`` ``(n_in, n_out)`` or stacked ``(K, n_in, n_out)``."""
    if w.dim() not in (2, 3):
        raise ValueError(f"w must be (n_in, n_out) or (K, n_in, n_out), got shape {tuple(w.shape)}")
    lead = x.shape[:-1] if w.dim() == 2 else x.shape[1:-1]
    if w.dim() == 2:
        flat = x.reshape(-1, x.shape[-1])
    else:
        if x.shape[0] != w.shape[0]:
            raise ValueError(f"x has {x.shape[0]} stacked models, w has {w.shape[0]}")
        flat = x.reshape(x.shape[0], -1, x.shape[-1])
    y = _Linear.apply(flat, w)
    return y.reshape(*((w.shape[0],) if w.dim() == 3 else ()), *lead, w.shape[-1])
