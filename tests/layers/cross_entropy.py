"""cross_entropy (torch semantics, on logits) and Keras' categorical_crossentropy (on
probabilities, renormalised and clipped)."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import Case, generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import CLASSES, per_batch


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """Per sample ``logsumexp(z) - <t, z>``: K terms of size ``|log_softmax| <= 2 max|z| +
    log K``, times ``max(1, sum|t|)``; a sum over the N = N*d1*...*dk losses multiplies
    by N and adds N to the length, a mean divides the magnitude back by N.  Gradient
    ``(softmax * sum t - t) * g`` has terms of size ``(1 + sum|t|) * max|g|`` (divided by
    N for a mean).  With label smoothing e the target is ``(1 - e) t + e / K``, whose
    sum|t| is at most ``(1 - e) sum|t| + e`` (1 for indices)."""
    logits, target = inputs["logits"], inputs["target"]
    k = logits.shape[1]
    n_samples = logits.size // k  # N * d1 * ... * dk losses
    reduction = attrs.get("reduction", "mean")
    smoothing = float(attrs.get("label_smoothing", 0.0))
    if np.issubdtype(target.dtype, np.integer):
        t_sum = 1.0
    else:
        row_sum = float(np.abs(target).sum(axis=1).max())
        t_sum = max(1.0, (1 - smoothing) * row_sum + smoothing)
    if direction == "forward":
        per_sample = (2 * float(np.abs(logits).max()) + np.log(k) + 1) * t_sum
        if reduction == "none":
            return tolerances.reduction(
                dtype, {"y": (k, per_sample)}, "(2 max|z| + log K + 1) sum|t|"
            )
        mag = per_sample * (n_samples if reduction == "sum" else 1)
        return tolerances.reduction(
            dtype, {"y": (k + n_samples, mag)}, "(2 max|z| + log K + 1) sum|t| (x N for sum)"
        )
    mag = (1 + t_sum) * float(np.abs(grad_out).max())
    if reduction == "mean":
        mag /= n_samples
    return tolerances.reduction(
        dtype, {"logits": (k, mag)}, "(1 + sum|t|) max|g| (/ N d1..dk for mean)"
    )


def keras_tolerance(direction, inputs, attrs, dtype, grad_out):
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
            return tolerances.reduction(dtype, {"y": (k, per_sample)}, "sum |t| (|log p| + 1)")
        samples = per_sample.size
        mag = float(per_sample.max()) * (samples if reduction == "sum" else 1)
        return tolerances.reduction(
            dtype,
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
    return tolerances.reduction(dtype, {"probs": (k, mag)}, "(|dp| + sum |dp| p) / s, dp = t g / p")


def _index(rng):
    return {"logits": rng.standard_normal((5, 4)), "target": rng.integers(0, 4, 5)}


def _prob(rng):
    return {"logits": rng.standard_normal((5, 4)), "target": rng.dirichlet(np.ones(4), 5)}


CASES = (
    *(
        generated(f"ce_index_{reduction}", "cross_entropy", seed, _index, reduction=reduction)
        for seed, reduction in ((700, "mean"), (701, "sum"), (702, "none"))
    ),
    *(
        generated(f"ce_prob_{reduction}", "cross_entropy", seed, _prob, reduction=reduction)
        for seed, reduction in ((703, "mean"), (704, "sum"), (705, "none"))
    ),
    generated(
        "ce_index_large_logits",
        "cross_entropy",
        706,
        lambda r: {"logits": 500.0 * r.standard_normal((4, 3)), "target": r.integers(0, 3, 4)},
        reduction="mean",
        note="Logits of order 500: needs log-sum-exp, not log(softmax).",
    ),
    generated(
        "ce_prob_onehot",
        "cross_entropy",
        707,
        lambda r: {
            "logits": r.standard_normal((4, 5)),
            "target": np.eye(5)[r.integers(0, 5, 4)],
        },
        reduction="mean",
        note="One-hot probabilities must give the same loss as the matching indices.",
    ),
    generated(
        "ce_prob_unnormalised",
        "cross_entropy",
        708,
        lambda r: {
            "logits": r.standard_normal((5, 4)),
            # Row sums 0.38, 0.69, 2.47, 2.92, 1.23 (printed from the seed).
            "target": r.uniform(0.0, 1.0, (5, 4)) * np.array([[0.25], [0.5], [1], [1], [1]]),
        },
        reduction="sum",
        note="Probability targets whose rows do not sum to 1: the loss is "
        "sum_c t_c (logsumexp - z_c) and the gradient softmax * sum_c t_c - t.  "
        "tf.nn.softmax_cross_entropy_with_logits gets it right only with op determinism "
        "on (the adapters' setting: a log_softmax composite); its default fused kernel "
        "returns softmax - t, as its docs warn ('If they are not, the computation of "
        "the gradient will be incorrect').",
    ),
    generated(
        "ce_index_nd",
        "cross_entropy",
        709,
        lambda r: {
            "logits": r.standard_normal((2, 4, 3, 2)),
            "target": r.integers(0, 4, (2, 3, 2)),
        },
        reduction="mean",
        note="(N, C, d1, d2) logits: classes on axis 1, the mean over all N*d1*d2 losses.",
    ),
    generated(
        "ce_prob_nd",
        "cross_entropy",
        715,
        lambda r: {
            "logits": r.standard_normal((2, 3, 4)),
            "target": np.moveaxis(r.dirichlet(np.ones(3), (2, 4)), -1, 1),
        },
        reduction="none",
        note="(N, C, d) logits with probability targets: classes on axis 1.",
    ),
)


# -- label smoothing (issue 17) --------------------------------------------------------

_P = np.array([0.25, 0.75])  # softmax of logits [0, ln 3]

SMOOTHING_CASES = (
    Case(
        id="ce_smooth_golden",
        layer="cross_entropy",
        inputs={"logits": np.array([[0.0, np.log(3.0)]]), "target": np.array([0])},
        attrs={"label_smoothing": 0.2},
        expected=np.asarray(-(0.9 * np.log(_P[0]) + 0.1 * np.log(_P[1]))),
        provenance=(
            "hand-derived: softmax([0, ln 3]) = [1/4, 3/4]; target class 0 smoothed by 0.2 "
            "over 2 classes is [0.9, 0.1], loss -(0.9 ln 1/4 + 0.1 ln 3/4) (torch.nn."
            "CrossEntropyLoss docs: a mixture of the ground truth and a uniform distribution)"
        ),
    ),
    generated(
        "ce_index_smooth_mean", "cross_entropy", 740, _index, reduction="mean", label_smoothing=0.1
    ),
    generated(
        "ce_prob_smooth_sum", "cross_entropy", 741, _prob, reduction="sum", label_smoothing=0.25
    ),
    generated(
        "ce_index_smooth_none_4d",
        "cross_entropy",
        742,
        lambda r: {
            "logits": r.standard_normal((2, 3, 2, 2)),
            "target": r.integers(0, 3, (2, 2, 2)),
        },
        reduction="none",
        label_smoothing=0.1,
        note="Classes on axis 1 of (N, C, H, W): smoothing spreads over C, not the last axis.",
    ),
    generated(
        "ce_index_smooth_full",
        "cross_entropy",
        743,
        _index,
        reduction="mean",
        label_smoothing=1.0,
        note="label_smoothing 1: the uniform target, whatever the labels.",
    ),
)


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _cce(rng, *, scale=1.0, normalised=True):
    probs = _softmax_rows(scale * rng.standard_normal((5, 4)))
    if not normalised:
        probs = probs * rng.uniform(0.5, 2.0, (5, 1))  # Keras renormalises each row
    return {"probs": probs, "target": rng.dirichlet(np.ones(4), 5)}


_KCE = "cross_entropy.categorical_crossentropy"

KERAS_CASES = (
    *(
        generated(f"kce_{reduction}", _KCE, seed, _cce, reduction=reduction)
        for seed, reduction in ((710, "mean"), (711, "sum"), (712, "none"))
    ),
    generated("kce_unnormalised", _KCE, 713, lambda r: _cce(r, normalised=False), reduction="mean"),
    generated(
        "kce_clipped",
        _KCE,
        714,
        lambda r: _cce(r, scale=20.0),
        reduction="mean",
        note="Peaked rows: some probabilities fall below 1e-7 or above 1 - 1e-7 and are clipped.",
        tags={"kink"},
    ),
)

_LOGITS = np.zeros((4, 3))
_TARGET = np.array([0, 1, 2, 0])
_LT = {"logits": _LOGITS, "target": _TARGET}

ERRORS = (
    ErrorInput("ce_reduction", _LT, r"reduction .*'avg'", {"reduction": "avg"}),
    ErrorInput(
        "ce_reduction_backward",
        _LT,
        r"reduction .*'batchmean'",
        {"reduction": "batchmean"},
        direction="backward",
        grad_out=0.0,
    ),
    ErrorInput(
        "ce_index_high",
        {"logits": _LOGITS, "target": np.array([0, 3, 1, 1])},
        r"target class index 3 is out of range \[0, 3\)",
    ),
    ErrorInput(
        "ce_index_negative",
        {"logits": _LOGITS, "target": np.array([0, 1, -100, 1])},
        r"target class index -100 is out of range",
    ),
    ErrorInput(
        "ce_index_shape",
        {"logits": _LOGITS, "target": np.array([0, 1, 2])},
        r"target shape \(3,\).*logits shape \(4, 3\).*expected \(4,\)",
    ),
    ErrorInput(
        "ce_prob_shape",
        {"logits": _LOGITS, "target": np.zeros((4, 2))},
        r"target shape \(4, 2\).*logits shape \(4, 3\)",
    ),
    ErrorInput(
        "ce_float_indices",
        {"logits": _LOGITS, "target": np.array([0.0, 1.0, 2.0, 0.0])},
        r"target shape \(4,\) of class probabilities.*logits shape \(4, 3\)",
    ),
    ErrorInput(
        "ce_bool_target",
        {"logits": _LOGITS, "target": np.ones(4, bool)},
        r"target must be .*dtype bool",
    ),
    ErrorInput(
        "ce_logits_1d",
        {"logits": np.zeros(3), "target": np.array(1)},
        r"logits must have shape \(N, C\).*\(3,\)",
    ),
    ErrorInput(
        "ce_smoothing_above_one",
        _LT,
        r"label_smoothing .* \[0, 1\], got 1\.5",
        {"label_smoothing": 1.5},
    ),
    ErrorInput(
        "ce_smoothing_negative", _LT, r"label_smoothing .*got -0\.1", {"label_smoothing": -0.1}
    ),
    ErrorInput(
        "ce_smoothing_nan", _LT, r"label_smoothing .*got nan", {"label_smoothing": float("nan")}
    ),
    ErrorInput(
        "ce_smoothing_string", _LT, r"label_smoothing .*got '0\.1'", {"label_smoothing": "0.1"}
    ),
    ErrorInput(
        "ce_grad_shape_none",
        _LT,
        r"grad_out shape \(3,\).*\(4,\)",
        {"reduction": "none"},
        direction="backward",
        grad_out=np.zeros(3),
    ),
    ErrorInput(
        "ce_grad_shape_mean",
        _LT,
        r"grad_out shape \(4,\).*\(\)",
        direction="backward",
        grad_out=np.zeros(4),
    ),
)

_PT = {"probs": np.ones((4, 3)), "target": np.ones((4, 3))}

KERAS_ERRORS = (
    ErrorInput(
        "keras_ce_shape",
        {"probs": np.ones((4, 3)), "target": np.ones((4, 2))},
        r"target shape \(4, 2\).*probs shape \(4, 3\)",
    ),
    ErrorInput("keras_ce_axis", _PT, r"axis 2 is out of range", {"axis": 2}),
    ErrorInput(
        "keras_ce_reduction",
        _PT,
        r"reduction .*'sum_over_batch_size'",
        {"reduction": "sum_over_batch_size"},
    ),
    ErrorInput(
        "keras_ce_grad_shape",
        _PT,
        r"grad_out shape \(3,\).*\(4,\)",
        {"reduction": "none"},
        direction="backward",
        grad_out=np.zeros(3),
    ),
)

DECLARED = (
    LayerInfo(
        "cross_entropy",
        tolerance=tolerance,
        cases=CASES + SMOOTHING_CASES,
        error_inputs=ERRORS,
        bench=per_batch(
            "cross_entropy",
            lambda n: {"logits": ((n, CLASSES), "normal"), "target": ((n,), "classes")},
        ),
        attributes={
            "reduction": ("mean", "sum", "none"),
            "target": ("indices", "probabilities"),
            "label_smoothing": ("0", "(0, 1)", "1"),
        },
    ),
    LayerInfo(
        _KCE,
        tolerance=keras_tolerance,
        cases=KERAS_CASES,
        error_inputs=KERAS_ERRORS,
        attributes={"reduction": ("mean", "sum", "none")},
    ),
)
