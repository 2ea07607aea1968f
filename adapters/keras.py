"""Keras through its layers and losses (name "keras"), on any Keras 3 backend or tf.keras.

Layers: Conv2D (ZeroPadding2D before it for explicit padding: the Keras API for explicit
symmetric or asymmetric zero padding), MaxPooling2D, AveragePooling2D, Dense,
BatchNormalization, Dropout, Flatten, ReLU, Activation("sigmoid"/"tanh"), Softmax;
losses CategoricalCrossentropy(from_logits=True) (probability targets),
SparseCategoricalCrossentropy(from_logits=True) (index targets), MeanSquaredError, and
for the reference's ``cross_entropy.categorical_crossentropy`` (Keras' own loss on
probabilities) CategoricalCrossentropy(from_logits=False, axis=...), with reduction
"mean" -> "sum_over_batch_size", "sum", "none".  The SciPy view (``signal.*``) has no
Keras layer or loss and is reported unsupported.  Float64 cases build layers and
losses with ``dtype="float64"``.

Layout: arrays arrive and leave in the reference's layout.  Conv2D, the poolings and
BatchNormalization run channels_last (NHWC, kernels HWIO), the default people use;
4-D cross-entropy logits move the class axis last.  Flatten gets the array as given:
Keras' Flatten of a channels_last feature map orders features (H, W, C), torch's and the
reference's (C, H, W) -- a convention difference, not something to hide here.

Gradients, chosen by backend (the one place that knows backends is ``_KerasApi``):
tensorflow / tf.keras -> tf.GradientTape over the inputs and ``layer.trainable_weights``;
jax -> ``layer.stateless_call`` inside ``jax.vjp``; torch -> ``layer.stateless_call`` on
tensors with ``requires_grad`` and ``torch.autograd.grad``.

Dropout: Keras draws its own mask and cannot take the reference's.  The adapter runs
``keras.layers.Dropout(p, seed=...)`` in training mode on ones to read the value it gives
kept units (checking dropped units are exactly 0 and kept ones all equal), then computes
``x * mask * scale`` with Keras ops so autodiff gives the backward.  With
``training=False`` it runs the layer on ``x`` (which must be the identity).

``unsupported`` takes an optional ``direction`` ("forward"/"backward"; ``None`` = either).
"""

from __future__ import annotations

import inspect
import os

import numpy as np

from adapters import _tf_common as common
from adapters.base import FrameworkMissing
from adapters.layout import NCHW_TO_NHWC, NHWC_TO_NCHW

_SEED = 1234
_REDUCTIONS = {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}


def make_loss(losses, cls_name: str, reduction: str, dtype: str, **kwargs):
    """``losses.<cls_name>`` with the reference's ``reduction`` ("mean", "sum", "none")."""
    cls = getattr(losses, cls_name)
    # Keras 2 losses compute in y_pred's dtype and take no dtype; Keras 3 losses
    # before their ``dtype`` argument compute in floatx (the float64 rule then
    # refuses float64: the loss comes back float32).
    if "dtype" in inspect.signature(cls.__init__).parameters:
        kwargs["dtype"] = dtype
    return cls(reduction=_REDUCTIONS[reduction], **kwargs)


