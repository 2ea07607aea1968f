"""Standardisation over a set of axes, shared by ``layernorm`` and ``groupnorm``.

``xhat = (x - mean) / sqrt(var + eps)`` with the mean and the *biased* variance (divided
by n, the number of values reduced) over ``axes``, computed in two passes (the mean,
then the mean of the centred squares), so that an offset input loses no precision.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_eps(eps) -> float:
    """``eps`` as a float; it must be a finite real number > 0 (with 0, a constant slice
    divides by zero)."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps):
        raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
    if not eps > 0:
        raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
    return float(eps)


def standardize(x: np.ndarray, axes: tuple[int, ...], eps: float):
    """``(xhat, inv_std)``; ``inv_std`` keeps the reduced axes (size 1)."""
    mean = np.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(np.square(centred), axis=axes, keepdims=True)
    inv_std = x.dtype.type(1) / np.sqrt(var + x.dtype.type(eps))
    centred *= inv_std  # in place: centred becomes xhat (one array less per call)
    return centred, inv_std


def standardize_backward(d_xhat, xhat, inv_std, axes: tuple[int, ...]) -> np.ndarray:
    """The VJP of ``standardize`` for ``d_xhat``:
    ``inv_std * (d - mean(d) - xhat * mean(d * xhat))``, means over ``axes``."""
    mean_d = np.mean(d_xhat, axis=axes, keepdims=True)
    mean_dx = np.mean(d_xhat * xhat, axis=axes, keepdims=True)
    d_x = d_xhat - mean_d
    d_x -= xhat * mean_dx
    d_x *= inv_std
    return d_x
