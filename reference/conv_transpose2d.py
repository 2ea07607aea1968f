"""2-D transposed convolution ("deconvolution"), NCHW: the adjoint of conv2d's input map.

``x`` (N, C_in, H, W); ``w`` (C_in, C_out/groups, kh, kw) as in torch's ConvTranspose2d;
``b`` (C_out,) or None.  Every input pixel scatters its kernel, weighted, onto the output:
``y[n, g*Cog + o, i*sh + ky*dh - top, j*sw + kx*dw - left] += x[n, g*Cig + c, i, j] *
w[g*Cig + c, o, ky, kx]`` (Cig = C_in/groups, Cog = C_out/groups), plus ``b``.

Per axis the full scatter has ``(in - 1)*stride + (k - 1)*dilation + 1`` cells;
``padding`` crops it and ``output_padding`` extends it at the bottom/right:
``out = (in - 1)*stride + (k - 1)*dilation + 1 - top - bottom + output_padding``, output
cell ``o`` being full cell ``o + top`` (cells past the full scatter hold the bias only).
torch's ``padding=p, output_padding=a`` is this with ``top = bottom = p``.

``padding`` takes conv2d's forms: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``,
``"valid"`` (no crop) or ``"same"``, the adjoint of conv2d's SAME: the output is
``in*stride``, the crop ``total = max(k_eff - stride, 0)`` with ``k_eff = (k - 1)*dilation
+ 1`` split ``top = total // 2``, the odd cell at the bottom/right, and
``max(stride - k_eff, 0)`` cells of output padding (tf.nn.conv2d_transpose with
``output_shape = in*stride`` and "SAME", Keras Conv2DTranspose(padding="same"), and ONNX
ConvTranspose auto_pad SAME_UPPER; see tests/reference/test_conv_transpose2d.py).
``output_padding`` (int or pair, default 0) must be smaller than the stride or the
dilation on its axis (torch's rule), and 0 with ``"same"``, which fixes the output size.

Computation: one GEMM per group gives every kernel tap of every input pixel,
``(C_out*kh*kw, N*H*W)``, and ``reference.im2col.fold`` (col2im) sums the taps onto the
output, exactly conv2d's input-gradient path.  The backward is conv2d's forward and
weight gradient with the roles exchanged: ``dx = conv2d(g, w)`` through ``unfold`` and one
GEMM; ``dw`` is ``x`` against the same unfolded ``g``; ``db`` sums ``g``.

Mixed input dtypes compute in ``np.result_type(x, w, b)``; float32 stays float32.
"""

from __future__ import annotations

import numbers

import numpy as np

from reference._checks import float_array, grad_out_array
from reference._windows import Axis, Window2d, pair, resolve_padding
from reference.im2col import fold, unfold


def _groups(groups) -> int:
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    return int(groups)


def _crops(padding, size_hw, spans, strides, output_padding):
    """``(((top, bottom), (left, right)), (extra_h, extra_w))``: the crop of the full
    scatter and the output padding, for any padding form."""
    if isinstance(padding, str) and padding.lower() == "same":
        if output_padding != (0, 0):
            raise ValueError(
                f"output_padding must be 0 with padding='same', which fixes the output size "
                f"at in*stride; got output_padding {output_padding!r}"
            )
        totals = [max(span - s, 0) for span, s in zip(spans, strides, strict=True)]
        pads = tuple((t // 2, t - t // 2) for t in totals)
        extra = tuple(max(s - span, 0) for span, s in zip(spans, strides, strict=True))
        return pads, extra
    # Every other form (and any unknown string, which it rejects) is conv2d's.
    return resolve_padding(padding, size_hw, (1, 1), (1, 1), (1, 1)), output_padding


def _geometry(x_hw, kernel, stride, padding, output_padding, dilation) -> Window2d:
    """The conv2d windows whose adjoint this is: a conv2d over the output size, with
    ``out`` fixed to the input size (output padding may add cells no window reads)."""
    strides = pair("stride", stride)
    dilations = pair("dilation", dilation)
    extras = pair("output_padding", output_padding, minimum=0)
    for a, name in ((0, "height"), (1, "width")):
        if extras[a] >= strides[a] and extras[a] >= dilations[a]:
            raise ValueError(
                f"output_padding {output_padding!r} must be smaller than the stride "
                f"{stride!r} or the dilation {dilation!r} along {name}"
            )
    spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True))
    pads, extras = _crops(padding, x_hw, spans, strides, extras)
    axes = []
    for a, name in ((0, "height"), (1, "width")):
        (lo, hi), full = pads[a], (x_hw[a] - 1) * strides[a] + spans[a]
        out = full - lo - hi + extras[a]
        if out < 1:
            raise ValueError(
                f"padding {padding!r} crops the whole output along {name}: "
                f"({x_hw[a]} - 1)*{strides[a]} + {spans[a]} - {lo} - {hi} + {extras[a]} = {out}"
            )
        axes.append(Axis(out, kernel[a], strides[a], dilations[a], lo, hi, x_hw[a]))
    return Window2d(*axes)


