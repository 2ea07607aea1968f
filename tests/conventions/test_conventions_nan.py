"""Conventions table rows about NaN and Inf (tests/conventions/table_nan.py), one test each.

Every test runs the frameworks through their adapters on a seeded fixture holding NaN or
Inf, asserts the side the reference reproduces (under the layer's tolerance), computes the
other side's documented formula in IEEE arithmetic and asserts each framework equals it
exactly (NaN where NaN, the same infinities, the same finite values), and asserts the two
sides differ where the row says.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import batchnorm2d, cross_entropy, maxpool2d, relu, signal
from tests.conventions import probes
from tests.conventions import support as s
from tests.conventions.table import ROW
from tests.harness import seed_for

pytestmark = pytest.mark.conventions

N = np.nan
#: 2x2 windows, cells in row-major order: none, one, two, four NaNs at varied places, a
#: window of -inf alone and one of NaN and -inf.
WINDOWS = (
    (1, 4, 2, 3),
    (N, 1, 2, 3),
    (1, N, 2, 3),
    (1, 2, 3, N),
    (5, N, 1, 2),
    (N, 1, N, 2),
    (1, N, 3, N),
    (1, N, N, 2),
    (N, N, N, N),
    (-np.inf,) * 4,
    (N, -np.inf, -np.inf, -np.inf),
    (-3, -1, -2, -4),
)


#: Windows of finite cells (and no NaN): where every side agrees.
PLAIN = np.array([not np.isnan(w).any() and np.isfinite(w).any() for w in WINDOWS])


def _pool_fixture(dtype=np.float32) -> np.ndarray:
    """(1, 1, 2, 2 * len(WINDOWS)) with window w at columns 2w, 2w + 1."""
    x = np.empty((1, 1, 2, 2 * len(WINDOWS)), dtype)
    for w, cells in enumerate(WINDOWS):
        x[0, 0, :, 2 * w : 2 * w + 2] = np.reshape(cells, (2, 2))
    return x


def _cells(x: np.ndarray) -> np.ndarray:
    """(windows, 4): each 2x2 window's cells in row-major order."""
    return x[0, 0].reshape(2, -1, 2).transpose(1, 0, 2).reshape(-1, 4)


def _scatter(x: np.ndarray, g: np.ndarray, winners) -> np.ndarray:
    """dx with each window's gradient at its winning cell."""
    d = np.zeros((len(winners), 4), x.dtype)
    d[np.arange(len(winners)), winners] = g.ravel()
    return d.reshape(-1, 2, 2).transpose(1, 0, 2).reshape(x.shape)


def _first_max(values) -> int:
    best = None
    for i, v in enumerate(values):
        if best is None or v > values[best]:
            best = i
    return best


def _torch_rule(c) -> int:  # val > maxval || isnan(val): the last NaN, else the first max
    nans = np.flatnonzero(np.isnan(c))
    return int(nans[-1]) if nans.size else _first_max(c)


def _jax_rule(c) -> int:  # keep the current cell while current >= next
    nans = np.flatnonzero(np.isnan(c))
    if not nans.size:
        return _first_max(c)
    last = int(nans[-1])
    return last if last == 3 else last + 1 + _first_max(c[last + 1 :])


def _tf_rule(c) -> int:  # the first cell, then any strictly greater one: NaN never is
    return _first_max(c)


def _reference_rule(c) -> int:
    nans = np.flatnonzero(np.isnan(c))
    return int(nans[0]) if nans.size else _first_max(c)


def _tf_forward(x: np.ndarray) -> np.ndarray:
    """Max of the non-NaN cells, starting from the lowest finite float."""
    lowest = np.finfo(x.dtype).min
    out = [max([lowest, *(v for v in c if not np.isnan(v))]) for c in _cells(x)]
    return np.asarray(out, x.dtype).reshape(1, 1, 1, -1)


