"""When the Keras adapter cannot run a decoder-layer call (issue 16) exactly, in Keras' words.

As in ``adapters._keras_rules`` (whose ``_rule`` / ``_probing`` these share): each rule
returns a reason or None, quotes Keras (its refusal, its docstring, or the error a tiny
probe raised), and stands aside while a probe runs.  A call that runs and returns a wrong
value is not refused: Conv2DTranspose(padding='same') shifted by one cell on the torch
backend before keras-team/keras#22876 is the known divergence
keras-torch-conv-transpose-same-shifted, which the parity tests judge
(tests/known_divergences.py).  Importing this module imports no framework.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from adapters import _tf_common as common
from adapters._keras_rules import _probing, _rule

#: Key of the framework error this module refuses (an exception, not a wrong value); it
#: names an entry of tests/known_divergences.py (issue link, evidence test).
ONE_INPUT_CHANNEL_GRAD = "keras-torch-one-input-channel-conv-transpose-grad-weight-contiguous"


@_rule
def conv_transpose2d(adapter, stride, dilation, groups) -> str | None:
    """What keras.layers.Conv2DTranspose cannot take at all."""
    L = adapter.api.layers
    if int(groups) > 1:
        return "keras.layers.Conv2DTranspose has no groups: " + _no_groups(L, int(groups))
    if max(stride) > 1 and max(dilation) > 1:
        return "keras.layers.Conv2DTranspose: " + common.refusal(
            lambda: L.Conv2DTranspose(1, 3, strides=stride, dilation_rate=dilation)
        )
    if dilation[0] != dilation[1]:
        message = _unequal_dilation_error(adapter, tuple(dilation))
        if message:
            return f"keras.layers.Conv2DTranspose(dilation_rate={tuple(dilation)}): {message}"
    return None


@cache
def _unequal_dilation_error(adapter, dilation) -> str | None:
    """Keras' error for a Conv2DTranspose dilated differently along H and W, or None
    where it runs.  tf.keras 2's ``backend.conv2d_transpose`` (keras 2.15.0,
    keras/src/backend.py) raises "Expected the 2 dimensions of the `dilation_rate`
    argument to be equal to each other" when it is called; Keras 3 takes it."""
    api = adapter.api
    layer = api.layers.Conv2DTranspose(1, 1, dilation_rate=dilation)
    with _probing():
        try:
            layer(api.tensor(np.ones((1, 1, 1, 1), np.float32)))
        except ValueError as exc:  # the release's argument check, quoted
            return plain_text(exc)
    return None


def _no_groups(L, groups: int) -> str:
    """Keras' own word that Conv2DTranspose takes no groups.  Keras 3 refuses the keyword.
    tf.keras 2 (keras 2.15.0, keras/src/layers/convolutional/conv2d_transpose.py) lists
    no groups either, but passes unknown keywords on to Conv2D, whose ``groups`` it then
    never reads: ``build`` makes the kernel ``kernel_size + (filters, input_dim)`` and
    ``call`` runs the ungrouped ``conv2d_transpose``.  There the built kernel's shape is
    quoted: the layer's structure, not a computed value."""
    try:
        layer = L.Conv2DTranspose(groups, 1, groups=groups)
    except Exception as exc:  # Keras 3's refusal, whatever its type
        return common.exception_text(exc)
    layer.build((None, 1, 1, groups))
    kernel = tuple(int(d) for d in layer.kernel.shape)
    if kernel != (1, 1, groups, groups):  # a grouped kernel: this rule is out of date
        raise AssertionError(f"Conv2DTranspose(groups={groups}) built a kernel {kernel}")
    return (
        f"{common.signature(L.Conv2DTranspose.__init__, 'keras.layers.Conv2DTranspose')} "
        f"accepts groups={groups} only through **kwargs and ignores it: "
        f"Conv2DTranspose({groups}, 1, groups={groups}) on {groups} input channels builds "
        f"the ungrouped kernel {kernel} = kernel_size + (filters, input channels)"
    )


@_rule
def conv_transpose2d_dilated(adapter, dilation, dtype: str, direction: str) -> str | None:
    """A dilated Conv2DTranspose the backend's kernels refuse (TensorFlow's CPU
    Conv2DBackpropInput has no dilation in float64; read by running a tiny case)."""
    if max(dilation) == 1:
        return None
    message = _dilated_probe(adapter, dtype, direction)
    if message is None:
        return None
    return (
        f"{direction}: keras Conv2DTranspose, dilated, {dtype}, backend "
        f"{adapter.api.backend}: {message}"
    )


@_rule
def conv_transpose2d_backward(adapter, w_shape, dilation, dtype: str) -> str | None:
    """Gradients only: the dilation rule, and the backend's error for one input channel."""
    c_in, c_out, kh, kw = w_shape
    if c_in == 1 and c_out > 1 and kh * kw > 1:
        message = _one_input_channel_probe(adapter, c_out, (kh, kw), dtype)
        if message:
            return (
                f"backward: keras Conv2DTranspose from one input channel to {c_out}, kernel "
                f"{(kh, kw)}, backend {adapter.api.backend}: {message} (known framework bug "
                f"{ONE_INPUT_CHANNEL_GRAD!r} in tests/known_divergences.py)"
            )
    return conv_transpose2d_dilated(adapter, dilation, dtype, "backward")


