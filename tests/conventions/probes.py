"""Convention probes: the framework calls the conventions table needs beyond its layers.

A conventions row (tests/conventions/table.py) runs both sides' real APIs.  Where a side
is a layer with the reference's contract, its test calls that framework's layer adapter
(adapters/<framework>.py), which answers "does this framework agree with the reference
for these attributes?".  The rows also need a framework's *defaults* and *state*, and a
few APIs that are not layers; those calls are here, next to the tests that read them,
because they serve only the table and are not part of any adapter's contract:

- ``batchnorm2d``: torch.nn.BatchNorm2d / keras.layers.BatchNormalization built with their
  own default ``momentum`` and ``eps`` unless given, run once, with the updated running
  statistics read back (the layer adapters always pass eps and never read the state);
- ``keras_categorical_crossentropy``: Keras's loss on probabilities, either a plain array or
  the tensor ``keras.activations.softmax`` returned (which, on the TensorFlow backend,
  carries the logits it came from);
- ``dropout_own_mask``: a framework's dropout with its *own* random mask (the adapters
  inject the reference's mask), so the kept fraction and the kept value can be read;
- ``relu_tie_gradient``: the gradient of ``max(x, 0)`` written with elementwise maximum /
  clamp ops rather than a ReLU layer;
- ``jnp_max_pool_backward``: max pooling written as ``reshape`` + ``jnp.max``;
- ``keras_flatten_channels_last``: Keras's Flatten on a channels_last feature map;
- ``stax_batchnorm2d``: jax.example_libraries.stax.BatchNorm (normalise, then scale).

Everything here takes and returns NumPy arrays in the reference's layouts (NCHW); layout
changes happen here, as in the layer adapters.  The frameworks are imported through the
layer adapters' ``load`` (so x64, device pinning and backend choice are the same as in
the parity tests); a missing framework raises ``adapters.FrameworkMissing`` with the
adapter's reason.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

import adapters
from adapters.layout import nchw_to_nhwc


def _torch():
    return adapters.load("torch")._lib()


def _keras_api():
    return adapters.load("keras").api


def _tf():
    return adapters.load("tensorflow").tf


def _jax():
    return adapters.load("jax")._lib()  # the adapter turns on x64 and pins the CPU


# -- batch normalisation: defaults and running statistics ------------------------------


def batchnorm2d(
    framework, x, gamma, beta, running_mean, running_var, *, training, momentum=None, eps=None
) -> dict:
    """One call of the framework's batch-norm layer on NCHW ``x``; ``momentum`` / ``eps``
    None leave the layer's own default.  Returns ``{"y", "running_mean", "running_var",
    "momentum", "eps", "unbiased_running_var"}`` (momentum and eps as the layer reports
    them; the last, which variance estimator the layer's running variance takes)."""
    if framework == "torch":
        return _torch_batchnorm2d(
            x, gamma, beta, running_mean, running_var, training, momentum, eps
        )
    if framework == "keras":
        return _keras_batchnorm2d(
            x, gamma, beta, running_mean, running_var, training, momentum, eps
        )
    raise ValueError(f"framework must be 'torch' or 'keras', got {framework!r}")


def _torch_batchnorm2d(x, gamma, beta, mean, var, training, momentum, eps):
    torch = _torch()
    kwargs = {k: v for k, v in (("momentum", momentum), ("eps", eps)) if v is not None}
    bn = torch.nn.BatchNorm2d(x.shape[1], dtype=torch.from_numpy(x).dtype, **kwargs)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
        bn.running_mean.copy_(torch.from_numpy(mean))
        bn.running_var.copy_(torch.from_numpy(var))
        y = bn.train(training)(torch.from_numpy(np.ascontiguousarray(x)))
    return {
        "y": y.numpy(),
        "running_mean": bn.running_mean.numpy().copy(),
        "running_var": bn.running_var.numpy().copy(),
        "momentum": bn.momentum,
        "eps": bn.eps,
        # torch.nn.BatchNorm2d docs: "calculated via the unbiased estimator".
        "unbiased_running_var": True,
    }


def _keras_batchnorm2d(x, gamma, beta, mean, var, training, momentum, eps):
    api = _keras_api()
    kwargs = {k: v for k, v in (("momentum", momentum), ("epsilon", eps)) if v is not None}
    x_nhwc = nchw_to_nhwc(x)
    bn = api.layers.BatchNormalization(axis=-1, dtype=x.dtype.name, **kwargs)
    bn.build(x_nhwc.shape)
    bn.set_weights([gamma, beta, mean, var])
    y = api.numpy(bn(api.tensor(x_nhwc), training=training))
    return {
        "y": np.ascontiguousarray(np.transpose(y, (0, 3, 1, 2))),
        "running_mean": api.numpy(bn.moving_mean),
        "running_var": api.numpy(bn.moving_variance),
        "momentum": bn.momentum,
        "eps": bn.epsilon,
        # Keras 2 (tf.keras, TF <= 2.15) runs 4-D inputs through its fused kernel
        # (``layer.fused``), which applies Bessel's correction to the moving variance; its
        # non-fused path and Keras 3 (no ``fused`` attribute) use the biased variance
        # (tensorflow/tensorflow#55545; keras-team/keras#9028 discusses the two).
        "unbiased_running_var": bool(getattr(bn, "fused", False)),
    }


# -- Keras crossentropy on probabilities ------------------------------------------------


def keras_categorical_crossentropy(target, *, probs=None, logits=None) -> np.ndarray:
    """Per-sample ``keras.losses.categorical_crossentropy(target, p)`` (from_logits=False,
    classes on the last axis).  ``probs``: a plain array of probabilities.  ``logits``:
    ``p = keras.activations.softmax(logits)``, the tensor a softmax output layer hands to
    the loss."""
    api = _keras_api()
    if (probs is None) == (logits is None):
        raise ValueError("give exactly one of probs and logits")
    if logits is not None:
        p = api.keras.activations.softmax(api.tensor(logits))
    else:
        p = api.tensor(probs)
    return api.numpy(api.keras.losses.categorical_crossentropy(api.tensor(target), p))


def keras_backend() -> str:
    return _keras_api().backend


# -- dropout with the framework's own mask ---------------------------------------------

#: API name -> what its number means.  Each entry is a call people write.
DROPOUT_APIS = {
    "torch.nn.Dropout(p)": "drop",
    "keras.layers.Dropout(rate)": "drop",
    "tf.nn.dropout(rate)": "drop",
    "tf.compat.v1.nn.dropout(keep_prob)": "keep",
    "jax.example_libraries.stax.Dropout(rate)": "keep",
}


def dropout_own_mask(api_name: str, x: np.ndarray, value: float, seed: int) -> np.ndarray:
    """Training-mode output of ``api_name`` called with the number ``value`` on ``x``, the
    framework drawing its own mask from ``seed``."""
    if api_name == "torch.nn.Dropout(p)":
        torch = _torch()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            return torch.nn.Dropout(p=value).train()(torch.from_numpy(x)).numpy()
    if api_name == "keras.layers.Dropout(rate)":
        api = _keras_api()
        layer = api.layers.Dropout(rate=value, seed=seed, dtype=x.dtype.name)
        return api.numpy(layer(api.tensor(x), training=True))
    if api_name == "tf.nn.dropout(rate)":
        return _tf().nn.dropout(x, rate=value, seed=seed).numpy()
    if api_name == "tf.compat.v1.nn.dropout(keep_prob)":
        tf = _tf()
        # TF logs a deprecation notice for keep_prob (use rate = 1 - keep_prob).
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.compat.v1.nn.dropout(x, keep_prob=value, seed=seed).numpy()
    if api_name == "jax.example_libraries.stax.Dropout(rate)":
        jax = _jax()
        from jax.example_libraries import stax

        _, apply_fun = stax.Dropout(value, mode="train")
        return np.asarray(apply_fun((), jax.numpy.asarray(x), rng=jax.random.PRNGKey(seed)))
    raise ValueError(f"api_name must be one of {sorted(DROPOUT_APIS)}, got {api_name!r}")


# -- ReLU written as an elementwise maximum ---------------------------------------------

RELU_FORMS = (
    "torch.maximum(x, 0)",
    "torch.clamp(x, min=0)",
    "jnp.maximum(x, 0)",
    "tf.maximum(x, 0)",
)


def relu_tie_gradient(form: str, x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    """``d/dx sum(grad_out * form(x))`` through the framework's autodiff."""
    if form.startswith("torch."):
        torch = _torch()
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        zero = torch.zeros_like(t)
        y = torch.maximum(t, zero) if form == "torch.maximum(x, 0)" else torch.clamp(t, min=0)
        (y * torch.from_numpy(grad_out)).sum().backward()
        return t.grad.numpy().copy()
    if form == "jnp.maximum(x, 0)":
        jax = _jax()
        _, pullback = jax.vjp(lambda v: jax.numpy.maximum(v, 0), jax.numpy.asarray(x))
        return np.asarray(pullback(jax.numpy.asarray(grad_out))[0])
    if form == "tf.maximum(x, 0)":
        tf = _tf()
        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = tf.maximum(t, tf.zeros_like(t))
        return tape.gradient(y, t, output_gradients=tf.constant(grad_out)).numpy()
    raise ValueError(f"form must be one of {RELU_FORMS}, got {form!r}")


# -- max pooling written as reshape + jnp.max --------------------------------------------


def jnp_max_pool_backward(x: np.ndarray, grad_out: np.ndarray, k: int) -> np.ndarray:
    """VJP of non-overlapping k x k max pooling written as
    ``x.reshape(N, C, H//k, k, W//k, k).max(axis=(3, 5))`` (NCHW, H and W multiples of k)."""
    jax = _jax()
    n, c, h, w = x.shape
    if h % k or w % k:
        raise ValueError(f"x shape {x.shape}: H and W must be multiples of k = {k}")

    def pool(v):
        return v.reshape(n, c, h // k, k, w // k, k).max(axis=(3, 5))

    _, pullback = jax.vjp(pool, jax.numpy.asarray(x))
    return np.asarray(pullback(jax.numpy.asarray(grad_out))[0])


# -- Keras Flatten on a channels_last map ------------------------------------------------


def keras_flatten_channels_last(x: np.ndarray) -> np.ndarray:
    """``keras.layers.Flatten()`` (data_format channels_last, the default) applied to the
    NHWC version of the NCHW map ``x``: what a Keras CNN feeds its first Dense layer."""
    api = _keras_api()
    flatten = api.layers.Flatten(dtype=x.dtype.name)
    return api.numpy(flatten(api.tensor(nchw_to_nhwc(x))))


# -- batch normalisation as jax.example_libraries.stax writes it ---------------------------


def stax_batchnorm2d(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``stax.BatchNorm(axis=(0, 1, 2))`` (training statistics, its default epsilon 1e-5)
    applied to the NHWC version of the NCHW ``x``; returns NCHW."""
    jax = _jax()
    from jax.example_libraries import stax

    _, apply_fun = stax.BatchNorm(axis=(0, 1, 2))
    params = (jax.numpy.asarray(beta), jax.numpy.asarray(gamma))
    y = np.asarray(apply_fun(params, jax.numpy.asarray(nchw_to_nhwc(x))))
    return np.ascontiguousarray(np.transpose(y, (0, 3, 1, 2)))
