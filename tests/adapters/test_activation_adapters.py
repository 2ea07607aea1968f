"""Adapter facts behind the activations of issue 17 that the parity tests cannot show by
themselves: the evidence for the "matched" known divergences (tests/known_divergences.py)
of float64 hard-sigmoid gradients in torch and float64 GELU in tf.nn.  The adapters run
both (nothing is refused); these tests show each bug's signature on the installed
release, and that the parity verdict xfails it only as that bug's own wrong value."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from tests import divergence_signatures_activations as signatures
from tests import known_divergences
from tests.harness import compare_observed

FIELDS = {"forward": "y", "backward": "x"}


def _load(name):
    try:
        return adapters.load(name)
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))


def _observed(adapter, layer, x, attrs, direction):
    """The parity comparison of ``layer`` on ``x`` in float64, and the known_divergences
    verdict on it."""
    _, failure, observed = compare_observed(
        adapter, layer, direction, {"x": x}, attrs, "float64", label="evidence", repro="-"
    )
    fields = (layer, "evidence", adapter.name, "float64", direction)
    verdict = known_divergences.judge(fields, observed, failed=failure is not None)
    return failure, observed, verdict


@pytest.mark.heavy
def test_tf_gelu_float64_uses_float32_constants():
    """tf.nn.gelu in float64 is ~3e-8 off: its output and gradient are the model's (its
    formula with the constants rounded to float32, not the float64 ones), and the parity
    verdict xfails exactly that, for tf.nn and Keras on the tensorflow backend."""
    tf_adapter = _load("tensorflow")
    tf = tf_adapter.tf
    exact = 0.7071067811865476
    if float(tf.cast(exact, tf.float64)) == exact:
        assert signatures.tf_gelu_float32_constants(tf_adapter) is None
        pytest.skip("tf.cast keeps float64 in this TensorFlow: the bug is gone here")
    names = ["tensorflow"]
    keras = adapters.load("keras") if adapters.missing_reason("keras") is None else None
    if keras is not None and keras.api.backend == "tensorflow":
        names.append("keras")
    x = np.linspace(-3.0, 3.0, 13)
    for name in names:
        adapter = adapters.load(name)
        assert signatures.tf_gelu_float32_constants(adapter) is not None
        for approximate in ("none", "tanh"):
            for direction in ("forward", "backward"):
                attrs = {"approximate": approximate}
                failure, observed, verdict = _observed(adapter, "gelu", x, attrs, direction)
                assert failure is not None, f"{name} {approximate} {direction}: no error"
                key = FIELDS[direction]
                got, want = observed.actual[key], observed.expected[key]
                assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)) > 1e-9
                assert verdict.xfail is not None, (name, approximate, direction)
                assert verdict.key.endswith("gelu-float64-constants-via-float32")


@pytest.mark.heavy
def test_torch_hardsigmoid_float64_backward_uses_a_float32_sixth():
    """torch's float64 Hardsigmoid gradient is 1/6 rounded to float32; the torch adapter
    (and Keras on the torch backend) run it, and the parity verdict xfails it as that bug;
    forward and float32 are right and pass."""
    torch_adapter = _load("torch")
    torch = torch_adapter._lib()
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.nn.Hardsigmoid()(x), x, torch.ones_like(x))
    if float(grad) == 1 / 6:
        assert signatures.hardsigmoid_float32_sixth(torch_adapter) is None
        pytest.skip("torch's float64 Hardsigmoid gradient is 1/6 here: the bug is gone")
    assert float(grad) == float(np.float32(1 / 6))
    names = ["torch"]
    keras = adapters.load("keras") if adapters.missing_reason("keras") is None else None
    if keras is not None and keras.api.backend == "torch":
        names.append("keras")
    x = np.linspace(-4.0, 4.0, 9)
    for name in names:
        adapter = adapters.load(name)
        assert signatures.hardsigmoid_float32_sixth(adapter) is not None
        failure, observed, verdict = _observed(adapter, "hardsigmoid", x, {}, "backward")
        assert failure is not None
        inside = np.abs(x) < 3
        sixth = float(np.float32(1 / 6))
        np.testing.assert_array_equal(
            observed.actual["x"][inside], observed.grad_out[inside] * sixth
        )
        assert verdict.key.endswith("hardsigmoid-float64-grad-float32-sixth")
        assert verdict.xfail is not None
        failure, _, verdict = _observed(adapter, "hardsigmoid", x, {}, "forward")
        assert failure is None
        assert verdict == known_divergences.Verdict()
