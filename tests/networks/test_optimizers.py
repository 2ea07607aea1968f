"""The reference SGD and Adam against torch.optim and keras.optimizers.

Every run applies the same seeded sequence of gradients to the same float64 parameters for
a few steps, so the comparison isolates the update rule.  The last tests measure the
torch-versus-Keras Adam difference with both sides computed by the frameworks and assert
it is what the two documented formulas (reference/adam.py docstring) predict.
"""

from __future__ import annotations

import numpy as np
import pytest

from adapters.base import FrameworkMissing
from reference import adam, sgd
from tests.networks import keras_models

pytestmark = pytest.mark.network

STEPS = 5
LR = 0.01
#: float64 runs: the reference mirrors each framework's order of operations, so agreement
#: is at the level of a few float64 roundings per step.
RTOL64 = 1e-13
#: Keras 3 keeps the learning rate in a ``backend.Variable(..., dtype=backend.floatx())``
#: (keras-team/keras keras/src/optimizers/base_optimizer.py, ``__init__``), i.e. float32
#: even for float64 variables; the reference is given that rounded rate for Keras runs.
KERAS_LR = float(np.float32(LR))


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    # Gradients over several decades, including ones near Adam's eps, where the two
    # conventions differ most.
    scales = {"w": 10.0 ** rng.uniform(-9, 0, (3, 4)), "b": 10.0 ** rng.uniform(-9, 0, 4)}
    grads = [
        {
            k: rng.choice([-1.0, 1.0], v.shape) * scales[k] * rng.uniform(0.5, 1.5, v.shape)
            for k, v in params.items()
        }
        for _ in range(STEPS)
    ]
    return params, grads


def _reference_run(opt, params, grads, **kwargs):
    state = opt.init(params)
    history = []
    for g in grads:
        params, state = opt.step(params, g, state, **kwargs)
        history.append(params)
    return history


def _torch_run(make_optimizer, params, grads):
    torch = pytest.importorskip("torch")
    tensors = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in params.items()}
    optimizer = make_optimizer(torch, list(tensors.values()))
    history = []
    for g in grads:
        for k, t in tensors.items():
            t.grad = torch.from_numpy(g[k].copy())
        optimizer.step()
        history.append({k: t.detach().numpy().copy() for k, t in tensors.items()})
    return history


def _keras_run(make_optimizer, params, grads):
    """The Keras run (on its tensorflow backend: the builder uses tf.GradientTape and
    tf.Variable; elsewhere it reports FrameworkMissing and the test skips saying so)."""
    pytest.importorskip("keras")
    try:
        return keras_models.optimizer_steps(make_optimizer, params, grads)
    except FrameworkMissing as exc:
        pytest.skip(str(exc))


def _assert_histories_close(got, want, rtol=RTOL64):
    for step, (g, w) in enumerate(zip(got, want, strict=True), start=1):
        for name in w:
            np.testing.assert_allclose(
                g[name], w[name], rtol=rtol, atol=0, err_msg=f"step {step}, parameter {name}"
            )


@pytest.mark.torch
def test_sgd_matches_torch():
    params, grads = _problem()
    want = _torch_run(lambda torch, ps: torch.optim.SGD(ps, lr=LR), params, grads)
    _assert_histories_close(_reference_run(sgd, params, grads, lr=LR), want)


@pytest.mark.keras
def test_sgd_matches_keras():
    params, grads = _problem()
    want = _keras_run(lambda keras: keras.optimizers.SGD(learning_rate=LR), params, grads)
    _assert_histories_close(_reference_run(sgd, params, grads, lr=KERAS_LR), want)


@pytest.mark.torch
def test_adam_torch_convention_matches_torch():
    params, grads = _problem()
    want = _torch_run(lambda torch, ps: torch.optim.Adam(ps, lr=LR), params, grads)
    got = _reference_run(adam, params, grads, lr=LR, convention="torch")
    _assert_histories_close(got, want)


@pytest.mark.keras
def test_adam_keras_convention_matches_keras():
    params, grads = _problem()
    want = _keras_run(lambda keras: keras.optimizers.Adam(learning_rate=LR), params, grads)
    got = _reference_run(adam, params, grads, lr=LR, convention="keras", scalar_dtype="float32")
    _assert_histories_close(got, want)


def test_adam_default_eps_is_each_frameworks_default():
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    torch_eps = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))]).defaults["eps"]
    assert adam.DEFAULT_EPS["torch"] == torch_eps == 1e-8
    assert adam.DEFAULT_EPS["keras"] == keras.optimizers.Adam().epsilon == 1e-7


