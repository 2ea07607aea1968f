"""The Keras adapter: its layout conversion against explicit loops, every rule it reports
as unsupported refused by Keras itself when asked directly, a prepared call that runs the
same each time, and the same adapter on the other Keras 3 backends (each in a subprocess:
KERAS_BACKEND is read at import)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import adapters
from adapters.base import FrameworkMissing, Unsupported, prepare
from tests import divergence_signatures as signatures
from tests.adapters.calls import backward, forward, refusal
from tests.adapters.loops import conv2d_loop, conv2d_weight_grad_loop
from tests.child_runs import ChildRuns, selected_params

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[2]

#: What a Keras layer raises for a keyword it does not have: Keras 3 "ValueError:
#: Unrecognized keyword arguments passed to ...", Keras 2 (tf.keras) "TypeError: Keyword
#: argument not understood".
UNKNOWN_ARGUMENT = (TypeError, ValueError)


@pytest.fixture(scope="module")
def adapter():
    try:
        return adapters.load("keras")
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def layers(adapter):
    return adapter.api.layers


def _conv_inputs(seed=0, c=3, m=4, bias=True):
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.standard_normal((2, c, 6, 7)), "w": rng.standard_normal((m, c, 3, 2))}
    if bias:
        inputs["b"] = rng.standard_normal(m)
    return inputs


def _cast(inputs, dtype):
    """The floating arrays of ``inputs`` as ``dtype`` (the dtype a call runs in)."""
    return {
        k: v.astype(dtype) if np.issubdtype(np.asarray(v).dtype, np.floating) else v
        for k, v in inputs.items()
    }


def _runs(adapter, method, inputs, attrs={}):  # noqa: B006
    """No refusal in either direction."""
    return all(refusal(adapter, method, inputs, attrs, d) is None for d in adapters.DIRECTIONS)


def _precision(adapter, method, inputs, attrs):
    """``(dtype, rtol)`` for a check of what a layer computes (its formula, not its
    precision): float64 at 1e-12 where Keras computes this call in float64 here, else
    float32 at 1e-5 (about 80 float32 eps, for these few-term sums).  Keras on jax and
    torch demotes float64 operands to float32 (keras-float64-demoted-to-float32 in
    tests/known_divergences.py; the parity tests judge that precision), and Keras 3.3's
    losses take no dtype (the adapter refuses float64 there)."""
    refused = refusal(adapter, method, _cast(inputs, np.float64), attrs)
    if signatures.float64_demoted(adapter) or refused is not None:
        return np.float32, 1e-5
    return np.float64, 1e-12


def test_version_names_keras_and_backend(adapter):
    version = adapter.version()
    assert version.startswith("keras ")
    assert f"backend {adapter.api.backend} " in version
    assert adapter.determinism_flags()["KERAS_BACKEND"] == adapter.api.backend


def test_conv_hwio_nhwc_and_zero_padding_match_explicit_loop(adapter):
    inputs = _conv_inputs()
    pads = ((1, 0), (2, 1))  # asymmetric: goes through keras.layers.ZeroPadding2D
    attrs = {"stride": (2, 1), "padding": pads}
    assert _runs(adapter, "conv2d", inputs, attrs)
    got = forward(adapter, "conv2d", inputs, attrs)
    np.testing.assert_allclose(
        got, conv2d_loop(**inputs, stride=(2, 1), pads=pads), rtol=1e-12, atol=1e-12
    )
    grad_out = np.random.default_rng(1).standard_normal(got.shape)
    grads = backward(adapter, "conv2d", grad_out, inputs, attrs)
    assert set(grads) == {"x", "w", "b"}
    dw = conv2d_weight_grad_loop(inputs["x"], grad_out, (3, 2), stride=(2, 1), pads=pads)
    np.testing.assert_allclose(grads["w"], dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads["b"], grad_out.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv_without_bias_uses_no_bias(adapter):
    inputs = _conv_inputs(bias=False)
    out = forward(adapter, "conv2d", inputs)
    np.testing.assert_allclose(out, conv2d_loop(**inputs), rtol=1e-12, atol=1e-12)
    assert set(backward(adapter, "conv2d", np.ones_like(out), inputs)) == {"x", "w"}


def test_conv_refuses_dilation_with_stride(adapter, layers):
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    inputs = _cast(_conv_inputs(bias=False), np.float32)
    for direction in adapters.DIRECTIONS:
        reason = refusal(adapter, "conv2d", inputs, {"stride": 2, "dilation": 2}, direction)
        assert "dilation_rate" in reason
    # Neighbours: dilation at stride 1, and groups, run.
    assert _runs(adapter, "conv2d", inputs, {"dilation": (2, 1)})
    grouped = {"x": np.ones((1, 4, 5, 5)), "w": np.ones((6, 2, 3, 3))}
    assert _runs(adapter, "conv2d", grouped, {"groups": 2})
    np.testing.assert_allclose(
        forward(adapter, "conv2d", grouped, {"groups": 2}), conv2d_loop(**grouped, groups=2)
    )


def test_pooling_refusals_are_keras_own(adapter, layers):
    with pytest.raises(UNKNOWN_ARGUMENT, match="dilation_rate"):
        layers.MaxPooling2D(pool_size=2, dilation_rate=2)
    with pytest.raises(UNKNOWN_ARGUMENT, match="ceil_mode"):
        layers.MaxPooling2D(pool_size=2, ceil_mode=True)
    with pytest.raises(UNKNOWN_ARGUMENT, match="count_include_pad"):
        layers.AveragePooling2D(pool_size=2, count_include_pad=True)
    x = {"x": np.random.default_rng(5).permutation(64).astype(np.float32).reshape(1, 1, 8, 8)}
    assert "dilation_rate" in refusal(adapter, "maxpool2d", x, {"kernel_size": 2, "dilation": 2})
    ceil_pad = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    assert "ceil_mode" in refusal(adapter, "maxpool2d", x, ceil_pad)
    # Neighbour: torch's k3 s2 p1 on 7x7 has exactly Keras' 'same' windows.
    x7 = {"x": x["x"][:, :, :7, :7]}
    same_as_p1 = {"kernel_size": 3, "stride": 2, "padding": 1}
    assert _runs(adapter, "maxpool2d", x7, same_as_p1)
    a = np.pad(x7["x"][0, 0], 1, constant_values=-np.inf)
    want = np.array(
        [[a[2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max() for j in range(4)] for i in range(4)]
    )
    np.testing.assert_array_equal(forward(adapter, "maxpool2d", x7, same_as_p1)[0, 0], want)


def test_same_average_pooling_excludes_padding(adapter, layers):
    ones = np.ones((1, 7, 7, 1))
    out = adapter.api.numpy(layers.AveragePooling2D(3, 2, padding="same")(adapter.api.tensor(ones)))
    assert np.all(out == 1.0)  # counting padding, the corner window would give 4/9
    x = {"x": np.ones((1, 1, 7, 7), np.float32)}
    include = {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": True}
    assert "count_include_pad" in refusal(adapter, "avgpool2d", x, include)
    exclude = {**include, "count_include_pad": False}
    assert _runs(adapter, "avgpool2d", x, exclude)


def test_flatten_has_no_start_dim(adapter, layers):
    with pytest.raises(UNKNOWN_ARGUMENT, match="start_dim"):
        layers.Flatten(start_dim=2)
    x = {"x": np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)}
    assert "start_dim" in refusal(adapter, "flatten", x, {"start_dim": 2})
    np.testing.assert_array_equal(forward(adapter, "flatten", x), x["x"].reshape(2, 12))


def test_mse_averages_the_last_axis_first(adapter):
    pred = np.random.default_rng(6).standard_normal((2, 3, 4))
    inputs = {"pred": pred, "target": np.zeros_like(pred)}
    dtype, rtol = _precision(adapter, "mse", inputs, {"reduction": "mean"})
    pred = pred.astype(dtype)
    inputs = {"pred": pred, "target": np.zeros_like(pred)}
    loss = adapter.api.loss("MeanSquaredError", "none", np.dtype(dtype).name)
    per_sample = adapter.api.numpy(
        loss(adapter.api.tensor(np.zeros_like(pred)), adapter.api.tensor(pred))
    )
    want = (pred.astype(float) ** 2).mean(axis=-1)
    np.testing.assert_allclose(per_sample, want, rtol=rtol)
    for reduction in ("none", "sum"):
        assert "axis=-1" in refusal(adapter, "mse", inputs, {"reduction": reduction})
    assert _runs(adapter, "mse", inputs, {"reduction": "mean"})
    np.testing.assert_allclose(
        forward(adapter, "mse", inputs, {"reduction": "mean"}), want.mean(), rtol=rtol
    )


def test_categorical_crossentropy_on_probabilities(adapter):
    # Keras renormalises each row and clips to [eps, 1 - eps] (keras.config.epsilon(),
    # 1e-7) before -sum(target * log p); written out here in float64.
    rng = np.random.default_rng(9)
    probs = rng.uniform(0.1, 1.0, (3, 4))
    probs[0] = [1.0, 1e-12, 0.5, 0.5]  # one entry clipped up to eps after renormalising
    target = rng.dirichlet(np.ones(4), 3)
    layer = "categorical_crossentropy"
    dtype, rtol = _precision(adapter, layer, {"probs": probs, "target": target}, {})
    probs, target = probs.astype(dtype), target.astype(dtype)
    inputs = {"probs": probs, "target": target}
    p64 = probs.astype(float)
    p = np.clip(p64 / p64.sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7)
    per_sample = -(target * np.log(p)).sum(axis=-1)
    for reduction, want in (("mean", per_sample.mean()), ("none", per_sample)):
        attrs = {"reduction": reduction}
        assert _runs(adapter, layer, inputs, attrs)
        np.testing.assert_allclose(forward(adapter, layer, inputs, attrs), want, rtol=rtol)
    grads = backward(adapter, layer, np.ones(3), inputs, {"reduction": "none"})
    assert set(grads) == {"probs"}
    assert grads["probs"].shape == probs.shape
    # Through the renormalisation: scaling a row leaves the loss unchanged, so the
    # gradient is orthogonal to that row (Euler, degree-0 homogeneity).
    orthogonal = (grads["probs"].astype(float) * probs).sum(axis=-1)
    np.testing.assert_allclose(orthogonal, 0.0, atol=10 * rtol)


def test_signal_layers_have_no_method(adapter):
    # scipy.signal's functions are no Keras layer or loss (Keras' convolution layers are
    # the conv2d cases): the adapter has no method, and prepare() says so.
    signal = {"in1": np.ones(5, np.float32), "in2": np.ones(2, np.float32)}
    for method in ("correlate", "convolve", "correlate2d", "convolve2d"):
        assert not adapters.supports("keras", method)
        assert refusal(adapter, method, signal, {"mode": "valid"}) == f"keras has no {method}"
        with pytest.raises(Unsupported, match=method):
            prepare(adapter, method, signal, {"mode": "valid"})


def test_dropout_reads_keras_scale_and_eval_is_identity(adapter):
    rng = np.random.default_rng(7)
    x, mask = rng.standard_normal((4, 10)), rng.random((4, 10)) >= 0.2
    assert adapter.api.dropout_scale(0.2, "float64") == pytest.approx(1 / 0.8, rel=1e-15)
    got = forward(adapter, "dropout", {"x": x, "mask": mask}, {"p": 0.2, "training": True})
    np.testing.assert_allclose(got, x * mask / 0.8, rtol=1e-15)
    grad = backward(adapter, "dropout", np.ones_like(x), {"x": x, "mask": mask}, {"p": 0.2})
    np.testing.assert_allclose(grad["x"], mask / 0.8, rtol=1e-15)
    np.testing.assert_array_equal(
        forward(adapter, "dropout", {"x": x, "mask": mask}, {"p": 0.2, "training": False}), x
    )


def test_batchnorm_eval_uses_running_statistics(adapter):
    rng = np.random.default_rng(8)
    inputs = {
        "x": rng.standard_normal((2, 3, 2, 2)),
        "gamma": rng.uniform(0.5, 1.5, 3),
        "beta": rng.standard_normal(3),
        "running_mean": rng.standard_normal(3),
        "running_var": rng.uniform(0.5, 2.0, 3),
    }
    attrs = {"training": False, "eps": 1e-3}
    dtype, rtol = _precision(adapter, "batchnorm2d", inputs, attrs)
    inputs = {k: v.astype(dtype) for k, v in inputs.items()}
    got = forward(adapter, "batchnorm2d", inputs, attrs)
    c = (slice(None), None, None)
    v = {k: a.astype(float) for k, a in inputs.items()}
    want = (v["x"] - v["running_mean"][c]) / np.sqrt(v["running_var"][c] + 1e-3)
    np.testing.assert_allclose(got, want * v["gamma"][c] + v["beta"][c], rtol=rtol)
    grads = backward(adapter, "batchnorm2d", np.ones_like(got), inputs, {"training": True})
    assert {k: v.shape for k, v in grads.items()} == {
        "x": (2, 3, 2, 2),
        "gamma": (3,),
        "beta": (3,),
    }


def test_prepared_runs_give_the_same_result_each_time(adapter):
    """A benchmark calls ``Run.call`` of one prepared layer many times: each call computes
    the same numbers again, batch norm in training mode included (Keras updates its moving
    statistics on every call; the output uses the batch's), and dropout (the case's mask)."""
    rng = np.random.default_rng(10)
    bn = {
        "x": rng.standard_normal((2, 3, 4, 4)),
        "gamma": rng.uniform(0.5, 1.5, 3),
        "beta": rng.standard_normal(3),
        "running_mean": rng.standard_normal(3),
        "running_var": rng.uniform(0.5, 2.0, 3),
    }
    x = rng.standard_normal((4, 10))
    calls = [
        ("conv2d", _conv_inputs(), {"stride": 2, "padding": 1}),
        ("batchnorm2d", bn, {"training": True}),
        ("dropout", {"x": x, "mask": rng.random((4, 10)) >= 0.5}, {"p": 0.5}),
    ]
    for method, inputs, attrs in calls:
        # float32: Keras computes it as float32 on every backend (float64 may be refused).
        prepared = prepare(adapter, method, _cast(inputs, np.float32), attrs)
        run = prepared.forward()
        first, second = run.result(), run.result()
        np.testing.assert_array_equal(first, second, err_msg=method)
        assert not np.shares_memory(first, second)  # two computations, not one cached
        grad_run = prepared.backward(rng.standard_normal(first.shape).astype(np.float32))
        first, second = grad_run.result(), grad_run.result()
        assert set(first) == set(second)
        for name in first:
            np.testing.assert_array_equal(first[name], second[name], err_msg=f"{method} {name}")


_SCRIPT = """
import json, numpy as np, adapters
from tests import divergence_signatures as signatures
from tests.adapters.calls import backward, forward, refusal
try:
    a = adapters.load("keras")
