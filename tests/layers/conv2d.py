"""conv2d: cross-correlation, x (N, C, H, W), w (M, C/groups, kh, kw), optional b (M,)."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import generated
from tests.cases.seeds import seed_cases
from tests.layers import ErrorInput, Fuzz, LayerInfo, _magnitudes
from tests.layers._bench import ISSUE6_LARGE, SEED002, SEED004, BenchShape, image


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Reduction over C/groups * kh * kw taps (forward, dw over N * positions).  The
    rigorous magnitude is the convolution of |x| with |w| (plus |b|); the tight criterion
    takes the same sums of squares and the signed value, all from
    ``tests/layers/_magnitudes.py``."""
    has_b = inputs.get("b") is not None
    squares = {k: np.square(v) for k, v in inputs.items() if v is not None}
    absolute = {k: np.abs(v) for k, v in inputs.items() if v is not None}
    if direction == "forward":
        n = int(np.prod(inputs["w"].shape[1:]))
        mag = _magnitudes.conv2d_forward(**absolute, attrs=attrs)
        rigorous = tolerances.reduction(dtype, {"y": (n, mag)}, "sum |terms| (conv of |x|, |w|)")
        terms = {
            "y": (
                _magnitudes.conv2d_forward(**squares, attrs=attrs),
                _magnitudes.conv2d_forward(**inputs, attrs=attrs),
            )
        }
        return tolerances.probabilistic(dtype, rigorous, terms, _INDEPENDENT)
    w = inputs["w"]
    groups = int(attrs.get("groups", 1))
    positions = grad_out.shape[0] * int(np.prod(grad_out.shape[2:]))
    lengths = {"x": w.shape[0] // groups * w.shape[2] * w.shape[3], "w": positions, "b": positions}

    def sums(g, values):
        return _magnitudes.conv2d_backward(g, values["x"], values["w"], has_b, attrs)

    mags = sums(np.abs(grad_out), absolute)
    sized = {key: (lengths[key], mags[key]) for key in mags}
    rigorous = tolerances.reduction(dtype, sized, "sum |terms| (on |grad_out|, |x|, |w|)")
    q, y = sums(np.square(grad_out), squares), sums(grad_out, inputs)
    terms = {key: (q[key], y[key]) for key in mags}
    return tolerances.probabilistic(dtype, rigorous, terms, _INDEPENDENT)


_INDEPENDENT = "tests/layers/_magnitudes.py conv2d on squared / signed inputs"


def _conv(n, c, h, w, m, kh, kw, groups=1, bias=True, relu_x=False):
    """Standard normal inputs; ``relu_x``: non-negative x, as after a ReLU (same-sign
    activations against signed weights, as in a real network's later layers)."""

    def make(rng):
        x = rng.standard_normal((n, c, h, w))
        inputs = {
            "x": np.maximum(x, 0.0) if relu_x else x,
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
    generated(
        "conv_batch16",
        "conv2d",
        118,
        _conv(16, 4, 32, 32, 4, 3, 3),
        padding=1,
        note="Batch 16, images large enough that the stride-1 forward runs in several "
        "chunks (float64: 6 + 6 + 4 images, counted; both buffer slots reused, a short "
        "last chunk), which before only the batch >= 32 benchmarks reached.",
    ),
    # Real layer sizes (64 to 512 channels, 3x3 kernels) with few output channels and
    # pixels, so that they stay cheap: the reduction lengths where float32's error is
    # sqrt(n)-small against the n-proportional rigorous bound, and the tight criterion
    # of tests/tolerances.py is what notices reduced precision.
    generated(
        "conv_c64_k3",
        "conv2d",
        115,
        _conv(2, 64, 6, 6, 8, 3, 3),
        padding=1,
        note="A real layer's width: 64 channels x 3x3 taps, n = 576.",
    ),
    generated(
        "conv_c128_k3_stride2",
        "conv2d",
        116,
        _conv(1, 128, 7, 7, 4, 3, 3, relu_x=True),
        stride=2,
        padding=1,
        note="128 channels x 3x3 taps (n = 1152), stride 2, post-ReLU activations.",
    ),
    generated(
        "conv_c512_k3",
        "conv2d",
        117,
        _conv(1, 512, 5, 5, 4, 3, 3, relu_x=True),
        note="512 channels x 3x3 taps, n = 4608 (a VGG/ResNet deep layer), post-ReLU.",
    ),
)

#: Depthwise convolutions (groups == C_in): MobileNetV2/V3's blocks, DeepLab's atrous
#: depthwise layers, and keras-team/keras#23027's configuration (strides > 1 with
#: dilation > 1, which keras.ops.depthwise_conv got wrong on TensorFlow before 3.15).
DEPTHWISE_CASES = (
    generated(
        "conv_depthwise_mobilenet_s2",
        "conv2d",
        115,
        _conv(2, 4, 7, 7, 4, 3, 3, groups=4),
        groups=4,
        stride=2,
        padding="same",
        note="MobileNetV2's stride-2 depthwise 3x3, SAME, depth multiplier 1.",
    ),
    generated(
        "conv_depthwise_atrous",
        "conv2d",
        116,
        _conv(1, 3, 8, 8, 3, 3, 3, groups=3, bias=False),
        groups=3,
        dilation=2,
        padding=2,
        note="DeepLab's atrous depthwise 3x3: dilation 2, explicit padding 2, no bias.",
    ),
    generated(
        "conv_depthwise_s2_d3",
        "conv2d",
        117,
        _conv(1, 3, 10, 10, 6, 3, 3, groups=3),
        groups=3,
        stride=2,
        dilation=3,
        note="keras-team/keras#23027's example (10x10, kernel 3, stride 2, dilation 3, "
        "'valid'), depth multiplier 2: before 3.15 Keras on TensorFlow gave 1x1, not 2x2.",
    ),
    generated(
        "conv_depthwise_s2_d2_same",
        "conv2d",
        118,
        _conv(1, 2, 9, 8, 2, 3, 3, groups=2),
        groups=2,
        stride=2,
        dilation=2,
        padding="same",
        note="Strides 2 with dilation 2, SAME (asymmetric on W = 8).",
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
    BenchShape(
        "conv2d",
        "depthwise-b32",
        {"x": image(32, 32), "w": ((32, 1, 3, 3), "normal"), "b": ((32,), "normal")},
        "issue 17: MobileNetV2's depthwise 3x3 (groups = C = 32, padding 1) on 28x28, batch 32",
        {"padding": 1, "groups": 32},
    ),
)

DECLARED = (
    LayerInfo(
        "conv2d",
        tolerance=tolerance,
        cases=CASES + DEPTHWISE_CASES,
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
