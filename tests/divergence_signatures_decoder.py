"""Signature (tests/divergence_signatures.py) of keras-torch-conv-transpose-same-shifted:
keras.layers.Conv2DTranspose(padding="same") on Keras' torch backend before
keras-team/keras#22876 (keras 3.14.x) computes torch's conv_transpose2d with a symmetric
``padding`` and an ``output_padding`` that Keras derives from its own arguments, which
crops the full scatter one cell later than TensorFlow's SAME where that crop is odd.

The model, written from keras 3.14.1's source (keras/src/backend/common/backend_utils.py,
``_convert_conv_transpose_padding_args_from_keras_to_torch`` and
``compute_conv_transpose_padding_args_for_torch``; keras/src/backend/torch/nn.py
``conv_transpose`` passes both to ``torch.nn.functional.conv_transpose2d``), per axis with
``k = (kernel - 1) * dilation + 1``:

1. ``output_padding = stride - k % 2`` when Keras is given none;
2. ``torch_padding = max(-((k % 2 - k + output_padding) // 2), 0)`` and
   ``torch_output_padding = 2 torch_padding + k % 2 - k + output_padding``, clamped to
   ``stride - 1`` (torch's limit);
3. torch keeps full-scatter cells ``torch_padding ...`` and appends
   ``torch_output_padding`` cells (torch.nn.ConvTranspose2d docs: output size
   ``(in - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1``); cells
   past the full scatter hold the bias only.

For kernel 3 at stride 2 that is torch padding 1, output_padding 1: the right number of
cells, starting one cell later than TensorFlow's (whose crop puts the odd cell at the
bottom); for kernel 4 at stride 2, padding 1 and output_padding 0, which is right.  The
model computes that torch call in NumPy (its own scatter, not the reference's code).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tests.divergence_signatures import modelled


def keras_314_torch_padding(kernel: int, stride: int, dilation: int, output_padding=None):
    """``(torch padding, torch output_padding)`` keras 3.14's torch backend passes for
    Conv2DTranspose(padding="same") on one axis (module docstring, steps 1-2)."""
    k = (kernel - 1) * dilation + 1
    op = stride - k % 2 if output_padding is None else int(output_padding)
    padding = max(-((k % 2 - k + op) // 2), 0)
    extra = 2 * padding + k % 2 - k + op
    return padding, min(extra, max(stride - 1, 0))


def torch_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, grad_out=None):
    """torch.nn.functional.conv_transpose2d (groups 1) in NumPy: NCHW ``x``, ``w`` (C_in,
    C_out, kh, kw), ``b`` (C_out,) or None, pairs for the rest.  Every input pixel
    scatters its kernel onto the full scatter, ``padding`` cells are dropped at both ends
    and ``output_padding`` cells appended.  With ``grad_out`` (the output's shape): the
    gradients of that linear map, ``{"x", "w"[, "b"]}``; else ``{"y": ...}``."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    spans = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilation, strict=True)]
    full = [(size - 1) * s + k for size, s, k in zip((h, wd), stride, spans, strict=True)]
    out = [f - 2 * p + e for f, p, e in zip(full, padding, output_padding, strict=True)]
    kept = [min(o, f - p) for o, f, p in zip(out, full, padding, strict=True)]

    def taps():
        """(ky, kx, rows, cols): the full-scatter cells each tap of every pixel writes."""
        for ky in range(kh):
            for kx in range(kw):
                top, left = ky * dilation[0], kx * dilation[1]
                rows = slice(top, top + (h - 1) * stride[0] + 1, stride[0])
                cols = slice(left, left + (wd - 1) * stride[1] + 1, stride[1])
                yield ky, kx, rows, cols

    rows_kept = slice(padding[0], padding[0] + kept[0])
    window = (slice(None), slice(None), rows_kept, slice(padding[1], padding[1] + kept[1]))
    if grad_out is None:
        scatter = np.zeros((n, w.shape[1], *full))
        for ky, kx, rows, cols in taps():
            scatter[:, :, rows, cols] += np.einsum("nchw,co->nohw", x, w[:, :, ky, kx])
        y = np.zeros((n, w.shape[1], *out))
        y[:, :, : kept[0], : kept[1]] = scatter[window]
        return {"y": y if b is None else y + np.asarray(b)[None, :, None, None]}
    g = np.asarray(grad_out, dtype=np.float64)
    g_full = np.zeros((n, w.shape[1], *full))
    g_full[window] = g[:, :, : kept[0], : kept[1]]
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for ky, kx, rows, cols in taps():
        dx += np.einsum("nohw,co->nchw", g_full[:, :, rows, cols], w[:, :, ky, kx])
        dw[:, :, ky, kx] = np.einsum("nohw,nchw->co", g_full[:, :, rows, cols], x)
    grads = {"x": dx, "w": dw}
    if b is not None:
        grads["b"] = g.sum(axis=(0, 2, 3))
    return grads


def torch_form(observed) -> dict | None:
    """The torch call keras 3.14 makes for this comparison (``stride``, ``padding``,
    ``output_padding``, ``dilation`` pairs), or None where the Keras adapter does not ask
    Conv2DTranspose for 'same' (its 'valid' forms reach torch unchanged)."""
    from adapters import _decoder_geometry as geometry
    from adapters._geometry import pair

    x, w, attrs = observed.reference_inputs["x"], observed.reference_inputs["w"], observed.attrs
    if int(attrs.get("groups", 1)) != 1:
        return None  # Keras has no grouped Conv2DTranspose
    stride, dilation = pair(attrs.get("stride", 1)), pair(attrs.get("dilation", 1))
    padding, output_padding = attrs.get("padding", 0), attrs.get("output_padding", 0)
    pads, extras = geometry.transpose_crops(
        x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation
    )
    keras_padding, keras_op, _ = geometry.keras_transpose_options(
        x.shape[2:], w.shape[2:], stride, dilation, pads, extras
    )
    if keras_padding != "same":
        return None
    ops = (None, None) if keras_op is None else keras_op
    per_axis = [
        keras_314_torch_padding(w.shape[2 + a], stride[a], dilation[a], ops[a]) for a in range(2)
    ]
    return {
        "stride": stride,
        "padding": tuple(p for p, _ in per_axis),
        "output_padding": tuple(e for _, e in per_axis),
        "dilation": dilation,
    }


def _prediction(observed):
    form = torch_form(observed)
    if form is None:
        return None
    inputs = observed.reference_inputs
    x, w, b = inputs["x"], inputs["w"], inputs.get("b")
    args = (form["stride"], form["padding"], form["output_padding"], form["dilation"])
    y = torch_conv_transpose2d(x, w, b, *args)["y"]
    if observed.direction == "forward":
        return {"y": y}
    if y.shape != observed.grad_out.shape:
        return None  # a shape the harness's seed does not fit: no prediction
    return torch_conv_transpose2d(x, w, b, *args, grad_out=observed.grad_out)


def own_bounds(observed):
    """conv_transpose2d's declared rule applied to the call the bug makes (torch's padding
    and output_padding): the shifted cells sum other terms than the right ones, so the
    comparison's own bounds do not fit them."""
    from tests.layers import get as declaration

    form = torch_form(observed)
    info = declaration("conv_transpose2d")
    policy = info.tolerance(
        observed.direction, observed.reference_inputs, form, observed.dtype, observed.grad_out
    )
    return policy.bounds


#: The probe's call: Conv2DTranspose(1, (1, 3), strides=(1, 2), padding="same") on the row
#: [1, 10, 100] with a kernel of ones.  The full scatter is [1, 1, 11, 10, 110, 100, 100];
#: TensorFlow's SAME keeps its first six cells (tf.nn.conv2d_transpose; hand-derived), the
#: model's torch form (padding 1, output_padding 1) cells 1-6.
_PROBE_X = np.array([1.0, 10.0, 100.0]).reshape(1, 1, 1, 3)
_PROBE_W = np.ones((1, 1, 1, 3))
SAME_PROBE_KEPT = [1.0, 1.0, 11.0, 10.0, 110.0, 100.0]
SAME_PROBE_SHIFTED = [1.0, 11.0, 10.0, 110.0, 100.0, 100.0]


def probe_prediction() -> list[float]:
    """The model's output row for the probe's call."""
    rows, cols = keras_314_torch_padding(1, 1, 1), keras_314_torch_padding(3, 2, 1)
    padding, extra = (rows[0], cols[0]), (rows[1], cols[1])
    y = torch_conv_transpose2d(_PROBE_X, _PROBE_W, None, (1, 2), padding, extra, (1, 1))["y"]
    return [float(v) for v in y.ravel()]


def same_probe_row(adapter) -> list[float]:
    """The probe's output row through the Keras adapter's Keras (float64, NHWC)."""
    api = adapter.api
    conv = api.layers.Conv2DTranspose(
        1, (1, 3), strides=(1, 2), padding="same", use_bias=False, dtype="float64"
    )
    conv.build((None, 1, 3, 1))
    conv.set_weights([np.ones((1, 3, 1, 1))])
    x = api.tensor(_PROBE_X.reshape(1, 1, 3, 1))
    return [float(v) for v in api.numpy(conv(x)).ravel()]


@cache
def conv_transpose_same_shifted(adapter) -> str | None:
    """The probe row on Keras' torch backend: evidence when it is the model's shifted row
    (not TensorFlow's)."""
    if getattr(adapter, "name", None) != "keras":
        return None
    adapter.load()
    if adapter.api.tf_keras or adapter.api.backend != "torch":
        return None
    got = same_probe_row(adapter)
    if got != probe_prediction() or got == SAME_PROBE_KEPT:
        return None
    return (
        f"{adapter.version()}: Conv2DTranspose(padding='same', strides=2) with a kernel of "
        f"ones on [1, 10, 100] gives {got}, torch's padding 1 / output_padding 1 form, not "
        f"{SAME_PROBE_KEPT}"
    )


TRANSPOSE_SAME_SHIFTED = modelled(
    conv_transpose_same_shifted,
    _prediction,
    "torch's conv_transpose2d with the padding and output_padding keras 3.14 derives for "
    "'same' (the full scatter cropped symmetrically)",
    own_bounds=own_bounds,
)
