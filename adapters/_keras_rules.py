"""When the Keras adapter cannot run a call exactly, and Keras' own words for why.

Each rule returns a reason (a string) or None; the adapter's layer methods raise
``Unsupported`` with it, and ``_Prepared.backward`` does so for the rules that concern
gradients only (``conv2d_backward``).  Every reason quotes Keras: an error it raises when
asked directly (``common.refusal``), a line of its docstring, or the error it raised when
a tiny case was run.  Nothing is emulated: a case Keras' arguments cannot express is
reported, not rebuilt from other ops.

A probe (a tiny case run through Keras) refuses only on an exception, never on a number:
a call that runs and returns a wrong value is a divergence for the parity test to judge
(and, for a declared bug, for tests/known_divergences.py to recognise), not a reason to
skip it.  The probes run through the adapter object they are given, by its layer methods
(``adapter.conv2d(...).forward()``), so this module never imports the adapter's module.
While a probe runs, every rule here stands aside (returns None): a probe asks what Keras
itself does with the call, not what the rules would say about it.

Importing this module imports no framework (tests/adapters/test_known_divergences.py).
"""

from __future__ import annotations

import contextlib
import inspect
import re
from functools import cache, wraps

import numpy as np

from adapters import _tf_common as common

#: Keys of the framework errors this module refuses (exceptions, not wrong values); each
#: names an entry of tests/known_divergences.py (evidence test).
ONE_FILTER_CONV_GRAD = "keras-torch-one-filter-conv-grad-weight-contiguous"
LAYERNORM_NON_TRAILING = "keras-torch-layernorm-contiguous-non-trailing-axes"

_probes_running = 0


@contextlib.contextmanager
def _probing():
    global _probes_running
    _probes_running += 1
    try:
        yield
    finally:
        _probes_running -= 1


def _rule(function):
    """A rule, silent while a probe runs (see the module docstring)."""

    @wraps(function)
    def rule(*args, **kwargs):
        return None if _probes_running else function(*args, **kwargs)

    return rule


@_rule
def unsupported_dtype(dtype: np.dtype) -> str | None:
    if dtype not in (np.float32, np.float64):
        return f"keras adapter: runs float32 and float64 only, not {dtype}"
    return None


def pool_padding(size_hw, attrs, average: bool) -> str | None:
    """The Keras padding ("valid" or "same") whose windows (and, for average pooling,
    divisors) are the reference's for ``attrs`` on an H x W input, or None."""
    return common.matching_tf_padding(size_hw, attrs, ["valid", "same"], average=average)


#: The declared bug (tests/known_divergences.py) whose crashing calls this refuses.
SAME_MAX_POOL_PADDING = "keras-torch-same-max-pool-padding-length"


@_rule
def same_max_pool_crash(adapter, pool, shape_nhwc, dtype) -> str | None:
    """torch's error where a Keras 'same' MaxPooling2D raises on this input shape: Keras
    < 3.9 on torch hands max_pool2d its equal-sided SAME padding with the axes swapped
    (keras 3.6.0 keras/src/backend/torch/nn.py, ``_apply_same_padding``;
    keras-team/keras#20774), which torch refuses when a pad exceeds half that axis'
    kernel.  Read by running the layer on zeros of the call's shape: an error refuses, a
    value (right or wrong) never does."""
    if adapter.api.backend != "torch" or pool.padding != "same":
        return None
    try:
        pool(adapter.api.tensor(np.zeros(shape_nhwc, dtype)))
    except RuntimeError as exc:  # torch's own refusal
        text = re.sub(r"\x1b\[[0-9;]*m", "", common.exception_text(exc))
        return (
            f"keras {adapter.api.version} MaxPooling2D(padding='same') on torch raises: "
            f"{text} (known framework bug {SAME_MAX_POOL_PADDING!r} in "
            "tests/known_divergences.py)"
        )
    return None


# --------------------------------------------------------------------------------------
# Conv2D


@_rule
def conv2d(adapter, stride, dilation, groups, dtype: str) -> str | None:
    """Forward (and so every direction): what Keras refuses or fails to run."""
    if max(stride) > 1 and max(dilation) > 1:
        L = adapter.api.layers
        return "keras.layers.Conv2D: " + common.refusal(
            lambda: L.Conv2D(1, 3, strides=stride, dilation_rate=dilation)
        )
    return _grouped_or_dilated(adapter, groups, dilation, dtype, "forward")


