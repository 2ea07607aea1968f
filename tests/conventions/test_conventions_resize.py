"""Conventions table rows about resizing (issue 16); the method is test_conventions.py's:
both sides' real APIs on one seeded fixture, each side checked against the reference
through its own parameters where the reference expresses it, and the documented relation
asserted with both sides computed.

The relations are written with this module's own per-axis weight matrices (a kernel
sampled at explicit coordinates, taps outside the input clamped or dropped), which
share no code with reference/ or the adapters.  Their float32 bound is the summation
bound of tests/tolerances.py on the taps' |x|, widened by the coordinate's size: a
framework computes the coordinate in float32, a few ulps of (|c| + 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import adapters
from reference import resize2d
from tests.conventions import resize_probes as probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for
from tests.tolerances import SAFETY, eps

pytestmark = pytest.mark.conventions

F32 = np.float32


def _x(label: str, shape) -> np.ndarray:
    return np.random.default_rng(seed_for(label)).standard_normal(shape).astype(F32)


def _tent(t):
    return np.maximum(0.0, 1.0 - np.abs(t))


def _keys(a: float):
    def kernel(t):
        t = np.abs(t)
        near = ((a + 2) * t - (a + 3)) * t * t + 1
        far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
        return np.where(t <= 1, near, np.where(t < 2, far, 0.0))

    return kernel


def _weights(n, coords, kernel, radius, *, stretch=1.0, drop=False) -> np.ndarray:
    """(m, n): ``kernel(stretch * (j - c))`` for every integer j near each coordinate c;
    outside taps clamped to the edge, or with ``drop`` left out and the rest renormalised
    (with a stretch every row is renormalised)."""
    out = np.zeros((len(coords), n))
    for i, c in enumerate(coords):
        js = np.arange(math.floor(c - radius / stretch), math.ceil(c + radius / stretch) + 1)
        w = kernel(stretch * (js - c))
        if drop:
            keep = (js >= 0) & (js < n)
            js, w = js[keep], w[keep]
        if drop or stretch < 1:
            w = w / w.sum()
        np.add.at(out[i], np.clip(js, 0, n - 1), w)
    return out


def _half_pixel(n, m):
    return (np.arange(m) + 0.5) * n / m - 0.5


def _corners(n, m):
    return np.arange(m) * (n - 1) / (m - 1) if m > 1 else np.zeros(1)


def _apply(rows, cols, x):
    return np.einsum("ih,nchw,jw->ncij", rows, x.astype(np.float64), cols)


def _bound(rows, cols, x, coords) -> np.ndarray:
    """SAFETY * eps32 * (taps + 2) * (1 + 2 (|c| + 1)) * sum over the taps of |x|."""
    taps = int((rows != 0).sum(axis=1).max() * (cols != 0).sum(axis=1).max())
    widen = 1 + 2 * (1 + max(float(np.max(np.abs(c))) for c in coords))
    reach = _apply((rows != 0).astype(float), (cols != 0).astype(float), np.abs(x))
    return SAFETY["float32"] * eps("float32") * (taps + 2) * widen * reach


def test_resize_align_corners(request):
    row = ROW["resize_align_corners"]
    rec = s.start_record(request, row, fixture="x (1,2,5,4) float32 -> (9, 1)")
    libs_a, libs_b = s.available(row.a.frameworks), s.available(row.b.frameworks)
    s.note_versions(rec, {*libs_a, *libs_b})
    x = _x(row.id, (1, 2, 5, 4))
    (n_h, n_w), (m_h, m_w) = x.shape[2:], row.a.params["size"]
    # The one tent interpolant, sampled at each side's coordinates (clamped to the input).
    at = lambda n, c: _weights(n, np.clip(c, 0, n - 1), _tent, 1)  # noqa: E731
    want_a = _apply(at(n_h, _corners(n_h, m_h)), at(n_w, _corners(n_w, m_w)), x)
    want_b = _apply(at(n_h, _half_pixel(n_h, m_h)), at(n_w, _half_pixel(n_w, m_w)), x)
    inputs = {"x": x}
    for side, libs, want in ((row.a, libs_a, want_a), (row.b, libs_b, want_b)):
        for name, adapter in libs.items():
            got = s.run(adapter, "resize2d", inputs, side.params)
            bound = s.side(rec, name, got, "resize2d", inputs, side.params, "float32")
            s.assert_within(got, want, bound, f"{name}: the tent interpolant at its coordinates")
    corners = [_corners(n_h, m_h), _corners(n_w, m_w)]
    bound = _bound(at(n_h, corners[0]), at(n_w, corners[1]), x, corners)
    assert s.widen(rec, want_a, want_b) > 10 * float(np.max(bound)), "the sides must differ"
    # torch's align_corners=False against ONNX's pytorch_half_pixel: equal on H (m = 9),
    # not on W (m = 1), where torch (half_pixel) reads the centre.
    if "torch" in libs_b:
        torch_b = s.run(libs_b["torch"], "resize2d", inputs, row.b.params)
        phh = {**row.b.params, "coordinate_transformation_mode": "pytorch_half_pixel"}
        as_onnx = resize2d.forward(x.astype(np.float64), **phh)
        rec["torch_vs_pytorch_half_pixel_at_width_1"] = s.max_abs(torch_b, as_onnx)
        assert s.max_abs(torch_b, as_onnx) > 0.01
        # Every output length > 1: torch align_corners=False is pytorch_half_pixel.
        tall = {**phh, "size": (9, 3)}
        got = s.run(libs_b["torch"], "resize2d", inputs, {**row.b.params, "size": (9, 3)})
        s.check_reference(got, "resize2d", inputs, tall, "float32", label=f"{row.id}: torch")


def test_resize_nearest_index(request):
    row = ROW["resize_nearest_index"]
    rec = s.start_record(request, row, fixture="x (1,2,5,7) float32 -> (8, 3)")
    libs_a, libs_b = s.available(row.a.frameworks), s.available(row.b.frameworks)
    s.note_versions(rec, {*libs_a, *libs_b})
    x = _x(row.id, (1, 2, 5, 7))
    (n_h, n_w), (m_h, m_w) = x.shape[2:], row.a.params["size"]
    floor_a = [np.arange(m) * n // m for n, m in ((n_h, m_h), (n_w, m_w))]
    floor_b = [
        np.minimum((2 * np.arange(m) + 1) * n // (2 * m), n - 1)
        for n, m in ((n_h, m_h), (n_w, m_w))
    ]
    want_a = x[:, :, floor_a[0]][:, :, :, floor_a[1]]
    want_b = x[:, :, floor_b[0]][:, :, :, floor_b[1]]
    inputs = {"x": x}
    for side, libs, want in ((row.a, libs_a, want_a), (row.b, libs_b, want_b)):
        for name, adapter in libs.items():
            got = s.run(adapter, "resize2d", inputs, side.params)
            s.side(rec, name, got, "resize2d", inputs, side.params, "float32")
            np.testing.assert_array_equal(got, want, err_msg=f"{name}: x at its floor indices")
    assert s.widen(rec, want_a, want_b) > 0
    rec["indices_a"] = [v.tolist() for v in floor_a]
    rec["indices_b"] = [v.tolist() for v in floor_b]


def test_resize_cubic_coefficient(request):
    row = ROW["resize_cubic_coefficient"]
    rec = s.start_record(request, row, fixture="x (1,1,6,5) float32 -> (9, 8)")
    torch = s.need("torch")
    libs = s.available(row.b.frameworks)
    s.note_versions(rec, ["torch", *libs])
    x = _x(row.id, (1, 1, 6, 5))
    (n_h, n_w), size = x.shape[2:], row.a.params["size"]
    coords = [_half_pixel(n_h, size[0]), _half_pixel(n_w, size[1])]
    inputs = {"x": x}
    a = s.run(torch, "resize2d", inputs, row.a.params)
    bound_a = s.side(rec, "torch", a, "resize2d", inputs, row.a.params, "float32")
    rows, cols = (
        _weights(n, c, _keys(-0.5), 2, drop=True) for n, c in zip((n_h, n_w), coords, strict=True)
    )
    want_b = _apply(rows, cols, x)
    bound_b = _bound(rows, cols, x, coords)
    # Outputs whose four taps are all inside: there B is the reference with a = -0.5.
    inside = [
        (np.floor(c) >= 1) & (np.floor(c) + 2 <= n - 1)
        for c, n in zip(coords, (n_h, n_w), strict=True)
    ]
    interior = np.ix_(inside[0], inside[1])
    assert inside[0].any()
    assert inside[1].any()
    assert not inside[0].all()
    ref_b = resize2d.forward(x.astype(np.float64), **row.b.params)
    ref_a = resize2d.forward(x.astype(np.float64), **row.a.params)
    for name in libs:
        if name == "tensorflow":
            b = probes.tf_image_resize(x, size, method="bicubic")
        else:
            b = probes.jax_image_resize(x, size, "cubic")
        s.assert_within(b, want_b, bound_b, f"{name}: Keys a=-0.5 on the inside taps, renormalised")
        s.assert_within(
            b[0, 0][interior], ref_b[0, 0][interior], bound_b[0, 0][interior], f"{name} interior"
        )
        s.assert_within(
            (a - b)[0, 0][interior],
            (ref_a - ref_b)[0, 0][interior],
            (bound_a + bound_b)[0, 0][interior],
            f"torch - {name} = resize(a=-0.75) - resize(a=-0.5) inside",
        )
        s.matches(rec, f"{name} (interior, a=-0.5)", 0.0)
        s.widen(rec, a, b)
    rec["edge_vs_clamped_a_half"] = s.max_abs(want_b, ref_b)
    assert rec["edge_vs_clamped_a_half"] > 10 * float(np.max(bound_b)), "the edges differ"


# ONNX's own example: onnx/backend/test/case/node/resize.py,
# export_resize_downsample_sizes_linear_antialias (4x4 of 1..16 -> 3x3).
_ONNX_4X4 = np.arange(1.0, 17.0, dtype=F32).reshape(1, 1, 4, 4)


def test_resize_antialias_edges(request):
    row = ROW["resize_antialias_edges"]
    rec = s.start_record(request, row, fixture="ONNX's 4x4 of 1..16 float32 -> 3x3")
    libs = s.available(row.b.frameworks)
    s.note_versions(rec, libs)
    x, size = _ONNX_4X4, (3, 3)
    stretch = 3 / 4
    coords = [_half_pixel(4, 3)] * 2
    dropped = _weights(4, coords[0], _tent, 1, stretch=stretch, drop=True)
    clamped = _weights(4, coords[0], _tent, 1, stretch=stretch)
    # The relation per axis: clamped = W_in * dropped + (outside weight moved to the edges).
    stretched = [_tent(stretch * (np.arange(-3, 8) - c)) for c in coords[0]]
    w_in = np.array([k[3:7].sum() / k.sum() for k in stretched])
    edges = clamped - w_in[:, None] * dropped
    np.testing.assert_allclose(edges[:, 1:3], 0, atol=1e-15)  # only the edge pixels gain
    assert np.all(edges > -1e-15)
    want_b = _apply(dropped, dropped, x)
    want_a = _apply(clamped, clamped, x)
    try:
        a = probes.onnx_resize(x, size, mode="linear", antialias=1)
    except adapters.FrameworkMissing as exc:  # the reference stands in for side A
        rec["onnx"] = f"not run: {exc}"
    else:
        ratio = s.assert_within(a, want_a, _bound(clamped, clamped, x, coords), "onnx = clamped")
        s.matches(rec, "onnx ReferenceEvaluator", ratio)
    ref = resize2d.forward(x.astype(np.float64), **row.a.params)
    s.assert_within(ref, want_a, 1e-12, "reference = clamped (ONNX's rule)")
    for name in libs:
        if name == "torch":
            b = probes.torch_interpolate(x, size=size, mode="bilinear", antialias=True)
        elif name == "tensorflow":
            b = probes.tf_image_resize(x, size, antialias=True)
        else:
            b = probes.jax_image_resize(x, size, "linear")  # antialias=True by default
        s.assert_within(b, want_b, _bound(dropped, dropped, x, coords), f"{name}: drops the taps")
        s.widen(rec, ref, b)
    gap = s.max_abs(want_a, want_b)
    rec["max_abs_diff_on_onnx_example"] = gap
    assert 0.13 < gap < 0.14, gap  # "about 0.14"


def test_resize_jax_antialias_default(request):
    row = ROW["resize_jax_antialias_default"]
    rec = s.start_record(request, row, fixture="x (1,1,8,6) float32 -> (3, 12)")
    s.need("jax")
    libs = s.available(row.a.frameworks)
    s.note_versions(rec, ["jax", *libs])
    x = _x(row.id, (1, 1, 8, 6))
    size = row.a.params["size"]
    coords = [_half_pixel(8, size[0]), _half_pixel(6, size[1])]
    inputs = {"x": x}
    for name, adapter in libs.items():
        got = s.run(adapter, "resize2d", inputs, row.a.params)
        s.side(rec, name, got, "resize2d", inputs, row.a.params, "float32")
    b = probes.jax_image_resize(x, size, "linear")
    rows = _weights(8, coords[0], _tent, 1, stretch=size[0] / 8, drop=True)
    cols = _weights(6, np.clip(coords[1], 0, 5), _tent, 1)
    s.assert_within(b, _apply(rows, cols, x), _bound(rows, cols, x, coords), "jax default")
    a = resize2d.forward(x.astype(np.float64), **row.a.params)
    assert s.widen(rec, a, b) > 0.05, "downsampled: the stretched tent averages more pixels"
    # Upsampling only (8 -> 16 on H too): antialias has no effect, jax = A.
    up = {**row.a.params, "size": (16, 12)}
    jax_up = probes.jax_image_resize(x, up["size"], "linear")
    s.side(rec, "jax default, upsampling only", jax_up, "resize2d", inputs, up, "float32")
