"""Fully connected layer: ``y = x @ w + b``.

``x`` (..., in_features): any number of leading dims (a batch (N, in_features) is the
usual case; torch.nn.Linear and Keras Dense also act on the last axis).  Inputs with
more dims that should be flattened first (the seeds' Affine flattens (N, C, H, W)) go
through ``reference.flatten`` before this layer.
``w`` (in_features, out_features) as in the seeds' Affine and Keras Dense (torch stores
the transpose, (out_features, in_features)).  ``b`` (out_features,) or None.
Mixed input dtypes compute in ``np.result_type(x, w, b)``; float32 stays float32.
Empty dims work as in torch.nn.functional.linear: zero in_features give ``y = b``.
"""

from __future__ import annotations

import math

import numpy as np

from reference._checks import float_array, grad_out_array


def _prepare(x, w, b):
    x = float_array("x", x)
    w = float_array("w", w, ndim=2)
    if x.ndim < 1:
        raise ValueError(
            f"x must have at least 1 dimension (..., in_features), got shape {x.shape}"
        )
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x shape {x.shape} has {x.shape[-1]} in_features but w shape {w.shape} "
            f"expects {w.shape[0]} (w is (in_features, out_features))"
        )
    if b is not None:
        b = float_array("b", b, ndim=1)
        if b.shape != (w.shape[1],):
            raise ValueError(f"b shape {b.shape} does not match the {w.shape[1]} out_features of w")
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, dtype


def forward(x, w, b=None) -> np.ndarray:
    """``y`` (..., out_features)."""
    x, w, b, dtype = _prepare(x, w, b)
    y = x @ w
    return y if b is None else y + b.astype(dtype, copy=False)


def backward(grad_out, x, w, b=None) -> dict[str, np.ndarray]:
    """``{"x": g @ w.T, "w": x.T @ g, "b": sum of g over every leading dim}``, each in
    its input's shape and dtype; ``"b"`` only when ``b`` is given (as conv2d)."""
    x_in, w_in, b_in = x, w, b
    x, w, b, dtype = _prepare(x, w, b)
    g = grad_out_array(grad_out, (*x.shape[:-1], w.shape[1]), dtype)
    rows = math.prod(x.shape[:-1])  # explicit: with zero features -1 could not be inferred
    g2 = g.reshape(rows, w.shape[1])
    grads = {
        "x": _as(g @ w.T, x_in),
        "w": _as(x.reshape(rows, w.shape[0]).T @ g2, w_in),
    }
    if b is not None:
        grads["b"] = _as(g2.sum(axis=0), b_in)
    return grads


def _as(grad: np.ndarray, like) -> np.ndarray:
    """Gradient in its input's float dtype (integer inputs were promoted to float64)."""
    dtype = np.asarray(like).dtype
    return grad if not np.issubdtype(dtype, np.floating) else grad.astype(dtype, copy=False)
