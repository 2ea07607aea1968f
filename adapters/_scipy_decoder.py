"""SciPy builds of the decoder layers (issue 16) for the scipy adapter: NumPy in, NumPy out.

Transposed convolution at stride 1 is a full convolution: the scatter of ``x[i]`` times
``w[k]`` onto ``i + k`` is ``scipy.signal.convolve2d(x, w, "full")``, summed over the
group's input channels, with a dilated kernel (zeros between the taps) for dilation;
the reference's crop and output padding are slices of that full output.  The backward
places ``grad_out`` back into full-output coordinates and correlates:
``dx = correlate2d(g_full, w, "valid")`` summed over the group's output channels,
``dw = correlate2d(g_full, x, "valid")`` read at the dilated taps, ``db`` a sum.

Independent of ``reference``: the crop comes from ``adapters._decoder_geometry``.
"""

from __future__ import annotations

import numpy as np

from adapters._decoder_geometry import transpose_crops
from adapters._geometry import pair

#: Why SciPy has no adaptive pooling (the layers are methods so the report states it).
NO_ADAPTIVE_POOLING = (
    "scipy has no adaptive pooling: scipy.ndimage's uniform_filter / maximum_filter and "
    "scipy.signal's correlate2d slide one fixed window, while torch's adaptive windows "
    "[floor(i*in/out), ceil((i+1)*in/out)) overlap and change length when out does not "
    "divide in"
)

#: Why SciPy has no padding layer.
NO_PAD = (
    "scipy has no padding function: scipy.ndimage applies its boundary modes ('reflect', "
    "'mirror', 'nearest', 'wrap', 'constant') inside its filters and returns arrays of the "
    "input's size; np.pad is NumPy's, not SciPy's"
)


def _dilate(kernel: np.ndarray, dilation) -> np.ndarray:
    dh, dw = dilation
    kh, kw = kernel.shape
    out = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=kernel.dtype)
    out[::dh, ::dw] = kernel
    return out


def _layout(x, w, padding, output_padding, dilation):
    pads, extras = transpose_crops(x.shape[2:], w.shape[2:], 1, padding, output_padding, dilation)
    full = [x.shape[2 + a] + (w.shape[2 + a] - 1) * pair(dilation)[a] for a in (0, 1)]
    out = [full[a] - sum(pads[a]) + extras[a] for a in (0, 1)]
    # The output window's rows/columns inside the full output (the rest is padding).
    keep = [min(out[a], full[a] - pads[a][0]) for a in (0, 1)]
    return pads, full, out, keep


def conv_transpose2d(signal, x, w, b, padding, output_padding, dilation, groups):
    """Stride 1 (the adapter refuses other strides)."""
    dilation = pair(dilation)
    pads, full, out, keep = _layout(x, w, padding, output_padding, dilation)
    (top, _), (left, _) = pads
    n, c_in = x.shape[:2]
    cog = w.shape[1]
    cig = c_in // groups
    y = np.zeros((n, cog * groups, *out), dtype=np.result_type(x, w))
    for i in range(n):
        for g in range(groups):
            for o in range(cog):
                acc = np.zeros(full, dtype=y.dtype)
                for c in range(g * cig, (g + 1) * cig):
                    acc += signal.convolve2d(x[i, c], _dilate(w[c, o], dilation), mode="full")
                window = acc[top : top + keep[0], left : left + keep[1]]
                y[i, g * cog + o, : keep[0], : keep[1]] = window
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv_transpose2d_grads(signal, grad_out, x, w, b, padding, output_padding, dilation, groups):
    dilation = pair(dilation)
    pads, full, _, keep = _layout(x, w, padding, output_padding, dilation)
    (top, _), (left, _) = pads
    n, c_in = x.shape[:2]
    cog = w.shape[1]
    cig = c_in // groups
    g_full = np.zeros((n, cog * groups, *full), dtype=grad_out.dtype)
    g_full[:, :, top : top + keep[0], left : left + keep[1]] = grad_out[:, :, : keep[0], : keep[1]]
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    for i in range(n):
        for c in range(c_in):
            g = c // cig
            for o in range(cog):
                go = g_full[i, g * cog + o]
                grad_x[i, c] += signal.correlate2d(go, _dilate(w[c, o], dilation), mode="valid")
                dense = signal.correlate2d(go, x[i, c], mode="valid")
                grad_w[c, o] += dense[:: dilation[0], :: dilation[1]]
    grads = {"x": grad_x, "w": grad_w}
    if b is not None:
        grads["b"] = grad_out.sum(axis=(0, 2, 3)).astype(b.dtype)
    return grads
