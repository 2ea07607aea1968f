"""A slow, obviously-correct reading of ONNX Resize (opset 18) on the two spatial axes:
one output pixel at a time, one tap at a time (proof c for ``reference/resize2d.py``).

Shares no code with ``reference/``.  It follows the operator text tap by tap, as ONNX's
own reference evaluator does (onnx/reference/ops/op_resize.py: ``_get_neighbor`` pads
the input with its edge values and reads the taps nearest the source coordinate):

- the source coordinate of an output index (``source``), an exact rational;
- nearest: one tap, rounded as ``nearest_mode`` says, clamped to the input;
- linear / cubic: the taps ``floor(c) - r + 1 .. floor(c) + r`` (r = 1 or 2; r / scale
  with ``antialias`` on a downsampled axis) weighted by the kernel at their distance to
  ``c`` (divided by the weights' sum with ``antialias``), each tap clamped to the input.

``taps`` also gives the tolerance's magnitudes (tests/layers/resize2d.py): the weights,
and how fast each weight moves with the source coordinate (a framework computing the
coordinate in float32 moves it by a few ulps).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

HALF = Fraction(1, 2)


def lengths(spatial, size=None, scale=None):
    """Per axis ``(in, out, scale)``; ``scale`` exact (out/in when ``size`` is given)."""
    axes = []
    for a, n in enumerate(spatial):
        if size is not None:
            m = size if isinstance(size, int) else size[a]
            axes.append((n, m, Fraction(m, n)))
        else:
            s = float(scale if isinstance(scale, (int, float)) else scale[a])
            axes.append((n, math.floor(n * s), Fraction(s)))
    return axes


def source(i: int, n: int, m: int, scale: Fraction, how: str) -> Fraction:
    """The operator's coordinate transform (ONNX Resize-18 text; tf_half_pixel_for_nn from
    Resize-11)."""
    if how == "half_pixel":
        return (i + HALF) / scale - HALF
    if how == "pytorch_half_pixel":
        return (i + HALF) / scale - HALF if m > 1 else Fraction(0)
    if how == "align_corners":
        return Fraction(0) if m == 1 else Fraction(i) * (n - 1) / (m - 1)
    if how == "asymmetric":
        return Fraction(i) / scale
    if how == "tf_half_pixel_for_nn":
        return (i + HALF) / scale
    raise ValueError(how)


def keys(t: float, a: float) -> float:
    """Keys' cubic convolution kernel (Keys 1981, eq. 4)."""
    t = abs(t)
    if t <= 1:
        return (a + 2) * t**3 - (a + 3) * t**2 + 1
    if t < 2:
        return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return 0.0


def keys_slope(a: float) -> float:
    """max |K'(t)| of Keys' kernel: at the ends of [0, 1] and [1, 2] or where K'' = 0."""
    candidates = [0.0, 1.0, 2.0, 5.0 / 3.0]
    if a != -2:
        candidates.append((a + 3) / (3 * (a + 2)))

    def slope(t):
        if t <= 1:
            return 3 * (a + 2) * t**2 - 2 * (a + 3) * t
        return 3 * a * t**2 - 10 * a * t + 8 * a

    return max(abs(slope(t)) for t in candidates if 0 <= t <= 2)


def taps(i, n, m, scale, attrs):
    """Output index ``i``'s taps on one axis: ``(coordinate, [(index, weight, slope)])``.
    ``index`` is clamped to ``[0, n)``; ``slope`` bounds |d weight / d coordinate|."""
    mode = attrs.get("mode", "nearest")
    c = source(i, n, m, scale, attrs.get("coordinate_transformation_mode", "half_pixel"))
    if mode == "nearest":
        rule = attrs.get("nearest_mode", "round_prefer_floor")
        k = {
            "round_prefer_floor": math.ceil(c - HALF),
            "round_prefer_ceil": math.floor(c + HALF),
            "floor": math.floor(c),
            "ceil": math.ceil(c),
        }[rule]
        return c, [(min(max(k, 0), n - 1), 1.0, 0.0)]
    a = float(attrs.get("cubic_coeff_a", -0.75))
    radius, lipschitz = (1, 1.0) if mode == "linear" else (2, keys_slope(a))
    s = min(scale, 1) if attrs.get("antialias", False) else Fraction(1)
    reach = math.ceil(radius / s)  # taps j with |j - c| < radius / s
    base = math.floor(c)
    js = range(base - reach + 1, base + reach + 1)
    if mode == "linear":
        kernel = [max(0.0, 1.0 - abs(float(s * (j - c)))) for j in js]
    else:
        kernel = [keys(float(s * (j - c)), a) for j in js]
    total = sum(kernel) if s < 1 else 1.0
    out = []
    for j, k in zip(js, kernel, strict=True):
        # d/dc of K(s (j - c)) / total: s L / |total| (1 + n_taps |w|) bounds both terms.
        slope = float(s) * lipschitz / abs(total) * (1 + len(kernel) * abs(k / total))
        out.append((min(max(j, 0), n - 1), k / total, slope if s < 1 else lipschitz))
    return c, out


def forward(x, size=None, scale=None, **attrs) -> np.ndarray:
    """``y[n, c, i, j] = sum over the taps of w_h * w_w * x[n, c, row, col]``, float64."""
    x = np.asarray(x, dtype=np.float64)
    (hn, hm, hs), (wn, wm, ws) = lengths(x.shape[2:], size, scale)
    rows = [taps(i, hn, hm, hs, attrs)[1] for i in range(hm)]
    cols = [taps(j, wn, wm, ws, attrs)[1] for j in range(wm)]
    y = np.zeros((*x.shape[:2], hm, wm))
    for i in range(hm):
        for j in range(wm):
            total = np.zeros(x.shape[:2])
            for r, wr, _ in rows[i]:
                for c, wc, _ in cols[j]:
                    total += wr * wc * x[:, :, r, c]
            y[:, :, i, j] = total
    return y


def backward(grad_out, x, size=None, scale=None, **attrs) -> np.ndarray:
    """Each output pixel sends ``w_h * w_w * grad_out`` back to each of its taps."""
    x = np.asarray(x, dtype=np.float64)
    g = np.asarray(grad_out, dtype=np.float64)
    (hn, hm, hs), (wn, wm, ws) = lengths(x.shape[2:], size, scale)
    grad = np.zeros_like(x)
    for i in range(hm):
        for j in range(wm):
            for r, wr, _ in taps(i, hn, hm, hs, attrs)[1]:
                for c, wc, _ in taps(j, wn, wm, ws, attrs)[1]:
                    grad[:, :, r, c] += wr * wc * g[:, :, i, j]
    return grad
