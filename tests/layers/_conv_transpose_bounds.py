"""The tolerance magnitudes of conv_transpose2d, computed without the reference: an
explicit scatter-add of |x| |w| tap by tap (forward) and the matching gather of |g|
(backward), so every output cell's bound is its own sum of |terms|."""

from __future__ import annotations

import numpy as np

from tests.reference.loops_decoder import same_crop


def as_pair(v):
    """An int or a pair as a pair of ints."""
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(a) for a in v)


def _crops(x_hw, k_hw, attrs):
    """``(((top, bottom), (left, right)), (extra_h, extra_w))`` for the declared forms."""
    padding = attrs.get("padding", 0)
    stride, dilation = attrs.get("stride", 1), attrs.get("dilation", 1)
    if padding == "same":
        return same_crop(x_hw, k_hw, stride, dilation)
    extras = as_pair(attrs.get("output_padding", 0))
    if padding == "valid":
        return ((0, 0), (0, 0)), extras
    if np.isscalar(padding):
        return ((padding, padding), (padding, padding)), extras
    if np.isscalar(padding[0]):
        return ((padding[0], padding[0]), (padding[1], padding[1])), extras
    return tuple(tuple(p) for p in padding), extras


class _Taps:
    """Where each kernel tap of each input pixel lands: output rows/columns of the full
    scatter (before the crop), as strided slices."""

    def __init__(self, x_shape, w_shape, attrs):
        self.groups = int(attrs.get("groups", 1))
        self.s, self.d = as_pair(attrs.get("stride", 1)), as_pair(attrs.get("dilation", 1))
        self.h, self.w = x_shape[2:]
        self.kh, self.kw = w_shape[2:]
        self.crops, self.extras = _crops((self.h, self.w), (self.kh, self.kw), attrs)
        self.full = [
            (n - 1) * s + (k - 1) * d + 1
            for n, k, s, d in zip((self.h, self.w), (self.kh, self.kw), self.s, self.d, strict=True)
        ]
        self.out = [
            f - lo - hi + e
            for f, (lo, hi), e in zip(self.full, self.crops, self.extras, strict=True)
        ]

    def taps(self):
        for ky in range(self.kh):
            for kx in range(self.kw):
                rows = slice(
                    ky * self.d[0], ky * self.d[0] + (self.h - 1) * self.s[0] + 1, self.s[0]
                )
                cols = slice(
                    kx * self.d[1], kx * self.d[1] + (self.w - 1) * self.s[1] + 1, self.s[1]
                )
                yield ky, kx, rows, cols

    def to_output(self, full):
        """The full scatter cropped, then extended with zeros (output padding)."""
        (top, _), (left, _) = self.crops
        out = np.zeros((*full.shape[:2], *self.out))
        rows = min(self.out[0], self.full[0] - top)
        cols = min(self.out[1], self.full[1] - left)
        out[:, :, :rows, :cols] = full[:, :, top : top + rows, left : left + cols]
        return out

    def to_full(self, g):
        """``g`` (output layout) placed in full-scatter coordinates (zeros where cropped)."""
        (top, _), (left, _) = self.crops
        full = np.zeros((*g.shape[:2], *self.full))
        rows = min(self.out[0], self.full[0] - top)
        cols = min(self.out[1], self.full[1] - left)
        full[:, :, top : top + rows, left : left + cols] = g[:, :, :rows, :cols]
        return full


def _grouped(a, groups):
    """(N, C, H, W) -> (N, groups, C/groups, H, W)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, *a.shape[2:])


def _wg(w, groups):
    """(C_in, Cog, kh, kw) -> (groups, Cig, Cog, kh, kw)."""
    return w.reshape(groups, w.shape[0] // groups, *w.shape[1:])


def scatter_magnitude(x, w, b, attrs):
    """sum over the terms of each output cell of |term|: the scatter of |x| |w| (+ |b|)."""
    taps = _Taps(x.shape, w.shape, attrs)
    xg, wg = _grouped(np.abs(x), taps.groups), _wg(np.abs(w), taps.groups)
    full = np.zeros((x.shape[0], taps.groups, w.shape[1], *taps.full))
    for ky, kx, rows, cols in taps.taps():
        full[:, :, :, rows, cols] += np.einsum(
            "ngchw,gco->ngohw", xg, wg[..., ky, kx], optimize=True
        )
    y = taps.to_output(full.reshape(x.shape[0], -1, *taps.full))
    return y if b is None else y + np.abs(b)[:, None, None]


def gradient_magnitudes(g, x, w, attrs):
    """sum of |terms| of dx, dw (and db) for cotangent ``g``, gathered tap by tap."""
    taps = _Taps(x.shape, w.shape, attrs)
    gg = _grouped(taps.to_full(np.abs(g)), taps.groups)
    xg, wg = _grouped(np.abs(x), taps.groups), _wg(np.abs(w), taps.groups)
    mag_x = np.zeros(xg.shape)
    mag_w = np.zeros(wg.shape)
    for ky, kx, rows, cols in taps.taps():
        g_tap = gg[..., rows, cols]  # (N, G, Cog, H, W): the cells this tap wrote
        mag_x += np.einsum("ngohw,gco->ngchw", g_tap, wg[..., ky, kx], optimize=True)
        mag_w[..., ky, kx] = np.einsum("ngohw,ngchw->gco", g_tap, xg, optimize=True)
    return {
        "x": mag_x.reshape(x.shape),
        "w": mag_w.reshape(w.shape),
        "b": np.abs(g).sum(axis=(0, 2, 3)),
    }
