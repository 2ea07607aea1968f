"""Pools and convolution under huge kernels, paddings and dilations.

The rule: every pooling window must hold a real input cell (ValueError otherwise; torch's
``pad <= kernel_size / 2`` excludes such windows and TF/Keras pad by SAME only), and a
geometry of more than 2**48 windows per channel is refused.  What remains costs in
proportion to the (output, tap) pairs that read a real cell: the pools loop over the
taps that touch the input, or over the input cells when the kernel is the larger.

No timing here: the loop lengths and the bytes allocated (tracemalloc) are asserted; one
subprocess with a generous timeout guards the cases that used to hang.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from reference import _windows, avgpool2d, conv2d, maxpool2d
from tests.reference import loops

pytestmark = pytest.mark.reference

ROOT = Path(__file__).resolve().parents[2]
_X = np.random.default_rng(5).permutation(2 * 16).reshape(1, 2, 4, 4) * 0.5 - 4.0


def _peak_bytes(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_calls_that_hung_answer_in_a_subprocess():
    """Issue figures: maxpool2d with kernel_size=10**4 and padding="same" took > 30 s and
    10**8 never returned; avgpool2d with padding=10**5 asked for 74.5 GiB.  The timeout
    only guards against a hang (the calls take milliseconds); the child prints what it
    got."""
    child = textwrap.dedent(
        """
        import numpy as np
        from reference import avgpool2d, maxpool2d
        x = np.arange(16.0).reshape(1, 1, 4, 4)
        for k in (10**4, 10**8):
            print(maxpool2d.forward(x, kernel_size=k, padding="same").ravel().tolist())
            print(maxpool2d.forward(x, kernel_size=k, stride=1, padding="same").max())
        try:
            avgpool2d.forward(x, kernel_size=2, padding=10**5)
        except ValueError as exc:
            print("ValueError:", exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[15.0]",
        "15.0",
        "[15.0]",
        "15.0",
        "ValueError: padding 100000 leaves window 0 along height with no input cell",
    ]


@pytest.mark.parametrize("k", [10**4, 10**8, 10**30])
@pytest.mark.parametrize("stride", [1, None])
def test_maxpool_huge_kernel_same_is_the_global_max_in_few_steps(k, stride):
    """Every window covers the whole 4x4 image; at most 4 x 4 (output, cell) blocks are
    visited, and the call allocates about its output and input."""
    geometry = _windows.window2d(
        (4, 4), kernel_size=k, stride=stride or k, padding="same", every_window_real=True
    )
    assert len(list(geometry.pairs())) <= 16
    y = maxpool2d.forward(_X, kernel_size=k, stride=stride, padding="same")
    np.testing.assert_array_equal(y, np.broadcast_to(_X.max(axis=(2, 3), keepdims=True), y.shape))
    g = np.ones_like(y)
    dx = maxpool2d.backward(g, _X, kernel_size=k, stride=stride, padding="same")["x"]
    winners = _X.max(axis=(2, 3), keepdims=True) == _X
    np.testing.assert_array_equal(dx, winners * float(y[0, 0].size))
    assert (
        _peak_bytes(lambda: maxpool2d.forward(_X, kernel_size=k, stride=stride, padding="same"))
        < 1 << 16
    )


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avgpool_huge_kernel_same(count_include_pad):
    """kernel 10**6 at stride 1, SAME: every window holds all 16 cells; the divisor is the
    real-cell count (16) or the window clipped to the padded input (torch's rule: the
    SAME padding here is (499_999, 500_000) per axis, so every window fits whole)."""
    k = 10**6
    y = avgpool2d.forward(
        _X, kernel_size=k, stride=1, padding="same", count_include_pad=count_include_pad
    )
    total = _X.sum(axis=(2, 3), keepdims=True)
    divisor = float(k * k) if count_include_pad else 16.0
    np.testing.assert_allclose(y, np.broadcast_to(total / divisor, y.shape), rtol=1e-14)
    peak = _peak_bytes(
        lambda: avgpool2d.backward(
            np.ones_like(y), _X, kernel_size=k, stride=1, padding="same",
            count_include_pad=count_include_pad,
        )
    )  # fmt: skip
    assert peak < 1 << 16


