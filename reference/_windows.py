"""Window geometry shared by conv2d, maxpool2d, avgpool2d and im2col.

Everything here is integer bookkeeping on one spatial axis at a time:

- ``pair`` normalises ``kernel_size`` / ``stride`` / ``dilation`` (int or pair of ints, > 0).
- ``resolve_padding`` turns an int, ``(ph, pw)``, ``((top, bottom), (left, right))``,
  ``"valid"`` or ``"same"`` into ``((top, bottom), (left, right))``.  ``"same"`` is the
  TF/Keras/ONNX SAME_UPPER rule at any stride and dilation: ``out = ceil(in / stride)``,
  ``total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0)``, the odd cell going
  to the bottom/right (ONNX AveragePool docs, ``auto_pad`` SAME_UPPER).
- ``output_length`` is torch's ``pooling_output_shape_pad_lr``
  (pytorch/pytorch aten/src/ATen/native/Pool.h): with ``ceil_mode`` the last window must
  start inside the input or the left padding.
- ``Axis.taps(j)`` gives, for kernel tap ``j``, the output positions whose tap falls on a
  real input cell and the matching input slice.  The layers loop over taps only and copy
  or add whole strided slices, so padding never has to be materialised.

Every bad value raises ``ValueError`` naming the parameter and the value.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

PaddingPairs = tuple[tuple[int, int], tuple[int, int]]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pair(name: str, value, *, minimum: int = 1) -> tuple[int, int]:
    """``value`` (an int or a pair of ints, each >= ``minimum``) as ``(height, width)``."""
    items = (value, value) if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(items) != 2 or not all(_is_int(v) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TF SAME_UPPER padding ``(before, after)`` of one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


_PADDING_FORMS = "'valid', 'same', an int, (ph, pw) or ((top, bottom), (left, right))"


def resolve_padding(
    padding, size_hw: tuple[int, int], kernel: tuple[int, int], stride, dilation
) -> PaddingPairs:
    """``padding`` in any accepted form as ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            return tuple(  # type: ignore[return-value]
                same_padding(size_hw[a], kernel[a], stride[a], dilation[a]) for a in (0, 1)
            )
        raise ValueError(f"padding must be {_PADDING_FORMS}, got {padding!r}")
    if _is_int(padding):
        pads = ((padding, padding), (padding, padding))
    else:
        try:
            items = tuple(padding)
        except TypeError:
            raise ValueError(f"padding must be {_PADDING_FORMS}, got {padding!r}") from None
        if len(items) == 2 and all(_is_int(v) for v in items):
            pads = ((items[0], items[0]), (items[1], items[1]))
        elif len(items) == 2 and all(not isinstance(v, str) and _is_pair_of_ints(v) for v in items):
            pads = (tuple(items[0]), tuple(items[1]))
        else:
            raise ValueError(f"padding must be {_PADDING_FORMS}, got {padding!r}")
    if any(p < 0 for axis in pads for p in axis):
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return (int(pads[0][0]), int(pads[0][1])), (int(pads[1][0]), int(pads[1][1]))


def _is_pair_of_ints(value) -> bool:
    try:
        items = tuple(value)
    except TypeError:
        return False
    return len(items) == 2 and all(_is_int(v) for v in items)


def output_length(
    size: int, kernel: int, stride: int, dilation: int, pad_lo: int, pad_hi: int, ceil_mode: bool
) -> int:
    """Number of windows along one axis (torch's rule; floor unless ``ceil_mode``)."""
    span = (kernel - 1) * dilation + 1
    room = size + pad_lo + pad_hi - span
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1  # the last window would start in the right padding or beyond
    return out


@dataclass(frozen=True)
class Axis:
    """One spatial axis: output ``o`` tap ``j`` reads input ``o*stride + j*dilation - pad_lo``."""

    size: int
    kernel: int
    stride: int
    dilation: int
    pad_lo: int
    pad_hi: int
    out: int

    def taps(self, j: int) -> tuple[slice, slice]:
        """``(out_slice, in_slice)`` of the outputs whose tap ``j`` is a real input cell.

        Both slices are empty-safe; ``in_slice`` is strided by ``stride``.
        """
        offset = j * self.dilation - self.pad_lo
        first = max(0, -(offset // self.stride))  # ceil(-offset / stride)
        last = min(self.out - 1, (self.size - 1 - offset) // self.stride)
        if last < first:
            return slice(0, 0), slice(0, 0)
        start = first * self.stride + offset
        stop = last * self.stride + offset + 1
        return slice(first, last + 1), slice(start, stop, self.stride)

    def real_counts(self):
        """Per output position, how many taps fall on real input cells (a list)."""
        counts = [0] * self.out
        for j in range(self.kernel):
            o, _ = self.taps(j)
            for i in range(o.start, o.stop):
                counts[i] += 1
        return counts

    def clipped_extents(self):
        """Per output position, the window length counting padding but not the overhang
        beyond it (torch avg-pool: ``min(start + k, size + pad_hi) - start``)."""
        return [
            min(o * self.stride - self.pad_lo + self.kernel, self.size + self.pad_hi)
            - (o * self.stride - self.pad_lo)
            for o in range(self.out)
        ]


@dataclass(frozen=True)
class Window2d:
    h: Axis
    w: Axis

    @property
    def kernel(self) -> tuple[int, int]:
        return self.h.kernel, self.w.kernel

    @property
    def out(self) -> tuple[int, int]:
        return self.h.out, self.w.out

    @property
    def padding(self) -> PaddingPairs:
        return (self.h.pad_lo, self.h.pad_hi), (self.w.pad_lo, self.w.pad_hi)


def window2d(
    size_hw: tuple[int, int],
    *,
    kernel_size,
    stride,
    padding,
    dilation=1,
    ceil_mode: bool = False,
    kernel_name: str = "kernel_size",
) -> Window2d:
    """Validate every window attribute and return the geometry of both axes.

    ``kernel_name`` is the parameter named when the kernel is too large (conv2d's kernel
    comes from the weight's shape).
    """
    kernel = pair(kernel_name, kernel_size)
    strides = pair("stride", stride)
    dilations = pair("dilation", dilation)
    if not isinstance(ceil_mode, (bool, numbers.Integral)):
        raise ValueError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    pads = resolve_padding(padding, size_hw, kernel, strides, dilations)
    axes = []
    for a, name in ((0, "height"), (1, "width")):
        span = (kernel[a] - 1) * dilations[a] + 1
        padded = size_hw[a] + pads[a][0] + pads[a][1]
        if span > padded:
            raise ValueError(
                f"{kernel_name} {kernel_size!r} (dilation {dilation!r}: window {span} along "
                f"{name}) is larger than the padded input {name} {padded}"
            )
        out = output_length(size_hw[a], kernel[a], strides[a], dilations[a], *pads[a], ceil_mode)
        axes.append(Axis(size_hw[a], kernel[a], strides[a], dilations[a], *pads[a], out))
    return Window2d(*axes)


def require_real_cell(geometry: Window2d, padding) -> None:
    """Raise unless every window covers at least one real input cell.

    torch forbids padding > kernel/2 outright; the reference accepts any non-negative
    padding and only rejects windows made entirely of padding, where a max or an
    excluded-padding mean is undefined.
    """
    for axis, name in ((geometry.h, "height"), (geometry.w, "width")):
        counts = axis.real_counts()
        if 0 in counts:
            raise ValueError(
                f"padding {padding!r} leaves window {counts.index(0)} along {name} "
                "with no input cell"
            )
