"""linear: x (..., in) @ w (in, out) + b (out,); w as the seeds' Affine and Keras Dense."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, LayerInfo, _magnitudes
from tests.layers._bench import SEED002, BenchShape


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Reduction over in_features (forward, dx: out_features; dw, db: the rows).  The
    rigorous magnitude is |x| @ |w| + |b| (and its transposes); the tight criterion takes
    the same sums of squares and the signed value, all from ``tests/layers/_magnitudes.py``."""
    has_b = inputs.get("b") is not None
    squares = {k: np.square(v) for k, v in inputs.items() if v is not None}
    absolute = {k: np.abs(v) for k, v in inputs.items() if v is not None}
    what = "tests/layers/_magnitudes.py linear on squared / signed inputs"
    if direction == "forward":
        n = int(inputs["w"].shape[0])
        mag = _magnitudes.linear_forward(**absolute)
        rigorous = tolerances.reduction(dtype, {"y": (n, mag)}, "sum |terms| (|x| @ |w| + |b|)")
        terms = {"y": (_magnitudes.linear_forward(**squares), _magnitudes.linear_forward(**inputs))}
        return tolerances.probabilistic(dtype, rigorous, terms, what)
    rows = int(np.prod(grad_out.shape[:-1]))
    lengths = {"x": int(inputs["w"].shape[1]), "w": rows, "b": rows}

    def sums(g, values):
        return _magnitudes.linear_backward(g, values["x"], values["w"], has_b)

    mags = sums(np.abs(grad_out), absolute)
    sized = {key: (lengths[key], mags[key]) for key in mags}
    rigorous = tolerances.reduction(dtype, sized, "sum |terms| (on |grad_out|, |x|, |w|)")
    q, y = sums(np.square(grad_out), squares), sums(grad_out, inputs)
    terms = {key: (q[key], y[key]) for key in mags}
    return tolerances.probabilistic(dtype, rigorous, terms, what)


CASES = (
    *seed_cases("linear"),
    generated(
        "linear_basic",
        "linear",
        500,
        lambda r: {
            "x": r.standard_normal((4, 5)),
            "w": r.standard_normal((5, 3)),
            "b": r.standard_normal(3),
        },
    ),
    generated(
        "linear_no_bias",
        "linear",
        501,
        lambda r: {"x": r.standard_normal((3, 6)), "w": r.standard_normal((6, 2))},
    ),
    generated(
        "linear_wide",
        "linear",
        502,
        lambda r: {
            "x": r.standard_normal((8, 48)),
            "w": r.standard_normal((48, 10)) / np.sqrt(48),
            "b": r.standard_normal(10),
        },
    ),
    generated(
        "linear_nd",
        "linear",
        505,
        lambda r: {
            "x": r.standard_normal((2, 3, 4, 5)),
            "w": r.standard_normal((5, 3)),
            "b": r.standard_normal(3),
        },
        note="x (2, 3, 4, 5): the layer acts on the last axis and adds b at every leading "
        "index (torch.nn.Linear, Keras Dense); db sums over all leading dims.",
    ),
    # Real in_features (a flattened 64 x 3 x 3 block; a 512 x 3 x 3 one) with a small batch
    # and few outputs: where only the tight criterion of tests/tolerances.py can tell
    # float32 from reduced precision.
    generated(
        "linear_in576",
        "linear",
        503,
        lambda r: {
            "x": r.standard_normal((8, 576)),
            "w": r.standard_normal((576, 16)) / np.sqrt(576),
            "b": r.standard_normal(16),
        },
        note="in_features 576 (n = 576).",
    ),
    generated(
        "linear_in4608_relu",
        "linear",
        504,
        lambda r: {
            "x": np.maximum(r.standard_normal((4, 4608)), 0.0),
            "w": r.standard_normal((4608, 8)) / np.sqrt(4608),
            "b": r.standard_normal(8),
        },
        note="in_features 4608 (n = 4608), post-ReLU (non-negative) inputs.",
    ),
)

_X, _W = np.zeros((2, 4)), np.zeros((4, 3))

ERRORS = (
    ErrorInput(
        "linear_in_features",
        {"x": _X, "w": np.zeros((5, 3))},
        r"x shape \(2, 4\).*4 in_features.*w shape \(5, 3\)",
    ),
    ErrorInput(
        "linear_w_ndim", {"x": _X, "w": np.zeros(4)}, r"w must have 2 dimensions, got shape \(4,\)"
    ),
    ErrorInput(
        "linear_x_scalar",
        {"x": np.float64(1.0), "w": np.zeros((1, 3))},
        r"x must have at least 1 dimension.*shape \(\)",
    ),
    ErrorInput(
        "linear_b_shape", {"x": _X, "w": _W, "b": np.zeros(2)}, r"b shape \(2,\).*3 out_features"
    ),
    ErrorInput(
        "linear_b_ndim",
        {"x": _X, "w": _W, "b": np.zeros((1, 3))},
        r"b must have 1 dimensions, got shape \(1, 3\)",
    ),
    ErrorInput(
        "linear_grad_shape",
        {"x": _X, "w": _W},
        r"grad_out shape \(2, 4\).*\(2, 3\)",
        direction="backward",
        grad_out=np.zeros((2, 4)),
    ),
)

BENCH = tuple(
    BenchShape(
        "linear",
        f"seed002-b{n}",
        {"x": ((n, 2304), "normal"), "w": ((2304, 10), "normal"), "b": ((10,), "normal")},
        SEED002,
    )
    for n in (32, 128)
)

DECLARED = (
    LayerInfo(
        "linear",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=BENCH,
        attributes={"b": ("given", "None")},
    ),
)
