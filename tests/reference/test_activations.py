"""The activations of issue 17 proven on their own (no framework): golden values at simple
points, each with its derivation or source; the derivative at every kink as each module's
docstring states it; stability for huge |x| (no overflow or invalid-value warning, finite
results); dtype preservation; NaN propagation.  Central differences on the shared cases
and the bad inputs are the generic tests' (test_gradcheck_cases.py,
test_bad_input_layers.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import elu, gelu, hardsigmoid, hardswish, leaky_relu, relu6, silu

pytestmark = pytest.mark.reference

HUGE = np.array([-1e300, -1e30, -1e4, -800.0, -100.0, 100.0, 800.0, 1e4, 1e30, 1e300])


def _quiet(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with overflow, invalid and divide-by-zero raising."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        return function(*args, **kwargs)


def _grad(module, x, **attrs):
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    return module.backward(np.ones_like(x), x, **attrs)["x"]


# -- leaky_relu ---------------------------------------------------------------------------


def test_leaky_relu_golden():
    # torch.nn.LeakyReLU docs: max(0, x) + negative_slope * min(0, x); dyadic, so exact.
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(
        leaky_relu.forward(x, negative_slope=0.25), [-0.5, -0.125, 0, 0.5, 3]
    )
    np.testing.assert_array_equal(
        _grad(leaky_relu, x, negative_slope=0.25), [0.25, 0.25, 0.25, 1, 1]
    )


def test_leaky_relu_kink_takes_the_slope():
    assert list(_grad(leaky_relu, [0.0, -0.0], negative_slope=0.1)) == [0.1, 0.1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_huge_and_dtype(dtype):
    x = HUGE.astype(dtype) if dtype == np.float64 else np.clip(HUGE, -1e30, 1e30).astype(dtype)
    y = _quiet(leaky_relu.forward, x, negative_slope=0.01)
    g = _quiet(_grad, leaky_relu, x, negative_slope=0.01)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    assert np.all(np.isfinite(g))
    assert np.isnan(leaky_relu.forward(np.array([np.nan]), negative_slope=0.01)[0])


# -- elu ----------------------------------------------------------------------------------


def test_elu_golden():
    # torch.nn.ELU docs: max(0, x) + min(0, alpha * (exp(x) - 1)).  At x = ln(1/4),
    # exp(x) - 1 = -3/4, so alpha = 2 gives -3/2 and the derivative alpha * exp(x) = 1/2
    # (up to the rounding of ln(1/4) itself: a few float64 ulps).
    x = np.array([np.log(0.25), 1.5])
    np.testing.assert_allclose(elu.forward(x, alpha=2.0), [-1.5, 1.5], rtol=1e-15)
    np.testing.assert_allclose(_grad(elu, x, alpha=2.0), [0.5, 1.0], rtol=1e-15)


def test_elu_kink_takes_alpha():
    assert list(_grad(elu, [0.0, -0.0], alpha=0.5)) == [0.5, 0.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_huge_and_dtype(dtype):
    x = HUGE.astype(dtype) if dtype == np.float64 else np.clip(HUGE, -1e30, 1e30).astype(dtype)
    y = _quiet(elu.forward, x, alpha=1.0)
    g = _quiet(_grad, elu, x, alpha=1.0)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[x < 0], -1.0)
    np.testing.assert_array_equal(y[x > 0], x[x > 0])
    assert np.all(np.isfinite(g))
    assert np.isnan(elu.forward(np.array([np.nan]))[0])


# -- gelu ---------------------------------------------------------------------------------


def test_gelu_golden_normal_table():
    # GELU(x) = x Phi(x).  Abramowitz & Stegun, Table 26.1: Phi(1) = 0.8413447460685429,
    # so GELU(1) = 0.8413447460685429 and GELU(-1) = -(1 - Phi(1)); GELU'(0) = Phi(0) = 1/2.
    x = np.array([-1.0, 0.0, 1.0])
    want = [-(1 - 0.8413447460685429), 0.0, 0.8413447460685429]
    np.testing.assert_allclose(gelu.forward(x), want, rtol=1e-15)
    assert _grad(gelu, [0.0])[0] == 0.5
    assert _grad(gelu, [0.0], approximate="tanh")[0] == 0.5


@pytest.mark.parametrize(
    ("approximate", "printed"),
    [
        ("none", [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507]),
        ("tanh", [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627]),
    ],
)
def test_gelu_golden_tf_docstring(approximate, printed):
    # tf.nn.gelu's docstring example (TF 2.21): float32 results printed to 8 digits.  TF
    # forms 1 + erf / 1 + tanh, which cancel for x < 0, so each printed value is good to
    # a few float32 ulps of |x| (absolute), not of the value.
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    atol = 4 * np.finfo(np.float32).eps * np.abs(x)
    np.testing.assert_array_less(
        np.abs(gelu.forward(x, approximate=approximate) - printed), atol + 1e-12
    )


def test_gelu_tanh_form_is_hendrycks_gimpel():
    # The tanh form as the paper writes it, 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))),
    # with math.tanh: the reference's x * sigmoid(2u) is the same number.
    x = np.linspace(-5.0, 5.0, 41)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    written = 0.5 * x * (1 + np.array([math.tanh(v) for v in u]))
    # The written form cancels in 1 + tanh for x < 0: agreement to a few ulps of |x|.
    atol = 4 * np.finfo(np.float64).eps * np.abs(x)
    np.testing.assert_array_less(
        np.abs(gelu.forward(x, approximate="tanh") - written), atol + 1e-300
    )


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_huge_and_dtype(dtype, approximate):
    x = HUGE.astype(dtype) if dtype == np.float64 else np.clip(HUGE, -1e30, 1e30).astype(dtype)
    y = _quiet(gelu.forward, x, approximate=approximate)
    g = _quiet(_grad, gelu, x, approximate=approximate)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[x > 0], x[x > 0])
    np.testing.assert_array_equal(y[x < 0], 0.0)
    np.testing.assert_array_equal(g, (x > 0).astype(dtype))
    assert np.isnan(gelu.forward(np.array([np.nan]), approximate=approximate)[0])


# -- silu ---------------------------------------------------------------------------------


def test_silu_golden():
    # torch.nn.SiLU docs: x * sigmoid(x).  sigmoid(ln 3) = 3/4, so silu(ln 3) = 3/4 ln 3 and
    # silu'(ln 3) = s (1 + x (1 - s)) = 3/4 (1 + ln 3 / 4); silu(0) = 0, silu'(0) = 1/2.
    x = np.array([np.log(3.0), 0.0])
    np.testing.assert_allclose(silu.forward(x), [0.75 * np.log(3.0), 0.0], rtol=1e-15)
    np.testing.assert_allclose(_grad(silu, x), [0.75 * (1 + np.log(3.0) / 4), 0.5], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_silu_huge_and_dtype(dtype):
    x = HUGE.astype(dtype) if dtype == np.float64 else np.clip(HUGE, -1e30, 1e30).astype(dtype)
    y = _quiet(silu.forward, x)
    g = _quiet(_grad, silu, x)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[x > 0], x[x > 0])
    # x = -100 gives -100 e^-100 = -3.8e-42: subnormal in float32, not 0.
    np.testing.assert_allclose(y[x < 0], 0.0, atol=1e-40)
    np.testing.assert_allclose(g, (x > 0).astype(dtype), rtol=0, atol=1e-40)
    assert np.isnan(silu.forward(np.array([np.nan]))[0])


# -- relu6 --------------------------------------------------------------------------------


def test_relu6_golden_and_kinks():
    # torch.nn.ReLU6 docs: min(max(0, x), 6).  Kinks at 0 (and -0.0) and 6 take 0.
    x = np.array([-1.0, -0.0, 0.0, 2.5, 6.0, 7.0])
    np.testing.assert_array_equal(relu6.forward(x), [0, 0, 0, 2.5, 6, 6])
    np.testing.assert_array_equal(_grad(relu6, x), [0, 0, 0, 1, 0, 0])


def test_relu6_nan_and_huge():
    assert np.isnan(relu6.forward(np.array([np.nan]))[0])
    y = _quiet(relu6.forward, HUGE)
    np.testing.assert_array_equal(y, np.where(HUGE > 0, 6.0, 0.0))
    # A NaN grad_out on a clipped unit still gives 0 (where, not a product).
    g = relu6.backward(np.array([np.nan, np.nan]), np.array([-1.0, 7.0]))["x"]
    np.testing.assert_array_equal(g, [0.0, 0.0])


# -- hardsigmoid --------------------------------------------------------------------------


def test_hardsigmoid_golden_torch_definition():
    # torch.nn.Hardsigmoid docs: 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 otherwise.
    x = np.array([-4.0, -3.0, 0.0, 1.5, 3.0, 4.0])
    np.testing.assert_allclose(hardsigmoid.forward(x), [0, 0, 0.5, 0.75, 1, 1], rtol=1e-15)
    np.testing.assert_array_equal(_grad(hardsigmoid, x), [0, 0, 1 / 6, 1 / 6, 0, 0])


def test_hardsigmoid_golden_keras2_definition():
    # tf.keras 2 hard_sigmoid docstring example: [-3, -1, 0, 1, 3] -> [0, 0.3, 0.5, 0.7, 1].
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    got = hardsigmoid.forward(x, slope=0.2, offset=0.5)
    np.testing.assert_allclose(got, [0, 0.3, 0.5, 0.7, 1], rtol=1e-15)


def test_hardsigmoid_nan_and_huge():
    assert np.isnan(hardsigmoid.forward(np.array([np.nan]))[0])
    np.testing.assert_array_equal(_quiet(hardsigmoid.forward, HUGE), (HUGE > 0).astype(float))
    # An overflowing slope * x clips to the right end, without a warning.
    big = _quiet(hardsigmoid.forward, np.array([-1e300, 1e300]), slope=1e10)
    np.testing.assert_array_equal(big, [0.0, 1.0])


# -- hardswish ----------------------------------------------------------------------------


def test_hardswish_golden_and_kinks():
    # torch.nn.Hardswish docs: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 otherwise:
    # x = -1.5 gives -1.5 * 1.5 / 6 = -0.375, x = 1 gives 4 / 6.  Derivative (2x + 3) / 6
    # inside (1/2 at 0, 5/6 at 1), 0 at -3 and 1 at 3 (the outer pieces).
    x = np.array([-4.0, -3.0, -1.5, 0.0, 1.0, 3.0, 4.0])
    np.testing.assert_allclose(hardswish.forward(x), [0, 0, -0.375, 0, 4 / 6, 3, 4], rtol=1e-15)
    np.testing.assert_allclose(_grad(hardswish, x), [0, 0, 0, 0.5, 5 / 6, 1, 1], rtol=1e-15)


def test_hardswish_is_x_times_hardsigmoid():
    x = np.linspace(-5.0, 5.0, 101)
    # Same number, rounded differently ((x + 3) / 6 vs x / 6 + 1/2): a few ulps of |x|.
    np.testing.assert_allclose(hardswish.forward(x), x * hardsigmoid.forward(x), atol=5e-15)


def test_hardswish_nan_and_huge():
    assert np.isnan(hardswish.forward(np.array([np.nan]))[0])
    y = _quiet(hardswish.forward, HUGE)
    np.testing.assert_array_equal(y, np.where(HUGE > 0, HUGE, 0.0))
    np.testing.assert_array_equal(_quiet(_grad, hardswish, HUGE), (HUGE > 0).astype(float))
    g = hardswish.backward(np.array([np.nan]), np.array([-5.0]))["x"]
    np.testing.assert_array_equal(g, [0.0])
