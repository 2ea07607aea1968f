"""The SciPy signal view (seed 004): ``correlate``, ``convolve`` (N-D, at least 1-D),
``correlate2d``, ``convolve2d`` (2-D), each with ``mode`` "full", "valid" or "same" and
scipy.signal's semantics, and a backward each (``<name>_backward``).

Definitions (zeros outside the inputs; ``n`` = in1.shape, ``k`` = in2.shape):
- full correlation ``c[m] = sum_i in1[i] * in2[i - m + k - 1]``, shape n + k - 1 (a
  full-size in2 that slides from hanging off the left edge to hanging off the right);
  full convolution is full correlation with in2 reversed along every axis.
- "full" is that array; "valid" keeps the positions where one input covers the other,
  ``full[min(n, k) - 1 : max(n, k)]`` per axis, and needs one input at least as large as
  the other in every axis: scipy.signal swaps the inputs when in2 is the larger one
  (``_inputs_swap_needed`` in scipy/signal/_signaltools.py), for correlate2d too.
- "same" keeps ``n`` entries per axis, starting at
  - ``(k - 1) // 2`` for correlate, convolve and convolve2d: ``_centered(full, n)`` in
    scipy/signal/_signaltools.py, i.e. centred in the full output with the extra
    element of an even kernel on the right (correlate goes through
    ``convolve(in1, _reverse_and_conj(in2))``);
  - ``k // 2`` for correlate2d, one later for an even kernel: SciPy computes it as
    ``_sigtools._convolve2d(in1, in2.conj(), 0, ...)`` (flip flag 0), and the C kernel
    (scipy/signal/_firfilter.c) anchors the unflipped kernel on tap ``k // 2``.
  These offsets were read from scipy 1.17's source and agree with its output.
Real inputs only (no conjugation); integer inputs compute in float64, float32 stays
float32.  Empty and 0-d inputs are rejected.  Sums are over the overlap only, so a
NaN/Inf spreads only to the outputs it touches (as jax.scipy.signal; SciPy multiplies a
NaN kernel tap by the zero fill too, making every output NaN: conventions row
scipy_nan_kernel).

Backwards: ``<name>_backward(grad_out, in1, in2, mode)`` -> ``{"in1", "in2"}``.
"""

from __future__ import annotations

import numpy as np

from reference._checks import float_array, grad_out_array, one_of

MODES = ("full", "valid", "same")


def _prepare(in1, in2, mode, ndim):
    in1 = float_array("in1", in1)
    in2 = float_array("in2", in2)
    one_of("mode", mode, MODES)
    for name, arr in (("in1", in1), ("in2", in2)):
        if ndim is not None and arr.ndim != ndim:
            raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
        if arr.ndim == 0 or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty array of at least 1 dimension, "
                             f"got shape {arr.shape}")  # fmt: skip
    if in1.ndim != in2.ndim:
        raise ValueError(
            f"in1 shape {in1.shape} and in2 shape {in2.shape} must have the same number "
            "of dimensions"
        )
    if mode == "valid":
        bigger1 = all(a >= b for a, b in zip(in1.shape, in2.shape, strict=True))
        bigger2 = all(b >= a for a, b in zip(in1.shape, in2.shape, strict=True))
        if not (bigger1 or bigger2):
            raise ValueError(
                f"mode 'valid' needs one input at least as large as the other in every "
                f"dimension, got in1 shape {in1.shape} and in2 shape {in2.shape}"
            )
    dtype = np.result_type(in1, in2)
    return in1.astype(dtype, copy=False), in2.astype(dtype, copy=False)


def _window(n, k, mode, same_start) -> tuple[slice, ...]:
    """The slice of the full output that ``mode`` keeps."""
    if mode == "full":
        return tuple(slice(None) for _ in n)
    if mode == "valid":
        return tuple(slice(min(a, b) - 1, max(a, b)) for a, b in zip(n, k, strict=True))
    return tuple(slice(same_start(b), same_start(b) + a) for a, b in zip(n, k, strict=True))


def _shifted(start: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(s, s + n) for s, n in zip(start, shape, strict=True))


def _flip(a: np.ndarray) -> np.ndarray:
    return a[(slice(None, None, -1),) * a.ndim]


