"""2-D convolution (cross-correlation, as in every framework), NCHW.

``x`` (N, C, H, W); ``w`` (M, C/groups, kh, kw) as in torch; ``b`` (M,) or None.
``y[n, m, i, j] = b[m] + sum_{c in group(m), ky, kx} w[m, c, ky, kx] *
x[n, g*C/groups + c, i*sh + ky*dh - top, j*sw + kx*dw - left]`` with zeros outside the input.
``padding`` is an int, (ph, pw), ((top, bottom), (left, right)), "valid" or "same"
(TF SAME_UPPER, see ``reference._windows``).

Two forward paths compute the same sums in different orders:

- ``forward_im2col`` (the plain one, also used for strided convolutions): one im2col
  buffer (C*kh*kw, N*out_h*out_w) per group and one BLAS matmul per group; the
  (M, N, ...) product is then copied to NCHW with the bias added.
- ``forward`` at stride 1 (``_forward_rows``), unless the padded image would dwarf the
  image and the output (then im2col): a few images at a time, each padded into
  a reused buffer with row stride ``Wp`` and flattened row-major, so that kernel tap
  (ky, kx) of every output pixel is the padded image shifted by ``ky*dh*Wp + kx*dw``
  elements: the im2col block of an image is kh*kw contiguous runs of out_h*Wp elements,
  copied as long runs.  The GEMM computes Wp - out_w extra columns per output row
  (windows that wrap around the row) and the copy to NCHW drops them.  A row's right
  padding and the next row's left padding are the same zeros, so ``Wp`` is
  ``W + max(left, right)`` (or out_w, if larger) rather than ``W + left + right``.
  Chunks keep the buffers cache-sized, so this path's peak extra memory is the output
  plus a few MiB whatever the batch (two images' im2col blocks when a single image's is
  larger than that).  ``tests/reference/test_conv2d_paths.py`` holds it to
  ``forward_im2col``.

Mixed input dtypes compute in ``np.result_type(x, w, b)``; float32 stays float32.

Empty inputs follow torch where torch answers: an empty batch gives an empty output (and
zero weight gradients); zero input channels give ``b`` (a sum over no channels), where
torch returns 0 output channels by design (pytorch/pytorch#66256, Convolution.cpp) -- the
reference keeps its (N, M, out_h, out_w) contract.  Zero output channels, an empty
height or width, and an empty kernel raise ValueError, as torch refuses them.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import as_strided

from reference._checks import float_array
from reference._windows import Window2d, window2d
from reference.im2col import fold, unfold


def _prepare(x, w, b, stride, padding, dilation, groups):
    x = float_array("x", x, ndim=4)
    w = float_array("w", w, ndim=4)
    if b is not None:
        b = float_array("b", b, ndim=1)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    if 0 in x.shape[2:]:
        raise ValueError(f"x shape {x.shape} has an empty height or width axis")
    if w.shape[0] == 0:
        raise ValueError(f"w shape {w.shape} has no output channels")
    n_in, m_out = x.shape[1], w.shape[0]
    if n_in % groups:
        raise ValueError(f"groups {groups} does not divide the {n_in} input channels of x")
    if m_out % groups:
        raise ValueError(f"groups {groups} does not divide the {m_out} output channels of w")
    if w.shape[1] * groups != n_in:
        raise ValueError(
            f"w shape {w.shape} expects {w.shape[1] * groups} input channels "
            f"(w.shape[1] * groups), but x shape {x.shape} has {n_in}"
        )
    if b is not None and b.shape != (m_out,):
        raise ValueError(f"b shape {b.shape} does not match the {m_out} output channels of w")
    geometry = window2d(
        x.shape[2:],
        kernel_size=w.shape[2:],
        stride=stride,
        padding=padding,
        dilation=dilation,
        kernel_name="w kernel size",
    )
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, geometry, dtype


def _grouped_cols(x: np.ndarray, geometry: Window2d, groups: int) -> np.ndarray:
    """im2col of ``x`` as (groups, C/groups*kh*kw, N*out_h*out_w), contiguous."""
    n, c = x.shape[:2]
    kh, kw = geometry.kernel
    # Explicit sizes: with an empty batch, -1 could not be inferred.
    return unfold(x, geometry, 0.0).reshape(
        groups, c // groups * kh * kw, n * geometry.out[0] * geometry.out[1]
    )


def forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """``y`` (N, M, out_h, out_w) in the inputs' float dtype."""
    x, w, b, geometry, dtype = _prepare(x, w, b, stride, padding, dilation, groups)
    if geometry.h.stride == geometry.w.stride == 1 and _padded_plane_is_small(x, geometry):
        return _forward_rows(x, w, b, geometry, groups, dtype)
    return _forward_im2col(x, w, b, geometry, groups, dtype)


