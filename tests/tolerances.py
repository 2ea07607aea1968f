"""The one tolerance policy: keyed by dtype and by kind of op.  Every number lives here.

Kinds:
- ``exact``: the framework must reproduce the reference bit for bit (relu, max-pool
  values, flatten, shapes; max-pool gradients where no cell wins two windows).
- ``elementwise``: a few ops per element (sigmoid, tanh, dropout, mse's gradient):
  ``|error| <= ULPS * eps(dtype) * magnitude + tiny(dtype)``, the magnitude being the size
  of the intermediates (not of the result where the formula cancels, e.g. ``1 - s``).
- ``reduction``: sums of many terms (conv, linear, avg pool, batch norm, softmax,
  losses, scipy.signal): ``|error| <= SAFETY * eps(dtype) * n * magnitude``, where n is the
  reduction length and magnitude the size of the summed terms (the classic bound for
  recursive summation, Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.,
  eq. 4.4).  For conv/linear/avg pool/signal the magnitude is per output element: the
  reference applied to absolute values (``conv2d.forward(|x|, |w|, |b|)``, and
  ``conv2d.backward(|g|, |x|, |w|, |b|)`` for gradients), i.e. exactly ``sum |terms|``.
  Batch norm, softmax and the losses use the documented scalar (or per-channel)
  magnitudes in ``_batchnorm`` / ``_softmax`` / ``_cross_entropy`` / ``_mse``.

No bound is pointwise relative to the result: near zero that explodes.  The comparison
is always framework (dtype under test) against the reference in float64 on the same,
already cast, inputs, so only the framework's own arithmetic is being bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Multiplier on the summation bound; framework kernels reorder sums (blocked GEMM,
#: Winograd, pairwise) and fuse ops, so allow a constant factor over the textbook bound.
SAFETY: dict[str, float] = {"float32": 4.0, "float64": 4.0}

#: Relative ulps allowed for elementwise transcendental ops.
ELEMENTWISE_ULPS: dict[str, float] = {"float32": 8.0, "float64": 8.0}

#: Finite-difference gradient check of the reference (always float64).
GRADCHECK = {"step": 1e-6, "rtol": 1e-5}

#: ``max_rel_err`` (a statistic only, never a criterion) skips elements whose reference
#: value is below this many eps(dtype) times the largest |reference|.
REL_ERR_FLOOR_EPS = 64.0

#: Extra rounding steps on top of a reduction's length: the bias add, the division of a
#: mean, the final cast to the dtype under test.
_EXTRA_OPS = 2

KINDS = ("exact", "elementwise", "reduction")

_EXACT = frozenset({"relu", "flatten"})
_ELEMENTWISE = frozenset({"sigmoid", "tanh", "dropout"})


def eps(dtype: np.dtype | str | type) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


@dataclass(frozen=True)
class Tolerance:
    """``bounds`` maps an output key ("y" forward, input names backward) to a bound that
    broadcasts against that output; ``rule`` says in words how it was computed."""

    kind: str
    bounds: dict[str, np.ndarray | float]
    rule: str
    n: dict[str, int] = field(default_factory=dict)


Fn = Callable[..., Any]


def tolerance(
    layer: str,
    direction: str,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any],
    dtype,
    *,
    forward: Fn,
    backward: Fn | None = None,
    grad_out: np.ndarray | None = None,
) -> Tolerance:
    """The policy for one comparison.

    ``forward`` / ``backward`` are the reference's functions for ``layer`` (used on
    absolute values to size the summed terms); ``inputs`` are the float64 casts of the
    inputs under test; ``grad_out`` the cotangent (backward only).
    """
    name = np.dtype(dtype).name
    e = eps(dtype)
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    keys = ["y"] if direction == "forward" else None
    if layer in _EXACT:
        return _exact(keys or _grad_keys(backward, grad_out, inputs, attrs))
    if layer == "maxpool2d":
        if direction == "forward":
            return _exact(["y"])
        wins = backward(np.ones_like(grad_out), **inputs, **attrs)["x"]
        if wins.max() <= 1:
            return _exact(["x"], "every cell wins at most one window: a copy of grad_out")
        mags = backward(np.abs(grad_out), **inputs, **attrs)
        n = int(wins.max())
        return _reduction(name, e, {"x": (n, mags["x"])}, "maxpool2d.backward(|g|, x)")
    if layer in _ELEMENTWISE:
        return _elementwise(layer, direction, name, e, inputs, attrs, forward, grad_out)
    if layer == "batchnorm2d":
        return _batchnorm(direction, name, e, inputs, attrs, grad_out)
    if layer == "softmax":
        return _softmax(direction, name, e, inputs, attrs, grad_out)
    if layer == "cross_entropy.categorical_crossentropy":
        return _keras_crossentropy(direction, name, e, inputs, attrs, grad_out)
    if layer == "cross_entropy":
        return _cross_entropy(direction, name, e, inputs, attrs, grad_out)
    if layer == "mse":
        return _mse(direction, name, e, inputs, attrs, forward, backward, grad_out)
    return _sum_of_terms(layer, direction, name, e, inputs, attrs, forward, backward, grad_out)


def _grad_keys(backward, grad_out, inputs, attrs) -> list[str]:
    return list(backward(grad_out, **inputs, **attrs))


def _abs(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Absolute values of the floating inputs (indices and masks untouched)."""
    return {k: np.abs(v) if np.issubdtype(v.dtype, np.floating) else v for k, v in inputs.items()}


