"""The JAX adapter: its unsupported rules are JAX's own (JAX fails when asked directly),
neighbouring configurations run, float64 is real float64, layouts and pooling geometry
match explicit loops that share no code with the adapter, and a prepared call runs the
same way every time (for the SciPy adapter too, which has no test module of its own)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adapters
from adapters.base import FrameworkMissing, prepare
from tests.adapters.calls import backward, forward, refusal
from tests.adapters.loops import conv2d_loop

pytestmark = pytest.mark.jax


@pytest.fixture(scope="module")
def adapter():
    return _loaded("jax")


def _loaded(name):
    try:
        return adapters.load(name)
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def jax(adapter):
    import jax

    return jax


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- unsupported rules: the adapter's reason, and JAX failing the same way -----------------


def test_maxpool_dilation_backward(adapter, jax):
    message = "VJP not implemented for select_and_gather (MaxPool) with window dilation"
    x = _x((1, 1, 7, 7))
    attrs = {"kernel_size": 2, "stride": 1, "dilation": 2}
    assert message in refusal(adapter, "maxpool2d", {"x": x}, attrs, "backward")
    assert refusal(adapter, "maxpool2d", {"x": x}, attrs, "forward") is None
    assert forward(adapter, "maxpool2d", {"x": x}, attrs).shape == (1, 1, 5, 5)

    def pool(v):
        window = (1, 1, 2, 2)
        ones = (1, 1, 1, 1)
        return jax.lax.reduce_window(
            v, -np.inf, jax.lax.max, window, ones, "VALID", window_dilation=(1, 1, 2, 2)
        )

    out, vjp = jax.vjp(pool, jax.numpy.asarray(x))
    with pytest.raises(NotImplementedError, match=r"VJP not implemented for select_and_gather"):
        vjp(jax.numpy.ones_like(out))


@pytest.mark.heavy
def test_conv_backward_abort_family(adapter):
    """XLA:CPU aborts (SIGABRT, not an exception) on this input gradient, so it runs in a
    child process.  If a JAX release fixes it, this test fails: narrow the rule then."""
    attrs = {"stride": (2, 2), "padding": ((0, 0), (1, 1)), "dilation": (2, 1)}
    inputs = {"x": _x((1, 1, 8, 4)), "w": _x((1, 1, 3, 2), 1)}
    # In process: the refusal has to come before anything is compiled, or pytest aborts.
    assert "XLA:CPU aborts" in refusal(adapter, "conv2d", inputs, attrs, "backward")
    assert refusal(adapter, "conv2d", inputs, attrs, "forward") is None
    assert forward(adapter, "conv2d", inputs, attrs).shape == (1, 1, 2, 3)
    script = textwrap.dedent(
        """
        import jax, jax.numpy as jnp
        from jax import lax
        w = jnp.ones((1, 1, 3, 2))
        f = lambda x: lax.conv_general_dilated(
            x, w, (2, 2), ((0, 0), (1, 1)), rhs_dilation=(2, 1),
            dimension_numbers=("NCHW", "OIHW", "NCHW"))
        y, vjp = jax.vjp(f, jnp.ones((1, 1, 8, 4)))
        vjp(jnp.ones_like(y))[0].block_until_ready()
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert child.returncode != 0
    assert "Window dimensions do not match RHS shape" in child.stderr


def test_conv_neighbours_of_abort_family_run_backward(adapter):
    for attrs in ({"stride": (2, 1), "dilation": (2, 1)}, {"stride": 2, "padding": 1}):
        inputs = {"x": _x((1, 2, 8, 6)), "w": _x((3, 2, 3, 2), 1)}
        assert refusal(adapter, "conv2d", inputs, attrs, "backward") is None
        out = forward(adapter, "conv2d", inputs, attrs)
        grads = backward(adapter, "conv2d", np.ones_like(out), inputs, attrs)
        assert sorted(grads) == ["w", "x"]


