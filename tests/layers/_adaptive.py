"""What the two adaptive pooling declarations share: torch's windows read off the formula
(tests/reference/loops_decoder.py, not the reference), the independent magnitudes of
their tolerances, their cases' shapes and the benchmark shape."""

from __future__ import annotations

import numpy as np

from tests.cases import Case, distinct, generated
from tests.layers._bench import BenchShape, image
from tests.reference.loops_decoder import adaptive_window


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(a) for a in v)


def windows(x_shape, output_size):
    """``[(i, j, rows slice, cols slice)]`` of every output cell."""
    (h, w), (oh, ow) = x_shape[2:], _pair(output_size)
    rows = [slice(*adaptive_window(i, h, oh)) for i in range(oh)]
    cols = [slice(*adaptive_window(j, w, ow)) for j in range(ow)]
    return [(i, j, r, c) for i, r in enumerate(rows) for j, c in enumerate(cols)]


def window_cells(x_shape, output_size) -> int:
    """The largest window's cell count (the longest reduction)."""
    return max(
        (r.stop - r.start) * (c.stop - c.start) for *_, r, c in windows(x_shape, output_size)
    )


def overlap(x_shape, output_size) -> np.ndarray:
    """How many windows cover each input cell, (H, W)."""
    count = np.zeros(x_shape[2:], dtype=int)
    for *_, r, c in windows(x_shape, output_size):
        count[r, c] += 1
    return count


def mean_abs(x, output_size) -> np.ndarray:
    """Each window's mean of |x|: the forward's summed terms, per output cell."""
    y = np.zeros((*x.shape[:2], *_pair(output_size)))
    for i, j, r, c in windows(x.shape, output_size):
        y[:, :, i, j] = np.abs(x[:, :, r, c]).mean(axis=(2, 3))
    return y


def spread_abs(g, x_shape, output_size) -> np.ndarray:
    """|g| / window size spread over each window: the backward's summed terms."""
    dx = np.zeros(x_shape)
    for i, j, r, c in windows(x_shape, output_size):
        size = (r.stop - r.start) * (c.stop - c.start)
        dx[:, :, r, c] += np.abs(g[:, :, i : i + 1, j : j + 1]) / size
    return dx


def first_max_spread(g, x, output_size) -> np.ndarray:
    """|g| sent to each window's first maximum (row-major), accumulated."""
    dx = np.zeros(x.shape)
    n, c = np.indices(x.shape[:2])
    for i, j, r, col in windows(x.shape, output_size):
        width = col.stop - col.start
        first = x[:, :, r, col].reshape(*x.shape[:2], -1).argmax(axis=2)
        dx[n, c, r.start + first // width, col.start + first % width] += np.abs(g[:, :, i, j])
    return dx


#: The 5x5 input 0..24 pooled to 3x3: rows and columns [0, 2), [1, 4), [3, 5).
HAND_X = np.arange(25.0).reshape(1, 1, 5, 5)
HAND_PROVENANCE = (
    "hand-derived from torch's adaptive windows [floor(i*in/out), ceil((i+1)*in/out)) "
    "(aten/src/ATen/native/AdaptiveAveragePooling.cpp start_index / end_index): x[r, c] = "
    "5r + c, windows [0, 2), [1, 4), [3, 5) on both axes"
)
ONNX_X = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)


def onnx_case(case_id, layer, example, expected) -> Case:
    return Case(
        id=case_id,
        layer=layer,
        inputs={"x": ONNX_X},
        attrs={"output_size": 1},
        expected=np.asarray(expected, dtype=np.float64),
        provenance=f"ONNX operator docs, {example} example (onnx/onnx "
        f"onnx/backend/test/case/node/{example.lower()}.py, _precomputed)",
        note="Global pooling: adaptive pooling to 1x1 (Keras Global*Pooling2D).",
        tags=frozenset({"exact"}),
    )


def hand_case(case_id, layer, expected) -> Case:
    return Case(
        id=case_id,
        layer=layer,
        inputs={"x": HAND_X},
        attrs={"output_size": 3},
        expected=np.asarray(expected, dtype=np.float64),
        provenance=HAND_PROVENANCE,
        note="5 -> 3 does not divide: neighbouring windows overlap by one cell.",
        tags=frozenset({"exact"}),
    )


def generated_cases(prefix, layer, seed):
    """Divides, does not divide (keras-cv#512's overlapping windows), upsamples, global."""

    def make(shape):
        return lambda rng: {"x": distinct(rng, shape)}

    return (
        generated(f"{prefix}_divides", layer, seed, make((2, 3, 8, 6)), output_size=(4, 3)),
        generated(
            f"{prefix}_not_dividing",
            layer,
            seed + 1,
            make((2, 2, 10, 7)),
            note="10 -> 4 and 7 -> 3: windows overlap and no fixed kernel/stride has them "
            "(keras-team/keras-cv#512).",
            output_size=(4, 3),
        ),
        generated(
            f"{prefix}_upsample",
            layer,
            seed + 2,
            make((1, 2, 3, 2)),
            note="Output larger than the input: cells repeat.",
            output_size=(5, 4),
        ),
        generated(f"{prefix}_global", layer, seed + 3, make((2, 3, 5, 7)), output_size=1),
    )


ISSUE16_POOL = "issue 16: batch 32, 16 channels, 28x28 pooled to 5x5 (28 = 5*5 + 3: overlapping)"


def bench(layer) -> tuple[BenchShape, ...]:
    return (BenchShape(layer, "28to5-b32", {"x": image(32, 16)}, ISSUE16_POOL, {"output_size": 5}),)


ATTRIBUTES = {"output_size": ("1", ">1", "(h, w)")}
