"""The declared bugs' signatures (tests/divergence_signatures.py) and the verdicts built on
them (tests/known_divergences.py ``judge``): a failure xfails only where the bug is
present and the output is that bug's own wrong value; any other wrong value fails; a pass
where the bug must have changed the answer fails as a stale entry.  No framework runs
here except where a test says so."""

from __future__ import annotations

import numpy as np
import pytest

from tests import divergence_signatures as signatures
from tests import known_divergences
from tests.divergence_signatures import Signature
from tests.harness import Observed, as_float64
from tests.known_divergences import Divergence
from tests.layers import get as declaration

FIELDS = ("avgpool2d", "some_case", "keras", "float32", "forward")


def _observed(inputs, attrs, direction="forward", actual=None, grad_seed=0, dtype="float32"):
    """An ``Observed`` for the reference's avgpool2d, ``actual`` defaulting to the
    reference's own answer."""
    info = declaration("avgpool2d")
    ref = as_float64(inputs)
    grad_out = None
    if direction == "forward":
        expected = {"y": info.forward(**ref, **attrs)}
    else:
        shape = info.forward(**ref, **attrs).shape
        grad_out = np.random.default_rng(grad_seed).standard_normal(shape)
        expected = info.backward(grad_out, **ref, **attrs)
    policy = info.tolerance(direction, ref, attrs, dtype, grad_out)
    actual = expected if actual is None else actual
    return Observed(
        None, info, direction, dtype, inputs, ref, attrs, grad_out, actual, expected, policy.bounds
    )


SAME = {"kernel_size": 3, "stride": 2, "padding": "same", "count_include_pad": False}


def _x(shape, seed=1):
    return {"x": np.random.default_rng(seed).standard_normal(shape)}


# --------------------------------------------------------------------------------------
# The edge-replicating average model


def test_replicated_average_gives_the_pull_requests_worked_example():
    # keras-team/keras#23233 (description): [10, 20], pool 3, stride 2, "same" pads one
    # cell on the right; replicating it gives (10 + 20 + 20) / 3 = 16.67.
    x = np.array([10.0, 20.0]).reshape(1, 1, 1, 2)
    got = signatures.replicated_average(x, None, ((0, 0), (0, 1)), (1, 3), (1, 2))["y"]
    assert got.shape == (1, 1, 1, 1)
    assert got.item() == pytest.approx(50 / 3, rel=1e-15)


