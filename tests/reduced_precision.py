"""Reduced-precision arithmetic, emulated around a real adapter, to test the tight
criterion's detector (``tests/tolerances.py``).

- ``tf32``: the multiplicands rounded to TensorFloat-32 (float32 with a 10-bit mantissa,
  round to nearest even) before a float32 computation: what NVIDIA Ampere and later do
  for float32 convolutions and matmuls when TF32 is on (torch's default for cuDNN
  convolutions, ``torch.backends.cudnn.allow_tf32``).
- ``bf16``: the multiplicands rounded to bfloat16 (7-bit mantissa), accumulation in
  float32 (mixed-precision autocast on CPUs and TPUs).
- ``fp16``: a float32 computation whose result is rounded to float16.

``Emulated(adapter, mode)`` is an adapter: each layer method rounds the floating inputs
(and ``grad_out``) but not a bias (which is added, not multiplied) for ``tf32`` /
``bf16``, or rounds the results for ``fp16``, and otherwise is the wrapped adapter.

``conv2d_shapes(n)`` / ``linear_shapes(n)`` build small fixtures whose reduction length
is ``n`` in one direction (forward, dx or dw), for the detection table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from adapters.base import Run, prepare

MODES = ("tf32", "bf16", "fp16")


def round_mantissa(values: np.ndarray, bits: int) -> np.ndarray:
    """float32 values rounded to ``bits`` explicit mantissa bits, to nearest even
    (finite values; float32 itself has 23)."""
    a = np.ascontiguousarray(values, dtype=np.float32)
    drop = 23 - bits
    raw = a.view(np.uint32).astype(np.uint64)
    odd = (raw >> drop) & 1
    rounded = ((raw + (1 << (drop - 1)) - 1 + odd) >> drop) << drop
    return rounded.astype(np.uint32).view(np.float32).reshape(a.shape)


def to_tf32(values):
    return round_mantissa(values, 10)


def to_bf16(values):
    return round_mantissa(values, 7)


def to_fp16(values):
    return np.asarray(values, dtype=np.float32).astype(np.float16).astype(np.float32)


def _is_float(value) -> bool:
    return value is not None and np.issubdtype(np.asarray(value).dtype, np.floating)


class Emulated:
    """``adapter`` computing in reduced precision (``mode`` in ``MODES``), float32 only."""

    def __init__(self, adapter, mode: str):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self._inner, self.mode = adapter, mode
        self.name = f"{adapter.name}-{mode}"
        self._round_in = {"tf32": to_tf32, "bf16": to_bf16}.get(mode)

    def load(self) -> None:
        self._inner.load()

    def version(self) -> str:
        return f"{self._inner.version()} ({self.mode} emulated)"

    def determinism_flags(self) -> Mapping[str, Any]:
        return {**self._inner.determinism_flags(), "emulated": self.mode}

    def _rounded_in(self, values):
        return self._round_in(values) if self._round_in and _is_float(values) else values

    def _rounded_out(self, result):
        if self.mode != "fp16":
            return result
        if isinstance(result, Mapping):
            return {k: to_fp16(v) for k, v in result.items()}
        return to_fp16(result)

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)
        getattr(self._inner, method)  # AttributeError where the adapter has no such layer

        def layer(**kwargs):
            inputs = {k: v if k == "b" else self._rounded_in(v) for k, v in kwargs.items()}
            return _Prepared(self, prepare(self._inner, method, inputs, {}))

        return layer


class _Prepared:
    def __init__(self, owner: Emulated, inner):
        self._owner, self._inner = owner, inner

    def _wrap(self, run: Run) -> Run:
        return Run(run.call, lambda r: self._owner._rounded_out(run.to_reference(r)))

    def forward(self) -> Run:
        return self._wrap(self._inner.forward())

    def backward(self, grad_out) -> Run:
        return self._wrap(self._inner.backward(self._owner._rounded_in(grad_out)))


# ------------------------------------------------------------------------------------------
# Fixtures with a given reduction length


def conv2d_shapes(n: int, direction: str) -> tuple[dict, dict]:
    """(input shapes, attrs) of a conv2d whose ``direction`` ("forward", "dx", "dw")
    reduces over ``n`` terms, small everywhere else: forward and dx reduce over
    C * 3 * 3 (forward) or M * 3 * 3 (dx) with n / 9 channels (1x1 kernels when 9 does not
    divide n), dw over N * out_h * out_w positions (an out_h x out_w grid as square as n
    allows)."""
    kernel = 3 if n % 9 == 0 else 1
    channels = n // (kernel * kernel)
    if direction == "forward":
        return {"x": (2, channels, 5, 5), "w": (4, channels, kernel, kernel), "b": (4,)}, {}
    if direction == "dx":
        return {"x": (1, 3, 5, 5), "w": (channels, 3, kernel, kernel), "b": (channels,)}, {
            "padding": kernel // 2
        }
    rows = max(d for d in range(1, int(np.sqrt(n)) + 1) if n % d == 0)
    return {"x": (1, 2, rows, n // rows), "w": (2, 2, 3, 3), "b": (2,)}, {"padding": 1}


def linear_shapes(n: int, direction: str) -> tuple[dict, dict]:
    """(input shapes, attrs) of a linear layer whose ``direction`` reduces over n terms."""
    if direction == "forward":
        return {"x": (8, n), "w": (n, 4), "b": (4,)}, {}
    if direction == "dx":
        return {"x": (8, 3), "w": (3, n), "b": (n,)}, {}
    return {"x": (n, 3), "w": (3, 4), "b": (4,)}, {}


def inputs_for(shapes: Mapping[str, tuple[int, ...]], seed: int, positive: bool = False):
    """Seeded inputs: standard normal, or uniform in [0, 1) (same-sign terms, whose
    partial sums grow like the sum itself)."""
    rng = np.random.default_rng(seed)
    draw = rng.random if positive else rng.standard_normal
    return {k: draw(shape) for k, shape in shapes.items()}
