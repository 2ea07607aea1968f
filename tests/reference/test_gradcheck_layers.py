"""Proof (b) for the non-windowed layers: every backward matches float64 central
differences of its forward (tests/gradcheck.py), over reductions, target kinds,
training/eval, and every signal mode with odd and even kernels."""

from __future__ import annotations

import numpy as np
import pytest

from reference import (
    batchnorm2d,
    cross_entropy,
    dropout,
    flatten,
    linear,
    mse,
    relu,
    sigmoid,
    signal,
    softmax,
    tanh,
)
from tests.gradcheck import check_backward

pytestmark = pytest.mark.reference


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _away_from_zero(rng, shape):
    # Central differences straddle ReLU's kink when |x| < step; stay well clear of it.
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ---------------------------------------------------------------------------------------
# Activations, linear, flatten, softmax


@pytest.mark.parametrize("shape", [(7,), (2, 3, 2, 2)])
def test_relu(shape):
    check_backward(relu.forward, relu.backward, {"x": _away_from_zero(_rng(1), shape)})


@pytest.mark.parametrize("scale", [1.0, 8.0])
def test_sigmoid(scale):
    x = scale * _rng(2).standard_normal((3, 5))
    check_backward(sigmoid.forward, sigmoid.backward, {"x": x})


def test_tanh():
    check_backward(tanh.forward, tanh.backward, {"x": 2 * _rng(3).standard_normal((2, 3, 4))})


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape", [(4, 5), (2, 3, 5), (5,)])
def test_linear(with_bias, x_shape):
    rng = _rng(4)
    inputs = {"x": rng.standard_normal(x_shape), "w": rng.standard_normal((5, 3))}
    if with_bias:
        inputs["b"] = rng.standard_normal(3)
    check_backward(linear.forward, linear.backward, inputs)


@pytest.mark.parametrize("start_dim", [0, 1, 2, -1])
def test_flatten(start_dim):
    x = _rng(5).standard_normal((2, 3, 2, 2))
    check_backward(flatten.forward, flatten.backward, {"x": x}, {"start_dim": start_dim})


@pytest.mark.parametrize(("shape", "axis"), [((4, 6), -1), ((4, 6), 0), ((2, 4, 2, 3), 1)])
def test_softmax(shape, axis):
    x = _rng(6).standard_normal(shape)
    check_backward(softmax.forward, softmax.backward, {"x": x}, {"axis": axis})


def test_softmax_large_logits():
    x = 1e4 + _rng(7).standard_normal((3, 4))
    check_backward(softmax.forward, softmax.backward, {"x": x})


# ---------------------------------------------------------------------------------------
# Losses

REDUCTIONS = ["mean", "sum", "none"]


def _index_target(rng, logits_shape):
    return rng.integers(0, logits_shape[1], logits_shape[:1] + logits_shape[2:])


def _prob_target(rng, logits_shape):
    t = rng.uniform(0.0, 1.0, logits_shape)
    return t / t.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["index", "prob", "prob_unnormalised"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 2, 2)])
def test_cross_entropy(reduction, target_kind, shape):
    rng = _rng(8)
    logits = 2 * rng.standard_normal(shape)
    if target_kind == "index":
        target = _index_target(rng, shape)
    elif target_kind == "prob":
        target = _prob_target(rng, shape)
    else:  # torch accepts probability targets that do not sum to 1
        target = rng.uniform(0.0, 2.0, shape)
    check_backward(
        cross_entropy.forward,
        cross_entropy.backward,
        {"logits": logits, "target": target},
        {"reduction": reduction},
        wrt=("logits",),
    )


def test_cross_entropy_large_logits():
    rng = _rng(9)
    logits = 500 * rng.standard_normal((4, 3))
    # Scale so the softmax is not saturated: the gradient is then non-trivial.
    logits = 1e4 + logits / 100
    check_backward(
        cross_entropy.forward,
        cross_entropy.backward,
        {"logits": logits, "target": rng.integers(0, 3, 4)},
        wrt=("logits",),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "axis"), [((5, 4), -1), ((2, 3, 4), 1), ((4,), 0)])
def test_keras_categorical_crossentropy(reduction, shape, axis):
    rng = _rng(10)
    # Unnormalised, positive, far from the clip bounds after renormalisation.
    probs = rng.uniform(0.2, 1.0, shape)
    target = rng.uniform(0.0, 1.0, shape)
    check_backward(
        cross_entropy.categorical_crossentropy,
        cross_entropy.categorical_crossentropy_backward,
        {"probs": probs, "target": target},
        {"axis": axis, "reduction": reduction},
    )


def test_keras_crossentropy_fully_clipped_row_has_zero_gradient():
    # Row 0: p ~ [1 - 2e-12, 1e-12, 1e-12], every entry clipped; row 1 unclipped.
    probs = np.array([[1.0, 1e-12, 1e-12], [0.3, 0.3, 0.4]])
    target = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    grad = cross_entropy.categorical_crossentropy_backward(
        np.ones(2), probs, target, reduction="none"
    )["probs"]
    np.testing.assert_array_equal(grad[0], np.zeros(3))
    assert np.all(grad[1] != 0)
    # The loss is constant there: nudging the clipped entries changes nothing.
    nudged = probs + np.array([[-1e-9, 1e-13, 3e-13], [0, 0, 0]])
    np.testing.assert_array_equal(
        cross_entropy.categorical_crossentropy(nudged, target, reduction="none")[0],
        cross_entropy.categorical_crossentropy(probs, target, reduction="none")[0],
    )


