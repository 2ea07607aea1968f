"""avgpool2d: x (N, C, H, W); torch's ceil_mode, count_include_pad and divisor_override."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated, normal_x
from tests.layers import ErrorInput, Fuzz, LayerInfo, _magnitudes
from tests.layers._bench import per_batch


def _window_size(attrs) -> int:
    k = attrs["kernel_size"]
    return int(np.prod(k if isinstance(k, (tuple, list)) else (k, k)))


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Reduction over the window's kh * kw cells; the summed terms' sizes are each
    window's sum of |x| over |divisor| (backward: |grad_out| / |divisor| spread back over
    the windows), from ``tests/layers/_magnitudes.py``."""
    n = _window_size(attrs)
    x = inputs["x"]
    divisor = _magnitudes.avgpool_divisor(x.shape, attrs)
    if direction == "forward":
        mag = _magnitudes.avgpool_sums(np.abs(x), attrs) / divisor
        return tolerances.reduction(dtype, {"y": (n, mag)}, "window sums of |x| / |divisor|")
    mag = _magnitudes.avgpool_spread(np.abs(grad_out) / divisor, x.shape, attrs)
    return tolerances.reduction(
        dtype, {"x": (n, mag)}, "|grad_out| / |divisor| summed over the windows of each cell"
    )


def _case(case_id, seed, shape, note="", **attrs):
    return generated(case_id, "avgpool2d", seed, normal_x(shape), note, **attrs)


CASES = (
    _case("avgpool_k2", 300, (2, 3, 6, 6), kernel_size=2),
    _case(
        "avgpool_pad_include",
        301,
        (1, 2, 7, 7),
        kernel_size=3,
        stride=2,
        padding=1,
        count_include_pad=True,
    ),
    _case(
        "avgpool_pad_exclude",
        302,
        (1, 2, 7, 7),
        kernel_size=3,
        stride=2,
        padding=1,
        count_include_pad=False,
    ),
    _case("avgpool_ceil_mode", 303, (1, 2, 8, 8), kernel_size=3, stride=2, ceil_mode=True),
    _case(
        "avgpool_ceil_pad_include",
        304,
        (1, 1, 8, 8),
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
        count_include_pad=True,
        note="The last window overhangs the padding: its divisor counts padding, not overhang.",
    ),
    _case(
        "avgpool_ceil_pad_exclude",
        305,
        (1, 1, 8, 8),
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
        count_include_pad=False,
    ),
    _case(
        "avgpool_divisor_override", 306, (1, 2, 6, 6), kernel_size=2, stride=2, divisor_override=3
    ),
    _case(
        "avgpool_same_stride2",
        307,
        (1, 2, 6, 7),
        kernel_size=3,
        stride=2,
        padding="same",
        count_include_pad=False,
        note="TF SAME average pooling divides by the number of real cells.",
    ),
    _case("avgpool_rect", 308, (2, 1, 5, 7), kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    _case(
        "avgpool_ceil_start_in_padding",
        309,
        (1, 2, 7, 4),
        kernel_size=2,
        stride=3,
        padding=1,
        ceil_mode=True,
        count_include_pad=True,
        note="torch's ceil_mode rule: the window that rounding up adds starts in the right "
        "padding (H=7 at padded row 9 >= 7 + 1, W=4 at padded col 6 >= 4 + 1) and is "
        "dropped: 3 x 2 windows, not 4 x 3.",
    ),
    _case(
        "avgpool_ceil_two_extra",
        310,
        (1, 2, 4, 7),
        kernel_size=3,
        padding=(1, 0),
        ceil_mode=True,
        count_include_pad=False,
        note="Rounding up needs two cells past W=7 ((3 - 1) * 3 + 3 = 9): torch's windows "
        "start at 0, 3, 6 and the last reads column 6 alone.  Reduced from the "
        "avgpool2d-onnx_reference fuzz failure (onnx 1.23.2 pads one of the two before the "
        "input; known divergence onnx_reference-ceil-extra-pad-before).",
    ),
)

_X = {"x": np.zeros((1, 2, 5, 5))}


def _bad(case_id, match, inputs=_X, **attrs):
    return ErrorInput(case_id, inputs, match, {"kernel_size": 2, **attrs})


ERRORS = (
    _bad("avg_negative_padding", r"padding.*\(0, -1\)", padding=(0, -1)),
    _bad("avg_unknown_padding_string", r"padding.*'causal'", padding="causal"),
    _bad("avg_zero_stride", r"stride.*\(0, 1\)", stride=(0, 1)),
    _bad("avg_zero_kernel", r"kernel_size.*0", kernel_size=0),
    _bad("avg_kernel_too_large", r"kernel_size \(2, 8\)", kernel_size=(2, 8), padding=1),
    _bad(
        "avg_exclude_pad_window_all_padding",
        r"padding 3.*no input cell",
        padding=3,
        count_include_pad=False,
    ),
    ErrorInput("avg_x_5d", {"x": np.zeros((1,) * 5)}, r"x .*\(1, 1, 1", {"kernel_size": 1}),
    _bad("avg_zero_divisor", r"divisor_override.*0", divisor_override=0),
    _bad("avg_float_divisor", r"divisor_override.*2\.5", divisor_override=2.5),
    _bad("avg_count_include_pad_string", r"count_include_pad.*'yes'", count_include_pad="yes"),
    _bad("avg_ceil_mode_none", r"ceil_mode.*None", ceil_mode=None),
    ErrorInput(
        "avg_grad_out_shape",
        _X,
        r"grad_out shape \(1, 2, 3, 3\)",
        {"kernel_size": 2},
        direction="backward",
        grad_out=np.zeros((1, 2, 3, 3)),
    ),
    ErrorInput(
        "avg_backward_bad_padding",
        _X,
        r"padding.*'full'",
        {"kernel_size": 2, "padding": "full"},
        direction="backward",
        grad_out=np.zeros((1, 2, 2, 2)),
    ),
    _bad("avg_empty_width", r"x shape \(1, 2, 5, 0\) has an empty", {"x": np.zeros((1, 2, 5, 0))}),
    # Windows of padding alone, counted as zeros: torch's pad <= k/2 rule excludes them and
    # TF/Keras pad by SAME only.  padding=10**5 asked for a 74.5 GiB output.
    _bad("avg_counted_window_all_padding", r"padding 1 leaves window 0", kernel_size=1, padding=1),
    _bad("avg_huge_padding", r"padding 100000 leaves window 0", padding=10**5),
    _bad(
        "avg_divisor_beyond_int64",
        r"divisor_override must be a non-zero int64.*10{20}",
        divisor_override=10**400,
    ),
    _bad("avg_ceil_mode_int", r"ceil_mode must be a bool, got 2", ceil_mode=2),
)


def _configs():
    from tests.layers._fuzz import pool_configs

    return pool_configs(dilation=False)


def _fuzz_inputs(config):
    s = config["shape"]
    rng = np.random.default_rng(config["seed"])
    return {"x": rng.standard_normal((s["n"], s["c"], s["h"], s["w"]))}


DECLARED = (
    LayerInfo(
        "avgpool2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=per_batch(
            "avgpool2d", lambda n: {"x": ((n, 1, 28, 28), "normal")}, {"kernel_size": 2}
        ),
        attributes={
            "kernel_size": (">1", "(h, w)"),
            "stride": ("None", "1", ">1", "(h, w)"),
            "padding": ("0", "1", "(h, w)", "per-side", "valid", "same"),
            "ceil_mode": ("False", "True"),
            "count_include_pad": ("True", "False"),
            "divisor_override": ("None", ">1"),
        },
    ),
)