def _does_not_import(exc: ImportError) -> FrameworkMissing:
    """Keras is installed but fails to import, e.g. a Keras release newer than the JAX
    it would run on (Keras 3.15 imports ``jax.export``, absent from jax 0.4.20)."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return FrameworkMissing(
        f"keras is installed but does not import with KERAS_BACKEND={backend}: "
        f"{type(exc).__name__}: {exc}"
    )


class _KerasApi:
    """The compatibility shim: Keras 3 (any backend) or TF 2.15's Keras 2 ``tf.keras``."""

    def __init__(self) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before keras imports TF
        try:
            import keras
        except ModuleNotFoundError as exc:
            if exc.name != "keras":
                raise _does_not_import(exc) from exc
            keras = None
        except ImportError as exc:  # installed, but its backend's import fails
            raise _does_not_import(exc) from exc
        self.tf = None
        if keras is None or keras.__version__.startswith("2"):
            self.tf = common.import_tensorflow("Keras 2 (tf.keras)")
            # TF 2.15's tf.keras is a lazy alias of the keras 2 package and has no
            # __version__ of its own.
            self.version = keras.__version__ if keras is not None else "2 (bundled)"
            keras, self.backend, self.tf_keras = self.tf.keras, "tensorflow", True
        else:
            self.version = keras.__version__
            self.backend, self.tf_keras = keras.backend.backend(), False
            if self.backend == "tensorflow":
                self.tf = common.import_tensorflow("Keras on the tensorflow backend")
        self.keras, self.layers, self.losses = keras, keras.layers, keras.losses
        self.backend_module = self.tf if self.tf is not None else __import__(self.backend)
        if self.backend == "jax":
            # JAX truncates float64 to float32 unless x64 is on ("To enable more dtypes,
            # set the jax_enable_x64 configuration option", JAX's own warning); Keras'
            # float64 layers on JAX need it.  A global JAX flag, as the jax adapter sets
            # it: on here too, so float64 runs the same whichever adapter loads first.
            self.backend_module.config.update("jax_enable_x64", True)

    def tensor(self, array):
        if self.tf_keras:
            return self.tf.constant(array)
        return self.keras.ops.convert_to_tensor(array)

    def numpy(self, tensor) -> np.ndarray:
        if self.tf_keras:
            return tensor.numpy()
        return np.asarray(self.keras.ops.convert_to_numpy(tensor))

    def multiply(self, a, b):
        return self.tf.multiply(a, b) if self.tf_keras else self.keras.ops.multiply(a, b)

    def loss(self, cls_name: str, reduction: str, dtype: str, **kwargs):
        return make_loss(self.losses, cls_name, reduction, dtype, **kwargs)

    def vjp(self, plan, tensors, seed):
        """Gradients of ``plan.run`` w.r.t. ``tensors`` and the plan layer's weights."""
        layer = plan.layer
        weights = list(layer.trainable_variables) if layer is not None else []
        if self.backend == "tensorflow":
            tf = self.tf
            with tf.GradientTape() as tape:
                for t in tensors.values():
                    tape.watch(t)
                out = plan.run(tensors, lambda x, **kw: layer(x, **kw))
            return tape.gradient(out, [*tensors.values(), *weights], output_gradients=seed)
        fixed = [v.value for v in layer.non_trainable_variables] if layer is not None else []

        def run(values, params):
            def call(x, **kw):
                return layer.stateless_call(params, fixed, x, **kw)[0]

            return plan.run(values, call)

        if self.backend == "jax":
            import jax

            params = [w.value for w in weights]
            _, pullback = jax.vjp(run, tensors, params)
            grads_in, grads_w = pullback(seed)
            return [*(grads_in[k] for k in tensors), *grads_w]
        if self.backend == "torch":
            import torch

            values = {k: t.detach().clone().requires_grad_(True) for k, t in tensors.items()}
            params = [w.value.detach().clone().requires_grad_(True) for w in weights]
            out = run(values, params)
            return torch.autograd.grad(out, [*values.values(), *params], grad_outputs=seed)
        raise FrameworkMissing(
            f"the keras adapter has no gradient path for backend {self.backend!r}"
        )


class _Plan:
    """One case as Keras sees it: differentiable inputs (Keras layout), the one layer with
    weights (or None) and the reference names of its trainable weights, and ``run``."""

    def __init__(self, tensors, run, *, layer=None, weight_names=(), nhwc=False, grad_layouts=None):
        self.tensors, self.run, self.layer = tensors, run, layer
        self.weight_names, self.nhwc = tuple(weight_names), nhwc
        self.grad_layouts = grad_layouts or {}