def test_dropout_p1(adapter, jax):
    from jax.example_libraries import stax

    inputs = {"x": _x((2, 3)), "mask": np.zeros((2, 3), bool)}
    assert "stax" in refusal(adapter, "dropout", inputs, {"p": 1.0, "training": True})
    _, apply_fun = stax.Dropout(0.0, mode="train")
    out = apply_fun((), jax.numpy.ones(100), rng=jax.random.PRNGKey(0))
    assert not np.asarray(out).any()  # keep rate 0 keeps nothing


def test_unknown_layer(adapter):
    assert refusal(adapter, "conv3d", {}, {}) == "jax has no conv3d"
    # Keras's loss on probabilities: jax / jax.nn have none.
    logits = {"probs": np.full((2, 3), 1 / 3), "target": np.eye(3)[:2]}
    assert refusal(adapter, "categorical_crossentropy", logits) == (
        "jax has no categorical_crossentropy"
    )


def test_other_dtypes_refused(adapter):
    message = refusal(adapter, "relu", {"x": np.ones(3, np.float16)})
    assert message == "jax adapter: runs float32 and float64 only, not float16"


# -- stax's dropout convention and the injected mask ----------------------------------------


def test_stax_dropout_rate_is_keep_probability(jax, adapter):
    from jax.example_libraries import stax

    _, apply_fun = stax.Dropout(0.8, mode="train")
    out = np.asarray(apply_fun((), jax.numpy.ones(20000), rng=jax.random.PRNGKey(3)))
    assert abs(np.mean(out != 0) - 0.8) < 0.02
    np.testing.assert_array_equal(np.unique(out[out != 0]), [1 / 0.8])


def test_dropout_mask_applied(adapter):
    x = _x((4, 5))
    mask = np.random.default_rng(7).random((4, 5)) >= 0.5
    attrs = {"p": 0.5, "training": True}
    np.testing.assert_array_equal(
        forward(adapter, "dropout", {"x": x, "mask": mask}, attrs), np.where(mask, 2 * x, 0)
    )
    grad = _x((4, 5), 1)
    dx = backward(adapter, "dropout", grad, {"x": x, "mask": mask}, attrs)["x"]
    np.testing.assert_array_equal(dx, np.where(mask, 2 * grad, 0))
    eval_attrs = {**attrs, "training": False}
    np.testing.assert_array_equal(
        forward(adapter, "dropout", {"x": x, "mask": mask}, eval_attrs), x
    )


# -- dtype, layouts and pooling geometry against explicit loops -----------------------------


def test_float64_is_computed_in_float64(adapter):
    # 1 + 2**-40 rounds to 1 in float32 (eps 2**-23): only real float64 keeps the tail.
    w = np.array([[1.0 + 2.0**-40]])
    out = forward(adapter, "linear", {"x": np.ones((1, 1)), "w": w})
    assert out.dtype == np.float64
    assert out[0, 0] == 1.0 + 2.0**-40