@_rule
def conv2d_backward(adapter, w_shape, dilation, groups, dtype: str) -> str | None:
    """Gradients only: the backend's errors in Conv2D's backward."""
    if w_shape[0] == 1:
        message = _one_filter_probe(adapter, int(w_shape[1]), tuple(w_shape[2:]), dtype)
        if message:
            return (
                f"backward: keras Conv2D with one filter over {w_shape[1]} channels, kernel "
                f"{tuple(w_shape[2:])}, backend {adapter.api.backend}: {message} (known "
                f"framework bug {ONE_FILTER_CONV_GRAD!r} in tests/known_divergences.py)"
            )
    return _grouped_or_dilated(adapter, groups, dilation, dtype, "backward")


def _grouped_or_dilated(adapter, groups, dilation, dtype, direction) -> str | None:
    grouped, dilated = int(groups) > 1, max(dilation) > 1
    if not (grouped or dilated):
        return None
    message = _conv_probe(adapter, grouped, dilated, dtype, direction)
    if message:
        what = "grouped" if grouped else "dilated"
        return f"{direction}: keras Conv2D, {what}, backend {adapter.api.backend}: {message}"
    return None


@cache
def _conv_probe(adapter, grouped: bool, dilated: bool, dtype: str, direction: str) -> str | None:
    """Run a tiny grouped/dilated Conv2D; the backend's refusal, or None if it runs."""
    groups = 2 if grouped else 1
    # 4 channels in 2 groups: grouped Conv2D, not DepthwiseConv2D (groups == C_in).
    x, w = np.ones((1, 4, 5, 5), dtype), np.ones((2, 4 // groups, 2, 2), dtype)
    with _probing():
        try:
            prepared = adapter.conv2d(x, w, groups=groups, dilation=2 if dilated else 1)
            out = prepared.forward().result()
            if direction == "backward":
                prepared.backward(np.ones_like(out)).result()
        except Exception as exc:  # the framework's refusal, whatever its type
            return common.exception_text(exc)
    return None


@cache
def _one_filter_probe(adapter, channels: int, kernel_hw, dtype: str) -> str | None:
    """Run a tiny Conv2D backward with one filter of this shape; the backend's error, or
    None.  Keras' torch backend hands torch a channels_last kernel view whose strides
    torch's CPU conv backward rejects when there is one filter, several input channels
    and a kernel larger than 1x1 (measured with torch 2.13.0, keras 3.15.1)."""
    kh, kw = kernel_hw
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, channels, kh + 2, kw + 2)).astype(dtype)
    w = rng.standard_normal((1, channels, kh, kw)).astype(dtype)
    with _probing():
        try:
            prepared = adapter.conv2d(x, w)
            out = prepared.forward().result()
            prepared.backward(np.ones_like(out)).result()
        except Exception as exc:  # the framework's own error, whatever its type
            return common.exception_text(exc)
    return None


# --------------------------------------------------------------------------------------
# DepthwiseConv2D / keras.ops.depthwise_conv


@_rule
def depthwise(adapter, stride, dilation, ops: bool) -> str | None:
    """Strides > 1 with dilation_rate > 1: DepthwiseConv2D's own refusal where it has one
    (Keras before keras-team/keras#22598).  keras.ops.depthwise_conv takes the arguments
    and runs: on the TensorFlow backend before Keras 3.15 it computes another function
    (keras-team/keras#23027), which the parity tests judge as the known divergence
    keras-tf-depthwise-stride-dilation-wrong-output (tests/known_divergences.py)."""
    if ops or not (max(stride) > 1 and max(dilation) > 1):
        return None
    L = adapter.api.layers
    try:
        L.DepthwiseConv2D(3, strides=stride, dilation_rate=dilation)
    except Exception as exc:  # the layer's own refusal, whatever its type
        return "keras.layers.DepthwiseConv2D: " + common.exception_text(exc)
    return None


# --------------------------------------------------------------------------------------
# LayerNormalization


@_rule
def layernorm_axes(adapter, axes: list[int], ndim: int) -> str | None:
    """Keras' torch backend hands consecutive axes to torch's F.layer_norm, which
    normalises trailing axes only: consecutive axes that are not the last ones fail."""
    if adapter.api.backend != "torch" or axes[-1] == ndim - 1:
        return None
    if axes != list(range(axes[0], axes[-1] + 1)):
        return None
    message = _layernorm_probe(adapter)
    if message is None:
        return None
    return (
        f"keras.layers.LayerNormalization(axis={axes}) on a {ndim}-D input, backend "
        f"torch: {message} (known framework bug {LAYERNORM_NON_TRAILING!r} in "
        "tests/known_divergences.py)"
    )


@cache
def _layernorm_probe(adapter) -> str | None:
    """LayerNormalization(axis=[1, 2]) on ones (1, 2, 3, 2): the backend's error, or None."""
    api = adapter.api
    layer = api.layers.LayerNormalization(axis=[1, 2])
    try:
        api.numpy(layer(api.tensor(np.ones((1, 2, 3, 2), "float32"))))
    except Exception as exc:  # the framework's own error, whatever its type
        return re.sub(r"\x1b\[[0-9;]*m", "", common.exception_text(exc))  # Keras' bold
    return None


