"""Standardisation over a set of axes, shared by ``layernorm`` and ``groupnorm``.

``xhat = (x - mean) / sqrt(var + eps)`` with the mean and the *biased* variance (divided
by n, the number of values reduced) over ``axes``.

Two implementations, held to each other by tests/reference/test_norm_fast_paths.py:

- ``standardize`` / ``standardize_backward`` (the plain ones): NumPy reductions over
  ``axes``, the variance in two passes (the mean, then the mean of the centred squares),
  so that an offset input loses no precision.
- ``row_moments`` / ``row_sums`` / ``row_dots`` (the fast one's pieces) for slices that
  are the contiguous rows of a 2-D view: sums as BLAS products with a ones vector, and the
  variance in one pass, ``E[x^2] - mean^2``, only where that is as accurate as two passes
  (below); the layers build their affine maps from these per-row sums.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_eps(eps) -> float:
    """``eps`` as a float; it must be a finite real number > 0 (with 0, a constant slice
    divides by zero)."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps):
        raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
    if not eps > 0:
        raise ValueError(f"eps must be a finite real number > 0, got {eps!r}")
    return float(eps)


def standardize(x: np.ndarray, axes: tuple[int, ...], eps: float):
    """``(xhat, inv_std)``; ``inv_std`` keeps the reduced axes (size 1)."""
    mean = np.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = np.mean(np.square(centred), axis=axes, keepdims=True)
    inv_std = x.dtype.type(1) / np.sqrt(var + x.dtype.type(eps))
    centred *= inv_std  # in place: centred becomes xhat (one array less per call)
    return centred, inv_std


def standardize_backward(d_xhat, xhat, inv_std, axes: tuple[int, ...]) -> np.ndarray:
    """The VJP of ``standardize`` for ``d_xhat``:
    ``inv_std * (d - mean(d) - xhat * mean(d * xhat))``, means over ``axes``."""
    mean_d = np.mean(d_xhat, axis=axes, keepdims=True)
    mean_dx = np.mean(d_xhat * xhat, axis=axes, keepdims=True)
    d_x = d_xhat - mean_d
    d_x -= xhat * mean_dx
    d_x *= inv_std
    return d_x


#: Elements of NumPy's ufunc buffer inside ``short_row_buffers``.
_SHORT_ROW_BUFSIZE = 1024


class short_row_buffers:  # lower case: used like a function, ``with short_row_buffers():``
    """NumPy's ufunc buffer set small for per-row broadcasts (``rows * scale[:, None]``).

    Why: with the default 8192-element buffer, NumPy's iterator buffers operations whose
    rows are shorter than about 4096 elements, and a (1024, 784) float32 ``rows *
    scale[:, None]`` took 0.17 ms here against 0.10 ms with a 1024-element buffer (the
    speed of a contiguous multiply); results are identical, only the iteration changes.
    ``np.setbufsize`` is restored on exit (NumPy >= 2 also scopes it to ``np.errstate``).
    """

    def __enter__(self):
        self._old = np.setbufsize(_SHORT_ROW_BUFSIZE)
        return self

    def __exit__(self, *exc_info):
        np.setbufsize(self._old)


#: One pass is used only while ``k * eps`` (k values per row) stays below this, so that a
#: computed ``E[x^2]`` errs by at most ``k eps / (1 - k eps) < 1/7`` of ``E[x^2]``
#: (recursive summation, Higham, "Accuracy and Stability of Numerical Algorithms", 2nd
#: ed., eq. 4.4; BLAS sums in blocks, which only lowers it).
_ONE_PASS_MAX_K_EPS = 0.125


def row_sums(rows: np.ndarray) -> np.ndarray:
    """``rows.sum(axis=1)`` of a 2-D array (S, k), as a matrix-vector product."""
    return rows @ np.ones(rows.shape[1], rows.dtype)


def row_dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a * b).sum(axis=1)`` of two 2-D arrays (S, k), without the product array."""
    return np.matmul(a[:, None, :], b[:, :, None]).reshape(a.shape[0])


def row_moments(rows: np.ndarray):
    """``(var, base, base_mean)`` of every row of the 2-D array ``rows`` (S, k): the biased
    variance (S,), and ``rows`` or a shifted copy with the mean ``base_mean`` (S,) of each
    of its rows, so that ``xhat = (base - base_mean) / sqrt(var + eps)`` either way.

    One pass (``var = E[x^2] - mean^2``, ``base`` is ``rows``) when every row has ``mean^2
    <= var`` and ``k eps < 1/8``: then ``mean^2 <= (4/3) var`` even after the computed
    variance's own error, so its rounding error is a few times the two-pass one at most.
    Otherwise (offset rows, constant rows, NaN or Inf anywhere) two passes, ``base = rows -
    mean``, with the corrected two-pass formula ``var = (sum(c^2) - sum(c)^2 / k) / k``
    (Chan, Golub & LeVeque 1983, eq. 1.7) whose ``sum(c) / k`` is ``base_mean``."""
    k = rows.shape[1]
    mean = row_sums(rows) / k
    if k * np.finfo(rows.dtype).eps < _ONE_PASS_MAX_K_EPS:
        var = row_dots(rows, rows) / k - mean * mean
        if np.all(mean * mean <= var):
            return var, rows, mean
    centred = rows - mean[:, None]
    base_mean = row_sums(centred) / k
    var = row_dots(centred, centred) / k - base_mean * base_mean
    return np.maximum(var, 0), centred, base_mean
