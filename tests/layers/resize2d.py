"""resize2d: x (N, C, H, W) resized on H and W, ONNX Resize (opset 18) semantics."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tests import tolerances
from tests.cases import Case, generated, normal_x
from tests.layers import ErrorInput, Fuzz, LayerInfo
from tests.layers._bench import BenchShape
from tests.reference import resize_loops

_ATTRS = ("mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "antialias")
_DEFAULTS = ("nearest", "half_pixel", "round_prefer_floor", -0.75, False)


@lru_cache(maxsize=512)
def _axis(n, m, scale, key):
    """One axis, from the slow loops' own taps (tests/reference/resize_loops.py): the
    |weights| (m, n), their sensitivity to the source coordinate times (|c| + 1) (a
    coordinate computed in float carries a rounding error of a few ulps of that size),
    and the taps per output and per input."""
    attrs = dict(zip(_ATTRS, key, strict=True))
    weights, moved, count = np.zeros((m, n)), np.zeros((m, n)), np.zeros((m, n))
    for i in range(m):
        c, taps = resize_loops.taps(i, n, m, scale, attrs)
        for j, w, slope in taps:
            weights[i, j] += abs(w)
            moved[i, j] += slope * (abs(float(c)) + 1)
            count[i, j] += 1
    return weights, moved, int(count.sum(axis=1).max()), int(count.sum(axis=0).max())


def _axes(x_shape, attrs):
    key = tuple(attrs.get(k, d) for k, d in zip(_ATTRS, _DEFAULTS, strict=True))
    size, scale = attrs.get("size"), attrs.get("scale")
    return [_axis(n, m, s, key) for n, m, s in resize_loops.lengths(x_shape[2:], size, scale)]


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Forward: exact for nearest (one input value copied).  Linear and cubic: a reduction
    over the taps whose magnitude is sum_taps (|w_h||w_w| + |dw_h| |w_w| + |w_h| |dw_w|)
    |x|, dw being each weight's sensitivity to its source coordinate times (|c| + 1);
    backward: the same transposed, on |grad_out|, over the outputs reading each input.
    Weights and sensitivities come from the slow loops, never from reference/."""
    (wh, dh, out_h, in_h), (ww, dw, out_w, in_w) = _axes(inputs["x"].shape, attrs)
    rule = "resize2d taps' |weights| and coordinate sensitivity (tests/reference/resize_loops)"
    if direction == "forward":
        if attrs.get("mode", "nearest") == "nearest":
            return tolerances.exact(["y"], "nearest copies one input value")
        ax = np.abs(inputs["x"])
        mag = wh @ ax @ ww.T + dh @ ax @ ww.T + wh @ ax @ dw.T
        return tolerances.reduction(dtype, {"y": (out_h * out_w, mag)}, f"{rule} on |x|")
    g = np.abs(grad_out)
    mag = wh.T @ g @ ww + dh.T @ g @ ww + wh.T @ g @ dw
    return tolerances.reduction(dtype, {"x": (in_h * in_w, mag)}, f"{rule} on |grad_out|")


def _case(case_id, seed, shape, note="", **attrs):
    return generated(case_id, "resize2d", seed, normal_x(shape), note, **attrs)


# ONNX's own example input (onnx/backend/test/case/node/resize.py: data of the 4x4 cases).
_ONNX_4X4 = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
_ONNX = "onnx/backend/test/case/node/resize.py"


def _onnx_case(case_id, example, note="", **attrs):
    return Case(
        id=case_id,
        layer="resize2d",
        inputs={"x": _ONNX_4X4},
        attrs=attrs,
        provenance=f"{_ONNX} {example} (its input; its output is checked in "
        "tests/reference/test_resize2d_golden.py)",
        note=note,
    )


