"""Seed 003 (003_21a027f42a904441.txt): tf.nn.conv2d with three filters, SAME max pool."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, register
from tests.cases.seeds._common import EXACT, IMG_1_TO_9_NHWC, f, hwio_to_oihw, nhwc_to_nchw

# Seed 003 (003_21a027f42a904441.txt): tf.nn.conv2d with a (2,2,1,3) filter, then
# tf.nn.max_pool SAME.  TF is NHWC/HWIO; converted here.

# HWIO (2, 2, 1, 3): every tap holds [1, 10, -1] across the three filters.
_S003_W_HWIO = np.broadcast_to(f([1, 10, -1]), (2, 2, 1, 3))
_S003_CONV_NHWC = f(
    [[[[12, 120, -12], [16, 160, -16]], [[24, 240, -24], [28, 280, -28]]]]
)  # (1, 2, 2, 3), as printed
_S003_POOL_NHWC = f(
    [[[[28, 280, -12], [28, 280, -16]], [[28, 280, -24], [28, 280, -28]]]]
)  # (1, 2, 2, 3), as printed

register(
    Case(
        id="s003_three_filters",
        layer="conv2d",
        inputs={"x": nhwc_to_nchw(IMG_1_TO_9_NHWC), "w": hwio_to_oihw(_S003_W_HWIO)},
        attrs={"stride": 1, "padding": "valid"},
        expected=nhwc_to_nchw(_S003_CONV_NHWC),
        provenance="seed 003, tf.nn.conv2d VALID, (1,2,2,3) output as printed "
        "(converted NHWC->NCHW, HWIO->OIHW)",
        tags=EXACT,
    ),
    Case(
        id="s003_same_maxpool",
        layer="maxpool2d",
        # The input is the seed's printed conv output.
        inputs={"x": nhwc_to_nchw(_S003_CONV_NHWC)},
        attrs={"kernel_size": 2, "stride": 1, "padding": "same"},
        expected=nhwc_to_nchw(_S003_POOL_NHWC),
        provenance="seed 003, tf.nn.max_pool ksize 2 stride 1 SAME, output as printed "
        "(NHWC->NCHW); -12, -16, -24, -28 survive because padding never wins",
        tags=EXACT,
    ),
)
