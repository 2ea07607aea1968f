"""im2col / col2im: unfold every sliding window of an NCHW batch into columns, and back.

Public layout (the one seed 001's ``im2col`` uses, so its examples carry over):
``cols`` has shape ``(N * out_h * out_w, C * kh * kw)``; row ``(n * out_h + i) * out_w + j``
is the window of output pixel ``(i, j)`` of image ``n``; column ``(c * kh + ky) * kw + kx``
is channel ``c``, kernel tap ``(ky, kx)``, i.e. the order of a torch weight
``w.reshape(M, C * kh * kw)``.  A convolution is then ``cols @ w.reshape(M, -1).T``.

Tap ``(ky, kx)`` of output ``(i, j)`` reads input ``(i*sh + ky*dh - top, j*sw + kx*dw - left)``;
positions in the padding read ``fill_value`` (0 for convolution and average pooling,
``-inf`` for max pooling).  ``col2im`` is the adjoint of ``im2col`` with ``fill_value=0``:
it sums every column entry back onto the input cell it came from and drops padding.

The layers use the internal 6-D layout ``(C, kh, kw, N, out_h, out_w)`` (``unfold``/``fold``)
so that ``reshape(C*kh*kw, N*out_h*out_w)`` feeds one large BLAS matmul.
Python loops run over kernel taps only; each tap is one strided slice copy.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array
from reference._windows import Window2d, window2d


def unfold(x: np.ndarray, geometry: Window2d, fill_value: float = 0.0) -> np.ndarray:
    """Windows of ``x`` (N, C, H, W) as ``(C, kh, kw, N, out_h, out_w)``, in ``x.dtype``.

    Channel-and-tap major, so ``reshape(C*kh*kw, N*out_h*out_w)`` is the right operand of
    a single large matmul (one BLAS call threads well; one call per image does not).
    Only the padding borders of each tap are written with ``fill_value``; the padded
    input is never materialised.
    """
    n, c = x.shape[:2]
    kh, kw = geometry.kernel
    oh, ow = geometry.out
    cols = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    x_cn = x.transpose(1, 0, 2, 3)
    for ky in range(kh):
        out_h, in_h = geometry.h.taps(ky)
        for kx in range(kw):
            out_w, in_w = geometry.w.taps(kx)
            tap = cols[:, ky, kx]
            tap[..., out_h, out_w] = x_cn[..., in_h, in_w]
            # Whatever lies outside the real block of this tap reads padding.
            tap[..., : out_h.start, :] = fill_value
            tap[..., out_h.stop :, :] = fill_value
            tap[..., : out_w.start] = fill_value
            tap[..., out_w.stop :] = fill_value
    return cols


def fold(cols: np.ndarray, geometry: Window2d, shape: tuple[int, ...]) -> np.ndarray:
    """Adjoint of ``unfold``: ``(C, kh, kw, N, out_h, out_w)`` summed onto ``shape``
    (N, C, H, W); entries that sat in the padding are dropped."""
    out = np.zeros(shape, dtype=cols.dtype)
    out_cn = out.transpose(1, 0, 2, 3)
    kh, kw = geometry.kernel
    for ky in range(kh):
        out_h, in_h = geometry.h.taps(ky)
        for kx in range(kw):
            out_w, in_w = geometry.w.taps(kx)
            # Within one tap the input cells are distinct, so a slice-add is exact;
            # overlapping windows accumulate across taps.
            out_cn[..., in_h, in_w] += cols[:, ky, kx][..., out_h, out_w]
    return out


def im2col(
    x, kernel_size, *, stride=1, padding=0, dilation=1, fill_value: float = 0.0
) -> np.ndarray:
    """Windows of ``x`` (N, C, H, W) as a ``(N*out_h*out_w, C*kh*kw)`` matrix (seed 001 layout).

    ``padding`` takes every form the layers take (int, pair, per-side pairs, "valid",
    "same").  The result has ``x``'s float dtype.
    """
    x = float_array("x", x, ndim=4)
    geometry = window2d(
        x.shape[2:], kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    cols = unfold(x, geometry, fill_value)
    c, kh, kw, n, oh, ow = cols.shape
    return np.ascontiguousarray(cols.transpose(3, 4, 5, 0, 1, 2)).reshape(n * oh * ow, c * kh * kw)


def col2im(cols, x_shape, kernel_size, *, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Adjoint of ``im2col``: ``(N*out_h*out_w, C*kh*kw)`` back onto ``x_shape`` (N, C, H, W),
    summing overlapping windows and dropping padding."""
    cols = float_array("cols", cols, ndim=2)
    try:
        n, c, h, w = (int(v) for v in x_shape)
    except (TypeError, ValueError):
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape!r}") from None
    geometry = window2d(
        (h, w), kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    kh, kw = geometry.kernel
    oh, ow = geometry.out
    if cols.shape != (n * oh * ow, c * kh * kw):
        raise ValueError(
            f"cols shape {cols.shape} does not match x_shape {tuple(x_shape)!r} with these "
            f"windows: expected {(n * oh * ow, c * kh * kw)}"
        )
    cols6 = cols.reshape(n, oh, ow, c, kh, kw).transpose(3, 4, 5, 0, 1, 2)
    return fold(cols6, geometry, (n, c, h, w))
