"""Integer bookkeeping for the decoder layers (issue 16), shared by the adapters.

Deliberately independent of ``reference``: an adapter that borrowed the reference's
geometry could not catch a mistake in it.

Transposed convolution, per axis: the full scatter of an input of length ``n`` has
``(n - 1)*s + k_eff`` cells (``k_eff = (k - 1)*d + 1``).  The reference crops ``top``
cells before it and ``bottom`` after it and appends ``extra`` (output padding) cells, so
``out = (n - 1)*s + k_eff - top - bottom + extra`` and output cell ``o`` is full cell
``o + top``.  "same" is TensorFlow's: ``out = n*s``, crop ``total = max(k_eff - s, 0)``
with ``top = total // 2`` (conv2d's SAME rule applied to an input of ``n*s`` cells,
whose gradient tf.nn.conv2d_transpose computes), and ``max(s - k_eff, 0)`` extra cells.

Keras Conv2DTranspose, per axis (keras/src/backend/common/backend_utils.py,
``_get_output_shape_given_tf_padding`` for the size and
``_convert_conv_transpose_padding_args_from_keras_to_jax`` for where the kept window
starts, which every backend follows since keras-team/keras#22876):

- "valid": ``out = (n - 1)*s + k_eff + op`` with ``op`` defaulting to
  ``max(s - k_eff, 0)``; nothing cropped at the top;
- "same", no output_padding: ``out = n*s``, ``pad_len = s + k_eff - 2``;
- "same" with output_padding: ``out = (n - 1)*s + k_eff % 2 + op``,
  ``pad_len = k_eff + k_eff % 2 - 2 + op``;
- the top crop is ``k_eff - 1 - min(pad_len // 2 + pad_len % 2, k_eff - 1)``.
"""

from __future__ import annotations

from adapters._geometry import padding_pairs, pair

PaddingPairs = tuple[tuple[int, int], tuple[int, int]]


def transpose_crops(size_hw, kernel_hw, stride, padding, output_padding, dilation):
    """``(pads, extras)``: the reference's crop ``((top, bottom), (left, right))`` of the
    full scatter and its output padding ``(extra_h, extra_w)``, for any padding form."""
    strides, dilations = pair(stride), pair(dilation)
    spans = [(k - 1) * d + 1 for k, d in zip(kernel_hw, dilations, strict=True)]
    if isinstance(padding, str) and padding.lower() == "same":
        totals = [max(span - s, 0) for span, s in zip(spans, strides, strict=True)]
        pads = tuple((t // 2, t - t // 2) for t in totals)
        return pads, tuple(max(s - span, 0) for span, s in zip(spans, strides, strict=True))
    return padding_pairs(padding, size_hw, kernel_hw, strides), pair(output_padding)


def transpose_out(size, kernel, stride, dilation, top, bottom, extra) -> int:
    """The reference's output length on one axis."""
    return (size - 1) * stride + (kernel - 1) * dilation + 1 - top - bottom + extra


def keras_transpose_axis(size, kernel, stride, dilation, padding: str, op) -> tuple[int, int]:
    """``(top crop, out)`` of keras.layers.Conv2DTranspose on one axis (module docstring)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        op = max(stride - span, 0) if op is None else op
        return 0, (size - 1) * stride + span + op
    if op is None:
        pad_len, out = stride + span - 2, size * stride
    else:
        pad_len, out = span + span % 2 - 2 + op, (size - 1) * stride + span % 2 + op
    return span - 1 - min(pad_len // 2 + pad_len % 2, span - 1), out


def keras_transpose_options(
    size_hw, kernel_hw, stride, dilation, pads, extras, min_output_padding: int = 0
):
    """The Keras arguments that give the reference's output: ``(padding, output_padding,
    cropping)``.  ``cropping`` is None when Conv2DTranspose's own "same"/"valid" (with or
    without output_padding) already gives it; otherwise it is the
    ``keras.layers.Cropping2D`` argument applied after a "valid" Conv2DTranspose, with
    the output_padding that makes it long enough (which the caller checks against the
    stride, Conv2DTranspose's documented limit).

    ``min_output_padding`` is the smallest value this Keras accepts in an output_padding
    tuple: 1 in the Keras 3 releases whose ``standardize_tuple`` rejects 0 (3.3.3, 3.6.0)
    (keras-team/keras#19909, fixed by keras-team/keras#21383), so there an axis that
    needs no output padding is written as ``None`` (all axes at Keras' default) or as one
    more cell that the crop removes again."""
    strides, dilations = pair(stride), pair(dilation)
    axes = range(2)
    want = [
        (pads[a][0], transpose_out(size_hw[a], kernel_hw[a], strides[a], dilations[a],
                                   *pads[a], extras[a]))
        for a in axes
    ]  # fmt: skip

    def keras(a, padding, op):
        return keras_transpose_axis(size_hw[a], kernel_hw[a], strides[a], dilations[a], padding, op)

    for padding in ("same", "valid"):
        if all(keras(a, padding, None) == want[a] for a in axes):
            return padding, None, None
    for padding in ("same", "valid"):
        ops = []
        for a in axes:
            span = (kernel_hw[a] - 1) * dilations[a] + 1
            usable = [
                op
                for op in range(min_output_padding, strides[a])
                # Keras on TensorFlow passes the size to tf.nn.conv_transpose, whose
                # SAME rule needs ceil(out / s) == n: out in ((n - 1)*s, n*s].
                if padding == "valid" or 1 <= span % 2 + op <= strides[a]
            ]
            ops.append(next((op for op in usable if keras(a, padding, op) == want[a]), None))
        if None not in ops:
            return padding, tuple(ops), None
    needed = [max(extras[a] - pads[a][1], 0) for a in axes]
    ops = tuple(max(n, min_output_padding) for n in needed)
    if min(needed) < min_output_padding and all(
        keras(a, "valid", None)[1] - want[a][1] >= pads[a][0] for a in axes
    ):
        ops = None  # Keras' default output padding is long enough to crop from
    crops = []
    for a in axes:
        full = keras(a, "valid", None if ops is None else ops[a])[1]
        crops.append((pads[a][0], full - pads[a][0] - want[a][1]))
    return "valid", ops, tuple(crops)


def torch_transpose_padding(pads, extras) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """torch.nn.ConvTranspose2d's ``(padding, output_padding)`` pairs for the reference's
    crop: torch crops ``padding`` on both sides and then appends ``output_padding``, so
    ``padding = top`` and ``output_padding = extra + top - bottom``; None when that is
    negative (the bottom crop exceeds the top one)."""
    padding = tuple(lo for lo, _ in pads)
    output_padding = tuple(e + lo - hi for (lo, hi), e in zip(pads, extras, strict=True))
    if min(output_padding) < 0:
        return None
    return padding, output_padding  # type: ignore[return-value]
