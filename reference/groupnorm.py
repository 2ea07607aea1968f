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

``forward`` / ``backward`` work on per-row sums of the contiguous (N * groups, C / groups *
H * W) view (reference/_normalize.py's ``row_moments``) and apply the result as one
scale and shift per (sample, channel); ``forward_plain`` / ``backward_plain`` are the
direct NumPy reductions over the grouped axes that tests hold them to.

Bad input (ValueError naming the parameter and the value): x not 4-D; ``groups`` not an
int >= 1 or not dividing C; ``gamma`` / ``beta`` not (C,); ``eps`` not finite or not > 0.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array
from reference._normalize import (
    check_eps,
    row_dots,
    row_moments,
    row_sums,
    short_row_buffers,
    standardize,
    standardize_backward,
)

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


def _moments(x, groups, eps):
    """Per (sample, group): ``inv_std`` (N * groups,), and ``base`` (x or x shifted, as
    (N * C, H * W) channel rows) with the mean ``base_mean`` of each group of it, so that
    ``xhat = (base - base_mean) * inv_std`` per group."""
    n, c, h, w = x.shape
    var, base, base_mean = row_moments(x.reshape(n * groups, -1))
    inv_std = 1 / np.sqrt(var + x.dtype.type(eps))
    return inv_std, base.reshape(n * c, h * w), base_mean


def _per_channel(per_group: np.ndarray, groups: int, channels: int) -> np.ndarray:
    """(N * groups,) -> (N * C,): each group's value repeated for its channels."""
    return np.repeat(per_group, channels // groups)


def forward(x, gamma, beta, *, groups, eps=1e-5) -> np.ndarray:
    """``y`` (N, C, H, W) in the dtype of ``x``, ``gamma``, ``beta`` combined."""
    x, gamma, beta, groups, eps = _prepare(x, gamma, beta, groups, eps)
    if x.size == 0:  # no rows to take sums of
        return _forward_plain(x, gamma, beta, groups, eps)
    with short_row_buffers():
        return _forward(x, gamma, beta, groups, eps)


def _forward(x, gamma, beta, groups, eps):
    n, c = x.shape[:2]
    inv_std, base, base_mean = _moments(x, groups, eps)
    # y = gamma * (base - base_mean) * inv_std + beta = base * scale + shift per channel
    scale = _per_channel(inv_std, groups, c) * np.tile(gamma.reshape(c), n)
    shift = np.tile(beta.reshape(c), n) - _per_channel(base_mean, groups, c) * scale
    y = base * scale[:, None]
    y += shift[:, None]
    return y.reshape(x.shape)


def backward(grad_out, x, gamma, beta, *, groups, eps=1e-5) -> dict[str, np.ndarray]:
    """``{"x", "gamma", "beta"}``: per group ``dx = inv_std * (d - mean(d) - xhat *
    mean(d * xhat))`` with ``d = g * gamma``; ``dgamma = sum(g * xhat)``, ``dbeta =
    sum(g)`` over (N, H, W)."""
    x, gamma, beta, groups, eps = _prepare(x, gamma, beta, groups, eps)
    g = grad_out_array(grad_out, x.shape, x.dtype)
    if x.size == 0:
        return _backward_plain(g, x, gamma, groups, eps)
    with short_row_buffers():
        return _backward(g, x, gamma, groups, eps)


def _backward(g, x, gamma, groups, eps):
    n, c = x.shape[:2]
    inv_std, base, base_mean = _moments(x, groups, eps)
    rows = g.reshape(n * c, -1)
    inv_c, mean_c = _per_channel(inv_std, groups, c), _per_channel(base_mean, groups, c)
    # per (sample, channel): sum(g) and sum(g * xhat)
    sum_g = row_sums(rows)
    sum_g_xhat = inv_c * (row_dots(rows, base) - mean_c * sum_g)
    gamma_c = np.tile(gamma.reshape(c), n)
    k = base.shape[1] * (c // groups)
    mean_d = (gamma_c * sum_g).reshape(n * groups, -1).sum(axis=1) / k
    mean_d_xhat = (gamma_c * sum_g_xhat).reshape(n * groups, -1).sum(axis=1) / k
    # dx = inv * gamma * g + coef * (base - base_mean) - inv * mean(d), per channel row
    coef = _per_channel(-inv_std * inv_std * mean_d_xhat, groups, c)
    offset = _per_channel(-inv_std * mean_d, groups, c) - coef * mean_c
    d_x = rows * (inv_c * gamma_c)[:, None]
    from_x = base * coef[:, None]
    from_x += offset[:, None]
    d_x += from_x
    return {
        "x": d_x.reshape(x.shape),
        "gamma": sum_g_xhat.reshape(n, c).sum(axis=0),
        "beta": sum_g.reshape(n, c).sum(axis=0),
    }


def forward_plain(x, gamma, beta, *, groups, eps=1e-5) -> np.ndarray:
    """``forward`` as NumPy reductions over the grouped axes, two-pass variance."""
    return _forward_plain(*_prepare(x, gamma, beta, groups, eps))


def _forward_plain(x, gamma, beta, groups, eps):
    y, _ = standardize(_grouped(x, groups), _GROUP_AXES, eps)
    y = y.reshape(x.shape)
    y *= gamma  # in place on standardize's fresh array
    y += beta
    return y


def backward_plain(grad_out, x, gamma, beta, *, groups, eps=1e-5) -> dict[str, np.ndarray]:
    """``backward`` as NumPy reductions over the grouped axes, two-pass variance."""
    x, gamma, beta, groups, eps = _prepare(x, gamma, beta, groups, eps)
    return _backward_plain(grad_out_array(grad_out, x.shape, x.dtype), x, gamma, groups, eps)


def _backward_plain(g, x, gamma, groups, eps):
    xhat, inv_std = standardize(_grouped(x, groups), _GROUP_AXES, eps)
    d_xhat = _grouped(g * gamma, groups)
    d_x = standardize_backward(d_xhat, xhat, inv_std, _GROUP_AXES).reshape(x.shape)
    xhat = xhat.reshape(x.shape)
    return {
        "x": d_x,
        "gamma": np.sum(g * xhat, axis=(0, 2, 3)),
        "beta": np.sum(g, axis=(0, 2, 3)),
    }
