"""Cross-entropy losses: torch's on logits (``forward``/``backward``) and Keras's on
probabilities (``categorical_crossentropy`` / ``categorical_crossentropy_backward``).

torch.nn.CrossEntropyLoss semantics (no class weights):
``logits`` (N, C) or (N, C, d1, ..., dk), classes on axis 1.  ``target`` is either
- integer class indices, shape (N, d1, ..., dk), values in [0, C): per-element loss
  ``-log_softmax(logits)[n, target[n], ...]``; torch's ignore_index (-100) is not
  supported, so every index must be a real class; or
- class probabilities, a float array with the shape of ``logits``: per-element loss
  ``-sum_c target_c * log_softmax(logits)_c`` (targets need not sum to 1).
The target's dtype decides which (integer -> indices, float -> probabilities), as in
torch.  ``reduction``: "mean" divides the summed loss by N*d1*...*dk for both target
kinds (torch with no weights), "sum", or "none" (shape (N, d1, ..., dk)).
log_softmax is ``x - max - log(sum(exp(x - max)))``, so logits of 1e4 stay finite.

``label_smoothing`` (torch's, default 0): the target becomes ``(1 - e) t + e / C`` with
``t`` the one-hot of the indices or the given probabilities (torch.nn.CrossEntropyLoss
docs: "The targets become a mixture of the original ground truth and a uniform
distribution as described in Rethinking the Inception Architecture for Computer
Vision"; for probabilities, ``target * (1 - label_smoothing) + label_smoothing /
n_classes`` in torch's cross_entropy).  Keras' CategoricalCrossentropy(label_smoothing)
applies the same formula with C the size of the last axis.  It must be a real number in
[0, 1]; 0 leaves the computation exactly as without it.

Empty inputs follow torch: "none" and "sum" give an empty array and 0; "mean" over empty
logits is NaN, also with zero classes and probability targets, where torch fills NaN
whenever ``logits`` is empty (pytorch/pytorch aten/src/ATen/native/LossNLL.cpp,
``cross_entropy_loss_prob_target``: ``if (input.sym_numel()==0) ... fill_(NaN)``).
Class indices with zero classes are out of range, as in torch.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from reference._checks import as_array, float_array, grad_out_array
from reference._checks import reduction as check_reduction

#: Keras's fuzz factor, ``keras.config.epsilon()`` (keras/src/backend/config.py,
#: ``_EPSILON = 1e-7``), used to clip probabilities to [eps, 1 - eps].
KERAS_EPSILON = 1e-7


def _prepare(logits, target, reduction):
    logits = float_array("logits", logits)
    if logits.ndim < 2:
        raise ValueError(
            f"logits must have shape (N, C) or (N, C, d1, ...), got shape {logits.shape}"
        )
    check_reduction(reduction)
    target = as_array("target", target)
    if np.issubdtype(target.dtype, np.integer):
        want = logits.shape[:1] + logits.shape[2:]
        if target.shape != want:
            raise ValueError(
                f"target shape {target.shape} of class indices does not match logits shape "
                f"{logits.shape}: expected {want}"
            )
        n_classes = logits.shape[1]
        bad = (target < 0) | (target >= n_classes)
        if np.any(bad):
            raise ValueError(
                f"target class index {target[bad].flat[0].item()} is out of range [0, {n_classes})"
            )
        return logits, target, True
    if not np.issubdtype(target.dtype, np.floating):
        raise ValueError(
            f"target must be integer class indices or float probabilities, got dtype {target.dtype}"
        )
    if target.shape != logits.shape:
        raise ValueError(
            f"target shape {target.shape} of class probabilities does not match logits "
            f"shape {logits.shape}"
        )
    dtype = np.result_type(logits, target)
    return logits.astype(dtype, copy=False), target.astype(dtype, copy=False), False


def _check_smoothing(label_smoothing) -> float:
    value = label_smoothing
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"label_smoothing must be a real number in [0, 1], got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"label_smoothing must be a real number in [0, 1], got {value!r}")
    return float(value)


def _smoothed(logits, target, is_index, smoothing) -> np.ndarray:
    """The smoothed target distribution ``(1 - e) t + e / C`` (shape of ``logits``)."""
    dtype = logits.dtype
    t = _one_hot(target, logits.shape[1], dtype) if is_index else target
    e = dtype.type(smoothing)
    return (dtype.type(1) - e) * t + e / dtype.type(logits.shape[1])


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    if logits.size == 0:
        return logits.copy()  # np.max has no identity
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _one_hot(target: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    """(N, C, d1, ...) one-hot of (N, d1, ...) indices."""
    classes = np.arange(n_classes).reshape((1, n_classes) + (1,) * (target.ndim - 1))
    return (np.expand_dims(target, 1) == classes).astype(dtype)


def _reduce(loss: np.ndarray, reduction: str, empty_input: bool = False) -> np.ndarray:
    """``empty_input``: the loss came from an empty input, whose "mean" torch makes NaN."""
    if reduction == "none":
        return loss
    total = np.sum(loss)
    if reduction == "sum":
        return np.asarray(total, dtype=loss.dtype)
    if empty_input or loss.size == 0:
        return np.asarray(np.nan, dtype=loss.dtype)
    return np.asarray(total / loss.size, dtype=loss.dtype)


def _per_loss(g: np.ndarray, count: int) -> np.ndarray:
    """ "mean"'s ``g / count``; with no loss at all the gradient is empty anyway."""
    return g / count if count else g