def _scipy_forward(x: np.ndarray) -> np.ndarray:
    """Each window column scanned top to bottom, then the columns left to right, keeping
    the current value unless the next is greater."""

    def scan(a, b):
        return b if b > a else a

    out = [scan(scan(c[0], c[2]), scan(c[1], c[3])) for c in _cells(x)]
    return np.asarray(out, x.dtype).reshape(1, 1, 1, -1)


def _keras_follows(rules: dict) -> dict:
    """Keras's entry: the rule of the backend it runs on (KERAS_BACKEND)."""
    return {**rules, "keras": rules[probes.keras_backend()]}


def test_maxpool_nan_forward(request):
    row = ROW["maxpool_nan_forward"]
    rec = s.start_record(request, row, fixture=f"{len(WINDOWS)} 2x2 windows, float32")
    frameworks = s.available((*row.a.frameworks, *row.b.frameworks))
    s.note_versions(rec, frameworks)
    x, attrs = _pool_fixture(), row.a.params
    ref = maxpool2d.forward(x, **attrs)
    formulas = {"torch": None, "jax": None, "tensorflow": _tf_forward, "scipy": _scipy_forward}
    if "keras" in frameworks:
        formulas = _keras_follows(formulas)
    for name, adapter in frameworks.items():
        got = s.run(adapter, "maxpool2d", {"x": x}, attrs)
        if formulas[name] is None:  # side A: the reference, under the layer's tolerance
            s.side(rec, name, got, "maxpool2d", {"x": x}, attrs, "float32")
            continue
        np.testing.assert_array_equal(got, formulas[name](x), err_msg=name)
        s.matches(rec, f"{name} (formula)", 0.0)
        np.testing.assert_array_equal(got.ravel()[PLAIN], ref.ravel()[PLAIN])
        assert not np.isnan(got.ravel()).all(), f"{name} drops some NaN"
        s.widen(rec, np.nan_to_num(got), np.nan_to_num(ref))
    lowest = np.finfo(np.float32).min
    assert _tf_forward(x).ravel()[WINDOWS.index((-np.inf,) * 4)] == lowest
    rec["windows_with_nan"] = int(np.isnan(_cells(x)).any(axis=1).sum())


def test_maxpool_nan_grad(request):
    row = ROW["maxpool_nan_grad"]
    rec = s.start_record(request, row, fixture=f"{len(WINDOWS)} 2x2 windows, float32")
    frameworks = s.available(("torch", "jax", "tensorflow", "keras"))
    s.note_versions(rec, frameworks)
    x, attrs = _pool_fixture(), row.a.params
    g = (np.arange(len(WINDOWS), dtype=np.float32) + 1).reshape(1, 1, 1, -1)
    cells = _cells(x)
    rules = {"torch": _torch_rule, "jax": _jax_rule, "tensorflow": _tf_rule}
    if "keras" in frameworks:
        rules = _keras_follows(rules)
    want = {name: _scatter(x, g, [rule(c) for c in cells]) for name, rule in rules.items()}
    ref = maxpool2d.backward(g, x, **attrs)["x"]
    np.testing.assert_array_equal(ref, _scatter(x, g, [_reference_rule(c) for c in cells]))
    for name, adapter in frameworks.items():
        got = s.run_backward(adapter, "maxpool2d", g, {"x": x}, attrs)["x"]
        np.testing.assert_array_equal(got, want[name], err_msg=name)
        s.matches(rec, f"{name} (its rule)", 0.0)
        s.widen(rec, got, ref)
    has_nan = np.isnan(cells).any(axis=1)
    for name in ("torch", "jax"):  # each differs from the reference in some NaN window only
        differs = (_cells(want[name]) != _cells(ref)).any(axis=1)
        assert differs.any(), name
        assert not (differs & ~has_nan).any(), name


