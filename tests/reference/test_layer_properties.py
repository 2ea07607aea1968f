"""Obviously-correct properties of the non-windowed layers: explicit loops, invariances,
IEEE propagation, dtypes, and hand-derived values for seed 004's signal inputs."""

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

pytestmark = pytest.mark.reference


# ---------------------------------------------------------------------------------------
# Activations and softmax: stability and IEEE propagation


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_sum_to_one_for_huge_logits(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1, 1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = softmax.forward(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(y[0], [1, 0, 0])
    np.testing.assert_allclose(y[2], [1 / 3] * 3, rtol=4 * np.finfo(dtype).eps)


def test_softmax_is_shift_invariant():
    x = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_allclose(softmax.forward(x + 1e3), softmax.forward(x), rtol=1e-12)


def test_nan_propagates_and_is_not_clipped():
    x = np.array([[1.0, np.nan, -1.0], [1.0, 2.0, 3.0]])
    assert np.isnan(relu.forward(x)[0, 1])
    assert np.isnan(sigmoid.forward(x)[0, 1])
    assert np.isnan(tanh.forward(x)[0, 1])
    y = softmax.forward(x)
    assert np.all(np.isnan(y[0])), "a NaN logit makes its whole row NaN (IEEE)"
    assert np.all(np.isfinite(y[1]))
    assert np.isnan(mse.forward(x, np.zeros_like(x)))
    assert np.isnan(cross_entropy.forward(x, np.array([0, 1]), reduction="none")[0])


def test_inf_follows_ieee():
    x = np.array([np.inf, -np.inf])
    np.testing.assert_array_equal(relu.forward(x), [np.inf, 0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_array_equal(sigmoid.forward(x), [1, 0])
    np.testing.assert_array_equal(tanh.forward(x), [1, -1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_no_overflow_and_small_outputs_keep_precision(dtype):
    x = np.array([-1e4, -80.0, -40.0, 0.0, 40.0, 1e4], dtype=dtype)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = sigmoid.forward(x)
        sigmoid.backward(np.ones_like(x), x)
    assert y.dtype == dtype
    # sigmoid(-40) = e^-40 / (1 + e^-40): computing 1 - sigmoid(40) would give 0.
    np.testing.assert_allclose(
        y[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=8 * np.finfo(dtype).eps
    )
    assert y[0] == 0
    assert y[3] == 0.5
    assert y[-1] == 1


def test_relu_derivative_at_zero_is_zero():
    grad = relu.backward(np.array([5.0, 5.0, 5.0]), np.array([-0.0, 0.0, 1e-300]))["x"]
    np.testing.assert_array_equal(grad, [0.0, 0.0, 5.0])


# ---------------------------------------------------------------------------------------
# linear, flatten


def _linear_loop(x, w, b):
    x2 = x.reshape(-1, x.shape[-1])
    out = np.zeros((x2.shape[0], w.shape[1]))
    for n in range(x2.shape[0]):
        for j in range(w.shape[1]):
            acc = 0.0 if b is None else b[j]
            for i in range(w.shape[0]):
                acc += x2[n, i] * w[i, j]
            out[n, j] = acc
    return out.reshape((*x.shape[:-1], w.shape[1]))


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("x_shape", [(4, 5), (2, 3, 5)])
def test_linear_equals_explicit_loop(with_bias, x_shape):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(x_shape), rng.standard_normal((5, 3))
    b = rng.standard_normal(3) if with_bias else None
    np.testing.assert_allclose(
        linear.forward(x, w, b), _linear_loop(x, w, b), rtol=1e-12, atol=1e-12
    )
    grads = linear.backward(np.ones((*x_shape[:-1], 3)), x, w, b)
    assert ("b" in grads) == with_bias


def test_flatten_is_channel_major_row_order():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    y = flatten.forward(x)
    assert y.shape == (2, 60)
    for n in range(2):
        np.testing.assert_array_equal(
            y[n], [x[n, c, h, w] for c in range(3) for h in range(4) for w in range(5)]
        )
    assert flatten.forward(x, start_dim=0).shape == (120,)
    assert flatten.forward(x, start_dim=-2).shape == (2, 3, 20)


# ---------------------------------------------------------------------------------------
# Losses


def test_cross_entropy_index_equals_one_hot_probabilities():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((6, 4, 2))
    target = rng.integers(0, 4, (6, 2))
    one_hot = np.moveaxis(np.eye(4)[target], -1, 1)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(
            cross_entropy.forward(logits, target, reduction=reduction),
            cross_entropy.forward(logits, one_hot, reduction=reduction), rtol=1e-14,
        )  # fmt: skip
        g = np.ones(()) if reduction != "none" else rng.standard_normal((6, 2))
        np.testing.assert_allclose(
            cross_entropy.backward(g, logits, target, reduction=reduction)["logits"],
            cross_entropy.backward(g, logits, one_hot, reduction=reduction)["logits"], atol=1e-15,
        )  # fmt: skip


def test_cross_entropy_equals_minus_log_softmax_and_survives_huge_logits():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 3))
    target = rng.integers(0, 3, 5)
    by_hand = -np.log(np.exp(logits[np.arange(5), target]) / np.exp(logits).sum(axis=1))
    np.testing.assert_allclose(
        cross_entropy.forward(logits, target, reduction="none"), by_hand, rtol=1e-13
    )
    np.testing.assert_allclose(cross_entropy.forward(logits, target), by_hand.mean(), rtol=1e-13)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        huge = cross_entropy.forward(logits + 1e4, target, reduction="none")
    np.testing.assert_allclose(huge, by_hand, rtol=1e-9)


def test_keras_crossentropy_renormalises_and_clips():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(4), 5)
    t = rng.dirichlet(np.ones(4), 5)
    by_hand = -(t * np.log(p)).sum(axis=1)
    np.testing.assert_allclose(
        cross_entropy.categorical_crossentropy(p, t, reduction="none"), by_hand, rtol=1e-13
    )
    np.testing.assert_allclose(
        cross_entropy.categorical_crossentropy(3 * p, t), by_hand.mean(), rtol=1e-13
    )
    # A zero probability is clipped to Keras's epsilon 1e-7: -log(1e-7) per unit of target.
    zero = cross_entropy.categorical_crossentropy(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(zero, -np.log(1e-7), rtol=1e-15)


def test_mse_reductions_agree():
    rng = np.random.default_rng(5)
    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    none = mse.forward(pred, target, reduction="none")
    np.testing.assert_array_equal(none, (pred - target) ** 2)
    np.testing.assert_allclose(mse.forward(pred, target, reduction="sum"), none.sum(), rtol=1e-14)
    np.testing.assert_allclose(mse.forward(pred, target), none.mean(), rtol=1e-14)


# ---------------------------------------------------------------------------------------
# Batch norm and its running statistics


def test_batchnorm_training_output_has_beta_mean_and_gamma_scale():
    rng = np.random.default_rng(6)
    x = 5 + 3 * rng.standard_normal((4, 2, 3, 3))
    gamma, beta = np.array([2.0, 0.5]), np.array([-1.0, 3.0])
    y = batchnorm2d.forward(x, gamma, beta, np.zeros(2), np.ones(2), training=True, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), gamma, rtol=1e-12)
    # Eval with running stats equal to the batch's biased stats gives the same output.
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    y_eval = batchnorm2d.forward(x, gamma, beta, mean, var, training=False, eps=0.0)
    np.testing.assert_allclose(y_eval, y, rtol=1e-12, atol=1e-12)


def _running_stats_loop(x, old_mean, old_var, momentum, convention):
    """Per channel, with Python sums; the update rules of the torch docs and Keras
    source cited in reference/batchnorm2d.py."""
    new_mean, new_var = [], []
    for c in range(x.shape[1]):
        values = [float(v) for v in x[:, c].ravel()]
        n = len(values)
        mean = sum(values) / n
        biased = sum((v - mean) ** 2 for v in values) / n
        if convention == "torch":
            unbiased = biased * n / (n - 1)
            new_mean.append((1 - momentum) * old_mean[c] + momentum * mean)
            new_var.append((1 - momentum) * old_var[c] + momentum * unbiased)
        else:
            new_mean.append(momentum * old_mean[c] + (1 - momentum) * mean)
            new_var.append(momentum * old_var[c] + (1 - momentum) * biased)
    return np.array(new_mean), np.array(new_var)


@pytest.mark.parametrize(("convention", "default"), [("torch", 0.1), ("keras", 0.99)])
def test_running_stats_update_matches_hand_loop(convention, default):
    rng = np.random.default_rng(7)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    for _step in range(3):  # a few consecutive training steps
        x = 2 + rng.standard_normal((2, 3, 2, 3))
        want = _running_stats_loop(x, mean, var, default, convention)
        got = batchnorm2d.update_running_stats(x, mean, var, convention=convention)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-13)
        mean, var = got
    custom = batchnorm2d.update_running_stats(x, mean, var, convention=convention, momentum=0.3)
    want = _running_stats_loop(x, mean, var, 0.3, convention)
    np.testing.assert_allclose(custom[1], want[1], rtol=1e-13)


def test_torch_and_keras_running_stats_differ_only_by_the_variance_estimator():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 2, 2))  # n = 8 values per channel
    old_mean, old_var = np.zeros(2), np.ones(2)
    t_mean, t_var = batchnorm2d.update_running_stats(
        x, old_mean, old_var, convention="torch", momentum=1.0
    )
    k_mean, k_var = batchnorm2d.update_running_stats(
        x, old_mean, old_var, convention="keras", momentum=0.0
    )
    np.testing.assert_allclose(t_mean, k_mean, rtol=1e-15)
    np.testing.assert_allclose(t_var, k_var * 8 / 7, rtol=1e-14)


def test_running_stats_estimator_override():
    # unbiased=True with the Keras weighting is Keras 2's fused kernel (tensorflow#55545):
    # only the batch variance term changes, by n/(n-1); unbiased=False turns torch biased.
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 2, 2, 2))  # n = 8 values per channel
    old_mean, old_var = np.zeros(2), np.ones(2)
    # The share of the old value each convention keeps at its default momentum.
    for convention, keep in (("keras", 0.99), ("torch", 0.9)):
        biased = batchnorm2d.update_running_stats(
            x, old_mean, old_var, convention=convention, unbiased=False
        )
        unbiased = batchnorm2d.update_running_stats(
            x, old_mean, old_var, convention=convention, unbiased=True
        )
        np.testing.assert_array_equal(biased[0], unbiased[0])
        np.testing.assert_allclose(
            unbiased[1] - keep, (biased[1] - keep) * 8 / 7, rtol=1e-12, err_msg=convention
        )


