"""Whole networks in Keras 3 (TensorFlow backend): a ``keras.Sequential`` built from a
network spec (format in tests/networks/models.py), gradients from ``tf.GradientTape``,
updates from ``keras.optimizers``.  Used by tests/networks/test_networks.py (whole
networks) and tests/networks/test_optimizers.py (``optimizer_steps``).

The model is the one a Keras user writes: channels_last (NHWC) input, Conv2D with HWIO
kernels and ``padding="same"/"valid"`` (explicit symmetric integers become
ZeroPadding2D + "valid"), a ReLU right after a Conv2D/Dense folded in as
``activation="relu"``, MaxPooling2D, Flatten, Dense, and for ``output == "softmax"`` a
final ``Dense(..., activation="softmax")`` trained with
``keras.losses.CategoricalCrossentropy()`` on its probabilities (seed 004's compile).
Cross-entropy on logits uses ``CategoricalCrossentropy(from_logits=True)``; the seed-000
sum of squares is ``tf.reduce_sum(tf.square(pred - target))`` (Keras' MeanSquaredError
averages over the last axis before any reduction, so it has no sum-of-squares form).

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
from adapters._geometry import is_symmetric, padding_pairs
from adapters._tf_common import import_tensorflow
from adapters.base import FrameworkMissing
from adapters.keras import make_loss


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
    """A spec's network as a keras.Sequential, weights set from reference arrays."""

    def __init__(
        self,
        spec: Mapping,
        params: Mapping[str, np.ndarray],
        input_shape,
        dtype,
        masks: Mapping[str, np.ndarray] | None = None,
    ):
        self.tf, self.keras = _keras()
        self.spec, self.dtype = spec, np.dtype(dtype).name
        self.set_masks(masks)
        #: reference name -> (keras variable, keras-array -> reference-array)
        self.variables: dict[str, tuple[object, object]] = {}
        L = self.keras.layers
        layers = [L.Input(shape=(*tuple(input_shape[2:]), input_shape[1]), dtype=self.dtype)]
        assignments = []  # (keras layer, [(reference name, keras value, back-conversion)])
        shape = tuple(input_shape[1:])
        flatten_chw = None
        spec_layers = list(spec["layers"])
        i = 0
        while i < len(spec_layers):
            layer, op, attrs = spec_layers[i], spec_layers[i]["op"], spec_layers[i]["attrs"]
            following = spec_layers[i + 1]["op"] if i + 1 < len(spec_layers) else None
            activation = "relu" if following == "relu" and op in ("conv2d", "linear") else None
            last = i == len(spec_layers) - 1
            if op == "conv2d":
                w = np.asarray(params[layer["params"]["w"]], self.dtype)
                stride = attrs.get("stride", 1)
                padding = attrs.get("padding", 0)
                if not isinstance(padding, str):
                    pads = padding_pairs(padding, shape[1:], w.shape[2:], (stride, stride))
                    if not is_symmetric(pads):
                        raise ValueError(f"padding {padding!r}: asymmetric {pads}")
                    if pads != ((0, 0), (0, 0)):
                        layers.append(L.ZeroPadding2D(pads, dtype=self.dtype))
                    padding = "valid"
                keras_layer = L.Conv2D(
                    w.shape[0],
                    w.shape[2:],
                    strides=stride,
                    padding=padding.lower(),
                    activation=activation,
                    use_bias="b" in layer["params"],
                    dtype=self.dtype,
                )
                values = [(layer["params"]["w"], layout.oihw_to_hwio(w), layout.hwio_to_oihw)]
                if "b" in layer["params"]:
                    values.append((layer["params"]["b"], params[layer["params"]["b"]], _same))
                assignments.append((keras_layer, values))
                layers.append(keras_layer)
                shape = _conv_shape(shape, w.shape, stride, attrs.get("padding", 0))
            elif op == "maxpool2d":
                k = attrs["kernel_size"]
                stride = attrs.get("stride") or k
                padding = attrs.get("padding", 0)
                if not isinstance(padding, str):
                    if padding != 0:
                        raise ValueError(
                            f"maxpool2d padding {padding!r}: Keras takes 'valid' or 'same' only"
                        )
                    padding = "valid"
                layers.append(
                    L.MaxPooling2D(k, strides=stride, padding=padding.lower(), dtype=self.dtype)
                )
                shape = _pool_shape(shape, k, stride, padding)
            elif op == "relu":
                layers.append(L.ReLU(dtype=self.dtype))
            elif op == "flatten":
                layers.append(L.Flatten(dtype=self.dtype))
                flatten_chw, shape = shape, (int(np.prod(shape)),)
            elif op == "linear":
                w = np.asarray(params[layer["params"]["w"]], self.dtype)
                back = _same
                if flatten_chw is not None:
                    chw = flatten_chw
                    w = layout.dense_rows_chw_to_hwc(w, chw)

                    def back(g, chw=chw):
                        return layout.dense_rows_hwc_to_chw(g, chw)

                    flatten_chw = None
                if last and spec["output"] == "softmax":
                    activation = "softmax"
                keras_layer = L.Dense(
                    w.shape[1],
                    activation=activation,
                    use_bias="b" in layer["params"],
                    dtype=self.dtype,
                )
                values = [(layer["params"]["w"], w, back)]
                if "b" in layer["params"]:
                    values.append((layer["params"]["b"], params[layer["params"]["b"]], _same))
                assignments.append((keras_layer, values))
                layers.append(keras_layer)
                shape = (w.shape[1],)
            elif op == "dropout":
                if len(shape) != 1:
                    raise ValueError("injected dropout masks are supported on dense features")
                layers.append(_injected_dropout(self, layer["mask"], float(attrs["p"])))
            else:
                raise ValueError(f"layer op {op!r} has no Keras network layer")
            i += 2 if activation == "relu" else 1
        self.model = self.keras.Sequential(layers)
        for keras_layer, values in assignments:
            keras_layer.set_weights([np.asarray(v, self.dtype) for _, v, _ in values])
            for variable, (name, _, back) in zip(keras_layer.weights, values, strict=True):
                self.variables[name] = (variable, back)
        self.loss_fn = self._loss()

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
        if reduction != "sum":
            raise ValueError("the Keras network builder implements the sum of squares only")
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
            out = self.model(xt, training=True)
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
                loss = self.loss_fn(tt, self.model(xt, training=True))
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


