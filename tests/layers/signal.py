"""SciPy's signal view (seed 004): correlate, convolve, correlate2d, convolve2d with
``mode`` "valid", "full" and "same"; each backward is ``<function>_backward``."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, LayerInfo, _magnitudes

FUNCTIONS = ("correlate", "convolve", "correlate2d", "convolve2d")


def _same_start(function: str):
    """Where "same" starts in the full output, per axis: ``k // 2`` for correlate2d,
    ``(k - 1) // 2`` otherwise (scipy/signal/_signaltools.py, see ``reference.signal``)."""
    return (lambda k: k // 2) if function == "correlate2d" else (lambda k: (k - 1) // 2)


def _tolerance(function: str):
    start, flip = _same_start(function), function.startswith("convolve")

    def tolerance(direction, inputs, attrs, dtype, grad_out):
        """Reduction over in2's taps (backward: in2's taps for in1, grad_out's cells for
        in2); the summed terms' sizes are the same operation on |in1|, |in2|, computed by
        ``tests/layers/_magnitudes.py``."""
        in1, in2 = np.abs(inputs["in1"]), np.abs(inputs["in2"])
        mode = attrs.get("mode", "full")
        if direction == "forward":
            n = int(inputs["in2"].size)
            mag = _magnitudes.signal_forward(in1, in2, mode, start, flip)
            return tolerances.reduction(dtype, {"y": (n, mag)}, f"{function} on |inputs|")
        lengths = {"in1": int(inputs["in2"].size), "in2": int(grad_out.size)}
        mags = _magnitudes.signal_backward(np.abs(grad_out), in1, in2, mode, start, flip)
        sized = {key: (lengths[key], mags[key]) for key in mags}
        return tolerances.reduction(dtype, sized, f"{function} backward on |grad_out|, |inputs|")

    return tolerance


def _sig(n: int, k: int):
    return lambda rng: {"in1": rng.standard_normal(n), "in2": rng.standard_normal(k)}


def _sig2(shape: tuple[int, int], kshape: tuple[int, int]):
    return lambda rng: {"in1": rng.standard_normal(shape), "in2": rng.standard_normal(kshape)}


def _generated() -> dict[str, list]:
    cases: dict[str, list] = {f: [] for f in FUNCTIONS}
    seed = 1100
    for fn in ("correlate", "convolve"):
        for k in (3, 4):
            for mode in ("valid", "full", "same"):
                case = generated(
                    f"sig_{fn}_k{k}_{mode}", f"signal.{fn}", seed, _sig(9, k), mode=mode
                )
                cases[fn].append(case)
                seed += 1
    for fn in ("correlate2d", "convolve2d"):
        for kshape in ((3, 3), (2, 4)):
            for mode in ("valid", "full", "same"):
                case = generated(
                    f"sig_{fn}_k{kshape[0]}x{kshape[1]}_{mode}",
                    f"signal.{fn}",
                    seed,
                    _sig2((5, 6), kshape),
                    mode=mode,
                )
                cases[fn].append(case)
                seed += 1
    return cases


_GENERATED = _generated()

ERRORS = {
    "correlate": (
        ErrorInput(
            "signal_mode",
            {"in1": np.zeros(5), "in2": np.zeros(2)},
            r"mode must be one of .*'circular'",
            {"mode": "circular"},
        ),
        ErrorInput(
            "signal_empty",
            {"in1": np.zeros(5), "in2": np.zeros(0)},
            r"in2 must be a non-empty .*shape \(0,\)",
        ),
        ErrorInput(
            "signal_grad_shape",
            {"in1": np.zeros(5), "in2": np.zeros(2)},
            r"grad_out shape \(5,\).*\(4,\)",
            {"mode": "valid"},
            direction="backward",
            grad_out=np.zeros(5),
        ),
    ),
    "convolve": (
        ErrorInput(
            "signal_ndim_mismatch",
            {"in1": np.zeros(5), "in2": np.zeros((2, 2))},
            r"in1 shape \(5,\) and in2 shape \(2, 2\)",
        ),
        ErrorInput(
            "signal_scalar",
            {"in1": np.float64(1.0), "in2": np.float64(2.0)},
            r"in1 must be a non-empty .*shape \(\)",
        ),
    ),
    "correlate2d": (
        ErrorInput(
            "signal_2d_ndim",
            {"in1": np.zeros(5), "in2": np.zeros(2)},
            r"in1 must have 2 dimensions, got shape \(5,\)",
        ),
        ErrorInput(
            "signal_valid_neither_larger",
            {"in1": np.zeros((5, 2)), "in2": np.zeros((2, 5))},
            r"mode 'valid'.*in1 shape \(5, 2\) and in2 shape \(2, 5\)",
            {"mode": "valid"},
        ),
    ),
    "convolve2d": (
        ErrorInput(
            "signal_mode_number",
            {"in1": np.zeros((3, 3)), "in2": np.zeros((2, 2))},
            r"mode must be one of .*, got 1",
            {"mode": 1},
        ),
        ErrorInput(
            "signal_2d_ndim_in2",
            {"in1": np.zeros((3, 3)), "in2": np.zeros((1, 2, 2))},
            r"in2 must have 2 dimensions, got shape \(1, 2, 2\)",
        ),
    ),
}

DECLARED = tuple(
    LayerInfo(
        f"signal.{fn}",
        tolerance=_tolerance(fn),
        cases=(*seed_cases(f"signal.{fn}"), *_GENERATED[fn]),
        error_inputs=ERRORS[fn],
        attributes={"mode": ("valid", "full", "same")},
    )
    for fn in FUNCTIONS
)
