"""Convention probes for the activation rows (issue 17): each framework's activation API
called *with its own defaults* (no slope, no approximate argument), which the layer
adapters never do (they always pass the reference's attributes).

``call(api, x)`` runs one API, named as the conventions table names it, on a float32
NumPy array and returns a NumPy array; ``missing(api)`` says why it cannot run here (the
framework is not installed, or this release has no such API, e.g. keras.ops in Keras 2).
Frameworks load through the layer adapters (x64, CPU pinning and Keras backend as in the
parity tests)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import adapters

GELU_ERF = ("torch.nn.GELU()", "tf.nn.gelu(x)", "keras.activations.gelu(x)")
GELU_TANH = ("jax.nn.gelu(x)", "keras.ops.gelu(x)")
LEAKY_001 = ("torch.nn.LeakyReLU()", "jax.nn.leaky_relu(x)")
HARD_SIGMOID_KERAS2 = ("tf.keras.backend.hard_sigmoid(x)", "Keras 2 Activation('hard_sigmoid')")


def _torch(make: Callable) -> Callable:
    def run(x):
        torch = adapters.load("torch")._lib()
        with torch.no_grad():
            return make(torch)(torch.from_numpy(x)).numpy()

    return run


def _jax(name: str) -> Callable:
    def run(x):
        jax = adapters.load("jax")._lib()
        return np.asarray(getattr(jax.nn, name)(jax.numpy.asarray(x)))

    return run


def _keras(get: Callable) -> Callable:
    def run(x):
        api = adapters.load("keras").api
        return np.asarray(api.numpy(get(api.keras)(api.tensor(x))))

    return run


def _tf(get: Callable) -> Callable:
    def run(x):
        return get(adapters.load("tensorflow").tf)(x).numpy()

    return run


#: API -> (adapter it needs, attribute path that must exist, the call).
_APIS: dict[str, tuple[str, str, Callable]] = {
    "torch.nn.GELU()": ("torch", "", _torch(lambda t: t.nn.GELU())),
    "torch.nn.LeakyReLU()": ("torch", "", _torch(lambda t: t.nn.LeakyReLU())),
    "tf.nn.gelu(x)": ("tensorflow", "", _tf(lambda tf: tf.nn.gelu)),
    "tf.nn.leaky_relu(x)": ("tensorflow", "", _tf(lambda tf: tf.nn.leaky_relu)),
    "tf.keras.backend.hard_sigmoid(x)": (
        "tensorflow",
        "",
        # A tensor, not an array: Keras 2's version reads x.dtype.base_dtype.
        _tf(lambda tf: lambda x: tf.keras.backend.hard_sigmoid(tf.constant(x))),
    ),
    "Keras 2 Activation('hard_sigmoid')": (
        "keras",
        "",
        _keras(lambda k: k.layers.Activation("hard_sigmoid", dtype="float32")),
    ),
    "jax.nn.gelu(x)": ("jax", "", _jax("gelu")),
    "jax.nn.leaky_relu(x)": ("jax", "", _jax("leaky_relu")),
    "keras.activations.gelu(x)": (
        "keras",
        "activations.gelu",
        _keras(lambda k: k.activations.gelu),
    ),
    "keras.ops.gelu(x)": ("keras", "ops.gelu", _keras(lambda k: k.ops.gelu)),
    "keras.ops.leaky_relu(x)": ("keras", "ops.leaky_relu", _keras(lambda k: k.ops.leaky_relu)),
    "keras.layers.LeakyReLU()": (
        "keras",
        "layers.LeakyReLU",
        _keras(lambda k: k.layers.LeakyReLU(dtype="float32")),
    ),
}


def missing(api: str) -> str | None:
    """Why ``api`` cannot run here, or None."""
    framework, path, _ = _APIS[api]
    reason = adapters.missing_reason(framework)
    if reason is not None:
        return reason
    if api.startswith("Keras 2") and keras_major() != 2:
        return f"keras {keras_version()} is not Keras 2"
    if path:
        obj = adapters.load("keras").api.keras
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return f"keras {keras_version()} has no keras.{path}"
    return None


def call(api: str, x: np.ndarray) -> np.ndarray:
    """``api`` with its own defaults on ``x``."""
    return _APIS[api][2](x)


def keras_version() -> str:
    return adapters.load("keras").api.version


def keras_major() -> int:
    return int(keras_version().split(".")[0])


def keras_backend() -> str:
    return adapters.load("keras").api.backend


def keras_hard_sigmoid_slope() -> float:
    """The slope of ``keras.layers.Activation('hard_sigmoid')`` here, read at x = 1:
    (y(1) - y(0)) is 0.2 for Keras 2's definition, 1/6 for Keras 3's."""
    api = adapters.load("keras").api
    layer = api.layers.Activation("hard_sigmoid", dtype="float64")
    y = np.asarray(api.numpy(layer(api.tensor(np.array([0.0, 1.0])))))
    return (
        0.2
        if abs((y[1] - y[0]) - 0.2) < 1e-12
        else 1 / 6
        if abs((y[1] - y[0]) - 1 / 6) < 1e-12
        else float(y[1] - y[0])
    )
