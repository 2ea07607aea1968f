"""Conventions table rows about training: batch-norm statistics and eps, Keras's clipped
crossentropy, dropout's parameter, Adam's eps (see test_conventions.py for the method)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adapters
from reference import batchnorm2d, cross_entropy
from tests.conventions import probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for
from tests.tolerances import SAFETY, eps

pytestmark = pytest.mark.conventions


def _bn_fixture(label: str, var_scale: float = 1.0) -> dict:
    rng = np.random.default_rng(seed_for(label))
    c = 2
    return {
        "x": 2.0 + 3.0 * rng.standard_normal((4, c, 3, 3)),
        "gamma": rng.uniform(0.5, 1.5, c),
        "beta": rng.standard_normal(c),
        "running_mean": rng.standard_normal(c),
        "running_var": var_scale * rng.uniform(0.5, 2.0, c),
    }


def _running_bounds(t: dict, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Summation bounds (tests/tolerances.py's SAFETY * eps(dtype) * (n + 2) * magnitude)
    for the running mean and variance: terms of size at most |old| + max|x| and
    |old| + (2 max|x|)^2 (a centred square)."""
    x = t["x"]
    n = x.shape[0] * x.shape[2] * x.shape[3]
    peak = np.abs(x).max(axis=(0, 2, 3))
    unit = SAFETY[dtype] * eps(dtype) * (n + 2)
    return (
        unit * (np.abs(t["running_mean"]) + peak),
        unit * (np.abs(t["running_var"]) + 4 * peak**2),
    )


def test_batchnorm_running_stats(request):
    row = ROW["batchnorm_running_stats"]
    rec = s.start_record(request, row, fixture="x (4,2,3,3) float32, n = N*H*W = 36")
    s.need("torch")
    s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id).items()}
    bounds = _running_bounds(t, "float32")
    got = {}
    for name, side in (("torch", row.a), ("keras", row.b)):
        got[name] = probes.batchnorm2d(name, **t, training=True)  # the layer's default momentum
        assert got[name]["momentum"] == side.params["momentum"], f"{name} default momentum"
        want = batchnorm2d.update_running_stats(  # in float64 on the float32 values
            *(t[k].astype(np.float64) for k in ("x", "running_mean", "running_var")),
            **side.params,
            unbiased=got[name]["unbiased_running_var"],
        )
        keys = ("running_mean", "running_var")
        ratios = [
            s.assert_within(got[name][k], w, b, f"{name} {k}")
            for k, w, b in zip(keys, want, bounds, strict=True)
        ]
        s.matches(rec, name, max(ratios))
    s.widen(rec, got["torch"]["running_var"], got["keras"]["running_var"])
    # The same weighting both ways: Keras with momentum 1 - 0.1 keeps 0.9 of the old value.
    m = row.a.params["momentum"]
    matched = probes.batchnorm2d("keras", **t, training=True, momentum=1 - m)
    s.assert_within(
        got["torch"]["running_mean"],
        matched["running_mean"],
        2 * bounds[0],
        "means agree with matched momentum",
    )
    n = t["x"].shape[0] * t["x"].shape[2] * t["x"].shape[3]
    batch_t = got["torch"]["running_var"] - (1 - m) * t["running_var"]
    batch_k = matched["running_var"] - (1 - m) * t["running_var"]
    # n/(n-1) where Keras stores the biased variance (Keras 3); 1 where its fused kernel
    # stores the unbiased one as torch does (Keras 2, see the row's notes).
    ratio = 1.0 if got["keras"]["unbiased_running_var"] else n / (n - 1)
    s.assert_within(batch_t, ratio * batch_k, 3 * bounds[1], f"variance ratio {ratio:.6g}")
    rec["measured_torch_over_keras_batch_variance"] = (batch_t / batch_k).tolist()
    rec["expected_ratio"] = ratio
    rec["keras_unbiased_running_var"] = got["keras"]["unbiased_running_var"]


