"""Binary cross-entropy, elementwise, on logits or on probabilities, in torch's or Keras'
convention.

Per element, with target ``t`` in [0, 1] (the probability of the positive class):

- ``from_logits=True`` (any convention): ``softplus(z) - t z``, computed as
  ``max(z, 0) - t z + log1p(exp(-|z|))`` (torch.nn.BCEWithLogitsLoss; Keras
  BinaryCrossentropy(from_logits=True), which on TensorFlow is
  tf.nn.sigmoid_cross_entropy_with_logits with this formula).  Nothing is clamped.
- ``from_logits=False``, ``convention="torch"`` (torch.nn.BCELoss):
  ``-(t max(log p, -100) + (1 - t) max(log1p(-p), -100))``.  torch.nn.BCELoss docs: "our
  solution is that BCELoss clamps its log function outputs to be greater than or equal
  to -100", so p = 0 with t = 1 costs exactly 100.
- ``from_logits=False``, ``convention="keras"`` (keras.losses.BinaryCrossentropy): ``p``
  clipped to [1e-7, 1 - 1e-7] (``keras.config.epsilon()``, in p's dtype), then
  ``-(t log p + (1 - t) log(1 - p))`` (keras/src/backend/tensorflow/nn.py,
  binary_crossentropy: clip_by_value(output, epsilon(), 1 - epsilon())), so a confident
  wrong answer costs at most -log(1e-7) = 16.118.

``reduction``: "mean" (over every element), "sum", or "none" (input's shape).  Keras'
loss first averages over the last axis; with "sum_over_batch_size" that equals "mean"
here (adapters refuse the other reductions for Keras).

Gradients (``backward`` returns ``{"input"}``): on logits ``sigmoid(z) - t``; Keras on
probabilities the derivative through the clip (zero where it is active, as
tf.clip_by_value's gradient); torch on probabilities torch's own formula
``(p - t) / max(p (1 - p), 1e-12)`` (aten/src/ATen/native/Loss.cpp,
binary_cross_entropy_backward, ``EPSILON = 1e-12`` as a float32).  That equals the derivative of the
forward wherever ``p (1 - p) >= 1e-12``; below that torch caps the denominator (and
ignores its own -100 clamp), and the reference follows torch.

Bad input (ValueError naming the parameter and the value): ``from_logits`` not a bool;
``convention`` or ``reduction`` unknown; shapes that differ; ``target`` outside [0, 1]
(torch and Keras compute the formula anyway, which is no longer a cross-entropy, so the
reference refuses); probabilities outside [0, 1] (torch refuses them too).  NaN
propagates.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array, one_of, same_shape
from reference._checks import reduction as check_reduction

CONVENTIONS = ("torch", "keras")
#: torch.nn.BCELoss clamps each log at this value.
LOG_CLAMP = -100.0
#: Keras' fuzz factor, keras.config.epsilon(): probabilities are clipped to [e, 1 - e].
KERAS_EPSILON = 1e-7
#: torch's BCELoss backward divides by max(p (1 - p), this): ``constexpr float EPSILON =
#: 1e-12`` in its source, a float32 constant, so float64 gets 9.99999996e-13 too.
TORCH_GRAD_EPSILON = float(np.float32(1e-12))


def _outside_unit(name: str, a: np.ndarray, what: str) -> None:
    bad = (a < 0) | (a > 1)
    if np.any(bad):
        raise ValueError(f"{name} {what} must lie in [0, 1], got {a[bad].flat[0].item()!r}")


def _prepare(input, target, from_logits, reduction, convention):
    if not isinstance(from_logits, (bool, np.bool_)):
        raise ValueError(f"from_logits must be a bool, got {from_logits!r}")
    one_of("convention", convention, CONVENTIONS)
    check_reduction(reduction)
    input = float_array("input", input)
    target = float_array("target", target)
    same_shape("target", target, "input", input)
    _outside_unit("target", target, "values (probabilities of the positive class)")
    if not from_logits:
        _outside_unit("input", input, "probabilities (from_logits=False)")
    dtype = np.result_type(input, target)
    return input.astype(dtype, copy=False), target.astype(dtype, copy=False)


def _keras_clip(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(clipped p, where the clip is inactive)``; bounds in p's dtype, as Keras casts
    epsilon() (float32's 1 - 1e-7 is 1 - 2**-23)."""
    one, e = p.dtype.type(1), p.dtype.type(KERAS_EPSILON)
    low, high = e, one - e
    return np.clip(p, low, high), (p >= low) & (p <= high)


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    total = np.sum(loss)
    return np.asarray(total / loss.size if reduction == "mean" else total, dtype=loss.dtype)


def forward(input, target, *, from_logits, reduction="mean", convention="torch") -> np.ndarray:
    """A 0-d array for "mean" / "sum"; the input's shape for "none"."""
    x, t = _prepare(input, target, from_logits, reduction, convention)
    one = x.dtype.type(1)
    if from_logits:
        loss = np.maximum(x, 0) - t * x + np.log1p(np.exp(-np.abs(x)))
    elif convention == "torch":
        clamp = x.dtype.type(LOG_CLAMP)
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_p, log_q = np.log(x), np.log1p(-x)
        loss = -(t * np.maximum(log_p, clamp) + (one - t) * np.maximum(log_q, clamp))
    else:
        p, _ = _keras_clip(x)
        loss = -(t * np.log(p) + (one - t) * np.log(one - p))
    return _reduce(loss, reduction)


def backward(
    grad_out, input, target, *, from_logits, reduction="mean", convention="torch"
) -> dict[str, np.ndarray]:
    """``{"input": dL/dinput}`` (see the module docstring for each convention)."""
    x, t = _prepare(input, target, from_logits, reduction, convention)
    dtype = x.dtype
    one = dtype.type(1)
    g = grad_out_array(grad_out, x.shape if reduction == "none" else (), dtype)
    if reduction == "mean":
        g = g / dtype.type(x.size)
    if from_logits:
        e = np.exp(-np.abs(x))  # sigmoid without overflow: e / (1 + e) for negative x
        d = np.where(x >= 0, one / (one + e), e / (one + e)) - t
    elif convention == "torch":
        d = (x - t) / np.maximum((one - x) * x, dtype.type(TORCH_GRAD_EPSILON))
    else:
        p, inside = _keras_clip(x)
        d = np.where(inside, -t / p + (one - t) / (one - p), dtype.type(0))
    return {"input": (d * g).astype(dtype, copy=False)}
