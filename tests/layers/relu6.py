"""relu6: min(max(x, 0), 6); the derivative is 0 at both kinks, 0 and 6.

No fuzz strategy: the layer has no attribute to explore, and its cases cover the value
ranges (kinks, saturation, |x| up to 1e4), as for relu, sigmoid and tanh."""

from __future__ import annotations

from tests import tolerances
from tests.layers import LayerInfo
from tests.layers import _activation as act


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """relu6 copies or clips values (and copies or zeroes gradients): exact."""
    return tolerances.exact(["y"] if direction == "forward" else ["x"], "clip and copy")


CASES = (
    act.case(
        "relu6_nchw",
        "relu6",
        1750,
        act.joined(act.away_from([0.0, 6.0], -3.0, 9.0), act.large(10.0, shape=(2, 16))),
        "x in [-3, 9) away from the kinks, and |x| in [10, 1e4]",
    ),
    act.case(
        "relu6_kink",
        "relu6",
        1751,
        act.with_kinks([0.0, 6.0], -2.0, 8.0),
        "x == 0, -0.0 and 6: the derivative is 0 at both kinks (every framework)",
        kink=True,
    ),
)

ERRORS = (act.string_dtype_error("relu6"), act.grad_shape_error("relu6"))

DECLARED = (
    LayerInfo(
        "relu6",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=act.bench("relu6"),
    ),
)
