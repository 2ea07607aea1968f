"""2-D adaptive average pooling, NCHW, with torch's windows.

``forward(x, *, output_size)``: ``output_size`` is an int or ``(out_h, out_w)``, each
>= 1 (it may exceed the input size).  Output cell ``(i, j)`` is the mean of the
window ``rows[i] x cols[j]`` with ``rows[i] = [floor(i*H/out_h), ceil((i+1)*H/out_h))``
and likewise for the columns (``reference._adaptive``).  When the sizes do not divide,
neighbouring windows overlap and have different lengths: no fixed kernel and stride
(avgpool2d) gives these windows.

The window sums are taken rows first, then columns (the mean is separable), and
divided by the window's cell count; each sum adds the window's own cells only, so a
NaN or Inf reaches only the windows that contain it.  Backward spreads ``grad_out /
count`` over each window's cells; overlapping windows accumulate.
"""

from __future__ import annotations

import numpy as np

from reference import _adaptive
from reference._checks import grad_out_array


def _counts(rows, cols, dtype) -> np.ndarray:
    lengths_h = np.array([end - start for start, end in rows], dtype=dtype)
    lengths_w = np.array([end - start for start, end in cols], dtype=dtype)
    return np.outer(lengths_h, lengths_w)


def forward(x, *, output_size) -> np.ndarray:
    """``y`` (N, C, out_h, out_w) in ``x``'s float dtype."""
    x, rows, cols = _adaptive.prepare(x, output_size)
    by_rows = np.stack([x[:, :, start:end].sum(axis=2) for start, end in rows], axis=2)
    sums = np.stack([by_rows[..., start:end].sum(axis=3) for start, end in cols], axis=3)
    return sums / _counts(rows, cols, x.dtype)


def backward(grad_out, x, *, output_size) -> dict[str, np.ndarray]:
    """``{"x": dL/dx}`` with ``x``'s shape and dtype."""
    x, rows, cols = _adaptive.prepare(x, output_size)
    g = grad_out_array(grad_out, _adaptive.grad_out_shape(x, rows, cols), x.dtype)
    share = g / _counts(rows, cols, x.dtype)
    # Columns first: (N, C, out_h, W), then rows: (N, C, H, W).
    by_cols = np.zeros((*share.shape[:3], x.shape[3]), dtype=x.dtype)
    for j, (start, end) in enumerate(cols):
        by_cols[..., start:end] += share[..., j : j + 1]
    grad_x = np.zeros_like(x)
    for i, (start, end) in enumerate(rows):
        grad_x[:, :, start:end] += by_cols[:, :, i : i + 1]
    return {"x": grad_x}
