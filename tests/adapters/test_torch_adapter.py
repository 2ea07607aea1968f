"""The torch adapter: every unsupported rule is torch's own (torch raises when asked
directly), the neighbouring supported configurations run, and layouts match explicit
loops that share no code with the adapter."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from adapters.base import FrameworkMissing, prepare
from tests.adapters.calls import backward, forward, refusal
from tests.adapters.loops import conv2d_loop, conv2d_weight_grad_loop

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def adapter():
    try:
        return adapters.load("torch")
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def torch(adapter):
    import torch

    return torch


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- unsupported rules: the adapter's reason, and torch raising the same thing -------------


def test_conv_asymmetric_padding(adapter, torch):
    inputs = {"x": _x((1, 2, 5, 6)), "w": _x((3, 2, 3, 3), 1)}
    reason = refusal(adapter, "conv2d", inputs, {"padding": ((1, 0), (2, 1))})
    assert "applied on both sides" in reason
    assert "amount of implicit padding applied on both sides" in torch.nn.Conv2d.__doc__
    conv = torch.nn.Conv2d(2, 3, 3, padding=((1, 0), (2, 1)), dtype=torch.float64)
    with pytest.raises(TypeError, match="padding"):
        conv(torch.from_numpy(inputs["x"]))


def test_conv_same_strided_asymmetric(adapter, torch):
    # H=8, k=3, stride 2: SAME needs total padding 1 -> (0, 1), which torch cannot express.
    inputs = {"x": _x((1, 2, 8, 7)), "w": _x((3, 2, 3, 3), 1)}
    reason = refusal(adapter, "conv2d", inputs, {"padding": "same", "stride": 2})
    assert "padding='same' is not supported for strided convolutions" in reason
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        torch.nn.Conv2d(2, 3, 3, padding="same", stride=2)


def test_conv_same_strided_symmetric_runs_as_explicit_padding(adapter):
    # H=W=7, k=3, stride 2: SAME total padding 2 -> (1, 1): exactly torch's padding=1.
    x, w = _x((1, 2, 7, 7)), _x((3, 2, 3, 3), 1)
    attrs = {"padding": "same", "stride": 2}
    for direction in ("forward", "backward"):
        assert refusal(adapter, "conv2d", {"x": x, "w": w}, attrs, direction) is None
    got = forward(adapter, "conv2d", {"x": x, "w": w}, attrs)
    want = conv2d_loop(x, w, stride=(2, 2), pads=((1, 1), (1, 1)))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("layer", ["maxpool2d", "avgpool2d"])
def test_pool_same_asymmetric(adapter, torch, layer):
    attrs = {"kernel_size": 3, "stride": 2, "padding": "same"}
    reason = refusal(adapter, layer, {"x": _x((1, 2, 6, 7))}, attrs)
    functional = "max_pool2d" if layer == "maxpool2d" else "avg_pool2d"
    message = f"{functional}(): argument 'padding' (position 4) must be tuple of ints, not str"
    assert message in reason
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        getattr(torch.nn.functional, functional)(torch.zeros(1, 2, 6, 7), 3, 2, "same")


@pytest.mark.parametrize("layer", ["maxpool2d", "avgpool2d"])
def test_pool_explicit_asymmetric(adapter, torch, layer):
    attrs = {"kernel_size": 2, "stride": 2, "padding": ((0, 1), (1, 1))}
    assert "asymmetric" in refusal(adapter, layer, {"x": _x((1, 1, 5, 6))}, attrs)
    module = torch.nn.MaxPool2d if layer == "maxpool2d" else torch.nn.AvgPool2d
    with pytest.raises(TypeError, match="must be tuple of ints"):
        module(2, 2, padding=((0, 1), (1, 1)))(torch.zeros(1, 1, 5, 6))


@pytest.mark.parametrize("layer", ["maxpool2d", "avgpool2d"])
def test_pool_padding_over_half_kernel(adapter, torch, layer):
    message = "pad should be at most half of effective kernel size"
    attrs = {"kernel_size": 3, "stride": 1, "padding": 2}
    assert message in refusal(adapter, layer, {"x": _x((1, 1, 6, 6))}, attrs)
    module = torch.nn.MaxPool2d if layer == "maxpool2d" else torch.nn.AvgPool2d
    with pytest.raises(RuntimeError, match=message):
        module(3, 1, padding=2)(torch.zeros(1, 1, 6, 6, requires_grad=True))
    neighbour = {**attrs, "padding": 1}
    for direction in ("forward", "backward"):
        assert refusal(adapter, layer, {"x": _x((1, 1, 6, 6))}, neighbour, direction) is None
    assert forward(adapter, layer, {"x": _x((1, 1, 6, 6))}, neighbour).shape == (1, 1, 6, 6)


def test_maxpool_dilated_padding_over_half_undilated_kernel(adapter, torch):
    # pad 2 <= effective kernel 5 // 2, but > kernel 3 // 2: torch's second check.
    message = "pad should be smaller than or equal to half of kernel size"
    attrs = {"kernel_size": 3, "stride": 1, "padding": 2, "dilation": 2}
    assert message in refusal(adapter, "maxpool2d", {"x": _x((1, 1, 7, 7))}, attrs)
    with pytest.raises(RuntimeError, match=message):
        torch.nn.MaxPool2d(3, 1, padding=2, dilation=2)(torch.zeros(1, 1, 7, 7))


def test_batchnorm_one_value_per_channel(adapter, torch):
    message = "Expected more than 1 value per channel when training"
    inputs = {
        "x": _x((1, 2, 1, 1)),
        "gamma": np.ones(2),
        "beta": np.zeros(2),
        "running_mean": np.zeros(2),
        "running_var": np.ones(2),
    }
    assert message in refusal(adapter, "batchnorm2d", inputs, {"training": True})
    with pytest.raises(ValueError, match=message):
        torch.nn.BatchNorm2d(2).train()(torch.zeros(1, 2, 1, 1))
    for direction in ("forward", "backward"):
        assert refusal(adapter, "batchnorm2d", inputs, {"training": False}, direction) is None


def test_dropout_p1_keeps_nothing_to_read(adapter, torch):
    inputs = {"x": _x((2, 3)), "mask": np.zeros((2, 3), bool)}
    assert "p=1" in refusal(adapter, "dropout", inputs, {"p": 1.0, "training": True})
    assert not torch.nn.Dropout(1.0).train()(torch.ones(1000)).any()


def test_unknown_layer_and_attribute(adapter):
    # No method is the adapter's way of saying "no torch.nn module for this layer".
    assert "no correlate" in refusal(adapter, "correlate", {"in1": _x(3), "in2": _x(2)})
    assert "no categorical_crossentropy" in refusal(
        adapter, "categorical_crossentropy", {"probs": _x((2, 3)), "target": np.zeros(2, int)}
    )
    # The reference's exact signature: an attribute it does not know is an error, not ignored.
    with pytest.raises(TypeError, match="temperature"):
        prepare(adapter, "softmax", {"x": _x((2, 3))}, {"temperature": 2})


def test_float16_refused(adapter):
    reason = refusal(adapter, "relu", {"x": _x((2, 3)).astype(np.float16)})
    assert "float32 and float64 only, not float16" in reason


# -- supported neighbours that torch expresses natively ------------------------------------


@pytest.mark.parametrize(
    "attrs",
    [
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
        {"kernel_size": 2, "stride": 2, "divisor_override": 3},
        {"kernel_size": 2, "stride": 1, "padding": "valid"},
    ],
)
def test_avgpool_options_run(adapter, attrs):
    x = _x((1, 2, 8, 8))
    x = x.astype(np.float32)
    for direction in ("forward", "backward"):
        assert refusal(adapter, "avgpool2d", {"x": x}, attrs, direction) is None
    out = forward(adapter, "avgpool2d", {"x": x}, attrs)
    assert out.dtype == np.float32


def test_conv_same_even_kernel_pads_bottom_right(adapter):
    # torch's padding='same' at stride 1 puts the odd cell after, like TF's SAME.
    x, w = _x((1, 1, 5, 5)), _x((1, 1, 2, 4), 1)
    got = forward(adapter, "conv2d", {"x": x, "w": w}, {"padding": "same"})
    want = conv2d_loop(x, w, pads=((0, 1), (1, 2)))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# -- layouts against explicit loops ---------------------------------------------------------


def test_linear_weight_layout_and_gradients(adapter):
    x, w, b = _x((3, 4)), _x((4, 2), 1), _x(2, 2)
    grad = _x((3, 2), 3)
    out = forward(adapter, "linear", {"x": x, "w": w, "b": b})
    grads = backward(adapter, "linear", grad, {"x": x, "w": w, "b": b})
    want = np.zeros((3, 2))
    want_dw = np.zeros((4, 2))
    for n in range(3):
        for j in range(2):
            want[n, j] = b[j] + sum(x[n, i] * w[i, j] for i in range(4))
            for i in range(4):
                want_dw[i, j] += x[n, i] * grad[n, j]
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads["w"], want_dw, rtol=0, atol=1e-12)
    assert grads["w"].shape == (4, 2)
    np.testing.assert_allclose(grads["b"], grad.sum(axis=0), rtol=0, atol=1e-12)
    assert sorted(grads) == ["b", "w", "x"]


def test_conv_grouped_layout(adapter):
    x, w, b = _x((2, 4, 5, 5)), _x((4, 2, 3, 3), 1), _x(4, 2)
    attrs = {"groups": 2, "stride": (2, 1), "padding": (1, 0)}
    got = forward(adapter, "conv2d", {"x": x, "w": w, "b": b}, attrs)
    want = conv2d_loop(x, w, b, stride=(2, 1), pads=((1, 1), (0, 0)), groups=2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_conv_weight_gradient_layout(adapter):
    x, w = _x((2, 3, 5, 5)), _x((4, 3, 3, 3), 1)
    attrs = {"stride": (2, 1), "padding": (1, 0)}
    out_shape = forward(adapter, "conv2d", {"x": x, "w": w}, attrs).shape
    grad = _x(out_shape, 3)
    grads = backward(adapter, "conv2d", grad, {"x": x, "w": w}, attrs)
    assert sorted(grads) == ["w", "x"]
    want = conv2d_weight_grad_loop(x, grad, (3, 3), stride=(2, 1), pads=((1, 1), (0, 0)))
    np.testing.assert_allclose(grads["w"], want, rtol=0, atol=1e-11)


# -- dropout: torch's kept-unit value applied to the injected mask --------------------------


def test_dropout_scale_and_mask(adapter):
    # torch.nn.Dropout docs: kept outputs "are scaled by a factor of 1/(1-p)"; p=0.5 -> 2.
    x = _x((4, 5))
    mask = np.random.default_rng(7).random((4, 5)) >= 0.5
    attrs = {"p": 0.5, "training": True}
    out = forward(adapter, "dropout", {"x": x, "mask": mask}, attrs)
    np.testing.assert_array_equal(out, np.where(mask, 2.0 * x, 0.0))
    grad = _x((4, 5), 1)
    dx = backward(adapter, "dropout", grad, {"x": x, "mask": mask}, attrs)["x"]
    np.testing.assert_array_equal(dx, np.where(mask, 2.0 * grad, 0.0))
    evaluated = forward(adapter, "dropout", {"x": x, "mask": mask}, {**attrs, "training": False})
    np.testing.assert_array_equal(evaluated, x)


def test_determinism_flags(adapter):
    flags = adapter.determinism_flags()
    assert flags["cudnn.allow_tf32"] is False
    assert flags["cuda.matmul.allow_tf32"] is False
    assert flags["deterministic_algorithms"] is True


# -- a Prepared call is timed repeatedly: every call gives the same numbers ----------------


def _bn_inputs():
    return {
        "x": _x((2, 3, 4, 4)),
        "gamma": _x(3, 1),
        "beta": _x(3, 2),
        "running_mean": _x(3, 3),
        "running_var": np.abs(_x(3, 4)) + 0.5,
    }


@pytest.mark.parametrize(
    ("method", "inputs", "attrs"),
    [
        ("conv2d", {"x": _x((2, 3, 5, 5)), "w": _x((4, 3, 3, 3), 1), "b": _x(4, 2)}, {}),
        ("conv2d", {"x": _x((1, 1, 5, 5)), "w": _x((1, 1, 2, 4), 1)}, {"padding": "same"}),
        ("linear", {"x": _x((3, 4)), "w": _x((4, 2), 1), "b": _x(2, 2)}, {}),
        ("batchnorm2d", _bn_inputs(), {"training": True}),
        ("batchnorm2d", _bn_inputs(), {"training": False}),
        ("dropout", {"x": _x((4, 5)), "mask": _x((4, 5), 1) > 0}, {"p": 0.25}),
        ("dropout", {"x": _x((4, 5)), "mask": None}, {"p": 0.25, "training": False}),
        ("cross_entropy", {"logits": _x((3, 4)), "target": np.array([0, 3, 1])}, {}),
        ("mse", {"pred": _x((3, 4)), "target": _x((3, 4), 1)}, {"reduction": "sum"}),
        ("maxpool2d", {"x": _x((1, 2, 6, 6))}, {"kernel_size": 3, "stride": 2, "padding": 1}),
    ],
)
def test_runs_repeat_without_accumulating(adapter, method, inputs, attrs):
    before = {k: None if v is None else v.copy() for k, v in inputs.items()}
    prepared = prepare(adapter, method, inputs, attrs)
    run = prepared.forward()
    first = run.result()
    np.testing.assert_array_equal(run.result(), first)
    grad = _x(np.shape(first), 9)
    back = prepared.backward(grad)
    grads = back.result()
    again = back.result()
    assert sorted(again) == sorted(grads)
    for key, value in grads.items():
        np.testing.assert_array_equal(again[key], value, err_msg=key)
    # A fresh Prepared agrees too: nothing the calls did (batch-norm running statistics
    # included) leaked into the inputs or into later results.
    fresh = prepare(adapter, method, inputs, attrs)
    np.testing.assert_array_equal(fresh.forward().result(), first)
    for key, value in fresh.backward(grad).result().items():
        np.testing.assert_array_equal(value, grads[key], err_msg=key)
    for key, value in before.items():
        if value is not None:
            np.testing.assert_array_equal(inputs[key], value, err_msg=key)
