"""The ONNX adapters (onnxruntime, onnx_reference): every torch adapter layer and no other,
the export as users call it (the registry reuse changes no byte), the cache, the
refusals in the exporter's and ONNX Runtime's own words, and the evidence for the
declared invalid export."""

from __future__ import annotations

import numpy as np
import pytest

import adapters
from adapters import _onnx_export, _onnx_rules
from adapters.base import Unsupported, layer_method
from tests import known_divergences, layers
from tests.adapters.calls import forward, refusal
from tests.adapters.onnx_evidence import (
    NAMES,
    adapter_fixture,
    assert_matched_through_adapter,
    matched,
    runtimes,
)

pytestmark = [pytest.mark.onnxruntime, pytest.mark.onnx_reference]

adapter = adapter_fixture()


def _conv_inputs(dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((1, 2, 5, 6)).astype(dtype),
        "w": rng.standard_normal((3, 2, 3, 3)).astype(dtype),
        "b": rng.standard_normal(3).astype(dtype),
    }


@pytest.mark.parametrize("name", NAMES)
def test_layers_are_exactly_the_torch_adapters(name):
    # No framework import: the registry's instance answers from the torch adapter's class.
    for info in layers.all_layers():
        assert adapters.supports(name, info.method) == adapters.supports("torch", info.method)
    for member in ("load", "version", "determinism_flags", "name", "_lib", "_tensors"):
        assert layer_method(adapters.get(name), member) is None
    with pytest.raises(AttributeError, match="has no correlate2d"):
        adapters.get(name).correlate2d  # noqa: B018


def test_backward_is_refused_before_any_export(adapter):
    before = len(_onnx_export._CACHE)
    inputs = _conv_inputs(seed=11)
    reason = refusal(adapter, "conv2d", inputs, {"padding": 1}, direction="backward")
    assert "forward pass only" in reason
    assert len(_onnx_export._CACHE) == before


def test_torch_rules_come_first(adapter):
    # The torch adapter's own refusal, unchanged: nothing is exported.
    reason = refusal(adapter, "conv2d", _conv_inputs(), {"padding": ((1, 0), (2, 1))})
    assert "applied on both sides" in reason


def test_forward_runs_the_exported_graph_and_is_cached(adapter):
    import torch

    inputs = _conv_inputs(seed=3)
    y = forward(adapter, "conv2d", inputs, {"padding": 1, "stride": 2})
    conv = torch.nn.Conv2d(2, 3, 3, padding=1, stride=2)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(inputs["w"]))
        conv.bias.copy_(torch.from_numpy(inputs["b"]))
        want = conv(torch.from_numpy(inputs["x"])).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    first = adapter.conv2d(**inputs, padding=1, stride=2)
    second = adapter.conv2d(**inputs, padding=1, stride=2)
    assert first.key == second.key
    assert _onnx_export.export(first.key, first.torch_call) is _onnx_export.export(
        second.key, second.torch_call
    )
    other = adapter.conv2d(**_conv_inputs(seed=4), padding=1, stride=2)
    assert other.key != first.key  # other weights, another graph


def test_reused_registry_changes_no_byte():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    inputs = _conv_inputs(seed=5)
    conv = torch.nn.Conv2d(2, 3, 3, padding=1).eval()
    args = {"x": torch.from_numpy(inputs["x"])}
    ours = _onnx_export.export_module(conv, args)
    ours_again = _onnx_export.export_module(conv, args)
    with _onnx_export._quiet():
        plain = torch.onnx.export(conv, (args["x"],), input_names=["x"], dynamo=True)
    assert ours.SerializeToString() == plain.model_proto.SerializeToString()
    assert ours_again.SerializeToString() == plain.model_proto.SerializeToString()


def test_flags_name_the_exporter_and_its_opset(adapter):
    flags = adapter.determinism_flags()
    assert flags["exporter"] == "torch.onnx.export(dynamo=True)"
    prepared = adapter.relu(x=np.ones((2, 3), np.float32))
    exported = _onnx_export.export(prepared.key, prepared.torch_call)
    assert exported.opset == flags["opset"]
    assert f"opset {flags['opset']}" in prepared.forward().execution


def test_float64_conv_is_refused_in_onnx_runtimes_words():
    try:
        ort = adapters.load("onnxruntime")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    reason = refusal(ort, "conv2d", _conv_inputs(np.float64), {})
    assert "NOT_IMPLEMENTED : Could not find an implementation for Conv" in reason
    # The evaluator computes the same graph in float64.
    y = forward(adapters.load("onnx_reference"), "conv2d", _conv_inputs(np.float64), {})
    assert y.dtype == np.float64