@pytest.mark.parametrize("layer", [maxpool2d, avgpool2d], ids=["maxpool2d", "avgpool2d"])
@pytest.mark.parametrize("padding", [10**5, 10**18, ((2, 0), (0, 0)), ((0, 0), (0, 3))])
def test_padding_that_leaves_a_window_empty_is_refused_without_allocating(layer, padding):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="no input cell"):
            layer.forward(_X, kernel_size=2, padding=padding)
        assert tracemalloc.get_traced_memory()[1] < 1 << 16
    finally:
        tracemalloc.stop()


def test_conv2d_huge_dilation_reads_only_the_centre_tap():
    """3x3 kernel, dilation 10**18, SAME: only the centre tap meets the image, so the
    convolution is the 1x1 one with the centre weights.  The stride-1 fast path would
    have padded the image to 2e18 rows; the im2col path allocates about the output."""
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((4, 3, 3, 3)), np.ones(4)
    attrs = {"padding": "same", "dilation": 10**18}
    want = np.einsum("mc,nchw->nmhw", w[:, :, 1, 1], x) + b[:, None, None]
    np.testing.assert_allclose(conv2d.forward(x, w, b, **attrs), want, rtol=1e-13)
    grads = conv2d.backward(np.ones_like(want), x, w, b, **attrs)
    np.testing.assert_allclose(
        grads["x"], np.broadcast_to(w[:, :, 1, 1].sum(0)[None, :, None, None], x.shape), rtol=1e-13
    )
    assert _peak_bytes(lambda: conv2d.forward(x, w, b, **attrs)) < 1 << 16


def test_first_empty_window_matches_a_brute_force_search():
    """Axis.first_empty_window's closed forms (dilation 1 or an input at least a dilation
    wide) and its binary search (a dilation wider than the input) against trying every
    window, on every small geometry."""
    checked = 0
    for size, k, stride, d, lo, hi, ceil_mode in itertools.product(
        range(1, 5), range(1, 4), range(1, 4), range(1, 6), range(5), range(5), (False, True)
    ):
        span = (k - 1) * d + 1
        if span > size + lo + hi:
            continue
        out = _windows.output_length(size, k, stride, d, lo, hi, ceil_mode)
        axis = _windows.Axis(size, k, stride, d, lo, hi, out)
        starts = [o * stride - lo for o in range(out)]
        empty = [
            o for o, t in enumerate(starts) if not any(0 <= t + j * d < size for j in range(k))
        ]
        assert axis.first_empty_window() == (empty[0] if empty else None), axis
        checked += 1
    assert checked > 5000


# -- cell-major pairs against the plain loops --------------------------------------------


def _big_kernel_config(seed, *, with_dilation):
    """A kernel as large as or larger than a small image (1-4 cells per axis), padding up
    to the window, every window holding a real cell."""
    rng = np.random.default_rng(seed)
    while True:
        size = tuple(int(v) for v in rng.integers(1, 5, size=2))
        kernel = tuple(int(v) for v in rng.integers(2, 8, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 4, size=2)) if with_dilation else (1, 1)
        spans = [(kernel[a] - 1) * dilation[a] + 1 for a in range(2)]
        pads = tuple(tuple(int(v) for v in rng.integers(0, spans[a], size=2)) for a in range(2))
        ceil_mode = bool(rng.integers(2))
        if not all(spans[a] <= size[a] + sum(pads[a]) for a in range(2)):
            continue
        x = (rng.permutation(2 * size[0] * size[1]).reshape(1, 2, *size) - 3.0) * 0.5
        windows = loops._pool_windows(x[:, :1], kernel, stride, pads, dilation, ceil_mode)
        if all(cells for *_, cells in windows):
            return rng, x, kernel, stride, pads, dilation, ceil_mode


def _cell_major_axes(kernel, stride, pads, dilation, ceil_mode, size):
    geometry = _windows.window2d(
        size, kernel_size=kernel, stride=stride, padding=pads, dilation=dilation,
        ceil_mode=ceil_mode,
    )  # fmt: skip
    return geometry.broadcast_axes


