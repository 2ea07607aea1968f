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
"same" included.  ``ceil_mode`` follows torch.  With ``count_include_pad=False`` and no
override, a window of padding alone has no mean and raises ValueError.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import float_array
from reference._windows import Window2d, require_real_cell, window2d


def _prepare(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = float_array("x", x, ndim=4)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise ValueError(f"count_include_pad must be a bool, got {count_include_pad!r}")
    if divisor_override is not None and (
        not isinstance(divisor_override, numbers.Integral)
        or isinstance(divisor_override, bool)
        or divisor_override == 0
    ):
        raise ValueError(
            f"divisor_override must be a non-zero int or None, got {divisor_override!r}"
        )
    geometry = window2d(
        x.shape[2:],
        kernel_size=kernel_size,
        stride=kernel_size if stride is None else stride,
        padding=padding,
        ceil_mode=ceil_mode,
    )
    if not count_include_pad and divisor_override is None:
        require_real_cell(geometry, padding)
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
    return np.outer(np.asarray(rows, dtype=dtype), np.asarray(cols, dtype=dtype))


def _taps(geometry: Window2d):
    kh, kw = geometry.kernel
    for ky in range(kh):
        out_h, in_h = geometry.h.taps(ky)
        for kx in range(kw):
            out_w, in_w = geometry.w.taps(kx)
            yield (Ellipsis, out_h, out_w), (Ellipsis, in_h, in_w)


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
    for out_index, in_index in _taps(geometry):
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
    for out_index, in_index in _taps(geometry):
        grad_x[in_index] += share[out_index]
    return {"x": grad_x}
