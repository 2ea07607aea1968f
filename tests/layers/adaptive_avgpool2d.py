"""adaptive_avgpool2d: x (N, C, H, W) averaged over torch's adaptive windows."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.layers import ErrorInput, LayerInfo
from tests.layers import _adaptive as adaptive


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A mean over at most the largest window's cells; backward, a cell sums g / size
    from each window covering it (up to 4 where windows overlap on both axes)."""
    x, output_size = inputs["x"], attrs["output_size"]
    if direction == "forward":
        n = adaptive.window_cells(x.shape, output_size)
        mag = adaptive.mean_abs(x, output_size)
        return tolerances.reduction(dtype, {"y": (n, mag)}, "window means of |x|")
    n = int(adaptive.overlap(x.shape, output_size).max())
    mag = adaptive.spread_abs(grad_out, x.shape, output_size)
    return tolerances.reduction(dtype, {"x": (n, mag)}, "|g| / window size, spread")


_HAND = [[3.0, 4.5, 6.0], [10.5, 12.0, 13.5], [18.0, 19.5, 21.0]]

CASES = (
    adaptive.onnx_case(
        "onnx_globalaveragepool", "adaptive_avgpool2d", "GlobalAveragePool", [[[[5.0]]]]
    ),
    adaptive.hand_case("aavg_hand_5to3", "adaptive_avgpool2d", [[_HAND]]),
    *adaptive.generated_cases("aavg", "adaptive_avgpool2d", 1610),
)

_X = {"x": np.zeros((1, 2, 5, 5))}

ERRORS = (
    ErrorInput("aavg_zero_output_size", _X, r"output_size must be >= 1, got 0", {"output_size": 0}),
    ErrorInput(
        "aavg_negative_output_size",
        _X,
        r"output_size must be >= 1, got \(2, -1\)",
        {"output_size": (2, -1)},
    ),
    ErrorInput("aavg_float_output_size", _X, r"output_size.*2\.5", {"output_size": 2.5}),
    ErrorInput(
        "aavg_three_output_sizes", _X, r"output_size.*\(1, 2, 3\)", {"output_size": (1, 2, 3)}
    ),
    ErrorInput("aavg_x_3d", {"x": np.zeros((2, 5, 5))}, r"x .*\(2, 5, 5\)", {"output_size": 1}),
    ErrorInput(
        "aavg_empty_x", {"x": np.zeros((1, 1, 0, 3))}, r"x shape \(1, 1, 0, 3\)", {"output_size": 1}
    ),
    ErrorInput(
        "aavg_grad_out_shape",
        _X,
        r"grad_out shape \(1, 2, 3, 3\)",
        {"output_size": 2},
        direction="backward",
        grad_out=np.zeros((1, 2, 3, 3)),
    ),
)

DECLARED = (
    LayerInfo(
        "adaptive_avgpool2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=adaptive.bench("adaptive_avgpool2d"),
        attributes=adaptive.ATTRIBUTES,
    ),
)
