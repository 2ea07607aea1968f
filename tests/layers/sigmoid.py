"""sigmoid: 1 / (1 + exp(-x)) elementwise."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element.  Forward: relative to |s|.  Backward
    ``g * s * (1 - s)``: ``1 - s`` cancels as s -> 1, so its error is eps * s, not
    relative: the magnitude is |g| * s."""
    # sigmoid as exp(-log(1 + exp(-x))): accurate at both tails, and not the reference's code
    s = np.exp(-np.logaddexp(0.0, -inputs["x"]))
    if direction == "forward":
        return tolerances.elementwise(dtype, "y", s, "|sigmoid(x)|")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * s, "|g| * sigmoid(x)")


CASES = (
    generated("sigmoid_nchw", "sigmoid", 402, lambda r: {"x": r.uniform(-6, 6, (2, 3, 4, 4))}),
    generated(
        "sigmoid_saturated",
        "sigmoid",
        403,
        lambda r: {"x": r.uniform(15, 40, (2, 8)) * r.choice([-1.0, 1.0], (2, 8))},
        note="|x| in [15, 40]: outputs within float32 eps of 0 or 1.",
    ),
)

ERRORS = (
    ErrorInput(
        "sigmoid_grad_shape",
        {"x": np.zeros(4)},
        r"grad_out shape \(2, 2\).*\(4,\)",
        direction="backward",
        grad_out=np.zeros((2, 2)),
    ),
)

DECLARED = (
    LayerInfo(
        "sigmoid",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch("sigmoid", lambda n: {"x": ((n, 1, 28, 28), "normal")}),
    ),
)
