"""Layout conversions between the reference's arrays and the frameworks' (NumPy in, out).

The reference holds activations NCHW, conv weights OIHW (M, C, kh, kw) and linear weights
(in_features, out_features).  torch.nn keeps NCHW/OIHW and stores ``Linear.weight`` as
(out_features, in_features) (torch.nn.Linear docs: "weight ... of shape (out_features,
in_features)").  Keras' channels_last layers take NHWC activations and HWIO Conv2D kernels
(keras.layers.Conv2D: kernel shape ``kernel_size + (input_channels // groups, filters)``),
and Dense kernels (in, out).

Flatten order is a layout matter too: the reference and torch flatten a (C, H, W) map in
C-major order, Keras' Flatten of a channels_last map in (H, W, C) order.  A Dense layer
right after a flatten therefore needs its kernel rows permuted when weights move to Keras
(``dense_rows_chw_to_hwc``) and its kernel gradient rows permuted back.
"""

from __future__ import annotations

import numpy as np

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x, NCHW_TO_NHWC))


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x, NHWC_TO_NCHW))


def oihw_to_hwio(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))


def hwio_to_oihw(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))


def linear_to_torch(w: np.ndarray) -> np.ndarray:
    """Reference (in, out) -> torch.nn.Linear.weight (out, in); its own inverse."""
    return np.ascontiguousarray(w.T)


linear_from_torch = linear_to_torch


def _chw_rows_in_hwc_order(chw: tuple[int, int, int]) -> np.ndarray:
    """Index into C-major (C, H, W) flattened features, listed in (H, W, C) order."""
    c, h, w = chw
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()


def dense_rows_chw_to_hwc(w: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Rows of a (C*H*W, out) kernel fed by a (C, H, W) flatten, reordered for a Dense layer
    fed by Keras' (H, W, C) flatten, so both compute the same function."""
    return np.ascontiguousarray(w[_chw_rows_in_hwc_order(chw)])


def dense_rows_hwc_to_chw(w: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Inverse of ``dense_rows_chw_to_hwc`` (Keras kernel or its gradient -> reference)."""
    out = np.empty_like(w)
    out[_chw_rows_in_hwc_order(chw)] = w
    return out


def features_chw_to_hwc(x: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """(..., C*H*W) features of a (C, H, W) flatten, reordered as Keras' (H, W, C) flatten
    of the same map would list them."""
    return np.ascontiguousarray(x[..., _chw_rows_in_hwc_order(chw)])


def features_hwc_to_chw(x: np.ndarray, chw: tuple[int, int, int]) -> np.ndarray:
    """Inverse of ``features_chw_to_hwc``."""
    out = np.empty_like(x)
    out[..., _chw_rows_in_hwc_order(chw)] = x
    return out


#: Where each NCHW axis sits once the array is NHWC.
NCHW_AXIS_IN_NHWC = (0, 3, 1, 2)


def sorted_axes(axes, ndim: int) -> tuple[int, ...]:
    """A normalisation's ``axes`` (an int or a sequence; negatives count from the end) as
    sorted non-negative axes of an ``ndim``-dimensional array."""
    seq = axes if isinstance(axes, (tuple, list)) else (axes,)
    return tuple(sorted({int(a) % ndim for a in seq}))
