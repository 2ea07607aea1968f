"""Conventions rows of the decoder layers (issue 16), one test per row of
tests/conventions/table.py's ``DECODER_ROWS``: both sides run through their real APIs,
the reference reproduces each side with its own parameters, and the exact relation
between the sides is asserted."""

from __future__ import annotations

import numpy as np
import pytest

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
