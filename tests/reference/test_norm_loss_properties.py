"""Identities between the issue-17 reference layers, checked without any framework: group
norm with one group is layer norm over (C, H, W), with C groups it is instance norm;
binary cross-entropy on logits equals it on sigmoid(logits) away from the clamp; label
smoothing of indices equals label smoothing of their one-hot probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from reference import binary_cross_entropy, cross_entropy, groupnorm, layernorm

pytestmark = pytest.mark.reference


def _rng(seed):
    return np.random.default_rng(seed)


def test_groupnorm_with_one_group_is_layernorm_over_chw():
    rng = _rng(0)
    x = rng.standard_normal((2, 3, 4, 5))
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    g = rng.standard_normal(x.shape)
    full = (3, 4, 5)
    ln_args = (
        x,
        np.broadcast_to(gamma[:, None, None], full),
        np.broadcast_to(beta[:, None, None], full),
    )
    np.testing.assert_allclose(
        groupnorm.forward(x, gamma, beta, groups=1),
        layernorm.forward(*ln_args, axes=(1, 2, 3)),
        rtol=1e-13,
        atol=1e-13,
    )
    gn = groupnorm.backward(g, x, gamma, beta, groups=1)
    ln = layernorm.backward(g, *ln_args, axes=(1, 2, 3))
    np.testing.assert_allclose(gn["x"], ln["x"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gn["gamma"], ln["gamma"].sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)


def test_groupnorm_with_c_groups_is_instance_norm():
    rng = _rng(1)
    x = 3.0 + rng.standard_normal((2, 4, 3, 3))
    y = groupnorm.forward(x, np.ones(4), np.zeros(4), groups=4, eps=1e-5)
    by_hand = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(
        x.var(axis=(2, 3), keepdims=True) + 1e-5
    )
    np.testing.assert_allclose(y, by_hand, rtol=1e-12, atol=1e-12)


def test_layernorm_axes_order_and_sign_do_not_matter():
    rng = _rng(2)
    x = rng.standard_normal((2, 3, 4, 5))
    gamma, beta = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    want = layernorm.forward(x, gamma, beta, axes=(2, 3))
    for axes in ((3, 2), (-1, -2), [2, -1]):
        np.testing.assert_array_equal(layernorm.forward(x, gamma, beta, axes=axes), want)


def test_layernorm_keeps_float32():
    x = np.ones((2, 3), np.float32)
    y = layernorm.forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), axes=(1,))
    assert y.dtype == np.float32


def test_bce_on_logits_equals_bce_on_their_sigmoid_away_from_the_clamp():
    rng = _rng(3)
    z = 4.0 * rng.standard_normal((6, 3))
    t = rng.uniform(0, 1, z.shape)
    p = 1 / (1 + np.exp(-z))
    for convention in ("torch", "keras"):
        on_logits = binary_cross_entropy.forward(z, t, from_logits=True, reduction="none")
        on_probs = binary_cross_entropy.forward(
            p, t, from_logits=False, reduction="none", convention=convention
        )
        np.testing.assert_allclose(on_probs, on_logits, rtol=1e-9, atol=1e-12)
    # The gradient w.r.t. z is the gradient w.r.t. p times sigmoid'(z) = p (1 - p).
    g = rng.standard_normal(z.shape)
    d_z = binary_cross_entropy.backward(g, z, t, from_logits=True, reduction="none")["input"]
    d_p = binary_cross_entropy.backward(g, p, t, from_logits=False, reduction="none")["input"]
    np.testing.assert_allclose(d_p * p * (1 - p), d_z, rtol=1e-9, atol=1e-12)


def test_label_smoothing_of_indices_equals_smoothing_their_one_hot():
    rng = _rng(4)
    logits, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    one_hot = np.eye(4)[labels]
    g = rng.standard_normal(5)
    for e in (0.0, 0.1, 1.0):
        kw = {"reduction": "none", "label_smoothing": e}
        np.testing.assert_allclose(
            cross_entropy.forward(logits, labels, **kw),
            cross_entropy.forward(logits, one_hot, **kw),
            rtol=1e-13,
        )
        np.testing.assert_allclose(
            cross_entropy.backward(g, logits, labels, **kw)["logits"],
            cross_entropy.backward(g, logits, one_hot, **kw)["logits"],
            rtol=1e-12,
            atol=1e-15,
        )
    # e = 1: the uniform target, whatever the labels.
    uniform = cross_entropy.forward(logits, labels, reduction="none", label_smoothing=1.0)
    other = cross_entropy.forward(logits, (labels + 1) % 4, reduction="none", label_smoothing=1.0)
    np.testing.assert_allclose(uniform, other, rtol=1e-13)
