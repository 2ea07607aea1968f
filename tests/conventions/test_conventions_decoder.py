"""Conventions rows of the decoder layers (issue 16), one test per row of
tests/conventions/table.py's ``DECODER_ROWS``: both sides run through their real APIs,
the reference reproduces each side with its own parameters, and the exact relation
between the sides is asserted."""

from __future__ import annotations

import numpy as np
import pytest

from adapters import _keras_decoder_rules as decoder_rules
from adapters.base import Unsupported
from tests.conventions import decoder_probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for

pytestmark = pytest.mark.conventions


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng(seed_for(label))


def _transpose_inputs(label: str, n: int, k: int) -> dict:
    rng = _rng(label)
    return {
        "x": rng.standard_normal((1, 2, n, n)).astype(np.float32),
        "w": rng.standard_normal((2, 3, k, k)).astype(np.float32),
        "b": rng.standard_normal(3).astype(np.float32),
    }


@pytest.mark.parametrize("k", [4, 3], ids=["even_crop", "odd_crop"])
def test_conv_transpose_same_vs_torch(request, k):
    row = ROW["conv_transpose_same_vs_torch"]
    rec = s.start_record(request, row, fixture=f"x (1,2,5,5), w (2,3,{k},{k}), stride 2, float32")
    torch = s.need("torch")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["torch", *others])
    inputs = _transpose_inputs(f"{row.id}_{k}", 5, k)
    stride = row.a.params["stride"]
    crop = max(k - stride, 0)
    torch_params = row.a.params["by_crop"]["even" if crop % 2 == 0 else "odd"]
    params_a = {"stride": stride, **torch_params}
    a = s.run(torch, "conv_transpose2d", inputs, params_a)
    bound_a = s.side(rec, "torch", a, "conv_transpose2d", inputs, params_a, "float32")
    assert a.shape[2:] == (5 * stride, 5 * stride), "torch's (p, output_padding) gives n*s too"
    for name, adapter in others.items():
        b = s.run(adapter, "conv_transpose2d", inputs, row.b.params)
        bound_b = s.side(rec, name, b, "conv_transpose2d", inputs, row.b.params, "float32")
        if crop % 2 == 0:
            s.assert_within(a, b, bound_a + bound_b, f"torch = {name} 'same' (even crop)")
        else:
            s.assert_within(
                a[..., :-1, :-1],
                b[..., 1:, 1:],
                bound_a[..., :-1, :-1] + bound_b[..., 1:, 1:],
                f"torch[o] = {name}[o + 1] (odd crop)",
            )
            assert s.max_abs(a, b) > 10 * float(np.max(bound_a + bound_b)), "the shift shows"
        s.widen(rec, a, b)
    rec["same_crop_top_bottom"] = [crop // 2, crop - crop // 2]
    rec["torch_padding_output_padding"] = [torch_params["padding"], torch_params["output_padding"]]


@pytest.mark.parametrize(
    ("k", "stride"), [(2, 3), (3, 2)], ids=["stride_above_k", "k_above_stride"]
)
def test_conv_transpose_valid_vs_torch(request, k, stride):
    row = ROW["conv_transpose_valid_vs_torch"]
    rec = s.start_record(
        request, row, fixture=f"x (1,2,4,4), w (2,3,{k},{k}), stride {stride}, float32"
    )
    torch = s.need("torch")
    s.need("keras")
    s.note_versions(rec, ["torch", "keras"])
    inputs = _transpose_inputs(f"{row.id}_{k}_{stride}", 4, k)
    params_a = {"stride": stride, **row.a.params}
    a = s.run(torch, "conv_transpose2d", inputs, params_a)
    bound_a = s.side(rec, "torch", a, "conv_transpose2d", inputs, params_a, "float32")
    b = decoder_probes.keras_conv_transpose(**inputs, strides=stride, padding="valid")
    extra = max(stride - k, 0)
    params_b = {"stride": stride, "padding": "valid", "output_padding": extra}
    bound_b = s.side(rec, "keras", b, "conv_transpose2d", inputs, params_b, "float32")
    n_a = a.shape[2]
    assert b.shape[2:] == (n_a + extra, n_a + extra), "Keras adds max(s - k, 0) cells"
    s.assert_within(a, b[..., :n_a, :n_a], bound_a + bound_b[..., :n_a, :n_a], "torch = keras[:n]")
    # The added cells are the bias alone.
    bias = inputs["b"][None, :, None, None]
    tail = np.concatenate([b[..., n_a:, :].reshape(1, 3, -1), b[..., n_a:].reshape(1, 3, -1)], 2)
    np.testing.assert_array_equal(tail, np.broadcast_to(bias[..., 0], tail.shape))
    s.widen(rec, a, b[..., :n_a, :n_a])
    rec["keras_extra_cells"] = extra


def _with_adaptive_layer(rec: dict, keras_sides: dict, kind: str) -> list[str]:
    """The Keras sides whose release has the adaptive pooling layer; a release without it
    (tf.keras 2.15, keras 3.3.3 and 3.6.0 have only the global pooling layers) is
    recorded as absent with the adapter's reason, so only torch's side is asserted there.
    A release that has the layer and refuses the call still fails the test."""
    layer = {"avg": "AdaptiveAveragePooling2D", "max": "AdaptiveMaxPooling2D"}[kind]
    present = []
    for name, adapter in keras_sides.items():
        reason = decoder_rules.no_adaptive_layer(adapter, layer)
        if reason is None:
            present.append(name)
        else:
            rec.setdefault("absent_sides", {})[name] = reason
    return present


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("size", [10, 8], ids=["not_dividing", "dividing"])
def test_adaptive_pool_vs_fixed_window(request, kind, size):
    row = ROW["adaptive_pool_vs_fixed_window"]
    out = row.a.params["output_size"]
    rec = s.start_record(request, row, fixture=f"x (2,2,{size},{size}) float32, out {out}")
    torch = s.need("torch")
    names = ["torch", *_with_adaptive_layer(rec, s.available(["keras"]), kind)]
    s.note_versions(rec, names)
    # Distinct multiples of 1/4: no ties, exact in float32.
    cells = _rng(f"{row.id}_{kind}_{size}").permutation(4 * size * size)
    inputs = {"x": (cells.reshape(2, 2, size, size) * 0.25).astype(np.float32)}
    adaptive, fixed = f"adaptive_{kind}pool2d", f"{kind}pool2d"
    stride = size // out
    params_b = {"kernel_size": size - (out - 1) * stride, "stride": stride}
    results = {}
    for name in names:
        a = s.run(s.need(name), adaptive, inputs, row.a.params)
        bound = s.side(rec, f"{name} adaptive", a, adaptive, inputs, row.a.params, "float32")
        results[name] = a, bound
    b = s.run(torch, fixed, inputs, params_b)
    bound_b = s.side(rec, "torch fixed window", b, fixed, inputs, params_b, "float32")
    # The windows, per axis: torch's adaptive ones against i*s + [0, k).
    starts_a = [(i * size) // out for i in range(out)]
    ends_a = [-((-(i + 1) * size) // out) for i in range(out)]
    starts_b = [i * stride for i in range(out)]
    ends_b = [start + params_b["kernel_size"] for start in starts_b]
    same = np.array([sa == sb and ea == eb for sa, ea, sb, eb in
                     zip(starts_a, ends_a, starts_b, ends_b, strict=True)])  # fmt: skip
    both = np.outer(same, same)
    for name, (a, bound_a) in results.items():
        s.assert_within(a[..., both], b[..., both], (bound_a + bound_b)[..., both], "same windows")
        differ = np.abs(a - b)[..., ~both] > (bound_a + bound_b)[..., ~both]
        if kind == "avg":
            assert differ.all(), f"{name}: every output of a differing window differs"
        else:
            assert differ.any() or both.all(), f"{name}: the windows' maxima must show"
        s.widen(rec, a, b)
    assert both.all() == (size % out == 0), "the windows agree exactly when out divides in"
    rec["adaptive_windows"] = list(zip(starts_a, ends_a, strict=True))
    rec["fixed_windows"] = list(zip(starts_b, ends_b, strict=True))


def test_pad_mode_names(request):
    row = ROW["pad_mode_names"]
    rec = s.start_record(request, row, fixture="x (1,2,4,5) float32, pads ((2, 3), (3, 1))")
    layers = s.available(["torch", "tensorflow", "jax"])
    s.note_versions(rec, layers)
    x = _rng(row.id).standard_normal((1, 2, 4, 5)).astype(np.float32)
    pads = ((2, 3), (3, 1))
    got, refused = {}, {}
    modes = row.a.params["modes"] + row.b.params["modes"]
    for name, adapter in layers.items():
        for mode in modes:
            try:
                y = s.run(adapter, "pad2d", {"x": x}, {"padding": pads, "mode": mode})
            except Unsupported as exc:
                refused[f"{name} {mode}"] = str(exc)
                continue
            s.side(rec, f"{name} {mode}", y, "pad2d", {"x": x}, {"padding": pads, "mode": mode},
                   "float32")  # fmt: skip
            got[(name, mode)] = y
    assert "torch symmetric" in refused or "torch" not in layers, "torch has no 'symmetric'"
    # Each name's results agree bit for bit across frameworks.
    for mode in modes:
        ys = [y for (_, m), y in got.items() if m == mode]
        if not ys and not {"tensorflow", "jax"} & set(layers):
            pytest.skip(
                f"only {', '.join(layers)} installed, which has no {mode!r} "
                f"({'; '.join(refused.values())[:200]}); tensorflow or jax runs it"
            )
        assert ys, f"no framework ran {mode}"
        for y in ys[1:]:
            np.testing.assert_array_equal(y, ys[0], err_msg=mode)
    # reflect vs symmetric: the symmetric band is the reflect band one cell closer to the
    # edge (padded cell k copies x[k - 1], not x[k]): sym[:top] = ref[1:top + 1], and so
    # on at each edge, over the other axis' interior; the interior itself is equal.
    ref = next(y for (_, m), y in got.items() if m == "reflect")
    sym = next(y for (_, m), y in got.items() if m == "symmetric")
    (top, bottom), (left, right) = pads
    rows, cols = slice(top, -bottom), slice(left, -right)
    np.testing.assert_array_equal(sym[:, :, :top, cols], ref[:, :, 1 : top + 1, cols])
    np.testing.assert_array_equal(sym[:, :, -bottom:, cols], ref[:, :, -bottom - 1 : -1, cols])
    np.testing.assert_array_equal(sym[:, :, rows, :left], ref[:, :, rows, 1 : left + 1])
    np.testing.assert_array_equal(sym[:, :, rows, -right:], ref[:, :, rows, -right - 1 : -1])
    np.testing.assert_array_equal(sym[:, :, rows, cols], ref[:, :, rows, cols])
    assert s.max_abs(sym, ref) > 0, "the bands differ"
    s.widen(rec, ref, sym)
    rec["refused"] = refused
