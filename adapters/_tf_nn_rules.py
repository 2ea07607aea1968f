"""When the tf.nn adapter cannot run a configuration, in TensorFlow's own words.

Each rule either resolves what tf.nn is given (the pooling padding that reproduces the
reference's windows) or raises ``Unsupported`` quoting TensorFlow: an error it raises when
asked directly (``common.refusal``), its signature or docstring, or what it did when a
tiny case was run (its CPU conv kernels run grouped and dilated convolutions forward but
refuse their gradients, so that rule is asked by ``Prepared.backward`` only).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from adapters import _tf_common as common
from adapters.base import Unsupported


def conv2d_gradient(adapter, groups: int, dilation, dtype: np.dtype) -> None:
    """Raise ``Unsupported`` when TensorFlow refuses this conv's gradients on CPU."""
    grouped, dilated = groups > 1, any(d > 1 for d in common.pair(dilation))
    if not (grouped or dilated):
        return
    message = _cpu_conv_gradient_refusal(adapter, grouped, dilated, np.dtype(dtype).name)
    if message is not None:
        what = "grouped" if grouped else "dilated"
        raise Unsupported(
            f"backward: tf.nn.conv2d gradients of a {what} convolution on CPU: {message}"
        )


@cache
def _cpu_conv_gradient_refusal(adapter, grouped: bool, dilated: bool, dtype: str) -> str | None:
    """Run a tiny grouped/dilated conv backward through the adapter's own tf.nn.conv2d
    call; TensorFlow's refusal, or None if it runs (a TF release that adds the kernels
    lifts the rule by itself)."""
    c = 2 if grouped else 1
    out = 3 if dilated else 4
    # 4 channels in 2 groups: grouped, not depthwise (groups == C_in is
    # tf.nn.depthwise_conv2d, another op).
    prepared = adapter.conv2d(
        np.ones((1, 4, 5, 5), dtype),
        np.ones((2, 4 // c, 2, 2), dtype),
        groups=c,
        dilation=2 if dilated else 1,
    )
    try:
        prepared.tape(np.ones((1, 2, out, out), dtype)).call()
    except Exception as exc:  # TensorFlow's own refusal, whatever its type
        return common.exception_text(exc)
    return None


def max_pool_padding(tf, size_hw, attrs) -> Any:
    """tf.nn's padding giving the reference's max-pooling windows: "VALID", "SAME" or
    explicit NHWC pairs (undilated only); raises ``Unsupported`` when there is none."""
    dilation = common.pair(attrs["dilation"])
    stride = common.pair(attrs["stride"] or attrs["kernel_size"])
    if dilation != (1, 1) and stride != (1, 1):
        raise Unsupported(
            "tf.nn.pool (the dilated tf.nn pooling) refuses strides > 1: "
            + common.refusal(
                lambda: tf.nn.pool(
                    np.zeros((1, 8, 8, 1), "float32"),
                    [2, 2],
                    "MAX",
                    strides=[2, 2],
                    padding="VALID",
                    dilations=[2, 2],
                )
            )
        )
    kernel = common.pair(attrs["kernel_size"])
    pads = common.padding_pairs(attrs["padding"], size_hw, kernel, stride, dilation)
    candidates = ["VALID", "SAME"] + ([pads] if dilation == (1, 1) else [])
    padding = common.matching_tf_padding(
        size_hw, attrs, candidates, average=False, dilation=dilation
    )
    if padding == "SAME" and dilation != (1, 1):
        raise Unsupported(
            "tf.nn.pool (the dilated tf.nn pooling): the reference's windows are TF's "
            "'SAME' ones, but "
            + common.refusal(
                lambda: tf.nn.pool(
                    np.zeros((1, 4, 4, 1), "float32"),
                    [2, 2],
                    "MAX",
                    padding="SAME",
                    dilations=list(dilation),
                )
            )
        )
    if padding is None:
        raise Unsupported(
            f"{common.signature(tf.nn.max_pool2d, 'tf.nn.max_pool2d')} has no ceil_mode "
            "and no dilation (tf.nn.pool has dilation at stride 1 only); neither padding "
            "'VALID', 'SAME' nor the reference's explicit pairs give the reference's "
            f"windows for {common.pooling_summary(attrs)} on {tuple(size_hw)}"
        )
    if isinstance(padding, str):
        return padding
    return [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]


def avg_pool_padding(tf, size_hw, attrs) -> str:
    """ "VALID" or "SAME" when it gives the reference's windows and divisors; raises
    ``Unsupported`` otherwise (tf.nn.avg_pool2d takes no explicit pairs)."""
    padding = common.matching_tf_padding(size_hw, attrs, ["VALID", "SAME"], average=True)
    if padding is not None:
        return padding
    explicit = common.refusal(
        lambda: tf.nn.avg_pool2d(
            np.zeros((1, 4, 4, 1), "float32"), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]
        )
    )
    raise Unsupported(
        f"{common.signature(tf.nn.avg_pool2d, 'tf.nn.avg_pool2d')} takes padding "
        f"'VALID' or 'SAME' only (explicit pairs: {explicit}), has no ceil_mode, "
        "count_include_pad or divisor_override, and SAME divides by the number of real "
        "cells; neither gives the reference's windows and divisors for "
        f"{common.pooling_summary(attrs)} on {tuple(size_hw)}"
    )


def dropout_training(tf, training) -> None:
    """Raise ``Unsupported`` for inference mode, which tf.nn.dropout does not have."""
    if training:
        return
    raise Unsupported(
        "tf.nn.dropout has no inference mode: "
        + common.refusal(lambda: tf.nn.dropout(np.ones(2, "float32"), rate=0.5, training=False))
    )


def no_probability_crossentropy(tf) -> str:
    """Why Keras' crossentropy on probabilities has no tf.nn counterpart."""
    op = tf.nn.softmax_cross_entropy_with_logits
    signature = common.signature(op, "tf.nn.softmax_cross_entropy_with_logits")
    logits = common.doc_line(op, "logits:")
    return (
        "tf.nn has no crossentropy on probabilities (Keras' categorical_crossentropy "
        f"renormalises and clips them); its crossentropy, {signature}, takes logits: "
        f"`{logits}`"
    )


def no_probability_binary_crossentropy(tf) -> str:
    """Why binary cross-entropy on probabilities has no tf.nn counterpart."""
    op = tf.nn.sigmoid_cross_entropy_with_logits
    signature = common.signature(op, "tf.nn.sigmoid_cross_entropy_with_logits")
    logits = common.doc_line(op, "logits:")
    return (
        "tf.nn has no binary crossentropy on probabilities; its binary crossentropy, "
        f"{signature}, takes logits: `{logits}`"
    )


def no_label_smoothing(tf) -> str:
    """Why label smoothing has no tf.nn counterpart."""
    ops = [tf.nn.softmax_cross_entropy_with_logits, tf.nn.sparse_softmax_cross_entropy_with_logits]
    names = [
        "tf.nn.softmax_cross_entropy_with_logits",
        "tf.nn.sparse_softmax_cross_entropy_with_logits",
    ]
    signatures = " and ".join(
        common.signature(op, name) for op, name in zip(ops, names, strict=True)
    )
    return f"tf.nn's crossentropies take no label smoothing: {signatures}"


def depthwise_strides_with_dilation(tf, strides, dilations) -> None:
    """Raise ``Unsupported`` for strides > 1 with dilations > 1: tf.nn.depthwise_conv2d
    then only warns ("When dilation rate is greater than 1, then all values of strides
    must be 1") and computes another function (keras-team/keras#23027)."""
    if max(strides) > 1 and max(dilations) > 1:
        said = _depthwise_warning(tf, tuple(strides), tuple(dilations))
        if said:
            raise Unsupported(f"tf.nn.depthwise_conv2d: {said}")


@cache
def _depthwise_warning(tf, strides, dilations) -> str | None:
    """TensorFlow's own warning for this combination, from a tiny call (None: no warning,
    the rule has been lifted)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.nn.depthwise_conv2d(
            np.ones((1, 9, 9, 1), "float32"),
            np.ones((2, 2, 1, 1), "float32"),
            [1, *strides, 1],
            "VALID",
            dilations=list(dilations),
        )
    said = [str(w.message) for w in caught if "dilation" in str(w.message)]
    return " ".join(said[0].split()) if said else None
