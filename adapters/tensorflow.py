"""The ``tf.nn`` API as its own adapter (name "tensorflow"); gradients from tf.GradientTape.

One method per reference layer, with the reference's ``forward`` signature; each converts
the arrays to TensorFlow's layout, makes the ``tf.constant`` tensors, resolves padding and
returns a ``_TfCall`` whose ``forward()`` runs the op eagerly and whose ``backward(grad_out)``
runs it under a tf.GradientTape and calls ``tape.gradient(..., output_gradients=seed)``.
Each ``Run.call`` does only that and reads the numbers back (``.numpy()``); conversions
back to the reference's layout happen in ``Run.to_reference``.

Ops: tf.nn.conv2d (NHWC, HWIO filters, explicit padding pairs, dilations, grouped
filters; tf.nn.depthwise_conv2d when groups equals the input channels), tf.nn.max_pool2d
(tf.nn.pool when dilated), tf.nn.avg_pool2d, tf.nn.relu, tf.nn.sigmoid, tf.math.tanh,
tf.nn.softmax, tf.matmul (+ tf.nn.bias_add) for linear,
tf.reshape for flatten, tf.nn.moments + tf.nn.batch_normalization,
tf.nn.softmax_cross_entropy_with_logits / tf.nn.sparse_softmax_cross_entropy_with_logits
with tf.reduce_mean / tf.reduce_sum, tf.nn.sigmoid_cross_entropy_with_logits (binary
cross-entropy on logits), and mean squared error as TF users write it,
``tf.square(pred - target)`` reduced with tf.reduce_mean / tf.reduce_sum ("none": no
reduction) -- not tf.nn, but plain TensorFlow, so it is supported rather than refused.

Layout: arrays arrive and leave in the reference's layout (NCHW, OIHW); conv2d, both
poolings and batchnorm2d run in NHWC/HWIO.  Cross-entropy on 4-D logits moves the class
axis last (tf's losses take classes on the last axis).  Elementwise ops, softmax and
flatten run on the array as given.

Dropout: TensorFlow draws its own mask and cannot take the reference's.  The layer method
runs ``tf.nn.dropout(ones, rate=p, seed=...)`` once to read the value TensorFlow gives kept
units (``_tf_common.kept_unit_scale`` checks dropped units are exactly 0 and kept ones all
equal); the op is then ``x * (mask * scale)`` in TensorFlow, so the tape gives the
backward.  tf.nn.dropout has no inference mode (no ``training`` argument), so
``training=False`` is unsupported.

Unsupported, each reason quoting TensorFlow (adapters/_tf_nn_rules.py): pooling windows
no tf.nn padding reproduces, dropout's inference mode, Keras' crossentropy and binary
cross-entropy on probabilities (tf.nn's crossentropies take logits), and -- from
``backward`` only, since the forward runs -- gradients of grouped and dilated
convolutions, which TensorFlow's CPU kernels refuse (a rule read by running a tiny
case).  The SciPy view (``correlate``, ...) has no methods here, so it is unsupported by
default.  Only float32 and float64 run.

Activations (issue 17): tf.nn.leaky_relu (its alpha is a float32 attribute: float64 with
a slope float32 does not hold is unsupported), tf.nn.elu (no alpha: alpha != 1 is
unsupported), tf.nn.gelu(approximate=) (its float64 constants pass through float32: the
known divergence tf-nn-gelu-float64-constants-via-float32, judged by the parity tests),
tf.nn.silu, tf.nn.relu6.  tf.nn has no hard sigmoid or hard swish: no methods.

resize2d: ``tf.image.resize`` to the output size (NHWC); adapters/_resize_rules.py
refuses what it cannot say, quoting its docs: half-pixel centres only, Keys' a = -0.5
with taps outside the image dropped, float32 results for every method but nearest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters import _resize_rules as resize_rules
from adapters import _tf_common as common
from adapters import _tf_nn_decoder_rules as decoder_rules
from adapters import _tf_nn_rules as rules
from adapters._decoder_geometry import transpose_crops, transpose_out
from adapters.base import Run, Unsupported, float_dtype
from adapters.layout import hwio_to_oihw, nchw_to_nhwc, nhwc_to_nchw, oihw_to_hwio

_DROPOUT_SEED = 1234


def _same(a):
    return a


class _TfCall:
    """A tf.nn op on tensors made once: ``op(tensors)`` with ``tensors`` the differentiable
    inputs in TensorFlow's layout (every other input is closed over by ``op``)."""

    def __init__(
        self,
        tf,
        op: Callable[[Mapping[str, Any]], Any],
        arrays: Mapping[str, np.ndarray],
        *,
        out_to_reference: Callable[[np.ndarray], np.ndarray] = _same,
        grad_out_to_tf: Callable[[np.ndarray], np.ndarray] = _same,
        grad_layouts: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
        gradient_rule: Callable[[], None] | None = None,
    ) -> None:
        self._tf = tf
        self._op = op
        self._dtype = float_dtype(arrays)
        self._tensors = {name: tf.constant(value) for name, value in arrays.items()}
        self._out_to_reference = out_to_reference
        self._grad_out_to_tf = grad_out_to_tf
        self._grad_layouts = dict(grad_layouts or {})
        self._gradient_rule = gradient_rule

    def forward(self) -> Run:
        op, tensors = self._op, self._tensors
        return Run(lambda: op(tensors).numpy(), self._out_to_reference, "eager")

    def backward(self, grad_out: np.ndarray) -> Run:
        if self._gradient_rule is not None:
            self._gradient_rule()
        return self.tape(grad_out)

    def tape(self, grad_out: np.ndarray) -> Run:
        """The backward Run without the gradient rule (the rule itself probes with it)."""
        tf, op, tensors = self._tf, self._op, self._tensors
        seed = tf.constant(self._grad_out_to_tf(np.asarray(grad_out, dtype=self._dtype)))
        names, values = list(tensors), list(tensors.values())

        def call():
            with tf.GradientTape() as tape:
                # Constants are not variables: the tape records them only when watched.
                for value in values:
                    tape.watch(value)
                out = op(tensors)
            return [g.numpy() for g in tape.gradient(out, values, output_gradients=seed)]

        def to_reference(grads):
            layouts = self._grad_layouts
            return {n: layouts.get(n, _same)(g) for n, g in zip(names, grads, strict=True)}

        return Run(call, to_reference, "eager, tf.GradientTape")


