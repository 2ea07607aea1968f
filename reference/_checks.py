"""Argument checks shared by the reference layers: every failure is a ValueError naming
the parameter and the offending value, raised before NumPy could fail obscurely."""

from __future__ import annotations

import numpy as np


def float_array(name: str, value, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a floating ndarray (dtype kept; integers promoted to float64)."""
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    return arr


def same_shape(name: str, value: np.ndarray, other_name: str, other: np.ndarray) -> None:
    if value.shape != other.shape:
        raise ValueError(
            f"{name} shape {value.shape} does not match {other_name} shape {other.shape}"
        )


def reduction(value: str) -> str:
    if value not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {value!r}")
    return value
