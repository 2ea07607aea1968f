"""The ONNX adapters' rules: what an exported graph is checked for before it runs, which
runtime errors are declared bugs, and the probes that select the declared pooling bugs
(tests/known_divergences.py).

Nothing here refuses a call because a probe found a bug that gives a wrong *value*: such a
call runs, and its comparison fails or xfails as that bug's modelled wrong output
(tests/divergence_signatures_onnx_pool.py).  A refusal follows only the runtime's own
error on the call itself (``declared_failure``).

- ``DROPPED_ATTRIBUTES``: what the exporter drops without a word (AvgPool2d's
  ``divisor_override``, CrossEntropyLoss's ``label_smoothing``); the graph runs and
  computes the layer without it (known divergences ``*-export-drops-*``, matched).
- ``check_model``: ``onnx.checker`` with full type and shape inference.  An invalid model
  is an error, except the declared one (cross-entropy on class probabilities) and ONNX's
  pre-opset-22 shape rule for a ceil-mode window that starts in the padding (conventions
  row ``onnx_pool_ceil_window_in_padding``).
- ``check_float_attributes`` and ``check_float32_constants``: a float64 graph holding a
  module constant that float32 rounds, or any 32-bit constant whose decimal float32
  rounds, in a node's attributes or its operator's ONNX function body (conventions row
  ``onnx_float32_attributes``).
- ``ceil_pool_hazards`` and ``runtime_ceil_bugs``: ceil-mode pooling windows that older
  runtimes compute differently from torch (ONNX Runtime 1.20, onnx 1.17's reference
  AveragePool); a tiny probe per runtime and opset finds which bugs the installed release
  has: evidence for the signatures, which refuse nothing.
- ``unit_stride_pool_hazards``: onnx.reference's MaxPool at stride 1 and dilation 1 (its
  older ``_op_common_pool.CommonPool`` path) reads ``pads`` as (top, bottom, left, right)
  and, in ceil mode, adds the padding to the padded length a second time; probed the same
  way.  Where that path raises ("output shape cannot be null or negative", or NumPy's
  "zero-size array to reduction operation maximum" for a window wholly in the padding it
  misplaced), ``declared_failure`` turns the error into a refusal naming
  ``onnx_reference-unit-stride-maxpool-fails``.

This module imports NumPy only; ``onnx`` is imported inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters.base import Unsupported

#: The exporter call, as the records and refusals name it.
EXPORTER = "torch.onnx.export(dynamo=True)"
_DECLARED = "in tests/known_divergences.py"

#: What the exporter drops without a word: (layer method, attribute, the value at which
#: dropping it changes nothing, the known divergence (matched) each adapter's wrong value
#: is declared under, what happens).
DROPPED_ATTRIBUTES = (
    (
        "avgpool2d",
        "divisor_override",
        None,
        "{adapter}-export-drops-divisor-override",
        "the exported AveragePool divides by the window size (onnxscript's torch_lib "
        "aten_avg_pool2d never reads divisor_override; the TorchScript exporter raised "
        "'Unsupported: ONNX export of operator avg_pool2d, divisor_override')",
    ),
    (
        "cross_entropy",
        "label_smoothing",
        0.0,
        "{adapter}-export-drops-label-smoothing",
        "the exported SoftmaxCrossEntropyLoss computes the unsmoothed loss (onnxscript's "
        "torch_lib aten_cross_entropy_loss: 'label_smoothing: float = 0.0,  # this was "
        "ignored due to ONNX not support'; the TorchScript exporter raised 'Unsupported: "
        "ONNX does not support label_smoothing')",
    ),
)
#: The known divergence under which each adapter refuses the invalid model the exporter
#: writes for cross-entropy on class probabilities.
INVALID_CE_MODEL = "{adapter}-ce-probabilities-invalid-model"

#: Ceil-mode pooling bugs of older runtimes, and the known divergence of each.
WINDOW_IN_PADDING = "window-in-padding"
OVERHANG_DIVISOR = "overhang-divisor"
#: onnx.reference's ceil-mode AveragePool pads the input to the rounded-up length with half
#: the extra cells before it (op_pool_common.py, onnx 1.17.0 to 1.23.2).
EXTRA_PAD_BEFORE = "extra-pad-before"
CEIL_BUG_KEY = "{adapter}-ceil-{bug}"
#: onnx.reference's unit-stride MaxPool (``_op_common_pool.CommonPool``, onnx 1.23.2).
PADS_MISREAD = "pads-misread"
CEIL_PADS_TWICE = "ceil-pads-twice"
UNIT_STRIDE_BUG_KEY = "{adapter}-unit-stride-maxpool-{bug}"
_CEIL_BUG_TEXT = {
    WINDOW_IN_PADDING: (
        "keeps the ceil-mode {op} window that would start in the right padding ({axes}), "
        "which torch drops (probe: x (1,1,3,3), kernel 2, stride 2, padding 1 gives "
        "(3, 3), torch (2, 2))"
    ),
    EXTRA_PAD_BEFORE: (
        "pads the ceil-mode {op} input to the rounded-up length with half the extra cells "
        "before it ({axes}), shifting every window (probe: [0, 1, 2, 3], kernel (1, 3), "
        "stride (1, 3), count_include_pad 0 gives [0.5, 2] (onnx 1.23.2) or [0.5, 2.5] (onnx "
        "1.17.0), torch [1, 3])"
    ),
    OVERHANG_DIVISOR: (
        "divides the ceil-mode AveragePool window that runs past the padding by the whole "
        "kernel ({axes}), where torch counts the cells of the input and padding only "
        "(probe: ones (1,1,4,4), kernel 3, stride 2: last output 4/9, torch 1)"
    ),
    PADS_MISREAD: (
        "reads a stride-1 {op}'s pads [h_begin, w_begin, h_end, w_end] as (top, bottom, "
        "left, right) ({axes}) (probe: x (1,1,3,3), kernel 2, stride 1, pads [0, 1, 0, 0] "
        "gives (3, 2), torch (2, 3))"
    ),
    CEIL_PADS_TWICE: (
        "counts a stride-1 ceil-mode {op}'s padding twice in its output length ({axes}) "
        "(probe: x (1,1,3,3), kernel 2, stride 1, pads [1, 1, 1, 1], ceil_mode 1 gives "
        "another shape than torch's (4, 4), or fails)"
    ),
}


def bug_key(adapter: str, bug: str) -> str:
    """The known divergence's key for ``bug`` in ``adapter``."""
    template = UNIT_STRIDE_BUG_KEY if bug in (PADS_MISREAD, CEIL_PADS_TWICE) else CEIL_BUG_KEY
    return template.format(adapter=adapter, bug=bug)


