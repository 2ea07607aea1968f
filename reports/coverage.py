"""The coverage scoreboard (after ONNX's backend coverage report): for every layer x adapter,
which values of each declared attribute its comparisons exercised and which none did.

The suite states, per layer, the attribute domain and the category of every case's
attributes (``results["domains"]``, from ``tests.layers.coverage_domains``); this module
joins that with the parity records: a record whose comparison ran (pass, fail or known
divergence) exercises its case's values, an unsupported or skipped one does not.  Fuzz
records (case "fuzz") name no declared case and are not counted.
"""

from __future__ import annotations

from collections import defaultdict

#: Outcomes of comparisons that ran: their case's attribute values were exercised.
EXERCISED = ("pass", "fail", "xfail")


def merge_domains(runs: list[dict]) -> dict[str, dict]:
    """One domain per layer over several results JSONs (later runs add cases)."""
    merged: dict[str, dict] = {}
    for run in runs:
        for layer, domain in (run.get("domains") or {}).items():
            into = merged.setdefault(layer, {"attributes": {}, "cases": {}})
            for attr, values in (domain.get("attributes") or {}).items():
                known = into["attributes"].setdefault(attr, [])
                known += [str(v) for v in values if str(v) not in known]
            into["cases"].update(domain.get("cases") or {})
    return merged


def scoreboard(
    parity: list[dict],
    domains: dict[str, dict],
    layers: list[str],
    adapters: list[str],
    absent: dict[tuple[str, str], str],
) -> list[dict]:
    """Per layer with a domain: one column per adapter, one row per attribute.

    A cell is ``{"status": "not implemented" | "not run" | "run", "reason", "exercised":
    [values in domain order, then undeclared ones], "never": [values], "summary"}``;
    "not run" means the adapter has tests for the layer but none compared anything (all
    unsupported, or the framework missing)."""
    ran: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen: set[tuple[str, str]] = set()
    for r in parity:
        key = (r.get("layer", "?"), r.get("adapter", "?"))
        seen.add(key)
        if r.get("outcome") in EXERCISED:
            ran[key].add(str(r.get("case")))
    out = []
    for layer in layers:
        domain = domains.get(layer)
        if not domain or not domain.get("attributes"):
            continue
        attributes = domain["attributes"]
        cases = domain.get("cases") or {}
        columns = []
        for adapter in adapters:
            key = (layer, adapter)
            if key in absent and key not in seen:
                columns.append(_empty("not implemented", absent[key], attributes))
                continue
            exercised: dict[str, set[str]] = defaultdict(set)
            for case in ran.get(key, ()):
                for attr, value in (cases.get(case) or {}).items():
                    exercised[attr].add(str(value))
            if not ran.get(key):
                reason = "no comparison ran" if key in seen else "no records in this run"
                columns.append(_empty("not run", reason, attributes))
                continue
            columns.append(_column(attributes, exercised))
        total = sum(len(values) for values in attributes.values())
        out.append(
            {
                "layer": layer,
                "attributes": list(attributes),
                "total": total,
                "columns": [dict(c, adapter=a) for c, a in zip(columns, adapters, strict=True)],
            }
        )
    return out


def _empty(status: str, reason: str, attributes: dict) -> dict:
    return {
        "status": status,
        "reason": reason,
        "cells": {
            attr: {"exercised": [], "never": list(values)} for attr, values in attributes.items()
        },
        "n_exercised": 0,
        "summary": reason,
    }


def _column(attributes: dict[str, list], exercised: dict[str, set[str]]) -> dict:
    cells, missing = {}, []
    for attr, values in attributes.items():
        got = exercised.get(attr, set())
        shown = [v for v in values if v in got] + sorted(got - set(values))
        never = [v for v in values if v not in got]
        cells[attr] = {
            "exercised": shown,
            "undeclared": sorted(got - set(values)),
            "never": never,
        }
        if never and not got:
            missing.append(f"{attr} (no value)")
        elif never:
            missing.append(f"{attr}: {', '.join(never)}")
    n = sum(len(c["exercised"]) - len(c["undeclared"]) for c in cells.values())
    return {
        "status": "run",
        "reason": None,
        "cells": cells,
        "n_exercised": n,
        "summary": "never exercised: " + "; ".join(missing)
        if missing
        else "every declared value exercised",
    }
