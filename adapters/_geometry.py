"""Integer bookkeeping the adapters share: int-or-pair attributes and padding forms.

Deliberately independent of ``reference._windows``: an adapter that borrowed the
reference's geometry could not catch a mistake in it.  The SAME rule is TensorFlow's
("SAME_UPPER"): ``out = ceil(in / stride)``, ``total = max((out - 1) * stride +
(k - 1) * dilation + 1 - in, 0)``, ``before = total // 2`` and the odd cell after
("Notes on padding", https://www.tensorflow.org/api_docs/python/tf/nn).
"""

from __future__ import annotations

from collections.abc import Sequence

PaddingPairs = tuple[tuple[int, int], tuple[int, int]]


def pair(value) -> tuple[int, int]:
    """An int or a pair of ints as ``(height, width)``."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        first, second = value
        return int(first), int(second)
    return int(value), int(value)


def is_string(padding) -> bool:
    return isinstance(padding, str)


def padding_pairs(padding, size_hw, kernel_hw, stride_hw, dilation_hw=(1, 1)) -> PaddingPairs:
    """Any padding form of the reference as ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode != "same":
            raise ValueError(f"padding must be 'valid', 'same' or integers, got {padding!r}")
        pads = []
        for size, k, s, d in zip(size_hw, kernel_hw, stride_hw, dilation_hw, strict=True):
            out = -(-size // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        return pads[0], pads[1]
    if isinstance(padding, Sequence):
        first, second = padding
        if isinstance(first, Sequence):
            return (int(first[0]), int(first[1])), (int(second[0]), int(second[1]))
        return (int(first), int(first)), (int(second), int(second))
    return (int(padding), int(padding)), (int(padding), int(padding))


def is_symmetric(pads: PaddingPairs) -> bool:
    return all(lo == hi for lo, hi in pads)


def padded_high(pads, extras) -> tuple[tuple[int, int], ...]:
    """``pads`` with ``extras[a]`` more cells on axis ``a``'s high side."""
    return tuple((lo, hi + extra) for (lo, hi), extra in zip(pads, extras, strict=True))


def window_count(size, kernel, stride, dilation, pad_lo, pad_hi, ceil_mode) -> int:
    """torch's pooling window count on one axis (aten/src/ATen/native/Pool.h,
    ``pooling_output_shape_pad_lr``): floor, or with ``ceil_mode`` rounded up, minus one
    if the last window would start in the right padding.  That minus one can leave fewer
    windows than floor rounding would, only for a padding torch itself refuses (wider
    than half the kernel)."""
    span = (kernel - 1) * dilation + 1
    room = size + pad_lo + pad_hi - span
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad_lo:
        out -= 1
    return out


def ceil_mode_windows(size, kernel, stride, dilation, pad_lo, pad_hi) -> tuple[int, int]:
    """torch's ``ceil_mode`` window count on one axis, and the high-side cells beyond
    ``pad_hi`` that a floor-rounding pool (lax) needs to produce at least that many
    windows; when the count is below floor rounding's, the caller keeps the first ones."""
    span = (kernel - 1) * dilation + 1
    out = window_count(size, kernel, stride, dilation, pad_lo, pad_hi, ceil_mode=True)
    return out, max(0, (out - 1) * stride + span - (size + pad_lo + pad_hi))
