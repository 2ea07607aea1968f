"""hardsigmoid: clip(slope * x + offset, 0, 1); relu6(x + 3) / 6 by default (torch, JAX,
Keras 3), 0.2 x + 0.5 with slope=0.2 (Keras 2); the derivative is 0 at both kinks."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _activation as act

KERAS2 = {"slope": 0.2, "offset": 0.5}


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """One product and one sum before the clip (frameworks: (x + 3) / 6): the terms are
    |slope x| and |offset|, and inside (0, 1) |slope x| < 1 + |offset|, so the magnitude
    is min(|slope x| + |offset|, 1 + 2 |offset|); clipped values are exact.  Backward:
    |g| * |slope| (a product by the slope, or 0)."""
    slope, offset = float(attrs.get("slope", 1 / 6)), float(attrs.get("offset", 0.5))
    if direction == "forward":
        terms = np.abs(slope * inputs["x"]) + abs(offset)
        magnitude = np.minimum(terms, 1.0 + 2.0 * abs(offset))
        return tolerances.elementwise(dtype, "y", magnitude, "|slope x| + |offset| (capped)")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * abs(slope), "|g| |slope|")


CASES = (
    act.case(
        "hardsigmoid_default",
        "hardsigmoid",
        1760,
        act.joined(act.away_from([-3.0, 3.0], -5.0, 5.0), act.large(10.0, shape=(2, 16))),
        "x in [-5, 5) away from the kinks, and |x| in [10, 1e4]",
    ),
    act.case(
        "hardsigmoid_kink",
        "hardsigmoid",
        1761,
        act.with_kinks([-3.0, 3.0], -4.0, 4.0),
        "x == -3 and 3, where relu6(x + 3) / 6 is exactly 0 and 1: the derivative is 0",
        kink=True,
    ),
    act.case(
        "hardsigmoid_keras2",
        "hardsigmoid",
        1762,
        act.away_from([-2.5, 2.5], -4.0, 4.0, (4, 6)),
        "Keras 2's 0.2 x + 0.5 (tf.keras <= 2.15), kinks at +-2.5 avoided",
        **KERAS2,
    ),
)

_X = {"x": np.zeros((2, 3))}

ERRORS = (
    ErrorInput("hardsigmoid_slope_nan", _X, r"slope .*finite.*nan", {"slope": np.nan}),
    ErrorInput("hardsigmoid_offset_inf", _X, r"offset .*finite.*inf", {"offset": np.inf}),
    ErrorInput("hardsigmoid_slope_string", _X, r"slope .*'0\.2'", {"slope": "0.2"}),
    act.string_dtype_error("hardsigmoid"),
    act.grad_shape_error("hardsigmoid"),
)


def _attrs():
    from hypothesis import strategies as st

    return st.sampled_from([{}, dict(KERAS2)])


DECLARED = (
    LayerInfo(
        "hardsigmoid",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=act.fuzz(_attrs),
        bench=act.bench("hardsigmoid"),
        attributes={"slope": ("0.16666666666666666", "0.2"), "offset": ("0.5",)},
    ),
)