# ---------------------------------------------------------------------------------------
# Dropout


def test_dropout_scaling_and_eval_identity():
    x = np.array([1.0, -2.0, 3.0, 4.0])
    np.testing.assert_array_equal(
        dropout.forward(x, p=0.5, mask=[True, False, True, False]), [2, 0, 6, 0]
    )
    np.testing.assert_array_equal(dropout.forward(x, p=0.0, mask=np.ones(4)), x)
    y = dropout.forward(x, p=0.5, mask=np.zeros(4), training=False)
    np.testing.assert_array_equal(y, x)
    assert y is not x
    np.testing.assert_array_equal(
        dropout.backward(np.ones(4), x, p=0.75, mask=[1, 1, 0, 1])["x"], [4, 4, 0, 4]
    )


# ---------------------------------------------------------------------------------------
# float32 stays float32


def _f32_calls():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    c = np.ones(3, np.float32)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    probs = rng.uniform(0.1, 1, (4, 3)).astype(np.float32)
    s1, s2 = (
        rng.standard_normal((5, 4)).astype(np.float32),
        rng.standard_normal((2, 3)).astype(np.float32),
    )
    g = np.float32(1.0)
    return {
        "relu": (relu.forward(x), relu.backward(x, x)),
        "sigmoid": (sigmoid.forward(x), sigmoid.backward(x, x)),
        "tanh": (tanh.forward(x), tanh.backward(x, x)),
        "linear": (
            linear.forward(w, w.T, c[:2]),
            linear.backward(np.ones((2, 2), np.float32), w, w.T, c[:2]),
        ),
        "flatten": (flatten.forward(x), flatten.backward(x.reshape(2, 12), x)),
        "softmax": (softmax.forward(x, axis=1), softmax.backward(x, x, axis=1)),
        "cross_entropy": (
            cross_entropy.forward(logits, np.arange(4) % 3),
            cross_entropy.backward(g, logits, np.arange(4) % 3),
        ),
        "cross_entropy_prob": (
            cross_entropy.forward(logits, probs),
            cross_entropy.backward(g, logits, probs),
        ),
        "keras_ce": (
            cross_entropy.categorical_crossentropy(probs, probs),
            cross_entropy.categorical_crossentropy_backward(g, probs, probs),
        ),
        "mse": (mse.forward(x, x), mse.backward(g, x, x)),
        "batchnorm2d": (
            batchnorm2d.forward(x, c, c, c, c, training=True),
            batchnorm2d.backward(x, x, c, c, c, c, training=True),
        ),
        "running_stats": (*batchnorm2d.update_running_stats(x, c, c, convention="torch"), {}),
        "dropout": (
            dropout.forward(x, p=0.5, mask=x > 0),
            dropout.backward(x, x, p=0.5, mask=x > 0),
        ),
        "correlate": (
            signal.correlate(s1, s2, "same"),
            signal.correlate_backward(s1, s1, s2, "same"),
        ),
        "convolve2d": (
            signal.convolve2d(s1, s2),
            signal.convolve2d_backward(np.ones((6, 6), np.float32), s1, s2),
        ),
    }


