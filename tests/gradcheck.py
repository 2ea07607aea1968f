"""Finite-difference gradient checks for the reference, in float64.

``check_backward`` compares ``backward`` with central differences of ``forward``
projected on ``grad_out``: for every differentiable input ``a``,
``<grad_out, (f(a + h e) - f(a - h e)) / 2h> == <backward(...)[a], e>``.
Small inputs are checked element by element; large ones along random directions
(JAX's ``check_grads`` does the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tests.tolerances import GRADCHECK

Forward = Callable[..., np.ndarray]
Backward = Callable[..., dict[str, np.ndarray]]


def _scalar_objective(forward: Forward, inputs: dict, attrs: Mapping, grad_out: np.ndarray):
    def objective(**overrides: np.ndarray) -> float:
        return float(np.sum(forward(**{**inputs, **overrides}, **attrs) * grad_out))

    return objective


def check_backward(
    forward: Forward,
    backward: Backward,
    inputs: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any] | None = None,
    *,
    wrt: tuple[str, ...] | None = None,
    seed: int = 0,
    max_elementwise: int = 64,
    directions: int = 4,
) -> None:
    """Assert that ``backward`` matches central differences of ``forward`` (float64).

    ``wrt`` names the inputs to check (default: every key ``backward`` returns).
    Inputs with at most ``max_elementwise`` elements are checked element by element;
    larger ones along ``directions`` random unit directions.
    """
    attrs = dict(attrs or {})
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    for name, value in inputs.items():
        if np.issubdtype(value.dtype, np.floating) and value.dtype != np.float64:
            raise ValueError(f"gradcheck runs in float64; input {name!r} is {value.dtype}")
    rng = np.random.default_rng(seed)
    out = forward(**inputs, **attrs)
    grad_out = rng.standard_normal(out.shape)
    analytic = backward(grad_out, **inputs, **attrs)
    objective = _scalar_objective(forward, inputs, attrs, grad_out)
    h = GRADCHECK["step"]
    for name in wrt or tuple(analytic):
        base = inputs[name]
        got = analytic[name]
        assert got.shape == base.shape, f"d{name}: shape {got.shape} != input {base.shape}"
        elementwise = base.size <= max_elementwise
        if elementwise:
            dirs = [np.eye(base.size)[i].reshape(base.shape) for i in range(base.size)]
        else:
            dirs = [_unit(rng.standard_normal(base.shape)) for _ in range(directions)]
        for direction in dirs:
            plus = objective(**{name: base + h * direction})
            minus = objective(**{name: base - h * direction})
            numeric = (plus - minus) / (2 * h)
            predicted = float(np.sum(got * direction))
            scale = max(1.0, abs(numeric), abs(predicted))
            assert abs(numeric - predicted) <= GRADCHECK["rtol"] * scale, (
                f"d{name} along "
                f"{f'e_{np.argmax(direction)}' if elementwise else 'a random direction'}: "
                f"backward gives {predicted!r}, central difference gives {numeric!r}"
            )


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
