"""Helpers the activation layers of issue 17 share (leaky_relu, elu, gelu, silu, relu6,
hardsigmoid, hardswish): the check of a real attribute, and a sigmoid that neither
overflows nor loses the relative precision of small values."""

from __future__ import annotations

import math
import numbers

import numpy as np


def finite_real(name: str, value) -> float:
    """``value`` as a Python float; ``ValueError`` naming ``name`` unless it is a finite
    real number (bools, strings, arrays, NaN and infinities are refused)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
    ):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` as ``1 / (1 + e)`` for z >= 0 and ``e / (1 + e)`` for z < 0,
    ``e = exp(-|z|) <= 1``: no overflow, and tiny outputs keep their relative precision."""
    e = np.exp(-np.abs(z))
    one = z.dtype.type(1)
    return np.where(z >= 0, one / (one + e), e / (one + e))
