"""One test per row of the conventions table (tests/conventions/table.py): windows,
activations and layouts here; batch norm, losses, dropout and Adam in
test_conventions_training.py; the ONNX export path in test_conventions_onnx.py.

Every test runs both sides' real framework APIs on the same seeded fixture and asserts
(1) the reference with side A's parameters reproduces A and with side B's reproduces B,
under the tolerance policy, and (2) the two sides differ exactly by the row's documented
formula, with both sides computed.  A missing framework skips only what needs it.
Run with ``pytest -m conventions``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import adapters
from adapters.layout import dense_rows_chw_to_hwc, nchw_to_nhwc
from reference import maxpool2d, relu
from tests.conventions import (
    probes,
    test_conventions_activations,
    test_conventions_decoder,
    test_conventions_flax,
    test_conventions_nan,
    test_conventions_norms_losses,
    test_conventions_onnx,
    test_conventions_resize,
    test_conventions_training,
)
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for

pytestmark = pytest.mark.conventions


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng(seed_for(label))


@pytest.mark.parametrize("size", [6, 7], ids=["odd_total_pad", "even_total_pad"])
def test_same_padding_stride2(request, size):
    row = ROW["same_padding_stride2"]
    rec = s.start_record(request, row, fixture=f"x (1,2,{size},{size}), w (3,2,3,3), float32")
    torch = s.need("torch")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["torch", *others])
    rng = _rng(f"same_padding_{size}")
    inputs = {
        "x": rng.standard_normal((1, 2, size, size)).astype(np.float32),
        "w": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
        "b": rng.standard_normal(3).astype(np.float32),
    }
    a = s.run(torch, "conv2d", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "conv2d", inputs, row.a.params, "float32")
    # The common base F: torch at stride 1, padding 1 (F[r] is the window from input r - 1).
    base = {"stride": 1, "padding": 1}
    full = s.run(torch, "conv2d", inputs, base)
    label = f"{row.id}: F (torch, stride 1, padding 1)"
    bound_full = s.check_reference(full, "conv2d", inputs, base, "float32", label=label)[1]
    k, stride = 3, row.b.params["stride"]
    total = max((math.ceil(size / stride) - 1) * stride + k - size, 0)
    offset = 1 - total // 2  # SAME window i starts at stride*i - total//2: F row stride*i + offset
    sub_a = (..., slice(0, None, stride), slice(0, None, stride))
    sub_b = (..., slice(offset, None, stride), slice(offset, None, stride))
    s.assert_within(a, full[sub_a], bound_a + bound_full[sub_a], "torch = F[0::2, 0::2]")
    for name, adapter in others.items():
        b = s.run(adapter, "conv2d", inputs, row.b.params)
        bound_b = s.side(rec, name, b, "conv2d", inputs, row.b.params, "float32")
        s.assert_within(b, full[sub_b], bound_b + bound_full[sub_b], f"{name} = F[offset::2]")
        diff = s.widen(rec, a, b)
        if total % 2:
            assert diff > 10 * float(np.max(bound_a + bound_b)), "the shift must show"
        else:
            s.assert_within(a, b, bound_a + bound_b, f"torch vs {name}, symmetric SAME")
    rec["same_pads_before_after"] = [total // 2, total - total // 2]


def test_avgpool_count_include_pad(request):
    row = ROW["avgpool_count_include_pad"]
    rec = s.start_record(request, row, fixture="x (1,2,5,5) float32")
    torch = s.need("torch")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["torch", *others])
    inputs = {"x": _rng(row.id).standard_normal((1, 2, 5, 5)).astype(np.float32)}
    a = s.run(torch, "avgpool2d", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "avgpool2d", inputs, row.a.params, "float32")
    # torch's own knob reproduces side B.
    a_b = s.run(torch, "avgpool2d", inputs, row.b.params)
    s.side(rec, "torch with B params", a_b, "avgpool2d", inputs, row.b.params, "float32")
    k, pad = row.a.params["kernel_size"], row.a.params["padding"]
    starts = np.arange(5) * row.a.params["stride"] - pad
    real = np.minimum(starts + k, 5) - np.maximum(starts, 0)  # real cells per window, per axis
    n_real = np.outer(real, real)
    border = n_real < k * k
    for name, adapter in others.items():
        b = s.run(adapter, "avgpool2d", inputs, row.b.params)
        bound_b = s.side(rec, name, b, "avgpool2d", inputs, row.b.params, "float32")
        both = bound_a + bound_b
        s.assert_within(
            a * k * k,
            b * n_real,
            k * k * bound_a + n_real * bound_b,
            f"torch * k*k = {name} * n_real",
        )
        assert np.all(np.abs(a - b)[..., border] > both[..., border]), "border windows differ"
        s.assert_within(a[..., ~border], b[..., ~border], both[..., ~border], "interior agrees")
        s.widen(rec, a, b)


def test_relu_grad_at_zero(request):
    row = ROW["relu_grad_at_zero"]
    rec = s.start_record(request, row, fixture="12 float32 values, 5 of them 0 or -0")
    layers = s.available(row.a.frameworks)
    s.note_versions(rec, row.a.frameworks)
    rng = _rng(row.id)
    x = rng.standard_normal(12).astype(np.float32)
    x[::3] = 0.0
    x[1] = -0.0
    g = rng.standard_normal(12).astype(np.float32)
    zero = x == 0
    grads_a = {}
    for name, adapter in layers.items():
        got = s.run_backward(adapter, "relu", g, {"x": x}, {})["x"]
        s.side(
            rec,
            name,
            got,
            "relu",
            {"x": x},
            {},
            "float32",
            direction="backward",
            grad_out=g,
            key="x",
        )
        assert np.all(got[zero] == 0), f"{name}: ReLU'(0) must be 0"
        grads_a[name] = got
    want_a, base = relu.backward(g, x)["x"], next(iter(grads_a.values()))
    owners = {"torch": "torch", "tf": "tensorflow", "jnp": "jax"}
    rec["skipped"] = {}
    for form, share in row.b.params["tie_share"].items():
        missing = adapters.missing_reason(owners[form.split(".")[0]])
        if missing is not None:
            rec["skipped"][form] = missing
            continue
        got = probes.relu_tie_gradient(form, x, g)
        # The reference plus the documented tie term; multiplying by 1/2 or 1 is exact.
        np.testing.assert_array_equal(got, want_a + np.float32(share) * g * zero, err_msg=form)
        s.matches(rec, form, 0.0)
        np.testing.assert_array_equal((got - base)[~zero], 0, err_msg=f"{form} off zero")
        s.widen(rec, got, base)
    rec["tie_share"] = row.b.params["tie_share"]


def test_maxpool_grad_ties(request):
    row = ROW["maxpool_grad_ties"]
    rec = s.start_record(request, row, fixture="x (1,2,4,4) in {0,1,2} float32, k=2, s=2")
    layers = s.available(row.a.frameworks)
    s.need("jax")
    s.note_versions(rec, row.a.frameworks)
    rng = _rng(row.id)
    x = rng.integers(0, 3, (1, 2, 4, 4)).astype(np.float32)
    g = rng.standard_normal((1, 2, 2, 2)).astype(np.float32)
    attrs = row.a.params
    for name, adapter in layers.items():
        got = s.run_backward(adapter, "maxpool2d", g, {"x": x}, attrs)["x"]
        s.side(
            rec,
            name,
            got,
            "maxpool2d",
            {"x": x},
            attrs,
            "float32",
            direction="backward",
            grad_out=g,
            key="x",
        )
    b = probes.jnp_max_pool_backward(x, g, row.b.params["kernel_size"])
    windows = x.reshape(1, 2, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)  # (n, c, i, j, ky, kx)
    tied = windows == windows.max(axis=(4, 5), keepdims=True)
    ties = tied.sum(axis=(4, 5))
    split = (g / ties.astype(np.float32))[..., None, None] * tied  # g / t to each maximum
    np.testing.assert_array_equal(b, split.transpose(0, 1, 2, 4, 3, 5).reshape(x.shape))
    s.matches(rec, "jnp.max (formula g/t)", 0.0)
    a = maxpool2d.backward(g, x, **attrs)["x"]
    has_ties = np.repeat(np.repeat(ties > 1, 2, axis=2), 2, axis=3)
    assert has_ties.any(), "the fixture needs windows with ties"
    assert not has_ties.all(), "the fixture needs windows without ties"
    np.testing.assert_array_equal(b[~has_ties], a[~has_ties])
    assert np.any(b[has_ties] != a[has_ties])
    # Both send each window's whole gradient somewhere: the window sums agree.
    per_window = lambda v: v.reshape(1, 2, 2, 2, 2, 2).sum(axis=(3, 5))  # noqa: E731
    np.testing.assert_allclose(per_window(b), per_window(a), rtol=1e-6)
    rec["windows_with_ties"] = int((ties > 1).sum())
    s.widen(rec, a, b)


def test_flatten_order(request):
    row = ROW["flatten_order"]
    rec = s.start_record(request, row, fixture="x (2,3,2,4) float32; Dense 24 -> 5")
    torch, keras = s.need("torch"), s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    rng = _rng(row.id)
    n, c, h, w = 2, 3, 2, 4
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    a = s.run(torch, "flatten", {"x": x}, row.a.params)
    s.side(rec, "torch", a, "flatten", {"x": x}, row.a.params, "float32")
    b = probes.keras_flatten_channels_last(x)
    s.side(rec, "keras", b, "flatten", {"x": nchw_to_nhwc(x)}, row.b.params, "float32")
    for ci in range(c):
        for hi in range(h):
            for wi in range(w):
                assert np.array_equal(b[:, (hi * w + wi) * c + ci], a[:, ci * h * w + hi * w + wi])
    s.widen(rec, a, b)
    # The Dense layer after it: its kernel rows move with the features.
    kernel = rng.standard_normal((c * h * w, 5)).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    ref_inputs = {"x": a, "w": kernel, "b": bias}
    y_torch = s.run(torch, "linear", ref_inputs, {})
    y_keras = s.run(
        keras, "linear", {"x": b, "w": dense_rows_chw_to_hwc(kernel, (c, h, w)), "b": bias}, {}
    )
    bound_t = s.side(rec, "torch Linear", y_torch, "linear", ref_inputs, {}, "float32")
    bound_k = s.side(rec, "keras Dense, rows moved", y_keras, "linear", ref_inputs, {}, "float32")
    unmoved = s.run(keras, "linear", {"x": b, "w": kernel, "b": bias}, {})
    assert s.max_abs(unmoved, y_torch) > 100 * float(np.max(bound_t + bound_k))
    rec["dense_without_row_permutation_max_abs_diff"] = s.max_abs(unmoved, y_torch)


@pytest.mark.parametrize("k", [2, 3], ids=["even_kernel", "odd_kernel"])
def test_scipy_same_even_kernel(request, k):
    row = ROW["scipy_same_even_kernel"]
    rec = s.start_record(request, row, fixture=f"in1 (6,7), in2 ({k},{k}) float64")
    libs = s.available(row.a.frameworks)
    s.note_versions(rec, libs)
    rng = _rng(f"{row.id}_{k}")
    inputs = {"in1": rng.standard_normal((6, 7)), "in2": rng.standard_normal((k, k))}
    shift = k // 2 - (k - 1) // 2  # correlate2d's first kept index minus correlate's
    for name, lib in libs.items():
        a = s.run(lib, "signal.correlate", inputs, row.a.params)
        bound_a = s.side(
            rec, f"{name} correlate", a, "signal.correlate", inputs, row.a.params, "float64"
        )
        b = s.run(lib, "signal.correlate2d", inputs, row.b.params)
        bound_b = s.side(
            rec, f"{name} correlate2d", b, "signal.correlate2d", inputs, row.b.params, "float64"
        )
        end = (slice(None, b.shape[0] - shift), slice(None, b.shape[1] - shift))
        s.assert_within(
            b[end],
            a[shift:, shift:],
            bound_a[shift:, shift:] + bound_b[end],
            f"{name}: correlate2d[i, j] = correlate[i + {shift}, j + {shift}]",
        )
        if shift:
            assert s.max_abs(a, b) > 10 * float(np.max(bound_a + bound_b)), "the shift shows"
        s.widen(rec, a, b)
    rec["shift"] = shift


def test_every_row_has_a_test():
    """Each row id names a ``test_<id>`` in one of the conventions modules (a row added to
    the table without its assertion fails here)."""
    names = set(globals()) | set(vars(test_conventions_training))
    names |= set(vars(test_conventions_norms_losses))
    names |= set(vars(test_conventions_activations))
    names |= set(vars(test_conventions_resize))
    names |= set(vars(test_conventions_nan))
    names |= set(vars(test_conventions_decoder))
    names |= set(vars(test_conventions_onnx))
    names |= set(vars(test_conventions_flax))
    missing = [row for row in ROW if f"test_{row}" not in names]
    assert not missing, f"rows without a test_<id>: {missing}"
