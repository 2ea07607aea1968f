"""relu: max(x, 0) elementwise; relu'(0) = 0."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import away_from_zero, generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """relu copies or zeroes values (and gradients): exact."""
    return tolerances.exact(["y"] if direction == "forward" else ["x"])


CASES = (
    *seed_cases("relu"),
    generated("relu_nchw", "relu", 400, lambda r: {"x": away_from_zero(r, (2, 3, 4, 4))}),
    generated("relu_2d", "relu", 401, lambda r: {"x": away_from_zero(r, (4, 6))}),
)

ERRORS = (
    ErrorInput("relu_string_dtype", {"x": np.array(["a"])}, r"x .*dtype <U1"),
    ErrorInput(
        "relu_grad_shape",
        {"x": np.zeros(4)},
        r"grad_out shape \(3,\).*\(4,\)",
        direction="backward",
        grad_out=np.zeros(3),
    ),
)

DECLARED = (
    LayerInfo(
        "relu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch("relu", lambda n: {"x": ((n, 1, 28, 28), "normal")}),
    ),
)
