"""The conventions rows of the activations (issue 17): GELU's default approximation,
LeakyReLU's default slope and its derivative at 0, the hard-sigmoid definition.

As in test_conventions.py: both sides' real APIs run on one seeded fixture (float32), the
reference with each side's parameters reproduces that side under the layer's declared
tolerance, and the two sides differ exactly as the row states.  The defaults are read by
calling each API without the argument (``activation_probes.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from reference import gelu, hardsigmoid, leaky_relu
from tests.conventions import activation_probes as probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for

pytestmark = pytest.mark.conventions


def _x(label: str, size: int = 48) -> np.ndarray:
    x = np.random.default_rng(seed_for(label)).uniform(-6.0, 6.0, size)
    return x.astype(np.float32)


def _bound(layer, x, attrs, direction="forward", grad_out=None):
    """The declared bound for one float32 comparison against the float64 reference."""
    from tests import layers

    g = None if grad_out is None else np.asarray(grad_out, np.float64)
    policy = layers.get(layer).tolerance(
        direction, {"x": x.astype(np.float64)}, attrs, "float32", g
    )
    key = "y" if direction == "forward" else "x"
    return np.broadcast_to(policy.bounds[key], x.shape)


def _apis(rec, names, x):
    """Run each named default API that is installed on ``x``; the others are noted."""
    out = {}
    for api in names:
        missing = probes.missing(api)
        if missing is not None:
            rec.setdefault("skipped", {})[api] = missing
            continue
        out[api] = probes.call(api, x)
    if not out:
        pytest.skip(f"none of {names} is installed: {rec.get('skipped')}")
    return out


_FIXTURE = {
    "gelu_default_approximation": np.concatenate(
        [_x("gelu_default"), np.float32([-2.6989, 2.6989, -1.3645, 1.3645])]
    ),
    "leaky_relu_default_slope": _x("leaky_default"),
}


def test_gelu_default_approximation(request):
    row = ROW["gelu_default_approximation"]
    x = _FIXTURE[row.id]
    rec = s.start_record(request, row, fixture=f"x ({x.size},) float32 incl. |x| = 2.70, 1.36")
    a = _apis(rec, probes.GELU_ERF, x)
    b = _apis(rec, probes.GELU_TANH, x)
    s.note_versions(rec, ["torch", "tensorflow", "keras", "jax"])
    for side, attrs in ((a, row.a.params), (b, row.b.params)):
        for api, got in side.items():
            s.side(rec, api, got, "gelu", {"x": x}, attrs, "float32")
    x64 = x.astype(np.float64)
    d = gelu.forward(x64, approximate="tanh") - gelu.forward(x64, approximate="none")
    both = _bound("gelu", x, row.a.params) + _bound("gelu", x, row.b.params)
    for got_a in a.values():
        for got_b in b.values():
            s.assert_within(got_b.astype(np.float64) - got_a, d, both, "B - A = d(x)")
            s.widen(rec, got_a, got_b)
    # The size the row states: max |d| = 4.73e-4 at |x| = 2.70, d = -2.34e-4 at 1.36.
    assert abs(float(np.max(d)) - 4.7324e-4) < 1e-7
    assert abs(float(np.min(d)) + 2.3367e-4) < 1e-7
    # d is even: gelu(-x) = gelu(x) - x in both forms.
    np.testing.assert_allclose(
        gelu.forward(-x64, approximate="tanh") - gelu.forward(-x64), d, atol=1e-15
    )


def test_leaky_relu_default_slope(request):
    row = ROW["leaky_relu_default_slope"]
    x = _FIXTURE[row.id]
    rec = s.start_record(request, row, fixture=f"x ({x.size},) float32 in [-6, 6)")
    a = _apis(rec, probes.LEAKY_001, x)
    slopes_b = row.b.params["negative_slope"]
    b = _apis(rec, tuple(slopes_b), x)
    s.note_versions(rec, ["torch", "jax", "keras", "tensorflow"])
    for api, got in a.items():
        s.side(rec, api, got, "leaky_relu", {"x": x}, row.a.params, "float32")
    negative = x < 0
    base = next(iter(a.values()))
    for api, got in b.items():
        attrs = {"negative_slope": slopes_b[api]}
        s.side(rec, api, got, "leaky_relu", {"x": x}, attrs, "float32")
        np.testing.assert_array_equal(got[~negative], base[~negative], err_msg=api)
        ratio = slopes_b[api] / 0.01
        bound = ratio * _bound("leaky_relu", x, row.a.params) + _bound("leaky_relu", x, attrs)
        s.assert_within(got[negative], ratio * base[negative], bound[negative], f"{api} / A")
        s.widen(rec, base, got)
    rec["slopes"] = {**dict.fromkeys(a, 0.01), **{k: slopes_b[k] for k in b}}


def test_hardsigmoid_definition(request):
    row = ROW["hardsigmoid_definition"]
    x = np.float32([-4.0, -3.0, -2.75, -2.5, -1.0, 0.0, 1.0, 2.5, 2.75, 3.0, 4.0])
    x = np.concatenate([x, _x("hardsigmoid_definition", 24)])
    rec = s.start_record(request, row, fixture=f"x ({x.size},) float32 incl. +-2.5, +-3")
    a = {}
    for name in ("torch", "jax", "keras"):
        if adapters.missing_reason(name) is not None:
            continue
        adapter = adapters.load(name)
        if name == "keras" and probes.keras_major() == 2:
            continue  # Keras 2's Activation('hard_sigmoid') is side B (probes)
        a[name] = s.run(adapter, "hardsigmoid", {"x": x}, {})
        s.side(rec, name, a[name], "hardsigmoid", {"x": x}, row.a.params, "float32")
    b = _apis(rec, probes.HARD_SIGMOID_KERAS2, x)
    s.note_versions(rec, ["torch", "jax", "keras"])
    for api, got in b.items():
        s.side(rec, api, got, "hardsigmoid", {"x": x}, row.b.params, "float32")
    if not a:
        pytest.skip("no side A framework installed")
    x64 = x.astype(np.float64)
    want = hardsigmoid.forward(x64, **row.b.params) - hardsigmoid.forward(x64, **row.a.params)
    inner = np.abs(x64) <= 2.5
    np.testing.assert_allclose(want[inner], x64[inner] / 30, atol=1e-15)
    np.testing.assert_array_equal(want[np.abs(x64) >= 3], 0.0)
    assert abs(float(np.max(np.abs(want))) - 1 / 12) < 1e-15
    both = _bound("hardsigmoid", x, row.a.params) + _bound("hardsigmoid", x, row.b.params)
    for got_a in a.values():
        for got_b in b.values():
            s.assert_within(got_b.astype(np.float64) - got_a, want, both, "B - A")
            s.widen(rec, got_a, got_b)
    # Which definition this Keras' Activation('hard_sigmoid') computes, by major version.
    if adapters.missing_reason("keras") is None:
        slope = probes.keras_hard_sigmoid_slope()
        rec["keras_activation_hard_sigmoid_slope"] = slope
        assert abs(slope - (0.2 if probes.keras_major() == 2 else 1 / 6)) < 1e-12, slope


def test_leaky_relu_grad_at_zero(request):
    row = ROW["leaky_relu_grad_at_zero"]
    rec = s.start_record(request, row, fixture="12 float32 values, 5 of them 0 or -0")
    rng = np.random.default_rng(seed_for(row.id))
    x = rng.standard_normal(12).astype(np.float32)
    x[::3], x[1] = 0.0, -0.0
    g = rng.standard_normal(12).astype(np.float32)
    zero, attrs = x == 0, row.a.params
    slope = attrs["negative_slope"]
    want_a = leaky_relu.backward(g, x, **attrs)["x"]
    names = [n for n in row.a.frameworks if adapters.missing_reason(n) is None]
    if "keras" in names and probes.keras_backend() == "jax":
        names.remove("keras")  # on the jax backend Keras is side B (its adapter refuses)
        rec["keras_on_jax"] = "side B: keras.layers.LeakyReLU is jax.nn.leaky_relu there"
    s.note_versions(rec, [*names, "jax"])
    for name in names:
        got = s.run_backward(adapters.load(name), "leaky_relu", g, {"x": x}, attrs)["x"]
        kw = {"direction": "backward", "grad_out": g, "key": "x"}
        s.side(rec, name, got, "leaky_relu", {"x": x}, attrs, "float32", **kw)
        np.testing.assert_array_equal(got[zero], np.float32(slope) * g[zero], err_msg=name)
    jax = s.need("jax")
    got_b = s.run_backward(jax, "leaky_relu", g, {"x": x}, attrs)["x"]
    # Off zero B is A; at zero B - A = (1 - slope) g, i.e. B = g there (the x >= 0 branch).
    bound = _bound("leaky_relu", x, attrs, "backward", g)
    s.assert_within(got_b[~zero], want_a[~zero], bound[~zero], "jax off zero")
    np.testing.assert_array_equal(got_b[zero], g[zero])
    s.matches(rec, "jax.nn.leaky_relu (g at 0)", 0.0)
    s.widen(rec, want_a, got_b)