def test_relu_grad_at_nan(request):
    row = ROW["relu_grad_at_nan"]
    rec = s.start_record(request, row, fixture="12 float32 values: NaN, +-inf, 0, finite")
    torch = s.need("torch")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["torch", *others])
    rng = np.random.default_rng(seed_for(row.id))
    x = rng.standard_normal(12).astype(np.float32)
    x[[0, 5, 7]] = np.nan
    x[[1, 2, 3]] = np.inf, -np.inf, 0.0
    g = rng.standard_normal(12).astype(np.float32)
    b = relu.backward(g, x)["x"]
    for name, adapter in others.items():
        got = s.run_backward(adapter, "relu", g, {"x": x}, {})["x"]
        kwargs = {"direction": "backward", "grad_out": g, "key": "x"}
        s.side(rec, name, got, "relu", {"x": x}, {}, "float32", **kwargs)
    a = s.run_backward(torch, "relu", g, {"x": x}, {})["x"]
    np.testing.assert_array_equal(a, b + np.where(np.isnan(x), g, np.float32(0)))
    s.matches(rec, "torch (formula)", 0.0)
    np.testing.assert_array_equal(s.run(torch, "relu", {"x": x}, {}), relu.forward(x))
    assert np.all(a[np.isnan(x)] != 0)
    s.widen(rec, a, b)


def _bn_inputs(label: str) -> dict:
    rng = np.random.default_rng(seed_for(label))
    return {
        "x": (0.4 + rng.standard_normal((4, 2, 3, 3))).astype(np.float32),
        "gamma": np.array([np.inf, -np.inf], np.float32),
        "beta": np.array([0.5, -0.5], np.float32),
        "running_mean": np.array([0.0, 0.7], np.float32),
        "running_var": np.array([1.5, 0.8], np.float32),
    }


def _folded(t: dict, training: bool, eps: float) -> np.ndarray:
    """x * a + (beta - mean * a), a = gamma / sqrt(var + eps), per channel, in float32."""
    x = t["x"]
    if training:
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    else:
        mean, var = t["running_mean"], t["running_var"]
    a = t["gamma"] / np.sqrt(var + np.float32(eps))
    shift = t["beta"] - mean * a
    return x * a[None, :, None, None] + shift[None, :, None, None]


def _fused_kernel(t: dict, training: bool, eps: float) -> np.ndarray:
    """TF's CPU FusedBatchNormV3, unfolded: (x - mean) * (rsqrt(var + eps) * gamma) + beta
    per channel in float32, batch mean and biased variance in training, the running ones
    in eval (tensorflow/core/kernels/fused_batch_norm_op.cc, FusedBatchNorm<CPUDevice>
    for is_training true and false: x_centered * scaling_factor + offset)."""
    x = t["x"]
    if training:
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    else:
        mean, var = t["running_mean"], t["running_var"]
    factor = t["gamma"] / np.sqrt(var + np.float32(eps))
    centered = x - mean[None, :, None, None]
    return centered * factor[None, :, None, None] + t["beta"][None, :, None, None]


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
def test_batchnorm_infinite_gamma(request, training):
    row = ROW["batchnorm_infinite_gamma"]
    rec = s.start_record(request, row, fixture="x (4,2,3,3) float32, gamma (inf, -inf)")
    a_side = s.available(row.a.frameworks)
    s.note_versions(rec, [*a_side, "jax"])
    t = _bn_inputs(row.id)
    attrs = {"training": training, "eps": 1e-5}
    with np.errstate(invalid="ignore"):  # inf - inf: the NaN A is documented to give
        want_a = _folded(t, training, attrs["eps"])
    b = batchnorm2d.forward(**t, **attrs)
    assert np.isinf(b).all(), "B: +-inf everywhere (no x equals the mean)"
    for name, adapter in a_side.items():
        got = s.run(adapter, "batchnorm2d", t, attrs)
        if name == "keras" and s.keras_backend() == "torch":
            # Keras' torch backend does not fold: (x - mean) * (rsqrt(var + eps) * gamma)
            # + beta (keras/src/backend/torch/nn.py batch_normalization), B's +-inf.
            np.testing.assert_array_equal(got, b, err_msg="keras on torch")
            s.matches(rec, "keras on torch (unfolded, as B)", 0.0)
            continue
        if name == "keras" and adapter.api.tf_keras:
            # tf.keras 2.15's BatchNormalization is fused for a 4-D float32 input on axis
            # -1 (fused=None: keras/src/layers/normalization/batch_normalization.py
            # _fused_can_be_used, build) and calls tf.compat.v1.nn.fused_batch_norm
            # (_fused_batch_norm), whose CPU kernel does not fold: B's +-inf.
            got_kernel = _fused_kernel(t, training, attrs["eps"])
            np.testing.assert_array_equal(got, got_kernel, err_msg="tf.keras fused kernel")
            np.testing.assert_array_equal(got_kernel, b, err_msg="fused kernel vs B")
            s.matches(rec, "keras 2 (tf.keras, fused kernel: unfolded, as B)", 0.0)
            continue
        np.testing.assert_array_equal(got, want_a, err_msg=name)
        s.matches(rec, f"{name} (folded formula)", 0.0)
    if training and "jax" in s.available(("jax",)):
        got = probes.stax_batchnorm2d(t["x"], t["gamma"], t["beta"])
        np.testing.assert_array_equal(got, b, err_msg="stax.BatchNorm")
        s.matches(rec, "jax stax.BatchNorm", 0.0)
    nan_a = np.isnan(want_a)
    assert nan_a.any(), "the fixture shows both of A's outcomes"
    assert not nan_a.all(), "the fixture shows both of A's outcomes"
    np.testing.assert_array_equal(want_a[~nan_a], b[~nan_a])  # where A is not NaN, A == B
    if not training:
        assert nan_a[:, 0].all(), "running_mean 0: the whole channel is NaN"
    rec["nan_fraction_side_a"] = float(nan_a.mean())


