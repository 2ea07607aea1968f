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
- ``Window2d.pairs()`` (the pools) loops only over the taps that touch the input, or,
  when a kernel is larger than the input, over the input cells: a pool's cost follows
  the (output, tap) pairs that read a real cell, never the kernel area or the padding.
  Per-window counts are closed forms or vectorised, O(out).

Every bad value raises ``ValueError`` naming the parameter and the value; a geometry
whose output no array could hold (more than ``MAX_WINDOWS`` windows per channel) too.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from reference._checks import flag

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


#: Windows per channel beyond which no array could hold the output (2**48 float64 cells
#: are 2 PiB): such a geometry is rejected before anything is allocated.
MAX_WINDOWS = 2**48

#: Above this magnitude, per-window arithmetic uses Python ints (an int64 would overflow).
_INT64_SAFE = 2**62


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

    @property
    def span(self) -> int:
        return (self.kernel - 1) * self.dilation + 1

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
        if last == first:  # one cell: no step (a huge stride need not fit an index)
            return slice(first, first + 1), slice(start, start + 1)
        stop = last * self.stride + offset + 1
        return slice(first, last + 1), slice(start, stop, self.stride)

    def touching_taps(self) -> range:
        """The taps that read a real cell for some output (``j*dilation`` within
        ``[pad_lo - (out-1)*stride, pad_lo + size - 1]``); with a kernel far larger than
        the input, a few of its taps."""
        lo = max(0, -(-(self.pad_lo - (self.out - 1) * self.stride) // self.dilation))
        hi = min(self.kernel - 1, (self.pad_lo + self.size - 1) // self.dilation)
        return range(lo, max(lo, hi + 1))

    @property
    def cell_major(self) -> bool:
        """True when more taps than input cells touch the input: ``pairs`` then loops over
        the cells instead of the taps."""
        taps = self.touching_taps()
        return taps.stop - taps.start > self.size

    def readers(self, i: int) -> slice | None:
        """The outputs whose window reads input cell ``i``, as a slice (None if none):
        ``o*stride + j*dilation = i + pad_lo`` with ``0 <= j < kernel``."""
        base = i + self.pad_lo
        lo = max(0, -(-(base - (self.kernel - 1) * self.dilation) // self.stride))
        hi = min(self.out - 1, base // self.stride)
        common = math.gcd(self.stride, self.dilation)
        if hi < lo or base % common:
            return None
        step = self.dilation // common  # o is fixed modulo step by o*stride = base (mod dilation)
        if step > 1:
            residue = (base // common) * pow(self.stride // common, -1, step) % step
            lo += (residue - lo) % step
            if lo > hi:
                return None
        count = (hi - lo) // step + 1
        return slice(lo, lo + (count - 1) * step + 1, step if count > 1 else 1)

    def pairs(self) -> list[tuple[slice, slice]]:
        """``(out_slice, in_slice)`` pairs that together cover every (output, tap) reading
        a real cell exactly once, each output meeting its taps in increasing order.

        Tap-major (one pair per touching tap, slices of equal length), unless more taps
        than input cells touch the input: then cell-major (one pair per input cell, an
        in_slice of length 1 against the outputs that read it), so the loop never runs
        longer than the input.  Either way the cost follows the taps that touch the
        input, not the kernel or the padding.
        """
        if self.cell_major:
            cells = ((self.readers(i), slice(i, i + 1)) for i in range(self.size))
            return [(o, cell) for o, cell in cells if o is not None]
        found = (self.taps(j) for j in self.touching_taps())
        return [(o, cell) for o, cell in found if o.stop > o.start]

    def _starts(self) -> np.ndarray:
        """Window starts ``o*stride - pad_lo`` (int64, or Python ints when they are huge)."""
        big = max(self.out * self.stride, self.pad_lo, self.span, self.size + self.pad_hi)
        if big < _INT64_SAFE:
            return np.arange(self.out, dtype=np.int64) * self.stride - self.pad_lo
        return np.arange(self.out).astype(object) * self.stride - self.pad_lo

    def real_counts(self) -> np.ndarray:
        """Per output position, how many taps fall on real input cells."""
        starts = self._starts()
        d = self.dilation
        first = np.maximum(0, -(starts // d))  # ceil(-start / d)
        last = np.minimum(self.kernel - 1, (self.size - 1 - starts) // d)
        return np.maximum(last - first + 1, 0)

    def clipped_extents(self) -> np.ndarray:
        """Per output position, the window length counting padding but not the overhang
        beyond it (torch avg-pool: ``min(start + k, size + pad_hi) - start``)."""
        starts = self._starts()
        return np.minimum(starts + self.kernel, self.size + self.pad_hi) - starts

    def first_empty_window(self) -> int | None:
        """The first output whose window holds no real cell, or None.

        With ``dilation == 1`` or ``size >= dilation``, a window holds a real cell exactly
        when its span meets the input (some tap of any run of ``dilation`` cells lands on
        one), and both ends of that test move one way with ``o``: two O(1) checks.
        Otherwise (``size < dilation``) a window meets at most one cell, so the windows
        reading each cell (``readers``) are disjoint progressions, and windows ``0..o``
        are all covered exactly when the progressions hold ``o + 1`` of them: a
        binary search, O(size * log(out)).
        """
        if self.dilation == 1 or self.size >= self.dilation:
            if self.span - 1 < self.pad_lo:
                return 0  # window 0 ends before the first cell
            beyond = (self.size - 1 + self.pad_lo) // self.stride + 1  # first start > size - 1
            return beyond if beyond < self.out else None
        runs = [r for i in range(self.size) if (r := self.readers(i)) is not None]

        def covered(last: int) -> int:  # windows 0..last that read a cell
            return sum(
                min((r.stop - 1 - r.start) // r.step, (last - r.start) // r.step) + 1
                for r in runs
                if r.start <= last
            )

        if covered(self.out - 1) == self.out:
            return None
        lo, hi = 0, self.out - 1  # the answer lies in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if covered(mid) == mid + 1:
                lo = mid + 1
            else:
                hi = mid
        return lo


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

    def pairs(self):
        """``((..., out_h, out_w), (..., in_h, in_w))`` for every real (output, tap) block,
        rows outer, so each window meets its taps in row-major order.  A cell-major axis
        (``broadcast_axes``) has in-slices of length 1 that broadcast against the outputs;
        a gradient flowing back must be summed over those axes."""
        cols = self.w.pairs()
        for out_h, in_h in self.h.pairs():
            for out_w, in_w in cols:
                yield (Ellipsis, out_h, out_w), (Ellipsis, in_h, in_w)

    @property
    def broadcast_axes(self) -> tuple[int, ...]:
        return tuple(a for a, axis in ((-2, self.h), (-1, self.w)) if axis.cell_major)


def window2d(
    size_hw: tuple[int, int],
    *,
    kernel_size,
    stride,
    padding,
    dilation=1,
    ceil_mode: bool = False,
    kernel_name: str = "kernel_size",
    every_window_real: bool = False,
) -> Window2d:
    """Validate every window attribute and return the geometry of both axes.

    ``kernel_name`` is the parameter named when the kernel is too large (conv2d's kernel
    comes from the weight's shape).  ``every_window_real`` (the pools): raise unless
    every window holds a real cell (``require_real_cell``), checked before the size of
    the output.
    """
    kernel = pair(kernel_name, kernel_size)
    strides = pair("stride", stride)
    dilations = pair("dilation", dilation)
    ceil_mode = flag("ceil_mode", ceil_mode)
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
    if every_window_real:
        require_real_cell(Window2d(*axes), padding)
    if axes[0].out * axes[1].out > MAX_WINDOWS:
        raise ValueError(
            f"padding {padding!r}, stride {stride!r} and {kernel_name} {kernel_size!r} give "
            f"{axes[0].out} x {axes[1].out} windows per channel, more than 2**48: no array "
            "could hold the output"
        )
    return Window2d(*axes)


def require_real_cell(geometry: Window2d, padding) -> None:
    """Raise unless every window covers at least one real input cell.

    torch forbids padding > kernel/2 outright; the reference accepts any non-negative
    padding and only rejects windows made entirely of padding, where a max or an
    excluded-padding mean is undefined (and which no framework's pooling layer
    produces: torch's rule excludes them, TF and Keras pad by SAME only).  It also bounds
    the padding by the window: window 0 needs ``pad_lo < span``.
    """
    for axis, name in ((geometry.h, "height"), (geometry.w, "width")):
        empty = axis.first_empty_window()
        if empty is not None:
            raise ValueError(
                f"padding {padding!r} leaves window {empty} along {name} with no input cell"
            )
