"""Proof (d) for the non-windowed layers: every bad input raises ValueError whose message
names the parameter and the offending value (relu, sigmoid, tanh, linear, flatten,
softmax, cross_entropy, mse, batchnorm2d, dropout, signal)."""

from __future__ import annotations

import re

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

X4 = np.zeros((2, 3, 2, 2))
C3 = np.ones(3)
LOGITS = np.zeros((4, 3))
TARGET = np.array([0, 1, 2, 0])


def _bn(x=X4, gamma=C3, beta=C3, rm=C3, rv=C3, **attrs):
    return lambda: batchnorm2d.forward(x, gamma, beta, rm, rv, **{"training": True, **attrs})


# (id, call, pattern the message must match: parameter name and offending value)
CASES = [
    # Elementwise activations: dtype and grad_out shape.
    ("relu_string_dtype", lambda: relu.forward(np.array(["a"])), r"x .*dtype <U1"),
    (
        "relu_grad_shape",
        lambda: relu.backward(np.zeros(3), np.zeros(4)),
        r"grad_out shape \(3,\).*\(4,\)",
    ),
    (
        "sigmoid_grad_shape",
        lambda: sigmoid.backward(np.zeros((2, 2)), np.zeros(4)),
        r"grad_out shape \(2, 2\).*\(4,\)",
    ),
    ("tanh_complex", lambda: tanh.forward(np.zeros(2, complex)), r"x .*dtype complex128"),
    # linear
    (
        "linear_in_features",
        lambda: linear.forward(np.zeros((2, 4)), np.zeros((5, 3))),
        r"x shape \(2, 4\).*4 in_features.*w shape \(5, 3\)",
    ),
    (
        "linear_w_ndim",
        lambda: linear.forward(np.zeros((2, 4)), np.zeros(4)),
        r"w must have 2 dimensions, got shape \(4,\)",
    ),
    (
        "linear_x_scalar",
        lambda: linear.forward(np.float64(1.0), np.zeros((1, 3))),
        r"x must have at least 1 dimension.*shape \(\)",
    ),
    (
        "linear_b_shape",
        lambda: linear.forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros(2)),
        r"b shape \(2,\).*3 out_features",
    ),
    (
        "linear_b_ndim",
        lambda: linear.forward(np.zeros((2, 4)), np.zeros((4, 3)), np.zeros((1, 3))),
        r"b must have 1 dimensions, got shape \(1, 3\)",
    ),
    (
        "linear_grad_shape",
        lambda: linear.backward(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((4, 3))),
        r"grad_out shape \(2, 4\).*\(2, 3\)",
    ),
    # flatten
    (
        "flatten_start_dim_range",
        lambda: flatten.forward(X4, start_dim=4),
        r"start_dim 4 is out of range.*4 dimensions",
    ),
    (
        "flatten_start_dim_negative",
        lambda: flatten.forward(X4, start_dim=-5),
        r"start_dim -5 is out of range",
    ),
    (
        "flatten_start_dim_type",
        lambda: flatten.forward(X4, start_dim=1.0),
        r"start_dim must be an int, got 1\.0",
    ),
    (
        "flatten_start_dim_bool",
        lambda: flatten.forward(X4, start_dim=True),
        r"start_dim must be an int, got True",
    ),
    ("flatten_scalar", lambda: flatten.forward(np.float64(2.0)), r"x must have at least 1.*\(\)"),
    (
        "flatten_grad_shape",
        lambda: flatten.backward(np.zeros((2, 3, 4)), X4),
        r"grad_out shape \(2, 3, 4\).*\(2, 12\)",
    ),
    # softmax
    ("softmax_axis", lambda: softmax.forward(LOGITS, axis=2), r"axis 2 is out of range"),
    (
        "softmax_axis_type",
        lambda: softmax.forward(LOGITS, axis="1"),
        r"axis must be an int, got '1'",
    ),
    (
        "softmax_grad_shape",
        lambda: softmax.backward(np.zeros((3, 4)), LOGITS),
        r"grad_out shape \(3, 4\).*\(4, 3\)",
    ),
    # cross_entropy (torch semantics)
    (
        "ce_reduction",
        lambda: cross_entropy.forward(LOGITS, TARGET, reduction="avg"),
        r"reduction .*'avg'",
    ),
    (
        "ce_reduction_backward",
        lambda: cross_entropy.backward(0.0, LOGITS, TARGET, reduction="batchmean"),
        r"reduction .*'batchmean'",
    ),
    (
        "ce_index_high",
        lambda: cross_entropy.forward(LOGITS, np.array([0, 3, 1, 1])),
        r"target class index 3 is out of range \[0, 3\)",
    ),
    (
        "ce_index_negative",
        lambda: cross_entropy.forward(LOGITS, np.array([0, 1, -100, 1])),
        r"target class index -100 is out of range",
    ),
    (
        "ce_index_shape",
        lambda: cross_entropy.forward(LOGITS, np.array([0, 1, 2])),
        r"target shape \(3,\).*logits shape \(4, 3\).*expected \(4,\)",
    ),
    (
        "ce_prob_shape",
        lambda: cross_entropy.forward(LOGITS, np.zeros((4, 2))),
        r"target shape \(4, 2\).*logits shape \(4, 3\)",
    ),
    (
        "ce_float_indices",
        lambda: cross_entropy.forward(LOGITS, np.array([0.0, 1.0, 2.0, 0.0])),
        r"target shape \(4,\) of class probabilities.*logits shape \(4, 3\)",
    ),
    (
        "ce_bool_target",
        lambda: cross_entropy.forward(LOGITS, np.ones(4, bool)),
        r"target must be .*dtype bool",
    ),
    (
        "ce_logits_1d",
        lambda: cross_entropy.forward(np.zeros(3), np.array(1)),
        r"logits must have shape \(N, C\).*\(3,\)",
    ),
    (
        "ce_grad_shape_none",
        lambda: cross_entropy.backward(np.zeros(3), LOGITS, TARGET, reduction="none"),
        r"grad_out shape \(3,\).*\(4,\)",
    ),
    (
        "ce_grad_shape_mean",
        lambda: cross_entropy.backward(np.zeros(4), LOGITS, TARGET),
        r"grad_out shape \(4,\).*\(\)",
    ),
    # Keras categorical_crossentropy
    (
        "keras_ce_shape",
        lambda: cross_entropy.categorical_crossentropy(np.ones((4, 3)), np.ones((4, 2))),
        r"target shape \(4, 2\).*probs shape \(4, 3\)",
    ),
    (
        "keras_ce_axis",
        lambda: cross_entropy.categorical_crossentropy(np.ones((4, 3)), np.ones((4, 3)), axis=2),
        r"axis 2 is out of range",
    ),
    (
        "keras_ce_reduction",
        lambda: cross_entropy.categorical_crossentropy(
            np.ones((4, 3)), np.ones((4, 3)), reduction="sum_over_batch_size"
        ),
        r"reduction .*'sum_over_batch_size'",
    ),
    (
        "keras_ce_grad_shape",
        lambda: cross_entropy.categorical_crossentropy_backward(
            np.zeros(3), np.ones((4, 3)), np.ones((4, 3)), reduction="none"
        ),
        r"grad_out shape \(3,\).*\(4,\)",
    ),
    # mse
    (
        "mse_shape",
        lambda: mse.forward(np.zeros((2, 3)), np.zeros((3, 2))),
        r"target shape \(3, 2\).*pred shape \(2, 3\)",
    ),
    (
        "mse_broadcast",
        lambda: mse.forward(np.zeros((2, 3)), np.zeros(3)),
        r"target shape \(3,\).*pred shape \(2, 3\)",
    ),
    (
        "mse_reduction",
        lambda: mse.forward(np.zeros(2), np.zeros(2), reduction="elementwise_mean"),
        r"reduction .*'elementwise_mean'",
    ),
    (
        "mse_reduction_none_value",
        lambda: mse.forward(np.zeros(2), np.zeros(2), reduction=None),
        r"reduction .*None",
    ),
    (
        "mse_grad_shape",
        lambda: mse.backward(np.zeros(2), np.zeros(2), np.zeros(2)),
        r"grad_out shape \(2,\).*\(\)",
    ),
    # batchnorm2d
    ("bn_x_ndim", _bn(x=np.zeros((2, 3))), r"x must have 4 dimensions, got shape \(2, 3\)"),
    ("bn_gamma_shape", _bn(gamma=np.ones(2)), r"gamma shape \(2,\).*3 channels"),
    ("bn_beta_shape", _bn(beta=np.ones(4)), r"beta shape \(4,\).*3 channels"),
    (
        "bn_running_mean_shape",
        _bn(rm=np.ones((3, 1))),
        r"running_mean must have 1 dimensions, got shape \(3, 1\)",
    ),
    ("bn_running_var_shape", _bn(rv=np.ones(1)), r"running_var shape \(1,\).*3 channels"),
    ("bn_eps_negative", _bn(eps=-1e-5), r"eps must be .*-1e-05"),
    ("bn_eps_nan", _bn(eps=float("nan")), r"eps must be .*nan"),
    ("bn_training_type", _bn(training="yes"), r"training must be a bool, got 'yes'"),
    (
        "bn_grad_shape",
        lambda: batchnorm2d.backward(np.zeros((2, 3)), X4, C3, C3, C3, C3, training=False),
        r"grad_out shape \(2, 3\).*\(2, 3, 2, 2\)",
    ),
    (
        "bn_update_convention",
        lambda: batchnorm2d.update_running_stats(X4, C3, C3, convention="tf"),
        r"convention must be 'torch' or 'keras', got 'tf'",
    ),
    (
        "bn_update_momentum",
        lambda: batchnorm2d.update_running_stats(X4, C3, C3, convention="torch", momentum=1.5),
        r"momentum must be .*\[0, 1\], got 1\.5",
    ),
    (
        "bn_update_one_value",
        lambda: batchnorm2d.update_running_stats(
            np.zeros((1, 3, 1, 1)), C3, C3, convention="torch"
        ),
        r"x shape \(1, 3, 1, 1\).*n = N\*H\*W = 1",
    ),
    (
        "bn_update_unbiased_not_bool",
        lambda: batchnorm2d.update_running_stats(X4, C3, C3, convention="keras", unbiased=1),
        r"unbiased must be True, False or None, got 1",
    ),
    (
        "bn_update_running_var_shape",
        lambda: batchnorm2d.update_running_stats(X4, C3, np.ones(2), convention="keras"),
        r"running_var shape \(2,\).*3 channels",
    ),
    # dropout
    (
        "dropout_p_one",
        lambda: dropout.forward(X4, p=1.0, mask=X4 == 0),
        r"p must be .*\[0, 1\), got 1\.0",
    ),
    ("dropout_p_negative", lambda: dropout.forward(X4, p=-0.1, mask=X4 == 0), r"p must .*-0\.1"),
    ("dropout_p_nan", lambda: dropout.forward(X4, p=float("nan"), mask=X4 == 0), r"p must .*nan"),
    ("dropout_p_string", lambda: dropout.forward(X4, p="0.5", mask=X4 == 0), r"p must .*'0\.5'"),
    (
        "dropout_mask_shape",
        lambda: dropout.forward(X4, p=0.5, mask=np.ones((2, 3))),
        r"mask shape \(2, 3\) does not match x shape \(2, 3, 2, 2\)",
    ),
    (
        "dropout_mask_values",
        lambda: dropout.forward(np.zeros(3), p=0.5, mask=np.array([1, 2, 0])),
        r"mask values must be 0 or 1, got 2",
    ),
    (
        "dropout_mask_scaled",
        lambda: dropout.forward(np.zeros(2), p=0.5, mask=np.array([2.0, 0.0])),
        r"mask values must be 0 or 1, got 2\.0",
    ),
    (
        "dropout_mask_missing",
        lambda: dropout.forward(X4, p=0.5, mask=None),
        r"mask is None.*training=True",
    ),
    (
        "dropout_training_type",
        lambda: dropout.forward(X4, p=0.5, mask=X4 == 0, training=1),
        r"training must be a bool, got 1",
    ),
    (
        "dropout_grad_shape",
        lambda: dropout.backward(np.zeros(3), np.zeros(4), p=0.5, mask=np.ones(4, bool)),
        r"grad_out shape \(3,\).*\(4,\)",
    ),
    # signal
    (
        "signal_mode",
        lambda: signal.correlate(np.zeros(5), np.zeros(2), mode="circular"),
        r"mode must be one of .*'circular'",
    ),
    (
        "signal_mode_number",
        lambda: signal.convolve2d(np.zeros((3, 3)), np.zeros((2, 2)), mode=1),
        r"mode must be one of .*, got 1",
    ),
    (
        "signal_ndim_mismatch",
        lambda: signal.convolve(np.zeros(5), np.zeros((2, 2))),
        r"in1 shape \(5,\) and in2 shape \(2, 2\)",
    ),
    (
        "signal_2d_ndim",
        lambda: signal.correlate2d(np.zeros(5), np.zeros(2)),
        r"in1 must have 2 dimensions, got shape \(5,\)",
    ),
    (
        "signal_2d_ndim_in2",
        lambda: signal.convolve2d(np.zeros((3, 3)), np.zeros((1, 2, 2))),
        r"in2 must have 2 dimensions, got shape \(1, 2, 2\)",
    ),
    (
        "signal_empty",
        lambda: signal.correlate(np.zeros(5), np.zeros(0)),
        r"in2 must be a non-empty .*shape \(0,\)",
    ),
    (
        "signal_scalar",
        lambda: signal.convolve(np.float64(1.0), np.float64(2.0)),
        r"in1 must be a non-empty .*shape \(\)",
    ),
    (
        "signal_valid_neither_larger",
        lambda: signal.correlate2d(np.zeros((5, 2)), np.zeros((2, 5)), mode="valid"),
        r"mode 'valid'.*in1 shape \(5, 2\) and in2 shape \(2, 5\)",
    ),
    (
        "signal_grad_shape",
        lambda: signal.correlate_backward(np.zeros(5), np.zeros(5), np.zeros(2), mode="valid"),
        r"grad_out shape \(5,\).*\(4,\)",
    ),
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error(call, pattern):
    with pytest.raises(ValueError) as info:
        call()
    assert re.search(pattern, str(info.value)), (
        f"message {str(info.value)!r} does not match {pattern!r}"
    )
