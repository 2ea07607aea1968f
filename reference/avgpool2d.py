"""2-D average pooling, NCHW.

``forward(x, *, kernel_size, stride=None, padding=0, ceil_mode=False,
count_include_pad=True, divisor_override=None)``: ``y[n, c, i, j]`` is the sum of the real
cells of window ``(i, j)`` divided by

- ``divisor_override`` when given (a non-zero int, as torch allows);
- else, with ``count_include_pad=True`` (torch's default), the window size counting padding
  but not the ``ceil_mode`` overhang beyond it: per axis
  ``min(start + k, size + pad_after) - start`` (torch, aten/src/ATen/native/cpu/AvgPoolKernel.cpp);
- else (``count_include_pad=False``, TF SAME semantics) the number of real cells.

``stride`` defaults to ``kernel_size``; ``padding`` takes every form conv2d takes,
"same" included.  ``ceil_mode`` follows torch.  Every window must hold a real cell, or
ValueError: torch refuses padding > kernel_size / 2 (which rules such windows out) and
TF/Keras pad by SAME only, so no framework's average-pooling layer averages padding
alone; with ``count_include_pad=False`` its mean is undefined anyway.  The cost follows
the taps that touch the input (``Window2d.pairs``), never the padding.

Empty inputs follow torch: an empty batch gives an empty output; an empty channel,
height or width axis raises ValueError.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import flag, float_array, nonempty_feature_map
from reference._windows import Window2d, window2d

#: torch's divisor_override is an int64 (``std::optional<int64_t>`` in AvgPool2d).
_INT64_MAX = 2**63 - 1


def _prepare(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = float_array("x", x, ndim=4)
    nonempty_feature_map("x", x)
    count_include_pad = flag("count_include_pad", count_include_pad)
    if divisor_override is not None and (
        not isinstance(divisor_override, numbers.Integral)
        or isinstance(divisor_override, bool)
        or divisor_override == 0
        or abs(divisor_override) > _INT64_MAX
    ):
        raise ValueError(
            f"divisor_override must be a non-zero int64 or None, got {divisor_override!r}"
        )
    geometry = window2d(
        x.shape[2:],
        kernel_size=kernel_size,
        stride=kernel_size if stride is None else stride,
        padding=padding,
        ceil_mode=ceil_mode,
        every_window_real=True,
    )
    divisor = _divisor(geometry, count_include_pad, divisor_override, x.dtype)
    return x, geometry, divisor


def _divisor(geometry: Window2d, count_include_pad, divisor_override, dtype) -> np.ndarray:
    """Divisor per output pixel, (out_h, out_w); windows are rectangles, so it factorises."""
    if divisor_override is not None:
        return np.full(geometry.out, divisor_override, dtype=dtype)
    if count_include_pad:
        rows, cols = geometry.h.clipped_extents(), geometry.w.clipped_extents()
    else:
        rows, cols = geometry.h.real_counts(), geometry.w.real_counts()
    return np.outer(rows.astype(dtype), cols.astype(dtype))


def forward(
    x,
    *,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> np.ndarray:
    """``y`` (N, C, out_h, out_w) in ``x``'s float dtype."""
    x, geometry, divisor = _prepare(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    total = np.zeros((*x.shape[:2], *geometry.out), dtype=x.dtype)
    for out_index, in_index in geometry.pairs():
        total[out_index] += x[in_index]
    total /= divisor
    return total


def backward(
    grad_out,
    x,
    *,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> dict[str, np.ndarray]:
    """``{"x": dL/dx}``: each window spreads ``grad_out / divisor`` over its real cells."""
    x, geometry, divisor = _prepare(
        x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    grad_out = float_array("grad_out", grad_out, ndim=4)
    want = (*x.shape[:2], *geometry.out)
    if grad_out.shape != want:
        raise ValueError(f"grad_out shape {grad_out.shape} does not match the output shape {want}")
    share = grad_out.astype(x.dtype, copy=False) / divisor
    grad_x = np.zeros_like(x)
    spread = geometry.broadcast_axes  # cell-major axes: one cell, many windows
    for out_index, in_index in geometry.pairs():
        part = share[out_index]
        grad_x[in_index] += part.sum(axis=spread, keepdims=True) if spread else part
    return {"x": grad_x}
