"""What the Keras and tf.nn adapters share: importing TensorFlow, its determinism flags,
reading a framework's own refusal, and matching pooling windows.

Deliberately independent of ``reference``: an adapter that borrowed the reference's
geometry could not catch a mistake in it.  The geometry here is the frameworks' own:

- TensorFlow "SAME" (``out = ceil(in / stride)``, ``total = max((out - 1) * stride +
  (k - 1) * dilation + 1 - in, 0)``, ``before = total // 2``; "Notes on padding",
  https://www.tensorflow.org/api_docs/python/tf/nn), "VALID" (no padding), and
  tf.nn.max_pool2d's explicit padding list; in every case TF pooling reads real cells only,
  so SAME average pooling divides by the number of real cells.
- The reference's pooling windows follow torch: explicit padding, floor or ``ceil_mode``
  (the last window must start inside the input or the left padding), and average pooling's
  ``count_include_pad`` divisor, which counts padding but not the ceil-mode overhang.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# pair and padding_pairs are re-exported: the TF adapters reach all geometry through here.
from adapters._geometry import padding_pairs as padding_pairs
from adapters._geometry import pair as pair
from adapters._geometry import window_count
from adapters.base import FrameworkMissing


def import_tensorflow(purpose: str) -> Any:
    """Import TensorFlow once, quiet, with op determinism on and TF32 off."""
    # Must precede the import: the C++ logger reads it once.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise FrameworkMissing(
            f"{purpose} needs TensorFlow: pip install 'tensorflow-cpu>=2.15' ({exc})"
        ) from exc
    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    return tf


def tf_determinism_flags(tf: Any) -> dict[str, str]:
    """The TensorFlow settings that change numbers, as the pytest header prints them."""
    return {
        # Read, never changed: oneDNN's fused CPU kernels reorder sums (TF logs
        # "oneDNN custom operations are on ... set TF_ENABLE_ONEDNN_OPTS=0").
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "<unset: TF default>"),
        # Turned on by import_tensorflow (TF has no public getter for it).
        "op_determinism": "on (tf.config.experimental.enable_op_determinism)",
        "tensor_float_32": str(tf.config.experimental.tensor_float_32_execution_enabled()),
    }


def refusal(action: Callable[[], Any]) -> str:
    """The framework's own message when ``action`` is refused ("TypeName: message").

    Raises ``AssertionError`` when the framework accepts it: then the rule this adapter
    states is out of date and must not be reported as the framework's.
    """
    try:
        action()
    except Exception as exc:  # the framework's own refusal, whatever its type
        return exception_text(exc)
    raise AssertionError("the framework accepted what this adapter reports as refused")


def exception_text(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line, without TF's ``{{function_node ...}}`` prefix."""
    text = re.sub(r"\{\{function_node [^}]*\}\}", "", str(exc))
    return f"{type(exc).__name__}: {' '.join(text.split())}"


def signature(function: Any, name: str) -> str:
    """``name(<the function's own parameters>)``: what a framework lets a caller say."""
    try:
        return f"{name}{inspect.signature(function)}"
    except (TypeError, ValueError):
        return name


def doc_line(obj: Any, word: str) -> str:
    """The entry of ``obj``'s docstring that starts with ``word`` (the framework's own
    rule), joined onto one line: the first line mentioning it and the more indented lines
    that continue it."""
    lines = (obj.__doc__ or "").splitlines()
    for i, line in enumerate(lines):
        if word in line:
            indent = len(line) - len(line.lstrip())
            entry = [line.strip()]
            for more in lines[i + 1 :]:
                if not more.strip() or len(more) - len(more.lstrip()) <= indent:
                    break
                entry.append(more.strip())
            return " ".join(entry)
    return f"(no docstring line mentions {word!r})"


# --------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class AxisWindows:
    """One axis's windows: where each starts (padding shifts it left) and its divisor."""

    starts: tuple[int, ...]
    divisors: tuple[int, ...]


