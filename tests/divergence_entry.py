"""One declared divergence (tests/known_divergences.py explains the three ways an entry is
enforced); its own module so that the per-framework lists can build entries without
importing the list they are added to."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from tests import divergence_signatures as signatures


@dataclass(frozen=True)
class Divergence:
    layer: str
    case: str
    adapter: str
    reason: str
    dtype: str = "*"
    direction: str = "*"
    #: The framework's issue for a framework bug, else None (documented limitation).
    issue: str | None = None
    #: "xfail", "matched" or "unsupported" (see the module docstring).
    enforced: str = "xfail"
    #: Short id: an adapter's refusal quotes it ("unsupported"); xfail reasons name it.
    key: str = ""
    #: The test (``path::name``) that demonstrates the bug ("unsupported", "matched").
    evidence: str = ""
    #: How to recognise the bug's wrong value ("matched" only).
    signature: signatures.Signature | None = None
    #: The conventions row (tests/conventions/table.py id) of a documented difference the
    #: reference cannot take as a parameter; such an entry is not a bug.
    convention: str | None = None

    def matches(self, layer: str, case: str, adapter: str, dtype: str, direction: str) -> bool:
        fields = zip(
            (self.layer, self.case, self.adapter, self.dtype, self.direction),
            (layer, case, adapter, dtype, direction),
            strict=True,
        )
        return all(fnmatchcase(value, pattern) for pattern, value in fields)
