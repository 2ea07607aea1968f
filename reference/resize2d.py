"""2-D resize of NCHW activations: ONNX Resize (opset 18) on the two spatial axes.

``forward(x, *, size=None, scale=None, mode="nearest",
coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_floor",
cubic_coeff_a=-0.75, antialias=False)``.  Exactly one of ``size`` (an int or an
``(h, w)`` pair of output lengths) and ``scale`` (a number or an ``(h, w)`` pair) is given.

Per axis (input length ``n``, output length ``m``):

- ``size``: ``m`` as given and ``scale = m / n``.  ``scale``: ``m = floor(n * scale)``
  computed in float64 (as ONNX's reference and torch compute it), and the given scale is
  the one the coordinate transform uses (ONNX's reference, onnxruntime and torch's
  ``scale_factor`` all do), not ``m / n``.
- The source coordinate of output index ``i``:
  ``half_pixel`` ``(i + 1/2) / scale - 1/2``; ``pytorch_half_pixel`` the same when
  ``m > 1``, else 0; ``align_corners`` ``i (n - 1) / (m - 1)`` (0 when ``m == 1``), with
  the integer lengths the operator text names (ONNX's reference evaluator uses the
  unfloored ``n * scale`` there, so its resize_downsample_scales_linear_align_corners
  data differ); ``asymmetric`` ``i / scale``; ``tf_half_pixel_for_nn``
  ``(i + 1/2) / scale`` (defined by Resize-11; later opsets dropped it).  Coordinates
  are exact rationals (``fractions.Fraction`` of the float64 scale), so a tie is a tie.
- ``nearest``: the input index ``round_prefer_floor`` ceil(c - 1/2), ``round_prefer_ceil``
  floor(c + 1/2), ``floor`` or ``ceil`` of ``c``, clamped to ``[0, n - 1]``.
- ``linear`` / ``cubic``: ``sum_j K(j - c) x[clamp(j)]`` over the integers ``j`` where the
  kernel is non-zero; ``K`` is the tent ``max(0, 1 - |t|)`` or Keys' cubic with
  ``a = cubic_coeff_a`` (Keys 1981, eq. 4).  Taps outside the input read the edge
  (ONNX ``exclude_outside=0``: edge padding).
- ``antialias=True`` on an axis with ``scale < 1``: the kernel is stretched to
  ``K(scale * t)`` and the weights divided by their sum, taps outside still clamped to
  the edge (ONNX's rule; torch, TensorFlow and JAX drop them instead).  It does nothing
  where ``scale >= 1`` and is refused for ``nearest`` (ONNX raises there too).

The result is ``A_h @ x @ A_w.T`` per image and channel, with one ``(m, n)`` weight
matrix per axis (cached), so the backward is ``A_h.T @ grad_out @ A_w``.  Nearest
forward is a gather (bit for bit).  Non-finite inputs go through a tap-by-tap path, so a
NaN or Inf reaches exactly the outputs whose non-zero weights read it.  Computed in
``x``'s float dtype; integers in float64.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from functools import lru_cache

import numpy as np

from reference._checks import float_array, grad_out_array, one_of

MODES = ("nearest", "linear", "cubic")
COORDINATE_MODES = (
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
)
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
_RADIUS = {"linear": 1, "cubic": 2}


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _pair(name: str, value, accepts, what: str) -> tuple:
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(accepts(v) for v in value):
        return tuple(value)
    if accepts(value):
        return (value, value)
    raise ValueError(f"{name} must be {what} or an (h, w) pair of them, got {value!r}")


def output_geometry(spatial, size=None, scale=None) -> tuple[tuple[int, Fraction], ...]:
    """Per spatial axis ``(m, scale)``: the output length and the exact scale the
    coordinate transform uses.  ``spatial`` is ``(H, W)``."""
    if (size is None) == (scale is None):
        raise ValueError(f"give exactly one of size and scale, got size={size!r}, scale={scale!r}")
    if any(n < 1 for n in spatial):
        raise ValueError(f"x must have non-empty spatial axes, got H, W = {tuple(spatial)}")
    if size is not None:
        sizes = _pair("size", size, _is_int, "an int")
        if any(m < 1 for m in sizes):
            raise ValueError(f"size must be positive output lengths, got {size!r}")
        return tuple((int(m), Fraction(int(m), n)) for m, n in zip(sizes, spatial, strict=True))
    scales = _pair("scale", scale, _is_real, "a number")
    axes = []
    for s, n in zip(scales, spatial, strict=True):
        s = float(s)
        if not (math.isfinite(s) and s > 0):
            raise ValueError(f"scale must be finite and > 0, got {scale!r}")
        m = math.floor(n * s)
        if m < 1:
            raise ValueError(
                f"scale {scale!r} gives an output size of zero: floor({n} * {s!r}) = {m}"
            )
        axes.append((m, Fraction(s)))
    return tuple(axes)


def _source(i: int, n: int, m: int, scale: Fraction, how: str) -> Fraction:
    if how == "half_pixel" or (how == "pytorch_half_pixel" and m > 1):
        return (i + Fraction(1, 2)) / scale - Fraction(1, 2)
    if how == "pytorch_half_pixel":
        return Fraction(0)
    if how == "align_corners":
        return Fraction(i * (n - 1), m - 1) if m > 1 else Fraction(0)
    if how == "asymmetric":
        return i / scale
    return (i + Fraction(1, 2)) / scale  # tf_half_pixel_for_nn


def _nearest(c: Fraction, how: str) -> int:
    if how == "round_prefer_floor":
        return math.ceil(c - Fraction(1, 2))
    if how == "round_prefer_ceil":
        return math.floor(c + Fraction(1, 2))
    return math.floor(c) if how == "floor" else math.ceil(c)


def _kernel(mode: str, a: float, t: float) -> float:
    t = abs(t)
    if mode == "linear":
        return max(0.0, 1.0 - t)
    if t <= 1.0:
        return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    if t < 2.0:
        return ((a * t - 5.0 * a) * t + 8.0 * a) * t - 4.0 * a
    return 0.0


@lru_cache(maxsize=256)
def axis_matrix(
    n: int, m: int, scale: Fraction, mode: str, how: str, nearest_mode: str, a: float, aa: bool
) -> np.ndarray:
    """The ``(m, n)`` float64 weight matrix of one axis (read-only, cached)."""
    matrix = np.zeros((m, n))
    stretch = min(scale, 1) if aa and mode != "nearest" else Fraction(1)
    for i in range(m):
        c = _source(i, n, m, scale, how)
        if mode == "nearest":
            matrix[i, min(max(_nearest(c, nearest_mode), 0), n - 1)] = 1.0
            continue
        reach = _RADIUS[mode] / stretch  # taps j with |j - c| < reach
        taps = range(math.floor(c - reach), math.ceil(c + reach) + 1)
        weights = [_kernel(mode, a, float(stretch * (j - c))) for j in taps]
        if stretch < 1:
            total = math.fsum(weights)
            weights = [w / total for w in weights]
        for j, w in zip(taps, weights, strict=True):
            matrix[i, min(max(j, 0), n - 1)] += w
    matrix.setflags(write=False)
    return matrix


def _prepare(x, size, scale, mode, coordinate_transformation_mode, nearest_mode, a, antialias):
    x = float_array("x", x, ndim=4)
    one_of("mode", mode, MODES)
    if coordinate_transformation_mode == "tf_crop_and_resize":
        raise ValueError(
            "coordinate_transformation_mode 'tf_crop_and_resize' needs ONNX's roi input, "
            "which resize2d does not take"
        )
    one_of("coordinate_transformation_mode", coordinate_transformation_mode, COORDINATE_MODES)
    one_of("nearest_mode", nearest_mode, NEAREST_MODES)
    if not (_is_real(a) and math.isfinite(a)):
        raise ValueError(f"cubic_coeff_a must be a finite number, got {a!r}")
    if not isinstance(antialias, (bool, np.bool_)):
        raise ValueError(f"antialias must be a bool, got {antialias!r}")
    if antialias and mode == "nearest":
        raise ValueError("antialias=True applies to mode 'linear' and 'cubic', not 'nearest'")
    matrices = tuple(
        axis_matrix(
            n,
            m,
            s,
            mode,
            coordinate_transformation_mode,
            nearest_mode,
            float(a),
            bool(antialias),
        )
        for n, (m, s) in zip(x.shape[2:], output_geometry(x.shape[2:], size, scale), strict=True)
    )
    return x, matrices


def _along(values: np.ndarray, matrix: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` (m, n) applied along ``axis`` (length n) of ``values``."""
    weights = matrix.astype(values.dtype)
    if np.all(np.isfinite(values)):
        moved = np.moveaxis(values, axis, -1)
        return np.moveaxis(moved @ weights.T, -1, axis)
    # Tap by tap: a zero weight never multiplies an Inf or NaN into an output.
    out_shape = list(values.shape)
    out_shape[axis] = matrix.shape[0]
    out = np.zeros(out_shape, dtype=values.dtype)
    for i, row in enumerate(weights):
        target = np.take(out, [i], axis=axis)
        for j in np.flatnonzero(row):
            target = target + row[j] * np.take(values, [j], axis=axis)
        index = [slice(None)] * values.ndim
        index[axis] = slice(i, i + 1)
        out[tuple(index)] = target
    return out


