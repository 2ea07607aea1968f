"""Short calls for adapter unit tests: run one layer through the adapter Protocol.

``forward(adapter, "conv2d", inputs, attrs)`` is
``adapter.conv2d(**inputs, **attrs).forward().result()``; ``refusal`` returns the
``Unsupported`` message (or None when the direction runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from adapters.base import Unsupported, prepare


def forward(adapter, method: str, inputs: Mapping[str, Any], attrs: Mapping[str, Any] = {}):
    """The forward output in the reference's layout."""
    return prepare(adapter, method, inputs, attrs).forward().result()


def backward(
    adapter,
    method: str,
    grad_out: np.ndarray,
    inputs: Mapping[str, Any],
    attrs: Mapping[str, Any] = {},
) -> dict[str, np.ndarray]:
    """The gradients (reference layout) for ``grad_out``."""
    return prepare(adapter, method, inputs, attrs).backward(grad_out).result()


def refusal(
    adapter,
    method: str,
    inputs: Mapping[str, Any],
    attrs: Mapping[str, Any] = {},
    direction: str = "forward",
) -> str | None:
    """The adapter's ``Unsupported`` message for this call and direction, or None when it
    runs.  Backward is asked with a zero ``grad_out`` of the forward output's shape (taken
    from the reference)."""
    try:
        prepared = prepare(adapter, method, inputs, attrs)
        if direction == "forward":
            prepared.forward()
        else:
            prepared.backward(_zero_grad(method, inputs, attrs))
    except Unsupported as exc:
        return str(exc)
    return None


def _zero_grad(method, inputs, attrs):
    from tests.layers import by_method

    out = by_method(method).forward(**inputs, **attrs)
    return np.zeros_like(np.asarray(out))
