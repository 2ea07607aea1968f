"""The Conventions section: each documented difference between frameworks as the relation
its test asserts, the two sides (the call a user writes and the reference call that
reproduces it), and what was measured, in words and numbers rather than raw JSON.

Records come from ``tests/conventions/support.py`` (``start_record``): ``row``, ``title``,
``frameworks`` ("a / b vs c / d"), ``difference``, ``side_a`` / ``side_b`` ("API  ->
reference call"), ``max_abs_diff_between_sides``, ``reference_matches``, ``versions``,
``observed_versions``, ``source``, ``notes`` and test-specific extras; any of them may be
missing (other suites' records are shown with what they have).
"""

from __future__ import annotations

from collections import defaultdict

from reports import formats
from reports.outcomes import worst

_META = {"test_id", "index", "outcome", "reason", "duration", "traceback", "env"}
#: Keys describing the row (the same in every environment), shown once per row.
_DESCRIPTION = {
    "row",
    "name",
    "title",
    "frameworks",
    "difference",
    "side_a",
    "side_b",
    "versions",
    "source",
    "notes",
    "tested_by",
}
#: Measured keys with a heading of their own; other keys get theirs from their name.
LABELS = {
    "max_abs_diff_between_sides": "largest |A \u2212 B|",
    "reference_matches": "reference vs each side",
    "observed_versions": "versions run",
    "fixture": "inputs",
    "same_pads_before_after": "SAME pads (before, after)",
}


def show(value) -> str:
    """A value as a person reads it: numbers at display precision, lists comma-separated,
    mappings as "key: value", nothing as a dash (never Python or JSON syntax)."""
    if value is None or value == "" or value == [] or value == {}:
        return formats.NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) or value in ("inf", "-inf", "nan"):
        return formats.num(value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    return str(value)


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def _side(record: dict, key: str, frameworks: str | None) -> dict | None:
    text = record.get(key)
    if not text:
        return None
    api, _, reference = str(text).partition("  ->  ")
    return {"frameworks": frameworks, "api": api.strip(), "reference": reference.strip()}


def _test_label(test_id: str) -> str:
    """``path::test_x[odd_total_pad]`` -> ``odd_total_pad`` (``test_x`` without one)."""
    name = test_id.rpartition("::")[2]
    return name[name.index("[") + 1 : -1] if name.endswith("]") and "[" in name else name


def rows(records: list[dict]) -> list[dict]:
    """One entry per convention (row id, else test id): its description once, and one
    measurement line per test (a row may have several parametrized tests) and
    environment."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        grouped[str(r.get("row") or r.get("test_id") or r.get("name") or "?")].append(r)
    out = []
    for key, recs in grouped.items():
        first = recs[0]
        test_ids = list(dict.fromkeys(str(r.get("test_id") or key) for r in recs))
        who = show(first.get("frameworks")) if first.get("frameworks") else ""
        a, _, b = who.partition(" vs ")
        sources = first.get("source") or []
        measured_keys: list[str] = []
        for r in recs:
            measured_keys += [
                k for k in r if k not in _META and k not in _DESCRIPTION and k not in measured_keys
            ]
        out.append(
            {
                "test_id": " ".join(test_ids),
                "test_ids": test_ids,
                "several_tests": len(test_ids) > 1,
                "row": first.get("row") or first.get("name"),
                "title": first.get("title") or first.get("name") or first.get("row") or key,
                "frameworks": who,
                "difference": first.get("difference") or first.get("expected"),
                "sides": [
                    s
                    for s in (_side(first, "side_a", a or None), _side(first, "side_b", b or None))
                    if s
                ],
                "versions": first.get("versions"),
                "sources": [str(s) for s in sources]
                if isinstance(sources, list)
                else [str(sources)],
                "notes": first.get("notes"),
                "tested_by": first.get("tested_by"),
                "layer": str(first.get("layer") or ""),
                "adapters": " ".join(_frameworks(who)),
                "outcome": worst(r.get("outcome") for r in recs),
                "outcomes": " ".join(sorted({r.get("outcome", "skipped") for r in recs})),
                "measured": [(k, label(k)) for k in measured_keys],
                "runs": [
                    {
                        "env": r.get("env"),
                        "test": _test_label(str(r.get("test_id") or key)),
                        "outcome": r.get("outcome", "skipped"),
                        "reason": r.get("reason"),
                        "traceback": r.get("traceback"),
                        "cells": [show(r.get(k)) for k in measured_keys],
                    }
                    for r in recs
                ],
            }
        )
    return out


def _frameworks(who: str) -> list[str]:
    names = who.replace(" vs ", " / ").replace(", ", " / ").split(" / ")
    return [n.strip() for n in names if n.strip()]
