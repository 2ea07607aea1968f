"""maxpool2d: x (N, C, H, W); padded cells never win; the first maximum takes the gradient."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import distinct, generated, styled, tied
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, Fuzz, LayerInfo, _magnitudes
from tests.layers._bench import ISSUE6_POOL, SEED002, SEED004, BenchShape, image


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Values are copied, so forward is exact; a gradient is exact where no cell wins two
    windows, else a sum of as many grad_out values as windows the cell wins (wins counted
    by ``tests/layers/_magnitudes.py``'s own argmax over explicit windows)."""
    if direction == "forward":
        return tolerances.exact(["y"])
    wins, mags = _magnitudes.maxpool_wins(inputs["x"], np.abs(grad_out), attrs)
    if wins.max() <= 1:
        return tolerances.exact(["x"], "every cell wins at most one window: a copy of grad_out")
    return tolerances.reduction(
        dtype, {"x": (int(wins.max()), mags)}, "|grad_out| summed over the windows a cell wins"
    )


def _nan_windows(counts, shape=(2, 2, 4, 6)):
    """Tie-free values; each 2x2 window gets a NaN count drawn from ``counts``, at random
    cells."""

    def make(rng):
        x = distinct(rng, shape)
        windows = x.reshape(shape[0], shape[1], shape[2] // 2, 2, shape[3] // 2, 2)
        for index in np.ndindex(shape[0], shape[1], shape[2] // 2, shape[3] // 2):
            n, c, i, j = index
            for cell in rng.permutation(4)[: rng.choice(counts)]:
                windows[n, c, i, cell // 2, j, cell % 2] = np.nan
        return {"x": x}

    return make


def _case(case_id, seed, shape, offset=0.0, note="", **attrs):
    make = lambda rng: {"x": distinct(rng, shape, offset)}  # noqa: E731
    return generated(case_id, "maxpool2d", seed, make, note, **attrs)


CASES = (
    *seed_cases("maxpool2d"),
    _case("maxpool_k2", 200, (2, 3, 6, 6), kernel_size=2),
    _case("maxpool_k3_s2_pad1", 201, (2, 2, 7, 7), kernel_size=3, stride=2, padding=1),
    _case(
        "maxpool_overlap",
        202,
        (1, 2, 5, 5),
        kernel_size=3,
        stride=1,
        note="Overlapping windows: one cell can win several windows; gradients accumulate.",
    ),
    _case("maxpool_rect", 203, (1, 2, 6, 7), kernel_size=(2, 3), stride=(1, 2)),
    _case(
        "maxpool_ceil_mode",
        204,
        (1, 2, 8, 8),
        kernel_size=3,
        stride=2,
        ceil_mode=True,
        note="ceil_mode adds a last, partial window starting inside the input.",
    ),
    _case(
        "maxpool_ceil_pad", 205, (1, 1, 8, 8), kernel_size=3, stride=2, padding=1, ceil_mode=True
    ),
    _case("maxpool_dilation2", 206, (1, 2, 7, 7), kernel_size=2, stride=1, dilation=2),
    _case(
        "maxpool_pad_negative",
        207,
        (1, 2, 5, 5),
        offset=-10.0,
        kernel_size=3,
        stride=2,
        padding=1,
        note="All inputs negative: padded cells (-inf) must never win.",
    ),
    _case(
        "maxpool_same_stride2",
        208,
        (1, 2, 6, 7),
        offset=-10.0,
        kernel_size=3,
        stride=2,
        padding="same",
        note="TF SAME: H=6 pads one row at the bottom only, W=7 one col each side; inputs < 0.",
    ),
    _case(
        "maxpool_asym_pad",
        209,
        (1, 1, 5, 6),
        offset=-5.0,
        kernel_size=2,
        stride=2,
        padding=((0, 1), (1, 1)),
    ),
    _case(
        "maxpool_ceil_start_in_padding",
        210,
        (1, 2, 7, 4),
        kernel_size=2,
        stride=3,
        padding=1,
        ceil_mode=True,
        note="torch's ceil_mode rule: rounding up would add a last window starting in the "
        "right padding (H=7: at padded row 9 >= 7 + 1; W=4: at padded col 6 >= 4 + 1), "
        "so it is dropped: 3 x 2 windows, not 4 x 3.",
    ),
    generated(
        "maxpool_ties",
        "maxpool2d",
        211,
        lambda r: {"x": tied(r, (2, 2, 6, 6))},
        note="Values from {-1/2, 0, 1/2}: most windows hold tied maxima; the first "
        "(row-major) takes the gradient (conventions row maxpool_grad_ties).",
        tags={"kink"},
        kernel_size=2,
    ),
    generated(
        "maxpool_ties_overlap",
        "maxpool2d",
        212,
        lambda r: {"x": tied(r, (1, 2, 6, 6))},
        note="Tied maxima in overlapping windows: a cell can win some windows and lose "
        "others to an earlier tie.",
        tags={"kink"},
        kernel_size=3,
        stride=1,
    ),
    # The two Hypothesis examples that caught Keras 3.8.0's torch-backend SAME pooling
    # (its padding length d(k-1) - (n-1) mod s is not TensorFlow's: -1 for kernel 1,
    # stride 2 on 2 cells; keras-team/keras#20774, in 3.9.0), kept as fixed cases so that
    # detection never rests on fuzzing luck.
    _case(
        "maxpool_same_k1x2_s2x1",
        213,
        (1, 2, 2, 1),
        kernel_size=(1, 2),
        stride=(2, 1),
        padding="same",
        note="SAME on 2 x 1: no padding along H (k=1, s=2), one cell right along W.",
    ),
    _case(
        "maxpool_same_k1x3",
        214,
        (1, 2, 1, 1),
        kernel_size=(1, 3),
        padding="same",
        note="SAME on 1 x 1 with stride = kernel (1, 3): one cell each side along W.",
    ),
    *(
        generated(
            case_id,
            "maxpool2d",
            seed,
            _nan_windows(counts),
            note,
            tags=frozenset({"kink"}),
            kernel_size=2,
        )
        for case_id, seed, counts, note in (
            (
                "maxpool_nan",
                215,
                (0, 1),
                "Half the 2x2 windows hold one NaN, anywhere: the window is NaN and its "
                "gradient goes to the NaN (torch, JAX); TF/Keras drop NaN (conventions "
                "rows maxpool_nan_forward, maxpool_nan_grad).",
            ),
            (
                "maxpool_nan_several",
                216,
                (0, 1, 2, 4),
                "Windows with 0, 1, 2 or 4 NaNs: the reference sends the gradient to the "
                "first NaN, torch to the last (conventions row maxpool_nan_grad).",
            ),
        )
    ),
)

_X = {"x": np.zeros((1, 2, 5, 5))}


def _bad(case_id, match, inputs=_X, **attrs):
    return ErrorInput(case_id, inputs, match, {"kernel_size": 2, **attrs})


ERRORS = (
    _bad("max_negative_padding", r"padding.*-2", padding=-2),
    _bad("max_unknown_padding_string", r"padding.*'SAME_LOWER'", padding="SAME_LOWER"),
    _bad("max_zero_stride", r"stride.*0", stride=0),
    _bad("max_zero_kernel", r"kernel_size.*0", kernel_size=0),
    _bad("max_negative_kernel", r"kernel_size.*\(2, -3\)", kernel_size=(2, -3)),
    _bad("max_three_kernel_values", r"kernel_size.*\(2, 2, 2\)", kernel_size=(2, 2, 2)),
    _bad("max_zero_dilation", r"dilation.*0", dilation=0),
    _bad("max_kernel_too_large", r"kernel_size 6", kernel_size=6),
    _bad("max_dilated_kernel_too_large", r"kernel_size 3.*dilation 3", kernel_size=3, dilation=3),
    _bad("max_window_all_padding", r"padding 3.*no input cell", padding=3),
    _bad("max_x_3d", r"x .*\(2, 5, 5\)", {"x": np.zeros((2, 5, 5))}),
    _bad("max_ceil_mode_string", r"ceil_mode.*'x'", ceil_mode="x"),
    ErrorInput(
        "max_grad_out_shape",
        _X,
        r"grad_out shape \(1, 2, 3, 3\)",
        {"kernel_size": 2},
        direction="backward",
        grad_out=np.zeros((1, 2, 3, 3)),
    ),
    ErrorInput(
        "max_backward_bad_stride",
        _X,
        r"stride.*0",
        {"kernel_size": 2, "stride": 0},
        direction="backward",
        grad_out=np.zeros((1, 2, 2, 2)),
    ),
    # Empty axes: torch pools only an empty batch ("Expected 3D or 4D (batch mode) tensor
    # with optional 0 dim batch size").  The ceil_mode one crashed with an IndexError.
    _bad(
        "max_empty_channels", r"x shape \(2, 0, 5, 5\) has an empty", {"x": np.zeros((2, 0, 5, 5))}
    ),
    _bad(
        "max_empty_height_ceil_mode",
        r"x shape \(1, 1, 0, 4\) has an empty",
        {"x": np.zeros((1, 1, 0, 4))},
        kernel_size=(2, 1),
        padding=((0, 2), (0, 0)),
        ceil_mode=True,
    ),
    _bad("max_ceil_mode_int", r"ceil_mode must be a bool, got -1", ceil_mode=-1),
    # Was an OverflowError building a per-window list of 2e18 entries.
    _bad("max_padding_beyond_any_window", r"padding 10{18} leaves window 0", padding=10**18),
    # Dilation beyond the image: only a few of the 5e17 windows meet it (was a MemoryError).
    _bad(
        "max_dilation_beyond_the_input",
        r"padding 10{18} leaves window 3 along height",
        dilation=10**18,
        padding=10**18,
    ),
)


def _configs():
    from tests.layers._fuzz import pool_configs

    # Tie-free values, and on purpose ties and exact zeros (several maxima per window:
    # the gradient goes to the first, row-major, in every adapter's max-pool).
    return pool_configs(dilation=True, values=("distinct", "ties", "zeros"))


def _fuzz_inputs(config):
    s = config["shape"]
    rng = np.random.default_rng(config["seed"])
    return {"x": styled(config["values"], rng, (s["n"], s["c"], s["h"], s["w"]))}


BENCH = (
    BenchShape(
        "maxpool2d", "seed002-b32", {"x": image(32, 16, 24, 24)}, SEED002, {"kernel_size": 2}
    ),
    BenchShape("maxpool2d", "seed004-b128", {"x": image(128, 10)}, SEED004, {"kernel_size": 2}),
    BenchShape(
        "maxpool2d", "large-b32", {"x": image(32, 32)}, ISSUE6_POOL, {"kernel_size": 2, "stride": 2}
    ),
)

DECLARED = (
    LayerInfo(
        "maxpool2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=BENCH,
        attributes={
            "kernel_size": (">1", "(h, w)"),
            "stride": ("None", "1", ">1", "(h, w)"),
            "padding": ("0", "1", "(h, w)", "per-side", "valid", "same"),
            "dilation": ("1", ">1", "(h, w)"),
            "ceil_mode": ("False", "True"),
        },
    ),
)
