"""SciPy, the way SciPy users build CNN layers by hand: ``scipy.signal`` for windows,
``scipy.special`` for the closed-form nonlinearities, ``scipy.ndimage`` for max filters.

NumPy in, NumPy out: a layer method binds its arguments to the SciPy-built functions
below and returns a ``_ScipyCall``; ``Run.call`` runs them (there is nothing to convert
or compile, so the timed work is the whole computation).  SciPy has no autodiff, so each
backward is written out with SciPy's functions and exists only where they express it.

What each layer is made of (and why it is an independent check of the reference):

- conv2d forward: per image, output channel and group, the sum over the group's input
  channels of ``scipy.signal.correlate2d(x_padded[c], w_dilated[m, c], "valid")``; padding
  (any form, SAME included) is ``np.pad`` with zeros, dilation a kernel with zeros
  inserted between taps, stride a slice ``[::sh, ::sw]`` of the stride-1 result.
- conv2d backward at stride 1 (any padding, dilation, groups): ``dx`` is the full
  convolution ``convolve2d(grad_out, w_dilated, "full")`` summed over the group's output
  channels, cropped by the padding; ``dw`` is the valid correlation
  ``correlate2d(x_padded, grad_out, "valid")`` read at the dilated taps; ``db`` a sum.
- maxpool2d forward: ``scipy.ndimage.maximum_filter`` with a (dilated) footprint on the
  input padded with -inf, read at window starts.  Max is exact, so this compares bit for
  bit.
- avgpool2d: window sums are ``correlate2d`` with a box of ones (not
  ``ndimage.uniform_filter``: its running sum carries rounding along the whole row, so
  its error is not bounded by the window length); divisors are the same correlation of
  a 0/1 mask of the cells that count (torch's rules, see ``reference/avgpool2d.py``).
  Backward at stride 1 is ``convolve2d(grad_out / divisor, box, "full")``, cropped.
- sigmoid, softmax: ``scipy.special.expit`` / ``softmax``; backward is the closed form
  written with the same functions (``s * (1 - s) * g``; ``s * (g - sum(g * s))``).
- cross_entropy (torch semantics): ``-scipy.special.log_softmax`` picked at the target
  index or weighted by target probabilities (smoothed to ``(1 - e) t + e / K`` for
  ``label_smoothing``); backward ``softmax * sum(target) - target``.  layernorm,
  groupnorm and binary_cross_entropy have no method: SciPy has no such functions.
- correlate / convolve / correlate2d / convolve2d (``reference.signal``): called directly
  (the seeds' SciPy example); their backward is expressed with the same functions
  through the "full" output (see ``_signal_grads``).

- resize2d: ``scipy.ndimage.zoom`` (order 0 or 1, mode='nearest') where its own grid
  (grid_mode=True: half-pixel; False: corners) gives the call's coordinates, else
  ``map_coordinates`` at them; cubic (a B-spline in SciPy) and antialiased downsampling
  are refused, and so is the backward (no adjoint in scipy.ndimage).

Unsupported, from ``backward`` (the forward runs): conv2d and avgpool2d with a stride
other than 1 (scipy.signal has no strided correlation; the backward above is written for
stride 1); maxpool2d (the gradient needs each window's argmax, which
``ndimage.maximum_filter`` does not give).

No method, because SciPy has no function for the layer and writing it in NumPy would
test NumPy against NumPy: relu (scipy.special has no ReLU; ``np.maximum`` is NumPy),
tanh (scipy.special has no tanh; ``np.tanh`` is NumPy), linear (a matmul is NumPy),
flatten (a reshape is NumPy), mse (no mean-squared-error loss), batchnorm2d (no
batch-normalisation layer), dropout (no dropout layer), categorical_crossentropy (no
loss on probabilities).

Activations (issue 17): gelu with approximate="none" as ``0.5 x (1 + erf(x / sqrt 2))``
(scipy.special.erf; the tanh form is unsupported: scipy.special has no tanh) and silu as
``x * expit(x)``, backward in closed form.  No method for leaky_relu, relu6,
hardsigmoid, hardswish (scipy.special has none of them; a NumPy ``where`` / ``clip`` would
test NumPy against NumPy) or elu (scipy.special.expm1 exists, but ELU is the reference's
own ``where(x > 0, x, alpha * expm1(x))``: the same NumPy-shaped code again).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from adapters import _resize_rules as resize_rules
from adapters import _scipy_decoder as decoder
from adapters._geometry import padding_pairs, pair, window_count
from adapters.base import FrameworkMissing, Run, Unsupported

_EXECUTION = "NumPy in, NumPy out"


class _ScipyCall:
    """A layer's SciPy functions with their arguments bound.  ``backward_refusal`` is
    why SciPy cannot express this configuration's gradient."""

    def __init__(
        self,
        forward_fn: Callable[[], np.ndarray],
        backward_fn: Callable[[np.ndarray], dict[str, np.ndarray]] | None,
        backward_refusal: str | None = None,
    ):
        self._forward_fn = forward_fn
        self._backward_fn = backward_fn
        self._backward_refusal = backward_refusal

    def forward(self) -> Run:
        return Run(self._forward_fn, _same, _EXECUTION)

    def backward(self, grad_out) -> Run:
        if self._backward_refusal is not None:
            raise Unsupported(self._backward_refusal)
        backward_fn, grad_out = self._backward_fn, np.asarray(grad_out)
        return Run(lambda: backward_fn(grad_out), _same, _EXECUTION)


