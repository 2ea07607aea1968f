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
from adapters._geometry import padding_pairs, pair
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
    dilation = pair(attrs.get("dilation", 1))
    size = observed.inputs["x"].shape[2:]
    # The torch adapter passes torch a symmetric pair (any other padding it refuses).
    pads = padding_pairs(attrs.get("padding", 0), size, kernel, stride, dilation)
    counts_padding = observed.info.method == "avgpool2d" and attrs.get("count_include_pad", True)
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


def onnx_average_pool(x, kernel, stride, pads, ceil_mode, counts_padding):
    """onnx 1.23.2's reference AveragePool (onnx/reference/ops/op_pool_common.py).
    ``get_output_shape_explicit_padding`` rounds ``(in + pads - kernel) / stride + 1`` up in
    ceil mode and drops a last window starting at or past ``in + pad_begin``; it then pads
    the input to ``(out - 1) * stride + kernel``, half of that extra before
    (``extra_pad // 2``) and the rest after, with NaN (count_include_pad=0) or 0 (=1).
    ``pool`` reads window ``o``'s taps ``o * stride + j`` of that array, keeping a tap
    only below ``in + pads[begin] + pads[end]`` (the original pads), and averages them
    (``np.average``), NaNs left out with count_include_pad=0 (NaN for no tap left)."""
    x = np.asarray(x)
    fill = 0.0 if counts_padding else np.nan
    masks, padded_pads = [], []
    for a in (0, 1):
        size, (begin, end) = x.shape[2 + a], pads[a]
        room = (size + begin + end - kernel[a]) / stride[a] + 1
        count = int(np.ceil(room)) if ceil_mode else int(np.floor(room))
        if ceil_mode and (count - 1) * stride[a] >= size + begin:
            count -= 1
        extra = (count - 1) * stride[a] + kernel[a] - size - begin - end
        new_begin, new_end = begin, end
        if extra > 0:
            new_begin, new_end = begin + extra // 2, end + extra - extra // 2
        padded_pads.append((new_begin, new_end))
        taps = np.arange(count)[:, None] * stride[a] + np.arange(kernel[a])[None, :]
        length = size + new_begin + new_end
        kept = (taps[:, :, None] == np.arange(length)[None, None, :]).any(axis=1)
        masks.append(kept & (np.arange(length) < size + begin + end)[None, :])
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), *padded_pads), constant_values=fill)
    cells = padded[:, :, None, None, :, :]
    inside = masks[0][:, None, :, None] & masks[1][None, :, None, :]
    # count_include_pad=1: np.average of every tap kept, a NaN of the input included.
    use = inside & (np.ones(cells.shape, bool) if counts_padding else ~np.isnan(cells))
    total = np.where(use, cells, 0.0).sum(axis=(-2, -1))
    count = use.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(x.dtype)


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


# --------------------------------------------------------------------------------------
# The exported layer without the attribute the exporter drops.


def exported_average_pool(x, kernel, stride, pads, ceil_mode, counts_padding):
    """AvgPool2d without ``divisor_override``: the ONNX AveragePool torch.onnx.export writes
    (onnxscript's torch_lib ``aten_avg_pool2d`` never reads divisor_override), as current
    runtimes compute it: torch's window count (a last ceil window starting in the right
    padding dropped), each window divided by its cells inside the padded input
    (count_include_pad) or inside the input."""
    x = np.asarray(x)
    counts = [
        _torch_count(x.shape[2 + a], kernel[a], stride[a], 1, pads[a], ceil_mode) for a in (0, 1)
    ]
    inside = [
        _tap_mask(x.shape[2 + a], counts[a], kernel[a], stride[a], 1, pads[a][0]) for a in (0, 1)
    ]
    padded = [
        np.minimum(np.arange(counts[a]) * stride[a] + kernel[a], x.shape[2 + a] + sum(pads[a]))
        - np.arange(counts[a]) * stride[a]
        for a in (0, 1)
    ]
    mask = inside[0][:, None, :, None] & inside[1][None, :, None, :]
    total = np.where(mask, x[:, :, None, None, :, :], 0).sum(axis=(-2, -1), dtype=np.float64)
    divisor = np.outer(*padded) if counts_padding else mask.sum(axis=(-2, -1))
    return (total / divisor).astype(x.dtype)


