"""The models of the "matched" activation, depthwise, transposed-convolution and
onnx.reference bugs (tests/divergence_signatures_activations.py,
tests/divergence_signatures_depthwise.py, tests/divergence_signatures_decoder.py,
tests/divergence_signatures_onnx.py): each gives its framework's own wrong value, a
signature explains only that value (the value perturbed, the right answer or another
bug's value fails), and where the model changes the answer beyond the bound a pass is
stale.  No framework runs here."""

from __future__ import annotations

import numpy as np
import pytest

from tests import divergence_signatures_activations as act
from tests import divergence_signatures_decoder as decoder
from tests import divergence_signatures_depthwise as depthwise
from tests import divergence_signatures_onnx as onnx_models
from tests import layers
from tests.harness import Observed, as_float64
from tests.layers import get as declaration


def _observed(layer, inputs, attrs, direction, dtype, actual=None, grad_seed=0):
    """An ``Observed`` for the reference's ``layer``; ``actual`` is a function of the
    float64 inputs and grad_out, defaulting to the reference's own answer."""
    info = declaration(layer)
    ref = as_float64(inputs)
    grad_out = None
    if direction == "forward":
        expected = {"y": info.forward(**ref, **attrs)}
    else:
        shape = info.forward(**ref, **attrs).shape
        grad_out = np.random.default_rng(grad_seed).standard_normal(shape)
        expected = info.backward(grad_out, **ref, **attrs)
    policy = info.tolerance(direction, ref, attrs, dtype, grad_out)
    got = expected if actual is None else actual(ref, grad_out)
    return Observed(
        None, info, direction, dtype, inputs, ref, attrs, grad_out, got, expected, policy.bounds
    )


def _nudged(values: dict, bounds: dict) -> dict:
    """``values`` with one element of each array moved by three times its output's
    largest bound: another wrong value, just outside what the bound lets through."""
    out = {k: np.array(v, dtype=np.float64, copy=True) for k, v in values.items()}
    for key, v in out.items():
        v.flat[int(np.argmax(np.abs(v)))] += 3.0 * float(np.max(bounds[key]))
    return out


def _verdicts(signature, observed_of, bounds_of=lambda observed: observed.bounds):
    """(explains the model's value, explains the model's value nudged just beyond the
    bound ``bounds_of`` gives the signature, explains the right answer) for
    ``observed_of(actual)``."""
    right = observed_of(None)
    predicted = signature.predict(right)
    own = observed_of(lambda ref, g: predicted)
    nudged = observed_of(lambda ref, g: _nudged(predicted, bounds_of(right)))
    return (
        signature.explains(own) is not None,
        signature.explains(nudged) is not None,
        signature.explains(right) is not None,
    )


# --------------------------------------------------------------------------------------
# torch's float64 hard-sigmoid gradient


def test_hardsigmoid_model_is_torchs_kernel():
    # hardsigmoid_backward_kernel: (x > -3 && x < 3) ? g * one_sixth(1.0f / 6.0f) : 0;
    # 0.16666667163372040 is float32(1/6) (the entry's measurement with torch 2.13.0).
    x = np.array([-3.0, -2.999, 0.0, 2.999, 3.0, 7.0])
    got = act.torch_hardsigmoid_backward(x, np.ones_like(x))
    assert got.tolist() == [0.0, *[0.16666667163372040] * 3, 0.0, 0.0]


def test_hardsigmoid_signature_explains_only_its_own_value():
    case = layers.case("hardsigmoid_default")

    def observed(actual, dtype="float64", direction="backward"):
        return _observed("hardsigmoid", case.inputs, {}, direction, dtype, actual)

    sig = act.HARDSIGMOID_FLOAT32_SIXTH
    assert _verdicts(sig, observed) == (True, False, False)
    # A wrong value of another kind: the gradient computed in float32 throughout.
    in_float32 = observed(
        lambda ref, g: {
            "x": act.torch_hardsigmoid_backward(ref["x"], g.astype(np.float32)).astype(np.float32)
        }
    )
    assert sig.explains(in_float32) is None
    assert sig.must_fail(observed(None)) is True
    # float32, and the forward, are not this bug: nothing predicted, nothing must fail.
    assert sig.must_fail(observed(None, dtype="float32")) is False
    assert sig.must_fail(observed(None, direction="forward")) is False
    assert sig.explains(observed(lambda ref, g: {"y": ref["x"]}, direction="forward")) is None