except adapters.FrameworkMissing as exc:  # Keras does not import on this backend
    print(json.dumps({"unavailable": str(exc)}))
    raise SystemExit
rng = np.random.default_rng(0)
inputs = {"x": rng.standard_normal((1, 2, 5, 5)).astype("float32"),
          "w": rng.standard_normal((3, 2, 3, 3)).astype("float32")}
attrs = {"padding": ((1, 0), (0, 1))}
out = forward(a, "conv2d", inputs, attrs)
grads = backward(a, "conv2d", np.ones_like(out), inputs, attrs)
facts = {}
if not a.api.tf_keras:  # the known Keras 3 backend bugs (tests/known_divergences.py)
    import keras
    tiny = 2.0 ** -40
    mean = keras.ops.mean(keras.ops.convert_to_tensor(np.array([1.0, tiny])))
    bn = {"x": rng.standard_normal((2, 2, 3, 3)), "gamma": np.ones(2), "beta": np.zeros(2),
          "running_mean": np.zeros(2), "running_var": np.ones(2)}
    avg = {"kernel_size": 3, "stride": 2, "padding": "same", "count_include_pad": False}
    one_filter = {"x": np.ones((1, 3, 5, 5), "float32"), "w": np.ones((1, 3, 2, 2), "float32")}
    transpose = {"x": np.ones((1, 1, 3, 3), "float32"), "w": np.ones((1, 1, 3, 3), "float32")}
    same_stride2 = {"stride": 2, "padding": "same"}
    one_input = {"x": np.ones((1, 1, 4, 4), "float32"), "w": np.ones((1, 2, 3, 3), "float32")}
    from tests import divergence_signatures_decoder as decoder_signatures
    from tests import known_divergences, layers
    from tests.harness import compare_observed
    case = layers.case("ct_same_k3_s2")
    _, failure, observed = compare_observed(a, "conv_transpose2d", "forward", case.inputs,
                                            case.attrs, "float64", label="evidence", repro="-")
    verdict = known_divergences.judge(("conv_transpose2d", case.id, "keras", "float64",
                                       "forward"), observed, failure is not None)
    facts = {
        "result_type": keras.backend.result_type("float64", "float64"),
        "mean_float64_exact": float(keras.ops.convert_to_numpy(mean)) == (1 + tiny) / 2,
        "float64_probe": signatures.float64_demoted(a),
        "bn_float64": refusal(a, "batchnorm2d", bn, {"training": True}),
        "avg_same_replicated": a.api.numpy(
            a.api.layers.AveragePooling2D((1, 3), (1, 2), padding="same", dtype="float64")(
                a.api.tensor(np.array([10.0, 20.0]).reshape(1, 1, 2, 1)))).item(),
        "avg_probe": signatures.same_average_replicates_edge(a),
        "avg_same": refusal(a, "avgpool2d", {"x": np.ones((1, 1, 2, 2))}, avg),
        "one_filter": refusal(a, "conv2d", one_filter, {}, "backward"),
        "ln_hw": refusal(a, "layernorm", {"x": np.ones((1, 2, 3, 2), "float32"),
                                          "gamma": np.ones((3, 2), "float32"),
                                          "beta": np.zeros((3, 2), "float32")}, {"axes": (2, 3)}),
        "transpose_same_row": decoder_signatures.same_probe_row(a),
        "transpose_same": refusal(a, "conv_transpose2d", transpose, same_stride2),
        "transpose_same_probe": decoder_signatures.conv_transpose_same_shifted(a),
        "transpose_same_k3": {"failed": failure is not None, "xfail": verdict.xfail,
                              "stale": verdict.stale},
        "transpose_one_input": refusal(a, "conv_transpose2d", one_input, {}, "backward"),
    }
