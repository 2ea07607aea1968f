"""conv_transpose2d: x (N, C_in, H, W), w (C_in, C_out/groups, kh, kw), optional b (C_out,).

The tolerance's magnitudes come from an explicit scatter-add of |x| |w|
(tests/layers/_conv_transpose_bounds.py), not from the reference: every output cell's
bound is its own sum of |terms|.
"""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import Case, generated
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import BenchShape, image
from tests.layers._conv_transpose_bounds import as_pair, gradient_magnitudes, scatter_magnitude


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Reductions: each output sums at most C_in/groups * kh * kw products (plus the
    bias); dx sums C_out/groups * kh * kw, dw and db one per position."""
    x, w = inputs["x"], inputs["w"]
    groups = int(attrs.get("groups", 1))
    taps = w.shape[2] * w.shape[3]
    if direction == "forward":
        n = x.shape[1] // groups * taps
        mag = scatter_magnitude(x, w, inputs.get("b"), attrs)
        return tolerances.reduction(dtype, {"y": (n, mag)}, "scatter-add of |x| |w| (+ |b|)")
    mags = gradient_magnitudes(grad_out, x, w, attrs)
    lengths = {
        "x": w.shape[1] * taps,
        "w": x.shape[0] * x.shape[2] * x.shape[3],
        "b": grad_out.shape[0] * grad_out.shape[2] * grad_out.shape[3],
    }
    keys = ("x", "w", "b") if "b" in inputs else ("x", "w")
    sized = {key: (lengths[key], mags[key]) for key in keys}
    return tolerances.reduction(dtype, sized, "|g| gathered tap by tap against |w|, |x|")


# ---------------------------------------------------------------------------------------
# Cases

_ONNX = "ONNX operator docs, ConvTranspose example"
_ONNX_SOURCE = "(onnx/onnx onnx/backend/test/case/node/convtranspose.py, operator docs)"
_X_0_TO_8 = np.arange(9.0).reshape(1, 1, 3, 3)
_ONES_1_2 = np.ones((1, 2, 3, 3))


def _both(plane):
    return np.array([[plane, plane]], dtype=np.float64)


def _onnx(case_id, example, inputs, expected, note="", **attrs):
    return Case(
        id=case_id,
        layer="conv_transpose2d",
        inputs=inputs,
        attrs=attrs,
        expected=np.asarray(expected, dtype=np.float64),
        provenance=f"{_ONNX} {example} {_ONNX_SOURCE}",
        note=note,
        tags=frozenset({"exact"}),
    )


_PLANE_DEFAULT = [
    [0, 1, 3, 3, 2],
    [3, 8, 15, 12, 7],
    [9, 21, 36, 27, 15],
    [9, 20, 33, 24, 13],
    [6, 13, 21, 15, 8],
]
_PLANE_OUTPUT_PADDING = [
    [0, 0, 1, 1, 3, 2, 2, 0],
    *[[0, 0, 1, 1, 3, 2, 2, 0]] * 2,
    *[[3, 3, 7, 4, 9, 5, 5, 0]] * 3,
    *[[6, 6, 13, 7, 15, 8, 8, 0]] * 3,
    [0] * 8,
]
_PLANE_PADS = [[1, 1, 3]] * 2 + [[7, 4, 9]] * 3 + [[13, 7, 15]] * 2
_PLANE_SAME = [
    [0, 0, 1, 1, 3, 2],
    [0, 0, 1, 1, 3, 2],
    [3, 3, 8, 5, 12, 7],
    [3, 3, 7, 4, 9, 5],
    [9, 9, 20, 11, 24, 13],
    [6, 6, 13, 7, 15, 8],
]
_PLANE_GROUP_2 = [
    [9, 19, 30, 21, 11],
    [21, 44, 69, 48, 25],
    [36, 75, 117, 81, 42],
    [27, 56, 87, 60, 31],
    [15, 31, 48, 33, 17],
]

ONNX_CASES = (
    _onnx("onnx_convtranspose", "test_convtranspose", {"x": _X_0_TO_8, "w": _ONES_1_2},
          _both(_PLANE_DEFAULT)),
    _onnx("onnx_convtranspose_pads", "test_convtranspose_pads (pads [1, 2, 1, 2])",
          {"x": _X_0_TO_8, "w": _ONES_1_2}, _both(_PLANE_PADS), stride=(3, 2), padding=(1, 2)),
    _onnx("onnx_convtranspose_output_padding", "test_convtranspose_pad",
          {"x": _X_0_TO_8, "w": _ONES_1_2}, _both(_PLANE_OUTPUT_PADDING), stride=(3, 2),
          output_padding=(1, 1)),
    _onnx("onnx_convtranspose_dilations", "test_convtranspose_dilations",
          {"x": np.array([[[[3.0, 8, 1], [9, 5, 7], [3, 2, 6]]]]),
           "w": np.array([[[[7.0, 2], [1, 9]]]])},
          [[[[21, 56, 13, 16, 2], [63, 35, 67, 10, 14], [24, 22, 76, 76, 21],
             [9, 5, 88, 45, 63], [3, 2, 33, 18, 54]]]], dilation=2),
    _onnx("onnx_convtranspose_autopad_same", "test_convtranspose_autopad_same (auto_pad "
          "SAME_UPPER, strides [2, 2])", {"x": _X_0_TO_8, "w": _ONES_1_2}, _both(_PLANE_SAME),
          note="ONNX SAME_UPPER = TF 'same': 7 full rows, the 7th (bottom) one cropped.",
          stride=2, padding="same"),
    _onnx("onnx_convtranspose_group_2", "test_convtranspose_group_2",
          {"x": np.arange(18.0).reshape(1, 2, 3, 3), "w": np.ones((2, 1, 3, 3))},
          [[_PLANE_DEFAULT, _PLANE_GROUP_2]], groups=2),
)  # fmt: skip


def _ct(n, c_in, h, w, c_out, kh, kw, groups=1, bias=True):
    def make(rng):
        inputs = {
            "x": rng.standard_normal((n, c_in, h, w)),
            "w": rng.standard_normal((c_in, c_out // groups, kh, kw)),
        }
        if bias:
            inputs["b"] = rng.standard_normal(c_out)
        return inputs

    return make


def _case(case_id, seed, make, note="", **attrs):
    return generated(case_id, "conv_transpose2d", seed, make, note, **attrs)


CASES = (
    *ONNX_CASES,
    _case(
        "ct_stride2_pad1_out1",
        1601,
        _ct(1, 2, 4, 4, 3, 3, 3),
        note="torch's 2x upsampling ConvTranspose2d(3, stride=2, padding=1, output_padding=1); "
        "Keras' 'same' has the same size but is one cell shifted (conventions).",
        stride=2,
        padding=1,
        output_padding=1,
    ),
    _case(
        "ct_same_k3_s2",
        1602,
        _ct(1, 2, 4, 3, 2, 3, 3),
        note="TF/Keras 'same', odd total crop (bottom/right gets it): no torch equivalent.",
        stride=2,
        padding="same",
    ),
    _case(
        "ct_same_k4_s2",
        1603,
        _ct(1, 2, 3, 4, 2, 4, 4, bias=False),
        note="'same' with an even crop: torch padding=1 (pix2pix/DCGAN upsampling).",
        stride=2,
        padding="same",
    ),
    _case(
        "ct_valid_s3_k2",
        1605,
        _ct(1, 2, 3, 3, 2, 2, 2),
        note="stride > kernel leaves gaps; Keras 'valid' would add stride - k cells.",
        stride=3,
        padding="valid",
    ),
    _case(
        "ct_asym_pad",
        1606,
        _ct(1, 2, 4, 4, 2, 3, 3),
        note="Per-side crop ((1, 0), (2, 1)) at stride 2: torch writes it as padding (1, 2) "
        "and output_padding (1, 1).",
        stride=2,
        padding=((1, 0), (2, 1)),
    ),
    _case(
        "ct_dilation2",
        1607,
        _ct(1, 2, 4, 4, 2, 2, 3),
        note="Dilation 2 at stride 1: output_padding 1 is allowed (smaller than the dilation).",
        dilation=2,
        padding=1,
        output_padding=1,
    ),
    _case(
        "ct_groups2",
        1608,
        _ct(2, 4, 3, 3, 4, 2, 2, groups=2),
        stride=2,
        output_padding=(1, 0),
        groups=2,
    ),
    _case(
        "ct_depthwise_bias",
        1609,
        _ct(1, 3, 3, 3, 3, 2, 2, groups=3),
        note="One input and one output channel per group, with a bias (torch's depthwise "
        "ConvTranspose2d(3, 3, 2, stride=2, padding=1, output_padding=1, groups=3)); "
        "reduced from the conv_transpose2d-onnx_reference fuzz failure (known divergence "
        "onnx_reference-conv-transpose-grouped-whole-bias).",
        stride=2,
        padding=1,
        output_padding=1,
        groups=3,
    ),
)

# ---------------------------------------------------------------------------------------
# Bad inputs

_X = np.zeros((1, 2, 3, 3))
_W = np.zeros((2, 3, 3, 3))
_XW = {"x": _X, "w": _W}


def _bad(case_id, match, inputs=_XW, **attrs):
    return ErrorInput(case_id, inputs, match, attrs)


ERRORS = (
    _bad("ct_zero_stride", r"stride.*0", stride=0),
    _bad("ct_bool_stride", r"stride.*True", stride=True),
    _bad("ct_zero_dilation", r"dilation.*\(0, 1\)", dilation=(0, 1)),
    _bad("ct_negative_padding", r"padding.*-1", padding=-1),
    _bad("ct_unknown_padding_string", r"padding.*'full'", padding="full"),
    _bad("ct_negative_output_padding", r"output_padding.*-1", output_padding=-1),
    _bad(
        "ct_output_padding_not_below_stride_or_dilation",
        r"output_padding 2 must be smaller than the stride 2 or the dilation 1",
        stride=2,
        output_padding=2,
    ),
    _bad(
        "ct_output_padding_with_same",
        r"output_padding must be 0 with padding='same'.*1",
        stride=2,
        padding="same",
        output_padding=1,
    ),
    _bad("ct_crops_everything", r"padding 3 crops the whole output along height", padding=3),
    _bad("ct_groups_not_dividing", r"groups 4 does not divide the 2 input channels", groups=4),
    _bad("ct_zero_groups", r"groups.*0", groups=0),
    _bad(
        "ct_weight_channel_mismatch",
        r"w shape \(3, 3, 3, 3\).*x shape \(1, 2, 3, 3\)",
        {"x": _X, "w": np.zeros((3, 3, 3, 3))},
    ),
    _bad("ct_bias_shape", r"b shape \(2,\).*3 output channels", {**_XW, "b": np.zeros(2)}),
    _bad(
        "ct_grouped_bias_shape",
        r"b shape \(3,\).*6 output channels",
        {**_XW, "b": np.zeros(3)},
        groups=2,
    ),
    _bad("ct_x_3d", r"x .*shape \(2, 3, 3\)", {"x": np.zeros((2, 3, 3)), "w": _W}),
    _bad("ct_empty_kernel", r"w shape \(2, 3, 0, 3\)", {"x": _X, "w": np.zeros((2, 3, 0, 3))}),
    ErrorInput(
        "ct_grad_out_shape",
        _XW,
        r"grad_out shape \(1, 3, 4, 4\)",
        {},
        direction="backward",
        grad_out=np.zeros((1, 3, 4, 4)),
    ),
)

# ---------------------------------------------------------------------------------------
# Fuzzing


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import paddings, pair_or_int, seeds, small

    @st.composite
    def configs(draw):
        groups = draw(st.sampled_from([1, 1, 2]))
        stride = draw(pair_or_int(small))
        dilation = draw(pair_or_int(st.integers(1, 2)))
        padding = draw(paddings(2))
        limits = [max(s, d) for s, d in zip(as_pair(stride), as_pair(dilation), strict=True)]
        if padding == "same":
            output_padding = 0
        else:
            output_padding = draw(
                st.one_of(
                    st.integers(0, min(limits) - 1),
                    st.tuples(st.integers(0, limits[0] - 1), st.integers(0, limits[1] - 1)),
                )
            )
        shape = {
            "n": draw(st.integers(1, 2)),
            "c_in": groups * draw(st.integers(1, 2)),
            "c_out": groups * draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 5)),
            "w": draw(st.integers(1, 5)),
            "kh": draw(st.integers(1, 4)),
            "kw": draw(st.integers(1, 4)),
            "bias": draw(st.booleans()),
        }
        attrs = {
            "stride": stride,
            "padding": padding,
            "output_padding": output_padding,
            "dilation": dilation,
            "groups": groups,
        }
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    s, groups = config["shape"], config["attrs"]["groups"]
    return _ct(s["n"], s["c_in"], s["h"], s["w"], s["c_out"], s["kh"], s["kw"], groups, s["bias"])(
        np.random.default_rng(config["seed"])
    )


#: Issue 16's seed shapes: batch 32, 16 channels, 28x28, upsampled 2x.
ISSUE16_UPSAMPLE = (
    "issue 16: batch 32, 16 channels, 28x28 upsampled 2x by ConvTranspose2d(16, 16, 4, "
    "stride=2, padding=1) (DCGAN / pix2pix decoders)"
)

BENCH = (
    BenchShape(
        "conv_transpose2d",
        "upsample2x-b32",
        {"x": image(32, 16), "w": ((16, 16, 4, 4), "normal"), "b": ((16,), "normal")},
        ISSUE16_UPSAMPLE,
        {"stride": 2, "padding": 1},
    ),
)

DECLARED = (
    LayerInfo(
        "conv_transpose2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=BENCH,
        attributes={
            "stride": ("1", ">1", "(h, w)"),
            "padding": ("0", "1", "(h, w)", "per-side", "valid", "same"),
            "output_padding": ("0", "1", "(h, w)"),
            "dilation": ("1", ">1"),
            "groups": ("1", ">1"),
            "b": ("given", "None"),
        },
    ),
)
