"""The lookup's fast path as one numba loop on CPU (optional: ``pip install boolgrad[numba]``).

Per element, one pass: bucket ``b = (bits >> shift) & 0xFFFF`` of the element's own pattern,
``g = PB[b] (+ QB[b] / v)`` in float64 (``v`` the element, rounded to the table's format unless
``fits``), clipped to ``[lo, hi]``, the one patched pattern, then ``out = cast(g) * grad_out`` in
the input's dtype -- the same operations in the same order as the torch path of
:mod:`.evaluate` (float64 division is correctly rounded in both), so the results are identical.
A NaN ``g`` (a bucket that needs the exact slow path) is flagged in ``bad`` for the caller.
The torch path needs ~10 tensor passes and float64 temporaries; this needs one.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

__all__ = ["available", "run"]

_PARALLEL_MIN = 1 << 18  # smaller inputs: one thread (a launch, and a stall on a busy core, cost more)
_LOCK = threading.Lock()  # some numba threading layers forbid concurrent parallel launches


@functools.lru_cache(maxsize=1)
def _kernels():
    import numba as nb

    @nb.njit(inline="always", error_model="numpy")
    def round_to(v, emin, man, maxf, over):
        """``v`` rounded to a float format, as :func:`boolgrad.torch.quantize.quantize`."""
        a = abs(v)
        if a == 0.0 or a != a:
            return v
        _, e = math.frexp(a)
        q = max(e - 1, emin) - man
        r = math.ldexp(np.rint(math.ldexp(a, -q)), q)
        if r > maxf:
            r = over
        return math.copysign(r, v)

    @nb.njit(parallel=True, cache=True, error_model="numpy")
    def kernel(bits, u, go, out, bad, tabs, p):
        PB, QB, exc_x, exc_g = tabs
        shift, has_q, fits, has_go, emin, man, maxf, over, lo, hi = p
        n_exc = exc_x.shape[0]
        x_exc = exc_x[0] if n_exc else np.nan
        g_exc = exc_g[0] if n_exc else np.nan
        nbad = 0
        for i in nb.prange(u.shape[0]):
            x = np.float64(u[i])
            b = (bits[i] >> shift) & 0xFFFF
            g = PB[b]
            if has_q:
                v = x if fits else round_to(x, emin, man, maxf, over)
                g = g + QB[b] / v
            if g > hi:
                g = hi
            if g < lo:
                g = lo
            if x == x_exc:  # the one patched pattern (plan.exceptions holds at most one)
                g = g_exc
            out[i] = g  # the cast to the input's dtype (round to nearest even)
            if has_go:
                out[i] = out[i] * go[i]  # in the input's dtype, as torch's g.mul_(grad_out)
            flag = g != g
            bad[i] = flag
            nbad += 1 if flag else 0
        return nbad

    return nb, kernel


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """numba importable."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def params(plan):
    """``(tabs, p)`` of a plan for the kernel: numpy views of its tables and its constants."""
    fmt = plan.fmt
    rounding = (0, 0, 0.0, 0.0)
    if not plan.fits and plan.QB is not None:  # a float format narrower than the dtype
        over = math.inf if fmt.has_inf else math.nan
        rounding = (1 - fmt.bias, fmt.man_bits, float(fmt.max_finite), over)
    exc = np.asarray(plan.exceptions, dtype=np.float64).reshape(-1, 2)
    PB = plan.PB.numpy()
    tabs = (PB, plan.QB.numpy() if plan.QB is not None else PB, exc[:, 0].copy(), exc[:, 1].copy())
    lo = -math.inf if plan.lo is None else float(plan.lo)
    hi = math.inf if plan.hi is None else float(plan.hi)
    return tabs, (int(plan.shift), plan.QB is not None, bool(plan.fits), lo, hi, rounding)


def run(bits, u, go, out, bad, kparams, threads: int) -> int:
    """Fill ``out`` (and ``bad``) for 1-D numpy arrays; returns the number of flagged elements."""
    nb, kernel = _kernels()
    tabs, (shift, has_q, fits, lo, hi, (emin, man, maxf, over)) = kparams
    p = (shift, has_q, fits, go is not None, emin, man, maxf, over, lo, hi)
    go = u if go is None else go
    want = 1 if u.shape[0] < _PARALLEL_MIN else max(1, min(threads, nb.config.NUMBA_NUM_THREADS))
    with _LOCK:
        if nb.get_num_threads() != want:
            nb.set_num_threads(want)
        return kernel(bits, u, go, out, bad, tabs, p)
