"""Public im2col / col2im: layout (seed 001's convention), shapes, adjointness, padding
fill, and the identities that tie them to conv2d and maxpool2d."""

from __future__ import annotations

import numpy as np
import pytest

from reference import conv2d, maxpool2d
from reference.im2col import col2im, im2col

pytestmark = pytest.mark.reference

CONFIGS = [
    {"kernel_size": 3},
    {"kernel_size": (2, 3), "stride": 2},
    {"kernel_size": 3, "stride": (2, 1), "padding": 1},
    {"kernel_size": 2, "dilation": 2, "padding": (1, 0)},
    {"kernel_size": (3, 2), "stride": 2, "dilation": (1, 2), "padding": ((2, 0), (1, 3))},
    {"kernel_size": 3, "stride": 2, "padding": "same"},
    {"kernel_size": 4, "stride": 3, "padding": "same", "dilation": 2},
    {"kernel_size": 3, "padding": "valid"},
]


def _expected_by_layout(x, kh, kw, sh, sw, dh, dw, pads, fill=0.0):
    """Seed 001's layout written out cell by cell: row (n*oh + i)*ow + j, column
    (c*kh + ky)*kw + kx (seed 001, im2col: transpose(0, 4, 5, 1, 2, 3) then reshape)."""
    n, c, h, w = x.shape
    (top, bottom), (left, right) = pads
    oh = (h + top + bottom - (kh - 1) * dh - 1) // sh + 1
    ow = (w + left + right - (kw - 1) * dw - 1) // sw + 1
    cols = np.full((n * oh * ow, c * kh * kw), fill)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    for ky in range(kh):
                        for kx in range(kw):
                            r, q = i * sh + ky * dh - top, j * sw + kx * dw - left
                            if 0 <= r < h and 0 <= q < w:
                                cols[(b * oh + i) * ow + j, (ch * kh + ky) * kw + kx] = x[
                                    b, ch, r, q
                                ]
    return cols


def test_layout_is_seed_001s():
    x = np.arange(2 * 3 * 5 * 6, dtype=np.float64).reshape(2, 3, 5, 6)
    got = im2col(x, (2, 3), stride=(2, 1), padding=((1, 0), (0, 2)), dilation=(1, 2))
    want = _expected_by_layout(x, 2, 3, 2, 1, 1, 2, ((1, 0), (0, 2)))
    np.testing.assert_array_equal(got, want)


def test_seed_001_shape_convention():
    """(N, C, H, W) = (10, 3, 7, 7), 5x5 windows, stride 1, no padding: 3x3 windows per image,
    so (10 * 9, 3 * 25) = (90, 75) (seed 001's output formula (H + 2*pad - fh)//stride + 1)."""
    assert im2col(np.zeros((10, 3, 7, 7)), 5).shape == (90, 75)
    assert im2col(np.zeros((1, 3, 7, 7)), 5, stride=2, padding=1).shape == (9, 75)


@pytest.mark.parametrize("attrs", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_col2im_is_the_adjoint_of_im2col(attrs):
    rng = np.random.default_rng(len(str(attrs)))
    x = rng.standard_normal((2, 3, 7, 8))
    cols = im2col(x, **attrs)
    c = rng.standard_normal(cols.shape)
    lhs = float(np.sum(cols * c))
    rhs = float(np.sum(x * col2im(c, x.shape, **attrs)))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs), float(np.abs(cols * c).sum()))


def test_col2im_of_ones_counts_covering_windows():
    """3x3 windows, stride 1, padding 1 on a 4x4 image: each cell is covered by
    (rows covering it) x (cols covering it) windows: 2 at an edge row/col, 3 inside."""
    ones = np.ones(im2col(np.zeros((1, 1, 4, 4)), 3, padding=1).shape)
    counts = col2im(ones, (1, 1, 4, 4), 3, padding=1)[0, 0]
    per_axis = np.array([2, 3, 3, 2])
    np.testing.assert_array_equal(counts, np.outer(per_axis, per_axis))


def test_im2col_times_weights_is_conv2d():
    """Seed 001's Convolution: out = im2col(x) @ W.reshape(FN, -1).T (+ b), then back to NCHW."""
    rng = np.random.default_rng(11)
    x, w, b = (
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal((4, 3, 3, 2)),
        rng.standard_normal(4),
    )
    attrs = {"stride": (1, 2), "padding": ((1, 2), (0, 1)), "dilation": (2, 1)}
    y = conv2d.forward(x, w, b, **attrs)
    flat = im2col(x, (3, 2), **attrs) @ w.reshape(4, -1).T + b
    via_cols = flat.reshape(2, y.shape[2], y.shape[3], 4).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(via_cols, y, rtol=1e-13, atol=1e-13)


def test_minus_inf_fill_gives_max_pooling():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 2, 7, 7)) - 10.0  # negative: zero padding would win
    attrs = {"kernel_size": 3, "stride": 2, "padding": "same"}
    cols = im2col(x, **attrs, fill_value=-np.inf)
    pooled = maxpool2d.forward(x, **attrs)
    per_channel = cols.reshape(-1, 2, 9).max(axis=2)  # (N*oh*ow, C)
    np.testing.assert_array_equal(
        per_channel.reshape(2, *pooled.shape[2:], 2).transpose(0, 3, 1, 2), pooled
    )
    assert np.isneginf(cols).any()
    zero_filled = im2col(x, **attrs)
    np.testing.assert_array_equal(zero_filled == 0, np.isneginf(cols))


def test_dtype_is_kept():
    x = np.ones((1, 2, 4, 4), np.float32)
    cols = im2col(x, 2, padding=1)
    assert cols.dtype == np.float32
    assert col2im(cols, x.shape, 2, padding=1).dtype == np.float32
