"""Layer normalisation over any set of axes of ``x``.

``y = gamma * (x - mean) / sqrt(var + eps) + beta``, the mean and the biased variance
(divide by n) taken over ``axes`` separately for every index of the other axes.

- ``axes``: a tuple (or list) of axes of ``x``, negatives counting from the end, in any
  order; each named once.  A single int is taken as a one-axis tuple.
- ``gamma``, ``beta``: the shape of ``x`` on those axes, in increasing axis order:
  ``tuple(x.shape[a] for a in sorted(axes))`` (so ``axes=(3, 1)`` on NCHW wants
  ``(C, W)``).  This is torch's ``normalized_shape`` when the axes are the trailing
  ones, and the shape Keras' LayerNormalization gives its weights (it sorts ``axis``).
- ``eps``: torch's default 1e-5 (Keras LayerNormalization's is 1e-3, flax's 1e-6).

Common uses: ConvNeXt's channels-only norm on NCHW is ``axes=(1,)``; torch's
``nn.LayerNorm((C, H, W))`` is ``axes=(1, 2, 3)``; a transformer's over the features
of (N, L, D) is ``axes=(-1,)``.

When ``axes`` are the trailing axes of ``x`` (torch's ``normalized_shape``), ``forward``
and ``backward`` work on per-row sums of the contiguous (slices, values) view
(reference/_normalize.py's ``row_moments``); other axes, and ``forward_plain`` /
``backward_plain`` always, take the direct NumPy reductions over ``axes`` that tests
hold the fast path to.

Bad input (ValueError naming the parameter and the value): ``axes`` empty, not ints,
out of range or naming an axis twice; ``gamma`` / ``beta`` of another shape; ``eps``
not finite or not > 0.  NaN and Inf propagate through the arithmetic.
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


def normalized_axes(axes, ndim: int) -> tuple[int, ...]:
    """``axes`` as sorted non-negative axes of an ``ndim``-dimensional array."""
    raw = (axes,) if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool) else axes
    if not isinstance(raw, (tuple, list)) or not raw:
        raise ValueError(f"axes must be a non-empty tuple of ints, got {axes!r}")
    seen: list[int] = []
    for axis in raw:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"axes must be a non-empty tuple of ints, got {axes!r}")
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"axes {axes!r}: axis {axis} is out of range for x with {ndim} dimensions"
            )
        axis = int(axis) % ndim
        if axis in seen:
            raise ValueError(f"axes {axes!r} name axis {axis} twice")
        seen.append(axis)
    return tuple(sorted(seen))


def _prepare(x, gamma, beta, axes, eps):
    x = float_array("x", x)
    axes = normalized_axes(axes, x.ndim)
    eps = check_eps(eps)
    want = tuple(x.shape[a] for a in axes)
    params = []
    for name, value in (("gamma", gamma), ("beta", beta)):
        arr = float_array(name, value)
        if arr.shape != want:
            raise ValueError(
                f"{name} shape {arr.shape} does not match the shape {want} of x "
                f"{x.shape} on axes {axes}"
            )
        params.append(arr)
    dtype = np.result_type(x, *params)
    broadcast = tuple(x.shape[a] if a in axes else 1 for a in range(x.ndim))
    gamma, beta = (p.astype(dtype, copy=False).reshape(broadcast) for p in params)
    return x.astype(dtype, copy=False), gamma, beta, axes, eps


def _fast(x, axes) -> bool:
    """The row path: ``axes`` trailing (contiguous slices) and something to sum."""
    return x.size > 0 and axes == tuple(range(x.ndim - len(axes), x.ndim))


def _rows(x, gamma, eps):
    """x as (slices, values) rows, and each row's ``inv_std``, ``base`` and ``base_mean``
    (``xhat = (base - base_mean) * inv_std``, reference/_normalize.py's ``row_moments``)."""
    rows = x.reshape(-1, gamma.size)
    var, base, base_mean = row_moments(rows)
    return 1 / np.sqrt(var + x.dtype.type(eps)), base, base_mean


def forward(x, gamma, beta, *, axes, eps=1e-5) -> np.ndarray:
    """``y`` with the shape of ``x`` and the dtype of ``x``, ``gamma``, ``beta`` combined."""
    x, gamma, beta, axes, eps = _prepare(x, gamma, beta, axes, eps)
    if not _fast(x, axes):
        return _forward_plain(x, gamma, beta, axes, eps)
    with short_row_buffers():
        inv_std, base, base_mean = _rows(x, gamma, eps)
        y = base - base_mean[:, None]
        y *= inv_std[:, None]
        y *= gamma.reshape(-1)
        y += beta.reshape(-1)
    return y.reshape(x.shape)


def backward(grad_out, x, gamma, beta, *, axes, eps=1e-5) -> dict[str, np.ndarray]:
    """``{"x", "gamma", "beta"}``: ``dx = inv_std * (d - mean(d) - xhat * mean(d * xhat))``
    with ``d = g * gamma`` and means over ``axes``; ``dgamma = sum(g * xhat)`` and
    ``dbeta = sum(g)`` over the other axes (shaped like gamma)."""
    x, gamma, beta, axes, eps = _prepare(x, gamma, beta, axes, eps)
    g = grad_out_array(grad_out, x.shape, x.dtype)
    if not _fast(x, axes):
        return _backward_plain(g, x, gamma, axes, eps)
    with short_row_buffers():
        grads = _backward_rows(g, x, gamma, eps)
    grads["gamma"] = grads["gamma"].reshape(tuple(x.shape[a] for a in axes))
    grads["beta"] = grads["beta"].reshape(grads["gamma"].shape)
    grads["x"] = grads["x"].reshape(x.shape)
    return grads


def _backward_rows(g, x, gamma, eps):
    inv_std, base, base_mean = _rows(x, gamma, eps)
    rows = g.reshape(base.shape)
    k = base.shape[1]
    d = rows * gamma.reshape(-1)
    mean_d = row_sums(d) / k
    mean_d_xhat = inv_std * (row_dots(d, base) - base_mean * row_sums(d)) / k
    # dx = inv * d + coef * (base - base_mean) - inv * mean(d), per row
    coef = -inv_std * inv_std * mean_d_xhat
    offset = -inv_std * mean_d - coef * base_mean
    d *= inv_std[:, None]
    from_x = base * coef[:, None]
    from_x += offset[:, None]
    d += from_x
    # dgamma = sum over rows of g * (base - base_mean) * inv
    g_base = rows * base
    d_gamma = inv_std @ g_base - (inv_std * base_mean) @ rows
    return {
        "x": d,
        "gamma": d_gamma,
        "beta": np.ones(rows.shape[0], rows.dtype) @ rows,
    }


def forward_plain(x, gamma, beta, *, axes, eps=1e-5) -> np.ndarray:
    """``forward`` as NumPy reductions over ``axes`` (any axes), two-pass variance."""
    return _forward_plain(*_prepare(x, gamma, beta, axes, eps))


def _forward_plain(x, gamma, beta, axes, eps):
    y, _ = standardize(x, axes, eps)
    y *= gamma  # in place on standardize's fresh array
    y += beta
    return y


def backward_plain(grad_out, x, gamma, beta, *, axes, eps=1e-5) -> dict[str, np.ndarray]:
    """``backward`` as NumPy reductions over ``axes`` (any axes), two-pass variance."""
    x, gamma, beta, axes, eps = _prepare(x, gamma, beta, axes, eps)
    return _backward_plain(grad_out_array(grad_out, x.shape, x.dtype), x, gamma, axes, eps)


def _backward_plain(g, x, gamma, axes, eps):
    xhat, inv_std = standardize(x, axes, eps)
    others = tuple(a for a in range(x.ndim) if a not in axes)
    shape = tuple(x.shape[a] for a in axes)
    return {
        "x": standardize_backward(g * gamma, xhat, inv_std, axes),
        "gamma": np.sum(g * xhat, axis=others).reshape(shape),
        "beta": np.sum(g, axis=others).reshape(shape),
    }
