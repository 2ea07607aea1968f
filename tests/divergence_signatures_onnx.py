"""Signatures (tests/divergence_signatures.py) of onnx.reference's float32 rounding in
float64 graphs (onnx 1.23.2, NumPy 2; the models compute the same under NumPy 1.26):

- onnx_reference-erf-float64-via-float32: its Erf is ``np.vectorize(math.erf,
  otypes=["f"])`` cast back to the input dtype (onnx/reference/ops/op_erf.py), so the
  exported float64 GELU, ONNX's function body ``0.5 * (x * (1 + Erf(x / Sqrt(2))))``,
  uses erf rounded to float32.
- onnx_reference-conv-transpose-grouped-whole-bias: its ConvTranspose runs each group
  with the whole bias B and adds ``B[0]`` to a group's one output channel
  (onnx/reference/ops/op_conv_transpose.py), so a depthwise ConvTranspose with a bias
  adds b[0] to every channel.
- onnx_reference-cubic-coefficients-float32: the evaluator hands FLOAT attributes to
  operators as ``np.float32`` (onnx/reference/op_run.py), so Resize's
  ``_cubic_coeffs(ratio, scale, A=cubic_coeff_a)`` (and ``_cubic_coeffs_antialias``)
  compute in float32 under NEP 50 (a Python float next to a float32 scalar is cast to
  float32); the coordinates and the weighted sum stay float64.

Each model is the evaluator's arithmetic from its source (cited at each), in NumPy and
the standard library's ``math.erf``, never the reference's code.  The probes run a
one-element call through the adapter method the parity tests use.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from adapters._decoder_geometry import torch_transpose_padding, transpose_crops
from adapters.base import Unsupported
from tests.divergence_signatures import modelled

_erf = np.frompyfunc(math.erf, 1, 1)


def _evaluator(adapter) -> bool:
    return getattr(adapter, "name", None) == "onnx_reference"


def _output(adapter, method: str, inputs: dict, attrs) -> np.ndarray | None:
    try:
        run = getattr(adapter, method)(**inputs, **attrs).forward()
    except Unsupported:
        return None
    return np.asarray(run.to_reference(run.call()), dtype=np.float64)


# --------------------------------------------------------------------------------------
# onnx_reference-erf-float64-via-float32


def evaluator_gelu(x) -> np.ndarray:
    """onnx.reference's float64 GELU (exact form): ONNX's Gelu function body (onnx/defs/
    math/defs.cc, Gelu-20: Div by Sqrt(2), Erf, Add 1, Mul x, Mul 0.5) with Erf rounded to
    float32 (op_erf.py: ``np.vectorize(erf, otypes=["f"])``, then ``astype(x.dtype)``)."""
    x = np.asarray(x, dtype=np.float64)
    erf32 = _erf(x / math.sqrt(2.0)).astype(np.float32).astype(np.float64)
    return 0.5 * (x * (1.0 + erf32))


@cache
def erf_via_float32(adapter) -> str | None:
    """float64 GELU at x = 1 through the adapter's ``gelu``: evidence when it is the
    float32-erf model's value and not the float64 one."""
    if not _evaluator(adapter):
        return None
    x = np.ones(1)
    out = _output(adapter, "gelu", {"x": x}, {"approximate": "none"})
    if out is None:
        return None
    got, model = float(out[0]), float(evaluator_gelu(x)[0])
    exact = 0.5 * (1.0 + math.erf(1.0 / math.sqrt(2.0)))
    if got != model or got == exact:
        return None
    return (
        f"onnx {adapter.version()}'s ReferenceEvaluator: float64 GELU at x = 1 is {got!r}, "
        f"0.5 (1 + float32(erf(1/sqrt 2))), not {exact!r}"
    )


def _erf_prediction(observed):
    exact_form = observed.attrs.get("approximate", "none") == "none"
    if observed.dtype != "float64" or observed.direction != "forward" or not exact_form:
        return None
    return {"y": evaluator_gelu(observed.reference_inputs["x"])}


ERF_VIA_FLOAT32 = modelled(
    erf_via_float32,
    _erf_prediction,
    "0.5 x (1 + float32(erf(x / sqrt 2))), onnx.reference's Erf rounded to float32,",
)


# --------------------------------------------------------------------------------------
# onnx_reference-cubic-coefficients-float32


# The evaluator's float32 steps are NEP 50's (NumPy 2): a Python number next to a float32
# scalar is cast to float32 first.  NumPy 1.x's value-based promotion would compute these
# in float64 (np.float32(a) * 0.5 is a float64 there), so every cast to A's type is
# written out: the model is the same under NumPy 1.26 and 2.x.  Python-float
# subexpressions of the source ((1 - ratio) + 1, t * t) stay float64 until they meet A.


