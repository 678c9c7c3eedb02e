"""Named Boolean spike setups: ``boolgrad.torch.boolean_spike(name, theta)``.

A preset fixes everything but theta: the table's format and convention (spec §5), the
forward's comparator (spec §2) and the scaling (:mod:`boolgrad.rules.scalings`).

* ``yoo_jeong2025`` -- Yoo & Jeong 2025, training code (yoees/True_gradient, ``functions.py``):
  float32 patterns, the ``1/D_i`` terms without the top exponent bit (``paper`` convention),
  ``clamp(sum, 0, 500) / 500`` (``clamp01`` at 500), forward ``u.gt(thresh)`` (``gt``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .scalings import CLAMP01, check_grad_max, get_scaling

__all__ = ["SPIKE_PRESETS", "YOO_JEONG2025", "SpikePreset"]


@dataclass(frozen=True)
class SpikePreset:
    """One named setup: the keyword arguments of ``boolean_spike`` that it fixes."""

    name: str
    format: str
    convention: str
    comparator: str
    scale: str
    grad_max: float

    def __post_init__(self):
        get_scaling(self.scale)
        check_grad_max(self.grad_max)

    def options(self) -> dict:
        """``{format, convention, comparator, scale, grad_max}``."""
        out = asdict(self)
        del out["name"]
        return out


YOO_JEONG2025 = SpikePreset(
    "yoo_jeong2025", format="float32", convention="paper", comparator="gt", scale=CLAMP01, grad_max=500.0
)

#: name -> :class:`SpikePreset`
SPIKE_PRESETS = {p.name: p for p in (YOO_JEONG2025,)}
