"""Round a tensor to a boolgrad format, in torch, exactly as ``fmt.decode(fmt.encode(x))``.

* fixed point: ``clamp(round(x 2**F), int_min, int_max) 2**-F`` (ties to even, saturating);
  NaN stays NaN (it has no pattern).
* floating point: round to nearest even with ``M`` mantissa bits, gradual underflow below
  ``2**(1 - bias)``; overflow to ``+-inf`` (``ieee``) or NaN (``fn``, as ml_dtypes does).

The result is float64 by default (every value of a format of at most 53 significant bits is
exact there).  float32 inputs rounded to float16/bfloat16 use torch's own conversion (also
round-to-nearest-even, one rounding); every other case uses the frexp/ldexp route below, which
rounds once from the float64 value.  Both are tested against ``fmt.encode`` pattern for pattern.
"""

from __future__ import annotations

import torch

from boolgrad import parse_format
from boolgrad.formats import FixedFormat, FloatFormat

__all__ = ["quantize"]

_NATIVE = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def quantize(x: torch.Tensor, fmt, *, dtype=torch.float64) -> torch.Tensor:
    """``x`` rounded to the values of ``fmt`` (module doc), as ``dtype``."""
    fmt = parse_format(fmt)
    if isinstance(fmt, FixedFormat):
        return _fixed(x, fmt).to(dtype)
    native = _NATIVE.get(fmt.name)
    if native is not None and x.dtype in (torch.float32, native):
        return x.to(native).to(dtype)
    return _float(x, fmt).to(dtype)


def _fixed(x: torch.Tensor, fmt: FixedFormat) -> torch.Tensor:
    a = torch.ldexp(x.to(torch.float64), torch.tensor(fmt.frac, dtype=torch.int32, device=x.device))
    r = torch.round(a).clamp_(float(fmt.int_min), float(fmt.int_max)).add_(0.0)  # -0 -> +0
    return torch.ldexp(r, torch.tensor(-fmt.frac, dtype=torch.int32, device=x.device))


def _float(x: torch.Tensor, fmt: FloatFormat) -> torch.Tensor:
    x = x.to(torch.float64)
    a = x.abs()
    _, ex = torch.frexp(a)  # a = f 2**ex, 0.5 <= f < 1 (ex = 0 for a = 0)
    emin = 1 - fmt.bias
    q = torch.clamp(ex - 1, min=emin) - fmt.man_bits  # exponent of one ulp at a
    v = torch.ldexp(torch.round(torch.ldexp(a, -q)), q)  # scalings by 2**k are exact
    over = v > fmt.max_finite
    v = v.masked_fill_(over, float("inf") if fmt.has_inf else float("nan"))
    return torch.copysign(v, x)
