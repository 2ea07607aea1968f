"""dropout: inverted scaling 1/(1 - p) with an injected mask (True keeps the unit)."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """One rounded multiplication per element, by the scale 1/(1 - p)."""
    p = float(attrs.get("p", 0.5))
    training = attrs.get("training", True)
    scale = (0.0 if p >= 1 else 1.0 / (1.0 - p)) if training else 1.0
    if direction == "forward":
        return tolerances.elementwise(dtype, "y", np.abs(inputs["x"]) * scale, "|x| / (1 - p)")
    return tolerances.elementwise(dtype, "x", np.abs(grad_out) * scale, "|g| / (1 - p)")


def _dropout(p: float, shape=(2, 3, 4, 4)):
    # The mask is an input (a boolean array), not an attribute, so that attrs stay
    # JSON-able; ``forward(**inputs, **attrs)`` passes it by name.
    def make(rng):
        return {"x": rng.standard_normal(shape), "mask": rng.random(shape) >= p}

    return make


CASES = (
    generated("dropout_p05", "dropout", 1000, _dropout(0.5), p=0.5, training=True),
    generated("dropout_p02", "dropout", 1001, _dropout(0.2, (4, 10)), p=0.2, training=True),
    generated("dropout_eval", "dropout", 1002, _dropout(0.5), p=0.5, training=False),
    generated("dropout_p0", "dropout", 1003, _dropout(0.0, (3, 5)), p=0.0, training=True),
)

_X4 = np.zeros((2, 3, 2, 2))
_XM = {"x": _X4, "mask": _X4 == 0}

ERRORS = (
    ErrorInput("dropout_p_one", _XM, r"p must be .*\[0, 1\), got 1\.0", {"p": 1.0}),
    ErrorInput("dropout_p_negative", _XM, r"p must .*-0\.1", {"p": -0.1}),
    ErrorInput("dropout_p_nan", _XM, r"p must .*nan", {"p": float("nan")}),
    ErrorInput("dropout_p_string", _XM, r"p must .*'0\.5'", {"p": "0.5"}),
    ErrorInput(
        "dropout_mask_shape",
        {"x": _X4, "mask": np.ones((2, 3))},
        r"mask shape \(2, 3\) does not match x shape \(2, 3, 2, 2\)",
        {"p": 0.5},
    ),
    ErrorInput(
        "dropout_mask_values",
        {"x": np.zeros(3), "mask": np.array([1, 2, 0])},
        r"mask values must be 0 or 1, got 2",
        {"p": 0.5},
    ),
    ErrorInput(
        "dropout_mask_scaled",
        {"x": np.zeros(2), "mask": np.array([2.0, 0.0])},
        r"mask values must be 0 or 1, got 2\.0",
        {"p": 0.5},
    ),
    ErrorInput(
        "dropout_mask_missing", {"x": _X4, "mask": None}, r"mask is None.*training=True", {"p": 0.5}
    ),
    ErrorInput(
        "dropout_training_type", _XM, r"training must be a bool, got 1", {"p": 0.5, "training": 1}
    ),
    ErrorInput(
        "dropout_grad_shape",
        {"x": np.zeros(4), "mask": np.ones(4, bool)},
        r"grad_out shape \(3,\).*\(4,\)",
        {"p": 0.5},
        direction="backward",
        grad_out=np.zeros(3),
    ),
)

DECLARED = (
    LayerInfo(
        "dropout",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch(
            "dropout",
            lambda n: {"x": ((n, 1, 28, 28), "normal"), "mask": ((n, 1, 28, 28), "mask")},
            {"p": 0.5},
        ),
        attributes={"p": ("0.0", "0.2", "0.5"), "training": ("True", "False")},
    ),
)
