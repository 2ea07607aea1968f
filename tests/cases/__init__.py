"""The shared fixture registry: every named case that tests, benchmarks and reports read.

A case is data: a layer (the name of a ``reference`` module), its inputs in the order of
that module's ``forward`` signature, its keyword attributes, the expected forward output
where a source prints it, and a provenance naming that source.  Cases are declared once,
in the modules of this package, and looked up by id.

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

from collections.abc import Iterator, Mapping
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


_REGISTRY: dict[str, Case] = {}


def register(*cases: Case) -> None:
    """Add cases to the registry; ids must be unique across all layers."""
    for case in cases:
        if case.id in _REGISTRY:
            raise ValueError(f"duplicate case id {case.id!r}")
        _REGISTRY[case.id] = case


def get(case_id: str) -> Case:
    _load()
    return _REGISTRY[case_id]


def all_cases(layer: str | None = None) -> list[Case]:
    """Every registered case, optionally only those of one layer, in declaration order."""
    _load()
    return [c for c in _REGISTRY.values() if layer is None or c.layer == layer]


def iter_layers() -> Iterator[str]:
    _load()
    seen: dict[str, None] = {}
    for case in _REGISTRY.values():
        seen.setdefault(case.layer)
    yield from seen


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    # Importing the declaration modules registers their cases.
    from tests.cases import generated, seeds  # noqa: F401