def _windows(size, kernel, stride, dilation, lo, hi, ceil_mode, count_padding) -> AxisWindows:
    out = window_count(size, kernel, stride, dilation, lo, hi, ceil_mode)
    starts = tuple(i * stride - lo for i in range(out))
    divisors = []
    for start in starts:
        taps = [start + j * dilation for j in range(kernel)]
        limit_lo, limit_hi = (-lo, size + hi) if count_padding else (0, size)
        divisors.append(sum(limit_lo <= t < limit_hi for t in taps))
    return AxisWindows(starts, tuple(divisors))


def reference_windows(size_hw, attrs, *, dilation=(1, 1)) -> tuple[AxisWindows, AxisWindows]:
    """The reference pooling's windows (torch semantics) for ``attrs`` on an H x W input."""
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    pads = padding_pairs(attrs.get("padding", 0), size_hw, kernel, stride, dilation)
    count_padding = bool(attrs.get("count_include_pad", True))
    ceil_mode = bool(attrs.get("ceil_mode", False))
    return tuple(  # type: ignore[return-value]
        _windows(size_hw[a], kernel[a], stride[a], dilation[a], *pads[a], ceil_mode, count_padding)
        for a in (0, 1)
    )


def tf_windows(size_hw, attrs, padding: Any, *, dilation=(1, 1)):
    """TensorFlow pooling's windows for ``padding`` ("VALID", "SAME" or explicit pairs);
    divisors count real cells only."""
    kernel = pair(attrs["kernel_size"])
    stride = pair(attrs.get("stride") or attrs["kernel_size"])
    if isinstance(padding, str):
        pads = padding_pairs(padding.lower(), size_hw, kernel, stride, dilation)
    else:
        pads = padding
    return tuple(
        _windows(size_hw[a], kernel[a], stride[a], dilation[a], *pads[a], False, False)
        for a in (0, 1)
    )


def matching_tf_padding(size_hw, attrs, candidates, *, average: bool, dilation=(1, 1)):
    """The first of ``candidates`` whose windows (and, for average pooling, divisors) equal
    the reference's, or ``None``.  ``divisor_override`` must equal every window's count."""
    wanted = reference_windows(size_hw, attrs, dilation=dilation)
    override = attrs.get("divisor_override")
    for padding in candidates:
        got = tf_windows(size_hw, attrs, padding, dilation=dilation)
        if any(g.starts != w.starts for g, w in zip(got, wanted, strict=True)):
            continue
        if not average:
            return padding
        if override is not None:
            if all(dh * dw == override for dh in got[0].divisors for dw in got[1].divisors):
                return padding
        elif all(g.divisors == w.divisors for g, w in zip(got, wanted, strict=True)):
            return padding
    return None


def pooling_summary(attrs) -> str:
    keys = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "count_include_pad")
    shown = [f"{k}={attrs[k]!r}" for k in (*keys, "divisor_override") if k in attrs]
    return ", ".join(shown)


def kept_unit_scale(dropped_ones: np.ndarray) -> float:
    """The value a framework's dropout gives kept units of a tensor of ones; checks that
    dropped units are exactly 0 and every kept unit has the same value."""
    kept = dropped_ones[dropped_ones != 0]
    if kept.size == 0 or not np.all(kept == kept[0]):
        raise RuntimeError(
            f"dropout on ones gave no single kept-unit value: {np.unique(dropped_ones)}"
        )
    return float(kept[0])


# -- activations (issue 17) -------------------------------------------------------------


def float32_attribute(op: str, name: str, value: float, dtype) -> str | None:
    """Why a float64 call of ``op`` cannot use ``value``: its attribute ``name`` is a
    32-bit float (TensorFlow attr type "float"), which rounds a ``value`` that float32 does
    not hold; None when the call is not float64 or float32 holds ``value`` exactly."""
    rounded = float(np.float32(value))
    if np.dtype(dtype) != np.float64 or rounded == float(value):
        return None
    return (
        f"{op}: the op's {name} attribute is a 32-bit float (TensorFlow attr type 'float', "
        f"tf.raw_ops.LeakyRelu(features, alpha=0.2)), so a float64 call computes with "
        f"{name} = {rounded!r}, not {float(value)!r}"
    )
