"""resize2d against ONNX's own reference evaluator (``onnx.reference.ReferenceEvaluator``
running a one-node Resize, opset 18), when the onnx package is installed.

A cross-check, not the oracle: the evaluator is another reading of the same operator.
Where it departs from the operator text the reference follows the text, and those
configurations are left out here, each for a reason the evaluator's source shows
(onnx/reference/ops/op_resize.py):

- pytorch_half_pixel at an output length of 1: the text says coordinate 0, the evaluator
  uses -0.5 (``np.full(..., -0.5)``); the edge clamp makes that the same for nearest and
  plain linear, not for cubic or antialias, whose taps reach further;
- align_corners with ``scales`` whose n * scale is not an integer: the evaluator divides
  by the unfloored length (see test_resize2d_golden.py);
- tf_half_pixel_for_nn: Resize-11 only; the evaluator has no such mode.

ONNX stores ``cubic_coeff_a`` as a float32 attribute and NumPy then computes the cubic
coefficients in float32, terms as large as 4|a| over up to 16 taps: cubic results agree
within 64 float32 ulps of the largest |value|, the rest within 8 float64 ulps.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from reference import resize2d

pytestmark = pytest.mark.reference

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402


def onnx_resize(x, *, size=None, scale=None, **attrs):
    """One Resize node on x (float64, NCHW), resizing H and W."""
    scales = None if scale is None else np.array([1, 1, *np.broadcast_to(scale, 2)], np.float32)
    sizes = None if size is None else np.array([*x.shape[:2], *np.broadcast_to(size, 2)])
    names = ["X", "", "scales" if scales is not None else ""] + (["sizes"] if size else [])
    attrs = {**attrs, "antialias": int(attrs.get("antialias", False))}
    node = helper.make_node("Resize", inputs=names, outputs=["Y"], **attrs)
    inputs = [helper.make_tensor_value_info("X", TensorProto.DOUBLE, x.shape)]
    feeds = {"X": x}
    if scales is not None:
        inputs.append(helper.make_tensor_value_info("scales", TensorProto.FLOAT, [4]))
        feeds["scales"] = scales
    if sizes is not None:
        inputs.append(helper.make_tensor_value_info("sizes", TensorProto.INT64, [4]))
        feeds["sizes"] = sizes.astype(np.int64)
    output = helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)
    graph = helper.make_graph([node], "resize2d", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    return ReferenceEvaluator(model).run(None, feeds)[0]


def _attrs():
    for how in ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"):
        for rule in resize2d.NEAREST_MODES:
            yield {"mode": "nearest", "coordinate_transformation_mode": how, "nearest_mode": rule}
        for aa in (False, True):
            yield {"mode": "linear", "coordinate_transformation_mode": how, "antialias": aa}
            for a in (-0.75, -0.5):
                yield {
                    "mode": "cubic",
                    "coordinate_transformation_mode": how,
                    "antialias": aa,
                    "cubic_coeff_a": a,
                }


# Scales exact in float32 (ONNX's scales are float32).
GEOMETRIES = [
    ((1, 2, 3, 4), {"size": (1, 1)}),
    ((1, 2, 3, 4), {"size": (2, 7)}),
    ((2, 1, 5, 2), {"size": (6, 3)}),
    ((1, 1, 4, 4), {"size": (9, 10)}),
    ((1, 1, 4, 6), {"scale": (0.5, 1.5)}),
    ((1, 1, 5, 3), {"scale": (0.75, 2.5)}),
]


def _left_out(shape, geometry, attrs):
    how = attrs["coordinate_transformation_mode"]
    lengths = resize2d.forward(np.zeros(shape), **geometry, **attrs).shape[2:]
    if how == "pytorch_half_pixel" and 1 in lengths:
        return attrs["mode"] == "cubic" or attrs.get("antialias", False)
    if how == "align_corners" and "scale" in geometry:
        scales = np.broadcast_to(geometry["scale"], 2)
        return any(n * s != m for n, s, m in zip(shape[2:], scales, lengths, strict=True))
    return False


CASES = [
    pytest.param(
        shape, geometry, attrs, id=f"{shape}-{geometry}-{'-'.join(map(str, attrs.values()))}"
    )
    for (shape, geometry), attrs in itertools.product(GEOMETRIES, list(_attrs()))
    if not _left_out(shape, geometry, attrs)
]


@pytest.mark.parametrize(("shape", "geometry", "attrs"), CASES)
def test_matches_onnx_reference_evaluator(shape, geometry, attrs):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    want = onnx_resize(x, **geometry, **attrs)
    got = resize2d.forward(x, **geometry, **attrs)
    assert got.shape == want.shape
    ulps = 64 * np.finfo(np.float32).eps if attrs["mode"] == "cubic" else 8 * np.finfo(float).eps
    bound = ulps * max(1.0, float(np.max(np.abs(want))))
    assert np.max(np.abs(got - want)) <= bound, f"{attrs}: {np.max(np.abs(got - want)):.3g}"


def test_left_out_configurations_do_differ():
    """The exclusions above are real: the evaluator's -0.5 shows with cubic at length 1."""
    x = np.random.default_rng(0).standard_normal((1, 1, 3, 4))
    attrs = {"mode": "cubic", "coordinate_transformation_mode": "pytorch_half_pixel"}
    want = onnx_resize(x, size=(1, 1), **attrs)
    got = resize2d.forward(x, size=(1, 1), **attrs)
    assert np.max(np.abs(got - want)) > 1e-3
