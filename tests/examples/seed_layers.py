"""A small from-scratch NumPy layer library, written the way the seed tutorials teach it:
stateful layer objects with ``forward(x)`` and ``backward(dout)``, convolution through
im2col/col2im, max pooling through the same unrolling.

It stands for "your own code": it imports nothing from this suite.  Conventions, as in
the tutorials: activations (N, C, H, W), conv weights (FN, C, FH, FW), Affine weights
(in, out), one int ``stride`` and one int ``pad`` for both axes, pooling pads with zeros.
``backward`` fills the parameter gradients (``dW``, ``db``) and returns the input's.
"""

from __future__ import annotations

import numpy as np


def check_dout(dout, out_shape):
    """The gradient flowing back must have the forward output's shape."""
    if dout.shape != tuple(out_shape):
        raise ValueError(f"dout shape {dout.shape} does not match the output shape {out_shape}")


def output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    return (size + 2 * pad - kernel) // stride + 1


def im2col(images: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """(N, C, H, W) -> (N * OH * OW, C * FH * FW): one row per output position, holding
    the window it sees, channel-major then row-major inside the window."""
    n, c, h, w = images.shape
    oh, ow = output_size(h, fh, stride, pad), output_size(w, fw, stride, pad)
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.empty((n, c, fh, fw, oh, ow), dtype=images.dtype)
    for dy in range(fh):  # one strided slice per kernel offset
        for dx in range(fw):
            windows[:, :, dy, dx] = padded[
                :, :, dy : dy + stride * oh : stride, dx : dx + stride * ow : stride
            ]
    return windows.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * fh * fw)


def col2im(cols: np.ndarray, shape, fh: int, fw: int, stride: int = 1, pad: int = 0):
    """The adjoint of ``im2col``: every window entry is added back where it came from."""
    n, c, h, w = shape
    oh, ow = output_size(h, fh, stride, pad), output_size(w, fw, stride, pad)
    windows = cols.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for dy in range(fh):
        for dx in range(fw):
            padded[:, :, dy : dy + stride * oh : stride, dx : dx + stride * ow : stride] += windows[
                :, :, dy, dx
            ]
    return padded[:, :, pad : pad + h, pad : pad + w]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.dW = self.db = None

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = output_size(h, fh, self.stride, self.pad)
        ow = output_size(w, fw, self.stride, self.pad)
        self.x = x
        self.cols = im2col(x, fh, fw, self.stride, self.pad)
        self.W_rows = self.W.reshape(fn, -1)
        out = self.cols @ self.W_rows.T + self.b
        return out.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = dout_rows.sum(axis=0)
        # (C*FH*FW, FN) -> (FN, C*FH*FW) before folding back into filters
        self.dW = (self.cols.T @ dout_rows).T.reshape(fn, c, fh, fw)
        dcols = dout_rows @ self.W_rows
        return col2im(dcols, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    """Max pooling; the first maximum of a window takes its gradient."""

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        n, c, h, w = x.shape
        oh = output_size(h, self.pool_h, self.stride, self.pad)
        ow = output_size(w, self.pool_w, self.stride, self.pad)
        cols = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        cols = cols.reshape(-1, self.pool_h * self.pool_w)  # one window per row
        self.x, self.argmax, self.out_hw = x, cols.argmax(axis=1), (oh, ow)
        return cols.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        check_dout(dout, (self.x.shape[0], self.x.shape[1], *self.out_hw))
        size = self.pool_h * self.pool_w
        dwindows = np.zeros((dout.size, size), dtype=dout.dtype)
        dwindows[np.arange(dout.size), self.argmax] = dout.transpose(0, 2, 3, 1).ravel()
        dcols = dwindows.reshape(-1, self.x.shape[1] * size)
        return col2im(dcols, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class Affine:
    """x (N, in) @ W (in, out) + b."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        check_dout(dout, self.mask.shape)
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out) * self.out


class SoftmaxWithLoss:
    """Softmax, then the mean cross-entropy over the batch; ``t`` is class indices or
    one row of class probabilities per sample."""

    def forward(self, x, t):
        shifted = x - x.max(axis=1, keepdims=True)
        log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = np.exp(log_y)
        if t.ndim == 1:  # indices -> one-hot rows
            if t.dtype.kind not in "iu" or t.shape != x.shape[:1]:
                raise ValueError(f"t must be {x.shape[0]} integer class indices, got {t!r}")
            if t.min() < 0 or t.max() >= x.shape[1]:
                raise ValueError(f"t holds a class index outside [0, {x.shape[1]}): {t!r}")
            t = np.eye(x.shape[1], dtype=x.dtype)[t]
        self.t = t
        return -(t * log_y).sum() / x.shape[0]

    def backward(self, dout=1):
        batch = self.y.shape[0]
        return (self.y * self.t.sum(axis=1, keepdims=True) - self.t) * dout / batch
