"""Argument checks shared by the reference layers: every failure is a ValueError naming
the parameter and the offending value, raised before NumPy could fail obscurely."""

from __future__ import annotations

import numbers

import numpy as np


def as_array(name: str, value) -> np.ndarray:
    """``value`` as an ndarray; a ragged nested list raises ValueError naming ``name``
    (NumPy's own error names no parameter)."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{name} must be a rectangular array, got {_short(value)} ({exc})"
        ) from None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def float_array(name: str, value, *, ndim: int | None = None) -> np.ndarray:
    """``value`` as a floating ndarray (dtype kept; integers promoted to float64)."""
    arr = as_array(name, value)
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


def grad_out_array(value, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``grad_out`` checked against the forward output's ``shape``, cast to ``dtype``."""
    grad = float_array("grad_out", value)
    if grad.shape != tuple(shape):
        raise ValueError(
            f"grad_out shape {grad.shape} does not match the output shape {tuple(shape)}"
        )
    return grad.astype(dtype, copy=False)


def axis_index(name: str, value, ndim: int) -> int:
    """``value`` as a non-negative axis of an ``ndim``-dimensional array (negatives count
    from the end, as in NumPy)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if not -ndim <= value < ndim:
        raise ValueError(f"{name} {value} is out of range for an array of {ndim} dimensions")
    return int(value) % ndim


def one_of(name: str, value, choices: tuple) -> object:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def flag(name: str, value) -> bool:
    """A bool attribute: Python's or NumPy's bool only (0, 1 and -1 are ints, not flags)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def real_number(name: str, value, rule: str, *, minimum: float = -np.inf) -> float:
    """``value`` as a float64: a real number (not a bool, not NaN) >= ``minimum`` that a
    float64 can hold (``10**400`` cannot; inf can).  ``rule`` words the message, e.g.
    "a non-negative real number"."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    try:
        as_float = float(value)
    except OverflowError:
        raise ValueError(
            f"{name} must be {rule} that a float64 can hold, got {_short(value)}"
        ) from None
    if not as_float >= minimum:  # NaN fails too
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return as_float


def nonempty_feature_map(name: str, x: np.ndarray) -> None:
    """Only the batch axis of an NCHW ``x`` may be empty (torch's pooling and convolution
    refuse an empty channel, height or width axis with a non-empty batch)."""
    if 0 in x.shape[1:]:
        raise ValueError(
            f"{name} shape {x.shape} has an empty channel, height or width axis; only the "
            "batch axis may be 0"
        )
