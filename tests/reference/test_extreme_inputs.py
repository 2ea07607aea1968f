"""The reference under bad and extreme input, beyond the declared ``ErrorInput``s: ragged
lists for every declared layer, empty tensors (torch's answers, derived here from the
definitions), and bool-like attributes.  Huge kernels and paddings are in
test_pool_extremes.py.

Where torch answers an empty input, the reference gives the same shapes, and values
that follow from its own definitions (a sum over nothing is 0, a mean over nothing NaN);
where torch refuses, ``tests/layers/*.py`` declares the ValueError.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from reference import (
    avgpool2d,
    batchnorm2d,
    conv2d,
    cross_entropy,
    dropout,
    linear,
    maxpool2d,
    mse,
    softmax,
)
from tests import layers

pytestmark = pytest.mark.reference


# -- ragged nested lists ----------------------------------------------------------------


def _ragged(value: np.ndarray) -> list:
    """``value`` as nested lists with one more innermost row, an entry longer than the others
    (or, for a 1-D array, a number beside a list): NumPy cannot make an array of it."""
    rows = np.asarray(value).tolist()
    if np.ndim(value) < 2:
        return [rows[0] if rows else 0, [1, 2]]
    inner = rows
    while isinstance(inner[-1][-1], list):
        inner = inner[-1]
    inner.append([*inner[-1], 0])  # a row one entry longer than the one before it
    return rows


def _ragged_params():
    for info in layers.all_layers():
        case = info.cases[0]
        for name, value in case.inputs.items():
            if value is not None:
                yield pytest.param(info, case, name, id=f"{info.name}-{name}")


@pytest.mark.parametrize(("info", "case", "name"), list(_ragged_params()))
def test_ragged_input_raises_value_error_naming_it(info, case, name):
    """79 fuzzed calls raised NumPy's "inhomogeneous shape" error, naming no parameter."""
    inputs = {**case.inputs, name: _ragged(case.inputs[name])}
    with pytest.raises(ValueError) as forward_error:
        info.forward(**inputs, **case.attrs)
    assert str(forward_error.value).startswith(f"{name} must be a rectangular array")
    y = info.forward(**case.inputs, **case.attrs)
    with pytest.raises(ValueError) as backward_error:
        info.backward(np.ones_like(y), **inputs, **case.attrs)
    assert str(backward_error.value).startswith(f"{name} must be a rectangular array")


@pytest.mark.parametrize("info", layers.all_layers(), ids=lambda info: info.name)
def test_ragged_grad_out_raises_value_error_naming_it(info):
    case = info.cases[0]
    y = info.forward(**case.inputs, **case.attrs)
    grad_out = _ragged(y) if np.ndim(y) else [1.0, [2.0]]
    with pytest.raises(ValueError, match=r"^grad_out must be a rectangular array"):
        info.backward(grad_out, **case.inputs, **case.attrs)


