"""2-D batch normalisation, NCHW, statistics per channel over (N, H, W).

``y = gamma * (x - mean) / sqrt(var + eps) + beta`` (normalise, then scale: with
gamma = +-inf, +-inf where torch/TF fold the shift and give NaN: conventions row
batchnorm_infinite_gamma) with
- ``training=True``: the batch mean and the *biased* batch variance (divide by
  N*H*W), as torch and Keras both normalise in training;
- ``training=False``: ``running_mean`` and ``running_var``.
``x`` (N, C, H, W); ``gamma``, ``beta``, ``running_mean``, ``running_var`` (C,).
``eps`` defaults to torch's 1e-5 (Keras's default is 1e-3).  The running statistics
are inputs, never updated here: ``update_running_stats`` is the separate, pure update.

Empty inputs follow torch: an empty batch or spatial axis gives an empty output and zero
``gamma``/``beta`` gradients (sums over no element); zero channels raise ValueError
(torch fails on them).  ``eps`` must be a non-negative real a float64 holds.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import flag, float_array, grad_out_array, real_number

#: Default momentum of each convention (torch.nn.BatchNorm2d, keras BatchNormalization).
DEFAULT_MOMENTUM = {"torch": 0.1, "keras": 0.99}

_PARAMS = ("gamma", "beta", "running_mean", "running_var")


def _prepare(x, params: dict, training, eps):
    x = float_array("x", x, ndim=4)
    flag("training", training)
    real_number("eps", eps, "a non-negative real number", minimum=0.0)
    if x.shape[1] == 0:
        raise ValueError(f"x shape {x.shape} has no channels")
    arrays = {}
    for name, value in params.items():
        arr = float_array(name, value, ndim=1)
        if arr.shape != (x.shape[1],):
            raise ValueError(
                f"{name} shape {arr.shape} does not match the {x.shape[1]} channels of x"
            )
        arrays[name] = arr
    dtype = np.result_type(x, *arrays.values())
    x = x.astype(dtype, copy=False)
    return x, {k: v.astype(dtype, copy=False) for k, v in arrays.items()}, dtype


def _per_channel(v: np.ndarray) -> np.ndarray:
    return v[None, :, None, None]


def _statistics(x, p, training, eps):
    """(mean, inverse std) per channel, each shaped (1, C, 1, 1)."""
    eps = x.dtype.type(eps)
    if training and x.size == 0:
        # No value per channel: the statistics are NaN (torch's too), and only reach
        # empty outputs and zero sums.
        nan = np.full((1, x.shape[1], 1, 1), np.nan, dtype=x.dtype)
        return nan, nan
    if training:
        mean = np.mean(x, axis=(0, 2, 3), keepdims=True)
        centred = x - mean
        var = np.mean(centred * centred, axis=(0, 2, 3), keepdims=True)
    else:
        mean, var = _per_channel(p["running_mean"]), _per_channel(p["running_var"])
    return mean, x.dtype.type(1) / np.sqrt(var + eps)


def forward(x, gamma, beta, running_mean, running_var, *, training, eps=1e-5) -> np.ndarray:
    """``y`` with the shape and float dtype of ``x``."""
    params = dict(zip(_PARAMS, (gamma, beta, running_mean, running_var), strict=True))
    x, p, _ = _prepare(x, params, training, eps)
    mean, inv_std = _statistics(x, p, training, eps)
    return (x - mean) * inv_std * _per_channel(p["gamma"]) + _per_channel(p["beta"])


def backward(
    grad_out, x, gamma, beta, running_mean, running_var, *, training, eps=1e-5
) -> dict[str, np.ndarray]:
    """``{"x", "gamma", "beta"}``.  Training differentiates through the batch statistics:
    ``dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat))`` (means over N, H,
    W); eval, where the statistics are constants: ``dx = gamma * inv_std * g``.
    Either way ``dgamma = sum(g * xhat)`` and ``dbeta = sum(g)``."""
    params = dict(zip(_PARAMS, (gamma, beta, running_mean, running_var), strict=True))
    x, p, dtype = _prepare(x, params, training, eps)
    g = grad_out_array(grad_out, x.shape, dtype)
    mean, inv_std = _statistics(x, p, training, eps)
    xhat = (x - mean) * inv_std
    axes = (0, 2, 3)
    d_gamma = np.sum(g * xhat, axis=axes)
    d_beta = np.sum(g, axis=axes)
    scale = _per_channel(p["gamma"]) * inv_std
    if training:
        # In x's dtype: NumPy 1.x promotes float32 by a Python int's value (n > 65535 gave
        # float64); NumPy 2 (NEP 50) does not.
        # (With no value per channel, d_x is empty: any n > 0 serves.)
        n = dtype.type(max(x.shape[0] * x.shape[2] * x.shape[3], 1))
        d_x = scale * (g - _per_channel(d_beta) / n - xhat * _per_channel(d_gamma) / n)
    else:
        d_x = scale * g
    return {"x": d_x, "gamma": d_gamma, "beta": d_beta}


def update_running_stats(x, running_mean, running_var, *, convention, momentum=None, unbiased=None):
    """The running statistics after one training step on ``x`` (N, C, H, W): a pure
    function returning ``(new_running_mean, new_running_var)``, each (C,).

    ``convention``:
    - ``"torch"``: ``new = (1 - momentum) * old + momentum * batch``, default momentum
      0.1, and the batch variance enters *unbiased* (times n/(n-1), n = N*H*W), although
      the forward pass normalised with the biased one.  torch.nn.BatchNorm2d docs:
      https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html ("the value
      stored in the moving average of the standard-deviation is calculated via the
      unbiased estimator"; update rule ``x_new = (1 - momentum) * x + momentum * x_t``).
      Needs n >= 2 (torch refuses one value per channel in training).
    - ``"keras"``: ``new = momentum * old + (1 - momentum) * batch``, default momentum
      0.99, biased variance.  keras-team/keras,
      keras/src/layers/normalization/batch_normalization.py, ``call``:
      ``moving_mean * self.momentum + mean * (1.0 - self.momentum)`` with ``mean,
      variance = ops.moments(...)`` (the biased variance).
    ``momentum=None`` takes the convention's default; it must lie in [0, 1].
    ``unbiased=None`` takes the convention's variance estimator (torch unbiased, Keras
    biased); ``True``/``False`` override it, e.g. ``convention="keras", unbiased=True`` for
    Keras 2's fused BatchNormalization kernel, which stores the unbiased variance
    (tensorflow/tensorflow#55545).
    """
    if not isinstance(convention, str) or convention not in DEFAULT_MOMENTUM:
        raise ValueError(f"convention must be 'torch' or 'keras', got {convention!r}")
    if momentum is None:
        momentum = DEFAULT_MOMENTUM[convention]
    if (
        isinstance(momentum, bool)
        or not isinstance(momentum, numbers.Real)
        or not (0 <= momentum <= 1)
    ):
        raise ValueError(f"momentum must be a real number in [0, 1], got {momentum!r}")
    if unbiased is None:
        unbiased = convention == "torch"
    if not isinstance(unbiased, (bool, np.bool_)):
        raise ValueError(f"unbiased must be True, False or None, got {unbiased!r}")
    params = {"running_mean": running_mean, "running_var": running_var}
    x, p, dtype = _prepare(x, params, True, 0.0)
    n = x.shape[0] * x.shape[2] * x.shape[3]
    mean = np.mean(x, axis=(0, 2, 3))
    centred = x - mean[None, :, None, None]
    biased_var = np.mean(centred * centred, axis=(0, 2, 3))
    m = dtype.type(momentum)
    one = dtype.type(1)
    if unbiased:
        if n < 2:
            raise ValueError(
                f"x shape {x.shape} has n = N*H*W = {n} value per channel; the unbiased "
                "variance needs at least 2"
            )
        batch_var = biased_var * dtype.type(n / (n - 1))
    else:
        batch_var = biased_var
    if convention == "torch":
        new_mean = (one - m) * p["running_mean"] + m * mean
        new_var = (one - m) * p["running_var"] + m * batch_var
    else:
        new_mean = m * p["running_mean"] + (one - m) * mean
        new_var = m * p["running_var"] + (one - m) * batch_var
    return new_mean, new_var
