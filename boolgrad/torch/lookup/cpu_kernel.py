"""The lookup's fast path as numba loops on CPU (optional: ``pip install boolgrad[numba]``).

Per element, one pass: bucket ``b = (bits >> shift) & 0xFFFF`` of the element's own pattern,
``g = PB[b] (+ QB[b] / v)`` in float64 (``v`` the element, rounded to the table's format unless
``fits``), clipped to ``[lo, hi]``, the one patched pattern, then ``out = cast(g) * grad_out`` in
the input's dtype -- the same operations in the same order as the torch path of
:mod:`.evaluate` (float64 division is correctly rounded in both), so the results are identical.

* Buckets cut by one piece bound (``plan.split``) are resolved in the loop: entry ``2 b + [x >=
  S[b]]`` of ``PB2``/``QB2``.  Buckets cut by several (``plan.mixed``) are flagged and
  :func:`fix` finds the piece by a binary search over their bounds -- the piece ``k`` that the
  slow path's ``searchsorted`` finds -- and evaluates the slow path's own ``P[k] (+ Q[k] / v)``.
* Rounding ``v`` to a narrower float format adds and subtracts ``C = 2**(q+52)`` (``q``: the
  exponent of one ulp at ``|v|``, from the element's bits): float64 addition rounds to nearest
  even on the ulp grid, as ``quantize`` does.  Rare cases (subnormal inputs, ``C`` out of
  float64's normal range) are flagged; :func:`fix` uses frexp/ldexp (:func:`round_slow`).
* float32 and subnormals: a float32 operation with a subnormal operand or result costs a
  microcode assist (~100 cycles) on x86, and exact Boolean gradients are often that small
  (``g ~ 2**-128 / u`` between the comparison's exponent flips).  The *protected* loop never
  forms one: ``cast(g)`` and ``grad_out`` as float64 values (subnormals from their bits), the
  product exactly in float64 (24 x 24 bits), rounded once as the float32 multiply rounds it, and
  a subnormal result written as its bits ``rint(|y| 2**149)``.  It costs a little per element, so
  :func:`run` probes every :data:`_PROBE` calls of a plan and keeps it only while subnormals are
  frequent.  Both loops give identical results.

A NaN ``g`` that :func:`fix` cannot resolve (irregular pieces, ``+-0``, NaN) stays flagged in
``bad`` for the caller's exact slow path.  Below :data:`_PARALLEL_MIN` elements the loop runs on
one thread.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

__all__ = ["available", "params", "run"]

_PARALLEL_MIN = 1 << 18  # smaller inputs: the serial loop
_LOCK = threading.Lock()  # some numba threading layers forbid concurrent parallel launches
_TINY32 = 2.0**-126  # float32's smallest normal
_SUB32 = 2.0**149  # float32 subnormals are integers times 2**-149


@functools.lru_cache(maxsize=1)
def _kernels():
    import numba as nb

    @nb.njit(inline="always", error_model="numpy")
    def round_slow(v, emin, man, maxf, over):
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

    @nb.njit(inline="always", error_model="numpy")
    def round_to(v, bits, rnd, pow2):
        """:func:`round_slow` by ``(|v| + C) - C``, ``C = 2**(q+52)`` (module doc)."""
        emin, man, maxf, over, big, es, emask, ebias, qmin = rnd
        a = abs(v)
        if a == 0.0 or a != a:
            return v
        if a >= big:  # 2**(emax+1) and up (inf too): beyond the largest finite value
            return math.copysign(over, v)
        field = (bits >> es) & emask
        if field == 0:  # a subnormal input: its exponent is not its field's
            return round_slow(v, emin, man, maxf, over)
        q = max(field - ebias, emin) - man
        c = pow2[q - qmin]
        if not (c >= 2.2250738585072014e-308 and c < math.inf):
            return round_slow(v, emin, man, maxf, over)
        r = (a + c) - c
        if r > maxf:
            r = over
        return math.copysign(r, v)

    @nb.njit(error_model="numpy")
    def fix(bits, u, go, out, out_bits, bad, tabs, p, rnd, pow2):
        """The flagged elements again, carefully (module doc); returns how many stay flagged."""
        PB, QB, exc_x, exc_g, KL, KH, BND, PP, PQ = tabs[:9]
        shift, has_q, fits, has_go, lo, hi, f32, has_exc, offset = p
        shifted = offset != 0.0
        x_exc, g_exc = exc_x[0], exc_g[0]
        nbad = 0
        n = u.shape[0]
        words = bad[: n - n % 8].view(np.uint64)  # skip 8 clean flags at a time
        for j in range(words.shape[0] + 1):
            if j < words.shape[0] and words[j] == 0:
                continue
            for i in range(8 * j, min(8 * j + 8, n)):
                if not bad[i]:
                    continue
                if shifted:  # u = fl(x + offset) in float32, as torch's x + offset
                    u32 = np.float32(u[i] + np.float32(offset))
                    x = np.float64(u32)
                    bi = np.int64(u32.view(np.int32))
                else:
                    x = np.float64(u[i])
                    bi = np.int64(bits[i])
                b = (bi >> shift) & 0xFFFF
                g = PB[b]
                q = QB[b]
                if g != g:  # cut by bounds: the piece the slow path's searchsorted finds
                    k = KL[b]
                    if k >= 0:
                        kh = KH[b]
                        while k < kh:  # the first bound above x (NaN bounds: last, as sorted)
                            mid = (k + kh) // 2
                            if x >= BND[mid]:
                                k = mid + 1
                            else:
                                kh = mid
                        g = PP[k]
                        q = PQ[k]
                if has_q:
                    v = x if fits else round_to(x, bi, rnd, pow2)
                    g = g + q / v
                if g > hi:
                    g = hi
                if g < lo:
                    g = lo
                if has_exc and x == x_exc:  # the one patched pattern (plan.exceptions: at most one)
                    g = g_exc
                if f32:
                    a = abs(g)
                    if a < _TINY32 and a > 0.0:  # cast(g) is subnormal: round to the 2**-149 grid
                        g32 = math.copysign(np.rint(a * _SUB32) / _SUB32, g)
                    else:
                        g32 = np.float64(np.float32(g))
                    y = g32 * np.float64(go[i]) if has_go else g32  # exact: 24 x 24 bits
                    ay = abs(y)
                    if ay < _TINY32 and ay > 0.0:
                        m = np.int32(np.rint(ay * _SUB32))
                        out_bits[i] = (m | np.int32(-(1 << 31))) if y < 0 else m
                    else:
                        out[i] = y  # one rounding, as the float32 multiply
                else:
                    out[i] = g
                    if has_go:
                        out[i] = out[i] * go[i]  # in the input's dtype, as torch's g.mul_(grad_out)
                flag = g != g
                bad[i] = flag
                nbad += 1 if flag else 0
        return nbad

    return nb, round_to, fix


@functools.lru_cache(maxsize=None)
def _kernel(f32: bool, has_go: bool, has_q: bool, fits: bool, protect: bool, split: bool, shifted: bool):
    """The main loop, specialised (the flags are compile-time constants: a branch-free body the
    loop vectoriser takes; runtime flags or variables reassigned in branches defeat it).
    ``protect`` (float32 only): no subnormal float32 operation (module doc)."""
    nb, round_to, fix = _kernels()

    @nb.njit(parallel=True, cache=True, error_model="numpy")
    def kernel(bits, u, go, go_bits, out, out_bits, bad, tabs, p, rnd, pow2):
        PB, QB, exc_x, exc_g = tabs[0], tabs[1], tabs[2], tabs[3]
        S, PB2, QB2 = tabs[9], tabs[10], tabs[11]
        shift, lo, hi = p[0], p[4], p[5]
        t32 = np.float32(p[8])
        emin, man, maxf, over, big, es, emask, ebias, qmin = rnd
        npow = pow2.shape[0] - 1
        x_exc = exc_x[0]  # NaN when there is none: never equal
        g_exc = exc_g[0]
        nbad = 0
        ntiny = 0
        for i in nb.prange(u.shape[0]):
            if shifted:  # u = fl(x + offset) in float32, as torch's x + offset
                u32 = np.float32(u[i] + t32)
                x = np.float64(u32)
                bi = u32.view(np.int32)
            else:
                x = np.float64(u[i])
                bi = bits[i]
            b = (bi >> shift) & 0xFFFF
            if split:  # one bound in the bucket: the side of it picks the entry
                j = 2 * b + (1 if x >= S[b] else 0)
                pb = PB2[j]
                qb = QB2[j]
            else:
                pb = PB[b]
                qb = QB[b]
            if has_q and fits:
                g0 = pb + qb / x
            elif has_q:  # round_to, branch-free; its rare cases (subnormal input, C out of range): fix
                a = abs(x)
                e = (bi >> es) & emask
                qi = min(max(e - ebias, emin) - man - qmin, npow)
                c = pow2[qi]
                r = (a + c) - c
                r = over if (r > maxf) | (a >= big) else r
                ok = (e != 0) & (c >= 2.2250738585072014e-308) & (c < math.inf)
                g0 = pb + qb / math.copysign(r, x) if ok else math.nan
            else:
                g0 = pb
            g1 = hi if g0 > hi else g0
            g2 = lo if g1 < lo else g1
            g = g_exc if x == x_exc else g2
            if protect:  # float32 without a subnormal operation (module doc), branch-free
                a = abs(g)
                tiny_g = (a < _TINY32) & (a > 0.0)
                g32 = np.float64(np.float32(0.0 if tiny_g else g))
                g32 = math.copysign(np.rint(min(a, _TINY32) * _SUB32) / _SUB32, g) if tiny_g else g32
                if has_go:
                    gb = go_bits[i]
                    sub_go = ((gb >> 23) & 0xFF) == 0  # a subnormal (or zero) grad_out
                    gs = np.float64(gb & 0x7FFFFF) / _SUB32
                    gv = np.float64(np.float32(0.0) if sub_go else go[i])
                    gv = (-gs if gb < 0 else gs) if sub_go else gv
                    y = g32 * gv  # exact: 24 x 24 bits
                    ntiny += 1 if tiny_g | sub_go else 0
                else:
                    y = g32
                    ntiny += 1 if tiny_g else 0
                ay = abs(y)
                tiny = (ay < _TINY32) & (ay > 0.0)
                m = np.int32(np.rint(min(ay, _TINY32) * _SUB32))
                m = (m | np.int32(-(1 << 31))) if y < 0 else m
                y32 = np.float32(0.0 if tiny else y)  # one rounding, as the float32 multiply
                out_bits[i] = m if tiny else y32.view(np.int32)
                ntiny += 1 if tiny else 0
                flag = g != g
            else:
                out[i] = g
                if has_go:
                    out[i] = out[i] * go[i]  # in the input's dtype, as torch's g.mul_(grad_out)
                flag = g != g
            bad[i] = flag
            nbad += 1 if flag else 0
        if nbad:
            nbad = fix(bits, u, go, out, out_bits, bad, tabs, p, rnd, pow2)
        return ntiny, nbad

    return kernel


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """numba importable."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _rounding(plan):
    """``(rnd, pow2)``: the constants of :func:`round_to` for ``plan`` (inert when ``fits``)."""
    f64 = plan.dtype is not None and str(plan.dtype) == "torch.float64"
    es, emask, ebias = (52, 0x7FF, 1023) if f64 else (23, 0xFF, 127)
    fmt = plan.fmt
    if plan.fits or plan.QB is None:
        return (0, 0, 0.0, 0.0, math.inf, es, emask, ebias, 0), np.zeros(1)
    over = math.inf if fmt.has_inf else math.nan
    emin, man, maxf = 1 - fmt.bias, fmt.man_bits, float(fmt.max_finite)
    emax = math.frexp(maxf)[1] - 1
    qmin = emin - man
    with np.errstate(over="ignore", under="ignore"):  # inf / subnormal C: round_slow
        pow2 = np.ldexp(1.0, np.arange(qmin, emax - man + 1) + 52)
    if man > 51:  # (|v| + C) - C needs a spare bit: every element takes round_slow
        pow2[:] = math.inf
    big = 2.0 ** (emax + 1) if emax < 1023 else math.inf  # inf itself is still >= big
    return (emin, man, maxf, over, big, es, emask, ebias, qmin), pow2


