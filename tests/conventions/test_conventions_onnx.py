"""The conventions rows of the ONNX path (tests/conventions/table.py): what
``torch.onnx.export`` writes for a module in training mode, and the 32-bit float
attributes of a float64 graph.

Side A is the torch module the torch adapter builds for the case; side B is the graph
``torch.onnx.export`` writes for that same module, run by ONNX Runtime and by
``onnx.reference``.  Each side is checked against the reference with its own parameters,
then the exact relation between the two is asserted, and the ONNX adapters' refusals are
checked to name the row.
"""

from __future__ import annotations

import numpy as np
import pytest

from adapters._onnx_export import export_module
from tests import layers
from tests.adapters.calls import refusal
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.conventions.test_conventions_training import _bn_fixture

pytestmark = pytest.mark.conventions

_RUNTIMES = ("onnxruntime", "onnx_reference")


#: The exporter's warning, which the ONNX adapters' training-mode refusal quotes.
_TRAINING_WARNING = "Exporting a model while it is in training mode"


def _exported(torch_adapter, method: str, inputs: dict, attrs: dict):
    """The module the torch adapter builds for the call, exported as it is (its mode
    included), and the graph's feeds."""
    prepared = getattr(torch_adapter, method)(**inputs, **attrs)
    if prepared.module.training:
        with pytest.warns(UserWarning, match=_TRAINING_WARNING):
            model = export_module(prepared.module, dict(prepared.inputs))
    else:
        model = export_module(prepared.module, dict(prepared.inputs))
    feeds = {name: tensor.numpy() for name, tensor in prepared.inputs.items()}
    return model, feeds


def _attributes(model, op_type: str) -> dict:
    import onnx

    node = next(n for n in model.graph.node if n.op_type == op_type)
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def test_onnx_export_training_mode(request):
    row = ROW["onnx_export_training_mode"]
    rec = s.start_record(request, row, fixture="x (4,2,3,3) float32, N*H*W = 36 per channel")
    torch = s.need("torch")
    runtimes = s.available(_RUNTIMES)
    s.note_versions(rec, ["torch", *runtimes])
    t = {k: v.astype(np.float32) for k, v in _bn_fixture(row.id).items()}
    a = s.run(torch, "batchnorm2d", t, row.a.params)
    bound_a = s.side(rec, "torch", a, "batchnorm2d", t, row.a.params, "float32")
    model, feeds = _exported(torch, "batchnorm2d", t, row.a.params)
    assert _attributes(model, "BatchNormalization").get("training_mode", 0) == 0
    x = t["x"].astype(np.float64)
    gamma, beta, mean, var = (
        t[k].astype(np.float64)[None, :, None, None]
        for k in ("gamma", "beta", "running_mean", "running_var")
    )
    batch_mean = x.mean(axis=(0, 2, 3), keepdims=True)
    batch_var = x.var(axis=(0, 2, 3), keepdims=True)
    for name, runtime in runtimes.items():
        b = runtime.run_model(model, feeds)[0]
        bound_b = s.side(rec, name, b, "batchnorm2d", t, row.b.params, "float32")
        # Both sides undone to x: each through its own statistics.
        std_b, std_a = np.sqrt(var + 1e-5), np.sqrt(batch_var + 1e-5)
        s.assert_within(
            (b - beta) / gamma * std_b + mean,
            (a - beta) / gamma * std_a + batch_mean,
            bound_b / gamma * std_b + bound_a / gamma * std_a,
            f"{name}: running statistics vs torch: batch statistics",
        )
        assert s.widen(rec, a, b) > 10 * float(np.max(bound_a + bound_b)), "must differ"
        assert refusal(runtime, "batchnorm2d", t, row.a.params) is not None
        assert row.id in refusal(runtime, "batchnorm2d", t, row.a.params)
    _dropout_exports_a_runtime_mask(runtimes, rec)


