"""Softmax along one axis: ``y = exp(x - max) / sum(exp(x - max))``.

Subtracting the maximum along ``axis`` keeps exp <= 1, so logits of 1e4 neither
overflow nor warn.  NaN in a slice makes that whole slice NaN (IEEE, as torch does);
it is never masked.  An empty ``x`` gives an empty result, as in torch.
"""

from __future__ import annotations

import numpy as np

from reference._checks import axis_index, float_array, grad_out_array


def forward(x, *, axis=-1) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``; each slice along ``axis`` sums
    to 1."""
    x = float_array("x", x)
    if x.ndim < 1:
        raise ValueError(f"x must have at least 1 dimension, got shape {x.shape}")
    axis = axis_index("axis", axis, x.ndim)
    if x.size == 0:
        return x.copy()  # no slice to normalise (np.max has no identity)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def backward(grad_out, x, *, axis=-1) -> dict[str, np.ndarray]:
    """``{"x": s * (g - sum(g * s, axis))}`` with ``s = forward(x)``."""
    x = float_array("x", x)
    s = forward(x, axis=axis)
    g = grad_out_array(grad_out, x.shape, x.dtype)
    axis = axis_index("axis", axis, x.ndim)
    return {"x": s * (g - np.sum(g * s, axis=axis, keepdims=True))}
