"""conv2d: cross-correlation, x (N, C, H, W), w (M, C/groups, kh, kw), optional b (M,)."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import ISSUE6_LARGE, SEED002, SEED004, BenchShape, image


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Reduction over C/groups * kh * kw taps (forward, dw over N * positions): the summed
    terms' sizes are the convolution of |x| with |w| (plus |b|)."""
    from reference import conv2d

    absolute = tolerances.absolute(inputs)
    if direction == "forward":
        n = int(np.prod(inputs["w"].shape[1:]))
        mag = conv2d.forward(**absolute, **attrs)
        return tolerances.reduction(dtype, {"y": (n, mag)}, "conv2d forward on |inputs|")
    w = inputs["w"]
    groups = int(attrs.get("groups", 1))
    positions = grad_out.shape[0] * int(np.prod(grad_out.shape[2:]))
    lengths = {"x": w.shape[0] // groups * w.shape[2] * w.shape[3], "w": positions, "b": positions}
    mags = conv2d.backward(np.abs(grad_out), **absolute, **attrs)
    sized = {key: (lengths[key], mags[key]) for key in mags}
    return tolerances.reduction(dtype, sized, "conv2d backward on |grad_out|, |inputs|")


def _conv(n, c, h, w, m, kh, kw, groups=1, bias=True):
    def make(rng):
        inputs = {
            "x": rng.standard_normal((n, c, h, w)),
            "w": rng.standard_normal((m, c // groups, kh, kw)),
        }
        if bias:
            inputs["b"] = rng.standard_normal(m)
        return inputs

    return make


CASES = (
    *seed_cases("conv2d"),
    generated("conv_basic", "conv2d", 100, _conv(2, 3, 6, 7, 4, 3, 3)),
    generated("conv_no_bias", "conv2d", 101, _conv(2, 3, 5, 5, 2, 3, 3, bias=False)),
    generated("conv_1x1", "conv2d", 102, _conv(2, 4, 4, 4, 3, 1, 1)),
    generated("conv_stride2", "conv2d", 103, _conv(2, 3, 7, 8, 4, 3, 3), stride=2),
    generated("conv_stride2_pad1", "conv2d", 104, _conv(1, 2, 7, 7, 3, 3, 3), stride=2, padding=1),
    generated(
        "conv_rect_stride",
        "conv2d",
        105,
        _conv(2, 2, 6, 7, 3, 2, 3),
        stride=(2, 1),
        padding=(1, 0),
    ),
    generated("conv_dilation2", "conv2d", 106, _conv(1, 2, 8, 8, 3, 3, 3), dilation=2, padding=2),
    generated(
        "conv_dilation_rect",
        "conv2d",
        107,
        _conv(1, 2, 9, 8, 2, 2, 3),
        dilation=(2, 1),
        stride=(1, 2),
    ),
    generated("conv_groups2", "conv2d", 108, _conv(2, 4, 5, 5, 6, 3, 3, groups=2), groups=2),
    generated(
        "conv_depthwise",
        "conv2d",
        109,
        _conv(1, 3, 6, 6, 6, 3, 3, groups=3),
        groups=3,
        padding=1,
    ),
    generated(
        "conv_asym_pad",
        "conv2d",
        110,
        _conv(1, 2, 5, 6, 3, 3, 3),
        padding=((1, 0), (2, 1)),
        note="Asymmetric explicit padding: torch.nn.functional.conv2d cannot express it.",
    ),
    generated("conv_valid_str", "conv2d", 111, _conv(1, 2, 6, 6, 2, 3, 3), padding="valid"),
    generated(
        "conv_same_even_kernel",
        "conv2d",
        112,
        _conv(1, 2, 5, 5, 2, 2, 4),
        padding="same",
        note="SAME at stride 1 with an even kernel: the extra cell goes bottom/right.",
    ),
    generated(
        "conv_same_stride2",
        "conv2d",
        113,
        _conv(1, 2, 8, 7, 3, 3, 3),
        padding="same",
        stride=2,
        note="SAME at stride 2: H=8 needs total padding 1 (all at the bottom), W=7 needs 2.",
    ),
    generated(
        "conv_same_dilation2",
        "conv2d",
        114,
        _conv(1, 2, 7, 6, 2, 2, 3),
        padding="same",
        dilation=2,
    ),
)

_X = np.zeros((1, 2, 5, 5))
_W = np.zeros((4, 2, 3, 3))
_XW = {"x": _X, "w": _W}


def _bad(case_id, match, inputs=_XW, **attrs):
    return ErrorInput(case_id, inputs, match, attrs)


def _bad_backward(case_id, match, grad_out, **attrs):
    return ErrorInput(case_id, _XW, match, attrs, direction="backward", grad_out=grad_out)


ERRORS = (
    # Empty axes torch refuses ("expected weight to be at least 1 at dimension 0"; "Only
    # zero batch or zero channel inputs are supported").  No output channels crashed in a
    # reshape; an empty height returned the bias.
    _bad(
        "conv_no_output_channels", r"w shape \(0, 2, 3, 3\) has no output", {"x": _X, "w": _W[:0]}
    ),
    _bad(
        "conv_empty_height",
        r"x shape \(1, 2, 0, 5\) has an empty height",
        {"x": np.zeros((1, 2, 0, 5)), "w": _W[:, :, :1, :1]},
        padding=1,
    ),
    # Was NumPy's "Maximum allowed dimension exceeded" or a MemoryError.
    _bad("conv_output_beyond_any_array", r"windows per channel, more than 2\*\*48", padding=10**18),
    _bad("conv_negative_padding", r"padding.*-1", padding=-1),
    _bad("conv_negative_pair_padding", r"padding.*\(1, -2\)", padding=(1, -2)),
    _bad("conv_negative_side_padding", r"padding.*-1\)\)", padding=((0, 1), (2, -1))),
    _bad("conv_unknown_padding_string", r"padding.*'full'", padding="full"),
    _bad("conv_float_padding", r"padding.*1\.5", padding=1.5),
    _bad("conv_three_padding_values", r"padding.*\(1, 1, 1\)", padding=(1, 1, 1)),
    _bad("conv_zero_stride", r"stride.*0", stride=0),
    _bad("conv_negative_stride", r"stride.*\(1, -1\)", stride=(1, -1)),
    _bad("conv_bool_stride", r"stride.*True", stride=True),
    _bad("conv_zero_dilation", r"dilation.*0", dilation=0),
    _bad("conv_negative_dilation", r"dilation.*\(-1, 1\)", dilation=(-1, 1)),
    _bad(
        "conv_kernel_too_large", r"w kernel size.*\(7, 3\)", {"x": _X, "w": np.zeros((4, 2, 7, 3))}
    ),
    _bad("conv_dilated_kernel_too_large", r"w kernel size.*dilation 3", dilation=3),
    _bad("conv_groups_not_dividing_channels", r"groups 3.*2 input channels", groups=3),
    _bad(
        "conv_groups_not_dividing_out_channels",
        r"groups 2.*3 output channels",
        {"x": _X, "w": np.zeros((3, 1, 3, 3))},
        groups=2,
    ),
    _bad("conv_zero_groups", r"groups.*0", groups=0),
    _bad("conv_float_groups", r"groups.*1\.0", groups=1.0),
    _bad(
        "conv_weight_channel_mismatch",
        r"w shape \(4, 3, 3, 3\).*x shape \(1, 2, 5, 5\)",
        {"x": _X, "w": np.zeros((4, 3, 3, 3))},
    ),
    _bad(
        "conv_weight_channel_mismatch_grouped",
        r"w shape \(4, 2, 3, 3\).*4 input channels",
        {"x": _X, "w": np.zeros((4, 2, 3, 3))},
        groups=2,
    ),
    _bad("conv_bias_shape", r"b shape \(3,\)", {**_XW, "b": np.zeros(3)}),
    _bad("conv_x_3d", r"x .*shape \(2, 5, 5\)", {"x": np.zeros((2, 5, 5)), "w": _W}),
    _bad("conv_w_2d", r"w .*shape \(4, 18\)", {"x": _X, "w": np.zeros((4, 18))}),
    _bad("conv_string_x", r"x .*dtype <U1", {"x": np.array([["a"]]), "w": _W}),
    _bad_backward("conv_grad_out_shape", r"grad_out shape \(1, 4, 2, 2\)", np.zeros((1, 4, 2, 2))),
    _bad_backward("conv_backward_bad_padding", r"padding.*-1", np.zeros((1, 4, 3, 3)), padding=-1),
)


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import paddings, pair_or_int, seeds, small

    @st.composite
    def configs(draw):
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        shape = {
            "n": draw(st.integers(1, 2)),
            "c": groups * draw(st.integers(1, 2)),
            "m": groups * draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 9)),
            "w": draw(st.integers(1, 9)),
            "kh": draw(st.integers(1, 4)),
            "kw": draw(st.integers(1, 4)),
            "bias": draw(st.booleans()),
        }
        attrs = {
            "stride": draw(pair_or_int(small)),
            "padding": draw(paddings(2)),
            "dilation": draw(pair_or_int(st.integers(1, 2))),
            "groups": groups,
        }
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    shape, groups = config["shape"], config["attrs"]["groups"]
    rng = np.random.default_rng(config["seed"])
    inputs = {
        "x": rng.standard_normal((shape["n"], shape["c"], shape["h"], shape["w"])),
        "w": rng.standard_normal((shape["m"], shape["c"] // groups, shape["kh"], shape["kw"])),
    }
    if shape["bias"]:
        inputs["b"] = rng.standard_normal(shape["m"])
    return inputs


def _bench(sid, n, c, m, k, padding, provenance) -> BenchShape:
    inputs = {"x": image(n, c), "w": ((m, c, k, k), "normal"), "b": ((m,), "normal")}
    return BenchShape("conv2d", sid, inputs, provenance, {"padding": padding})


BENCH = (
    _bench("seed002-b32", 32, 1, 16, 5, 0, SEED002),
    _bench("seed002-b128", 128, 1, 16, 5, 0, SEED002),
    _bench("seed004-b32", 32, 1, 10, 3, "same", SEED004),
    _bench("seed004-b128", 128, 1, 10, 3, "same", SEED004),
    _bench("large-b32", 32, 16, 32, 3, 1, ISSUE6_LARGE),
)

DECLARED = (
    LayerInfo(
        "conv2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=BENCH,
        attributes={
            "stride": ("1", ">1", "(h, w)"),
            "padding": ("0", "1", ">1", "(h, w)", "per-side", "valid", "same"),
            "dilation": ("1", ">1", "(h, w)"),
            "groups": ("1", ">1"),
            "b": ("given", "None"),
        },
    ),
)
