"""The tolerance of a normalisation over slices (layer norm, group norm), computed from the
inputs with NumPy directly, never with the reference's own code.

Per slice (the values normalised together, n of them), with ``std = sqrt(var + eps)``,
``cond = max|x| / std`` and ``h = max|xhat|``, as for batch norm
(tests/layers/batchnorm2d.py): the mean errs by ``eps * n * cond`` in units of std and the
variance by ``eps * n * cond^2`` relative when a framework takes it as ``E[x^2] - mean^2``
(flax's "fast variance", which the jax adapter writes), so ``xhat`` errs by
``eps * n * cond * (1 + h * cond)``.  Outputs scale that by ``|gamma|`` (plus ``|beta|``);
the input gradient ``inv_std * (d - mean(d) - xhat * mean(d * xhat))``, ``d = g * gamma``,
has terms of size ``max|d| / std * (1 + h)^2``, all scaled by ``inv_std``, whose relative
error is the variance's, ``eps * n * cond^2`` (it matters even where ``h = 0``: a slice of
equal values, whose variance E[x^2] - mean^2 rounds to a few ulps of ``mean^2``), and the
last term carries ``xhat``'s error: ``max|d| / std * ((1 + h)^2 (1 + cond^2) + 2 h
xhat_err)``.  ``dgamma`` and ``dbeta`` sum ``|g| (h + xhat_err)`` and ``|g|`` over the
other positions.
"""

from __future__ import annotations

import numpy as np

from tests import tolerances


def slice_terms(x: np.ndarray, axes: tuple[int, ...], eps: float):
    """``(std, xhat_err, h, cond)`` per slice, broadcast back to ``x``'s shape."""
    mean = x.mean(axis=axes, keepdims=True)
    std = np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    cond = np.abs(x).max(axis=axes, keepdims=True) / std
    h = (np.abs(x - mean) / std).max(axis=axes, keepdims=True)
    terms = (std, cond * (1 + h * cond), h, cond)
    return tuple(np.broadcast_to(v, x.shape) for v in terms)


def bound(direction, dtype, n, terms, gamma_b, beta_b, grad_out, slice_max, param_axes):
    """The reduction bound of a normalisation over slices of n values.  ``terms`` is
    ``slice_terms``'s result (in the layer's layout), ``gamma_b`` / ``beta_b`` broadcast
    against it, ``slice_max(a)`` is each slice's max of ``a`` broadcast back, and the
    parameter gradients sum over ``param_axes`` (keeping the others, in gamma's shape
    once squeezed)."""
    std, err, h, cond = terms
    g_abs, b_abs = np.abs(gamma_b), np.abs(beta_b)
    if direction == "forward":
        return tolerances.reduction(
            dtype, {"y": (n, g_abs * err + b_abs)}, "per slice |gamma| cond (1 + h cond) + |beta|"
        )
    ga = np.abs(grad_out)
    d_max = slice_max(ga * g_abs)
    m = int(np.prod([std.shape[a] for a in param_axes]))
    shape = tuple(np.shape(gamma_b)[a] for a in range(std.ndim) if a not in param_axes)
    sized = {
        "x": (n, d_max / std * ((1 + h) ** 2 * (1 + cond**2) + 2 * h * err)),
        "gamma": (m, np.sum(ga * (h + err), axis=param_axes).reshape(shape)),
        "beta": (m, np.sum(ga, axis=param_axes).reshape(shape)),
    }
    return tolerances.reduction(dtype, sized, "per slice, see tests/layers/_norm.py")
