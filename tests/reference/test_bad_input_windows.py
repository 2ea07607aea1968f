"""Proof (d) for the windowed layers: every bad input raises ValueError naming the
parameter and the offending value (conv2d, maxpool2d, avgpool2d, im2col, col2im)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from reference import avgpool2d, conv2d, maxpool2d
from reference.im2col import col2im, im2col

pytestmark = pytest.mark.reference

X = np.zeros((1, 2, 5, 5))
W = np.zeros((4, 2, 3, 3))


def _conv(x=X, w=W, b=None, **attrs):
    return lambda: conv2d.forward(x, w, b, **attrs)


def _conv_backward(**kw):
    return lambda: conv2d.backward(np.zeros((1, 4, 3, 3)), X, W, **kw)


def _max(**kw):
    return lambda: maxpool2d.forward(X, **{"kernel_size": 2, **kw})


def _max_backward(**kw):
    return lambda: maxpool2d.backward(np.zeros((1, 2, 2, 2)), X, **{"kernel_size": 2, **kw})


def _avg(**kw):
    return lambda: avgpool2d.forward(X, **{"kernel_size": 2, **kw})


def _avg_backward(**kw):
    return lambda: avgpool2d.backward(np.zeros((1, 2, 2, 2)), X, **{"kernel_size": 2, **kw})


# (id, call, regex the message must match: the parameter name and the value)
CASES = [
    # padding
    ("conv_negative_padding", _conv(padding=-1), r"padding.*-1"),
    ("conv_negative_pair_padding", _conv(padding=(1, -2)), r"padding.*\(1, -2\)"),
    ("conv_negative_side_padding", _conv(padding=((0, 1), (2, -1))), r"padding.*-1\)\)"),
    ("conv_unknown_padding_string", _conv(padding="full"), r"padding.*'full'"),
    ("conv_float_padding", _conv(padding=1.5), r"padding.*1\.5"),
    ("conv_three_padding_values", _conv(padding=(1, 1, 1)), r"padding.*\(1, 1, 1\)"),
    ("max_negative_padding", _max(padding=-2), r"padding.*-2"),
    ("max_unknown_padding_string", _max(padding="SAME_LOWER"), r"padding.*'SAME_LOWER'"),
    ("avg_negative_padding", _avg(padding=(0, -1)), r"padding.*\(0, -1\)"),
    ("avg_unknown_padding_string", _avg(padding="causal"), r"padding.*'causal'"),
    # stride / dilation / kernel_size
    ("conv_zero_stride", _conv(stride=0), r"stride.*0"),
    ("conv_negative_stride", _conv(stride=(1, -1)), r"stride.*\(1, -1\)"),
    ("conv_bool_stride", _conv(stride=True), r"stride.*True"),
    ("conv_zero_dilation", _conv(dilation=0), r"dilation.*0"),
    ("conv_negative_dilation", _conv(dilation=(-1, 1)), r"dilation.*\(-1, 1\)"),
    ("max_zero_stride", _max(stride=0), r"stride.*0"),
    ("max_zero_kernel", _max(kernel_size=0), r"kernel_size.*0"),
    ("max_negative_kernel", _max(kernel_size=(2, -3)), r"kernel_size.*\(2, -3\)"),
    ("max_three_kernel_values", _max(kernel_size=(2, 2, 2)), r"kernel_size.*\(2, 2, 2\)"),
    ("max_zero_dilation", _max(dilation=0), r"dilation.*0"),
    ("avg_zero_stride", _avg(stride=(0, 1)), r"stride.*\(0, 1\)"),
    ("avg_zero_kernel", _avg(kernel_size=0), r"kernel_size.*0"),
    # kernel larger than the padded input
    ("conv_kernel_too_large", _conv(w=np.zeros((4, 2, 7, 3))), r"w kernel size.*\(7, 3\)"),
    ("conv_dilated_kernel_too_large", _conv(dilation=3), r"w kernel size.*dilation 3"),
    ("max_kernel_too_large", _max(kernel_size=6), r"kernel_size 6"),
    ("max_dilated_kernel_too_large", _max(kernel_size=3, dilation=3), r"kernel_size 3.*dilation 3"),
    ("avg_kernel_too_large", _avg(kernel_size=(2, 8), padding=1), r"kernel_size \(2, 8\)"),
    # windows made of padding alone
    ("max_window_all_padding", _max(padding=3), r"padding 3.*no input cell"),
    (
        "avg_exclude_pad_window_all_padding",
        _avg(padding=3, count_include_pad=False),
        r"padding 3.*no input cell",
    ),
    # groups and channels
    ("conv_groups_not_dividing_channels", _conv(groups=3), r"groups 3.*2 input channels"),
    (
        "conv_groups_not_dividing_out_channels",
        _conv(w=np.zeros((3, 1, 3, 3)), groups=2),
        r"groups 2.*3 output channels",
    ),
    ("conv_zero_groups", _conv(groups=0), r"groups.*0"),
    ("conv_float_groups", _conv(groups=1.0), r"groups.*1\.0"),
    (
        "conv_weight_channel_mismatch",
        _conv(w=np.zeros((4, 3, 3, 3))),
        r"w shape \(4, 3, 3, 3\).*x shape \(1, 2, 5, 5\)",
    ),
    (
        "conv_weight_channel_mismatch_grouped",
        _conv(w=np.zeros((4, 2, 3, 3)), groups=2),
        r"w shape \(4, 2, 3, 3\).*4 input channels",
    ),
    ("conv_bias_shape", _conv(b=np.zeros(3)), r"b shape \(3,\)"),
    # ndim and dtype
    ("conv_x_3d", _conv(x=np.zeros((2, 5, 5))), r"x .*shape \(2, 5, 5\)"),
    ("conv_w_2d", _conv(w=np.zeros((4, 18))), r"w .*shape \(4, 18\)"),
    ("max_x_3d", lambda: maxpool2d.forward(np.zeros((2, 5, 5)), kernel_size=2), r"x .*\(2, 5, 5\)"),
    ("avg_x_5d", lambda: avgpool2d.forward(np.zeros((1,) * 5), kernel_size=1), r"x .*\(1, 1, 1"),
    ("conv_string_x", _conv(x=np.array([["a"]])), r"x .*dtype <U1"),
    # attribute types
    ("avg_zero_divisor", _avg(divisor_override=0), r"divisor_override.*0"),
    ("avg_float_divisor", _avg(divisor_override=2.5), r"divisor_override.*2\.5"),
    ("avg_count_include_pad_string", _avg(count_include_pad="yes"), r"count_include_pad.*'yes'"),
    ("max_ceil_mode_string", _max(ceil_mode="x"), r"ceil_mode.*'x'"),
    ("avg_ceil_mode_none", _avg(ceil_mode=None), r"ceil_mode.*None"),
    # grad_out shape
    (
        "conv_grad_out_shape",
        lambda: conv2d.backward(np.zeros((1, 4, 2, 2)), X, W),
        r"grad_out shape \(1, 4, 2, 2\)",
    ),
    ("conv_backward_bad_padding", _conv_backward(padding=-1), r"padding.*-1"),
    (
        "max_grad_out_shape",
        lambda: maxpool2d.backward(np.zeros((1, 2, 3, 3)), X, kernel_size=2),
        r"grad_out shape \(1, 2, 3, 3\)",
    ),
    ("max_backward_bad_stride", _max_backward(stride=0), r"stride.*0"),
    (
        "avg_grad_out_shape",
        lambda: avgpool2d.backward(np.zeros((1, 2, 3, 3)), X, kernel_size=2),
        r"grad_out shape \(1, 2, 3, 3\)",
    ),
    ("avg_backward_bad_padding", _avg_backward(padding="full"), r"padding.*'full'"),
    # im2col / col2im
    ("im2col_zero_stride", lambda: im2col(X, 3, stride=0), r"stride.*0"),
    ("im2col_bad_padding", lambda: im2col(X, 3, padding=-1), r"padding.*-1"),
    ("im2col_kernel_too_large", lambda: im2col(X, 6), r"kernel_size 6"),
    ("col2im_cols_shape", lambda: col2im(np.zeros((9, 17)), X.shape, 3), r"cols shape \(9, 17\)"),
    ("col2im_x_shape", lambda: col2im(np.zeros((9, 18)), (1, 2, 5), 3), r"x_shape.*\(1, 2, 5\)"),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_messages_are_whole_sentences_not_numpy_errors():
    """The layers check before NumPy fails: no message is a bare NumPy broadcast error."""
    for case_id, call, _ in CASES:
        with pytest.raises(ValueError) as info:
            call()
        assert not re.search(r"operands could not be broadcast|cannot reshape", str(info.value)), (
            case_id
        )


def test_large_padding_is_accepted_when_every_window_sees_the_input():
    """Documented choice: padding beyond torch's k/2 limit is fine while every window has
    a real cell (here kernel 3, padding 2 and stride 1)."""
    x = np.arange(16.0).reshape(1, 1, 4, 4) - 100.0
    y = maxpool2d.forward(x, kernel_size=3, stride=1, padding=2)
    assert y.shape == (1, 1, 6, 6)
    assert y[0, 0, 0, 0] == x[0, 0, 0, 0]  # the corner window's only real cell
    assert np.isfinite(y).all()
