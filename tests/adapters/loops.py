"""Explicit-loop convolution in the reference's layout (NCHW input, OIHW weight), written
out index by index so that an adapter's NHWC/HWIO conversion is checked against something
that shares no code and no transposes with it."""

from __future__ import annotations

import numpy as np


def conv2d_loop(x, w, b=None, *, stride=(1, 1), pads=((0, 0), (0, 0)), groups=1):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    (top, bottom), (left, right) = pads
    padded = np.zeros((n, c, h + top + bottom, wd + left + right), x.dtype)
    padded[:, :, top : top + h, left : left + wd] = x
    oh = (padded.shape[2] - kh) // stride[0] + 1
    ow = (padded.shape[3] - kw) // stride[1] + 1
    out = np.zeros((n, m, oh, ow), np.float64)
    per_group = m // groups
    for i in range(n):
        for o in range(m):
            first = (o // per_group) * cg
            for r in range(oh):
                for s in range(ow):
                    total = 0.0
                    for ci in range(cg):
                        for p in range(kh):
                            for q in range(kw):
                                total += (
                                    padded[i, first + ci, r * stride[0] + p, s * stride[1] + q]
                                    * w[o, ci, p, q]
                                )
                    out[i, o, r, s] = total + (b[o] if b is not None else 0.0)
    return out


def conv2d_weight_grad_loop(x, grad_out, kernel_hw, *, stride=(1, 1), pads=((0, 0), (0, 0))):
    """dL/dw[o, c, p, q] = sum over n, r, s of grad_out[n, o, r, s] * padded x (groups=1)."""
    n, c, h, wd = x.shape
    m = grad_out.shape[1]
    kh, kw = kernel_hw
    (top, bottom), (left, right) = pads
    padded = np.zeros((n, c, h + top + bottom, wd + left + right), x.dtype)
    padded[:, :, top : top + h, left : left + wd] = x
    dw = np.zeros((m, c, kh, kw), np.float64)
    for o in range(m):
        for ci in range(c):
            for p in range(kh):
                for q in range(kw):
                    for i in range(n):
                        for r in range(grad_out.shape[2]):
                            for s in range(grad_out.shape[3]):
                                dw[o, ci, p, q] += (
                                    grad_out[i, o, r, s]
                                    * padded[i, ci, r * stride[0] + p, s * stride[1] + q]
                                )
    return dw