def forward(logits, target, *, reduction="mean", label_smoothing=0.0) -> np.ndarray:
    """A 0-d array for "mean"/"sum"; (N, d1, ..., dk) for "none"."""
    logits, target, is_index = _prepare(logits, target, reduction)
    smoothing = _check_smoothing(label_smoothing)
    logp = _log_softmax(logits)
    if smoothing:
        loss = -np.sum(_smoothed(logits, target, is_index, smoothing) * logp, axis=1)
    elif is_index:
        loss = -np.take_along_axis(logp, np.expand_dims(target, 1), axis=1)[:, 0]
    else:
        loss = -np.sum(target * logp, axis=1)
    return _reduce(loss, reduction, logits.size == 0)


def backward(
    grad_out, logits, target, *, reduction="mean", label_smoothing=0.0
) -> dict[str, np.ndarray]:
    """``{"logits": g * (softmax(logits) * sum_c t_c - t)}`` with ``t`` the one-hot of
    the indices or the probabilities, smoothed when ``label_smoothing`` > 0; g is divided
    by the loss count for "mean".  The factor is formed first, so an infinite g gives
    +-inf (frameworks' autodiff gives NaN there: conventions row
    crossentropy_grad_infinite_g)."""
    logits_in = logits
    logits, target, is_index = _prepare(logits, target, reduction)
    smoothing = _check_smoothing(label_smoothing)
    if smoothing:
        target, is_index = _smoothed(logits, target, is_index, smoothing), False
    dtype = logits.dtype
    loss_shape = logits.shape[:1] + logits.shape[2:]
    g = grad_out_array(grad_out, loss_shape if reduction == "none" else (), dtype)
    if reduction == "mean":
        g = _per_loss(g, math.prod(loss_shape))
    softmax = np.exp(_log_softmax(logits))
    if is_index:
        d = softmax - _one_hot(target, logits.shape[1], dtype)
    else:
        d = softmax * np.sum(target, axis=1, keepdims=True) - target
    grad = d * (np.expand_dims(g, 1) if reduction == "none" else g)
    in_dtype = np.asarray(logits_in).dtype
    if np.issubdtype(in_dtype, np.floating):
        grad = grad.astype(in_dtype, copy=False)
    return {"logits": grad}


