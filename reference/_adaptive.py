"""Adaptive pooling windows (torch's), shared by adaptive_avgpool2d and adaptive_maxpool2d.

On an axis of ``size`` cells pooled to ``out`` cells, window ``i`` is the half-open range
``[floor(i*size/out), ceil((i+1)*size/out))`` (torch, aten/src/ATen/native/
AdaptiveAveragePooling.cpp ``start_index`` / ``end_index``).  The windows cover every
cell; when ``out`` does not divide ``size`` neighbouring windows can overlap by a cell
and their lengths differ by one.  ``out`` may exceed ``size`` (cells then repeat).
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array
from reference._windows import pair


def windows(size: int, out: int) -> list[tuple[int, int]]:
    """``(start, end)`` of every window along one axis, integer arithmetic only."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def prepare(x, output_size):
    """``x`` as a 4-D float array and the windows of both axes."""
    x = float_array("x", x, ndim=4)
    out_h, out_w = pair("output_size", output_size)
    if min(x.shape[2:]) < 1:
        raise ValueError(f"x shape {x.shape} has an empty spatial axis: nothing to pool")
    return x, windows(x.shape[2], out_h), windows(x.shape[3], out_w)


def grad_out_shape(x: np.ndarray, rows, cols) -> tuple[int, ...]:
    return (*x.shape[:2], len(rows), len(cols))