class KnownInvalidModel(Unsupported):
    """The declared invalid export; the adapter's refusal adds its entry's key."""


def check_model(model: Any, what: str) -> None:
    """``onnx.checker`` with full type and shape inference on an exported model."""
    import onnx

    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        message = " ".join(str(exc).split())
        if "SoftmaxCrossEntropyLoss" in message and "labels typestr" in message:
            raise KnownInvalidModel(
                f"{EXPORTER} of {what} with class-probability targets writes an invalid "
                f"model (onnx.checker: {message}): ONNX SoftmaxCrossEntropyLoss takes integer "
                "labels only"
            ) from exc
        if "Inferred shape and existing shape differ" in message and ceil_windows_in_padding(model):
            return  # conventions row onnx_pool_ceil_window_in_padding
        raise RuntimeError(f"{EXPORTER} of {what} wrote an invalid model: {message}") from exc


def check_float_attributes(module: Any, model: Any, what: str) -> None:
    """A float64 graph whose FLOAT attribute holds a module constant rounded to float32
    (ONNX's ``AttributeProto.f`` is a 32-bit float) computes another layer: refused."""
    import onnx

    stored = {
        float(attribute.f): f"{node.op_type} attribute {attribute.name!r}"
        for node in model.graph.node
        for attribute in node.attribute
        if attribute.type == onnx.AttributeProto.FLOAT
    }
    for sub in module.modules():
        for name, value in vars(sub).items():
            if not isinstance(value, float):
                continue
            rounded = float(np.float32(value))
            if rounded != value and rounded in stored:
                raise Unsupported(
                    f"{what} in float64: ONNX stores the {stored[rounded]} as a 32-bit float "
                    f"(onnx.proto: AttributeProto 'float f'), so {type(sub).__name__}."
                    f"{name}={value!r} is {rounded!r} in the exported graph, which then "
                    "computes another layer (conventions row onnx_float32_attributes)"
                )


