"""silu: x * sigmoid(x) (swish with beta = 1).

No fuzz strategy: the layer has no attribute to explore, and its cases cover the value
ranges (kinks, saturation, |x| up to 1e4), as for relu, sigmoid and tanh."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import LayerInfo
from tests.layers import _activation as act


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element.  Forward: relative to |x| sigmoid(x).  Backward
    ``s (1 + x (1 - s))``: ``1 - s`` cancels as s -> 1, so its terms are of size
    s (1 + |x|).  A subnormal sigmoid may be flushed to 0 (FTZ)."""
    x = inputs["x"]
    s = np.exp(-np.logaddexp(0.0, -x))  # not the reference's formula
    ax = np.abs(x)
    if direction == "forward":
        magnitude = ax * (s + act.flushed(s, dtype))
        return tolerances.elementwise(dtype, "y", magnitude, "|x| sigmoid(x)")
    magnitude = np.abs(grad_out) * (1.0 + ax) * (s + act.flushed(s, dtype))
    return tolerances.elementwise(dtype, "x", magnitude, "|g| sigmoid(x) (1 + |x|)")


CASES = (
    act.case(
        "silu_nchw",
        "silu",
        1740,
        act.joined(act.away_from([], -6.0, 6.0), act.large(shape=(2, 16))),
        "x in [-6, 6) and |x| in [20, 1e4]: exp(-x) overflows for x < -88.7 (float32) and "
        "-709.8 (float64)",
    ),
)

ERRORS = (act.string_dtype_error("silu"), act.grad_shape_error("silu"))

DECLARED = (
    LayerInfo(
        "silu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=act.bench("silu"),
    ),
)
