"""Resize geometry for the adapters, in exact rationals: what the reference's resize2d call
asks for (ONNX Resize's coordinate and rounding rules, read from the operator text) and
what each framework's documented rule gives, so an adapter runs a framework only where
the two agree on every output, and otherwise says why not.

Deliberately independent of ``reference``: an adapter that borrowed the reference's
coordinates could not catch a mistake in them.  Nothing here imports a framework.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

HALF = Fraction(1, 2)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a call: input length ``n``, output length ``m``, and the scale
    the reference's coordinates use (``m / n`` for ``size``, the given one for ``scale``)."""

    n: int
    m: int
    scale: Fraction
    by_size: bool

    @property
    def ratio_is_scale(self) -> bool:
        """True when the scale is exactly m / n (what size-only APIs use)."""
        return self.scale == Fraction(self.m, self.n)


def axes(x_shape, size=None, scale=None) -> tuple[Axis, Axis]:
    """The two spatial axes of ``resize2d(x, size=..., scale=...)``; the output length for
    a scale is floor(n * scale) with the product in float64 (torch, ONNX)."""
    found = []
    for a, n in enumerate(x_shape[2:]):
        if size is not None:
            m = size if isinstance(size, int) else size[a]
            found.append(Axis(n, int(m), Fraction(int(m), n), True))
        else:
            s = float(scale if isinstance(scale, (int, float)) else scale[a])
            found.append(Axis(n, math.floor(n * s), Fraction(s), False))
    return found[0], found[1]


def wanted_coordinates(axis: Axis, how: str) -> list[Fraction]:
    """The reference's source coordinate for each output index (ONNX Resize-18 text;
    tf_half_pixel_for_nn from Resize-11)."""
    n, m, s = axis.n, axis.m, axis.scale
    if how == "half_pixel" or (how == "pytorch_half_pixel" and m > 1):
        return half_pixel(m, s)
    if how == "pytorch_half_pixel":
        return [Fraction(0)]
    if how == "align_corners":
        return corners(n, m)
    if how == "asymmetric":
        return [i / s for i in range(m)]
    if how == "tf_half_pixel_for_nn":
        return [(i + HALF) / s for i in range(m)]
    raise ValueError(f"unknown coordinate_transformation_mode {how!r}")


def wanted_indices(axis: Axis, how: str, rule: str) -> list[int]:
    """The reference's nearest input index for each output index, clamped."""
    rounding = {
        "round_prefer_floor": lambda c: math.ceil(c - HALF),
        "round_prefer_ceil": lambda c: math.floor(c + HALF),
        "floor": math.floor,
        "ceil": math.ceil,
    }[rule]
    return [clamp(rounding(c), axis.n) for c in wanted_coordinates(axis, how)]


def half_pixel(m: int, scale: Fraction) -> list[Fraction]:
    """``(i + 1/2) / scale - 1/2``: half-pixel centres."""
    return [(i + HALF) / scale - HALF for i in range(m)]


def corners(n: int, m: int) -> list[Fraction]:
    """``i (n - 1) / (m - 1)``: corner pixels' centres aligned (0 for one output)."""
    return [Fraction(i * (n - 1), m - 1) if m > 1 else Fraction(0) for i in range(m)]


def clamp(index: int, n: int) -> int:
    return min(max(index, 0), n - 1)


def floor_indices(values, n: int) -> list[int]:
    return [clamp(math.floor(v), n) for v in values]


def outside_taps(axis: Axis, coords, mode: str, stretch: Fraction) -> bool:
    """Whether any output's kernel gives non-zero weight to a position outside
    ``[0, n)``: there, clamping the tap to the edge (ONNX, the reference) and dropping it
    and renormalising (PIL, torch's antialias, TensorFlow, JAX) disagree.  The tent
    ``max(0, 1 - |t|)`` and Keys' cubic (zero at |t| = 1 and 2) on ``t = stretch * d``."""
    radius = 1 if mode == "linear" else 2
    for c in coords:
        low = math.floor(c - radius / stretch)
        high = math.ceil(c + radius / stretch)
        for j in [*range(low, 0), *range(axis.n, high + 1)]:
            t = abs(stretch * (j - c))
            if t < radius and not (mode == "cubic" and t == 1):
                return True
    return False


def antialias_stretch(axis: Axis, antialias: bool) -> Fraction:
    """The kernel's stretch on this axis: ``min(scale, 1)`` with antialias, else 1."""
    return min(axis.scale, Fraction(1)) if antialias else Fraction(1)
