"""The LiteRT adapter: it has every keras adapter layer but the losses (a layer added to
the keras adapter appears here with no change), its refusals are the converter's own
(float64; training=True, which a converted model silently runs as inference), it runs
forward only, conversions are cached by everything baked into the flatbuffer, it needs
Keras on TensorFlow, and it falls back to tf.lite.Interpreter without ai-edge-litert."""

from __future__ import annotations

import re
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import adapters
from adapters.base import FrameworkMissing, Unsupported, layer_method, prepare
from adapters.keras import KerasAdapter
from adapters.litert import LiteRtAdapter, convert
from tests.adapters.calls import forward, refusal

pytestmark = pytest.mark.litert


@pytest.fixture(scope="module")
def adapter():
    try:
        return adapters.load("litert")
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_version_names_interpreter_and_converter(adapter):
    import tensorflow as tf

    version = adapter.version()
    assert f"converted by tensorflow {tf.__version__} TFLiteConverter" in version
    flags = adapter.determinism_flags()
    assert "optimizations=[]" in flags["converter"]
    assert flags["interpreter"] in version


def test_every_keras_layer_but_the_losses():
    litert, keras = LiteRtAdapter(), KerasAdapter()  # no framework imported
    names = [n for n in dir(KerasAdapter) if layer_method(keras, n) is not None]
    assert "conv2d" in names
    losses = {"cross_entropy", "categorical_crossentropy", "mse"}
    assert losses <= set(names)
    for name in names:
        converted = layer_method(litert, name) is not None
        # The losses are the methods taking a target (binary_cross_entropy too, once added).
        assert converted == (name not in losses and name != "binary_cross_entropy")
    assert layer_method(litert, "correlate2d") is None  # the keras adapter has none


def test_a_new_keras_layer_is_a_litert_layer(adapter, monkeypatch):
    """A method added to the keras adapter is converted with no change to litert."""

    def gelu(self, x):
        return self._plain("gelu", x, lambda L, dtype: L.Activation("gelu", dtype=dtype))

    monkeypatch.setattr(KerasAdapter, "gelu", gelu, raising=False)
    assert adapters.supports("litert", "gelu")
    x = _x((2, 7))
    run = prepare(adapter, "gelu", {"x": x}, {}).forward()
    keras_out = prepare(adapters.load("keras"), "gelu", {"x": x}, {}).forward().result()
    np.testing.assert_allclose(run.result(), keras_out, rtol=1e-5, atol=1e-6)
    assert "converted ops" in run.execution


def test_float64_is_refused_in_the_converters_words(adapter):
    message = refusal(adapter, "relu", {"x": _x(3, dtype=np.float64)})
    assert message.startswith("float64: tf.lite.TFLiteConverter has no float64 builtin")
    assert "'tf.Relu' op is neither a custom op nor a flex op" in message


def test_weights_are_refused_only_where_a_child_conversion_dies(adapter):
    """TF 2.16's converter aborts on any model with weights (tensorflow/tensorflow#63987):
    the adapter asks a child process, and refuses layers with weights only where the child
    died; layers without weights still run.  Elsewhere a weighted layer converts here."""
    x = _x((1, 2, 4, 4))
    w, b = _x((3, 2, 3, 3)), _x(3)
    rule = adapter.weights_rule()
    relu = prepare(adapter, "relu", {"x": x}, {}).forward().result()
    np.testing.assert_array_equal(relu, np.maximum(x, 0))
    if rule is None:
        out = prepare(adapter, "conv2d", {"x": x, "w": w, "b": b}, {}).forward().result()
        assert out.shape == (1, 3, 2, 2)
        return
    assert "kills the process" in rule
    assert "litert-converter-aborts-on-weights" in rule
    message = refusal(adapter, "conv2d", {"x": x, "w": w, "b": b})
    assert rule in message