def unsmoothed_cross_entropy(logits, target, reduction: str):
    """CrossEntropyLoss with class-index targets and label_smoothing ignored (onnxscript's
    torch_lib ``aten_cross_entropy_loss``: "label_smoothing: float = 0.0,  # this was
    ignored due to ONNX not support"): ``logsumexp(x) - x[target]`` per sample, reduced."""
    x = np.asarray(logits, dtype=np.float64)
    top = x.max(axis=1, keepdims=True)
    log_softmax = x - top - np.log(np.exp(x - top).sum(axis=1, keepdims=True))
    index = np.expand_dims(np.asarray(target, dtype=np.int64), 1)
    loss = -np.take_along_axis(log_softmax, index, axis=1)[:, 0]
    if reduction == "mean":
        return np.asarray(loss.mean())
    return np.asarray(loss.sum()) if reduction == "sum" else loss


# --------------------------------------------------------------------------------------
# The signatures.


def _opset(adapter) -> int:
    return int(adapter.determinism_flags()["opset"])


@cache
def _probed(adapter) -> frozenset:
    """``(op_type, bug)`` pairs ``adapters._onnx_rules.runtime_ceil_bugs`` finds."""
    return rules.runtime_ceil_bugs(adapter.run_model, _opset(adapter))


def _present(runtime: str, bug: str):
    def present(adapter) -> str | None:
        if getattr(adapter, "name", None) != runtime:
            return None
        ops = sorted(op for op, found in _probed(adapter) if found == bug)
        if not ops:
            return None
        return (
            f"{runtime} {adapter.version()}: the {bug} probe of adapters/_onnx_rules.py "
            f"(runtime_ceil_bugs) finds it in {', '.join(ops)}"
        )

    present.__name__ = f"{runtime}_{bug}".replace("-", "_")
    return present


_OP = {"maxpool2d": "MaxPool", "avgpool2d": "AveragePool"}


def _pool_setup(observed, runtime: str, bug: str):
    """``(op_type, x, attrs)`` where ``bug`` (probed in ``observed.adapter``) touches this
    forward comparison, else None."""
    op = _OP.get(observed.info.method)
    if observed.direction != "forward" or op is None:
        return None
    if observed.attrs.get("divisor_override") is not None:
        return None
    if (op, bug) not in _probed(observed.adapter):
        return None
    x = np.asarray(observed.inputs["x"])
    kernel, stride, pads, dilation, ceil_mode, counts = _pool_attrs(observed)
    if not ceil_mode and bug in (rules.WINDOW_IN_PADDING, rules.OVERHANG_DIVISOR):
        return None
    touched = False
    for a in (0, 1):
        size, k, s, d, p = x.shape[2 + a], kernel[a], stride[a], dilation[a], pads[a]
        torch_count = _torch_count(size, k, s, d, p, ceil_mode)
        if bug == rules.WINDOW_IN_PADDING:
            touched |= _ceil_count(size, k, s, d, p) > torch_count
        elif bug == rules.OVERHANG_DIVISOR:
            touched |= bool(counts) and (torch_count - 1) * s + k > size + sum(p)
    if bug == rules.EXTRA_PAD_BEFORE:
        touched = (
            op == "AveragePool"
            and ceil_mode
            and any(_extra_before(x.shape[2 + a], kernel[a], stride[a], pads[a]) for a in (0, 1))
        )
    if bug == rules.PADS_MISREAD:
        touched = stride == (1, 1) and dilation == (1, 1) and pads[0][0] != pads[1][0]
    if bug == rules.CEIL_PADS_TWICE:
        touched = stride == (1, 1) and dilation == (1, 1) and ceil_mode and any(sum(pads, ()))
    return (op, x, (kernel, stride, pads, dilation, ceil_mode, counts)) if touched else None


