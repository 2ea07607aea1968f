"""ReLU, elementwise on any shape.

``y = max(x, 0)``.  The derivative at 0 is taken as 0 (torch, TF and JAX all do this).
NaN propagates through the forward pass (``np.maximum`` keeps NaN, unlike a
``where(x > 0, ...)`` that would silently turn it into 0).  The gradient at a NaN input
is 0, as in TF, Keras and JAX; torch passes ``grad_out`` through there (conventions row
relu_grad_at_nan).
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array


def forward(x) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x = float_array("x", x)
    return np.maximum(x, x.dtype.type(0))


def backward(grad_out, x) -> dict[str, np.ndarray]:
    """``{"x": grad_out where x > 0, else 0}``."""
    x = float_array("x", x)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    # where, not a product: a NaN/Inf grad_out on an inactive unit must still give 0.
    return {"x": np.where(x > 0, grad, x.dtype.type(0))}
