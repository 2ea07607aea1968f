"""2-D max pooling, NCHW.

``forward(x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)``:
``y[n, c, i, j]`` is the max over the real input cells of window ``(i, j)``; tap
``(ky, kx)`` reads ``x[n, c, i*sh + ky*dh - top, j*sw + kx*dw - left]``.  ``stride``
defaults to ``kernel_size``.  Padded cells never win (they act as -inf, as TF SAME does),
so an all-negative input keeps its values.  ``ceil_mode`` follows torch (the last window
starts inside the input or the left padding).

Padding: torch rejects padding > kernel_size / 2.  The reference accepts any
non-negative padding (also "same" and per-side pairs) as long as every window holds at
least one real cell, and raises ValueError otherwise: a window of padding alone has no
maximum.  The cost follows the taps that touch the input (``Window2d.pairs``), so a
kernel of 10**8 with padding "same" on a small image answers at once.

Empty inputs follow torch: an empty batch gives an empty output; an empty channel,
height or width axis raises ValueError (torch: "Expected 3D or 4D (batch mode) tensor
with optional 0 dim batch size").

Backward: each window sends its gradient to exactly one cell, the first maximum in
row-major window order (torch and TF on CPU); overlapping windows accumulate.  A window
holding NaN outputs NaN (torch, JAX; TF and Keras drop NaN) and sends its gradient to its
first NaN cell (NumPy's argmax; torch picks the last NaN, JAX and TF other cells):
conventions rows maxpool_nan_forward and maxpool_nan_grad (tests/conventions/table_nan.py).
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, nonempty_feature_map
from reference._windows import Window2d, window2d


def _prepare(x, kernel_size, stride, padding, dilation, ceil_mode):
    x = float_array("x", x, ndim=4)
    nonempty_feature_map("x", x)
    geometry = window2d(
        x.shape[2:],
        kernel_size=kernel_size,
        stride=kernel_size if stride is None else stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        every_window_real=True,
    )
    return x, geometry


def _pool(x: np.ndarray, geometry: Window2d) -> np.ndarray:
    taps = list(geometry.pairs())
    _, first_in = taps[0]
    if y_is_covered := x[first_in].shape[2:] == geometry.out:
        y = x[first_in].copy()  # the first tap is real everywhere: no -inf fill needed
    else:
        y = np.full((*x.shape[:2], *geometry.out), -np.inf, dtype=x.dtype)
    for out_index, in_index in taps[1:] if y_is_covered else taps:
        np.maximum(y[out_index], x[in_index], out=y[out_index])
    return y


def forward(x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """``y`` (N, C, out_h, out_w) in ``x``'s float dtype."""
    x, geometry = _prepare(x, kernel_size, stride, padding, dilation, ceil_mode)
    return _pool(x, geometry)


def backward(
    grad_out, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
) -> dict[str, np.ndarray]:
    """``{"x": dL/dx}`` with ``x``'s shape and dtype."""
    x, geometry = _prepare(x, kernel_size, stride, padding, dilation, ceil_mode)
    y = _pool(x, geometry)
    grad_out = float_array("grad_out", grad_out, ndim=4)
    if grad_out.shape != y.shape:
        raise ValueError(
            f"grad_out shape {grad_out.shape} does not match the output shape {y.shape}"
        )
    grad_out = grad_out.astype(x.dtype, copy=False)
    has_nan = bool(np.isnan(y).any())
    # With finite grad_out, g * wins equals np.where(wins, g, 0) up to the sign of zero
    # (-0.0 for a negative g at a losing cell), which adding to grad_x does not change;
    # it is several times faster.  A non-finite g would turn inf * 0 into NaN: use where.
    finite_grads = bool(np.isfinite(grad_out).all())
    grad_x = np.zeros_like(x)
    claimed = np.zeros(y.shape, dtype=bool)  # windows whose winner is already found
    # On a cell-major axis one input cell serves many windows: its share is their sum.
    spread = geometry.broadcast_axes
    for out_index, in_index in geometry.pairs():
        cells = x[in_index]
        wins = cells == y[out_index]
        if has_nan:
            wins |= np.isnan(cells)  # a NaN cell can only sit in a NaN window
        window_claimed = claimed[out_index]
        wins &= ~window_claimed
        window_claimed |= wins
        g = grad_out[out_index]
        share = g * wins if finite_grads else np.where(wins, g, 0)
        grad_x[in_index] += share.sum(axis=spread, keepdims=True) if spread else share
    return {"x": grad_x}
