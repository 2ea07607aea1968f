"""Signatures (tests/divergence_signatures.py) of the ONNX runtimes' pooling bugs and of
the attributes ``torch.onnx.export`` drops; each model is that runtime's own arithmetic,
from its source (cited at each), in NumPy, never the reference's code.

- ``*-ceil-window-in-padding`` / ``*-ceil-overhang-divisor`` (onnxruntime 1.20.1, onnx
  1.17.0; the tox environment py311-onnxold): ``ort_pool`` and ``onnx_old_average_pool``
  model the whole pooling output of those releases; each entry predicts it only for a
  configuration its bug touches (``adapters._onnx_rules.ceil_pool_hazards``' geometry).
- ``onnx_reference-unit-stride-maxpool-*`` (onnx 1.17.0 to 1.23.2): ``common_pool_max``
  models ``_op_common_pool.CommonPool``, the path its MaxPool takes at stride 1 and
  dilation 1.
- ``*-export-drops-divisor-override`` / ``*-export-drops-label-smoothing``: the exported
  graph is the layer without that attribute (``exported_average_pool``,
  ``unsmoothed_cross_entropy``).

``present(adapter)`` runs the tiny probes of ``adapters/_onnx_rules.py`` (or one layer call
through the adapter): they select the bug and refuse nothing.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from adapters import _onnx_rules as rules
from adapters._geometry import pair
from adapters.base import Unsupported
from tests.divergence_signatures import modelled

_EVALUATOR, _RUNTIME = "onnx_reference", "onnxruntime"


# --------------------------------------------------------------------------------------
# Pool geometry as the exporter writes it (pads [h_begin, w_begin, h_end, w_end], torch's
# symmetric padding), per spatial axis.


def _pool_attrs(observed):
    """``(kernel, stride, pads, dilation, ceil_mode, count_include_pad)`` of the ONNX pool
    torch.onnx.export writes for a maxpool2d / avgpool2d comparison (pads per axis as
    (begin, end))."""
    attrs = observed.attrs
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    pad = pair(attrs.get("padding", 0))
    dilation = pair(attrs.get("dilation", 1))
    counts_padding = observed.info.method == "avgpool2d" and attrs.get("count_include_pad", True)
    pads = tuple((p, p) for p in pad)
    return kernel, stride, pads, dilation, bool(attrs.get("ceil_mode", False)), counts_padding


def _ceil_count(size, kernel, stride, dilation, pads) -> int:
    """ONNX's ceil-mode output length, with no rule for a window starting in the padding."""
    span = dilation * (kernel - 1) + 1
    return -(-(size + pads[0] + pads[1] - span) // stride) + 1


def _torch_count(size, kernel, stride, dilation, pads, ceil_mode) -> int:
    span = dilation * (kernel - 1) + 1
    room = size + pads[0] + pads[1] - span
    if not ceil_mode:
        return room // stride + 1
    out = -(-room // stride) + 1
    return out - 1 if (out - 1) * stride >= size + pads[0] else out


# --------------------------------------------------------------------------------------
# onnxruntime 1.20.1


def ort_pool(x, op, kernel, stride, pads, dilation, ceil_mode, counts_padding):
    """onnxruntime 1.20.1's CPU MaxPool / AveragePool of NCHW ``x``.  The output length is
    ONNX's formula, rounded up in ceil mode with no drop of a window that would start in
    the right padding (core/providers/cpu/nn/pool_attributes.h ``ComputeOutputSize``).

    MaxPool: the largest in-input tap, the dtype's lowest value where no tap is inside
    (pool_functors.h ``MaxPool2DTask``; MLAS' generic ``MlasPool2DKernel``).  A float32
    MaxPool without dilation whose width stride is 1 or 2 runs MLAS'
    ``MlasPool2DVectorKernel`` (core/mlas/lib/pooling.cpp ``MlasPool`` picks it), which
    resets a row window starting at or past the input's last row to ``ihStart = 0`` with
    ``ihEnd = InputHeight``: that window reads every row.

    AveragePool: the sum of the in-input cells divided by ``kernel_shape[0] *
    kernel_shape[1]`` with count_include_pad (a window past the padding included), else
    by the in-input count; 0 for a window wholly in the padding."""
    x = np.asarray(x)
    counts = [
        _ceil_count(x.shape[2 + a], kernel[a], stride[a], dilation[a], pads[a])
        if ceil_mode
        else (x.shape[2 + a] + sum(pads[a]) - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1
        for a in (0, 1)
    ]
    masks = [
        _tap_mask(x.shape[2 + a], counts[a], kernel[a], stride[a], dilation[a], pads[a][0])
        for a in (0, 1)
    ]
    vector = x.dtype == np.float32 and tuple(dilation) == (1, 1) and stride[1] <= 2
    if op == "MaxPool" and vector:
        starts = np.arange(counts[0]) * stride[0] - pads[0][0]
        masks[0][starts >= x.shape[2]] = True
    # inside[oh, ow, h, w]: input cell (h, w) is a tap of output (oh, ow)
    inside = masks[0][:, None, :, None] & masks[1][None, :, None, :]
    cells = x[:, :, None, None, :, :]
    if op == "MaxPool":
        lowest = np.finfo(x.dtype).min
        return np.where(inside, cells, lowest).max(axis=(-2, -1)).astype(x.dtype)
    total = np.where(inside, cells, 0).sum(axis=(-2, -1), dtype=np.float64)
    count = inside.sum(axis=(-2, -1))
    divisor = np.where(count == 0, 1, kernel[0] * kernel[1] if counts_padding else count)
    return (total / divisor).astype(x.dtype)


def _tap_mask(size, count, kernel, stride, dilation, begin) -> np.ndarray:
    """(count, size): whether input index i is a tap of window o."""
    taps = np.arange(count)[:, None] * stride - begin + np.arange(kernel)[None, :] * dilation
    return (taps[:, :, None] == np.arange(size)[None, None, :]).any(axis=1)


# --------------------------------------------------------------------------------------
# onnx 1.17.0's AveragePool


def onnx_old_average_pool(x, kernel, stride, pads, ceil_mode, counts_padding):
    """onnx 1.17.0's reference AveragePool (onnx/reference/ops/op_pool_common.py):
    ``get_output_shape_explicit_padding`` rounds ``(in + pads - kernel) / stride + 1`` up
    (no drop of a window starting in the padding) and pads the input further to
    ``(out - 1) * stride + kernel``, half of that extra before (``extra_pad // 2``) and the
    rest after; ``pool`` averages each window of the padded array, padding NaN
    (count_include_pad=0, NaNs left out) or 0 (count_include_pad=1: every window is
    divided by the whole kernel)."""
    x = np.asarray(x)
    padded_pads, counts = [], []
    for a in (0, 1):
        size, (begin, end) = x.shape[2 + a], pads[a]
        room = (size + begin + end - kernel[a]) / stride[a] + 1
        count = int(np.ceil(room)) if ceil_mode else int(np.floor(room))
        extra = (count - 1) * stride[a] + kernel[a] - size - begin - end
        if extra > 0:
            begin, end = begin + extra // 2, end + extra - extra // 2
        padded_pads.append((begin, end))
        counts.append(int((size + begin + end - kernel[a]) / stride[a] + 1))
    fill = 0.0 if counts_padding else np.nan
    padded = np.pad(x, ((0, 0), (0, 0), *padded_pads), constant_values=fill)
    rows = np.arange(counts[0])[:, None] * stride[0] + np.arange(kernel[0])
    cols = np.arange(counts[1])[:, None] * stride[1] + np.arange(kernel[1])
    windows = padded[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    with np.errstate(invalid="ignore"), _no_empty_mean_warning():
        return np.nanmean(windows, axis=(-2, -1)).astype(x.dtype)


class _no_empty_mean_warning:
    """np.nanmean of an all-NaN window (NaN, as ``np.average`` of an empty array) warns."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


# --------------------------------------------------------------------------------------
# onnx.reference's unit-stride MaxPool (_op_common_pool.CommonPool, onnx 1.17.0 - 1.23.2)


class CommonPoolError(Exception):
    """Where ``_op_common_pool`` raises instead of returning (its message)."""


def common_pool_max(x, kernel, pads_onnx, ceil_mode):
    """onnx.reference's MaxPool at stride 1 and dilation 1 (op_max_pool.py hands it to
    ``_op_common_pool.CommonPool._run(..., "MAX", 0, ...)``): ``pad_top, pad_bottom,
    pad_left, pad_right = pads`` reads ONNX's ``[h_begin, w_begin, h_end, w_end]`` as
    (top, bottom, left, right) and pads with NaN; ``_get_output_shape`` (auto_pad NOTSET
    read as "VALID") gives ``padded - kernel + 1`` per axis, or in ceil mode ``padded +
    pad_shape - kernel + 1`` (the padding counted again), raising "output shape cannot be
    null or negative" below 1; ``_pool`` fills the first ``padded - kernel + 1`` windows
    per axis with the NaN-skipping max and leaves the rest 0 (``np.zeros``)."""
    x = np.asarray(x)
    top, bottom, left, right = pads_onnx
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=np.nan)
    sizes = padded.shape[2:]
    pad_shape = (top + bottom, left + right)
    loops = [sizes[a] - kernel[a] + 1 for a in (0, 1)]
    out = [loops[a] + (pad_shape[a] if ceil_mode else 0) for a in (0, 1)]
    if min(out) <= 0:
        raise CommonPoolError(f"output shape cannot be null or negative, out_shape={out!r}")
    y = np.zeros((*x.shape[:2], *out))
    if min(loops) > 0:
        windows = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=(2, 3))
        if np.isnan(windows).all(axis=(-2, -1)).any():
            raise CommonPoolError("zero-size array to reduction operation maximum")
        y[:, :, : loops[0], : loops[1]] = np.nanmax(windows, axis=(-2, -1))
    return y.astype(x.dtype)
