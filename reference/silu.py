"""SiLU (swish with beta = 1), elementwise on any shape: ``y = x * sigmoid(x)``.

The sigmoid is the stable one of ``reference.sigmoid`` (no overflow for any finite x,
tiny values keep their relative precision).  SiLU is smooth: there is no kink.
Derivative ``sigmoid(x) * (1 + x * sigmoid(-x))``, with ``1 - sigmoid(x)`` taken as
``sigmoid(-x)`` so that it does not cancel for large x.  NaN propagates.
"""

from __future__ import annotations

import numpy as np

from reference._activation import stable_sigmoid
from reference._checks import float_array, grad_out_array


def forward(x) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x = float_array("x", x)
    return x * stable_sigmoid(x)


def backward(grad_out, x) -> dict[str, np.ndarray]:
    """``{"x": grad_out * sigmoid(x) * (1 + x * sigmoid(-x))}``."""
    x = float_array("x", x)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    # For |x| beyond ~1e300 the product x * sigmoid(-x) is 0 * big (never inf * 0): the
    # sigmoid underflows to exactly 0 long before x overflows.
    return {"x": grad * stable_sigmoid(x) * (x.dtype.type(1) + x * stable_sigmoid(-x))}