def _padded_plane_is_small(x: np.ndarray, geometry: Window2d) -> bool:
    """True unless the padded image dwarfs both the image and the output (a huge dilation
    or padding with a small output): ``_forward_rows`` materialises padded images, while
    im2col touches only the taps' real cells, so its memory follows the output."""
    (top, bottom), (left, right) = geometry.padding
    h, wd = x.shape[2:]
    oh, ow = geometry.out
    padded = (h + top + bottom) * max(ow, wd + max(left, right))
    return padded <= 4 * (h * wd + oh * ow)


def forward_im2col(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """``forward`` through one plain im2col matrix and one GEMM per group (any stride)."""
    x, w, b, geometry, dtype = _prepare(x, w, b, stride, padding, dilation, groups)
    return _forward_im2col(x, w, b, geometry, groups, dtype)


def _forward_im2col(x, w, b, geometry: Window2d, groups: int, dtype) -> np.ndarray:
    n, m = x.shape[0], w.shape[0]
    oh, ow = geometry.out
    cols = _grouped_cols(x, geometry, groups)
    y_mn = np.matmul(w.reshape(groups, m // groups, -1), cols)  # (G, M/G, N*L): one GEMM per group
    del cols  # peak memory: one im2col buffer plus one output
    y_mn = y_mn.reshape(m, n, oh, ow).transpose(1, 0, 2, 3)
    y = np.empty((n, m, oh, ow), dtype=dtype)
    if b is None:
        np.copyto(y, y_mn)
    else:
        np.add(y_mn, b.astype(dtype, copy=False)[:, None, None], out=y)
    return y


#: Size the stride-1 path aims its per-chunk im2col buffer at: a few images, so the GEMM
#: reads what the copy just wrote from cache (2 x 1 MiB L2 here) and still has enough
#: columns to use every BLAS thread.
_CHUNK_BYTES = 2 << 20


def _forward_rows(x, w, b, geometry: Window2d, groups: int, dtype) -> np.ndarray:
    """Stride-1 forward, a chunk of images at a time (see the module docstring).

    Input pixel (r, q) of a chunk's flat buffer sits at ``(top + r)*Wp + left + q``, with
    zeros everywhere else.  Output pixel (i, j) tap (ky, kx) reads padded column
    ``c = j + kx*dw`` of padded row ``i + ky*dh``, i.e. element ``(i + ky*dh)*Wp + c``;
    a column c >= Wp lands on the next row's left zeros, which is right because
    ``c - Wp < left`` when ``Wp >= W + right``.  So for each tap, the outputs i < out_h,
    j < Wp form the run ``[ky*dh*Wp + kx*dw, ... + out_h*Wp)``.  Columns j >= out_w are
    windows that wrap into the next row; they are computed and dropped.  The last tap's
    run ends (kw - 1)*dw elements past the padded image, so the flat buffer has that many
    more zeros.  The bias rides in the GEMM as one more weight column against a row of
    ones, so the copy to NCHW is a plain copy.
    """
    n, c, h, wd = x.shape
    m = w.shape[0]
    kh, kw = geometry.kernel
    dh, dw = geometry.h.dilation, geometry.w.dilation
    oh, ow = geometry.out
    (top, bottom), (left, right) = geometry.padding
    hp, wp = h + top + bottom, max(ow, wd + max(left, right))
    run = oh * wp
    itemsize = np.dtype(dtype).itemsize
    chunk = max(1, min(n, _CHUNK_BYTES // max(c * kh * kw * run * itemsize, 1)))
    plane = hp * wp + (kw - 1) * dw
    flat = np.zeros((chunk, c, plane), dtype=dtype)
    interior = flat[:, :, : hp * wp].reshape(chunk, c, hp, wp)[
        :, :, top : top + h, left : left + wd
    ]
    # taps[ch, ky, kx, i, :] = flat[i, ch, ky*dh*Wp + kx*dw :][:run].  The last one ends at
    # (kh-1)*dh*Wp + (kw-1)*dw + out_h*Wp = plane elements into the last image's last
    # channel: every view stays inside ``flat``.
    taps = as_strided(
        flat,
        shape=(groups, c // groups, kh, kw, chunk, run),
        strides=tuple(
            itemsize * step for step in (c // groups * plane, plane, dh * wp, dw, c * plane, 1)
        ),
        writeable=False,
    )
    k_group = c // groups * kh * kw
    weights = w.reshape(groups, m // groups, k_group)
    if b is not None:
        bias = b.astype(dtype, copy=False).reshape(groups, m // groups, 1)
        weights = np.concatenate([weights, bias], axis=2)
    rows = weights.shape[2]  # k_group, plus the row of ones when there is a bias
    # Two im2col and two product buffers, used by alternate chunks.  The other BLAS
    # thread's core holds copies of what the last GEMM read and wrote; overwriting those
    # same lines at once makes this core invalidate them first, which measured twice as
    # slow for the im2col copy on the 2-core machine (README, "speed targets").  A chunk
    # of ``count`` images uses ``[..., :count, :]`` of its slot's buffers.
    slots = min(2, -(-n // chunk))
    cols = np.empty((slots, groups, rows, chunk, run), dtype=dtype)
    cols[:, :, k_group:] = 1  # the bias row (absent without a bias), never overwritten
    cols_taps = cols[:, :, :k_group].reshape(slots, groups, c // groups, kh, kw, chunk, run)
    product = np.empty((slots, groups, m // groups, chunk, run), dtype=dtype)
    # (M, chunk, out_h, Wp) -> (chunk, M, out_h, out_w), dropping the wrapped columns.
    product_nchw = product.reshape(slots, m, chunk, oh, wp)[..., :ow].transpose(0, 2, 1, 3, 4)
    y = np.empty((n, m, oh, ow), dtype=dtype)
    for index, first in enumerate(range(0, n, chunk)):
        count = min(chunk, n - first)
        slot = index % slots
        interior[:count] = x[first : first + count]
        np.copyto(cols_taps[slot, ..., :count, :], taps[..., :count, :])
        np.matmul(
            weights,
            cols[slot, :, :, :count].reshape(groups, rows, count * run),
            out=product[slot, :, :, :count].reshape(groups, m // groups, count * run),
        )
        np.copyto(y[first : first + count], product_nchw[slot, :count])
    return y


def backward(
    grad_out, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1
) -> dict[str, np.ndarray]:
    """``{"x": dL/dx, "w": dL/dw}`` plus ``"b"`` when ``b`` is given; each in its input's
    shape.  ``grad_out`` has the forward output's shape."""
    x_in, w_in, b_in = x, w, b
    x, w, b, geometry, dtype = _prepare(x, w, b, stride, padding, dilation, groups)
    n, m = x.shape[0], w.shape[0]
    oh, ow = geometry.out
    grad_out = float_array("grad_out", grad_out, ndim=4)
    if grad_out.shape != (n, m, oh, ow):
        raise ValueError(
            f"grad_out shape {grad_out.shape} does not match the output shape {(n, m, oh, ow)}"
        )
    # (G, M/G, N*L): channel-major like the im2col buffer, so each gradient is one GEMM.
    g = np.ascontiguousarray(grad_out.astype(dtype, copy=False).transpose(1, 0, 2, 3))
    g = g.reshape(groups, m // groups, n * oh * ow)
    cols = _grouped_cols(x, geometry, groups)
    grad_w = np.matmul(g, cols.swapaxes(-1, -2)).reshape(w.shape)
    # The im2col buffer is dead now: reuse it for d(cols) so backward peaks at one buffer.
    np.matmul(w.reshape(groups, m // groups, -1).swapaxes(-1, -2), g, out=cols)
    grad_x = fold(cols.reshape(x.shape[1], *geometry.kernel, n, oh, ow), geometry, x.shape)
    grads = {"x": _as(grad_x, x_in), "w": _as(grad_w, w_in)}
    if b is not None:
        grads["b"] = _as(g.sum(axis=2).reshape(m), b_in)
    return grads


def _as(grad: np.ndarray, like) -> np.ndarray:
    """Gradient in its input's float dtype (integer inputs were promoted to float64)."""
    dtype = np.asarray(like).dtype
    return grad if not np.issubdtype(dtype, np.floating) else grad.astype(dtype, copy=False)