# ---------------------------------------------------------------------------------------
# Keras categorical_crossentropy on probabilities (from_logits=False).
#
# keras-team/keras, keras/src/backend/tensorflow/nn.py, categorical_crossentropy:
#     output = output / tf.reduce_sum(output, axis, keepdims=True)
#     output = tf.clip_by_value(output, backend.epsilon(), 1.0 - backend.epsilon())
#     return -tf.reduce_sum(target * tf.math.log(output), axis)
# The gradient of tf.clip_by_value (tensorflow/python/ops/clip_ops.py,
# _clip_by_value_grad) is zero where x < min or x > max and passes where x equals a
# bound.  keras.losses.CategoricalCrossentropy then reduces with
# "sum_over_batch_size": the sum of the per-sample losses over their count.


def _prepare_keras(probs, target, axis, reduction):
    probs = float_array("probs", probs)
    target = float_array("target", target)
    if probs.ndim < 1:
        raise ValueError(f"probs must have at least 1 dimension, got shape {probs.shape}")
    if target.shape != probs.shape:
        raise ValueError(f"target shape {target.shape} does not match probs shape {probs.shape}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an int, got {axis!r}")
    if not -probs.ndim <= axis < probs.ndim:
        raise ValueError(f"axis {axis} is out of range for probs of shape {probs.shape}")
    check_reduction(reduction)
    dtype = np.result_type(probs, target)
    return probs.astype(dtype, copy=False), target.astype(dtype, copy=False), int(axis) % probs.ndim


def _clip_bounds(dtype) -> tuple:
    # In the input's dtype, as TF casts epsilon(): float32's 1 - 1e-7 rounds to 1 - 2**-23.
    return dtype.type(KERAS_EPSILON), dtype.type(1.0) - dtype.type(KERAS_EPSILON)


def categorical_crossentropy(probs, target, *, axis=-1, reduction="mean") -> np.ndarray:
    """Keras ``categorical_crossentropy(target, probs)`` (prediction first here, like the
    rest of the reference): renormalise ``probs`` to sum 1 along ``axis``, clip to
    [1e-7, 1 - 1e-7], per-sample loss ``-sum(target * log(p), axis)``; then
    ``reduction`` "mean" (Keras's sum_over_batch_size), "sum" or "none" (the
    per-sample losses, ``probs``'s shape without ``axis``)."""
    probs, target, axis = _prepare_keras(probs, target, axis, reduction)
    p = probs / np.sum(probs, axis=axis, keepdims=True)
    low, high = _clip_bounds(p.dtype)
    loss = -np.sum(target * np.log(np.clip(p, low, high)), axis=axis)
    return _reduce(loss, reduction)


def categorical_crossentropy_backward(
    grad_out, probs, target, *, axis=-1, reduction="mean"
) -> dict[str, np.ndarray]:
    """``{"probs": dL/dprobs}`` through the clip (zero where it is active) and the
    renormalisation ``p = probs / s``: ``dprobs = (dp - sum(dp * p, axis)) / s``."""
    probs_in = probs
    probs, target, axis = _prepare_keras(probs, target, axis, reduction)
    dtype = probs.dtype
    loss_shape = probs.shape[:axis] + probs.shape[axis + 1 :]
    g = grad_out_array(grad_out, loss_shape if reduction == "none" else (), dtype)
    if reduction == "mean":
        g = _per_loss(g, math.prod(loss_shape))
    s = np.sum(probs, axis=axis, keepdims=True)
    p = probs / s
    low, high = _clip_bounds(dtype)
    clipped = np.clip(p, low, high)
    g = np.expand_dims(g, axis) if reduction == "none" else g
    d_clipped = -target / clipped * g
    d_p = np.where((p < low) | (p > high), dtype.type(0), d_clipped)
    grad = (d_p - np.sum(d_p * p, axis=axis, keepdims=True)) / s
    in_dtype = np.asarray(probs_in).dtype
    if np.issubdtype(in_dtype, np.floating):
        grad = grad.astype(in_dtype, copy=False)
    return {"probs": grad}