def _cubic_coeffs(ratio: float, a: np.floating) -> list:
    """op_resize.py ``_cubic_coeffs``, term for term, in A's type (the evaluator's is
    ``np.float32``)."""
    cast = type(a)
    r, r1 = cast(ratio), cast(ratio + 1)
    s, s1 = cast(1 - ratio), cast((1 - ratio) + 1)
    one, two, three, four, five, eight = map(cast, (1, 2, 3, 4, 5, 8))
    return [
        ((a * r1 - five * a) * r1 + eight * a) * r1 - four * a,
        ((a + two) * r - (a + three)) * r * r + one,
        ((a + two) * s - (a + three)) * s * s + one,
        ((a * s1 - five * a) * s1 + eight * a) * s1 - four * a,
    ]


def _cubic_coeffs_antialias(ratio: float, scale: float, a: np.floating) -> list:
    """op_resize.py ``_cubic_coeffs_antialias``, term for term, in A's type as
    ``_cubic_coeffs`` (``sum`` of float32 scalars accumulates in float32 under NEP 50)."""
    cast = type(a)
    scale = min(scale, 1.0)

    def coeff(t: float):
        t = abs(t)
        t2 = t * t
        t3 = t * t2
        if t <= 1:
            return (a + cast(2)) * cast(t3) - (a + cast(3)) * cast(t2) + cast(1)
        if t < 2:
            return a * cast(t3) - cast(5) * a * cast(t2) + cast(8) * a * cast(t) - cast(4) * a
        return 0.0

    start = int(np.floor(-2 / scale) + 1)
    weights = [coeff(scale * (i - ratio)) for i in range(start, 2 - start)]
    total = cast(0)
    for w in weights:
        total = total + cast(w)
    # np.array of float32 scalars is float32, with a Python 0.0 among them float64 (both
    # NumPy releases); divided by the total (A's type) it keeps that dtype.
    return list(np.array(weights) / total)


def _linear_coeffs(ratio: float, scale: float, antialias: bool) -> list:
    """op_resize.py ``_linear_coeffs`` / ``_linear_coeffs_antialias`` (float64)."""
    if not antialias:
        return [1 - ratio, ratio]
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    args = (np.arange(start, start + 2 - 2 * start) - ratio) * scale
    coeffs = np.clip(1 - np.abs(args), 0, 1)
    return list(np.array(coeffs) / sum(coeffs))


def _axis(n: int, scale: float, m: int, corners: bool, coeffs) -> np.ndarray:
    """The (m, n) weight matrix op_resize.py ``_interpolate_1d_along_axis`` applies on one
    axis, ``coeffs(ratio, scale)`` giving the taps: float64 coordinates
    (``_compute_x_ori``; align_corners over the unfloored ``scale * n``), ratio 1 at an
    integer coordinate, an even kernel's first tap at ``floor(x) + 1 - taps / 2`` (one
    before at an integer), taps clamped to the edge."""
    width = scale * n
    weights = np.zeros((m, n))
    for i in range(m):
        if corners:
            x = 0.0 if width == 1 else i * (n - 1) / (width - 1)
        else:
            x = (i + 0.5) / scale - 0.5
        base = math.floor(x)
        ratio = 1.0 if x == base else x - base
        taps = coeffs(ratio, scale)
        first = base + 1 - len(taps) // 2 - (1 if x == base else 0)
        for k, c in enumerate(taps):
            weights[i, min(max(first + k, 0), n - 1)] += float(c)
    return weights


def coefficients(mode: str, a, antialias: bool):
    """op_resize.py's ``get_coeffs(ratio, scale)`` for ``mode``, with ``A = a`` as given
    (the evaluator's is ``np.float32``)."""
    if mode == "cubic" and antialias:
        return lambda ratio, scale: _cubic_coeffs_antialias(ratio, scale, a)
    if mode == "cubic":
        return lambda ratio, scale: _cubic_coeffs(ratio, a)
    return lambda ratio, scale: _linear_coeffs(ratio, scale, antialias)


def evaluator_resize(x, scales, sizes, mode: str, corners: bool, a: float, antialias: bool):
    """onnx.reference's linear or cubic Resize of NCHW ``x`` (computed in float64) as
    torch.onnx.export writes it: ``scales`` (float32, as the graph holds them) or
    ``sizes`` per spatial axis, mode align_corners or half_pixel (torch's two),
    ``cubic_coeff_a`` as float32.  An axis whose scale is 1 with an unchanged length is
    skipped, as op_resize.py does.  The weighted sum here is a matrix product (the
    evaluator's order differs within the comparison's bound)."""
    coeffs = coefficients(mode, np.float32(a), antialias)
    out = np.asarray(x, dtype=np.float64)
    for axis in (2, 3):
        n = out.shape[axis]
        if scales is not None:
            scale = float(np.float32(scales[axis - 2]))
            m = int(scale * n)
        else:
            m = int(sizes[axis - 2])
            scale = m / n
        if math.isclose(scale, 1.0) and m == n:
            continue
        weights = _axis(n, scale, m, corners, coeffs)
        out = np.moveaxis(np.tensordot(weights, np.moveaxis(out, axis, 0), axes=1), 0, axis)
    return out


