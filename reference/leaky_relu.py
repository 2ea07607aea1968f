"""Leaky ReLU, elementwise on any shape.

``y = x`` for x > 0 and ``negative_slope * x`` otherwise.  ``negative_slope`` has no
default because the frameworks' defaults differ: 0.01 in torch.nn.LeakyReLU,
jax.nn.leaky_relu and ONNX; 0.2 in tf.nn.leaky_relu and keras.ops / keras.activations;
0.3 in the keras.layers.LeakyReLU layer (pytorch/pytorch#10349).  Any finite real slope
is accepted (torch and Keras take negative ones and ones above 1).

Derivative: 1 for x > 0, ``negative_slope`` for x <= 0, so **at x == 0 it is
``negative_slope``**, as torch.nn.LeakyReLU, tf.nn.leaky_relu and Keras' LeakyReLU give
(measured, torch 2.13 / TF 2.21 / Keras 3.15).  jax.nn.leaky_relu, written
``where(x >= 0, x, negative_slope * x)``, gives 1 there: a documented convention
difference (tests/conventions, row ``leaky_relu_grad_at_zero``).  NaN propagates.
"""

from __future__ import annotations

import numpy as np

from reference._activation import finite_real
from reference._checks import float_array, grad_out_array


def _prepare(x, negative_slope):
    return float_array("x", x), finite_real("negative_slope", negative_slope)


def forward(x, *, negative_slope) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x, slope = _prepare(x, negative_slope)
    # The slope is rounded once to x's dtype, as a framework's scalar attribute is.
    return np.where(x > 0, x, x.dtype.type(slope) * x)


def backward(grad_out, x, *, negative_slope) -> dict[str, np.ndarray]:
    """``{"x": grad_out where x > 0, else negative_slope * grad_out}``."""
    x, slope = _prepare(x, negative_slope)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    return {"x": np.where(x > 0, grad, x.dtype.type(slope) * grad)}