def _exact(keys, why: str = "exact op") -> Tolerance:
    return Tolerance("exact", {k: 0.0 for k in keys}, f"exact: bit for bit ({why})")


def _reduction(name, e, sized: Mapping[str, tuple[int, Any]], magnitude: str) -> Tolerance:
    """``sized`` maps output key -> (reduction length n, magnitude array or scalar)."""
    bounds, ns = {}, {}
    for key, (n, mag) in sized.items():
        ns[key] = int(n)
        bounds[key] = SAFETY[name] * e * (n + _EXTRA_OPS) * np.asarray(mag, dtype=np.float64)
    lengths = ", ".join(f"n[{k}]={v}" for k, v in ns.items())
    rule = (
        f"reduction: {SAFETY[name]:g} * eps({name}) * (n + {_EXTRA_OPS}) * magnitude; "
        f"{lengths}; magnitude = {magnitude}"
    )
    return Tolerance("reduction", bounds, rule, ns)


def _elementwise(layer, direction, name, e, inputs, attrs, forward, grad_out) -> Tolerance:
    x = inputs["x"]
    if layer == "dropout":
        p = float(attrs.get("p", 0.5))
        training = attrs.get("training", True)
        scale = (0.0 if p >= 1 else 1.0 / (1.0 - p)) if training else 1.0
        mag = np.abs(x if direction == "forward" else grad_out) * scale
        what = "|x| / (1 - p)" if direction == "forward" else "|g| / (1 - p)"
    elif direction == "forward":
        mag = np.abs(forward(**inputs, **attrs))
        what = f"|{layer}(x)|"
    elif layer == "sigmoid":
        # g * s * (1 - s): 1 - s cancels as s -> 1, so its error is eps * s, not relative.
        mag = np.abs(grad_out) * np.abs(forward(**inputs))
        what = "|g| * sigmoid(x)"
    else:
        # g * (1 - t^2) cancels as |t| -> 1: the terms are of size |g|.
        mag = np.abs(grad_out)
        what = "|g|"
    bound = ELEMENTWISE_ULPS[name] * e * mag + np.finfo(np.dtype(name)).tiny
    rule = (
        f"elementwise: {ELEMENTWISE_ULPS[name]:g} * eps({name}) * magnitude + tiny({name}); "
        f"magnitude = {what}"
    )
    key = "y" if direction == "forward" else "x"
    return Tolerance("elementwise", {key: bound}, rule)


def _sum_of_terms(layer, direction, name, e, inputs, attrs, forward, backward, grad_out):
    """conv2d, linear, avgpool2d and signal.*: magnitude = the reference on |inputs|."""
    absolute = _abs(inputs)
    if direction == "forward":
        mag = forward(**absolute, **attrs)
        return _reduction(
            name,
            e,
            {"y": (_forward_length(layer, inputs, attrs), mag)},
            f"{layer} forward on |inputs|",
        )
    if layer == "avgpool2d":
        mags = backward(np.abs(grad_out), **inputs, **attrs)
    else:
        mags = backward(np.abs(grad_out), **absolute, **attrs)
    lengths = _backward_lengths(layer, inputs, attrs, grad_out)
    sized = {key: (lengths[key], mags[key]) for key in mags}
    return _reduction(name, e, sized, f"{layer} backward on |grad_out|, |inputs|")


def _forward_length(layer, inputs, attrs) -> int:
    if layer == "conv2d":
        return int(np.prod(inputs["w"].shape[1:]))
    if layer == "linear":
        return int(inputs["w"].shape[0])
    if layer == "avgpool2d":
        k = attrs["kernel_size"]
        return int(np.prod(k if isinstance(k, (tuple, list)) else (k, k)))
    if layer.startswith("signal."):
        return int(inputs["in2"].size)
    raise KeyError(f"tolerance policy has no rule for layer {layer!r}")


