"""Slow, obviously-correct loop versions of conv2d, maxpool2d and avgpool2d (proof c).

Plain Python loops over every output pixel and every kernel tap; padding is never built,
each tap just checks whether it lands inside the input.  They share no code with
``reference/`` so the vectorized layers are checked against an independent reading of the
same definitions.  Backward passes accumulate explicitly, one output pixel at a time.

All take padding already resolved as ``((top, bottom), (left, right))`` and pairs for
kernel/stride/dilation; ``resolve`` turns the public forms into those.
"""

from __future__ import annotations

import math

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def resolve(size_hw, kernel, stride, dilation, padding):
    """Public padding forms -> ((top, bottom), (left, right)); "same" is TF SAME_UPPER."""
    kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        pads = []
        for a in range(2):
            out = math.ceil(size_hw[a] / stride[a])
            total = max((out - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1 - size_hw[a], 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    if isinstance(padding[0], int):
        return (padding[0], padding[0]), (padding[1], padding[1])
    return tuple(tuple(p) for p in padding)


def out_len(size, k, s, d, lo, hi, ceil_mode=False):
    """Torch's pooling_output_shape_pad_lr (aten/src/ATen/native/Pool.h), by enumeration:
    count window starts; a window counts if it fits the padded input, or, in ceil mode,
    if it starts inside the input or the left padding and the previous one did not fit."""
    span = (k - 1) * d + 1
    count = 0
    start = 0  # in padded coordinates
    while True:
        fits = start + span <= size + lo + hi
        partial = ceil_mode and start < size + lo and start - s + span < size + lo + hi
        if not (fits or partial):
            return count
        count += 1
        start += s


def _window(i, j, kh, kw, sh, sw, dh, dw, top, left, h, w):
    """Real cells ``(ky, kx, row, col)`` of window (i, j), in row-major window order."""
    cells = []
    for ky in range(kh):
        for kx in range(kw):
            r, c = i * sh + ky * dh - top, j * sw + kx * dw - left
            if 0 <= r < h and 0 <= c < w:
                cells.append((ky, kx, r, c))
    return cells


def conv2d_forward(x, w, b, stride, pads, dilation, groups):
    n, _c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    (top, bottom), (left, right) = pads
    oh = out_len(h, kh, sh, dh, top, bottom)
    ow = out_len(wd, kw, sw, dw, left, right)
    mg = m // groups
    y = np.zeros((n, m, oh, ow), dtype=x.dtype)
    for b_ in range(n):
        for o in range(m):
            g = o // mg
            for i in range(oh):
                for j in range(ow):
                    acc = 0.0 if b is None else b[o]
                    for ky, kx, r, col in _window(i, j, kh, kw, sh, sw, dh, dw, top, left, h, wd):
                        for ci in range(cg):
                            acc += w[o, ci, ky, kx] * x[b_, g * cg + ci, r, col]
                    y[b_, o, i, j] = acc
    return y


def conv2d_backward(grad_out, x, w, b, stride, pads, dilation, groups):
    n, _c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    (top, _), (left, _) = pads
    mg = m // groups
    dx, dw_ = np.zeros_like(x), np.zeros_like(w)
    db = np.zeros(m, dtype=x.dtype)
    for b_ in range(n):
        for o in range(m):
            g = o // mg
            for i in range(grad_out.shape[2]):
                for j in range(grad_out.shape[3]):
                    go = grad_out[b_, o, i, j]
                    db[o] += go
                    for ky, kx, r, col in _window(i, j, kh, kw, sh, sw, dh, dw, top, left, h, wd):
                        for ci in range(cg):
                            dx[b_, g * cg + ci, r, col] += go * w[o, ci, ky, kx]
                            dw_[o, ci, ky, kx] += go * x[b_, g * cg + ci, r, col]
    grads = {"x": dx, "w": dw_}
    if b is not None:
        grads["b"] = db
    return grads


def _pool_windows(x, kernel, stride, pads, dilation, ceil_mode):
    """Yield ``(n, c, i, j, cells)`` for every output pixel of a pooling."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel), _pair(stride), _pair(dilation)
    (top, bottom), (left, right) = pads
    oh = out_len(h, kh, sh, dh, top, bottom, ceil_mode)
    ow = out_len(w, kw, sw, dw, left, right, ceil_mode)
    for b_ in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    yield b_, ch, i, j, _window(i, j, kh, kw, sh, sw, dh, dw, top, left, h, w)


def _pool_shape(x, kernel, stride, pads, dilation, ceil_mode):
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel), _pair(stride), _pair(dilation)
    (top, bottom), (left, right) = pads
    return (
        *x.shape[:2],
        out_len(x.shape[2], kh, sh, dh, top, bottom, ceil_mode),
        out_len(x.shape[3], kw, sw, dw, left, right, ceil_mode),
    )


def maxpool2d_forward(x, kernel, stride, pads, dilation, ceil_mode):
    y = np.empty(_pool_shape(x, kernel, stride, pads, dilation, ceil_mode), dtype=x.dtype)
    for b_, ch, i, j, cells in _pool_windows(x, kernel, stride, pads, dilation, ceil_mode):
        y[b_, ch, i, j] = max(x[b_, ch, r, col] for _, _, r, col in cells)
    return y


def maxpool2d_backward(grad_out, x, kernel, stride, pads, dilation, ceil_mode):
    dx = np.zeros_like(x)
    for b_, ch, i, j, cells in _pool_windows(x, kernel, stride, pads, dilation, ceil_mode):
        best = None
        for _, _, r, col in cells:  # first strict maximum in row-major order wins
            if best is None or x[b_, ch, r, col] > x[b_, ch, best[0], best[1]]:
                best = (r, col)
        dx[b_, ch, best[0], best[1]] += grad_out[b_, ch, i, j]
    return dx


def _avg_divisor(i, j, cells, h, w, kernel, stride, pads, count_include_pad, divisor_override):
    """torch avg_pool2d divisor (aten/src/ATen/native/cpu/AvgPoolKernel.cpp), per side."""
    if divisor_override is not None:
        return divisor_override
    if not count_include_pad:
        return len(cells)
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    (top, bottom), (left, right) = pads
    r0, c0 = i * sh - top, j * sw - left
    r1, c1 = min(r0 + kh, h + bottom), min(c0 + kw, w + right)
    return (r1 - r0) * (c1 - c0)


def avgpool2d_forward(x, kernel, stride, pads, ceil_mode, count_include_pad, divisor_override):
    y = np.empty(_pool_shape(x, kernel, stride, pads, 1, ceil_mode), dtype=x.dtype)
    h, w = x.shape[2:]
    for b_, ch, i, j, cells in _pool_windows(x, kernel, stride, pads, 1, ceil_mode):
        total = sum(x[b_, ch, r, col] for _, _, r, col in cells)
        div = _avg_divisor(
            i, j, cells, h, w, kernel, stride, pads, count_include_pad, divisor_override
        )
        y[b_, ch, i, j] = total / div
    return y


def avgpool2d_backward(
    grad_out, x, kernel, stride, pads, ceil_mode, count_include_pad, divisor_override
):
    dx = np.zeros_like(x)
    h, w = x.shape[2:]
    for b_, ch, i, j, cells in _pool_windows(x, kernel, stride, pads, 1, ceil_mode):
        div = _avg_divisor(
            i, j, cells, h, w, kernel, stride, pads, count_include_pad, divisor_override
        )
        for _, _, r, col in cells:
            dx[b_, ch, r, col] += grad_out[b_, ch, i, j] / div
    return dx
