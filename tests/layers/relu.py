"""relu: max(x, 0) elementwise; relu'(0) = 0."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import away_from_zero, generated, styled, with_exact_zeros
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """relu copies or zeroes values (and gradients): exact."""
    return tolerances.exact(["y"] if direction == "forward" else ["x"])


CASES = (
    *seed_cases("relu"),
    generated("relu_nchw", "relu", 400, lambda r: {"x": away_from_zero(r, (2, 3, 4, 4))}),
    generated("relu_2d", "relu", 401, lambda r: {"x": away_from_zero(r, (4, 6))}),
    generated(
        "relu_exact_zeros",
        "relu",
        402,
        lambda r: {"x": with_exact_zeros(r, (2, 3, 4, 4))},
        note="About 30% exact zeros, half of them -0.0: relu'(0) = 0 in every ReLU layer "
        "(conventions row relu_grad_at_zero); a backward with x >= 0 fails here only.",
        tags={"kink"},
    ),
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


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import seeds

    return st.fixed_dictionaries(
        {
            "attrs": st.just({}),
            "shape": st.lists(st.integers(1, 5), min_size=1, max_size=4),
            # Exact zeros (the kink) and ties on purpose, not by luck.
            "values": st.sampled_from(["zeros", "ties", "normal"]),
            "seed": seeds(),
        }
    )


def _fuzz_inputs(config):
    rng = np.random.default_rng(config["seed"])
    return {"x": styled(config["values"], rng, tuple(config["shape"]))}


DECLARED = (
    LayerInfo(
        "relu",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=per_batch("relu", lambda n: {"x": ((n, 1, 28, 28), "normal")}),
    ),
)
