"""Whole networks in Keras 3 (TensorFlow backend): a functional ``keras.Model`` built from
a network spec (format in tests/networks/models.py and tests/networks/graph.py), gradients
from ``tf.GradientTape``, updates from ``keras.optimizers``.  Used by
tests/networks/test_networks.py (whole networks), tests/networks/localize.py (layer by
layer) and tests/networks/test_optimizers.py (``optimizer_steps``).

The model is the one a Keras user writes (the layer for each node, and why, in
tests/networks/keras_layers.py): channels_last (NHWC) input, Conv2D/DepthwiseConv2D with
``padding="same"/"valid"`` (explicit symmetric integers become ZeroPadding2D + "valid"),
BatchNormalization (``training`` from the spec's ``mode``), a ReLU right after a
Conv2D/Dense folded in as ``activation="relu"``, pools, Add/Concatenate, Flatten, Dense,
and for ``output == "softmax"`` a final ``Dense(..., activation="softmax")`` trained with
``keras.losses.CategoricalCrossentropy()`` on its probabilities (seed 004's compile).
Cross-entropy on logits uses ``CategoricalCrossentropy(from_logits=True)``; the seed-000
sum of squares is ``tf.reduce_sum(tf.square(pred - target))`` (Keras' MeanSquaredError
averages over the last axis before any reduction, so it has no sum-of-squares form; its
mean over the last axis and then the rest is the mean over every element).

Layout, all through ``adapters.layout``: inputs NCHW -> NHWC, conv kernels OIHW -> HWIO,
and the kernel rows of the first Dense after a Flatten permuted from the reference's
(C, H, W) feature order to Keras' (H, W, C); gradients and parameters go back the same way.

Dropout: Keras cannot take an injected mask; the model multiplies by ``mask / (1 - p)``
(keras.layers.Dropout: "inputs not set to 0 are scaled up by 1 / (1 - rate)").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from adapters import layout
from adapters._tf_common import import_tensorflow
from adapters.base import FrameworkMissing
from adapters.keras import make_loss
from tests.networks import graph
from tests.networks.keras_layers import LayerMaker, describe, from_keras, to_keras
from tests.networks.stages import Stage


def _keras():
    tf = import_tensorflow("the Keras network builder")
    try:
        import keras
    except ImportError as exc:
        raise FrameworkMissing("keras is not installed: pip install 'keras>=3'") from exc
    if keras.backend.backend() != "tensorflow":
        raise FrameworkMissing(
            f"the Keras network builder uses tf.GradientTape; KERAS_BACKEND is "
            f"{keras.backend.backend()!r}, not 'tensorflow'"
        )
    return tf, keras


def version() -> str:
    tf, keras = _keras()
    return f"keras {keras.__version__} / tensorflow {tf.__version__}"


def optimizer_steps(make_optimizer, params: Mapping[str, np.ndarray], grads) -> list[dict]:
    """``keras.optimizers`` on float64 variables: ``make_optimizer(keras)`` applied to each
    gradient dict of ``grads`` in turn; the parameters after every step.  Keras 3's
    ``keras.Variable`` or, on Keras 2 (TF <= 2.15, which has none), ``tf.Variable``."""
    tf, keras = _keras()
    make_variable = getattr(keras, "Variable", tf.Variable)
    variables = {  # dtype given: Keras 3.3's Variable takes floatx, not the value's dtype
        k: make_variable(np.array(v, dtype=np.float64), dtype="float64") for k, v in params.items()
    }
    optimizer = make_optimizer(keras)
    history = []
    for g in grads:
        pairs = [(tf.constant(g[k], dtype=tf.float64), v) for k, v in variables.items()]
        optimizer.apply_gradients(pairs)
        history.append({k: np.array(v.numpy()) for k, v in variables.items()})
    return history


class KerasNetwork:
    """A spec's network as a functional ``keras.Model``, weights set from reference arrays."""

    framework = "keras"

    def __init__(self, spec, params, input_shape, dtype, constants=None, overrides=None):
        self.tf, self.keras = _keras()
        self.spec, self.dtype = spec, np.dtype(dtype).name
        self.training = spec.get("mode", "train") == "train"
        self.overrides = dict(overrides or {})
        constants = dict(constants or {})
        self.set_masks(constants)
        self.nodes = graph.nodes(spec, with_output=True)
        unknown = set(self.overrides) - {n["name"] for n in self.nodes}
        if unknown:
            raise ValueError(f"overrides name no node of the network: {sorted(unknown)}")
        maker = LayerMaker(self.keras, self.dtype, params, constants)
        shape = tuple(input_shape[1:])
        keras_shape = (*shape[1:], shape[0]) if len(shape) == 3 else shape
        inp = self.keras.Input(shape=keras_shape, dtype=self.dtype)
        self.tensors = {graph.INPUT: inp}
        self.where = {graph.INPUT: "nchw" if len(shape) == 3 else "plain"}
        #: node name -> the Keras layers that compute it (empty: folded into the previous)
        self.layers: dict[str, list] = {}
        folded = set()
        for i, node in enumerate(self.nodes):
            name = node["name"]
            if name in folded:
                self.layers[name] = []
                self.tensors[name] = self.tensors[node["inputs"][0]]
            else:
                following = self.nodes[i + 1] if i + 1 < len(self.nodes) else None
                fold = following is not None and self._folds(node, following)
                if fold:
                    folded.add(following["name"])
                layers = self._make(maker, node, following if fold else None)
                self.layers[name] = layers
                ins = [self.tensors[s] for s in node["inputs"]]
                out = layers[0](ins if len(ins) > 1 else ins[0])
                for layer in layers[1:]:
                    out = layer(out)
                self.tensors[name] = out
            self.where[name] = self._where(node)
        last = self.nodes[-1]["name"]
        self.model = self.keras.Model(inp, self.tensors[last])
        self.variables = maker.assign()
        self.loss_fn = self._loss()

    # -- building --------------------------------------------------------------------------

    def _folds(self, node, following) -> bool:
        """Whether ``following`` becomes part of ``node``'s layer: a ReLU as
        ``activation="relu"``, the output softmax as ``activation="softmax"``, the flatten
        after a global pool (GlobalAveragePooling2D flattens)."""
        if following["inputs"] != [node["name"]]:
            return False
        readers = sum(node["name"] in n["inputs"] for n in self.nodes)
        if readers != 1:
            return False
        if node["op"] in ("conv2d", "linear") and following["op"] == "relu":
            return True
        if node["op"] == "linear" and following["name"] == graph.OUTPUT_SOFTMAX:
            return True
        return bool(node.get("global")) and following["op"] == "flatten"

    def _make(self, maker: LayerMaker, node, folded_next) -> list:
        op = node["op"]
        override = self.overrides.get(node["name"], {})
        activation = None
        if folded_next is not None and folded_next["op"] in ("relu", "softmax"):
            activation = folded_next["op"]
        shape = self._shape(node["inputs"][0])
        if op == "conv2d":
            return maker.conv2d(node, shape, activation, override)
        if op == "conv_transpose2d":
            return maker.conv_transpose2d(node, shape)
        if op == "resize2d":
            return maker.resize2d(node)
        if op in ("maxpool2d", "avgpool2d"):
            return maker.pool(node, shape, override, folds_flatten=folded_next is not None)
        if op == "batchnorm2d":
            return maker.batchnorm2d(node, override)
        if op == "linear":
            return maker.linear(node, self.where[node["inputs"][0]], activation, override)
        if op == "dropout":
            if len(shape) != 1:
                raise ValueError("injected dropout masks are supported on dense features")
            p = float(override.get("p", node["attrs"]["p"]))
            return [_injected_dropout(self, node["mask"], p, node["name"])]
        return maker.simple(node)

    def _shape(self, name) -> tuple:
        """A node's output shape without the batch, in the reference layout."""
        shape = tuple(int(d) for d in self.tensors[name].shape[1:])
        return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape

    def _where(self, node):
        source = node["inputs"][0]
        if node["op"] == "flatten":
            if self.where[source] == "nchw" and len(self.tensors[source].shape) == 4:
                return ("flat", self._shape(source))
            return "plain"  # e.g. after GlobalAveragePooling2D, which flattened already
        if node["op"] in ("linear", "softmax"):
            return "plain"
        return self.where[source]

    def _loss(self):
        loss, tf = self.spec["loss"], self.tf
        reduction = loss["attrs"]["reduction"]
        if loss["op"] == "cross_entropy":
            from_logits = self.spec["output"] != "softmax"
            return make_loss(
                self.keras.losses,
                "CategoricalCrossentropy",
                reduction,
                self.dtype,
                from_logits=from_logits,
            )
        if reduction == "mean":  # mean over the last axis, then over the rest: the mean
            return make_loss(self.keras.losses, "MeanSquaredError", reduction, self.dtype)
        if reduction != "sum":
            raise ValueError(f"the Keras network builder has no mse reduction {reduction!r}")
        return lambda target, pred: tf.reduce_sum(tf.square(pred - target))

    # -- running ---------------------------------------------------------------------------

    def set_masks(self, masks) -> None:
        self.masks = {
            k: self.tf.constant(np.asarray(v, self.dtype)) for k, v in (masks or {}).items()
        }

    def _inputs(self, x, target):
        x = layout.nchw_to_nhwc(np.asarray(x, self.dtype)) if np.ndim(x) == 4 else x
        target = np.asarray(target, self.dtype)
        if target.ndim == 4:
            target = layout.nchw_to_nhwc(target)
        return self.tf.constant(x), self.tf.constant(target)

    def _from_keras(self, out: np.ndarray) -> np.ndarray:
        return layout.nhwc_to_nchw(out) if out.ndim == 4 else out

    def reference_params(self) -> dict[str, np.ndarray]:
        return {n: back(np.array(v.numpy())) for n, (v, back) in self.variables.items()}

    def loss_and_grads(self, x, target):
        """``(loss, model output, {parameter: gradient})``, all in the reference's layout."""
        xt, tt = self._inputs(x, target)
        names = list(self.variables)
        watched = [self.variables[n][0] for n in names]
        with self.tf.GradientTape() as tape:
            out = self.model(xt, training=self.training)
            loss = self.loss_fn(tt, out)
        grads = tape.gradient(loss, watched)
        grads = {n: self.variables[n][1](np.array(g)) for n, g in zip(names, grads, strict=True)}
        return float(loss), self._from_keras(np.array(out)), grads

    def train(
        self, x, target, *, optimizer: str, steps: int, record_params: bool = True
    ) -> dict[str, list]:
        """``steps`` full-batch updates with ``keras.optimizers.SGD``/``Adam`` (defaults
        besides the learning rate); past 50 steps the step is compiled once with
        ``tf.function`` (tracing costs more than a few eager steps).  Returns per-step
        ``loss`` (before each update) and ``params`` (after)."""
        tf = self.tf
        lr = self.spec["optimizers"][optimizer]["lr"]
        opt = (self.keras.optimizers.SGD if optimizer == "sgd" else self.keras.optimizers.Adam)(
            learning_rate=lr
        )
        xt, tt = self._inputs(x, target)
        watched = [v for v, _ in self.variables.values()]

        def step():
            with tf.GradientTape() as tape:
                loss = self.loss_fn(tt, self.model(xt, training=self.training))
            opt.apply_gradients(zip(tape.gradient(loss, watched), watched, strict=False))
            return loss

        if steps > 50:
            step = tf.function(step)
        history: dict[str, list] = {"loss": [], "params": []}
        for _ in range(steps):
            history["loss"].append(float(step()))
            if record_params:
                history["params"].append(self.reference_params())
        return history

    # -- layer by layer (tests/networks/localize.py) ---------------------------------------

    def stages(self) -> list[Stage]:
        """One stage per Keras layer group; a folded node joins the stage before it."""
        groups: list[list] = []
        for node in self.nodes:
            if self.layers[node["name"]]:
                groups.append([node])
            else:
                groups[-1].append(node)
        return [self._stage(group) for group in groups]

    def _stage(self, group) -> Stage:
        first, last = group[0], group[-1]
        layers = self.layers[first["name"]]

        def run(*arrays):
            ins = [
                self.tf.constant(to_keras(np.asarray(a, self.dtype), self.where[s]))
                for a, s in zip(arrays, first["inputs"], strict=True)
            ]
            out = self._call(layers[0], ins if len(ins) > 1 else ins[0])
            for layer in layers[1:]:
                out = self._call(layer, out)
            return from_keras(np.array(out), self.where[last["name"]])

        label = "; ".join(describe(layer) for layer in layers)
        return Stage(tuple(n["name"] for n in group), label, run)

    def _call(self, layer, value):
        if isinstance(layer, self.keras.layers.BatchNormalization):
            return layer(value, training=self.training)
        return layer(value)

    def activations(self, x) -> dict[str, np.ndarray]:
        """Each stage's output in the model's own forward (an intermediate-output model
        over the same layers), in the reference layout."""
        ends = [stage.nodes[-1] for stage in self.stages()]
        probe = self.keras.Model(self.model.inputs, [self.tensors[n] for n in ends])
        xt, _ = self._inputs(x, np.zeros(1))
        outs = probe(xt, training=self.training)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        return {n: from_keras(np.array(o), self.where[n]) for n, o in zip(ends, outs, strict=True)}


def _injected_dropout(network: KerasNetwork, mask_name: str, p: float, name: str):
    keras = network.keras

    class InjectedDropout(keras.layers.Layer):
        def call(self, x):
            return x * (network.masks[mask_name] / (1.0 - p))

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return super().get_config() | {"rate": p}

    return InjectedDropout(dtype=network.dtype, name=name)


def build(
    spec: Mapping,
    params: Mapping[str, np.ndarray],
    input_shape,
    dtype="float32",
    constants=None,
    overrides=None,
) -> KerasNetwork:
    return KerasNetwork(spec, params, input_shape, dtype, constants, overrides)
