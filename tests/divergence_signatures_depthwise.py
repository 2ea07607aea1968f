"""Signature (tests/divergence_signatures.py) of keras-tf-depthwise-stride-dilation-wrong-
output: keras.ops.depthwise_conv on the TensorFlow backend before Keras 3.15 passes
strides > 1 together with dilation_rate > 1 to tf.nn.depthwise_conv2d, whose docstring
says "If it is greater than 1, then all values of strides must be 1" and which, given
both, only warns and computes another function (keras-team/keras#23027, fixed in 3.15).

The model is what tf.nn.depthwise_conv2d then runs (tensorflow/python/ops/nn_impl.py,
``depthwise_conv2d``: ``nn_ops.with_space_to_batch`` around ``depthwise_conv2d_native``
with the caller's strides), written from TensorFlow's source:

1. ``with_space_to_batch`` pads by ``base_paddings``: (0, 0) for VALID; for SAME
   ``(k - 1) * rate`` split ``// 2`` before, the rest after, as if the stride were 1
   (``_with_space_to_batch_base_paddings``);
2. ``required_space_to_batch_paddings`` adds ``(rate - size % rate) % rate`` cells at the
   end so that ``rate`` divides the padded size, and crops as many at the end later;
3. ``space_to_batch_nd`` splits the padded input into rate x rate phases (phase ``p`` of
   an axis holds cells ``p, p + rate, ...``);
4. each phase is convolved with the *undilated* kernel, VALID, at the caller's stride;
5. ``batch_to_space_nd`` interleaves the phases (output cell ``o`` comes from phase
   ``o % rate``, its cell ``o // rate``) and crops the end.

So output cell ``o`` with tap ``a`` reads padded cell ``((o // r) s + a) r + o % r``.  The
right convolution reads ``o s + a r``; for stride 1 both agree, which is why TensorFlow
allows only that.  Measured with keras 3.14.0 / TF 2.21: keras-team/keras#23027's
example gives shape (1, 1, 1, C) as the model does, and conv_depthwise_s2_d2_same the
right shape with the model's wrong values.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tests.divergence_signatures import modelled


def _axis(size: int, kernel: int, stride: int, rate: int, same: bool):
    """One spatial axis: ``(reads, out)``, ``reads[o, a]`` the input cell output cell ``o``
    reads with tap ``a`` (outside ``[0, size)``: a padded zero)."""
    extra = (kernel - 1) * rate if same else 0
    start, end = extra // 2, extra - extra // 2
    end_extra = (rate - (size + start + end) % rate) % rate
    phase = (size + start + end + end_extra) // rate
    phase_out = (phase - kernel) // stride + 1
    out = phase_out * rate - end_extra
    o, a = np.arange(max(out, 0))[:, None], np.arange(kernel)[None, :]
    return ((o // rate) * stride + a) * rate + o % rate - start, out


def _gather(reads_h, reads_w, size_h, size_w):
    """Clipped indices and the mask of real (not padded) cells, shaped (oh, kh, ow, kw)."""
    inside_h = (reads_h >= 0) & (reads_h < size_h)
    inside_w = (reads_w >= 0) & (reads_w < size_w)
    rows = np.where(inside_h, reads_h, 0)[:, :, None, None]
    cols = np.where(inside_w, reads_w, 0)[None, None, :, :]
    return rows, cols, inside_h[:, :, None, None] & inside_w[None, None, :, :]


def tf_space_to_batch_depthwise(x, w, b, stride, dilation, same: bool, grad_out=None):
    """The model (module docstring) for NCHW ``x``, depthwise OIHW ``w`` (C * m, 1, kh,
    kw; output channel c * m + q reads input channel c) and bias ``b`` (or None), with
    the input already padded where the padding is explicit.  Forward: ``{"y": ...}``, or
    None where TensorFlow would have no output cell; with ``grad_out``, the gradients of
    that (linear) function: ``{"x", "w"[, "b"]}``."""
    n, c, size_h, size_w = x.shape
    m, (kh, kw) = w.shape[0] // c, w.shape[2:]
    reads_h, out_h = _axis(size_h, kh, stride[0], dilation[0], same)
    reads_w, out_w = _axis(size_w, kw, stride[1], dilation[1], same)
    if out_h <= 0 or out_w <= 0:
        return None
    rows, cols, real = _gather(reads_h, reads_w, size_h, size_w)
    taps = x[:, :, rows, cols] * real  # (n, c, oh, kh, ow, kw)
    kernel = w.reshape(c, m, kh, kw)
    if grad_out is None:
        y = np.einsum("ncrasb,cqab->ncqrs", taps, kernel).reshape(n, c * m, out_h, out_w)
        return {"y": y if b is None else y + np.asarray(b)[None, :, None, None]}
    g = np.asarray(grad_out, np.float64).reshape(n, c, m, out_h, out_w)
    dx = np.zeros_like(x, dtype=np.float64)
    spread = np.einsum("ncqrs,cqab->ncrasb", g, kernel) * real
    np.add.at(dx, (slice(None), slice(None), rows, cols), spread)
    dw = np.einsum("ncrasb,ncqrs->cqab", taps, g).reshape(w.shape)
    grads = {"x": dx, "w": dw}
    if b is not None:
        grads["b"] = g.sum(axis=(0, 3, 4)).reshape(-1)
    return grads


def _keras(adapter):
    """The Keras adapter behind ``adapter`` ("keras", or "keras.ops" wrapping it), or None."""
    name = getattr(adapter, "name", None)
    if name == "keras.ops":
        return adapter.layers
    return adapter if name == "keras" else None


#: keras-team/keras#23027's example: x (1, 10, 10, 3) NHWC with x[0, i, j, c] = 10 i + j,
#: a 3x3 kernel of ones, strides 2, dilation_rate 3, 'valid'.
_EXAMPLE_X = np.broadcast_to(
    (10.0 * np.arange(10)[:, None] + np.arange(10))[None, :, :, None], (1, 10, 10, 3)
)


@cache
def depthwise_stride_dilation_wrong(adapter) -> str | None:
    """keras-team/keras#23027's example through the installed Keras (keras.ops.depthwise_
    conv; Keras 2: the DepthwiseConv2D layer) on the TensorFlow backend: evidence when
    the output is the model's (shape (1, 1, 1, 3), not the right (1, 2, 2, 3))."""
    keras_adapter = _keras(adapter)
    if keras_adapter is None:
        return None
    keras_adapter.load()
    api = keras_adapter.api
    if api.backend != "tensorflow":
        return None
    kernel = np.ones((3, 3, 3, 1), "float32")
    try:
        if api.tf_keras:  # Keras 2 has no keras.ops
            layer = api.layers.DepthwiseConv2D(3, strides=2, dilation_rate=3, use_bias=False)
            layer.build((1, 10, 10, 3))
            layer.set_weights([kernel])
            got = api.numpy(layer(api.tensor(_EXAMPLE_X.astype("float32"))))
        else:
            got = api.numpy(
                api.keras.ops.depthwise_conv(
                    api.tensor(_EXAMPLE_X.astype("float32")),
                    api.tensor(kernel),
                    strides=2,
                    padding="valid",
                    dilation_rate=3,
                )
            )
    except ValueError:  # the layer refuses the arguments: nothing runs wrong
        return None
    x_nchw = _EXAMPLE_X.transpose(0, 3, 1, 2)
    w_oihw = np.ones((3, 1, 3, 3))
    model = tf_space_to_batch_depthwise(x_nchw, w_oihw, None, (2, 2), (3, 3), False)["y"]
    model = model.transpose(0, 2, 3, 1)
    if got.shape != model.shape or not np.allclose(got, model, rtol=1e-6):
        return None
    return (
        f"{keras_adapter.version()}: keras-team/keras#23027's example (x 10x10x3, kernel 3x3, "
        f"strides 2, dilation_rate 3, 'valid') gives shape {got.shape}, as "
        "tf.nn.depthwise_conv2d's space-to-batch at stride 2 does, not (1, 2, 2, 3)"
    )


