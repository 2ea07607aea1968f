"""The conventions table's row type: two sides and the documented difference between
them (see tests/conventions/table.py, which holds the rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TORCH_213 = "torch 2.13.0"
KERAS_315 = "keras 3.15 (TF backend), tensorflow 2.21"


@dataclass(frozen=True)
class Side:
    """One side of a row: the frameworks showing it, the API call, and the reference call
    (with ``params``) that reproduces it."""

    frameworks: tuple[str, ...]
    api: str
    reference: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Convention:
    id: str
    title: str
    a: Side
    b: Side
    #: The documented difference, as a formula in both sides' outputs.
    difference: str
    versions: str
    sources: tuple[str, ...]
    notes: str = ""
    #: A test elsewhere that asserts the row (the row's test here calls it).
    tested_by: str | None = None

    def frameworks(self) -> str:
        return f"{' / '.join(self.a.frameworks)} vs {' / '.join(self.b.frameworks)}"