def check_float32_constants(model: Any, what: str) -> None:
    """A float64 graph that computes with a 32-bit float constant whose decimal reads as
    another number (float32(1/6) = 0.16666667163...), refused: a float32 initializer, a
    FLOAT attribute of a node, or a float32 ``Constant`` of the function body ONNX
    defines the node's operator by (HardSwish, Gelu), which onnx.reference runs and ONNX
    Runtime runs where it has no float64 kernel, casting the constant with ``CastLike``."""
    for where, value in _float32_constants(model):
        written = str(np.float32(value))
        if float(written) != value:
            raise Unsupported(
                f"{what} in float64: {where} is the 32-bit float {written} = {value!r} "
                "(onnx.proto: AttributeProto 'float f'; Resize's scales are "
                "tensor(float); an operator's function body casts its float constants with "
                "CastLike), so the float64 graph computes with a constant float32 rounded: "
                "another layer (conventions row "
                "onnx_float32_attributes)"
            )


def _float32_constants(model: Any) -> list[tuple[str, float]]:
    """``(where, value)`` for the float32 initializers of ``model`` (Resize's ``scales``
    is a float tensor in every dtype), the FLOAT attributes of its nodes, and the float
    attributes and float32 ``Constant`` values of their operators' function bodies."""
    import onnx

    opset = opset_of(model)
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {
        value.name: value.type
        for value in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output)
    }
    found = []
    users = {name: node.op_type for node in model.graph.node for name in node.input}
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            where = f"the float32 initializer {init.name!r} (input of {users.get(init.name)})"
            found += [(where, float(v)) for v in onnx.numpy_helper.to_array(init).ravel()]
    for node in model.graph.node:
        found += [(f"the {node.op_type} attribute {n!r}", v) for n, v in _floats(node)]
        for body_node in _function_body(node, opset, types):
            found += [
                (f"ONNX's {node.op_type} function body's {body_node.op_type} {n!r}", v)
                for n, v in _floats(body_node)
            ]
    return found


def _floats(node: Any) -> list[tuple[str, float]]:
    """The float attributes of ``node``, and the value of a float32 ``Constant``."""
    import onnx

    found = []
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.FLOAT and not attribute.ref_attr_name:
            found.append((attribute.name, float(attribute.f)))
        if (
            node.op_type == "Constant"
            and attribute.type == onnx.AttributeProto.TENSOR
            and attribute.t.data_type == onnx.TensorProto.FLOAT
        ):
            values = onnx.numpy_helper.to_array(attribute.t).ravel()
            found += [(attribute.name, float(v)) for v in values]
    return found


def _function_body(node: Any, opset: int, types: Mapping[str, Any]) -> list:
    """The nodes of the function ONNX defines ``node``'s operator by at ``opset`` (for its
    input types, where the function depends on them); [] for a primitive operator."""
    import onnx

    if node.domain not in ("", "ai.onnx"):
        return []
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except onnx.defs.SchemaError:
        return []
    if schema.has_function:
        return list(schema.function_body.node)
    if not schema.has_context_dependent_function:
        return []
    inputs = [types[name].SerializeToString() for name in node.input if name in types]
    body = onnx.FunctionProto()
    body.ParseFromString(schema.get_context_dependent_function(node.SerializeToString(), inputs))
    return list(body.node)


