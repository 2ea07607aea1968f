"""Plain stochastic gradient descent: ``p <- p - lr * g`` for every parameter.

This is the update both frameworks apply when momentum is 0 and there is no weight decay:
- torch: ``param.add_(grad, alpha=-lr)`` in ``_single_tensor_sgd``
  (pytorch/pytorch torch/optim/sgd.py);
- Keras 3: ``self.assign_sub(variable, ops.multiply(gradient, learning_rate))`` in
  ``SGD.update_step`` (keras-team/keras keras/src/optimizers/sgd.py).

Parameters are a dict name -> ndarray; the update runs in each parameter's dtype (``lr`` is
rounded to that dtype first, as both frameworks do).  SGD keeps no state; ``state`` is passed
through so that every optimizer has the same signature.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def init(params: Mapping[str, np.ndarray]) -> dict:
    """The (empty) optimizer state for ``params``."""
    del params
    return {}


def step(
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    state: Mapping | None = None,
    *,
    lr: float,
) -> tuple[dict[str, np.ndarray], dict]:
    """One update; returns ``(new_params, new_state)`` and leaves the inputs untouched."""
    lr = float(lr)
    if not np.isfinite(lr) or lr < 0:
        raise ValueError(f"lr must be a finite number >= 0, got {lr!r}")
    _check_keys(params, grads)
    new_params = {}
    for name, value in params.items():
        value = np.asarray(value)
        grad = np.asarray(grads[name])
        if grad.shape != value.shape:
            raise ValueError(f"grads[{name!r}] shape {grad.shape} != params shape {value.shape}")
        new_params[name] = value - grad.astype(value.dtype) * value.dtype.type(lr)
    return new_params, dict(state or {})


def _check_keys(params: Mapping, grads: Mapping) -> None:
    if set(params) != set(grads):
        raise ValueError(f"grads keys {sorted(grads)} do not match params keys {sorted(params)}")
