"""Slow, obviously-correct loop versions of the decoder layers (issue 16), proof (c).

Plain Python loops over every input pixel and kernel tap (transposed convolution), every
output cell (adaptive pooling) and every padded cell (padding).  They share no code with
``reference/``: each reads its layer's definition directly (the scatter formula, torch's
window bounds, each padding mode's source index).  Backward passes accumulate
explicitly, one element at a time.

The transposed convolution takes its crop already resolved, ``((top, bottom), (left,
right))``, and pairs for stride, output padding and dilation; ``same_crop`` resolves
``"same"`` from the TF rule, written out again here.
"""

from __future__ import annotations

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_crop(size_hw, kernel, stride, dilation):
    """TF conv2d_transpose SAME (output in*stride): crop ``(total//2, total - total//2)``
    of ``total = max(k_eff - stride, 0)`` and ``max(stride - k_eff, 0)`` output padding."""
    crops, extras = [], []
    for a in range(2):
        k_eff = (_pair(kernel)[a] - 1) * _pair(dilation)[a] + 1
        s = _pair(stride)[a]
        total = max(k_eff - s, 0)
        crops.append((total // 2, total - total // 2))
        extras.append(max(s - k_eff, 0))
    return tuple(crops), tuple(extras)


def _out_size(size, k, s, d, lo, hi, extra):
    return (size - 1) * s + (k - 1) * d + 1 - lo - hi + extra


def conv_transpose2d_forward(x, w, b, stride, crops, extras, dilation, groups):
    """Scatter each input pixel's weighted kernel; keep the cells inside the output."""
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    (top, bottom), (left, right) = crops
    oh = _out_size(h, kh, sh, dh, top, bottom, extras[0])
    ow = _out_size(wd, kw, sw, dw, left, right, extras[1])
    cig = c_in // groups
    y = np.zeros((n, cog * groups, oh, ow), dtype=x.dtype)
    for b_ in range(n):
        for c in range(c_in):
            g = c // cig
            for i in range(h):
                for j in range(wd):
                    for o in range(cog):
                        for ky in range(kh):
                            for kx in range(kw):
                                r, col = i * sh + ky * dh - top, j * sw + kx * dw - left
                                if 0 <= r < oh and 0 <= col < ow:
                                    y[b_, g * cog + o, r, col] += x[b_, c, i, j] * w[c, o, ky, kx]
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv_transpose2d_backward(grad_out, x, w, b, stride, crops, dilation, groups):
    """The same scatter, read backwards: each (input pixel, tap) pair that landed inside
    the output contributes ``g * w`` to dx and ``g * x`` to dw."""
    n, c_in, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    (top, _), (left, _) = crops
    oh, ow = grad_out.shape[2:]
    cig = c_in // groups
    dx, dw_ = np.zeros_like(x), np.zeros_like(w)
    for b_ in range(n):
        for c in range(c_in):
            g = c // cig
            for i in range(h):
                for j in range(wd):
                    for o in range(cog):
                        for ky in range(kh):
                            for kx in range(kw):
                                r, col = i * sh + ky * dh - top, j * sw + kx * dw - left
                                if 0 <= r < oh and 0 <= col < ow:
                                    go = grad_out[b_, g * cog + o, r, col]
                                    dx[b_, c, i, j] += go * w[c, o, ky, kx]
                                    dw_[c, o, ky, kx] += go * x[b_, c, i, j]
    grads = {"x": dx, "w": dw_}
    if b is not None:
        grads["b"] = grad_out.sum(axis=(0, 2, 3))
    return grads


def adaptive_window(i: int, size: int, out: int) -> tuple[int, int]:
    """torch's adaptive window ``i``: [floor(i*size/out), ceil((i+1)*size/out)), read off
    the formula with Python's exact fractions of integers."""
    from fractions import Fraction
    from math import ceil, floor

    return floor(Fraction(i * size, out)), ceil(Fraction((i + 1) * size, out))


def _adaptive_cells(x, output_size):
    """Yield ``(n, c, i, j, cells)``, cells the window's ``(row, col)`` in row-major order."""
    n, c, h, w = x.shape
    oh, ow = _pair(output_size)
    for b_ in range(n):
        for ch in range(c):
            for i in range(oh):
                r0, r1 = adaptive_window(i, h, oh)
                for j in range(ow):
                    c0, c1 = adaptive_window(j, w, ow)
                    cells = [(r, col) for r in range(r0, r1) for col in range(c0, c1)]
                    yield b_, ch, i, j, cells


def adaptive_avgpool2d_forward(x, output_size):
    y = np.zeros((*x.shape[:2], *_pair(output_size)), dtype=x.dtype)
    for b_, ch, i, j, cells in _adaptive_cells(x, output_size):
        y[b_, ch, i, j] = sum(x[b_, ch, r, col] for r, col in cells) / len(cells)
    return y


def adaptive_avgpool2d_backward(grad_out, x, output_size):
    dx = np.zeros_like(x)
    for b_, ch, i, j, cells in _adaptive_cells(x, output_size):
        for r, col in cells:
            dx[b_, ch, r, col] += grad_out[b_, ch, i, j] / len(cells)
    return dx


def adaptive_maxpool2d_forward(x, output_size):
    y = np.zeros((*x.shape[:2], *_pair(output_size)), dtype=x.dtype)
    for b_, ch, i, j, cells in _adaptive_cells(x, output_size):
        y[b_, ch, i, j] = max(x[b_, ch, r, col] for r, col in cells)
    return y


def adaptive_maxpool2d_backward(grad_out, x, output_size):
    """The first strict maximum of each window (row-major) takes its gradient."""
    dx = np.zeros_like(x)
    for b_, ch, i, j, cells in _adaptive_cells(x, output_size):
        best = cells[0]
        for r, col in cells[1:]:
            if x[b_, ch, r, col] > x[b_, ch, best[0], best[1]]:
                best = (r, col)
        dx[b_, ch, best[0], best[1]] += grad_out[b_, ch, i, j]
    return dx


def pad_source(i: int, n: int, mode: str) -> int | None:
    """The input cell that padded position ``i`` (relative to the first input cell, so
    negative before it) copies along an axis of ``n`` cells, or None for a constant."""
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    if mode == "reflect":  # mirrored on the edge cell, which is not repeated
        return -i if i < 0 else 2 * (n - 1) - i
    return -i - 1 if i < 0 else 2 * n - 1 - i  # symmetric: the edge cell repeated


def _padded_cells(x_shape, pads, mode):
    """Yield ``((r, c) padded, (r, c) source or None)`` over the whole padded plane."""
    (top, bottom), (left, right) = pads
    h, w = x_shape[2:]
    for r in range(top + h + bottom):
        for c in range(left + w + right):
            sr, sc = pad_source(r - top, h, mode), pad_source(c - left, w, mode)
            yield (r, c), None if sr is None or sc is None else (sr, sc)


def pad2d_forward(x, pads, mode, value=0.0):
    (top, bottom), (left, right) = pads
    y = np.empty((*x.shape[:2], top + x.shape[2] + bottom, left + x.shape[3] + right), x.dtype)
    for (r, c), source in _padded_cells(x.shape, pads, mode):
        y[:, :, r, c] = value if source is None else x[:, :, source[0], source[1]]
    return y


def pad2d_backward(grad_out, x, pads, mode):
    dx = np.zeros_like(x)
    for (r, c), source in _padded_cells(x.shape, pads, mode):
        if source is not None:
            dx[:, :, source[0], source[1]] += grad_out[:, :, r, c]
    return dx