# -- empty tensors that torch accepts ----------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_empty_batch_is_the_batch_sliced_to_nothing(stride, bias):
    """N = 0 crashed at stride 2 (forward) and at every stride (backward)."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4) if bias else None
    attrs = {"stride": stride, "padding": 1}
    y = conv2d.forward(x[:0], w, b, **attrs)
    assert y.shape == conv2d.forward(x, w, b, **attrs)[:0].shape
    grads = conv2d.backward(np.ones(y.shape), x[:0], w, b, **attrs)
    assert grads["x"].shape == (0, 3, 6, 5)
    np.testing.assert_array_equal(grads["w"], np.zeros_like(w))  # a sum over no image
    if bias:
        np.testing.assert_array_equal(grads["b"], np.zeros(4))


def test_conv2d_no_input_channels_gives_the_bias():
    """A sum over no channel is 0 (torch returns 0 output channels here by design,
    pytorch/pytorch#66256; the reference keeps y's (N, M, out_h, out_w) contract)."""
    b = np.arange(4.0)
    y = conv2d.forward(np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), b, stride=2)
    np.testing.assert_array_equal(y, np.broadcast_to(b[:, None, None], (2, 4, 2, 2)))
    grads = conv2d.backward(
        np.ones_like(y), np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), b, stride=2
    )
    assert grads["x"].shape == (2, 0, 5, 5)
    assert grads["w"].shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(grads["b"], np.full(4, 8.0))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_zero_features(bias):
    """in_features = 0 or out_features = 0 crashed in the backward's reshape."""
    g = np.ones((3, 5))
    b = np.arange(5.0) if bias else None
    y = linear.forward(np.zeros((3, 0)), np.zeros((0, 5)), b)
    np.testing.assert_array_equal(y, np.broadcast_to(b if bias else 0.0, (3, 5)))
    grads = linear.backward(g, np.zeros((3, 0)), np.zeros((0, 5)), b)
    assert grads["x"].shape == (3, 0)
    assert grads["w"].shape == (0, 5)
    if bias:
        np.testing.assert_array_equal(grads["b"], np.full(5, 3.0))
    none_out = linear.backward(np.ones((3, 0)), np.ones((3, 4)), np.ones((4, 0)))
    np.testing.assert_array_equal(none_out["x"], np.zeros((3, 4)))
    assert none_out["w"].shape == (4, 0)


@pytest.mark.parametrize("shape", [(3, 0), (0, 4)])
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_of_empty_is_empty(shape, axis):
    """(3, 0) crashed in np.max ("zero-size array to reduction operation")."""
    x = np.zeros(shape)
    assert softmax.forward(x, axis=axis).shape == shape
    assert softmax.backward(x, x, axis=axis)["x"].shape == shape


def test_cross_entropy_with_no_class_follows_torch():
    """Probability targets over zero classes: each loss is a sum over nothing (0); "mean"
    is NaN, as torch fills it for empty logits (aten/src/ATen/native/LossNLL.cpp,
    cross_entropy_loss_prob_target).  Class indices cannot exist: ValueError."""
    logits, target = np.zeros((3, 0)), np.zeros((3, 0))
    np.testing.assert_array_equal(cross_entropy.forward(logits, target, reduction="none"), 0)
    assert cross_entropy.forward(logits, target, reduction="sum") == 0
    assert np.isnan(cross_entropy.forward(logits, target, reduction="mean"))
    for reduction in ("mean", "sum", "none"):
        g = np.ones(3) if reduction == "none" else np.float64(1)
        grad = cross_entropy.backward(g, logits, target, reduction=reduction)["logits"]
        assert grad.shape == (3, 0)
    with pytest.raises(ValueError, match=r"target class index 0 is out of range \[0, 0\)"):
        cross_entropy.forward(logits, np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    "call",
    [
        lambda: cross_entropy.forward(np.zeros((0, 4)), np.zeros(0, dtype=int)),
        lambda: cross_entropy.forward(np.zeros((2, 4, 0)), np.zeros((2, 0), int)),
        lambda: mse.forward(np.zeros((0, 3)), np.zeros((0, 3))),
    ],
    ids=["cross_entropy_no_sample", "cross_entropy_no_position", "mse_no_element"],
)
def test_mean_over_no_loss_is_nan_without_warning(call):
    """torch: the mean of no loss is NaN.  It used to warn (0/0) on the way."""
    with np.errstate(all="raise"):
        assert np.isnan(call())


def test_losses_backward_over_nothing_is_empty_without_warning():
    with np.errstate(all="raise"):
        grad = mse.backward(np.float64(1), np.zeros((0, 3)), np.zeros((0, 3)))
        assert grad["pred"].shape == (0, 3)
        grad = cross_entropy.backward(np.float64(1), np.zeros((0, 4)), np.zeros(0, dtype=int))
        assert grad["logits"].shape == (0, 4)