def opset_of(model: Any) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), -1)


def ceil_pool_hazards(model: Any) -> list[tuple[str, str, str]]:
    """``(op_type, bug, axis)`` for every ceil-mode pooling axis of ``model`` where a runtime
    with that bug (``WINDOW_IN_PADDING``, ``OVERHANG_DIVISOR``) differs from torch: the last
    window would start in the right padding (torch drops it), or, for AveragePool counting
    the padding, the last window torch keeps runs past the padding."""
    import onnx

    shapes = {
        value.name: [d.dim_value for d in value.type.tensor_type.shape.dim]
        for value in (*model.graph.input, *model.graph.value_info)
    }
    found = []
    for node in model.graph.node:
        if node.op_type not in ("MaxPool", "AveragePool"):
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        shape = shapes.get(node.input[0])
        if not attrs.get("ceil_mode") or not shape:
            continue
        kernel = attrs["kernel_shape"]
        rank = len(kernel)
        strides = attrs.get("strides") or [1] * rank
        dilations = attrs.get("dilations") or [1] * rank
        pads = attrs.get("pads") or [0] * (2 * rank)
        for axis, size in enumerate(shape[2:]):
            span = dilations[axis] * (kernel[axis] - 1) + 1
            padded = size + pads[axis] + pads[axis + rank]
            outputs = -(-(padded - span) // strides[axis]) + 1
            where = f"axis {axis + 2}"
            if (outputs - 1) * strides[axis] >= size + pads[axis]:
                found.append((node.op_type, WINDOW_IN_PADDING, where))
                outputs -= 1
            counts_padding = node.op_type == "AveragePool" and attrs.get("count_include_pad", 0)
            if counts_padding and (outputs - 1) * strides[axis] + span > padded:
                found.append((node.op_type, OVERHANG_DIVISOR, where))
    return found


def unit_stride_pool_hazards(model: Any) -> list[tuple[str, str, str]]:
    """``(op_type, bug, axes)`` for every MaxPool of ``model`` at stride 1 and dilation 1
    (the path onnx.reference's MaxPool hands to ``_op_common_pool.CommonPool``) whose pads
    that path misreads (``PADS_MISREAD``: w_begin != h_end) or, in ceil mode, counts twice
    (``CEIL_PADS_TWICE``: any padding)."""
    import onnx

    found = []
    for node in model.graph.node:
        if node.op_type != "MaxPool":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        rank = len(attrs["kernel_shape"])
        ones = [1] * rank
        if (
            list(attrs.get("strides") or ones) != ones
            or list(attrs.get("dilations") or ones) != ones
        ):
            continue
        pads = list(attrs.get("pads") or [0] * (2 * rank))
        if rank == 2 and pads[1] != pads[2]:
            found.append((node.op_type, PADS_MISREAD, "pads " + str(pads)))
        if attrs.get("ceil_mode") and any(pads):
            found.append((node.op_type, CEIL_PADS_TWICE, "pads " + str(pads)))
    return found


def ceil_windows_in_padding(model: Any) -> list[str]:
    """``"<op> axis <i>"`` for each ceil-mode window that would start in the right padding,
    where the opset is below 22: ONNX's shape inference there keeps that window (one more
    output than torch, the model's declared shape and current runtimes), so
    ``onnx.checker(full_check=True)`` rejects the model.  [] otherwise."""
    if opset_of(model) >= 22:
        return []
    return [
        f"{op} {axis}" for op, bug, axis in ceil_pool_hazards(model) if bug == WINDOW_IN_PADDING
    ]


def _probe(op_type: str, shape: tuple, opset: int, **attrs: Any) -> tuple[Any, dict]:
    import onnx
    from onnx import helper

    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph([node], f"probe_{op_type}", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return model, {"x": np.ones(shape, dtype=np.float32)}


def runtime_ceil_bugs(run: Callable[[Any, dict], list], opset: int) -> frozenset:
    """``(op_type, bug)`` pairs the runtime behind ``run(model, feeds) -> outputs`` has at
    ``opset``, each found by one tiny probe graph (see ``_CEIL_BUG_TEXT``)."""
    bugs = set()
    window = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}
    for op_type in ("MaxPool", "AveragePool"):
        extra = {"count_include_pad": 0} if op_type == "AveragePool" else {}
        y = run(*_probe(op_type, (1, 1, 3, 3), opset, **window, **extra))[0]
        if np.shape(y)[2:] != (2, 2):
            bugs.add((op_type, WINDOW_IN_PADDING))
    overhang = {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1, "count_include_pad": 1}
    y = run(*_probe("AveragePool", (1, 1, 4, 4), opset, **overhang))[0]
    if not np.isclose(float(np.asarray(y)[0, 0, -1, -1]), 1.0):
        bugs.add(("AveragePool", OVERHANG_DIVISOR))
    shifted = {"kernel_shape": [1, 3], "strides": [1, 3], "ceil_mode": 1, "count_include_pad": 0}
    model, _ = _probe("AveragePool", (1, 1, 1, 4), opset, **shifted)
    y = np.asarray(run(model, {"x": np.arange(4, dtype=np.float32).reshape(1, 1, 1, 4)})[0])
    if y.shape != (1, 1, 1, 2) or not np.allclose(y.ravel(), [1.0, 3.0]):
        bugs.add(("AveragePool", EXTRA_PAD_BEFORE))
    unit = {"kernel_shape": [2, 2], "strides": [1, 1]}
    for bug, attrs, want in (
        (PADS_MISREAD, {"pads": [0, 1, 0, 0]}, (2, 3)),
        (CEIL_PADS_TWICE, {"pads": [1, 1, 1, 1], "ceil_mode": 1}, (4, 4)),
    ):
        try:
            shape = np.shape(run(*_probe("MaxPool", (1, 1, 3, 3), opset, **unit, **attrs))[0])
        except Exception:  # the bug may end in the runtime's own error; the shape is wrong
            shape = None
        if shape is None or shape[2:] != want:
            bugs.add(("MaxPool", bug))
    return frozenset(bugs)


#: The known divergence under which onnx.reference's unit-stride MaxPool errors are refused.
UNIT_STRIDE_FAILS = "onnx_reference-unit-stride-maxpool-fails"
#: The errors ``_op_common_pool.CommonPool`` raises on the pads it misreads or counts twice.
_UNIT_STRIDE_ERRORS = (
    "output shape cannot be null or negative",
    "zero-size array to reduction operation maximum",
)


def declared_failure(adapter: str, runtime: str, exc: BaseException, model: Any):
    """``Unsupported`` quoting ``exc`` when it is a declared bug's own error on ``model``
    (onnx.reference's unit-stride MaxPool on a configuration whose pads it misreads or
    counts twice); None for any other error, which the caller re-raises."""
    message = " ".join(str(exc).split())
    if adapter != "onnx_reference" or not unit_stride_pool_hazards(model):
        return None
    if not any(error in message for error in _UNIT_STRIDE_ERRORS):
        return None
    bugs = sorted({bug for _, bug, _ in unit_stride_pool_hazards(model)})
    return Unsupported(
        f"{runtime} fails on a MaxPool at stride 1 whose pads its _op_common_pool.CommonPool "
        f"path {' and '.join(bugs)} ({type(exc).__name__}: {message[:300]}) (known divergence "
        f"{UNIT_STRIDE_FAILS!r} {_DECLARED})"
    )
