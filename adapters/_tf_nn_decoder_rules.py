"""When the tf.nn adapter cannot run a decoder-layer call (issue 16), in TensorFlow's words.

Each rule resolves what tf.nn is given or raises ``Unsupported`` quoting TensorFlow: an
error it raises when asked directly (``common.refusal``), its docstring, or what a tiny
case did (its CPU Conv2DBackpropInput kernels refuse some dilated and grouped
transposed convolutions, per dtype and direction; a release that adds them lifts the
rule by itself).  Importing this module imports no framework.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from adapters import _tf_common as common
from adapters.base import Unsupported


def transpose_padding(tf, padding, pads, extras, strides) -> Any:
    """tf.nn.conv2d_transpose's padding for the reference's crop ``pads`` and output
    padding ``extras``.  TF derives the crop from ``output_shape``: the conv2d whose
    gradient it computes must map ``output_shape`` back to the input size, which holds
    when the bottom padding is ``bottom - extra`` up to ``stride - 1`` more; explicit
    paddings cannot be negative."""
    if isinstance(padding, str) and padding.lower() == "same":
        return "SAME"
    bottoms = [hi - extra for (_, hi), extra in zip(pads, extras, strict=True)]
    if any(b + s - 1 < 0 for b, s in zip(bottoms, strides, strict=True)):
        refused = common.refusal(
            lambda: tf.nn.conv2d_transpose(
                np.zeros((1, 1, 1, 1), "float32"),
                np.zeros((1, 1, 1, 1), "float32"),
                [1, 3, 3, 1],
                1,
                [[0, 0], [0, -1], [0, -1], [0, 0]],
            )
        )
        raise Unsupported(
            f"tf.nn.conv2d_transpose derives the crop from output_shape, and the output "
            f"padding {extras} exceeds the bottom/right crop {pads} by a stride or more: "
            f"that needs a negative explicit padding, which TensorFlow refuses ({refused})"
        )
    explicit = [(lo, max(b, 0)) for (lo, _), b in zip(pads, bottoms, strict=True)]
    if explicit == [(0, 0), (0, 0)]:
        return "VALID"
    return [[0, 0], list(explicit[0]), list(explicit[1]), [0, 0]]


def transpose_kernels(
    adapter, tf_padding, groups: int, strides, dilations, dtype, direction="forward"
):
    """Raise ``Unsupported`` when TensorFlow's CPU kernels refuse this grouped, dilated
    or strided-and-dilated transposed convolution with this kind of padding ("SAME",
    "VALID" or explicit, which take different kernels) in this dtype and direction."""
    grouped, dilated = groups > 1, max(dilations) > 1
    strided = dilated and max(strides) > 1
    if not (grouped or dilated):
        return
    name = np.dtype(dtype).name
    kind = tf_padding if isinstance(tf_padding, str) else "explicit"
    message = _kernel_refusal(adapter.tf, grouped, dilated, strided, kind, name, direction)
    if message is not None:
        what = ", ".join(
            w for w, on in (("grouped", grouped), ("dilated", dilated), ("strided", strided)) if on
        )
        raise Unsupported(
            f"{direction}: tf.nn.conv2d_transpose, {what}, padding {kind}, {name}, on CPU: "
            f"{message}"
        )


@cache
def _kernel_refusal(tf, grouped, dilated, strided, kind, dtype, direction) -> str | None:
    """Run a tiny tf.nn.conv2d_transpose with these features; TensorFlow's refusal, or
    None if it runs."""
    groups, stride, dilation = (2 if grouped else 1), (2 if strided else 1), (2 if dilated else 1)
    x = tf.constant(np.ones((1, 3, 3, 4), dtype))
    w = tf.constant(np.ones((2, 2, 4 // groups, 4), dtype))
    padding, size = kind, 2 * stride + dilation + 1  # VALID: the full scatter
    if kind == "SAME":
        size = 3 * stride
    elif kind == "explicit":
        padding, size = [[0, 0], [1, 0], [1, 0], [0, 0]], size - 1
    try:
        with tf.GradientTape() as tape:
            tape.watch(x)
            tape.watch(w)
            y = tf.nn.conv2d_transpose(
                x, w, [1, size, size, 4], stride, padding, dilations=dilation
            )
        if direction == "backward":
            tape.gradient(y, [x, w])
    except Exception as exc:  # TensorFlow's own refusal, whatever its type
        return common.exception_text(exc)
    return None


_TF_PAD_MODES = {"constant": "CONSTANT", "reflect": "REFLECT", "symmetric": "SYMMETRIC"}


def pad_mode(tf, mode: str) -> str:
    """tf.pad's name for the reference's mode, or ``Unsupported`` quoting tf.pad."""
    if mode in _TF_PAD_MODES:
        return _TF_PAD_MODES[mode]
    raise Unsupported(
        f"tf.pad has no {mode!r} mode: `{common.doc_line(tf.pad, 'mode:')}` (tf.pad docs)"
    )


def no_adaptive_pooling(tf, kind: str) -> str:
    """Why tf.nn has no adaptive pooling."""
    op = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
    name = f"tf.nn.{op.__name__}"
    return (
        f"tf.nn has no adaptive pooling: {common.signature(op, name)} takes one fixed ksize "
        "and strides for every window, while torch's adaptive windows [floor(i*in/out), "
        "ceil((i+1)*in/out)) overlap and change length when out does not divide in (the "
        "adaptive layers are Keras', AdaptiveAveragePooling2D / AdaptiveMaxPooling2D)"
    )
