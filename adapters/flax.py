"""Flax's layers as a JAX user writes them (name "flax"): ``flax.linen`` modules and
functions, gradients by ``jax.vjp``.

Each layer method builds the ``flax.linen`` module with the call's attributes, and writes
the function a user's ``module.apply`` runs, of the differentiable inputs (the keys
``reference.<layer>.backward`` returns; the module's parameters among them), with the rest
(running statistics, the dropout mask) closed over.  The jax adapter's compiled call does
the rest (``adapters.jax.JaxAdapter._call``): inputs placed on the CPU device once,
``forward()`` compiles ``jax.jit(fn)`` and ``backward(grad_out)`` ``jax.jit`` of
``jax.vjp(fn, ...)`` ahead of time, so the timed ``Run.call`` only runs the executable.
x64 is on (a global JAX setting the jax adapter turns on): float64 runs in float64.

Layout: Flax is channels-last.  Activations arrive NCHW and are passed NHWC, conv kernels
OIHW and are passed HWIO (``nn.Conv``'s kernel is ``kernel_size + (in_features //
feature_group_count, features)``), outside the compiled function; outputs and gradients
are turned back (``_Channels``).  Dense kernels are (in, out), as the reference's.

- conv2d: ``nn.Conv(features, kernel_size, strides, padding, kernel_dilation,
  feature_group_count, use_bias, precision=HIGHEST)``; the reference's padding forms map to
  Flax's own: "same"/"valid" to ``"SAME"``/``"VALID"`` (TF's SAME rule, ``lax``'s), any
  integer form to explicit ``(low, high)`` pairs.  Flax's default is ``padding="SAME"``,
  torch's 0: a conventions row, not something set here.
- maxpool2d / avgpool2d: ``nn.max_pool`` / ``nn.avg_pool(count_include_pad=...)`` with
  explicit ``(low, high)`` pairs; torch's ``ceil_mode`` is extra high-side padding (never
  the maximum: ``max_pool`` pads with its ``-inf`` init; never counted with
  ``count_include_pad=False``).  Refused: dilation (``max_pool`` has none),
  ``divisor_override`` (``avg_pool`` has none), and ``ceil_mode`` with
  ``count_include_pad=True`` where a window overhangs (``avg_pool`` divides every window by
  ``prod(window_shape)``, torch by the cells inside the padded input).
- batchnorm2d: ``nn.BatchNorm(use_running_average=not training, epsilon=eps)`` on
  ``{"params": {"scale", "bias"}, "batch_stats": {"mean", "var"}}``, with
  ``mutable=["batch_stats"]`` in training (the updated statistics are not part of the
  reference's forward; momentum 0.99 and its meaning are a conventions row).
- linear: ``nn.Dense(features, use_bias, precision=HIGHEST)``.
- dropout: ``nn.Dropout(rate=p)`` draws its own mask.  The method (1) runs it on ones with a
  fixed key and checks dropped units are exactly 0, kept units all ``1 / (1 - p)`` and the
  kept fraction near ``1 - p``, then (2) applies Flax's own formula
  ``lax.select(mask, inputs / keep_prob, zeros_like(inputs))`` (flax/linen/stochastic.py)
  with the injected mask.  Eval runs the module with ``deterministic=True``.
- relu / sigmoid / tanh / softmax: ``flax.linen``'s activations (JAX's ``jax.nn`` ones,
  re-exported).

Known framework bugs (tests/known_divergences.py): conv2d backward strided on both axes
and dilated is refused with its key (XLA:CPU aborts the process, as for the jax adapter:
``XLA_CPU_CONV_ABORT``).  avgpool2d with ``count_include_pad=False``, where Flax returns
float64 for float32 inputs under x64, runs: a wrong dtype the parity tests judge (the
matched divergence flax-avg-pool-exclude-pad-float32-to-float64).
Dtypes other than float32 / float64 are refused.

Flax has no flatten, loss or SciPy-style layer: no method (Flax users call ``reshape`` and
optax).  Further layers are one method each: the module and its parameter dict.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from adapters._geometry import padding_pairs, pair
from adapters.base import FrameworkMissing, Run, Unsupported, float_dtype
from adapters.jax import JaxAdapter, _pool_geometry, _xla_cpu_conv_abort
from adapters.layout import NCHW_TO_NHWC, NHWC_TO_NCHW

_DROPOUT_PROBE_SIZE = 4096
_DROPOUT_PROBE_SEED = 0

#: Keys of the framework bugs this adapter refuses; each names an entry of
#: tests/known_divergences.py (its evidence test is in tests/adapters/test_flax_adapter.py).
XLA_CPU_CONV_ABORT = "flax-xla-cpu-conv-grad-abort"

_XLA_CPU_CONV_ABORT_REASON = (
    "jax.vjp of flax.linen.Conv (lax.conv_general_dilated): XLA:CPU aborts the whole "
    "process compiling the input gradient ('algebraic_simplifier.cc:586] Check failed: "
    "computation->Accept(this) is OK (INVALID_ARGUMENT: Window dimensions do not match RHS "
    "shape') for some convolutions strided on both axes and dilated (the jax adapter's "
    "crash, through Flax's NHWC call: x (1,8,4,1), kernel (3,2,1,1), strides (2,2), padding "
    "((0,0),(1,1)), kernel_dilation (2,1); flax 0.12.8, jax 0.10.2); the adapter does not "
    f"run that family's backward (known framework crash {XLA_CPU_CONV_ABORT!r} in "
    "tests/known_divergences.py)"
)


class FlaxAdapter:
    name = "flax"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("flax", "jax", "jaxlib")
    # Read by tests/sampling.py: the default run leaves this adapter's fuzzing to --full.
    slow_fuzz = "XLA compiles every fuzz example's new shapes"

    def __init__(self) -> None:
        self._nn = None
        self._jax = JaxAdapter()
        self._dropout_checked: set[tuple[float, str]] = set()

    # -- Protocol ------------------------------------------------------------------------

    def load(self) -> None:
        if self._nn is not None:
            return
        try:
            import flax
            import flax.linen as nn
        except ImportError as exc:
            raise FrameworkMissing(f"flax is not installed: pip install flax ({exc})") from exc
        self._jax.load()  # x64 on, the CPU device pinned, as for the jax adapter
        self._flax, self._nn = flax, nn

    def version(self) -> str:
        return f"{self._flax.__version__} (jax {self._jax.version()})"

    def determinism_flags(self) -> dict[str, Any]:
        return {**self._jax.determinism_flags(), "precision": "HIGHEST (nn.Conv, nn.Dense)"}

    # -- layers ----------------------------------------------------------------------------

    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        nn, lax = self._lib(), self._jax._lib().lax
        stride, dilation = pair(stride), pair(dilation)
        if isinstance(padding, str):
            flax_padding = padding.upper()  # Flax's own "SAME" / "VALID"
        else:
            flax_padding = padding_pairs(padding, x.shape[2:], w.shape[2:], stride, dilation)
        dtype = _dtype(x, w, b)
        conv = nn.Conv(
            features=w.shape[0],
            kernel_size=w.shape[2:],
            strides=stride,
            padding=flax_padding,
            kernel_dilation=dilation,
            feature_group_count=int(groups),
            use_bias=b is not None,
            dtype=dtype,
            param_dtype=dtype,
            precision=lax.Precision.HIGHEST,
        )

        def fn(x, w, b=None):
            params = {"kernel": w} if b is None else {"kernel": w, "bias": b}
            return conv.apply({"params": params}, x)

        refusal = _XLA_CPU_CONV_ABORT_REASON if _xla_cpu_conv_abort(stride, dilation) else None
        primals = {"x": _nhwc(x), "w": np.transpose(w, (2, 3, 1, 0)), "b": b}
        grads = {"x": _nchw, "w": lambda g: np.transpose(g, (3, 2, 0, 1))}
        return self._call(fn, primals, grads, backward_refusal=refusal)

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        nn = self._lib()
        if pair(dilation) != (1, 1):
            raise Unsupported(f"flax.linen.max_pool has no dilation: {_signature(nn.max_pool)}")
        window, strides, pads, outs = self._pool(x, kernel_size, stride, padding, ceil_mode)

        def fn(x):
            return _first_windows_nhwc(nn.max_pool(x, window, strides, pads), outs)

        return self._call(fn, {"x": _nhwc(x)}, {"x": _nchw})

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
        nn = self._lib()
        if divisor_override is not None:
            raise Unsupported(
                f"flax.linen.avg_pool has no divisor_override: {_signature(nn.avg_pool)}"
            )
        window, strides, pads, outs = self._pool(x, kernel_size, stride, padding, ceil_mode)
        if ceil_mode and count_include_pad and pads != _padding(x, window, strides, padding):
            raise Unsupported(
                "flax.linen.avg_pool(count_include_pad=True) divides every window by "
                "prod(window_shape) ('y = y / np.prod(window_shape)', flax/linen/pooling.py); "
                "torch's ceil_mode windows that overhang the padded input divide by fewer "
                f"cells (here {window} windows, padding {_padding(x, window, strides, padding)}"
                f", ceil_mode needs {pads})"
            )
        include = bool(count_include_pad)

        def fn(x):
            y = nn.avg_pool(x, window, strides, pads, count_include_pad=include)
            return _first_windows_nhwc(y, outs)

        return self._call(fn, {"x": _nhwc(x)}, {"x": _nchw})

    def batchnorm2d(self, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5):
        nn = self._lib()
        dtype = _dtype(x, gamma, beta, running_mean, running_var)
        training = bool(training)
        bn = nn.BatchNorm(
            use_running_average=not training,
            axis=-1,
            epsilon=float(eps),
            dtype=dtype,
            param_dtype=dtype,
        )
        stats = {
            "mean": self._jax._device_array(running_mean),
            "var": self._jax._device_array(running_var),
        }

        def fn(x, gamma, beta):
            variables = {"params": {"scale": gamma, "bias": beta}, "batch_stats": stats}
            if training:  # Flax refuses to update batch_stats unless they are mutable
                return bn.apply(variables, x, mutable=["batch_stats"])[0]
            return bn.apply(variables, x)

        primals = {"x": _nhwc(x), "gamma": gamma, "beta": beta}
        return self._call(fn, primals, {"x": _nchw}, consts=tuple(stats.values()))

    def linear(self, x, w, b=None):
        nn, lax = self._lib(), self._jax._lib().lax
        dtype = _dtype(x, w, b)
        dense = nn.Dense(
            features=w.shape[1],
            use_bias=b is not None,
            dtype=dtype,
            param_dtype=dtype,
            precision=lax.Precision.HIGHEST,
        )

        def fn(x, w, b=None):
            params = {"kernel": w} if b is None else {"kernel": w, "bias": b}
            return dense.apply({"params": params}, x)

        return self._call(fn, {"x": x, "w": w, "b": b}, {})

    def dropout(self, x, *, p, mask, training=True):
        nn = self._lib()
        jax = self._jax._lib()
        drop = nn.Dropout(rate=float(p))
        if not training:
            return self._call(lambda x: drop.apply({}, x, deterministic=True), {"x": x}, {})
        dtype = _dtype(x)
        keep_prob = self._check_dropout(drop, float(p), dtype)
        keep = self._jax._device_array(mask)

        def fn(x):  # Flax's own formula (flax/linen/stochastic.py), with the given mask
            return jax.lax.select(keep, x / keep_prob, jax.numpy.zeros_like(x))

        return self._call(fn, {"x": x}, {}, consts=(keep,))

    def relu(self, x):
        return self._activation("relu", x)

    def sigmoid(self, x):
        return self._activation("sigmoid", x)

    def tanh(self, x):
        return self._activation("tanh", x)

    def softmax(self, x, *, axis=-1):
        nn = self._lib()
        return self._call(lambda x: nn.softmax(x, axis=axis), {"x": x}, {})

    # -- helpers ---------------------------------------------------------------------------

    def _lib(self):
        if self._nn is None:
            self.load()
        return self._nn

    def _activation(self, name: str, x):
        function = getattr(self._lib(), name)
        return self._call(lambda x: function(x), {"x": x}, {})

    def _call(self, fn, primals, grads, *, consts=(), backward_refusal=None):
        """The jax adapter's compiled call of ``fn`` (the ``None`` primals left out),
        with outputs and gradients moved back to the reference's layout: ``grads`` maps a
        gradient's name to its conversion; the output (and ``grad_out``) is NHWC exactly
        when ``grads`` converts ``x`` (or ``x`` is absent from ``primals``)."""
        _dtype(*primals.values(), *consts)
        call = self._jax._call(fn, primals, consts=consts, backward_refusal=backward_refusal)
        return _Channels(call, nhwc="x" in grads, grads=grads)

    def _pool(self, x, kernel_size, stride, padding, ceil_mode):
        """Window, strides and the explicit ``(low, high)`` pairs Flax pools with (torch's
        ceil_mode as extra high cells), and the window counts to keep (None: all)."""
        _dtype(x)
        shape = np.shape(x)
        kernel, strides, lax_padding, _, _, outs = _pool_geometry(
            shape, kernel_size, stride, padding, (1, 1), ceil_mode
        )
        if isinstance(lax_padding, str):  # "SAME" / "VALID": Flax's own strings too
            return kernel, strides, lax_padding, outs
        return kernel, strides, tuple(lax_padding[2:]), outs

    def _check_dropout(self, drop, p: float, dtype: str) -> float:
        """Fail loudly unless ``nn.Dropout(p)`` keeps about ``1 - p`` of the units and
        gives kept units ``1 / (1 - p)`` (the formula ``dropout`` applies); returns
        ``keep_prob``.  Once per rate and dtype."""
        keep_prob = 1.0 - p
        if (p, dtype) in self._dropout_checked:
            return keep_prob
        jax = self._jax._lib()
        with jax.default_device(self._jax._cpu):
            ones = jax.numpy.ones(_DROPOUT_PROBE_SIZE, dtype)
            key = jax.random.PRNGKey(_DROPOUT_PROBE_SEED)
            probe = np.asarray(drop.apply({}, ones, deterministic=False, rngs={"dropout": key}))
            expected = np.asarray(ones[:1] / keep_prob)[0]
        kept = probe[probe != 0]
        fraction = kept.size / probe.size
        if not (np.all(kept == expected) and abs(fraction - keep_prob) < 0.05):
            raise RuntimeError(
                f"flax.linen.Dropout({p}) on ones kept {fraction:.3f} of the units with values "
                f"{np.unique(kept)[:5]}, not 1 - p = {keep_prob} with 1/(1 - p) = {expected}"
            )
        self._dropout_checked.add((p, dtype))
        return keep_prob


class _Channels:
    """A compiled call whose output and gradients Flax gives channels-last."""

    def __init__(self, call, *, nhwc: bool, grads) -> None:
        self._call, self._nhwc, self._grads = call, nhwc, grads

    def forward(self) -> Run:
        run = self._call.forward()
        out = _nchw if self._nhwc else np.asarray
        return Run(run.call, lambda y: out(run.to_reference(y)), run.execution)

    def backward(self, grad_out) -> Run:
        seed = _nhwc(np.asarray(grad_out)) if self._nhwc else grad_out
        run = self._call.backward(seed)
        grads = self._grads

        def to_reference(result):
            return {k: grads.get(k, np.asarray)(g) for k, g in run.to_reference(result).items()}

        return Run(run.call, to_reference, run.execution)


def _dtype(*arrays) -> str:
    dtype = float_dtype(dict(enumerate(a for a in arrays if a is not None)))
    if dtype not in (np.float32, np.float64):
        raise Unsupported(f"flax adapter: runs float32 and float64 only, not {dtype}")
    return dtype.name


def _padding(x, window, strides, padding):
    """The reference's padding as Flax's argument without ceil_mode."""
    if isinstance(padding, str):
        return padding.upper()
    return padding_pairs(padding, np.shape(x)[2:], window, strides)


def _signature(function) -> str:
    return f"flax.linen.{function.__name__}{inspect.signature(function)}"


def _first_windows_nhwc(y, outs):
    """torch's window count where ceil_mode keeps fewer windows than the padding gives
    (``adapters.jax._first_windows``, on NHWC)."""
    return y if outs is None else y[:, : outs[0], : outs[1], :]


def _nhwc(a):
    return np.ascontiguousarray(np.transpose(a, NCHW_TO_NHWC))


def _nchw(a):
    return np.ascontiguousarray(np.transpose(np.asarray(a), NHWC_TO_NCHW))