class ScipyAdapter:
    name = "scipy"
    #: Top-level modules whose absence means the framework is not installed.
    requires = ("scipy",)

    def __init__(self) -> None:
        self._scipy = None

    # -- Protocol -------------------------------------------------------------------------

    def load(self) -> None:
        if self._scipy is not None:
            return
        try:
            import scipy
            import scipy.ndimage
            import scipy.signal
            import scipy.special
        except ImportError as exc:
            raise FrameworkMissing(f"scipy is not installed ({exc})") from exc
        self._scipy = scipy

    def version(self) -> str:
        return self._lib().__version__

    def determinism_flags(self) -> dict[str, str]:
        # scipy.signal's direct correlation is single-threaded C; nothing to pin.
        return {}

    # -- layers ---------------------------------------------------------------------------

    def conv2d(self, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        signal = self._lib().signal
        geometry = (stride, padding, dilation, groups)
        return _ScipyCall(
            lambda: _conv2d(signal, x, w, b, *geometry),
            lambda g: _conv2d_grads(signal, g, x, w, b, *geometry),
            _strided_backward(stride),
        )

    def maxpool2d(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        ndimage = self._lib().ndimage
        return _ScipyCall(
            lambda: _maxpool2d(ndimage, x, kernel_size, stride, padding, dilation, ceil_mode),
            None,
            "scipy.ndimage.maximum_filter gives window maxima but no argmax, so "
            "max-pool gradients cannot be expressed with SciPy",
        )

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
        signal = self._lib().signal
        pool = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return _ScipyCall(
            lambda: _avgpool2d(signal, x, *pool),
            lambda g: _avgpool2d_grads(signal, g, x, *pool),
            _strided_backward(kernel_size if stride is None else stride),
        )

    def sigmoid(self, x):
        expit = self._lib().special.expit

        def grads(grad_out):
            s = expit(x)
            return {"x": grad_out * s * (1 - s)}

        return _ScipyCall(lambda: expit(x), grads)

    def softmax(self, x, *, axis=-1):
        softmax = self._lib().special.softmax

        def grads(grad_out):
            s = softmax(x, axis=axis)
            return {"x": s * (grad_out - np.sum(grad_out * s, axis=axis, keepdims=True))}

        return _ScipyCall(lambda: softmax(x, axis=axis), grads)

    def cross_entropy(self, logits, target, *, reduction="mean", label_smoothing=0.0):
        special = self._lib().special
        e = float(label_smoothing)
        return _ScipyCall(
            lambda: _cross_entropy(special, logits, target, reduction, e),
            lambda g: _cross_entropy_grads(special, g, logits, target, reduction, e),
        )

    def correlate(self, in1, in2, mode="full"):
        return self._signal("correlate", in1, in2, mode)

    def convolve(self, in1, in2, mode="full"):
        return self._signal("convolve", in1, in2, mode)

    def correlate2d(self, in1, in2, mode="full"):
        return self._signal("correlate2d", in1, in2, mode)

    def convolve2d(self, in1, in2, mode="full"):
        return self._signal("convolve2d", in1, in2, mode)

    # -- activations (issue 17) ---------------------------------------------------------

    def gelu(self, x, *, approximate="none"):
        if approximate != "none":
            raise Unsupported(
                "scipy.special has erf but no tanh-approximate GELU (its tanh would be "
                "NumPy's np.tanh, not SciPy)"
            )
        erf = self._lib().special.erf
        # Python floats: NumPy scalars would promote float32 arrays to float64 (NEP 50).
        root_half, inv_root_2pi = float(np.sqrt(0.5)), float(1.0 / np.sqrt(2.0 * np.pi))

        def cdf():
            return 0.5 * (1.0 + erf(x * root_half))

        def grads(grad_out):
            return {"x": grad_out * (cdf() + x * np.exp(-0.5 * x * x) * inv_root_2pi)}

        return _ScipyCall(lambda: x * cdf(), grads)

    def silu(self, x):
        expit = self._lib().special.expit

        def grads(grad_out):
            s = expit(x)
            return {"x": grad_out * s * (1 + x * (1 - s))}

        return _ScipyCall(lambda: x * expit(x), grads)

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
        """scipy.ndimage.zoom where its own grid gives the call's coordinates, else
        map_coordinates at them; order 0 or 1, mode='nearest' (the edge repeats)."""
        ndimage = self._lib().ndimage
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
        plan = resize_rules.scipy_plan(request)
        order = 0 if mode == "nearest" else 1
        return _ScipyCall(
            lambda: _resize2d(ndimage, x, request.sizes, plan, order),
            None,
            backward_refusal=resize_rules.SCIPY_BACKWARD,
        )

    # -- helpers --------------------------------------------------------------------------

    def _lib(self):
        if self._scipy is None:
            self.load()
        return self._scipy

    def _signal(self, name, in1, in2, mode):
        signal = self._lib().signal
        function = getattr(signal, name)
        return _ScipyCall(
            lambda: function(in1, in2, mode=mode),
            lambda g: _signal_grads(signal, name, g, in1, in2, mode),
        )

    def conv_transpose2d(
        self, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
    ):
        """At stride 1 only: a full ``scipy.signal.convolve2d`` per channel pair
        (adapters/_scipy_decoder.py)."""
        signal = self._lib().signal
        if pair(stride) != (1, 1):
            raise Unsupported(
                f"stride {stride!r}: scipy.signal has no fractionally strided (transposed) "
                "convolution; at stride 1 a transposed convolution is convolve2d(x, w, "
                "'full'), which is what this adapter runs"
            )
        geometry = (padding, output_padding, dilation, int(groups))
        return _ScipyCall(
            lambda: decoder.conv_transpose2d(signal, x, w, b, *geometry),
            lambda g: decoder.conv_transpose2d_grads(signal, g, x, w, b, *geometry),
        )

    def pad2d(self, x, *, padding, mode="constant", value=0.0):
        raise Unsupported(decoder.NO_PAD)

    def adaptive_avgpool2d(self, x, *, output_size):
        raise Unsupported(decoder.NO_ADAPTIVE_POOLING)

    def adaptive_maxpool2d(self, x, *, output_size):
        raise Unsupported(decoder.NO_ADAPTIVE_POOLING)


def _same(value):
    return value


def _strided_backward(stride) -> str | None:
    if pair(stride) == (1, 1):
        return None
    return (
        f"stride {stride!r}: scipy.signal has no strided correlation; the "
        "SciPy backward (full convolution of grad_out) is written for stride 1"
    )


# -- conv2d -------------------------------------------------------------------------------


def _dilate(kernel: np.ndarray, dilation) -> np.ndarray:
    """A 2-D kernel with ``d - 1`` zeros between taps along each axis."""
    dh, dw = pair(dilation)
    kh, kw = kernel.shape
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


def _conv_pads(x, w, stride, padding, dilation):
    return padding_pairs(padding, x.shape[2:], w.shape[2:], pair(stride), pair(dilation))


def _conv2d(signal, x, w, b, stride, padding, dilation, groups):
    sh, sw = pair(stride)
    x_pad = np.pad(x, ((0, 0), (0, 0), *_conv_pads(x, w, stride, padding, dilation)))
    n, c = x.shape[:2]
    m = w.shape[0]
    c_g, m_g = c // groups, m // groups
    rows = []
    for i in range(n):
        channels = []
        for o in range(m):
            g = o // m_g
            acc = None
            for k in range(c_g):
                kernel = _dilate(w[o, k], dilation)
                term = signal.correlate2d(x_pad[i, g * c_g + k], kernel, mode="valid")
                acc = term if acc is None else acc + term
            acc = acc[::sh, ::sw]
            if b is not None:
                acc = acc + b[o]
            channels.append(acc)
        rows.append(channels)
    return np.asarray(rows, dtype=x.dtype)


def _conv2d_grads(signal, grad_out, x, w, b, stride, padding, dilation, groups):
    """Stride 1 only (``_strided_backward`` refuses the rest)."""
    pads = _conv_pads(x, w, stride, padding, dilation)
    (top, _), (left, _) = pads
    x_pad = np.pad(x, ((0, 0), (0, 0), *pads))
    n, c, h, wd = x.shape
    m = w.shape[0]
    c_g, m_g = c // groups, m // groups
    dh, dw = pair(dilation)
    grad_x_pad = np.zeros_like(x_pad)
    grad_w = np.zeros_like(w)
    for i in range(n):
        for o in range(m):
            g = o // m_g
            for k in range(c_g):
                ch = g * c_g + k
                kernel = _dilate(w[o, k], dilation)
                grad_x_pad[i, ch] += signal.convolve2d(grad_out[i, o], kernel, mode="full")
                # The dilated kernel's gradient, read back at its real taps.
                dense = signal.correlate2d(x_pad[i, ch], grad_out[i, o], mode="valid")
                grad_w[o, k] += dense[::dh, ::dw]
    grads = {"x": grad_x_pad[:, :, top : top + h, left : left + wd], "w": grad_w}
    if b is not None:
        grads["b"] = grad_out.sum(axis=(0, 2, 3)).astype(b.dtype)
    return grads


# -- pooling ------------------------------------------------------------------------------


def _pool_layout(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Pads ((top, bottom+overhang), (left, right+overhang)), the padding proper, out
    shape and spans, so that every window lies inside the padded array."""
    k = pair(kernel_size)
    s = pair(kernel_size if stride is None else stride)
    d = pair(dilation)
    pads = padding_pairs(padding, x.shape[2:], k, s, d)
    outs, spans, full = [], [], []
    for a in (0, 1):
        lo, hi = pads[a]
        out = window_count(x.shape[2 + a], k[a], s[a], d[a], lo, hi, ceil_mode)
        span = (k[a] - 1) * d[a] + 1
        need = (out - 1) * s[a] + span - (x.shape[2 + a] + lo)
        outs.append(out)
        spans.append(span)
        full.append((lo, max(need, hi)))
    return k, s, d, pads, tuple(full), tuple(outs), tuple(spans)


def _maxpool2d(ndimage, x, kernel_size, stride, padding, dilation, ceil_mode):
    _, s, d, _, full, (oh, ow), (span_h, span_w) = _pool_layout(
        x, kernel_size, stride, padding, dilation, ceil_mode
    )
    x_pad = np.pad(x, ((0, 0), (0, 0), *full), constant_values=-np.inf)
    footprint = np.zeros((span_h, span_w), dtype=bool)
    footprint[:: d[0], :: d[1]] = True
    # A centred filter: output p covers rows p - span//2 ... ; windows start at o*s.
    filtered = ndimage.maximum_filter(
        x_pad, footprint=footprint[None, None], mode="constant", cval=-np.inf
    )
    ch, cw = span_h // 2, span_w // 2
    out = filtered[:, :, ch :: s[0], cw :: s[1]][:, :, :oh, :ow]
    return np.ascontiguousarray(out, dtype=x.dtype)


def _avg_divisor(signal, x, full, pads, k, s, outs, count_include_pad, divisor_override):
    if divisor_override is not None:
        return np.full(outs, float(divisor_override))
    h, w = x.shape[2:]
    (top, bottom), (left, right) = pads
    mask = np.zeros((h + sum(full[0]), w + sum(full[1])))
    if count_include_pad:
        # torch counts padding but not the ceil_mode overhang beyond it.
        mask[: top + h + bottom, : left + w + right] = 1.0
    else:
        mask[top : top + h, left : left + w] = 1.0
    counts = signal.correlate2d(mask, np.ones(k), mode="valid")
    return counts[:: s[0], :: s[1]][: outs[0], : outs[1]]


def _avgpool2d(
    signal, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    k, s, _, pads, full, outs, _ = _pool_layout(x, kernel_size, stride, padding, 1, ceil_mode)
    x_pad = np.pad(x, ((0, 0), (0, 0), *full))
    box = np.ones(k, dtype=x.dtype)
    divisor = _avg_divisor(signal, x, full, pads, k, s, outs, count_include_pad, divisor_override)
    out = np.empty((*x.shape[:2], *outs), dtype=x.dtype)
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            sums = signal.correlate2d(x_pad[i, c], box, mode="valid")
            out[i, c] = sums[:: s[0], :: s[1]][: outs[0], : outs[1]] / divisor
    return out


def _avgpool2d_grads(
    signal,
    grad_out,
    x,
    kernel_size,
    stride,
    padding,
    ceil_mode,
    count_include_pad,
    divisor_override,
):
    """Stride 1 only (``_strided_backward`` refuses the rest)."""
    k, s, _, pads, full, outs, _ = _pool_layout(x, kernel_size, stride, padding, 1, ceil_mode)
    divisor = _avg_divisor(signal, x, full, pads, k, s, outs, count_include_pad, divisor_override)
    box = np.ones(k, dtype=x.dtype)
    h, w = x.shape[2:]
    top, left = full[0][0], full[1][0]
    grad_x = np.empty_like(x)
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            spread = signal.convolve2d(grad_out[i, c] / divisor, box, mode="full")
            grad_x[i, c] = spread[top : top + h, left : left + w]
    return {"x": grad_x}


# -- cross_entropy ------------------------------------------------------------------------


def _target_weights(logits, target, smoothing=0.0):
    """Per-class target weights (N, K): one-hot for class indices, else the
    probabilities themselves; with label smoothing e, ``(1 - e) t + e / K`` (torch's)."""
    if np.issubdtype(np.asarray(target).dtype, np.integer):
        # (N, d1, ...) indices -> (N, d1, ..., K) one-hot -> classes on axis 1 like logits.
        weights = np.moveaxis(np.eye(logits.shape[1], dtype=logits.dtype)[target], -1, 1)
    else:
        weights = np.asarray(target, dtype=logits.dtype)
    if not smoothing:
        return weights
    e = logits.dtype.type(smoothing)
    return (logits.dtype.type(1) - e) * weights + e / logits.dtype.type(logits.shape[1])


def _cross_entropy(special, logits, target, reduction, smoothing=0.0):
    weights = _target_weights(logits, target, smoothing)
    per_sample = -np.sum(weights * special.log_softmax(logits, axis=1), axis=1)
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    # The count in the logits' dtype: NumPy 1.x turns a float32 scalar divided by a
    # Python int into float64 (value-based casting); NumPy 2 (NEP 50) keeps float32.
    count = logits.dtype.type(per_sample.size)  # N * d1 * ... losses
    return total / count if reduction == "mean" else total


def _cross_entropy_grads(special, grad_out, logits, target, reduction, smoothing=0.0):
    weights = _target_weights(logits, target, smoothing)
    s = special.softmax(logits, axis=1)
    per_sample = s * weights.sum(axis=1, keepdims=True) - weights
    g = np.asarray(grad_out, dtype=logits.dtype)
    if reduction == "none":
        return {"logits": per_sample * np.expand_dims(g, 1)}
    count = logits.dtype.type(per_sample.size // logits.shape[1])
    scale = g / count if reduction == "mean" else g
    return {"logits": per_sample * scale}


# -- the seeds' scipy.signal functions ----------------------------------------------------


def _signal_grads(signal, fn, grad_out, in1, in2, mode):
    """Gradients of ``scipy.signal.<fn>(in1, in2, mode)`` written with SciPy.

    Every mode is a slice of the "full" output, so ``grad_out`` is first placed in a
    zero "full"-sized array at the slice's offset.  For correlation ``y = corr(x, w,
    "full")``: ``dx = convolve(g, w, "valid")`` and ``dw = corr(g, x, "valid")``
    reversed; convolution is correlation with ``w`` reversed.  Offsets of "same"
    (measured on scipy 1.17, the slice that equals the "same" output):
    n-D correlate/convolve and convolve2d start at ``(k - 1) // 2``; correlate2d's C
    kernel starts at ``k // 2`` (one more for even k; seed 004's s004_correlate2d_same
    is that case).
    """
    two_d = fn.endswith("2d")
    correlate = signal.correlate2d if two_d else signal.correlate
    convolve = signal.convolve2d if two_d else signal.convolve
    x, w = np.asarray(in1), np.asarray(in2)
    full_shape = tuple(a + b - 1 for a, b in zip(x.shape, w.shape, strict=True))
    if mode == "full":
        offsets = (0,) * x.ndim
    elif mode == "valid":
        offsets = tuple(k - 1 for k in w.shape)
    elif fn == "correlate2d":
        offsets = tuple(k // 2 for k in w.shape)
    else:
        offsets = tuple((k - 1) // 2 for k in w.shape)
    g_full = np.zeros(full_shape, dtype=np.result_type(grad_out, x, w))
    window = tuple(slice(o, o + n) for o, n in zip(offsets, grad_out.shape, strict=True))
    g_full[window] = grad_out
    flip = (slice(None, None, -1),) * x.ndim
    if fn.startswith("correlate"):
        grad_x = convolve(g_full, w, mode="valid")
        grad_w = correlate(g_full, x, mode="valid")[flip]
    else:
        grad_x = correlate(g_full, w, mode="valid")
        grad_w = correlate(g_full, x, mode="valid")
    return {"in1": grad_x, "in2": np.ascontiguousarray(grad_w)}


def _resize2d(ndimage, x, sizes, plan, order):
    """x (N, C, H, W) resized on H and W by zoom (grid_mode as planned) or map_coordinates."""
    if "zoom" in plan:
        factors = (1, 1, sizes[0] / x.shape[2], sizes[1] / x.shape[3])
        y = ndimage.zoom(x, factors, order=order, mode="nearest", grid_mode=plan["zoom"])
        if y.shape[2:] != tuple(sizes):
            raise Unsupported(
                f"scipy.ndimage.zoom gave shape {y.shape[2:]}, not {tuple(sizes)}: its output "
                "shape is round(in * zoom)"
            )
        return y
    rows, cols = (np.asarray(c) for c in plan["map_coordinates"])
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"))
    return np.stack(
        [
            np.stack(
                [
                    ndimage.map_coordinates(image, grid, order=order, mode="nearest")
                    for image in x[n]
                ]
            )
            for n in range(x.shape[0])
        ]
    )
