"""tanh elementwise."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element.  Forward: relative to |tanh(x)|.  Backward
    ``g * (1 - t^2)`` cancels as |t| -> 1: the terms are of size |g|."""
    if direction == "forward":
        return tolerances.elementwise(dtype, "y", np.abs(np.tanh(inputs["x"])), "|tanh(x)|")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out), "|g|")


CASES = (
    generated("tanh_nchw", "tanh", 404, lambda r: {"x": r.uniform(-4, 4, (2, 3, 4, 4))}),
    generated(
        "tanh_saturated",
        "tanh",
        405,
        lambda r: {"x": r.uniform(10, 30, (2, 8)) * r.choice([-1.0, 1.0], (2, 8))},
    ),
)

ERRORS = (ErrorInput("tanh_complex", {"x": np.zeros(2, complex)}, r"x .*dtype complex128"),)

DECLARED = (
    LayerInfo(
        "tanh",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch("tanh", lambda n: {"x": ((n, 1, 28, 28), "normal")}),
    ),
)
