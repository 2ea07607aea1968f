"""GELU, elementwise on any shape: ``y = x * Phi(x)``, Phi the standard normal CDF.

``approximate="none"`` (the default, as in torch.nn.GELU, tf.nn.gelu and
keras.activations.gelu): ``Phi(x) = erfc(-x / sqrt(2)) / 2``.  NumPy has no error
function, so erfc is the standard library's ``math.erfc``, evaluated in double precision
elementwise and rounded to x's dtype.  erfc rather than ``1 + erf``: for negative x the
sum cancels (x = -10 would give 0 instead of -7.6e-23).

``approximate="tanh"`` (torch's ``approximate='tanh'``, tf.nn.gelu(approximate=True),
and the default of jax.nn.gelu and keras.ops.gelu; jax-ml/jax#4428): Hendrycks &
Gimpel's ``0.5 x (1 + tanh(u))``, ``u = sqrt(2/pi) (x + 0.044715 x^3)``, evaluated as
``x * sigmoid(2u)`` (the same number, without the cancellation of ``1 + tanh(u)`` for
negative x).  ``u`` is formed from x clipped to [-25, 25]: beyond, sigmoid(2u) is exactly
1 or 0 in every float dtype (2u(25) = 1155), and x^3 could overflow.

GELU is smooth: there is no kink.  Derivatives: ``Phi(x) + x phi(x)`` ("none", phi the
normal density, whose x is clipped to [-40, 40] where phi is 0 to double precision) and
``s + 2 x s (1 - s) u'(x)``, ``s = sigmoid(2u)``, ``u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)``
("tanh").  No overflow warning for any finite x; NaN propagates.
"""

from __future__ import annotations

import math

import numpy as np

from reference._activation import stable_sigmoid
from reference._checks import float_array, grad_out_array, one_of

APPROXIMATIONS = ("none", "tanh")
_ERFC = np.frompyfunc(math.erfc, 1, 1)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715
_TANH_SATURATES = 25.0
_PDF_VANISHES = 40.0


def _prepare(x, approximate):
    return float_array("x", x), one_of("approximate", approximate, APPROXIMATIONS)


def _cdf(x: np.ndarray) -> np.ndarray:
    """``Phi(x) = erfc(-x / sqrt(2)) / 2`` in double, rounded to x's dtype."""
    z = -np.asarray(x, dtype=np.float64) * math.sqrt(0.5)
    return (0.5 * _ERFC(z).astype(np.float64)).astype(x.dtype)


def _tanh_parts(x: np.ndarray):
    """``(xc, 2u, u')`` for the tanh form: x clipped, then 2u and du/dx from it."""
    t = x.dtype.type
    xc = np.clip(x, t(-_TANH_SATURATES), t(_TANH_SATURATES))
    square = xc * xc
    two_u = t(2 * _SQRT_2_OVER_PI) * xc * (t(1) + t(_CUBIC) * square)
    du = t(_SQRT_2_OVER_PI) * (t(1) + t(3 * _CUBIC) * square)
    return xc, two_u, du


def forward(x, *, approximate="none") -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    x, approximate = _prepare(x, approximate)
    if approximate == "none":
        return x * _cdf(x)
    _, two_u, _ = _tanh_parts(x)
    return x * stable_sigmoid(two_u)


def backward(grad_out, x, *, approximate="none") -> dict[str, np.ndarray]:
    """``{"x": grad_out * gelu'(x)}`` (the derivative of the chosen form)."""
    x, approximate = _prepare(x, approximate)
    grad = grad_out_array(grad_out, x.shape, x.dtype)
    t = x.dtype.type
    if approximate == "none":
        xc = np.clip(x, t(-_PDF_VANISHES), t(_PDF_VANISHES))
        pdf = np.exp(t(-0.5) * xc * xc) * t(1.0 / math.sqrt(2.0 * math.pi))
        return {"x": grad * (_cdf(x) + xc * pdf)}
    xc, two_u, du = _tanh_parts(x)
    # 1 - s as sigmoid(-2u): no cancellation where s is near 1.
    s, one_minus_s = stable_sigmoid(two_u), stable_sigmoid(-two_u)
    return {"x": grad * (s + t(2) * xc * s * one_minus_s * du)}
