"""hardswish: x * relu6(x + 3) / 6; the derivative is 0 at x = -3 and 1 at x = 3.

No fuzz strategy: the layer has no attribute to explore, and its cases cover the value
ranges (kinks, saturation, |x| up to 1e4), as for relu, sigmoid and tanh."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import LayerInfo
from tests.layers import _activation as act


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element.  Forward ``x * relu6(x + 3) / 6``: ``x + 3`` cancels
    near -3, so the terms are |x| (|x| + 3) / 6 inside (-3, 3) (capped at |x|: outside,
    x or 0 exactly).  Backward ``x / 3 + 1/2`` inside: terms |g| (|x| / 3 + 1/2); outside
    a copy or 0."""
    ax = np.abs(inputs["x"])
    if direction == "forward":
        magnitude = ax * np.minimum(ax + 3.0, 6.0) / 6.0
        return tolerances.elementwise(dtype, "y", magnitude, "|x| min(|x| + 3, 6) / 6")
    local = np.where(ax < 3.0, ax / 3.0 + 0.5, 1.0)
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * local, "|g| (|x|/3 + 1/2)")


CASES = (
    act.case(
        "hardswish_nchw",
        "hardswish",
        1770,
        act.joined(act.away_from([-3.0, 3.0], -5.0, 5.0), act.large(10.0, shape=(2, 16))),
        "x in [-5, 5) away from the kinks, and |x| in [10, 1e4]",
    ),
    act.case(
        "hardswish_kink",
        "hardswish",
        1771,
        act.with_kinks([-3.0, 3.0], -4.0, 4.0),
        "x == -3 and 3: the derivative is 0 at -3 and 1 at 3 (the outer pieces)",
        kink=True,
    ),
)

ERRORS = (act.string_dtype_error("hardswish"), act.grad_shape_error("hardswish"))

DECLARED = (
    LayerInfo(
        "hardswish",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=act.bench("hardswish"),
    ),
)
