"""adaptive_maxpool2d: x (N, C, H, W), maximum over torch's adaptive windows; the first
maximum (row-major) takes the gradient."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _adaptive as adaptive


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Values are copied, so forward is exact; a gradient is exact where no cell wins
    two windows, else a sum of as many grad_out values as windows it wins."""
    if direction == "forward":
        return tolerances.exact(["y"])
    x, output_size = inputs["x"], attrs["output_size"]
    wins = adaptive.first_max_spread(np.ones_like(grad_out), x, output_size)
    if wins.max() <= 1:
        return tolerances.exact(["x"], "every cell wins at most one window: a copy of grad_out")
    mags = adaptive.first_max_spread(grad_out, x, output_size)
    return tolerances.reduction(dtype, {"x": (int(wins.max()), mags)}, "|g| at each first max")


_HAND = [[6.0, 8.0, 9.0], [16.0, 18.0, 19.0], [21.0, 23.0, 24.0]]

CASES = (
    adaptive.onnx_case("onnx_globalmaxpool", "adaptive_maxpool2d", "GlobalMaxPool", [[[[9.0]]]]),
    adaptive.hand_case("amax_hand_5to3", "adaptive_maxpool2d", [[_HAND]]),
    *adaptive.generated_cases("amax", "adaptive_maxpool2d", 1620),
)

_X = {"x": np.zeros((1, 2, 5, 5))}

ERRORS = (
    ErrorInput("amax_zero_output_size", _X, r"output_size must be >= 1, got 0", {"output_size": 0}),
    ErrorInput("amax_bool_output_size", _X, r"output_size.*True", {"output_size": True}),
    ErrorInput(
        "amax_x_5d", {"x": np.zeros((1,) * 5)}, r"x .*\(1, 1, 1, 1, 1\)", {"output_size": 1}
    ),
    ErrorInput(
        "amax_grad_out_shape",
        _X,
        r"grad_out shape \(1, 2, 1, 1\)",
        {"output_size": 2},
        direction="backward",
        grad_out=np.zeros((1, 2, 1, 1)),
    ),
)

DECLARED = (
    LayerInfo(
        "adaptive_maxpool2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=adaptive.bench("adaptive_maxpool2d"),
        attributes=adaptive.ATTRIBUTES,
    ),
)
