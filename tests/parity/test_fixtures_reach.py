"""Each edge fixture reaches its edge: a plausible bug that an older case of the same
layer lets through fails the new case.

A mutant is the reference with one bug, wrapped as a candidate (``ModuleAdapter``) and
compared through the parity harness exactly as a framework would be (float64, the
case's bound).  It must pass the named older case, which shows the bug is not wrong
everywhere, and fail the new one.  No framework is needed.  (Against the whole older
fixture set and for the conv2d batch-16 case, whose bug sits inside the reference's
chunked forward, the measurements are in the commit message that added this file.)
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from adapters.candidate import ModuleAdapter
from reference import _windows, avgpool2d, cross_entropy, linear, maxpool2d, relu
from tests import layers
from tests.harness import compare


def _relu_grad_at_zero_is_one(grad_out, x):
    x = np.asarray(x)
    return {"x": np.where(x >= 0, grad_out, 0.0)}


def _linear_bias_on_2d_only(x, w, b=None):
    x = np.asarray(x)
    return x @ np.asarray(w) + (0.0 if b is None or x.ndim != 2 else b)


def _log_softmax(logits, axis=1):
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _ce_assuming_targets_sum_to_one(logits, target, *, reduction="mean"):
    # logsumexp(z) - <t, z> per sample: equal to -<t, log_softmax(z)> only when sum t = 1.
    if np.issubdtype(np.asarray(target).dtype, np.integer):
        return cross_entropy.forward(logits, target, reduction=reduction)
    logits = np.asarray(logits)
    lse = logits - _log_softmax(logits)  # logsumexp(z), broadcast along the classes
    loss = lse[:, 0] - (target * logits).sum(axis=1)
    return loss if reduction == "none" else loss.sum() / (len(loss) if reduction == "mean" else 1)


def _ce_grad_assuming_targets_sum_to_one(grad_out, logits, target, *, reduction="mean"):
    if np.issubdtype(np.asarray(target).dtype, np.integer):
        return cross_entropy.backward(grad_out, logits, target, reduction=reduction)
    g = np.asarray(grad_out) / (len(logits) if reduction == "mean" else 1)
    g = g[:, None] if reduction == "none" else g
    return {"logits": (np.exp(_log_softmax(np.asarray(logits))) - target) * g}


def _classes_on_axis_1(logits, target):
    """Float targets in the logits' shape (one-hot of class indices, classes on axis 1)."""
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.integer):
        return np.moveaxis(np.eye(logits.shape[1])[target], -1, 1)
    return target


def _ce_softmax_over_last_axis(logits, target, *, reduction="mean"):
    # The softmax taken over the last axis, which is the class axis only for (N, C).
    logits = np.asarray(logits)
    target = _classes_on_axis_1(logits, target)
    loss = -(target * _log_softmax(logits, axis=-1)).sum(axis=1)
    return loss if reduction == "none" else loss.sum() / (loss.size if reduction == "mean" else 1)


def _ce_grad_softmax_over_last_axis(grad_out, logits, target, *, reduction="mean"):
    logits = np.asarray(logits)
    target = _classes_on_axis_1(logits, target)
    loss_count = logits.size // logits.shape[1]
    g = np.asarray(grad_out) / (loss_count if reduction == "mean" else 1)
    g = np.expand_dims(g, 1) if reduction == "none" else g
    softmax = np.exp(_log_softmax(logits, axis=-1))
    return {"logits": (softmax * target.sum(axis=1, keepdims=True) - target) * g}


def _ce_mean_over_batch_only(logits, target, *, reduction="mean"):
    if reduction != "mean":
        return cross_entropy.forward(logits, target, reduction=reduction)
    return cross_entropy.forward(logits, target, reduction="sum") / len(logits)


def _ce_grad_mean_over_batch_only(grad_out, logits, target, *, reduction="mean"):
    if reduction != "mean":
        return cross_entropy.backward(grad_out, logits, target, reduction=reduction)
    grads = cross_entropy.backward(grad_out, logits, target, reduction="sum")
    return {"logits": grads["logits"] / len(logits)}


def _maxpool_grad_to_last_maximum(grad_out, x, **attrs):
    # The reference's taps in reverse order: each window's last maximum claims it.
    pairs = _windows.Window2d.pairs
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_windows.Window2d, "pairs", lambda geometry: reversed(list(pairs(geometry))))
        return maxpool2d.backward(grad_out, x, **attrs)


def _swap_hw(value):
    """An attribute of the (H, W) axes for the (W, H) ones."""
    return value[::-1] if isinstance(value, (tuple, list)) else value


def _maxpool_grad_to_first_maximum_column_major(grad_out, x, **attrs):
    # The reference on x with H and W swapped: ties go to the first maximum in column-major
    # order, as an adapter that swapped the spatial axes of a layout would do.
    def swap(a):
        return np.swapaxes(np.asarray(a), -1, -2)

    swapped = {k: _swap_hw(v) for k, v in attrs.items()}
    return {"x": swap(maxpool2d.backward(swap(grad_out), swap(x), **swapped)["x"])}