def forward(
    x,
    *,
    size=None,
    scale=None,
    mode="nearest",
    coordinate_transformation_mode="half_pixel",
    nearest_mode="round_prefer_floor",
    cubic_coeff_a=-0.75,
    antialias=False,
) -> np.ndarray:
    """``y`` (N, C, m_h, m_w) in ``x``'s float dtype."""
    x, (rows, cols) = _prepare(
        x, size, scale, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, antialias
    )
    if mode == "nearest":
        return x[:, :, rows.argmax(axis=1)][:, :, :, cols.argmax(axis=1)]
    return _along(_along(x, cols, 3), rows, 2)


def backward(
    grad_out,
    x,
    *,
    size=None,
    scale=None,
    mode="nearest",
    coordinate_transformation_mode="half_pixel",
    nearest_mode="round_prefer_floor",
    cubic_coeff_a=-0.75,
    antialias=False,
) -> dict[str, np.ndarray]:
    """``{"x": A_h.T @ grad_out @ A_w}``: the interpolation is linear in ``x``."""
    x, (rows, cols) = _prepare(
        x, size, scale, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, antialias
    )
    shape = (*x.shape[:2], rows.shape[0], cols.shape[0])
    grad = grad_out_array(grad_out, shape, x.dtype)
    return {"x": _along(_along(grad, cols.T, 3), rows.T, 2)}
