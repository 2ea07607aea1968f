"""2-D adaptive max pooling, NCHW, with torch's windows (see adaptive_avgpool2d).

``forward(x, *, output_size)``: output cell ``(i, j)`` is the maximum of its window
``rows[i] x cols[j]`` (``reference._adaptive``); a window holding NaN gives NaN.

Backward: each window sends its gradient to one cell, the first maximum in row-major
window order, as maxpool2d does (torch's CPU kernel keeps the first strictly larger
value); a window holding NaN sends it to its first NaN.  Overlapping windows (sizes
that do not divide) accumulate.
"""

from __future__ import annotations

import numpy as np

from reference import _adaptive
from reference._checks import grad_out_array


def _windows(x, rows, cols):
    """Each window flattened row-major: ``(i, j, (r0, c0, width), (N, C, cells))``."""
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            yield i, j, (r0, c0, c1 - c0), x[:, :, r0:r1, c0:c1].reshape(*x.shape[:2], -1)


def forward(x, *, output_size) -> np.ndarray:
    """``y`` (N, C, out_h, out_w) in ``x``'s float dtype."""
    x, rows, cols = _adaptive.prepare(x, output_size)
    y = np.empty(_adaptive.grad_out_shape(x, rows, cols), dtype=x.dtype)
    for i, j, _, cells in _windows(x, rows, cols):
        y[:, :, i, j] = cells.max(axis=2)  # NaN propagates
    return y


def backward(grad_out, x, *, output_size) -> dict[str, np.ndarray]:
    """``{"x": dL/dx}`` with ``x``'s shape and dtype."""
    x, rows, cols = _adaptive.prepare(x, output_size)
    g = grad_out_array(grad_out, _adaptive.grad_out_shape(x, rows, cols), x.dtype)
    grad_x = np.zeros_like(x)
    n_idx, c_idx = np.indices(x.shape[:2])
    for i, j, (r0, c0, width), cells in _windows(x, rows, cols):
        first = cells.argmax(axis=2)  # the first maximum; the first NaN if any (NumPy)
        # Each (n, c) picks one cell per window: no index repeats within this add.
        grad_x[n_idx, c_idx, r0 + first // width, c0 + first % width] += g[:, :, i, j]
    return {"x": grad_x}