@pytest.mark.torch
@pytest.mark.keras
def test_torch_vs_keras_adam_first_step_difference_is_the_documented_one():
    """Step 1 has m = (1-b1) g and v = (1-b2) g**2, so the documented formulas give
    torch: lr * g / (|g| + eps_t)   and   Keras: lr * g / (|g| + eps_k / sqrt(1 - b2))
    (Keras's lr and bias-correction betas are float32-rounded, ``KERAS_LR``, ``b1f``,
    ``b2f``).  The frameworks' own step-1 difference must equal that closed form."""
    params, grads = _problem()
    first = grads[:1]
    t_run = _torch_run(lambda torch, ps: torch.optim.Adam(ps, lr=LR), params, first)[0]
    k_run = _keras_run(lambda keras: keras.optimizers.Adam(learning_rate=LR), params, first)[0]
    beta1, beta2 = 0.9, 0.999
    b1f, b2f = float(np.float32(beta1)), float(np.float32(beta2))
    for name, g in first[0].items():
        torch_step = LR * g / (np.abs(g) + 1e-8)
        keras_alpha = KERAS_LR * np.sqrt(1 - b2f) / (1 - b1f)
        keras_step = keras_alpha * (1 - beta1) * g / (np.sqrt(1 - beta2) * np.abs(g) + 1e-7)
        observed = t_run[name] - k_run[name]
        predicted = -(torch_step - keras_step)
        # Differences of O(1) parameters carry an absolute float64 rounding of ~1e-16.
        np.testing.assert_allclose(observed, predicted, rtol=1e-9, atol=1e-15, err_msg=name)
    # The difference is not negligible for gradients near eps (here up to ~lr).
    all_g = np.concatenate([g.ravel() for g in first[0].values()])
    assert (
        np.max(
            np.abs(
                LR * all_g / (np.abs(all_g) + 1e-8)
                - LR * all_g / (np.abs(all_g) + 1e-7 / np.sqrt(1 - beta2))
            )
        )
        > 0.5 * LR
    )


@pytest.mark.torch
@pytest.mark.keras
def test_torch_vs_keras_adam_k_step_difference_is_the_documented_one():
    """Over K steps the frameworks' trajectories differ exactly as the two reference
    conventions do; and Keras with epsilon = eps_t * sqrt(1 - b2**1) reproduces torch's
    first step, the equivalence the formulas imply."""
    params, grads = _problem()
    t_run = _torch_run(lambda torch, ps: torch.optim.Adam(ps, lr=LR), params, grads)
    k_run = _keras_run(lambda keras: keras.optimizers.Adam(learning_rate=LR), params, grads)
    ref_t = _reference_run(adam, params, grads, lr=LR, convention="torch")
    ref_k = _reference_run(adam, params, grads, lr=LR, convention="keras", scalar_dtype="float32")
    for step in range(STEPS):
        for name in params:
            observed = t_run[step][name] - k_run[step][name]
            predicted = ref_t[step][name] - ref_k[step][name]
            np.testing.assert_allclose(
                observed, predicted, rtol=1e-9, atol=1e-14, err_msg=f"step {step + 1}, {name}"
            )
    equivalent_eps = 1e-8 * np.sqrt(1 - 0.999)
    k_equiv = _keras_run(
        lambda keras: keras.optimizers.Adam(learning_rate=LR, epsilon=equivalent_eps),
        params,
        grads[:1],
    )[0]
    # With that epsilon the Keras step is torch's times the ratio of their step factors,
    # which differs from 1 only by Keras's float32 lr and betas (about 7e-6 here).
    b1f, b2f = float(np.float32(0.9)), float(np.float32(0.999))
    ratio = (KERAS_LR * np.sqrt(1 - b2f) / (1 - b1f) * (1 - 0.9)) / (LR * np.sqrt(1 - 0.999))
    step_t = {k: (t_run[0][k] - params[k]) * ratio for k in params}
    step_k = {k: k_equiv[k] - params[k] for k in params}
    _assert_histories_close([step_k], [step_t], rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta2": -0.1}, "beta2"),
        ({"eps": -1e-8}, "eps"),
        ({"convention": "tf1"}, "convention"),
    ],
)
def test_adam_bad_arguments(kwargs, match):
    params = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match=match):
        adam.step(params, {"w": np.ones(2)}, adam.init(params), **kwargs)


def test_sgd_bad_arguments():
    params = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="lr"):
        sgd.step(params, {"w": np.ones(2)}, {}, lr=-0.1)
    with pytest.raises(ValueError, match="grads keys"):
        sgd.step(params, {"v": np.ones(2)}, {}, lr=0.1)
    with pytest.raises(ValueError, match="shape"):
        sgd.step(params, {"w": np.ones(3)}, {}, lr=0.1)


def test_reference_optimizers_are_pure():
    params, grads = _problem()
    before = {k: v.copy() for k, v in params.items()}
    state = adam.init(params)
    adam.step(params, grads[0], state, lr=LR)
    sgd.step(params, grads[0], {}, lr=LR)
    assert state["t"] == 0
    assert all(np.all(m == 0) for m in state["m"].values())
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