def test_replicated_average_backward_is_the_adjoint_of_its_forward():
    # The model is linear in x: <forward(x), g> == <x, backward(g)> for every x and g.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 6, 7))
    pads, kernel, stride = ((0, 1), (1, 1)), (3, 3), (2, 2)
    y = signatures.replicated_average(x, None, pads, kernel, stride)["y"]
    g = rng.standard_normal(y.shape)
    dx = signatures.replicated_average(x, g, pads, kernel, stride)["x"]
    assert dx.shape == x.shape
    np.testing.assert_allclose(np.sum(y * g), np.sum(x * dx), rtol=1e-12)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_replicated_average_explains_only_its_own_wrong_value(direction):
    inputs = _x((1, 2, 6, 7))  # SAME pads ((0, 1), (1, 1)): asymmetric on H
    right = _observed(inputs, SAME, direction)
    assert signatures.SAME_AVERAGE_REPLICATES.must_fail(right) is True
    predicted = signatures.replicated_average(
        right.reference_inputs["x"], right.grad_out, ((0, 1), (1, 1)), (3, 3), (2, 2)
    )
    as_the_bug = _observed(inputs, SAME, direction, actual=predicted)
    assert signatures.SAME_AVERAGE_REPLICATES.explains(as_the_bug) is not None
    # Another wrong value: the edge replicated, but off by 1e-3 at one element.
    key = next(iter(predicted))
    nudged = {key: predicted[key].copy()}
    nudged[key].flat[5] += 1e-3
    assert (
        signatures.SAME_AVERAGE_REPLICATES.explains(_observed(inputs, SAME, direction, nudged))
        is None
    )
    # Keras <= 3.4.1's wrong value (zero padding counted, keras-team/keras#19721).
    padded = np.pad(inputs["x"], ((0, 0), (0, 0), (0, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    zero_counted = {"y": windows[:, :, ::2, ::2].mean(axis=(-2, -1))}
    if direction == "forward":
        assert (
            signatures.SAME_AVERAGE_REPLICATES.explains(
                _observed(inputs, SAME, direction, zero_counted)
            )
            is None
        )
    # The right answer is not the bug's.
    assert signatures.SAME_AVERAGE_REPLICATES.explains(right) is None


def test_symmetric_same_padding_is_not_the_bug():
    # 7 x 7, pool 3, stride 2: SAME pads (1, 1) on both axes, which Keras' torch backend
    # hands to torch's own padding (right answer): no prediction, nothing must fail.
    observed = _observed(_x((1, 2, 7, 7)), SAME)
    assert signatures.SAME_AVERAGE_REPLICATES.must_fail(observed) is False
    assert signatures.SAME_AVERAGE_REPLICATES.explains(observed) is None


# --------------------------------------------------------------------------------------
# Verdicts


def _entry(present, explains, must_fail=lambda o: None) -> Divergence:
    return Divergence(
        key="test-entry",
        layer="avgpool2d",
        case="*",
        adapter="keras",
        reason="a test entry (no upstream issue: synthetic)",
        enforced="matched",
        signature=Signature(present, explains, must_fail),
    )


@pytest.fixture
def declare(monkeypatch):
    def put(entry):
        monkeypatch.setattr(known_divergences, "DIVERGENCES", [entry])

    return put


def test_failure_xfails_only_when_present_and_explained(declare):
    observed = _observed(_x((1, 1, 4, 4)), SAME)
    declare(_entry(lambda a: "found", lambda o: "its value"))
    verdict = known_divergences.judge(FIELDS, observed, failed=True)
    assert verdict.xfail.startswith("test-entry")
    assert verdict.key == "test-entry"
    declare(_entry(lambda a: "found", lambda o: None))
    assert known_divergences.judge(FIELDS, observed, failed=True).xfail is None
    declare(_entry(lambda a: None, lambda o: "its value"))
    assert known_divergences.judge(FIELDS, observed, failed=True).xfail is None
    other_layer = ("maxpool2d", *FIELDS[1:])
    declare(_entry(lambda a: "found", lambda o: "its value"))
    assert known_divergences.judge(other_layer, observed, failed=True).xfail is None


def test_pass_where_the_bug_must_fail_is_stale(declare):
    observed = _observed(_x((1, 1, 4, 4)), SAME)
    declare(_entry(lambda a: "found", lambda o: "its value", lambda o: True))
    assert "XPASS(strict)" in known_divergences.judge(FIELDS, observed, failed=False).stale
    declare(_entry(lambda a: "found", lambda o: "its value", lambda o: False))
    assert known_divergences.judge(FIELDS, observed, failed=False) == known_divergences.Verdict()
    declare(_entry(lambda a: None, lambda o: "its value", lambda o: True))
    assert known_divergences.judge(FIELDS, observed, failed=False).stale is None


# --------------------------------------------------------------------------------------
# float64 demotion


@pytest.mark.keras
def test_float64_error_without_a_demotion_is_not_explained():
    """Keras on its tensorflow backend demotes nothing: a float64 error there is another
    bug, whatever its size."""
    import adapters

    try:
        adapter = adapters.load("keras")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    if signatures.float64_demoted(adapter):
        pytest.skip(f"{adapter.version()}: demotes float64 (the parity tests judge it there)")
    info = declaration("sigmoid")
    x = np.random.default_rng(3).standard_normal((2, 3))
    expected = {"y": info.forward(x=x)}
    actual = {"y": expected["y"] * (1 + 1e-8)}  # within float32's bound, beyond float64's
    policy = info.tolerance("forward", {"x": x}, {}, "float64", None)
    observed = Observed(
        adapter,
        info,
        "forward",
        "float64",
        {"x": x},
        {"x": x},
        {},
        None,
        actual,
        expected,
        policy.bounds,
    )
    assert signatures.FLOAT64_DEMOTED.explains(observed) is None


def test_torch_same_max_pool_models_keras_3_6_padding():
    """keras-torch-same-max-pool-padding-length: the model follows keras 3.6.0's
    keras/src/backend/torch/nn.py.  Kernel 1, stride 2 on [[1, 2], [3, 4]]: total
    padding 0 - 1 mod 2 = -1 per axis, (-1, 0), unequal, so replicate padding crops the
    first row and column and the one window holds 4 (TensorFlow's SAME keeps 1).  Kernel
    (1, 2), stride (2, 1) on a 2 x 1 column (maxpool_same_k1x2_s2x1's geometry): H gets
    (-1, 0), W (0, 1), so row 1 is kept and its cell replicated to the right; the gradient
    reaches that cell once per window."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    assert signatures.torch_same_max_pool(x, None, (1, 1), (2, 2))["y"].ravel().tolist() == [4]
    column = np.array([5.0, -7.0]).reshape(1, 1, 2, 1)
    y = signatures.torch_same_max_pool(column, None, (1, 2), (2, 1))["y"]
    assert y.ravel().tolist() == [-7.0]
    dx = signatures.torch_same_max_pool(column, np.ones((1, 1, 1, 1)), (1, 2), (2, 1))["x"]
    assert dx.ravel().tolist() == [0.0, 1.0]
    # Equal sides go to torch's own padding with W's pads on H: kernel (1, 3) stride 3 on
    # 1 x 1 pads W by 1 each side, which torch then applies to H (kernel 1) and refuses.
    assert signatures.torch_same_max_pool(np.ones((1, 1, 1, 1)), None, (1, 3), (1, 3)) is None