# --------------------------------------------------------------------------------------
# tf.nn.gelu's float32 constants


def test_gelu_model_gives_tensorflows_float64_values():
    # tf.nn.gelu(tf.constant([1.0], tf.float64)) with TF 2.21 (measured; the probe's
    # evidence): 0.8413447419273903 exact form, 0.8411919902786764 approximate=True.
    x = np.ones(1)
    assert act.tf_gelu(x, "none")[0] == pytest.approx(0.8413447419273903, rel=4e-16)
    assert act.tf_gelu(x, "tanh")[0] == pytest.approx(0.8411919902786764, rel=4e-16)
    # TF 2.15.1 and 2.18.1 (tox py311-tf215, py311-tf218; measured): 0.8413447502096956,
    # their exact form 0.5 x (1 + erf(x / float32(sqrt 2))).
    assert act.tf_gelu(x, "none", form="erf")[0] == pytest.approx(0.8413447502096956, rel=4e-16)


@pytest.mark.parametrize(
    ("approximate", "form"), [("none", "erfc"), ("none", "erf"), ("tanh", "erfc")]
)
def test_gelu_model_gradient_is_its_own_derivative(approximate, form):
    x = np.linspace(-5.0, 5.0, 21)
    step = 1e-6

    def gelu(v):
        return act.tf_gelu(v, approximate, form=form)

    numeric = (gelu(x + step) - gelu(x - step)) / (2 * step)
    analytic = act.tf_gelu(x, approximate, grad_out=np.ones_like(x), form=form)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_gelu_signature_explains_only_its_own_value(approximate, direction):
    case = layers.case(f"gelu_{approximate}")

    def observed(actual, dtype="float64"):
        return _observed("gelu", case.inputs, case.attrs, direction, dtype, actual)

    sig = act.TF_GELU_FLOAT32_CONSTANTS
    assert _verdicts(sig, observed) == (True, False, False)
    assert sig.must_fail(observed(None)) is True
    assert sig.must_fail(observed(None, dtype="float32")) is False


# --------------------------------------------------------------------------------------
# keras.ops.depthwise_conv on TensorFlow before 3.15


def _depthwise_inputs(seed, c=2, m=1, size=(9, 8), kernel=(3, 3)):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c, *size))
    w = rng.standard_normal((c * m, 1, *kernel))
    return x, w, rng.standard_normal(c * m)


def test_depthwise_model_on_the_keras_23027_example():
    # x[i, j] = 10 i + j on 10 x 10, kernel 3x3 of ones, stride 2, dilation 3, 'valid':
    # TensorFlow's space-to-batch pads to 12, phases of 4 x 4, one stride-2 window each,
    # interleaved to 3 and cropped by 2: one cell, reading x[3 a, 3 b], sum 297 (by hand:
    # 3 * 30 * (0 + 1 + 2) + 3 * 3 * (0 + 1 + 2)); the right output is 2 x 2.
    x = (10.0 * np.arange(10)[:, None] + np.arange(10))[None, None]
    got = depthwise.tf_space_to_batch_depthwise(
        x, np.ones((1, 1, 3, 3)), None, (2, 2), (3, 3), False
    )
    assert got["y"].shape == (1, 1, 1, 1)
    assert got["y"].item() == 297.0


@pytest.mark.parametrize("same", [False, True])
def test_depthwise_model_at_stride_one_is_the_dilated_convolution(same):
    # with_space_to_batch is exact at stride 1 (why TensorFlow requires it): the model
    # must then agree with the reference's dilated depthwise convolution.
    x, w, b = _depthwise_inputs(3, m=2)
    attrs = {"groups": 2, "dilation": 2, "padding": "same" if same else 0}
    want = declaration("conv2d").forward(x, w, b, **attrs)
    got = depthwise.tf_space_to_batch_depthwise(x, w, b, (1, 1), (2, 2), same)["y"]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("same", [False, True])
