"""The networks: the four seed networks, the blocks of tests/networks/blocks.py
(ResNet, MobileNetV2) and the small U-Net of tests/networks/unet.py, their specifications,
data, initial weights, and their reference forward/backward/training composed from
``reference`` layers and optimizers.

A network spec is plain data (the framework builders in ``tests/networks/torch_models.py``
and ``tests/networks/keras_models.py`` read the same dict):

- ``layers``: ``{"op": <reference module>, "params": {arg: parameter name}, "attrs": {...},
  "mask": <mask name, dropout only>}`` in order, each a node of a graph (names, inputs,
  residual adds and concatenations, batch-norm running statistics: tests/networks/graph.py);
- ``mode``: "train" or "eval", batch norm's mode (default "train");
- ``loss``: ``{"op": "cross_entropy" | "mse", "attrs": {"reduction": ...}}`` applied to the
  last layer's output (logits for cross-entropy, probability targets);
- ``output``: ``"softmax"`` when the model's output is the softmax of those logits (seed
  004's ``Dense(10, activation="softmax")``), else ``"identity"``.

Data (nothing downloaded):
- seed 000: the seed's four flipped 3x3 inputs and 2x2 targets (tests/cases/seeds/seed000);
- seed 002: the seed's four 16x16 patterns (tests/cases/seeds/seed002) zero-padded by 6 to
  the 28x28 FashionMNIST size the seed's Linear(2304, 10) assumes, classes 0..3 one-hot;
- seeds 003 and 004: the first 8 of scikit-learn's bundled 8x8 digits, scaled to [0, 1],
  upsampled 3x (np.kron) to 24x24 and zero-padded by 2 to the seeds' 28x28 MNIST shape,
  their digit labels one-hot.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import numpy as np

from reference import softmax
from tests.cases.seeds.seed000 import S000_INPUTS, S000_TARGETS
from tests.cases.seeds.seed002 import S002_EDGE_IMAGES
from tests.networks import blocks, graph, unet

BATCH = 8


def _conv(name, bias=True, **attrs):
    params = {"w": f"{name}.w"} | ({"b": f"{name}.b"} if bias else {})
    return {"op": "conv2d", "params": params, "attrs": attrs}


def _linear(name):
    return {"op": "linear", "params": {"w": f"{name}.w", "b": f"{name}.b"}, "attrs": {}}


def _op(op, **attrs):
    return {"op": op, "params": {}, "attrs": attrs}


NETWORKS: dict[str, dict] = {
    "seed000_single_filter": {
        "seed": "000",
        "description": "one 2x2 filter + bias on the four flipped 3x3 images, plain GD",
        "layers": [_conv("conv", stride=1, padding=0)],
        # The seed's gradient is 2 * (pred - target) summed over every element, the gradient
        # of the SUM of squares (it prints the mean); see test_seed000_trajectory.
        "loss": {"op": "mse", "attrs": {"reduction": "sum"}},
        "output": "identity",
        "optimizers": {"sgd": {"lr": 0.001}},
    },
    "seed002_conv_linear": {
        "seed": "002",
        "description": "Conv2d(1->16, k5) -> ReLU -> MaxPool(2) -> Flatten -> Linear(2304->10)",
        "layers": [
            _conv("conv", stride=1, padding=0),
            _op("relu"),
            _op("maxpool2d", kernel_size=2, stride=2),
            _op("flatten", start_dim=1),
            _linear("fc"),
        ],
        "loss": {"op": "cross_entropy", "attrs": {"reduction": "mean"}},
        "output": "identity",
        # torch.optim.Adam() defaults (the seed's optimizer); SGD at the same rate.
        "optimizers": {"sgd": {"lr": 0.001}, "adam": {"lr": 0.001}},
    },
    "seed004_keras_cnn": {
        "seed": "004",
        "description": "Conv2D(10, 3x3, same, relu) -> MaxPool 2 -> Flatten -> Dense(100, relu)"
        " -> Dense(10, softmax), categorical crossentropy",
        "layers": [
            _conv("conv", stride=1, padding="same"),
            _op("relu"),
            _op("maxpool2d", kernel_size=2, stride=2),
            _op("flatten", start_dim=1),
            _linear("fc1"),
            _op("relu"),
            _linear("fc2"),
        ],
        "loss": {"op": "cross_entropy", "attrs": {"reduction": "mean"}},
        "output": "softmax",
        # The seed's SGD learning rate (ConvolutionNetwork(learning_rate=0.01)) and Keras'
        # default Adam rate (compile(optimizer='adam')).
        "optimizers": {"sgd": {"lr": 0.01}, "adam": {"lr": 0.001}},
    },
    "seed003_two_conv_dropout": {
        "seed": "003",
        "description": "3x3 conv 1->32 and 32->64 (SAME, no bias) + ReLU + 2x2/2 SAME max pool"
        " each, FC 3136->256->256->10 with ReLU and dropout (keep 0.75)",
        "layers": [
            _conv("conv1", bias=False, stride=1, padding="same"),
            _op("relu"),
            _op("maxpool2d", kernel_size=2, stride=2, padding="same"),
            _conv("conv2", bias=False, stride=1, padding="same"),
            _op("relu"),
            _op("maxpool2d", kernel_size=2, stride=2, padding="same"),
            _op("flatten", start_dim=1),
            _linear("fc1"),
            _op("relu"),
            {"op": "dropout", "params": {}, "attrs": {"p": 0.25}, "mask": "drop1"},
            _linear("fc2"),
            _op("relu"),
            {"op": "dropout", "params": {}, "attrs": {"p": 0.25}, "mask": "drop2"},
            _linear("fc3"),
        ],
        "loss": {"op": "cross_entropy", "attrs": {"reduction": "mean"}},
        "output": "identity",
        # The seed's AdamOptimizer(learning_rate=0.01); SGD at the same rate.
        "optimizers": {"sgd": {"lr": 0.01}, "adam": {"lr": 0.01}},
    },
    **blocks.NETWORKS,
    **unet.NETWORKS,
}


# -- data ------------------------------------------------------------------------------------


def _digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # ships its data; nothing is downloaded

    digits = load_digits()
    images = digits.images[:n] / 16.0
    big = np.stack([np.kron(img, np.ones((3, 3))) for img in images])
    x = np.pad(big, ((0, 0), (2, 2), (2, 2)))[:, None]
    return x, np.eye(10)[digits.target[:n]]


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x NCHW, target)`` in float64 for network ``name``."""
    if name in blocks.NETWORKS:
        return blocks.data(name)
    if name in unet.NETWORKS:
        return unet.data(name)
    if name == "seed000_single_filter":
        return S000_INPUTS.astype(np.float64), S000_TARGETS.astype(np.float64)
    if name == "seed002_conv_linear":
        x = np.pad(S002_EDGE_IMAGES, ((0, 0), (0, 0), (6, 6), (6, 6)))
        return x.astype(np.float64), np.eye(10)[np.arange(4)]
    return _digits(BATCH)