def _dropout_exports_a_runtime_mask(runtimes, rec) -> None:
    """Dropout(p=0.5) in training mode: the graph's Dropout draws a new mask per run."""
    import torch

    x = np.ones(4096, dtype=np.float32)
    with pytest.warns(UserWarning, match=_TRAINING_WARNING):
        model = export_module(torch.nn.Dropout(0.5).train(), {"x": torch.from_numpy(x)})
    assert [n.op_type for n in model.graph.node] == ["Dropout"]
    if "onnxruntime" not in runtimes:
        return
    first, second = (runtimes["onnxruntime"].run_model(model, {"x": x})[0] for _ in range(2))
    for y in (first, second):
        assert set(np.unique(y).tolist()) == {0.0, 2.0}, "0 or x / (1 - p)"
    assert np.any(first != second), "the runtime draws a new mask on every run"
    rec["dropout_kept_share"] = float(np.mean(first != 0))
    inputs = {"x": x, "mask": np.ones(4096, dtype=bool)}
    reason = refusal(runtimes["onnxruntime"], "dropout", inputs, {"p": 0.5})
    assert reason is not None
    assert "injected mask" in reason


def test_onnx_float32_attributes(request):
    row = ROW["onnx_float32_attributes"]
    rec = s.start_record(request, row, fixture="eval mode, running_var ~ 1e-4, float64")
    torch = s.need("torch")
    runtimes = s.available(_RUNTIMES)
    s.note_versions(rec, ["torch", *runtimes])
    t = _bn_fixture(row.id, var_scale=1e-4)
    a = s.run(torch, "batchnorm2d", t, row.a.params)
    bound_a = s.side(rec, "torch", a, "batchnorm2d", t, row.a.params, "float64")
    model, feeds = _exported(torch, "batchnorm2d", t, row.a.params)
    eps32 = row.b.params["eps"]
    assert _attributes(model, "BatchNormalization")["epsilon"] == eps32
    assert eps32 != row.a.params["eps"]
    var = t["running_var"][None, :, None, None]
    beta = t["beta"][None, :, None, None]
    std_a, std_b = np.sqrt(var + row.a.params["eps"]), np.sqrt(var + eps32)
    for name, runtime in runtimes.items():
        b = runtime.run_model(model, feeds)[0]
        assert b.dtype == np.float64
        bound_b = s.side(rec, name, b, "batchnorm2d", t, row.b.params, "float64")
        s.assert_within(
            (b - beta) * std_b,
            (a - beta) * std_a,
            bound_b * std_b + bound_a * std_a,
            f"{name}: eps rescaling",
        )
        assert s.widen(rec, a, b) > 10 * float(np.max(bound_a + bound_b)), "must differ"
        reason = refusal(runtime, "batchnorm2d", t, row.a.params)
        assert reason is not None
        assert row.id in reason
    rec["graph_epsilon"] = eps32