def _model(observed, magnitudes: bool = False):
    """The model for this comparison: ``(outputs, lengths)`` with ``lengths`` each
    output's reduction length, or None where the bug does not touch it.  ``magnitudes``:
    the model on |x|, |w|, |b|, |grad_out| instead, the sums of |terms| of the bug's own
    computation (for its bound, as conv2d's tolerance takes them from the reference)."""
    from adapters._geometry import is_string, padding_pairs, pair

    inputs, attrs = observed.reference_inputs, observed.attrs
    x, w, b, grad_out = inputs["x"], inputs["w"], inputs.get("b"), observed.grad_out
    if int(attrs.get("groups", 1)) != x.shape[1] or x.shape[1] < 2:
        return None  # not depthwise: Conv2D, not keras.ops.depthwise_conv
    stride, dilation = pair(attrs.get("stride", 1)), pair(attrs.get("dilation", 1))
    if max(stride) == 1 or max(dilation) == 1:
        return None  # tf.nn.depthwise_conv2d computes these right
    if magnitudes:
        x, w = np.abs(x), np.abs(w)
        b = None if b is None else np.abs(b)
        grad_out = None if grad_out is None else np.abs(grad_out)
    padding = attrs.get("padding", 0)
    same = is_string(padding) and padding.lower() == "same"
    top = left = 0
    if not is_string(padding):
        # The adapters pad explicitly with zeros first, then ask for 'valid'.
        (top, bottom), (left, right) = padding_pairs(padding, x.shape[2:], w.shape[2:], (1, 1))
        x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    taps = int(np.prod(w.shape[2:]))
    forward = tf_space_to_batch_depthwise(x, w, b, stride, dilation, same)
    if forward is None or grad_out is None:
        return None if forward is None else (forward, {"y": taps})
    seed, summed = _seed_as_tensorflow_reduces_it(grad_out, forward["y"].shape, b)
    if seed is None:
        return None
    predicted = tf_space_to_batch_depthwise(x, w, b, stride, dilation, same, grad_out=seed)
    size_h, size_w = inputs["x"].shape[2:]
    predicted["x"] = predicted["x"][:, :, top : top + size_h, left : left + size_w]
    positions = seed.shape[0] * seed.shape[2] * seed.shape[3]
    multiplier = w.shape[0] // x.shape[1]
    lengths = {"x": multiplier * taps + summed, "w": positions + summed}
    if b is not None:  # the bias add's own gradient reduces the seed as given
        predicted["b"] = grad_out.sum(axis=(0, 2, 3))
        lengths["b"] = grad_out.shape[0] * grad_out.shape[2] * grad_out.shape[3]
    return predicted, lengths


