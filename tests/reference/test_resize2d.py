"""resize2d proven on its own (no framework): the vectorized reference against the slow
loops of tests/reference/resize_loops.py, float64 central differences over the attribute
grid, and properties that follow from the definition (partition of unity, identity at
the input size, the output size from a scale, IEEE propagation, dtypes)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from reference import resize2d
from tests.gradcheck import check_backward
from tests.reference import resize_loops

pytestmark = pytest.mark.reference

COORDINATES = resize2d.COORDINATE_MODES
NEAREST = resize2d.NEAREST_MODES


def _grid():
    """Every mode x coordinate mode x (nearest mode | antialias, cubic a), each with one
    up-and-down ``size`` and one ``scale`` (with an output length of 1 on one axis)."""
    for how in COORDINATES:
        for rule in NEAREST:
            yield {"mode": "nearest", "coordinate_transformation_mode": how, "nearest_mode": rule}
        for aa in (False, True):
            yield {"mode": "linear", "coordinate_transformation_mode": how, "antialias": aa}
            for a in (-0.75, -0.5):
                yield {
                    "mode": "cubic",
                    "coordinate_transformation_mode": how,
                    "antialias": aa,
                    "cubic_coeff_a": a,
                }


GEOMETRIES = [
    ((1, 2, 4, 5), {"size": (7, 3)}),
    ((2, 1, 5, 3), {"scale": (0.25, 1.5)}),  # H: floor(5 / 4) = 1 output row
    ((1, 1, 6, 4), {"scale": 0.6}),
]
GRID = [
    pytest.param(shape, {**geometry, **attrs}, id=f"{i}-{'-'.join(map(str, attrs.values()))}")
    for (shape, geometry), (i, attrs) in itertools.product(GEOMETRIES, enumerate(_grid()))
]


def _close(got, want, what):
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * scale, err_msg=what)


@pytest.mark.parametrize(("shape", "attrs"), GRID)
def test_matches_loops(shape, attrs):
    rng = np.random.default_rng(len(str(attrs)))
    x = rng.standard_normal(shape)
    y = resize2d.forward(x, **attrs)
    _close(y, resize_loops.forward(x, **attrs), f"forward {attrs}")
    g = rng.standard_normal(y.shape)
    _close(resize2d.backward(g, x, **attrs)["x"], resize_loops.backward(g, x, **attrs), "dx")


@pytest.mark.parametrize(("shape", "attrs"), GRID[: len(GRID) // len(GEOMETRIES) * 2])
def test_backward_central_differences(shape, attrs):
    x = np.random.default_rng(7).standard_normal(shape)
    check_backward(resize2d.forward, resize2d.backward, {"x": x}, attrs)


@pytest.mark.parametrize("attrs", list(_grid()), ids=lambda a: "-".join(map(str, a.values())))
def test_constant_stays_constant(attrs):
    """Every weight row sums to 1 (nearest: one 1; tent and Keys kernels at integer
    spacing sum to 1; antialias divides by the sum), so a constant image is unchanged."""
    x = np.full((1, 1, 5, 4), 3.0)
    y = resize2d.forward(x, size=(3, 7), **attrs)
    np.testing.assert_allclose(y, 3.0, rtol=4e-15)


@pytest.mark.parametrize("how", [c for c in COORDINATES if c != "tf_half_pixel_for_nn"])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_identity_at_the_input_size(mode, how):
    """At m = n every coordinate rule but tf_half_pixel_for_nn (which adds 1/2) maps i to i."""
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    y = resize2d.forward(x, size=(4, 5), mode=mode, coordinate_transformation_mode=how)
    np.testing.assert_array_equal(y, x)


def test_tf_half_pixel_for_nn_shifts_by_half():
    x = np.arange(4.0).reshape(1, 1, 1, 4)
    attrs = {"size": (1, 4), "coordinate_transformation_mode": "tf_half_pixel_for_nn"}
    floor = resize2d.forward(x, nearest_mode="floor", **attrs)
    ceil = resize2d.forward(x, nearest_mode="ceil", **attrs)
    np.testing.assert_array_equal(floor.ravel(), [0, 1, 2, 3])  # floor(i + 1/2)
    np.testing.assert_array_equal(ceil.ravel(), [1, 2, 3, 3])  # ceil(i + 1/2), clamped


@pytest.mark.parametrize(
    ("n", "scale", "m"),
    [(5, 0.6, 3), (4, 0.6, 2), (7, 1 / 3, 2), (3, 1 / 3, 1), (10, 0.3, 3), (5, 2.5, 12)],
)
def test_output_size_is_floor_in_float64(n, scale, m):
    """m = floor(n * scale) with the product rounded to float64 first, as torch and ONNX's
    reference compute it (5 * 0.6 = 3.0 in float64, though 0.6 is a little below 3/5)."""
    assert resize2d.forward(np.zeros((1, 1, n, 1)), scale=(scale, 1)).shape[2] == m


def test_scale_is_the_coordinate_scale():
    """With ``scale``, the coordinates divide by the scale given, not by m / n: 7 * 0.6
    gives m = 4, and output 1 of half_pixel reads (1.5 / 0.6 - 0.5) = 2, not
    (1.5 * 7 / 4 - 0.5) = 2.125."""
    x = np.arange(7.0).reshape(1, 1, 1, 7)
    by_scale = resize2d.forward(x, scale=(1, 0.6), mode="linear")
    by_size = resize2d.forward(x, size=(1, 4), mode="linear")
    assert by_scale[0, 0, 0, 1] == 2.0
    assert by_size[0, 0, 0, 1] == 2.125


def test_exact_ties_follow_the_nearest_mode():
    """2 -> 3 (half_pixel): output 1 sits at 1.5 / (3/2) - 1/2 = 1/2 exactly, halfway."""
    x = np.array([[[[10.0, 20.0]]]])
    got = {
        rule: resize2d.forward(x, size=(1, 3), nearest_mode=rule)[0, 0, 0, 1] for rule in NEAREST
    }
    assert got == {"round_prefer_floor": 10, "round_prefer_ceil": 20, "floor": 10, "ceil": 20}


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_non_finite_values_reach_only_the_outputs_that_read_them(mode):
    x = np.random.default_rng(5).standard_normal((1, 1, 6, 6))
    x[0, 0, 2, 3] = np.inf
    x[0, 0, 5, 0] = np.nan
    attrs = {"size": (9, 8), "mode": mode}
    y = resize2d.forward(x, **attrs)
    clean = np.where(np.isfinite(x), x, 0.0)
    probe = np.zeros_like(x)
    probe[0, 0, 2, 3] = probe[0, 0, 5, 0] = 1.0
    # The outputs with non-zero weight on a poisoned cell: a resize of the indicator.
    reach = resize_loops.forward(probe, **attrs) != 0
    assert reach.any()
    assert not reach.all()
    np.testing.assert_array_equal(~np.isfinite(y), reach)
    np.testing.assert_allclose(y[~reach], resize2d.forward(clean, **attrs)[~reach], rtol=1e-14)
    g = np.ones_like(y)
    g[0, 0, 0, 0] = np.nan
    grad = resize2d.backward(g, clean, **attrs)["x"]
    assert 0 < np.isnan(grad).sum() < grad.size


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_computes_in_the_input_dtype(dtype):
    x = np.random.default_rng(6).standard_normal((1, 2, 3, 4)).astype(dtype)
    for mode in ("nearest", "linear"):
        y = resize2d.forward(x, scale=2, mode=mode)
        assert y.dtype == dtype
        assert resize2d.backward(np.ones_like(y), x, scale=2, mode=mode)["x"].dtype == dtype


def test_integers_compute_in_float64():
    x = np.arange(12).reshape(1, 1, 3, 4)
    y = resize2d.forward(x, size=(5, 5), mode="linear")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, resize2d.forward(x.astype(float), size=(5, 5), mode="linear"))


def test_axis_matrices_are_cached_read_only():
    matrix = resize2d.axis_matrix(
        3, 5, Fraction(5, 3), "linear", "half_pixel", "floor", -0.75, False
    )
    assert not matrix.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        matrix[0, 0] = 1.0
