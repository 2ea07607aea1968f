"""Hard swish, elementwise on any shape: ``y = x * relu6(x + 3) / 6`` (MobileNetV3).

Evaluated as ``x * (relu6(x + 3) / 6)``, so that ``x * 6`` never overflows and y is
exactly x for x >= 3 and exactly 0 (or -0) for x <= -3.

Derivative: 0 for x <= -3, ``(2x + 3) / 6`` for -3 < x < 3, 1 for x >= 3, so **0 at
x == -3 and 1 at x == 3** (the outer pieces; the middle piece would give -1/2 and 3/2),
as torch.nn.Hardswish, Keras 3's Activation("hard_swish") and jax.nn.hard_swish give
(measured, torch 2.13 / Keras 3.15 / JAX 0.10.2).  NaN propagates.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array


def forward(x) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x = float_array("x", x)
    t = x.dtype.type
    return x * (np.minimum(np.maximum(x + t(3), t(0)), t(6)) / t(6))


def backward(grad_out, x) -> dict[str, np.ndarray]:
    """``{"x": grad_out * (0 | (2x + 3) / 6 | 1)}`` by piece, kinks as stated above."""
    x = float_array("x", x)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    t = x.dtype.type
    # x clipped first, so that 2x cannot overflow; where, not a product, so that a NaN or
    # Inf grad_out on the flat piece still gives 0.
    middle = (t(2) * np.clip(x, t(-3), t(3)) + t(3)) / t(6)
    return {"x": np.where(x >= 3, grad, np.where(x > -3, grad * middle, t(0)))}