def _ce_autodiff(logits, target, g) -> np.ndarray:
    """softmax * g * sum(t) - t * g per sample, as the frameworks' autodiff evaluates it:
    a gather for class indices (no 0 * g term), a dense product for probabilities."""
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gs = g[:, None]
    if np.issubdtype(target.dtype, np.integer):
        out = p * gs
        out[np.arange(len(target)), target] -= g
        return out
    return p * (gs * target.sum(axis=1, keepdims=True)) - target * gs


@pytest.mark.parametrize("targets", ["indices", "probabilities"])
def test_crossentropy_grad_infinite_g(request, targets):
    row = ROW["crossentropy_grad_infinite_g"]
    rec = s.start_record(request, row, fixture="logits (3,4) float32, g = (inf, 1, -inf)")
    frameworks = s.available(row.a.frameworks)
    s.note_versions(rec, frameworks)
    rng = np.random.default_rng(seed_for(f"{row.id}_{targets}"))
    logits = rng.standard_normal((3, 4)).astype(np.float32)
    if targets == "indices":
        target = np.array([1, 3, 0])
    else:
        target = rng.dirichlet(np.ones(4), 3).astype(np.float32)
        target[0, 2] = 0.0  # a zero probability: 0 * inf in A
    g = np.array([np.inf, 1.0, -np.inf], np.float32)
    attrs = {"reduction": "none"}
    inputs = {"logits": logits, "target": target}
    b = cross_entropy.backward(g, logits, target, **attrs)["logits"]
    infinite = np.isinf(g)
    assert np.isinf(b[infinite]).all(), "B: +-inf in every infinite row"
    with np.errstate(invalid="ignore"):
        want_a = _ce_autodiff(logits, target, g)
    assert np.isnan(want_a[infinite]).any()
    for name, adapter in frameworks.items():
        got = s.run_backward(adapter, "cross_entropy", g, inputs, attrs)["logits"]
        want = want_a
        if targets == "indices" and name == "keras" and s.keras_backend() == "jax":
            # Keras' JAX backend one-hots the indices and takes the dense product
            # (keras/src/backend/jax/nn.py sparse_categorical_crossentropy): 0 * inf.
            with np.errstate(invalid="ignore"):
                want = _ce_autodiff(logits, np.eye(4, dtype=np.float32)[target], g)
            assert np.isnan(want[infinite]).all()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        np.testing.assert_array_equal(got[infinite], want[infinite], err_msg=name)
        # The finite row is the ordinary gradient: the reference under the tolerance.
        s.side(rec, name, got[~infinite], "cross_entropy", _rows(inputs, ~infinite), attrs,
               "float32", direction="backward", grad_out=g[~infinite], key="logits")  # fmt: skip
        s.widen(rec, np.nan_to_num(got), np.nan_to_num(b))
    nan_a = np.isnan(want_a)
    np.testing.assert_array_equal(want_a[~nan_a & infinite[:, None]], b[~nan_a & infinite[:, None]])
    rec["nan_entries_side_a"] = int(nan_a.sum())


