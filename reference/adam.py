"""Adam (Kingma & Ba, 2014) in the two conventions the frameworks ship.

State: ``{"t": steps taken, "m": {name: first moment}, "v": {name: second moment}}``, built
by ``init``.  Per step ``t`` (counted from 1), for every parameter ``p`` with gradient ``g``:

    m <- b1 * m + (1 - b1) * g
    v <- b2 * v + (1 - b2) * g**2

then the two conventions differ only in where ``eps`` enters:

- ``convention="torch"`` (``torch.optim.Adam``, default eps 1e-8): eps is added *after* the
  second moment's bias correction::

      p <- p - lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)

  Source: pytorch/pytorch torch/optim/adam.py ``_single_tensor_adam``:
  ``exp_avg.lerp_(grad, 1 - beta1)``; ``exp_avg_sq.mul_(beta2).addcmul_(grad, grad,
  value=1 - beta2)``; ``step_size = lr / bias_correction1``;
  ``denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)``;
  ``param.addcdiv_(exp_avg, denom, value=-step_size)``.

- ``convention="keras"`` (Keras 3 ``keras.optimizers.Adam``, default epsilon 1e-7): eps is
  added to the *uncorrected* ``sqrt(v)`` and the corrections are folded into the step::

      p <- p - lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps)

  Source: keras-team/keras keras/src/optimizers/adam.py ``Adam.update_step``:
  ``alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)``;
  ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``;
  ``variable -= m * alpha / (ops.sqrt(v) + epsilon)``.

Keras's TensorFlow backend rounds Python-float hyperparameters to float32 on the way in:
the learning rate is a ``backend.Variable`` of dtype ``floatx()``
(keras/src/optimizers/base_optimizer.py) and ``ops.cast(self.beta_2, dtype)`` is
``tf.cast`` of a Python float, which converts to a float32 tensor first.  For float64
parameters pass ``scalar_dtype="float32"`` to reproduce that; it changes nothing for
float32 parameters.

Both updates are equal when ``eps_keras = eps_torch * sqrt(1 - b2**t)``; with the defaults
the Keras step is the smaller one where ``sqrt(v)`` is comparable to eps.  Arithmetic
follows each framework's order of operations in the parameter's dtype (Python-float
scalars rounded to that dtype), so that float32 runs agree to a few ulps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: Default eps of each convention (torch.optim.Adam eps=1e-8; keras.optimizers.Adam
#: epsilon=1e-7 per their signatures).
DEFAULT_EPS = {"torch": 1e-8, "keras": 1e-7}


def init(params: Mapping[str, np.ndarray]) -> dict:
    """Zero moments and step count 0 for ``params``."""
    zeros = {name: np.zeros_like(np.asarray(value)) for name, value in params.items()}
    return {"t": 0, "m": zeros, "v": {name: z.copy() for name, z in zeros.items()}}


def step(
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    state: Mapping,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float | None = None,
    convention: str = "torch",
    scalar_dtype: str | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """One Adam update; returns ``(new_params, new_state)`` and leaves the inputs untouched.

    ``eps=None`` takes the convention's default (``DEFAULT_EPS``).  ``scalar_dtype`` (Keras
    convention only) is the dtype lr and the bias-correction betas pass through before
    use; ``None`` means the parameter's dtype.
    """
    if convention not in DEFAULT_EPS:
        raise ValueError(f"convention must be 'torch' or 'keras', got {convention!r}")
    eps = DEFAULT_EPS[convention] if eps is None else float(eps)
    for name, value in (("lr", lr), ("eps", eps)):
        if not math.isfinite(float(value)) or float(value) < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    for name, value in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= float(value) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    if set(params) != set(grads):
        raise ValueError(f"grads keys {sorted(grads)} do not match params keys {sorted(params)}")
    t = int(state["t"]) + 1
    if scalar_dtype is not None and convention != "keras":
        raise ValueError(f"scalar_dtype applies to convention 'keras' only, got {scalar_dtype!r}")
    update = _torch_update if convention == "torch" else _keras_update
    new_params, new_m, new_v = {}, {}, {}
    for name, value in params.items():
        p = np.asarray(value)
        g = np.asarray(grads[name]).astype(p.dtype)
        if g.shape != p.shape:
            raise ValueError(f"grads[{name!r}] shape {g.shape} != params shape {p.shape}")
        new_params[name], new_m[name], new_v[name] = update(
            p,
            g,
            state["m"][name],
            state["v"][name],
            t,
            float(lr),
            beta1,
            beta2,
            eps,
            scalar_dtype,
        )
    return new_params, {"t": t, "m": new_m, "v": new_v}


def _torch_update(p, g, m, v, t, lr, beta1, beta2, eps, scalar_dtype):
    del scalar_dtype
    f = p.dtype.type
    # lerp with weight < 0.5 evaluates self + weight * (end - self) (ATen Lerp.h).
    m = m + f(1 - beta1) * (g - m)
    v = v * f(beta2) + f(1 - beta2) * (g * g)
    # torch keeps the bias corrections and step size as Python floats (double).
    step_size = lr / (1 - beta1**t)
    bias_correction2_sqrt = (1 - beta2**t) ** 0.5
    denom = np.sqrt(v) / f(bias_correction2_sqrt) + f(eps)
    return p + f(-step_size) * (m / denom), m, v


def _keras_update(p, g, m, v, t, lr, beta1, beta2, eps, scalar_dtype):
    f = p.dtype.type
    s = f if scalar_dtype is None else np.dtype(scalar_dtype).type
    # Keras casts lr, betas and the step to the variable's dtype before the powers.
    beta_1_power = f(s(beta1)) ** f(t)
    beta_2_power = f(s(beta2)) ** f(t)
    alpha = f(s(lr)) * np.sqrt(f(1) - beta_2_power) / (f(1) - beta_1_power)
    m = m + (g - m) * f(1 - beta1)
    v = v + (np.square(g) - v) * f(1 - beta2)
    return p - (m * alpha) / (np.sqrt(v) + f(eps)), m, v
