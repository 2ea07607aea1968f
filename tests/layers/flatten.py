"""flatten: x (N, d1, ...) -> (N, d1 * ...) from ``start_dim`` on, C-major as torch."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated, normal_x
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A reshape moves values without arithmetic: exact."""
    return tolerances.exact(["y"] if direction == "forward" else ["x"])


CASES = (
    generated("flatten_nchw", "flatten", 510, normal_x((2, 3, 4, 5))),
    generated("flatten_start2", "flatten", 511, normal_x((2, 3, 4, 5)), start_dim=2),
)

_X = {"x": np.zeros((2, 3, 2, 2))}

ERRORS = (
    ErrorInput(
        "flatten_start_dim_range",
        _X,
        r"start_dim 4 is out of range.*4 dimensions",
        {"start_dim": 4},
    ),
    ErrorInput(
        "flatten_start_dim_negative", _X, r"start_dim -5 is out of range", {"start_dim": -5}
    ),
    ErrorInput(
        "flatten_start_dim_type", _X, r"start_dim must be an int, got 1\.0", {"start_dim": 1.0}
    ),
    ErrorInput(
        "flatten_start_dim_bool", _X, r"start_dim must be an int, got True", {"start_dim": True}
    ),
    ErrorInput("flatten_scalar", {"x": np.float64(2.0)}, r"x must have at least 1.*\(\)"),
    ErrorInput(
        "flatten_grad_shape",
        _X,
        r"grad_out shape \(2, 3, 4\).*\(2, 12\)",
        direction="backward",
        grad_out=np.zeros((2, 3, 4)),
    ),
)

DECLARED = (
    LayerInfo(
        "flatten",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch("flatten", lambda n: {"x": ((n, 1, 28, 28), "normal")}),
        attributes={"start_dim": ("1", ">1")},
    ),
)