@pytest.mark.parametrize("name", list(_f32_calls()))
def test_float32_in_float32_out(name):
    *outputs, grads = _f32_calls()[name]
    for arr in [*outputs, *grads.values()]:
        assert np.asarray(arr).dtype == np.float32, f"{name}: {np.asarray(arr).dtype}"


# ---------------------------------------------------------------------------------------
# Signal view on seed 004's inputs (derived by hand from seed 004's inputs; the seed
# prints no outputs).

SEED4_X = np.array([2.0, 8, 3, 7, 1, 2, 0, 4, 5])
SEED4_W = np.array([2.0, 1, 5, 3])
# convolve full y[m] = sum_j w[j] x[m - j]:
#   y0 = 2*2 = 4; y1 = 2*8 + 1*2 = 18; y2 = 2*3 + 8 + 5*2 = 24; y3 = 2*7 + 3 + 5*8 + 3*2 = 63;
#   y4 = 2 + 7 + 15 + 24 = 48; y5 = 4 + 1 + 35 + 9 = 49; y6 = 0 + 2 + 5 + 21 = 28;
#   y7 = 8 + 0 + 10 + 3 = 21; y8 = 10 + 4 + 0 + 6 = 20; y9 = 5 + 20 + 0 = 25;
#   y10 = 25 + 12 = 37; y11 = 3*5 = 15.
SEED4_CONV_FULL = np.array([4.0, 18, 24, 63, 48, 49, 28, 21, 20, 25, 37, 15])


