"""The numba loops of :mod:`.cpu_kernel` (imported on first use: this module imports numba).

Module-level functions and a factory whose closures capture only booleans, so numba's on-disk
cache (keyed by the code and the closure's values) finds every specialisation again in the next
process instead of compiling it anew mid-training.  The mathematics is in :mod:`.cpu_kernel`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange

from ...numba_cache import install as _race_free_cache

__all__ = ["fix", "kernel_for", "round_slow", "round_to"]

_race_free_cache()  # before anything here compiles (boolgrad.numba_cache)

_TINY32 = 2.0**-126  # float32's smallest normal
_SUB32 = 2.0**149  # float32 subnormals are integers times 2**-149


@njit(cache=True, inline="always", error_model="numpy")
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

@njit(cache=True, inline="always", error_model="numpy")
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

@njit(cache=True, error_model="numpy")
def fix(bits, u, go, out, out_bits, bad, tabs, p, rnd, pow2):
    """The flagged elements again, carefully (module doc); returns how many stay flagged."""
    PB, QB, exc_x, exc_g, KL, KH, BND, PP, PQ = tabs[:9]
    gx = tabs[11]
    shift, has_q, fits, has_go, lo, hi, f32, has_exc, offset = p[:9]
    tb, nbr = p[11], p[12]
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
            d = np.int64(bi ^ tb) & 0xFFFFFFFF
            if nbr and (d & (d - 1)) == 0:  # theta's neighbour: its own entry (32: theta itself)
                g = gx[32 if d == 0 else int(np.log2(np.float64(d)))]
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


@functools.cache
def kernel_for(
    f32: bool,
    has_go: bool,
    has_q: bool,
    fits: bool,
    protect: bool,
    split: bool,
    shifted: bool,
    direct: bool,
    nbr: bool,
    clip: bool,
):
    """The main loop, specialised (the flags are compile-time constants: a branch-free body the
    loop vectoriser takes; runtime flags or variables reassigned in branches defeat it).
    ``protect`` (float32 only): no subnormal float32 operation (module doc).  ``direct``
    (float32 only): ``PB`` holds ``g`` per pattern of a format made of float32's top 16 bits,
    indexed by the element's pattern rounded to nearest even -- ``(m + 0x7FFF + lsb) >> 16`` on
    the magnitude bits ``m``, NaNs first clamped to the quiet NaN so the carry cannot reach the
    sign; overflow carries into the infinity pattern, as IEEE rounding does.  ``nbr`` (float32
    only): theta's one-bit neighbours and theta itself (``d = bits ^ theta's bits`` has at most
    one bit set) are flagged, and :func:`fix` takes their ``g`` from ``tabs[11]``, entry
    ``log2(d)`` (32 for theta): the check costs a few integer operations an element, the rare
    neighbours a second look (:mod:`.neighbours`).  ``clip``: the plan's ``[lo, hi]`` is not
    ``[-inf, inf]``."""

    @njit(parallel=True, cache=True, error_model="numpy")
    def kernel(bits, u, go, go_bits, out, out_bits, bad, tabs, p, rnd, pow2):
        PB, QB, exc_x, exc_g = tabs[0], tabs[1], tabs[2], tabs[3]
        PB2, QB2 = tabs[9], tabs[10]
        shift, lo, hi, K, tb = p[0], p[4], p[5], p[10], p[11]
        low_mask = (1 << shift) - 1
        t32 = np.float32(p[8])
        emin, man, maxf, over, big, es, emask, ebias, qmin = rnd
        npow = pow2.shape[0] - 1
        x_exc = exc_x[0]  # NaN when there is none: never equal
        g_exc = exc_g[0]
        nbad = 0
        ntiny = 0
        for i in prange(u.shape[0]):
            if shifted:  # u = fl(x + offset) in float32, as torch's x + offset
                u32 = np.float32(u[i] + t32)
                x = np.float64(u32)
                bi = u32.view(np.int32)
            else:
                x = np.float64(u[i])
                bi = bits[i]
            b = (bi >> shift) & 0xFFFF
            if direct:  # the rounded pattern (docstring): one entry, g itself
                mag = min(bi & 0x7FFFFFFF, 0x7FC00000)
                b = ((mag + 0x7FFF + ((mag >> 16) & 1)) >> 16) | ((bi >> 31) & 0x8000)
                pb = PB[b]
                qb = 0.0
            elif split:  # one bound in the bucket at pattern offset K: the low bits pick the entry
                j = 2 * b + (1 if (bi & low_mask) >= K else 0)
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
            if clip:
                g1 = hi if g0 > hi else g0
                g0 = lo if g1 < lo else g1
            g = g_exc if x == x_exc else g0
            if nbr:  # theta's neighbours (d = bits ^ theta's bits has at most one bit set): fix
                d = (bi ^ tb) & 0xFFFFFFFF
                g = math.nan if (d & (d - 1)) == 0 else g
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
                if f32:  # count subnormal results by their bits (no float op): run()'s policy
                    yb = np.float32(out[i]).view(np.int32)
                    ntiny += 1 if (((yb >> 23) & 0xFF) == 0) & ((yb & 0x7FFFFF) != 0) else 0
                flag = g != g
            bad[i] = flag
            nbad += 1 if flag else 0
        if nbad:
            nbad = fix(bits, u, go, out, out_bits, bad, tabs, p, rnd, pow2)
        return ntiny, nbad

    return kernel
