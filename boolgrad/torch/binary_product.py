"""``x @ w`` and ``x^T @ g`` for an ``x`` of zeros and ones (spikes), summed in the CPU BLAS's order.

A spike-train input is mostly zeros (the study's spike-train task: 1/16 of its entries at T = 16,
1/64 at T = 64) and a dense product spends its time multiplying them.  For ``x`` in {0, 1} each
of the BLAS's multiply-adds ``acc = fma(x_k, w_k, acc)`` leaves ``acc`` as it is (``x_k = 0``) or
rounds ``acc + w_k`` (``x_k = 1``), so the product is a sum of the rows of ``w`` at the ones of
``x``: a few additions instead of ``k`` multiply-adds per output, and equal bit for bit *if*
summed in the BLAS's order.  MKL's single-thread ``sgemm`` (x86, AVX2) sums the inner axis in
blocks, each from +0 in order, each block's sum then added to the output in order; the block
length depends on the inner extent ``k`` (measured on the 2-core box: one block up to 192, two
of ``k // 2`` below 384, else 192).  That order is not documented, so nothing here assumes it:
the first call for a shape probes it (:func:`block_length`: the dense product on random 0/1
data with an all-zero row and column, for the sign of zero, against each candidate length, bit
for bit), and a shape without a match keeps the dense product.  So does a call whose ``x`` holds
anything but 0 and 1, or whose other operand an infinity or a NaN (``0 * inf`` is NaN in the
BLAS; a skipped zero is not), any tensor but a contiguous float32/float64 one on CPU, more than
one torch thread (the study trains on one; threaded MKL splits products its own ways), and a
process without numba: :func:`matmul` and :func:`matmul_t` then return None and the caller
(:mod:`boolgrad.torch.linear`) multiplies densely.
"""

from __future__ import annotations

import functools
import threading

import torch

__all__ = ["block_length", "matmul", "matmul_t"]

#: the candidate block lengths along the inner axis, after ``k`` itself (one block)
CANDIDATES = (192, "half", 128, 256)
_LENGTHS: dict = {}  # (transposed, R, n, O, dtype, threads) -> block length, or 0: no match
_LOCK = threading.Lock()


@functools.cache
def _loops():
    try:
        from . import _binary_loops
    except ImportError:  # numba is an optional extra
        return None
    return _binary_loops


def _dense(x, other, transposed: bool):
    """The dense product as :mod:`boolgrad.torch.linear` computes it, per model (``torch.mm``;
    linear imports this module, so the call is spelled here)."""
    if transposed:
        return torch.stack([torch.mm(x[k].t(), other[k]) for k in range(x.shape[0])])
    return torch.stack([torch.mm(x[k], other[k]) for k in range(x.shape[0])])


def _run(loops, x, other, L: int, transposed: bool):
    R, n, O = x.shape[1], x.shape[2], other.shape[2]
    out = torch.empty((x.shape[0], n if transposed else R, O), dtype=x.dtype)
    ok = (loops.cols if transposed else loops.rows)(x.numpy(), other.numpy(), out.numpy(), L)
    return out if ok else None


def _probe(gen, R: int, n: int, O: int, transposed: bool, dtype, density: float, zeros: bool):
    """Random 0/1 ``x`` (optionally with an all-zero last row and column: the sign of a zero sum)
    and the other operand, of exponents from 2**-8 to 2**8 (so that orders round differently)."""
    x = (torch.rand((1, R, n), generator=gen) < density).to(dtype)
    if zeros:
        x[0, -1] = 0
        x[0, :, -1] = 0
    other = torch.randn((1, R if transposed else n, O), generator=gen, dtype=dtype)
    other *= torch.exp2(torch.randint(-8, 9, other.shape, generator=gen)).to(dtype)
    return x, other


def _same(a, b) -> bool:
    kind = torch.int32 if b.dtype == torch.float32 else torch.int64
    return a is not None and torch.equal(a.view(kind), b.view(kind))


def block_length(transposed: bool, R: int, n: int, O: int, dtype: torch.dtype) -> int:
    """The block length (along ``n`` for ``x @ w``, along ``R`` for ``x^T @ g``; ``x`` ``(R, n)``)
    whose sums equal the dense product's bit for bit on three random probes of this shape (0/1
    densities 0.3, 0.7, and 0.3 with an all-zero row and column), or 0 when no candidate does
    (module doc); probed once per shape and process.  On one torch thread only: with more, MKL
    splits a product between threads in its own ways (seen: a 2-thread order no blocking
    reproduces, which a single probe had matched)."""
    key = (transposed, R, n, O, dtype, torch.get_num_threads())  # (used on one thread only: _apply)
    with _LOCK:
        if key in _LENGTHS:
            return _LENGTHS[key]
        loops = _loops()
        found = 0
        if loops is not None and min(R, n, O) > 0:
            gen = torch.Generator().manual_seed(R * 7919 + n * 31 + O)
            probes = [_probe(gen, R, n, O, transposed, dtype, d, z)
                      for d, z in ((0.3, False), (0.7, False), (0.3, True))]
            dense = [_dense(x, other, transposed) for x, other in probes]
            k = R if transposed else n
            for c in dict.fromkeys((k, *(k // 2 if c == "half" else c for c in CANDIDATES))):
                if c >= 1 and all(_same(_run(loops, x, other, c, transposed), d)
                                  for (x, other), d in zip(probes, dense)):
                    found = c
                    break
        _LENGTHS[key] = found
        return found


def _usable(*ts) -> bool:
    return all(t.device.type == "cpu" and t.dtype in (torch.float32, torch.float64) and t.dtype == ts[0].dtype
               and t.is_contiguous() and not t.requires_grad for t in ts)


def _apply(x, other, transposed: bool):
    squeeze = x.dim() == 2
    if squeeze:
        x, other = x.unsqueeze(0), other.unsqueeze(0)
    if x.dim() != 3 or other.dim() != 3 or not _usable(x, other):
        return None
    if _loops() is None or torch.get_num_threads() != 1:
        return None
    if other.shape[0] != x.shape[0] or other.shape[1] != x.shape[1 if transposed else 2]:
        return None  # not a product: the dense path says why
    L = block_length(transposed, x.shape[1], x.shape[2], other.shape[2], x.dtype)
    out = _run(_loops(), x, other, L, transposed) if L else None
    return out[0] if squeeze and out is not None else out


def matmul(x: torch.Tensor, w: torch.Tensor):
    """``x @ w`` (``x`` ``(R, n)`` or ``(K, R, n)``, ``w`` ``(n, O)`` or ``(K, n, O)``) as the
    dense product's bits, or None where that is not possible here (module doc)."""
    return _apply(x, w, False)


def matmul_t(x: torch.Tensor, g: torch.Tensor):
    """``x^T @ g`` per model (``x`` ``(R, n)`` or ``(K, R, n)``, ``g`` ``(R, O)`` or ``(K, R, O)``),
    or None (module doc)."""
    return _apply(x, g, True)
