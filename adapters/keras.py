"""Keras through its layers and losses (name "keras"), on any Keras 3 backend or tf.keras.

One method per layer, with the reference's ``forward`` signature, each building the Keras
layer or loss a user would: Conv2D (after ZeroPadding2D for explicit padding, Keras' API
for symmetric or asymmetric zero padding), MaxPooling2D, AveragePooling2D, Dense,
BatchNormalization, Dropout, Flatten, ReLU, Activation("sigmoid"/"tanh"), Softmax,
LayerNormalization(axis=<the axes>) and GroupNormalization(groups, axis=-1);
CategoricalCrossentropy(from_logits=True) for probability targets and
SparseCategoricalCrossentropy(from_logits=True) for index targets (``cross_entropy``),
MeanSquaredError (``mse``), CategoricalCrossentropy(from_logits=False, axis=...), Keras'
own loss on probabilities (``categorical_crossentropy``), and
BinaryCrossentropy(from_logits=...) (``binary_cross_entropy``); reduction "mean" ->
"sum_over_batch_size", "sum", "none".  Float64 calls build them with ``dtype="float64"``.
The SciPy view (``correlate``, ``convolve``, ...) is no Keras layer or loss: no method.

A method builds its layer once, with the call's weights, and returns a ``_Prepared`` whose
``Run.call`` is the layer call (or the gradient) read back to NumPy.  When Keras cannot
run the call exactly the method raises ``Unsupported`` in Keras' own words
(``adapters._keras_rules``); ``_Prepared.backward`` raises those about gradients only.

Layout: arrays arrive and leave in the reference's layout.  Conv2D, the poolings,
BatchNormalization, GroupNormalization and LayerNormalization of 4-D inputs run
channels_last (NHWC, kernels HWIO), the default people use;
4-D cross-entropy logits move the class axis last.  Flatten gets the array as given:
Keras' Flatten of a channels_last feature map orders features (H, W, C), torch's and the
reference's (C, H, W) -- a convention difference, not something to hide here.

Gradients, chosen by backend (the one place that knows backends is ``_KerasApi``):
tensorflow / tf.keras -> tf.GradientTape over the inputs and ``layer.trainable_weights``;
jax -> ``layer.stateless_call`` inside ``jax.vjp``; torch -> ``layer.stateless_call`` on
tensors with ``requires_grad`` and ``torch.autograd.grad``.

resize2d: ``UpSampling2D`` for integer factors without antialias, else ``Resizing``;
both call the backend's ``keras.ops.image.resize``, so adapters/_resize_rules.py applies
that backend's rules (tf.image.resize, jax.image.resize or torch's interpolate).

Dropout: Keras draws its own mask and cannot take the reference's.  The adapter runs
``keras.layers.Dropout(p, seed=...)`` in training mode on ones to read the value it gives
kept units (checking dropped units are exactly 0 and kept ones all equal), then computes
``x * mask * scale`` with Keras ops so autodiff gives the backward.  With
``training=False`` it runs the layer on ``x`` (which must be the identity).

Activations (issue 17): LeakyReLU (Keras 2 calls the slope ``alpha``), ELU, and
Activation("gelu" / "silu" / "relu6" / "hard_sigmoid" / "hard_swish"), the tanh GELU as
Activation(keras.activations.gelu with approximate=True).  A name this Keras lacks is
unsupported in Keras' words; hard_sigmoid is 0.2 x + 0.5 in Keras 2 and relu6(x + 3) / 6
in Keras 3, so only that version's slope runs.  Backend-dependent refusals: float64
LeakyReLU slopes float32 cannot hold on the tensorflow backend (tf.nn.leaky_relu's alpha
is a float attribute), and LeakyReLU's gradient at exact zeros on the jax backend (its
conventions row).  Float64 GELU on the tensorflow backend (tf.nn.gelu's float32
constants) and the float64 hard-sigmoid gradient on the torch backend (torch's float32
1/6) run: they are known divergences the parity tests judge (tests/known_divergences.py).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters import _decoder_geometry as geometry
from adapters import _keras_decoder_rules as decoder_rules
from adapters import _keras_rules as rules
from adapters import _resize_rules as resize_rules
from adapters import _tf_common as common
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype
from adapters.layout import NCHW_AXIS_IN_NHWC, NCHW_TO_NHWC, NHWC_TO_NCHW, sorted_axes

_SEED = 1234
_REDUCTIONS = {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}


def make_loss(losses, cls_name: str, reduction: str, dtype: str, **kwargs):
    """``losses.<cls_name>`` with the reference's ``reduction`` ("mean", "sum", "none")."""
    cls = getattr(losses, cls_name)
    # Keras 2 losses compute in y_pred's dtype and take no dtype; Keras 3 losses
    # before their ``dtype`` argument compute in floatx (``_KerasApi.loss`` refuses
    # another dtype there, quoting the signature).
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
        if not self.tf_keras:
            _refuse(rules.loss_dtype(self, cls_name, dtype))
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
                out, pullback = jax.vjp(run, tensors, params)
                # jax.vjp takes a cotangent of the output's own dtype only; a float64
                # layer Keras computed in float32 (a declared bug, judged by the parity
                # test) gets the float64 seed rounded to float32, as torch's autograd
                # does by itself.
                grads_in, grads_w = pullback(seed.astype(out.dtype))
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
        """Conv2D; a depthwise convolution (groups == C_in > 1) is DepthwiseConv2D with
        depth_multiplier = C_out / C_in, the layer MobileNet-style code calls."""
        if is_depthwise(x, groups):
            return self.depthwise_conv2d(x, w, b, stride, padding, dilation, ops=False)
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

    def cross_entropy(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        """SparseCategoricalCrossentropy (indices) or CategoricalCrossentropy
        (probabilities), from_logits=True.  Label smoothing: CategoricalCrossentropy's
        ``label_smoothing``; SparseCategoricalCrossentropy has none (keras-team/keras#23487,
        added after 3.15.1), so indices are one-hot encoded first, as Keras users do."""
        dtype = self._dtype(logits, target)
        moved = logits.ndim > 2  # Keras takes classes on the last axis
        if moved:
            logits = np.moveaxis(logits, 1, -1)
        smoothing = {"label_smoothing": float(label_smoothing)} if label_smoothing else {}
        if np.issubdtype(target.dtype, np.floating):
            target = np.moveaxis(target, 1, -1) if moved else target
            kind = "CategoricalCrossentropy"
        elif smoothing:
            target = np.eye(logits.shape[-1], dtype=dtype)[target]  # classes last
            kind = "CategoricalCrossentropy"
        else:
            kind = "SparseCategoricalCrossentropy"
        loss = self.api.loss(kind, reduction, dtype, from_logits=True, **smoothing)
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

    # -- normalizations and losses (issue 17) -------------------------------------------
    def layernorm(self, x, gamma, beta, *, axes, eps=1e-5):
        """LayerNormalization(axis=<the axes>, epsilon=eps); a 4-D x goes in NHWC (so
        ConvNeXt's channels-only norm is Keras' default axis=-1).  Keras gives gamma and
        beta the shape of the sorted axes, in its layout: they are transposed to it."""
        dtype = self._dtype(x, gamma, beta)
        ref_axes = sorted_axes(axes, x.ndim)
        nhwc = x.ndim == 4
        k_axes = [NCHW_AXIS_IN_NHWC[a] for a in ref_axes] if nhwc else list(ref_axes)
        _refuse(rules.layernorm_axes(self, sorted(k_axes), x.ndim))
        to_keras = tuple(int(i) for i in np.argsort(k_axes))  # weight dims in sorted order
        back = tuple(int(i) for i in np.argsort(to_keras))
        x_k = x.transpose(NCHW_TO_NHWC) if nhwc else x
        ln = self.api.layers.LayerNormalization(
            axis=sorted(k_axes), epsilon=float(eps), dtype=dtype
        )
        _built(ln, x_k.shape, [gamma.transpose(to_keras), beta.transpose(to_keras)])
        fn = lambda v, call: call(v["x"])  # noqa: E731
        layouts = {"gamma": lambda g: g.transpose(back), "beta": lambda g: g.transpose(back)}
        if nhwc:
            layouts["x"] = _to_nchw
        return self._prepare(
            "layernorm",
            dtype,
            {"x": x_k},
            fn,
            layer=ln,
            weight_names=("gamma", "beta"),
            nhwc=nhwc,
            grad_layouts=layouts,
        )

    def groupnorm(self, x, gamma, beta, *, groups, eps=1e-5):
        """GroupNormalization(groups, axis=-1, epsilon=eps) on NHWC, as users call it: Keras
        splits the last axis into (groups, C / groups) itself."""
        dtype = self._dtype(x, gamma, beta)
        gn = self.api.layers.GroupNormalization(
            groups=int(groups), axis=-1, epsilon=float(eps), dtype=dtype
        )
        x_nhwc = x.transpose(NCHW_TO_NHWC)
        _built(gn, x_nhwc.shape, [gamma, beta])
        return self._prepare(
            "groupnorm",
            dtype,
            {"x": x_nhwc},
            lambda v, call: call(v["x"]),
            layer=gn,
            weight_names=("gamma", "beta"),
            nhwc=True,
            grad_layouts={"x": _to_nchw},
        )

    # -- resize (issue 16) --------------------------------------------------------------
    def resize2d(
        self,
        x,
        *,
        size=None,
        scale=None,
        mode="nearest",
        coordinate_transformation_mode="half_pixel",
        nearest_mode="round_prefer_floor",
        cubic_coeff_a=-0.75,
        antialias=False,
    ):
        """UpSampling2D for integer factors without antialias, else Resizing (layer and
        interpolation from adapters._resize_rules, by backend), channels_last."""
        dtype = self._dtype(x)
        request = resize_rules.Request.of(
            x,
            size,
            scale,
            mode,
            coordinate_transformation_mode,
            nearest_mode,
            cubic_coeff_a,
            antialias,
        )
        plan = resize_rules.keras_plan(request, self.api.backend, dtype)
        L = self.api.layers
        _refuse(decoder_rules.resize_dependency(self, plan["layer"], plan["interpolation"]))
        if plan["layer"] == "UpSampling2D":
            layer = L.UpSampling2D(
                plan["factors"], interpolation=plan["interpolation"], dtype=dtype
            )
        else:
            options = {"interpolation": plan["interpolation"], "dtype": dtype}
            if antialias:
                if "antialias" not in inspect.signature(L.Resizing.__init__).parameters:
                    raise Unsupported(
                        "this Keras has no antialias option: "
                        + common.signature(L.Resizing.__init__, "keras.layers.Resizing")
                    )
                options["antialias"] = True
            layer = L.Resizing(*request.sizes, **options)
        return self._prepare(
            "resize2d",
            dtype,
            {"x": x.transpose(NCHW_TO_NHWC)},
            lambda v, call: layer(v["x"]),
            nhwc=True,
            grad_layouts={"x": _to_nchw},
        )

    def binary_cross_entropy(
        self, input, target, *, from_logits, reduction="mean", convention="torch"
    ):
        """keras.losses.BinaryCrossentropy(from_logits=...): on probabilities it clips to
        [epsilon, 1 - epsilon], the "keras" convention only; it averages over the last
        axis first (refused for "none", and "sum" unless that axis has size 1)."""
        dtype = self._dtype(input, target)
        if not from_logits and convention != "keras":
            raise Unsupported(
                "keras.losses.BinaryCrossentropy clips probabilities to [epsilon, 1 - "
                "epsilon] (keras.config.epsilon() = 1e-7) and has no log clamp at -100: "
                f"convention {convention!r} is torch.nn.BCELoss's"
            )
        _refuse(rules.last_axis_mean(self, "BinaryCrossentropy", input, reduction, dtype))
        loss = self.api.loss("BinaryCrossentropy", reduction, dtype, from_logits=bool(from_logits))
        target_t = self.api.tensor(target)
        fn = lambda v, call: loss(target_t, v["input"])  # noqa: E731
        return self._prepare("binary_cross_entropy", dtype, {"input": input}, fn)

    def depthwise_conv2d(self, x, w, b, stride, padding, dilation, *, ops: bool) -> _Prepared:
        """Depthwise conv2d (groups == C_in) through keras.layers.DepthwiseConv2D, or with
        ``ops=True`` through keras.ops.depthwise_conv (+ b), the ops-API path
        (``KerasOpsDepthwise``).  The kernel (C * m, 1, kh, kw) becomes (kh, kw, C, m):
        output channel c * m + q reads input channel c in both layouts."""
        dtype = self._dtype(x, w, b)
        stride, dilation = common.pair(stride), common.pair(dilation)
        _refuse(rules.depthwise(self, stride, dilation, ops))
        channels, multiplier = x.shape[1], w.shape[0] // x.shape[1]
        kernel = w.reshape(channels, multiplier, *w.shape[2:]).transpose(2, 3, 0, 1)
        explicit = 0 if isinstance(padding, str) else padding
        pads = common.padding_pairs(explicit, x.shape[2:], w.shape[2:], (1, 1))
        mode = padding.lower() if isinstance(padding, str) else "valid"
        arrays = {"x": x.transpose(NCHW_TO_NHWC)}
        layouts = {"x": _to_nchw, "w": lambda g: g.transpose(2, 3, 0, 1).reshape(w.shape)}
        if ops:
            K = self.api.keras.ops
            arrays.update({"w": kernel, **({"b": b} if b is not None else {})})
            nhwc_pads = ((0, 0), *pads, (0, 0))

            def fn(v, call):
                x_in = K.pad(v["x"], nhwc_pads) if pads != ((0, 0), (0, 0)) else v["x"]
                y = K.depthwise_conv(
                    x_in, v["w"], strides=stride, padding=mode, dilation_rate=dilation
                )
                return y + v["b"] if "b" in v else y

            layer, names = None, ()
        else:
            L = self.api.layers
            zero_pad = L.ZeroPadding2D(pads, dtype=dtype) if pads != ((0, 0), (0, 0)) else None
            layer = L.DepthwiseConv2D(
                w.shape[2:],
                strides=stride,
                padding=mode,
                depth_multiplier=multiplier,
                dilation_rate=dilation,
                use_bias=b is not None,
                dtype=dtype,
            )
            _built(layer, (None, None, None, channels), [kernel] + ([b] if b is not None else []))
            fn = lambda v, call: call(zero_pad(v["x"]) if zero_pad else v["x"])  # noqa: E731
            names = ("w", "b") if b is not None else ("w",)
        return self._prepare(
            "conv2d",
            dtype,
            arrays,
            fn,
            layer=layer,
            weight_names=names,
            nhwc=True,
            grad_layouts=layouts,
        )

    # -- shared set-up ----------------------------------------------------------------
    def _dtype(self, *arrays) -> str:
        """The call's floating dtype, refused unless Keras runs it here."""
        self.load()
        dtype = float_dtype({str(i): a for i, a in enumerate(arrays)})
        _refuse(rules.unsupported_dtype(dtype))
        return dtype.name

    def _prepare(self, method: str, dtype: str, arrays, fn, **kwargs) -> _Prepared:
        """The prepared call.  A float64 call runs whatever Keras computes it in: a
        backend that computes part of it in float32 is judged by the parity test."""
        return _Prepared(self.api, dtype, arrays, fn, **kwargs)

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
        if not average:
            _refuse(rules.same_max_pool_crash(self, pool, x_nhwc.shape, dtype))
        return self._prepare(
            method, dtype, {"x": x_nhwc}, fn, nhwc=True, grad_layouts={"x": _to_nchw}
        )

    # -- activations (issue 17) ---------------------------------------------------------

    def leaky_relu(self, x, *, negative_slope):
        dtype, slope, api = self._dtype(x), float(negative_slope), self.api
        if api.backend == "tensorflow":  # Keras 2 and 3 call tf.nn.leaky_relu there
            _refuse(common.float32_attribute("keras.layers.LeakyReLU", "alpha", slope, dtype))
        # Keras 2 (tf.keras) calls the slope alpha; Keras 3 renamed it negative_slope.
        kwargs = {"alpha" if api.tf_keras else "negative_slope": slope}
        try:
            layer = api.layers.LeakyReLU(**kwargs, dtype=dtype)
        except ValueError as exc:  # Keras 3 refuses negative slopes
            raise Unsupported(f"keras.layers.LeakyReLU: {common.exception_text(exc)}") from exc

        def kink_rule():
            if api.backend == "jax" and np.any(np.asarray(x) == 0):
                return (
                    "keras.layers.LeakyReLU on the jax backend is jax.nn.leaky_relu, "
                    "where(x >= 0, x, negative_slope * x): its derivative at x == 0 is 1, "
                    "the reference's (torch's, TF's) negative_slope; a convention "
                    "(tests/conventions row leaky_relu_grad_at_zero), not compared here"
                )
            return None

        fn = lambda v, call: layer(v["x"])  # noqa: E731
        return self._prepare("leaky_relu", dtype, {"x": x}, fn, backward_rule=kink_rule)

    def elu(self, x, *, alpha=1.0):
        alpha = float(alpha)
        return self._plain("elu", x, lambda L, dtype: L.ELU(alpha=alpha, dtype=dtype))

    def gelu(self, x, *, approximate="none"):
        def layer(L, dtype):
            if approximate == "none":
                return L.Activation("gelu", dtype=dtype)  # keras.activations.gelu: erf
            gelu_tanh = functools.partial(self.api.keras.activations.gelu, approximate=True)
            return L.Activation(gelu_tanh, dtype=dtype)

        return self._plain("gelu", x, layer)

    def silu(self, x):
        return self._plain("silu", x, lambda L, dtype: L.Activation(_named(L, "silu"), dtype=dtype))

    def relu6(self, x):
        return self._plain("relu6", x, lambda L, dt: L.Activation(_named(L, "relu6"), dtype=dt))

    def hardsigmoid(self, x, *, slope=1 / 6, offset=0.5):
        self.load()
        # tf.keras 2 hard_sigmoid is clip(0.2 x + 0.5, 0, 1); Keras 3's is relu6(x + 3) / 6
        # (keras/src/backend/*/nn.py; tensorflow/tensorflow#65381).
        own = (0.2, 0.5) if self.api.tf_keras else (1 / 6, 0.5)
        if (float(slope), float(offset)) != own:
            raise Unsupported(
                f"keras.layers.Activation('hard_sigmoid') in keras {self.api.version} computes "
                f"clip({own[0]:.6g} x + {own[1]}, 0, 1) (Keras 2: 0.2 x + 0.5; Keras 3: "
                f"relu6(x + 3) / 6), not slope={slope!r}, offset={offset!r}"
            )
        return self._plain("hardsigmoid", x, lambda L, dt: L.Activation("hard_sigmoid", dtype=dt))

    def hardswish(self, x):
        name = "hard_swish"  # Keras 3's alias of hard_silu
        return self._plain("hardswish", x, lambda L, dt: L.Activation(_named(L, name), dtype=dt))

    # -- decoder layers (issue 16) ----------------------------------------------------
    def conv_transpose2d(
        self, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
    ):
        """Conv2DTranspose with Keras' own "same"/"valid" (and output_padding) where they
        give the reference's output, else "valid" followed by Cropping2D, the way a port
        of torch's padding is written."""
        dtype = self._dtype(x, w, b)
        stride, dilation = common.pair(stride), common.pair(dilation)
        _refuse(decoder_rules.conv_transpose2d(self, stride, dilation, groups))
        _refuse(decoder_rules.conv_transpose2d_dilated(self, dilation, dtype, "forward"))
        pads, extras = geometry.transpose_crops(
            x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation
        )
        keras_padding, keras_op, cropping = geometry.keras_transpose_options(
            x.shape[2:], w.shape[2:], stride, dilation, pads, extras,
            min_output_padding=1 if decoder_rules.zero_output_padding_error(self) else 0,
        )  # fmt: skip
        _refuse(decoder_rules.output_padding_limit(self, stride, keras_op, cropping, pads))
        L = self.api.layers
        conv = L.Conv2DTranspose(
            w.shape[1],
            w.shape[2:],
            strides=stride,
            padding=keras_padding,
            output_padding=keras_op,
            dilation_rate=dilation,
            use_bias=b is not None,
            dtype=dtype,
        )
        # Conv2DTranspose's kernel is (kh, kw, filters, in_channels).
        kernel = w.transpose(2, 3, 1, 0)
        _built(conv, (None, None, None, x.shape[1]), [kernel] + ([b] if b is not None else []))
        crop = None
        if cropping is not None and cropping != ((0, 0), (0, 0)):
            crop = L.Cropping2D(cropping, dtype=dtype)
        fn = lambda v, call: crop(call(v["x"])) if crop else call(v["x"])  # noqa: E731
        return self._prepare(
            "conv_transpose2d",
            dtype,
            {"x": x.transpose(NCHW_TO_NHWC)},
            fn,
            layer=conv,
            weight_names=("w", "b") if b is not None else ("w",),
            nhwc=True,
            grad_layouts={"x": _to_nchw, "w": lambda g: g.transpose(3, 2, 0, 1)},
            backward_rule=lambda: decoder_rules.conv_transpose2d_backward(
                self, w.shape, dilation, dtype
            ),
        )

    def adaptive_avgpool2d(self, x, *, output_size):
        return self._adaptive("adaptive_avgpool2d", "Average", x, output_size)

    def adaptive_maxpool2d(self, x, *, output_size):
        return self._adaptive("adaptive_maxpool2d", "Max", x, output_size)

    def pad2d(self, x, *, padding, mode="constant", value=0.0):
        """ZeroPadding2D, the one Keras padding layer: constant mode with zeros."""
        dtype = self._dtype(x)
        _refuse(decoder_rules.zero_padding_only(self, mode, value))
        pads = common.padding_pairs(padding, x.shape[2:], (1, 1), (1, 1))
        pad = self.api.layers.ZeroPadding2D(pads, dtype=dtype)
        x_nhwc, fn = x.transpose(NCHW_TO_NHWC), lambda v, call: pad(v["x"])
        return self._prepare(
            "pad2d", dtype, {"x": x_nhwc}, fn, nhwc=True, grad_layouts={"x": _to_nchw}
        )

    def _adaptive(self, method, kind, x, output_size):
        """Global{kind}Pooling2D(keepdims=True) for a 1x1 output, else Adaptive{kind}
        Pooling2D where this Keras has it."""
        dtype = self._dtype(x)
        size = common.pair(output_size)
        L = self.api.layers
        if size == (1, 1):
            pool = getattr(L, f"Global{kind}Pooling2D")(keepdims=True, dtype=dtype)
        else:
            _refuse(decoder_rules.no_adaptive_layer(self, f"Adaptive{kind}Pooling2D"))
            pool = getattr(L, f"Adaptive{kind}Pooling2D")(size, dtype=dtype)
        x_nhwc, fn = x.transpose(NCHW_TO_NHWC), lambda v, call: pool(v["x"])
        return self._prepare(
            method, dtype, {"x": x_nhwc}, fn, nhwc=True, grad_layouts={"x": _to_nchw}
        )


def _named(layers, name: str) -> str:
    """``name`` if this Keras has an activation of that name, else ``Unsupported`` with
    Keras' own error (Keras 2 lacks some of Keras 3's names)."""
    try:
        layers.Activation(name)
    except ValueError as exc:
        reason = f"keras.layers.Activation({name!r}): {common.exception_text(exc)}"
        raise Unsupported(reason) from exc
    return name


class KerasOpsDepthwise:
    """keras.ops.depthwise_conv seen as an adapter with one layer, conv2d, for depthwise
    cases only (groups == C_in): the ops-API path, checked by
    tests/adapters/test_keras_depthwise_ops.py.  Not in the registry: the "keras" column
    is the layers users build (DepthwiseConv2D)."""

    name = "keras.ops"
    requires = ("keras",)

    def __init__(self, keras_adapter: KerasAdapter | None = None) -> None:
        self.layers = keras_adapter or KerasAdapter()

    def load(self) -> None:
        self.layers.load()
        if self.layers.api.tf_keras:
            raise FrameworkMissing(f"Keras {self.layers.api.version} (tf.keras) has no keras.ops")

    def version(self) -> str:
        return self.layers.version()

    def determinism_flags(self) -> dict[str, str]:
        return self.layers.determinism_flags()

    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        if not is_depthwise(x, groups):
            raise Unsupported(
                "keras.ops.depthwise_conv is the depthwise path only (groups == C_in > 1); "
                f"got groups={groups} for {np.shape(x)[1]} input channels"
            )
        return self.layers.depthwise_conv2d(x, w, b, stride, padding, dilation, ops=True)


def is_depthwise(x, groups) -> bool:
    """A conv2d call that is a depthwise convolution: groups == C_in > 1."""
    return int(groups) > 1 and int(groups) == np.shape(x)[1]


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
