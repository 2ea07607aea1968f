"""ReLU6, elementwise on any shape: ``y = min(max(x, 0), 6)`` (MobileNet's clipped ReLU).

Derivative: 1 for 0 < x < 6 and 0 elsewhere, so **0 at both kinks, x == 0 and x == 6**,
as torch.nn.ReLU6, tf.nn.relu6, Keras' Activation("relu6") / ReLU(max_value=6) and
jax.nn.relu6 all give (measured, torch 2.13 / TF 2.21 / Keras 3.15 / JAX 0.10.2).
NaN propagates (``np.minimum`` / ``np.maximum`` keep it).
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array


def forward(x) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x = float_array("x", x)
    t = x.dtype.type
    return np.minimum(np.maximum(x, t(0)), t(6))


def backward(grad_out, x) -> dict[str, np.ndarray]:
    """``{"x": grad_out where 0 < x < 6, else 0}``."""
    x = float_array("x", x)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    # where, not a product: a NaN/Inf grad_out on a clipped unit must still give 0.
    return {"x": np.where((x > 0) & (x < 6), grad, x.dtype.type(0))}
