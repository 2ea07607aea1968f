"""Hard sigmoid, elementwise on any shape: ``y = clip(slope * x + offset, 0, 1)``.

The defaults ``slope=1/6, offset=0.5`` are ``relu6(x + 3) / 6``: torch.nn.Hardsigmoid,
jax.nn.hard_sigmoid and Keras 3's hard_sigmoid (tensorflow/tensorflow#65381).
``slope=0.2`` is Keras 2's (tf.keras <= 2.15) ``0.2 * x + 0.5`` (and ONNX HardSigmoid's
default alpha).  Any finite real slope and offset are accepted.

Derivative: ``slope`` where ``0 < slope * x + offset < 1`` and 0 elsewhere, so **0 at
both kinks** (x = -3 and x = 3 for the defaults, where ``slope * x + offset`` is exactly
0 and 1), as torch.nn.Hardsigmoid, Keras 3's Activation("hard_sigmoid") and
jax.nn.hard_sigmoid give (measured, torch 2.13 / Keras 3.15 / JAX 0.10.2).
NaN propagates.
"""

from __future__ import annotations

import numpy as np

from reference._activation import finite_real
from reference._checks import float_array, grad_out_array


def _linear(x, slope, offset):
    x = float_array("x", x)
    slope, offset = finite_real("slope", slope), finite_real("offset", offset)
    t = x.dtype.type
    # An overflow to +-inf (|slope * x| beyond the dtype's range) clips to the right 0 or 1.
    with np.errstate(over="ignore"):
        return x, t(slope), t(slope) * x + t(offset)


def forward(x, *, slope=1 / 6, offset=0.5) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    _, _, z = _linear(x, slope, offset)
    t = z.dtype.type
    return np.minimum(np.maximum(z, t(0)), t(1))


def backward(grad_out, x, *, slope=1 / 6, offset=0.5) -> dict[str, np.ndarray]:
    """``{"x": slope * grad_out where 0 < slope * x + offset < 1, else 0}``."""
    x, slope, z = _linear(x, slope, offset)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    return {"x": np.where((z > 0) & (z < 1), slope * grad, x.dtype.type(0))}
