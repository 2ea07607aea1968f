"""Shared fixtures as data: the ``Case`` type, the seeds' worked examples and the helpers
that declare seeded random cases.

A case is data: a layer (the name of a ``reference`` module), its inputs in the order of
that module's ``forward`` signature, its keyword attributes, the expected forward output
where a source prints it, and a provenance naming that source.  Each layer's declaration
(``tests/layers/``) lists its cases: the seeds' (``tests.cases.seeds.seed_cases``) and
its generated ones (``generated``).

Conventions shared by every case:

- ``layer`` is a ``reference`` module name (``"conv2d"``), or ``"<module>.<function>"``
  for a module that exposes several operations under their own names: the SciPy view
  is ``"signal.correlate"``, ``"signal.convolve"``, ``"signal.correlate2d"``,
  ``"signal.convolve2d"`` (inputs ``in1``, ``in2``; attr ``mode``).  Its backward is
  ``<function>_backward`` in the same module.
- Array arguments go in ``inputs`` even when keyword-only (dropout's boolean ``mask``,
  True = keep), so that ``attrs`` stay JSON-able; callers pass both by name:
  ``forward(**inputs, **attrs)``.
- ``tags``: ``"seed"`` (from shared/seeds/), ``"generated"`` (seeded random),
  ``"exact"`` (float64 reproduces ``expected`` bit for bit: integer or dyadic
  arithmetic).  Other cases with ``expected`` are compared at float64 rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    """One named fixture.

    ``inputs`` maps parameter names of ``reference.<layer>.forward`` to arrays, in
    signature order.  Floating arrays are cast to the dtype under test; integer and
    boolean arrays (class indices, dropout masks) keep their dtype.  ``expected`` is the
    forward output a source gives (NCHW), or ``None`` when the source prints none.
    ``expected_grads`` likewise maps input names to gradients a source gives, for
    ``grad_out`` given in ``grad_out``.
    """

    id: str
    layer: str
    inputs: Mapping[str, np.ndarray]
    provenance: str
    attrs: Mapping[str, Any] = field(default_factory=dict)
    expected: np.ndarray | None = None
    grad_out: np.ndarray | None = None
    expected_grads: Mapping[str, np.ndarray] | None = None
    note: str = ""
    tags: frozenset[str] = frozenset()

    def cast_inputs(self, dtype: np.dtype | type) -> dict[str, np.ndarray]:
        """Inputs with every floating array cast to ``dtype`` (integers/bools untouched)."""
        return {name: _cast(value, dtype) for name, value in self.inputs.items()}

    @property
    def is_2d_image(self) -> bool:
        """True when the first input is NCHW or HW and so can be drawn as a heatmap."""
        first = next(iter(self.inputs.values()))
        return first.ndim in (2, 4)


def _cast(value: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    value = np.asarray(value)
    if np.issubdtype(value.dtype, np.floating):
        return value.astype(dtype)
    return value


_SEED_CASES: dict[str, Case] = {}


def register(*cases: Case) -> None:
    """Add seed cases (the seed modules call this); ids must be unique."""
    for case in cases:
        if case.id in _SEED_CASES:
            raise ValueError(f"duplicate case id {case.id!r}")
        _SEED_CASES[case.id] = case


def registered(layer: str) -> tuple[Case, ...]:
    """The registered cases of one layer key, in registration order (seed cases:
    ``tests.cases.seeds.seed_cases`` imports the seed modules first)."""
    return tuple(c for c in _SEED_CASES.values() if c.layer == layer)


# -----------------------------------------------------------------------------------------
# Generated cases: seeded random inputs, declared beside each layer in tests/layers/.

GENERATED = frozenset({"generated"})


def generated(
    case_id: str,
    layer: str,
    seed: int,
    make_inputs: Callable[[np.random.Generator], Mapping[str, np.ndarray]],
    note: str = "",
    tags: frozenset[str] = frozenset(),
    **attrs: Any,
) -> Case:
    """A case whose inputs come from ``np.random.default_rng(seed)`` (named in its
    provenance, so it can be rebuilt on its own).  ``tags`` join "generated" ("kink": the
    case sits where the forward is not differentiable, so no central differences);
    the other keyword arguments are the layer's attributes."""
    rng = np.random.default_rng(seed)
    return Case(
        id=case_id,
        layer=layer,
        inputs=dict(make_inputs(rng)),
        attrs=attrs,
        provenance=f"generated (seed {seed})",
        note=note,
        tags=GENERATED | frozenset(tags),
    )


def normal_x(shape: tuple[int, ...]) -> Callable[[np.random.Generator], dict]:
    return lambda rng: {"x": rng.standard_normal(shape)}


def distinct(rng: np.random.Generator, shape: tuple[int, ...], offset: float = 0.0):
    """Tie-free values: a random permutation of 0, 1/4, 1/2, ... shifted by ``offset``
    (dyadic, so exact in float16/32/64: every max-pool window has one winner)."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) - size / 2) * 0.25 + offset


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.05, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def tied(rng: np.random.Generator, shape: tuple[int, ...], levels: int = 3) -> np.ndarray:
    """Values drawn from ``levels`` dyadic levels (0, 1/2, 1, ... shifted to straddle 0):
    most windows of a pool hold tied maxima (hypothesis' ``rand_some_equal`` in spirit),
    and every value is exact in float16/32/64, so the ties survive the cast."""
    return (rng.integers(0, levels, shape) - (levels - 1) // 2) * 0.5


def with_exact_zeros(
    rng: np.random.Generator, shape: tuple[int, ...], fraction: float = 0.3
) -> np.ndarray:
    """``away_from_zero`` values with about ``fraction`` of them replaced by exact zeros,
    half of those ``-0.0`` (a kink such as ReLU's sits exactly there)."""
    values = away_from_zero(rng, shape)
    zeros = rng.random(shape) < fraction
    signs = rng.choice([-1.0, 1.0], shape)
    return np.where(zeros, np.copysign(0.0, signs), values)


#: The value styles a fuzz configuration can ask for (``styled``).
VALUE_STYLES = ("normal", "distinct", "ties", "zeros")


def styled(style: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values of one style: ``"normal"`` (standard normal), ``"distinct"`` (tie-free,
    ``distinct``), ``"ties"`` (``tied``: a few levels, many equal values) or ``"zeros"``
    (``with_exact_zeros``).  Fuzz strategies draw the style so that Hypothesis reaches
    the edges (ties, exact zeros) on purpose rather than by luck."""
    if style == "normal":
        return rng.standard_normal(shape)
    if style == "distinct":
        return distinct(rng, shape)
    if style == "ties":
        return tied(rng, shape)
    if style == "zeros":
        return with_exact_zeros(rng, shape)
    raise ValueError(f"value style must be one of {VALUE_STYLES}, got {style!r}")
