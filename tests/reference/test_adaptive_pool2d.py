"""Adaptive average and max pooling proven on their own, without any framework:

- (a) golden values: ONNX's GlobalAveragePool / GlobalMaxPool examples and a 5x5 -> 3x3
  example derived by hand from torch's window formula are declared cases
  (tests/layers/adaptive_*pool2d.py), run by test_golden.py; here, the windows themselves
  against the formula read with exact fractions;
- (b) float64 central differences over output sizes that divide the input, that do not
  (overlapping windows) and that exceed it;
- (c) the plain loops of tests/reference/loops_decoder.py on seeded configurations;
- where the sizes divide, the fixed-window avgpool2d / maxpool2d give the same numbers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import _adaptive, adaptive_avgpool2d, adaptive_maxpool2d, avgpool2d, maxpool2d
from tests.gradcheck import check_backward
from tests.reference import loops_decoder as loops

pytestmark = pytest.mark.reference

RTOL = 1e-12


def _close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _tie_free(rng, shape):
    """Distinct values 0.1 apart: a 1e-6 step never changes a window's winner."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 30.0) * 0.1


@pytest.mark.parametrize(("size", "out"), [(10, 4), (7, 3), (5, 5), (3, 5), (28, 5), (1, 3)])
def test_windows_follow_the_formula_and_cover_the_axis(size, out):
    got = _adaptive.windows(size, out)
    assert got == [loops.adaptive_window(i, size, out) for i in range(out)]
    assert got[0][0] == 0
    assert got[-1][1] == size
    assert all(end > start for start, end in got)
    lengths = {end - start for start, end in got}
    assert max(lengths) - min(lengths) <= 1
    # Consecutive windows touch or overlap by one cell: every cell is pooled.
    assert all(0 <= prev_end - start <= 1 for (_, prev_end), (start, _) in itertools.pairwise(got))


def test_ten_to_four_overlaps_where_a_fixed_window_cannot():
    """keras-team/keras-cv#512: 10 -> 4 gives [0, 3), [2, 5), [5, 8), [7, 10): equal
    lengths, but the starts 0, 2, 5, 7 are not evenly spaced."""
    assert _adaptive.windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]


def _config(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    size = tuple(int(v) for v in rng.integers(1, 9, size=2))
    out = tuple(int(v) for v in rng.integers(1, 7, size=2))
    output_size = out if rng.random() < 0.7 else out[0]
    return rng, _tie_free(rng, (n, c, *size)), output_size


@pytest.mark.parametrize("seed", range(20))
def test_adaptive_pools_match_loops(seed):
    rng, x, output_size = _config(seed)
    what = f"x{x.shape} output_size={output_size}"
    want = loops.adaptive_avgpool2d_forward(x, output_size)
    _close(adaptive_avgpool2d.forward(x, output_size=output_size), want, f"avg {what}")
    grad_out = rng.standard_normal(want.shape)
    _close(
        adaptive_avgpool2d.backward(grad_out, x, output_size=output_size)["x"],
        loops.adaptive_avgpool2d_backward(grad_out, x, output_size),
        f"avg {what} dx",
    )
    np.testing.assert_array_equal(
        adaptive_maxpool2d.forward(x, output_size=output_size),
        loops.adaptive_maxpool2d_forward(x, output_size),
        err_msg=f"max {what}",
    )
    _close(
        adaptive_maxpool2d.backward(grad_out, x, output_size=output_size)["x"],
        loops.adaptive_maxpool2d_backward(grad_out, x, output_size),
        f"max {what} dx",
    )


@pytest.mark.parametrize("seed", range(6))
def test_adaptive_max_ties_go_to_the_first_maximum(seed):
    rng = np.random.default_rng(4000 + seed)
    x = rng.integers(0, 3, size=(2, 2, 7, 5)).astype(np.float64)
    output_size = [(3, 2), (4, 3), (2, 2)][seed % 3]
    grad_out = rng.standard_normal((2, 2, *output_size))
    _close(
        adaptive_maxpool2d.backward(grad_out, x, output_size=output_size)["x"],
        loops.adaptive_maxpool2d_backward(grad_out, x, output_size),
        f"tied adaptive max {output_size}",
    )


SIZES = [(1, 1), (2, 3), (3, 2), (4, 5), 2]
GRID = list(itertools.product([(6, 6), (7, 5)], range(len(SIZES))))


@pytest.mark.parametrize(
    ("shape", "size_index"), GRID, ids=[f"{h}x{w}-out{SIZES[i]}" for (h, w), i in GRID]
)
def test_adaptive_pools_gradcheck(shape, size_index):
    rng = np.random.default_rng(size_index + 10 * shape[1])
    output_size = SIZES[size_index]
    x = _tie_free(rng, (2, 2, *shape))
    attrs = {"output_size": output_size}
    check_backward(adaptive_avgpool2d.forward, adaptive_avgpool2d.backward, {"x": x}, attrs)
    check_backward(adaptive_maxpool2d.forward, adaptive_maxpool2d.backward, {"x": x}, attrs)


@pytest.mark.parametrize(("shape", "output_size"), [((8, 6), (4, 3)), ((9, 9), 3), ((4, 6), 1)])
def test_dividing_sizes_are_fixed_windows(shape, output_size):
    """in % out == 0: the windows are kernel = stride = in / out, as avgpool2d/maxpool2d."""
    rng = np.random.default_rng(5)
    x = _tie_free(rng, (2, 3, *shape))
    out = output_size if isinstance(output_size, tuple) else (output_size, output_size)
    kernel = tuple(s // o for s, o in zip(shape, out, strict=True))
    _close(
        adaptive_avgpool2d.forward(x, output_size=output_size),
        avgpool2d.forward(x, kernel_size=kernel),
        "avg",
    )
    np.testing.assert_array_equal(
        adaptive_maxpool2d.forward(x, output_size=output_size),
        maxpool2d.forward(x, kernel_size=kernel),
    )


def test_float32_stays_float32():
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 5)).astype(np.float32)
    for layer in (adaptive_avgpool2d, adaptive_maxpool2d):
        y = layer.forward(x, output_size=(3, 2))
        assert y.dtype == np.float32
        assert layer.backward(np.ones_like(y), x, output_size=(3, 2))["x"].dtype == np.float32


def test_nan_and_inf_reach_only_their_windows():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 3, 3] = np.inf
    avg = adaptive_avgpool2d.forward(x, output_size=2)
    assert np.isnan(avg[0, 0, 0, 0])
    assert avg[0, 0, 1, 1] == np.inf
    assert avg[0, 0, 0, 1] == 0
    assert avg[0, 0, 1, 0] == 0
    top = adaptive_maxpool2d.forward(x, output_size=2)
    assert np.isnan(top[0, 0, 0, 0])
    assert top[0, 0, 1, 1] == np.inf
    dx = adaptive_maxpool2d.backward(np.ones((1, 1, 2, 2)), x, output_size=2)["x"]
    assert dx[0, 0, 0, 0] == 1
    assert dx[0, 0, :2, :2].sum() == 1
