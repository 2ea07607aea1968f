"""Flatten, as torch.nn.Flatten(start_dim, end_dim=-1): dims ``start_dim..`` are merged
into one in C (row-major) order, so an NCHW input flattens channel-major.

Keras Flatten on NHWC flattens (H, W, C) instead; adapters transpose to NCHW first.
``start_dim`` may be negative (counted from the end).
"""

from __future__ import annotations

import numpy as np

from reference._checks import axis_index, float_array, grad_out_array


def _out_shape(x: np.ndarray, start_dim) -> tuple[int, ...]:
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got shape {x.shape}")
    start = axis_index("start_dim", start_dim, x.ndim)
    return (*x.shape[:start], int(np.prod(x.shape[start:])))


def forward(x, *, start_dim=1) -> np.ndarray:
    """``x`` reshaped to ``x.shape[:start_dim] + (prod(x.shape[start_dim:]),)``."""
    x = float_array("x", x)
    return x.reshape(_out_shape(x, start_dim))


def backward(grad_out, x, *, start_dim=1) -> dict[str, np.ndarray]:
    """``{"x": grad_out reshaped to x.shape}``."""
    x = float_array("x", x)
    grad = grad_out_array(grad_out, _out_shape(x, start_dim), x.dtype)
    return {"x": grad.reshape(x.shape)}
