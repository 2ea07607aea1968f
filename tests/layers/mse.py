"""mse: squared error, torch's reductions."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import CLASSES, per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Forward: the squared differences are non-negative, so the loss itself is the sum
    of |terms| (over N for a mean).  Backward ``2 (p - t) g / N`` is elementwise, each
    factor rounded once: its own size."""
    reduction = attrs.get("reduction", "mean")
    diff = inputs["pred"] - inputs["target"]
    squared = diff * diff
    if direction == "forward":
        if reduction == "none":
            return tolerances.reduction(dtype, {"y": (1, squared)}, "(p - t)^2")
        mag = squared.sum() / (squared.size if reduction == "mean" else 1)
        return tolerances.reduction(
            dtype, {"y": (squared.size, mag)}, "sum (p - t)^2 (/ N for a mean)"
        )
    scale = 1.0 / diff.size if reduction == "mean" else 1.0
    mag = np.abs(2.0 * diff * np.asarray(grad_out) * scale)
    return tolerances.reduction(dtype, {"pred": (2, mag)}, "|2 (p - t) g / N|")


def _pair(rng):
    return {"pred": rng.standard_normal((2, 3, 3, 3)), "target": rng.standard_normal((2, 3, 3, 3))}


CASES = tuple(
    generated(f"mse_{reduction}", "mse", seed, _pair, reduction=reduction)
    for seed, reduction in ((800, "mean"), (801, "sum"), (802, "none"))
)

_PAIR = {"pred": np.zeros(2), "target": np.zeros(2)}

ERRORS = (
    ErrorInput(
        "mse_shape",
        {"pred": np.zeros((2, 3)), "target": np.zeros((3, 2))},
        r"target shape \(3, 2\).*pred shape \(2, 3\)",
    ),
    ErrorInput(
        "mse_broadcast",
        {"pred": np.zeros((2, 3)), "target": np.zeros(3)},
        r"target shape \(3,\).*pred shape \(2, 3\)",
    ),
    ErrorInput(
        "mse_reduction", _PAIR, r"reduction .*'elementwise_mean'", {"reduction": "elementwise_mean"}
    ),
    ErrorInput("mse_reduction_none_value", _PAIR, r"reduction .*None", {"reduction": None}),
    ErrorInput(
        "mse_grad_shape",
        _PAIR,
        r"grad_out shape \(2,\).*\(\)",
        direction="backward",
        grad_out=np.zeros(2),
    ),
)

DECLARED = (
    LayerInfo(
        "mse",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch(
            "mse", lambda n: {"pred": ((n, CLASSES), "normal"), "target": ((n, CLASSES), "onehot")}
        ),
        attributes={"reduction": ("mean", "sum", "none")},
    ),
)
