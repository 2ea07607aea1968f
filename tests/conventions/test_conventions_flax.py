"""Conventions table rows about Flax's defaults (tests/conventions/table.py, FLAX_ROWS):
conv padding, batch norm's mode flag, running statistics and eps, and average pooling's
count_include_pad.  Each runs both sides' real APIs with their own defaults (Flax's
through tests/conventions/probes_flax.py), checks the reference reproduces each side,
and asserts the row's relation (see test_conventions.py for the method)."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from reference import batchnorm2d
from tests.conventions import probes, probes_flax
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.conventions.test_conventions_training import _bn_fixture, _running_bounds
from tests.harness import seed_for

pytestmark = pytest.mark.conventions


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng(seed_for(label))


def test_flax_conv_default_padding(request):
    row = ROW["flax_conv_default_padding"]
    rec = s.start_record(request, row, fixture="x (2,3,6,7), w (4,3,3,3), float32")
    torch = s.need("torch")
    s.need("flax")
    s.note_versions(rec, ["torch", "flax"])
    rng = _rng(row.id)
    inputs = {
        "x": rng.standard_normal((2, 3, 6, 7)).astype(np.float32),
        "w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "b": rng.standard_normal(4).astype(np.float32),
    }
    a = s.run(torch, "conv2d", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "conv2d", inputs, row.a.params, "float32")
    flax = probes_flax.conv_default(**inputs)
    assert flax["padding"] == "SAME", "Flax's default padding"
    b = flax["y"]
    bound_b = s.side(rec, "flax", b, "conv2d", inputs, row.b.params, "float32")
    assert a.shape == (2, 4, 4, 5)
    assert b.shape == (2, 4, 6, 7)
    crop = (..., slice(1, -1), slice(1, -1))
    s.assert_within(a, b[crop], bound_a + bound_b[crop], "torch = flax cropped by 1")
    rec["shapes"] = {"torch": list(a.shape), "flax": list(b.shape)}
    s.widen(rec, a, b[crop])


def test_flax_batchnorm_use_running_average(request):
    row = ROW["flax_batchnorm_use_running_average"]
    rec = s.start_record(request, row, fixture="x (4,2,3,3) float32, both modes")
    s.need("torch")
    s.need("flax")
    s.note_versions(rec, ["torch", "flax"])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id).items()}
    outs = {}
    for use_running_average in (False, True):
        training = not use_running_average
        attrs = {"training": training, "eps": 1e-5}
        torch = probes.batchnorm2d("torch", **t, training=training)
        flax = probes_flax.batchnorm(**t, use_running_average=use_running_average)
        assert torch["eps"] == flax["eps"] == 1e-5
        label = f"flax use_running_average={use_running_average}"
        bound_t = s.side(
            rec, f"torch training={training}", torch["y"], "batchnorm2d", t, attrs, "float32"
        )
        bound_f = s.side(rec, label, flax["y"], "batchnorm2d", t, attrs, "float32")
        s.assert_within(flax["y"], torch["y"], bound_t + bound_f, f"{label} = torch {training}")
        s.widen(rec, flax["y"], torch["y"])
        outs[use_running_average] = (flax["y"], bound_f)
    (train, bound_train), (run_avg, bound_avg) = outs[False], outs[True]
    assert np.abs(train - run_avg).max() > 10 * np.max(bound_train + bound_avg), "modes differ"
    said = probes_flax.batchnorm_without_flag(**t)
    assert "use_running_average" in said
    rec["without_the_flag"] = said


def test_flax_batchnorm_running_stats(request):
    row = ROW["flax_batchnorm_running_stats"]
    rec = s.start_record(request, row, fixture="x (4,2,3,3) float32, n = N*H*W = 36")
    s.need("torch")
    s.need("flax")
    s.note_versions(rec, ["torch", "flax"])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id).items()}
    bounds = _running_bounds(t, "float32")
    got = {
        "torch": probes.batchnorm2d("torch", **t, training=True),
        "flax": probes_flax.batchnorm(**t, use_running_average=False),
    }
    for name, side, unbiased in (("torch", row.a, True), ("flax", row.b, False)):
        assert got[name]["momentum"] == pytest.approx(side.params["momentum"]), name
        want = batchnorm2d.update_running_stats(
            *(t[k].astype(np.float64) for k in ("x", "running_mean", "running_var")),
            **side.params,
            unbiased=unbiased,
        )
        keys = ("running_mean", "running_var")
        ratios = [
            s.assert_within(got[name][k], w, b, f"{name} {k}")
            for k, w, b in zip(keys, want, bounds, strict=True)
        ]
        s.matches(rec, name, max(ratios))
    s.widen(rec, got["torch"]["running_var"], got["flax"]["running_var"])
    m = row.a.params["momentum"]
    matched = probes_flax.batchnorm(**t, use_running_average=False, momentum=1 - m)
    s.assert_within(
        got["torch"]["running_mean"], matched["running_mean"], 2 * bounds[0], "means agree"
    )
    n = t["x"].shape[0] * t["x"].shape[2] * t["x"].shape[3]
    batch_t = got["torch"]["running_var"] - (1 - m) * t["running_var"]
    batch_f = matched["running_var"] - (1 - m) * t["running_var"]
    s.assert_within(batch_t, n / (n - 1) * batch_f, 3 * bounds[1], "variance ratio n/(n-1)")
    rec["measured_torch_over_flax_batch_variance"] = (batch_t / batch_f).tolist()
    rec["expected_ratio"] = n / (n - 1)


def test_flax_batchnorm_eps_default(request):
    row = ROW["flax_batchnorm_eps_default"]
    rec = s.start_record(request, row, fixture="eval mode, running_var ~ 1e-3, float32")
    s.need("flax")
    s.need("keras")
    s.note_versions(rec, ["flax", "keras", "torch"])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id, var_scale=1e-3).items()}
    got = {
        "flax": probes_flax.batchnorm(**t, use_running_average=True),
        "keras": probes.batchnorm2d("keras", **t, training=False),
    }
    outs, bounds = {}, {}
    for name, side in (("flax", row.a), ("keras", row.b)):
        assert got[name]["eps"] == pytest.approx(side.params["eps"], rel=1e-6), name
        attrs = {"training": False, "eps": side.params["eps"]}
        bounds[name] = s.side(rec, name, got[name]["y"], "batchnorm2d", t, attrs, "float32")
        outs[name] = got[name]["y"]
    var = t["running_var"].astype(np.float64)[None, :, None, None]
    beta = t["beta"].astype(np.float64)[None, :, None, None]
    std_f, std_k = np.sqrt(var + row.a.params["eps"]), np.sqrt(var + row.b.params["eps"])
    s.assert_within(
        (outs["flax"] - beta) * std_f,
        (outs["keras"] - beta) * std_k,
        bounds["flax"] * std_f + bounds["keras"] * std_k,
        "eps rescaling",
    )
    s.widen(rec, outs["flax"], outs["keras"])
    if adapters.missing_reason("torch") is None:
        torch = probes.batchnorm2d("torch", **t, training=False)
        assert torch["eps"] == got["flax"]["eps"], "Flax's default eps is torch's"
        s.assert_within(outs["flax"], torch["y"], 2 * bounds["flax"], "flax = torch")
    rec["std_keras_over_std_flax"] = (std_k / std_f).ravel().tolist()


def test_flax_avgpool_count_include_pad(request):
    row = ROW["flax_avgpool_count_include_pad"]
    rec = s.start_record(request, row, fixture="x (1,2,5,5) float32")
    s.need("flax")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["flax", *others])
    inputs = {"x": _rng(row.id).standard_normal((1, 2, 5, 5)).astype(np.float32)}
    a = probes_flax.avg_pool(inputs["x"], (3, 3), (1, 1), "SAME")  # Flax's default count
    bound_a = s.side(rec, "flax", a, "avgpool2d", inputs, row.a.params, "float32")
    # Flax's own knob reproduces side B (in float64 under x64: known divergence
    # flax-avg-pool-exclude-pad-float32-to-float64; the values are compared).
    a_b = probes_flax.avg_pool(inputs["x"], (3, 3), (1, 1), "SAME", count_include_pad=False)
    bound_a_b = s.check_reference(
        a_b.astype(np.float32), "avgpool2d", inputs, row.b.params, "float32", label=row.id
    )[1]
    k = row.a.params["kernel_size"]
    starts = np.arange(5) - 1  # SAME at stride 1, k 3: one cell of padding each side
    real = np.minimum(starts + k, 5) - np.maximum(starts, 0)
    n_real = np.outer(real, real)
    border = n_real < k * k
    for name, adapter in others.items():
        b = s.run(adapter, "avgpool2d", inputs, row.b.params)
        bound_b = s.side(rec, name, b, "avgpool2d", inputs, row.b.params, "float32")
        s.assert_within(a_b, b, bound_a_b + bound_b, f"flax count_include_pad=False = {name}")
        s.assert_within(
            a * k * k, b * n_real, k * k * bound_a + n_real * bound_b, f"flax * 9 = {name} * n"
        )
        both = bound_a + bound_b
        assert np.all(np.abs(a - b)[..., border] > both[..., border]), "border windows differ"
        s.assert_within(a[..., ~border], b[..., ~border], both[..., ~border], "interior agrees")
        s.widen(rec, a, b)