def params(plan):
    """The kernel's arguments from a plan: numpy tables and constants."""
    exc = np.asarray(plan.exceptions, dtype=np.float64).reshape(-1, 2)
    has_exc = exc.shape[0] > 0
    if not has_exc:
        exc = np.full((1, 2), np.nan)
    PB = plan.PB.numpy()
    QB = plan.QB.numpy() if plan.QB is not None else np.zeros_like(PB)
    n = PB.shape[0]
    KL, KH = plan.mixed if plan.mixed is not None else (np.full(n, -1, np.int32),) * 2
    bounds = plan.bounds.cpu().to(dtype=plan.P.dtype).numpy()
    tabs = (PB, QB, exc[:, 0].copy(), exc[:, 1].copy(), KL, KH, bounds, plan.P.numpy(), plan.Q.numpy())
    if plan.split is not None:
        S, PB2, QB2 = plan.split
        tabs += (S, PB2, QB2 if QB2 is not None else np.zeros_like(PB2))
    else:
        tabs += (np.zeros(1), np.zeros(2), np.zeros(2))
    lo = -math.inf if plan.lo is None else float(plan.lo)
    hi = math.inf if plan.hi is None else float(plan.hi)
    f32 = str(plan.dtype) == "torch.float32"
    p = (int(plan.shift), plan.QB is not None, bool(plan.fits), False, lo, hi, f32, has_exc, 0.0)
    return tabs, p, _rounding(plan)


