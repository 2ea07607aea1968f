"""Convention probes for the decoder layers (issue 16): framework calls made with the
framework's own defaults, which the layer adapters (built to reproduce the reference's
parameters) never make.

- ``keras_conv_transpose``: keras.layers.Conv2DTranspose built with only ``strides`` and
  ``padding`` (output_padding left at its default, None).

NumPy in and out, NCHW; frameworks are loaded through the layer adapters (so device,
x64 and backend choices match the parity tests).
"""

from __future__ import annotations

import numpy as np

import adapters
from adapters.layout import nchw_to_nhwc, nhwc_to_nchw


def keras_conv_transpose(x, w, b, *, strides: int, padding: str) -> np.ndarray:
    """Conv2DTranspose(filters, kernel_size, strides=..., padding=...) with the weights
    (reference layout: w (C_in, C_out, kh, kw)) set, on NCHW ``x``."""
    api = adapters.load("keras").api
    conv = api.layers.Conv2DTranspose(
        w.shape[1], w.shape[2:], strides=strides, padding=padding, dtype=x.dtype.name
    )
    conv.build((None, None, None, x.shape[1]))
    conv.set_weights([w.transpose(2, 3, 1, 0), b])
    return nhwc_to_nchw(api.numpy(conv(api.tensor(nchw_to_nhwc(x)))))
