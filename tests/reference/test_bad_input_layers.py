"""Proof (d): every bad input raises ValueError whose message names the parameter and the
offending value.  The layers' bad inputs are declared with each layer
(``tests/layers/<module>.py``, ``ErrorInput``); the helpers that are not layers
(``batchnorm2d.update_running_stats``, ``im2col``, ``col2im``) are listed here."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reference import batchnorm2d
from reference.im2col import col2im, im2col
from tests import layers

pytestmark = pytest.mark.reference

_X4 = np.zeros((2, 3, 2, 2))
_C3 = np.ones(3)
_X = np.zeros((1, 2, 5, 5))


def _layer_params():
    for info in layers.all_layers():
        for bad in info.error_inputs:
            yield pytest.param(info, bad, id=f"{info.name}-{bad.id}")


def call_reference(info, bad):
    if bad.direction == "backward":
        return info.backward(bad.grad_out, **bad.inputs, **bad.attrs)
    return info.forward(**bad.inputs, **bad.attrs)


@pytest.mark.parametrize(("info", "bad"), list(_layer_params()))
def test_layer_bad_input_raises_value_error(info, bad):
    with pytest.raises(ValueError) as raised:
        call_reference(info, bad)
    message = str(raised.value)
    assert re.search(bad.match, message), f"message {message!r} does not match {bad.match!r}"
    # The layers check before NumPy fails: no message is a bare NumPy error.
    assert not re.search(r"operands could not be broadcast|cannot reshape", message)


HELPERS = [
    (
        "bn_update_convention",
        lambda: batchnorm2d.update_running_stats(_X4, _C3, _C3, convention="tf"),
        r"convention must be 'torch' or 'keras', got 'tf'",
    ),
    (
        "bn_update_momentum",
        lambda: batchnorm2d.update_running_stats(_X4, _C3, _C3, convention="torch", momentum=1.5),
        r"momentum must be .*\[0, 1\], got 1\.5",
    ),
    (
        "bn_update_one_value",
        lambda: batchnorm2d.update_running_stats(
            np.zeros((1, 3, 1, 1)), _C3, _C3, convention="torch"
        ),
        r"x shape \(1, 3, 1, 1\).*n = N\*H\*W = 1",
    ),
    (
        "bn_update_unbiased_not_bool",
        lambda: batchnorm2d.update_running_stats(_X4, _C3, _C3, convention="keras", unbiased=1),
        r"unbiased must be True, False or None, got 1",
    ),
    (
        "bn_update_running_var_shape",
        lambda: batchnorm2d.update_running_stats(_X4, _C3, np.ones(2), convention="keras"),
        r"running_var shape \(2,\).*3 channels",
    ),
    ("im2col_zero_stride", lambda: im2col(_X, 3, stride=0), r"stride.*0"),
    ("im2col_bad_padding", lambda: im2col(_X, 3, padding=-1), r"padding.*-1"),
    ("im2col_kernel_too_large", lambda: im2col(_X, 6), r"kernel_size 6"),
    (
        "col2im_cols_shape",
        lambda: col2im(np.zeros((9, 17)), _X.shape, 3),
        r"cols shape \(9, 17\)",
    ),
    (
        "col2im_x_shape",
        lambda: col2im(np.zeros((9, 18)), (1, 2, 5), 3),
        r"x_shape.*\(1, 2, 5\)",
    ),
]


@pytest.mark.parametrize(("call", "pattern"), [c[1:] for c in HELPERS], ids=[c[0] for c in HELPERS])
def test_helper_bad_input_raises_value_error(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_large_padding_is_accepted_when_every_window_sees_the_input():
    """Documented choice: padding beyond torch's k/2 limit is fine while every window has
    a real cell (here kernel 3, padding 2 and stride 1)."""
    from reference import maxpool2d

    x = np.arange(16.0).reshape(1, 1, 4, 4) - 100.0
    y = maxpool2d.forward(x, kernel_size=3, stride=1, padding=2)
    assert y.shape == (1, 1, 6, 6)
    assert y[0, 0, 0, 0] == x[0, 0, 0, 0]  # the corner window's only real cell
    assert np.isfinite(y).all()