_PROBE = 16  # a plan's protect decision is revisited every _PROBE calls
_PROTECT_RATE = 1.0 / 256  # fraction of subnormal results above which protect pays


def run(bits, u, go, out, bad, kparams, threads: int, state=None, offset: float = 0.0) -> int:
    """Fill ``out`` (and ``bad``) for 1-D numpy arrays; returns the number of flagged elements.

    ``offset`` (float32 ``u`` only): evaluate at ``fl(u + offset)`` (float32 addition, as torch's
    ``u + offset``); ``bits`` are then unused.

    ``state``: a per-plan ``[calls, protect]`` list that :func:`run` keeps (``None``: probe).
    """
    nb = _kernels()[0]
    tabs, p, (rnd, pow2) = kparams
    p = p[:3] + (go is not None,) + p[4:8] + (float(offset),)
    f32 = bool(p[6])
    if offset and not f32:
        raise ValueError("offset is for float32 inputs")
    state = [0, True] if state is None else state
    probe = f32 and state[0] % _PROBE == 0
    protect = f32 and (probe or state[1])
    state[0] += 1
    kernel = _kernel(f32, p[3], p[1], p[2], protect, tabs[9].shape[0] > 1, bool(offset))
    go = u if go is None else go
    out_bits = out.view(np.int32) if out.dtype == np.float32 else bits
    go_bits = go.view(np.int32) if go.dtype == np.float32 else bits
    n = u.shape[0]
    want = 1 if n < _PARALLEL_MIN else max(1, min(threads, nb.config.NUMBA_NUM_THREADS))
    with _LOCK:
        if nb.get_num_threads() != want:
            nb.set_num_threads(want)
        ntiny, nbad = kernel(bits, u, go, go_bits, out, out_bits, bad, tabs, p, rnd, pow2)
    if probe:
        state[1] = ntiny > n * _PROTECT_RATE
    return nbad
