"""leaky_relu: x for x > 0, negative_slope * x otherwise; the derivative at 0 is the slope."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _activation as act


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """At most one rounded product per element, by the slope (itself rounded to the dtype
    by the framework): relative to the local slope times |x| (forward) or |g| (backward)."""
    x = inputs["x"]
    local = np.where(x > 0, 1.0, abs(float(attrs["negative_slope"])))
    if direction == "forward":
        return tolerances.elementwise(dtype, "y", np.abs(x) * local, "|x| * local slope")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * local, "|g| * local slope")


def _slope(case_id, seed, slope, note, shape=act.NCHW):
    make = act.away_from([0.0], -3.0, 3.0, shape)
    if shape == act.NCHW:  # the first case also takes |x| up to 1e4
        make = act.joined(make, act.large(shape=(2, 16)))
    return act.case(case_id, "leaky_relu", seed, make, note, negative_slope=slope)


CASES = (
    _slope(
        "leaky_relu_slope001",
        1700,
        0.01,
        "torch.nn.LeakyReLU, jax.nn.leaky_relu default; 32 of the values have |x| in [20, 1e4]",
    ),
    _slope("leaky_relu_slope02", 1701, 0.2, "tf.nn.leaky_relu, keras.ops default", (4, 6)),
    _slope("leaky_relu_slope03", 1702, 0.3, "keras.layers.LeakyReLU default", (4, 6)),
    act.case(
        "leaky_relu_kink",
        "leaky_relu",
        1703,
        act.with_kinks([0.0], -2.0, 2.0),
        "x == 0 and -0.0: the derivative there is the slope (torch, TF, Keras); "
        "jax.nn.leaky_relu gives 1 (conventions row leaky_relu_grad_at_zero)",
        kink=True,
        negative_slope=0.1,
    ),
)

_X = {"x": np.zeros((2, 3))}

ERRORS = (
    ErrorInput(
        "leaky_relu_slope_nan", _X, r"negative_slope .*finite.*nan", {"negative_slope": np.nan}
    ),
    ErrorInput(
        "leaky_relu_slope_inf", _X, r"negative_slope .*finite.*inf", {"negative_slope": np.inf}
    ),
    ErrorInput(
        "leaky_relu_slope_string", _X, r"negative_slope .*'0\.1'", {"negative_slope": "0.1"}
    ),
    ErrorInput("leaky_relu_slope_bool", _X, r"negative_slope .*True", {"negative_slope": True}),
    ErrorInput("leaky_relu_slope_none", _X, r"negative_slope .*None", {"negative_slope": None}),
    act.string_dtype_error("leaky_relu", negative_slope=0.01),
    act.grad_shape_error("leaky_relu", negative_slope=0.01),
)


def _attrs():
    from hypothesis import strategies as st

    slopes = st.one_of(st.sampled_from([0.01, 0.2, 0.3]), st.floats(-2.0, 2.0, width=32))
    return st.fixed_dictionaries({"negative_slope": slopes})


DECLARED = (
    LayerInfo(
        "leaky_relu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=act.fuzz(_attrs),
        bench=act.bench("leaky_relu", {"negative_slope": 0.01}),
        attributes={"negative_slope": ("0.01", "0.1", "0.2", "0.3")},
    ),
)
