"""conv2d's fast stride-1 forward (``_forward_rows``) against its plain im2col forward.

Both compute the same sums of products in different orders (different GEMM shapes), so
they agree to rounding: each result's error is at most ``(n + 1) * eps * sum|terms|`` for
a sum of ``n`` products plus the bias (recursive summation, Higham, "Accuracy and
Stability of Numerical Algorithms", 2nd ed., eq. 4.4), hence the difference is at most
twice that.  ``sum|terms|`` is the plain forward on absolute values.  The plain path is
itself held to explicit loops in test_windows_vs_loops.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import conv2d

pytestmark = pytest.mark.reference

# (x shape, w shape, attrs): stride 1 in every padding form, dilation, groups, kernels
# wider than tall and larger than the input's unpadded side.
CASES = [
    ((3, 2, 7, 6), (4, 2, 3, 3), {"padding": 1}),
    ((2, 3, 8, 5), (2, 3, 2, 3), {"padding": "same"}),
    ((2, 3, 8, 5), (2, 3, 2, 4), {"padding": "same", "dilation": (1, 2)}),
    ((1, 2, 6, 6), (3, 2, 3, 2), {"padding": "valid"}),
    ((4, 4, 5, 7), (6, 2, 3, 3), {"padding": ((2, 0), (1, 3)), "groups": 2}),
    ((2, 6, 9, 9), (3, 2, 2, 2), {"padding": (0, 2), "dilation": (3, 2), "groups": 3}),
    ((5, 1, 4, 4), (2, 1, 1, 1), {}),
    ((2, 2, 3, 3), (1, 2, 5, 5), {"padding": 2}),
    # output wider than W + max(left, right): the row stride is out_w
    ((2, 2, 4, 5), (3, 2, 1, 1), {"padding": 1}),
    # more padding on the right than on the left
    ((3, 3, 5, 6), (2, 3, 3, 3), {"padding": ((0, 1), (0, 2))}),
]


def _bound(x, w, b, attrs, dtype) -> np.ndarray:
    magnitude = conv2d.forward_im2col(np.abs(x), np.abs(w), np.abs(b), **attrs)
    n_terms = w.shape[1] * w.shape[2] * w.shape[3] + 1
    return 2 * (n_terms + 1) * np.finfo(dtype).eps * magnitude


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("chunk_bytes", [None, 1], ids=["default-chunk", "one-image-chunks"])
@pytest.mark.parametrize(("x_shape", "w_shape", "attrs"), CASES)
def test_rows_forward_matches_im2col(monkeypatch, x_shape, w_shape, attrs, chunk_bytes, dtype):
    if chunk_bytes is not None:  # every image its own chunk: chunk boundaries and reuse
        monkeypatch.setattr(conv2d, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(sum(x_shape) * 100 + sum(w_shape))
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    for bias in (b, None):
        fast = conv2d.forward(x, w, bias, **attrs)
        plain = conv2d.forward_im2col(x, w, bias, **attrs)
        assert fast.dtype == plain.dtype == np.dtype(dtype)
        assert fast.shape == plain.shape
        bound = _bound(x, w, b if bias is not None else np.zeros_like(b), attrs, dtype)
        assert np.all(np.abs(fast - plain) <= bound)


def test_stride_one_takes_the_rows_path_and_strided_the_plain_one(monkeypatch):
    calls = []
    rows = conv2d._forward_rows
    monkeypatch.setattr(conv2d, "_forward_rows", lambda *a: calls.append("rows") or rows(*a))
    x, w = np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3))
    conv2d.forward(x, w, padding=1)
    assert calls == ["rows"]
    conv2d.forward(x, w, padding=1, stride=(1, 2))
    assert calls == ["rows"]


def test_rows_forward_reads_no_stale_chunk_data(monkeypatch):
    """A last, smaller chunk after a full one: stale values in the reused buffers must not
    leak into the result (exact, since each output sums one nonzero term)."""
    monkeypatch.setattr(conv2d, "_CHUNK_BYTES", 2 * 1 * 9 * 3 * 5 * 8)  # two images a chunk
    x = np.arange(5 * 1 * 3 * 3, dtype=np.float64).reshape(5, 1, 3, 3) + 1
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 1, 1] = 1.0  # the centre tap: y is x itself
    np.testing.assert_array_equal(conv2d.forward(x, w, padding=1), x)