def _glorot(rng, fan_in, fan_out, shape):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)


def init_params(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial weights (reference layout), drawn with ``default_rng(seed)`` by each seed's
    own initialiser: randn for seed 000; torch's default U(-1/sqrt(fan_in), +) for seed 002;
    Keras' glorot_uniform kernels and zero biases for seed 004; seed 003's N(0, 1) conv
    filters and biases with Xavier (glorot uniform) FC weights."""
    if name in blocks.NETWORKS:
        return blocks.init_params(name, seed)
    if name in unet.NETWORKS:
        return unet.init_params(name, seed)
    rng = np.random.default_rng(seed)
    if name == "seed000_single_filter":
        return {"conv.w": rng.standard_normal((1, 1, 2, 2)), "conv.b": rng.standard_normal(1)}
    if name == "seed002_conv_linear":
        bound_c, bound_f = 1 / np.sqrt(25), 1 / np.sqrt(2304)
        return {
            "conv.w": rng.uniform(-bound_c, bound_c, (16, 1, 5, 5)),
            "conv.b": rng.uniform(-bound_c, bound_c, 16),
            "fc.w": rng.uniform(-bound_f, bound_f, (2304, 10)),
            "fc.b": rng.uniform(-bound_f, bound_f, 10),
        }
    if name == "seed004_keras_cnn":
        return {
            "conv.w": _glorot(rng, 9, 90, (10, 1, 3, 3)),
            "conv.b": np.zeros(10),
            "fc1.w": _glorot(rng, 1960, 100, (1960, 100)),
            "fc1.b": np.zeros(100),
            "fc2.w": _glorot(rng, 100, 10, (100, 10)),
            "fc2.b": np.zeros(10),
        }
    # Seed 003 draws its filters from tf.random_normal (std 1); at that scale the logits
    # reach ~1e2 and plain SGD at lr 0.01 diverges in two steps, so the filters are scaled
    # by sqrt(2 / fan_in) (He), the one departure from the seed's initialisation.
    return {
        "conv1.w": rng.standard_normal((32, 1, 3, 3)) * np.sqrt(2 / 9),
        "conv2.w": rng.standard_normal((64, 32, 3, 3)) * np.sqrt(2 / 288),
        "fc1.w": _glorot(rng, 3136, 256, (3136, 256)),
        "fc1.b": rng.standard_normal(256),
        "fc2.w": _glorot(rng, 256, 256, (256, 256)),
        "fc2.b": rng.standard_normal(256),
        "fc3.w": _glorot(rng, 256, 10, (256, 10)),
        "fc3.b": rng.standard_normal(10),
    }


def masks(name: str, seed: int = 1) -> dict[str, np.ndarray]:
    """Injected dropout keep-masks (1 = kept), Bernoulli(1 - p) from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    out = {}
    width = {"drop1": 256, "drop2": 256}
    for layer in NETWORKS[name]["layers"]:
        if layer["op"] == "dropout":
            keep = 1.0 - layer["attrs"]["p"]
            out[layer["mask"]] = (rng.random((BATCH, width[layer["mask"]])) < keep).astype(float)
    return out


def constants(name: str) -> dict[str, np.ndarray]:
    """What the network does not train: dropout keep-masks and batch-norm running
    statistics (tests/networks/graph.py)."""
    if name in blocks.NETWORKS:
        return blocks.constants(name)
    if name in unet.NETWORKS:
        return unet.constants(name)
    return masks(name)


# -- the reference network -----------------------------------------------------------------


def reference_loss_and_grads(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    target: np.ndarray,
    constants: Mapping[str, np.ndarray] | None = None,
) -> tuple[float, np.ndarray, dict[str, np.ndarray]]:
    """``(loss, model output, {parameter: gradient})`` through the reference layers
    (tests/networks/graph.py), in the dtype of ``x`` and ``params``."""
    acts, tape = graph.run(spec, params, x, constants)
    h = acts[tape[-1][0]["name"]]
    module, inputs, attrs, first = _loss_call(spec, h, target)
    loss = module.forward(**inputs, **attrs)
    output = softmax.forward(h, axis=-1) if spec["output"] == "softmax" else h
    grad = module.backward(np.ones_like(loss), **inputs, **attrs)[first]
    return float(loss), output, graph.gradients(tape, grad)


def _loss_call(spec, h, target):
    loss_spec = spec["loss"]
    module = importlib.import_module(f"reference.{loss_spec['op']}")
    first = "logits" if loss_spec["op"] == "cross_entropy" else "pred"
    return module, {first: h, "target": target.astype(h.dtype)}, loss_spec["attrs"], first


def loss_gradient(spec: Mapping, h: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d loss / d (last layer's output) at ``h``."""
    module, inputs, attrs, first = _loss_call(spec, h, target)
    return module.backward(np.ones(()), **inputs, **attrs)[first]


def reference_train(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    target: np.ndarray,
    *,
    optimizer: str,
    convention: str,
    steps: int,
    constants: Mapping[str, np.ndarray] | None = None,
) -> dict[str, list]:
    """``steps`` full-batch updates.  Returns per-step lists: ``loss`` (before each update),
    ``params`` (after each update)."""
    from reference import adam, sgd

    kwargs = dict(spec["optimizers"][optimizer])
    module = sgd if optimizer == "sgd" else adam
    if optimizer == "adam":
        kwargs["convention"] = convention
    if convention == "keras":
        # Keras holds the learning rate as a floatx (float32) variable and tf.casts the
        # Python-float betas through float32 (reference/adam.py docstring).
        if optimizer == "sgd":
            kwargs["lr"] = float(np.float32(kwargs["lr"]))
        else:
            kwargs["scalar_dtype"] = "float32"
    state = module.init(params)
    history: dict[str, list] = {"loss": [], "params": []}
    for _ in range(steps):
        loss, _, grads = reference_loss_and_grads(spec, params, x, target, constants)
        params, state = module.step(params, grads, state, **kwargs)
        history["loss"].append(loss)
        history["params"].append(params)
    return history