@pytest.mark.parametrize("seed", range(30))
def test_maxpool2d_big_kernel_matches_loops(seed):
    rng, x, kernel, stride, pads, dilation, ceil_mode = _big_kernel_config(
        4000 + seed, with_dilation=True
    )
    attrs = dict(
        kernel_size=kernel, stride=stride, padding=pads, dilation=dilation, ceil_mode=ceil_mode
    )
    what = f"maxpool2d x{x.shape} {attrs}"
    args = (kernel, stride, pads, dilation, ceil_mode)
    want = loops.maxpool2d_forward(x, *args)
    np.testing.assert_array_equal(maxpool2d.forward(x, **attrs), want, err_msg=what)
    grad_out = rng.integers(-4, 5, want.shape).astype(np.float64)  # sums exact in any order
    np.testing.assert_array_equal(
        maxpool2d.backward(grad_out, x, **attrs)["x"],
        loops.maxpool2d_backward(grad_out, x, *args),
        err_msg=what,
    )


@pytest.mark.parametrize("seed", range(30))
def test_avgpool2d_big_kernel_matches_loops(seed):
    rng, x, kernel, stride, pads, _, ceil_mode = _big_kernel_config(
        5000 + seed, with_dilation=False
    )
    count_include_pad = bool(rng.integers(2))
    attrs = dict(
        kernel_size=kernel, stride=stride, padding=pads, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )  # fmt: skip
    what = f"avgpool2d x{x.shape} {attrs}"
    args = (kernel, stride, pads, ceil_mode, count_include_pad, None)
    want = loops.avgpool2d_forward(x, *args)
    np.testing.assert_allclose(avgpool2d.forward(x, **attrs), want, rtol=1e-13, err_msg=what)
    grad_out = rng.standard_normal(want.shape)
    np.testing.assert_allclose(
        avgpool2d.backward(grad_out, x, **attrs)["x"],
        loops.avgpool2d_backward(grad_out, x, *args),
        rtol=1e-13,
        atol=1e-13,
        err_msg=what,
    )


def test_big_kernel_configurations_reach_the_cell_major_loop():
    """The draws above loop over cells on one axis and on both, and over outputs a
    dilation apart (``Axis.readers``' congruence) on some cell-major axis."""
    counts, congruence = set(), False
    for seed in range(30):
        _, x, kernel, stride, pads, dilation, ceil_mode = _big_kernel_config(
            4000 + seed, with_dilation=True
        )
        axes = _cell_major_axes(kernel, stride, pads, dilation, ceil_mode, x.shape[2:])
        counts.add(len(axes))
        congruence |= any(dilation[a] // math.gcd(stride[a], dilation[a]) > 1 for a in axes)
    assert counts >= {1, 2}
    assert congruence


@pytest.mark.parametrize("seed", range(10))
def test_cell_major_and_tap_major_agree_with_nan_and_ties(monkeypatch, seed):
    """The same pooling through both loop orders: the winner of every window (first
    maximum in row-major window order, first NaN in a NaN window) does not depend on
    the order, nor does a sum of integers."""
    rng, x, kernel, stride, pads, dilation, ceil_mode = _big_kernel_config(
        6000 + seed, with_dilation=True
    )
    x = rng.integers(0, 3, x.shape).astype(np.float64)  # ties
    x[rng.random(x.shape) < 0.2] = np.nan
    attrs = dict(
        kernel_size=kernel, stride=stride, padding=pads, dilation=dilation, ceil_mode=ceil_mode
    )
    y_cells = maxpool2d.forward(x, **attrs)
    g = rng.integers(-4, 5, y_cells.shape).astype(np.float64)
    dx_cells = maxpool2d.backward(g, x, **attrs)["x"]
    monkeypatch.setattr(_windows.Axis, "cell_major", property(lambda self: False))
    np.testing.assert_array_equal(maxpool2d.forward(x, **attrs), y_cells)
    np.testing.assert_array_equal(maxpool2d.backward(g, x, **attrs)["x"], dx_cells)
