"""The Triton kernels of :mod:`.triton_loops` (imported on first use: this module imports triton).

Module-level functions, as Triton resolves the functions a kernel calls among its globals.  The
arithmetic and its rounding are explained in :mod:`.triton_loops` and :mod:`.loops`.
"""

import triton
import triton.language as tl

__all__ = ["backward_kernel", "forward_kernel"]


@triton.jit
def div(a, b, FP64: tl.constexpr):
    """``a / b`` correctly rounded: ``div_rn`` for float32 (Triton's own ``/`` is approximate
    there), ``/`` for float64 (``div.rn.f64``; ``div_rn`` takes float32 only)."""
    if FP64:  # a compile-time branch: only the taken one is generated
        q = a / b
    else:
        q = tl.math.div_rn(a, b)
    return q


@triton.jit
def spike(v, lo, hi, HAS_HI: tl.constexpr):
    fire = v >= lo
    if HAS_HI:
        fire = fire & (v < hi)
    return tl.where(fire, 1.0, 0.0).to(v.dtype)


@triton.jit
def surrogate(v, th, c0, c1, KIND: tl.constexpr, FP64: tl.constexpr):
    one = tl.full(v.shape, 1.0, v.dtype)
    nil = tl.zeros(v.shape, v.dtype)
    if KIND == 1:  # arctan
        y = c0 * (v - th)
        g = div(one, one + y * y, FP64) * c1
    elif KIND == 2:  # rectangle
        g = tl.where(tl.abs(v - th) < c0, one, nil) * c1
    elif KIND == 3:  # straight_through
        g = one
    elif KIND == 4:  # fast_sigmoid
        b = c0 * tl.abs(v - th) + one
        g = div(one, b * b, FP64)
    else:  # triangle; a NaN z stays NaN, as torch.clamp keeps it
        z = one - div(tl.abs(v - th), c0, FP64)
        g = c1 * tl.where(z < nil, nil, z)
    return g


@triton.jit
def forward_kernel(I, u_out, s_out, cnt, c, n, T, CONST: tl.constexpr, ZERO_RESET: tl.constexpr,
                   HAS_HI: tl.constexpr, STORE_U: tl.constexpr, STORE_S: tl.constexpr, COUNT: tl.constexpr,
                   FP64: tl.constexpr, BLOCK: tl.constexpr):
    k = tl.program_id(1).to(tl.int64)  # problems on the grid's second axis (at most 65535), columns on the first
    cols = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n
    gain, d, rb, lo, hi = tl.load(c), tl.load(c + 1), tl.load(c + 2), tl.load(c + 3), tl.load(c + 4)
    rows_in = 1 if CONST else T
    x = tl.load(I + (k * rows_in) * n + cols, mask=mask, other=0.0)
    u = x * gain
    if STORE_U:
        tl.store(u_out + (k * T) * n + cols, u, mask=mask)
    count = tl.zeros(u.shape, u.dtype)
    for t in range(1, T):
        if not CONST:
            x = tl.load(I + (k * T + t) * n + cols, mask=mask, other=0.0)
        sp = spike(u, lo, hi, HAS_HI)  # s[t-1]
        if STORE_S:
            tl.store(s_out + (k * T + t - 1) * n + cols, sp, mask=mask)
        if COUNT:  # exact: integers below 2**24
            count = count + sp
        if ZERO_RESET:
            u = (u * d) * (1.0 - sp) + x * gain
        else:
            u = ((u * d) - sp * rb) + x * gain
        if STORE_U:
            tl.store(u_out + (k * T + t) * n + cols, u, mask=mask)
    sp = spike(u, lo, hi, HAS_HI)
    if STORE_S:
        tl.store(s_out + (k * T + T - 1) * n + cols, sp, mask=mask)
    if COUNT:  # the rate: count / T, one correctly rounded division
        steps = tl.full(u.shape, T, u.dtype)
        tl.store(cnt + k * n + cols, div(count + sp, steps, FP64), mask=mask)


@triton.jit
def backward_kernel(go, u, g, gI, gs_out, c, n, T, KIND: tl.constexpr, ZERO_RESET: tl.constexpr,
                    DETACH: tl.constexpr, CONST: tl.constexpr, GO_CONST: tl.constexpr, WANT_GS: tl.constexpr,
                    HAS_HI: tl.constexpr, FP64: tl.constexpr, BLOCK: tl.constexpr):
    k = tl.program_id(1).to(tl.int64)  # problems on the grid's second axis (at most 65535), columns on the first
    cols = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n
    gain, d, rb, lo, hi = tl.load(c), tl.load(c + 1), tl.load(c + 2), tl.load(c + 3), tl.load(c + 4)
    th, c0, c1 = tl.load(c + 5), tl.load(c + 6), tl.load(c + 7)
    nxt = tl.zeros([BLOCK], gain.dtype)  # dL/du at t + 1 (0 beyond the last step)
    acc = tl.zeros([BLOCK], gain.dtype)
    for i in range(T):
        t = T - 1 - i
        last = t == T - 1
        row = (k * T + t) * n + cols
        gor = tl.load(go + ((k * n + cols) if GO_CONST else row), mask=mask, other=0.0)
        v = tl.load(u + row, mask=mask, other=0.0)
        if DETACH:
            gs = gor
        elif ZERO_RESET:
            gs = gor + (-(nxt * (v * d)))
        else:
            gs = gor + (-nxt) * rb
        gs = tl.where(last, gor, gs)  # nothing from beyond the last step (not even a -0 or a NaN)
        if WANT_GS:
            tl.store(gs_out + row, gs, mask=mask)
        if KIND == 0:
            gv = tl.load(g + row, mask=mask, other=0.0)
        else:
            gv = surrogate(v, th, c0, c1, KIND, FP64)
        if ZERO_RESET:
            nu = gs * gv + (nxt * (1.0 - spike(v, lo, hi, HAS_HI))) * d
        else:
            nu = gs * gv + nxt * d
        nu = tl.where(last, gs * gv, nu)
        nxt = nu
        if CONST:
            acc = acc + nu
        else:
            tl.store(gI + row, nu * gain, mask=mask)
    if CONST:
        tl.store(gI + k * n + cols, acc * gain, mask=mask)