def _pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(value)


@cache
def cubic_coefficients_float32(adapter) -> str | None:
    """A float64 cubic upsample of one cell by 1.5 through the adapter's ``resize2d``:
    every output reads that cell, so it is the cell times the coefficients' sum, 1 exactly
    in float64; evidence when it is the float32 coefficients' sum instead."""
    if not _evaluator(adapter):
        return None
    x = np.ones((1, 1, 1, 1))
    attrs = {"scale": 1.5, "mode": "cubic", "coordinate_transformation_mode": "half_pixel"}
    out = _output(adapter, "resize2d", {"x": x}, attrs)
    if out is None:
        return None
    model = evaluator_resize(x, (1.5, 1.5), None, "cubic", False, -0.75, False)
    if out.shape != model.shape or not np.array_equal(out, model) or np.all(out == 1.0):
        return None
    return (
        f"onnx {adapter.version()}'s ReferenceEvaluator: a float64 cubic upsample of a "
        f"single 1 by 1.5 gives {float(out.ravel()[0])!r}, the sum of the float32 cubic "
        "coefficients, not 1"
    )


def _evaluator_prediction(observed):
    """The evaluator's Resize for a linear or cubic comparison, in its dtype."""
    attrs = observed.attrs
    mode = attrs.get("mode", "nearest")
    if observed.direction != "forward" or mode not in ("linear", "cubic"):
        return None
    scale, size = attrs.get("scale"), attrs.get("size")
    y = evaluator_resize(
        observed.reference_inputs["x"],
        None if scale is None else _pair(scale),
        None if size is None else _pair(size),
        mode,
        attrs.get("coordinate_transformation_mode", "half_pixel") == "align_corners",
        float(attrs.get("cubic_coeff_a", -0.75)),
        bool(attrs.get("antialias", False)),
    )
    return {"y": y.astype(observed.dtype).astype(np.float64)}


def _cubic_prediction(observed):
    if observed.dtype != "float64" or observed.attrs.get("mode", "nearest") != "cubic":
        return None
    return _evaluator_prediction(observed)


CUBIC_COEFFICIENTS_FLOAT32 = modelled(
    cubic_coefficients_float32,
    _cubic_prediction,
    "onnx.reference's Resize with its cubic coefficients computed in float32",
)


# --------------------------------------------------------------------------------------
# onnx_reference-resize-align-corners-unfloored-length


def _unfloored(observed) -> bool:
    """align_corners by scales with some axis whose ``n * scale`` is not an integer."""
    attrs = observed.attrs
    scale = attrs.get("scale")
    if attrs.get("coordinate_transformation_mode") != "align_corners" or scale is None:
        return False
    shape = observed.reference_inputs["x"].shape[2:]
    return any(
        not float(np.float32(s) * n).is_integer() for s, n in zip(_pair(scale), shape, strict=True)
    )


@cache
def align_corners_unfloored(adapter) -> str | None:
    """A linear align_corners resize of [0, 1, 2] by 0.75 through the adapter's
    ``resize2d``: the operator text's integer lengths sample 0 and 2 (out 2, i (3 - 1) /
    (2 - 1)); evidence when the output is the evaluator's 0 and 1.6 (i 2 / (2.25 - 1))."""
    if not _evaluator(adapter):
        return None
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    attrs = {
        "scale": (1, 0.75),
        "mode": "linear",
        "coordinate_transformation_mode": "align_corners",
    }
    out = _output(adapter, "resize2d", {"x": x}, attrs)
    if out is None or out.shape != (1, 1, 1, 2) or not np.allclose(out.ravel(), [0.0, 1.6]):
        return None
    return (
        f"onnx {adapter.version()}'s ReferenceEvaluator: align_corners resize of [0, 1, 2] "
        f"by 0.75 gives {out.ravel().tolist()!r}, coordinates i (3 - 1) / (2.25 - 1), not "
        "[0, 2]"
    )


def _unfloored_prediction(observed):
    return _evaluator_prediction(observed) if _unfloored(observed) else None


ALIGN_CORNERS_UNFLOORED = modelled(
    align_corners_unfloored,
    _unfloored_prediction,
    "onnx.reference's Resize with align_corners over the unfloored length n * scale "
    "(and float32 cubic coefficients)",
)


