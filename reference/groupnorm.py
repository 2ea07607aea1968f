"""Group normalisation, NCHW: the C channels split into ``groups`` consecutive groups of
C / groups channels, each (sample, group) normalised over its channels and positions.

``y[n, c] = gamma[c] * (x[n, c] - mean[n, g]) / sqrt(var[n, g] + eps) + beta[c]`` with
``g = c // (C / groups)``, the mean and the biased variance (divide by n = C / groups * H
* W) over the group's (C / groups, H, W) values, as torch.nn.GroupNorm and Keras'
GroupNormalization (Wu & He 2018, "Group Normalization", eq. 1-2 with S_i the group).
``x`` (N, C, H, W); ``gamma``, ``beta`` (C,), per channel (not per group).  ``eps``
defaults to torch's 1e-5 (Keras GroupNormalization's is 1e-3, flax GroupNorm's 1e-6).

Channels-last libraries must split C into (groups, C / groups) on the channel axis
itself: reshaping (N, H, W, C) to (N, groups, H * W * C / groups) without moving the
channels first mixes channels with positions (tensorflow/addons#751).

Bad input (ValueError naming the parameter and the value): x not 4-D; ``groups`` not an
int >= 1 or not dividing C; ``gamma`` / ``beta`` not (C,); ``eps`` not finite or not > 0.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array
from reference._normalize import check_eps, standardize, standardize_backward

_GROUP_AXES = (2, 3, 4)  # of the grouped view (N, groups, C / groups, H, W)


def _prepare(x, gamma, beta, groups, eps):
    x = float_array("x", x, ndim=4)
    channels = x.shape[1]
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be an int >= 1, got {groups!r}")
    if channels % groups:
        raise ValueError(f"groups {groups} does not divide the {channels} channels of x")
    eps = check_eps(eps)
    params = []
    for name, value in (("gamma", gamma), ("beta", beta)):
        arr = float_array(name, value, ndim=1)
        if arr.shape != (channels,):
            raise ValueError(
                f"{name} shape {arr.shape} does not match the {channels} channels of x"
            )
        params.append(arr)
    dtype = np.result_type(x, *params)
    gamma, beta = (p.astype(dtype, copy=False)[None, :, None, None] for p in params)
    return x.astype(dtype, copy=False), gamma, beta, int(groups), eps


def _grouped(a: np.ndarray, groups: int) -> np.ndarray:
    n, c, h, w = a.shape
    return a.reshape(n, groups, c // groups, h, w)


def forward(x, gamma, beta, *, groups, eps=1e-5) -> np.ndarray:
    """``y`` (N, C, H, W) in the dtype of ``x``, ``gamma``, ``beta`` combined."""
    x, gamma, beta, groups, eps = _prepare(x, gamma, beta, groups, eps)
    y, _ = standardize(_grouped(x, groups), _GROUP_AXES, eps)
    y = y.reshape(x.shape)
    y *= gamma  # in place on standardize's fresh array
    y += beta
    return y


def backward(grad_out, x, gamma, beta, *, groups, eps=1e-5) -> dict[str, np.ndarray]:
    """``{"x", "gamma", "beta"}``: per group ``dx = inv_std * (d - mean(d) - xhat *
    mean(d * xhat))`` with ``d = g * gamma``; ``dgamma = sum(g * xhat)``, ``dbeta =
    sum(g)`` over (N, H, W)."""
    x, gamma, beta, groups, eps = _prepare(x, gamma, beta, groups, eps)
    g = grad_out_array(grad_out, x.shape, x.dtype)
    xhat, inv_std = standardize(_grouped(x, groups), _GROUP_AXES, eps)
    d_xhat = _grouped(g * gamma, groups)
    d_x = standardize_backward(d_xhat, xhat, inv_std, _GROUP_AXES).reshape(x.shape)
    xhat = xhat.reshape(x.shape)
    return {
        "x": d_x,
        "gamma": np.sum(g * xhat, axis=(0, 2, 3)),
        "beta": np.sum(g, axis=(0, 2, 3)),
    }