@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 3, 0, 4)])
def test_batchnorm_training_on_no_value_is_empty_with_zero_parameter_gradients(shape):
    """torch answers an empty batch or map with an empty output and zero gamma/beta grads;
    the reference used to warn ("Mean of empty slice", 0/0) on the way."""
    c = np.ones(3)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")  # np.mean of nothing warns outside errstate
        y = batchnorm2d.forward(np.zeros(shape), c, c, c, c, training=True)
        grads = batchnorm2d.backward(np.zeros(shape), np.zeros(shape), c, c, c, c, training=True)
    assert y.shape == shape
    assert grads["x"].shape == shape
    np.testing.assert_array_equal(grads["gamma"], 0)
    np.testing.assert_array_equal(grads["beta"], 0)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pools_empty_batch_is_empty(ceil_mode):
    x = np.zeros((0, 2, 5, 5))
    for layer in (maxpool2d, avgpool2d):
        y = layer.forward(x, kernel_size=2, ceil_mode=ceil_mode)
        assert y.shape == (0, 2, 3, 3) if ceil_mode else (0, 2, 2, 2)
        assert layer.backward(y, x, kernel_size=2, ceil_mode=ceil_mode)["x"].shape == x.shape


# -- bool attributes -----------------------------------------------------------------------

_X = np.arange(16.0).reshape(1, 1, 4, 4)
_C = np.ones(1)
BOOL_ATTRIBUTES = {
    "maxpool2d.ceil_mode": lambda v: maxpool2d.forward(_X, kernel_size=3, stride=2, ceil_mode=v),
    "avgpool2d.ceil_mode": lambda v: avgpool2d.forward(_X, kernel_size=3, stride=2, ceil_mode=v),
    "avgpool2d.count_include_pad": lambda v: avgpool2d.forward(
        _X, kernel_size=3, padding=1, count_include_pad=v
    ),
    "dropout.training": lambda v: dropout.forward(_X, p=0.5, mask=_X > 3, training=v),
    "batchnorm2d.training": lambda v: batchnorm2d.forward(_X, _C, _C, _C, _C, training=v),
}


@pytest.mark.parametrize("attribute", list(BOOL_ATTRIBUTES))
def test_bool_attributes_take_numpy_bools_and_refuse_ints(attribute):
    """ceil_mode accepted -1 and refused np.bool_(True); every flag now takes bool and
    np.bool_ alike, with the same result, and refuses 0, 1, -1 and None."""
    call = BOOL_ATTRIBUTES[attribute]
    name = attribute.split(".")[1]
    for value in (True, False):
        np.testing.assert_array_equal(call(np.bool_(value)), call(value))
    for value in (-1, 0, 1, np.int64(1), None, "True"):
        with pytest.raises(ValueError, match=re.escape(f"{name} must be a bool, got {value!r}")):
            call(value)


# -- float16 dropout near p = 1 -----------------------------------------------------------


@pytest.mark.parametrize(("p", "scale"), [(0.99995, 20000.0), (1 - 1e-8, np.inf)])
def test_float16_dropout_near_one(p, scale):
    """1 - p was rounded to float16 first: to 0 for p = 1 - 1e-8, which made dropped
    units 0/0 = NaN (for 0.99995 it is a subnormal, still close enough).  torch 2.13
    (torch.nn.functional.dropout on float16, run here) gives 0 for dropped units and
    20000 / inf for kept ones of value 1: the scale 1/(1 - p) applied in float32 and
    rounded once."""
    x = np.array([1.0, -2.0, 0.5, 1.0], np.float16)
    mask = np.array([True, False, False, True])
    for y in (dropout.forward(x, p=p, mask=mask), dropout.backward(x, x, p=p, mask=mask)["x"]):
        assert y.dtype == np.float16
        np.testing.assert_array_equal(y[~mask], 0)
        np.testing.assert_array_equal(y[mask], np.float16(scale))