@cache
def _one_input_channel_probe(adapter, c_out: int, kernel_hw, dtype: str) -> str | None:
    """A tiny Conv2DTranspose backward with one input channel; the backend's error or
    None.  Keras' torch backend hands torch a channels_last input and a permuted kernel,
    and torch's CPU conv_transpose2d backward then rejects the weight gradient's strides
    (measured with torch 2.13.0, keras 3.14.1 and 3.15.1)."""
    x = np.ones((1, 1, 4, 4), dtype)
    w = np.ones((1, c_out, *kernel_hw), dtype)
    with _probing():
        try:
            prepared = adapter.conv_transpose2d(x, w)
            prepared.backward(np.ones_like(prepared.forward().result())).result()
        except Exception as exc:  # the backend's own error, whatever its type
            return plain_text(exc)
    return None


@cache
def _dilated_probe(adapter, dtype: str, direction: str) -> str | None:
    x, w = np.ones((1, 1, 3, 3), dtype), np.ones((1, 1, 2, 2), dtype)
    with _probing():
        try:
            prepared = adapter.conv_transpose2d(x, w, dilation=2)
            out = prepared.forward().result()
            if direction == "backward":
                prepared.backward(np.ones_like(out)).result()
        except Exception as exc:  # the backend's refusal, whatever its type
            return plain_text(exc)
    return None


def plain_text(exc: BaseException) -> str:
    """``common.exception_text`` without the terminal colour codes Keras puts in."""
    return re.sub(r"\x1b\[[0-9;]*m", "", common.exception_text(exc))


def zero_output_padding_error(adapter) -> str | None:
    """Keras' own error for ``Conv2DTranspose(output_padding=0)``, or None where this
    release accepts 0.  Keras 3 releases before keras-team/keras#21383 (3.3.3 and
    3.6.0 here) validate output_padding with
    ``standardize_tuple(..., allow_zero=False)`` (keras/src/layers/convolutional/
    base_conv_transpose.py in keras 3.3.3 and 3.6.0), so only ``None`` or a tuple of
    positive values passes; keras-team/keras#19909, fixed by keras-team/keras#21383
    (``allow_zero=True``).  tf.keras 2 accepts 0."""
    return _zero_output_padding_error(adapter.api.layers.Conv2DTranspose)


@cache
def _zero_output_padding_error(conv_transpose_cls) -> str | None:
    try:
        conv_transpose_cls(1, 1, output_padding=0)
    except ValueError as exc:  # the release's argument validation, quoted
        return plain_text(exc)
    return None


@_rule
def output_padding_limit(adapter, stride, output_padding, cropping, pads) -> str | None:
    """A crop that needs Conv2DTranspose's output_padding to reach the stride, which
    Keras documents it must stay below."""
    if (
        cropping is None
        or output_padding is None
        or all(op < s for op, s in zip(output_padding, stride, strict=True))
    ):
        return None
    rule = common.doc_line(adapter.api.layers.Conv2DTranspose, "output_padding:")
    zero_rule = zero_output_padding_error(adapter)
    also = (
        f"; this release also rejects 0 in it ({zero_rule}) and its default (None) does not "
        "leave the cells to crop"
        if zero_rule
        else ""
    )
    return (
        f"keras.layers.Conv2DTranspose needs output_padding {output_padding} for the "
        f"crop {pads}, and documents `{rule}`{also}"
    )


@_rule
def resize_dependency(adapter, layer_name: str, interpolation: str) -> str | None:
    """keras.layers.Resizing / UpSampling2D where its backend's resize needs an optional
    package that is not installed: Keras' own ImportError, quoted.  Keras 3.6's torch
    backend resizes through torchvision (keras/src/backend/torch/image.py imports it
    lazily from keras/src/utils/module_utils.py; UpSampling2D's bilinear path calls that
    resize too), which no requirement of Keras' pulls in.  Read by running a tiny resize,
    so a release or backend without that need runs."""
    error = _resize_import_error(adapter, layer_name, interpolation)
    if error is None:
        return None
    return (
        f"keras.layers.{layer_name}(interpolation={interpolation!r}) in keras "
        f"{adapter.api.version} on backend {adapter.api.backend} needs a package that is "
        f"not installed: {error}"
    )


@cache
def _resize_import_error(adapter, layer_name: str, interpolation: str) -> str | None:
    api = adapter.api
    size = (2, 2)
    if layer_name == "Resizing":
        layer = api.layers.Resizing(*size, interpolation=interpolation)
    else:
        layer = getattr(api.layers, layer_name)(size, interpolation=interpolation)
    try:
        layer(api.tensor(np.ones((1, 1, 1, 1), np.float32)))
    except ImportError as exc:  # a missing optional dependency, in Keras' words
        return plain_text(exc)
    return None


@_rule
def no_adaptive_layer(adapter, cls_name: str) -> str | None:
    """A Keras without the adaptive pooling layers (older releases have only the global
    ones, which are adaptive pooling to 1x1)."""
    if hasattr(adapter.api.layers, cls_name):
        return None
    return (
        f"keras {adapter.api.version} has no keras.layers.{cls_name} (only the global "
        "pooling layers, which pool to 1x1)"
    )


@_rule
def zero_padding_only(adapter, mode: str, value) -> str | None:
    """keras.layers.ZeroPadding2D pads with zeros only (keras.ops.pad has modes, but no
    layer does)."""
    if mode == "constant" and value == 0:
        return None
    said = common.doc_line(adapter.api.layers.ZeroPadding2D, "Zero-padding")
    return (
        f"Keras' one padding layer is keras.layers.ZeroPadding2D (`{said}`): it has no mode "
        f"and no value, so mode {mode!r} with value {value!r} is not a Keras layer"
    )