def test_an_undeclared_invalid_model_is_an_error():
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT64, [2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    with pytest.raises(RuntimeError, match="wrote an invalid model"):
        _onnx_rules.check_model(model, "a hand-made Sigmoid on int64")


def test_cross_entropy_probabilities_export_is_an_invalid_model():
    """Evidence for the two ``*-ce-probabilities-invalid-model`` entries: fails once the
    exporter writes a valid model (then drop the entries and the adapter's rule)."""
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(7)
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    target = rng.dirichlet(np.ones(3), 4).astype(np.float32)
    args = {"logits": torch.from_numpy(logits), "target": torch.from_numpy(target)}
    model = _onnx_export.export_module(torch.nn.CrossEntropyLoss().eval(), args)
    assert [n.op_type for n in model.graph.node] == ["SoftmaxCrossEntropyLoss"]
    with pytest.raises(onnx.shape_inference.InferenceError, match="labels typestr: Tind"):
        onnx.checker.check_model(model, full_check=True)
    with pytest.raises(Exception, match="INVALID_GRAPH"):
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for name in NAMES:
        key = _onnx_rules.INVALID_CE_MODEL.format(adapter=name)
        assert known_divergences.refused(key).adapter == name
        reason = refusal(adapters.load(name), "cross_entropy", {"logits": logits, "target": target})
        assert repr(key) in reason


def test_unsupported_is_cached_too(adapter):
    inputs = {"logits": np.ones((2, 3), np.float32), "target": np.full((2, 3), 1 / 3, np.float32)}
    for _ in range(2):
        with pytest.raises(Unsupported, match="invalid model"):
            adapter.cross_entropy(**inputs).forward()


def test_export_drops_divisor_override():
    """Evidence for the two ``*-export-drops-divisor-override`` entries: the exported graph
    divides by the window size; through the adapter (no refusal) the comparison fails and
    the model explains it, and another wrong value is not explained.  Fails once the
    exported graph honours divisor_override (then drop the entries)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    x = np.random.default_rng(9).standard_normal((1, 2, 6, 6)).astype(np.float32)
    pool = torch.nn.AvgPool2d(2, stride=2, divisor_override=3).eval()
    model = _onnx_export.export_module(pool, {"x": torch.from_numpy(x)})
    assert [n.op_type for n in model.graph.node] == ["AveragePool"]
    with torch.no_grad():
        want = pool(torch.from_numpy(x)).numpy()
    attrs = {"kernel_size": 2, "divisor_override": 3}
    for runtime in runtimes():
        got = runtime.run_model(model, {"x": x})[0]
        np.testing.assert_allclose(got, want * 3 / 4, rtol=1e-6, atol=1e-7)
        entry = matched(f"{runtime.name}-export-drops-divisor-override")
        assert entry.signature.present(runtime) is not None
        assert_matched_through_adapter(
            runtime, entry.signature, "avgpool2d", {"x": x}, attrs, "float32"
        )


def test_export_drops_label_smoothing():
    """Evidence for the two ``*-export-drops-label-smoothing`` entries: the exported loss is
    torch's loss with label_smoothing=0, which the model explains through the adapter.
    Fails once the export honours label_smoothing (then drop the entries)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    rng = np.random.default_rng(17)
    logits = rng.standard_normal((5, 4)).astype(np.float32)
    target = rng.integers(0, 4, 5)
    args = {"logits": torch.from_numpy(logits), "target": torch.from_numpy(target)}
    smoothed = torch.nn.CrossEntropyLoss(label_smoothing=0.2).eval()
    model = _onnx_export.export_module(smoothed, args)
    assert [n.op_type for n in model.graph.node] == ["SoftmaxCrossEntropyLoss"]
    with torch.no_grad():
        want_smoothed = float(smoothed(*args.values()))
        unsmoothed = float(torch.nn.CrossEntropyLoss()(*args.values()))
    assert abs(want_smoothed - unsmoothed) > 1e-2
    inputs = {"logits": logits, "target": target}
    for runtime in runtimes():
        got = float(runtime.run_model(model, {"logits": logits, "target": target})[0])
        assert got == pytest.approx(unsmoothed, rel=1e-6)
        entry = matched(f"{runtime.name}-export-drops-label-smoothing")
        assert entry.signature.present(runtime) is not None
        assert_matched_through_adapter(
            runtime, entry.signature, "cross_entropy", inputs, {"label_smoothing": 0.2}, "float32"
        )
        assert forward(runtime, "cross_entropy", inputs, {"label_smoothing": 0.0}).shape == ()


def test_onnxruntime_silu_and_bce_logits_inherit_its_sigmoid():
    """Evidence for the silu and bce_logits_large onnxruntime entries (the sigmoid
    divergence): ONNX Runtime's SiLU is exactly x times its own Sigmoid, that Sigmoid is 0
    where the exact one is not, and the exported BCEWithLogitsLoss takes Log(Sigmoid(x)),
    which onnx.reference computes finite on the same graph."""
    torch = pytest.importorskip("torch")
    try:
        ort, evaluator = adapters.load("onnxruntime"), adapters.load("onnx_reference")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    refused = {}
    for dtype, zero_below in ((np.float32, -20.0), (np.float64, -39.0)):
        x = np.linspace(-40.0, 10.0, 501).astype(dtype)
        args = {"x": torch.from_numpy(x)}
        silu = _onnx_export.export_module(torch.nn.SiLU().eval(), args)
        sigmoid = _onnx_export.export_module(torch.nn.Sigmoid().eval(), args)
        assert [n.op_type for n in silu.graph.node] == ["Sigmoid", "Mul"]
        s = ort.run_model(sigmoid, {"x": x})[0]
        assert np.all(s[x <= zero_below] == 0)  # exact sigmoid(-39) = 1.2e-17 > 0
        try:
            y = ort.run_model(silu, {"x": x})[0]
        except Unsupported as exc:
            refused[np.dtype(dtype).name] = str(exc)
            continue
        np.testing.assert_array_equal(y, x * s)
    # ONNX Runtime 1.20.1 fuses the float64 SiLU into com.microsoft.QuickGelu, float32 only.
    for message in refused.values():
        assert "QuickGelu" in message, message
        assert "NOT_IMPLEMENTED" in message, message
    logits = np.array([[-60.0, 60.0]], np.float32)
    target = np.array([[1.0, 0.0]], np.float32)
    args = {"input": torch.from_numpy(logits), "target": torch.from_numpy(target)}
    bce = _onnx_export.export_module(torch.nn.BCEWithLogitsLoss(reduction="none").eval(), args)
    assert [n.op_type for n in bce.graph.node][-3:] == ["Sigmoid", "Log", "Sub"]
    feeds = {"input": logits, "target": target}
    assert np.isinf(ort.run_model(bce, feeds)[0][0, 0])
    # 60 + log1p(exp(-60)) = 60 in float32 (torch.nn.BCEWithLogitsLoss docs' formula).
    np.testing.assert_array_equal(evaluator.run_model(bce, feeds)[0], [[60.0, 60.0]])
    if refused:
        pytest.skip(
            f"ONNX Runtime {ort.version()} runs no {', '.join(refused)} SiLU (the adapter "
            f"refuses it quoting the runtime: {next(iter(refused.values()))[:160]}), so that "
            "dtype's silu entry has nothing to show; the rest is checked"
        )


def test_onnx_reference_erf_rounds_float64_to_float32():
    """Evidence for the gelu_none onnx_reference float64 entry: a float64 Erf node gives
    math.erf rounded to float32, and the exported float64 GELU is 0.5 x (1 + that)."""
    import math

    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    try:
        evaluator = adapters.load("onnx_reference")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    entry = matched("onnx_reference-erf-float64-via-float32")
    if entry.signature.present(evaluator) is None:
        pytest.skip(
            f"onnx {evaluator.version()}'s float64 Erf is not rounded to float32 (its probe, "
            "float64 GELU at x = 1, is not the float32-erf value): the entry selects nothing "
            "and the gelu cases run (measured in onnx 1.23.2)"
        )
    helper = onnx.helper
    x = np.linspace(-4.0, 4.0, 81)
    graph = helper.make_graph(
        [helper.make_node("Erf", ["x"], ["y"])],
        "erf",
        [helper.make_tensor_value_info("x", onnx.TensorProto.DOUBLE, [x.size])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.DOUBLE, [x.size])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    erf = np.array([math.erf(v) for v in x])
    got = evaluator.run_model(model, {"x": x})[0]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, erf.astype(np.float32).astype(np.float64))
    assert np.max(np.abs(got - erf)) > 1e-9
    gelu = _onnx_export.export_module(torch.nn.GELU().eval(), {"x": torch.from_numpy(x)})
    rounded = np.array([math.erf(v / math.sqrt(2.0)) for v in x]).astype(np.float32)
    want = 0.5 * x * (1.0 + rounded.astype(np.float64))
    np.testing.assert_allclose(evaluator.run_model(gelu, {"x": x})[0], want, rtol=4e-16, atol=0)
    # The matched entry: through the adapter (the parity tests' path) the model explains
    # the evaluator's output and nothing else.
    assert_matched_through_adapter(
        evaluator, entry.signature, "gelu", {"x": x}, {"approximate": "none"}
    )


def test_exported_nearest_resize_holds_torchs_indices():
    """Evidence for the ONNX resize_nearest_exact_tie entries: the exported nearest-exact
    upsample is a GatherND on constant indices, and 2 -> 41 output row 20 reads row 0
    (torch's float32 tie), where round_prefer_ceil of exactly 1/2 reads row 1."""
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    up = torch.nn.Upsample(size=(41, 3), mode="nearest-exact").eval()
    model = _onnx_export.export_module(up, {"x": torch.from_numpy(x)})
    assert "GatherND" in [n.op_type for n in model.graph.node]
    (indices,) = [
        onnx.numpy_helper.to_array(i) for i in model.graph.initializer if i.data_type == 7
    ]
    assert indices[20, 0, 0] == 0
    assert indices[21, 0, 0] == 1
    want = layers.get("resize2d").forward(x, size=(41, 3), nearest_mode="round_prefer_ceil")
    assert want[0, 0, 20, 0] == x[0, 0, 1, 0]
    for name in NAMES:
        try:
            runtime = adapters.load(name)
        except adapters.FrameworkMissing:
            continue
        got = runtime.run_model(model, {"x": x})[0]
        assert got[0, 0, 20, 0] == x[0, 0, 0, 0]


def test_onnx_reference_cubic_coefficients_are_float32():
    """Evidence for the resize_bicubic_align_corners onnx_reference float64 entry: its
    Resize computes with cubic_coeff_a as np.float32 (how the evaluator hands it FLOAT
    attributes); the same code with a Python float agrees with the reference."""
    pytest.importorskip("onnx")
    from onnx.reference.ops import op_resize

    try:
        evaluator = adapters.load("onnx_reference")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    entry = matched("onnx_reference-cubic-coefficients-float32")
    if entry.signature.present(evaluator) is None:
        pytest.skip(
            f"onnx {evaluator.version()} has no float32 cubic coefficients (its probe, a "
            "float64 cubic upsample of one 1 by 1.5, is not the float32 coefficients' "
            "sum): the entry selects nothing and the resize cases run (measured in onnx "
            "1.23.2)"
        )
    x = np.random.default_rng(29).standard_normal((1, 1, 5, 4))
    attrs = {"size": (6, 7), "mode": "cubic", "coordinate_transformation_mode": "align_corners"}
    want = layers.get("resize2d").forward(x, **attrs)

    def resized(a):
        return op_resize._interpolate_nd(
            x,
            lambda ratio, scale: op_resize._cubic_coeffs(ratio, scale, A=a),
            output_size=[1, 1, 6, 7],
            coordinate_transformation_mode="align_corners",
        )

    assert np.max(np.abs(resized(-0.75) - want)) < 1e-14
    assert np.max(np.abs(resized(np.float32(-0.75)) - want)) > 1e-8
    # The matched entry: its probe finds the bug, and through the adapter the model explains
    # the evaluator's output (this case and the fuzz example: one cell upsampled by 1.5)
    # and nothing else.
    assert_matched_through_adapter(evaluator, entry.signature, "resize2d", {"x": x}, attrs)
    one = {"mode": "cubic", "coordinate_transformation_mode": "half_pixel", "scale": 1.5}
    assert_matched_through_adapter(
        evaluator, entry.signature, "resize2d", {"x": np.full((1, 1, 1, 1), -1.3)}, one
    )


def test_onnx_reference_align_corners_uses_the_unfloored_length():
    """Evidence for onnx_reference-resize-align-corners-unfloored-length: the export
    writes scales and align_corners; ONNX Runtime samples the integer length's
    coordinates (torch's), the evaluator the unfloored one's, which the model explains."""
    x = np.arange(3.0, dtype=np.float32).reshape(1, 1, 1, 3)
    attrs = {
        "scale": (1, 0.75),
        "mode": "linear",
        "coordinate_transformation_mode": "align_corners",
    }
    want = layers.get("resize2d").forward(x.astype(np.float64), **attrs)
    np.testing.assert_array_equal(want.ravel(), [0.0, 2.0])
    try:
        ort = adapters.load("onnxruntime")
    except adapters.FrameworkMissing:
        ort = None
    if ort is not None:
        np.testing.assert_allclose(forward(ort, "resize2d", {"x": x}, attrs), want, atol=1e-6)
    try:
        evaluator = adapters.load("onnx_reference")
    except adapters.FrameworkMissing as exc:
        pytest.skip(str(exc))
    got = forward(evaluator, "resize2d", {"x": x}, attrs)
    np.testing.assert_allclose(got.ravel(), [0.0, 1.6], rtol=1e-6)
    entry = matched("onnx_reference-resize-align-corners-unfloored-length")
    assert entry.signature.present(evaluator) is not None
    fuzz = {"x": np.random.default_rng(0).standard_normal((1, 1, 2, 3))}
    linear = {"mode": "linear", "coordinate_transformation_mode": "align_corners", "scale": 0.75}
    assert_matched_through_adapter(evaluator, entry.signature, "resize2d", fuzz, linear)
