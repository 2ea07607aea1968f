"""Keras through its layers and losses (name "keras"), on any Keras 3 backend or tf.keras.

One method per layer, with the reference's ``forward`` signature, each building the Keras
layer or loss a user would: Conv2D (after ZeroPadding2D for explicit padding, Keras' API
for symmetric or asymmetric zero padding), MaxPooling2D, AveragePooling2D, Dense,
BatchNormalization, Dropout, Flatten, ReLU, Activation("sigmoid"/"tanh"), Softmax;
CategoricalCrossentropy(from_logits=True) for probability targets and
SparseCategoricalCrossentropy(from_logits=True) for index targets (``cross_entropy``),
MeanSquaredError (``mse``), and CategoricalCrossentropy(from_logits=False, axis=...), Keras'
own loss on probabilities (``categorical_crossentropy``); reduction "mean" ->
"sum_over_batch_size", "sum", "none".  Float64 calls build them with ``dtype="float64"``.
The SciPy view (``correlate``, ``convolve``, ...) is no Keras layer or loss: no method.

A method builds its layer once, with the call's weights, and returns a ``_Prepared`` whose
``Run.call`` is the layer call (or the gradient) read back to NumPy.  When Keras cannot
run the call exactly the method raises ``Unsupported`` in Keras' own words
(``adapters._keras_rules``); ``_Prepared.backward`` raises those about gradients only.

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
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters import _keras_rules as rules
from adapters import _tf_common as common
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype
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


def _bundled_keras(tf):
    """``tf.keras`` when no keras package is installed: TF <= 2.15 bundles Keras 2;
    newer TF's ``tf.keras`` is a lazy alias that needs the keras package, and without it
    fails on first use (an ImportError, or a RecursionError inside TF's lazy loader)."""
    try:
        layers = tf.keras.layers
        layers.Dense  # noqa: B018  (resolving one attribute is the check)
    except (ImportError, RecursionError, AttributeError) as exc:
        raise FrameworkMissing(
            f"keras is not installed, and TensorFlow {tf.__version__}'s tf.keras needs the "
            f"keras package ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    return tf.keras


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
            keras = _bundled_keras(self.tf) if keras is None else self.tf.keras
            self.backend, self.tf_keras = "tensorflow", True
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

    def dropout_scale(self, p: float, dtype: str) -> float:
        """The value ``keras.layers.Dropout(p)`` gives kept units (read, not assumed)."""
        drop = self.layers.Dropout(p, seed=_SEED, dtype=dtype)
        ones = self.tensor(np.ones(4096, dtype))
        return common.kept_unit_scale(self.numpy(drop(ones, training=True)))

    def gradients(self, fn, layer, tensors, seed) -> Callable[[], list]:
        """A call giving the gradients of ``fn(tensors, call)`` w.r.t. ``tensors`` and the
        layer's trainable weights, in that order (``call`` applies ``layer``).  What can be
        set up once is set up here; the call is only the backend's gradient path."""
        weights = list(layer.trainable_variables) if layer is not None else []
        if self.backend == "tensorflow":
            tf = self.tf

            def tape_gradients():
                with tf.GradientTape() as tape:
                    for t in tensors.values():
                        tape.watch(t)
                    out = fn(tensors, layer)
                return tape.gradient(out, [*tensors.values(), *weights], output_gradients=seed)

            return tape_gradients
        # jax and torch differentiate functions of arrays, not variables: the layer runs
        # as stateless_call on the weights' values.
        fixed = [v.value for v in layer.non_trainable_variables] if layer is not None else []

        def run(values, params):
            def call(x, **kw):
                return layer.stateless_call(params, fixed, x, **kw)[0]

            return fn(values, call)

        if self.backend == "jax":
            import jax

            params = [w.value for w in weights]

            def jax_gradients():
                _, pullback = jax.vjp(run, tensors, params)
                grads_in, grads_w = pullback(seed)
                return [*(grads_in[k] for k in tensors), *grads_w]

            return jax_gradients
        if self.backend == "torch":
            import torch

            values = {k: t.detach().clone().requires_grad_(True) for k, t in tensors.items()}
            params = [w.value.detach().clone().requires_grad_(True) for w in weights]
            wrt = [*values.values(), *params]

            def torch_gradients():
                return torch.autograd.grad(run(values, params), wrt, grad_outputs=seed)

            return torch_gradients
        raise FrameworkMissing(
            f"the keras adapter has no gradient path for backend {self.backend!r}"
        )


@dataclass
class _Prepared:
    """One layer call set up in Keras."""

    api: _KerasApi
    dtype: str
    #: The differentiable inputs, by reference name, in Keras' layout.
    arrays: dict[str, np.ndarray]
    #: ``fn(tensors, call)``: the computation; ``call`` applies ``layer``.
    fn: Callable
    #: The one layer with weights, or None; ``weight_names`` name its trainable weights
    #: in the reference.
    layer: Any = None
    weight_names: tuple[str, ...] = ()
    #: The output (and so ``grad_out``) is NHWC in Keras, NCHW in the reference.
    nhwc: bool = False
    #: Reference name -> conversion of that gradient to the reference's layout.
    grad_layouts: dict[str, Callable] = field(default_factory=dict)
    #: Gives the reason gradients are refused (``_keras_rules``), or None.
    backward_rule: Callable[[], str | None] | None = None

    @property
    def execution(self) -> str:
        return f"eager (backend {self.api.backend})"

    def _tensors(self):
        return {k: self.api.tensor(v) for k, v in self.arrays.items()}

    def keras_model(self):
        """This call as a ``keras.Model`` on fixed shapes: one ``keras.Input`` per array of
        ``arrays`` (its batch size included, named after its reference name, Keras'
        layout), the same layer and weights.  ``adapters.litert`` converts this model, so
        every layer method here is one it can convert.  ``nhwc`` still says the output's
        layout."""
        keras, dtype = self.api.keras, self.dtype
        inputs = {
            k: keras.Input(shape=a.shape[1:], batch_size=a.shape[0], dtype=dtype, name=k)
            for k, a in self.arrays.items()
        }
        outputs = self.fn(inputs, self.layer)
        (single,) = inputs.values() if len(inputs) == 1 else (list(inputs.values()),)
        return keras.Model(single, outputs)

    def forward(self) -> Run:
        api, fn, layer, tensors = self.api, self.fn, self.layer, self._tensors()

        def call():
            return api.numpy(fn(tensors, layer))

        to_reference = _to_nchw if self.nhwc else _same
        return Run(call, to_reference, self.execution)

    def backward(self, grad_out) -> Run:
        _refuse(self.backward_rule() if self.backward_rule else None)
        api = self.api
        seed = np.asarray(grad_out, dtype=self.dtype)
        seed = api.tensor(seed.transpose(NCHW_TO_NHWC) if self.nhwc else seed)
        gradients = api.gradients(self.fn, self.layer, self._tensors(), seed)
        names = [*self.arrays, *self.weight_names]
        layouts = self.grad_layouts

        def call():
            return [api.numpy(g) for g in gradients()]

        def to_reference(grads):
            return {n: layouts.get(n, _same)(g) for n, g in zip(names, grads, strict=True)}

        return Run(call, to_reference, self.execution)


class KerasAdapter:
    name = "keras"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("keras",)

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

    # -- layers -----------------------------------------------------------------------
    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        dtype = self._dtype(x, w, b)
        stride, dilation = common.pair(stride), common.pair(dilation)
        _refuse(rules.conv2d(self, stride, dilation, groups, dtype))
        L = self.api.layers
        x_nhwc, kernel = x.transpose(NCHW_TO_NHWC), w.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        explicit = 0 if isinstance(padding, str) else padding  # "same"/"valid": Conv2D's own
        pads = common.padding_pairs(explicit, x.shape[2:], w.shape[2:], (1, 1))
        zero_pad = L.ZeroPadding2D(pads, dtype=dtype) if pads != ((0, 0), (0, 0)) else None
        conv = L.Conv2D(
            w.shape[0],
            w.shape[2:],
            strides=stride,
            padding=padding.lower() if isinstance(padding, str) else "valid",
            dilation_rate=dilation,
            groups=int(groups),
            use_bias=b is not None,
            dtype=dtype,
        )
        # Conv2D's weights depend on the channel count only, not on the (padded) size.
        _built(conv, (None, None, None, x.shape[1]), [kernel] + ([b] if b is not None else []))
        fn = lambda v, call: call(zero_pad(v["x"]) if zero_pad else v["x"])  # noqa: E731
        return self._prepare(
            "conv2d",
            dtype,
            {"x": x_nhwc},
            fn,
            layer=conv,
            weight_names=("w", "b") if b is not None else ("w",),
            nhwc=True,
            grad_layouts={"x": _to_nchw, "w": lambda g: g.transpose(3, 2, 0, 1)},
            backward_rule=lambda: rules.conv2d_backward(self, w.shape, dilation, groups, dtype),
        )

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        return self._pool("maxpool2d", "MaxPooling2D", x, _attrs(locals()))

    def avgpool2d(
        self,
        x,
        *,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        return self._pool("avgpool2d", "AveragePooling2D", x, _attrs(locals()))

    def relu(self, x):
        return self._plain("relu", x, lambda L, dtype: L.ReLU(dtype=dtype))

    def sigmoid(self, x):
        return self._plain("sigmoid", x, lambda L, dtype: L.Activation("sigmoid", dtype=dtype))

    def tanh(self, x):
        return self._plain("tanh", x, lambda L, dtype: L.Activation("tanh", dtype=dtype))

    def softmax(self, x, *, axis=-1):
        return self._plain("softmax", x, lambda L, dtype: L.Softmax(axis=int(axis), dtype=dtype))

    def flatten(self, x, *, start_dim=1):
        self._dtype(x)
        _refuse(rules.flatten(self, x, start_dim))
        return self._plain("flatten", x, lambda L, dtype: L.Flatten(dtype=dtype))

    def linear(self, x, w, b=None):
        dtype = self._dtype(x, w, b)
        dense = self.api.layers.Dense(w.shape[1], use_bias=b is not None, dtype=dtype)
        _built(dense, x.shape, [w] + ([b] if b is not None else []))
        names = ("w", "b") if b is not None else ("w",)
        fn = lambda v, call: call(v["x"])  # noqa: E731
        return self._prepare("linear", dtype, {"x": x}, fn, layer=dense, weight_names=names)

    def batchnorm2d(self, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5):
        dtype = self._dtype(x, gamma, beta, running_mean, running_var)
        x_nhwc = x.transpose(NCHW_TO_NHWC)
        bn = self.api.layers.BatchNormalization(axis=-1, epsilon=float(eps), dtype=dtype)
        _built(bn, x_nhwc.shape, [gamma, beta, running_mean, running_var])
        training = bool(training)
        fn = lambda v, call: call(v["x"], training=training)  # noqa: E731
        return self._prepare(
            "batchnorm2d",
            dtype,
            {"x": x_nhwc},
            fn,
            layer=bn,
            weight_names=("gamma", "beta"),
            nhwc=True,
            grad_layouts={"x": _to_nchw},
        )

    def dropout(self, x, *, p, mask, training=True):
        dtype, api, p = self._dtype(x), self.api, float(p)
        if not training:
            drop = api.layers.Dropout(p, seed=_SEED, dtype=dtype)
            fn = lambda v, call: drop(v["x"], training=False)  # noqa: E731
        else:
            keep = api.tensor(mask.astype(dtype) * api.dropout_scale(p, dtype))
            fn = lambda v, call: api.multiply(v["x"], keep)  # noqa: E731
        return self._prepare("dropout", dtype, {"x": x}, fn)

    def cross_entropy(self, logits, target, *, reduction="mean"):
        dtype = self._dtype(logits, target)
        moved = logits.ndim > 2  # Keras takes classes on the last axis
        if moved:
            logits = np.moveaxis(logits, 1, -1)
        if np.issubdtype(target.dtype, np.floating):
            target = np.moveaxis(target, 1, -1) if moved else target
            kind = "CategoricalCrossentropy"
        else:
            kind = "SparseCategoricalCrossentropy"
        loss = self.api.loss(kind, reduction, dtype, from_logits=True)
        target_t = self.api.tensor(target)
        fn = lambda v, call: loss(target_t, v["logits"])  # noqa: E731
        layouts = {"logits": lambda g: np.moveaxis(g, -1, 1)} if moved else {}
        return self._prepare("cross_entropy", dtype, {"logits": logits}, fn, grad_layouts=layouts)

    def categorical_crossentropy(self, probs, target, *, axis=-1, reduction="mean"):
        """Keras' crossentropy on probabilities: it renormalises and clips them itself."""
        dtype = self._dtype(probs, target)
        loss = self.api.loss(
            "CategoricalCrossentropy", reduction, dtype, from_logits=False, axis=int(axis)
        )
        target_t = self.api.tensor(target)
        fn = lambda v, call: loss(target_t, v["probs"])  # noqa: E731
        return self._prepare("categorical_crossentropy", dtype, {"probs": probs}, fn)

    def mse(self, pred, target, *, reduction="mean"):
        dtype = self._dtype(pred, target)
        _refuse(rules.mse(self, pred, reduction, dtype))
        loss = self.api.loss("MeanSquaredError", reduction, dtype)
        target_t = self.api.tensor(target)
        return self._prepare("mse", dtype, {"pred": pred}, lambda v, c: loss(target_t, v["pred"]))

    # -- shared set-up ----------------------------------------------------------------
    def _dtype(self, *arrays) -> str:
        """The call's floating dtype, refused unless Keras runs it here."""
        self.load()
        dtype = float_dtype({str(i): a for i, a in enumerate(arrays)})
        _refuse(rules.unsupported_dtype(dtype))
        return dtype.name

    def _prepare(self, method: str, dtype: str, arrays, fn, **kwargs) -> _Prepared:
        """The prepared call, unless a float64 call does not compute in float64 here."""
        prepared = _Prepared(self.api, dtype, arrays, fn, **kwargs)
        if dtype == "float64":
            _refuse(rules.float64(self, method, prepared))
        return prepared

    def _plain(self, method, x, make_layer):
        dtype = self._dtype(x)
        op = make_layer(self.api.layers, dtype)
        return self._prepare(method, dtype, {"x": x}, lambda v, call: op(v["x"]))

    def _pool(self, method, cls_name, x, attrs):
        dtype = self._dtype(x)
        average = method == "avgpool2d"
        _refuse(rules.pooling(self, cls_name, x.shape[2:], attrs, average))
        pool = getattr(self.api.layers, cls_name)(
            pool_size=common.pair(attrs["kernel_size"]),
            strides=common.pair(attrs["stride"] or attrs["kernel_size"]),
            padding=rules.pool_padding(x.shape[2:], attrs, average),
            dtype=dtype,
        )
        x_nhwc, fn = x.transpose(NCHW_TO_NHWC), lambda v, call: pool(v["x"])
        return self._prepare(
            method, dtype, {"x": x_nhwc}, fn, nhwc=True, grad_layouts={"x": _to_nchw}
        )


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise Unsupported(reason)


def _attrs(scope) -> dict:
    """A pooling method's attributes by the reference's names, from ``locals()`` taken
    before anything else is bound (the rules and geometry read them as a dict)."""
    return {k: v for k, v in scope.items() if k not in ("self", "x")}


def _built(layer, input_shape, weights):
    layer.build(input_shape)
    layer.set_weights(weights)


def _to_nchw(a):
    return a.transpose(NHWC_TO_NCHW)


def _same(a):
    return a