def test_seed004_convolve_full_and_same():
    np.testing.assert_array_equal(signal.convolve(SEED4_X, SEED4_W, "full"), SEED4_CONV_FULL)
    # 'same': 9 outputs starting at (4 - 1) // 2 = 1 of the 12.
    np.testing.assert_array_equal(signal.convolve(SEED4_X, SEED4_W, "same"), SEED4_CONV_FULL[1:10])
    np.testing.assert_array_equal(signal.convolve(SEED4_X, SEED4_W, "valid"), SEED4_CONV_FULL[3:9])


def test_seed004_valid_swaps_when_in2_is_larger():
    # correlate valid of (x, w) is [48, 57, 24, 25, 16, 39] (2*2 + 8 + 3*5 + 7*3 = 48, ...);
    # with the arguments swapped the full correlation is reversed, so valid is too.
    forward = signal.correlate(SEED4_X, SEED4_W, "valid")
    np.testing.assert_array_equal(forward, [48, 57, 24, 25, 16, 39])
    np.testing.assert_array_equal(signal.correlate(SEED4_W, SEED4_X, "valid"), forward[::-1])
    np.testing.assert_array_equal(signal.convolve(SEED4_W, SEED4_X, "valid"), SEED4_CONV_FULL[3:9])


SEED4_X2 = np.arange(1.0, 10.0).reshape(3, 3)
SEED4_W2 = np.array([[2.0, 0.0], [0.0, 0.0]])