class KerasAdapter:
    name = "keras"

    def __init__(self) -> None:
        self.api: _KerasApi | None = None

    # -- Protocol ---------------------------------------------------------------------
    def load(self) -> None:
        if self.api is None:
            self.api = _KerasApi()

    def version(self) -> str:
        api = self.api
        kind = " tf.keras" if api.tf_keras else ""
        backend = f"{api.backend} {api.backend_module.__version__}"
        return f"keras {api.version}{kind} (backend {backend})"

    def determinism_flags(self) -> dict[str, str]:
        flags = {"KERAS_BACKEND": self.api.backend}
        if self.api.tf is not None:
            flags.update(common.tf_determinism_flags(self.api.tf))
        if self.api.backend == "jax":
            import jax

            flags["jax_enable_x64"] = str(jax.config.jax_enable_x64)
        return flags

    def unsupported(self, layer, inputs, attrs, dtype, *, direction=None) -> str | None:
        from adapters import _keras_rules

        return _keras_rules.unsupported(self, layer, inputs, attrs, np.dtype(dtype), direction)

    def forward(self, layer, inputs, attrs) -> np.ndarray:
        plan = self._plan(layer, inputs, attrs)
        tensors = {k: self.api.tensor(v) for k, v in plan.tensors.items()}
        out = self.api.numpy(plan.run(tensors, lambda x, **kw: plan.layer(x, **kw)))
        return out.transpose(NHWC_TO_NCHW) if plan.nhwc else out

    def backward(self, layer, grad_out, inputs, attrs) -> dict[str, np.ndarray]:
        api = self.api
        plan = self._plan(layer, inputs, attrs)
        seed = np.asarray(grad_out, dtype=np.dtype(_float_dtype(inputs)))
        seed = api.tensor(seed.transpose(NCHW_TO_NHWC) if plan.nhwc else seed)
        tensors = {k: api.tensor(v) for k, v in plan.tensors.items()}
        grads = api.vjp(plan, tensors, seed)
        names = [*plan.tensors, *plan.weight_names]
        return {
            name: plan.grad_layouts.get(name, _same)(api.numpy(g))
            for name, g in zip(names, grads, strict=True)
        }

    # -- plans ------------------------------------------------------------------------
    def _plan(self, layer, inputs, attrs) -> _Plan:
        if layer not in PLANS:
            raise ValueError(self.unsupported(layer, inputs, attrs, _float_dtype(inputs)))
        return getattr(self, PLANS[layer])(inputs, attrs, _float_dtype(inputs))

    def _built(self, layer, input_shape, weights):
        layer.build(input_shape)
        layer.set_weights(weights)
        return layer

    def conv_layer(self, attrs, filters, kernel_hw, dtype, use_bias):
        """The Conv2D for ``attrs`` (padding 'valid'/'same'; explicit pads go to ZeroPadding2D)."""
        padding = attrs.get("padding", 0)
        return self.api.layers.Conv2D(
            filters,
            kernel_hw,
            strides=common.pair(attrs.get("stride", 1)),
            padding=padding.lower() if isinstance(padding, str) else "valid",
            dilation_rate=common.pair(attrs.get("dilation", 1)),
            groups=int(attrs.get("groups", 1)),
            use_bias=use_bias,
            dtype=dtype,
        )

    def _plan_conv2d(self, inputs, attrs, dtype):
        L = self.api.layers
        x, w, b = inputs["x"], inputs["w"], inputs.get("b")
        x_nhwc, kernel = x.transpose(NCHW_TO_NHWC), w.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        padding, pads = attrs.get("padding", 0), None
        if not isinstance(padding, str):
            pads = common.padding_pairs(padding, x.shape[2:], w.shape[2:], (1, 1))
            if pads == ((0, 0), (0, 0)):
                pads = None
        zero_pad = L.ZeroPadding2D(pads, dtype=dtype) if pads else None
        conv = self.conv_layer(attrs, w.shape[0], w.shape[2:], dtype, b is not None)
        padded_shape = list(x_nhwc.shape)
        if pads:
            padded_shape[1] += sum(pads[0])
            padded_shape[2] += sum(pads[1])
        self._built(conv, tuple(padded_shape), [kernel] + ([b] if b is not None else []))

        def run(v, call):
            return call(zero_pad(v["x"]) if zero_pad else v["x"])

        layouts = {"x": _to_nchw, "w": lambda g: g.transpose(3, 2, 0, 1)}
        names = ("w", "b") if b is not None else ("w",)
        return _Plan(
            {"x": x_nhwc}, run, layer=conv, weight_names=names, nhwc=True, grad_layouts=layouts
        )

    def pool_padding(self, inputs, attrs, average):
        return common.matching_tf_padding(
            inputs["x"].shape[2:], attrs, ["valid", "same"], average=average
        )

    def _pool_plan(self, cls, inputs, attrs, dtype, average):
        pool = cls(
            pool_size=common.pair(attrs["kernel_size"]),
            strides=common.pair(attrs.get("stride") or attrs["kernel_size"]),
            padding=self.pool_padding(inputs, attrs, average),
            dtype=dtype,
        )
        x_nhwc = inputs["x"].transpose(NCHW_TO_NHWC)
        return _Plan(
            {"x": x_nhwc}, lambda v, call: pool(v["x"]), nhwc=True, grad_layouts={"x": _to_nchw}
        )

    def _plan_maxpool2d(self, inputs, attrs, dtype):
        return self._pool_plan(self.api.layers.MaxPooling2D, inputs, attrs, dtype, False)

    def _plan_avgpool2d(self, inputs, attrs, dtype):
        return self._pool_plan(self.api.layers.AveragePooling2D, inputs, attrs, dtype, True)

    def _plain(self, make_layer, inputs):
        op = make_layer()
        return _Plan({"x": inputs["x"]}, lambda v, call: op(v["x"]))

    def _plan_relu(self, inputs, attrs, dtype):
        return self._plain(lambda: self.api.layers.ReLU(dtype=dtype), inputs)

    def _plan_sigmoid(self, inputs, attrs, dtype):
        return self._plain(lambda: self.api.layers.Activation("sigmoid", dtype=dtype), inputs)

    def _plan_tanh(self, inputs, attrs, dtype):
        return self._plain(lambda: self.api.layers.Activation("tanh", dtype=dtype), inputs)

    def _plan_softmax(self, inputs, attrs, dtype):
        axis = int(attrs.get("axis", -1))
        return self._plain(lambda: self.api.layers.Softmax(axis=axis, dtype=dtype), inputs)

    def _plan_flatten(self, inputs, attrs, dtype):
        return self._plain(lambda: self.api.layers.Flatten(dtype=dtype), inputs)

    def _plan_linear(self, inputs, attrs, dtype):
        x, w, b = inputs["x"], inputs["w"], inputs.get("b")
        dense = self.api.layers.Dense(w.shape[1], use_bias=b is not None, dtype=dtype)
        self._built(dense, x.shape, [w] + ([b] if b is not None else []))
        names = ("w", "b") if b is not None else ("w",)
        return _Plan({"x": x}, lambda v, call: call(v["x"]), layer=dense, weight_names=names)

    def _plan_batchnorm2d(self, inputs, attrs, dtype):
        x_nhwc = inputs["x"].transpose(NCHW_TO_NHWC)
        bn = self.api.layers.BatchNormalization(
            axis=-1, epsilon=float(attrs.get("eps", 1e-5)), dtype=dtype
        )
        weights = [inputs[k] for k in ("gamma", "beta", "running_mean", "running_var")]
        self._built(bn, x_nhwc.shape, weights)
        training = bool(attrs["training"])
        return _Plan(
            {"x": x_nhwc},
            lambda v, call: call(v["x"], training=training),
            layer=bn,
            weight_names=("gamma", "beta"),
            nhwc=True,
            grad_layouts={"x": _to_nchw},
        )

    def dropout_scale(self, p: float, dtype: str) -> float:
        drop = self.api.layers.Dropout(p, seed=_SEED, dtype=dtype)
        ones = self.api.tensor(np.ones(4096, dtype))
        return common.kept_unit_scale(self.api.numpy(drop(ones, training=True)))

    def _plan_dropout(self, inputs, attrs, dtype):
        x, p = inputs["x"], float(attrs["p"])
        if not attrs.get("training", True):
            drop = self.api.layers.Dropout(p, seed=_SEED, dtype=dtype)
            return _Plan({"x": x}, lambda v, call: drop(v["x"], training=False))
        keep = inputs["mask"].astype(dtype) * self.dropout_scale(p, dtype)
        return _Plan({"x": x}, lambda v, call: self.api.multiply(v["x"], self.api.tensor(keep)))

    def _plan_cross_entropy(self, inputs, attrs, dtype):
        logits, target = inputs["logits"], inputs["target"]
        moved = logits.ndim > 2  # Keras takes classes on the last axis
        if moved:
            logits = np.moveaxis(logits, 1, -1)
        if np.issubdtype(target.dtype, np.floating):
            target = np.moveaxis(target, 1, -1) if moved else target
            kind = "CategoricalCrossentropy"
        else:
            kind = "SparseCategoricalCrossentropy"
        loss = self.api.loss(kind, attrs.get("reduction", "mean"), dtype, from_logits=True)
        layouts = {"logits": lambda g: np.moveaxis(g, -1, 1)} if moved else {}
        return _Plan(
            {"logits": logits},
            lambda v, call: loss(self.api.tensor(target), v["logits"]),
            grad_layouts=layouts,
        )

    def _plan_categorical_crossentropy(self, inputs, attrs, dtype):
        """Keras' crossentropy on probabilities: it renormalises and clips them itself."""
        target = inputs["target"]
        loss = self.api.loss(
            "CategoricalCrossentropy",
            attrs.get("reduction", "mean"),
            dtype,
            from_logits=False,
            axis=int(attrs.get("axis", -1)),
        )
        return _Plan(
            {"probs": inputs["probs"]}, lambda v, call: loss(self.api.tensor(target), v["probs"])
        )

    def _plan_mse(self, inputs, attrs, dtype):
        target = inputs["target"]
        loss = self.api.loss("MeanSquaredError", attrs.get("reduction", "mean"), dtype)
        return _Plan(
            {"pred": inputs["pred"]}, lambda v, call: loss(self.api.tensor(target), v["pred"])
        )


#: reference layer name -> the KerasAdapter method that plans it.  Anything else is
#: unsupported (``_keras_rules.unsupported`` says why).
PLANS = {
    "conv2d": "_plan_conv2d",
    "maxpool2d": "_plan_maxpool2d",
    "avgpool2d": "_plan_avgpool2d",
    "relu": "_plan_relu",
    "sigmoid": "_plan_sigmoid",
    "tanh": "_plan_tanh",
    "softmax": "_plan_softmax",
    "flatten": "_plan_flatten",
    "linear": "_plan_linear",
    "batchnorm2d": "_plan_batchnorm2d",
    "dropout": "_plan_dropout",
    "cross_entropy": "_plan_cross_entropy",
    "cross_entropy.categorical_crossentropy": "_plan_categorical_crossentropy",
    "mse": "_plan_mse",
}


def _float_dtype(inputs) -> str:
    for value in inputs.values():
        if value is not None and np.issubdtype(np.asarray(value).dtype, np.floating):
            return np.asarray(value).dtype.name
    raise ValueError("inputs must hold a floating array")


def _to_nchw(a):
    return a.transpose(NHWC_TO_NCHW)


def _same(a):
    return a
