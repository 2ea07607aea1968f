"""2-D convolution (cross-correlation, as in every framework), NCHW.

``x`` (N, C, H, W); ``w`` (M, C/groups, kh, kw) as in torch; ``b`` (M,) or None.
``y[n, m, i, j] = b[m] + sum_{c in group(m), ky, kx} w[m, c, ky, kx] *
x[n, g*C/groups + c, i*sh + ky*dh - top, j*sw + kx*dw - left]`` with zeros outside the input.
``padding`` is an int, (ph, pw), ((top, bottom), (left, right)), "valid" or "same"
(TF SAME_UPPER, see ``reference._windows``).

Computation: one im2col buffer (C*kh*kw, N*out_h*out_w) per group and one BLAS matmul
per group; the (M, N, ...) product is then copied to NCHW with the bias added.  Mixed
input dtypes compute in ``np.result_type(x, w, b)``; float32 stays float32.
"""

from __future__ import annotations

import numbers

import numpy as np

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
    return unfold(x, geometry, 0.0).reshape(
        groups, -1, x.shape[0] * geometry.out[0] * geometry.out[1]
    )


def forward(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """``y`` (N, M, out_h, out_w) in the inputs' float dtype."""
    x, w, b, geometry, dtype = _prepare(x, w, b, stride, padding, dilation, groups)
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