CASES = (
    _case("resize_nearest_default", 1600, (1, 2, 3, 4), size=(5, 7)),
    _case(
        "resize_nearest_asymmetric_floor",
        1601,
        (2, 1, 4, 3),
        scale=2,
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
        note="torch's mode='nearest' and Keras UpSampling2D's repeat.",
    ),
    _case(
        "resize_nearest_half_pixel_ceil",
        1602,
        (1, 2, 5, 4),
        size=(7, 9),
        nearest_mode="round_prefer_ceil",
        note="torch's 'nearest-exact', tf.image.resize / jax.image.resize 'nearest', "
        "scipy.ndimage order 0.",
    ),
    _case(
        "resize_nearest_align_corners_floor",
        1603,
        (1, 1, 4, 4),
        size=(8, 6),
        coordinate_transformation_mode="align_corners",
        nearest_mode="floor",
    ),
    _case(
        "resize_nearest_tf_half_pixel_ceil_down",
        1604,
        (1, 2, 7, 6),
        scale=(0.5, 0.75),
        coordinate_transformation_mode="tf_half_pixel_for_nn",
        nearest_mode="ceil",
    ),
    _case(
        "resize_nearest_out_one",
        1605,
        (2, 1, 3, 5),
        size=(1, 4),
        coordinate_transformation_mode="pytorch_half_pixel",
        nearest_mode="round_prefer_ceil",
        note="pytorch_half_pixel reads index 0 at output length 1.",
    ),
    _case(
        "resize_nearest_exact_tie",
        1618,
        (1, 1, 2, 3),
        size=(41, 3),
        nearest_mode="round_prefer_ceil",
        note="Output row 20 of 2 -> 41 sits exactly halfway: (20 + 1/2) * 2/41 - 1/2 = 1/2, "
        "which round_prefer_ceil sends to row 1.  Frameworks computing it in float32 "
        "(2/41 rounds down) read row 0 (tests/known_divergences.py).",
    ),
    _case("resize_bilinear_up2", 1606, (1, 2, 4, 5), scale=2, mode="linear"),
    _case(
        "resize_bilinear_align_corners",
        1607,
        (2, 1, 4, 5),
        size=(7, 9),
        mode="linear",
        coordinate_transformation_mode="align_corners",
        note="torch align_corners=True; scipy.ndimage.zoom grid_mode=False.",
    ),
    _case(
        "resize_bilinear_pytorch_half_pixel_scale",
        1608,
        (1, 2, 6, 5),
        scale=0.6,
        mode="linear",
        coordinate_transformation_mode="pytorch_half_pixel",
        note="floor(6 * 0.6) = floor(5 * 0.6) = 3, but the coordinates divide by 0.6, not "
        "by 3/6 and 3/5 (ONNX scales, torch scale_factor); APIs that take only the output "
        "size (tf.image, jax.image, Keras) cannot say it.",
    ),
    _case(
        "resize_linear_asymmetric",
        1609,
        (1, 1, 4, 3),
        scale=(1.5, 2),
        mode="linear",
        coordinate_transformation_mode="asymmetric",
    ),
    _case(
        "resize_linear_tf_half_pixel_for_nn",
        1610,
        (1, 1, 5, 4),
        size=(3, 6),
        mode="linear",
        coordinate_transformation_mode="tf_half_pixel_for_nn",
    ),
    _case(
        "resize_bilinear_up_down",
        1612,
        (1, 2, 3, 6),
        size=(7, 2),
        mode="linear",
        note="One axis upsampled, one downsampled without antialiasing: jax.image.resize "
        "needs antialias=False for this (its default True stretches the kernel).",
    ),
    _case(
        "resize_linear_antialias_up",
        1614,
        (1, 1, 3, 4),
        size=(5, 7),
        mode="linear",
        antialias=True,
        note="antialias does nothing when upsampling.",
    ),
    _case("resize_bicubic_up2", 1615, (1, 2, 4, 4), scale=2, mode="cubic"),
    _case(
        "resize_bicubic_align_corners",
        1616,
        (1, 1, 5, 4),
        size=(6, 7),
        mode="cubic",
        coordinate_transformation_mode="align_corners",
    ),
    _case(
        "resize_cubic_a_half_asymmetric_down",
        1617,
        (1, 1, 7, 6),
        size=(4, 3),
        mode="cubic",
        cubic_coeff_a=-0.5,
        coordinate_transformation_mode="asymmetric",
    ),
    _onnx_case(
        "resize_onnx_linear_antialias_down",
        "export_resize_downsample_sizes_linear_antialias",
        note="ONNX clamps the stretched filter's outside taps to the edge; torch, "
        "TensorFlow and JAX drop them (about 0.14 apart here).",
        size=3,
        mode="linear",
        antialias=True,
    ),
    _onnx_case(
        "resize_onnx_cubic_antialias_down",
        "export_resize_downsample_scales_cubic_antialias",
        scale=0.6,
        mode="cubic",
        antialias=True,
    ),
)

_X = {"x": np.zeros((1, 1, 2, 3))}


def _bad(case_id, match, inputs=_X, **attrs):
    return ErrorInput(case_id, inputs, match, {"size": 2, **attrs})


