"""JAX seen through the reference's contract: ``jax.lax`` primitives, ``jax.nn`` and ``jax.vjp``.

JAX has no layer library of its own (flax, haiku, equinox are separate projects), so each
layer method writes the few ``lax`` / ``jax.nn`` / ``jnp`` calls a JAX user writes, as a
function of the differentiable inputs (the keys ``reference.<layer>.backward`` returns;
targets, masks and running statistics are closed over), puts the inputs on the CPU
device once and returns a ``_JaxCall``.  ``forward()`` compiles ``jax.jit(fn)`` and
``backward(grad_out)`` compiles ``jax.jit`` of ``jax.vjp(fn, ...)`` ahead of time
(``.lower(...).compile()``, once per direction and call), so the timed ``Run.call`` only
runs the executable and blocks on it.  Compiling there rather than in the layer method
means a call used in one direction (every parity test) compiles only that one.

- conv2d: ``lax.conv_general_dilated`` with ``dimension_numbers=("NCHW", "OIHW", "NCHW")``,
  explicit ``(lo, hi)`` pairs or JAX's own ``"SAME"`` / ``"VALID"`` strings,
  ``rhs_dilation`` and ``feature_group_count``.  Reference layouts are JAX's: no transpose.
- maxpool2d: ``lax.reduce_window`` with ``lax.max`` and a ``-inf`` init value.
- avgpool2d: ``lax.reduce_window`` sum divided by a count (JAX has no average-pool op):
  ``count_include_pad=True`` counts padding cells but not the extra cells ``ceil_mode``
  adds; ``False`` counts real cells only; ``divisor_override`` replaces the count.
- ``ceil_mode`` (both poolings): extra high-side padding that never wins a max and is never
  counted, so that the number of windows is torch's.
- relu / sigmoid / tanh / softmax: ``jax.nn``; linear: ``jnp.dot`` (w is (in, out) as in
  the reference); flatten: ``reshape``.
- cross_entropy (torch semantics: integer targets are class indices, floating targets
  are class probabilities; class axis 1): ``jax.nn.log_softmax``; label smoothing as
  optax.smooth_labels writes it, ``(1 - a) * labels + a / num_classes``.  mse: ``jnp``
  mean.
- batchnorm2d: ``jnp`` mean and biased variance over (N, H, W) in training, the given
  running statistics in eval.  There is no batch-norm layer in JAX itself.
- layernorm / groupnorm: written in ``jnp`` the way flax.linen's LayerNorm / GroupNorm
  compute (google/flax, flax/linen/normalization.py): ``var = max(0, E[x^2] - E[x]^2)``
  (flax's default ``use_fast_variance``), ``(x - mean) * rsqrt(var + eps)``; group norm on
  channels-last data reshaped to (N, H, W, groups, C / groups), as flax does.
- dropout: ``jax`` / ``jax.lax`` have none; the one dropout in the jax package is
  ``jax.example_libraries.stax.Dropout(rate)``, whose ``rate`` is the probability of
  KEEPING a unit and whose kept units are ``inputs / rate`` (google/jax,
  jax/example_libraries/stax.py).  It draws its own mask, so the method (1) runs it on
  ones with a fixed key and checks dropped units are exactly 0, kept units all equal
  ``1 / rate`` and the kept fraction is near ``rate``, then (2) applies its formula
  ``where(keep, x / rate, 0)`` with the injected mask and ``rate = 1 - p``.  Eval mode
  runs stax's Dropout in ``mode="test"``.
- correlate / convolve / correlate2d / convolve2d (``reference.signal``):
  ``jax.scipy.signal``.  No ``categorical_crossentropy`` method: JAX has no such loss.

- resize2d: ``jax.image.resize`` to the output shape, ``antialias`` always passed (its
  default is True), 'cubic-pytorch' for A = -0.75; adapters/_resize_rules.py refuses
  what it cannot say (half-pixel centres only, taps outside the image dropped).

Unsupported (``adapters.base.Unsupported``): dtypes other than float32 / float64; dropout
in training with p = 1 (stax's rate would be 0 and its formula divides by it).  Raised
from ``backward`` only, so the forward runs: conv2d strided on both axes with any
dilation > 1 (XLA:CPU aborts the process on some of these; see ``_xla_cpu_conv_abort``);
max-pool with dilation > 1 (JAX: "VJP not implemented for select_and_gather (MaxPool)
with window dilation").  The rest of the reference's attribute space is ``lax``'s own.

Numerics: ``load`` turns on ``jax_enable_x64`` (float64 cases run in float64; a global JAX
setting), asks for the CPU platform when JAX has not started a backend yet, and arrays
are placed and compiled under ``jax.default_device(cpu)``.  Convolutions and dots pass
``precision=lax.Precision.HIGHEST`` so no reduced-precision path is taken on any backend.

Activations (issue 17): jax.nn.leaky_relu, elu, gelu(approximate=), silu, relu6,
hard_sigmoid (relu6(x + 3) / 6 only) and hard_swish.  jax.nn.leaky_relu's derivative at 0
is 1 (a conventions row; the kink case's backward is a declared strict xfail).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adapters import _resize_rules as resize_rules
from adapters._decoder_geometry import transpose_crops
from adapters._geometry import ceil_mode_windows, padded_high, padding_pairs, pair
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype
from adapters.layout import sorted_axes

_DROPOUT_PROBE_SIZE = 4096
_DROPOUT_PROBE_SEED = 0

#: The key of this crash's entry in tests/known_divergences.py (its evidence and the
#: state of an upstream issue live there).
XLA_CPU_CONV_ABORT = "jax-xla-cpu-conv-grad-abort"

_XLA_CPU_CONV_ABORT_REASON = (
    "jax.vjp of lax.conv_general_dilated: XLA:CPU aborts the whole process "
    "compiling the input gradient ('algebraic_simplifier.cc:586] Check failed: "
    "computation->Accept(this) is OK (INVALID_ARGUMENT: Window dimensions do not "
    "match RHS shape') for some convolutions strided on both axes and dilated on "
    "a strided one (e.g. x (1,1,8,4), w (1,1,3,2), stride (2,2), padding "
    "((0,0),(1,1)), dilation (2,1); jax 0.10.2); the adapter does not run that "
    f"family's backward (known framework crash {XLA_CPU_CONV_ABORT!r} in "
    "tests/known_divergences.py)"
)


class _JaxCall:
    """``fn(*primals)`` set up once; each direction compiled on first request."""

    def __init__(self, jax, cpu, fn: Callable, primals: Mapping[str, Any], backward_refusal):
        self._jax, self._cpu, self._fn = jax, cpu, fn
        self._keys = tuple(primals)
        self._args = tuple(primals.values())
        self._backward_refusal = backward_refusal
        self._forward_compiled = None
        self._backward_compiled = None
        self._out = None  # the forward output's shape and dtype

    def forward(self) -> Run:
        jax, args = self._jax, self._args
        if self._forward_compiled is None:
            with jax.default_device(self._cpu):
                self._forward_compiled = jax.jit(self._fn).lower(*args).compile()
        compiled = self._forward_compiled
        return Run(
            lambda: compiled(*args).block_until_ready(),
            np.asarray,
            "jax.jit, compiled before timing",
        )

    def backward(self, grad_out) -> Run:
        if self._backward_refusal is not None:
            raise Unsupported(self._backward_refusal)
        jax, fn, args, keys = self._jax, self._fn, self._args, self._keys
        with jax.default_device(self._cpu):
            if self._out is None:
                self._out = jax.eval_shape(fn, *args)
            # reshape: a scalar loss's grad_out may arrive as a Python number.
            seed = jax.numpy.asarray(grad_out, dtype=self._out.dtype).reshape(self._out.shape)
            if self._backward_compiled is None:

                def gradients(cotangent, *values):
                    return jax.vjp(fn, *values)[1](cotangent)

                self._backward_compiled = jax.jit(gradients).lower(seed, *args).compile()
        compiled = self._backward_compiled
        return Run(
            lambda: jax.block_until_ready(compiled(seed, *args)),
            lambda grads: {k: np.asarray(g) for k, g in zip(keys, grads, strict=True)},
            "jax.jit of jax.vjp, compiled before timing",
        )


class JaxAdapter:
    name = "jax"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("jax", "jaxlib")
    # Read by tests/sampling.py: the default run leaves this adapter's fuzzing to --full.
    slow_fuzz = "XLA compiles every fuzz example's new shapes"

    def __init__(self) -> None:
        self._jax = None
        self._stax_checked: set[tuple[float, str]] = set()

    # -- Protocol ------------------------------------------------------------------------

    def load(self) -> None:
        if self._jax is not None:
            return
        try:
            import jax
        except ImportError as exc:
            raise FrameworkMissing("jax is not installed: pip install 'jax[cpu]'") from exc
        jax.config.update("jax_enable_x64", True)
        # Only possible before a backend has started; afterwards the CPU device is still
        # chosen per computation.
        with contextlib.suppress(Exception):
            jax.config.update("jax_platforms", "cpu")
        self._cpu = jax.devices("cpu")[0]
        self._jax = jax

    def version(self) -> str:
        return self._lib().__version__

    def determinism_flags(self) -> dict[str, Any]:
        jax = self._lib()
        return {
            "jax_enable_x64": bool(jax.config.read("jax_enable_x64")),
            # platform:id, not str(device): jax 0.4.3x prints "TFRT_CPU_0", newer "cpu:0".
            "device": f"{self._cpu.platform}:{self._cpu.id}",
            "precision": "HIGHEST (conv, dot)",
        }

    # -- layers ----------------------------------------------------------------------------

    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        lax = self._lib().lax
        stride, dilation = pair(stride), pair(dilation)
        if isinstance(padding, str):
            lax_padding = padding.upper()  # lax's own "SAME" / "VALID"
        else:
            lax_padding = padding_pairs(padding, x.shape[2:], w.shape[2:], stride, dilation)

        def fn(x, w, b=None):
            y = lax.conv_general_dilated(
                x,
                w,
                window_strides=stride,
                padding=lax_padding,
                rhs_dilation=dilation,
                dimension_numbers=("NCHW", "OIHW", "NCHW"),
                feature_group_count=groups,
                precision=lax.Precision.HIGHEST,
            )
            return y if b is None else y + b[None, :, None, None]

        refusal = _XLA_CPU_CONV_ABORT_REASON if _xla_cpu_conv_abort(stride, dilation) else None
        return self._call(fn, {"x": x, "w": w, "b": b}, backward_refusal=refusal)

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        lax = self._lib().lax
        dilation = pair(dilation)
        kernel, strides, lax_padding, _, _, outs = _pool_geometry(
            x.shape, kernel_size, stride, padding, dilation, ceil_mode
        )

        def fn(x):
            # A NumPy (concrete) init value: lax then uses its max-pool primitive, which
            # has a VJP; a jnp array would be a tracer under jax.jit and lose it.
            y = lax.reduce_window(
                x,
                np.array(-np.inf, x.dtype),
                lax.max,
                (1, 1, *kernel),
                (1, 1, *strides),
                lax_padding,
                window_dilation=(1, 1, *dilation),
            )
            return _first_windows(y, outs)

        refusal = None
        if dilation != (1, 1):
            refusal = (
                "jax.vjp of lax.reduce_window(max): VJP not implemented for select_and_gather "
                f"(MaxPool) with window dilation, got window_dilation=(1, 1, {dilation[0]}, "
                f"{dilation[1]})."
            )
        return self._call(fn, {"x": x}, backward_refusal=refusal)

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
        jax = self._lib()
        jnp, lax = jax.numpy, jax.lax
        kernel, strides, lax_padding, pads, extras, outs = _pool_geometry(
            x.shape, kernel_size, stride, padding, (1, 1), ceil_mode
        )
        window, strides = (1, 1, *kernel), (1, 1, *strides)

        def fn(x):
            zero = np.array(0, x.dtype)  # concrete under jax.jit, as in maxpool2d
            total = _first_windows(
                lax.reduce_window(x, zero, lax.add, window, strides, lax_padding), outs
            )
            if divisor_override is not None:
                return total / jnp.array(divisor_override, x.dtype)
            ones = jnp.ones((1, 1, *x.shape[2:]), x.dtype)
            explicit = ((0, 0), (0, 0), *padded_high(pads, extras))
            if count_include_pad:
                # Padding cells count, ceil_mode's extra cells do not (torch's pool_size).
                ones = jnp.pad(ones, ((0, 0), (0, 0), *pads), constant_values=1)
                explicit = ((0, 0), (0, 0), (0, extras[0]), (0, extras[1]))
            count = lax.reduce_window(ones, zero, lax.add, window, strides, explicit)
            return total / _first_windows(count, outs)

        return self._call(fn, {"x": x})

    def relu(self, x):
        return self._call(lambda x: self._jax.nn.relu(x), {"x": x})

    def sigmoid(self, x):
        return self._call(lambda x: self._jax.nn.sigmoid(x), {"x": x})

    def tanh(self, x):
        return self._call(lambda x: self._jax.nn.tanh(x), {"x": x})

    def softmax(self, x, *, axis=-1):
        nn = self._lib().nn
        return self._call(lambda x: nn.softmax(x, axis=axis), {"x": x})

    def linear(self, x, w, b=None):
        jax = self._lib()
        jnp, lax = jax.numpy, jax.lax

        def fn(x, w, b=None):
            y = jnp.dot(x, w, precision=lax.Precision.HIGHEST)
            return y if b is None else y + b

        return self._call(fn, {"x": x, "w": w, "b": b})

    def flatten(self, x, *, start_dim=1):
        shape = (*np.shape(x)[:start_dim], -1)
        return self._call(lambda x: x.reshape(shape), {"x": x})

    def cross_entropy(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        jax = self._lib()
        jnp = jax.numpy
        target = self._device_array(target)
        alpha = float(label_smoothing)

        def fn(logits):
            log_p = jax.nn.log_softmax(logits, axis=1)
            if alpha:
                # optax.smooth_labels: (1 - alpha) * labels + alpha / num_categories.
                k = logits.shape[1]
                labels = target
                if jnp.issubdtype(target.dtype, jnp.integer):
                    labels = jnp.moveaxis(jax.nn.one_hot(target, k, dtype=logits.dtype), -1, 1)
                smoothed = (1 - alpha) * labels + alpha / k
                return _reduce(-(smoothed * log_p).sum(axis=1), reduction)
            if jnp.issubdtype(target.dtype, jnp.integer):
                picked = jnp.take_along_axis(log_p, jnp.expand_dims(target, 1), axis=1)
                per_sample = -picked.squeeze(1)
            else:
                per_sample = -(target * log_p).sum(axis=1)
            return _reduce(per_sample, reduction)

        return self._call(fn, {"logits": logits}, consts=(target,))

    def mse(self, pred, target, *, reduction="mean"):
        target = self._device_array(target)
        return self._call(
            lambda pred: _reduce((pred - target) ** 2, reduction),
            {"pred": pred},
            consts=(target,),
        )

    def batchnorm2d(self, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5):
        jnp = self._lib().numpy
        running = self._device_array(running_mean), self._device_array(running_var)

        def channel(v):
            return v[None, :, None, None]

        def fn(x, gamma, beta):
            if training:
                mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
            else:
                mean, var = running
            x_hat = (x - channel(mean)) / jnp.sqrt(channel(var) + eps)
            return x_hat * channel(gamma) + channel(beta)

        return self._call(fn, {"x": x, "gamma": gamma, "beta": beta}, consts=running)

    def dropout(self, x, *, p, mask, training=True):
        jax = self._lib()
        _refuse_dtype(x)
        from jax.example_libraries import stax

        rate = 1.0 - float(p)
        if not training:
            _, apply_fun = stax.Dropout(rate, mode="test")
            with jax.default_device(self._cpu):
                key = jax.random.PRNGKey(_DROPOUT_PROBE_SEED)  # required, unused in test mode
            return self._call(lambda x: apply_fun((), x, rng=key), {"x": x})
        if float(p) >= 1.0:
            raise Unsupported(
                "jax.example_libraries.stax.Dropout takes the keep rate 1 - p = 0 and "
                "computes 'inputs / rate' for kept units: p = 1 has no finite formula"
            )
        self._check_stax_dropout(stax, rate, np.asarray(x).dtype)
        keep = self._device_array(mask)
        return self._call(lambda x: jax.numpy.where(keep, x / rate, 0), {"x": x}, consts=(keep,))

    def correlate(self, in1, in2, mode="full"):
        return self._signal("correlate", in1, in2, mode)

    def convolve(self, in1, in2, mode="full"):
        return self._signal("convolve", in1, in2, mode)

    def correlate2d(self, in1, in2, mode="full"):
        return self._signal("correlate2d", in1, in2, mode)

    def convolve2d(self, in1, in2, mode="full"):
        return self._signal("convolve2d", in1, in2, mode)

    # -- normalizations and losses (issue 17) ----------------------------------------------

    def layernorm(self, x, gamma, beta, *, axes, eps=1e-5):
        """flax.linen.LayerNorm's arithmetic in jnp: ``E[x^2] - E[x]^2`` clipped at 0
        (flax's default use_fast_variance), ``(x - mean) * rsqrt(var + eps)``, then scale
        and bias broadcast over the normalised axes."""
        jax = self._lib()
        normalized = sorted_axes(axes, np.ndim(x))
        shape = tuple(np.shape(x)[a] if a in normalized else 1 for a in range(np.ndim(x)))

        def fn(x, gamma, beta):
            y = _flax_standardize(jax, x, normalized, eps)
            return y * gamma.reshape(shape) + beta.reshape(shape)

        return self._call(fn, {"x": x, "gamma": gamma, "beta": beta})

    def groupnorm(self, x, gamma, beta, *, groups, eps=1e-5):
        """flax.linen.GroupNorm's arithmetic in jnp on channels-last data: NHWC reshaped to
        (N, H, W, groups, C / groups), statistics over (H, W, C / groups) with flax's fast
        variance, then per-channel scale and bias."""
        jax = self._lib()
        groups = int(groups)

        def fn(x, gamma, beta):
            nhwc = x.transpose(0, 2, 3, 1)
            n, h, w, c = nhwc.shape
            grouped = nhwc.reshape(n, h, w, groups, c // groups)
            y = _flax_standardize(jax, grouped, (1, 2, 4), eps).reshape(n, h, w, c)
            return (y * gamma + beta).transpose(0, 3, 1, 2)

        return self._call(fn, {"x": x, "gamma": gamma, "beta": beta})

    # -- resize (issue 16) ---------------------------------------------------------------

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
        """jax.image.resize to the call's output shape, with ``antialias`` passed explicitly
        (its default is True); method from adapters._resize_rules."""
        jax = self._lib()
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
        methods = getattr(jax.image, "ResizeMethod", None)
        method = resize_rules.jax_plan(request, hasattr(methods, "CUBIC_PYTORCH"))
        shape = (*x.shape[:2], *request.sizes)
        antialias, highest = bool(antialias), jax.lax.Precision.HIGHEST

        def fn(x):
            return jax.image.resize(x, shape, method, antialias=antialias, precision=highest)

        return self._call(fn, {"x": x})

    # -- helpers ---------------------------------------------------------------------------

    def _lib(self):
        if self._jax is None:
            self.load()
        return self._jax

    def _device_array(self, value):
        jax = self._jax
        with jax.default_device(self._cpu):
            return jax.numpy.asarray(np.asarray(value))

    def _call(self, fn, primals: Mapping[str, Any], *, consts=(), backward_refusal=None):
        """A ``_JaxCall`` of ``fn(*primals)`` (the ``None`` ones left out, so an optional
        bias is simply absent).  ``consts`` are the closed-over arrays, which count for
        the dtype check too."""
        self._lib()
        present = {k: v for k, v in primals.items() if v is not None}
        _refuse_dtype(*present.values(), *consts)
        args = {k: self._device_array(v) for k, v in present.items()}
        keys = tuple(args)

        def positional(*values):
            return fn(**dict(zip(keys, values, strict=True)))

        return _JaxCall(self._jax, self._cpu, positional, args, backward_refusal)

    def _signal(self, name, in1, in2, mode):
        import jax.scipy.signal as signal

        function = getattr(signal, name)
        return self._call(lambda in1, in2: function(in1, in2, mode=mode), {"in1": in1, "in2": in2})

    def _check_stax_dropout(self, stax, rate: float, dtype) -> None:
        """Fail loudly if stax's Dropout no longer keeps with probability ``rate`` and
        scales kept units to ``1 / rate`` (the formula ``dropout`` applies).  Once per
        rate and dtype: the probe is eager JAX, slower than the compiled layer."""
        if (rate, dtype.str) in self._stax_checked:
            return
        jax = self._jax
        _, apply_fun = stax.Dropout(rate, mode="train")
        with jax.default_device(self._cpu):
            ones = jax.numpy.ones(_DROPOUT_PROBE_SIZE, dtype)
            probe = np.asarray(apply_fun((), ones, rng=jax.random.PRNGKey(_DROPOUT_PROBE_SEED)))
            expected = np.asarray(ones[:1] / rate)[0]
        kept = probe[probe != 0]
        fraction = kept.size / probe.size
        if not (np.all(kept == expected) and abs(fraction - rate) < 0.05):
            raise RuntimeError(
                f"stax.Dropout({rate}) on ones kept {fraction:.3f} of the units with values "
                f"{np.unique(kept)[:5]}, not rate {rate} with 1/rate = {expected}"
            )
        self._stax_checked.add((rate, dtype.str))

    # -- activations (issue 17) ---------------------------------------------------------

    def leaky_relu(self, x, *, negative_slope):
        nn, slope = self._lib().nn, float(negative_slope)
        return self._call(lambda x: nn.leaky_relu(x, negative_slope=slope), {"x": x})

    def elu(self, x, *, alpha=1.0):
        nn, alpha = self._lib().nn, float(alpha)
        return self._call(lambda x: nn.elu(x, alpha=alpha), {"x": x})

    def gelu(self, x, *, approximate="none"):
        nn, tanh = self._lib().nn, approximate == "tanh"
        return self._call(lambda x: nn.gelu(x, approximate=tanh), {"x": x})

    def silu(self, x):
        return self._call(lambda x: self._jax.nn.silu(x), {"x": x})

    def relu6(self, x):
        return self._call(lambda x: self._jax.nn.relu6(x), {"x": x})

    def hardsigmoid(self, x, *, slope=1 / 6, offset=0.5):
        if (float(slope), float(offset)) != (1 / 6, 0.5):
            raise Unsupported(
                "jax.nn.hard_sigmoid has no parameters: it computes relu6(x + 3) / 6 "
                f"(slope 1/6, offset 1/2), not slope={slope!r}, offset={offset!r}"
            )
        return self._call(lambda x: self._jax.nn.hard_sigmoid(x), {"x": x})

    def hardswish(self, x):
        return self._call(lambda x: self._jax.nn.hard_swish(x), {"x": x})

    def conv_transpose2d(
        self, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
    ):
        """``lax.conv_transpose(..., transpose_kernel=True)`` (the gradient of the conv
        with kernel ``w``, torch's and Keras' convention), with JAX's own "SAME" for
        "same" and explicit pairs otherwise; grouped, ``lax.conv_general_dilated`` with
        ``lhs_dilation`` (conv_transpose has no groups) and the kernel flipped and
        regrouped by hand, as users write it."""
        lax = self._lib().lax
        stride, dilation, groups = pair(stride), pair(dilation), int(groups)
        kernel = np.shape(w)[2:]
        pads, extras = transpose_crops(
            np.shape(x)[2:], kernel, stride, padding, output_padding, dilation
        )
        # lax pads the stretched input: k_eff - 1 - crop before, and after it the same
        # plus the output padding (negative values crop).
        spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
        lax_pairs = [
            (span - 1 - lo, span - 1 - hi + extra)
            for span, (lo, hi), extra in zip(spans, pads, extras, strict=True)
        ]
        same = isinstance(padding, str) and padding.lower() == "same"
        dims = ("NCHW", "OIHW", "NCHW")
        highest = lax.Precision.HIGHEST

        def fn(x, w, b=None):
            if groups == 1:
                y = lax.conv_transpose(
                    x,
                    w,
                    stride,
                    "SAME" if same else lax_pairs,
                    rhs_dilation=dilation,
                    dimension_numbers=dims,
                    transpose_kernel=True,
                    precision=highest,
                )
            else:
                c_in, cog, kh, kw = w.shape
                flipped = w.reshape(groups, c_in // groups, cog, kh, kw).transpose(0, 2, 1, 3, 4)
                flipped = flipped.reshape(groups * cog, c_in // groups, kh, kw)[:, :, ::-1, ::-1]
                y = lax.conv_general_dilated(
                    x,
                    flipped,
                    window_strides=(1, 1),
                    padding=lax_pairs,
                    lhs_dilation=stride,
                    rhs_dilation=dilation,
                    dimension_numbers=dims,
                    feature_group_count=groups,
                    precision=highest,
                )
            return y if b is None else y + b[None, :, None, None]

        return self._call(fn, {"x": x, "w": w, "b": b})

    def pad2d(self, x, *, padding, mode="constant", value=0.0):
        """``jnp.pad`` with NumPy's mode names: constant, reflect, edge, symmetric, wrap."""
        jnp = self._lib().numpy
        pads = ((0, 0), (0, 0), *padding_pairs(padding, (0, 0), (1, 1), (1, 1)))
        name = _JNP_PAD_MODES[mode]
        if name == "constant":
            return self._call(lambda x: jnp.pad(x, pads, constant_values=value), {"x": x})
        return self._call(lambda x: jnp.pad(x, pads, mode=name), {"x": x})

    def adaptive_avgpool2d(self, x, *, output_size):
        raise Unsupported(_no_adaptive_pooling(self._lib()))

    def adaptive_maxpool2d(self, x, *, output_size):
        raise Unsupported(_no_adaptive_pooling(self._lib()))


def _flax_standardize(jax, x, axes, eps):
    """flax/linen/normalization.py ``_compute_stats`` (use_fast_variance=True) and
    ``_normalize``: ``var = max(0, mean(x^2) - mean(x)^2)``, ``(x - mean) * rsqrt(var + eps)``."""
    jnp = jax.numpy
    mean = jnp.mean(x, axes, keepdims=True)
    mean2 = jnp.mean(jax.lax.square(x), axes, keepdims=True)
    var = jnp.maximum(0.0, mean2 - jax.lax.square(mean))
    return (x - mean) * jax.lax.rsqrt(var + eps)


def _refuse_dtype(*arrays) -> None:
    dtype = float_dtype(dict(enumerate(arrays)))
    if dtype not in (np.float32, np.float64):
        raise Unsupported(f"jax adapter: runs float32 and float64 only, not {dtype}")


def _pool_geometry(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Window, strides, the padding lax gets, the (lo, hi) pairs, the ceil_mode extra
    high cells per axis, and the window counts to keep (None: all)."""
    kernel = pair(kernel_size)
    strides = pair(stride or kernel_size)
    pads = padding_pairs(padding, shape[2:], kernel, strides, dilation)
    if not ceil_mode:
        if isinstance(padding, str):
            return kernel, strides, padding.upper(), pads, (0, 0), None  # lax's own rule
        return kernel, strides, ((0, 0), (0, 0), *pads), pads, (0, 0), None
    geometry = [
        ceil_mode_windows(shape[2 + a], kernel[a], strides[a], dilation[a], *pads[a])
        for a in (0, 1)
    ]
    extras = tuple(extra for _, extra in geometry)
    lax_padding = ((0, 0), (0, 0), *padded_high(pads, extras))
    return kernel, strides, lax_padding, pads, extras, tuple(out for out, _ in geometry)


def _reduce(values, reduction: str):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return values if reduction == "none" else getattr(values, reduction)()


def _xla_cpu_conv_abort(stride, dilation) -> bool:
    """The family of conv2d attributes whose input gradient can abort XLA:CPU (a crash,
    not an exception, so it has to be avoided rather than caught).  Found by this
    project's fuzzing; a superset of the configurations seen to crash.  Declared in
    tests/known_divergences.py as ``XLA_CPU_CONV_ABORT``."""
    return min(pair(stride)) > 1 and max(pair(dilation)) > 1


def _first_windows(y, outs):
    return y if outs is None else y[:, :, : outs[0], : outs[1]]


#: The reference's pad modes by jnp.pad's (NumPy's) names.
_JNP_PAD_MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "symmetric": "symmetric",
    "circular": "wrap",
}


def _no_adaptive_pooling(jax) -> str:
    """Why JAX has no adaptive pooling (kept as methods so the report states it)."""
    import inspect

    parameters = ", ".join(inspect.signature(jax.lax.reduce_window).parameters)
    return (
        f"jax has no adaptive pooling: lax.reduce_window({parameters}) slides one fixed "
        "window with fixed strides, while torch's adaptive windows [floor(i*in/out), "
        "ceil((i+1)*in/out)) overlap and change length when out does not divide in"
    )