def _pool_shape(op_type: str, attrs: dict, shape: tuple, opset: int) -> list[int]:
    """ONNX's shape inference for one pooling node at ``opset``."""
    import onnx
    from onnx import helper

    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph([node], "pool", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    inferred = onnx.shape_inference.infer_shapes(model)
    return [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]


@pytest.mark.parametrize(
    ("layer", "op_type"), [("maxpool2d", "MaxPool"), ("avgpool2d", "AveragePool")]
)
def test_onnx_pool_ceil_window_in_padding(request, layer, op_type):
    onnx = pytest.importorskip("onnx")

    from adapters._onnx_rules import (
        WINDOW_IN_PADDING,
        ceil_windows_in_padding,
        opset_of,
        runtime_ceil_bugs,
    )

    row = ROW["onnx_pool_ceil_window_in_padding"]
    rec = s.start_record(request, row, fixture=f"{layer}, x (1,2,7,4) float32")
    torch = s.need("torch")
    runtimes = s.available(_RUNTIMES)
    s.note_versions(rec, ["torch", *runtimes])
    t = {"x": np.random.default_rng(7).standard_normal((1, 2, 7, 4)).astype(np.float32)}
    a = s.run(torch, layer, t, row.a.params)
    s.side(rec, "torch", a, layer, t, row.a.params, "float32")
    prepared = getattr(torch, layer)(**t, **row.a.params)
    model = export_module(prepared.module.eval(), dict(prepared.inputs))
    declared = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert declared == list(a.shape) == [1, 2, 3, 2]
    node = next(n for n in model.graph.node if n.op_type == op_type)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    attrs.pop("auto_pad", None)
    old, new = (_pool_shape(op_type, attrs, t["x"].shape, opset) for opset in (20, 22))
    for name, runtime in runtimes.items():
        b = runtime.run_model(model, {"x": t["x"]})[0]
        if (op_type, WINDOW_IN_PADDING) in runtime_ceil_bugs(runtime.run_model, opset_of(model)):
            # Older releases (onnxruntime 1.20.1, onnx 1.17's AveragePool) follow the
            # opset-20 shape rule: known divergence <adapter>-ceil-window-in-padding.
            assert list(b.shape) == old, f"{name} keeps the window: the opset-20 shape"
            rec.setdefault("runtimes_with_the_opset_20_windows", []).append(name)
            continue
        s.side(rec, name, b, layer, t, row.a.params, "float32")
    assert new == declared, "opset 22 drops the window, as torch does"
    assert np.subtract(old, declared).tolist() == [0, 0, 1, 1], "opset 20 keeps it"
    assert ceil_windows_in_padding(model) == [f"{op_type} axis 2", f"{op_type} axis 3"]
    with pytest.raises(onnx.shape_inference.InferenceError, match="existing shape differ"):
        onnx.checker.check_model(model, full_check=True)
    # Control: x (1,1,8,8), kernel 3, stride 2, padding 1 -- the last window starts inside.
    control = {**attrs, "kernel_shape": [3, 3], "strides": [2, 2]}
    same = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    want = np.shape(layers.get(layer).forward(np.zeros((1, 1, 8, 8)), **same))
    assert _pool_shape(op_type, control, (1, 1, 8, 8), 20) == list(want) == [1, 1, 5, 5]
    rec["shapes"] = {"torch and the exported model": declared, "opset 20": old, "opset 22": new}


def test_onnx_float32_attributes_beyond_module_constants():
    """The same row where the constant is not a module attribute: torch.nn.Hardsigmoid's
    fixed 1/6 becomes HardSigmoid's FLOAT alpha, and onnx.reference's float64 output is
    the reference's hardsigmoid with slope float32(1/6) exactly (x * alpha + beta,
    clipped); the ONNX adapters refuse the float64 Hardsigmoid, HardSwish (ONNX's function
    body holds HardSigmoid alpha 0.16666667) and tanh GELU (its body's constants
    0.63661975 and 0.044715 are float32), naming the row."""
    torch = pytest.importorskip("torch")
    try:
        import adapters

        evaluator = adapters.load("onnx_reference")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    x = np.random.default_rng(31).uniform(-4.0, 4.0, (3, 40))
    model = export_module(torch.nn.Hardsigmoid().eval(), {"x": torch.from_numpy(x)})
    alpha = _attributes(model, "HardSigmoid")["alpha"]
    assert alpha == float(np.float32(1 / 6))
    assert alpha != 1 / 6
    got = evaluator.run_model(model, {"x": x})[0]
    hardsigmoid = layers.get("hardsigmoid")
    np.testing.assert_array_equal(got, hardsigmoid.forward(x, slope=alpha))
    assert np.max(np.abs(got - hardsigmoid.forward(x))) > 1e-9
    for method, attrs in (
        ("hardsigmoid", {}),
        ("hardswish", {}),
        ("gelu", {"approximate": "tanh"}),
    ):
        reason = refusal(evaluator, method, {"x": x}, attrs)
        assert "onnx_float32_attributes" in reason, reason
