"""When the tf.nn adapter cannot run a case, in TensorFlow's own words.

Each reason quotes TensorFlow: an error it raises when asked directly
(``common.refusal``), its signature or docstring, or what it did when a tiny case was
run (its CPU conv kernels run grouped and dilated convolutions forward but refuse their
gradients).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from adapters import _tf_common as common


def unsupported(adapter, layer, inputs, attrs, dtype: np.dtype, direction) -> str | None:
    rule = _RULES.get(layer)
    return rule(adapter, inputs, attrs, dtype, direction) if rule else None


def _conv2d(adapter, inputs, attrs, dtype, direction):
    groups = int(attrs.get("groups", 1))
    dilated = pair_gt1(attrs.get("dilation", 1))
    if direction == "forward" or (groups == 1 and not dilated):
        return None
    message = _cpu_conv_backward_refusal(adapter, groups > 1, dilated, dtype.name)
    if message is None:
        return None
    what = "grouped" if groups > 1 else "dilated"
    return f"backward: tf.nn.conv2d gradients of a {what} convolution on CPU: {message}"


def _maxpool2d(adapter, inputs, attrs, dtype, direction):
    dilation = common.pair(attrs.get("dilation", 1))
    size = inputs["x"].shape[2:]
    if dilation != (1, 1):
        stride = common.pair(attrs.get("stride") or attrs["kernel_size"])
        if stride != (1, 1):
            return "tf.nn.pool (the dilated tf.nn pooling) refuses strides > 1: " + common.refusal(
                lambda: adapter.tf.nn.pool(
                    np.zeros((1, 8, 8, 1), "float32"),
                    [2, 2],
                    "MAX",
                    strides=[2, 2],
                    padding="VALID",
                    dilations=[2, 2],
                )
            )
    pads = common.padding_pairs(
        attrs.get("padding", 0),
        size,
        common.pair(attrs["kernel_size"]),
        common.pair(attrs.get("stride") or attrs["kernel_size"]),
        dilation,
    )
    candidates = ["VALID", "SAME"] + ([pads] if dilation == (1, 1) else [])
    padding = common.matching_tf_padding(size, attrs, candidates, average=False, dilation=dilation)
    if padding == "SAME" and dilation != (1, 1):
        return (
            "tf.nn.pool (the dilated tf.nn pooling): the reference's windows are TF's "
            "'SAME' ones, but "
            + common.refusal(
                lambda: adapter.tf.nn.pool(
                    np.zeros((1, 4, 4, 1), "float32"),
                    [2, 2],
                    "MAX",
                    padding="SAME",
                    dilations=list(dilation),
                )
            )
        )
    if padding is not None:
        return None
    return (
        f"{common.signature(adapter.tf.nn.max_pool2d, 'tf.nn.max_pool2d')} has no ceil_mode "
        "and no dilation (tf.nn.pool has dilation at stride 1 only); neither padding "
        "'VALID', 'SAME' nor the reference's explicit pairs give the reference's "
        f"windows for {common.pooling_summary(attrs)} on {tuple(size)}"
    )


def _avgpool2d(adapter, inputs, attrs, dtype, direction):
    size = inputs["x"].shape[2:]
    if common.matching_tf_padding(size, attrs, ["VALID", "SAME"], average=True):
        return None
    explicit = common.refusal(
        lambda: adapter.tf.nn.avg_pool2d(
            np.zeros((1, 4, 4, 1), "float32"), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]
        )
    )
    return (
        f"{common.signature(adapter.tf.nn.avg_pool2d, 'tf.nn.avg_pool2d')} takes padding "
        f"'VALID' or 'SAME' only (explicit pairs: {explicit}), has no ceil_mode, "
        "count_include_pad or divisor_override, and SAME divides by the number of real "
        "cells; neither gives the reference's windows and divisors for "
        f"{common.pooling_summary(attrs)} on {tuple(size)}"
    )


def no_probability_crossentropy(adapter):
    op = adapter.tf.nn.softmax_cross_entropy_with_logits
    signature = common.signature(op, "tf.nn.softmax_cross_entropy_with_logits")
    logits = common.doc_line(op, "logits:")
    return (
        "tf.nn has no crossentropy on probabilities (Keras' categorical_crossentropy "
        f"renormalises and clips them); its crossentropy, {signature}, takes logits: "
        f"`{logits}`"
    )


def _dropout(adapter, inputs, attrs, dtype, direction):
    if attrs.get("training", True):
        return None
    return "tf.nn.dropout has no inference mode: " + common.refusal(
        lambda: adapter.tf.nn.dropout(np.ones(2, "float32"), rate=0.5, training=False)
    )


def pair_gt1(value) -> bool:
    return any(v > 1 for v in common.pair(value))


@cache
def _cpu_conv_backward_refusal(adapter, grouped: bool, dilated: bool, dtype: str) -> str | None:
    """Run a tiny grouped/dilated conv backward; TensorFlow's refusal, or None if it runs."""
    c = 2 if grouped else 1
    inputs = {
        "x": np.ones((1, 2, 5, 5), dtype),
        "w": np.ones((2, 2 // c, 2, 2), dtype),
    }
    attrs = {"groups": c, "dilation": 2 if dilated else 1}
    try:
        adapter.backward(
            "conv2d",
            np.ones((1, 2, 3 if dilated else 4, 3 if dilated else 4), dtype),
            inputs,
            attrs,
        )
    except Exception as exc:
        return common.exception_text(exc)
    return None


_RULES = {
    "conv2d": _conv2d,
    "maxpool2d": _maxpool2d,
    "avgpool2d": _avgpool2d,
    "dropout": _dropout,
}