# --------------------------------------------------------------------------------------
# onnx_reference-conv-transpose-grouped-whole-bias


def _pairs(value):
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


def evaluator_depthwise_conv_transpose(x, w, b, stride, padding, output_padding, dilation):
    """onnx.reference's ConvTranspose with group = C_in and one output channel per group
    (w (C, 1, kh, kw)), in the input's dtype, as onnx/reference/ops/op_conv_transpose.py
    runs it: each group is ``self._run(group_X, group_W, B=B, ..., group=1)``, whose one
    output channel gets ``res += B[c]`` with c = 0, so every channel adds ``b[0]``.  The
    products ``w_t @ X`` (one term each, k = 1) go through ``col2im_naive_implementation``
    (op_col2im.py), which adds them into a zeroed dtype image kernel offset by kernel
    offset (row-major), positions outside the output skipped; the bias is added last."""
    x, w = np.asarray(x), np.asarray(w)
    dtype = x.dtype
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = map(
        _pairs, (stride, padding, output_padding, dilation)
    )
    n, c, h, width = x.shape
    kh, kw = w.shape[2:]
    out_h = sh * (h - 1) + oh + (kh - 1) * dh + 1 - 2 * ph
    out_w = sw * (width - 1) + ow + (kw - 1) * dw + 1 - 2 * pw
    y = np.zeros((n, c, out_h, out_w), dtype=dtype)
    rows, cols = np.arange(h) * sh - ph, np.arange(width) * sw - pw
    for i in range(kh):
        for j in range(kw):
            products = (x * w[None, :, 0, i, j, None, None]).astype(dtype)
            r, q = rows + i * dh, cols + j * dw
            keep_r, keep_q = (r >= 0) & (r < out_h), (q >= 0) & (q < out_w)
            target = np.ix_(r[keep_r], q[keep_q])
            y[:, :, target[0], target[1]] += products[:, :, keep_r][:, :, :, keep_q]
    if b is not None:
        y += np.asarray(b, dtype=dtype)[0]
    return y


@cache
def grouped_whole_bias(adapter) -> str | None:
    """A depthwise ConvTranspose (group 2, 1x1) of x [2, 3], w [1, 10], b [1, 2] through
    the adapter's ``conv_transpose2d``: torch gives [3, 32]; evidence when it gives the
    evaluator model's [3, 31] (b[0] added to both channels)."""
    if not _evaluator(adapter):
        return None
    inputs = {
        "x": np.array([2.0, 3.0], np.float32).reshape(1, 2, 1, 1),
        "w": np.array([1.0, 10.0], np.float32).reshape(2, 1, 1, 1),
        "b": np.array([1.0, 2.0], np.float32),
    }
    out = _output(adapter, "conv_transpose2d", inputs, {"groups": 2})
    if out is None or out.shape != (1, 2, 1, 1) or out.ravel().tolist() != [3.0, 31.0]:
        return None
    return (
        f"onnx {adapter.version()}'s ReferenceEvaluator: a depthwise ConvTranspose (group 2) "
        "of [2, 3] by [1, 10] with bias [1, 2] gives [3, 31], not [3, 32]"
    )


def _whole_bias_prediction(observed):
    """The evaluator's output for a forward depthwise (w (C_in, 1, kh, kw), groups = C_in
    > 1) ConvTranspose with a bias whose entries differ; None otherwise."""
    attrs, inputs = observed.attrs, observed.inputs
    groups, w, b = int(attrs.get("groups", 1)), inputs["w"], inputs.get("b")
    depthwise = groups > 1 and w.shape[:2] == (groups, 1) and inputs["x"].shape[1] == groups
    if observed.direction != "forward" or not depthwise or b is None:
        return None
    if np.all(np.asarray(b) == np.asarray(b).ravel()[0]):
        return None
    stride, dilation = attrs.get("stride", 1), attrs.get("dilation", 1)
    # The torch module the adapter exports (its padding and output_padding pairs).
    crops = transpose_crops(
        inputs["x"].shape[2:],
        w.shape[2:],
        stride,
        attrs.get("padding", 0),
        attrs.get("output_padding", 0),
        dilation,
    )
    torch_args = torch_transpose_padding(*crops)
    if torch_args is None:
        return None
    y = evaluator_depthwise_conv_transpose(inputs["x"], w, b, stride, *torch_args, dilation)
    return {"y": y.astype(np.float64)}


GROUPED_WHOLE_BIAS = modelled(
    grouped_whole_bias,
    _whole_bias_prediction,
    "onnx.reference's depthwise ConvTranspose with b[0] added to every channel "
    "(evaluator_depthwise_conv_transpose)",
)
