"""The outcomes a comparison can have, ordered from worst to best."""

from __future__ import annotations

#: Outcomes from worst to best.
OUTCOMES = ("fail", "xfail", "unsupported", "skipped", "pass")
OUTCOME_LABELS = {
    "fail": "fail",
    "xfail": "known divergence (xfail)",
    "unsupported": "unsupported",
    "skipped": "skipped",
    "pass": "pass",
}


def worst(outcomes) -> str:
    """The worst outcome present ("none" for no outcomes)."""
    present = set(outcomes)
    return next((o for o in OUTCOMES if o in present), "none")