class TfNnAdapter:
    name = "tensorflow"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("tensorflow",)

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

    def _framework(self, **arrays) -> Any:
        """TensorFlow, once the call's floating dtype is one this adapter runs."""
        dtype = float_dtype(arrays)
        if dtype not in (np.float32, np.float64):
            raise Unsupported(f"tf.nn adapter: runs float32 and float64 only, not {dtype}")
        self.load()
        return self.tf

    # -- layers -------------------------------------------------------------------------
    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        tf = self._framework(x=x, w=w)
        x, w = np.asarray(x), np.asarray(w)
        if isinstance(padding, str):
            tf_padding: Any = padding.upper()
        else:
            (t, bottom), (l, r) = common.padding_pairs(padding, x.shape[2:], w.shape[2:], (1, 1))
            tf_padding = [[0, 0], [t, bottom], [l, r], [0, 0]]
        strides, dilations = list(common.pair(stride)), list(common.pair(dilation))
        if int(groups) > 1 and int(groups) == x.shape[1]:
            return self._depthwise_conv2d(tf, x, w, b, strides, tf_padding, dilations)
        arrays = {"x": x, "w": oihw_to_hwio(w)}
        if b is not None:
            arrays["b"] = np.asarray(b)

        def op(v):
            # tf.nn.conv2d infers groups from the filter: its in-depth is C / groups.
            y = tf.nn.conv2d(v["x"], v["w"], strides, tf_padding, dilations=dilations)
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        return _nhwc_call(
            tf,
            op,
            arrays,
            weight_layouts={"w": hwio_to_oihw},
            gradient_rule=lambda: rules.conv2d_gradient(self, int(groups), dilation, x.dtype),
        )

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        tf = self._framework(x=x)
        x = np.asarray(x)
        attrs = {
            "kernel_size": kernel_size,
            "stride": stride,
            "padding": padding,
            "dilation": dilation,
            "ceil_mode": ceil_mode,
        }
        tf_padding = rules.max_pool_padding(tf, x.shape[2:], attrs)
        kernel = list(common.pair(kernel_size))
        strides = list(common.pair(stride or kernel_size))
        dilations = list(common.pair(dilation))
        if dilations != [1, 1]:
            # tf.nn.max_pool2d has no dilations; tf.nn.pool does (at stride 1).
            def op(v):
                return tf.nn.pool(
                    v["x"], kernel, "MAX", strides=strides, padding=tf_padding, dilations=dilations
                )
        else:

            def op(v):
                return tf.nn.max_pool2d(v["x"], kernel, strides, tf_padding)

        return _nhwc_call(tf, op, {"x": x})

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
        tf = self._framework(x=x)
        x = np.asarray(x)
        attrs = {
            "kernel_size": kernel_size,
            "stride": stride,
            "padding": padding,
            "ceil_mode": ceil_mode,
            "count_include_pad": count_include_pad,
            "divisor_override": divisor_override,
        }
        tf_padding = rules.avg_pool_padding(tf, x.shape[2:], attrs)
        kernel = list(common.pair(kernel_size))
        strides = list(common.pair(stride or kernel_size))
        return _nhwc_call(
            tf, lambda v: tf.nn.avg_pool2d(v["x"], kernel, strides, tf_padding), {"x": x}
        )

    def relu(self, x):
        tf = self._framework(x=x)
        return _TfCall(tf, lambda v: tf.nn.relu(v["x"]), {"x": np.asarray(x)})

    def sigmoid(self, x):
        tf = self._framework(x=x)
        return _TfCall(tf, lambda v: tf.nn.sigmoid(v["x"]), {"x": np.asarray(x)})

    def tanh(self, x):
        tf = self._framework(x=x)
        return _TfCall(tf, lambda v: tf.math.tanh(v["x"]), {"x": np.asarray(x)})

    def softmax(self, x, *, axis=-1):
        tf = self._framework(x=x)
        axis = int(axis)
        return _TfCall(tf, lambda v: tf.nn.softmax(v["x"], axis=axis), {"x": np.asarray(x)})

    def flatten(self, x, *, start_dim=1):
        tf = self._framework(x=x)
        x = np.asarray(x)
        shape = [*x.shape[: int(start_dim) % x.ndim], -1]
        return _TfCall(tf, lambda v: tf.reshape(v["x"], shape), {"x": x})

    def linear(self, x, w, b=None):
        tf = self._framework(x=x, w=w)
        arrays = {"x": np.asarray(x), "w": np.asarray(w)}
        if b is not None:
            arrays["b"] = np.asarray(b)

        def op(v):
            y = tf.matmul(v["x"], v["w"])
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        return _TfCall(tf, op, arrays)

    def batchnorm2d(self, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5):
        tf = self._framework(x=x, gamma=gamma)
        eps = float(eps)
        # Eval normalises with the running statistics, made constants here once.
        running = None if training else (tf.constant(running_mean), tf.constant(running_var))

        def op(v):
            if running is None:
                # Biased batch variance over N, H, W: what normalisation uses.
                mean, var = tf.nn.moments(v["x"], axes=[0, 1, 2])
            else:
                mean, var = running
            return tf.nn.batch_normalization(v["x"], mean, var, v["beta"], v["gamma"], eps)

        arrays = {"x": np.asarray(x), "gamma": np.asarray(gamma), "beta": np.asarray(beta)}
        return _nhwc_call(tf, op, arrays)

    def dropout(self, x, *, p, mask, training=True):
        tf = self._framework(x=x)
        rules.dropout_training(tf, training)
        x = np.asarray(x)
        ones = np.ones(4096, x.dtype)
        scale = common.kept_unit_scale(
            tf.nn.dropout(ones, rate=float(p), seed=_DROPOUT_SEED).numpy()
        )
        keep = tf.constant(np.asarray(mask).astype(x.dtype) * scale)
        return _TfCall(tf, lambda v: v["x"] * keep, {"x": x})

    def cross_entropy(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        tf = self._framework(logits=logits)
        if label_smoothing:
            raise Unsupported(rules.no_label_smoothing(tf))
        logits, target = np.asarray(logits), np.asarray(target)
        probabilities = np.issubdtype(target.dtype, np.floating)
        moved = logits.ndim > 2
        if moved:
            # tf's losses take classes on the last axis; the reference's are on axis 1.
            logits = np.moveaxis(logits, 1, -1)
            if probabilities:
                target = np.moveaxis(target, 1, -1)
        if probabilities:
            labels = tf.constant(target.astype(logits.dtype))
            loss = tf.nn.softmax_cross_entropy_with_logits
        else:
            labels = tf.constant(target)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits

        def op(v):
            return _reduce(tf, loss(labels=labels, logits=v["logits"]), reduction)

        grad_layouts = {"logits": lambda g: np.moveaxis(g, -1, 1)} if moved else {}
        return _TfCall(tf, op, {"logits": logits}, grad_layouts=grad_layouts)

    def categorical_crossentropy(self, probs, target, *, axis=-1, reduction="mean"):
        # Kept as a method (not left missing) so the report states TensorFlow's reason.
        raise Unsupported(rules.no_probability_crossentropy(self._framework(probs=probs)))

    def mse(self, pred, target, *, reduction="mean"):
        tf = self._framework(pred=pred)
        pred = np.asarray(pred)
        # tf.subtract takes one dtype; the reference computes in the common one too.
        target = tf.constant(np.asarray(target, dtype=pred.dtype))

        def op(v):
            return _reduce(tf, tf.square(v["pred"] - target), reduction)

        return _TfCall(tf, op, {"pred": pred})

    def _depthwise_conv2d(self, tf, x, w, b, strides, tf_padding, dilations) -> _TfCall:
        """groups == C_in: tf.nn.depthwise_conv2d, filter (kh, kw, C, m) with output
        channel c * m + q reading input channel c, as the reference's (C * m, 1, kh, kw)."""
        rules.depthwise_strides_with_dilation(tf, strides, dilations)
        channels, multiplier = x.shape[1], w.shape[0] // x.shape[1]
        arrays = {"x": x, "w": w.reshape(channels, multiplier, *w.shape[2:]).transpose(2, 3, 0, 1)}
        if b is not None:
            arrays["b"] = np.asarray(b)

        def op(v):
            y = tf.nn.depthwise_conv2d(
                v["x"], v["w"], [1, *strides, 1], tf_padding, dilations=dilations
            )
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        to_oihw = lambda g: g.transpose(2, 3, 0, 1).reshape(w.shape)  # noqa: E731
        return _nhwc_call(tf, op, arrays, weight_layouts={"w": to_oihw})

    # -- normalizations and losses (issue 17) ------------------------------------------
    def binary_cross_entropy(
        self, input, target, *, from_logits, reduction="mean", convention="torch"
    ):
        """tf.nn.sigmoid_cross_entropy_with_logits (logits only; neither convention clamps
        or clips logits), reduced with tf.reduce_mean / tf.reduce_sum."""
        tf = self._framework(input=input)
        if not from_logits:
            raise Unsupported(rules.no_probability_binary_crossentropy(tf))
        input = np.asarray(input)
        labels = tf.constant(np.asarray(target, dtype=input.dtype))

        def op(v):
            per_element = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=v["input"])
            return _reduce(tf, per_element, reduction)

        return _TfCall(tf, op, {"input": input})

    # -- activations (issue 17) ---------------------------------------------------------

    def leaky_relu(self, x, *, negative_slope):
        tf, slope, x = self._framework(x=x), float(negative_slope), np.asarray(x)
        reason = common.float32_attribute("tf.nn.leaky_relu", "alpha", slope, x.dtype)
        if reason is not None:
            raise Unsupported(reason)
        return _TfCall(tf, lambda v: tf.nn.leaky_relu(v["x"], alpha=slope), {"x": x})

    def elu(self, x, *, alpha=1.0):
        tf = self._framework(x=x)
        if float(alpha) != 1.0:
            raise Unsupported(
                f"tf.nn.elu has no alpha (it computes exp(x) - 1 for x < 0, alpha 1; "
                f"tf.nn.elu docs): alpha={alpha!r} cannot be expressed"
            )
        return _TfCall(tf, lambda v: tf.nn.elu(v["x"]), {"x": np.asarray(x)})

    def gelu(self, x, *, approximate="none"):
        tf, tanh = self._framework(x=x), approximate == "tanh"
        return _TfCall(tf, lambda v: tf.nn.gelu(v["x"], approximate=tanh), {"x": np.asarray(x)})

    def silu(self, x):
        tf = self._framework(x=x)
        return _TfCall(tf, lambda v: tf.nn.silu(v["x"]), {"x": np.asarray(x)})

    def relu6(self, x):
        tf = self._framework(x=x)
        return _TfCall(tf, lambda v: tf.nn.relu6(v["x"]), {"x": np.asarray(x)})

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
        """tf.image.resize to the call's output size (method and antialias from
        adapters._resize_rules), NHWC inside."""
        tf = self._framework(x=x)
        x = np.asarray(x)
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
        method = resize_rules.tf_plan(request, x.dtype)
        size, antialias = list(request.sizes), bool(antialias)
        return _nhwc_call(
            tf,
            lambda v: tf.image.resize(v["x"], size, method=method, antialias=antialias),
            {"x": x},
        )

    # -- decoder layers (issue 16) --------------------------------------------------------
    def conv_transpose2d(
        self, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
    ):
        """tf.nn.conv2d_transpose with ``output_shape`` the reference's output size:
        "SAME" for "same", "VALID" or explicit pairs otherwise."""
        tf = self._framework(x=x, w=w)
        x, w = np.asarray(x), np.asarray(w)
        strides, dilations = common.pair(stride), common.pair(dilation)
        pads, extras = transpose_crops(
            x.shape[2:], w.shape[2:], strides, padding, output_padding, dilations
        )
        out_hw = [
            transpose_out(x.shape[2 + a], w.shape[2 + a], strides[a], dilations[a], *pads[a],
                          extras[a])
            for a in (0, 1)
        ]  # fmt: skip
        tf_padding = decoder_rules.transpose_padding(tf, padding, pads, extras, strides)
        decoder_rules.transpose_kernels(self, tf_padding, int(groups), strides, dilations, x.dtype)
        output_shape = [x.shape[0], *out_hw, w.shape[1] * int(groups)]
        # conv2d_transpose's filters are [height, width, output_channels, in_channels];
        # grouped, the in-depth of the conv2d it transposes is C_out / groups.
        arrays = {"x": x, "w": w.transpose(2, 3, 1, 0)}
        if b is not None:
            arrays["b"] = np.asarray(b)

        def op(v):
            y = tf.nn.conv2d_transpose(
                v["x"], v["w"], output_shape, list(strides), tf_padding, dilations=list(dilations)
            )
            return tf.nn.bias_add(y, v["b"]) if "b" in v else y

        return _nhwc_call(
            tf,
            op,
            arrays,
            weight_layouts={"w": lambda g: g.transpose(3, 2, 0, 1)},
            gradient_rule=lambda: decoder_rules.transpose_kernels(
                self, tf_padding, int(groups), strides, dilations, x.dtype, "backward"
            ),
        )

    def pad2d(self, x, *, padding, mode="constant", value=0.0):
        """tf.pad on NHWC: CONSTANT (with constant_values), REFLECT, SYMMETRIC."""
        tf = self._framework(x=x)
        x = np.asarray(x)
        tf_mode = decoder_rules.pad_mode(tf, mode)
        (top, bottom), (left, right) = common.padding_pairs(padding, x.shape[2:], (1, 1), (1, 1))
        paddings = [[0, 0], [top, bottom], [left, right], [0, 0]]
        fill = x.dtype.type(value)

        def op(v):
            return tf.pad(v["x"], paddings, mode=tf_mode, constant_values=fill)

        return _nhwc_call(tf, op, {"x": x})

    def adaptive_avgpool2d(self, x, *, output_size):
        # Kept as a method (not left missing) so the report states TensorFlow's reason.
        raise Unsupported(decoder_rules.no_adaptive_pooling(self._framework(x=x), "avg"))

    def adaptive_maxpool2d(self, x, *, output_size):
        raise Unsupported(decoder_rules.no_adaptive_pooling(self._framework(x=x), "max"))


def _nhwc_call(tf, op, arrays, *, weight_layouts=None, gradient_rule=None) -> _TfCall:
    """A call on an NCHW ``x``: it and the output (and their gradients) are NHWC inside."""
    return _TfCall(
        tf,
        op,
        {**arrays, "x": nchw_to_nhwc(arrays["x"])},
        out_to_reference=nhwc_to_nchw,
        grad_out_to_tf=nchw_to_nhwc,
        grad_layouts={"x": nhwc_to_nchw, **(weight_layouts or {})},
        gradient_rule=gradient_rule,
    )


def _reduce(tf, values, reduction):
    if reduction == "mean":
        return tf.reduce_mean(values)
    if reduction == "sum":
        return tf.reduce_sum(values)
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
