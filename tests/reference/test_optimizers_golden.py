"""Golden values for the reference optimizers, worked by hand, no framework.

Sources of the update rules:

- Adam, Algorithm 1 of Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR
  2015 (arXiv:1412.6980v9):  m_t = b1 m + (1 - b1) g;  v_t = b2 v + (1 - b2) g^2;
  m^_t = m_t / (1 - b1^t);  v^_t = v_t / (1 - b2^t);  p_t = p - a m^_t / (sqrt(v^_t) + e).
  torch.optim.Adam's documented pseudo-code is this algorithm
  (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html; defaults lr=0.001,
  betas=(0.9, 0.999), eps=1e-08).
- The same paper, end of Section 2: "the efficiency of Algorithm 1 can ... be improved
  by changing the order of computation": a_t = a sqrt(1 - b2^t) / (1 - b1^t) and
  p_t = p - a_t m_t / (sqrt(v_t) + e^).  keras.optimizers.Adam computes this form; its
  docs: "This epsilon is 'epsilon hat' in the Kingma and Ba paper (in the formula just
  before Section 2.1), not the epsilon in Algorithm 1" (https://keras.io/api/optimizers/adam/;
  defaults learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07).
- SGD without momentum: p <- p - lr g (torch.optim.SGD docs pseudo-code,
  https://pytorch.org/docs/stable/generated/torch.optim.SGD.html, with mu = 0, lambda = 0;
  keras.optimizers.SGD docs, "w = w - learning_rate * g" when momentum is 0,
  https://keras.io/api/optimizers/sgd/).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference import adam, sgd

pytestmark = pytest.mark.reference

#: A few float64 roundings of values of order 1 (the reference's order of operations is
#: the framework's, not the hand derivation's).
RTOL = 1e-14


def _run(optimizer, params, grads, **kwargs):
    """The parameters after each step, and the final state."""
    state = optimizer.init(params)
    history = []
    for g in grads:
        params, state = optimizer.step(params, g, state, **kwargs)
        history.append(params)
    return history, state


# ---------------------------------------------------------------------------------------
# SGD: a quadratic with a closed-form trajectory


def test_sgd_on_a_quadratic_follows_the_closed_form():
    """f(p) = a/2 (p - c)^2 has gradient a (p - c), so p_k - c = (1 - lr a)^k (p_0 - c).
    With lr = 1/4 and a = 2, 1, 1/2 the factors are 1/2, 3/4, 7/8: every iterate and every
    intermediate is a short dyadic number, so float32 and float64 are exact."""
    a = np.array([2.0, 1.0, 0.5])
    c = np.array([1.0, -1.0, 0.0])
    p0 = np.array([3.0, 3.0, -2.0])
    lr = 0.25
    for dtype in (np.float32, np.float64):
        p = {"p": p0.astype(dtype)}
        for k in range(1, 7):
            grad = {"p": (a * (p["p"] - c)).astype(dtype)}
            p, _ = sgd.step(p, grad, {}, lr=lr)
            # By hand, k = 1: p = [1 + 2/2, -1 + 4*3/4, 0 - 2*7/8] = [2, 2, -1.75].
            want = c + (1 - lr * a) ** k * (p0 - c)
            assert p["p"].dtype == dtype
            np.testing.assert_array_equal(p["p"], want.astype(dtype), err_msg=f"step {k}")
    np.testing.assert_array_equal(
        sgd.step({"p": p0}, {"p": a * (p0 - c)}, {}, lr=lr)[0]["p"], [2.0, 2.0, -1.75]
    )


def test_sgd_golden_step_per_parameter():
    # p - lr g by hand: 1.5 - 0.5 * 0.25 = 1.375; -2 - (-4) * 0.25 = -1; 0 - 3 * 0.25.
    params = {"w": np.array([[1.5, -2.0]]), "b": np.array([0.0])}
    grads = {"w": np.array([[0.5, -4.0]]), "b": np.array([3.0])}
    new, state = sgd.step(params, grads, {}, lr=0.25)
    np.testing.assert_array_equal(new["w"], [[1.375, -1.0]])
    np.testing.assert_array_equal(new["b"], [-0.75])
    assert state == {}


# ---------------------------------------------------------------------------------------
# Adam with hyperparameters chosen so that the steps can be worked by hand:
# lr = 1/2, b1 = 1/2, b2 = 3/4, eps = 1/4 (large, so where eps enters shows), p_0 = 1,
# gradients 1, -1, 2.  The moments are the same in both conventions:
#   t = 1: m = 1/2 * 1 = 1/2;                v = 1/4 * 1 = 1/4
#   t = 2: m = 1/4 - 1/2 = -1/4;             v = 3/16 + 1/4 = 7/16
#   t = 3: m = -1/8 + 1 = 7/8;               v = 21/64 + 1 = 85/64
# Bias corrections: 1 - b1^t = 1/2, 3/4, 7/8;  1 - b2^t = 1/4, 7/16, 37/64.

HAND = {"lr": 0.5, "beta1": 0.5, "beta2": 0.75, "eps": 0.25}
HAND_GRADS = [{"p": np.array([1.0])}, {"p": np.array([-1.0])}, {"p": np.array([2.0])}]
HAND_MOMENTS = [(0.5, 0.25), (-0.25, 7 / 16), (7 / 8, 85 / 64)]

# torch (Algorithm 1): m^ = 1, v^ = 1 at t = 1 and 2 (v^_2 = (7/16) / (7/16)); then
#   p_1 = 1 - 1/2 * 1 / (1 + 1/4) = 3/5
#   p_2 = 3/5 - 1/2 * (-1/3) / (1 + 1/4) = 3/5 + 2/15 = 11/15          (m^_2 = -1/4 / (3/4))
#   p_3 = 11/15 - 1/2 * 1 / (sqrt(85/37) + 1/4)                 (m^_3 = 1, v^_3 = 85/37)
HAND_TORCH = [3 / 5, 11 / 15, 11 / 15 - 0.5 / (math.sqrt(85 / 37) + 0.25)]

# Keras (end of Section 2): a_t = 1/2 sqrt(1 - b2^t) / (1 - b1^t) = 1/2, sqrt(7)/6,
# sqrt(37)/14; then
#   p_1 = 1 - 1/2 * (1/2) / (1/2 + 1/4) = 2/3
#   p_2 = 2/3 - sqrt(7)/6 * (-1/4) / (sqrt(7)/4 + 1/4) = 2/3 + (7 - sqrt(7))/36
#       = (31 - sqrt(7)) / 36
#   p_3 = p_2 - sqrt(37)/14 * (7/8) / (sqrt(85)/8 + 1/4) = p_2 - sqrt(37) / (2 (sqrt(85) + 2))
_KERAS_P2 = (31 - math.sqrt(7)) / 36
HAND_KERAS = [2 / 3, _KERAS_P2, _KERAS_P2 - math.sqrt(37) / (2 * (math.sqrt(85) + 2))]


@pytest.mark.parametrize(
    ("convention", "want"), [("torch", HAND_TORCH), ("keras", HAND_KERAS)], ids=["torch", "keras"]
)
def test_adam_hand_worked_steps(convention, want):
    history, state = _run(adam, {"p": np.array([1.0])}, HAND_GRADS, convention=convention, **HAND)
    for t, (params, p_t) in enumerate(zip(history, want, strict=True), start=1):
        np.testing.assert_allclose(params["p"], [p_t], rtol=RTOL, atol=0, err_msg=f"step {t}")
    assert state["t"] == 3
    np.testing.assert_allclose(state["m"]["p"], [HAND_MOMENTS[-1][0]], rtol=RTOL)
    np.testing.assert_allclose(state["v"]["p"], [HAND_MOMENTS[-1][1]], rtol=RTOL)


@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_adam_moments_and_step_count_after_each_step(convention):
    params = {"p": np.array([1.0])}
    state = adam.init(params)
    assert state["t"] == 0
    for t, (g, (m, v)) in enumerate(zip(HAND_GRADS, HAND_MOMENTS, strict=True), start=1):
        params, state = adam.step(params, g, state, convention=convention, **HAND)
        assert state["t"] == t
        np.testing.assert_allclose(state["m"]["p"], [m], rtol=RTOL, err_msg=f"m_{t}")
        np.testing.assert_allclose(state["v"]["p"], [v], rtol=RTOL, err_msg=f"v_{t}")


# ---------------------------------------------------------------------------------------
# Adam with each framework's default hyperparameters, gradients 1 then -1 from p_0 = 0:
#   m_1 = 0.1, v_1 = 0.001;  m_2 = 0.09 - 0.1 = -0.01, v_2 = 0.000999 + 0.001 = 0.001999;
#   1 - b1^t = 0.1, 0.19;  1 - b2^t = 0.001, 0.001999.
# torch, eps 1e-8 (m^_1 = 1, v^_1 = 1; m^_2 = -1/19, v^_2 = 1):
#   p_1 = -1e-3 / (1 + 1e-8);   p_2 = p_1 + 1e-3 / 19 / (1 + 1e-8)
# Keras, epsilon 1e-7 (a_1 = 1e-3 sqrt(0.001) / 0.1, a_2 = 1e-3 sqrt(0.001999) / 0.19):
#   p_1 = -a_1 * 0.1 / (sqrt(0.001) + 1e-7) = -1e-3 / (1 + 1e-7 / sqrt(0.001))
#   p_2 = p_1 + a_2 * 0.01 / (sqrt(0.001999) + 1e-7) = p_1 + 1e-3 / 19 / (1 + 1e-7 / sqrt(0.001999))

_T1 = -1e-3 / (1 + 1e-8)
_K1 = -1e-3 / (1 + 1e-7 / math.sqrt(0.001))
DEFAULTS_WANT = {
    "torch": [_T1, _T1 + 1e-3 / 19 / (1 + 1e-8)],
    "keras": [_K1, _K1 + 1e-3 / 19 / (1 + 1e-7 / math.sqrt(0.001999))],
}


@pytest.mark.parametrize("convention", ["torch", "keras"])
def test_adam_default_hyperparameters(convention):
    grads = [{"p": np.array([1.0])}, {"p": np.array([-1.0])}]
    history, _ = _run(adam, {"p": np.array([0.0])}, grads, convention=convention)
    for t, (params, p_t) in enumerate(
        zip(history, DEFAULTS_WANT[convention], strict=True), start=1
    ):
        np.testing.assert_allclose(params["p"], [p_t], rtol=RTOL, atol=0, err_msg=f"step {t}")


def test_adam_default_eps_of_each_convention():
    # torch.optim.Adam eps=1e-08; keras.optimizers.Adam epsilon=1e-07 (docs cited above).
    assert adam.DEFAULT_EPS == {"torch": 1e-8, "keras": 1e-7}


def test_adam_keras_float32_scalars():
    """Keras keeps the learning rate in a floatx (float32) variable: with
    scalar_dtype="float32", lr = 0.1 enters as float32(0.1) = 0.100000001490116...
    Step 1 with the hand hyperparameters otherwise (b1 = 1/2, b2 = 3/4, exact in float32):
    a_1 = lr * sqrt(1/4) / (1/2) = lr, p_1 = 1 - lr * (1/2) / (1/2 + 1/4) = 1 - lr / 1.5."""
    hyper = {**HAND, "lr": 0.1}
    params, grads = {"p": np.array([1.0])}, {"p": np.array([1.0])}
    rounded, _ = adam.step(
        params, grads, adam.init(params), convention="keras", scalar_dtype="float32", **hyper
    )
    exact, _ = adam.step(params, grads, adam.init(params), convention="keras", **hyper)
    np.testing.assert_allclose(rounded["p"], [1 - float(np.float32(0.1)) / 1.5], rtol=RTOL)
    np.testing.assert_allclose(exact["p"], [1 - 0.1 / 1.5], rtol=RTOL)