def test_training_is_refused_and_conversion_runs_inference(adapter):
    """Keras 3 (TF >= 2.16): the converter exports the model's call with training=False, so
    a BatchNormalization called with training=True in the model normalises with its moving
    statistics once converted (Keras itself uses the batch's).  tf.keras 2.15: the
    converter saves the call as built (TF 2.15 tensorflow/lite/python/lite.py,
    _convert_keras_to_saved_model) and has no builtin kernel for the training batch norm."""
    _skip_where_weights_abort(adapter)
    x = _x((4, 3, 5, 5)) * 3 + 1
    c = np.ones(3, np.float32)
    inputs = {"x": x, "gamma": c, "beta": 0 * c, "running_mean": 0 * c, "running_var": c}
    keras2 = adapter._keras.api.tf_keras
    message = refusal(adapter, "batchnorm2d", inputs, {"training": True})
    mask = np.ones(x.shape, bool)
    dropout = refusal(adapter, "dropout", {"x": x, "mask": mask}, {"p": 0.5})
    keras_call = adapters.load("keras").batchnorm2d(**inputs, training=True)
    if keras2:
        said = "'tf.FusedBatchNormV3' op is neither a custom op nor a flex op"
        assert said in message
        assert "training=True is refused" in message
        assert dropout == message
        with pytest.raises(Exception, match=re.escape(said)) as raised:
            convert(adapter._keras.api.tf, keras_call.keras_model())
        assert type(raised.value).__name__ == "ConverterError"
        return
    assert "training=False for inference only" in message
    assert "training=False" in dropout
    interpreter = adapter._interpreter(
        model_content=convert(adapter._keras.api.tf, keras_call.keras_model())
    )
    interpreter.allocate_tensors()
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x_nhwc)
    interpreter.invoke()
    converted = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    eps = 1e-5  # the adapter's (the reference's default)
    np.testing.assert_allclose(converted, x_nhwc / np.sqrt(1 + eps), rtol=1e-5, atol=1e-5)
    batch = (x_nhwc - x_nhwc.mean((0, 1, 2))) / np.sqrt(x_nhwc.var((0, 1, 2)) + eps)
    np.testing.assert_allclose(
        keras_call.forward().result(), batch.transpose(0, 3, 1, 2), atol=1e-4
    )
    assert np.abs(converted - batch).max() > 1.0


def test_backward_is_refused_without_converting(adapter):
    before = adapter.conversions
    prepared = prepare(adapter, "relu", {"x": _x((2, 3))}, {})
    with pytest.raises(Unsupported, match="inference only"):
        prepared.backward(np.ones((2, 3), np.float32))
    assert adapter.conversions == before


def _skip_where_weights_abort(adapter):
    if adapter.weights_rule():
        pytest.skip(f"a model with weights would abort this process: {adapter.weights_rule()}")


def test_conversions_are_cached_by_what_the_flatbuffer_holds(adapter):
    _skip_where_weights_abort(adapter)
    x, w, b = _x((1, 2, 5, 5)), _x((3, 2, 3, 3), 1), _x(3, 2)
    before = adapter.conversions
    first = forward(adapter, "conv2d", {"x": x, "w": w, "b": b})
    assert adapter.conversions == before + 1
    # Another input of the same shape: the same flatbuffer.
    again = forward(adapter, "conv2d", {"x": 2 * x, "w": w, "b": b})
    assert adapter.conversions == before + 1
    np.testing.assert_allclose(again, 2 * first - forward_bias(b, first), rtol=1e-5, atol=1e-5)
    # Other weights, another batch size or other attributes: converted anew.
    forward(adapter, "conv2d", {"x": x, "w": w + 1, "b": b})
    forward(adapter, "conv2d", {"x": np.concatenate([x, x]), "w": w, "b": b})
    forward(adapter, "conv2d", {"x": x, "w": w, "b": b}, {"padding": 1})
    assert adapter.conversions == before + 4


def forward_bias(b, like):
    return np.broadcast_to(b[None, :, None, None], like.shape)


def test_batchnorm_is_folded_into_multiply_add(adapter):
    _skip_where_weights_abort(adapter)
    """The converter rewrites an inference BatchNormalization as MUL and ADD."""
    c = np.linspace(0.5, 1.5, 3).astype(np.float32)
    inputs = {"x": _x((1, 3, 4, 4)), "gamma": c, "beta": c, "running_mean": c, "running_var": c}
    run = prepare(adapter, "batchnorm2d", inputs, {"training": False}).forward()
    assert "MUL, ADD" in run.execution


def test_needs_keras_on_tensorflow(adapter):
    other = LiteRtAdapter()
    other._keras.api = SimpleNamespace(backend="jax")  # as Keras 3 with KERAS_BACKEND=jax
    with pytest.raises(FrameworkMissing, match=r"needs Keras on TensorFlow; .* runs on jax"):
        other.load()


def test_falls_back_to_tf_lite_interpreter(adapter, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import raises ImportError
    fallback = LiteRtAdapter()
    fallback.load()
    assert fallback.version().startswith("tf.lite.Interpreter of tensorflow")
    x = _x((2, 5))
    np.testing.assert_array_equal(forward(fallback, "relu", {"x": x}), np.maximum(x, 0))