def _extra_before(size, kernel, stride, pads) -> int:
    """The cells onnx.reference's ceil-mode AveragePool adds before the input
    (``extra_pad // 2``; onnx 1.23.2's output length, which onnx 1.17.0 shares wherever no
    window starts in the padding)."""
    out = -(-(size + sum(pads) - kernel) // stride) + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return max((out - 1) * stride + kernel - size - sum(pads), 0) // 2


def _runtime_prediction(runtime: str, bug: str):
    def predict(observed):
        setup = _pool_setup(observed, runtime, bug)
        if setup is None:
            return None
        op, x, (kernel, stride, pads, dilation, ceil_mode, counts) = setup
        if bug in (rules.PADS_MISREAD, rules.CEIL_PADS_TWICE):
            onnx_pads = [pads[0][0], pads[1][0], pads[0][1], pads[1][1]]
            try:
                y = common_pool_max(x, kernel, onnx_pads, ceil_mode)
            except CommonPoolError:
                return None  # the adapter refuses what the evaluator raises on
        elif runtime == _RUNTIME:
            y = ort_pool(x, op, kernel, stride, pads, dilation, ceil_mode, counts)
        elif op == "AveragePool" and (op, rules.WINDOW_IN_PADDING) not in _probed(observed.adapter):
            y = onnx_average_pool(x, kernel, stride, pads, ceil_mode, counts)
        elif op == "AveragePool":
            y = onnx_old_average_pool(x, kernel, stride, pads, ceil_mode, counts)
        else:
            return None
        return {"y": np.asarray(y, dtype=np.float64)}

    return predict


_CEIL_WHAT = {
    (_RUNTIME, rules.WINDOW_IN_PADDING): "ONNX Runtime 1.20's pooling (ceil mode keeps the "
    "window starting in the right padding; ort_pool)",
    (_EVALUATOR, rules.WINDOW_IN_PADDING): "onnx 1.17's reference AveragePool (ceil mode keeps "
    "the window starting in the right padding; onnx_old_average_pool)",
    (_RUNTIME, rules.OVERHANG_DIVISOR): "ONNX Runtime 1.20's AveragePool (a window past the "
    "padding divided by the whole kernel; ort_pool)",
    (_EVALUATOR, rules.OVERHANG_DIVISOR): "onnx 1.17's reference AveragePool (a window past "
    "the padding divided by the whole kernel; onnx_old_average_pool)",
    (_EVALUATOR, rules.EXTRA_PAD_BEFORE): "onnx.reference's ceil-mode AveragePool with half "
    "the extra padding before the input (onnx_average_pool; onnx 1.17: onnx_old_average_pool)",
    (_EVALUATOR, rules.PADS_MISREAD): "onnx.reference's unit-stride MaxPool reading pads as "
    "(top, bottom, left, right) (common_pool_max)",
    (_EVALUATOR, rules.CEIL_PADS_TWICE): "onnx.reference's unit-stride ceil-mode MaxPool "
    "counting the padding twice (common_pool_max)",
}

#: (runtime, bug) -> the signature of that known divergence.
POOL_BUGS = {
    (runtime, bug): modelled(_present(runtime, bug), _runtime_prediction(runtime, bug), what)
    for (runtime, bug), what in _CEIL_WHAT.items()
}


def _layer_output(adapter, method: str, inputs: dict, attrs: dict) -> np.ndarray | None:
    try:
        run = getattr(adapter, method)(**inputs, **attrs).forward()
    except Unsupported:
        return None
    return np.asarray(run.to_reference(run.call()), dtype=np.float64)


@cache
def drops_divisor_override(adapter) -> str | None:
    """AvgPool2d(2, divisor_override=3) of ones (1,1,2,2) through the adapter: 4/3 with the
    override, 1 without it."""
    if getattr(adapter, "name", None) not in (_RUNTIME, _EVALUATOR):
        return None
    x = np.ones((1, 1, 2, 2), np.float32)
    out = _layer_output(adapter, "avgpool2d", {"x": x}, {"kernel_size": 2, "divisor_override": 3})
    if out is None or out.size != 1 or float(out.ravel()[0]) != 1.0:
        return None
    return (
        f"{adapter.name} {adapter.version()} on the torch.onnx.export graph: AvgPool2d(2, "
        "divisor_override=3) of four ones gives 1.0, not 4/3"
    )


def _divisor_prediction(observed):
    if observed.direction != "forward" or observed.attrs.get("divisor_override") is None:
        return None
    kernel, stride, pads, dilation, ceil_mode, counts = _pool_attrs(observed)
    x = np.asarray(observed.inputs["x"])
    bugs = _probed(observed.adapter)
    # The exported AveragePool as this runtime computes it: where its probes find a ceil
    # bug, that release's whole AveragePool model (each checked against the runtime).
    if observed.adapter.name == _RUNTIME and any(op == "AveragePool" for op, _ in bugs):
        y = ort_pool(x, "AveragePool", kernel, stride, pads, dilation, ceil_mode, counts)
    elif observed.adapter.name == _EVALUATOR and ("AveragePool", rules.WINDOW_IN_PADDING) in bugs:
        y = onnx_old_average_pool(x, kernel, stride, pads, ceil_mode, counts)
    elif observed.adapter.name == _EVALUATOR and ("AveragePool", rules.EXTRA_PAD_BEFORE) in bugs:
        y = onnx_average_pool(x, kernel, stride, pads, ceil_mode, counts)
    else:
        y = exported_average_pool(x, kernel, stride, pads, ceil_mode, counts)
    return {"y": np.asarray(y, dtype=np.float64)}


@cache
def drops_label_smoothing(adapter) -> str | None:
    """CrossEntropyLoss(label_smoothing=0.2) of logits [[0, ln 3]], target [0] through the
    adapter: ln 4 = 1.3863 unsmoothed, 1.2764 smoothed."""
    if getattr(adapter, "name", None) not in (_RUNTIME, _EVALUATOR):
        return None
    inputs = {"logits": np.array([[0.0, math.log(3.0)]], np.float32), "target": np.array([0])}
    out = _layer_output(adapter, "cross_entropy", inputs, {"label_smoothing": 0.2})
    if out is None or abs(float(out) - math.log(4.0)) > 1e-6:
        return None
    return (
        f"{adapter.name} {adapter.version()} on the torch.onnx.export graph: "
        f"CrossEntropyLoss(label_smoothing=0.2) of [[0, ln 3]], target [0] gives "
        f"{float(out):.6g} = ln 4, the unsmoothed loss (smoothed: 1.2764)"
    )


def _smoothing_prediction(observed):
    smoothing = observed.attrs.get("label_smoothing", 0.0)
    target = np.asarray(observed.inputs["target"])
    if observed.direction != "forward" or not smoothing or np.issubdtype(target.dtype, np.floating):
        return None
    loss = unsmoothed_cross_entropy(
        observed.inputs["logits"], target, observed.attrs.get("reduction", "mean")
    )
    return {"y": loss.astype(observed.dtype).astype(np.float64)}


DROPS_DIVISOR_OVERRIDE = modelled(
    drops_divisor_override,
    _divisor_prediction,
    "the exported AveragePool without divisor_override (exported_average_pool, or the "
    "runtime's own ceil-mode AveragePool model where its probe finds one)",
)
DROPS_LABEL_SMOOTHING = modelled(
    drops_label_smoothing,
    _smoothing_prediction,
    "the unsmoothed cross-entropy (unsmoothed_cross_entropy)",
)