print(json.dumps({"version": a.version(), "out": out.tolist(),
                  "grads": {k: list(v.shape) for k, v in grads.items()}, "facts": facts}))
"""


def _backend_command(backend: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    return [sys.executable, "-c", _SCRIPT], env


def _backend_installed(backend: str) -> bool:
    return importlib.util.find_spec("keras") is not None and (
        importlib.util.find_spec(backend) is not None
    )


@pytest.fixture(scope="module")
def backend_runs(request):
    # A hang guard: these children share the cores with the Keras-backend parity
    # children (tests/keras_backend_runs.py), which start when collection ends.
    runs = ChildRuns(_backend_command, timeout=300)
    runs.prefetch(b for b in selected_params(request, "backend") if _backend_installed(b))
    yield runs
    runs.close()


def _run_on_backend(runs: ChildRuns, backend: str) -> dict:
    """The adapter on ``KERAS_BACKEND=backend`` in a child process (the backend is read
    at import): a conv forward/backward and the facts behind the known backend bugs."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"KERAS_BACKEND={backend}: {backend} is not installed")
    done = runs.result(backend)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "unavailable" in result:
        pytest.skip(f"KERAS_BACKEND={backend}: {result['unavailable']}")
    if backend != "tensorflow" and result["version"].split()[1].startswith("2"):
        pytest.skip(f"Keras 2 (tf.keras) has only the tensorflow backend: {result['version']}")
    return result