def _full_correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full correlation, looping over the taps of the smaller input (each step is one
    vectorised multiply-add over the other)."""
    out = np.zeros(tuple(n + k - 1 for n, k in zip(a.shape, b.shape, strict=True)), dtype=a.dtype)
    if b.size <= a.size:
        for j in np.ndindex(b.shape):
            start = tuple(kk - 1 - jj for kk, jj in zip(b.shape, j, strict=True))
            out[_shifted(start, a.shape)] += b[j] * a
    else:
        b_flipped = _flip(b)
        for i in np.ndindex(a.shape):
            out[_shifted(i, b.shape)] += a[i] * b_flipped
    return out


def _valid_correlate(big: np.ndarray, small: np.ndarray) -> np.ndarray:
    """``out[m] = sum_j small[j] * big[m + j]`` (no padding), looping over whichever
    of the taps of ``small`` or the output positions is fewer."""
    shape = tuple(b - s + 1 for b, s in zip(big.shape, small.shape, strict=True))
    out = np.zeros(shape, dtype=big.dtype)
    if small.size <= out.size:
        for j in np.ndindex(small.shape):
            out += small[j] * big[_shifted(j, shape)]
    else:
        for m in np.ndindex(shape):
            out[m] = np.sum(small * big[_shifted(m, small.shape)])
    return out


def _nd_start(k: int) -> int:
    return (k - 1) // 2


def _corr2d_start(k: int) -> int:
    return k // 2


def _forward(in1, in2, mode, *, ndim, flip_kernel, same_start) -> np.ndarray:
    in1, in2 = _prepare(in1, in2, mode, ndim)
    kernel = _flip(in2) if flip_kernel else in2
    full = _full_correlate(in1, kernel)
    return full[_window(in1.shape, in2.shape, mode, same_start)]


def _backward(grad_out, in1, in2, mode, *, ndim, flip_kernel, same_start):
    in1_in, in2_in = in1, in2
    in1, in2 = _prepare(in1, in2, mode, ndim)
    kernel = _flip(in2) if flip_kernel else in2
    full_shape = tuple(n + k - 1 for n, k in zip(in1.shape, in2.shape, strict=True))
    window = _window(in1.shape, in2.shape, mode, same_start)
    out_shape = np.empty(full_shape, dtype=np.bool_)[window].shape
    g_full = np.zeros(full_shape, dtype=in1.dtype)
    g_full[window] = grad_out_array(grad_out, out_shape, in1.dtype)
    # full[m] = sum_i in1[i] kernel[i - m + k - 1], so
    # d in1[i] = sum_j kernel[j] g[i + k - 1 - j] and d kernel[j] = sum_i in1[i] g[i + k - 1 - j].
    d_in1 = _valid_correlate(g_full, _flip(kernel))
    d_kernel = _flip(_valid_correlate(g_full, in1))
    d_in2 = _flip(d_kernel) if flip_kernel else d_kernel
    return {"in1": _as(d_in1, in1_in), "in2": _as(d_in2, in2_in)}


def _as(grad: np.ndarray, like) -> np.ndarray:
    """Gradient in its input's float dtype (integer inputs were promoted to float64)."""
    dtype = np.asarray(like).dtype
    return grad if not np.issubdtype(dtype, np.floating) else grad.astype(dtype, copy=False)


def correlate(in1, in2, mode="full") -> np.ndarray:
    """scipy.signal.correlate(in1, in2, mode) for real N-D arrays of equal ndim."""
    return _forward(in1, in2, mode, ndim=None, flip_kernel=False, same_start=_nd_start)


def convolve(in1, in2, mode="full") -> np.ndarray:
    """scipy.signal.convolve(in1, in2, mode) for real N-D arrays of equal ndim."""
    return _forward(in1, in2, mode, ndim=None, flip_kernel=True, same_start=_nd_start)


def correlate2d(in1, in2, mode="full") -> np.ndarray:
    """scipy.signal.correlate2d(in1, in2, mode) (boundary 'fill', fillvalue 0); "same"
    starts at ``k // 2``, unlike ``correlate``."""
    return _forward(in1, in2, mode, ndim=2, flip_kernel=False, same_start=_corr2d_start)


def convolve2d(in1, in2, mode="full") -> np.ndarray:
    """scipy.signal.convolve2d(in1, in2, mode) (boundary 'fill', fillvalue 0)."""
    return _forward(in1, in2, mode, ndim=2, flip_kernel=True, same_start=_nd_start)


def correlate_backward(grad_out, in1, in2, mode="full") -> dict[str, np.ndarray]:
    """``{"in1", "in2"}`` gradients of ``correlate``."""
    return _backward(grad_out, in1, in2, mode, ndim=None, flip_kernel=False, same_start=_nd_start)


def convolve_backward(grad_out, in1, in2, mode="full") -> dict[str, np.ndarray]:
    """``{"in1", "in2"}`` gradients of ``convolve``."""
    return _backward(grad_out, in1, in2, mode, ndim=None, flip_kernel=True, same_start=_nd_start)


def correlate2d_backward(grad_out, in1, in2, mode="full") -> dict[str, np.ndarray]:
    """``{"in1", "in2"}`` gradients of ``correlate2d``."""
    return _backward(grad_out, in1, in2, mode, ndim=2, flip_kernel=False, same_start=_corr2d_start)


def convolve2d_backward(grad_out, in1, in2, mode="full") -> dict[str, np.ndarray]:
    """``{"in1", "in2"}`` gradients of ``convolve2d``."""
    return _backward(grad_out, in1, in2, mode, ndim=2, flip_kernel=True, same_start=_nd_start)
