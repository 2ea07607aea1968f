"""The tf.nn adapter: its layout conversion against explicit loops, and every rule it
reports as unsupported refused by TensorFlow itself when asked directly."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from tests.adapters.loops import conv2d_loop, conv2d_weight_grad_loop

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def adapter():
    loaded = adapters.load("tensorflow")
    if isinstance(loaded, str):
        pytest.skip(loaded)
    return loaded


@pytest.fixture(scope="module")
def tf(adapter):
    return adapter.tf


def _conv_inputs(seed=0, c=3, m=4, groups=1, bias=True):
    rng = np.random.default_rng(seed)
    inputs = {
        "x": rng.standard_normal((2, c, 6, 7)),
        "w": rng.standard_normal((m, c // groups, 3, 2)),
    }
    if bias:
        inputs["b"] = rng.standard_normal(m)
    return inputs


def test_version_and_determinism_flags(adapter):
    assert adapter.version().startswith("tensorflow 2.")
    flags = adapter.determinism_flags()
    assert set(flags) == {"TF_ENABLE_ONEDNN_OPTS", "op_determinism", "tensor_float_32"}
    assert flags["tensor_float_32"] == "False"


def test_conv_nhwc_hwio_conversion_matches_explicit_loop(adapter):
    inputs = _conv_inputs()
    attrs = {"stride": (2, 1), "padding": ((1, 0), (2, 1))}
    got = adapter.forward("conv2d", inputs, attrs)
    want = conv2d_loop(**inputs, stride=(2, 1), pads=((1, 0), (2, 1)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    grad_out = np.random.default_rng(1).standard_normal(got.shape)
    grads = adapter.backward("conv2d", grad_out, inputs, attrs)
    assert set(grads) == {"x", "w", "b"}
    dw = conv2d_weight_grad_loop(
        inputs["x"], grad_out, (3, 2), stride=(2, 1), pads=((1, 0), (2, 1))
    )
    np.testing.assert_allclose(grads["w"], dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads["b"], grad_out.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv_without_bias_returns_no_bias_gradient(adapter):
    inputs = _conv_inputs(bias=False)
    out = adapter.forward("conv2d", inputs, {})
    assert set(adapter.backward("conv2d", np.ones_like(out), inputs, {})) == {"x", "w"}


@pytest.mark.parametrize("attrs", [{"groups": 3}, {"dilation": 2}], ids=["grouped", "dilated"])
def test_cpu_conv_gradients_refused_by_tensorflow(adapter, tf, attrs):
    groups = attrs.get("groups", 1)
    inputs = _conv_inputs(c=3, m=6, groups=groups, bias=False)
    x = tf.constant(inputs["x"].transpose(0, 2, 3, 1))
    w = tf.constant(inputs["w"].transpose(2, 3, 1, 0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.conv2d(x, w, 1, "VALID", dilations=attrs.get("dilation", 1))
    with pytest.raises(Exception, match=r"not supported on CPU|do not yet support dilation"):
        tape.gradient(y, x)
    reason = adapter.unsupported("conv2d", inputs, attrs, np.float64, direction="backward")
    assert reason is not None
    assert "CPU" in reason
    assert adapter.unsupported("conv2d", inputs, attrs, np.float64) == reason
    # The forward pass is TensorFlow's to run, and it agrees with the loop.
    assert adapter.unsupported("conv2d", inputs, attrs, np.float64, direction="forward") is None
    if groups > 1:
        want = conv2d_loop(**inputs, groups=groups)
        np.testing.assert_allclose(
            adapter.forward("conv2d", inputs, attrs), want, rtol=1e-12, atol=1e-12
        )


def test_avg_pool2d_refuses_explicit_padding(adapter, tf):
    with pytest.raises(TypeError, match="Expected string for argument 'padding'"):
        tf.nn.avg_pool2d(np.zeros((1, 4, 4, 1)), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    x = {"x": np.zeros((1, 1, 7, 7))}
    reason = adapter.unsupported(
        "avgpool2d", x, {"kernel_size": 3, "stride": 2, "padding": 1}, np.float32
    )
    assert "Expected string for argument 'padding'" in reason


def test_same_average_pooling_excludes_padding(adapter, tf):
    # TF SAME divides by the real cells: on ones every output is 1 (counting the padded
    # cells, the 3x3 corner window would give 4/9).
    out = tf.nn.avg_pool2d(np.ones((1, 7, 7, 1)), 3, 2, "SAME").numpy()
    assert np.all(out == 1.0)
    x = {"x": np.ones((1, 1, 7, 7))}
    include = {"kernel_size": 3, "stride": 2, "padding": "same", "count_include_pad": True}
    assert adapter.unsupported("avgpool2d", x, include, np.float32) is not None
    exclude = {**include, "count_include_pad": False}
    assert adapter.unsupported("avgpool2d", x, exclude, np.float32) is None
    assert np.all(adapter.forward("avgpool2d", x, exclude) == 1.0)


def test_max_pool2d_has_no_ceil_mode(adapter, tf):
    with pytest.raises(TypeError):
        tf.nn.max_pool2d(np.zeros((1, 8, 8, 1)), 3, 2, "VALID", ceil_mode=True)
    x = {"x": np.arange(64.0).reshape(1, 1, 8, 8)}
    attrs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    assert "has no ceil_mode" in adapter.unsupported("maxpool2d", x, attrs, np.float32)
    # Neighbour: explicit padding without ceil_mode goes to tf.nn.max_pool2d as given.
    plain = {"kernel_size": 3, "stride": 2, "padding": ((1, 0), (0, 1))}
    assert adapter.unsupported("maxpool2d", x, plain, np.float32) is None
    assert adapter.forward("maxpool2d", x, plain).shape == (
        1,
        1,
        4,
        4,
    )  # (8 + 1 - 3) // 2 + 1 on both axes


def test_dilated_pooling_needs_stride_one(adapter, tf):
    with pytest.raises(ValueError, match="dilation_rate"):
        tf.nn.pool(
            np.zeros((1, 8, 8, 1)), [2, 2], "MAX", strides=[2, 2], padding="VALID", dilations=[2, 2]
        )
    x = {"x": np.random.default_rng(2).permutation(49).astype(float).reshape(1, 1, 7, 7)}
    refused = {"kernel_size": 2, "stride": 2, "dilation": 2}
    assert "dilation_rate" in adapter.unsupported("maxpool2d", x, refused, np.float32)
    ok = {"kernel_size": 2, "stride": 1, "dilation": 2}
    assert adapter.unsupported("maxpool2d", x, ok, np.float32) is None
    got = adapter.forward("maxpool2d", x, ok)
    a = x["x"][0, 0]
    want = np.maximum(np.maximum(a[:-2, :-2], a[2:, :-2]), np.maximum(a[:-2, 2:], a[2:, 2:]))
    np.testing.assert_array_equal(got[0, 0], want)


def test_dilated_same_pooling_is_refused_by_tensorflow(adapter, tf):
    # k2 s1 d2 with padding 1 on 3x3 has exactly TF's SAME windows; tf.nn.pool refuses.
    with pytest.raises(ValueError, match="'SAME' padding is not implemented"):
        tf.nn.pool(np.zeros((1, 3, 3, 1)), [2, 2], "MAX", padding="SAME", dilations=[2, 2])
    x = {"x": np.arange(9.0).reshape(1, 1, 3, 3)}
    attrs = {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2}
    reason = adapter.unsupported("maxpool2d", x, attrs, np.float32)
    assert "'SAME' padding is not implemented for `dilation_rate` > 1" in reason
    # Neighbour: the same dilated window without padding is TF's VALID and runs: one
    # window over the four corners.
    valid = {**attrs, "padding": 0}
    assert adapter.unsupported("maxpool2d", x, valid, np.float32) is None
    np.testing.assert_array_equal(adapter.forward("maxpool2d", x, valid), [[[[8.0]]]])


def test_layers_without_a_tf_nn_op_have_reasons(adapter, tf):
    probs = np.full((2, 3), 1 / 3)
    inputs = {"probs": probs, "target": probs}
    reason = adapter.unsupported("cross_entropy.categorical_crossentropy", inputs, {}, np.float32)
    assert "tf.nn.softmax_cross_entropy_with_logits(labels, logits" in reason
    assert "unnormalized log probabilities" in reason  # its own docstring
    signal = {"in1": np.ones(5), "in2": np.ones(2)}
    for layer in ("signal.correlate", "signal.convolve", "signal.correlate2d"):
        assert layer in adapter.unsupported(layer, signal, {"mode": "valid"}, np.float64)
        with pytest.raises(ValueError, match="no counterpart"):
            adapter.forward(layer, signal, {"mode": "valid"})


def test_dropout_scale_and_no_inference_mode(adapter, tf):
    # tf.nn.dropout: "the remaining elements are scaled up by 1.0 / (1 - rate)"
    # (https://www.tensorflow.org/api_docs/python/tf/nn/dropout).
    rng = np.random.default_rng(3)
    x, mask = rng.standard_normal((4, 10)), rng.random((4, 10)) >= 0.2
    got = adapter.forward("dropout", {"x": x, "mask": mask}, {"p": 0.2, "training": True})
    np.testing.assert_allclose(got, x * mask / 0.8, rtol=1e-15)
    grad = adapter.backward("dropout", np.ones_like(x), {"x": x, "mask": mask}, {"p": 0.2})
    np.testing.assert_allclose(grad["x"], mask / 0.8, rtol=1e-15)
    with pytest.raises(TypeError, match="training"):
        tf.nn.dropout(np.ones(2), rate=0.5, training=False)
    reason = adapter.unsupported(
        "dropout", {"x": x, "mask": mask}, {"p": 0.2, "training": False}, np.float64
    )
    assert "training" in reason


def test_backward_keys_follow_the_reference(adapter):
    rng = np.random.default_rng(4)
    bn = {
        "x": rng.standard_normal((2, 3, 2, 2)),
        "gamma": np.ones(3),
        "beta": np.zeros(3),
        "running_mean": np.zeros(3),
        "running_var": np.ones(3),
    }
    cases = [
        ("batchnorm2d", bn, {"training": True}, {"x", "gamma", "beta"}),
        (
            "cross_entropy",
            {"logits": rng.standard_normal((3, 4)), "target": np.array([0, 3, 1])},
            {},
            {"logits"},
        ),
        (
            "mse",
            {"pred": rng.standard_normal((3, 4)), "target": rng.standard_normal((3, 4))},
            {"reduction": "sum"},
            {"pred"},
        ),
        (
            "linear",
            {"x": rng.standard_normal((3, 4)), "w": rng.standard_normal((4, 2))},
            {},
            {"x", "w"},
        ),
        ("flatten", {"x": rng.standard_normal((2, 3, 4, 5))}, {"start_dim": 2}, {"x"}),
    ]
    for layer, inputs, attrs, keys in cases:
        out = adapter.forward(layer, inputs, attrs)
        grads = adapter.backward(layer, np.ones_like(out), inputs, attrs)
        assert set(grads) == keys, layer
        for name, grad in grads.items():
            assert grad.shape == inputs[name].shape, (layer, name)