def test_conv_layout_asymmetric_padding_groups(adapter):
    x, w, b = _x((2, 4, 5, 6)), _x((4, 2, 3, 3), 1), _x(4, 2)
    attrs = {"groups": 2, "stride": (1, 2), "padding": ((1, 0), (2, 1))}
    got = forward(adapter, "conv2d", {"x": x, "w": w, "b": b}, attrs)
    want = conv2d_loop(x, w, b, stride=(1, 2), pads=((1, 0), (2, 1)), groups=2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_linear_gradient_layout(adapter):
    x, w = _x((3, 4)), _x((4, 2), 1)
    grad = _x((3, 2), 3)
    grads = backward(adapter, "linear", grad, {"x": x, "w": w})
    assert sorted(grads) == ["w", "x"]
    want_dw = np.zeros((4, 2))
    for n in range(3):
        for i in range(4):
            for j in range(2):
                want_dw[i, j] += x[n, i] * grad[n, j]
    np.testing.assert_allclose(grads["w"], want_dw, rtol=0, atol=1e-12)


def _avgpool_loop(x, k, s, pad, ceil_mode, count_include_pad):
    """torch's documented average pooling, one window at a time (square k, s, pad)."""
    size = x.shape[-1]
    rounding = np.ceil if ceil_mode else np.floor
    out = int(rounding((size + 2 * pad - k) / s)) + 1
    if ceil_mode and (out - 1) * s >= size + pad:
        out -= 1  # torch: the last window must start inside the input or left padding
    y = np.zeros((*x.shape[:2], out, out))
    for i in range(out):
        for j in range(out):
            r0, c0 = i * s - pad, j * s - pad
            r1, c1 = min(r0 + k, size + pad), min(c0 + k, size + pad)
            cells = x[..., max(r0, 0) : min(r1, size), max(c0, 0) : min(c1, size)]
            real = cells.shape[-2] * cells.shape[-1]
            count = (r1 - r0) * (c1 - c0) if count_include_pad else real
            y[..., i, j] = cells.sum(axis=(-2, -1)) / count
    return y


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [True, False])
def test_avgpool_ceil_and_count(adapter, ceil_mode, count_include_pad):
    x = _x((1, 2, 8, 8))
    attrs = {
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "ceil_mode": ceil_mode,
        "count_include_pad": count_include_pad,
    }
    got = forward(adapter, "avgpool2d", {"x": x}, attrs)
    want = _avgpool_loop(x, 3, 2, 1, ceil_mode, count_include_pad)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_maxpool_ceil_mode_window_count(adapter):
    x = _x((1, 1, 8, 8))
    attrs = {"kernel_size": 3, "stride": 2, "ceil_mode": True}
    got = forward(adapter, "maxpool2d", {"x": x}, attrs)
    # ceil((8 - 3) / 2) + 1 = 4 windows; the last one starts at 6 and holds cells 6, 7.
    assert got.shape == (1, 1, 4, 4)
    np.testing.assert_array_equal(got[0, 0, 3, 3], x[0, 0, 6:, 6:].max())


def test_determinism_flags(adapter):
    flags = adapter.determinism_flags()
    assert flags["jax_enable_x64"] is True
    assert flags["device"].startswith("cpu") or "Cpu" in flags["device"]


# -- a prepared call runs the same way every time -------------------------------------------


@pytest.mark.parametrize("name", ["jax", pytest.param("scipy", marks=pytest.mark.scipy)])
def test_prepared_runs_repeat(name):
    """Benchmarks call ``Run.call`` many times on one prepared call: each call gives the
    same numbers, and a second ``forward()`` / ``backward()`` Run agrees with the first."""
    adapter = _loaded(name)
    x, w, b = _x((2, 4, 6, 5)), _x((6, 2, 3, 2), 1), _x(6, 2)
    # Stride 1: SciPy's conv2d backward exists only there.
    attrs = {"padding": ((1, 0), (0, 1)), "dilation": (1, 2), "groups": 2}
    prepared = prepare(adapter, "conv2d", {"x": x, "w": w, "b": b}, attrs)
    run = prepared.forward()
    first = run.result()
    assert first.shape == (2, 6, 5, 4)
    np.testing.assert_array_equal(run.result(), first)
    np.testing.assert_array_equal(prepared.forward().result(), first)
    grad = _x(first.shape, 3)
    run = prepared.backward(grad)
    grads = run.result()
    assert sorted(grads) == ["b", "w", "x"]
    for again in (run.result(), prepared.backward(grad).result()):
        assert sorted(again) == ["b", "w", "x"]
        for key, value in grads.items():
            np.testing.assert_array_equal(again[key], value)
    # The forward still runs after backward was asked for on the same prepared call.
    np.testing.assert_array_equal(prepared.forward().result(), first)