def _backward_lengths(layer, inputs, attrs, grad_out) -> dict[str, int]:
    if layer == "conv2d":
        w = inputs["w"]
        groups = int(attrs.get("groups", 1))
        per_image = int(np.prod(grad_out.shape[2:]))
        return {
            "x": w.shape[0] // groups * w.shape[2] * w.shape[3],
            "w": grad_out.shape[0] * per_image,
            "b": grad_out.shape[0] * per_image,
        }
    if layer == "linear":
        rows = int(np.prod(grad_out.shape[:-1]))
        return {"x": int(inputs["w"].shape[1]), "w": rows, "b": rows}
    if layer == "avgpool2d":
        return {"x": _forward_length(layer, inputs, attrs)}
    if layer.startswith("signal."):
        return {"in1": int(inputs["in2"].size), "in2": int(grad_out.size)}
    raise KeyError(f"tolerance policy has no rule for layer {layer!r}")


def _batchnorm(direction, name, e, inputs, attrs, grad_out) -> Tolerance:
    """Per-channel magnitudes.  With ``cond = max|x_c| / std_c`` and ``h = max|xhat_c|``:
    the batch mean errs by ``eps*n*cond`` in units of std and the variance (often
    ``E[x^2] - mean^2``) by ``eps*n*cond^2`` relative, so xhat errs by
    ``eps * n * cond * (1 + h * cond)``; outputs scale that by |gamma|, gradients by
    ``|gamma| / std * max|g|`` and their own ``(1 + h)^2`` sums.  Eval mode is a few
    elementwise ops on running statistics."""
    x, gamma, beta = inputs["x"], inputs["gamma"], inputs["beta"]
    bn_eps = float(attrs.get("eps", 1e-5))
    c = (1, -1, 1, 1)
    n = x.shape[0] * x.shape[2] * x.shape[3]
    g_abs = None if grad_out is None else np.abs(grad_out)
    if not attrs.get("training", False):
        inv_std = 1.0 / np.sqrt(inputs["running_var"] + bn_eps)
        centred = (np.abs(x) + np.abs(inputs["running_mean"]).reshape(c)) * inv_std.reshape(c)
        if direction == "forward":
            mag = np.abs(gamma).reshape(c) * centred + np.abs(beta).reshape(c)
            return _reduction(name, e, {"y": (3, mag)}, "|gamma| (|x| + |mean|) / std + |beta|")
        sized = {
            "x": (3, g_abs * (np.abs(gamma) * inv_std).reshape(c)),
            "gamma": (n, np.sum(g_abs * centred, axis=(0, 2, 3))),
            "beta": (n, np.sum(g_abs, axis=(0, 2, 3))),
        }
        return _reduction(name, e, sized, "eval: |g| |gamma| / std; sums of |g| |xhat|, |g|")
    mean = x.mean(axis=(0, 2, 3))
    std = np.sqrt(x.var(axis=(0, 2, 3)) + bn_eps)
    cond = np.abs(x).max(axis=(0, 2, 3)) / std
    h = (np.abs(x - mean.reshape(c)) / std.reshape(c)).max(axis=(0, 2, 3))
    xhat_err = cond * (1 + h * cond)
    if direction == "forward":
        mag = np.abs(gamma) * xhat_err + np.abs(beta)
        return _reduction(
            name, e, {"y": (n, mag.reshape(c))}, "per channel |gamma| cond (1 + h cond) + |beta|"
        )
    g_max = g_abs.max(axis=(0, 2, 3))
    g_sum = g_abs.sum(axis=(0, 2, 3))
    sized = {
        "x": (n, (np.abs(gamma) / std * g_max * ((1 + h) ** 2 + 2 * h * xhat_err)).reshape(c)),
        "gamma": (n, g_sum * (h + xhat_err)),
        "beta": (n, g_sum),
    }
    return _reduction(name, e, sized, "per channel, see tests/tolerances.py::_batchnorm")


def _softmax(direction, name, e, inputs, attrs, grad_out) -> Tolerance:
    """exp(x - max) <= 1 and the normaliser >= 1, so the summed terms are of size 1
    (forward) or ``max|g|`` (backward: ``s * (g - sum(g * s))``, both parts <= max|g|)."""
    x = inputs["x"]
    k = x.shape[attrs.get("axis", -1)]
    if direction == "forward":
        return _reduction(name, e, {"y": (k, 1.0)}, "1 (softmax terms exp(x - max) <= 1)")
    return _reduction(name, e, {"x": (k, 2.0 * np.abs(grad_out).max())}, "2 max|g|")


