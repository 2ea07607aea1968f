"""ConvTranspose configurations that ONNX runtimes fail on where torch computes them.

A call is refused only when the runtime raises on it: ``declared_failure`` turns the
runtime's own error, on a configuration a bug below touches (``hazards``), into
``Unsupported`` quoting it and naming the known divergence; any other error propagates,
and an output the runtime does return is compared like any other.  ``probe`` runs the
tiny graphs below: evidence for the adapter tests, never a reason to refuse.

- ``GROUPED``: ``group > 1`` with more than one input or output channel per group.
  onnx.reference (1.23.2) slices the weight by output instead of input channels and
  writes each group's output into one channel ("could not broadcast input array from
  shape (2,7,6) into shape (1,7,6)"); its reassembly is fixed by onnx/onnx#8446 (merged
  2026-09).  With one channel each way (depthwise) it runs, but each group adds the whole
  bias's ``B[0]``: a wrong value, not refused (the matched known divergence
  onnx_reference-conv-transpose-grouped-whole-bias).
- ``PADDING_PAST_STRIDE``: an ``output_padding`` not below the stride (torch allows any
  ``output_padding`` below the stride *or* the dilation; ONNX's attribute text reads "less
  than the corresponding stride/dilation dimension", onnx/onnx#3187).  ONNX Runtime raises
  "output_padding (1) may be too large for stride (1)" (microsoft/onnxruntime#14208);
  onnx.reference's col2im expects the unpadded number of blocks and raises.

This module imports NumPy only; ``onnx`` is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from adapters.base import Unsupported

GROUPED = "grouped"
PADDING_PAST_STRIDE = "output-padding-past-stride"
BUG_KEY = "{adapter}-conv-transpose-{bug}"
_TEXT = {
    GROUPED: (
        "fails on a grouped ConvTranspose (group={group}) with more than one input or "
        "output channel per group"
    ),
    PADDING_PAST_STRIDE: (
        "fails on a ConvTranspose whose output_padding {output_padding} is not below its "
        "strides {strides} (dilations {dilations}), which torch and ONNX's 'less than the "
        "corresponding stride/dilation dimension' allow"
    ),
}


def _attributes(node: Any) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def hazards(model: Any) -> list[tuple[str, dict]]:
    """``(bug, attributes)`` for each ConvTranspose of ``model`` a bug would touch."""
    shapes = {init.name: list(init.dims) for init in model.graph.initializer}
    found = []
    for node in model.graph.node:
        if node.op_type != "ConvTranspose":
            continue
        attrs = _attributes(node)
        w_shape = shapes.get(node.input[1])
        rank = len(attrs.get("kernel_shape") or [0, 0])
        attrs.setdefault("strides", [1] * rank)
        attrs.setdefault("dilations", [1] * rank)
        attrs.setdefault("output_padding", [0] * rank)
        attrs.setdefault("group", 1)
        # One input and one output channel per group is the one grouped configuration
        # onnx.reference runs (ONNX's test_convtranspose_group_2; a bias comes out wrong).
        depthwise = w_shape is not None and w_shape[:2] == [attrs["group"], 1]
        if attrs["group"] > 1 and not depthwise:
            found.append((GROUPED, attrs))
        if any(p >= s for p, s in zip(attrs["output_padding"], attrs["strides"], strict=False)):
            found.append((PADDING_PAST_STRIDE, attrs))
    return found


def _model(x_shape, w, b, opset, **attrs):
    import onnx
    from onnx import helper, numpy_helper

    inputs = ["x", "w"] + (["b"] if b is not None else [])
    node = helper.make_node("ConvTranspose", inputs, ["y"], **attrs)
    initializers = [numpy_helper.from_array(w, "w")]
    if b is not None:
        initializers.append(numpy_helper.from_array(b, "b"))
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x_shape))
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph([node], "probe_conv_transpose", [x], [y], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _outcome(run: Callable[[Any, dict], list], model: Any, feeds: dict, want: np.ndarray) -> str:
    """ "" where the runtime computes ``want``; else what it did."""
    try:
        got = np.asarray(run(model, feeds)[0])
    except Exception as exc:  # the runtime's own error, whatever its type
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if got.shape != want.shape or not np.allclose(got, want):
        return f"gives {got.ravel().tolist()}, torch {want.ravel().tolist()}"
    return ""


def probe(run: Callable[[Any, dict], list], opset: int) -> dict[str, str]:
    """``{bug: what the runtime did}`` for the bugs the runtime behind ``run(model, feeds)``
    has at ``opset``; each probe's expected output is worked out by hand below."""
    bugs = {}
    # group 2, one input channel per group, two output channels per group, 1x1 kernel:
    # y[o] = x[g] * w[g, o % 2] + b[o] with g = o // 2.
    x = np.array([[[[2.0]], [[3.0]]]], dtype=np.float32)
    w = np.array([[[[1.0]], [[10.0]]], [[[100.0]], [[1000.0]]]], dtype=np.float32)
    b = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    want = np.array([2 + 1, 20 + 2, 300 + 3, 3000 + 4], dtype=np.float32).reshape(1, 4, 1, 1)
    what = _outcome(run, _model(x.shape, w, b, opset, group=2), {"x": x}, want)
    if what:
        bugs[GROUPED] = what
    # ones (3, 3) through a ones 2x2 kernel dilated by 2 (taps at 0 and 2): output 6x6 with
    # output_padding 1, whose last row and column no tap reaches (zeros); cell (i, j)
    # counts the taps: rows 0-1 and 3-4 get 1 input row, row 2 gets 2 (and columns alike).
    ones = np.ones((1, 1, 3, 3), dtype=np.float32)
    counts = np.array([1, 1, 2, 1, 1, 0], dtype=np.float32)
    want = np.outer(counts, counts).reshape(1, 1, 6, 6)
    model = _model(
        ones.shape,
        np.ones((1, 1, 2, 2), dtype=np.float32),
        None,
        opset,
        dilations=[2, 2],
        output_padding=[1, 1],
    )
    what = _outcome(run, model, {"x": ones}, want)
    if what:
        bugs[PADDING_PAST_STRIDE] = what
    return bugs


#: The runtimes' own errors for each bug (tests/adapters/test_onnx_adapters.py shows them).
_ERRORS = {
    GROUPED: ("could not broadcast", "cannot reshape"),
    PADDING_PAST_STRIDE: ("may be too large for stride", "sliding blocks"),
}


def declared_failure(adapter: str, runtime: str, exc: BaseException, model: Any):
    """``Unsupported`` quoting ``exc`` where it is a declared bug's error on a ConvTranspose
    of ``model`` that bug touches; None for any other error (the caller re-raises it)."""
    message = " ".join(str(exc).split())
    for bug, attrs in hazards(model):
        if not any(error in message for error in _ERRORS[bug]):
            continue
        key = BUG_KEY.format(adapter=adapter, bug=bug)
        text = _TEXT[bug].format(**attrs)
        return Unsupported(
            f"{runtime} {text}: {type(exc).__name__}: {message[:300]} (known divergence "
            f"{key!r} in tests/known_divergences.py)"
        )
    return None