# Subprocess sessions (TF's import alone > 10 s): heavy, so --full runs them; the quick
# run checks the other backends through the parity children (tests/keras_backend_runs.py).
@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_adapter_runs_on_each_keras_backend(backend, backend_runs):
    result = _run_on_backend(backend_runs, backend)
    assert f"(backend {backend} " in result["version"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5)).astype("float32")
    w = rng.standard_normal((3, 2, 3, 3)).astype("float32")
    want = conv2d_loop(x.astype(float), w.astype(float), pads=((1, 0), (0, 1)))
    np.testing.assert_allclose(np.array(result["out"]), want, rtol=1e-5, atol=1e-5)
    assert result["grads"] == {"x": [1, 2, 5, 5], "w": [3, 2, 3, 3]}


# Evidence for the Keras entries of tests/known_divergences.py, as measured with keras
# 3.15.1, torch 2.13.0, jax 0.10.2.  The "matched" entries' probes must find each bug
# exactly where the installed release has it, and the adapter must refuse none of it (a
# wrong value is for the parity tests to judge: tests/parity/test_keras_backends.py runs
# them on these backends).  The one-filter conv error is refused, quoting torch.  Where a
# release does not have a bug the test skips, saying so; once no supported release has
# it, the entry goes.


# Heavy for the same reason (two more children beside the parity children cost the quick
# run ~9 s of its 3 minutes); the parity children still meet these bugs in the quick run.
@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_known_keras_backend_bugs_reproduce(backend, backend_runs):
    from adapters import _keras_rules as rules

    result = _run_on_backend(backend_runs, backend)
    facts, absent = result["facts"], []
    # keras-float64-demoted-to-float32: float64 promotes to float32 and ops.mean rounds
    # (in float64, mean([1, 2**-40]) is exact); the probe says so, the adapter runs it.
    demoted = facts["result_type"] == "float32"
    assert demoted == (facts["mean_float64_exact"] is False)
    assert demoted == (facts["float64_probe"] is not None)
    assert facts["bn_float64"] is None
    if not demoted:
        absent.append("keras-float64-demoted-to-float32")
    # keras-torch-same-average-pool-replicates-edge: mean([10, 20]) with one cell of
    # right padding is 15; (10 + 20 + 20) / 3 when the edge cell is replicated (Keras
    # <= 3.4.1 gives 10: another bug, not declared).  Never refused.
    replicates = facts["avg_same_replicated"] == pytest.approx(50 / 3, rel=1e-12)
    assert replicates == (facts["avg_probe"] is not None)
    assert facts["avg_same"] is None
    if backend == "torch" and not replicates:
        absent.append("keras-torch-same-average-pool-replicates-edge")
    # keras-torch-one-filter-conv-grad-weight-contiguous: torch's error, quoted.
    refused = rules.ONE_FILTER_CONV_GRAD in (facts["one_filter"] or "")
    if refused:
        assert "slow_conv2d: grad_weight must be contiguous" in facts["one_filter"]
    elif backend == "torch":
        absent.append(rules.ONE_FILTER_CONV_GRAD)
    # keras-torch-layernorm-contiguous-non-trailing-axes: torch's F.layer_norm, quoted.
    refused = rules.LAYERNORM_NON_TRAILING in (facts["ln_hw"] or "")
    if refused:
        assert "expected input with shape" in facts["ln_hw"]
    elif backend == "torch":
        absent.append(rules.LAYERNORM_NON_TRAILING)
    if absent:
        pytest.skip(f"{result['version']}: does not reproduce {absent} (the adapter agrees)")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_conv_transpose_same_shift(backend, backend_runs):
    """keras-torch-conv-transpose-same-shifted: Conv2DTranspose(padding='same') at stride 2
    keeps cells 0-5 of the full scatter of [1, 10, 100] (TensorFlow's rule); its torch
    backend before keras-team/keras#22876 keeps cells 1-6 (the model's torch padding 1 /
    output_padding 1).  Nothing is refused for it: where the probe sees the shifted row,
    ct_same_k3_s2 fails and the verdict xfails it as that bug's own value; elsewhere it
    passes with no verdict (same child runs as above).  The matcher on the bug's exact
    value and on other wrong values: tests/adapters/test_matched_decoder.py."""
    from tests import divergence_signatures_decoder as decoder_signatures

    facts = _run_on_backend(backend_runs, backend)["facts"]
    row, judged = facts["transpose_same_row"], facts["transpose_same_k3"]
    assert facts["transpose_same"] is None
    shifted = row == decoder_signatures.SAME_PROBE_SHIFTED
    assert shifted == (facts["transpose_same_probe"] is not None)
    if not shifted:
        assert row == decoder_signatures.SAME_PROBE_KEPT
        assert judged == {"failed": False, "xfail": None, "stale": None}
        pytest.skip(f"KERAS_BACKEND={backend}: 'same' is not shifted here (ct_same_k3_s2 passes)")
    assert backend == "torch"
    assert judged["failed"]
    assert judged["stale"] is None
    assert (judged["xfail"] or "").startswith("keras-torch-conv-transpose-same-shifted (")


