"""Proof (c): the vectorized conv2d / maxpool2d / avgpool2d match the plain loops in
``tests/reference/loops.py`` on seeded random configurations, forward and backward.

float64 with relative tolerance 1e-12 (only the summation order differs); max pooling
must match exactly.  Every configuration is drawn from ``default_rng(seed)``; the test id
is the seed, and a failure message prints the configuration.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import avgpool2d, conv2d, maxpool2d
from tests.reference import loops

pytestmark = pytest.mark.reference

RTOL = 1e-12


def _close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _padding(rng, kernel, stride, dilation, *, limit):
    """A random padding in one of the public forms, each pad at most ``limit``."""
    form = rng.integers(6)
    if form == 0:
        return int(rng.integers(limit + 1))
    if form == 1:
        return tuple(int(v) for v in rng.integers(limit + 1, size=2))
    if form == 2:
        return tuple(tuple(int(v) for v in rng.integers(limit + 1, size=2)) for _ in range(2))
    return ("same", "same", "valid")[form - 3]


def _fits(size_hw, kernel, dilation, pads):
    return all((kernel[a] - 1) * dilation[a] + 1 <= size_hw[a] + sum(pads[a]) for a in range(2))


def _conv_config(seed):
    rng = np.random.default_rng(seed)
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        c, m = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        size = tuple(int(v) for v in rng.integers(3, 9, size=2))
        kernel = tuple(int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = _padding(rng, kernel, stride, dilation, limit=2)
        pads = loops.resolve(size, kernel, stride, dilation, padding)
        if _fits(size, kernel, dilation, pads):
            break
    n = int(rng.integers(1, 3))
    x = rng.standard_normal((n, c, *size))
    w = rng.standard_normal((m, c // groups, *kernel))
    b = rng.standard_normal(m) if rng.random() < 0.7 else None
    attrs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return rng, x, w, b, attrs, pads


@pytest.mark.parametrize("seed", range(40))
def test_conv2d_matches_loops(seed):
    rng, x, w, b, attrs, pads = _conv_config(seed)
    what = f"conv2d x{x.shape} w{w.shape} bias={b is not None} {attrs}"
    want = loops.conv2d_forward(x, w, b, attrs["stride"], pads, attrs["dilation"], attrs["groups"])
    _close(conv2d.forward(x, w, b, **attrs), want, what + " forward")
    grad_out = rng.standard_normal(want.shape)
    want_grads = loops.conv2d_backward(
        grad_out, x, w, b, attrs["stride"], pads, attrs["dilation"], attrs["groups"]
    )
    got_grads = conv2d.backward(grad_out, x, w, b, **attrs)
    assert set(got_grads) == set(want_grads)
    for name in want_grads:
        _close(got_grads[name], want_grads[name], f"{what} d{name}")


def _every_window_has_a_cell(x, kernel, stride, pads, dilation, ceil_mode):
    return all(
        cells
        for *_, cells in loops._pool_windows(x[:1, :1], kernel, stride, pads, dilation, ceil_mode)
    )


def _pool_config(seed, *, with_dilation):
    rng = np.random.default_rng(seed)
    while True:
        size = tuple(int(v) for v in rng.integers(3, 10, size=2))
        kernel = tuple(int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2)) if rng.random() < 0.8 else None
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2)) if with_dilation else (1, 1)
        # Beyond torch's pad <= k/2 now and then: the reference allows it when no window
        # is all padding.
        padding = _padding(rng, kernel, stride or kernel, dilation, limit=3)
        ceil_mode = bool(rng.integers(2))
        pads = loops.resolve(size, kernel, stride or kernel, dilation, padding)
        if not _fits(size, kernel, dilation, pads):
            continue
        n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        # A scaled permutation: no ties, so the max-pool winner is unambiguous.
        x = (rng.permutation(n * c * size[0] * size[1]).reshape(n, c, *size) - 20.0) * 0.37
        if _every_window_has_a_cell(x, kernel, stride or kernel, pads, dilation, ceil_mode):
            return rng, x, kernel, stride, padding, dilation, ceil_mode, pads


@pytest.mark.parametrize("seed", range(40))
def test_maxpool2d_matches_loops(seed):
    rng, x, kernel, stride, padding, dilation, ceil_mode, pads = _pool_config(
        1000 + seed, with_dilation=True
    )
    attrs = dict(
        kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode
    )
    what = f"maxpool2d x{x.shape} {attrs}"
    args = (kernel, stride or kernel, pads, dilation, ceil_mode)
    want = loops.maxpool2d_forward(x, *args)
    got = maxpool2d.forward(x, **attrs)
    assert got.shape == want.shape, what
    np.testing.assert_array_equal(got, want, err_msg=what)
    grad_out = rng.standard_normal(want.shape)
    want_dx = loops.maxpool2d_backward(grad_out, x, *args)
    # Not bit-exact: a cell won by several windows sums their gradients in another order.
    _close(maxpool2d.backward(grad_out, x, **attrs)["x"], want_dx, what + " dx")


@pytest.mark.parametrize("seed", range(40))
def test_avgpool2d_matches_loops(seed):
    rng, x, kernel, stride, padding, _, ceil_mode, pads = _pool_config(
        2000 + seed, with_dilation=False
    )
    count_include_pad = bool(rng.integers(2))
    divisor_override = int(rng.choice([2, 5, -3])) if rng.random() < 0.25 else None
    attrs = dict(
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )
    what = f"avgpool2d x{x.shape} {attrs}"
    args = (kernel, stride or kernel, pads, ceil_mode, count_include_pad, divisor_override)
    want = loops.avgpool2d_forward(x, *args)
    _close(avgpool2d.forward(x, **attrs), want, what + " forward")
    grad_out = rng.standard_normal(want.shape)
    want_dx = loops.avgpool2d_backward(grad_out, x, *args)
    _close(avgpool2d.backward(grad_out, x, **attrs)["x"], want_dx, what + " dx")


def test_sampled_configurations_cover_the_grid():
    """The random draws above really exercise every feature the brief lists."""
    conv = [_conv_config(s)[4] for s in range(40)]
    assert {a["groups"] for a in conv} >= {1, 2, 3}
    assert any(max(a["stride"]) > 1 for a in conv)
    assert any(max(a["dilation"]) > 1 for a in conv)
    forms = {type(a["padding"]).__name__ if not isinstance(a["padding"], str) else a["padding"]
             for a in conv}  # fmt: skip
    assert forms >= {"int", "tuple", "same", "valid"}
    assert any(isinstance(a["padding"], tuple) and isinstance(a["padding"][0], tuple) for a in conv)
    pools = [_pool_config(1000 + s, with_dilation=True) for s in range(40)]
    assert any(p[6] for p in pools)
    assert any(not p[6] for p in pools)
    assert any(p[3] is None for p in pools)  # default stride
    assert any(max(max(p[7][0]), max(p[7][1])) > 1 for p in pools)  # beyond k/2 sometimes


@pytest.mark.parametrize("seed", range(10))
def test_maxpool2d_ties_go_to_the_first_maximum(seed):
    """With many ties (small integers) each window's gradient goes to its first maximum in
    row-major window order, as the loops pick it."""
    rng = np.random.default_rng(3000 + seed)
    x = rng.integers(0, 3, size=(2, 2, 7, 6)).astype(np.float64)
    attrs = dict(kernel_size=3, stride=(1, 2), padding=1, dilation=1, ceil_mode=bool(seed % 2))
    pads = loops.resolve((7, 6), 3, (1, 2), 1, 1)
    args = (3, (1, 2), pads, 1, attrs["ceil_mode"])
    grad_out = rng.standard_normal(loops.maxpool2d_forward(x, *args).shape)
    _close(
        maxpool2d.backward(grad_out, x, **attrs)["x"],
        loops.maxpool2d_backward(grad_out, x, *args),
        f"tied maxpool2d {attrs}",
    )


def test_float32_stays_float32():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    attrs = {"stride": 2, "padding": "same", "dilation": 1, "groups": 2}
    y = conv2d.forward(x, w, b, **attrs)
    assert y.dtype == np.float32
    want = loops.conv2d_forward(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 2,
        loops.resolve((9, 8), 3, 2, 1, "same"), 1, 2,
    )  # fmt: skip
    # float32 rounding over a 18-term sum: well inside 1e-5 relative to the magnitude.
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    grads = conv2d.backward(np.ones_like(y), x, w, b, **attrs)
    assert {k: v.dtype for k, v in grads.items()} == dict.fromkeys("xwb", np.float32)
    pool_kw = {"kernel_size": 3, "stride": 2, "padding": 1}
    assert maxpool2d.forward(x, **pool_kw).dtype == np.float32
    assert (
        maxpool2d.backward(np.ones((2, 4, 5, 4), np.float32), x, **pool_kw)["x"].dtype == np.float32
    )
    assert avgpool2d.forward(x, **pool_kw).dtype == np.float32
    assert (
        avgpool2d.backward(np.ones((2, 4, 5, 4), np.float32), x, **pool_kw)["x"].dtype == np.float32
    )


def test_nan_and_inf_propagate():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 3, 3] = np.inf
    w = np.ones((1, 1, 2, 2))
    y = conv2d.forward(x, w)
    assert np.isnan(y[0, 0, :2, :2]).all()
    assert np.isfinite(y[0, 0, 0, 2])
    assert y[0, 0, 2, 2] == np.inf
    pooled = maxpool2d.forward(x, kernel_size=2)
    assert np.isnan(pooled[0, 0, 0, 0])
    assert pooled[0, 0, 1, 1] == np.inf
    assert pooled[0, 0, 0, 1] == 0
    # The NaN window sends its gradient to its NaN cell, not to a finite one.
    dx = maxpool2d.backward(np.ones((1, 1, 2, 2)), x, kernel_size=2)["x"]
    assert dx[0, 0, 1, 1] == 1
    assert dx[0, 0, :2, :2].sum() == 1
    averaged = avgpool2d.forward(x, kernel_size=2)
    assert np.isnan(averaged[0, 0, 0, 0])
    assert averaged[0, 0, 1, 1] == np.inf