def test_keras_crossentropy_partly_clipped_row():
    """p[0, 2] = 5e-8 < 1e-7 is clipped: its own log term has no gradient, but the
    entry still moves the others through the renormalisation sum.  Central differences
    with a step that keeps it clipped (check_backward's 1e-6 would cross the bound)."""
    probs = np.array([[0.7, 0.3, 5e-8], [0.2, 0.5, 0.3]])
    target = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    grad = cross_entropy.categorical_crossentropy_backward(1.0, probs, target)["probs"]
    h = 1e-8
    for idx in np.ndindex(probs.shape):
        e = np.zeros_like(probs)
        e[idx] = h
        up = cross_entropy.categorical_crossentropy(probs + e, target)
        down = cross_entropy.categorical_crossentropy(probs - e, target)
        numeric = (up - down) / (2 * h)
        assert abs(numeric - grad[idx]) <= 1e-6 * max(1.0, abs(numeric)), idx
    # The clipped entry's target weight does not reach the gradient.
    other = target.copy()
    other[0, 2] = 0.0
    np.testing.assert_array_equal(
        cross_entropy.categorical_crossentropy_backward(1.0, probs, other)["probs"], grad
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse(reduction):
    rng = _rng(11)
    inputs = {"pred": rng.standard_normal((2, 3, 2)), "target": rng.standard_normal((2, 3, 2))}
    check_backward(mse.forward, mse.backward, inputs, {"reduction": reduction}, wrt=("pred",))


# ---------------------------------------------------------------------------------------
# Batch norm, dropout


def _bn_inputs(rng, shape=(3, 2, 2, 3)):
    c = shape[1]
    return {
        "x": 1.0 + 2.0 * rng.standard_normal(shape),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
        "running_mean": rng.standard_normal(c),
        "running_var": rng.uniform(0.5, 2.0, c),
    }


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize(("shape", "eps"), [((3, 2, 2, 3), 1e-5), ((1, 3, 3, 2), 1e-3)])
def test_batchnorm2d(training, shape, eps):
    check_backward(
        batchnorm2d.forward,
        batchnorm2d.backward,
        _bn_inputs(_rng(12), shape),
        {"training": training, "eps": eps},
    )


def test_batchnorm2d_large_input_directional():
    # 96 elements in x: checked along random directions.
    check_backward(
        batchnorm2d.forward, batchnorm2d.backward, _bn_inputs(_rng(13), (4, 2, 3, 4)),
        {"training": True},
    )  # fmt: skip


@pytest.mark.parametrize(("p", "training"), [(0.5, True), (0.0, True), (0.9, True), (0.5, False)])
def test_dropout(p, training):
    rng = _rng(14)
    x = rng.standard_normal((3, 4))
    mask = rng.random((3, 4)) >= p
    check_backward(
        dropout.forward, dropout.backward, {"x": x, "mask": mask},
        {"p": p, "training": training}, wrt=("x",),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Signal view: every function x mode x odd/even kernel, and a kernel larger than in1.

SIGNAL_1D = [
    (signal.correlate, signal.correlate_backward),
    (signal.convolve, signal.convolve_backward),
]
SIGNAL_2D = [
    (signal.correlate2d, signal.correlate2d_backward),
    (signal.convolve2d, signal.convolve2d_backward),
    (signal.correlate, signal.correlate_backward),
    (signal.convolve, signal.convolve_backward),
]


def _names(pairs):
    return [f.__name__ for f, _ in pairs]


@pytest.mark.parametrize("mode", signal.MODES)
@pytest.mark.parametrize(("n", "k"), [(9, 3), (9, 4), (3, 5), (4, 4)])
@pytest.mark.parametrize("pair", SIGNAL_1D, ids=_names(SIGNAL_1D))
def test_signal_1d(pair, n, k, mode):
    rng = _rng(15)
    inputs = {"in1": rng.standard_normal(n), "in2": rng.standard_normal(k)}
    check_backward(*pair, inputs, {"mode": mode})


@pytest.mark.parametrize("mode", signal.MODES)
@pytest.mark.parametrize(
    ("shape", "kshape"), [((5, 6), (3, 3)), ((5, 6), (2, 4)), ((4, 4), (2, 2)), ((2, 3), (4, 5))]
)
@pytest.mark.parametrize("pair", SIGNAL_2D, ids=_names(SIGNAL_2D))
def test_signal_2d(pair, shape, kshape, mode):
    rng = _rng(16)
    inputs = {"in1": rng.standard_normal(shape), "in2": rng.standard_normal(kshape)}
    check_backward(*pair, inputs, {"mode": mode})


@pytest.mark.parametrize("mode", signal.MODES)
def test_signal_3d_correlate(mode):
    rng = _rng(17)
    inputs = {"in1": rng.standard_normal((3, 4, 2)), "in2": rng.standard_normal((2, 3, 2))}
    check_backward(signal.correlate, signal.correlate_backward, inputs, {"mode": mode})
