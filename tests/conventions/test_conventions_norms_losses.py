"""Conventions rows of issue 17: layer/group norm default eps, binary cross-entropy's clamp
versus clip and logits versus probabilities, label smoothing (see test_conventions.py for
the method: both sides' real APIs, the reference reproducing each, the exact relation)."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import _tf_common as common
from tests.conventions import norm_probes as probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for
from tests.tolerances import ELEMENTWISE_ULPS, eps

pytestmark = pytest.mark.conventions

#: Keras' clip bounds in float64 (keras.config.epsilon() = 1e-7).
_HIGH_P = 1.0 - 1e-7
_LOW_LOSS = -np.log(_HIGH_P)  # -log of the largest clipped probability, ~1e-7


def _keras2_side(rec: dict, who: str, actual, p, t) -> np.ndarray:
    """Check tf.keras 2 (Keras 2.15) binary_crossentropy on probabilities, which no
    reference convention computes: p clipped to [e, 1 - e], then e added again inside
    both logs, -(t log(p + e) + (1 - t) log(1 - p + e)), e = backend.epsilon() = 1e-7, in
    p's dtype (keras/src/backend.py binary_crossentropy, keras 2.15.0;
    keras.losses.binary_crossentropy, keras/src/losses.py, takes the mean over the last
    axis, of size 1 here).  Each log's argument is exact or rounded once or twice
    (relative error <= 2 eps), which moves the log by 2 eps, and the log and the sum round
    once each: both the model and Keras are within 3 eps (1 + |loss|) of the exact value,
    so they are compared at ELEMENTWISE_ULPS eps (1 + |loss|).  Returns that bound."""
    e = 1e-7
    q = np.clip(p, e, 1.0 - e)
    want = -(t * np.log(q + e) + (1.0 - t) * np.log(1.0 - q + e))
    bound = ELEMENTWISE_ULPS["float64"] * eps("float64") * (1.0 + np.abs(want))
    worst = s.assert_within(actual, want, bound, f"{who}: keras 2's clip-then-add-e formula")
    s.matches(rec, f"{who} (keras 2 formula, keras/src/backend.py)", worst)
    return bound


def _norm_fixture(label: str, shape) -> dict:
    """Small variance per slice (std ~ 0.03, var ~ 1e-3) so that eps 1e-3 shows."""
    rng = np.random.default_rng(seed_for(label))
    c = shape[1]
    return {
        "x": (0.03 * rng.standard_normal(shape)).astype(np.float32),
        "gamma": rng.uniform(0.5, 1.5, c).astype(np.float32),
        "beta": rng.standard_normal(c).astype(np.float32),
    }


def _eps_row(request, row_id, layer, stats_axes, grouped):
    row = ROW[row_id]
    rec = s.start_record(request, row, fixture="x (2, 4, 3, 3) float32, std ~ 0.03 per slice")
    s.need("torch")
    s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    t = _norm_fixture(row.id, (2, 4, 3, 3))
    outs, bounds = {}, {}
    for name, side in (("torch", row.a), ("keras", row.b)):
        groups = side.params.get("groups")
        got = probes.norm_with_default_eps(name, layer, **t, groups=groups)
        assert got["eps"] == pytest.approx(side.params["eps"], rel=1e-6), f"{name} default eps"
        bounds[name] = s.side(rec, name, got["y"], layer, t, side.params, "float32")
        outs[name] = got["y"]
    x = grouped(t["x"].astype(np.float64))
    var = x.var(axis=stats_axes, keepdims=True)
    beta = t["beta"].astype(np.float64)[None, :, None, None]
    std_a = np.broadcast_to(np.sqrt(var + row.a.params["eps"]), x.shape).reshape(t["x"].shape)
    std_b = np.broadcast_to(np.sqrt(var + row.b.params["eps"]), x.shape).reshape(t["x"].shape)
    s.assert_within(
        (outs["torch"] - beta) * std_a,
        (outs["keras"] - beta) * std_b,
        bounds["torch"] * std_a + bounds["keras"] * std_b,
        "eps rescaling: (y - beta) sqrt(var + eps) agree",
    )
    diff = s.widen(rec, outs["torch"], outs["keras"])
    assert diff > 100 * float(np.max(bounds["torch"] + bounds["keras"])), "eps must show"
    rec["std_keras_over_std_torch"] = [float((std_b / std_a).min()), float((std_b / std_a).max())]


def test_layernorm_eps_default(request):
    _eps_row(request, "layernorm_eps_default", "layernorm", (1,), lambda x: x)


def test_groupnorm_eps_default(request):
    groups = ROW["groupnorm_eps_default"].a.params["groups"]
    _eps_row(
        request,
        "groupnorm_eps_default",
        "groupnorm",
        (2, 3, 4),
        lambda x: x.reshape(x.shape[0], groups, -1, *x.shape[2:]),
    )


def test_bce_clamp_vs_clip(request):
    row = ROW["bce_clamp_vs_clip"]
    rec = s.start_record(
        request, row, fixture="p in {0, 1e-50, 1e-9, 0.3, 1 - 1e-9, 1} x t in {0, 1}"
    )
    torch = s.need("torch")
    keras2 = s.need("keras").api.tf_keras
    s.note_versions(rec, ["torch", "keras"])
    p_values = np.array([0.0, 1e-50, 1e-9, 0.3, 1 - 1e-9, 1.0])
    p = np.tile(p_values, 2)[:, None]  # (12, 1): Keras' mean over the last axis is the element
    t = np.repeat([0.0, 1.0], p_values.size)[:, None]
    inputs = {"input": p, "target": t}
    a = s.run(torch, "binary_cross_entropy", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "binary_cross_entropy", inputs, row.a.params, "float64")
    b = probes.keras_binary_crossentropy(t, p)[:, None]
    wrong = ((p == 0) & (t == 1)) | ((p == 1) & (t == 0))
    assert np.all(a[wrong] == 100.0), "torch: a confident wrong answer costs the clamp, 100"
    if keras2:
        # Keras 2 adds e after clipping: a confident wrong answer costs -log(2e-7) = 15.42,
        # and every probability is moved by e, so no element is clip(torch).
        bound_b = _keras2_side(rec, "keras", b, p, t)
        # 1 - (1 - 1e-7) is not 1e-7 in float64: t = 0 costs -log(that + 1e-7).
        high = np.where(t == 1, -np.log(1e-7 + 1e-7), -np.log(1.0 - _HIGH_P + 1e-7))
        s.assert_within(b[wrong], high[wrong], bound_b[wrong], "keras 2: -log(2e-7)")
        s.widen(rec, a, b)
        return
    bound_b = s.side(
        rec, "keras", b, "binary_cross_entropy", inputs, row.b.params, s.computed_dtype("keras")
    )
    high = np.where(t == 1, -np.log(1e-7), -np.log(1.0 - _HIGH_P))
    s.assert_within(b, np.clip(a, _LOW_LOSS, high), bound_a + bound_b, "keras = clip(torch)")
    assert np.all(b < 16.2), "keras: never more than -log(1e-7)"
    clipped = np.abs(np.clip(a, _LOW_LOSS, high) - a) > bound_a + bound_b
    # Keras computing in float32 (a demoting backend) reads p = 1 - 1e-9 as 1: one fewer.
    assert clipped.sum() >= (6 if s.computed_dtype("keras") == "float64" else 5)
    assert np.all(np.abs(a - b)[clipped] > (bound_a + bound_b)[clipped])
    s.widen(rec, a, b)
    rec["per_element"] = {"p": p.ravel().tolist(), "t": t.ravel().tolist(),
                          "torch": a.ravel().tolist(), "keras": b.ravel().tolist()}  # fmt: skip


def test_bce_logits_vs_probabilities(request):
    row = ROW["bce_logits_vs_probabilities"]
    rec = s.start_record(request, row, fixture="z in {-150, -40, -5, 0, 5, 40}, t = 1, float64")
    torch = s.need("torch")
    keras2 = s.need("keras").api.tf_keras
    s.note_versions(rec, ["torch", "keras"])
    z = np.array([-150.0, -40.0, -5.0, 0.0, 5.0, 40.0])[:, None]
    t = np.ones_like(z)
    logits = {"input": z, "target": t}
    layer = "binary_cross_entropy"
    a_torch = s.run(torch, layer, logits, row.a.params)
    bound_at = s.side(rec, "torch on logits", a_torch, layer, logits, row.a.params, "float64")
    a_keras = probes.keras_binary_crossentropy(t, z, from_logits=True)[:, None]
    bound_ak = s.side(
        rec, "keras on logits", a_keras, layer, logits, row.a.params, s.computed_dtype("keras")
    )
    s.assert_within(a_torch, a_keras, bound_at + bound_ak, "torch = keras on logits")
    # The sigmoid's rounding moves -log p by a few eps (absolute): slack for the relation.
    slack = ELEMENTWISE_ULPS["float64"] * eps("float64")
    sides = (("torch", probes.torch_sigmoid, 100.0), ("keras", probes.keras_sigmoid, None))
    for name, sigmoid, clamp in sides:
        p = sigmoid(z)
        probs = {"input": p, "target": t}
        params = {**row.b.params, "convention": name}
        if name == "torch":
            b = s.run(torch, layer, probs, params)
            want = np.minimum(a_torch, clamp)
        else:
            b = probes.keras_binary_crossentropy(t, p)[:, None]
            want = np.clip(a_torch, _LOW_LOSS, -np.log(1e-7))
        if name == "keras" and keras2:
            # Keras 2's e added after the clip: -log(clip(sigmoid(z)) + e) (_keras2_side),
            # saturating at -log(2e-7) for z = -40 and -150.
            _keras2_side(rec, "keras on sigmoid(z)", b, p, t)
            assert b[0, 0] < a_torch[0, 0] - 10, f"{name}: z = -150 saturates on probabilities"
            s.widen(rec, a_torch, b)
            continue
        bound_b = s.side(
            rec, f"{name} on sigmoid(z)", b, layer, probs, params, s.computed_dtype(name)
        )
        s.assert_within(b, want, bound_at + bound_b + slack, f"{name}: saturated softplus(-z)")
        assert b[0, 0] < a_torch[0, 0] - 10, f"{name}: z = -150 saturates on probabilities"
        s.widen(rec, a_torch, b)
    rec["on_logits"] = a_torch.ravel().tolist()


def test_label_smoothing(request):
    row = ROW["label_smoothing"]
    rec = s.start_record(request, row, fixture="4 samples x 5 classes float64, e = 0.1")
    torch, keras = s.need("torch"), s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    logits = np.array(
        [
            [0.3, -1.2, 0.8, 0.1, 0.0],  # ordinary
            [30.0, 0.0, -2.0, 1.0, 0.5],  # confident and right: wrong classes p < 1e-7
            [-25.0, 5.0, 0.0, 1.0, 0.0],  # confident and wrong
            [2.0, 2.0, -1.0, 0.5, 0.0],
        ]
    )
    labels = np.array([2, 0, 0, 1])
    k, e = logits.shape[1], row.a.params["label_smoothing"]
    one_hot = np.eye(k)[labels]
    inputs = {"logits": logits, "target": labels}
    a = s.run(torch, "cross_entropy", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "cross_entropy", inputs, row.a.params, "float64")
    b = probes.keras_categorical_crossentropy(one_hot, logits, from_logits=True, label_smoothing=e)
    bound_b = s.side(
        rec, "keras on logits", b, "cross_entropy", inputs, row.b.params, s.computed_dtype("keras")
    )
    s.assert_within(a, b, bound_a + bound_b, "torch = keras on logits")
    # Where they differ: Keras on a probability array clips each class's probability.
    probs = s.run(keras, "softmax", {"x": logits}, {"axis": -1})
    c = probes.keras_categorical_crossentropy(one_hot, probs, from_logits=False, label_smoothing=e)
    smoothed = (1 - e) * one_hot + e / k
    kce = "cross_entropy.categorical_crossentropy"
    ref = {"probs": probs, "target": smoothed}
    bound_c = s.side(
        rec, "keras on probabilities", c, kce, ref, {"reduction": "none"}, s.computed_dtype("keras")
    )
    per_class = np.stack(  # torch's -log softmax_c for every class c
        [s.run(torch, "cross_entropy", {**inputs, "target": np.full(4, j)}, {"reduction": "none"})
         for j in range(k)], axis=1)  # fmt: skip
    want = np.sum(smoothed * np.clip(per_class, _LOW_LOSS, -np.log(1e-7)), axis=1)
    s.assert_within(c, want, bound_c + k * bound_a, "keras = sum t' clip(L_c)")
    differs = np.abs(a - c) > bound_a + bound_c
    assert differs.tolist() == [False, True, True, False], "the confident rows differ"
    s.widen(rec, a, c)
    rec["sparse_categorical_crossentropy_label_smoothing"] = common.refusal(
        probes.keras_sparse_label_smoothing
    )
    rec["per_sample"] = {"torch": a.tolist(), "keras_logits": b.tolist(), "keras_probs": c.tolist()}