def _seed_as_tensorflow_reduces_it(grad_out, out_shape, b):
    """The gradient seed the convolution receives, and how many seed cells each of its
    cells sums.  The harness seeds with the right output's shape; where the bug's output
    is smaller with size-1 spatial axes, the gradient of the bias add (``y + b``,
    broadcasting) sums the seed over those axes before it reaches the convolution
    (measured with keras 3.14.0 on conv_depthwise_s2_d3: equal to the bit).  Without a
    bias TensorFlow raises instead (SpaceToBatchND: "padded_shape[0]=4 is not divisible
    by block_shape[0]=3"), and a shape that does not broadcast cannot be seeded: (None,
    0), nothing is predicted."""
    if grad_out.shape == tuple(out_shape):
        return grad_out, 0
    shapes = list(zip(out_shape, grad_out.shape, strict=True))
    if b is None or any(o not in (1, g) for o, g in shapes):
        return None, 0
    axes = tuple(a for a, (o, g) in enumerate(shapes) if o != g)
    return grad_out.sum(axis=axes, keepdims=True), int(np.prod([grad_out.shape[a] for a in axes]))


def _prediction(observed):
    model = _model(observed)
    return None if model is None else model[0]


def own_bounds(observed):
    """conv2d's rigorous rule, SAFETY * eps * (n + 2) * sum |terms|, on the bug's own
    terms and reduction lengths: the cells it reads are not the right convolution's, so
    the comparison's bound (zero where the right answer reads nothing) does not fit them."""
    from tests import tolerances

    mags, lengths = _model(observed, magnitudes=True)
    sized = {key: (lengths[key], mags[key]) for key in mags}
    return tolerances.reduction(observed.dtype, sized, "the bug's own sum |terms|").bounds


DEPTHWISE_SPACE_TO_BATCH_STRIDED = modelled(
    depthwise_stride_dilation_wrong,
    _prediction,
    "tf.nn.depthwise_conv2d's space-to-batch output at the caller's stride (shape and values)",
    own_bounds=own_bounds,
)