# --------------------------------------------------------------------------------------
# Pooling


@_rule
def pooling(adapter, cls_name: str, size_hw, attrs, average: bool) -> str | None:
    """MaxPooling2D / AveragePooling2D for the reference's pooling ``attrs``."""
    dilation = common.pair(attrs.get("dilation", 1))
    if dilation != (1, 1):
        L = adapter.api.layers
        return f"keras.layers.{cls_name} has no dilation: " + common.refusal(
            lambda: getattr(L, cls_name)(pool_size=2, dilation_rate=dilation)
        )
    if pool_padding(size_hw, attrs, average) is None:
        return _pool_reason(adapter, cls_name, size_hw, attrs, average)
    return None


def _pool_reason(adapter, cls_name, size_hw, attrs, average):
    cls = getattr(adapter.api.layers, cls_name)
    padding_rule = common.doc_line(cls, "padding:").split(". ")[0]
    no_ceil = common.refusal(lambda: cls(pool_size=2, ceil_mode=True))
    reason = f"keras.layers.{cls_name} documents `{padding_rule}` and has no ceil_mode ({no_ceil})"
    if average:
        no_include = common.refusal(lambda: cls(pool_size=2, count_include_pad=True))
        reason += (
            f", no count_include_pad ({no_include}) and no divisor_override; "
            "its 'same' divides by the number of real cells"
        )
    shown = {k: v for k, v in attrs.items() if v is not None}
    return (
        f"{reason}; neither 'valid' nor 'same' gives the reference's windows"
        f"{' and divisors' if average else ''} for {common.pooling_summary(shown)} "
        f"on {tuple(size_hw)}"
    )


# --------------------------------------------------------------------------------------
# Flatten, losses


@_rule
def flatten(adapter, x, start_dim) -> str | None:
    start = int(start_dim)
    if start % x.ndim == 1:
        return None
    L = adapter.api.layers
    return "keras.layers.Flatten flattens every axis but the batch axis: " + common.refusal(
        lambda: L.Flatten(start_dim=start)
    )


@_rule
def mse(adapter, pred, reduction: str, dtype: str) -> str | None:
    if reduction == "mean" or (reduction == "sum" and pred.ndim > 1 and pred.shape[-1] == 1):
        return None
    formula = common.doc_line(adapter.api.losses.mean_squared_error, "axis=-1")
    loss = adapter.api.loss("MeanSquaredError", "none", dtype)
    per_sample = adapter.api.numpy(
        loss(adapter.api.tensor(np.zeros_like(pred)), adapter.api.tensor(pred))
    )
    return (
        f"keras.losses.MeanSquaredError first averages over the last axis "
        f"(keras.losses.mean_squared_error: `{formula}`): with reduction 'none' it returns "
        f"shape {per_sample.shape} for pred {pred.shape}, so reduction {reduction!r} "
        "(torch: elementwise, then "
        f"{'none' if reduction == 'none' else 'sum'}) cannot be expressed"
    )


@_rule
def last_axis_mean(adapter, cls_name: str, pred, reduction: str, dtype: str) -> str | None:
    """A Keras loss that averages over the last axis before reducing (BinaryCrossentropy):
    "mean" is the reference's mean; "sum" only when that axis has size 1; never "none"."""
    if reduction == "mean" or (reduction == "sum" and pred.ndim > 1 and pred.shape[-1] == 1):
        return None
    loss = adapter.api.loss(cls_name, "none", dtype)
    per_sample = adapter.api.numpy(
        loss(adapter.api.tensor(np.zeros_like(pred)), adapter.api.tensor(np.full_like(pred, 0.5)))
    )
    return (
        f"keras.losses.{cls_name} averages over the last axis before reducing: with "
        f"reduction 'none' it returns shape {per_sample.shape} for input {pred.shape}, so "
        f"reduction {reduction!r} (torch: elementwise, then "
        f"{'none' if reduction == 'none' else 'sum'}) cannot be expressed"
    )


@_rule
def loss_dtype(api, cls_name: str, dtype: str) -> str | None:
    """A Keras 3 loss without a ``dtype`` argument (before Keras 3.6) computes in floatx:
    another dtype cannot be asked of it.  ``api`` is the adapter's ``_KerasApi``."""
    cls = getattr(api.losses, cls_name)
    floatx = api.keras.config.floatx()
    if dtype == floatx or "dtype" in inspect.signature(cls.__init__).parameters:
        return None
    return (
        f"{common.signature(cls.__init__, f'keras.losses.{cls_name}')} takes no dtype: the "
        f"loss computes in keras.config.floatx() ({floatx!r}), so {dtype} cannot be asked"
    )