def _injected_dropout(network: KerasNetwork, mask_name: str, p: float):
    keras = network.keras

    class InjectedDropout(keras.layers.Layer):
        def call(self, x):
            return x * (network.masks[mask_name] / (1.0 - p))

        def compute_output_shape(self, input_shape):
            return input_shape

    return InjectedDropout(dtype=network.dtype)


def _same(a):
    return a


def _conv_shape(chw, w_shape, stride, padding):
    if isinstance(padding, str):
        if padding.lower() == "same":
            return (w_shape[0], *tuple(-(-s // stride) for s in chw[1:]))
        padding = 0
    pads = padding_pairs(padding, chw[1:], w_shape[2:], (stride, stride))
    sizes = zip(chw[1:], pads, w_shape[2:], strict=True)
    return (w_shape[0], *((s + lo + hi - k) // stride + 1 for s, (lo, hi), k in sizes))


def _pool_shape(chw, k, stride, padding):
    if padding.lower() == "same":
        return (chw[0], *tuple(-(-s // stride) for s in chw[1:]))
    return (chw[0], *tuple((s - k) // stride + 1 for s in chw[1:]))


def build(
    spec: Mapping, params: Mapping[str, np.ndarray], input_shape, dtype="float32", masks=None
) -> KerasNetwork:
    return KerasNetwork(spec, params, input_shape, dtype, masks)
