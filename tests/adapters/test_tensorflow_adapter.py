"""The tf.nn adapter: its layout conversion against explicit loops, every rule it reports
as unsupported refused by TensorFlow itself when asked directly, and its Prepared calls
(the reference's signatures, repeatable Runs)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import adapters
import reference.avgpool2d
import reference.batchnorm2d
import reference.conv2d
import reference.cross_entropy
import reference.dropout
import reference.flatten
import reference.linear
import reference.maxpool2d
import reference.mse
import reference.relu
import reference.sigmoid
import reference.softmax
import reference.tanh
from adapters import _tf_common as common
from adapters.base import FrameworkMissing, Prepared, Unsupported, layer_method, prepare
from tests.adapters.calls import backward, forward, refusal
from tests.adapters.loops import conv2d_loop, conv2d_weight_grad_loop

pytestmark = pytest.mark.tensorflow

#: Each layer method of the adapter and the reference function whose signature it takes.
REFERENCE_SIGNATURES = {
    "conv2d": reference.conv2d.forward,
    "maxpool2d": reference.maxpool2d.forward,
    "avgpool2d": reference.avgpool2d.forward,
    "relu": reference.relu.forward,
    "sigmoid": reference.sigmoid.forward,
    "tanh": reference.tanh.forward,
    "softmax": reference.softmax.forward,
    "flatten": reference.flatten.forward,
    "linear": reference.linear.forward,
    "batchnorm2d": reference.batchnorm2d.forward,
    "dropout": reference.dropout.forward,
    "cross_entropy": reference.cross_entropy.forward,
    "mse": reference.mse.forward,
    "categorical_crossentropy": reference.cross_entropy.categorical_crossentropy,
}


@pytest.fixture(scope="module")
def adapter():
    try:
        return adapters.load("tensorflow")
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


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


@pytest.mark.parametrize("method", sorted(REFERENCE_SIGNATURES))
def test_layer_methods_take_the_reference_signature(adapter, method):
    ours = inspect.signature(getattr(adapter, method))
    assert ours == inspect.signature(REFERENCE_SIGNATURES[method]).replace(
        return_annotation=ours.return_annotation
    )


def test_conv_nhwc_hwio_conversion_matches_explicit_loop(adapter):
    inputs = _conv_inputs()
    attrs = {"stride": (2, 1), "padding": ((1, 0), (2, 1))}
    got = forward(adapter, "conv2d", inputs, attrs)
    want = conv2d_loop(**inputs, stride=(2, 1), pads=((1, 0), (2, 1)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    grad_out = np.random.default_rng(1).standard_normal(got.shape)
    grads = backward(adapter, "conv2d", grad_out, inputs, attrs)
    assert set(grads) == {"x", "w", "b"}
    dw = conv2d_weight_grad_loop(
        inputs["x"], grad_out, (3, 2), stride=(2, 1), pads=((1, 0), (2, 1))
    )
    np.testing.assert_allclose(grads["w"], dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads["b"], grad_out.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv_without_bias_returns_no_bias_gradient(adapter):
    inputs = _conv_inputs(bias=False)
    out = forward(adapter, "conv2d", inputs)
    assert set(backward(adapter, "conv2d", np.ones_like(out), inputs)) == {"x", "w"}


@pytest.mark.parametrize("attrs", [{"groups": 3}, {"dilation": 2}], ids=["grouped", "dilated"])
def test_cpu_conv_gradients_refused_by_tensorflow(adapter, tf, attrs):
    groups = attrs.get("groups", 1)
    # 6 channels in 3 groups: grouped, not depthwise (groups == C_in runs
    # tf.nn.depthwise_conv2d, whose CPU gradients exist).
    inputs = _conv_inputs(c=6, m=6, groups=groups, bias=False)
    x = tf.constant(inputs["x"].transpose(0, 2, 3, 1))
    w = tf.constant(inputs["w"].transpose(2, 3, 1, 0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.conv2d(x, w, 1, "VALID", dilations=attrs.get("dilation", 1))
    with pytest.raises(Exception, match=r"not supported on CPU|do not yet support dilation") as e:
        tape.gradient(y, x)
    # The layer method sets up (forward runs); only Prepared.backward refuses.
    prepared = adapter.conv2d(**inputs, **attrs)
    with pytest.raises(Unsupported) as refused:
        prepared.backward(np.ones(tuple(y.shape)).transpose(0, 3, 1, 2))
    reason = str(refused.value)
    assert "CPU" in reason
    # The reason is TensorFlow's own refusal (its probe is a smaller case, same message).
    assert common.exception_text(e.value).split(". ")[0] in reason
    assert refusal(adapter, "conv2d", inputs, attrs, "forward") is None
    if groups > 1:
        want = conv2d_loop(**inputs, groups=groups)
        np.testing.assert_allclose(
            forward(adapter, "conv2d", inputs, attrs), want, rtol=1e-12, atol=1e-12
        )


def test_avg_pool2d_refuses_explicit_padding(adapter, tf):
    with pytest.raises(TypeError, match="Expected string for argument 'padding'"):
        tf.nn.avg_pool2d(np.zeros((1, 4, 4, 1)), 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    x = {"x": np.zeros((1, 1, 7, 7), np.float32)}
    reason = refusal(adapter, "avgpool2d", x, {"kernel_size": 3, "stride": 2, "padding": 1})
    assert "Expected string for argument 'padding'" in reason


def test_same_average_pooling_excludes_padding(adapter, tf):
    # TF SAME divides by the real cells: on ones every output is 1 (counting the padded
    # cells, the 3x3 corner window would give 4/9).
    out = tf.nn.avg_pool2d(np.ones((1, 7, 7, 1)), 3, 2, "SAME").numpy()
    assert np.all(out == 1.0)
    x = {"x": np.ones((1, 1, 7, 7), np.float32)}
    include = {"kernel_size": 3, "stride": 2, "padding": "same", "count_include_pad": True}
    assert refusal(adapter, "avgpool2d", x, include) is not None
    exclude = {**include, "count_include_pad": False}
    assert refusal(adapter, "avgpool2d", x, exclude) is None
    assert np.all(forward(adapter, "avgpool2d", x, exclude) == 1.0)


def test_max_pool2d_has_no_ceil_mode(adapter, tf):
    with pytest.raises(TypeError):
        tf.nn.max_pool2d(np.zeros((1, 8, 8, 1)), 3, 2, "VALID", ceil_mode=True)
    x = {"x": np.arange(64.0, dtype=np.float32).reshape(1, 1, 8, 8)}
    attrs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    assert "has no ceil_mode" in refusal(adapter, "maxpool2d", x, attrs)
    # Neighbour: explicit padding without ceil_mode goes to tf.nn.max_pool2d as given.
    plain = {"kernel_size": 3, "stride": 2, "padding": ((1, 0), (0, 1))}
    assert refusal(adapter, "maxpool2d", x, plain) is None
    # (8 + 1 - 3) // 2 + 1 on both axes
    assert forward(adapter, "maxpool2d", x, plain).shape == (1, 1, 4, 4)


def test_dilated_pooling_needs_stride_one(adapter, tf):
    with pytest.raises(ValueError, match="dilation_rate"):
        tf.nn.pool(
            np.zeros((1, 8, 8, 1)), [2, 2], "MAX", strides=[2, 2], padding="VALID", dilations=[2, 2]
        )
    x = {"x": np.random.default_rng(2).permutation(49).astype(np.float32).reshape(1, 1, 7, 7)}
    refused = {"kernel_size": 2, "stride": 2, "dilation": 2}
    assert "dilation_rate" in refusal(adapter, "maxpool2d", x, refused)
    ok = {"kernel_size": 2, "stride": 1, "dilation": 2}
    assert refusal(adapter, "maxpool2d", x, ok) is None
    got = forward(adapter, "maxpool2d", x, ok)
    a = x["x"][0, 0]
    want = np.maximum(np.maximum(a[:-2, :-2], a[2:, :-2]), np.maximum(a[:-2, 2:], a[2:, 2:]))
    np.testing.assert_array_equal(got[0, 0], want)


def test_dilated_same_pooling_is_refused_by_tensorflow(adapter, tf):
    # k2 s1 d2 with padding 1 on 3x3 has exactly TF's SAME windows; tf.nn.pool refuses.
    with pytest.raises(ValueError, match="'SAME' padding is not implemented"):
        tf.nn.pool(np.zeros((1, 3, 3, 1)), [2, 2], "MAX", padding="SAME", dilations=[2, 2])
    x = {"x": np.arange(9.0, dtype=np.float32).reshape(1, 1, 3, 3)}
    attrs = {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2}
    reason = refusal(adapter, "maxpool2d", x, attrs)
    assert "'SAME' padding is not implemented for `dilation_rate` > 1" in reason
    # Neighbour: the same dilated window without padding is TF's VALID and runs: one
    # window over the four corners.
    valid = {**attrs, "padding": 0}
    assert refusal(adapter, "maxpool2d", x, valid) is None
    np.testing.assert_array_equal(forward(adapter, "maxpool2d", x, valid), [[[[8.0]]]])


def test_layers_without_a_tf_nn_op_have_reasons(adapter, tf):
    probs = np.full((2, 3), 1 / 3, np.float32)
    inputs = {"probs": probs, "target": probs}
    reason = refusal(adapter, "categorical_crossentropy", inputs)
    assert "tf.nn.softmax_cross_entropy_with_logits(labels, logits" in reason
    assert "unnormalized log probabilities" in reason  # its own docstring
    assert refusal(adapter, "categorical_crossentropy", inputs, {}, "backward") == reason
    # The SciPy view has no methods here: unsupported by default, never run.
    signal = {"in1": np.ones(5), "in2": np.ones(2)}
    for method in ("correlate", "convolve", "correlate2d", "convolve2d"):
        assert layer_method(adapter, method) is None
        assert not adapters.supports("tensorflow", method)
        with pytest.raises(Unsupported, match=f"tensorflow has no {method}$"):
            prepare(adapter, method, signal, {"mode": "valid"})


def test_only_float32_and_float64_run(adapter):
    x = {"x": np.ones((2, 3), np.float16)}
    assert "float32 and float64 only, not float16" in refusal(adapter, "relu", x)
    assert refusal(adapter, "relu", {"x": np.ones((2, 3), np.float32)}) is None


def test_dropout_scale_and_no_inference_mode(adapter, tf):
    # tf.nn.dropout: "the remaining elements are scaled up by 1.0 / (1 - rate)"
    # (https://www.tensorflow.org/api_docs/python/tf/nn/dropout).
    rng = np.random.default_rng(3)
    x, mask = rng.standard_normal((4, 10)), rng.random((4, 10)) >= 0.2
    got = forward(adapter, "dropout", {"x": x}, {"p": 0.2, "mask": mask, "training": True})
    np.testing.assert_allclose(got, x * mask / 0.8, rtol=1e-15)
    grad = backward(adapter, "dropout", np.ones_like(x), {"x": x}, {"p": 0.2, "mask": mask})
    np.testing.assert_allclose(grad["x"], mask / 0.8, rtol=1e-15)
    with pytest.raises(TypeError, match="training"):
        tf.nn.dropout(np.ones(2), rate=0.5, training=False)
    reason = refusal(adapter, "dropout", {"x": x}, {"p": 0.2, "mask": mask, "training": False})
    assert "training" in reason


def _bn_inputs(rng):
    return {
        "x": rng.standard_normal((2, 3, 2, 2)),
        "gamma": np.ones(3),
        "beta": np.zeros(3),
        "running_mean": np.zeros(3),
        "running_var": np.ones(3),
    }


def test_backward_keys_follow_the_reference(adapter):
    rng = np.random.default_rng(4)
    cases = [
        ("batchnorm2d", _bn_inputs(rng), {"training": True}, {"x", "gamma", "beta"}),
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
        out = forward(adapter, layer, inputs, attrs)
        grads = backward(adapter, layer, np.ones_like(out), inputs, attrs)
        assert set(grads) == keys, layer
        for name, grad in grads.items():
            assert grad.shape == inputs[name].shape, (layer, name)


def test_prepared_runs_repeat_exactly(adapter):
    rng = np.random.default_rng(5)
    calls = [
        ("conv2d", _conv_inputs(6), {"stride": 2, "padding": 1}),
        ("batchnorm2d", _bn_inputs(rng), {"training": True}),
        ("maxpool2d", {"x": rng.standard_normal((2, 3, 6, 6))}, {"kernel_size": 2}),
        (
            "cross_entropy",
            {"logits": rng.standard_normal((2, 4, 3, 3)), "target": rng.integers(0, 4, (2, 3, 3))},
            {"reduction": "none"},
        ),
        (
            "dropout",
            {"x": rng.standard_normal((3, 5))},
            {"p": 0.5, "mask": rng.random((3, 5)) < 0.5},
        ),
    ]
    for layer, inputs, attrs in calls:
        prepared = prepare(adapter, layer, inputs, attrs)
        assert isinstance(prepared, Prepared), layer
        run = prepared.forward()
        assert run.execution == "eager"
        first, second = run.call(), run.call()
        assert isinstance(first, np.ndarray), layer  # numbers exist when call returns
        np.testing.assert_array_equal(run.to_reference(first), run.to_reference(second))
        y = run.to_reference(first)
        grad = prepared.backward(rng.standard_normal(y.shape))
        assert grad.execution == "eager, tf.GradientTape"
        g1, g2 = grad.result(), grad.result()
        assert set(g1) == set(g2), layer
        for name in g1:
            np.testing.assert_array_equal(g1[name], g2[name], err_msg=f"{layer} {name}")