def test_batchnorm_eps_default(request):
    row = ROW["batchnorm_eps_default"]
    rec = s.start_record(request, row, fixture="eval mode, running_var ~ 1e-3, float32")
    s.need("torch")
    s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id, var_scale=1e-3).items()}
    outs, bounds = {}, {}
    for name, side in (("torch", row.a), ("keras", row.b)):
        got = probes.batchnorm2d(name, **t, training=False)  # the layer's default eps
        assert got["eps"] == pytest.approx(side.params["eps"], rel=1e-6), f"{name} default eps"
        attrs = {"training": False, "eps": side.params["eps"]}
        bounds[name] = s.side(rec, name, got["y"], "batchnorm2d", t, attrs, "float32")
        outs[name] = got["y"]
    var = t["running_var"].astype(np.float64)[None, :, None, None]
    beta = t["beta"].astype(np.float64)[None, :, None, None]
    std_t, std_k = np.sqrt(var + row.a.params["eps"]), np.sqrt(var + row.b.params["eps"])
    # Both sides are gamma * (x - mean) / std + beta: undo each side's std.
    s.assert_within(
        (outs["torch"] - beta) * std_t,
        (outs["keras"] - beta) * std_k,
        bounds["torch"] * std_t + bounds["keras"] * std_k,
        "eps rescaling",
    )
    s.widen(rec, outs["torch"], outs["keras"])
    rec["std_keras_over_std_torch"] = (std_k / std_t).ravel().tolist()


_LOGITS = np.array(
    [
        [0.3, -1.2, 0.8, 0.1],  # ordinary
        [25.0, 0.0, -3.0, 1.0],  # confident and right: p > 1 - 1e-7
        [-20.0, 5.0, 0.0, 1.0],  # confident and wrong: p < 1e-7
        [2.0, 2.0, -1.0, 0.5],
    ]
)
_LABELS = np.array([2, 0, 0, 1])
_CE_INPUTS = {"logits": _LOGITS, "target": _LABELS}


def test_crossentropy_clipping(request):
    row = ROW["crossentropy_clipping"]
    rec = s.start_record(request, row, fixture="4 samples x 4 classes, float64; 2 clipped")
    torch, keras = s.need("torch"), s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    one_hot = np.eye(4)[_LABELS]
    a = s.run(torch, "cross_entropy", _CE_INPUTS, row.a.params)
    bound_a = s.side(rec, "torch", a, "cross_entropy", _CE_INPUTS, row.a.params, "float64")
    probs = s.run(keras, "softmax", {"x": _LOGITS}, {"axis": -1})  # an array, as predict gives
    s.side(rec, "keras softmax", probs, "softmax", {"x": _LOGITS}, {"axis": -1}, "float64")
    b = probes.keras_categorical_crossentropy(one_hot, probs=probs)
    bound_b = s.side(
        rec,
        "keras",
        b,
        "cross_entropy.categorical_crossentropy",
        {"probs": probs, "target": one_hot},
        {"reduction": row.b.params["reduction"]},
        "float64",
    )
    e = row.b.params["epsilon"]
    assert e == cross_entropy.KERAS_EPSILON
    low, high = -np.log1p(-e), -np.log(e)
    s.assert_within(b, np.clip(a, low, high), bound_a + bound_b, "keras = clip(torch)")
    active = (a < low) | (a > high)
    assert active.tolist() == [False, True, True, False], "samples 1 and 2 are clipped"
    assert np.all(np.abs(a - b)[active] > (bound_a + bound_b)[active])
    s.widen(rec, a, b)
    rec["per_sample"] = {"torch": a.tolist(), "keras": b.tolist()}