def _floor_or_ceil_without_start_rule(
    size, kernel, stride, dilation, pad_lo, pad_hi, ceil_mode
) -> int:
    span = (kernel - 1) * dilation + 1
    room = size + pad_lo + pad_hi - span
    return (-(-room // stride) if ceil_mode else room // stride) + 1


def _without_start_rule(function):
    """``function`` run with the pooling window count lacking torch's ceil_mode rule (a
    last window starting in the right padding is dropped)."""

    def mutant(*args, **kwargs):
        # A window beyond the padding has a divisor <= 0 (avg pool): quietly wrong.
        with pytest.MonkeyPatch.context() as patch, np.errstate(invalid="ignore", divide="ignore"):
            patch.setattr(_windows, "output_length", _floor_or_ceil_without_start_rule)
            return function(*args, **kwargs)

    return mutant


MUTANTS = {
    "relu_grad_at_zero_is_one": SimpleNamespace(
        relu=SimpleNamespace(forward=relu.forward, backward=_relu_grad_at_zero_is_one)
    ),
    "linear_bias_on_2d_only": SimpleNamespace(
        linear=SimpleNamespace(forward=_linear_bias_on_2d_only, backward=linear.backward)
    ),
    "ce_assuming_targets_sum_to_one": SimpleNamespace(
        cross_entropy=SimpleNamespace(
            forward=_ce_assuming_targets_sum_to_one,
            backward=_ce_grad_assuming_targets_sum_to_one,
        )
    ),
    "ce_mean_over_batch_only": SimpleNamespace(
        cross_entropy=SimpleNamespace(
            forward=_ce_mean_over_batch_only, backward=_ce_grad_mean_over_batch_only
        )
    ),
    "ce_softmax_over_last_axis": SimpleNamespace(
        cross_entropy=SimpleNamespace(
            forward=_ce_softmax_over_last_axis, backward=_ce_grad_softmax_over_last_axis
        )
    ),
    "maxpool_grad_to_last_maximum": SimpleNamespace(
        maxpool2d=SimpleNamespace(forward=maxpool2d.forward, backward=_maxpool_grad_to_last_maximum)
    ),
    "maxpool_grad_to_first_maximum_column_major": SimpleNamespace(
        maxpool2d=SimpleNamespace(
            forward=maxpool2d.forward, backward=_maxpool_grad_to_first_maximum_column_major
        )
    ),
    "pool_ceil_without_start_rule": SimpleNamespace(
        maxpool2d=SimpleNamespace(
            forward=_without_start_rule(maxpool2d.forward),
            backward=_without_start_rule(maxpool2d.backward),
        ),
        avgpool2d=SimpleNamespace(
            forward=_without_start_rule(avgpool2d.forward),
            backward=_without_start_rule(avgpool2d.backward),
        ),
    ),
}

# (mutant, older case it passes, new case that catches it, direction)
REACH = [
    ("relu_grad_at_zero_is_one", "relu_nchw", "relu_exact_zeros", "backward"),
    ("linear_bias_on_2d_only", "linear_basic", "linear_nd", "forward"),
    ("ce_assuming_targets_sum_to_one", "ce_prob_sum", "ce_prob_unnormalised", "forward"),
    ("ce_assuming_targets_sum_to_one", "ce_prob_sum", "ce_prob_unnormalised", "backward"),
    ("ce_mean_over_batch_only", "ce_index_mean", "ce_index_nd", "forward"),
    ("ce_mean_over_batch_only", "ce_index_mean", "ce_index_nd", "backward"),
    ("ce_softmax_over_last_axis", "ce_prob_none", "ce_prob_nd", "forward"),
    ("ce_softmax_over_last_axis", "ce_prob_none", "ce_prob_nd", "backward"),
    ("maxpool_grad_to_last_maximum", "maxpool_k2", "maxpool_ties", "backward"),
    ("maxpool_grad_to_last_maximum", "maxpool_overlap", "maxpool_ties_overlap", "backward"),
    ("maxpool_grad_to_first_maximum_column_major", "maxpool_k2", "maxpool_ties", "backward"),
    (
        "maxpool_grad_to_first_maximum_column_major",
        "maxpool_overlap",
        "maxpool_ties_overlap",
        "backward",
    ),
    (
        "pool_ceil_without_start_rule",
        "maxpool_ceil_pad",
        "maxpool_ceil_start_in_padding",
        "forward",
    ),
    (
        "pool_ceil_without_start_rule",
        "avgpool_ceil_pad_include",
        "avgpool_ceil_start_in_padding",
        "forward",
    ),
]


def _outcome(mutant: str, case_id: str, direction: str) -> str:
    """ "pass", or how the mutant's comparison on the case failed."""
    case = layers.case(case_id)
    label = f"{case.layer}-{case_id}-{mutant}-float64-{direction}"
    try:
        _, failure = compare(
            ModuleAdapter(mutant, MUTANTS[mutant], origin=f"mutant {mutant}"),
            case.layer,
            direction,
            case.inputs,
            case.attrs,
            "float64",
            label=label,
            repro="",
        )
    except ValueError as exc:  # the mutant's own check: a window of padding only
        return f"raised {type(exc).__name__}: {exc}"
    return "pass" if failure is None else f"failed: {str(failure).splitlines()[0]}"


@pytest.mark.parametrize(
    ("mutant", "old_case", "new_case", "direction"),
    REACH,
    ids=[f"{m}-{new}-{d}" for m, _, new, d in REACH],
)
def test_new_fixture_catches_what_the_older_one_let_through(mutant, old_case, new_case, direction):
    assert _outcome(mutant, old_case, direction) == "pass"
    assert _outcome(mutant, new_case, direction) != "pass"
