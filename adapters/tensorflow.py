"""The ``tf.nn`` API as its own adapter (name "tensorflow"); gradients from tf.GradientTape.

Ops: tf.nn.conv2d (NHWC, HWIO filters, explicit padding pairs, dilations, grouped
filters), tf.nn.max_pool2d (tf.nn.pool when dilated), tf.nn.avg_pool2d, tf.nn.relu,
tf.nn.sigmoid, tf.math.tanh, tf.nn.softmax, tf.matmul (+ tf.nn.bias_add) for linear,
tf.reshape for flatten, tf.nn.moments + tf.nn.batch_normalization,
tf.nn.softmax_cross_entropy_with_logits / tf.nn.sparse_softmax_cross_entropy_with_logits
with tf.reduce_mean / tf.reduce_sum, and mean squared error as TF users write it,
``tf.square(pred - target)`` reduced with tf.reduce_mean / tf.reduce_sum ("none": no
reduction) -- not tf.nn, but plain TensorFlow, so it is supported rather than refused.

Layout: arrays arrive and leave in the reference's layout (NCHW, OIHW); conv2d, both
poolings and batchnorm2d run in NHWC/HWIO.  Cross-entropy on 4-D logits moves the class
axis last (tf's losses take classes on the last axis).  Elementwise ops, softmax and
flatten run on the array as given.

Dropout: TensorFlow draws its own mask and cannot take the reference's.  The adapter runs
``tf.nn.dropout(ones, rate=p, seed=...)`` to read the value TensorFlow gives kept units,
checks that dropped units are exactly 0 and kept ones all equal, then computes
``x * mask * scale`` with TensorFlow ops so the tape gives the backward.  tf.nn.dropout has
no inference mode (no ``training`` argument), so ``training=False`` is unsupported.

``unsupported`` takes an optional ``direction`` ("forward"/"backward"; ``None`` = either):
TensorFlow's CPU conv kernels run grouped and dilated convolutions forward but refuse
their gradients, a rule read by actually running a tiny case.  The rules, each quoting
TensorFlow, are in adapters/_tf_nn_rules.py.  Unsupported outright: the SciPy view
(``signal.*``) and Keras' crossentropy on probabilities (tf.nn's crossentropy takes
logits).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters import _tf_common as common
from adapters.layout import NCHW_TO_NHWC, NHWC_TO_NCHW

_DROPOUT_SEED = 1234


class TfNnAdapter:
    name = "tensorflow"

    def __init__(self) -> None:
        self.tf: Any = None

    # -- Protocol ---------------------------------------------------------------------
    def load(self) -> None:
        if self.tf is None:
            self.tf = common.import_tensorflow("the tf.nn adapter")

    def version(self) -> str:
        return f"tensorflow {self.tf.__version__}"

    def determinism_flags(self) -> dict[str, str]:
        return common.tf_determinism_flags(self.tf)

    def unsupported(self, layer, inputs, attrs, dtype, *, direction=None) -> str | None:
        if layer == "cross_entropy.categorical_crossentropy":
            from adapters import _tf_nn_rules

            return _tf_nn_rules.no_probability_crossentropy(self)
        if layer not in BUILDS:
            return (
                f"tf.nn adapter: layer {layer!r} has no counterpart among the tf.nn ops "
                "it runs (tf.nn.conv2d serves the conv2d cases)"
            )
        if np.dtype(dtype) not in (np.float32, np.float64):
            return f"tf.nn adapter: runs float32 and float64 only, not {np.dtype(dtype)}"
        from adapters import _tf_nn_rules

        return _tf_nn_rules.unsupported(self, layer, inputs, attrs, np.dtype(dtype), direction)

    def forward(self, layer, inputs, attrs) -> np.ndarray:
        tensors, run = self._plan(layer, inputs, attrs)
        return run(tensors)[1]

    def backward(self, layer, grad_out, inputs, attrs) -> dict[str, np.ndarray]:
        tf = self.tf
        tensors, run = self._plan(layer, inputs, attrs)
        with tf.GradientTape() as tape:
            for value in tensors.values():
                tape.watch(value)
            out, _, to_framework = run(tensors, keep_tensor=True)
        seed = tf.constant(to_framework(np.asarray(grad_out)), dtype=out.dtype)
        grads = tape.gradient(out, list(tensors.values()), output_gradients=seed)
        layouts = self._grad_layouts(layer, inputs)
        return {
            name: layouts.get(name, lambda g: g)(g.numpy())
            for name, g in zip(tensors, grads, strict=True)
        }

    # -- plans: tensors to watch, and a function of them --------------------------------
    def _plan(self, layer, inputs, attrs):
        """``(tensors, run)``: the differentiable inputs as TF tensors in TF's layout, and
        ``run(tensors, keep_tensor=False)`` giving ``(out, out_in_reference_layout,
        grad_out_to_tf_layout)``."""
        tf = self.tf
        if layer not in BUILDS:
            raise ValueError(self.unsupported(layer, inputs, attrs, np.float64))
        build = getattr(self, f"_build_{layer}")
        tensors, fn, to_ref, to_tf = build(inputs, attrs)
        tensors = {k: tf.constant(v) for k, v in tensors.items()}

        def run(values, keep_tensor=False):
            out = fn(values)
            return out, to_ref(out.numpy()), to_tf

        return tensors, run

    def _grad_layouts(self, layer, inputs):
        if layer in ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d"):
            layouts = {"x": lambda g: g.transpose(NHWC_TO_NCHW)}
            if layer == "conv2d":
                layouts["w"] = lambda g: g.transpose(3, 2, 0, 1)  # HWIO -> OIHW
            return layouts
        if layer == "cross_entropy" and inputs["logits"].ndim > 2:
            return {"logits": lambda g: np.moveaxis(g, -1, 1)}
        return {}

    def _build_conv2d(self, inputs, attrs):
        tf = self.tf
        x, w = inputs["x"], inputs["w"]
        tensors = {"x": x.transpose(NCHW_TO_NHWC), "w": w.transpose(2, 3, 1, 0)}
        if inputs.get("b") is not None:
            tensors["b"] = inputs["b"]
        padding = attrs.get("padding", 0)
        if isinstance(padding, str):
            tf_padding: Any = padding.upper()
        else:
            kernel = w.shape[2:]
            (t, b), (l, r) = common.padding_pairs(padding, x.shape[2:], kernel, (1, 1))
            tf_padding = [[0, 0], [t, b], [l, r], [0, 0]]
        stride = list(common.pair(attrs.get("stride", 1)))
        dilation = list(common.pair(attrs.get("dilation", 1)))

        def fn(v):
            # tf.nn.conv2d infers groups from the filter: its in-depth is C / groups.
            y = tf.nn.conv2d(v["x"], v["w"], stride, tf_padding, dilations=dilation)
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        return tensors, fn, _to_nchw, _to_nhwc

    def _build_maxpool2d(self, inputs, attrs):
        tf = self.tf
        x = inputs["x"]
        kernel = list(common.pair(attrs["kernel_size"]))
        stride = list(common.pair(attrs.get("stride") or attrs["kernel_size"]))
        dilation = common.pair(attrs.get("dilation", 1))
        pads = common.padding_pairs(attrs.get("padding", 0), x.shape[2:], kernel, stride, dilation)
        candidates = ["VALID", "SAME"] + ([pads] if dilation == (1, 1) else [])
        padding = common.matching_tf_padding(
            x.shape[2:], attrs, candidates, average=False, dilation=dilation
        )
        if not isinstance(padding, str):
            padding = [[0, 0], list(pads[0]), list(pads[1]), [0, 0]]

        def fn(v):
            if dilation != (1, 1):
                return tf.nn.pool(
                    v["x"],
                    kernel,
                    "MAX",
                    strides=stride,
                    padding=padding,
                    dilations=list(dilation),
                )
            return tf.nn.max_pool2d(v["x"], kernel, stride, padding)

        return {"x": x.transpose(NCHW_TO_NHWC)}, fn, _to_nchw, _to_nhwc

    def _build_avgpool2d(self, inputs, attrs):
        tf = self.tf
        x = inputs["x"]
        kernel = list(common.pair(attrs["kernel_size"]))
        stride = list(common.pair(attrs.get("stride") or attrs["kernel_size"]))
        padding = common.matching_tf_padding(x.shape[2:], attrs, ["VALID", "SAME"], average=True)

        def fn(v):
            return tf.nn.avg_pool2d(v["x"], kernel, stride, padding)

        return {"x": x.transpose(NCHW_TO_NHWC)}, fn, _to_nchw, _to_nhwc

    def _elementwise(self, op):
        def build(inputs, attrs):
            return {"x": inputs["x"]}, lambda v: op(v["x"]), _same, _same

        return build

    def _build_relu(self, inputs, attrs):
        return self._elementwise(self.tf.nn.relu)(inputs, attrs)

    def _build_sigmoid(self, inputs, attrs):
        return self._elementwise(self.tf.nn.sigmoid)(inputs, attrs)

    def _build_tanh(self, inputs, attrs):
        return self._elementwise(self.tf.math.tanh)(inputs, attrs)

    def _build_softmax(self, inputs, attrs):
        axis = int(attrs.get("axis", -1))
        return self._elementwise(lambda x: self.tf.nn.softmax(x, axis=axis))(inputs, attrs)

    def _build_flatten(self, inputs, attrs):
        x = inputs["x"]
        start = int(attrs.get("start_dim", 1)) % x.ndim
        shape = [*x.shape[:start], -1]
        return self._elementwise(lambda t: self.tf.reshape(t, shape))(inputs, attrs)

    def _build_linear(self, inputs, attrs):
        tf = self.tf
        tensors = {"x": inputs["x"], "w": inputs["w"]}
        if inputs.get("b") is not None:
            tensors["b"] = inputs["b"]

        def fn(v):
            y = tf.matmul(v["x"], v["w"])
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        return tensors, fn, _same, _same

    def _build_batchnorm2d(self, inputs, attrs):
        tf = self.tf
        x = inputs["x"]
        eps = float(attrs.get("eps", 1e-5))
        training = bool(attrs["training"])
        running = (inputs["running_mean"], inputs["running_var"])
        tensors = {"x": x.transpose(NCHW_TO_NHWC), "gamma": inputs["gamma"], "beta": inputs["beta"]}

        def fn(v):
            if training:
                # Biased batch variance over N, H, W: what normalisation uses.
                mean, var = tf.nn.moments(v["x"], axes=[0, 1, 2])
            else:
                mean, var = (tf.constant(r) for r in running)
            return tf.nn.batch_normalization(v["x"], mean, var, v["beta"], v["gamma"], eps)

        return tensors, fn, _to_nchw, _to_nhwc

    def _build_dropout(self, inputs, attrs):
        tf = self.tf
        x, mask = inputs["x"], inputs["mask"]
        scale = common.kept_unit_scale(
            tf.nn.dropout(
                np.ones(4096, x.dtype), rate=float(attrs["p"]), seed=_DROPOUT_SEED
            ).numpy()
        )
        keep = mask.astype(x.dtype) * scale

        def fn(v):
            return v["x"] * tf.constant(keep)

        return {"x": x}, fn, _same, _same

    def _build_cross_entropy(self, inputs, attrs):
        tf = self.tf
        logits, target = inputs["logits"], inputs["target"]
        reduction = attrs.get("reduction", "mean")
        moved = logits.ndim > 2
        if moved:
            logits = np.moveaxis(logits, 1, -1)
            if np.issubdtype(target.dtype, np.floating):
                target = np.moveaxis(target, 1, -1)

        def fn(v):
            if np.issubdtype(target.dtype, np.floating):
                per_sample = tf.nn.softmax_cross_entropy_with_logits(
                    labels=tf.constant(target.astype(logits.dtype)), logits=v["logits"]
                )
            else:
                per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=tf.constant(target), logits=v["logits"]
                )
            return _reduce(tf, per_sample, reduction)

        return {"logits": logits}, fn, _same, _same

    def _build_mse(self, inputs, attrs):
        tf = self.tf
        target = inputs["target"]
        reduction = attrs.get("reduction", "mean")

        def fn(v):
            return _reduce(tf, tf.square(v["pred"] - tf.constant(target)), reduction)

        return {"pred": inputs["pred"]}, fn, _same, _same


#: The reference layers this adapter builds (each has a ``_build_<layer>`` method).
BUILDS = frozenset(
    {
        "conv2d",
        "maxpool2d",
        "avgpool2d",
        "relu",
        "sigmoid",
        "tanh",
        "softmax",
        "flatten",
        "linear",
        "batchnorm2d",
        "dropout",
        "cross_entropy",
        "mse",
    }
)


def _reduce(tf, values, reduction):
    if reduction == "mean":
        return tf.reduce_mean(values)
    if reduction == "sum":
        return tf.reduce_sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _to_nchw(a):
    return a.transpose(NHWC_TO_NCHW)


def _to_nhwc(a):
    return a.transpose(NCHW_TO_NHWC)


def _same(a):
    return a
