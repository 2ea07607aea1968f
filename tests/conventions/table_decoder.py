"""Conventions rows for the decoder layers (issue 16); asserted in test_conventions_decoder.py."""

from __future__ import annotations

from tests.conventions.rows import KERAS_315 as _KERAS_315
from tests.conventions.rows import TORCH_213 as _TORCH_213
from tests.conventions.rows import Convention, Side

# -- decoder layers (issue 16); asserted in test_conventions_decoder.py ----------------------

DECODER_ROWS: tuple[Convention, ...] = (
    Convention(
        id="conv_transpose_same_vs_torch",
        title="Transposed convolution 'same' (Keras, tf.nn, JAX) as torch padding / "
        "output_padding, and where torch has none",
        a=Side(
            ("torch",),
            "torch.nn.ConvTranspose2d(k, stride=2, padding=1, output_padding=0 if k is even "
            "else 1)",
            "conv_transpose2d.forward(x, w, b, stride=2, padding=1, output_padding=0 | 1)",
            {
                "stride": 2,
                "by_crop": {
                    "even": {"padding": 1, "output_padding": 0},
                    "odd": {"padding": 1, "output_padding": 1},
                },
            },
        ),
        b=Side(
            ("keras", "tensorflow", "jax"),
            "keras Conv2DTranspose(k, strides=2, padding='same') / tf.nn.conv2d_transpose("
            "output_shape=n*2, padding='SAME') / lax.conv_transpose(..., 'SAME')",
            "conv_transpose2d.forward(x, w, b, stride=2, padding='same')",
            {"stride": 2, "padding": "same"},
        ),
        difference=(
            "'same' gives n*s cells and crops c = max(k - s, 0) cells of the full scatter, "
            "c // 2 at the top/left and the odd one at the bottom/right. Even c (k = 4, "
            "s = 2): torch padding c/2, output_padding 0 is identical. Odd c (k = 3): no "
            "torch padding crops unevenly; padding (c+1)/2 with output_padding 1 gives the "
            "same n*s cells shifted by one, torch[o] = same[o + 1]"
        ),
        versions=(
            f"{_TORCH_213}; {_KERAS_315}; jax 0.10.2. Keras' torch backend before 3.15 "
            "computed the shifted torch form for 'same' (known divergence "
            "keras-torch-conv-transpose-same-shifted, keras-team/keras#22876)"
        ),
        sources=(
            "https://www.tensorflow.org/api_docs/python/tf/nn/conv2d_transpose (the "
            "gradient of conv2d; 'SAME' per tf.nn Notes on padding)",
            "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html "
            "(padding on both sides; output_padding 'added to one side of the output shape')",
            "https://github.com/keras-team/keras/pull/22876",
        ),
        notes=(
            "ONNX's ConvTranspose auto_pad SAME_UPPER crops the same way (its "
            "test_convtranspose_autopad_same example is the declared case "
            "onnx_convtranspose_autopad_same)."
        ),
    ),
    Convention(
        id="conv_transpose_valid_vs_torch",
        title="Transposed convolution 'valid' (Keras) vs torch padding=0 when stride > kernel",
        a=Side(
            ("torch",),
            "torch.nn.ConvTranspose2d(k, stride=s)  # padding=0, output_padding=0",
            "conv_transpose2d.forward(x, w, b, stride=s)",
            {"padding": 0, "output_padding": 0},
        ),
        b=Side(
            ("keras",),
            "keras Conv2DTranspose(k, strides=s, padding='valid')  # output_padding=None",
            "conv_transpose2d.forward(x, w, b, stride=s, output_padding=max(s - k, 0))",
            {"padding": "valid", "output_padding": "max(s - k, 0)"},
        ),
        difference=(
            "torch gives (n-1)s + k cells, Keras max(s, k) - k more: keras[:, :, :n_t, :n_t] "
            "= torch, and the s - k extra rows and columns (s > k) hold the bias alone; "
            "for s <= k the two agree"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315}",
        sources=(
            "keras-team/keras keras/src/backend/common/backend_utils.py "
            "_get_output_shape_given_tf_padding ('valid': output_padding defaults to "
            "max(kernel_size, strides) - kernel_size)",
            "https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html",
        ),
    ),
    Convention(
        id="adaptive_pool_vs_fixed_window",
        title="Adaptive pooling's windows vs the fixed kernel/stride that ports use",
        a=Side(
            ("torch", "keras"),
            "torch.nn.AdaptiveAvgPool2d(4) / AdaptiveMaxPool2d(4) / keras "
            "AdaptiveAveragePooling2D(4) / AdaptiveMaxPooling2D(4)",
            "adaptive_avgpool2d.forward(x, output_size=4) (and adaptive_maxpool2d)",
            {"output_size": 4},
        ),
        b=Side(
            ("torch",),
            "torch.nn.AvgPool2d(k, stride=s) / MaxPool2d(k, stride=s), s = in // out, "
            "k = in - (out - 1) s",
            "avgpool2d.forward(x, kernel_size=k, stride=s) (and maxpool2d)",
            {"stride": "in // out", "kernel_size": "in - (out - 1) * stride"},
        ),
        difference=(
            "A pools [floor(i in/out), ceil((i+1) in/out)), B pools [i s, i s + k): equal "
            "windows, so equal outputs, exactly when out divides in; for 10 -> 4, A "
            "[0,3) [2,5) [5,8) [7,10) against B (s 2, k 4) [0,4) [2,6) [4,8) [6,10): no "
            "window agrees and every average differs"
        ),
        versions=f"{_TORCH_213}; {_KERAS_315} (AdaptiveAveragePooling2D / "
        "AdaptiveMaxPooling2D: Keras 3 releases that have them)",
        sources=(
            "https://github.com/keras-team/keras-cv/issues/512 (tensorflow-addons' "
            "fixed-window adaptive pooling matches torch only when the output divides "
            "the input)",
            "https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool2d.html",
            "pytorch/pytorch aten/src/ATen/native/AdaptiveAveragePooling.cpp "
            "(start_index = floor(a*b/c), end_index = ceil((a+1)*b/c))",
        ),
    ),
    Convention(
        id="pad_mode_names",
        title="Padding mode names: reflect (edge not repeated) vs symmetric (edge "
        "repeated), replicate = edge, circular = wrap",
        a=Side(
            ("torch", "tensorflow", "jax"),
            "F.pad(mode='reflect') / tf.pad(mode='REFLECT') / jnp.pad(mode='reflect'); "
            "F.pad 'replicate' = jnp.pad 'edge'; F.pad 'circular' = jnp.pad 'wrap'",
            "pad2d.forward(x, padding, mode='reflect' | 'replicate' | 'circular')",
            {"modes": ["reflect", "replicate", "circular"]},
        ),
        b=Side(
            ("tensorflow", "jax"),
            "tf.pad(mode='SYMMETRIC') / jnp.pad(mode='symmetric'); torch's F.pad has no such mode",
            "pad2d.forward(x, padding, mode='symmetric')",
            {"modes": ["symmetric"]},
        ),
        difference=(
            "same name, same numbers across frameworks (bit for bit); reflect's k-th "
            "padded cell copies x[k], symmetric's x[k - 1]: sym[:p] = ref[1:p + 1] at "
            "every edge, interiors equal; torch refuses 'symmetric'"
        ),
        versions=f"{_TORCH_213}; tensorflow 2.21; jax 0.10.2",
        sources=(
            "https://www.tensorflow.org/api_docs/python/tf/pad (REFLECT, SYMMETRIC)",
            "https://pytorch.org/docs/stable/generated/torch.nn.functional.pad.html",
            "https://numpy.org/doc/stable/reference/generated/numpy.pad.html (reflect, "
            "symmetric, edge, wrap)",
        ),
    ),
)