def _cross_entropy(direction, name, e, inputs, attrs, grad_out) -> Tolerance:
    """Per sample ``logsumexp(z) - <t, z>``: K terms of size ``|log_softmax| <= 2 max|z| +
    log K``, times ``max(1, sum|t|)``; a sum over N samples multiplies by N and adds N
    to the length, a mean divides the magnitude back by N.  Gradient ``(softmax * sum t
    - t) * g`` has terms of size ``(1 + sum|t|) * max|g|`` (divided by N for a mean)."""
    logits, target = inputs["logits"], inputs["target"]
    n_samples, k = logits.shape[0], logits.shape[1]
    reduction = attrs.get("reduction", "mean")
    if np.issubdtype(target.dtype, np.integer):
        t_sum = 1.0
    else:
        t_sum = max(1.0, float(np.abs(target).sum(axis=1).max()))
    if direction == "forward":
        per_sample = (2 * float(np.abs(logits).max()) + np.log(k) + 1) * t_sum
        if reduction == "none":
            return _reduction(name, e, {"y": (k, per_sample)}, "(2 max|z| + log K + 1) sum|t|")
        mag = per_sample * (n_samples if reduction == "sum" else 1)
        return _reduction(
            name, e, {"y": (k + n_samples, mag)}, "(2 max|z| + log K + 1) sum|t| (x N for sum)"
        )
    mag = (1 + t_sum) * float(np.abs(grad_out).max())
    if reduction == "mean":
        mag /= n_samples
    return _reduction(name, e, {"logits": (k, mag)}, "(1 + sum|t|) max|g| (/ N for mean)")


def _mse(direction, name, e, inputs, attrs, forward, backward, grad_out) -> Tolerance:
    """Forward: the squared differences are non-negative, so the reference's own result
    is the sum of |terms| (divided by N for a mean).  Backward ``2 (p - t) g / N`` is
    elementwise, each factor rounded once: its own size."""
    reduction = attrs.get("reduction", "mean")
    if direction == "forward":
        n = inputs["pred"].size if reduction != "none" else 1
        mag = np.abs(forward(**inputs, **attrs))
        return _reduction(name, e, {"y": (n, mag)}, "|mse(pred, target)| (non-negative terms)")
    mag = np.abs(backward(grad_out, **inputs, **attrs)["pred"])
    return _reduction(name, e, {"pred": (2, mag)}, "|2 (p - t) g / N|")


def _keras_crossentropy(direction, name, e, inputs, attrs, grad_out) -> Tolerance:
    """Keras ``categorical_crossentropy`` on probabilities (renormalise, clip to
    [1e-7, 1 - 1e-7], ``-sum t log p``).  Forward: K terms of size ``|t| (|log p| + 1)``
    per sample (the +1: a relative error of p is an absolute error of log p), a sum
    over N samples multiplies by N.  Backward ``(dp - sum(dp * p)) / s`` with
    ``dp = -t / clip(p) * g``: per element ``(|dp| + sum |dp| p) / s``.

    The clip bounds are the input dtype's (float32's 1 - 1e-7 is 1 - 2**-23) while the
    reference runs in float64: the loss moves by ~2e-8 * t where a probability sits at
    the upper bound, far inside the float32 bound, and a gradient flips only for a
    probability strictly between the two upper bounds (none in the cases)."""
    probs, target = inputs["probs"], inputs["target"]
    axis = attrs.get("axis", -1)
    reduction = attrs.get("reduction", "mean")
    k = probs.shape[axis]
    s = probs.sum(axis=axis, keepdims=True)
    p = probs / s
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    if direction == "forward":
        per_sample = np.sum(np.abs(target) * (np.abs(np.log(clipped)) + 1), axis=axis)
        if reduction == "none":
            return _reduction(name, e, {"y": (k, per_sample)}, "sum |t| (|log p| + 1)")
        samples = per_sample.size
        mag = float(per_sample.max()) * (samples if reduction == "sum" else 1)
        return _reduction(
            name,
            e,
            {"y": (k + samples, mag)},
            "max over samples of sum |t| (|log p| + 1) (x N for sum)",
        )
    g = np.abs(np.asarray(grad_out, dtype=np.float64))
    if reduction == "none":
        g = np.expand_dims(g, axis)
    elif reduction == "mean":
        g = g / (probs.size // k)
    d_p = np.abs(target) / clipped * g
    mag = (d_p + np.sum(d_p * p, axis=axis, keepdims=True)) / s
    return _reduction(name, e, {"probs": (k, mag)}, "(|dp| + sum |dp| p) / s, dp = t g / p")
