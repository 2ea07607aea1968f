"""Adapter facts behind the activations of issue 17 that the parity tests cannot show by
themselves: the evidence for the known divergences the adapters refuse at run time."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from reference import gelu
from tests import known_divergences
from tests.adapters.calls import refusal


def _tf():
    try:
        return adapters.load("tensorflow").tf
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))


def test_tf_gelu_float64_uses_float32_constants():
    """tf.nn.gelu in float64 is ~3e-8 off (its constants pass through float32), and the
    tf.nn and Keras-on-TensorFlow adapters refuse float64 GELU exactly while it is."""
    tf = _tf()
    x = np.linspace(-3.0, 3.0, 13)
    worst = {}
    for approximate in ("none", "tanh"):
        got = tf.nn.gelu(tf.constant(x), approximate=approximate == "tanh").numpy()
        want = gelu.forward(x, approximate=approximate)
        worst[approximate] = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)))
    exact = 0.7071067811865476
    if float(tf.cast(exact, tf.float64)) == exact:
        assert max(worst.values()) < 1e-13, worst
        pytest.skip("tf.cast keeps float64 in this TensorFlow: the bug is gone here")
    assert min(worst.values()) > 1e-9, f"float64 GELU relative errors {worst}: bug not seen"
    inputs = {"x": x}
    names = ["tensorflow"]
    keras = adapters.load("keras") if adapters.missing_reason("keras") is None else None
    if keras is not None and keras.api.backend == "tensorflow":
        names.append("keras")
    keys = {
        "tensorflow": "tf-nn-gelu-float64-constants-via-float32",
        "keras": "keras-tf-gelu-float64-constants-via-float32",
    }
    for name in names:
        entry = known_divergences.refused(keys[name])
        for approximate in ("none", "tanh"):
            reason = refusal(adapters.load(name), "gelu", inputs, {"approximate": approximate})
            assert reason is not None
            assert repr(entry.key) in reason
            assert refusal(adapters.load(name), "gelu", {"x": x.astype(np.float32)}, {}) is None


def test_torch_hardsigmoid_float64_backward_uses_a_float32_sixth():
    """torch's float64 Hardsigmoid gradient is 1/6 rounded to float32, and the torch and
    Keras-on-torch adapters refuse exactly that backward (forward and float32 run)."""
    try:
        torch_adapter = adapters.load("torch")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    torch = torch_adapter._lib()
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.nn.Hardsigmoid()(x), x, torch.ones_like(x))
    if float(grad) == 1 / 6:
        pytest.skip("torch's float64 Hardsigmoid gradient is 1/6 here: the bug is gone")
    assert float(grad) == float(np.float32(1 / 6))
    names = ["torch"]
    keras = adapters.load("keras") if adapters.missing_reason("keras") is None else None
    if keras is not None and keras.api.backend == "torch":
        names.append("keras")
    keys = {
        "torch": "torch-hardsigmoid-float64-grad-float32-sixth",
        "keras": "keras-torch-hardsigmoid-float64-grad-float32-sixth",
    }
    inputs = {"x": np.linspace(-4.0, 4.0, 9)}
    for name in names:
        adapter, entry = adapters.load(name), known_divergences.refused(keys[name])
        reason = refusal(adapter, "hardsigmoid", inputs, {}, direction="backward")
        assert reason is not None
        assert repr(entry.key) in reason
        assert refusal(adapter, "hardsigmoid", inputs, {}) is None
        float32 = {"x": inputs["x"].astype(np.float32)}
        assert refusal(adapter, "hardsigmoid", float32, {}, direction="backward") is None
