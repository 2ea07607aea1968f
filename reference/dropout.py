"""Inverted dropout with an injected mask, on any shape.

Training: ``y = x * mask / (1 - p)`` (kept units are scaled up so the expectation is
unchanged, as torch.nn.Dropout and Keras Dropout do); not training: ``y = x``.
``mask`` has the shape of ``x``: bool (True keeps the unit) or 0/1 numbers.  Frameworks
draw the mask from their own RNG, so the reference takes it as an input to make the
comparison deterministic.  ``p`` is the drop probability, in [0, 1) (p = 1 would
divide by zero).  ``mask`` may be None only when not training.

A dropped unit is ``x * 0`` in every dtype (0, or NaN for an infinite or NaN ``x``, as
torch's ``input * mask * scale``).  float16 scales in float32 and rounds once, as torch
computes half-precision arithmetic: ``1 - p`` may be below float16's smallest normal
(p = 1 - 1e-8 rounds it to 0), and a kept unit then overflows to inf, as in torch.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import as_array, flag, float_array, grad_out_array


def _prepare(x, p, mask, training):
    x = float_array("x", x)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"p must be a real number in [0, 1), got {p!r}")
    flag("training", training)
    if mask is None:
        if training:
            raise ValueError("mask is None, but training=True needs a mask")
        return x, None
    mask = as_array("mask", mask)
    if mask.shape != x.shape:
        raise ValueError(f"mask shape {mask.shape} does not match x shape {x.shape}")
    if mask.dtype != np.bool_:
        if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
            raise ValueError(f"mask must be bool or 0/1 numbers, got dtype {mask.dtype}")
        bad = (mask != 0) & (mask != 1)
        if np.any(bad):
            raise ValueError(f"mask values must be 0 or 1, got {mask[bad].flat[0].item()!r}")
    return x, mask != 0


def _apply(v: np.ndarray, keep: np.ndarray, p) -> np.ndarray:
    # Multiplying by 0/1 is exact; 1 - p is formed in double, then rounded once to the
    # dtype (as a framework scalar would be), and the division rounds once more.
    if v.dtype.itemsize < 4:  # float16: in float32, rounded once (1 - p may be subnormal)
        with np.errstate(over="ignore"):  # a kept unit may overflow to inf, as in torch
            return _apply(v.astype(np.float32), keep, p).astype(v.dtype)
    return v * keep.astype(v.dtype) / v.dtype.type(1 - p)


def forward(x, *, p, mask, training=True) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x, keep = _prepare(x, p, mask, training)
    return _apply(x, keep, p) if training else x.copy()


def backward(grad_out, x, *, p, mask, training=True) -> dict[str, np.ndarray]:
    """``{"x": grad_out * mask / (1 - p)}`` in training, ``grad_out`` otherwise."""
    x, keep = _prepare(x, p, mask, training)
    g = grad_out_array(grad_out, x.shape, x.dtype)
    return {"x": _apply(g, keep, p) if training else g.copy()}