def test_seed004_even_kernel_same_centring_differs_between_nd_and_2d():
    # Full correlation c[m] = sum_i x[i] w[i - m + 1] is non-zero only where i = m - 1:
    # c = 2 * x shifted down-right by one in a 4x4 array (first row and column 0).
    full = np.zeros((4, 4))
    full[1:, 1:] = 2 * SEED4_X2
    np.testing.assert_array_equal(signal.correlate(SEED4_X2, SEED4_W2, "full"), full)
    np.testing.assert_array_equal(signal.correlate2d(SEED4_X2, SEED4_W2, "full"), full)
    # N-D 'same' starts at (2 - 1) // 2 = 0; correlate2d's starts at 2 // 2 = 1.
    np.testing.assert_array_equal(
        signal.correlate(SEED4_X2, SEED4_W2, "same"), [[0, 0, 0], [0, 2, 4], [0, 8, 10]]
    )
    np.testing.assert_array_equal(signal.correlate2d(SEED4_X2, SEED4_W2, "same"), 2 * SEED4_X2)
    # Convolution flips w, so 2 * x lands top-left of the full output; both 'same' start at 0.
    np.testing.assert_array_equal(signal.convolve2d(SEED4_X2, SEED4_W2, "same"), 2 * SEED4_X2)
    np.testing.assert_array_equal(signal.convolve(SEED4_X2, SEED4_W2, "same"), 2 * SEED4_X2)
    np.testing.assert_array_equal(
        signal.convolve2d(SEED4_X2, SEED4_W2, "valid"), [[10, 12], [16, 18]]
    )


def _correlate_loop(a, b):
    """Full 1-D correlation straight from the definition, over the overlap only."""
    out = np.zeros(len(a) + len(b) - 1)
    for m in range(len(out)):
        for i in range(len(a)):
            j = i - m + len(b) - 1
            if 0 <= j < len(b):
                out[m] += a[i] * b[j]
    return out


@pytest.mark.parametrize(("n", "k"), [(9, 4), (4, 9), (5, 5), (1, 3)])
def test_correlate_equals_definition_loop(n, k):
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal(n), rng.standard_normal(k)
    np.testing.assert_allclose(
        signal.correlate(a, b), _correlate_loop(a, b), rtol=1e-13, atol=1e-14
    )
    np.testing.assert_allclose(
        signal.convolve(a, b), _correlate_loop(a, b[::-1]), rtol=1e-13, atol=1e-14
    )


def test_signal_nan_stays_local():
    # Sums run over the overlap only: a NaN in x touches only the outputs that use it.
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    y = signal.correlate(x, np.ones(2), "valid")
    np.testing.assert_array_equal(np.isnan(y), [False, True, True, False, False])