def test_depthwise_model_gradients_are_the_adjoint_of_its_forward(same):
    # The model is linear in x and in w: <y(x), g> == <x, dx> and <y(w), g> == <w, dw>.
    x, w, b = _depthwise_inputs(4, m=2)
    y = depthwise.tf_space_to_batch_depthwise(x, w, None, (2, 2), (2, 2), same)["y"]
    g = np.random.default_rng(5).standard_normal(y.shape)
    grads = depthwise.tf_space_to_batch_depthwise(x, w, b, (2, 2), (2, 2), same, grad_out=g)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * grads["x"]), rtol=1e-12)
    np.testing.assert_allclose(np.sum(y * g), np.sum(w * grads["w"]), rtol=1e-12)
    np.testing.assert_allclose(grads["b"], g.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("case_id", ["conv_depthwise_s2_d3", "conv_depthwise_s2_d2_same"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_depthwise_signature_explains_only_its_own_value(case_id, direction):
    case = layers.case(case_id)

    def observed(actual, dtype="float32"):
        return _observed("conv2d", case.inputs, case.attrs, direction, dtype, actual)

    sig = depthwise.DEPTHWISE_SPACE_TO_BATCH_STRIDED
    right = observed(None)
    # The bug sums other cells than the right convolution: its own terms bound it.
    assert _verdicts(sig, observed, depthwise.own_bounds) == (True, False, False)
    assert sig.must_fail(right) is True
    if direction == "forward":
        # Another wrong value: the right shape filled with zeros.
        zeros = observed(lambda ref, g: {"y": np.zeros_like(right.expected["y"])})
        assert sig.explains(zeros) is None


def test_depthwise_signature_leaves_other_convolutions_alone():
    # Stride 1 (dilated), dilation 1 (strided), and grouped-but-not-depthwise convolutions
    # are computed right by TensorFlow: nothing predicted, nothing must fail.
    for case_id in ("conv_depthwise_atrous", "conv_depthwise_mobilenet_s2", "conv_groups2"):
        case = layers.case(case_id)
        observed = _observed("conv2d", case.inputs, case.attrs, "forward", "float32")
        assert depthwise.DEPTHWISE_SPACE_TO_BATCH_STRIDED.predict(observed) is None, case_id
        assert depthwise.DEPTHWISE_SPACE_TO_BATCH_STRIDED.must_fail(observed) is False


# --------------------------------------------------------------------------------------
# Conv2DTranspose 'same' on Keras' torch backend before 3.15 (keras-team/keras#22876)


@pytest.mark.parametrize(
    ("kernel", "stride", "output_padding", "want"),
    [
        # keras 3.14.1 backend_utils._convert_conv_transpose_padding_args_from_keras_to_torch,
        # evaluated by hand: k 3, s 2 -> output_padding 2 - 1 = 1, padding -((1 - 3 + 1)
        # // 2) = 1, torch output_padding 2 + 1 - 3 + 1 = 1 (the conventions row
        # conv_transpose_same_vs_torch's shifted form); k 4, s 2 -> padding 1,
        # output_padding 0 (its identical form); k 2, s 3 with output_padding 2 -> 0, 0.
        (3, 2, None, (1, 1)),
        (4, 2, None, (1, 0)),
        (2, 3, 2, (0, 0)),
        (1, 1, None, (0, 0)),
    ],
)
def test_keras_314_torch_padding_for_same(kernel, stride, output_padding, want):
    assert decoder.keras_314_torch_padding(kernel, stride, 1, output_padding) == want


def test_transpose_model_gives_the_probe_rows():
    # The probe's full scatter [1, 1, 11, 10, 110, 100, 100] (hand-derived: [1, 10, 100]
    # at stride 2 under a kernel of three ones) with no crop, and the shifted row with
    # keras 3.14's torch form.
    full = decoder.torch_conv_transpose2d(
        decoder._PROBE_X, decoder._PROBE_W, None, (1, 2), (0, 0), (0, 0), (1, 1)
    )["y"]
    assert full.ravel().tolist() == [1.0, 1.0, 11.0, 10.0, 110.0, 100.0, 100.0]
    assert decoder.probe_prediction() == decoder.SAME_PROBE_SHIFTED
    assert full.ravel().tolist()[1:] == decoder.SAME_PROBE_SHIFTED
    assert full.ravel().tolist()[:6] == decoder.SAME_PROBE_KEPT


@pytest.mark.parametrize(("padding", "output_padding"), [((0, 0), (0, 0)), ((1, 2), (1, 0))])
def test_transpose_model_is_torchs_symmetric_form(padding, output_padding):
    # torch's padding p / output_padding e is the reference's crop (p, p) plus e cells
    # (reference/conv_transpose2d.py docstring): the model must agree with it there.
    rng = np.random.default_rng(6)
    x, w, b = (
        rng.standard_normal((2, 2, 4, 5)),
        rng.standard_normal((2, 3, 3, 3)),
        rng.standard_normal(3),
    )
    attrs = {"stride": 2, "padding": padding, "output_padding": output_padding, "dilation": 1}
    want = declaration("conv_transpose2d").forward(x, w, b, **attrs)
    got = decoder.torch_conv_transpose2d(x, w, b, (2, 2), padding, output_padding, (1, 1))["y"]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_transpose_model_gradients_are_the_adjoint_of_its_forward():
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 3, 3, 2)), np.ones(3)
    args = ((2, 3), (1, 1), (1, 2), (2, 1))
    y = decoder.torch_conv_transpose2d(x, w, None, *args)["y"]
    g = np.random.default_rng(8).standard_normal(y.shape)
    grads = decoder.torch_conv_transpose2d(x, w, b, *args, grad_out=g)
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * grads["x"]), rtol=1e-12)
    np.testing.assert_allclose(np.sum(y * g), np.sum(w * grads["w"]), rtol=1e-12)
    np.testing.assert_allclose(grads["b"], g.sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("case_id", ["ct_same_k3_s2", "onnx_convtranspose_autopad_same"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_transpose_signature_explains_only_its_own_value(case_id, direction, dtype):
    # Keras 3.15.1 computes these right, so the bug's value is built from its formula.
    case = layers.case(case_id)

    def observed(actual):
        return _observed("conv_transpose2d", case.inputs, case.attrs, direction, dtype, actual)

    sig = decoder.TRANSPOSE_SAME_SHIFTED
    right = observed(None)
    assert _verdicts(sig, observed, decoder.own_bounds) == (True, False, False)
    assert sig.must_fail(right) is True
    # Other wrong values: the right answer rolled by one cell, and zeros.
    for other in (
        {k: np.roll(v, 1, axis=-1) for k, v in right.expected.items()},
        {k: np.zeros_like(v) for k, v in right.expected.items()},
    ):
        assert sig.explains(observed(lambda ref, g, other=other: other)) is None


@pytest.mark.parametrize("case_id", ["ct_same_k4_s2", "ct_valid_s3_k2"])
def test_transpose_signature_has_the_even_crops_right(case_id):
    # Keras asks for 'same' here too, but keras 3.14's torch form is exact (an even crop):
    # the model is the right answer, so nothing must fail (measured: both pass on 3.14).
    case = layers.case(case_id)
    for direction in ("forward", "backward"):
        observed = _observed("conv_transpose2d", case.inputs, case.attrs, direction, "float64")
        predicted = decoder.TRANSPOSE_SAME_SHIFTED.predict(observed)
        assert predicted is not None, (case_id, direction)
        for key, value in predicted.items():
            np.testing.assert_allclose(value, observed.expected[key], rtol=1e-12, atol=1e-12)
        assert decoder.TRANSPOSE_SAME_SHIFTED.must_fail(observed) is False


@pytest.mark.parametrize("case_id", ["ct_stride2_pad1_out1", "ct_asym_pad", "ct_groups2"])
def test_transpose_signature_leaves_other_keras_forms_alone(case_id):
    # 'valid' (with Cropping2D) reaches torch unchanged; Keras has no groups.
    case = layers.case(case_id)
    observed = _observed("conv_transpose2d", case.inputs, case.attrs, "forward", "float64")
    assert decoder.TRANSPOSE_SAME_SHIFTED.predict(observed) is None
    assert decoder.TRANSPOSE_SAME_SHIFTED.must_fail(observed) is False


# --------------------------------------------------------------------------------------
# onnx.reference's float32 Erf and float32 cubic coefficients in float64 graphs


def test_evaluator_gelu_model_gives_the_measured_value():
    # onnx 1.23.2's ReferenceEvaluator on the exported float64 GELU at x = 1 (measured; the
    # probe's evidence): 0.8413447439670563, where float64 erf gives 0.8413447460685429.
    got = onnx_models.evaluator_gelu(np.ones(1))[0]
    assert got == 0.8413447439670563
    assert abs(got - 0.8413447460685429) > 1e-9


def test_gelu_erf_signature_explains_only_its_own_value():
    case = layers.case("gelu_none")

    def observed(actual, dtype="float64", attrs=case.attrs):
        return _observed("gelu", case.inputs, attrs, "forward", dtype, actual)

    sig = onnx_models.ERF_VIA_FLOAT32
    assert _verdicts(sig, observed) == (True, False, False)
    assert sig.must_fail(observed(None)) is True
    # Another wrong value of the same size: tf.nn.gelu's float32-constant formula.
    other = observed(lambda ref, g: {"y": act.tf_gelu(ref["x"], "none")})
    assert sig.explains(other) is None
    # float32, and the tanh form (no Erf), are not this bug.
    assert sig.must_fail(observed(None, dtype="float32")) is False
    tanh = layers.case("gelu_tanh")
    assert sig.predict(_observed("gelu", tanh.inputs, tanh.attrs, "forward", "float64")) is None


def test_cubic_coefficients_model_sums_to_the_measured_value():
    # One cell upsampled by 1.5 (half_pixel) reads only that cell, so each output is the
    # cell times its coefficients' sum: exactly 1 in float64 (Keys' kernel is a partition
    # of unity), 1.000000834465201 in onnx 1.23.2's ReferenceEvaluator (measured; the
    # probe's evidence) for outputs 0 (ratio 5/6).
    got = onnx_models.evaluator_resize(
        np.ones((1, 1, 1, 1)), (1.5, 1.5), None, "cubic", False, -0.75, False
    )
    assert got.shape == (1, 1, 1, 1)
    assert got.item() == 1.000000834465201
    float64_keys = onnx_models.coefficients("cubic", np.float64(-0.75), False)
    weights = onnx_models._axis(1, 1.5, 1, False, float64_keys)
    assert weights.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("antialias", [False, True])
def test_cubic_model_with_float64_coefficients_is_the_reference(antialias):
    # The model's float32 is its only departure: with A in float64 the same weights are
    # Keys' cubic the reference computes (antialias upsampling leaves the kernel as is).
    # align_corners by sizes: by scales the evaluator uses the unfloored n * scale there
    # (the reference's docstring), which the model keeps.
    x = np.random.default_rng(37).standard_normal((1, 2, 5, 4))
    for corners, geometry in ((False, {"scale": 1.5}), (True, {"size": (8, 7)})):
        how = "align_corners" if corners else "half_pixel"
        attrs = {"mode": "cubic", "coordinate_transformation_mode": how, **geometry}
        want = declaration("resize2d").forward(x, **attrs, antialias=antialias)
        got = x
        for axis in (2, 3):
            n = got.shape[axis]
            m = int(1.5 * n) if "scale" in geometry else geometry["size"][axis - 2]
            keys = onnx_models.coefficients("cubic", np.float64(-0.75), antialias)
            w = onnx_models._axis(n, m / n if corners else 1.5, m, corners, keys)
            got = np.moveaxis(np.tensordot(w, np.moveaxis(got, axis, 0), axes=1), 0, axis)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    ("case_id", "attrs"),
    [
        ("resize_bicubic_align_corners", None),
        (None, {"mode": "cubic", "coordinate_transformation_mode": "half_pixel", "scale": 1.5}),
    ],
)
def test_cubic_signature_explains_only_its_own_value(case_id, attrs):
    if case_id is None:
        inputs = {"x": np.full((1, 1, 1, 1), -1.3)}
    else:
        case = layers.case(case_id)
        inputs, attrs = case.inputs, case.attrs

    def observed(actual, dtype="float64"):
        return _observed("resize2d", inputs, attrs, "forward", dtype, actual)

    sig = onnx_models.CUBIC_COEFFICIENTS_FLOAT32
    assert _verdicts(sig, observed) == (True, False, False)
    assert sig.must_fail(observed(None)) is True
    # Another wrong value: the right answer computed wholly in float32.
    in_float32 = {"y": observed(None).expected["y"].astype(np.float32).astype(np.float64)}
    assert sig.explains(observed(lambda ref, g: in_float32)) is None
    assert sig.must_fail(observed(None, dtype="float32")) is False


def test_cubic_signature_leaves_dyadic_and_linear_resizes_alone():
    # Scale 2: ratios 1/4 and 3/4, exact in float32: the model is the right answer.
    case = layers.case("resize_bicubic_up2")
    observed = _observed("resize2d", case.inputs, case.attrs, "forward", "float64")
    assert onnx_models.CUBIC_COEFFICIENTS_FLOAT32.must_fail(observed) is False
    linear = {"mode": "linear", "coordinate_transformation_mode": "half_pixel", "scale": 1.5}
    observed = _observed("resize2d", case.inputs, linear, "forward", "float64")
    assert onnx_models.CUBIC_COEFFICIENTS_FLOAT32.predict(observed) is None


def test_align_corners_model_gives_the_probe_row_and_the_reference_by_sizes():
    # The probe (measured with onnx 1.23.2): [0, 1, 2] by 0.75, linear align_corners, gives
    # [0, 1.6]: coordinates i (3 - 1) / (2.25 - 1) = 0, 1.6 (by hand).  By sizes the
    # length is the integer one and the model is the reference's answer.
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    got = onnx_models.evaluator_resize(x, (1, 0.75), None, "linear", True, -0.75, False)
    np.testing.assert_allclose(got.ravel(), [0.0, 1.6], rtol=1e-15)
    x = np.random.default_rng(41).standard_normal((1, 1, 5, 6))
    attrs = {"mode": "linear", "coordinate_transformation_mode": "align_corners"}
    want = declaration("resize2d").forward(x, size=(3, 4), **attrs)
    got = onnx_models.evaluator_resize(x, None, (3, 4), "linear", True, -0.75, False)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_align_corners_signature_explains_only_its_own_value(dtype):
    # The fuzz example: (2, 3) by 0.75, linear align_corners (2.25 is not an integer).
    inputs = {"x": np.random.default_rng(0).standard_normal((1, 1, 2, 3))}
    attrs = {"mode": "linear", "coordinate_transformation_mode": "align_corners", "scale": 0.75}

    def observed(actual):
        return _observed("resize2d", inputs, attrs, "forward", dtype, actual)

    sig = onnx_models.ALIGN_CORNERS_UNFLOORED
    assert _verdicts(sig, observed) == (True, False, False)
    assert sig.must_fail(observed(None)) is True
    # Integer n * scale (scale 0.5 on (2, 4)) and half_pixel: not this bug.
    for other in (
        {**attrs, "scale": 0.5},
        {**attrs, "coordinate_transformation_mode": "half_pixel"},
    ):
        x = {"x": np.ones((1, 1, 2, 4))}
        assert sig.predict(_observed("resize2d", x, other, "forward", dtype)) is None