def _prepare(x, w, b, stride, padding, output_padding, dilation, groups):
    x = float_array("x", x, ndim=4)
    w = float_array("w", w, ndim=4)
    if b is not None:
        b = float_array("b", b, ndim=1)
    groups = _groups(groups)
    c_in = x.shape[1]
    if w.shape[0] != c_in:
        raise ValueError(
            f"w shape {w.shape} expects {w.shape[0]} input channels (w.shape[0]), "
            f"but x shape {x.shape} has {c_in}"
        )
    if c_in % groups:
        raise ValueError(f"groups {groups} does not divide the {c_in} input channels of x")
    if any(k < 1 for k in w.shape[1:]):
        raise ValueError(f"w shape {w.shape} has an empty output-channel or kernel axis")
    if any(s < 1 for s in x.shape[2:]):
        raise ValueError(f"x shape {x.shape} has an empty spatial axis")
    c_out = w.shape[1] * groups
    if b is not None and b.shape != (c_out,):
        raise ValueError(
            f"b shape {b.shape} does not match the {c_out} output channels "
            f"(w.shape[1] * groups = {w.shape[1]} * {groups})"
        )
    geometry = _geometry(x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation)
    dtype = np.result_type(x, w) if b is None else np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b, geometry, groups, dtype


def _out_hw(geometry: Window2d) -> tuple[int, int]:
    """The transposed convolution's output size (the adjoint conv2d's input size)."""
    return geometry.h.size, geometry.w.size


def _channels_first(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (groups, C/groups, N*H*W), contiguous (the GEMM operand)."""
    n, c, h, w = a.shape
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).reshape(groups, c // groups, n * h * w)


def forward(
    x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
) -> np.ndarray:
    """``y`` (N, C_out, out_h, out_w) in the inputs' float dtype."""
    x, w, b, geometry, groups, dtype = _prepare(
        x, w, b, stride, padding, output_padding, dilation, groups
    )
    n, c_in, h, wd = x.shape
    kh, kw = w.shape[2:]
    c_out = w.shape[1] * groups
    # (G, Cog*kh*kw, Cig) @ (G, Cig, N*H*W): every tap of every input pixel.
    w_g = w.reshape(groups, c_in // groups, -1).swapaxes(-1, -2)
    cols = np.matmul(w_g, _channels_first(x, groups))
    y = fold(cols.reshape(c_out, kh, kw, n, h, wd), geometry, (n, c_out, *_out_hw(geometry)))
    if b is not None:
        y += b.astype(dtype, copy=False)[:, None, None]
    return y


def backward(
    grad_out, x, w, b=None, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1
) -> dict[str, np.ndarray]:
    """``{"x": dL/dx, "w": dL/dw}`` plus ``"b"`` when ``b`` is given, each in its input's
    shape and float dtype.  ``grad_out`` has the forward output's shape."""
    x_in, w_in, b_in = x, w, b
    x, w, b, geometry, groups, dtype = _prepare(
        x, w, b, stride, padding, output_padding, dilation, groups
    )
    n, c_in, h, wd = x.shape
    c_out = w.shape[1] * groups
    g = grad_out_array(grad_out, (n, c_out, *_out_hw(geometry)), dtype)
    # unfold(g): (C_out, kh, kw, N, H, W), grouped as (G, Cog*kh*kw, N*H*W).
    cols = unfold(g, geometry, 0.0).reshape(groups, -1, n * h * wd)
    w_g = w.reshape(groups, c_in // groups, -1)
    x_g = _channels_first(x, groups)
    grad_x = np.matmul(w_g, cols).reshape(c_in, n, h, wd).transpose(1, 0, 2, 3)
    grad_w = np.matmul(x_g, cols.swapaxes(-1, -2)).reshape(w.shape)
    grads = {"x": _as(np.ascontiguousarray(grad_x), x_in), "w": _as(grad_w, w_in)}
    if b is not None:
        grads["b"] = _as(g.sum(axis=(0, 2, 3)), b_in)
    return grads


def _as(grad: np.ndarray, like) -> np.ndarray:
    """Gradient in its input's float dtype (integer inputs were promoted to float64)."""
    dtype = np.asarray(like).dtype
    return grad if not np.issubdtype(dtype, np.floating) else grad.astype(dtype, copy=False)
