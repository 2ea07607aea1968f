"""binary_cross_entropy: elementwise on logits or probabilities, torch's clamp or Keras'
clip; targets in [0, 1]."""

from __future__ import annotations

import numpy as np

from tests import tolerances
from tests.cases import Case, generated
from tests.layers import ErrorInput, LayerInfo
from tests.layers._bench import per_batch

_LAYER = "binary_cross_entropy"


def _terms(x, t, attrs):
    """Per element: the loss's summed terms' size (forward) and the gradient's size per
    unit of grad_out (backward)."""
    t_abs, u_abs = np.abs(t), np.abs(1 - t)
    if attrs["from_logits"]:
        return np.abs(x) * (1 + t_abs) + 1, 1 + t_abs
    if attrs.get("convention", "torch") == "torch":
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(x), -100.0)
            log_q = np.maximum(np.log1p(-x), -100.0)
        grad = (np.abs(x) + t_abs) / np.maximum(x * (1 - x), 9.99e-13)
        return t_abs * (np.abs(log_p) + 1) + u_abs * (np.abs(log_q) + 1), grad
    p = np.clip(x, 1e-7, 1 - 1e-7)
    inside = (x >= 1e-7) & (x <= 1 - 1e-7)
    grad = np.where(inside, t_abs / p + u_abs / (1 - p), 0.0)
    return t_abs * (np.abs(np.log(p)) + 1) + u_abs * (np.abs(np.log1p(-p)) + 1), grad


def tolerance(direction, inputs, attrs, dtype, grad_out):
    """A few rounded ops per element (length 3) with the sizes of ``_terms``; "mean" and
    "sum" add the N elements to the length and sum the sizes (divided by N for a mean).
    +1 in each log term: a relative error of p or 1 - p is an absolute error of its log."""
    x, t = inputs["input"], inputs["target"]
    reduction = attrs.get("reduction", "mean")
    loss_mag, grad_mag = _terms(x, t, attrs)
    if direction == "forward":
        if reduction == "none":
            return tolerances.reduction(dtype, {"y": (3, loss_mag)}, "per element |terms|")
        total = float(loss_mag.sum()) / (x.size if reduction == "mean" else 1)
        return tolerances.reduction(
            dtype, {"y": (x.size + 3, total)}, "sum of |terms| over elements (/ N for mean)"
        )
    g = np.abs(np.asarray(grad_out, dtype=np.float64))
    if reduction == "mean":
        g = g / x.size
    return tolerances.reduction(
        dtype, {"input": (3, g * grad_mag)}, "|g| x per-element gradient size (/ N for mean)"
    )


def _logits(shape, scale=2.0, hard=False):
    def make(rng):
        target = rng.integers(0, 2, shape).astype(float) if hard else rng.uniform(0, 1, shape)
        return {"input": scale * rng.standard_normal(shape), "target": target}

    return make


def _probs(shape, hard=False):
    def make(rng):
        target = rng.integers(0, 2, shape).astype(float) if hard else rng.uniform(0, 1, shape)
        return {"input": rng.uniform(0.02, 0.98, shape), "target": target}

    return make


def _golden(case_id, inputs, attrs, expected, provenance, **kw) -> Case:
    arrays = {k: np.asarray(v, dtype=float) for k, v in inputs.items()}
    return Case(
        id=case_id,
        layer=_LAYER,
        inputs=arrays,
        attrs=attrs,
        expected=np.asarray(expected, dtype=float),
        provenance=provenance,
        **kw,
    )


_TORCH_DOCS = "torch.nn.BCELoss docs: log outputs clamped to >= -100"