def test_keras_softmax_output_is_not_clipped(request):
    """Part of the crossentropy row: on the TensorFlow backend the tensor
    ``keras.activations.softmax`` returns carries its logits, and
    ``categorical_crossentropy`` uses them, so Keras then agrees with torch."""
    row = ROW["crossentropy_clipping"]
    rec = s.start_record(request, row, variant="probs = keras.activations.softmax(logits)")
    torch = s.need("torch")
    s.need("keras")
    if probes.keras_backend() != "tensorflow":
        pytest.skip(f"_keras_logits is TensorFlow-backend only; backend {probes.keras_backend()}")
    s.note_versions(rec, ["torch", "keras"])
    a = s.run(torch, "cross_entropy", _CE_INPUTS, row.a.params)
    b = probes.keras_categorical_crossentropy(np.eye(4)[_LABELS], logits=_LOGITS)
    # Reference side A (logits, no clip) reproduces this Keras path.
    bound = s.side(
        rec,
        "keras on its softmax tensor, reference A",
        b,
        "cross_entropy",
        _CE_INPUTS,
        row.a.params,
        "float64",
    )
    s.assert_within(b, a, 2 * bound, "keras on its softmax tensor = torch")
    s.widen(rec, a, b)


_OWNER = {
    "torch.nn.Dropout(p)": "torch",
    "keras.layers.Dropout(rate)": "keras",
    "tf.nn.dropout(rate)": "tensorflow",
    "tf.compat.v1.nn.dropout(keep_prob)": "tensorflow",
    "jax.example_libraries.stax.Dropout(rate)": "jax",
}


def test_dropout_rate_meaning(request):
    row = ROW["dropout_rate_meaning"]
    q = row.a.params["p"]
    assert row.b.params["p"] == pytest.approx(1 - q)
    rec = s.start_record(request, row, fixture=f"x = 1 + U(0, 1), 4000 float32, number {q}")
    s.available(set(_OWNER.values()))
    s.note_versions(rec, sorted(set(_OWNER.values())))
    x = (1.0 + np.random.default_rng(seed_for(row.id)).uniform(size=4000)).astype(np.float32)
    kept, rec["skipped"] = {"drop": {}, "keep": {}}, {}
    for api, meaning in probes.DROPOUT_APIS.items():
        missing = adapters.missing_reason(_OWNER[api])
        if missing is not None:
            rec["skipped"][api] = missing
            continue
        out = probes.dropout_own_mask(api, x, q, seed=seed_for(api) % 2**31)
        mask = out != 0  # x > 0, so a zero output is a dropped unit
        p = (row.a if meaning == "drop" else row.b).params["p"]
        s.side(rec, api, out, "dropout", {"x": x}, {"p": p, "mask": mask}, "float32")
        sigma = math.sqrt((1 - p) * p / x.size)
        assert abs(mask.mean() - (1 - p)) < 5 * sigma, f"{api} keeps {mask.mean():.3f}"
        kept[meaning][api] = float(np.median(out[mask] / x[mask]))
    rec["kept_unit_scale"] = kept
    if not (kept["drop"] and kept["keep"]):
        pytest.skip("needs one API of each meaning to compare them")
    for value in kept["drop"].values():
        assert value == pytest.approx(1 / (1 - q), rel=1e-6)
    for value in kept["keep"].values():
        assert value == pytest.approx(1 / q, rel=1e-6)
    drop, keep = next(iter(kept["drop"].values())), next(iter(kept["keep"].values()))
    assert drop / keep == pytest.approx(q / (1 - q), rel=1e-6)
    rec["max_abs_diff_between_sides"] = abs(drop - keep)


def test_adam_eps(request):
    """Asserted by the linked tests in tests/networks/test_optimizers.py (called here, not
    repeated); this records the row and the frameworks' measured K-step difference."""
    row = ROW["adam_eps"]
    rec = s.start_record(request, row, tested_by=row.tested_by)
    s.need("torch")
    s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    from tests.networks import test_optimizers as linked

    linked.test_torch_vs_keras_adam_first_step_difference_is_the_documented_one()
    linked.test_torch_vs_keras_adam_k_step_difference_is_the_documented_one()
    rec["reference_matches"] = "torch and keras conventions: linked tests (rtol 1e-13 per step)"
    params, grads = linked._problem()
    t_run = linked._torch_run(lambda torch, ps: torch.optim.Adam(ps, lr=linked.LR), params, grads)
    k_run = linked._keras_run(
        lambda keras: keras.optimizers.Adam(learning_rate=linked.LR), params, grads
    )
    for k in params:
        s.widen(rec, t_run[-1][k], k_run[-1][k])
    rec["steps"] = linked.STEPS