def _rows(inputs: dict, keep: np.ndarray) -> dict:
    return {k: v[keep] for k, v in inputs.items()}


def _nan_reach(name: str, mode: str, in1_shape, nan_tap, k: int = 3) -> np.ndarray:
    """Outputs whose window puts kernel tap ``nan_tap`` on a cell of in1, by index
    arithmetic: full correlation output m reads in1[m + j - (k - 1)] with tap j (convolve:
    the flipped tap); mode "same" keeps from (k - 1) // 2 = k // 2 = 1 for k = 3."""
    tap = np.array(nan_tap) if "correlate" in name else (k - 1) - np.array(nan_tap)
    full = [n + k - 1 for n in in1_shape]
    rows, cols = np.ogrid[: full[0], : full[1]]
    i, j = rows + tap[0] - (k - 1), cols + tap[1] - (k - 1)
    reach = (i >= 0) & (i < in1_shape[0]) & (j >= 0) & (j < in1_shape[1])
    if mode == "same":
        reach = reach[1 : 1 + in1_shape[0], 1 : 1 + in1_shape[1]]
    return reach


@pytest.mark.parametrize("name", ["correlate2d", "convolve2d", "correlate", "convolve"])
@pytest.mark.parametrize("mode", ["full", "same"])
def test_scipy_nan_kernel(request, name, mode):
    row = ROW["scipy_nan_kernel"]
    rec = s.start_record(request, row, fixture="in1 (5,6), in2 (3,3) with one NaN, float64")
    scipy = s.need("scipy")
    others = s.available(row.b.frameworks)
    s.note_versions(rec, ["scipy", *others])
    rng = np.random.default_rng(seed_for(f"{row.id}_{name}_{mode}"))
    clean = {"in1": rng.standard_normal((5, 6)), "in2": rng.standard_normal((3, 3))}
    inputs = {"in1": clean["in1"], "in2": clean["in2"].copy()}
    inputs["in2"][0, 2] = np.nan
    attrs, layer = {"mode": mode}, f"signal.{name}"
    reach = _nan_reach(name, mode, (5, 6), (0, 2))
    assert 0 < reach.sum() < reach.size
    a = s.run(scipy, layer, inputs, attrs)
    assert np.isnan(a).all(), "A: every output NaN"
    b = getattr(signal, name)(**inputs, **attrs)
    np.testing.assert_array_equal(np.isnan(b), reach)
    for other, adapter in others.items():
        got = s.run(adapter, layer, inputs, attrs)
        np.testing.assert_array_equal(np.isnan(got), reach, err_msg=other)
        # Off the NaN's reach the tap meets no cell: the outputs are those of the kernel
        # with a 0 there, which the reference matches under the layer's tolerance.
        got_clean = s.run(adapter, layer, {**clean, "in2": np.nan_to_num(inputs["in2"])}, attrs)
        np.testing.assert_array_equal(got[~reach], got_clean[~reach], err_msg=other)
        zeroed = {**clean, "in2": np.nan_to_num(inputs["in2"])}
        s.side(rec, other, got_clean, layer, zeroed, attrs, "float64")
    s.widen(rec, np.nan_to_num(a), np.nan_to_num(b))
    rec["nan_outputs"] = {"A": int(a.size), "B": int(reach.sum()), "of": int(a.size)}