ERRORS = (
    _bad("resize_size_zero", r"size.*\(0, 3\)", size=(0, 3)),
    _bad("resize_size_negative", r"size.*-2", size=-2),
    _bad("resize_size_float", r"size must be an int.*2\.5", size=2.5),
    _bad("resize_size_bool", r"size must be an int.*True", size=True),
    _bad("resize_size_triple", r"size.*\(2, 2, 2\)", size=(2, 2, 2)),
    ErrorInput(
        "resize_size_and_scale",
        _X,
        r"exactly one of size and scale.*size=2.*scale=2",
        {"size": 2, "scale": 2},
    ),
    ErrorInput("resize_neither_size_nor_scale", _X, r"exactly one of size and scale", {}),
    ErrorInput("resize_scale_zero", _X, r"scale must be finite and > 0, got 0", {"scale": 0}),
    ErrorInput("resize_scale_negative", _X, r"scale.*-1\.5", {"scale": -1.5}),
    ErrorInput("resize_scale_nan", _X, r"scale.*nan", {"scale": float("nan")}),
    ErrorInput("resize_scale_inf", _X, r"scale.*inf", {"scale": (1.0, float("inf"))}),
    ErrorInput(
        "resize_scale_output_zero", _X, r"scale 0\.3 gives an output size of zero", {"scale": 0.3}
    ),
    _bad("resize_unknown_mode", r"mode must be one of.*'area'", mode="area"),
    _bad(
        "resize_tf_crop_and_resize",
        r"'tf_crop_and_resize' needs ONNX's roi",
        coordinate_transformation_mode="tf_crop_and_resize",
    ),
    _bad(
        "resize_unknown_coordinate_mode",
        r"coordinate_transformation_mode must be one of.*'half_pixel_symmetric'",
        coordinate_transformation_mode="half_pixel_symmetric",
    ),
    _bad(
        "resize_unknown_nearest_mode", r"nearest_mode must be one of.*'round'", nearest_mode="round"
    ),
    _bad("resize_cubic_coeff_string", r"cubic_coeff_a.*'-0.5'", cubic_coeff_a="-0.5"),
    _bad("resize_cubic_coeff_nan", r"cubic_coeff_a.*nan", cubic_coeff_a=float("nan")),
    _bad("resize_antialias_string", r"antialias must be a bool.*'yes'", antialias="yes"),
    _bad("resize_antialias_nearest", r"antialias=True.*not 'nearest'", antialias=True),
    ErrorInput(
        "resize_x_3d",
        {"x": np.zeros((1, 2, 3))},
        r"x must have 4 dimensions.*\(1, 2, 3\)",
        {"size": 2},
    ),
    ErrorInput(
        "resize_x_empty",
        {"x": np.zeros((1, 1, 0, 3))},
        r"x must have non-empty spatial axes.*\(0, 3\)",
        {"size": 2},
    ),
    ErrorInput(
        "resize_grad_out_shape",
        _X,
        r"grad_out shape \(1, 1, 2, 3\).*\(1, 1, 2, 2\)",
        {"size": 2},
        direction="backward",
        grad_out=np.zeros((1, 1, 2, 3)),
    ),
)


def _configs():
    from hypothesis import strategies as st

    from tests.layers._fuzz import pair_or_int, seeds

    # Scales are dyadic (exact in float32 and float64): a scale such as 1.3 is not 1.3,
    # and frameworks computing coordinates in float32 round exact ties differently.
    scales = st.sampled_from([0.5, 0.75, 1, 1.5, 2, 2.5, 3])

    @st.composite
    def configs(draw):
        mode = draw(st.sampled_from(["nearest", "linear", "cubic"]))
        attrs = {
            "mode": mode,
            "coordinate_transformation_mode": draw(
                st.sampled_from(
                    [
                        "half_pixel",
                        "pytorch_half_pixel",
                        "align_corners",
                        "asymmetric",
                        "tf_half_pixel_for_nn",
                    ]
                )
            ),
        }
        if draw(st.booleans()):
            attrs["size"] = draw(pair_or_int(st.integers(1, 12)))
        else:
            attrs["scale"] = draw(pair_or_int(scales))
        if mode == "nearest":
            attrs["nearest_mode"] = draw(
                st.sampled_from(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
            )
        else:
            attrs["antialias"] = draw(st.booleans())
        if mode == "cubic":
            attrs["cubic_coeff_a"] = draw(st.sampled_from([-0.75, -0.5]))
        shape = {
            "n": draw(st.integers(1, 2)),
            "c": draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 8)),
            "w": draw(st.integers(1, 8)),
        }
        return {"shape": shape, "attrs": attrs, "seed": draw(seeds())}

    return configs()


def _fuzz_inputs(config):
    s = config["shape"]
    rng = np.random.default_rng(config["seed"])
    return {"x": rng.standard_normal((s["n"], s["c"], s["h"], s["w"]))}


_SEED_SHAPES = (
    "issue 16: the seed shapes, batch 32, 16 channels, 28x28 (MNIST-sized maps of "
    "seeds 002/004), upsampled 2x"
)

DECLARED = (
    LayerInfo(
        "resize2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        fuzz=Fuzz(_configs, _fuzz_inputs),
        bench=(
            BenchShape(
                "resize2d",
                "up2-bilinear-b32",
                {"x": ((32, 16, 28, 28), "normal")},
                _SEED_SHAPES,
                {"scale": 2, "mode": "linear"},
            ),
        ),
        attributes={
            "size": ("None", ">1", "(h, w)"),
            "scale": ("None", ">1", "(h, w)", "0.6"),
            "mode": ("nearest", "linear", "cubic"),
            "coordinate_transformation_mode": (
                "half_pixel",
                "pytorch_half_pixel",
                "align_corners",
                "asymmetric",
                "tf_half_pixel_for_nn",
            ),
            "nearest_mode": ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil"),
            "cubic_coeff_a": ("-0.75", "-0.5"),
            "antialias": ("False", "True"),
        },
    ),
)