def _torch_one_input_channel_transpose_error() -> str | None:
    """torch alone: conv_transpose2d on the views Keras' torch backend builds (NHWC input
    permuted to NCHW, a (kh, kw, C_out, C_in) kernel permuted to (C_in, C_out, kh, kw))
    with one input channel; torch's error, or None when the backward runs."""
    torch = pytest.importorskip("torch")

    def grads(c_in):
        x_nhwc = torch.ones((1, 4, 4, c_in), requires_grad=True)
        kernel = torch.ones((3, 3, 2, c_in), requires_grad=True)
        y = torch.nn.functional.conv_transpose2d(
            x_nhwc.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1)
        )
        return torch.autograd.grad(y, [x_nhwc, kernel], torch.ones_like(y))

    assert grads(2)[1].shape == (3, 3, 2, 2)  # two input channels run
    try:
        grads(1)
    except RuntimeError as exc:
        return str(exc)
    return None


def test_torch_one_input_channel_channels_last_conv_transpose_backward_fails():
    """keras-torch-one-input-channel-conv-transpose-grad-weight-contiguous, in torch alone."""
    message = _torch_one_input_channel_transpose_error()
    if message is None:
        pytest.skip("this torch runs the one-input-channel backward (bug absent)")
    assert "grad_weight needs to be contiguous" in message


