"""The summary matrix (layer x adapter) and the version matrix (layer x adapter x
environment): each cell shows its comparisons' outcomes as proportions, so a layer with
122 passes and 8 unsupported comparisons reads as mostly passing, and a failure is marked
on its own however few there are."""

from __future__ import annotations

import math
from collections import defaultdict

from reports.charts import as_float
from reports.outcomes import OUTCOMES, worst

#: The order of a cell's bar, left to right: a failure always starts the bar.
BAR_ORDER = ("fail", "xfail", "pass", "unsupported", "skipped")


def cell(records: list[dict]) -> dict:
    """Counts, shares (percent of the cell's records, in ``BAR_ORDER``), worst outcome and
    largest error / bound of one cell's records."""
    counts = {o: 0 for o in OUTCOMES}
    for r in records:
        counts[r.get("outcome") if r.get("outcome") in counts else "skipped"] += 1
    ratios = [as_float(r.get("err_to_bound")) for r in records]
    ratios = [v for v in ratios if not math.isnan(v)]
    n = len(records)
    return {
        "outcome": worst(r.get("outcome") for r in records) if records else "none",
        "ratio": max(ratios) if ratios else None,
        "cases": len({r.get("case") for r in records}),
        "n": n,
        "counts": {o: counts[o] for o in OUTCOMES if counts[o]},
        "outcomes": " ".join(o for o in OUTCOMES if counts[o]),
        "segments": [(o, counts[o], round(100 * counts[o] / n, 3)) for o in BAR_ORDER if counts[o]]
        if n
        else [],
        "compared": counts["pass"] + counts["fail"] + counts["xfail"],
        "absent": None,
    }


def summary(
    parity: list[dict], layers: list[str], adapters: list[str], absent: dict[tuple, str]
) -> list[dict]:
    """One row per layer, one cell per adapter; a pair the adapter has no method for (and
    no records) is "not implemented" with the suite's reason."""
    by_cell: dict[tuple, list[dict]] = defaultdict(list)
    for r in parity:
        by_cell[(r.get("layer", "?"), r.get("adapter", "?"))].append(r)
    rows = []
    for layer in layers:
        cells = []
        for adapter in adapters:
            c = cell(by_cell[(layer, adapter)])
            if not c["n"] and (layer, adapter) in absent:
                c["absent"] = absent[(layer, adapter)]
                c["outcomes"] = "absent"
            cells.append(dict(c, adapter=adapter))
        rows.append({"layer": layer, "cells": cells})
    return rows


def versions(parity, layers, adapters, env_names) -> list[dict]:
    """One row per layer x adapter with records, one cell per environment; a cell stands
    out when its outcome counts differ from the most common ones.  An environment without
    the framework (every record "missing") is "not installed" and left out of that
    comparison: it says nothing about versions."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for r in parity:
        grouped[(r.get("layer", "?"), r.get("adapter", "?"), r["env"])].append(r)
    rows = []
    for layer in layers:
        for adapter in adapters:
            cells = [dict(cell(grouped[(layer, adapter, env)]), env=env) for env in env_names]
            if not any(c["n"] for c in cells):
                continue
            for c in cells:
                records = grouped[(layer, adapter, c["env"])]
                c["missing"] = bool(records) and all(r.get("missing") for r in records)
                c["versions"] = sorted(
                    {str(r["framework_version"]) for r in records if r.get("framework_version")}
                )
            keys = [tuple(sorted(c["counts"].items())) for c in cells]
            present = [k for k, c in zip(keys, cells, strict=True) if not c["missing"]]
            # Ties go to the first environment's pattern (a set's order would follow the
            # process's hash seed, so the framing changed between renders of one input).
            common = max(present, key=present.count) if present else None
            for c, key in zip(cells, keys, strict=True):
                c["differs"] = not c["missing"] and key != common
            found = {
                str(r.get("framework_version"))
                for env in env_names
                for r in grouped[(layer, adapter, env)]
            }
            rows.append(
                {
                    "layer": layer,
                    "adapter": adapter,
                    "cells": cells,
                    "differs": any(c["differs"] for c in cells),
                    "versions": sorted(found),
                    "outcomes": " ".join(sorted({o for c in cells for o in c["counts"]})),
                }
            )
    return rows
