"""pad2d: x (N, C, H, W) padded on H and W, modes constant / reflect / replicate /
symmetric / circular.  Forward copies cells (exact); backward adds each padded cell's
gradient to its source, counted here with the loops' source formula, not the reference."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import Case, generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import BenchShape, image
from tests.reference.loops_decoder import pad_source


def _pairs(padding):
    if np.isscalar(padding):
        return (padding, padding), (padding, padding)
    if np.isscalar(padding[0]):
        return (padding[0], padding[0]), (padding[1], padding[1])
    return tuple(tuple(p) for p in padding)


def _sources(n, before, after, mode):
    """Source index of every padded position on one axis; -1 for a constant cell."""
    found = [pad_source(i - before, n, mode) for i in range(before + n + after)]
    return np.array([-1 if s is None else s for s in found])


def folded_abs(g, x_shape, attrs):
    """``(|g| added onto each source cell, how many cells each source receives)``."""
    mode = attrs.get("mode", "constant")
    (top, bottom), (left, right) = _pairs(attrs["padding"])
    rows = _sources(x_shape[2], top, bottom, mode)
    cols = _sources(x_shape[3], left, right, mode)
    keep_r, keep_c = rows >= 0, cols >= 0
    counts = np.zeros(x_shape[2:], dtype=int)
    mags = np.zeros(x_shape)
    sub = np.abs(g)[:, :, keep_r][:, :, :, keep_c]
    r_idx, c_idx = np.meshgrid(rows[keep_r], cols[keep_c], indexing="ij")
    np.add.at(counts, (r_idx, c_idx), 1)
    np.add.at(mags, (slice(None), slice(None), r_idx, c_idx), sub)
    return mags, counts


def tolerance(direction, inputs, attrs, dtype, grad_out):
    if direction == "forward":
        return tolerances.exact(["y"], "padding copies cells")
    mags, counts = folded_abs(grad_out, inputs["x"].shape, attrs)
    if counts.max() <= 1:
        return tolerances.exact(["x"], "no cell is copied twice: a copy of grad_out")
    return tolerances.reduction(
        dtype, {"x": (int(counts.max()), mags)}, "|g| added onto each copied cell"
    )


# ---------------------------------------------------------------------------------------
# Cases

_ONNX_DATA = np.array([[[[1.0, 1.2], [2.3, 3.4], [4.5, 5.7]]]])
_ONNX = (
    "ONNX operator docs, Pad example {n} (`{mode}` mode), pads {pads} "
    "(onnx/onnx onnx/defs/doc_strings.cc, kDoc_Pad_ver24)"
)
_TF_DATA = np.array([[[[1.0, 2, 3], [4, 5, 6]]]])
_TF = "TensorFlow docs, tf.pad docstring example, paddings [[1, 1], [2, 2]], mode {mode}"


def _golden(case_id, x, expected, provenance, **attrs):
    return Case(
        id=case_id,
        layer="pad2d",
        inputs={"x": x},
        attrs=attrs,
        expected=np.asarray(expected, dtype=np.float64),
        provenance=provenance,
        tags=frozenset({"exact"}),
    )


GOLDEN = (
    _golden(
        "onnx_pad_constant",
        _ONNX_DATA,
        [[[[0, 0, 1.0, 1.2], [0, 0, 2.3, 3.4], [0, 0, 4.5, 5.7]]]],
        _ONNX.format(n=1, mode="constant", pads="[0, 2, 0, 0]"),
        padding=((0, 0), (2, 0)),
    ),
    _golden(
        "onnx_pad_edge",
        _ONNX_DATA,
        [[[[1.0, 1.0, 1.0, 1.2], [2.3, 2.3, 2.3, 3.4], [4.5, 4.5, 4.5, 5.7]]]],
        _ONNX.format(n=3, mode="edge", pads="[0, 2, 0, 0]"),
        padding=((0, 0), (2, 0)),
        mode="replicate",
    ),
    _golden(
        "onnx_pad_wrap",
        _ONNX_DATA,
        [[[
            [3.4, 2.3, 3.4, 2.3],
            [5.7, 4.5, 5.7, 4.5],
            [1.2, 1.0, 1.2, 1.0],
            [3.4, 2.3, 3.4, 2.3],
            [5.7, 4.5, 5.7, 4.5],
            [1.2, 1.0, 1.2, 1.0],
        ]]],
        _ONNX.format(n=4, mode="wrap", pads="[2, 1, 1, 1]"),
        padding=((2, 1), (1, 1)),
        mode="circular",
    ),
    _golden(
        "tf_pad_reflect",
        _TF_DATA,
        [[[[6, 5, 4, 5, 6, 5, 4], [3, 2, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 5, 4],
           [3, 2, 1, 2, 3, 2, 1]]]],
        _TF.format(mode="REFLECT"),
        padding=(1, 2),
        mode="reflect",
    ),
    _golden(
        "tf_pad_symmetric",
        _TF_DATA,
        [[[[2, 1, 1, 2, 3, 3, 2], [2, 1, 1, 2, 3, 3, 2], [5, 4, 4, 5, 6, 6, 5],
           [5, 4, 4, 5, 6, 6, 5]]]],
        _TF.format(mode="SYMMETRIC"),
        padding=(1, 2),
        mode="symmetric",
    ),
)  # fmt: skip


def _case(case_id, seed, shape, note="", **attrs):
    return generated(case_id, "pad2d", seed, lambda rng: {"x": rng.standard_normal(shape)}, note,
                     **attrs)  # fmt: skip


CASES = (
    *GOLDEN,
    _case("pad_constant_value", 1630, (2, 2, 4, 5), padding=1, value=-1.5),
    _case(
        "pad_reflect_limit",
        1631,
        (1, 2, 3, 4),
        note="Reflect at its limit, n - 1 cells (the edge is not repeated).",
        padding=((2, 1), (0, 3)),
        mode="reflect",
    ),
    _case(
        "pad_replicate_wide",
        1632,
        (1, 2, 2, 3),
        note="Pads wider than the input: the edge cell takes every copy's gradient.",
        padding=((3, 0), (1, 4)),
        mode="replicate",
    ),
    _case(
        "pad_symmetric_full",
        1633,
        (2, 1, 2, 3),
        note="Symmetric at its limit, n cells (the whole input mirrored, edge repeated).",
        padding=((2, 2), (3, 1)),
        mode="symmetric",
    ),
    _case("pad_circular", 1634, (1, 2, 3, 4), padding=2, mode="circular"),
)

# ---------------------------------------------------------------------------------------
# Bad inputs

_X = {"x": np.zeros((1, 2, 3, 3))}


def _bad(case_id, match, inputs=_X, **attrs):
    return ErrorInput(case_id, inputs, match, attrs)


ERRORS = (
    _bad("pad_string_padding", r"padding must be an int.*'same'", padding="same"),
    _bad("pad_negative", r"padding must be non-negative, got \(1, -1\)", padding=(1, -1)),
    _bad("pad_three_values", r"padding must be .*\(1, 1, 1\)", padding=(1, 1, 1)),
    _bad("pad_float", r"padding must be .*1\.5", padding=1.5),
    _bad("pad_numpy_mode_name", r"mode must be one of .*'edge'", padding=1, mode="edge"),
    _bad("pad_tf_mode_name", r"mode must be one of .*'REFLECT'", padding=1, mode="REFLECT"),
    _bad(
        "pad_reflect_too_wide",
        r"padding 3 with mode 'reflect' must be < the input size along height \(3\), got 3",
        padding=3,
        mode="reflect",
    ),
    _bad(
        "pad_symmetric_too_wide",
        r"padding \(0, 4\) with mode 'symmetric' must be <= the input size along width",
        padding=(0, 4),
        mode="symmetric",
    ),
    _bad("pad_circular_too_wide", r"'circular' must be <= .*got 4", padding=4, mode="circular"),
    _bad(
        "pad_value_with_reflect",
        r"value is only used by mode 'constant'; mode 'reflect' got 2\.0",
        padding=1,
        mode="reflect",
        value=2.0,
    ),
    _bad(
        "pad_value_not_number", r"value must be a real number, got 'zero'", padding=1, value="zero"
    ),
    _bad("pad_x_3d", r"x .*\(3, 3, 3\)", {"x": np.zeros((3, 3, 3))}, padding=1),
    ErrorInput(
        "pad_grad_out_shape",
        _X,
        r"grad_out shape \(1, 2, 3, 3\) does not match the output shape \(1, 2, 5, 5\)",
        {"padding": 1},
        direction="backward",
        grad_out=np.zeros((1, 2, 3, 3)),
    ),
)

PAD1 = "issue 16: batch 32, 16 channels, 28x28 padded by one cell (a decoder's 3x3 conv)"

BENCH = tuple(
    BenchShape(
        "pad2d", f"{mode}-pad1-b32", {"x": image(32, 16)}, PAD1, {"padding": 1, "mode": mode}
    )
    for mode in ("constant", "reflect")
)

DECLARED = (
    LayerInfo(
        "pad2d",
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=BENCH,
        attributes={
            "padding": ("1", ">1", "(h, w)", "per-side"),
            "mode": ("constant", "reflect", "replicate", "symmetric", "circular"),
        },
    ),
)
