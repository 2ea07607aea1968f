"""Whole networks: reference vs torch and Keras/TF -- forward, loss, every parameter's
gradient, K training steps with SGD and with Adam, and seed 000's 1000-epoch trajectory.

Run with ``pytest -m network`` (every network; a plain ``pytest`` leaves out the training
steps of the eval-mode block networks, marked ``heavy``).  Networks, data and weights are in
tests/networks/models.py; the framework models in tests/networks/{torch,keras}_models.py
start from the same weights moved through adapters/layout.py.

Protocol (as in tests/harness.py): frameworks run float32; the reference runs in float64
on the same float32-rounded weights and data ("truth"), so only the framework's arithmetic
is judged.

Tolerances (``SAFETY`` and ``eps`` from tests/tolerances.py):
- forward output, loss, gradients: ``SAFETY * eps32 * n * magnitude`` (the recursive
  summation bound the policy uses for reductions), with ``n`` the summed reduction lengths
  along the network (``path_lengths``: forward for outputs and loss; forward, backward and
  the longest weight-gradient reduction for gradients) and ``magnitude`` the largest
  |value| of the compared array (normwise), for a gradient at least the largest sum of
  |terms| of its last reduction (``graph.gradient_terms``: a gradient that cancels to ~0
  still carries the rounding of what was summed).
- K training steps: float32 errors compound through the steps (Adam's m/sqrt(v) in
  particular magnifies gradient rounding where |g| is small), and no closed-form bound
  covers a nonlinear network's trajectory.  The growth is measured instead: the reference
  itself is run in float32, and a framework may drift from the truth at most SAFETY times
  as far as the reference's own float32 run has drifted by that step (running maximum),
  plus the one-step bound.
- seed 000's 1000 epochs: derived in ``test_seed000_trajectory``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from adapters.base import FrameworkMissing
from tests.networks import graph, models
from tests.tolerances import SAFETY, eps

pytestmark = pytest.mark.network

K_STEPS = 5
EPOCHS_000 = 1000
FRAMEWORKS = [
    pytest.param("torch", marks=pytest.mark.torch),
    pytest.param("keras", marks=[pytest.mark.keras, pytest.mark.tensorflow]),
]
CONVENTION = {"torch": "torch", "keras": "keras"}
EPS32 = eps("float32")


@functools.cache
def _builder_or_reason(framework: str):
    try:
        if framework == "torch":
            from tests.networks import torch_models as module
        else:
            from tests.networks import keras_models as module
        module.version()
    except FrameworkMissing as exc:
        return str(exc)
    return module


def _builder(framework: str):
    module = _builder_or_reason(framework)
    if isinstance(module, str):
        pytest.skip(module)
    return module


@functools.cache
def _problem(name: str):
    """Float32-rounded weights and data (as float64 arrays), targets and constants
    (dropout masks, batch-norm running statistics)."""
    if name not in ("seed000_single_filter", "seed002_conv_linear"):
        pytest.importorskip("sklearn", reason="the digits data ships with scikit-learn")
    x, target = models.data(name)
    params = {
        k: v.astype(np.float32).astype(np.float64) for k, v in models.init_params(name).items()
    }
    constants = {
        k: v.astype(np.float32).astype(np.float64) for k, v in models.constants(name).items()
    }
    return params, x.astype(np.float32).astype(np.float64), target, constants


@functools.cache
def path_lengths(name: str) -> dict[str, int]:
    """Summed reduction lengths (``graph.reduction_lengths`` of every node): ``forward``
    (each conv's C/groups*kh*kw, each linear's inputs, batch norm's N*H*W statistics in
    training, each average pool's window, the loss's classes + batch) and ``gradient``
    (forward + each node's input-gradient sums + the longest weight-gradient sum)."""
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    acts, tape = graph.run(spec, params, x, constants)
    forward = backward = weight = 0
    for node, arrays, attrs in tape:
        f, b, w = graph.reduction_lengths(node, arrays, attrs, acts[node["name"]])
        forward, backward, weight = forward + f, backward + b, max(weight, w)
    forward += target.shape[-1] + x.shape[0]
    return {"forward": forward, "gradient": forward + backward + weight}


def _bound(n: int, magnitude: float) -> float:
    return SAFETY["float32"] * EPS32 * n * magnitude


def _err(got, want) -> tuple[float, float]:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    abs_err = float(np.max(np.abs(got - want)))
    return abs_err, abs_err / max(float(np.max(np.abs(want))), np.finfo(np.float64).tiny)


def _record_network(request, name: str, framework: str, module, **fields):
    """One record for the report's networks section (float32 framework runs)."""
    spec = models.NETWORKS[name]
    record = {
        "network": name,
        "source": spec.get("source") or f"seed {spec['seed']}",
        "adapter": framework,
        "framework_version": module.version(),
        "dtype": "float32",
    }
    request.node.user_properties.append(("network", record | fields))


@functools.cache
def _reference_truth(name: str):
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    return models.reference_loss_and_grads(spec, params, x, target, constants)


@functools.cache
def _gradient_magnitudes(name: str) -> dict[str, float]:
    """Per parameter, the largest of |gradient| and its last reduction's sum of |terms|
    (``graph.gradient_terms``): the size a rounding error in the gradient scales with."""
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    acts, tape = graph.run(spec, params, x, constants)
    _, _, grads = _reference_truth(name)
    upstream: dict = {}
    loss_grad = models.loss_gradient(spec, acts[tape[-1][0]["name"]], target)
    graph.gradients(tape, loss_grad, upstream)
    terms = graph.gradient_terms(tape, upstream)
    return {k: max(float(np.max(np.abs(g))), float(np.max(terms[k]))) for k, g in grads.items()}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", list(models.NETWORKS))
def test_forward_loss_and_gradients(name, framework, request):
    module = _builder(framework)
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    ref_loss, ref_out, ref_grads = _reference_truth(name)
    net = module.build(
        spec, {k: v.astype(np.float32) for k, v in params.items()}, x.shape, "float32", constants
    )
    loss, out, grads = net.loss_and_grads(x.astype(np.float32), target)
    lengths = path_lengths(name)
    assert sorted(grads) == sorted(ref_grads)
    assert out.shape == ref_out.shape
    assert out.dtype == np.float32

    checks = {
        "output": (out, ref_out, lengths["forward"]),
        "loss": (loss, ref_loss, lengths["forward"]),
    }
    checks |= {f"grad {k}": (grads[k], ref_grads[k], lengths["gradient"]) for k in ref_grads}
    magnitudes = {"output": None, "loss": None} | {
        f"grad {k}": v for k, v in _gradient_magnitudes(name).items()
    }
    errors, failures = {}, []
    for what, (got, want, n) in checks.items():
        abs_err, rel_err = _err(got, want)
        bound = _bound(n, magnitudes[what] or float(np.max(np.abs(want))))
        errors[what] = {
            "max_abs_err": abs_err,
            "max_rel_err": rel_err,
            "err_to_bound": abs_err / bound,
            "tolerance": bound,
        }
        if not abs_err <= bound:
            failures.append(f"{what}: |err| {abs_err:.3g} > bound {bound:.3g}")
    _record_network(
        request,
        name,
        framework,
        module,
        check="gradients",
        path_lengths=lengths,
        loss=loss,
        reference_loss=ref_loss,
        grad_errors={
            k.removeprefix("grad "): v for k, v in errors.items() if k.startswith("grad ")
        },
        output_error=errors["output"],
        loss_error=errors["loss"],
    )
    assert not failures, "; ".join(failures)


def _reference_run(name: str, optimizer: str, convention: str, dtype: str, steps: int):
    if optimizer == "sgd" and dtype == "float32":
        convention = "torch"  # Keras' float32 lr is what a float32 run uses anyway
    return _cached_reference_run(name, optimizer, convention, dtype, steps)


@functools.cache
def _cached_reference_run(name: str, optimizer: str, convention: str, dtype: str, steps: int):
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    cast = {k: v.astype(dtype) for k, v in params.items()}
    return models.reference_train(
        spec,
        cast,
        x.astype(dtype),
        target.astype(dtype),
        optimizer=optimizer,
        convention=convention,
        steps=steps,
        constants={k: v.astype(dtype) for k, v in constants.items()},
    )


def _drift(history, truth) -> list[dict[str, float]]:
    """Per step, per parameter: max |history - truth|."""
    return [
        {k: float(np.max(np.abs(np.asarray(h[k], np.float64) - t[k]))) for k in t}
        for h, t in zip(history["params"], truth["params"], strict=True)
    ]


def _heavy(name: str) -> bool:
    """Training steps of the eval-mode block networks are heavy (left out of a plain
    ``pytest``; ``pytest -m network`` runs them): their train-mode twins run by default."""
    return models.NETWORKS[name].get("mode") == "eval"


TRAINING = [
    pytest.param(n, o, marks=[pytest.mark.heavy] if _heavy(n) else [])
    for n, spec in models.NETWORKS.items()
    if n != "seed000_single_filter"
    for o in spec["optimizers"]
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("name", "optimizer"), TRAINING)
def test_training_steps(name, optimizer, framework, request):
    module = _builder(framework)
    spec = models.NETWORKS[name]
    params, x, target, constants = _problem(name)
    convention = CONVENTION[framework]
    truth = _reference_run(name, optimizer, convention, "float64", K_STEPS)
    ref32 = _reference_run(name, optimizer, convention, "float32", K_STEPS)
    net = module.build(
        spec, {k: v.astype(np.float32) for k, v in params.items()}, x.shape, "float32", constants
    )
    history = net.train(x.astype(np.float32), target, optimizer=optimizer, steps=K_STEPS)

    lengths = path_lengths(name)
    fw_drift, ref_drift = _drift(history, truth), _drift(ref32, truth)
    envelope = {k: 0.0 for k in params}
    failures, divergence = [], []
    for step in range(K_STEPS):
        for k in params:
            envelope[k] = max(envelope[k], ref_drift[step][k])
            one_step = _bound(lengths["gradient"], float(np.max(np.abs(truth["params"][step][k]))))
            bound = SAFETY["float32"] * envelope[k] + one_step
            if not fw_drift[step][k] <= bound:
                failures.append(
                    f"step {step + 1} {k}: drift {fw_drift[step][k]:.3g} > "
                    f"{bound:.3g} (reference float32 drift {envelope[k]:.3g})"
                )
        divergence.append(max(fw_drift[step].values()))
        loss_drift = abs(history["loss"][step] - truth["loss"][step])
        ref_loss_drift = max(
            abs(a - b)
            for a, b in zip(ref32["loss"][: step + 1], truth["loss"][: step + 1], strict=True)
        )
        loss_bound = SAFETY["float32"] * ref_loss_drift + _bound(
            lengths["forward"], abs(truth["loss"][step])
        )
        if not loss_drift <= loss_bound:
            failures.append(f"step {step + 1} loss: {loss_drift:.3g} > {loss_bound:.3g}")
    _record_network(
        request,
        name,
        framework,
        module,
        optimizer=optimizer,
        check=f"{K_STEPS} training steps",
        convention=convention,
        loss_curves={
            f"{framework} ({optimizer})": history["loss"],
            f"reference float64 ({optimizer}, {convention} convention)": truth["loss"],
        },
        divergence=divergence,
        reference_float32_divergence=[max(d.values()) for d in ref_drift],
        final_param_drift=fw_drift[-1],
    )
    assert not failures, "; ".join(failures)


# -- seed 000: the whole 1000-epoch trajectory -------------------------------------------


def test_seed000_gradient_is_that_of_the_sum_of_squares():
    """Seed 000 prints ``np.mean((pred - target)**2)`` but steps along ``2 * (pred -
    target)`` summed over all 16 outputs: the gradient of the SUM of squares.  The networks
    therefore train on ``mse`` with ``reduction="sum"``; a mean-reduced MSE (torch
    ``MSELoss()``, Keras ``MeanSquaredError``) would give a gradient 16 times smaller."""
    from reference import conv2d, mse

    params, x, target, _ = _problem("seed000_single_filter")
    pred = conv2d.forward(x, params["conv.w"], params["conv.b"])
    seed_dl_dy = 2 * (pred - target)  # the seed's loss_gradient
    summed = mse.backward(np.array(1.0), pred, target, reduction="sum")["pred"]
    mean = mse.backward(np.array(1.0), pred, target, reduction="mean")["pred"]
    np.testing.assert_allclose(summed, seed_dl_dy, rtol=1e-15, atol=0)
    np.testing.assert_allclose(mean * pred.size, seed_dl_dy, rtol=1e-15, atol=0)
    assert pred.size == 16


def _seed000_hessian(x: np.ndarray) -> np.ndarray:
    """The constant Hessian of the sum-of-squares loss in (w00, w01, w10, w11, b):
    2 * sum over images and output positions of a a^T, a = (2x2 patch, 1)."""
    rows = [
        np.append(x[n, 0, i : i + 2, j : j + 2].ravel(), 1.0)
        for n in range(x.shape[0])
        for i in range(2)
        for j in range(2)
    ]
    a = np.array(rows)
    return 2 * a.T @ a


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seed000_trajectory(framework, request):
    """Every epoch of 1000 plain-GD epochs (lr 0.001) agrees with the reference.

    Derivation of the tolerance.  The loss is quadratic in p = (W, B), so GD is the affine
    map p <- (I - lr H) p + lr c with the constant Hessian H (``_seed000_hessian``).  When
    lr * lambda_max(H) < 2 (asserted below) every eigenvalue of I - lr H lies in (-1, 1], so
    an error made at one epoch is never amplified later: the float32 trajectory's distance
    from the exact one is at most the sum of the per-epoch rounding errors,
    ``e_t <= sum_{s<t} eps_s``.  One epoch computes a residual (5-term sum), a gradient
    (sum over the 16 outputs) and the update, so per parameter
    ``eps_s <= SAFETY * eps32 * (|p_s| + lr * 21 * G_s)`` with G_s the largest
    sum of |terms| of a gradient component (taken from the float64 run).  The bound grows
    linearly in the epoch: eps * L * epoch with L the per-epoch rounding magnitude.
    """
    module = _builder(framework)
    name = "seed000_single_filter"
    spec = models.NETWORKS[name]
    params, x, target, _ = _problem(name)
    lr = spec["optimizers"]["sgd"]["lr"]
    if framework == "keras":
        lr = float(np.float32(lr))  # Keras' float32 learning-rate variable
    hessian = _seed000_hessian(x)
    lam_max = float(np.linalg.eigvalsh(hessian).max())
    assert lr * lam_max < 2, "GD is not contractive here; the linear error bound fails"

    truth = models.reference_train(
        spec, params, x, target, optimizer="sgd", convention=CONVENTION[framework], steps=EPOCHS_000
    )
    ref32 = _reference_run(name, "sgd", CONVENTION[framework], "float32", EPOCHS_000)
    net = module.build(
        spec, {k: v.astype(np.float32) for k, v in params.items()}, x.shape, "float32"
    )
    history = net.train(x.astype(np.float32), target, optimizer="sgd", steps=EPOCHS_000)

    rows = np.array(
        [
            np.append(x[n, 0, i : i + 2, j : j + 2].ravel(), 1.0)
            for n in range(4)
            for i in range(2)
            for j in range(2)
        ]
    )
    y = target.reshape(4, 4).ravel()
    accumulated, failures = 0.0, []
    divergence, ref_divergence = [], []
    previous = params
    for epoch in range(EPOCHS_000):
        p_vec = np.append(previous["conv.w"].ravel(), previous["conv.b"])
        residual = rows @ p_vec - y
        g_abs = 2 * np.abs(rows).T @ np.abs(residual)  # sum of |terms| per component
        per_epoch = SAFETY["float32"] * EPS32 * (np.abs(p_vec).max() + lr * 21 * g_abs.max())
        accumulated += per_epoch
        t = truth["params"][epoch]
        drift = max(float(np.max(np.abs(history["params"][epoch][k] - t[k]))) for k in t)
        ref_drift = max(float(np.max(np.abs(ref32["params"][epoch][k] - t[k]))) for k in t)
        divergence.append(drift)
        ref_divergence.append(ref_drift)
        # The float32 start (identical rounded weights) adds nothing; each side is within
        # ``accumulated`` of the exact trajectory (2-norm <= sqrt(5) * elementwise).
        if drift > np.sqrt(5) * accumulated and len(failures) < 5:
            failures.append(f"epoch {epoch + 1}: drift {drift:.3g} > {accumulated:.3g}")
        previous = t
    mean_loss = [v / 16 for v in history["loss"]]  # the seed prints the mean
    _record_network(
        request,
        name,
        framework,
        module,
        optimizer="sgd",
        check=f"{EPOCHS_000}-epoch trajectory",
        lr=lr,
        lr_times_lambda_max=lr * lam_max,
        loss_curves={
            f"{framework} (sgd)": mean_loss,
            "reference float64 (sgd)": [v / 16 for v in truth["loss"]],
        },
        divergence=divergence,
        max_divergence=max(divergence),
        reference_float32_max_divergence=max(ref_divergence),
        final_bound=float(np.sqrt(5) * accumulated),
    )
    assert not failures, "; ".join(failures)
    # The run trains: the seed's mean loss falls.
    assert mean_loss[-1] < mean_loss[0]
