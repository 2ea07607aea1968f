"""ELU, elementwise on any shape.

``y = x`` for x > 0 and ``alpha * (exp(x) - 1)`` otherwise, the latter as
``alpha * expm1(min(x, 0))``: accurate near 0 and no overflow for large positive x (the
exponential is only ever taken of non-positive numbers).  ``alpha`` (default 1.0, as in
torch.nn.ELU, keras.layers.ELU and jax.nn.elu) is any finite real; tf.nn.elu has no alpha
(it is 1).

Derivative: 1 for x > 0, ``alpha * exp(x)`` for x <= 0, so **at x == 0 it is
``alpha``** (the left branch), as torch.nn.ELU, keras.layers.ELU and jax.nn.elu give
(measured, torch 2.13 / Keras 3.15 / JAX 0.10.2); with alpha = 1 both branches give 1,
which is what tf.nn.elu gives.  NaN propagates.
"""

from __future__ import annotations

import numpy as np

from reference._activation import finite_real
from reference._checks import float_array, grad_out_array


def _prepare(x, alpha):
    return float_array("x", x), finite_real("alpha", alpha)


def forward(x, *, alpha=1.0) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x, alpha = _prepare(x, alpha)
    zero = x.dtype.type(0)
    return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, zero)))


def backward(grad_out, x, *, alpha=1.0) -> dict[str, np.ndarray]:
    """``{"x": grad_out where x > 0, else grad_out * alpha * exp(x)}``."""
    x, alpha = _prepare(x, alpha)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    left = x.dtype.type(alpha) * np.exp(np.minimum(x, x.dtype.type(0)))
    return {"x": np.where(x > 0, grad, grad * left)}