CASES = (
    _golden(
        "bce_golden_torch_clamp",
        {"input": [0.0, 1.0, 0.5, 0.0], "target": [1.0, 1.0, 0.0, 0.0]},
        {"from_logits": False, "reduction": "none"},
        [100.0, 0.0, np.log(2.0), 0.0],
        f"hand-derived: p = 0 with t = 1 costs the clamp, 100; p = t = 1 costs 0; p = 1/2 "
        f"costs ln 2 ({_TORCH_DOCS})",
        tags=frozenset({"kink"}),
    ),
    _golden(
        "bce_golden_torch_grad_cap",
        {"input": [0.0, 0.5], "target": [0.25, 1.0]},
        {"from_logits": False, "reduction": "none"},
        [0.25 * 100.0 + 0.0, np.log(2.0)],
        "hand-derived: forward 0.25 * 100 and ln 2; gradient (p - t) / max(p (1 - p), e) "
        "= -0.25 / e and -2, e = float32(1e-12) (aten/src/ATen/native/Loss.cpp "
        f"binary_cross_entropy_backward, constexpr float EPSILON = 1e-12; {_TORCH_DOCS})",
        grad_out=np.ones(2),
        expected_grads={"input": np.array([-0.25 / float(np.float32(1e-12)), -2.0])},
        tags=frozenset({"kink"}),
    ),
    _golden(
        "bce_golden_keras_clip",
        {"input": [0.0, 1.0, 0.25], "target": [1.0, 0.0, 1.0]},
        {"from_logits": False, "reduction": "none", "convention": "keras"},
        [-np.log(1e-7), -np.log(1.0 - (1.0 - 1e-7)), np.log(4.0)],
        "hand-derived: p clipped to [1e-7, 1 - 1e-7] (keras.config.epsilon(); "
        "keras/src/backend/tensorflow/nn.py binary_crossentropy) before -log",
        tags=frozenset({"kink"}),
    ),
    _golden(
        "bce_golden_logits",
        {"input": [0.0, 0.0, np.log(3.0), -np.log(3.0)], "target": [0.0, 1.0, 1.0, 1.0]},
        {"from_logits": True, "reduction": "none"},
        [np.log(2.0), np.log(2.0), np.log(4.0 / 3.0), np.log(4.0)],
        "hand-derived: softplus(z) - t z: ln 2 at z = 0; ln(1 + 1/3) and ln(1 + 3) at "
        "z = +-ln 3, t = 1 (torch.nn.BCEWithLogitsLoss docs formula)",
    ),
    generated("bce_logits_mean", _LAYER, 1720, _logits((4, 3)), from_logits=True),
    generated(
        "bce_logits_sum_hard",
        _LAYER,
        1721,
        _logits((6, 2), hard=True),
        from_logits=True,
        reduction="sum",
    ),
    generated(
        "bce_logits_none_4d",
        _LAYER,
        1722,
        _logits((2, 1, 3, 3)),
        from_logits=True,
        reduction="none",
        note="A segmentation mask's logits (N, 1, H, W).",
    ),
    generated(
        "bce_logits_large",
        _LAYER,
        1723,
        _logits((4, 2), scale=60.0, hard=True),
        from_logits=True,
        note="Logits of order 60: sigmoid saturates; the log-sigmoid form stays exact.",
    ),
    generated(
        "bce_logits_keras_convention",
        _LAYER,
        1724,
        _logits((5, 2)),
        from_logits=True,
        convention="keras",
        note="On logits neither convention clamps or clips: the same loss.",
    ),
    generated("bce_probs_torch_mean", _LAYER, 1725, _probs((4, 3)), from_logits=False),
    generated(
        "bce_probs_torch_none", _LAYER, 1726, _probs((3, 4)), from_logits=False, reduction="none"
    ),
    generated(
        "bce_probs_torch_sum_hard",
        _LAYER,
        1727,
        _probs((5, 2), hard=True),
        from_logits=False,
        reduction="sum",
    ),
    generated(
        "bce_probs_keras_mean", _LAYER, 1728, _probs((4, 3)), from_logits=False, convention="keras"
    ),
    generated(
        "bce_probs_keras_sum_last1",
        _LAYER,
        1729,
        _probs((6, 1), hard=True),
        from_logits=False,
        convention="keras",
        reduction="sum",
        note="Last axis of size 1: Keras' per-sample mean over it is the element itself.",
    ),
    generated(
        "bce_probs_keras_clipped",
        _LAYER,
        1730,
        lambda r: {
            "input": np.array([[0.0, 3e-8], [1e-9, 0.5], [1.0, 0.99999999]]),
            "target": np.array([[1.0, 0.3], [1.0, 0.5], [1.0, 1.0]]),
        },
        from_logits=False,
        convention="keras",
        note="Probabilities below 1e-7 and at 1 are clipped.  The upper clip with t < 1 "
        "is left to the conventions row (float64): Keras clips at 1 - epsilon() in the "
        "input's dtype, 1 - 2**-23 in float32, where -log(1 - p) is 15.94, not 16.12.",
        tags={"kink"},
    ),
)

_XT = {"input": np.full((2, 3), 0.5), "target": np.zeros((2, 3))}


def _bad(case_id, match, inputs=_XT, **attrs):
    return ErrorInput(case_id, inputs, match, {"from_logits": False, **attrs})


ERRORS = (
    _bad("bce_from_logits_string", r"from_logits must be a bool, got 'yes'", from_logits="yes"),
    _bad("bce_from_logits_int", r"from_logits must be a bool, got 1", from_logits=1),
    _bad(
        "bce_convention",
        r"convention must be one of \('torch', 'keras'\), got 'tf'",
        convention="tf",
    ),
    _bad("bce_reduction", r"reduction must be .*'batchmean'", reduction="batchmean"),
    _bad(
        "bce_target_above_one",
        r"target values .* must lie in \[0, 1\], got 1\.5",
        {**_XT, "target": np.full((2, 3), 1.5)},
    ),
    _bad(
        "bce_target_negative_logits",
        r"target values .* must lie in \[0, 1\], got -0\.25",
        {"input": np.zeros((2, 3)), "target": np.full((2, 3), -0.25)},
        from_logits=True,
    ),
    _bad(
        "bce_probability_above_one",
        r"input probabilities \(from_logits=False\) must lie in \[0, 1\], got 1\.2",
        {**_XT, "input": np.full((2, 3), 1.2)},
    ),
    _bad(
        "bce_shape",
        r"target shape \(3,\) does not match input shape \(2, 3\)",
        {**_XT, "target": np.zeros(3)},
    ),
    ErrorInput(
        "bce_grad_shape_mean",
        _XT,
        r"grad_out shape \(2, 3\) does not match the output shape \(\)",
        {"from_logits": False},
        direction="backward",
        grad_out=np.zeros((2, 3)),
    ),
)


def _target_kind(target) -> str:
    """Hard labels (every target exactly 0 or 1) or soft ones."""
    return "hard 0/1" if np.isin(np.asarray(target), (0, 1)).all() else "soft"


DECLARED = (
    LayerInfo(
        _LAYER,
        tolerance=tolerance,
        cases=CASES,
        error_inputs=ERRORS,
        bench=per_batch(
            _LAYER,
            lambda n: {"input": ((n, 1, 28, 28), "normal"), "target": ((n, 1, 28, 28), "unit")},
            {"from_logits": True},
        ),
        attributes={
            "from_logits": ("True", "False"),
            "reduction": ("mean", "sum", "none"),
            "convention": ("torch", "keras"),
            "target": ("hard 0/1", "soft"),
        },
        categories={"target": _target_kind},
    ),
)
