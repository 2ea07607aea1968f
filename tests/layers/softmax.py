"""softmax along ``axis``, stable for large logits."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated, normal_x
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import CLASSES, per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """exp(x - max) <= 1 and the normaliser >= 1, so the summed terms are of size 1
    (forward) or ``max|g|`` (backward: ``s * (g - sum(g * s))``, both parts <= max|g|)."""
    k = inputs["x"].shape[attrs.get("axis", -1)]
    if direction == "forward":
        return tolerances.reduction(dtype, {"y": (k, 1.0)}, "1 (softmax terms exp(x - max) <= 1)")
    return tolerances.reduction(dtype, {"x": (k, 2.0 * np.abs(grad_out).max())}, "2 max|g|")


CASES = (
    generated("softmax_2d", "softmax", 600, normal_x((4, 6))),
    generated(
        "softmax_large_logits",
        "softmax",
        601,
        lambda r: {"x": 1000.0 + 50.0 * r.standard_normal((3, 5))},
        note="Logits near 1000: exp overflows unless the row maximum is subtracted first.",
    ),
    generated("softmax_axis1_nchw", "softmax", 602, normal_x((2, 4, 3, 3)), axis=1),
)

_LOGITS = {"x": np.zeros((4, 3))}

ERRORS = (
    ErrorInput("softmax_axis", _LOGITS, r"axis 2 is out of range", {"axis": 2}),
    ErrorInput("softmax_axis_type", _LOGITS, r"axis must be an int, got '1'", {"axis": "1"}),
    ErrorInput(
        "softmax_grad_shape",
        _LOGITS,
        r"grad_out shape \(3, 4\).*\(4, 3\)",
        direction="backward",
        grad_out=np.zeros((3, 4)),
    ),
)

DECLARED = (
    LayerInfo(
        "softmax",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch("softmax", lambda n: {"x": ((n, CLASSES), "normal")}, {"axis": 1}),
        attributes={"axis": ("-1", "1")},
    ),
)
