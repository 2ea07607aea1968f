"""elu: x for x > 0, alpha * (exp(x) - 1) otherwise; the derivative at 0 is alpha."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _activation as act


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element.  On x <= 0 TensorFlow's Elu kernel forms
    ``exp(x) - 1`` and its EluGrad ``y + 1``, whose terms are of size 1 (not of the
    result's size: both cancel near 0 and for x << 0 respectively), so the magnitude there
    is |alpha| (forward) and |g| * |alpha| (backward); on x > 0, |x| and |g|."""
    x, alpha = inputs["x"], abs(float(attrs.get("alpha", 1.0)))
    local = np.where(x > 0, 1.0, alpha)
    if direction == "forward":
        magnitude = np.where(x > 0, np.abs(x), alpha)
        return tolerances.elementwise(dtype, "y", magnitude, "|x| (x > 0) or |alpha|")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * local, "|g| * (1 or |alpha|)")


def _with_zeros(rng):
    x = act.away_from([0.0], -4.0, 3.0)(rng)["x"]
    x.flat[:3] = [0.0, -0.0, 0.0]
    return {"x": x}


CASES = (
    act.case(
        "elu_alpha1",
        "elu",
        1710,
        act.joined(_with_zeros, act.large(shape=(2, 16))),
        "alpha = 1 (every framework's default), with exact zeros (both branches' derivative "
        "is 1 there, so no kink) and |x| in [20, 1e4], where exp(|x|) overflows",
        alpha=1.0,
    ),
    act.case("elu_alpha05", "elu", 1711, act.away_from([0.0], -5.0, 3.0, (4, 6)), alpha=0.5),
    act.case(
        "elu_kink",
        "elu",
        1712,
        act.with_kinks([0.0], -3.0, 2.0),
        "alpha = 0.5 at x == 0 and -0.0: the derivative is alpha (the left branch)",
        kink=True,
        alpha=0.5,
    ),
)

_X = {"x": np.zeros((2, 3))}

ERRORS = (
    ErrorInput("elu_alpha_nan", _X, r"alpha .*finite.*nan", {"alpha": np.nan}),
    ErrorInput("elu_alpha_inf", _X, r"alpha .*finite.*-inf", {"alpha": -np.inf}),
    ErrorInput("elu_alpha_string", _X, r"alpha .*'1'", {"alpha": "1"}),
    ErrorInput("elu_alpha_array", _X, r"alpha .*array", {"alpha": np.ones(2)}),
    act.string_dtype_error("elu"),
    act.grad_shape_error("elu"),
)


def _attrs():
    from hypothesis import strategies as st

    alphas = st.one_of(st.sampled_from([1.0, 0.5]), st.floats(0.0, 3.0, width=32))
    return st.fixed_dictionaries({"alpha": alphas})


DECLARED = (
    LayerInfo(
        "elu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=act.fuzz(_attrs),
        bench=act.bench("elu", {"alpha": 1.0}),
        attributes={"alpha": ("1.0", "0.5")},
    ),
)