def test_keras_torch_refuses_one_input_channel_transpose_backward_where_torch_fails(backend_runs):
    """The adapter on Keras' torch backend refuses that backward exactly when this torch
    fails it (same child run as the tests above)."""
    from adapters import _keras_decoder_rules as decoder_rules

    refused = _run_on_backend(backend_runs, "torch")["facts"]["transpose_one_input"]
    fails = _torch_one_input_channel_transpose_error() is not None
    assert fails == (decoder_rules.ONE_INPUT_CHANNEL_GRAD in (refused or ""))
    if not fails:
        pytest.skip("this torch runs the one-input-channel backward: nothing to refuse")


def test_torch_one_filter_channels_last_conv_backward_fails():
    """keras-torch-one-filter-conv-grad-weight-contiguous, in torch alone: the kernel
    view Keras' torch backend builds (HWIO permuted to OIHW, made channels_last) with one
    output channel.  A neighbour with two filters runs."""
    torch = pytest.importorskip("torch")
    conv2d = torch.nn.functional.conv2d

    def grads(filters):
        x_nhwc = torch.ones((1, 5, 5, 3), dtype=torch.float64, requires_grad=True)
        k_hwio = torch.ones((2, 2, 3, filters), dtype=torch.float64, requires_grad=True)
        x = x_nhwc.permute(0, 3, 1, 2)
        k = k_hwio.permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
        y = conv2d(x, k)
        return torch.autograd.grad(y, [x_nhwc, k_hwio], torch.ones_like(y))

    assert grads(2)[1].shape == (2, 2, 3, 2)
    try:
        grads(1)
        message = None
    except RuntimeError as exc:
        message = str(exc)
    if message is None:
        pytest.skip(f"torch {torch.__version__}: one-filter backward runs (bug absent)")
    assert "slow_conv2d: grad_weight must be contiguous" in message


def test_keras_that_fails_to_import_on_its_backend_is_reported_not_mistaken_for_keras2():
    """An installed Keras whose backend import fails (as Keras 3.15 on jax 0.4.20, tox
    jaxold) is reported with the ImportError.  Here the backend is made unimportable with
    tests/block_frameworks.py: jax for Keras 3; tensorflow for Keras 2, its only backend
    (Keras 2 ignores KERAS_BACKEND=jax and imports tensorflow)."""
    import importlib.metadata
    import subprocess

    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    keras2 = importlib.metadata.version("keras").startswith("2.")
    backend = "tensorflow" if keras2 else "jax"
    script = (
        "import tests.block_frameworks, adapters\n"
        "try:\n    adapters.load('keras')\n"
        "except adapters.FrameworkMissing as exc:\n    print(exc)"
    )
    env = {**os.environ, "KERAS_BACKEND": backend, "CNN_PARITY_BLOCK": backend}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), "keras loaded with its backend blocked"
    said = done.stdout.strip().splitlines()[-1]
    assert said.startswith(f"keras is installed but does not import with KERAS_BACKEND={backend}")
    assert f"No module named '{backend}" in said
